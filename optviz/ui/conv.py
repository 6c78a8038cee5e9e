"""The convolutions page: one channel and one filter step by step, many channels and filters, 1D over text.

Data flows one way: widgets -> a hashable configuration -> cached library calls -> figure builders.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from optviz import conv, conv_figures
from optviz.data import load as load_digits
from optviz.ui.widgets import compact_page

SPEEDS = {"slow": 500, "normal": 150, "fast": 40}  # milliseconds per window position
PADDINGS = ["0", "1", "2", "3", "same"]
MAX_STRIDE, MAX_DILATION = 32, 8
PLOTLY_CONFIG = {"displaylogo": False}


def _padding(label: str) -> conv.Padding:
    return label if label == "same" else int(label)


# --- cached computations: keyed by plain hashable values ---------------------------------------------


@st.cache_resource(show_spinner=False)
def _digits():
    digits = load_digits()
    return digits.test_images, digits.test_labels


def _image(source: str, digit: int) -> np.ndarray:
    """The one-channel input in [0, 1]: a test-set MNIST digit (28 x 28) or a pattern (16 x 16)."""
    if source == "MNIST digit":
        return _digits()[0][digit] / 255.0
    return conv.pattern(source)


@st.cache_resource(max_entries=32, show_spinner=False)
def _step_figure(source, digit, kernel, stride, padding, dilation, frame_ms):
    """The step-by-step figure (kernel: a tuple of row tuples). Kept as the object, so a rerun that
    changes nothing elsewhere hands Streamlit the same figure."""
    x = _image(source, digit)[None]
    w = np.array(kernel)[None, None]
    args = {"stride": stride, "padding": padding, "dilation": dilation}
    g = conv.geometry(x.shape[1:], w.shape[2:], **args)
    output = conv.conv2d(x, w, **args)[0]  # the layer's answer (lax); the windows show the same numbers
    windows = list(conv.windows(x, w, **args))
    return conv_figures.step_figure(
        conv.pad_input(x, g.pads)[0], g.pads, w[0, 0], output, windows, frame_ms=frame_ms
    )


# --- section 1: one channel, one filter ---------------------------------------------------------------


def _kernel_grid(preset: str, k: int) -> tuple[np.ndarray, list[str]]:
    """An editable k x k grid that starts at the preset (a new preset or size starts a new grid)."""
    fallback = conv.kernel_preset(preset, k)
    table = pd.DataFrame(
        [[f"{v:.4g}" for v in row] for row in fallback], columns=[str(c + 1) for c in range(k)]
    )
    edited = st.data_editor(
        table,
        key=f"c2_grid_{preset}_{k}",
        hide_index=True,
        column_config={c: st.column_config.TextColumn(c, width="small") for c in table.columns},
    )
    return conv.parse_kernel(edited.to_numpy().tolist(), fallback)


def _one_channel() -> None:
    st.markdown(
        "A **filter** (kernel) is a small grid of weights. It slides over the image; at each position the "
        "pixels under it are multiplied by the weights, element by element, and summed: that sum is one "
        "pixel of the output, the **feature map**. Press ▶ Play, or drag the slider."
    )
    cols = st.columns([1.3, 0.9, 1.2, 0.8, 0.8, 0.8, 0.8, 1.1])
    source = cols[0].selectbox("Input", ["MNIST digit", *conv.PATTERNS], key="c2_source")
    digit = 0
    if source == "MNIST digit":
        digit = int(cols[1].number_input("Test digit #", 0, 1999, 0, key="c2_digit"))
    preset = cols[2].selectbox("Kernel", list(conv.KERNEL_PRESETS), index=4, key="c2_kernel")
    k = cols[3].segmented_control("Size", conv.KERNEL_SIZES, default=3, required=True, key="c2_size")
    stride = int(cols[4].number_input("Stride s", 1, MAX_STRIDE, 1, key="c2_stride"))
    padding = _padding(cols[5].selectbox("Padding p", PADDINGS, key="c2_padding"))
    dilation = int(cols[6].number_input("Dilation d", 1, MAX_DILATION, 1, key="c2_dilation"))
    speed = cols[7].select_slider("Speed", list(SPEEDS), value="normal", key="c2_speed")

    edit, flip_column = st.columns([1, 3], vertical_alignment="center")
    with edit.popover(f"Edit the {k}x{k} kernel", icon=":material/edit:"):
        st.caption("Numbers or fractions such as 1/16; a new preset starts a fresh grid.")
        kernel, problems = _kernel_grid(preset, k)
    flip = flip_column.toggle(
        "Flip the kernel (the textbook convolution)",
        key="c2_flip",
        help="Deep-learning libraries compute cross-correlation; convolution proper flips the kernel first.",
    )
    for problem in problems:
        st.warning(f"Kernel cell {problem}: using the preset's value there.", icon=":material/warning:")
    if flip:
        kernel = kernel[::-1, ::-1]

    image = _image(source, digit)
    n = image.shape[0]
    try:
        geometry = conv.geometry(image.shape, kernel.shape, stride, padding, dilation)
    except ValueError as error:
        st.warning(
            f"With dilation {dilation}, {error}. Showing dilation 1 instead.", icon=":material/warning:"
        )
        dilation = 1
        geometry = conv.geometry(image.shape, kernel.shape, stride, padding, dilation)
    if stride > n:
        st.info(f"The stride ({stride}) is larger than the input ({n} pixels): the window fits only once.")

    figure = _step_figure(
        source, digit, tuple(map(tuple, kernel.tolist())), stride, padding, dilation, SPEEDS[speed]
    )
    st.plotly_chart(figure, key="c2_steps", config=PLOTLY_CONFIG)
    _size_formula(n, k, stride, geometry.pads[0], dilation, geometry.out_shape[0])
    st.markdown(
        "**Convolution or cross-correlation?** What deep learning calls convolution is *cross-correlation*: "
        "the kernel is not flipped. The textbook convolution flips it in both directions first "
        "(the toggle above). A network learns its kernels, so both compute the same family of layers."
    )
    st.latex(
        r"\underbrace{y_{ij} = \sum_{u,v} w_{uv}\, x_{is + ud,\; js + vd}}_{\text{cross-correlation (PyTorch)}}"
        r"\qquad"
        r"\underbrace{y_{ij} = \sum_{u,v} w_{k-1-u,\,k-1-v}\, x_{is + ud,\; js + vd}}_{\text{convolution}}"
    )


def _size_formula(n: int, k: int, s: int, pads: tuple[int, int], d: int, size: int) -> None:
    """The output-size formula with the current numbers (the input is square: one formula per axis)."""
    lo, hi = pads
    p = rf"{lo}" if lo == hi else rf"\tfrac{{{lo}+{hi}}}{{2}}"
    st.latex(
        r"n_\text{out} = \left\lfloor \frac{n + 2p - d(k-1) - 1}{s} \right\rfloor + 1"
        rf" = \left\lfloor \frac{{{n} + 2\cdot {p} - {d}\cdot({k}-1) - 1}}{{{s}}} \right\rfloor + 1 = {size}"
    )
    st.caption(
        f"n = {n} input pixels per side, k = {k}, s = {s}, p = {p if lo == hi else (lo + hi) / 2} "
        f"zeros on each side, d = {d}: the output is {size} x {size} = {size * size} window positions."
    )


# --- the page -----------------------------------------------------------------------------------------


def render() -> None:
    compact_page()
    st.title("Convolutions")
    one, many, text = st.tabs(["2D: one channel, one filter", "Many channels, many filters", "1D over text"])
    with one:
        _one_channel()
