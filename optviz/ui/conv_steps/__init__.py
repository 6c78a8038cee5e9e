"""The convolution step by step: an `st.components.v2` component that draws the padded input, the
window, the patch, the kernel, their products and the output built so far on a canvas in the page
(optviz/ui/conv_steps/conv_steps.js), and animates the window in the browser: no server round trip
and no Plotly (whose 1 MB bundle a first view of the page then does not download).

Registered once, at import, from the files beside this module (optviz/ui/components.py). Calling
`conv_steps` again with new data (the same `key`) hands it to the same element: the step and the
play state survive a change of kernel or stride.
"""

from __future__ import annotations

from pathlib import Path

from optviz.ui.components import from_files

NAME = "optviz.conv_steps"
_mount = from_files(NAME, Path(__file__).parent, kits=("canvas_kit",))


def conv_steps(
    where, data: dict, *, key: str, presenter: bool = False, autoplay: bool = False, height: int = 340
) -> None:
    """Mount (or update) the chart in `where`. data: `optviz.conv.figures.step_data(...)`; presenter:
    larger numbers and thicker lines (presenter mode); autoplay: play when drawn, and each time its
    slide is shown; height: CSS px of the drawing at most (the controls are under it)."""
    with where:
        _mount(key=key, data={**data, "presenter": presenter, "autoplay": autoplay, "height": height})
