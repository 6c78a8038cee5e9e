"""Classroom load test: N concurrent lab sessions changing controls, against one `streamlit run app.py`.

Run from the repository root:  python -m bench.load [--sessions 30 --seconds 60 --exports 50 --workers 2]
Budgets (the quality-gates issue): 0 errors and no cross-talk with 30 concurrent sessions; p95 from a
control change to the new chart <= 1.5 s on 2 cores; server memory after every session has closed
within 10% of its level after the first session. Exits 1 if a budget is broken.

Formula mode (issue 22):  python -m bench.load --formulas [--sessions 100 --seconds 60]
Every session opens the lab and picks "Your own f(x, y)"; once the whole class has, for `--seconds`
each types a new formula into the "f(x, y) =" box and submits it (Enter) after a think time of
10-30 s (typing it, then watching its race), so each enters at least one. No two formulas are the
same (bench.formula's templates: ripples, bowls, quartics, logs and wells, with numbers of their
own), so every one is new to the server. Budgets: p95 from a formula's submit to its chart <= 1.5 s,
0 errors (an error box from a formula that does not parse counts: every formula is valid), every
session enters a formula; cross-talk, memory and the rest as below. The opening is left out of the
budget: the class has the lab open when the lecturer asks for formulas.

Through the front (issue 17):  python -m bench.load --workers 2 [--sessions 200 --kill-worker-at 20]
The app is served the documented way for a class, `python -m optviz serve --workers N` (nginx in front
of N Streamlit workers, sticky by a cookie), and every session connects through the front with a
cookie of its own, as a browser gets one, so the front spreads the class over the workers. The first
session runs once on each worker (its one-session level, per worker); memory is budgeted per worker.
With `--kill-worker-at S`, one worker is killed (SIGKILL, as a crash) S seconds into the first wave.
Each session that was on it notices at its next change (its websocket is closed), connects again
through the front, which sends it to a live worker, and opens the page at its address, as a reload
would (every control is in the link): that chart must be its own view (checked for cross-talk), and
the time from the kill to it is the session's recovery (budget 10 s, no view lost). Then it makes
its change again. The p95 of the changes sent 30 s and more after the kill must be back within the
budget. The supervisor restarts the killed worker; the sessions that moved stay where they are.

How the sessions are driven, and why. Each session is a client speaking Streamlit's own websocket
protocol (ws://127.0.0.1:PORT/_stcore/stream, binary `BackMsg` / `ForwardMsg` protobufs from the
installed `streamlit.proto`), doing what the browser's frontend does: it sends a `rerun_script`
carrying the widget states it has set (a widget's id comes from the element the server sent; the
server keeps every other widget's last value), then reads the deltas of that run until
`script_finished`. To the server this is a browser session; what it leaves out is the browser's own
work (decoding the race chart's data and drawing it on its canvases). That is deliberate: 30 Chromium
pages each drawing and playing the race on the same 2 cores as the server would measure Chromium
competing with the server, not what 30 students on 30 laptops see. The browser's share of the latency
is measured separately: `tests/e2e/test_lab_browser.py` times a key press to the redrawn chart (with
an idle server), and `--browser-probe` adds one real Chromium page as an extra session during the
load and reports its key-press-to-chart times beside the protocol clients'.

What a session does: opens the lab (default surface, a fresh session, like a new browser tab), sets
its own start point (y₀ unique to the session), Adam's and GD's learning rates and the step count,
then for `--seconds` keeps changing one of those controls (x₀, Adam's η, GD's η or the step count
within the default's compile bucket) after a think time of 1-4 s (uniform, `--think`: a student moving a
slider, then watching). Every setting a session makes is new, so no run is served from the shared
cache: the worst case for the server. A slider the race chart races (the learning rates, the steps)
goes as the browser sends it: it runs nothing itself (on_change="ignore"); the chart asks the race
route for the race with the new value (GET /optviz/race: its answer is the change's chart) and, the
slider at rest (0.6 s), sets its state to the value, which reruns the page's fragments (the run that
carries the slider's value). x₀ reruns the fragments at once, as the start's box does.

Measured:
- latency: from sending the control change to receiving the race chart's new element, or the race
  route's answer (the moment a browser would start drawing it); p50 and p95 over every change of
  every session.
- errors: failed connections, exceptions or error boxes in the page, runs that did not finish
  successfully, changes with no chart within 30 s, and tracebacks in the server's log.
- with `--exports N`: N more sessions, open before the load starts, click Make GIF 10-20 s into it
  (the even ones on the lecturer's view, the odd ones each on a view of its own) and follow the
  page as the browser does until the file is there, then download it. Reported: the time from the
  click to the download button (budget: all within 60 s), the control change -> chart times sent
  while GIFs were asked for and made (budget p95 <= 1.5 s), and the PSS of the server and the
  processes it started (its render process and browser) before and at peak (budget +1.5 GB).
- cross-talk: every chart a session received must show ITS settings: the signature of its settings
  (`optviz.lab.race_data.signature`), the start marker at its own start, its step count, and Adam's
  and GD's packed paths equal, bit for bit, to the lab's race (`optviz.lab.race`) with its settings,
  packed as the page packs it (checked after the load, so the checking costs no CPU during it).
- memory: the server's RSS (/proc/PID/status VmRSS) sampled every 0.25 s: at start; after one
  session has opened the lab, set every step count the class will use (each compiles a small program
  once per process, which costs memory once: not the sessions'), made its changes and closed; at peak;
  and 10 s after every session of the first wave has closed. What counts as a leak: memory that stays
  with sessions that have gone. The shared caches (`st.cache_data` / `st.cache_resource`: races,
  figures) legitimately keep results, bounded by `max_entries` (a cached race figure is ~0.9 MB of
  Python objects); and RSS is a high-water mark (emptying the caches returns nothing to the OS). So the
  budget compares the level after the wave with the one-session level, and a second wave of the same
  load (`--waves 2`, the default) tells a leak from a high-water mark: memory kept per session grows
  with every wave, full caches and allocator arenas do not. "Closed" means dropped by the server:
  Streamlit keeps a disconnected session for `server.disconnectedSessionTTL` (120 s by default) in
  case its browser reconnects, with its last messages (a race chart's data and code are ~80 KB). The
  server here keeps them `SESSION_TTL_S`, and its timer drops expired ones every
  `optviz.serving.TRIM_EVERY_S` and frees them at its next call (optviz/ui/dropped_sessions.py), all
  within `SETTLE_S`, so the levels are read after the sessions are gone, as they are two minutes later
  with the default.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import itertools
import json
import random
import re
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from abc import ABC, abstractmethod
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import cache, partial
from pathlib import Path

import numpy as np
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from bench._server import HOST, AppServer, ServedApp, tree_pss_mb
from optviz.serve.race_route import RACE_ROUTE
from optviz.serving import TRIM_EVERY_S

SESSIONS, SECONDS = 30, 60
MAX_SESSIONS = 300  # a lecture hall
FORMULA_SESSIONS = 100  # the formula mode's class
P95_BUDGET_S = 1.5  # a control change's, or a formula's, p95 to its chart
BUDGET_CPU_PER_CHANGE_MS = 15  # the server's CPU per control change (issue 15), printed, not judged here
MEMORY_TOLERANCE = 0.10
THINK_S = (1.0, 4.0)
FORMULA_THINK_S = (10.0, 30.0)  # typing a formula (or editing the last one), then watching its race
PILOT_S = 8.0  # how long the first session, alone, makes changes
CHART_TIMEOUT_S = 30.0
SESSION_TTL_S = 5  # how long the server keeps a disconnected session (the default is 120 s)
# After the last session closes, before reading the "after" memory: the sessions' time to live, the
# server's timer that drops them and, at its next call, collects what they held, and 5 s for the rest.
SETTLE_S = SESSION_TTL_S + 2 * TRIM_EVERY_S + 5.0
RACE_CHART = "race_chart"  # the race chart component's key (optviz.ui.lab.RACE_CHART_KEY)
TOKEN = re.compile(r'"token":\s*"([^"]*)"')  # in the race chart's data (JSON)
TUNE_SETTLE_S = 0.6  # a slider the chart races at rest this long: the page takes its value (race_chart.js)
FINISHED_SUCCESSFULLY, FINISHED_EARLY_FOR_RERUN, FRAGMENT_FINISHED = 0, 2, 3  # ScriptFinishedStatus
EXPORT_START_S, EXPORT_WITHIN_S = 10.0, 10.0  # the GIF sessions ask 10-20 s into the first wave
EXPORT_BUDGET_S, EXPORT_MEMORY_BUDGET_MB = 60.0, 1500.0
COOKIE = "optviz_worker"  # the front's stickiness cookie (optviz.serve.nginx.COOKIE)
KILLED_CPU = "; the killed worker's CPU is not counted"
RECOVERY_BUDGET_S = 10.0  # a killed worker's session: from the kill to its own chart again
SETTLED_S = 30.0  # ... and p95 back under the budget for the changes sent this long after the kill


@dataclass(frozen=True)
class Settings:
    """What a session has set (everything else stays at the lab's defaults)."""

    start: tuple[float, float]
    steps: int
    adam_lr: float
    gd_lr: float

    def race_config(self, surface: str):
        """The race the lab runs for these settings on `surface` (the class's), its default optimizers."""
        from optviz.lab.config import DEFAULT_OPTIMIZERS, RaceConfig

        hyperparams = {"adam": {"lr": self.adam_lr}, "gd": {"lr": self.gd_lr}}
        return RaceConfig.create(surface, DEFAULT_OPTIMIZERS, self.start, self.steps, hyperparams)


@dataclass(frozen=True)
class Formula:
    """What a session of the formula mode has set: the custom surface with this formula on the default
    window. Everything else is the formula's defaults, which the lab applies to every new surface."""

    text: str

    def race_config(self, surface: str):
        """The race the lab runs for this formula, its default optimizers (`surface`, the class's, is
        unused)."""
        from optviz.lab.config import DEFAULT_OPTIMIZERS, FORMULA_WINDOW, RaceConfig
        from surfaces import from_formula

        return RaceConfig.create(from_formula(self.text, FORMULA_WINDOW), DEFAULT_OPTIMIZERS)


@dataclass
class Chart:
    """What one received race chart shows: the settings it was computed for (their signature), the
    start marker, and the Adam and GD paths as packed for the chart."""

    signature: str
    start: tuple[float, float]
    paths: dict[str, dict]  # optimizer -> its packed path (optviz.lab.race_data.path_data)


@dataclass
class Sample:
    session: int
    settings: Settings | Formula
    latency_s: float
    run_s: float  # from the change to the end of the page's run (everything below the chart too)
    chart: Chart
    opening: bool = False  # the session's first change, right after it opened the lab (`Student.first`)
    sent_at: float = 0.0  # time.perf_counter() when the change was sent


@dataclass
class Report:
    sessions: int
    seconds: float
    waves: int = 1
    think_s: tuple[float, float] = THINK_S
    samples: list[Sample] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    cross_talk: list[str] = field(default_factory=list)
    memory: dict[str, float] = field(default_factory=dict)
    browser_latencies_s: list[float] = field(default_factory=list)
    load_average: tuple[float, float, float] = (0.0, 0.0, 0.0)
    server_cpu_s: float = 0.0  # CPU the server used while the sessions ran
    # The same once every session of a wave has opened the lab, to the end of its window, summed over
    # the waves, and the changes sent meanwhile (`steady_cpu`): what the class's changes cost.
    steady_cpu_s: float = 0.0
    steady_changes: int = 0
    runs: int = 0  # page runs the sessions asked for (opening the lab, and every change)
    route_answers: int = 0  # races the sessions asked of the race route (a slider the chart races)
    alone: list[Sample] = field(default_factory=list)  # the first session's changes, made alone
    formulas: bool = False  # the formula mode: its sessions enter formulas
    exports: int = 0  # sessions that ask for the page's GIF during the first wave
    export_waits_s: list[float] = field(default_factory=list)  # from "Make GIF" to the file in hand
    export_window: tuple[float, float] | None = None  # perf_counter: the first ask, the last file
    export_memory_mb: tuple[float, float] = (0.0, 0.0)  # the server and its processes: before, peak
    workers: int = 0  # served through the front with this many workers (0: one `streamlit run`)
    worker_of: dict[int, str] = field(default_factory=dict)  # session -> the worker it was sent to
    kill_at_s: float | None = None  # when, into the first wave, one worker is killed
    killed: tuple[str, float] | None = None  # the killed worker's address, perf_counter at the kill
    on_killed: set[int] = field(default_factory=set)  # the sessions on that worker at the kill
    recoveries: dict[int, float] = field(default_factory=dict)  # its session -> kill to own chart, s

    def during_exports(self) -> list[float]:
        """The control changes sent while GIFs were being asked for and made."""
        if self.export_window is None:
            return []
        start, end = self.export_window
        return [s.latency_s for s in self.samples if start <= s.sent_at <= end]

    @property
    def measured(self) -> list[Sample]:
        """The changes the budget counts: all of them, or in the formula mode the formulas (its sessions
        open the lab and pick the custom surface before the window)."""
        return [s for s in self.samples if not (self.formulas and s.opening)]

    @property
    def change(self) -> str:
        return "formula" if self.formulas else "control change"

    @property
    def steady_cpu_ms_per_change(self) -> float:
        return 1e3 * self.steady_cpu_s / max(1, self.steady_changes)

    @property
    def latencies(self) -> list[float]:
        return [s.latency_s for s in self.measured]

    def percentile(self, q: float, values: list[float] | None = None) -> float:
        values = self.latencies if values is None else values
        return float(np.percentile(values, q)) if values else float("nan")

    def growth(self, level: str) -> float:
        """Memory at `level` relative to the level after the first session, minus 1 (the worker that
        grew most, when served by several)."""
        return max(m / one - 1 for m, one in zip(self.memory[level], self.memory["one session"], strict=True))

    def megabytes(self, level: str) -> str:
        """The RSS at `level`, each worker's: "336 + 338"."""
        return " + ".join(f"{v:.0f}" for v in self.memory[level])

    def after_kill(self, low: float, high: float = float("inf")) -> list[float]:
        """The changes sent from `low` to `high` seconds after the kill."""
        killed_at = self.killed[1]
        return [s.latency_s for s in self.samples if low <= s.sent_at - killed_at < high and not s.opening]

    def broken_budgets(self) -> list[str]:
        broken = []
        if self.errors:
            broken.append(f"{len(self.errors)} errors (budget 0)")
        if self.cross_talk:
            broken.append(f"{len(self.cross_talk)} charts with another session's settings (budget 0)")
        idle = set(range(self.sessions)) - {s.session for s in self.measured}
        if idle:
            broken.append(f"{len(idle)} of {self.sessions} sessions without a measured {self.change}")
        if self.latencies and self.percentile(95) > P95_BUDGET_S:
            broken.append(f"p95 {self.percentile(95):.2f} s > {P95_BUDGET_S} s")
        if self.browser_latencies_s and self.percentile(95, self.browser_latencies_s) > P95_BUDGET_S:
            broken.append(f"browser probe p95 {self.percentile(95, self.browser_latencies_s):.2f} s > 1.5 s")
        if self.exports:
            waits = self.export_waits_s
            if len(waits) < self.exports or max(waits, default=0) > EXPORT_BUDGET_S:
                broken.append(f"{len(waits)} of {self.exports} GIFs within {EXPORT_BUDGET_S:g} s")
            during = self.during_exports()
            if during and self.percentile(95, during) > P95_BUDGET_S:
                broken.append(
                    f"p95 while GIFs were made {self.percentile(95, during):.2f} s > {P95_BUDGET_S} s"
                )
            added = self.export_memory_mb[1] - self.export_memory_mb[0]
            if added > EXPORT_MEMORY_BUDGET_MB:
                broken.append(f"GIFs added {added:.0f} MB (budget {EXPORT_MEMORY_BUDGET_MB:g} MB)")
        if self.kill_at_s is not None:
            broken += self._broken_recovery()
        if self.memory and self.growth("after") > MEMORY_TOLERANCE:
            broken.append(
                f"memory after all closed {self.growth('after'):+.0%} of the one-session level "
                f"(budget +{MEMORY_TOLERANCE:.0%})"
            )
        return broken

    def _broken_recovery(self) -> list[str]:
        if self.killed is None:
            return ["no worker was killed (the wave ended first)"]
        lost = self.on_killed - self.recoveries.keys()
        late = [t for t in self.recoveries.values() if t > RECOVERY_BUDGET_S]
        broken = []
        if lost or late:
            broken.append(
                f"{len(lost)} of {len(self.on_killed)} views lost after the kill, "
                f"{len(late)} back later than {RECOVERY_BUDGET_S:g} s"
            )
        settled = self.after_kill(SETTLED_S)
        if not settled:
            broken.append(f"no changes {SETTLED_S:g} s after the kill (make --seconds longer)")
        elif self.percentile(95, settled) > P95_BUDGET_S:
            broken.append(
                f"p95 {SETTLED_S:g} s after the kill {self.percentile(95, settled):.2f} s > {P95_BUDGET_S} s"
            )
        return broken

    def _recovery_lines(self) -> list[str]:
        if self.killed is None:
            return ["  killing a worker: the wave ended before the kill"]
        victims, times = self.on_killed, sorted(self.recoveries.values())
        during, settled = self.after_kill(0, SETTLED_S), self.after_kill(SETTLED_S)
        return [
            f"  worker {self.killed[0]} killed {self.kill_at_s:g} s into the first wave: {len(victims)} of "
            f"{self.sessions} sessions were on it; {len(times)} showed their own chart again (from the "
            f"live worker, opened from their link), median {self.percentile(50, times):.1f} s, slowest "
            f"{max(times, default=float('nan')):.1f} s after the kill (budget {RECOVERY_BUDGET_S:g} s, "
            f"0 lost; a session notices at its next change, after its think time)",
            f"    control change -> chart in the {SETTLED_S:g} s after the kill: p95 "
            f"{self.percentile(95, during):.3f} s ({len(during)} changes); later: p95 "
            f"{self.percentile(95, settled):.3f} s ({len(settled)} changes; budget {P95_BUDGET_S} s)",
        ]

    def text(self) -> str:
        lat = self.latencies
        per_session = [sum(s.session == i for s in self.measured) for i in range(self.sessions)]
        worst = max(lat, default=float("nan"))
        lines = [
            f"{'formula' if self.formulas else 'classroom'} load: {self.waves} x {self.sessions} concurrent "
            f"lab sessions x {self.seconds:.0f} s, think time {self.think_s[0]:g}-{self.think_s[1]:g} s, "
            + (
                f"through the front (optviz serve) with {self.workers} workers; "
                if self.workers
                else "one `streamlit run`; "
            )
            + "load average during the run "
            + " ".join(f"{v:.2f}" for v in self.load_average),
            f"  {self.change}s measured: {len(lat)} ({min(per_session, default=0)}-"
            f"{max(per_session, default=0)} per session over the waves, "
            f"{len(lat) / max(self.seconds * self.waves, 1e-9):.1f} per s)",
            f"  {self.change} -> {'its' if self.formulas else 'new'} chart: p50 {self.percentile(50):.3f} s, "
            f"p95 {self.percentile(95):.3f} s, max {worst:.3f} s (budget p95 <= {P95_BUDGET_S} s)",
        ]
        later = [s.latency_s for s in self.samples if not s.opening]
        openings = [s.latency_s for s in self.samples if s.opening]
        if self.formulas and openings:
            p50, p95 = self.percentile(50, openings), self.percentile(95, openings)
            lines.append(
                "    not counted: the class opening the lab and picking the custom surface before the "
                f"window, p50 {p50:.3f} s, p95 {p95:.3f} s"
            )
        elif later:
            lines.append(
                f"    of which after the opening burst (every session opens the lab at once): p50 "
                f"{self.percentile(50, later):.3f} s, p95 {self.percentile(95, later):.3f} s "
                f"({len(later)} changes)"
            )
        if self.alone:
            alone = [s.latency_s for s in self.alone]
            runs = [s.run_s for s in self.alone]
            lines.append(
                f"  one session alone, before the load: {self.change} -> chart p50 "
                f"{self.percentile(50, alone):.3f} s, whole page run p50 {self.percentile(50, runs):.3f} s"
            )
        if self.runs:
            per_run = self.server_cpu_s / self.runs
            gil = (
                f"each worker's Python runs under one GIL: at most ~{1 / per_run:.1f} runs per s per worker"
                if self.workers
                else f"its Python runs under one GIL: at most ~{1 / per_run:.1f} runs per s"
            )
            per_change = self.server_cpu_s / max(1, len(self.samples))
            lines.append(
                f"  server CPU: {self.server_cpu_s:.1f} s for {self.runs} page runs and {self.route_answers} "
                f"answers of the race route, {per_run * 1e3:.0f} ms per run ({gil}"
                f"{KILLED_CPU if self.killed else ''}); {per_change * 1e3:.0f} ms per change "
                f"({len(self.samples)} changes, the class opening the lab included)"
            )
            if self.steady_changes:
                over = self.steady_cpu_ms_per_change > BUDGET_CPU_PER_CHANGE_MS
                lines.append(
                    f"    once every session had opened the lab: {self.steady_cpu_ms_per_change:.1f} ms per "
                    f"change (budget {BUDGET_CPU_PER_CHANGE_MS} ms{', over it' if over else ''}; "
                    f"{self.steady_cpu_s:.1f} s for {self.steady_changes} changes)"
                )
        if self.browser_latencies_s:
            b = self.browser_latencies_s
            lines.append(
                f"  browser probe (key press -> chart drawn, {len(b)} changes): p50 "
                f"{self.percentile(50, b):.3f} s, p95 {self.percentile(95, b):.3f} s"
            )
        if self.exports:
            waits, during = sorted(self.export_waits_s), self.during_exports()
            before, peak = self.export_memory_mb
            lines += [
                f"  GIFs: {self.exports} more sessions click Make GIF within {EXPORT_WITHIN_S:g} s (half "
                f"of them the lecturer's view): {len(waits)} had their file, median "
                f"{self.percentile(50, waits):.1f} s, slowest {max(waits, default=float('nan')):.1f} s "
                f"(budget {EXPORT_BUDGET_S:g} s)",
                f"    control change -> new chart meanwhile: p50 {self.percentile(50, during):.3f} s, "
                f"p95 {self.percentile(95, during):.3f} s ({len(during)} changes; budget p95 <= "
                f"{P95_BUDGET_S} s)",
                f"    the server and its browser: {before:.0f} MB before, {peak:.0f} MB at peak "
                f"(+{peak - before:.0f} MB; budget +{EXPORT_MEMORY_BUDGET_MB:g} MB)",
            ]
        if self.kill_at_s is not None:
            lines += self._recovery_lines()
        lines.append(f"  errors: {len(self.errors)} (budget 0)")
        lines += [f"    {e}" for e in self.errors[:10]]
        lines.append(
            f"  cross-talk: {len(self.cross_talk)} of {len(self.samples) + len(self.alone)} charts not "
            f"matching their own session's {'formula' if self.formulas else 'settings'} (budget 0)"
        )
        lines += [f"    {e}" for e in self.cross_talk[:10]]
        if self.memory:
            m = {level: self.megabytes(level) for level in self.memory}
            lines.append(
                f"  server RSS{' per worker' if self.workers else ''}: start {m['start']} MB, after one "
                f"session {m['one session']} MB, peak {m['peak']} MB, {SETTLE_S:.0f} s after all closed "
                f"{m['after']} MB ({self.growth('after'):+.1%} of the one-session level"
                f"{', the worker that grew most' if self.workers > 1 else ''}; "
                f"budget +{MEMORY_TOLERANCE:.0%})"
            )
            for wave in range(2, self.waves + 1):
                level = f"after wave {wave}"
                growth = max(a / b - 1 for a, b in zip(self.memory[level], self.memory["after"], strict=True))
                lines.append(
                    f"    after wave {wave} of the same load: {m[level]} MB ({growth:+.1%} over after the "
                    "first wave: memory kept per session would grow with every wave)"
                )
        broken = self.broken_budgets()
        lines.append("  RESULT: " + ("every budget met" if not broken else "BROKEN: " + "; ".join(broken)))
        return "\n".join(lines)


# --- reading what the server sends ------------------------------------------------------------------


def read_chart(data: str) -> Chart:
    """The race chart component's data (JSON) as a `Chart`."""
    return read_race(json.loads(data)["race"])


def read_race(race: dict) -> Chart:
    """A race as packed for the chart (in its data, or the race route's answer) as a `Chart`."""
    paths = {p["name"]: p for p in race["paths"] if p["name"] in ("adam", "gd")}
    return Chart(race["signature"], (float(race["start"][0]), float(race["start"][1])), paths)


@dataclass
class RunResult:
    """One script run as seen by the client."""

    chart_at: float | None = None  # time.perf_counter() when the race chart arrived
    finished_at: float | None = None  # ... when the run finished
    chart_spec: str | None = None  # the race chart component's data (JSON)
    status: int | None = None
    problems: list[str] = field(default_factory=list)


class LabClient:
    """One browser-like session of the lab, over Streamlit's websocket protocol."""

    def __init__(self, url: str, cookie: str | None = None) -> None:
        self.url = url
        self.cookie = cookie  # through the front: the stickiness cookie this browser would have
        self.worker = ""  # through the front: the worker it was sent to (the front says)
        self.query_string = ""  # the page's address, as the server last set it (every control is in it)
        self.ws = None
        self.widgets: dict[str, object] = {}  # user key -> the widget's proto (id, options, ...)
        self.states: dict[str, BackMsg] = {}  # user key -> the WidgetState proto last sent
        self.shown: dict[str, BackMsg] = {}  # user key -> its value as shown (sent unless set here)
        self.runs = 0
        self.auto_rerun: tuple[float, str] | None = None  # a fragment's timer: (interval s, fragment id)
        self.fragments: dict[str, str] = {}  # user key -> the fragment its widget is in ("" if none)
        self.tuned_seq = 0  # the race chart's count of the values it sent (`settle`)
        self.route_answers = 0

    async def connect(self) -> None:
        ws_url = self.url.replace("http://", "ws://") + "/_stcore/stream"
        headers = {"Cookie": f"{COOKIE}={self.cookie}"} if self.cookie else None
        self.ws = await connect(
            ws_url, subprotocols=["streamlit"], max_size=None, open_timeout=30, additional_headers=headers
        )
        self.worker = self.ws.response.headers.get("X-Optviz-Worker", "")

    async def reopen(self) -> None:
        """The page's websocket closed (its worker died): connect again through the front, a new
        session there, which the next `rerun` opens at the page's address, as a reload would."""
        await self.close()
        self.states, self.shown = {}, {}
        self.auto_rerun = None
        await self.connect()

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()

    def set_double(self, key: str, value: float) -> None:
        self._state(key).double_value = value

    def set_string(self, key: str, value: str) -> None:
        """A text input's text, or a selectbox's choice (as the selectbox labels it)."""
        self._state(key).string_value = value

    def set_double_array(self, key: str, values: list[float]) -> None:
        state = self._state(key)
        del state.double_array_value.data[:]
        state.double_array_value.data.extend(values)

    def set_strings(self, key: str, values: list[str]) -> None:
        state = self._state(key)
        del state.string_array_value.data[:]
        state.string_array_value.data.extend(values)

    def _state(self, key: str):
        if key not in self.states:
            back = BackMsg()
            state = back.rerun_script.widget_states.widgets.add()
            state.id = self.widgets[key].id
            self.states[key] = state
        return self.states[key]

    async def click(self, key: str) -> tuple[float, RunResult]:
        """Press the button `key` (its trigger is sent once): the rerun of its fragment, or of the page."""
        self._state(key).trigger_value = True
        return await self.rerun(self.fragments.get(key, ""))

    async def rerun(self, fragment_id: str = "", *, timer: bool = False) -> tuple[float, RunResult]:
        """Send a rerun (of the fragment `fragment_id` if given; `timer`: as its timer asks) with the
        widget states set so far; read until the run finishes (a run ended early for a rerun is
        followed by that rerun)."""
        back = BackMsg()
        if fragment_id:
            back.rerun_script.fragment_id = fragment_id
            back.rerun_script.is_auto_rerun = timer
        back.rerun_script.query_string = self.query_string
        back.rerun_script.page_script_hash = ""
        back.rerun_script.context_info.url = self.url + "/"
        back.rerun_script.context_info.timezone = "UTC"
        for state in {**self.shown, **self.states}.values():
            back.rerun_script.widget_states.widgets.add().CopyFrom(state)
        sent_at = time.perf_counter()
        await self.ws.send(back.SerializeToString())
        self.runs += 1
        self.states = {key: state for key, state in self.states.items() if not state.trigger_value}
        result = RunResult()
        deadline = sent_at + CHART_TIMEOUT_S
        while result.status is None:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                result.problems.append(f"the run did not finish within {CHART_TIMEOUT_S:.0f} s")
                break
            data = await asyncio.wait_for(self.ws.recv(), remaining)
            received_at = time.perf_counter()
            msg = ForwardMsg()
            msg.ParseFromString(data)
            kind = msg.WhichOneof("type")
            if kind == "script_finished" and msg.script_finished != FINISHED_EARLY_FOR_RERUN:
                result.status, result.finished_at = msg.script_finished, received_at
            elif kind == "new_session" and not msg.metadata.run.fragment_ids:
                self.auto_rerun = None  # a page run: the browser drops every fragment's timer
            elif kind == "auto_rerun":
                self.auto_rerun = (msg.auto_rerun.interval, msg.auto_rerun.fragment_id)
            elif kind == "stop_auto_rerun":
                self.auto_rerun = None
            elif kind == "page_info_changed":
                self.query_string = msg.page_info_changed.query_string
            elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                key = self._read_element(msg.delta.new_element, received_at, result)
                if key is not None:
                    self.fragments[key] = msg.delta.fragment_id
            elif kind == "delta" and msg.delta.WhichOneof("type") == "add_block":
                self._read_block(msg.delta.add_block)
        if result.status not in (None, FINISHED_SUCCESSFULLY, FRAGMENT_FINISHED):
            result.problems.append(f"script finished with status {result.status}")
        return sent_at, result

    async def ask_route(self, token: str, start: tuple[float, float], values: dict[str, float]):
        """What the race chart does as a slider it races moves: GET the server's race route for the
        race from `start` with `values` set (named as in a link). Returns (sent_at, answered_at, the
        race, or None when the route did not answer it: the chart then asks through the page)."""
        query = urllib.parse.urlencode({"token": token, "x": start[0], "y": start[1], **values})
        request = urllib.request.Request(f"{self.url}{RACE_ROUTE}?{query}")
        if self.cookie:  # through the front: to this browser's worker, which knows the token
            request.add_header("Cookie", f"{COOKIE}={self.cookie}")

        def fetch():
            try:
                with urllib.request.urlopen(request, timeout=CHART_TIMEOUT_S) as response:
                    return json.loads(response.read())
            except OSError:  # a status other than 200 (an unknown token), or the network
                return None

        sent_at = time.perf_counter()
        race = await asyncio.to_thread(fetch)
        self.route_answers += race is not None
        return sent_at, time.perf_counter(), race

    async def settle(self, values: dict[str, float]) -> tuple[float, RunResult]:
        """What the race chart does once the sliders it raced rest: set its state to their values
        (the sliders' own values go with the run, as Streamlit's frontend sends them), which reruns
        the page's fragments."""
        self.tuned_seq += 1
        self._state(RACE_CHART).json_value = json.dumps({"tuned": {"values": values, "seq": self.tuned_seq}})
        return await self.rerun(self.fragments.get(RACE_CHART, ""))

    async def download(self, key: str) -> bytes:
        """The file of the download button `key`, fetched from its address as the browser does."""
        url = self.widgets[key].url
        address = url if url.startswith("http") else self.url + url
        return await asyncio.to_thread(lambda: urllib.request.urlopen(address, timeout=30).read())

    def _read_block(self, block) -> None:
        """Note an expander that is a widget (its open state is in the session, like a slider's)."""
        if block.WhichOneof("type") == "expandable" and block.expandable.id.startswith("$$ID-"):
            self.widgets[block.expandable.id.split("-", 2)[2]] = block.expandable

    def set_bool(self, key: str, value: bool) -> None:
        """A toggle's state, or whether an expander is open."""
        self._state(key).bool_value = value

    def _read_element(self, element, received_at: float, result: RunResult) -> str | None:
        """Note what a page element says; the widget's key if it is one of ours."""
        kind = element.WhichOneof("type")
        if kind is None:
            return None
        if kind == "exception":
            result.problems.append(f"exception in the page: {element.exception.message}")
        elif kind == "alert" and element.alert.format == 1:  # Alert.ERROR
            result.problems.append(f"error box in the page: {element.alert.body}")
        widget = getattr(element, kind)
        widget_id = getattr(widget, "id", "")
        if widget_id.startswith("$$ID-"):
            key = widget_id.split("-", 2)[2]
            self.widgets[key] = widget
            # As a browser: every widget it shows goes back with each rerun, holding the value it
            # was first drawn with, or the one the server set since.
            if key not in self.shown or getattr(widget, "set_value", False):
                shown = BackMsg().rerun_script.widget_states.widgets.add()
                shown.id = widget_id
                if _as_shown(widget, shown):
                    self.shown[key] = shown
            if key in self.shown:
                self.shown[key].id = widget_id
            if key in self.states and self.states[key].id != widget_id:  # its parameters changed
                self.states[key].id = widget_id
            if key == RACE_CHART and result.chart_at is None:
                result.chart_at, result.chart_spec = received_at, widget.bytes.decode() or widget.json
            return key
        return None


def _as_shown(widget, state) -> bool:
    """Fill `state` with the value a browser shows for `widget`: the one the server set (when it
    did), else its default; as the labels the widget shows. False for a kind it does not know
    (left out of the reruns, as before)."""
    kind, server = type(widget).DESCRIPTOR.name, getattr(widget, "set_value", False)
    if kind == "Selectbox":
        state.string_value = widget.raw_value if server else widget.options[widget.default]
    elif kind == "MultiSelect":
        state.string_array_value.data.extend(
            widget.raw_values if server else [widget.options[i] for i in widget.default]
        )
    elif kind == "ButtonGroup":
        state.string_array_value.data.extend(
            widget.raw_values if server else [widget.options[i].content for i in widget.default]
        )
    elif kind == "Slider" and widget.options:  # a select_slider: the labels of its stops
        state.string_array_value.data.extend(
            widget.raw_value if server else [widget.options[int(i)] for i in widget.default]
        )
    elif kind == "Slider":
        state.double_array_value.data.extend(widget.value if server else widget.default)
    elif kind == "Checkbox":
        state.bool_value = widget.value if server else widget.default
    elif kind == "NumberInput":
        state.double_value = widget.value if server else widget.default
    else:
        return False
    return True


# --- one student --------------------------------------------------------------------------------------


class Student(ABC):
    """One student's browser-like session: it opens the lab and makes it its own (`first`), then makes
    one change (`next`) after every think time until the window closes. The subclasses say what a
    change is. A failure (a failed connection, a protocol error) is an error of the report, not a
    crash, and ends the session's part."""

    def __init__(
        self, index: int, n: int, url: str, report: Report, rng: random.Random, cookie: str | None = None
    ) -> None:
        self.index, self.n, self.report, self.rng = index, n, report, rng
        if cookie is None and report.workers:
            cookie = f"{rng.getrandbits(128):032x}"  # what the front gives a new browser: a random id
        self.client = LabClient(url, cookie)
        self.shown: Settings | Formula | None = None  # what its last chart showed
        self.failed = False
        self.raced: dict[str, float] | None = None  # the change `next` set, if the race chart races it
        self.token = ""  # what the race chart asks the race route with (from its last data)

    @abstractmethod
    def first(self) -> tuple[Settings | Formula, str]:
        """Set what makes the opened lab this session's own; returns it and what it was."""

    @abstractmethod
    def next(self) -> tuple[Settings | Formula, str]:
        """Set one new thing; returns the session's settings with it and what it was."""

    async def prepare(self) -> None:  # noqa: B027 (a hook: most students open nothing first)
        """Whatever the session opens before its first change (nothing, unless the subclass says)."""

    def warm_up(self) -> Iterator[tuple[Settings | Formula, str]]:
        """Changes that compile, once per process, what the class will use (made by the first
        session, alone): each is set when the iterator yields it."""
        return iter(())

    async def open(self, warm_up: bool = False) -> None:
        """Connect, open the lab (a new tab: the lab with its defaults) and make it this session's own;
        with `warm_up`, then make the `warm_up` changes."""
        await self._attempt(self._open, warm_up)

    async def work(self, until: float) -> None:
        """After each think time, one change, until `until`."""
        await self._attempt(self._work, until)

    async def leave(self) -> None:
        await self.client.close()
        self.report.runs += self.client.runs
        self.report.route_answers += self.client.route_answers

    async def _open(self, warm_up: bool) -> None:
        await self.client.connect()
        self.report.worker_of[self.index] = self.client.worker
        _, opened = await self.client.rerun()
        for problem in opened.problems:
            self.report.errors.append(f"session {self.index}, opening the lab: {problem}")
        await self.prepare()
        await self._measure(*self.first(), opening=True)
        for settings, what in self.warm_up() if warm_up else ():
            await self._measure(settings, what)

    async def _work(self, until: float) -> None:
        while time.monotonic() < until:
            await asyncio.sleep(min(self.rng.uniform(*self.report.think_s), until - time.monotonic()))
            if time.monotonic() >= until:
                break
            await self._measure(*self.next())

    async def _attempt(self, step, *args) -> None:
        """`step(*args)`, unless an earlier step of this session failed."""
        if self.failed:
            return
        try:
            await step(*args)
        except Exception as error:
            self.failed = True
            self.report.errors.append(f"session {self.index}: {type(error).__name__}: {error}")

    async def _measure(self, settings: Settings | Formula, what: str, opening: bool = False) -> None:
        """Send the change just set; a sample of its chart, or the errors of its run. A slider the
        race chart races (`raced`) goes as the browser sends it (`_race_in_browser`), through the
        page at once if the route cannot answer."""
        raced, self.raced = self.raced, None
        if raced and self.token and await self._race_in_browser(settings, what, raced):
            return
        report, index = self.report, self.index
        try:
            sent_at, result = await self._send(raced)
        except (ConnectionClosed, ConnectionError):
            if report.killed is None or report.worker_of.get(index) != report.killed[0]:
                raise
            await self._recover()
            sent_at, result = await self._send(raced)  # the change again, on the live worker
        self._take(settings, what, sent_at, result, opening)

    async def _send(self, raced: dict[str, float] | None) -> tuple[float, RunResult]:
        """The run of the change set: the page's, or (a slider the chart races) the one the chart's
        state asks for."""
        return await (self.client.settle(raced) if raced else self.client.rerun())

    async def _race_in_browser(self, settings: Settings, what: str, raced: dict[str, float]) -> bool:
        """As the race chart does when a slider it races moves (on_change="ignore": no run): ask the
        race route (its answer is the new chart: the sample), then, the slider at rest, send the
        values, whose run takes them. False if the route did not answer, or the page's websocket
        closed before that run (the caller sends the change through the page)."""
        sent_at, answered_at, race = await self.client.ask_route(self.token, settings.start, raced)
        if race is None:
            return False
        try:
            chart = read_race(race)
        except (KeyError, TypeError, ValueError) as error:
            self.report.errors.append(
                f"session {self.index}, {what}: unreadable race route answer ({error!r})"
            )
            return True
        latency = answered_at - sent_at
        self.report.samples.append(Sample(self.index, settings, latency, latency, chart, False, sent_at))
        await asyncio.sleep(TUNE_SETTLE_S)
        try:
            _, result = await self.client.settle(raced)
        except (ConnectionClosed, ConnectionError):
            return False  # the page never took the value: a reload shows it without (`shown`)
        for problem in result.problems:
            self.report.errors.append(f"session {self.index}, {what} (at rest): {problem}")
        self.shown = settings
        self._read_token(result)
        return True

    def _take(
        self, settings: Settings | Formula, what: str, sent_at: float, result: RunResult, opening: bool
    ):
        """A sample of the run's chart, or the run's errors."""
        report, index = self.report, self.index
        for problem in result.problems:
            report.errors.append(f"session {index}, {what}: {problem}")
        if result.chart_at is None:
            if not result.problems:
                report.errors.append(f"session {index}, {what}: no race chart in the run")
            return
        try:
            chart = read_chart(result.chart_spec)
        except (KeyError, ValueError) as error:
            report.errors.append(f"session {index}, {what}: unreadable chart ({error!r})")
            return
        run_s = (result.finished_at or result.chart_at) - sent_at
        report.samples.append(
            Sample(index, settings, result.chart_at - sent_at, run_s, chart, opening, sent_at)
        )
        self.shown = settings
        self._read_token(result)

    def _read_token(self, result: RunResult) -> None:
        """The race route's token in the run's race chart data, if the run sent the chart."""
        found = result.chart_spec and TOKEN.search(result.chart_spec)
        if found:
            self.token = found.group(1)

    async def _recover(self) -> None:
        """Its worker was killed: reconnect through the front and open the page at its address (as the
        browser's reconnection and a reload do). The chart must be the view it showed, before the change
        it was making (a sample, checked for cross-talk); the time from the kill is its recovery."""
        report, change = self.report, self.client.states
        await self.client.reopen()
        sent_at, result = await self.client.rerun()
        problems = result.problems or ([] if result.chart_at else ["no race chart"])
        for problem in problems:
            report.errors.append(f"session {self.index}, reopening after the kill: {problem}")
        if not problems:
            chart = read_chart(result.chart_spec)
            if self.shown is not None:  # (killed before its own first chart: nothing of its own to show)
                report.samples.append(
                    Sample(self.index, self.shown, result.chart_at - sent_at, 0.0, chart, True, sent_at)
                )
            report.recoveries[self.index] = result.chart_at - report.killed[1]
        self.client.states = change


def _lr_options(client: LabClient, key: str, low: float, high: float) -> list[str]:
    """A learning-rate slider's stops within [low, high] (as the slider labels them)."""
    options = list(client.widgets[key].options)
    return [o for o in options if low <= float(o) <= high]


class ControlStudent(Student):
    """A student moving sliders: its own start (y₀ unique to the session, never changed), Adam's and
    GD's learning rates and the step count, then one of x₀, Adam's η, GD's η or the step count (within
    the default's compile bucket) at a time. Every setting is new, so no run is served from the cache."""

    STEPS = range(310, 501, 10)  # the default's compile bucket (300, 500]

    async def prepare(self) -> None:
        """Open Adam's and GD's expanders, as a student does to reach their sliders (a closed
        expander draws none)."""
        for optimizer in ("adam", "gd"):
            self.client.set_bool(f"tune_{optimizer}", True)
        _, opened = await self.client.rerun()
        for problem in opened.problems:
            self.report.errors.append(f"session {self.index}, opening the expanders: {problem}")

    def first(self) -> tuple[Settings, str]:
        from optviz.lab.config import START_DECIMALS  # JAX: not imported before the load needs it

        client, rng = self.client, self.rng
        self.adam_options = _lr_options(client, "hp_adam_lr", 1e-3, 0.5)
        self.gd_options = _lr_options(client, "hp_gd_lr", 1e-5, 1e-3)
        self.x_bounds = client.widgets["start_x"].min, client.widgets["start_x"].max
        y0, y1 = client.widgets["start_y"].min, client.widgets["start_y"].max
        # y0 is this session's alone: (index + 1/2) / n of the way up the window (at most 300 sessions:
        # 0.3 % of it apart, more than the start's decimals tell apart on every surface).
        start_y = round(y0 + (y1 - y0) * (0.05 + 0.9 * (self.index + 0.5) / self.n), START_DECIMALS)
        start, steps = (self._new_x(), start_y), rng.choice(self.STEPS)
        adam, gd = rng.choice(self.adam_options), rng.choice(self.gd_options)
        self.settings = Settings(start, steps, float(adam), float(gd))
        client.set_double("start_x", start[0])
        client.set_double("start_y", start[1])
        client.set_double_array("steps", [float(steps)])
        client.set_strings("hp_adam_lr", [adam])
        client.set_strings("hp_gd_lr", [gd])
        return self.settings, "its own settings"

    def warm_up(self) -> Iterator[tuple[Settings, str]]:
        """Every step count the class uses, one after the other (each compiles a small program)."""
        for steps in self.STEPS:
            self._set_steps(steps)
            yield self.settings, f"steps {steps}"

    def next(self) -> tuple[Settings, str]:
        client, rng, s = self.client, self.rng, self.settings
        what = rng.choice(["x0", "adam", "gd", "steps"])
        if what == "x0":
            self.settings = replace(s, start=(self._new_x(), s.start[1]))
            client.set_double("start_x", self.settings.start[0])
        elif what == "adam":
            adam = rng.choice([o for o in self.adam_options if float(o) != s.adam_lr])
            self.settings = replace(s, adam_lr=float(adam))
            client.set_strings("hp_adam_lr", [adam])
            self.raced = {"hp_adam_lr": float(adam)}
        elif what == "gd":
            gd = rng.choice([o for o in self.gd_options if float(o) != s.gd_lr])
            self.settings = replace(s, gd_lr=float(gd))
            client.set_strings("hp_gd_lr", [gd])
            self.raced = {"hp_gd_lr": float(gd)}
        else:
            self._set_steps(rng.choice([n for n in self.STEPS if n != s.steps]))
            self.raced = {"steps": float(self.settings.steps)}
        return self.settings, f"changing {what}"

    def _new_x(self) -> float:
        from optviz.lab.config import START_DECIMALS

        low, high = self.x_bounds
        return round(low + (high - low) * self.rng.uniform(0.05, 0.95), START_DECIMALS)

    def _set_steps(self, steps: int) -> None:
        self.settings = replace(self.settings, steps=steps)
        self.client.set_double_array("steps", [float(steps)])


class FormulaStudent(Student):
    """A student trying formulas of its own: it picks the custom surface (which shows the lab's
    example formula), then each time types a new formula into "f(x, y) =" and submits it. The
    formulas come from one iterator shared by the class (`distinct_formulas`), so no two are alike."""

    def __init__(self, *args, formulas: Iterator[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.formulas = formulas

    def first(self) -> tuple[Formula, str]:
        from optviz.lab.config import EXAMPLE_FORMULA

        # The selector lists the built-in surfaces, then "Your own f(x, y)" (optviz.lab.config.CUSTOM).
        self.client.set_string("surface", self.client.widgets["surface"].options[-1])
        return Formula(EXAMPLE_FORMULA), "picking the custom surface"

    def warm_up(self) -> Iterator[tuple[Formula, str]]:
        """One formula of its own at once (the example's race has compiled the programs every formula
        shares; this makes sure a typed one has run before the class)."""
        yield self.next()

    def next(self) -> tuple[Formula, str]:
        text = next(self.formulas)
        self.client.set_string("formula", text)
        return Formula(text), f"entering {text}"


def distinct_formulas() -> Iterator[str]:
    """Formulas a class might type, each one new: bench.formula's templates with numbers of their own."""
    from bench.formula import formulas

    return (formulas(1, offset=k)[0] for k in itertools.count())


async def _wave(students: list[Student], seconds: float, seated: bool, warm_up: bool = False, also=None):
    """The students work for `seconds`, then leave. `seated`: they all open the lab first, and the
    window starts once every one has (the formula mode); otherwise each opens it inside the window and
    starts working at once, so the opening burst is part of the load. `also(until)`: one more task
    for the window (the browser probe)."""

    async def attend(student: Student, until: float) -> None:
        if not seated:
            await student.open(warm_up)
        await student.work(until)

    try:
        if seated:
            await asyncio.gather(*(s.open(warm_up) for s in students))
        until = time.monotonic() + seconds
        await asyncio.gather(*(attend(s, until) for s in students), *([also(until)] if also else []))
    finally:
        await asyncio.gather(*(s.leave() for s in students))


# --- a student who asks for the GIF ------------------------------------------------------------------


async def gif_student(
    index: int, url: str, start_x: float | None, opened: asyncio.Queue, ask_at: asyncio.Future, report: Report
) -> None:
    """Open the lab (a view of its own if `start_x`, else the lecturer's: the defaults) and say so on
    `opened`; once `ask_at` has a time (time.monotonic()), wait for it, click Make GIF, follow the
    page as the browser does (the section's timer reruns it until the file is there) and download
    the GIF (its click reruns the section, which stops the timer). Its wait is from the click to the
    download button."""
    client = LabClient(url)
    try:
        await client.connect()
        _, opening = await client.rerun()
        if start_x is not None:
            client.set_double("start_x", start_x)
            _, opening = await client.rerun()
        report.errors += [f"GIF session {index}, opening the lab: {p}" for p in opening.problems]
        opened.put_nowait(index)
        await asyncio.sleep(max(await ask_at - time.monotonic(), 0))
        asked = time.perf_counter()
        _, result = await client.click("make_gif")
        while "download_gif" not in client.widgets:  # the section's timer, until the file is there
            report.errors += [f"GIF session {index}: {p}" for p in result.problems]
            if client.auto_rerun is None or time.perf_counter() - asked > 2 * EXPORT_BUDGET_S:
                report.errors.append(f"GIF session {index}: no file and no progress shown")
                return
            interval, fragment = client.auto_rerun
            await asyncio.sleep(interval)
            _, result = await client.rerun(fragment, timer=True)
        ready = time.perf_counter()
        gif = await client.download("download_gif")
        _, result = await client.click("download_gif")  # as the browser reports the click
        report.errors += [f"GIF session {index}, downloading: {p}" for p in result.problems]
        if client.auto_rerun is not None:
            report.errors.append(f"GIF session {index}: the section still looks again after the download")
        if not gif.startswith(b"GIF89a"):
            report.errors.append(f"GIF session {index}: the download is not a GIF ({gif[:16]!r})")
            return
        report.export_waits_s.append(ready - asked)
        start, end = report.export_window or (asked, ready)
        report.export_window = (min(start, asked), max(end, ready))
    except Exception as error:  # a failed connection or protocol error is an error, not a crash
        report.errors.append(f"GIF session {index}: {type(error).__name__}: {error}")
    finally:
        opened.put_nowait(index)  # (again, if it failed before: no one waits for it in vain)
        await client.close()


class GifClass:
    """`report.exports` more sessions that have the lab open (opened before the load starts, as a
    class has it open before the lecturer says "download the GIF") and ask for the GIF within
    EXPORT_WITHIN_S from EXPORT_START_S after `ask(wave_start)`; the even ones for the lecturer's
    view, the odd ones each for a view of its own. Samples the memory of the server and the
    processes it started meanwhile."""

    def __init__(self, server: AppServer, report: Report, rng: random.Random) -> None:
        self.server, self.report, self.rng = server, report, rng
        self.opened: asyncio.Queue = asyncio.Queue()
        self.asks = [asyncio.get_running_loop().create_future() for _ in range(report.exports)]
        self.tasks = [
            asyncio.create_task(
                gif_student(
                    i, server.url, None if i % 2 == 0 else rng.uniform(-4, 4), self.opened, ask, report
                )
            )
            for i, ask in enumerate(self.asks)
        ]

    async def wait_opened(self) -> None:
        for _ in self.tasks:
            await self.opened.get()

    async def ask(self, wave_start: float) -> None:
        start = wave_start + EXPORT_START_S
        for ask in self.asks:
            ask.set_result(start + self.rng.uniform(0, EXPORT_WITHIN_S))
        await asyncio.sleep(max(start - time.monotonic(), 0))
        before = peak = await asyncio.to_thread(tree_pss_mb, self.server.pid)
        while not all(task.done() for task in self.tasks):
            peak = max(peak, await asyncio.to_thread(tree_pss_mb, self.server.pid))
            await asyncio.sleep(0.25)
        self.report.export_memory_mb = (before, peak)


# --- cross-talk: every chart shows its own session's settings --------------------------------------


def check_cross_talk(report: Report, surface: str) -> None:
    """Compare every received chart with the race the lab computes for its session's settings (on the
    class's `surface`) or formula: the start marker, the step count, Adam's and GD's paths.

    The comparison is exact: the same compiled program on the same machine gives the same bits, and
    the same packing (float32, optviz.lab.race_data) gives the same text. (An optimizer run alone,
    `optviz.simulate`, is a different program: on Rosenbrock, Adam at a large learning rate amplifies
    its last-bit differences to 1e-7 after a few hundred steps, which is rounding, not another
    session's chart.)
    """
    from optviz.lab.race import race  # only now: JAX in this process would otherwise compete with the server
    from optviz.lab.race_data import path_data, signature
    from optviz.warmup import enable_compilation_cache

    enable_compilation_cache()  # the programs the server compiled, loaded rather than compiled again

    @cache
    def expected(settings: Settings | Formula) -> tuple:
        config = settings.race_config(surface)
        return config, race(config)

    for sample in [*report.alone, *report.samples]:
        s, chart = sample.settings, sample.chart
        try:
            config, runs = expected(s)
        except ValueError as problem:  # a formula that makes no surface: the page showed another one
            report.cross_talk.append(f"session {sample.session}: no race of its own for {s} ({problem})")
            continue
        problems = []
        if chart.signature != signature(config.key):
            problems.append(f"computed for settings {chart.signature}, not its own {signature(config.key)}")
        if chart.start != config.start:
            problems.append(f"start marker at {chart.start}, not its start {config.start}")
        for name, optimizer in (("Adam", "adam"), ("Gradient descent", "gd")):
            want = runs[optimizer]
            if optimizer not in chart.paths:
                problems.append(f"no {name} path")
                continue
            got = base64.b64decode(chart.paths[optimizer]["xy"])
            if len(got) != 8 * len(want.xy):  # a (x, y) pair of float32 per point
                problems.append(f"{name}: {len(got) // 8 - 1} steps, not its {config.steps}")
            elif chart.paths[optimizer]["xy"] != path_data(config.surface, want)["xy"]:
                problems.append(f"{name}: the path is not the one of its own settings {s}")
        if problems:
            report.cross_talk.append(f"session {sample.session}: " + "; ".join(problems))


# --- the whole test -----------------------------------------------------------------------------------


async def _sample_server(
    server: AppServer | ServedApp,
    samples: list[list[float]],
    cpu: list[tuple[float, float]],
    stop: asyncio.Event,
) -> None:
    """Every 0.25 s until `stop`: each worker's RSS into `samples`, (time.perf_counter(), the server's
    CPU seconds) into `cpu`."""
    while not stop.is_set():
        samples.append(server.rss_by_worker())
        cpu.append((time.perf_counter(), server.cpu_s()))
        try:
            await asyncio.wait_for(stop.wait(), 0.25)
        except TimeoutError:
            pass


def steady_cpu(report: Report, cpu: list[tuple[float, float]], wave_start: float, window_end: float) -> None:
    """Add to `report` the server's CPU from the moment the wave's last session had opened the lab (its
    first chart: every session opens it at once, a burst of whole-page runs) to `window_end`, and the
    changes sent in between. `cpu`: `_sample_server`'s samples, read at the nearest sample (0.25 s)."""
    opened = [s.sent_at + s.latency_s for s in report.samples if s.opening and s.sent_at >= wave_start]
    if not opened or not cpu:
        return
    begin = max(opened)
    if begin >= window_end:
        return
    at = lambda moment: min(cpu, key=lambda sample: abs(sample[0] - moment))  # noqa: E731
    (t0, cpu0), (t1, cpu1) = at(begin), at(window_end)
    report.steady_cpu_s += cpu1 - cpu0
    report.steady_changes += sum(1 for s in report.samples if t0 <= s.sent_at < t1 and not s.opening)


def _peak(samples: list[list[float]]) -> list[float]:
    """Each worker's highest sampled RSS."""
    return [max(values) for values in zip(*samples, strict=True)]


async def _load(
    server: AppServer | ServedApp,
    sessions: int,
    seconds: float,
    waves: int,
    report: Report,
    seed: int,
    probe,
    memory_levels: bool,
):
    # Without `memory_levels`, no memory is read and nothing waits for sessions to go (SETTLE_S).
    settle = partial(asyncio.sleep, SETTLE_S if memory_levels else 0)
    levels = report.memory if memory_levels else {}
    memory: list[list[float]] = []
    stop = asyncio.Event()
    cpu: list[tuple[float, float]] = []
    sampler = asyncio.create_task(_sample_server(server, memory, cpu, stop))
    levels["start"] = server.rss_by_worker()
    student = partial(FormulaStudent, formulas=distinct_formulas()) if report.formulas else ControlStudent
    # One session first, alone (one per worker, one worker after the other): it opens the lab, warms up
    # (every step count the class will use, or a formula: each compiles a small program once per
    # process, and compiling costs memory once too), makes a few changes and closes: the one-session level.
    pilot = Report(1, 0, think_s=report.think_s, formulas=report.formulas, workers=report.workers)
    cookies = await asyncio.to_thread(_a_cookie_for_each_worker, server) if report.workers else [None]
    for cookie in cookies:
        first = student(sessions, sessions + 1, server.url, pilot, random.Random(seed - 1), cookie=cookie)
        await _wave([first], PILOT_S, seated=False, warm_up=True)
    report.errors += [f"(first session) {e}" for e in pilot.errors]
    report.alone = pilot.measured
    await settle()
    levels["one session"] = server.rss_by_worker()

    gifs = None
    if report.exports:
        gifs = GifClass(server, report, random.Random(seed + 7))
        await gifs.wait_opened()
    load_before, cpu_before = _load_average(), server.cpu_s()
    for wave in range(waves):
        students = [
            student(i, sessions, server.url, report, random.Random(seed * 1000 + wave * 100 + i))
            for i in range(sessions)
        ]
        extra = []
        if probe is not None and wave == 0:
            extra.append(partial(asyncio.to_thread, probe, server.url, report=report))
        if gifs is not None and wave == 0:
            extra.append(lambda until: gifs.ask(until - seconds))
        if report.kill_at_s is not None and wave == 0:
            extra.append(partial(_kill_a_worker, server, report, seconds))
        also = partial(_together, extra) if extra else None
        wave_start = time.perf_counter()
        await _wave(students, seconds, seated=report.formulas, also=also)
        if not report.formulas:  # (seated, a formula class opens before its window)
            steady_cpu(report, cpu, wave_start, wave_start + seconds)
        if wave == 0:
            levels["peak"] = _peak(memory)
        await settle()
        levels["after" if wave == 0 else f"after wave {wave + 1}"] = server.rss_by_worker()
    if probe is not None:
        report.runs += len(report.browser_latencies_s) + 1  # its changes, and opening the lab
    report.server_cpu_s = server.cpu_s() - cpu_before
    report.load_average = tuple(max(a, b) for a, b in zip(load_before, _load_average(), strict=True))
    if memory_levels:
        report.memory["peak"] = _peak([report.memory["peak"], *memory])
    stop.set()
    await sampler


def _a_cookie_for_each_worker(server: ServedApp) -> list[str]:
    """A stickiness cookie that the front sends to each worker (random ids, each asked of the front)."""
    rng, found = random.Random(1), {}
    while len(found) < len(server.addresses()):
        cookie = f"{rng.getrandbits(128):032x}"
        request = urllib.request.Request(
            server.url + "/_stcore/health", headers={"Cookie": f"{COOKIE}={cookie}"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            found.setdefault(response.headers["X-Optviz-Worker"], cookie)
    return [found[address] for address in sorted(found)]


async def _kill_a_worker(server: ServedApp, report: Report, seconds: float, until: float) -> None:
    """`report.kill_at_s` into the wave (which ends at `until`), SIGKILL the first worker, as a crash."""
    await asyncio.sleep(max(until - seconds + report.kill_at_s - time.monotonic(), 0))
    if time.monotonic() >= until:
        return
    address = server.addresses()[0]
    report.killed = (address, time.perf_counter())
    # Who was on it now: a later wave's sessions are sent to the worker that replaces it.
    report.on_killed = {index for index, worker in report.worker_of.items() if worker == address}
    server.kill_worker(address)


async def _together(tasks, until: float) -> None:
    """Each of `tasks(until)` at once (what `_wave` runs beside the students)."""
    await asyncio.gather(*(task(until) for task in tasks))


def _load_average() -> tuple[float, float, float]:
    try:
        return tuple(float(v) for v in Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return (0.0, 0.0, 0.0)


def run(
    sessions: int = SESSIONS,
    seconds: float = SECONDS,
    waves: int = 2,
    think_s: tuple[float, float] | None = None,
    seed: int = 0,
    browser_probe: bool = False,
    formulas: bool = False,
    exports: int = 0,
    workers: int = 0,
    kill_at_s: float | None = None,
    memory: bool = True,
) -> Report:
    """Start the app, run the load (`waves` times, one after the other), stop the app, check the charts.
    `formulas`: the formula mode; `think_s` defaults to the mode's think time. `exports` more sessions
    ask for GIFs during the first wave. `workers`: serve the app with `python -m optviz serve --workers
    N` and measure through its front (0: one `streamlit run`); `kill_at_s`: kill one of them then.
    `memory`: read the memory levels, each once the sessions before it have gone (SETTLE_S); a test
    that does not judge memory goes without them, and without the waits."""
    from surfaces import SURFACES

    surface = next(iter(SURFACES))  # the lab's default surface (the first of its list)
    think_s = think_s or (FORMULA_THINK_S if formulas else THINK_S)
    report = Report(
        sessions,
        seconds,
        waves,
        think_s,
        formulas=formulas,
        exports=exports,
        workers=workers,
        kill_at_s=kill_at_s,
    )
    probe = None
    if browser_probe:
        from bench._browser_probe import probe
    with tempfile.TemporaryDirectory(prefix="optviz-load-") as tmp:
        if workers:
            env = {"STREAMLIT_SERVER_DISCONNECTED_SESSION_TTL": str(SESSION_TTL_S)}
            server = ServedApp(Path(tmp) / "server.log", workers, env=env)
        else:
            server = AppServer(
                Path(tmp) / "server.log", args=("--server.disconnectedSessionTTL", str(SESSION_TTL_S))
            )
        with server:
            # In a thread of its own: the caller's thread may run an event loop already (Playwright's
            # sync API does, under pytest's browser fixtures), and asyncio.run refuses to nest.
            with ThreadPoolExecutor(1) as worker:
                worker.submit(
                    asyncio.run, _load(server, sessions, seconds, waves, report, seed, probe, memory)
                ).result()
            log = server.logs()
    for line in log.splitlines():
        if "Traceback" in line or " ERROR " in line or "Error" in line.split(":", 1)[0]:
            report.errors.append(f"server log: {line.strip()}")
    check_cross_talk(report, surface)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--formulas", action="store_true", help="sessions enter formulas of their own")
    parser.add_argument(
        "--sessions",
        type=int,
        help=f"concurrent sessions (1-{MAX_SESSIONS}; {SESSIONS}, formulas {FORMULA_SESSIONS})",
    )
    parser.add_argument(
        "--seconds", type=float, default=SECONDS, help="how long they change controls (<= 600)"
    )
    parser.add_argument("--waves", type=int, default=2, help="the load again after all closed (1-5)")
    parser.add_argument(
        "--think",
        type=float,
        nargs=2,
        metavar=("MIN", "MAX"),
        help=f"think time, s (default {THINK_S}, formulas {FORMULA_THINK_S})",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--browser-probe", action="store_true", help="add one real Chromium page")
    parser.add_argument(
        "--exports", type=int, default=0, help="sessions that also ask for the GIF in the first wave (0-200)"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=0,
        help="serve the app with `python -m optviz serve --workers N` and measure through its front (1-8)",
    )
    parser.add_argument(
        "--kill-worker-at",
        type=float,
        metavar="SECONDS",
        help="kill one worker this long into the first wave (needs --workers 2 or more)",
    )
    args = parser.parse_args(argv)
    sessions = args.sessions or (FORMULA_SESSIONS if args.formulas else SESSIONS)
    think = tuple(args.think or (FORMULA_THINK_S if args.formulas else THINK_S))
    if not (1 <= sessions <= MAX_SESSIONS and 0 < args.seconds <= 600 and 1 <= args.waves <= 5):
        parser.error(f"--sessions must be 1-{MAX_SESSIONS}, --seconds 0-600 and --waves 1-5")
    if not 0 <= args.workers <= 8:
        parser.error("--workers must be 1-8 (or 0: one `streamlit run`)")
    if args.kill_worker_at is not None and not (
        args.workers >= 2 and 0 < args.kill_worker_at <= args.seconds - SETTLED_S
    ):
        parser.error(
            f"--kill-worker-at needs --workers 2 or more and a time from 0 to --seconds - {SETTLED_S:g} "
            "(p95 is measured again after that)"
        )
    if not 0 <= think[0] <= think[1] <= 60:
        parser.error("--think MIN MAX must satisfy 0 <= MIN <= MAX <= 60")
    if not 0 <= args.exports <= 200:
        parser.error("--exports must be 0-200")
    if args.formulas and (think[1] >= args.seconds or args.browser_probe):
        parser.error(
            "--formulas: every session enters a formula within --seconds (--think MAX below it), "
            "and no --browser-probe"
        )
    print(
        f"starting the app on {HOST}"
        + (f" (optviz serve, {args.workers} workers)" if args.workers else "")
        + f": {args.waves} x {sessions} sessions x {args.seconds:g} s"
        + (", entering formulas" if args.formulas else ""),
        flush=True,
    )
    report = run(
        sessions,
        args.seconds,
        args.waves,
        think,
        args.seed,
        args.browser_probe,
        args.formulas,
        args.exports,
        args.workers,
        args.kill_worker_at,
    )
    print(report.text())
    return 1 if report.broken_budgets() else 0


if __name__ == "__main__":
    sys.exit(main())
