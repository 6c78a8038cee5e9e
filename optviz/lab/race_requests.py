"""Races for a dragged start, answered over plain HTTP instead of a page run.

While the start marker is dragged, the live race chart asks for the race from each new position.
Asked through Streamlit, every answer is a script run and its messages on the server and, in the
browser, a render of the page by Streamlit's frontend: most of ~100 ms of the browser's time per
answer here, which held a drag to about ten redraws a second. So the chart asks the server's own
route instead (optviz/serve/race_route.py, `GET /optviz/race?token=...&x=...&y=...`): the race is
computed and packed without its map (`race_data.race_paths`; the chart has the map) and the chart
draws it. The release still goes through the page, so the link, the start boxes and the tabs follow.
The sliders the chart races (its own row of hyperparameters, and the sidebar's sliders of the
hyperparameters, the steps and the noise, which run nothing on the server themselves) ask the same
way, with the values they set (`tuned`): a slider dragged or stepped redraws at the route's pace, and
the page hears of the values when they settle.

A request names its race's settings by a token: the page registers the configuration here when it
draws the chart, and hands the chart the token. A token is the settings' signature (start left
out), so the sessions racing the same settings share one entry; the registry keeps the last
`MAX_CONFIGS` (a configuration is a few hundred bytes). A process that does not know a token (it
restarted) answers None, and the chart asks through the page.

The page's run that follows a drag's release or sliders at rest races the settings the route has
just raced: the registry keeps the last `MAX_RACED` races it answered (`raced`), so that run takes
the race instead of computing it again.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import replace

from optviz.lab.config import RaceConfig, start_on_map
from optviz.lab.race import race
from optviz.lab.race_data import race_paths, signature
from optviz.simulate import Trajectory

MAX_CONFIGS = 256
MAX_RACED = 8  # races of about 100 KB each: the last answers of a few users at a time


class RaceRequests:
    """The configurations the charts of this process may ask a race for, by token."""

    def __init__(self, max_configs: int = MAX_CONFIGS) -> None:
        self._configs: OrderedDict[str, RaceConfig] = OrderedDict()
        self._max = max_configs
        self._raced: OrderedDict[tuple, dict[str, Trajectory]] = OrderedDict()  # by `RaceConfig.key`
        self._lock = threading.Lock()

    def register(self, config: RaceConfig) -> str:
        """Remember `config` (its start aside); returns the token a chart asks with."""
        token = signature(replace(config, start=(0.0, 0.0)).key)
        with self._lock:
            self._configs[token] = config
            self._configs.move_to_end(token)
            while len(self._configs) > self._max:
                self._configs.popitem(last=False)
        return token

    def answer(self, token: str, x: float, y: float, tuned: Mapping[str, float] | None = None) -> dict | None:
        """The race of the registered settings from (x, y), clamped to the window as the page does
        (`config.start_on_map`), with the hyperparameters in `tuned` set (`RaceConfig.tuned`: named as
        in a link), packed without its map; None for a token not registered here. ValueError if x or
        y is not a finite number, or for a name or value in `tuned` that the race cannot take."""
        with self._lock:
            config = self._configs.get(token)
        if config is None:
            return None
        config = replace(config, start=start_on_map(config.surface, x, y)).tuned(tuned or {})
        trajectories = race(config)
        with self._lock:
            self._raced[config.key] = trajectories
            self._raced.move_to_end(config.key)
            while len(self._raced) > MAX_RACED:
                self._raced.popitem(last=False)
        return race_paths(config.surface, trajectories, settings=signature(config.key))

    def raced(self, config: RaceConfig) -> dict[str, Trajectory] | None:
        """The race of `config` if it is among the last answered here (`MAX_RACED`), else None."""
        with self._lock:
            return self._raced.get(config.key)


REQUESTS = RaceRequests()  # this process's: the page registers, the route answers
