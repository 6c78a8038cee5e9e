"""Pages whose lessons are not built yet: each says, in one line, what it will show."""

import streamlit as st


def convolutions() -> None:
    st.title("Convolutions")
    st.write(
        "Coming next: a 3x3 filter sliding over an image, many channels and filters summed, and 1D "
        "convolution over text."
    )
