"""Shared by every test folder: the measurements a test reports, listed in the run's terminal summary
(the browser tests' timings, the classroom load test's figures)."""

import pytest

_MEASUREMENTS_KEY = pytest.StashKey[list]()


@pytest.fixture
def measurement(request):
    """`measurement(text)` prints `text` and lists it in the run's terminal summary."""

    def record(text: str) -> None:
        print(text)
        request.config.stash.setdefault(_MEASUREMENTS_KEY, []).append(f"{request.node.name}: {text}")

    return record


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    lines = config.stash.get(_MEASUREMENTS_KEY, [])
    if lines:
        terminalreporter.section("optviz measurements")
        for line in lines:
            terminalreporter.write_line(line)
