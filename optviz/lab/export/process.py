"""The render process: the app's GIFs and PNGs drawn in a process of their own, on CPU the app leaves idle.

A render's own work (the race, its packing, the GIF's palette and encoding) is Python and NumPy under a
GIL. Done in the app's process, it shares that GIL (and the machine's cores) with every session's
page runs, so while a class's GIFs were made everyone's charts waited: `python -m bench.load
--exports 50` measures the control change -> chart time of 30 sessions while 50 more ask for GIFs.
Here the app's process keeps the queue, the single flight and the cache (`export.jobs`); this
process gets each render as a picklable function of its progress (`RaceExport.make_apart` sends the
view's settings: the race, its packing and the picture are all made here), runs up to `workers` at a
time on threads (drawing in its own shared browser, which it starts), and answers over a pipe:
progress, then the file or why it failed.

It runs under Linux's SCHED_IDLE policy, which its browser inherits: the kernel gives it a core
only when nothing else wants one, so the app's page runs always come first (a lower priority,
`nice`, was not enough: Chromium raises the priority of some of its threads, and as root it may).
On a machine the app keeps busy, pictures wait; a render that runs past its time limit says so.

It starts with the first render and ends with the app (its pipe closes, and its browser with it),
or after `IDLE_CLOSE_S` without a render (the next render starts a new one).
If it dies (killed, out of memory), the renders waiting on it fail saying so, and the next render
starts a new one. A render that runs past its time is cancelled here (its next progress stops it).

Messages (pickled, `multiprocessing.connection`): to the process (job id, work) or ("cancel", job
id); from it (job id, "progress", share), (job id, "done", bytes) or (job id, "failed", reason).
"""

from __future__ import annotations

import itertools
import logging
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from multiprocessing import Pipe
from multiprocessing.connection import Connection
from pathlib import Path

from optviz.lab.export.browser import IDLE_CLOSE_S, ExportError
from optviz.lab.export.frames import BROWSER
from optviz.lab.export.images import Progress
from optviz.lab.export.limits import LIMITS
from optviz.warmup import enable_compilation_cache

STOPPED = "the render process stopped while drawing (it was killed or ran out of memory): try again"
PROGRESS_STEP = 0.02  # the smallest change of progress worth a message
Work = Callable[[Progress], bytes]  # a render: told its progress, returns the file

log = logging.getLogger(__name__)


class RenderProcess:
    """The app's side: `render` hands a render to the process and waits for its file. Unused for
    `idle_s`, the process is ended (its memory and its browser's go back to the machine); the next
    render starts another."""

    def __init__(self, workers: int, idle_s: float = IDLE_CLOSE_S) -> None:
        self.workers = workers
        self.idle_s = idle_s
        self._lock = threading.Lock()
        self._process: subprocess.Popen | None = None
        self._connection: Connection | None = None
        self._inboxes: dict[int, tuple[subprocess.Popen, queue.SimpleQueue]] = {}  # job -> its process
        self._ids = itertools.count()
        self._idle_timer: threading.Timer | None = None

    @property
    def pid(self) -> int | None:
        """The render process's id while it runs, else None."""
        process = self._process
        return process.pid if process is not None and process.poll() is None else None

    def render(self, work: Work, progress: Progress, timeout: float) -> bytes:
        """`work(progress)` run in the render process: its bytes. `progress` is told the share done
        (and may raise to stop the render); ExportError if the render fails, the process dies or it
        takes longer than `timeout` seconds. `work` must pickle (a module's function, or a partial
        of one with picklable arguments)."""
        inbox: queue.SimpleQueue = queue.SimpleQueue()
        with self._lock:
            connection = self._start()
            job = next(self._ids)
            self._inboxes[job] = (self._process, inbox)
            try:
                connection.send((job, work))
            except OSError:
                self._inboxes.pop(job)
                raise ExportError(STOPPED) from None
        deadline, what = time.monotonic() + timeout, None
        try:
            while True:
                try:
                    what, value = inbox.get(timeout=max(deadline - time.monotonic(), 0))
                except queue.Empty:
                    raise ExportError(f"making it took longer than {timeout:g} s") from None
                if what == "done":
                    return value
                if what == "failed":
                    raise ExportError(value)
                progress(value)
        except BaseException:
            if what != "failed":  # the process may still be drawing it: stop that
                self._cancel(job)
            raise
        finally:
            with self._lock:
                self._inboxes.pop(job, None)
                if not self._inboxes:
                    self._arm_idle_timer()

    def close(self, *, if_idle: bool = False) -> None:
        """End the render process (the next render starts another); `if_idle`: only if no render
        waits on it."""
        with self._lock:
            if if_idle and self._inboxes:
                return
            process, connection = self._process, self._connection
            self._process = self._connection = None
        if connection is not None:
            connection.close()  # the process sees its pipe close, closes its browser and exits
        if process is not None:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()

    def _arm_idle_timer(self) -> None:
        """(Holding the lock.) Close the process once it has been unused for `idle_s`."""
        if self._idle_timer is not None:
            self._idle_timer.cancel()
        self._idle_timer = threading.Timer(self.idle_s, self.close, kwargs={"if_idle": True})
        self._idle_timer.daemon = True
        self._idle_timer.start()

    def _start(self) -> Connection:
        """(Holding the lock.) The running process's pipe, starting the process if none runs."""
        if self._process is not None and self._process.poll() is None:
            return self._connection
        ours, theirs = Pipe()
        root = Path(__file__).resolve().parents[3]  # where `optviz` can be imported from
        path = os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH", "")]))
        process = subprocess.Popen(
            [sys.executable, "-m", __name__, str(theirs.fileno()), str(self.workers)],
            pass_fds=(theirs.fileno(),),
            env={**os.environ, "PYTHONPATH": path},
            stdin=subprocess.DEVNULL,
        )
        theirs.close()
        self._process, self._connection = process, ours
        threading.Thread(target=self._read, args=(process, ours), name="optviz-renders", daemon=True).start()
        return ours

    def _read(self, process: subprocess.Popen, connection: Connection) -> None:
        """Hand each answer of `process` to the render waiting for it; when it ends, fail the renders
        it had."""
        while True:
            try:
                job, what, value = connection.recv()
            except (EOFError, OSError):
                break
            with self._lock:
                _, inbox = self._inboxes.get(job, (None, None))
            if inbox is not None:
                inbox.put((what, value))
        with self._lock:
            if self._process is process:
                self._process = self._connection = None
            for owner, inbox in self._inboxes.values():
                if owner is process:
                    inbox.put(("failed", STOPPED))
        process.poll()

    def _cancel(self, job: int) -> None:
        with self._lock:
            owner, _ = self._inboxes.get(job, (None, None))
            if owner is not None and owner is self._process:
                try:
                    self._connection.send(("cancel", job))
                except OSError:
                    pass


RENDER_PROCESS = RenderProcess(LIMITS.workers)  # the app's one render process


# --- in the render process ----------------------------------------------------------------------


class Cancelled(Exception):
    """Raised through a render's progress once the app has given up on it."""


def serve(connection: Connection, workers: int) -> None:
    """Draw what `connection` asks for, `workers` at a time, until it closes."""
    sending, cancelled = threading.Lock(), set()

    def send(message) -> None:
        with sending:
            connection.send(message)

    def render(job: int, work: Work) -> None:
        told = [-1.0]

        def progress(share: float) -> None:
            if job in cancelled:
                raise Cancelled
            if share - told[0] >= PROGRESS_STEP:
                told[0] = share
                send((job, "progress", share))

        try:
            data = work(progress)
        except Cancelled:
            return
        except (ExportError, ValueError) as problem:
            send((job, "failed", str(problem)))
        except Exception as problem:  # a bug fails this render, not the process
            log.exception("optviz: a render failed")
            send((job, "failed", f"it could not be made ({type(problem).__name__}: {problem})"))
        else:
            send((job, "done", data))
        finally:
            cancelled.discard(job)

    pool = ThreadPoolExecutor(workers, thread_name_prefix="optviz-render")
    while True:
        try:
            message = connection.recv()
        except (EOFError, OSError):
            break
        if message[0] == "cancel":
            cancelled.add(message[1])
        else:
            pool.submit(render, *message)
    BROWSER.close()
    os._exit(0)  # without waiting for renders nobody will read


def _step_aside() -> None:
    """SCHED_IDLE for this process and all it starts (see the module's docstring), where there is one."""
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):  # not Linux: a lower priority at least
        os.nice(10)


if __name__ == "__main__":
    _step_aside()
    enable_compilation_cache()  # races compile once per server, not once per render process
    serve(Connection(int(sys.argv[1])), int(sys.argv[2]))
