"""Serving a class: `python -m optviz serve` runs N Streamlit workers behind one nginx front.

static.py prepares Streamlit's frontend files compressed; csp.py is the Content-Security-Policy;
nginx.py renders the front's configuration; processes.py starts and stops child processes;
supervisor.py runs and watches them all; cli.py is the command; race_route.py and code_route.py are
the HTTP routes beside Streamlit's own that a worker serves (app.py mounts them). Nothing here
imports Streamlit.
"""
