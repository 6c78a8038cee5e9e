"""Offline exports (optviz.lab.export) and the command line (python -m optviz export).

Images are drawn by Debian's Chromium (apt-get install chromium), as in tests/e2e; never a download.
That a picture is the live chart's own picture is checked against the app in tests/e2e
(test_export_browser.py); here, what the files hold.
"""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageColor

from optviz.lab import cli, export
from optviz.lab.config import CHART_SPEEDS, RaceConfig
from optviz.lab.export import frames
from optviz.lab.export.browser import Page
from optviz.lab.export.view import RaceExport
from optviz.optimizers import OPTIMIZERS

REPO = Path(__file__).resolve().parents[1]
SIX = ["gd", "sgd", "momentum", "adagrad", "rmsprop", "adam"]
HTML_BUDGET_BYTES = 500_000  # 6 optimizers x 300 steps: the chart's files and the packed race
GIF_BUDGET_BYTES = 5_000_000  # 100 frames


def _data(optimizers, steps, **view) -> dict:
    """The chart's data of a race on Beale (as the page's exports make it)."""
    return RaceExport(RaceConfig.create("beale", optimizers, steps=steps), "html", **view).chart_data()


@pytest.fixture(scope="module")
def six_by_300():
    return _data(SIX, 300)


@pytest.fixture(scope="module")
def html_file(six_by_300, tmp_path_factory):
    path = tmp_path_factory.mktemp("export") / "race.html"
    path.write_bytes(export.to_html(six_by_300, title="Beale race"))
    return path


class _Scripts(HTMLParser):
    """The page's <script> elements as a browser parses them: (attributes, text)."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[tuple[dict, str]] = []
        self._open: dict | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self._open = dict(attrs)
            self.scripts.append((self._open, ""))

    def handle_data(self, data):
        if self._open is not None:
            attrs, text = self.scripts[-1]
            self.scripts[-1] = (attrs, text + data)

    def handle_endtag(self, tag):
        if tag == "script":
            self._open = None


def _scripts(page: str) -> list[tuple[dict, str]]:
    parser = _Scripts()
    parser.feed(page)
    return parser.scripts


def _page_data(page: str) -> dict:
    (text,) = [text for attrs, text in _scripts(page) if attrs.get("type") == "application/json"]
    return json.loads(text)


# --- HTML ------------------------------------------------------------------------------------------


def test_html_is_self_contained_and_within_budget(html_file):
    page = html_file.read_text(encoding="utf-8")
    assert len(page.encode()) <= HTML_BUDGET_BYTES, f"{len(page.encode()) / 1e6:.2f} MB"
    assert not re.search(r"https?:|//[a-z0-9.-]+\.[a-z]{2,}/", page, re.I), "a URL the page could fetch"
    assert not re.search(r"\s(src|href)=", page), "a resource loaded by address"
    assert "<title>Beale race</title>" in page
    # The policy comes first in <head>, before any script it must govern, and allows no network.
    assert page.index('http-equiv="Content-Security-Policy"') < page.index("<script")
    csp = export.html.CSP
    assert f'content="{csp}"' in page and "default-src 'none'" in csp and "connect-src" not in csp
    assert all("http" not in source and "*" not in source for source in csp.split(";"))


def test_html_holds_the_live_charts_files_and_the_race(six_by_300, html_file):
    page = html_file.read_text(encoding="utf-8")
    chart = REPO / "optviz" / "ui" / "race_chart"
    for name in ("race_chart.js", "race_chart.css"):
        assert (chart / name).read_text(encoding="utf-8") in page, f"{name} is not the live chart's"
    assert (REPO / "optviz" / "ui" / "canvas_kit.js").read_text(encoding="utf-8") in page
    data = _page_data(page)
    assert data == json.loads(json.dumps(six_by_300)), "the race inlined is not the one asked for"
    assert data["interactive"] is False and data["speed"] == CHART_SPEEDS["normal"]
    assert data["race"]["steps"] == 300
    assert len(data["race"]["paths"]) == 6
    harness = [text for attrs, text in _scripts(page) if attrs.get("type") == "module"]
    assert len(harness) == 1 and '.optviz-race__play").click()' in harness[0], "it does not play on opening"
    assert "recording" in page.lower(), "no note that the page is a recording"


def test_no_label_can_close_the_pages_script(six_by_300):
    hostile = "</script><script>alert(1)</script><!--"
    data = json.loads(json.dumps(six_by_300))
    data["race"]["paths"][0]["label"] = hostile
    page = export.to_html(data, title=hostile).decode("utf-8")
    assert _page_data(page)["race"]["paths"][0]["label"] == hostile
    assert sum("alert(1)" in text for _, text in _scripts(page)) == 1, "the label left its JSON"
    assert "<title>&lt;/script&gt;" in page


# --- pictures -------------------------------------------------------------------------------------


def _rgb(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), int)


def test_steps_for_gifs_and_stills(six_by_300):
    steps = export.gif_steps(six_by_300, 100)
    assert len(steps) == 100 and steps[0] == 0 and steps[-1] == 300
    assert steps == sorted(set(steps))
    assert export.gif_steps(six_by_300, 301) == list(range(301))
    assert export.picture_step(six_by_300, None) == 300 and export.picture_step(six_by_300, 7) == 7
    with pytest.raises(ValueError, match="between 0 and 300"):
        export.picture_step(six_by_300, 301)
    with pytest.raises(ValueError, match="2 to 301"):
        export.gif_steps(six_by_300, 302)


def test_png_has_the_size_asked_for_and_later_steps_differ(six_by_300):
    images = [
        Image.open(io.BytesIO(export.to_png(six_by_300, step, width=640, height=360))) for step in (0, 150)
    ]
    assert all(image.format == "PNG" and image.size == (640, 360) for image in images)
    a, b = (np.asarray(image.convert("RGB"), int) for image in images)
    assert (np.abs(a - b).sum(axis=-1) > 30).sum() > 100, "the trails did not grow between step 0 and 150"
    # The surface is there: grey bands, several levels across the map's middle row.
    assert len(np.unique(a[200, 100:500], axis=0)) > 3, "no contour bands across the map"
    sharp = Image.open(io.BytesIO(export.to_png(six_by_300, 150, width=640, height=360, scale=2)))
    assert sharp.size == (1280, 720)


def _colourful(picture: np.ndarray, colour: str, tolerance: int = 40) -> np.ndarray:
    """Where the picture is near `colour`, below the legend's line (the map)."""
    near = np.abs(picture - ImageColor.getrgb(colour)).max(axis=-1) <= tolerance
    near[:40] = False
    return near


def test_the_gif_grows_the_trails_and_keeps_every_optimizer_colour(six_by_300):
    """Frame 0 shows each optimizer only at the start (its head); the last frame is the PNG of the last
    step (every path whole), within the palette's error; the palette holds each colour exactly."""
    gif = Image.open(io.BytesIO(export.to_gif(six_by_300, frames=11, fps=15, width=960, height=540)))
    assert gif.n_frames == 11
    palette = {tuple(c) for c in np.asarray(gif.getpalette()).reshape(-1, 3)}
    colours = [OPTIMIZERS[name].colour for name in SIX]
    for colour in colours:
        assert ImageColor.getrgb(colour) in palette, colour
    pictures = []
    for i in (0, 5, 10):
        gif.seek(i)
        pictures.append(np.asarray(gif.convert("RGB"), int))
    first, _, last = pictures
    png = _rgb(export.to_png(six_by_300, 300, width=960, height=540))
    colourful = png.max(axis=-1) - png.min(axis=-1) > 40
    off = np.abs(last - png).max(axis=-1)
    assert colourful.sum() > 1000 and off[colourful].mean() < 5, off[colourful].mean()
    assert (off > 60).mean() < 0.001, "the last frame is not the last step's picture"
    for colour in colours:
        ys, xs = np.nonzero(_colourful(first, colour))
        if len(xs):  # a head under another optimizer's shows nowhere
            assert np.ptp(xs) <= 24 and np.ptp(ys) <= 24, f"{colour}: a trail at step 0"
    # What the trails cover (their colours and the casing under them; a later trail may cover an
    # earlier one's colour, so colours alone need not grow) grows with the steps.
    grown = [(np.abs(p - first).max(axis=-1) > 40).sum() for p in pictures]
    assert 0 == grown[0] < grown[1] < grown[2], f"the trails do not grow: {grown}"
    exact = sum((np.abs(last - ImageColor.getrgb(c)).sum(axis=-1) == 0).sum() for c in colours)
    assert exact > 500, "the paths are not drawn in their exact colours"


def test_gif_has_the_frames_size_and_budget(six_by_300):
    gif = export.to_gif(six_by_300, frames=100, fps=15)
    image = Image.open(io.BytesIO(gif))
    assert image.format == "GIF" and image.n_frames == 100 and image.size == (960, 540)
    assert image.info["loop"] == 0
    assert len(gif) <= GIF_BUDGET_BYTES, f"{len(gif) / 1e6:.2f} MB"
    image.seek(99)
    assert image.info["duration"] == 1500, "the last frame is held 1.5 s"


def test_a_browser_killed_while_drawing_says_so_and_the_next_export_works(monkeypatch):
    data = _data(["gd", "adam"], 50)
    export.to_png(data, width=320, height=180)  # the browser runs
    call = Page.call

    async def kill_mid_drawing(page, function, *args):
        if function == "optvizExport.png":  # after the static layer, before the picture
            os.killpg(frames.BROWSER.pid, signal.SIGKILL)
        return await call(page, function, *args)

    monkeypatch.setattr(Page, "call", kill_mid_drawing)
    with pytest.raises(export.ExportError, match="browser stopped while drawing"):
        export.to_png(data, width=320, height=180)
    monkeypatch.setattr(Page, "call", call)
    assert Image.open(io.BytesIO(export.to_png(data, width=320, height=180))).size == (320, 180)


def test_progress_that_stops_a_gif_stops_it_and_the_next_export_works(six_by_300):
    class Stop(Exception):
        pass

    told = []

    def stop_halfway(share):
        told.append(share)
        if share > 0.3:
            raise Stop

    with pytest.raises(Stop):
        export.to_gif(six_by_300, frames=100, width=960, height=540, progress=stop_halfway)
    assert told and max(told) < 1
    assert Image.open(io.BytesIO(export.to_gif(six_by_300, frames=3, width=320, height=180))).n_frames == 3


def test_export_rejects_what_it_cannot_draw(six_by_300):
    with pytest.raises(ValueError, match="its race"):
        export.to_html({"race": None})
    with pytest.raises(ValueError, match=r"100\.\.4096"):
        export.to_png(six_by_300, width=50)
    with pytest.raises(ValueError, match="fps"):
        export.to_gif(six_by_300, fps=60)


# --- the command line -----------------------------------------------------------------------------


def _python_m_optviz(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "optviz", *args],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_cli_help_and_a_good_export(tmp_path):
    for args in (["--help"], ["export", "--help"]):
        done = _python_m_optviz(*args, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
    assert "--hp_adam_lr" in done.stdout and "--schedule_warmup" in done.stdout and "10..2000" in done.stdout
    done = _python_m_optviz(
        "export", "--surface", "beale", "--optimizers", "gd,momentum,adam", "--steps", "300",
        "--out", "race.html", cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert _page_data((tmp_path / "race.html").read_text(encoding="utf-8"))["race"]["steps"] == 300
    wrote = r"wrote race\.html \(\d\.\d\d MB, HTML, 300 steps, plays at 50 steps/s\)\n"
    assert re.fullmatch(wrote, done.stdout)


def test_cli_takes_every_page_control(tmp_path, capsys):
    out = tmp_path / "custom.html"
    code = cli.main(
        [
            "export", "--surface", "Custom", "--formula", "x^2 + 3*y^2", "--formula_x0", "-2",
            "--formula_x1", "2", "--start_x", "1.5", "--start_y", "1", "--optimizers", "adam,gd",
            "--hp_adam_lr", "0.05", "--hp_adam_b1", "0.8", "--steps", "40", "--noise", "0.5",
            "--seed", "3", "--schedule", "step", "--schedule_gamma", "0.7", "--schedule_every", "10",
            "--layout", "Side by side", "--speed", "very fast", "--presenter", "--equal_scale",
            "--out", str(out),
        ]
    )  # fmt: skip
    assert code == 0
    data = _page_data(out.read_text(encoding="utf-8"))
    assert data["presenter"] is True and data["panels"] is True, "presenter style, side by side"
    assert data["equalScale"] is True
    assert data["speed"] == CHART_SPEEDS["very fast"], "very fast: the live chart's 250 steps/s"
    race = data["race"]
    assert race["steps"] == 40 and [p["name"] for p in race["paths"]] == ["adam", "gd"]
    assert race["start"] == [1.5, 1.0] and race["surface"]["bounds"][0] == [-2.0, 2.0]
    assert "40 steps, plays at 250 steps/s" in capsys.readouterr().out


BAD_ARGUMENTS = [
    (["--surface", "nope"], "--surface: unknown 'nope'"),
    (["--optimizers", "gd,foo"], "unknown foo"),
    (["--optimizers", ","], "at least one"),
    (["--hp_adam_lr", "abc"], "'abc' is not a number"),
    (["--hp_adam_eps", "-1"], "--hp_adam_eps must be between"),
    (["--hp_gd_lr", "nan"], "not a finite number"),
    (["--steps", "5"], "--steps must be between 10 and 2000"),
    (["--steps", "2001"], "--steps must be between 10 and 2000"),
    (["--steps", "1.5"], "not a whole number"),
    (["--noise", "-1"], "--noise must be between 0 and 1000"),
    (["--seed", "-1"], "--seed must be between"),
    (["--start_x", "99"], "--start_x must be between"),
    (["--surface", "custom"], "needs --formula"),
    (["--surface", "custom", "--formula", "sin("], "--formula: "),
    (["--surface", "custom", "--formula", "__import__('os')"], "--formula: "),
    (["--schedule", "linear"], "--schedule: unknown"),
    (["--schedule_gamma", "0"], "--schedule_gamma must be in (0, 1]"),
    (["--layout", "diagonal"], "--layout: unknown"),
    (
        ["--surface", "custom", "--formula", "x^2", "--formula_x1", "27", "--equal_scale"],
        "--equal_scale: this window is 5.0 times longer",
    ),
    (["--speed", "ludicrous"], "--speed: unknown"),
    (["--format", "bmp"], "--format: unknown 'bmp'"),
    (["--format", "gif", "--frames", "1"], "--frames must be between 2"),
    (["--format", "png", "--step", "100000"], "--step must be between"),
    (["--format", "png", "--width", "10"], "--width must be between 100 and 4096"),
]


@pytest.mark.parametrize(("args", "message"), BAD_ARGUMENTS, ids=[" ".join(a) for a, _ in BAD_ARGUMENTS])
def test_cli_rejects_bad_arguments_with_exit_code_2(args, message, tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(["export", *args, "--out", str(tmp_path / "x.html")])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert message in err, err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "x.html").exists()


@pytest.mark.parametrize(
    ("out", "message"),
    [
        ("missing/x.html", "does not exist"),
        ("x.txt", "--format html|gif|png"),
        ("folder.html", "is a folder"),
    ],
)
def test_cli_rejects_bad_out_paths(out, message, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "folder.html").mkdir()
    with pytest.raises(SystemExit) as stop:
        cli.main(["export", "--out", out])
    assert stop.value.code == 2
    assert message in capsys.readouterr().err


def test_cli_bad_arguments_exit_2_from_python_m(tmp_path):
    done = _python_m_optviz("export", "--surface", "nope", "--out", "x.gif", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith("python -m optviz export: error: --surface: unknown 'nope'")
    assert "Traceback" not in done.stderr


def test_without_a_browser_pictures_fail_with_one_line_and_exit_1(tmp_path, monkeypatch):
    monkeypatch.setenv("BROWSER_PATH", str(tmp_path / "no-such-chromium"))
    assert not export.browser_available()  # the page disables its GIF and PNG buttons
    env = {**os.environ, "BROWSER_PATH": str(tmp_path / "no-such-chromium"), "PYTHONPATH": str(REPO)}
    args = ["export", "--surface", "booth", "--steps", "20", "--out", str(tmp_path / "x.png")]
    result = subprocess.run(
        [sys.executable, "-m", "optviz", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "no Chromium or Chrome found" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
