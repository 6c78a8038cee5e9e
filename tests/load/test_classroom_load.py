"""The classroom load test (bench/load.py), shortened: 30 concurrent lab sessions changing controls for
20 s, twice (the second wave tells memory kept per session from the caches filling up), against one
`streamlit run app.py` on a loopback port. About 100 s; `python -m bench.load` prints the full report.

Budgets asserted: 0 errors; every chart a session received shows its own settings; p95 from a control
change to the new chart <= 1.5 s; server memory after all sessions closed within 10% of its level after
the first session.
"""

from __future__ import annotations

import pytest

import optviz
from bench import load

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


def test_memory_returns_after_sessions_close(report, measurement):
    measurement(
        f"server RSS: after one session {report.megabytes('one session')} MB, "
        f"peak {report.megabytes('peak')} MB, after all {SESSIONS} closed {report.megabytes('after')} MB "
        f"({report.growth('after'):+.1%}; budget +10%), "
        f"after a second wave {report.megabytes('after wave 2')} MB"
    )
    growth = report.growth("after")
    assert growth <= load.MEMORY_TOLERANCE, (
        f"server RSS {report.megabytes('after')} MB after all sessions closed, {growth:+.1%} of the "
        f"{report.megabytes('one session')} MB after the first session"
    )


def test_p95_control_change_to_chart(report, measurement):
    per_run = report.server_cpu_s / max(report.runs, 1)
    measurement(
        f"{SESSIONS} sessions x {SECONDS} s x {WAVES} waves, {len(report.samples)} control changes: change "
        f"-> chart p50 {report.percentile(50):.3f} s, p95 {report.percentile(95):.3f} s (budget 1.5 s); "
        f"server CPU {per_run * 1e3:.0f} ms per page run"
    )
    assert report.percentile(95) <= load.P95_BUDGET_S, report.text()


def test_the_cross_talk_check_catches_another_sessions_chart(chart_of):
    """A chart carrying another session's start (and so its paths), or paths of another learning rate,
    is reported; the session's own chart is not."""
    surface = next(iter(optviz.SURFACES))
    mine = load.Settings((-1.0, 1.5), 320, 0.05, 1e-4)
    theirs = load.Settings((-1.2, 0.5), 320, 0.05, 1e-4)
    faster = load.Settings(mine.start, 320, 0.1, 1e-4)
    report = load.Report(3, 0)
    report.samples = [
        load.Sample(0, mine, 0.1, 0.2, chart_of(mine, surface)),
        load.Sample(1, mine, 0.1, 0.2, chart_of(theirs, surface)),
        load.Sample(2, mine, 0.1, 0.2, chart_of(faster, surface)),
    ]
    load.check_cross_talk(report, surface)
    assert [c.split(":")[0] for c in report.cross_talk] == ["session 1", "session 2"]
    assert "start marker" in report.cross_talk[0] and "Adam: the path" in report.cross_talk[1]
