"""The background trainer (optviz.mlp.training_jobs): runs trained once for everyone, the runs of one
request side by side (an epoch of each in turn), requests one after another, a run stopped only when
no session waits for it. Driven with fake runs whose epochs wait for the test."""

import threading

import pytest

from optviz.mlp.training_jobs import DONE, FAILED, QUEUED, RUNNING, STOPPED, Trainer

TIMEOUT = 10


class FakeRun:
    """A run of `epochs` epochs; epoch k (from 1) is yielded as the integer k once `step()` allows."""

    def __init__(self, epochs: int = 3, *, name: str = "", log: list | None = None) -> None:
        self.epochs = epochs
        self.name, self.log = name, log  # log: where each epoch is noted as (name, epoch) when yielded
        self.allowed = threading.Semaphore(0)
        self.started = threading.Event()
        self.yielded = threading.Semaphore(0)

    def __call__(self):
        self.started.set()
        for epoch in range(1, self.epochs + 1):
            assert self.allowed.acquire(timeout=TIMEOUT), "the test never let this epoch run"
            if self.log is not None:
                self.log.append((self.name, epoch))
            yield epoch
            self.yielded.release()

    def step(self, epochs: int = 1) -> None:
        """Let `epochs` more epochs run and wait until they are published."""
        for _ in range(epochs):
            self.allowed.release()
            assert self.yielded.acquire(timeout=TIMEOUT)


@pytest.fixture
def trainer():
    return Trainer(max_finished=2, size_of=lambda history: 0)  # fake histories hold no arrays


def ask(trainer, key, owner, run):
    """One run asked for on its own: its job."""
    (job,) = trainer.request(owner, [(key, run)])
    return job


def test_a_run_publishes_each_epoch_and_finishes_for_everyone(trainer):
    run = FakeRun(2)
    job = ask(trainer, "a", "alice", run)
    assert run.started.wait(TIMEOUT) and job.history is None
    run.step()
    assert job.history == 1 and job.state == RUNNING
    assert ask(trainer, "a", "bob", FakeRun()) is job, "asked again while training: the same job"
    run.step()
    assert job.wait(TIMEOUT) and job.state == DONE and job.history == 2
    assert ask(trainer, "a", "carol", FakeRun()) is job, "finished: handed out again"


def test_requests_train_one_after_another_in_the_order_asked(trainer):
    first, second, third = FakeRun(1), FakeRun(1), FakeRun(1)
    runs = {"a": first, "b": second, "c": third}
    jobs = [ask(trainer, key, "alice", run) for key, run in runs.items()]  # three requests
    assert first.started.wait(TIMEOUT)
    assert [job.state for job in jobs] == [RUNNING, QUEUED, QUEUED]
    assert [trainer.ahead(job) for job in jobs] == [0, 0, 1]
    first.step()
    assert second.started.wait(TIMEOUT) and not third.started.is_set()
    second.step()
    third.step()
    assert trainer.wait_idle(TIMEOUT) and [job.state for job in jobs] == [DONE, DONE, DONE]


def test_runs_asked_together_train_side_by_side_an_epoch_each_in_turn(trainer):
    order = []
    first, second = FakeRun(2, name="a", log=order), FakeRun(2, name="b", log=order)
    for run in (first, second):
        for _ in range(run.epochs):
            run.allowed.release()
    a, b = trainer.request("alice", [("a", first), ("b", second)])
    assert trainer.wait_idle(TIMEOUT) and (a.state, b.state) == (DONE, DONE)
    assert order == [("a", 1), ("b", 1), ("a", 2), ("b", 2)]
    assert (a.history, b.history) == (2, 2)
    (again,) = trainer.request("bob", [("a", FakeRun())])
    assert again is a, "a finished run of a request is handed out on its own too"


def test_a_failing_run_does_not_stop_the_runs_beside_it(trainer):
    def broken():
        raise ValueError("no such optimizer")
        yield  # a generator, as a run is

    good = FakeRun(1)
    bad, fine = trainer.request("alice", [("bad", broken), ("good", good)])
    good.step()
    assert trainer.wait_idle(TIMEOUT) and (bad.state, fine.state) == (FAILED, DONE)


def test_a_run_stops_after_its_epoch_only_when_no_owner_is_left(trainer):
    run = FakeRun(3)
    job = ask(trainer, "a", "alice", run)
    ask(trainer, "a", "bob", run)
    run.step()
    trainer.release(job, "alice")
    run.step()
    assert job.state == RUNNING and job.history == 2, "bob still waits for it"
    trainer.release(job, "bob")
    run.allowed.release()  # the epoch under way finishes, then the run stops
    assert job.wait(TIMEOUT) and job.state == STOPPED and job.history == 3
    assert trainer.job("a") is None, "a stopped run leaves the table: asking again starts afresh"


def test_a_waiting_run_released_by_its_owner_never_starts(trainer):
    blocker, waiting = FakeRun(1), FakeRun(1)
    ask(trainer, "a", "alice", blocker)
    job = ask(trainer, "b", "bob", waiting)
    trainer.release(job, "bob")
    assert job.state == STOPPED and job.finished.is_set() and trainer.job("b") is None
    blocker.step()
    assert trainer.wait_idle(TIMEOUT) and not waiting.started.is_set()


def test_a_failing_run_keeps_its_reason_and_the_worker_goes_on(trainer):
    def broken():
        yield 1
        raise ValueError("the learning rate is a string")

    job = ask(trainer, "a", "alice", broken)
    assert job.wait(TIMEOUT) and job.state == FAILED
    assert job.error == "ValueError: the learning rate is a string" and job.history == 1
    retry = FakeRun(1)
    again = ask(trainer, "a", "alice", retry)
    assert again is not job, "a failed run is asked for afresh"
    retry.step()
    assert again.wait(TIMEOUT) and again.state == DONE


def test_only_the_latest_finished_runs_are_kept(trainer):
    for key in "abc":
        run = FakeRun(1)
        job = ask(trainer, key, "alice", run)
        run.step()
        assert job.wait(TIMEOUT)
    assert trainer.job("a") is None and trainer.job("b") is not None and trainer.job("c") is not None


def test_finished_runs_are_kept_within_a_byte_budget_the_latest_always():
    """Each finished History here holds 100 bytes: 250 keep the latest two; a budget smaller than one
    run still keeps the run that just finished (its owners are looking at it)."""
    for budget, kept in ((250, "bc"), (50, "c")):
        trainer = Trainer(max_finished=10, max_bytes=budget, size_of=lambda history: 100)
        for key in "abc":
            run = FakeRun(1)
            job = ask(trainer, key, "alice", run)
            run.step()
            assert job.wait(TIMEOUT)
        assert "".join(key for key in "abc" if trainer.job(key) is not None) == kept


def test_a_history_counts_every_array_it_holds():
    from optviz import mlp

    history = mlp.train("adam", hidden=8, epochs=1, seed=2)
    params = sum(p.nbytes for p in history.params)
    assert history.nbytes >= params + history.path.nbytes + history.batch_loss.nbytes
    assert history.path.nbytes == 2 * history.path.size  # float16
