"""What the lab's loss-and-distance curves (optviz/ui/race_curves) draw, packed as one JSON-able dict.

Pure: a surface and trajectories in, plain values out; no Streamlit, no drawing. Two panels, each
against the step t = 0 .. T, one curve per optimizer in its colour:

- the loss gap f(θ_t) − f*, on a log axis, where f* is the global minimum's value. A gap of exactly 0
  has no logarithm: it is floored at the smallest positive double (2.2e-308), so a run that hits the
  minimum exactly stays on the chart, at its bottom. On a surface unbounded below (no f*) the panel
  shows f(θ_t) itself, on a linear axis;
- the distance from θ_t to the nearest minimum (or saddle, on a surface without minima), on a log axis.

Each curve's values go as float32, base64 (optviz.packing.encode). On a log axis the value sent is
log10(v): float32 cannot hold 2.2e-308 (it flushes to 0, which has no logarithm) but holds its
logarithm, −307.65, to 7 digits, so v comes back to a relative 4e-5 over the whole double range. A
distance of 0 (log10 = −inf) or a NaN (a surface without landmarks) is a gap in the curve, as on
any log axis. On the linear axis a diverged run's f is clipped to ±float32's largest value.
6 optimizers x 501 steps x 2 panels: 24 KB of floats, 32 KB as base64.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from optviz.lab.race import distance_to_landmarks, landmarks, optimum_value
from optviz.optimizers import OPTIMIZERS
from optviz.packing import decode, encode
from optviz.simulate import Trajectory
from surfaces import Surface

FLOOR = np.finfo(np.float64).tiny  # the gap shown for a gap of 0 (or below: rounding near f*)
FLOAT32_MAX = float(np.finfo(np.float32).max)


def loss_gap(surface: Surface, trajectory: Trajectory) -> np.ndarray:
    """f(θ_t) − f*, floored at FLOOR; or f(θ_t) itself when the surface has no f*."""
    f_star = optimum_value(surface)
    if f_star is None:
        return trajectory.loss
    return np.maximum(trajectory.loss - f_star, FLOOR)


def axis_titles(surface: Surface) -> tuple[str, str]:
    """The two panels' y titles: the loss gap (or the loss) and the distance to the landmark."""
    _, landmark = landmarks(surface)
    loss = "f(θ_t) − f*  (log scale)" if optimum_value(surface) is not None else "f(θ_t)"
    return loss, f"distance to {landmark}"


def _packed(values: np.ndarray, log: bool) -> str:
    """One curve as float32 base64: log10(v) on a log axis (non-positive v: -inf, a gap), else v."""
    if log:
        with np.errstate(divide="ignore", invalid="ignore"):
            values = np.where(values > 0, np.log10(np.where(values > 0, values, 1.0)), -np.inf)
    else:
        values = np.clip(values, -FLOAT32_MAX, FLOAT32_MAX)
    return encode(values, "<f4")


def curves_data(surface: Surface, trajectories: Mapping[str, Trajectory], *, settings: str) -> dict:
    """Both panels' curves for one race; `settings` is the race's signature (race_data.signature),
    which tells the browser whether the curves are new."""
    log_loss = optimum_value(surface) is not None
    loss_title, distance_title = axis_titles(surface)
    first = next(iter(trajectories.values()), None)
    return {
        "signature": settings,
        "steps": first.steps if first is not None else 0,
        "axes": [
            {"title": loss_title, "log": log_loss},
            {"title": distance_title, "log": True},
        ],
        "curves": [
            {
                "name": name,
                "label": OPTIMIZERS[name].label,
                "colour": OPTIMIZERS[name].colour,
                "values": [
                    _packed(loss_gap(surface, t), log_loss),
                    _packed(distance_to_landmarks(surface, t.xy), True),
                ],
            }
            for name, t in trajectories.items()
        ],
    }


def unpack_curve(data: dict, curve: int, panel: int) -> np.ndarray:
    """A curve's values as the browser draws them (10 ** the log on a log axis; a gap is NaN)."""
    values = decode(data["curves"][curve]["values"][panel], "<f4").astype(np.float64)
    if not data["axes"][panel]["log"]:
        return values
    with np.errstate(invalid="ignore"):
        return np.where(np.isfinite(values), 10.0**values, np.nan)
