"""The background trainer (optviz.mlp.training_jobs): runs trained once for everyone, one at a time,
stopped only when no session waits for them. Driven with fake runs whose epochs wait for the test."""

import threading

import pytest

from optviz.mlp.training_jobs import DONE, FAILED, QUEUED, RUNNING, STOPPED, Trainer

TIMEOUT = 10


class FakeRun:
    """A run of `epochs` epochs; epoch k (from 1) is yielded as the integer k once `step()` allows."""

    def __init__(self, epochs: int = 3) -> None:
        self.epochs = epochs
        self.allowed = threading.Semaphore(0)
        self.started = threading.Event()
        self.yielded = threading.Semaphore(0)

    def __call__(self):
        self.started.set()
        for epoch in range(1, self.epochs + 1):
            assert self.allowed.acquire(timeout=TIMEOUT), "the test never let this epoch run"
            yield epoch
            self.yielded.release()

    def step(self, epochs: int = 1) -> None:
        """Let `epochs` more epochs run and wait until they are published."""
        for _ in range(epochs):
            self.allowed.release()
            assert self.yielded.acquire(timeout=TIMEOUT)


@pytest.fixture
def trainer():
    return Trainer(max_finished=2)


def test_a_run_publishes_each_epoch_and_finishes_for_everyone(trainer):
    run = FakeRun(2)
    job = trainer.request("a", "alice", run)
    assert run.started.wait(TIMEOUT) and job.history is None
    run.step()
    assert job.history == 1 and job.state == RUNNING
    assert trainer.request("a", "bob", FakeRun()) is job, "asked again while training: the same job"
    run.step()
    assert job.wait(TIMEOUT) and job.state == DONE and job.history == 2
    assert trainer.request("a", "carol", FakeRun()) is job, "finished: handed out again"


def test_runs_train_one_at_a_time_in_the_order_asked(trainer):
    first, second, third = FakeRun(1), FakeRun(1), FakeRun(1)
    runs = {"a": first, "b": second, "c": third}
    jobs = [trainer.request(key, "alice", run) for key, run in runs.items()]
    assert first.started.wait(TIMEOUT)
    assert [job.state for job in jobs] == [RUNNING, QUEUED, QUEUED]
    assert [trainer.ahead(job) for job in jobs] == [0, 0, 1]
    first.step()
    assert second.started.wait(TIMEOUT) and not third.started.is_set()
    second.step()
    third.step()
    assert trainer.wait_idle(TIMEOUT) and [job.state for job in jobs] == [DONE, DONE, DONE]


def test_a_run_stops_after_its_epoch_only_when_no_owner_is_left(trainer):
    run = FakeRun(3)
    job = trainer.request("a", "alice", run)
    trainer.request("a", "bob", run)
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
    trainer.request("a", "alice", blocker)
    job = trainer.request("b", "bob", waiting)
    trainer.release(job, "bob")
    assert job.state == STOPPED and job.finished.is_set() and trainer.job("b") is None
    blocker.step()
    assert trainer.wait_idle(TIMEOUT) and not waiting.started.is_set()


def test_a_failing_run_keeps_its_reason_and_the_worker_goes_on(trainer):
    def broken():
        yield 1
        raise ValueError("the learning rate is a string")

    job = trainer.request("a", "alice", broken)
    assert job.wait(TIMEOUT) and job.state == FAILED
    assert job.error == "ValueError: the learning rate is a string" and job.history == 1
    retry = FakeRun(1)
    again = trainer.request("a", "alice", retry)
    assert again is not job, "a failed run is asked for afresh"
    retry.step()
    assert again.wait(TIMEOUT) and again.state == DONE


def test_only_the_latest_finished_runs_are_kept(trainer):
    for key in "abc":
        run = FakeRun(1)
        job = trainer.request(key, "alice", run)
        run.step()
        assert job.wait(TIMEOUT)
    assert trainer.job("a") is None and trainer.job("b") is not None and trainer.job("c") is not None
