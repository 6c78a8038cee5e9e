"""The lab's loss and distance curves: a `st.components.v2` component drawing f(θ_t) − f* and the
distance to the nearest minimum against the step on canvases in the page
(optviz/ui/race_curves/race_curves.js), with a cursor at the step the race chart shows.

It talks to the race chart in the browser, not through the server: the race chart announces each
new step with a window event (`optviz-race-step`), and a click on the curves asks it to go to a step
(`optviz-race-goto`). So the cursor follows the race at the race's frame rate, with no page run.

Registered once, at import, from the files beside this module (optviz/ui/components.py).
"""

from __future__ import annotations

from pathlib import Path

from optviz.ui.components import from_files

NAME = "optviz.race_curves"
_mount = from_files(NAME, Path(__file__).parent, kits=("canvas_kit",))


def race_curves(data: dict, *, key: str, presenter: bool, height: int):
    """Mount (or update) the curves. data: `optviz.lab.curves_data.curves_data(...)`; height: CSS px
    of the panels side by side (stacked on a narrow screen, each gets most of it)."""
    return _mount(key=key, data={"curves": data, "presenter": presenter, "height": height})
