"""The drawing pad: a bidirectional `st.components.v2` component where a digit is drawn with the mouse
or a finger (optviz/ui/digit_pad/digit_pad.js), with a brush size, Undo and Clear.

The pad sends its drawing when a stroke ends and on Undo and Clear: 28 x 28 cells of ink, each the
mean coverage of its 10 x 10 pixels of a 280 x 280 px drawing (area averaging, as MNIST's grey levels
are anti-aliasing), as 784 bytes 0..255 in base64 (`{"pixels", "strokes", "revision"}` in its state
"drawing"). The strokes stay in the pad across reruns (it mounts once) and come back when the pad
is taken off the page and put back (its tab closed and opened again) in the same browser page.

Registered once, at import, from the files beside this module (optviz/ui/components.py).
"""

from __future__ import annotations

import base64
import binascii
from pathlib import Path

import numpy as np
import streamlit as st

from optviz.ui.components import from_files

NAME = "optviz.digit_pad"
SIZE = 28
_mount = from_files(NAME, Path(__file__).parent, kits=("canvas_kit",))


def digit_pad(where, *, key: str, presenter: bool = False) -> np.ndarray | None:
    """Mount (or update) the pad in `where`; return the last drawing it sent (28 x 28 floats in [0, 1],
    all zero once cleared), or None before it sent any. presenter: larger controls."""
    with where:
        _mount(key=key, data={"key": key, "presenter": presenter}, on_drawing_change=lambda: None)
    state = st.session_state.get(key)
    return decode(None if state is None else state.get("drawing"))


def decode(value) -> np.ndarray | None:
    """The pad's state value as 28 x 28 floats in [0, 1]; None for anything else (nothing sent yet,
    or a value the pad does not send: the browser is not trusted to send what the pad would)."""
    if not isinstance(value, dict) or not isinstance(value.get("pixels"), str):
        return None
    try:
        raw = base64.b64decode(value["pixels"], validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(raw) != SIZE * SIZE:
        return None
    return np.frombuffer(raw, dtype=np.uint8).reshape(SIZE, SIZE) / 255.0
