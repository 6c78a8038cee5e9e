"""The start page until the optimizer lab lands: the surfaces and optimizers the core provides."""

import streamlit as st

from optviz import OPTIMIZERS, SURFACES


def render() -> None:
    st.title("optviz")
    st.write("See how neural networks learn. The interactive optimizer lab is being built on this core:")
    left, right = st.columns(2)
    with left:
        st.subheader("Loss surfaces")
        for surface in SURFACES.values():
            st.markdown(f"**{surface.title}**: {surface.description}")
            st.latex(surface.formula)
    with right:
        st.subheader("Optimizers")
        for spec in OPTIMIZERS.values():
            st.markdown(f"**{spec.label}** (`{spec.name}`)")
            st.latex(spec.latex)
