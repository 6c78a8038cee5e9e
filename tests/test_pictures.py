"""The race figure's surface drawn as a picture, which animation frames cannot erase (plotly.js#4491)."""

import base64
import io

import numpy as np
from PIL import Image

from optviz.lab import figures, pictures, race
from optviz.lab.config import RaceConfig
from surfaces import get_surface


def _race(surface="beale", panels=False):
    info = get_surface(surface)
    grid = race.surface_grid(info)
    trajectories = race.race(RaceConfig.create(surface, ["gd", "momentum", "adam"], info.default_start, 50))
    return info, figures.race_figure(
        info, grid, race.colouring(info, grid), trajectories, panels=panels
    ).to_dict()


def _png(image: dict) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(image["source"].split(",", 1)[1])))


def test_the_race_figure_draws_its_surface_as_a_picture_under_the_traces():
    info, figure = _race()
    (picture,) = figure["layout"]["images"]
    (x0, x1), (y0, y1) = info.bounds
    assert (picture["x"], picture["y"], picture["sizex"], picture["sizey"]) == (x0, y1, x1 - x0, y1 - y0)
    assert picture["layer"] == "below"
    contour = next(t for t in figure["data"] if t["type"] == "contour")
    assert contour.get("opacity", 1) == 1, "the crisp contour stays on top until Play erases it"
    image = _png(picture)
    side = 80 * pictures.BACKDROP_PIXELS_PER_CELL  # coarse: every browser redraw pays for its pixels
    assert image.size == (side, side)
    start, end, size = (contour["contours"][k] for k in ("start", "end", "size"))
    assert (end - start) / size <= 24 + 2
    # Low values light, high values dark (the grey scale); Beale's minimum (3, 0.5) is in a light band.
    pixels = np.asarray(image.convert("L"), float)
    column = round((3 - x0) / (x1 - x0) * (image.size[0] - 1))
    row = round((y1 - 0.5) / (y1 - y0) * (image.size[1] - 1))
    assert pixels[row, column] > pixels.mean() > pixels.min()


def test_no_frame_touches_the_picture_and_panels_get_one_each():
    _, figure = _race(panels=True)
    assert len(figure["layout"]["images"]) == 3
    assert {image["xref"] for image in figure["layout"]["images"]} == {"x", "x2", "x3"}
    contours = [i for i, t in enumerate(figure["data"]) if t["type"] == "contour"]
    assert not any(set(frame["traces"]) & set(contours) for frame in figure["frames"])


def test_pictures_are_kept_and_exports_get_a_fine_one_once():
    _, figure = _race()
    kept = len(pictures._kept)
    _race()  # the same surface again: its picture is reused, not redrawn
    assert len(pictures._kept) == kept
    # Exports (drawn once) get a fine picture over the coarse one, and the contour only keeps its colour bar.
    exported = pictures.surfaces_as_pictures(figure)
    coarse, fine = exported["layout"]["images"]
    assert _png(fine).size == (80 * pictures.PIXELS_PER_CELL,) * 2 and coarse == figure["layout"]["images"][0]
    assert next(t for t in exported["data"] if t["type"] == "contour")["opacity"] == 0
    assert pictures.surfaces_as_pictures(exported)["layout"]["images"] == exported["layout"]["images"]
