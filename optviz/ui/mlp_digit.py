"""The MLP page's "Draw a digit" tab: a drawing pad beside the trained networks. The drawing is made
into an MNIST digit (optviz.mlp.digit.preprocess), and each optimizer's network shows what it makes
of it: the class probabilities, the hidden layer, and this one image's backward pass, to the pixels
(a saliency map) and to the first layer's weights.

The budget is 150 ms from a stroke's end to the networks' answer on screen. A stroke reruns only
the pad and what it explains (an `st.fragment`), and everything that draws is plain HTML: numbers,
bars and small pictures inlined as PNG, no Plotly chart (mounting one costs the browser tens of
milliseconds, and a card has four). Measured in the browser on this 2-core machine with the page's
six optimizers at 128 hidden units: a median of ~100 ms with the fragment, ~155 ms when a stroke
reran the whole page (tests/e2e/test_digit_pad_browser.py). The server's part, six explain calls
and the pictures, is at most ~20 ms (512 hidden units). The label whose loss is differentiated is a
link parameter, so its selectbox stands outside the fragment: choosing a label reruns the page,
which writes the link.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import plotly.colors
import streamlit as st
from PIL import Image

from optviz import mlp
from optviz.mlp import digit
from optviz.mlp.figures import _tile
from optviz.optimizers import OPTIMIZERS
from optviz.ui.digit_pad import digit_pad
from optviz.ui.url_state import PageState

LINK_PARAMETERS = ("digit_label",)  # this tab's controls, for the page's PageState(known=...)
PREDICTED = "predicted"
LABEL_CHOICES = [PREDICTED, *(str(d) for d in range(mlp.N_CLASSES))]
PAD_KEY = "digit_pad"
UNITS_SHOWN = 8  # columns of dL/dW_1 drawn: those of the units with the largest |dL/du_j|
BAR_REM = 4.0  # the height of a probability bar of 1
# Plotly's RdBu_r, as the page's weight pictures use it (blue -, white 0, red +), as 256 RGB rows.
_DIVERGING = np.array(
    [
        [int(v) for v in colour[4:-1].split(",")]
        for colour in plotly.colors.sample_colorscale("RdBu_r", np.linspace(0, 1, 256))
    ],
    dtype=np.uint8,
)
_STYLE = """<style>
.digit-nets {display: grid; gap: 0.75rem;
  grid-template-columns: repeat(auto-fill, minmax(min(34rem, 100%), 1fr))}
.digit-net {border: 1px solid #d5d9de; border-left: 0.3rem solid var(--colour); border-radius: 0.4rem;
  padding: 0.4rem 0.6rem}
.digit-net__head {font-size: 1rem; margin-bottom: 0.3rem}
.digit-net__head b {font-size: 1.3rem}
.digit-net__body {display: flex; flex-wrap: wrap; gap: 0.9rem; align-items: flex-end}
.digit-net figure {margin: 0; text-align: center; font-size: 0.8rem; color: #31333f}
.digit-net img {image-rendering: pixelated; display: block; margin: 0 auto 0.15rem}
.digit-bars {display: flex; gap: 2px}
.digit-bars div {width: 1rem; display: flex; flex-direction: column; justify-content: flex-end}
.digit-bars i {flex: none; display: block; background: var(--colour); min-height: 1px}
.digit-bars span {font-size: 0.75rem; line-height: 1.1rem; border-top: 1px solid #888}
.digit-bars .digit-bars__label span {font-weight: 700; text-decoration: underline}
.digit-input img {image-rendering: pixelated; border: 1px solid #b8bec6}
.digit-answers {list-style: none; padding: 0; margin: 0.5rem 0 0 !important}
.digit-answers li {border-left: 0.3rem solid var(--colour); padding-left: 0.4rem;
  margin: 0.15rem 0 !important}
.digit-answers b {font-size: 1.2rem}
</style>"""


def digit_view(
    runs: Sequence,
    histories: Mapping[str, mlp.History],
    state: PageState,
    ask_to_train: Callable[[str], None],
) -> None:
    """Tab ⑥: `runs` are the page's runs (NamedTuples with optimizer and activation; one network
    shape), `histories` {optimizer: History} those trained; without any, `ask_to_train` says why
    with its sentence and offers training."""
    left, right = st.columns([2, 3])
    choice = state.selectbox(
        left,
        "Gradient of the loss for label",
        LABEL_CHOICES,
        key="digit_label",
        format_func=lambda c: "the predicted class" if c == PREDICTED else c,
        help="The saliency map and ∂L/∂W₁ are the gradients of L = −log p_label for this label.",
    )
    label = None if choice == PREDICTED else int(choice)
    trained = {run.optimizer: histories[run.optimizer] for run in runs if run.optimizer in histories}
    if not trained:  # beside the label: the pad stays in a slide's view
        with right:
            ask_to_train(
                "No network is trained yet: train one, then draw to see what it makes of your digit."
            )
    _pad_and_networks(runs[0].activation, trained, label, bool(st.session_state.get("presenter")))


@st.fragment
def _pad_and_networks(
    activation: str, histories: Mapping[str, mlp.History], label: int | None, presenter: bool
) -> None:
    """The pad, the processed digit and each network's answer: rerun alone when the pad sends."""
    pad_col, image_col = st.columns([2, 3], gap="medium")
    drawing = digit_pad(pad_col, key=PAD_KEY, presenter=presenter)
    try:
        if drawing is None:
            raise ValueError(digit.EMPTY_MESSAGE)
        image = digit.preprocess(drawing)
    except ValueError as error:
        image_col.info(str(error))  # the library's own sentences: no text of the user's in them
        if histories:  # compile now, so that the first stroke is answered at the warm speed
            digit.explain(next(iter(histories.values())).params, np.zeros((28, 28)), activation)
        return
    embedded = st.context.is_embedded
    picture = _input_html(image, caption=not embedded)
    if not histories:  # asked above the pad
        image_col.html(_STYLE + picture)
        return
    answers = {name: digit.explain(h.params, image, activation, label) for name, h in histories.items()}
    if embedded:  # a slide: every network's answer beside the pad; the pictures below, scrolled to
        picture += _answers_html(answers)
    image_col.html(_STYLE + picture)
    st.html(_STYLE + _networks_html(answers, histories))
    _explain_pictures(activation)


# --- HTML --------------------------------------------------------------------------------------


def _png(rgb: np.ndarray) -> str:
    """An RGB array (H, W, 3) uint8 as a data: URL of a PNG (drawn with pixelated upscaling)."""
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="PNG", compress_level=1)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _grey(image: np.ndarray) -> np.ndarray:
    """Ink in [0, 1] as dark on white, as the pad draws it."""
    value = np.round(255 * (1 - np.clip(image, 0, 1))).astype(np.uint8)
    return np.repeat(value[..., None], 3, axis=-1)


def _diverging(values: np.ndarray, limit: float) -> np.ndarray:
    """Values in [-limit, limit] as RdBu_r colours (white 0); NaN (gaps between tiles) light grey."""
    scaled = np.nan_to_num(values / (limit or 1.0), nan=0.0)
    rgb = _DIVERGING[np.round((np.clip(scaled, -1, 1) + 1) * 127.5).astype(int)]
    rgb[np.isnan(values)] = 225
    return rgb


def _img(rgb: np.ndarray, scale: float, alt: str) -> str:
    """An <img> of `rgb`, `scale` rem a pixel (rem: it grows in presenter mode), not smoothed."""
    height, width = rgb.shape[:2]
    return (
        f'<img src="{_png(rgb)}" alt="{html.escape(alt)}" '
        f'style="width: {width * scale:.2f}rem; height: {height * scale:.2f}rem">'
    )


def _input_html(image: np.ndarray, caption: bool = True) -> str:
    """The processed digit; with `caption`, how it was made."""
    words = (
        "What the networks see: 28 × 28 pixels, the ink's box scaled to 20 px and its centre of mass "
        "moved to the centre, as the MNIST digits were made."
        if caption
        else "What the networks see (28 × 28)"
    )
    return (
        '<figure class="digit-input" style="margin: 0">'
        + _img(_grey(image), 0.3, "the drawing as the networks see it, 28 by 28 pixels")
        + f"<figcaption>{words}</figcaption></figure>"
    )


def _answers_html(answers: Mapping[str, digit.Explanation]) -> str:
    """Each network's answer on a line of its colour: what a slide shows beside the pad."""
    lines = "".join(
        f'<li style="--colour: {OPTIMIZERS[name].colour}">{html.escape(OPTIMIZERS[name].label)}: '
        f"<b>{int(a.probabilities.argmax())}</b> ({a.probabilities.max():.0%})</li>"
        for name, a in answers.items()
    )
    return f'<ul class="digit-answers">{lines}</ul>'


def _networks_html(answers: Mapping[str, digit.Explanation], histories: Mapping[str, mlp.History]) -> str:
    cards = "".join(_network_html(name, answer, histories[name]) for name, answer in answers.items())
    return f'<div class="digit-nets">{cards}</div>'


def _network_html(name: str, answer: digit.Explanation, history: mlp.History) -> str:
    """One network's card: its prediction, the probabilities, h, dL/dx and dL/dW_1's strongest columns."""
    spec = OPTIMIZERS[name]
    p = answer.probabilities
    guess = int(p.argmax())
    label = html.escape(spec.label)
    head = (
        f'<div class="digit-net__head"><span data-testid="digit-prediction">{label}: <b>{guess}</b> '
        f"({p[guess]:.1%})</span> · {history.test_accuracy[-1]:.1%} test accuracy · "
        f"L = −log p<sub>{answer.label}</sub> = {answer.loss:.3f}</div>"
    )
    bars = "".join(
        f'<div{" class=digit-bars__label" if d == answer.label else ""} title="{d}: {q:.1%}">'
        f'<i style="height: {BAR_REM * q:.2f}rem"></i><span>{d}</span></div>'
        for d, q in enumerate(p)
    )
    described = ", ".join(f"{d}: {q:.0%}" for d, q in enumerate(p))
    probabilities = (
        f'<figure><div class="digit-bars" role="img" aria-label="class probabilities {described}">{bars}'
        "</div>p = softmax(z)</figure>"
    )
    h = answer.hidden
    columns = 2 ** int(np.ceil(np.log2(np.sqrt(2 * len(h)))))  # about twice as wide as high
    grid = np.full(-(-len(h) // columns) * columns, np.nan)
    grid[: len(h)] = h
    h_limit = float(np.abs(h).max())
    hidden = (
        "<figure>"
        + _img(_diverging(grid.reshape(-1, columns), h_limit), 7.2 / columns, f"{len(h)} hidden activations")
        + f"h, {len(h)} units (max {h_limit:.2g})</figure>"
    )
    s_limit = float(np.abs(answer.saliency).max())
    saliency = (
        "<figure>"
        + _img(_diverging(answer.saliency, s_limit), 0.25, f"saliency map for label {answer.label}")
        + f"∂L/∂x (±{s_limit:.2g})</figure>"
    )
    units = digit.strongest_units(answer, UNITS_SHOWN)
    tiles = answer.grad_w1[:, units].T.reshape(-1, 28, 28)
    w_limit = float(np.abs(tiles).max())
    weights = (
        "<figure>"
        + _img(_diverging(_tile(tiles, 4), w_limit), 0.13, "the weight gradient's strongest columns")
        + f"∂L/∂W₁[:, j], units {', '.join(map(str, units))} (±{w_limit:.2g})</figure>"
    )
    return (
        f'<div class="digit-net" style="--colour: {spec.colour}">{head}'
        f'<div class="digit-net__body">{probabilities}{hidden}{saliency}{weights}</div></div>'
    )


def _explain_pictures(activation: str) -> None:
    st.caption(
        "Each network: its prediction and the probabilities p = softmax(z) (the underlined digit is "
        "the label y whose loss L = −log p_y is differentiated); the hidden layer h = σ(xW₁ + b₁), "
        "one square per unit; the saliency map ∂L/∂x: red pixels, inked more, would raise the loss "
        "(make y less likely), blue ones lower it; and the first layer's weight gradient ∂L/∂W₁. "
        "For one image it is an outer product, ∂L/∂W₁ = xᵀ ∂L/∂u with u = xW₁ + b₁: column j is "
        f"your digit itself scaled by ∂L/∂u_j. Shown: the {UNITS_SHOWN} units with the largest "
        "|∂L/∂u_j|; every other column is the same picture, scaled smaller. White is 0; full blue "
        f"and red, the ± range written under each picture. Activation σ: {activation}."
    )
