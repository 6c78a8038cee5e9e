"""optviz's server: Streamlit's pages (script.py, which every session runs) and one HTTP route of its
own beside them, the race from a dragged start (optviz/serve/race_route.py). `streamlit run app.py`
finds `app` and serves both."""

import streamlit as st

from optviz.serve.race_route import ROUTES

app = st.App("script.py", routes=ROUTES)
