"""optviz's server: Streamlit's pages (script.py, which every session runs) and two HTTP routes of its
own beside them: the race from a dragged start (optviz/serve/race_route.py) and the code of optviz's
browser components (optviz/serve/code_route.py). `streamlit run app.py` finds `app` and serves them."""

import streamlit as st

from optviz.serve import code_route, race_route

app = st.App("script.py", routes=[*race_route.ROUTES, *code_route.ROUTES])
