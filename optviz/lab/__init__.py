"""The optimizer lab (the start page): optimizers race on 2D loss surfaces.

`config` (the lab's choices, ranges and defaults, stated once), `race` (the race and what the page
reads off it), `analysis` (sweeps, tuning, basins, stability, noise fans), `figures` and
`analysis_figures` (Plotly), `race_data` (the race packed for the live race chart), `export` and
`cli` (offline HTML / GIF / PNG, drawn by that chart, and `python -m optviz export`).
"""
