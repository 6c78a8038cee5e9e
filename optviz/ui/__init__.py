"""The Streamlit front end: the only package that imports streamlit. One module per page."""

import streamlit as st

from optviz.ui import home

PAGES = [
    st.Page(home.render, title="Optimizer lab", icon=":material/insights:", url_path="lab", default=True)
]
