"""Shared by the load tests: the chart the lab would send for a session's settings or formula, to
show that bench.load's cross-talk check tells a session's own chart from another's."""

import pytest

from bench import load


@pytest.fixture
def chart_of():
    """`chart_of(settings, surface)`: the race chart's settings signature, start marker and Adam's and
    GD's packed paths for a session's `load.Settings` on `surface`, or its `load.Formula`, as
    `load.read_chart` reads them."""
    from optviz.lab.race import race
    from optviz.lab.race_data import path_data, signature

    def chart(settings, surface: str) -> load.Chart:
        config = settings.race_config(surface)
        runs = race(config)
        paths = {name: path_data(config.surface, runs[name]) for name in ("adam", "gd")}
        return load.Chart(signature(config.key), config.start, paths)

    return chart
