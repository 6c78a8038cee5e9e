"""Beyond one machine (README, "Beyond one machine"): two machines, each `python -m optviz serve
--workers 1`, behind a front `python -m optviz serve --hosts A,B`, all on this machine's loopback
(no second machine here). A page opened through the front stays on one machine, the websocket
included; when that machine stops, the page reconnects through the front to the other and draws its
own view there from its link, and the front reports the stopped machine."""

from __future__ import annotations

import signal
import time

import pytest

from tests.e2e.browser import LOAD_TIMEOUT_MS, arm_rerun_watch, wait_for_rerun
from tests.e2e.test_serve import JS_CHART_DRAWN, LINK, Visit, serving


@pytest.fixture(scope="module")
def machines(tmp_path_factory):
    logs = tmp_path_factory.mktemp("hosts")
    with serving(logs / "a.log", "--workers", "1") as a, serving(logs / "b.log", "--workers", "1") as b:
        hosts = {a.url.removeprefix("http://"): a, b.url.removeprefix("http://"): b}
        with serving(logs / "front.log", "--hosts", ",".join(hosts)) as front:
            yield front, hosts


def _machine(value: str, hosts) -> str:
    """The machine a response came through: the outer front's X-Optviz-Worker (the machine's own front
    adds its worker's address to the same header)."""
    found = [address for address in hosts if address in value]
    assert len(found) == 1, value
    return found[0]


def test_a_page_stays_on_one_machine_and_moves_when_it_stops(machines, browser, measurement):
    front, hosts = machines
    assert "serving 2 machines" in front.log.read_text()
    visit = Visit(browser)
    try:
        visit.open(front.url + LINK)
        assert visit.start_x() == pytest.approx(1.25)
        on = {_machine(w, hosts) for w in visit.workers[1:]} | {_machine(s, hosts) for s in visit.sockets}
        assert len(on) == 1, on  # after the first response, every request (the websocket too): one machine
        (machine,) = on
        stopped_at = time.monotonic()
        hosts[machine].proc.send_signal(signal.SIGTERM)  # the machine's command stops its nginx and worker
        assert hosts[machine].proc.wait(timeout=60) == 0
        while len(visit.sockets) < 2:
            assert time.monotonic() - stopped_at < 60, "the page did not reconnect within 60 s"
            visit.page.wait_for_timeout(100)
        other = _machine(visit.sockets[-1], hosts)
        assert other != machine
        arm_rerun_watch(visit.page)
        visit.page.locator("body").press("r")
        wait_for_rerun(visit.page, "pressing R on the other machine", timeout=LOAD_TIMEOUT_MS)
        visit.page.wait_for_function(JS_CHART_DRAWN, timeout=LOAD_TIMEOUT_MS)
        assert visit.start_x() == pytest.approx(1.25)  # its own view, from its link
        assert visit.csp_violations() == []
        measurement(
            f"a page on machine {machine} moved to {other} after that machine stopped: reconnected and "
            f"redrawn {time.monotonic() - stopped_at:.1f} s after the stop"
        )
    finally:
        visit.context.close()
    deadline = time.monotonic() + 30
    while f"machine {machine} does not answer its health check" not in front.log.read_text():
        assert time.monotonic() < deadline, front.log.read_text()[-2000:]
        time.sleep(0.5)
