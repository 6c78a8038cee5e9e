r"""A digit drawn by hand, made into an MNIST digit and explained by a trained MLP, one image at a time.

`preprocess` repeats what was done to the MNIST digits (LeCun, Cortes & Burges, "The MNIST database"):
the ink's bounding box is scaled, keeping its aspect ratio and anti-aliased, so that its larger side
is 20 px, and pasted into a 28 x 28 field so that its centre of mass lands on the field's centre. A
network trained on MNIST has only seen digits made this way: a digit drawn small in a corner of the
pad, fed as drawn, would be as foreign to it as a digit of another alphabet.

`explain` is one image's forward and backward pass through the MLP of `optviz.mlp.model`,

    u = x W_1 + b_1,   h = \sigma(u),   z = h W_2 + b_2,   p = softmax(z),   L = -\log p_y

for a label y that the caller chooses (not necessarily the true one: the pad has none). It returns
p, h and the gradients of L with respect to the input pixels (a saliency map: which pixels, made
darker, would raise the loss for label y, and which would lower it) and to the first layer's
parameters. For one image dL/db_1 = dL/du, and dL/dW_1 = x^T (dL/du) is an outer product: column j of
dL/dW_1 is the input image itself, scaled by dL/du_j. Every hidden unit's weights move along the
same picture, each by its own amount.
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from PIL import Image

from optviz.mlp.model import ACTIVATIONS, N_CLASSES, N_PIXELS, Params, forward, hidden_layer

SIZE = 28  # MNIST's field
BOX = 20  # the larger side of the digit's bounding box in that field
# Where MNIST put the centre of mass, as (row, column) indices 0..27: the bundled digits' centres of
# mass average (14.00, 14.01), each within half a pixel (an integer shift).
CENTRE = (14, 14)
MAX_SIDE = 4096  # a larger input is refused, not resampled
# A drawing is a single dot, not a digit, when its well-inked pixels (at least half covered) span
# fewer than this in both directions, in pixels of a 28 x 28 pad (a pad of another size in
# proportion): the thick brush's dot (4 px across) spans at most 4 of them, a tap that slips 5.
MIN_EXTENT = 6
EMPTY_MESSAGE = "The pad is empty: draw a digit (0 to 9) to see what each network makes of it."
DOT_MESSAGE = "That is a single dot, too small to be a digit: draw a whole digit, as large as the pad."


# --- preprocessing ------------------------------------------------------------------------------


def preprocess(pixels) -> np.ndarray:
    """A drawing (H x W, ink in [0, 1], 0 the background) as an MNIST digit: 28 x 28 floats in [0, 1].

    1. Crop to the bounding box of the ink (every pixel above 0, as MNIST's box includes the grey
       edges of its strokes: the bundled digits' boxes are all exactly 20 px on their larger side).
    2. Scale the box so that its larger side is 20 px, keeping the aspect ratio ("1" stays thin),
       with Lanczos resampling: anti-aliased, as MNIST's grey levels came from anti-aliasing.
    3. Paste it into a 28 x 28 field shifted so that its centre of mass (the ink-weighted mean
       position) lands on CENTRE, to the nearest pixel. A shift that would push ink out of the field
       (a digit whose ink is mostly at one end) stops at the field's edge: nothing is cut off.

    ValueError with a sentence for input that is not an H x W array in [0, 1], for an empty drawing
    (EMPTY_MESSAGE) and for a single dot (DOT_MESSAGE: see MIN_EXTENT).
    """
    image = _checked(pixels)
    rows, cols = np.flatnonzero(image.any(axis=1)), np.flatnonzero(image.any(axis=0))
    if not len(rows):
        raise ValueError(EMPTY_MESSAGE)
    inked_rows, inked_cols = np.nonzero(image >= 0.5)
    extent = max(np.ptp(inked_rows) + 1, np.ptp(inked_cols) + 1) if len(inked_rows) else 0
    if extent < MIN_EXTENT * max(image.shape) / SIZE:
        raise ValueError(DOT_MESSAGE)
    box = image[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    scale = BOX / max(box.shape)
    height, width = (max(1, round(side * scale)) for side in box.shape)
    if (height, width) != box.shape:
        resized = Image.fromarray(box.astype(np.float32)).resize((width, height), Image.Resampling.LANCZOS)
        box = np.clip(np.asarray(resized, dtype=np.float64), 0.0, 1.0)  # Lanczos rings a little
    row, col = _centre_of_mass(box)
    top = int(np.clip(np.floor(CENTRE[0] - row + 0.5), 0, SIZE - height))
    left = int(np.clip(np.floor(CENTRE[1] - col + 0.5), 0, SIZE - width))
    digit = np.zeros((SIZE, SIZE))
    digit[top : top + height, left : left + width] = box
    return digit


def _checked(pixels) -> np.ndarray:
    """`pixels` as a float64 H x W array in [0, 1], or ValueError saying what is wrong with it."""
    try:
        image = np.asarray(pixels, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("A drawing must be an array of numbers.") from None
    if image.ndim != 2 or min(image.shape) < 1 or max(image.shape) > MAX_SIDE:
        raise ValueError(f"A drawing must be an H x W array of pixels, at most {MAX_SIDE} a side.")
    if not np.all(np.isfinite(image)) or image.min() < 0 or image.max() > 1:
        raise ValueError("A drawing's pixels must be numbers from 0 (background) to 1 (ink).")
    return image


def _centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    """The ink-weighted mean (row, column) of a non-empty image, in pixel indices."""
    total = image.sum()
    rows, cols = np.indices(image.shape)
    return float((rows * image).sum() / total), float((cols * image).sum() / total)


# --- one image through the network --------------------------------------------------------------


class Explanation(NamedTuple):
    """One image through the MLP, forward and backward, as NumPy (the parameters' float type)."""

    probabilities: np.ndarray  # (10,): p = softmax(z)
    hidden: np.ndarray  # (hidden,): h = σ(x W_1 + b_1)
    label: int  # y, the class the loss is for
    loss: float  # L = -log p_y
    saliency: np.ndarray  # (28, 28): dL/dx, pixel by pixel
    grad_w1: np.ndarray  # (784, hidden): dL/dW_1 = outer(x, dL/du)
    grad_b1: np.ndarray  # (hidden,): dL/db_1 = dL/du, u = x W_1 + b_1 (before the activation)


def explain(params: Params, image, activation: str, label: int | None = None) -> Explanation:
    """`image` (28 x 28 or 784 pixels in [0, 1], e.g. from `preprocess`) through the network
    `params`, and the gradients of L = -log p_label with respect to the pixels and to W_1 and b_1.
    label None: the class the network predicts (the gradient then says what would make it surer).

    One compiled call per hidden size, activation and float type (the label is traced: choosing
    another does not recompile): ~0.3 s to compile, then ~0.4 ms a call for 128 hidden units and
    ~0.5 ms for 512 on this 2-core machine, so a stroke's update is the page's, not the network's.
    ValueError for an unknown activation, a label that is not a digit, or an image of another size.
    """
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; choose one of: {', '.join(ACTIVATIONS)}")
    if label is not None and not (isinstance(label, int | np.integer) and 0 <= label < N_CLASSES):
        raise ValueError(f"the label must be a digit from 0 to 9, not {label!r}")
    params = Params(*(np.asarray(p) for p in params))
    x = np.asarray(image, dtype=params.w1.dtype)
    if x.size != N_PIXELS:
        raise ValueError(f"an image has {N_PIXELS} pixels (28 x 28), not {x.size}")
    chosen = jnp.int32(-1 if label is None else label)
    outputs = _explain(params, x.reshape(N_PIXELS), chosen, activation=activation)
    p, h, y, loss, gx, gw1, gb1 = (np.asarray(v) for v in outputs)
    return Explanation(p, h, int(y), float(loss), gx.reshape(SIZE, SIZE), gw1, gb1)


@partial(jax.jit, static_argnames="activation")
def _explain(params: Params, x, label, *, activation: str):
    """p, h, y, L and (dL/dx, dL/dW_1, dL/db_1) for one flat image x: one jax.value_and_grad.
    label -1 stands for the predicted class."""
    h = hidden_layer(params, x[None], activation)[0]
    p = jax.nn.softmax(h @ params.w2 + params.b2)
    y = jnp.where(label < 0, jnp.argmax(p), label)

    def loss(x, w1, b1):
        logits = forward(params._replace(w1=w1, b1=b1), x[None], activation)[0]
        return -jax.nn.log_softmax(logits)[y]

    value, (gx, gw1, gb1) = jax.value_and_grad(loss, argnums=(0, 1, 2))(x, params.w1, params.b1)
    return p, h, y, value, gx, gw1, gb1


def strongest_units(explanation: Explanation, count: int = 8) -> np.ndarray:
    """The `count` hidden units with the largest |dL/du_j| (= |dL/db_1[j]|), largest first: the units
    whose weights this image's gradient moves most (column j of dL/dW_1 is x scaled by dL/du_j)."""
    return np.argsort(-np.abs(explanation.grad_b1), kind="stable")[:count]


__all__ = [
    "BOX",
    "CENTRE",
    "DOT_MESSAGE",
    "EMPTY_MESSAGE",
    "MIN_EXTENT",
    "SIZE",
    "Explanation",
    "explain",
    "preprocess",
    "strongest_units",
]
