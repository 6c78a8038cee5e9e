"""The optimizer lab's settings, stated once: the choices, ranges and defaults of its controls, their
link names, and `RaceConfig`, the frozen record of one race.

The page (optviz/ui/lab.py), its tabs (optviz/ui/lab_views.py), the command line
(`python -m optviz export`) and the exports all read their choices from here and build a
`RaceConfig` the same way, so a link's settings and a command line mean the same race. A record is
resolved at the edge that made it: the surface is a `Surface` (not a name to look up again), and
every hyperparameter of every optimizer is filled in.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from optviz.engine import STEP_BUCKETS, resolve_hyperparams
from optviz.optimizers import HYPERPARAMETERS, OPTIMIZERS
from optviz.params import hyperparameter_key
from optviz.schedules import CONSTANT, Schedule
from surfaces import Point, Surface, as_surface

DEFAULT_OPTIMIZERS = ("gd", "sgd", "momentum", "adagrad", "rmsprop", "adam")
MIN_STEPS, MAX_STEPS, STEP_STEP = 10, STEP_BUCKETS[-1], 10  # the step slider
MAX_SEED = 2**31 - 1
NOISE_RANGE = (HYPERPARAMETERS["noise"].low, HYPERPARAMETERS["noise"].high)
# The race-wide settings whose sidebar sliders the race chart races in the browser, as it races every
# hyperparameter's (optviz/ui/race_chart): their link names, which are the controls' keys too.
RACE_SLIDERS = ("steps", "noise")
SPEEDS = {"slow": 6, "normal": 15, "fast": 30, "very fast": 60}  # a GIF's frames per second
# The live chart's steps per second: "normal" plays a 500-step race in 10 s; it paints at the
# display's rate whatever the speed, moving the heads between steps.
CHART_SPEEDS = {"slow": 20, "normal": 50, "fast": 100, "very fast": 250}
LAYOUTS = ("Overlay", "Side by side")  # one contour map for all, or a panel per optimizer
# Equal scales (one unit as long on x as on y) on a window more than this many times wider than tall,
# or taller than wide, would leave a strip of a map.
EQUAL_SCALE_MAX_RATIO = 4.0
CUSTOM = "custom"  # the surface choice that reads a formula from a text box
EXAMPLE_FORMULA = "sin(x)*cos(y) + 0.1*(x**2 + y**2)"
FORMULA_WINDOW = ((-3.0, 3.0), (-3.0, 3.0))  # the formula's default plot window
SCHEDULE_LABELS = {"constant": "constant", "step": "step decay", "cosine": "cosine", "warmup": "warmup"}
SCHEDULE_GAMMAS = (0.1, 0.2, 0.5, 0.7, 0.9)  # step decay's factors
DEFAULT_GAMMA = 0.5


HYPERPARAMETER_KEYS = r"hp_\w+_\w+"  # every link name `params.hyperparameter_key` makes for the lab


# A start set on the map, as the start's boxes show it: a link stays short, and the race the chart draws
# while the start is dragged is the page's at the release.
START_DECIMALS = 3


def start_on_map(surface: Surface, x: float, y: float) -> tuple[float, float]:
    """A start picked on the chart (a drag, a click): clamped to the surface's window and rounded to
    START_DECIMALS. ValueError if x or y is not a finite number."""
    if not (math.isfinite(x) and math.isfinite(y)):
        raise ValueError(f"a start must be two finite numbers, got ({x}, {y})")
    (x0, x1), (y0, y1) = surface.bounds
    return round(min(max(x, x0), x1), START_DECIMALS), round(min(max(y, y0), y1), START_DECIMALS)


def default_every(steps: int) -> int:
    """Step decay's default interval: four decays over the run."""
    return max(steps // 4, 1)


def default_warmup(steps: int) -> int:
    """Warmup's default length: the first fifth of the run."""
    return max(steps // 5, 1)


def schedule(
    kind: str, steps: int, gamma: float = DEFAULT_GAMMA, every: int | None = None, warmup: int | None = None
) -> Schedule:
    """The lab's schedule of this kind for a run of `steps` steps (cosine anneals to zero over the
    run); settings left out take their defaults for that run."""
    if kind == "step":
        return Schedule("step", gamma=gamma, every=every or default_every(steps))
    if kind == "warmup":
        return Schedule("warmup", warmup=warmup or default_warmup(steps))
    if kind == "cosine":
        return Schedule("cosine", horizon=steps)
    return Schedule(kind)


@dataclass(frozen=True)
class RaceConfig:
    """One race, resolved: what the lab draws, every tab analyses and an export writes.

    Frozen and hashable, so it keys caches; `key` is the same settings as plain values (a formula
    surface's record holds a function, which a cache cannot hash: its name says everything).
    """

    surface: Surface
    optimizers: tuple[str, ...]  # the ones shown, in order
    start: Point
    steps: int
    # Every optimizer's hyperparameters (all of them race; the shown ones are returned), sorted.
    hyperparams: tuple[tuple[str, tuple[tuple[str, float], ...]], ...]
    noise: float = 0.0  # gradient noise every optimizer sees on top of its own
    seed: int = 0
    schedule: Schedule = CONSTANT

    @classmethod
    def create(
        cls,
        surface: str | Surface,
        optimizers: Sequence[str],
        start: Point | None = None,
        steps: int | None = None,
        hyperparams: Mapping[str, Mapping[str, float]] | None = None,
        noise: float = 0.0,
        seed: int = 0,
        schedule: Schedule = CONSTANT,
    ) -> RaceConfig:
        """A race on `surface` (a record, or its name): start and steps default to the surface's,
        and each optimizer's hyperparameters to its recommendation there, overridden by `hyperparams`."""
        surface = as_surface(surface)
        given = dict(hyperparams or {})
        resolved = {name: resolve_hyperparams(surface, name, given.get(name)) for name in OPTIMIZERS}
        start = surface.default_start if start is None else start
        return cls(
            surface=surface,
            optimizers=tuple(dict.fromkeys(optimizers)),
            start=(float(start[0]), float(start[1])),
            steps=int(surface.default_steps if steps is None else steps),
            hyperparams=tuple((name, tuple(sorted(values.items()))) for name, values in resolved.items()),
            noise=float(noise),
            seed=int(seed),
            schedule=schedule,
        )

    def hyperparams_of(self, optimizer: str) -> dict[str, float]:
        return dict(dict(self.hyperparams)[optimizer])

    def tuned(self, values: Mapping[str, float]) -> RaceConfig:
        """This race with some settings changed, named as in a link: a hyperparameter of one of its
        optimizers (`hyperparameter_key`, e.g. hp_adam_lr) or one of RACE_SLIDERS (steps, noise),
        each clamped to its range (steps: a whole number; a cosine schedule anneals over them): what
        the race chart races as the sliders it watches move (its own, and the sidebar's).
        ValueError for a name that is none of these, or a value that is not a finite number."""
        names = self._hyperparameter_names()
        hyperparams = {optimizer: dict(values_of) for optimizer, values_of in self.hyperparams}
        steps, noise = self.steps, self.noise
        for key, value in values.items():
            if key not in names and key not in RACE_SLIDERS:
                raise ValueError(f"{key} is not a setting of this race")
            if not math.isfinite(value):
                raise ValueError(f"{key} must be a finite number, got {value}")
            if key == "steps":
                steps = min(max(round(value), MIN_STEPS), MAX_STEPS)
            elif key == "noise":
                noise = min(max(float(value), NOISE_RANGE[0]), NOISE_RANGE[1])
            else:
                optimizer, name = names[key]
                info = HYPERPARAMETERS[name]
                hyperparams[optimizer][name] = min(max(float(value), info.low), info.high)
        s = self.schedule
        return replace(
            self,
            steps=steps,
            noise=noise,
            hyperparams=tuple((name, tuple(sorted(v.items()))) for name, v in hyperparams.items()),
            schedule=s if steps == self.steps else schedule(s.kind, steps, s.gamma, s.every, s.warmup),
        )

    def setting(self, key: str) -> float:
        """The value of a setting named as in a link, as `tuned` takes them (KeyError for another)."""
        if key in RACE_SLIDERS:
            return getattr(self, key)
        optimizer, name = self._hyperparameter_names()[key]
        return self.hyperparams_of(optimizer)[name]

    def _hyperparameter_names(self) -> dict[str, tuple[str, str]]:
        """Link name -> (optimizer, hyperparameter) for the hyperparameters of the optimizers racing."""
        return {
            hyperparameter_key(optimizer, name): (optimizer, name)
            for optimizer, values_of in self.hyperparams
            if optimizer in self.optimizers
            for name, _ in values_of
        }

    @property
    def key(self) -> tuple:
        """The settings as plain, hashable values: what a cache keys this race by."""
        return (
            self.surface.name,
            self.optimizers,
            self.start,
            self.steps,
            self.hyperparams,
            self.noise,
            self.seed,
            self.schedule,
        )


@dataclass(frozen=True)
class RaceView:
    """How the page shows a race: one map or a panel per optimizer (`panels`), the animation speed's
    name (`SPEEDS`), and x and y on one scale or each fitted to the map's box (`equal_scale`)."""

    panels: bool = False
    speed: str = "normal"
    equal_scale: bool = False


def window_ratio(surface: Surface) -> float:
    """How many times longer the window's longer side is than its shorter (1: a square window)."""
    (x0, x1), (y0, y1) = surface.bounds
    width, height = x1 - x0, y1 - y0
    return max(width / height, height / width)


def equal_scale_fits(surface: Surface) -> bool:
    """Whether the map can draw x and y on one scale, so that the gradient, which is perpendicular to
    the contours, is drawn perpendicular to them: on a window not too far from square."""
    return window_ratio(surface) <= EQUAL_SCALE_MAX_RATIO
