"""Races for a dragged start over HTTP (optviz/lab/race_requests.py, optviz/serve/race_route.py):
the answer is the race the page would draw from that start, bad input is a clear 4xx, never a
traceback, and the registry stays bounded."""

import json
from dataclasses import replace
from urllib.parse import urlencode

import numpy as np
import pytest
from starlette.requests import Request

from optviz.lab import config as lab
from optviz.lab.race import race
from optviz.lab.race_data import signature, unpack_path
from optviz.lab.race_requests import MAX_RACED, RaceRequests
from optviz.serve.race_route import RACE_ROUTE, ROUTES
from surfaces import SURFACES

SURFACE = SURFACES["rosenbrock"]


def config(lr: float = 0.01, start=(-1.5, 2.0)):
    return lab.RaceConfig.create(SURFACE, ["gd", "adam"], start, 60, {"adam": {"lr": lr}})


def test_the_answer_is_the_race_from_that_start_without_the_map():
    requests = RaceRequests()
    token = requests.register(config())
    answer = requests.answer(token, 0.25, -0.5)
    expected = race(replace(config(), start=(0.25, -0.5)))
    assert answer["surface"] is None and answer["start"] == [0.25, -0.5] and answer["steps"] == 60
    assert answer["signature"] == signature(replace(config(), start=(0.25, -0.5)).key)
    for packed, (name, t) in zip(answer["paths"], expected.items(), strict=True):
        assert packed["name"] == name
        np.testing.assert_array_equal(unpack_path(packed), np.asarray(t.xy, dtype=np.float32))


def test_a_start_off_the_map_is_clamped_and_rounded_as_the_page_does():
    requests = RaceRequests()
    token = requests.register(config())
    (x0, _), (_, y1) = SURFACE.bounds
    assert requests.answer(token, -1e9, 1e9)["start"] == [x0, y1]
    assert requests.answer(token, 0.123456789, 0.5)["start"] == [0.123, 0.5]
    assert lab.start_on_map(SURFACE, 0.123456789, 0.5) == (0.123, 0.5)
    for bad in (float("nan"), float("inf")):
        with pytest.raises(ValueError, match="finite"):
            requests.answer(token, bad, 0.0)


def test_the_charts_sliders_values_race_as_the_page_would_race_them():
    """What the chart's own sliders ask: the registered settings with some hyperparameters set (named
    as in a link), clamped to their ranges; a name the race does not have is a ValueError."""
    requests = RaceRequests()
    token = requests.register(config())
    answer = requests.answer(token, -1.5, 2.0, {"hp_adam_lr": 0.003})
    assert answer["signature"] == signature(config(lr=0.003).key)
    (_, adam) = answer["paths"]
    np.testing.assert_array_equal(
        unpack_path(adam), np.asarray(race(config(lr=0.003))["adam"].xy, dtype=np.float32)
    )
    high = lab.HYPERPARAMETERS["lr"].high
    clamped = requests.answer(token, -1.5, 2.0, {"hp_adam_lr": 1e9})
    assert clamped["signature"] == signature(config(lr=high).key)
    for bad in ({"hp_momentum_beta": 0.5}, {"hp_adam_noise_lr": 0.1}, {"hp_adam_lr": float("nan")}):
        with pytest.raises(ValueError):
            requests.answer(token, -1.5, 2.0, bad)


def test_the_steps_and_the_noise_race_as_the_page_would_race_them():
    """The sidebar's step and noise sliders, raced by the chart like a hyperparameter: clamped to
    their ranges, and a cosine schedule anneals over the new number of steps."""
    requests = RaceRequests()
    base = replace(config(), schedule=lab.schedule("cosine", 60))
    token = requests.register(base)
    answer = requests.answer(token, -1.5, 2.0, {"steps": 120, "noise": 0.5})
    expected = lab.RaceConfig.create(
        SURFACE, ["gd", "adam"], (-1.5, 2.0), 120, {"adam": {"lr": 0.01}}, 0.5, 0, lab.schedule("cosine", 120)
    )
    assert answer["steps"] == 120 and answer["signature"] == signature(expected.key)
    assert base.tuned({"steps": 60}) == base  # the same steps: the same schedule
    clamped = base.tuned({"steps": 1e9, "noise": -3.0})
    assert (clamped.steps, clamped.noise) == (lab.MAX_STEPS, lab.NOISE_RANGE[0])
    assert (clamped.setting("steps"), base.setting("hp_adam_lr"), base.setting("noise")) == (
        lab.MAX_STEPS,
        0.01,
        0.0,
    )
    with pytest.raises(KeyError):
        base.setting("hp_momentum_beta")  # momentum does not race here


def test_tokens_name_the_settings_not_the_start_and_the_registry_is_bounded():
    requests = RaceRequests(max_configs=2)
    first = requests.register(config())
    assert requests.register(config(start=(1.0, 1.0))) == first  # only the start differs
    second, third = requests.register(config(lr=0.02)), requests.register(config(lr=0.03))
    assert len({first, second, third}) == 3
    assert requests.answer(first, 0.0, 0.0) is None  # the oldest went
    assert requests.answer(second, 0.0, 0.0) is not None and requests.answer("nonsense", 0, 0) is None


def test_the_page_takes_the_races_the_route_answered_last():
    """The page's run after a drag's release or sliders at rest races what the route just raced:
    the registry hands it over (the same trajectories) for the very same settings only, and keeps a
    bounded number."""
    requests = RaceRequests()
    token = requests.register(config())
    requests.answer(token, 0.25, -0.5, {"hp_adam_lr": 0.003})
    page = replace(config(lr=0.003), start=(0.25, -0.5))  # as the page reads them from its controls
    kept = requests.raced(page)
    assert kept is not None and list(kept) == ["gd", "adam"]
    np.testing.assert_array_equal(kept["adam"].xy, race(page)["adam"].xy)
    assert requests.raced(replace(page, start=(0.25, -0.501))) is None
    assert requests.raced(config(lr=0.003)) is None  # the registered start was not raced
    for i in range(MAX_RACED):
        requests.answer(token, 0.0, i / 10)
    assert requests.raced(page) is None  # the oldest went


def get(params: dict[str, str]):
    """The route's answer to GET RACE_ROUTE?params: (status, headers, JSON body)."""
    (route,) = ROUTES
    assert route.path == RACE_ROUTE and route.methods >= {"GET"}
    scope = {
        "type": "http",
        "method": "GET",
        "path": RACE_ROUTE,
        "headers": [],
        "query_string": urlencode(params).encode(),
    }
    response = route.endpoint(Request(scope))
    return response.status_code, response.headers, json.loads(response.body)


@pytest.fixture
def token(monkeypatch):
    requests = RaceRequests()
    monkeypatch.setattr("optviz.lab.race_requests.REQUESTS", requests)
    return requests.register(config())


def test_the_route_answers_json_never_cached(token):
    status, headers, body = get({"token": token, "x": "0.5", "y": "0.5", "seq": "7", "hp_adam_lr": "0.02"})
    assert status == 200 and headers["cache-control"] == "no-store"
    assert headers["content-encoding"] == "identity"  # not gzipped by Streamlit's middleware
    assert body["signature"] == signature(replace(config(lr=0.02), start=(0.5, 0.5)).key)
    assert body["start"] == [0.5, 0.5] and len(body["paths"]) == 2


@pytest.mark.parametrize(
    ("params", "status", "says"),
    [
        ({"x": "abc", "y": "1"}, 400, "finite numbers"),
        ({"x": "1"}, 400, "finite numbers"),
        ({"x": "nan", "y": "1"}, 400, "finite numbers"),
        ({"x": "1", "y": "-inf"}, 400, "finite numbers"),
        ({"x": "1", "y": "1", "hp_adam_lr": "fast"}, 400, "finite numbers"),
        ({"x": "1", "y": "1", "hp_adam_lr": "inf"}, 400, "finite numbers"),
        ({"x": "1", "y": "1", "hp_sgd_lr": "0.1"}, 400, "not a setting of this race"),
        ({"x": "1", "y": "1", "start_x": "0.1"}, 400, "not a setting of this race"),
        ({"x": "1", "y": "1", "steps": "many"}, 400, "finite numbers"),
        ({"x": "1", "y": "1", "noise": "nan"}, 400, "finite numbers"),
        ({"x": "1", "y": "1", "token": "<script>"}, 404, "unknown settings"),
    ],
)
def test_bad_requests_get_a_reason_not_a_traceback(token, params, status, says):
    status_got, _, body = get({"token": token, **params})
    assert status_got == status and says in body["error"]


def test_a_race_that_fails_is_a_422_with_the_reason(token, monkeypatch):
    def broken(*args):
        raise FloatingPointError("the formula overflowed")

    monkeypatch.setattr("optviz.lab.race_requests.REQUESTS.answer", broken)
    status, _, body = get({"token": token, "x": "0", "y": "0"})
    assert status == 422 and "overflowed" in body["error"]
