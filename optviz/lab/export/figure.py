"""The race figure as every export reads it: plain data, its animation frames and the steps they show.

Exports take the figure the lab's page shows (`figures.race_figure`, or any figure with the same
frames), as a Plotly figure or as its dict. The page, the browser and the images read it alike, so
that reading is written once, here: a JSON-ready copy (the caller's figure is never changed) whose
frames are named by the step they show.
"""

from __future__ import annotations

import copy
import json

from plotly.utils import PlotlyJSONEncoder

FrameDict = dict
NO_FRAMES = "the figure has no animation frames: pass the race figure (figures.race_figure)"


def as_dict(fig) -> dict:
    """The figure as plain JSON-ready data (frames included), without touching the caller's figure."""
    data = fig.to_dict() if hasattr(fig, "to_dict") else copy.deepcopy(fig)
    return json.loads(json.dumps(data, cls=PlotlyJSONEncoder))


def animation_frames(figure: dict) -> list[FrameDict]:
    """The frames of `figure` (plain data, see `as_dict`); a ValueError if it has none."""
    frames = figure.get("frames") or []
    if not frames:
        raise ValueError(NO_FRAMES)
    return frames


def frame_steps(fig) -> list[int]:
    """The steps the figure's animation frames show (frame names are step numbers), in order."""
    return [int(frame["name"]) for frame in as_dict(fig).get("frames", [])]
