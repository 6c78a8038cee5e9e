"""The embedded view's side of a slide deck (reveal.js or any other): a presenter's clicker keeps
reaching the deck after a click inside the view, and Plotly animations pause when their slide is
left. It draws nothing; mounted once per page run, in embed mode only (`?embed=true`).

Registered once, at import, from the files beside this module (optviz/ui/components.py).
"""

from __future__ import annotations

from pathlib import Path

from optviz.ui.components import from_files

NAME = "optviz.deck_bridge"
_mount = from_files(NAME, Path(__file__).parent)


def deck_bridge() -> None:
    _mount(key="deck_bridge")
