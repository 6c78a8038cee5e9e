"""Arrays packed for the browser's canvas components: each one base64 text of its values in a fixed
binary type, which the browser reads back with one typed array (canvas_kit.js: decodeBytes,
decodeFloat32). As JSON decimals the same numbers would take about three times the room."""

from __future__ import annotations

import base64

import numpy as np


def encode(array: np.ndarray, dtype: str) -> str:
    """`array` as base64 text of its `dtype` values (e.g. "<f4": float32, little-endian; "u1":
    bytes), in C order."""
    return base64.b64encode(np.ascontiguousarray(array, dtype=dtype).tobytes()).decode("ascii")


def decode(text: str, dtype: str) -> np.ndarray:
    """The values `encode` packed, as a flat array (what the browser decodes)."""
    return np.frombuffer(base64.b64decode(text), dtype=dtype)
