"""The classroom load test (bench/load.py), shortened: 30 concurrent lab sessions changing controls for
20 s, twice (the second wave tells memory kept per session from the caches filling up), against one
`streamlit run app.py` on a loopback port. About 100 s.

Budgets asserted: 0 errors; every chart a session received shows its own settings; server memory after
all sessions closed within 10% of its level after the first session. The latency budget (p95 from a
control change to the new chart <= 1.5 s) is asserted too, and fails for now: on 2
cores a page run of the lab costs the server ~200 ms of CPU, under one GIL (at most ~5 runs per
second), and 30 students changing a control every 1-4 s ask for ~12, so changes queue (p95 ~6 s
measured, the same in a real Chromium page among them: `python -m bench.load --browser-probe`).
That is why this file is not in the default test run (`python -m pytest -m load` runs it);
`python -m bench.load` prints the full report.
"""

from __future__ import annotations

import pytest

from bench import load

# Not in the default run: the latency budget is not met yet, and the memory rule sits at its margin
# (+9.8% to +12.6% of the 10% allowed, measured), so in CI it would fail now and then.
pytestmark = pytest.mark.load

SESSIONS, SECONDS, WAVES = 30, 20, 2


@pytest.fixture(scope="module")
def report() -> load.Report:
    result = load.run(SESSIONS, SECONDS, WAVES)
    print("\n" + result.text())
    return result


def test_no_errors(report):
    assert not report.errors, "\n".join(report.errors[:20])


def test_every_session_sees_its_own_settings(report):
    assert not report.cross_talk, "\n".join(report.cross_talk[:20])
    measured = {sample.session for sample in report.samples}
    assert measured == set(range(SESSIONS)), (
        f"sessions without a measured change: {set(range(SESSIONS)) - measured}"
    )


def test_memory_returns_after_sessions_close(report):
    growth = report.growth("after")
    assert growth <= load.MEMORY_TOLERANCE, (
        f"server RSS {report.memory['after']:.0f} MB after all sessions closed, {growth:+.1%} of the "
        f"{report.memory['one session']:.0f} MB after the first session"
    )


def test_p95_control_change_to_chart(report):
    assert report.percentile(95) <= load.P95_BUDGET_S, report.text()


def test_the_cross_talk_check_catches_another_sessions_chart():
    """A chart carrying another session's start (and so its paths) is reported."""
    import optviz

    surface = next(iter(optviz.SURFACES))
    mine = load.Settings((-1.0, 1.5), 320, 0.05, 1e-4)
    theirs = load.Settings((-1.2, 0.5), 320, 0.05, 1e-4)

    def chart_for(s):
        paths = {}
        for name, optimizer, lr in (("Adam", "adam", s.adam_lr), ("Gradient descent", "gd", s.gd_lr)):
            xy = optviz.simulate(surface, optimizer, start=s.start, steps=s.steps, lr=lr).xy
            paths[name] = (xy[:, 0], xy[:, 1])
        return load.Chart(s.start, paths)

    report = load.Report(2, 0)
    report.samples = [
        load.Sample(0, mine, 0.1, 0.2, chart_for(mine)),
        load.Sample(1, mine, 0.1, 0.2, chart_for(theirs)),
    ]
    load.check_cross_talk(report, surface)
    assert len(report.cross_talk) == 1 and report.cross_talk[0].startswith("session 1:")
