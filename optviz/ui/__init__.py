"""The Streamlit front end: the only package that imports streamlit. One module per page."""

import streamlit as st

from optviz.ui import conv, diagnose, lab, lecture, mlp


def pages() -> list[st.Page]:
    """The app's pages, in navigation order (made per run: st.Page belongs to a script run)."""
    return [
        st.Page(lab.render, title="Optimizer lab", icon=":material/insights:", default=True),  # served at /
        st.Page(mlp.render, title="MLP & backpropagation", icon=":material/hub:", url_path="mlp"),
        st.Page(conv.render, title="Convolutions", icon=":material/grid_on:", url_path="conv"),
        st.Page(
            diagnose.render, title="Diagnose training", icon=":material/troubleshoot:", url_path="diagnose"
        ),
        st.Page(lecture.render, title="Lecture", icon=":material/slideshow:", url_path="lecture"),
    ]
