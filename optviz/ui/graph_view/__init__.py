"""The computation graph and its tangent: an `st.components.v2` component that draws the graph's
nodes (name and operation, forward value and, after backward(), the gradient) with arrows from inputs
to operations, and the output against x with its tangent at x, on a canvas in the page
(optviz/ui/graph_view/graph_view.js). No Plotly: the MLP page's first view then does not download
its 1 MB bundle.

Registered once, at import, from the files beside this module (optviz/ui/components.py). Calling
`graph_view` again with new data (the same `key`) redraws the same element.
"""

from __future__ import annotations

from pathlib import Path

from optviz.ui.components import from_files

NAME = "optviz.graph_view"
_mount = from_files(NAME, Path(__file__).parent, kits=("canvas_kit",))


def graph_view(where, data: dict, *, key: str, presenter: bool = False) -> None:
    """Mount (or update) the view in `where`. data: `optviz.mlp.graph_data.graph_data(...)`;
    presenter: text a quarter larger (presenter mode)."""
    with where:
        _mount(key=key, data={**data, "presenter": presenter})
