"""Offline exports (optviz.lab.export) and the command line (python -m optviz export).

Images are drawn by Debian's Chromium (apt-get install chromium), as in tests/e2e; never a download.
"""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageColor

from optviz.lab import cli, export
from optviz.lab.config import RaceConfig
from optviz.lab.export import layers
from optviz.lab.export.browser import Page
from optviz.lab.export.figure import as_dict, still_figure
from optviz.lab.figures import race_figure
from optviz.lab.race import colouring, race, surface_grid
from optviz.optimizers import OPTIMIZERS
from optviz.plotting import presenter_style
from surfaces import get_surface

REPO = Path(__file__).resolve().parents[1]
SIX = ["gd", "sgd", "momentum", "adagrad", "rmsprop", "adam"]
HTML_BUDGET_BYTES = 6_000_000  # 6 optimizers x 300 steps, plotly.js included
GIF_BUDGET_BYTES = 5_000_000  # 100 frames


def _figure(optimizers, steps, *, panels=False, frame_ms=66):
    surface = get_surface("beale")
    grid = surface_grid(surface)
    runs = race(RaceConfig.create("beale", optimizers, surface.default_start, steps))
    return race_figure(surface, grid, colouring(surface, grid), runs, panels=panels, frame_ms=frame_ms)


@pytest.fixture(scope="module")
def six_by_300():
    return _figure(SIX, 300)


@pytest.fixture(scope="module")
def html_file(six_by_300, tmp_path_factory):
    path = tmp_path_factory.mktemp("export") / "race.html"
    path.write_bytes(export.to_html(six_by_300, title="Beale race"))
    return path


# --- HTML ------------------------------------------------------------------------------------------


def test_html_is_self_contained_and_within_budget(html_file):
    page = html_file.read_text(encoding="utf-8")
    assert len(page.encode()) <= HTML_BUDGET_BYTES, f"{len(page.encode()) / 1e6:.2f} MB"
    assert "plotly.js v" in page[:20_000] or re.search(r"plotly\.js v\d", page), "plotly.js is not inlined"
    assert not re.search(r"<script[^>]+src=[\"']?(https?:)?//", page), "a script is loaded from the network"
    assert "<title>Beale race</title>" in page
    # The policy comes first in <head>, before any script it must govern.
    assert page.index('http-equiv="Content-Security-Policy"') < page.index("<script")
    assert f'content="{export.html.CSP}"' in page and "default-src 'none'" in export.html.CSP
    # Autoplay at the Play button's speed (66 ms a frame), without redrawing (the paths stay).
    assert re.search(r'Plotly\.animate\([^)]*"duration":\s*66', page), "no autoplay at the figure's speed"


def test_html_keeps_play_button_slider_and_every_frame(six_by_300, html_file):
    page = html_file.read_text(encoding="utf-8")
    compact = page.replace(" ", "")
    assert '"label":"\\u25b6Play"' in compact or '"label":"▶Play"' in compact, "no Play button"
    assert '"sliders":[{' in compact and '"currentvalue":{"prefix":"step' in compact, "no step slider"
    assert export.frame_steps(six_by_300) == list(range(301))
    assert '"name":"300"' in compact, "the last step's frame is missing"


# --- stills ---------------------------------------------------------------------------------------


def test_steps_for_gifs_and_stills(six_by_300):
    steps = export.gif_steps(six_by_300, 100)
    assert len(steps) == 100 and steps[0] == 0 and steps[-1] == 300
    assert steps == sorted(set(steps))
    assert export.nearest_step(six_by_300, None) == 300
    with pytest.raises(ValueError, match="between 0 and 300"):
        export.nearest_step(six_by_300, 301)
    with pytest.raises(ValueError, match="2 to 301"):
        export.gif_steps(six_by_300, 302)
    long_race = _figure(["gd"], 1000)
    assert export.nearest_step(long_race, 3) in (2, 4)  # 501 frames for 1000 steps


def test_png_has_the_size_asked_for_and_later_steps_differ(six_by_300):
    images = [
        Image.open(io.BytesIO(export.to_png(six_by_300, step, width=640, height=360))) for step in (0, 150)
    ]
    assert all(image.format == "PNG" and image.size == (640, 360) for image in images)
    a, b = (np.asarray(image.convert("RGB"), int) for image in images)
    assert (np.abs(a - b).sum(axis=-1) > 30).sum() > 100, "the heads did not move between step 0 and 150"
    # The surface is there (grey bands, not the empty plot background #e5ecf6).
    assert not np.all(a[200, 100:500] == a[200, 100]), "no contour bands across the plot"


def test_gif_has_the_frames_size_and_budget(six_by_300):
    gif = export.to_gif(six_by_300, frames=100, fps=15)
    image = Image.open(io.BytesIO(gif))
    assert image.format == "GIF" and image.n_frames == 100 and image.size == (960, 540)
    assert image.info["loop"] == 0
    assert len(gif) <= GIF_BUDGET_BYTES, f"{len(gif) / 1e6:.2f} MB"
    image.seek(99)
    assert image.info["duration"] == 1500, "the last frame is held 1.5 s"


def _chart_picture(fig, step: int, width: int, height: int, scale: float = 1) -> np.ndarray:
    """The figure as Plotly itself draws it with the heads at `step` (the frame applied to the
    traces, as the chart's slider does), without any caption: the reference for an export."""
    figure = as_dict(fig)
    frame = next(f for f in figure["frames"] if int(f["name"]) == step)
    still = still_figure(figure, width, height)
    data = list(still["data"])
    for index, moved in zip(frame["traces"], frame["data"], strict=True):
        data[index] = {**data[index], **moved}

    async def draw(page):
        await page.resize(width, height, scale)
        await page.call("drawFigure", {**still, "data": data}, [])
        shot = await page.screenshot()
        await page.call("clearPage")
        return shot

    return _rgb(layers.BROWSER.run(draw, timeout=60))


def _rgb(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), int)


PICTURE_CASES = [  # optimizers, panels, presenter, width, height, scale
    (["gd", "momentum", "adam"], False, False, 1280, 720, 1),
    (["gd", "sgd", "momentum", "adam"], True, False, 960, 540, 1),
    (SIX, False, True, 1280, 720, 1),
    (["gd", "adam"], False, False, 640, 360, 2),
]


@pytest.mark.parametrize(
    ("optimizers", "panels", "presenter", "width", "height", "scale"),
    PICTURE_CASES,
    ids=["overlay", "side-by-side", "presenter", "scale-2"],
)
def test_a_picture_is_the_chart_at_the_same_step(optimizers, panels, presenter, width, height, scale):
    """Composited from stamps, the picture matches Plotly drawing the chart at that step: a marker
    one pixel off moves 60-130 pixels by more than 48 levels (measured); these stay under 12."""
    fig = _figure(optimizers, 300, panels=panels)
    if presenter:
        presenter_style(fig)
    for step in (0, 37, 150):
        chart = _chart_picture(fig, step, width, height, scale)
        picture = _rgb(export.to_png(fig, step, width=width, height=height, scale=scale))
        assert picture.shape == chart.shape == (height * scale, width * scale, 3)
        off = np.abs(picture - chart).max(axis=-1)
        caption = off[-int(40 * scale) :, -int(150 * scale) :].copy()
        off[-int(40 * scale) :, -int(150 * scale) :] = 0  # the caption is the picture's own
        assert (off > 48).sum() <= 30 and off.mean() < 0.05, f"step {step}: {(off > 48).sum()} pixels off"
        assert (caption > 100).sum() > 50, "no 'step N' caption"


def test_the_gif_keeps_every_optimizer_colour(six_by_300):
    """A palette built from the figure: each head marker's colour exactly, and the paths within a
    few levels of the PNG of the same step (3.4 on average; a palette fitted to the picture as a
    whole puts them 9.4 levels off)."""
    gif = Image.open(io.BytesIO(export.to_gif(six_by_300, frames=11, fps=15, width=960, height=540)))
    palette = {tuple(c) for c in np.asarray(gif.getpalette()).reshape(-1, 3)}
    for name in SIX:
        assert ImageColor.getrgb(OPTIMIZERS[name].colour) in palette, name
    gif.seek(5)  # step 150
    frame = np.asarray(gif.convert("RGB"), int)
    png = _rgb(export.to_png(six_by_300, 150, width=960, height=540))
    colourful = png.max(axis=-1) - png.min(axis=-1) > 40
    off = np.abs(frame - png).max(axis=-1)
    assert colourful.sum() > 1000 and off[colourful].mean() < 5, off[colourful].mean()
    exact = {}  # pixels of exactly an optimizer's colour (its head) in the PNG and the GIF
    for name in SIX:
        rgb = ImageColor.getrgb(OPTIMIZERS[name].colour)
        exact[name] = [(np.abs(image - rgb).sum(axis=-1) == 0).sum() for image in (png, frame)]
    assert all(in_gif >= in_png for in_png, in_gif in exact.values()), exact
    assert sum(in_png >= 20 for in_png, _ in exact.values()) >= 3, exact  # heads overlap at times


def test_a_browser_killed_while_drawing_says_so_and_the_next_export_works(monkeypatch):
    fig = _figure(["gd", "adam"], 50)
    export.to_png(fig, width=320, height=180)  # the browser runs
    call = Page.call

    async def kill_mid_drawing(page, function, *args):
        if function == "drawSheet":  # after the background, before the stamps
            os.killpg(layers.BROWSER.pid, signal.SIGKILL)
        return await call(page, function, *args)

    monkeypatch.setattr(Page, "call", kill_mid_drawing)
    with pytest.raises(export.ExportError, match="browser stopped while drawing"):
        export.to_png(fig, width=320, height=180)
    monkeypatch.setattr(Page, "call", call)
    assert Image.open(io.BytesIO(export.to_png(fig, width=320, height=180))).size == (320, 180)


def test_export_rejects_what_it_cannot_draw(six_by_300):
    with pytest.raises(ValueError, match="no animation frames"):
        export.to_html({"data": [], "layout": {}})
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
    assert (tmp_path / "race.html").stat().st_size > 4_000_000
    assert re.fullmatch(r"wrote race\.html \(\d\.\d\d MB, HTML, 301 frames, .*\)\n", done.stdout)


def test_cli_takes_every_page_control(tmp_path, capsys):
    out = tmp_path / "custom.html"
    code = cli.main(
        [
            "export", "--surface", "Custom", "--formula", "x^2 + 3*y^2", "--formula_x0", "-2",
            "--formula_x1", "2", "--start_x", "1.5", "--start_y", "1", "--optimizers", "adam,gd",
            "--hp_adam_lr", "0.05", "--hp_adam_b1", "0.8", "--steps", "40", "--noise", "0.5",
            "--seed", "3", "--schedule", "step", "--schedule_gamma", "0.7", "--schedule_every", "10",
            "--layout", "Side by side", "--speed", "very fast", "--presenter", "--out", str(out),
        ]
    )  # fmt: skip
    assert code == 0
    page = out.read_text(encoding="utf-8")
    assert '"meta":"presenter"' in page.replace(" ", ""), "presenter mode: the page's larger style"
    assert '"duration":16' in page.replace(" ", ""), "very fast = 60 steps/s = 16 ms a frame"
    assert page.replace(" ", "").count('"ncontours":24') == 2, "side by side: one map per optimizer"
    assert "41 frames" in capsys.readouterr().out


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
