"""The shared renders (optviz.lab.export.jobs) and their limits (optviz.lab.export.limits): one render
per view, at most `workers` at once, a bounded cache, failures that say why and can be retried.

Most tests give the queue stand-in renders (a `make` that records what it did), so each property is
checked alone and fast; two use real pictures of the lab's race.
"""

from __future__ import annotations

import threading
import time

import pytest

from optviz.lab import export
from optviz.lab.config import RaceConfig
from optviz.lab.export import jobs, limits
from optviz.lab.export.jobs import DONE, FAILED, QUEUED, Renders
from optviz.lab.export.limits import Limits
from optviz.lab.export.view import RaceExport


def _limits(**changes) -> Limits:
    settings = {"workers": 2, "cache_bytes": 10_000_000, "timeout_s": 30.0, "queue": 100}
    return Limits(**{**settings, **changes})


class Recorder:
    """Stand-in renders: each waits for `gate` to open (if given), takes `seconds`, reports progress,
    and counts how many run at once."""

    def __init__(self, seconds: float = 0.1, gate: threading.Event | None = None) -> None:
        self.seconds = seconds
        self.gate = gate
        self.lock = threading.Lock()
        self.running = self.most = 0
        self.made: list[str] = []

    def make(self, key: str, size: int = 10):
        def render(progress) -> bytes:
            with self.lock:
                self.running += 1
                self.most = max(self.most, self.running)
                self.made.append(key)
            try:
                if self.gate is not None:
                    self.gate.wait(30)
                for i in range(5):
                    time.sleep(self.seconds / 5)
                    progress((i + 1) / 5)
                return key.encode().ljust(size, b".")
            finally:
                with self.lock:
                    self.running -= 1

        return render


def _at_once(count: int, ask) -> list:
    """`ask(i)` from `count` threads released together; what each returned."""
    start, results = threading.Barrier(count), [None] * count

    def one(i):
        start.wait()
        results[i] = ask(i)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def test_ten_simultaneous_requests_run_at_most_workers_at_once_in_order():
    gate = threading.Event()  # the renders wait for it, so the queue holds still while it is read
    renders, recorder = Renders(_limits(workers=2)), Recorder(0.1, gate)
    requested = _at_once(10, lambda i: renders.request(f"view {i}", recorder.make(f"view {i}")))
    time.sleep(0.2)  # the workers take the first two
    waiting = [job for job in requested if job.state == QUEUED]
    assert len(waiting) == 8
    assert sorted(renders.ahead(job) for job in waiting) == list(range(8)), "queue positions"
    gate.set()
    assert [job.wait(30) for job in requested] == [f"view {i}".encode().ljust(10, b".") for i in range(10)]
    assert recorder.most == 2, f"{recorder.most} renders ran at once"
    assert renders.most_at_once == 2 and renders.made == 10, "the queue's own count agrees"
    assert sorted(recorder.made) == sorted(f"view {i}" for i in range(10))
    assert all(job.state == DONE and job.progress == 1.0 for job in requested)


def test_the_same_view_asked_for_while_it_renders_waits_for_that_render():
    renders, recorder = Renders(_limits()), Recorder(0.3)
    requested = _at_once(
        8, lambda i: renders.request("the lecturer's view", recorder.make("the lecturer's view"))
    )
    assert all(job is requested[0] for job in requested)
    assert {job.wait(30) for job in requested} == {b"the lecturer's view"}
    later = renders.request("the lecturer's view", recorder.make("the lecturer's view"))
    assert later is requested[0] and later.state == DONE, "a finished file is handed out again"
    assert recorder.made == ["the lecturer's view"], "rendered once"


def test_two_concurrent_requests_for_one_view_make_one_real_picture(monkeypatch):
    renders, made = Renders(_limits()), []
    wanted = RaceExport(RaceConfig.create("booth", ["gd", "adam"], steps=40), "png", width=320, height=180)

    def counted(progress):
        made.append(wanted.key)
        return wanted.make(progress)

    first, second = _at_once(2, lambda _: renders.request(wanted.key, counted))
    assert first is second and len(made) <= 1
    assert first.wait(60) == second.wait(60) and first.result.startswith(b"\x89PNG")
    assert made == [wanted.key]
    same = RaceExport(RaceConfig.create("booth", ["gd", "adam"], steps=40), "png", width=320, height=180)
    assert renders.job(same.key) is first, "the same settings name the same file"
    other = RaceExport(RaceConfig.create("booth", ["gd", "adam"], steps=50), "png", width=320, height=180)
    assert renders.job(other.key) is None


def test_the_cache_keeps_the_most_recently_asked_for_files_within_its_bytes():
    renders, recorder = Renders(_limits(cache_bytes=250)), Recorder(0.0)
    for name in ("a", "b", "c"):
        renders.request(name, recorder.make(name, size=100)).wait(10)
    assert renders.job("a") is None and renders.job("b") and renders.job("c"), "250 bytes hold two files"
    renders.request("b", recorder.make("b", size=100))  # asked for again: now the most recent
    renders.request("d", recorder.make("d", size=100)).wait(10)
    assert renders.job("c") is None and renders.job("b") and renders.job("d")
    renders.request("a", recorder.make("a", size=100)).wait(10)
    assert recorder.made == ["a", "b", "c", "d", "a"], "a dropped file is made again when asked for"


def test_a_failed_render_says_why_and_asking_again_renders_again():
    renders, recorder = Renders(_limits()), Recorder(0.0)

    def broken(progress):
        raise export.ExportError("the browser stopped while drawing the picture")

    failed = renders.request("view", broken)
    with pytest.raises(export.ExportError, match="the browser stopped"):
        failed.wait(10)
    assert failed.state == FAILED and renders.job("view") is failed, "the reason stays for the page"
    again = renders.request("view", recorder.make("view"))
    assert again is not failed and again.wait(10) == b"view......"


def test_a_render_past_its_time_limit_fails_and_frees_its_worker():
    renders = Renders(_limits(workers=1, timeout_s=0.3))
    slow = renders.request("slow", Recorder(2.0).make("slow"))
    quick = renders.request("quick", Recorder(0.0).make("quick"))
    with pytest.raises(export.ExportError, match=r"took longer than 0\.3 s"):
        slow.wait(10)
    assert quick.wait(10) == b"quick....."


def test_a_bug_in_a_render_fails_that_render_only():
    renders = Renders(_limits(workers=1))
    crashed = renders.request("crash", lambda progress: 1 / 0)
    with pytest.raises(export.ExportError, match="ZeroDivisionError"):
        crashed.wait(10)
    assert renders.request("next", Recorder(0.0).make("next")).wait(10) == b"next......"


def test_a_full_queue_refuses_for_now_and_says_so():
    renders, recorder = Renders(_limits(workers=1, queue=3)), Recorder(0.5)
    for i in range(4):  # one runs, three wait
        renders.request(i, recorder.make(str(i)))
        time.sleep(0.05)
    with pytest.raises(export.ExportError, match=r"queue is full \(3 pictures waiting.*try again"):
        renders.request("one too many", recorder.make("x"))
    assert renders.request(0, recorder.make("0")) is renders.job(0), "joining a job is never refused"


def test_a_short_classroom_every_request_gets_its_gif():
    """The bench's classroom (python -m bench.export) in short: 12 requests for GIFs at once, half of
    them for one view, drawn as the page has them drawn (in the render process); every one gets its
    file, each view is drawn once, two at a time."""
    renders = Renders(_limits(workers=2))

    def ask(i):
        start = (1.0, 1.4) if i % 2 else (1.5 + 0.1 * i, 1.4)  # odd: the lecturer's view
        wanted = RaceExport(
            RaceConfig.create("beale", ["gd", "adam"], start, 60), "gif", frames=20, width=320, height=180
        )
        return renders.request(wanted.key, wanted.make_apart)

    requested = _at_once(12, ask)
    gifs = [job.wait(120) for job in requested]
    assert all(gif.startswith(b"GIF89a") for gif in gifs)
    assert renders.made == 7 and renders.most_at_once == 2


def test_limits_come_from_the_environment_and_bad_values_fall_back(monkeypatch, caplog):
    monkeypatch.setenv("OPTVIZ_EXPORT_WORKERS", "3")
    monkeypatch.setenv("OPTVIZ_EXPORT_CACHE_MB", "64")
    monkeypatch.setenv("OPTVIZ_EXPORT_TIMEOUT_S", "nan")
    monkeypatch.setenv("OPTVIZ_EXPORT_QUEUE", "-5")
    chosen = limits.from_environment()
    assert chosen.workers == 3 and chosen.cache_bytes == 64_000_000
    assert chosen.timeout_s == 60 and chosen.queue == 200, "bad values: the defaults"
    assert "OPTVIZ_EXPORT_TIMEOUT_S='nan'" in caplog.text and "OPTVIZ_EXPORT_QUEUE='-5'" in caplog.text
    monkeypatch.delenv("OPTVIZ_EXPORT_WORKERS")
    assert limits.from_environment().workers >= 1  # the machine's cores
    assert jobs.RENDERS.limits == limits.LIMITS
