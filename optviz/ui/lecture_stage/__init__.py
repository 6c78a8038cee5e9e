"""The lecture's stage: an `st.components.v2` component that shows each scene's view (the app's own
page, embedded) in an iframe, keeps the next and previous scenes loaded beside it, and steps with the
keys a presenter's clicker sends (optviz/ui/lecture_stage/lecture_stage.js). It tells Python the
scene it moved to; Python writes the title, the caption and the URL.

Registered once, at import, from the files beside this module (optviz/ui/components.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from optviz.ui.components import from_files

NAME = "optviz.lecture_stage"
_mount = from_files(NAME, Path(__file__).parent, kits=("canvas_kit",))


def lecture_stage(
    where, scenes: Sequence[dict], current: int, *, key: str, on_scene: Callable[[], None]
) -> None:
    """Mount (or update) the stage in `where`. scenes: [{url, title}] in the deck's order (url: the
    view to show, same-origin); current: the scene shown, from 1. `on_scene` runs when the stage
    moved to another scene (its number, from 1, in `st.session_state[key].scene`)."""
    with where:
        _mount(key=key, data={"scenes": list(scenes), "current": current}, on_scene_change=on_scene)
