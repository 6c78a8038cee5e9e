"""Start and stop `streamlit run app.py` for the benchmarks: loopback only, a free port, its own process
group (so stopping it stops everything it started), and its memory read from /proc (its own, or with
the processes it started).
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"  # never any other address


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float:
    """The resident set size of process `pid` in MB (VmRSS from /proc; 0.0 once it has exited)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def tree_pss_mb(pid: int | None = None) -> float:
    """The proportional set size (PSS: shared pages split between the processes sharing them) of
    process `pid` (default: this one) and all its descendants (a browser it started), in MB."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
    total, todo = 0.0, [pid or os.getpid()]
    while todo:
        current = todo.pop()
        try:
            for line in Path(f"/proc/{current}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1]) / 1024
        except OSError:
            continue
        todo += [child for child, parent in parents.items() if parent == current]
    return total


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) process `pid` has used so far (/proc/PID/stat; 0.0 once it has exited)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def launch(command: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen:
    """`command` from the repository, in its own session (so its process group can be stopped
    whole), with its output in `log`."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as out:
        return subprocess.Popen(
            command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip


class AppServer:
    """`streamlit run app.py` on a free loopback port, started by `start()` and stopped by `stop()` (or use
    it as a context manager). `env` adds environment variables; `log` is the server's output."""

    def __init__(self, log: Path, env: dict[str, str] | None = None, args: tuple[str, ...] = ()) -> None:
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.log = log
        self.env = {**os.environ, **(env or {})}
        self.args = args
        self.proc: subprocess.Popen | None = None
        self.started_at = 0.0  # time.monotonic() just before the process was launched

    def start(self) -> AppServer:
        command = [
            sys.executable, "-m", "streamlit", "run", "app.py",
            "--server.headless", "true",
            "--server.port", str(self.port),
            "--server.address", HOST,
            "--server.fileWatcherType", "none",
            "--browser.gatherUsageStats", "false",
            *self.args,
        ]  # fmt: skip
        self.started_at = time.monotonic()
        self.proc = launch(command, self.log, self.env)
        return self

    def wait_healthy(self, timeout_s: float = 120.0) -> float:
        """Wait until /_stcore/health answers; returns the seconds since start()."""
        deadline = time.monotonic() + timeout_s
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with code {self.proc.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        return time.monotonic() - self.started_at
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not answer within {timeout_s} s:\n{self.log_tail()}")
            time.sleep(0.05)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def rss_mb(self) -> float:
        return rss_mb(self.pid)

    def rss_by_worker(self) -> list[float]:
        """The RSS of each process serving the app (one here: see `ServedApp`)."""
        return [self.rss_mb()]

    def cpu_s(self) -> float:
        return cpu_s(self.pid)

    def logs(self) -> str:
        return self.log.read_text(errors="replace")

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return "<no log>"

    def stop(self) -> None:
        """SIGTERM its process group, then SIGKILL if it lingers."""
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                return
            try:
                proc.wait(timeout=10)
                return
            except subprocess.TimeoutExpired:
                continue

    def __enter__(self) -> AppServer:
        self.start()
        try:
            self.wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


class ServedApp:
    """`python -m optviz serve --workers N` (nginx in front of N Streamlit workers, the documented way
    to serve a class) on a free loopback port, with the interface of `AppServer`: `url` is the front,
    `pid` the command (its process tree holds every worker and nginx), `rss_by_worker` each worker's
    RSS (in address order) and `cpu_s` the workers' CPU (a restarted worker counts from its new
    start). `env` reaches the
    workers (Streamlit reads `STREAMLIT_*` options from the environment)."""

    WORKER_LINE = re.compile(r"worker (\d+) on (127\.0\.0\.1:\d+) \(pid (\d+)\)")
    SERVING_LINE = re.compile(r"through nginx \(pid (\d+); logs in (\S+)\)")

    def __init__(self, log: Path, workers: int, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.log = log
        self.workers = workers
        self.env = {**os.environ, **(env or {})}
        self.proc: subprocess.Popen | None = None
        self.started_at = 0.0

    def start(self) -> ServedApp:
        command = [
            sys.executable, "-m", "optviz", "serve",
            "--workers", str(self.workers), "--port", str(self.port), "--host", HOST,
        ]  # fmt: skip
        self.started_at = time.monotonic()
        self.proc = launch(command, self.log, self.env)
        return self

    def wait_healthy(self, timeout_s: float = 300.0) -> float:
        """Wait until every worker answers through the front ("serving" printed, each worker's
        /_stcore/health answering); returns the seconds since start()."""
        deadline = time.monotonic() + timeout_s
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"optviz serve exited with code {self.proc.returncode}:\n{self.log_tail()}"
                )
            if self.SERVING_LINE.search(self._output()) and all(map(_healthy, self.addresses())):
                return time.monotonic() - self.started_at
            if time.monotonic() > deadline:
                raise RuntimeError(f"optviz serve was not ready within {timeout_s} s:\n{self.log_tail()}")
            time.sleep(0.2)

    def _output(self) -> str:
        return self.log.read_text(errors="replace")

    def worker_pids(self) -> dict[str, int]:
        """Each worker's loopback address -> the pid of its latest start (from the command's output)."""
        latest = {}
        for _, address, pid in self.WORKER_LINE.findall(self._output()):
            latest[address] = int(pid)
        return latest

    def addresses(self) -> list[str]:
        return sorted(self.worker_pids())

    def kill_worker(self, address: str) -> int:
        """SIGKILL the worker at `address` (as a crash would); returns its pid."""
        pid = self.worker_pids()[address]
        os.kill(pid, signal.SIGKILL)
        return pid

    @property
    def pid(self) -> int:
        return self.proc.pid

    def rss_by_worker(self) -> list[float]:
        return [rss_mb(self.worker_pids()[address]) for address in self.addresses()]

    def cpu_s(self) -> float:
        return sum(cpu_s(pid) for pid in self.worker_pids().values())

    def logs(self) -> str:
        """The command's output and every worker's log."""
        serving = self.SERVING_LINE.search(self._output())
        run_dir = Path(serving.group(2)) if serving else None
        workers = sorted(run_dir.glob("worker-*.log")) if run_dir and run_dir.is_dir() else []
        return "\n".join([self._output(), *(w.read_text(errors="replace") for w in workers)])

    def log_tail(self, chars: int = 4000) -> str:
        return self._output()[-chars:]

    def stop(self) -> None:
        """SIGTERM the command (it stops every process it started), SIGKILL its group if it lingers."""
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)

    def __enter__(self) -> ServedApp:
        self.start()
        try:
            self.wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def _healthy(address: str) -> bool:
    try:
        with urllib.request.urlopen(f"http://{address}/_stcore/health", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False
