"""The live race chart: a bidirectional `st.components.v2` component that draws the race on canvases
in the page (optviz/ui/race_chart/race_chart.js) and sends the start back when it is dragged.

Registered once, at import, from the files beside this module (optviz/ui/components.py).

The chart stays mounted: calling `race_chart` again with new data hands the data to the same
element (the same `key`), so the step and the play state survive a change.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import streamlit as st

from optviz.serve.race_route import RACE_ROUTE
from optviz.ui.components import from_files

NAME = "optviz.race_chart"
_mount = from_files(NAME, Path(__file__).parent, kits=("canvas_kit",))


def race_chart(
    race: dict | None,
    *,
    key: str,
    token: str,
    answer: int,
    epoch: int = 0,
    tuning: Sequence[dict] = (),
    race_sliders: Sequence[dict] = (),
    speed: int,
    panels: bool,
    equal_scale: bool = False,
    presenter: bool,
    height: int,
    autoplay: bool = False,
    error: str | None = None,
    on_start: Callable[[], None],
    on_tuned: Callable[[], None] | None = None,
    on_map_wanted: Callable[[], None] | None = None,
):
    """Mount (or update) the chart.

    race: `optviz.lab.race_data.race_data(...)` (None keeps the last race drawn: the one the chart says
    it shows, or after a failed computation, with `error` said under it); token: what the chart asks the
    server's race route with while the start is dragged or a slider it watches moves
    (`optviz.lab.race_requests`, `RACE_ROUTE`); answer: the sequence number of the last start (or
    settled sliders) the chart sent that this race was computed for; epoch: one more each time the page
    set the sliders the chart races itself (a reset, the tuner, a new surface): the chart forgets the
    values it has not sent and draws the page's race; tuning: every racing optimizer's hyperparameter
    sliders ({label, colour, sliders: `widgets.chart_sliders(...)`}), those of its own row and those of
    the sidebar, whose moves the chart races too; race_sliders: the race-wide sliders of the sidebar it
    races the same way (the steps, the noise: {key, value, stops or numeric}); speed: steps per second;
    equal_scale: one unit as long on x as on y (the map narrower or shorter than its box); height: CSS
    px of the whole chart, controls included; autoplay: play as soon as the race is drawn and shown (in
    a slide: each time its slide comes up). `on_start` runs when the chart sends a start ({x, y, seq,
    final} in `st.session_state[key].start`); `on_tuned` when the sliders it races settled ({values:
    {hp_adam_lr: ..., steps: ...}, seq, drawn: the signature of the race it shows} in
    `st.session_state[key].tuned`); `on_map_wanted` when it was sent a race without its map
    (`race_paths`) and has none: the next race must bring the map.
    """
    data = {
        "race": race,
        "route": RACE_ROUTE,
        "token": token,
        "answer": answer,
        "epoch": epoch,
        "tuning": list(tuning),
        "raceSliders": list(race_sliders),
        "speed": speed,
        "panels": panels,
        "equalScale": equal_scale,
        "presenter": presenter,
        "height": height,
        "autoplay": autoplay,
        "error": error,
    }
    return _mount(
        key=key,
        data=data,
        on_start_change=on_start,
        on_tuned_change=on_tuned,
        on_map_wanted_change=on_map_wanted,
    )


def sent_start(key: str) -> dict | None:
    """The last start the chart sent ({x, y, seq, final}), or None."""
    state = st.session_state.get(key)
    return None if state is None else state.get("start")
