"""Shared by the load tests: the chart the lab would send for a session's settings or formula, to
show that bench.load's cross-talk check tells a session's own chart from another's."""

import pytest

from bench import load


@pytest.fixture
def chart_of():
    """`chart_of(settings, surface)`: the race chart's start marker and Adam's and GD's paths for a
    session's `load.Settings` on `surface`, or its `load.Formula`, as `load.read_chart` reads them."""
    from optviz.lab.race import race

    def chart(settings, surface: str) -> load.Chart:
        config = settings.race_config(surface)
        runs = race(config)
        paths = {
            name: (runs[o].xy[:, 0], runs[o].xy[:, 1])
            for name, o in (("Adam", "adam"), ("Gradient descent", "gd"))
        }
        return load.Chart(config.start, paths)

    return chart
