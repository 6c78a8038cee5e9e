"""The race figure as every export reads it: plain data, its animation frames and the steps they show.

Exports take the figure the lab's page shows (`figures.race_figure`, or any figure with the same
frames), as a Plotly figure or as its dict. The page, the browser and the images read it alike, so
that reading is written once, here: a JSON-ready copy (the caller's figure is never changed) whose
frames are named by the step they show and move the same traces (the head markers), and the still
version of it that pictures are drawn from.
"""

from __future__ import annotations

import copy
import json

from plotly.utils import PlotlyJSONEncoder

FrameDict = dict
NO_FRAMES = "the figure has no animation frames: pass the race figure (figures.race_figure)"


class PlainFigure(dict):
    """A figure's dict made by `as_dict`: plain JSON-ready data already, read but never changed."""


def as_dict(fig) -> PlainFigure:
    """The figure as plain JSON-ready data (frames included), without touching the caller's figure;
    one made already is returned as it is (the exports read a figure many times)."""
    if isinstance(fig, PlainFigure):
        return fig
    data = fig.to_dict() if hasattr(fig, "to_dict") else copy.deepcopy(fig)
    return PlainFigure(json.loads(json.dumps(data, cls=PlotlyJSONEncoder)))


def animation_frames(figure: dict) -> list[FrameDict]:
    """The frames of `figure` (plain data, see `as_dict`); a ValueError if it has none."""
    frames = figure.get("frames") or []
    if not frames:
        raise ValueError(NO_FRAMES)
    return frames


def frame_steps(fig) -> list[int]:
    """The steps the figure's animation frames show (frame names are step numbers), in order."""
    return [int(frame["name"]) for frame in as_dict(fig).get("frames", [])]


def moving_traces(figure: dict) -> list[int]:
    """The indices of the traces the frames move (the head markers), as the first frame lists them."""
    return list(animation_frames(figure)[0]["traces"])


def still_figure(figure: dict, width: int, height: int) -> dict:
    """The figure for a picture, width x height CSS pixels: without frames, Play button or step
    slider (they do nothing in a picture; a "step N" caption goes where they were, 60 px of bottom
    margin), and without zooming."""
    still = {key: value for key, value in figure.items() if key != "frames"}
    layout = still["layout"] = dict(still["layout"])
    layout.pop("updatemenus", None)
    layout.pop("sliders", None)
    layout.update(margin={**layout.get("margin", {}), "b": 60}, width=width, height=height, dragmode=False)
    return still
