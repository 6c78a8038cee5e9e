"""Training runs trained in the background and shared by every session.

A page used to train inside its own script run, so anything that reran the page (a tab switched,
a control moved, a second click) stopped the run. Here a page only asks and looks:
- `request(owner, runs)` takes the runs one Train click asks for, as (key, train) pairs: `key` is
  everything that determines a run, `train()` an iterator of the History after each epoch. Each
  gets its job: the finished, running or waiting one if there is one (two students with the same
  settings, or a second Train click, train it once), else a new one; `owner` (a session) is added
  to whoever waits for each;
- one worker thread trains the new jobs of one request side by side, an epoch of each in turn, so
  that the optimizers' curves grow together; requests are trained in the order they came, and
  `ahead(job)` says how many jobs of earlier requests are still waiting. An epoch is one compiled
  call that already keeps every core busy: two at once would only make both slower, and training
  the optimizers in one vmapped call measured slower on this CPU than one after another (see
  bench/mlp.py);
- `job.history` is the History after the last finished epoch, so a page draws the curves growing
  whenever it looks;
- `release(job, owner)` is one owner's Stop: the job stops, after its current epoch, once no
  owner is left, and leaves the table (whoever stopped it keeps the History it saw). A finished
  job stays for everyone, up to `max_finished` of them holding at most `max_bytes` in all (a
  History keeps the run's path through weight space: 17 MB for the largest run the page trains),
  the least recently asked for dropped first, never the one that just finished;
  a run that raises keeps its reason (the others go on), and asking again starts it afresh.
Nothing here imports Streamlit.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable, Iterable, Iterator

from optviz.mlp.model import History

QUEUED, RUNNING, DONE, STOPPED, FAILED = "queued", "running", "done", "stopped", "failed"
MAX_FINISHED_BYTES = 256 * 2**20  # what finished runs kept for everyone may hold in all
Train = Callable[[], Iterator[History]]

log = logging.getLogger(__name__)


class Job:
    """One training run: its state, the owners waiting for it, its History so far (None before
    the first epoch) and, if it failed, why."""

    def __init__(self, key: Hashable, owner: Hashable, train: Train) -> None:
        self.key = key
        self.owners = {owner}
        self.train: Train | None = train  # dropped once started
        self.state = QUEUED
        self.history: History | None = None
        self.error: str | None = None
        self.finished = threading.Event()

    @property
    def active(self) -> bool:
        return self.state in (QUEUED, RUNNING)

    def wait(self, timeout: float | None = None) -> bool:
        """Whether the job ended (finished, stopped or failed) within `timeout` seconds."""
        return self.finished.wait(timeout)


class Trainer:
    """The shared queue of training runs (see the module's docstring); its thread starts when first
    needed."""

    def __init__(
        self,
        max_finished: int = 64,
        max_bytes: int = MAX_FINISHED_BYTES,
        size_of: Callable[[History], int] = lambda history: history.nbytes,
    ) -> None:
        self.max_finished = max_finished
        self.max_bytes = max_bytes
        self.size_of = size_of  # the memory a finished job's History holds
        self._lock = threading.Condition()
        self._jobs: OrderedDict[Hashable, Job] = OrderedDict()
        self._waiting: deque[list[Job]] = deque()  # the new jobs of each request, in order
        self._worker: threading.Thread | None = None

    def request(self, owner: Hashable, runs: Iterable[tuple[Hashable, Train]]) -> list[Job]:
        """The job of each (key, train) in `runs`, with `owner` among its owners: the existing one
        unless it failed, else a new one that will iterate `train()`. The new ones are queued
        together, to train side by side."""
        with self._lock:
            jobs, new = [], []
            for key, train in runs:
                job = self._jobs.get(key)
                if job is not None and job.state != FAILED:
                    job.owners.add(owner)
                    self._jobs.move_to_end(key)
                else:
                    job = self._jobs[key] = Job(key, owner, train)
                    new.append(job)
                jobs.append(job)
            if new:
                self._waiting.append(new)
                if self._worker is None:
                    self._worker = threading.Thread(target=self._work, name="optviz-training", daemon=True)
                    self._worker.start()
                self._lock.notify()
            return jobs

    def job(self, key: Hashable) -> Job | None:
        """The job for `key` (waiting, training, finished or failed), or None."""
        with self._lock:
            return self._jobs.get(key)

    def ahead(self, job: Job) -> int:
        """How many jobs of earlier requests are still waiting before `job` starts (0 once it trains)."""
        with self._lock:
            count = 0
            for batch in self._waiting:
                if job in batch:
                    return count
                count += len(batch)
            return 0

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Whether every job asked for so far ended within `timeout` seconds (for tests, and for a
        server that shuts down cleanly)."""
        with self._lock:
            jobs = [job for job in self._jobs.values() if job.active]
        return all(job.wait(timeout) for job in jobs)

    def release(self, job: Job, owner: Hashable) -> None:
        """`owner` no longer waits for `job`; with no owner left an unfinished job stops (a waiting
        one at once, a training one after its current epoch)."""
        with self._lock:
            job.owners.discard(owner)
            if job.owners or job.state != QUEUED:
                return
            batch = next(batch for batch in self._waiting if job in batch)
            batch.remove(job)
            if not batch:
                self._waiting.remove(batch)
            self._end(job, STOPPED)

    def _work(self) -> None:
        while True:
            with self._lock:
                while not self._waiting:
                    self._lock.wait()
                batch = self._waiting.popleft()
                runs = []
                for job in batch:
                    job.state = RUNNING
                    runs.append((job, job.train))
                    job.train = None
            self._side_by_side(runs)

    def _side_by_side(self, runs: list[tuple[Job, Train]]) -> None:
        """An epoch of each run in turn, until every one has finished, stopped or failed."""
        epochs: list[tuple[Job, Iterator[History]]] = []
        for job, train in runs:
            try:
                epochs.append((job, iter(train())))
            except Exception as problem:
                self._fail(job, problem)
        while epochs:
            for entry in list(epochs):
                job, run = entry
                try:
                    job.history = next(run)
                    ended = None
                except StopIteration:
                    ended = DONE
                except Exception as problem:  # a bug must not take the worker (and every later run) with it
                    self._fail(job, problem)
                    epochs.remove(entry)
                    continue
                with self._lock:
                    if ended is None and not job.owners:
                        ended = STOPPED
                    if ended is not None:
                        self._end(job, ended)
                        epochs.remove(entry)

    def _fail(self, job: Job, problem: Exception) -> None:
        log.exception("optviz: a training run failed", exc_info=problem)
        with self._lock:
            job.error = f"{type(problem).__name__}: {problem}"
            self._end(job, FAILED)

    def _end(self, job: Job, state: str) -> None:
        """Mark `job` ended (under the lock): a stopped job leaves the table; ended ones beyond
        `max_finished`, or beyond `max_bytes` in all, go, the least recently asked for first,
        never `job` itself (its owners are looking at it)."""
        job.state = state
        if state == STOPPED and self._jobs.get(job.key) is job:
            del self._jobs[job.key]
        ended = [other for other in self._jobs.values() if not other.active and other is not job]
        sizes = {id(other): self._size(other) for other in ended}
        held = sum(sizes.values()) + (self._size(job) if self._jobs.get(job.key) is job else 0)
        kept = len(ended) + (self._jobs.get(job.key) is job)
        for other in ended:  # least recently asked for first (request moves a job to the end)
            if kept <= self.max_finished and held <= self.max_bytes:
                break
            del self._jobs[other.key]
            kept -= 1
            held -= sizes[id(other)]
        job.finished.set()

    def _size(self, job: Job) -> int:
        return 0 if job.history is None else self.size_of(job.history)


TRAINER = Trainer()  # the process's one queue: every session's runs
