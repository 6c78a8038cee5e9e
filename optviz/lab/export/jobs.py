"""Renders made once and shared: a queue, a fixed number of workers, the finished files kept.

A lecturer says "download the GIF" and the class clicks at once, most of them on the lecturer's
link. Each file is keyed by what it shows (`RaceExport.key`: the race's settings as its link holds
them, the view options and the picture's size), and for each key:
- a file already made is handed out again (the cache keeps finished files up to `cache_bytes`,
  dropping the least recently asked for first);
- a request while it is being made, or waiting to be, joins that same job (single flight);
- otherwise a job joins the queue. `workers` threads take jobs in the order they came, so at most
  that many renders run at once (the page's are drawn in the render process, `export.process`);
  the others wait, and `ahead(job)` says how many jobs will start before theirs.
A job that fails (the browser died, it took longer than `timeout_s`) keeps its reason for whoever
waits on it; asking again starts a new job. More than `queue` jobs waiting are refused for now.

The work happens on these threads, never on the caller's (a page's script thread only asks and
looks), and nothing here imports Streamlit. `made` and `most_at_once` count what the queue did.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable

from optviz.lab.export.browser import ExportError
from optviz.lab.export.limits import LIMITS, Limits

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
MAX_FINISHED = 1000  # finished jobs remembered (failures keep their reason), however small
Make = Callable[[Callable[[float], None]], bytes]  # make(progress) -> the file's bytes

log = logging.getLogger(__name__)


class TookTooLong(Exception):
    """Raised through a render's progress call once it has run past its time limit."""


class Job:
    """One file being made, or made: its state, progress (0..1) and, at the end, its bytes or the
    reason it failed."""

    def __init__(self, key: Hashable, make: Make) -> None:
        self.key = key
        self.make: Make | None = make  # dropped once run (it may hold a figure)
        self.state = QUEUED
        self.progress = 0.0
        self.result: bytes | None = None
        self.error: str | None = None
        self.started_at: float | None = None  # time.monotonic()
        self.finished = threading.Event()

    def wait(self, timeout: float | None = None) -> bytes:
        """The file, once made; ExportError if it failed or is not made within `timeout` seconds."""
        if not self.finished.wait(timeout):
            raise ExportError(f"the picture was not ready within {timeout:g} s; it is still being made")
        if self.state == FAILED:
            raise ExportError(self.error)
        return self.result


class Renders:
    """The shared queue of renders (see the module's docstring); threads start when first needed."""

    def __init__(self, limits: Limits = LIMITS) -> None:
        self.limits = limits
        self._lock = threading.Condition()
        self._jobs: OrderedDict[Hashable, Job] = OrderedDict()  # every job known, finished ones by last use
        self._waiting: deque[Job] = deque()
        self._workers: list[threading.Thread] = []
        self._cached_bytes = 0
        self._running = 0
        self.made = 0  # renders started so far
        self.most_at_once = 0  # the most renders that ran at the same time

    def request(self, key: Hashable, make: Make) -> Job:
        """The job for `key`: the finished or running one, or a new one queued that calls
        `make(progress)` on a worker. ExportError if too many jobs are waiting already."""
        with self._lock:
            job = self._jobs.get(key)
            if job is not None and job.state != FAILED:
                self._jobs.move_to_end(key)
                return job
            if len(self._waiting) >= self.limits.queue:
                waiting = len(self._waiting)
                raise ExportError(f"the queue is full ({waiting} pictures waiting): try again in a minute")
            job = self._jobs[key] = Job(key, make)
            self._waiting.append(job)
            if len(self._workers) < self.limits.workers:
                worker = threading.Thread(target=self._work, name="optviz-export", daemon=True)
                self._workers.append(worker)
                worker.start()
            self._lock.notify()
            return job

    def job(self, key: Hashable) -> Job | None:
        """The job for `key` if there is one (waiting, running, finished or failed), else None."""
        with self._lock:
            return self._jobs.get(key)

    def ahead(self, job: Job) -> int:
        """How many jobs will start before `job` (0 once it runs)."""
        with self._lock:
            return self._waiting.index(job) if job.state == QUEUED and job in self._waiting else 0

    def _work(self) -> None:
        while True:
            with self._lock:
                while not self._waiting:
                    self._lock.wait()
                job = self._waiting.popleft()
                job.state, job.started_at = RUNNING, time.monotonic()
                self._running += 1
                self.made += 1
                self.most_at_once = max(self.most_at_once, self._running)
            try:
                self._run(job)
            finally:
                with self._lock:
                    self._running -= 1

    def _run(self, job: Job) -> None:
        timeout = self.limits.timeout_s
        deadline = job.started_at + timeout

        def progress(share: float) -> None:
            if time.monotonic() > deadline:
                raise TookTooLong
            job.progress = max(job.progress, min(float(share), 1.0))

        make, job.make = job.make, None
        try:
            result = make(progress)
        except TookTooLong:
            self._finish(job, error=f"making it took longer than {timeout:g} s")
        except (ExportError, ValueError) as problem:
            self._finish(job, error=str(problem))
        except Exception as problem:  # a bug must not take the worker (and every later render) with it
            log.exception("optviz: an export failed")
            self._finish(job, error=f"it could not be made ({type(problem).__name__}: {problem})")
        else:
            self._finish(job, result=result)

    def _finish(self, job: Job, *, result: bytes | None = None, error: str | None = None) -> None:
        with self._lock:
            if result is not None:
                job.result, job.state, job.progress = result, DONE, 1.0
                self._cached_bytes += len(result)
            else:
                job.error, job.state = error, FAILED
            if self._jobs.get(job.key) is job:
                self._jobs.move_to_end(job.key)
            self._evict()
        job.finished.set()

    def _evict(self) -> None:
        """Drop the least recently asked for finished jobs beyond the cache's bytes and count."""
        finished = [key for key, job in self._jobs.items() if job.state in (DONE, FAILED)]
        count = len(finished)
        for key in finished:
            if self._cached_bytes <= self.limits.cache_bytes and count <= MAX_FINISHED:
                break
            self._cached_bytes -= len(self._jobs.pop(key).result or b"")
            count -= 1


RENDERS = Renders()  # the process's one queue: every page session and caller shares it
