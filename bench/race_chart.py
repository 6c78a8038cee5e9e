"""The lab's live race chart (issue 15) in headless Chromium, one user: is it inside its budgets?

Run from the repository root:  python -m bench.race_chart [--changes N]
It starts `streamlit run app.py` on a loopback port (bench/_server.py), opens the lab in Debian's
/usr/bin/chromium driven by Playwright (never `playwright install`) and measures, on the default race
(Rosenbrock, 6 optimizers x 500 steps):

- first chart: from navigation start to the first animation frame at which the chart's
  `data-revision` is 1 (new page, warm server); the very first open (JAX compiles) is printed too;
- control change -> new paths drawn: a key press on a learning-rate slider, the chart's own (Adam's)
  and the sidebar's (Adagrad's: the chart races its moves too), each press a value not raced before
  (nothing comes from a cache), to the first animation frame with the next `data-revision`; budget
  p50 <= 100 ms, p95 <= 200 ms;
- data per path update: the bytes of the race route's answers and of the websocket frames carrying
  the race chart's data (Playwright's `response` and `framereceived`) for one press; budget
  <= 100 KB. Everything the page received per press, and in the page's run once the slider rested
  (the chart's JSON by part, and its code when sent again), are printed beside it;
- server CPU per control change: the server process's CPU time (/proc/PID/stat) over the presses
  and the page's run once they rested, divided by their number; budget <= 15 ms. Beside it, the
  same for a press left to rest each time (the route's answer and a run of the race's fragments),
  and how much of it is the idle server's own work over the time a press took (its CPU per second
  with the page open and nothing asked: Streamlit polls its config files, optviz trims memory);
- drag: the start marker dragged for 2 s with a mouse move every 16 ms. Redraws per second are the
  `data-revision` increments during the drag over its length (budget >= 15). Each redraw's lag is
  its time minus the time of the mouse move whose position it answers: the chart's `data-answer`
  at the redraw is the seq of the request it answers; that request (a fetch of the race route, or
  a websocket message to the page; timed in the page by wrappers around fetch and
  WebSocket.prototype.send, which read its seq) carried the position of the last pointer move
  before it (budget: every lag <= 150 ms);
- playback: Play from step 0 at the page's default speed, for 3 s while `data-step` advances:
  the browser's requestAnimationFrame callbacks per second, and the chart's own redraws per second
  (it clears its foreground canvas once per frame it draws: clearRect calls on the busiest canvas);
  painted frames per second are the lower of the two (budget >= 55). The same at the slowest speed
  the chart offers (smooth motion at any speed: the heads move between steps). The browser's idle
  frame rate is printed beside it (the ceiling on this machine).

Prints the figures and budgets, then `RESULT: OK` or `RESULT: BROKEN: <what>`; exits 1 when broken.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench._browser_probe import ARGS, CHROMIUM
from bench._server import REPO, AppServer
from optviz.component_code import without_comment_lines

VIEWPORT = {"width": 1280, "height": 720}
DRAWN = """() => document.querySelector("[data-testid='stApp'][data-test-script-state='notRunning']")
                  && !document.querySelector("[data-testid='stSkeleton']")"""
LOAD_MS, CHANGE_MS = 120_000, 60_000

BUDGET_CHANGE_P50_MS, BUDGET_CHANGE_P95_MS = 100, 200
BUDGET_DRAG_REDRAWS_PER_S, BUDGET_DRAG_LAG_MS = 15, 150
BUDGET_PLAYBACK_FPS = 55
BUDGET_UPDATE_KB = 100
BUDGET_SERVER_CPU_MS = 15
WARM_UP_CHANGES = 2
TUNE_SETTLE_MS = 600  # the chart's sliders at rest this long: the page takes their values (race_chart.js)

# Before any page script: window.__race() finds the chart (in the page's DOM); the first
# frame with data-revision >= 1 is noted; every start the chart asks for (its seq, in a websocket
# message or a fetch), every websocket message's arrival and every pointer move are timed
# (performance.now()).
INIT_SCRIPT = r"""
(() => {
    window.__race = () => {
        if (!window.__raceEl || !window.__raceEl.isConnected) {
            window.__raceEl = document.querySelector('[data-testid="race-chart"]');
        }
        return window.__raceEl;
    };
    window.__firstChartAt = null;
    let frames = 0;
    const poll = () => {
        const r = (frames++ % 5 === 0 || window.__raceEl) ? window.__race() : null;
        if (r && Number(r.dataset.revision) >= 1) { window.__firstChartAt = performance.now(); return; }
        requestAnimationFrame(poll);
    };
    requestAnimationFrame(poll);
    const send = WebSocket.prototype.send;
    window.__sentSeq = new Map();  // a start the chart sent: its seq -> when
    WebSocket.prototype.send = function (data) {
        const t = performance.now();
        try {
            const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : data;
            const seq = /"seq":(\d+)/.exec(new TextDecoder().decode(bytes));
            if (seq) window.__sentSeq.set(Number(seq[1]), t);
        } catch (error) {}
        return send.call(this, data);
    };
    const nativeFetch = window.fetch;  // a start asked of the race route: its seq -> when
    window.fetch = function (url, ...rest) {
        const seq = /[?&]seq=(\d+)/.exec(String(url));
        if (seq) window.__sentSeq.set(Number(seq[1]), performance.now());
        return nativeFetch.call(this, url, ...rest);
    };
    window.__moves = [];
    addEventListener('pointermove', () => window.__moves.push(performance.now()), {capture: true});
    window.__clears = new Map();  // canvas -> clearRect calls: a redrawn canvas starts with one
    const clear = CanvasRenderingContext2D.prototype.clearRect;
    CanvasRenderingContext2D.prototype.clearRect = function (...args) {
        window.__clears.set(this.canvas, (window.__clears.get(this.canvas) || 0) + 1);
        return clear.apply(this, args);
    };
    window.__longTasks = [];  // [start, duration] of every main-thread task over 50 ms
    new PerformanceObserver(list => {
        for (const e of list.getEntries()) window.__longTasks.push([e.startTime, e.duration]);
    }).observe({type: 'longtask', buffered: true});
})();
"""
JS_REVISION = "() => Number(window.__race()?.dataset.revision ?? 0)"
JS_REVISION_ABOVE = "n => Number(window.__race()?.dataset.revision) > n && performance.now()"
JS_WATCH_REVISIONS = """() => {
    const r = window.__race();
    window.__revs = [];
    if (window.__raceWatch) window.__raceWatch.disconnect();
    window.__raceWatch = new MutationObserver(
        () => window.__revs.push([performance.now(), Number(r.dataset.answer)]));
    window.__raceWatch.observe(r, {attributes: true, attributeFilter: ['data-revision']});
}"""
JS_MAP_BOX = """() => {
    let best = null;
    for (const el of window.__race().querySelectorAll('canvas, svg')) {
        const b = el.getBoundingClientRect();
        if (!best || b.width * b.height > best.width * best.height)
            best = {x: b.x, y: b.y, width: b.width, height: b.height};
    }
    return best;
}"""
JS_PLAYBACK = """async seconds => {
    const r = window.__race(), next = () => new Promise(requestAnimationFrame);
    const t0 = performance.now(), step0 = Number(r.dataset.step);
    window.__clears = new Map();
    let frames = 0, stepChanges = 0, last = step0;
    while (performance.now() - t0 < seconds * 1000) {
        await next();
        frames++;
        const step = Number(r.dataset.step);
        if (step !== last) { stepChanges++; last = step; }
    }
    const elapsed = (performance.now() - t0) / 1000;
    const drawn = Math.max(0, ...window.__clears.values());
    return {fps: frames / elapsed, drawnFps: drawn / elapsed, stepChanges, step0, step: last, elapsed,
            playing: r.dataset.playing};
}"""
JS_IDLE_FPS = """async () => {
    let n = 0; const t0 = performance.now();
    while (performance.now() - t0 < 1000) { await new Promise(requestAnimationFrame); n++; }
    return n * 1000 / (performance.now() - t0);
}"""


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation between the sorted values."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


class Frames:
    """The websocket frames a page receives: the time each arrived here, its size, and whether it is
    the race chart's data (a frame holding the packed race: its "signature" and its "paths"); the
    frames that carry the chart's data, with or without a race; and the race route's answers (the
    chart's own sliders and drags)."""

    def __init__(self, page) -> None:
        self.received: list[tuple[float, int, bool]] = []
        self.charts: list[tuple[float, bytes]] = []
        self.answers: list[tuple[float, int]] = []  # the race route's answers: when, bytes
        page.on("websocket", self._watch)
        page.on("response", self._answer)

    def _answer(self, response) -> None:
        if "/optviz/race?" in response.url:
            self.answers.append((time.perf_counter(), int(response.headers.get("content-length", 0))))

    def answers_since(self, t0: float) -> list[int]:
        return [size for t, size in self.answers if t >= t0]

    def _watch(self, ws) -> None:
        def on_frame(payload) -> None:
            data = payload.encode() if isinstance(payload, str) else payload
            is_race = b'"signature"' in data and b'"paths"' in data
            if b'{"race"' in data:
                self.charts.append((time.perf_counter(), data))
            self.received.append((time.perf_counter(), len(data), is_race))

        ws.on("framereceived", on_frame)

    def since(self, t0: float, race_only: bool = False) -> list[int]:
        return [size for t, size, is_race in self.received if t >= t0 and (is_race or not race_only)]

    def last_chart_since(self, t0: float) -> bytes:
        """The last frame since `t0` that carried the chart's data (b"" if none)."""
        return next((data for t, data in reversed(self.charts) if t >= t0), b"")


def race_parts(frame: bytes) -> dict[str, int]:
    """The bytes of the race chart's JSON data in a frame, in all and by part (the map, the paths: none
    when the frame has no race), and of the chart's own code (its JS, CSS and HTML files) when the
    frame carries it too."""
    text = frame.decode("utf-8", errors="replace")
    start = text.find('{"race"')
    if start < 0:
        return {}
    code = {}
    for source in sorted((REPO / "optviz" / "ui" / "race_chart").glob("race_chart.*")):
        body = source.read_text().strip()
        if source.suffix == ".js":  # as the browser gets it
            body = without_comment_lines(body)
        if source.suffix != ".py" and body and body[:200] in text:
            code[source.suffix[1:]] = len(body.encode())
    try:
        data, end = json.JSONDecoder().raw_decode(text, start)
    except json.JSONDecodeError:
        return {}
    race = data.get("race")
    parts = {"map": len(json.dumps(race["surface"])), "paths": len(json.dumps(race["paths"]))} if race else {}
    return {"data": end - start, **parts, **{f"code ({kind})": size for kind, size in code.items()}}


def open_lab(browser, url: str):
    """A new context and page on the lab; returns (page, frames, first chart ms since navigation)."""
    page = browser.new_context(viewport=VIEWPORT).new_page()
    page.add_init_script(INIT_SCRIPT)
    frames = Frames(page)
    page.goto(url + "/", timeout=LOAD_MS)
    page.wait_for_function("() => window.__firstChartAt !== null", timeout=LOAD_MS, polling=100)
    page.wait_for_function(DRAWN, timeout=LOAD_MS)
    return page, frames, page.evaluate("() => window.__firstChartAt")


def sidebar_lr_slider(page, optimizer: str):
    """An optimizer's learning rate in the sidebar (its box of sliders opened)."""
    sidebar = page.get_by_test_id("stSidebar")
    expander = sidebar.get_by_test_id("stExpander").filter(has=page.locator("summary", has_text=optimizer))
    expander.locator("summary").click()
    slider = expander.get_by_role("slider", name="learning rate")
    slider.wait_for(state="visible")
    return slider


def chart_lr_slider(page, optimizer: str):
    """An optimizer's learning rate among the race chart's own sliders (its "Tune η" row opened)."""
    chart = page.get_by_test_id("race-chart")
    toggle = chart.locator(".optviz-race__tune-toggle")
    if toggle.get_attribute("aria-expanded") != "true":
        toggle.click()
    chart.get_by_label("optimizer to tune").select_option(label=optimizer)
    slider = chart.get_by_role("slider", name=f"{optimizer} η learning rate")
    slider.wait_for(state="visible")
    return slider


# The sliders measured, each pressed down from its default so that every press races a value not raced
# before: (how to find it, its optimizer, its link name, its stops below the default on Rosenbrock).
SLIDERS = {
    "the chart's own": (chart_lr_slider, "Adam", "hp_adam_lr", 28),
    "the sidebar's": (sidebar_lr_slider, "Adagrad", "hp_adagrad_lr", 34),
}
RESTED_CHANGES = 4  # presses each left to rest until the page took it (`measure_rested_changes`)


def measure_changes(page, frames: Frames, server: AppServer, count: int, slider) -> dict:
    """`count` presses of ArrowLeft on a learning-rate slider (after WARM_UP_CHANGES more), one at a
    time, each once the page is drawn and 150 ms more. The slider tells the page when it rests
    (TUNE_SETTLE_MS): the server's CPU includes that run, after the last press."""
    latencies, update_bytes, race_bytes = [], [], []
    cpu_before = None
    for i in range(WARM_UP_CHANGES + count):
        if i == WARM_UP_CHANGES:
            cpu_before = server.cpu_s()
        page.wait_for_function(DRAWN, timeout=CHANGE_MS)
        revision = page.evaluate(JS_REVISION)
        slider.focus()
        page.evaluate(
            """() => { window.__keyAt = null;
                       addEventListener('keydown', () => { window.__keyAt = performance.now(); },
                                        {capture: true, once: true}); }"""
        )
        t0 = time.perf_counter()
        page.keyboard.press("ArrowLeft")
        drawn_at = page.wait_for_function(
            JS_REVISION_ABOVE, arg=revision, polling="raf", timeout=CHANGE_MS
        ).json_value()
        key_at = page.evaluate("() => window.__keyAt")
        page.wait_for_function(DRAWN, timeout=CHANGE_MS)
        page.wait_for_timeout(150)  # frames still on their way
        if i >= WARM_UP_CHANGES:
            latencies.append(drawn_at - key_at)
            update_bytes.append(sum(frames.since(t0)) + sum(frames.answers_since(t0)))
            race_bytes.append(sum(frames.since(t0, race_only=True)) + sum(frames.answers_since(t0)))
    rest = time.perf_counter()
    page.wait_for_timeout(TUNE_SETTLE_MS + 200)
    page.wait_for_function(DRAWN, timeout=CHANGE_MS)
    page.wait_for_timeout(150)
    cpu_ms = 1e3 * (server.cpu_s() - cpu_before) / count
    return {
        "latencies": latencies,
        "bytes": update_bytes,
        "race_bytes": race_bytes,
        "rest_bytes": sum(frames.since(rest)),
        "parts": race_parts(frames.last_chart_since(rest)),
        "cpu_ms": cpu_ms,
        "value": slider.get_attribute("aria-valuetext"),
        "url": page.url,
    }


def measure_idle_cpu(server: AppServer, seconds: float = 6.0) -> float:
    """The server's CPU per second with the page open and nothing asked of it (Streamlit polls its
    config files every 0.2 s; optviz's timer trims freed memory): counted in every figure of CPU
    per change, in proportion to the time the change took."""
    cpu_before = server.cpu_s()
    time.sleep(seconds)
    return 1e3 * (server.cpu_s() - cpu_before) / seconds


def measure_rested_changes(page, server: AppServer, slider, count: int = 4) -> tuple[float, float]:
    """The server's CPU per change of a slider when each change rests until the page took it (one
    press, then the page's run): the route's answer and a run of the race's fragments. Returns it
    and the seconds each change took."""
    cpu_before, started = server.cpu_s(), time.perf_counter()
    for _ in range(count):
        revision = page.evaluate(JS_REVISION)
        slider.focus()
        page.keyboard.press("ArrowLeft")
        page.wait_for_function(JS_REVISION_ABOVE, arg=revision, polling="raf", timeout=CHANGE_MS)
        page.wait_for_timeout(TUNE_SETTLE_MS + 200)
        page.wait_for_function(DRAWN, timeout=CHANGE_MS)
        page.wait_for_timeout(150)
    return 1e3 * (server.cpu_s() - cpu_before) / count, (time.perf_counter() - started) / count


def measure_drag(page, seconds: float = 2.0, interval_ms: float = 16.0) -> dict:
    """Drag the start marker around a loop inside the map for `seconds`."""
    chart = page.locator('[data-testid="race-chart"]').first
    chart.scroll_into_view_if_needed()
    page.wait_for_function(DRAWN, timeout=CHANGE_MS)
    box = chart.bounding_box()
    sx, sy = (float(v) for v in chart.get_attribute("data-start-px").split(","))
    map_box = page.evaluate(JS_MAP_BOX)
    x0, y0 = box["x"] + sx, box["y"] + sy
    # A line from the start towards the middle of the map and back, at about 100 px/s.
    cx, cy = map_box["x"] + map_box["width"] / 2, map_box["y"] + map_box["height"] / 2
    page.evaluate(JS_WATCH_REVISIONS)
    page.mouse.move(x0, y0)
    page.mouse.down()
    down_at = page.evaluate("() => performance.now()")
    t_start = time.perf_counter()
    n = 0
    while (elapsed := time.perf_counter() - t_start) < seconds:
        phase = 1 - abs(1 - 2 * elapsed / seconds)  # 0 -> 1 -> 0
        page.mouse.move(x0 + (cx - x0) * 0.8 * phase, y0 + (cy - y0) * 0.8 * phase)
        n += 1
        pause = t_start + n * interval_ms / 1000 - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
    up_at = page.evaluate("() => performance.now()")
    page.mouse.up()
    page.wait_for_timeout(1000)
    page.wait_for_function(DRAWN, timeout=CHANGE_MS)
    revs, sent_seq, moves, long_tasks = page.evaluate(
        "() => [window.__revs, [...window.__sentSeq], window.__moves, window.__longTasks]"
    )
    sent_at = dict(sent_seq)
    busy = [d for start, d in long_tasks if down_at <= start <= up_at]
    during = [(t, answer) for t, answer in revs if down_at <= t <= up_at]
    lags = []
    for t, answer in during:  # the request this redraw answers, and the last move before it went out
        request = sent_at.get(answer)
        move = None if request is None else max((m for m in moves if m <= request), default=None)
        if move is not None and move >= down_at:
            lags.append(t - move)
    return {
        "seconds": (up_at - down_at) / 1000,
        "moves": n,
        "redraws": len(during),
        "after": len(revs) - len(during),
        "requests": sum(1 for s in sent_at.values() if down_at <= s <= up_at),
        "lags": lags,
        "long_tasks": busy,
        "url": page.url,
    }


def measure_playback(page, seconds: float = 3.0) -> dict:
    chart = page.locator('[data-testid="race-chart"]').first
    idle = page.evaluate(JS_IDLE_FPS)
    chart.click(position={"x": 3, "y": 3})  # focus, away from the map
    page.keyboard.press("Home")
    steps = int(page.evaluate("() => window.__race().querySelector('.optviz-race__scrubber')?.max ?? 0"))
    chart.get_by_role("button", name="Play").click()
    page.wait_for_function("() => window.__race().dataset.playing === 'true'", timeout=5_000)
    result = page.evaluate(JS_PLAYBACK, seconds)
    result["idle_fps"] = idle
    result["steps_total"] = steps
    page.keyboard.press("Space")
    # The slowest speed the chart offers: the heads still move every frame (smooth at any speed).
    speed = chart.locator("select").first
    if speed.count():
        slowest = min(speed.locator("option").all_inner_texts(), key=float)
        speed.select_option(slowest)
        chart.click(position={"x": 3, "y": 3})
        page.keyboard.press("Home")
        page.keyboard.press("Space")
        page.wait_for_function("() => window.__race().dataset.playing === 'true'", timeout=5_000)
        result["slow"] = {**page.evaluate(JS_PLAYBACK, seconds), "speed": slowest}
        page.keyboard.press("Space")
    return result


def report_slider(kind: str, changes: dict) -> list[str]:
    """Print one slider's figures (`measure_changes`, with `rested_cpu_ms`); return what is over budget."""
    broken, lat = [], changes["latencies"]
    p50, p95 = percentile(lat, 50), percentile(lat, 95)
    print(
        f"  {kind} slider ({len(lat)} presses on {changes['optimizer']}'s learning rate, down to "
        f"{changes['value']}):"
    )
    print(
        f"    control change -> new paths drawn: p50 {p50:.0f} ms (budget {BUDGET_CHANGE_P50_MS}), p95 "
        f"{p95:.0f} ms (budget {BUDGET_CHANGE_P95_MS}); all: {', '.join(f'{t:.0f}' for t in lat)}"
    )
    if p50 > BUDGET_CHANGE_P50_MS:
        broken.append(f"{kind} slider: control change p50 {p50:.0f} ms > {BUDGET_CHANGE_P50_MS} ms")
    if p95 > BUDGET_CHANGE_P95_MS:
        broken.append(f"{kind} slider: control change p95 {p95:.0f} ms > {BUDGET_CHANGE_P95_MS} ms")
    if f"{changes['link_name']}=" not in changes["url"]:
        broken.append(f"{kind} slider: the value is not in the URL once it rests")

    kb = max(changes["race_bytes"]) / 1024
    parts = changes["parts"]
    data = ", ".join(f"{k} {parts[k] / 1024:.1f} KB" for k in ("data", "map", "paths") if k in parts)
    if "data" in parts and "paths" not in parts:
        data += " and no race: the chart shows the route's answer already"
    code = ", ".join(f"{k[6:-1]} {v / 1024:.1f} KB" for k, v in parts.items() if k.startswith("code"))
    per_press, at_rest = statistics.median(changes["bytes"]) / 1024, changes["rest_bytes"] / 1024
    print(
        f"    data per path update: {kb:.1f} KB at most (budget {BUDGET_UPDATE_KB} KB: the race route's "
        f"answer); everything the page received per press: median {per_press:.1f} KB; the page's run "
        f"once the slider rested: {at_rest:.1f} KB (the race chart's JSON: {data or 'not found'}"
        + (f"; its code, sent again with it: {code}" if code else "")
        + ")"
    )
    if kb > BUDGET_UPDATE_KB or kb == 0:
        broken.append(f"{kind} slider: {kb:.1f} KB for one path update (budget {BUDGET_UPDATE_KB} KB)")

    cpu, rested = changes["cpu_ms"], changes["rested_cpu_ms"]
    idle = changes["idle_ms_per_s"] * changes["rested_s"]  # the idle server's CPU over a rested press
    over = rested > BUDGET_SERVER_CPU_MS
    print(
        f"    server CPU per control change: {cpu:.1f} ms (budget {BUDGET_SERVER_CPU_MS} ms; the route's "
        f"answer to each press, and the page's run once they rest); one press left to rest each time: "
        f"{rested:.1f} ms"
        + (" (over the budget: a run of the fragments follows each)" if over else "")
        + f", of which {idle:.1f} ms is the idle server's own work over the {changes['rested_s']:.1f} s "
        f"each took ({changes['idle_ms_per_s']:.1f} ms/s with the page open)"
    )
    if cpu > BUDGET_SERVER_CPU_MS:
        broken.append(f"{kind} slider: server CPU {cpu:.1f} ms per change > {BUDGET_SERVER_CPU_MS} ms")
    return broken


def report(warm_ms: float, cold_ms: float, sliders: dict[str, dict], drag: dict, play: dict) -> list[str]:
    """Print the figures beside their budgets; return what is over budget."""
    broken = []
    print(
        "6 optimizers x 500 steps on Rosenbrock, one user, headless Chromium, this machine "
        f"(load average now {os.getloadavg()[0]:.1f}: other work slows every figure):"
    )
    print(f"  first chart after opening the page: {warm_ms:.0f} ms (the very first open: {cold_ms:.0f} ms)")
    for kind, changes in sliders.items():
        broken += report_slider(kind, changes)

    rate, lags = drag["redraws"] / drag["seconds"], drag["lags"]
    worst = max(lags, default=float("inf"))
    typical = percentile(lags, 50) if lags else float("nan")
    print(
        f"  drag ({drag['seconds']:.1f} s, {drag['moves']} mouse moves, {drag['requests']} requests sent): "
        f"{drag['redraws']} redraws, {rate:.1f}/s (budget >= {BUDGET_DRAG_REDRAWS_PER_S}); lag from mouse "
        f"move to redraw p50 {typical:.0f} ms, max {worst:.0f} ms (budget {BUDGET_DRAG_LAG_MS} ms each); "
        f"{drag['after']} more after the release; the page's main thread was in tasks over 50 ms for "
        f"{sum(drag['long_tasks']):.0f} ms of it ({len(drag['long_tasks'])} tasks, longest "
        f"{max(drag['long_tasks'], default=0):.0f} ms; a mouse move waits for such a task)"
    )
    if rate < BUDGET_DRAG_REDRAWS_PER_S:
        broken.append(f"drag: {rate:.1f} redraws/s < {BUDGET_DRAG_REDRAWS_PER_S}")
    if worst > BUDGET_DRAG_LAG_MS:
        late = sum(1 for t in lags if t > BUDGET_DRAG_LAG_MS)
        broken.append(f"drag: {late} of {len(lags)} redraws over {BUDGET_DRAG_LAG_MS} ms (max {worst:.0f})")
    if "start_x=" not in drag["url"]:
        broken.append("drag: the final start is not in the URL after the release")

    painted = min(play["fps"], play["drawnFps"]) if play["drawnFps"] else play["fps"]
    print(
        f"  playback (Play from step 0, {play['steps_total']} steps): {painted:.1f} painted frames/s "
        f"(budget >= {BUDGET_PLAYBACK_FPS}; browser frames {play['fps']:.1f}/s, chart redraws "
        f"{play['drawnFps']:.1f}/s, the idle browser {play['idle_fps']:.1f}/s); "
        f"data-step {play['step0']} -> {play['step']} in {play['elapsed']:.1f} s"
    )
    slow = play.get("slow")
    if slow:
        slow_painted = min(slow["fps"], slow["drawnFps"]) if slow["drawnFps"] else slow["fps"]
        print(
            f"  playback at the slowest speed ({slow['speed']} steps/s): {slow_painted:.1f} painted frames/s "
            f"(browser frames {slow['fps']:.1f}/s, chart redraws {slow['drawnFps']:.1f}/s); data-step "
            f"{slow['step0']} -> {slow['step']}"
        )
        if slow_painted < BUDGET_PLAYBACK_FPS:
            broken.append(f"playback at {slow['speed']} steps/s: {slow_painted:.1f} painted frames/s")
    if play["step"] <= play["step0"]:
        broken.append("playback: data-step did not advance")
    else:
        race_s = play["steps_total"] * play["elapsed"] / (play["step"] - play["step0"])
        print(
            f"  the whole {play['steps_total']}-step race plays in {race_s:.1f} s at the default speed "
            "(budget 10 s)"
        )
        if race_s > 10.5:  # data-step is whole steps: half a second for the rounding at 3 s
            broken.append(f"playback: the race takes {race_s:.1f} s at the default speed > 10 s")
    if painted < BUDGET_PLAYBACK_FPS:
        broken.append(f"playback {painted:.1f} painted frames/s < {BUDGET_PLAYBACK_FPS}")
    return broken


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    limit = min(stops for *_, stops in SLIDERS.values()) - WARM_UP_CHANGES - RESTED_CHANGES
    parser.add_argument("--changes", type=int, default=20, help=f"control changes timed (3 to {limit})")
    args = parser.parse_args(argv)
    count = max(3, min(args.changes, limit))

    from playwright.sync_api import sync_playwright

    log = Path(tempfile.mkdtemp(prefix="bench-race-chart-")) / "server.log"
    stage = "starting the server"
    try:
        with AppServer(log) as server, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            try:
                stage = "opening the lab"
                first_page, _, cold_ms = open_lab(browser, server.url)  # compiles; warms every cache
                first_page.context.close()
                page, frames, warm_ms = open_lab(browser, server.url)
                sliders = {}
                for kind, (find, optimizer, link_name, _) in SLIDERS.items():
                    stage = f"control changes on {kind} slider"
                    slider = find(page, optimizer)
                    changes = sliders[kind] = measure_changes(page, frames, server, count, slider)
                    rested = measure_rested_changes(page, server, slider, RESTED_CHANGES)
                    changes["rested_cpu_ms"], changes["rested_s"] = rested
                    changes["idle_ms_per_s"] = measure_idle_cpu(server)
                    changes.update(optimizer=optimizer, link_name=link_name)
                stage = "the drag"
                drag = measure_drag(page)
                stage = "playback"
                play = measure_playback(page)
            finally:
                browser.close()
    except Exception as error:  # a chart that never draws, a control that is missing: say which
        first_line = (str(error).strip().splitlines() or [""])[0]
        print(f"RESULT: BROKEN: {stage} failed: {type(error).__name__}: {first_line} (server log: {log})")
        return 1
    broken = report(warm_ms, cold_ms, sliders, drag, play)
    print("RESULT: OK" if not broken else "RESULT: BROKEN: " + "; ".join(broken))
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
