"""Starting and stopping the front's child processes, each in a process group of its own.

Each child gets its own session, so Ctrl-C in the terminal reaches only the supervisor, which then
stops the children in order; and stopping one child (`killpg`) stops what it started and nothing
else. On Linux each child also gets SIGTERM if the supervisor dies without stopping it
(PR_SET_PDEATHSIG), so even a killed supervisor leaves nothing behind.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
STOP_WAIT_S = 10


def _die_with_parent() -> None:  # runs in the child, between fork and exec
    try:
        ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError, TypeError):
        pass  # not Linux: the supervisor's own stop() is what stops the children


def start(command: list[str], log: Path, cwd: Path | None = None) -> subprocess.Popen:
    """Start `command` in a new session, its output appended to `log`."""
    with open(log, "ab") as out:
        return subprocess.Popen(
            command,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,  # the supervisor is single-threaded
        )


def stop(proc: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    """Stop `proc` and its process group: `sig`, then SIGKILL after STOP_WAIT_S. A process already
    reaped is left alone (its id may belong to someone else by now)."""
    for each in (sig, signal.SIGKILL):
        if proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, each)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=STOP_WAIT_S)
            return
        except subprocess.TimeoutExpired:
            continue


def healthy(url: str, timeout: float = 2.0) -> bool:
    """Whether `url` answers 200 (a Streamlit server's /_stcore/health)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def last_line(log: Path) -> str:
    """The last non-empty line of `log` (why a process stopped), or ''."""
    try:
        lines = log.read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return lines[-1].strip() if lines else ""
