"""optviz: the Streamlit entry point. Pages live in optviz/ui; this file only wires navigation."""

import streamlit as st

from optviz.ui import pages

st.set_page_config(page_title="optviz", page_icon=":material/insights:", layout="wide")
st.navigation(pages()).run()
