"""optviz: the script every session runs (app.py serves it). Pages live in optviz/ui; this file only
wires navigation."""

import streamlit as st

from optviz.serving import prepare_process
from optviz.ui import pages

prepare_process()  # once per server: the compilation cache, shared malloc arenas, a frozen GC
# An emoji favicon: a Material icon here is fetched from a font CDN, which fails offline.
# Inside an iframe (?embed=true, a slide) the controls start folded away: the chart gets the room.
st.set_page_config(
    page_title="optviz",
    page_icon="📉",
    layout="wide",
    initial_sidebar_state="collapsed" if st.context.is_embedded else "auto",
)
st.navigation(pages()).run()
