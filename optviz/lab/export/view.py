"""One export of the lab's race, named completely: the view it shows and the file it is.

The page's download buttons and `python -m optviz export` both describe what they want as a
`RaceExport` (the page has it made with `make_apart`, in the render process; the command line with
`make`, here), so a link's view and a command line with the same settings give the same file.
Frozen and hashable: `key` is what the shared renders (`export.jobs`) know a file by, the race's
settings as its link holds them (`RaceConfig.key`) with the view options and the file's format and
size, so everyone who asks for the same view shares one file.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial

from optviz.lab.config import CHART_SPEEDS, SPEEDS, RaceConfig
from optviz.lab.export.images import (
    MIN_GIF_DELAY_MS,
    Progress,
    draw,
    gif_seconds,
    no_progress,
)
from optviz.lab.export.limits import LIMITS
from optviz.lab.export.process import RENDER_PROCESS
from optviz.lab.race import colouring, race, surface_grid
from optviz.lab.race_data import race_data, signature
from surfaces import get_surface

GIF_SIZE, PNG_SIZE = (960, 540), (1280, 720)  # the pictures' default sizes
GIF_FRAMES = 100  # a GIF's default frame count (fewer for a race of fewer steps)
HTML_HEIGHT = 520  # the HTML page's chart, controls included (CSS px)


@dataclass(frozen=True)
class RaceExport:
    """The lab's race `config` as an HTML page, a GIF or a PNG (`kind`), as the page shows it: one
    map or a panel per optimizer, at the animation `speed` the page names ("normal": the HTML page
    plays at the live chart's steps per second, `lab.CHART_SPEEDS`; a GIF shows `lab.SPEEDS` frames
    a second), in presenter style or not, x and y on one scale or not. Options
    left None take their defaults: `frames` min(100, steps + 1), `step` the last, `width` x `height`
    960 x 540 for a GIF and 1280 x 720 for a PNG (for HTML, `height` is the chart's, 520)."""

    config: RaceConfig
    kind: str
    panels: bool = False
    speed: str = "normal"
    presenter: bool = False
    equal_scale: bool = False
    frames: int | None = None
    step: int | None = None
    width: int | None = None
    height: int | None = None
    scale: float = 1.0

    @property
    def key(self) -> tuple:
        """The export's plain, hashable name: the same for everyone asking for the same file."""
        return (
            self.kind,
            self.config.key,
            self.panels,
            self.speed,
            self.presenter,
            self.equal_scale,
            self.frames,
            self.step,
            self.width,
            self.height,
            self.scale,
        )

    @property
    def gif_fps(self) -> int:
        """The GIF's frames per second: the speed's, at most 50 (GIF delays are centiseconds)."""
        return min(SPEEDS[self.speed], 1000 // MIN_GIF_DELAY_MS)

    @property
    def chart_speed(self) -> int:
        """The HTML page's steps per second: the live chart's at this speed."""
        return CHART_SPEEDS[self.speed]

    @property
    def gif_frames(self) -> int:
        return self.frames if self.frames is not None else min(GIF_FRAMES, self.config.steps + 1)

    def chart_data(self) -> dict:
        """What the live race chart is given for this view (optviz/ui/race_chart: the race packed by
        `race_data`, as the lab's page packs it, and the view's look), for a recording: the start
        cannot be dragged (`interactive`). Pictures set `height` to their own."""
        c = self.config
        grid = surface_grid(c.surface)
        packed = race_data(c.surface, grid, colouring(c.surface, grid), race(c), settings=signature(c.key))
        return {
            "race": packed,
            "answer": 0,
            "speed": self.chart_speed,
            "panels": self.panels,
            "equalScale": self.equal_scale,
            "presenter": self.presenter,
            "height": self.height or HTML_HEIGHT,
            "error": None,
            "interactive": False,
        }

    def options(self) -> dict:
        """How the file is drawn: the keyword arguments of `to_html`, `to_gif` or `to_png`."""
        if self.kind == "gif":
            width, height = self.width or GIF_SIZE[0], self.height or GIF_SIZE[1]
            return {"frames": self.gif_frames, "fps": self.gif_fps, "width": width, "height": height}
        if self.kind == "png":
            width, height = self.width or PNG_SIZE[0], self.height or PNG_SIZE[1]
            return {"step": self.step, "width": width, "height": height, "scale": self.scale}
        return {"title": f"optviz: {self.config.surface.title}"}

    def make(self, progress: Progress = no_progress) -> bytes:
        """The file's bytes (`progress` is told the share done, and may raise to stop a picture).
        ValueError for an option out of range; ExportError if a picture cannot be drawn."""
        data = self.chart_data()
        progress(0.05)  # the race and its packing: the picture is the rest
        return self.render(data, progress)

    def render(self, data: dict, progress: Progress = no_progress) -> bytes:
        """`make`, from the view's chart data made already (`chart_data`)."""
        return draw(self.kind, data, self.options(), progress)

    def make_apart(self, progress: Progress = no_progress) -> bytes:
        """`make` as the app makes its files: in the render process (`export.process`), so that the
        race, its packing and the picture never hold up this process's page runs."""
        portable = replace(self, config=replace(self.config, surface=None))
        work = partial(_make_with_surface, self.config.surface.name, portable)
        return RENDER_PROCESS.render(work, progress, LIMITS.timeout_s)

    def describe(self) -> str:
        """What the view's file holds, in a few words ("100 frames, 8.1 s a loop")."""
        if self.kind == "gif":
            return f"{self.gif_frames} frames, {gif_seconds(self.gif_frames, self.gif_fps):.1f} s a loop"
        if self.kind == "png":
            return f"step {self.config.steps if self.step is None else self.step}"
        return f"{self.config.steps} steps, plays at {self.chart_speed} steps/s"


def _make_with_surface(surface: str, export: RaceExport, progress: Progress) -> bytes:
    """`export.make(progress)` with its surface given by name: how an export travels to the render
    process (a formula surface's record holds a function, which does not pickle; its name rebuilds
    it, `surfaces.get_surface`)."""
    return replace(export, config=replace(export.config, surface=get_surface(surface))).make(progress)
