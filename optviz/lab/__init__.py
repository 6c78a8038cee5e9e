"""The optimizer lab (the start page): optimizers race on 2D loss surfaces.

`config` (the lab's choices, ranges and defaults, stated once), `race` (the race and what the page
reads off it), `analysis` (sweeps, tuning, basins, stability, noise fans), `figures` and
`analysis_figures` (Plotly), `pictures` (contour maps as pictures), `export` and `cli` (offline
HTML / GIF / PNG and `python -m optviz export`).
"""
