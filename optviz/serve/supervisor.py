"""`python -m optviz serve`: N Streamlit workers behind one nginx front, kept running.

The supervisor starts the workers (`streamlit run app.py` on free loopback ports, from the project
folder so .streamlit/config.toml applies), waits until each answers /_stcore/health, writes the
nginx configuration (optviz/serve/nginx.py) into a private run folder and runs nginx in the
foreground on the public port. Then, every second, it restarts a worker that exited (on the same
port, so nginx's list stays right; after a quick crash it waits longer each time, up to 30 s) and
polls each worker's health, reporting changes. A worker that stops answering its health check for
`HUNG_S` while its process lives (hung: a deadlock, a loop that never yields) is killed, and so
restarted; one that never answers after a restart, after `START_TIMEOUT_S`. nginx stopping ends the
command. SIGINT (Ctrl-C)
and SIGTERM stop nginx, then every worker, and remove the run folder.

With `hosts` (other machines, each running `optviz serve`), it starts no workers: nginx is the
front for those machines, and their health is polled and reported the same way (a machine is not
restarted from here: its own command does that for its workers).

Failures are one line (`ServeError`): a worker that cannot start (with the last line of its log),
the public port taken, nginx refusing to start (with its error).
"""

from __future__ import annotations

import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from optviz.serve import csp, nginx, processes

PROJECT = Path(__file__).resolve().parents[2]
APP = PROJECT / "app.py"
START_TIMEOUT_S = 120
POLL_S = 1.0
HEALTH_EVERY_S = 2.0
QUICK_CRASH_S = 30.0
MAX_RESTART_DELAY_S = 30.0
# A live worker answers its health check from its event loop within the 2 s timeout even while its
# page runs compute (they release the GIL in JAX and NumPy, and Python switches threads every 5 ms);
# this long without an answer is a hung process, not a busy one.
HUNG_S = 30.0


class ServeError(RuntimeError):
    """The front could not start or keep running (a one-line reason)."""


def say(text: str) -> None:
    print(f"optviz serve: {text}", flush=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def check_public_port(host: str, port: int) -> None:
    """Raise ServeError unless `host`:`port` can be listened on (before anything is started)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        family, _, _, _, address = infos[0]
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(address)
    except OSError as problem:
        raise ServeError(f"cannot listen on {host}:{port}: {problem.strerror or problem}") from None


def worker_command(port: int) -> list[str]:
    """`streamlit run app.py` on loopback `port`, headless, with the project's server options."""
    return [
        sys.executable, "-m", "streamlit", "run", str(APP),
        "--server.headless", "true",
        "--server.address", "127.0.0.1",
        "--server.port", str(port),
        "--server.fileWatcherType", "none",
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip


@dataclass
class Worker:
    """One `streamlit run` process on a fixed loopback port, restarted there when it exits."""

    number: int
    port: int
    log: Path
    proc: object = None
    started_at: float = 0.0
    restart_delay: float = 1.0
    next_start: float = 0.0
    healthy: bool = False
    answered: bool = False  # its health check has answered since its latest start
    answered_at: float = 0.0  # time.monotonic() of that answer (or of the start)
    health_url: str = field(init=False)

    def __post_init__(self) -> None:
        self.health_url = f"http://127.0.0.1:{self.port}/_stcore/health"

    def start(self) -> None:
        self.proc = processes.start(worker_command(self.port), self.log, cwd=PROJECT)
        self.started_at = self.answered_at = time.monotonic()
        self.healthy = self.answered = False
        say(f"worker {self.number} on 127.0.0.1:{self.port} (pid {self.proc.pid})")

    def heard(self) -> None:
        """Its health check answered."""
        self.healthy = self.answered = True
        self.answered_at = time.monotonic()

    def hung(self, now: float) -> bool:
        """Alive but silent for too long: `HUNG_S` after answering, `START_TIMEOUT_S` if it never has."""
        return now - self.answered_at > (HUNG_S if self.answered else START_TIMEOUT_S)

    @property
    def label(self) -> str:
        return f"worker {self.number}"

    def exited(self) -> int | None:
        return self.proc.poll()


@dataclass
class Host:
    """Another machine serving the app (`optviz serve` there), listed in this front's nginx."""

    address: str  # host:port
    healthy: bool = False
    health_url: str = field(init=False)

    def __post_init__(self) -> None:
        self.health_url = f"http://{self.address}/_stcore/health"

    @property
    def label(self) -> str:
        return f"machine {self.address}"

    def exited(self) -> None:
        return None  # not a process of ours


class Front:
    """The running front: workers, nginx, and the run folder holding nginx's files and the logs."""

    def __init__(self, workers: int, host: str, port: int, hosts: tuple[str, ...] = ()) -> None:
        """`workers` local Streamlit processes, or none and nginx before the machines `hosts`."""
        self.host, self.port = host, port
        self.hosts = hosts
        self.machines = [Host(address) for address in hosts]
        self.run_dir = Path(tempfile.mkdtemp(prefix="optviz-serve-"))
        ports: list[int] = []
        while len(ports) < (0 if hosts else workers):  # the system may hand out a just-freed port twice
            if (port_ := free_port()) not in ports:
                ports.append(port_)
        self.workers = [Worker(n + 1, p, self.run_dir / f"worker-{n + 1}.log") for n, p in enumerate(ports)]
        self.nginx = None
        self.stopping = threading.Event()

    def request_stop(self, signum=None, frame=None) -> None:
        self.stopping.set()

    def run(self, binary: nginx.Nginx, static_dir: Path) -> int:
        """Start everything, supervise until a signal, stop everything. 0 if stopped by a signal."""
        previous = {sig: signal.signal(sig, self.request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            for worker in self.workers:
                worker.start()
            self._wait_for_workers()
            self._start_nginx(binary, static_dir)
            if not self.stopping.is_set():
                shown = socket.gethostname() if self.host in ("0.0.0.0", "::") else self.host
                url = f"http://{f'[{shown}]' if ':' in shown else shown}:{self.port}"
                what = (
                    f"{len(self.hosts)} machine{'s' * (len(self.hosts) > 1)} ({', '.join(self.hosts)})"
                    if self.hosts
                    else f"{len(self.workers)} worker{'s' * (len(self.workers) > 1)}"
                )
                say(
                    f"serving {what} on {url} "
                    f"through nginx (pid {self.nginx.pid}; "
                    f"logs in {self.run_dir}); Ctrl-C stops"
                )
                self._supervise()
            return 0
        finally:
            self.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            say("stopped")

    def _wait_for_workers(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        waiting = list(self.workers)
        while waiting and not self.stopping.is_set():
            for worker in list(waiting):
                code = worker.exited()
                if code is not None:
                    reason = processes.last_line(worker.log) or f"exit code {code}"
                    raise ServeError(f"worker {worker.number} could not start: {reason}")
                if processes.healthy(worker.health_url):
                    worker.heard()
                    waiting.remove(worker)
            if time.monotonic() > deadline:
                raise ServeError(
                    f"worker {waiting[0].number} did not answer its health check within "
                    f"{START_TIMEOUT_S} s (log: {waiting[0].log})"
                )
            self.stopping.wait(0.25)

    def _start_nginx(self, binary: nginx.Nginx, static_dir: Path) -> None:
        conf = self.run_dir / "nginx.conf"
        conf.write_text(
            nginx.render(
                upstreams=[f"127.0.0.1:{w.port}" for w in self.workers] + list(self.hosts),
                host=self.host,
                port=self.port,
                run_dir=self.run_dir,
                static_dir=static_dir,
                csp=csp.policy(static_dir / "index.html"),
                brotli_module=binary.brotli_module,
            )
        )
        error_log = self.run_dir / "error.log"
        command = [str(binary.binary), "-c", str(conf), "-p", str(self.run_dir), "-e", str(error_log)]
        self.nginx = processes.start([*command, "-g", "daemon off;"], self.run_dir / "nginx.log")
        local = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        front = f"http://{f'[{local}]' if ':' in local else local}:{self.port}/_stcore/health"
        deadline = time.monotonic() + START_TIMEOUT_S
        while not processes.healthy(front) and not self.stopping.is_set():
            if self.nginx.poll() is not None:
                reason = processes.last_line(error_log) or f"exit code {self.nginx.returncode}"
                raise ServeError(f"nginx could not start: {reason}")
            if time.monotonic() > deadline:
                raise ServeError(f"the front did not answer {front} within {START_TIMEOUT_S} s")
            self.stopping.wait(0.25)

    def _supervise(self) -> None:
        last_health = 0.0
        while not self.stopping.wait(POLL_S):
            if self.nginx.poll() is not None:
                reason = processes.last_line(self.run_dir / "error.log")
                raise ServeError(f"nginx stopped (exit code {self.nginx.returncode}): {reason}")
            now = time.monotonic()
            for worker in self.workers:
                self._restart_if_exited(worker, now)
            if now - last_health >= HEALTH_EVERY_S:
                last_health = now
                for each in [*self.workers, *self.machines]:
                    self._check_health(each)

    def _restart_if_exited(self, worker: Worker, now: float) -> None:
        code = worker.exited()
        if code is None:
            return
        if worker.next_start == 0.0:  # just noticed
            quick = now - worker.started_at < QUICK_CRASH_S
            worker.restart_delay = min(2 * worker.restart_delay, MAX_RESTART_DELAY_S) if quick else 1.0
            worker.next_start = now + (worker.restart_delay if quick else 0.0)
            say(f"worker {worker.number} (pid {worker.proc.pid}) exited with code {code}; restarting")
        if now >= worker.next_start:
            worker.next_start = 0.0
            worker.start()

    def _check_health(self, each: Worker | Host) -> None:
        if each.exited() is not None:
            return
        healthy = processes.healthy(each.health_url)
        if healthy != each.healthy:
            say(f"{each.label} " + ("is up" if healthy else "does not answer its health check"))
        each.healthy = healthy
        if not isinstance(each, Worker):
            return
        if healthy:
            each.heard()
        elif each.hung(time.monotonic()):
            silent = time.monotonic() - each.answered_at
            say(f"{each.label} (pid {each.proc.pid}) has not answered for {silent:.0f} s; restarting it")
            processes.stop(each.proc, signal.SIGKILL)

    def stop(self) -> None:
        """Stop nginx, then every worker (each with its process group); remove the run folder."""
        if self.nginx is not None:
            processes.stop(self.nginx)
        for worker in self.workers:
            if worker.proc is not None:
                processes.stop(worker.proc)
        shutil.rmtree(self.run_dir, ignore_errors=True)
