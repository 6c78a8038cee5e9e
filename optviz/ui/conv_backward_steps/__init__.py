"""The backward pass of a convolution step by step: an `st.components.v2` component that draws, on a
canvas in the page (optviz/ui/conv_backward_steps/conv_backward_steps.js), the upstream gradient
dL/dY with its cells spread by the stride, the padded input with the window of the current output
cell, the patch, dL/dK so far, the kernel and dL/dX so far, and animates them in the browser: no
server round trip per step.

Registered once, at import, from the files beside this module (optviz/ui/components.py), after the
stepping and drawing helpers it shares with the forward chart (canvas_kit.js). Calling it again with
new data (the same `key`) hands the data to the same element: the step and the play state survive.
"""

from __future__ import annotations

from pathlib import Path

from optviz.ui.components import from_files

NAME = "optviz.conv_backward_steps"
_mount = from_files(NAME, Path(__file__).parent, kits=("canvas_kit",))


def conv_backward_steps(
    where, data: dict, *, key: str, presenter: bool = False, autoplay: bool = False, height: int = 420
) -> None:
    """Mount (or update) the chart in `where`. data: `optviz.conv.backward_figures.step_data(...)`;
    presenter: larger text and thicker lines; autoplay: play when drawn, and each time its slide is
    shown; height: CSS px of the drawing on a wide screen (the controls are under it; on a phone the
    panels stack and it grows)."""
    with where:
        _mount(key=key, data={**data, "presenter": presenter, "autoplay": autoplay, "height": height})
