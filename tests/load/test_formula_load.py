"""The formula mode of the classroom load test (`python -m bench.load --formulas`), shortened: 10 lab
sessions pick "Your own f(x, y)", then for 20 s each enters new formulas of its own (a think time of
5-15 s, so at least one each), against one `streamlit run app.py` on a loopback port. About 30 s; the
full class is 100 sessions x 60 s, twice, and judges the server's memory after it (this short form does
not wait for the sessions to go: tests/test_interpreter.py holds memory flat over hundreds of formulas).

Budgets asserted (issue 22): 0 errors (an error box from a formula that does not parse counts); every
session entered a formula, no two alike, and every chart it received was its own formula's; p95 from
a formula's submit to its chart <= 1.5 s.
"""

from __future__ import annotations

import pytest

import optviz
from bench import load

SESSIONS, SECONDS, WAVES, THINK_S = 10, 20, 1, (5.0, 15.0)


@pytest.fixture(scope="module")
def report() -> load.Report:
    result = load.run(SESSIONS, SECONDS, WAVES, THINK_S, formulas=True, memory=False)
    print("\n" + result.text())
    return result


def test_no_errors(report):
    assert not report.errors, "\n".join(report.errors[:20])


def test_every_session_sees_its_own_formulas(report):
    assert not report.cross_talk, "\n".join(report.cross_talk[:20])
    entered = [sample.settings.text for sample in report.measured]
    assert len(set(entered)) == len(entered), "a formula was entered twice"
    sessions = {sample.session for sample in report.measured}
    assert sessions == set(range(SESSIONS)), f"sessions without a formula: {set(range(SESSIONS)) - sessions}"


def test_p95_formula_to_chart(report, measurement):
    measurement(
        f"{SESSIONS} sessions x {SECONDS} s, {len(report.measured)} formulas entered: submit -> chart p50 "
        f"{report.percentile(50):.3f} s, p95 {report.percentile(95):.3f} s (budget 1.5 s)"
    )
    assert report.percentile(95) <= load.P95_BUDGET_S, report.text()


def test_the_cross_talk_check_catches_another_sessions_formula(chart_of):
    """A chart of another formula is reported; the session's own formula's is not."""
    surface = next(iter(optviz.SURFACES))  # the control mode's; a formula does not use it
    mine, theirs = load.Formula("(x - 1)^2 + 2*y^2"), load.Formula("(x - 1)^2 + 3*y^2")
    report = load.Report(2, 0, formulas=True)
    report.samples = [
        load.Sample(0, mine, 0.1, 0.2, chart_of(mine, surface)),
        load.Sample(1, mine, 0.1, 0.2, chart_of(theirs, surface)),
    ]
    load.check_cross_talk(report, surface)
    assert [c.split(":")[0] for c in report.cross_talk] == ["session 1"]
