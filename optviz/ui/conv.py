"""The convolutions page: one channel and one filter step by step, many channels and filters, 1D over
text, and the backward pass of a convolution step by step.

Data flows one way: widgets -> a hashable configuration -> cached library calls -> figure builders.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pandas as pd
import streamlit as st

from optviz import conv
from optviz.conv import backward_figures
from optviz.conv import figures as conv_figures
from optviz.data import load as load_digits
from optviz.params import read_choice, read_number
from optviz.text import literal, quote
from optviz.ui.conv_backward_steps import conv_backward_steps
from optviz.ui.conv_steps import conv_steps
from optviz.ui.share_box import share_box
from optviz.ui.url_state import PageState
from optviz.ui.widgets import FRAME_PARAMETERS, chart, chart_first_in_a_slide, page_setup

SPEEDS = {"slow": 500, "normal": 150, "fast": 40}  # milliseconds per window position
PADDINGS = ["0", "1", "2", "3", "same"]
# The link's names this page reads (its views' controls), for PageState(known=...) and lecture decks.
LINK_PARAMETERS = (r"c2_\w+", r"c2b_\w+", r"cm_\w+", r"t_\S+", "conv_view", "autoplay", *FRAME_PARAMETERS)
VIEWS = ["2D: one channel, one filter", "Many channels, many filters", "1D over text", "Backward pass"]
MAX_STRIDE, MAX_DILATION = 32, 8
WARNING = ":material/warning:"


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
def _step_data(source, digit, kernel, stride, padding, dilation, frame_ms) -> dict:
    """What the step-by-step chart draws (kernel: a tuple of row tuples); its output is the layer's
    own answer (`conv.conv2d`, lax)."""
    x = _image(source, digit)[None]
    w = np.array(kernel)[None, None]
    args = {"stride": stride, "padding": padding, "dilation": dilation}
    g = conv.geometry(x.shape[1:], w.shape[2:], **args)
    output = conv.conv2d(x, w, **args)[0]
    return conv_figures.step_data(
        conv.pad_input(x, g.pads)[0],
        g.pads,
        w[0, 0],
        output,
        stride=stride,
        dilation=dilation,
        frame_ms=frame_ms,
    )


# --- section 1: one channel, one filter ---------------------------------------------------------------


LINKED_GRID = "_c2_linked_grid"  # (editor key, cells): a link's kernel, kept while its grid is shown


def _cell(value: float) -> str:
    """A kernel value as the grid shows it: text that reads back as exactly this value, a short
    decimal ('0.0625', '-2') or else a fraction ('1/9', '3/128'), so an untouched preset stays the
    preset (as '0.1111' the box blur would sum to 0.9999, count as edited and fill the link)."""
    short = f"{value:.4g}"
    if float(short) == value:
        return short
    fraction = Fraction(value).limit_denominator(10_000)
    return f"{fraction.numerator}/{fraction.denominator}" if float(fraction) == value else repr(value)


def cells_text(kernel: np.ndarray) -> str:
    """A kernel as the link's `c2_cells`: k*k comma-separated numbers, row by row, 6 significant digits."""
    return ",".join(f"{v:.6g}" for v in kernel.ravel())


def kernel_edited(kernel: np.ndarray, preset: str) -> bool:
    """Whether the kernel is no longer the preset: it differs in the digits a link keeps, which is
    also when the link carries it (`c2_cells`), so the label and the link agree."""
    return cells_text(kernel) != cells_text(conv.kernel_preset(preset, kernel.shape[0]))


def _linked_cells(key: str, k: int, state: PageState) -> list[list[str]] | None:
    """The cells of a link's kernel (`c2_cells`: k*k comma-separated numbers, row by row) for the
    editor `key`. The link is read on the session's first look only, so its cells are kept in the
    session until the grid changes (a new preset or size): without them the next run would fall back
    to the preset."""
    linked = state.linked("c2_cells")
    if linked is not None:
        values = linked.split(",")
        if len(values) == k * k:
            st.session_state[LINKED_GRID] = (key, [values[r * k : (r + 1) * k] for r in range(k)])
        else:
            state.note(f"c2_cells has {len(values)} values, a {k}x{k} kernel needs {k * k}: using the preset")
    kept = st.session_state.get(LINKED_GRID)
    if kept is not None and kept[0] != key:  # a new grid: going back to the link's preset starts afresh
        del st.session_state[LINKED_GRID]
        return None
    return kept[1] if kept else None


def _kernel_grid(preset: str, k: int, state: PageState) -> tuple[np.ndarray, list[str]]:
    """An editable k x k grid that starts at the preset (a new preset or size starts a new grid), or
    at the link's cells."""
    key = f"c2_grid_{preset}_{k}"
    fallback = conv.kernel_preset(preset, k)
    cells = _linked_cells(key, k, state) or [[_cell(v) for v in row] for row in fallback]
    table = pd.DataFrame(cells, columns=[str(c + 1) for c in range(k)])
    edited = st.data_editor(
        table,
        key=key,
        hide_index=True,
        column_config={c: st.column_config.TextColumn(c, width="small") for c in table.columns},
    )
    kernel, problems = conv.parse_kernel(edited.to_numpy().tolist(), fallback)
    state.record("c2_cells", cells_text(kernel), cells_text(fallback))
    return kernel, problems


def _phone_controls_css(key: str) -> str:
    """On a phone Streamlit stacks columns one per row: the controls in the container `key` would fill
    the screen above the animation. Two per row there keeps the animation's Play button within a
    thumb's reach of them."""
    return (
        "@media (max-width: 640px) {\n"
        f"  .st-key-{key} [data-testid='stHorizontalBlock'] {{ flex-wrap: wrap; row-gap: 0.25rem; }}\n"
        f"  .st-key-{key} [data-testid='stColumn'] {{ min-width: calc(50% - 0.5rem) !important;\n"
        "    flex: 1 1 calc(50% - 0.5rem) !important; width: calc(50% - 0.5rem) !important; }\n}"
    )


def _animation_slots(key: str, settings: str, presenter: bool):
    """Where an animated view's parts go: (controls, notes, figure, below). On the page, top to bottom
    in that order, the controls in a container `key` (two to a row on a phone); in presenter mode,
    the notes and the figure first, so that the animation and its Play are on a projector's first
    screen; in a slide (`?embed=true`), that too, with the controls folded under them (`settings`
    names them; what goes below goes there too), so the animation is whole in the slide."""
    if st.context.is_embedded:
        notes, figure = st.container(), st.container()
        folded = st.expander(settings, icon=":material/tune:")
        return folded, notes, figure, folded
    st.html(f"<style>{_phone_controls_css(key)}</style>")
    if presenter:
        notes, figure = st.container(), st.container()
        return st.container(key=key), notes, figure, st.container()
    return st.container(key=key), st.container(), st.container(), st.container()


def _one_channel(state: PageState) -> None:
    embedded = st.context.is_embedded
    if not embedded:
        st.markdown(
            "A **filter** (kernel) is a small grid of weights. It slides over the image; at each position "
            "the pixels under it are multiplied by the weights, element by element, and summed: that sum "
            "is one pixel of the output, the **feature map**. ▶ Play, or drag the slider."
        )
    presenter = bool(st.session_state.get("presenter"))
    controls, notes, animation, editor = _animation_slots(
        "c2_controls", "Input, kernel, stride, padding, dilation", presenter
    )
    cols = controls.columns([1.3, 0.9, 1.2, 1.0, 0.8, 0.8, 0.8, 1.0])
    source = state.selectbox(cols[0], "Input", ["MNIST digit", *conv.PATTERNS], key="c2_source")
    digit = 0
    if source == "MNIST digit":
        digit = int(state.number_input(cols[1], "Test digit #", 0, 1999, default=0, key="c2_digit"))
    k = state.segmented_control(cols[3], "Size", conv.KERNEL_SIZES, default=3, required=True, key="c2_size")
    # The kernel editor sits under the figure, which it decides. It is drawn before the Kernel box, whose
    # label says whether the kernel is still the preset: the box's value on this run is already in
    # st.session_state (from the browser, or from the link once started).
    presets, default = list(conv.KERNEL_PRESETS), "Sobel x"
    state.start("c2_kernel", default, lambda text: read_choice("c2_kernel", text, default, presets))
    preset = st.session_state["c2_kernel"]
    edit, flip_column = editor.columns([1, 3], vertical_alignment="center")
    with edit.popover(f"Edit the {k}x{k} kernel", icon=":material/edit:"):
        st.caption("Numbers or fractions such as 1/16; a new preset starts a fresh grid.")
        kernel, problems = _kernel_grid(preset, k, state)
    edited = kernel_edited(kernel, preset)
    # Set again so the browser shows the new label: a changed label alone leaves the old text in the box.
    st.session_state["c2_kernel"] = preset
    state.selectbox(
        cols[2],
        "Kernel",
        presets,
        default=default,
        key="c2_kernel",
        format_func=lambda option: f"{option} (edited)" if edited and option == preset else option,
    )
    stride = int(state.number_input(cols[4], "Stride s", 1, MAX_STRIDE, default=1, key="c2_stride"))
    padding = _padding(state.selectbox(cols[5], "Padding p", PADDINGS, key="c2_padding"))
    dilation = int(state.number_input(cols[6], "Dilation d", 1, MAX_DILATION, default=1, key="c2_dilation"))
    speed = state.select_slider(cols[7], "Speed", list(SPEEDS), default="normal", key="c2_speed")

    flip = state.toggle(
        flip_column,
        "Flip the kernel (the textbook convolution)",
        key="c2_flip",
        help="Deep-learning libraries compute cross-correlation; convolution proper flips the kernel first.",
    )
    for problem in problems:
        notes.warning(
            f"Kernel cell {literal(problem, limit=None)}; using the preset's value there.", icon=WARNING
        )
    if flip:
        kernel = kernel[::-1, ::-1]

    image = _image(source, digit)
    n = image.shape[0]
    try:
        geometry = conv.geometry(image.shape, kernel.shape, stride, padding, dilation)
    except ValueError as error:
        notes.warning(
            f"With dilation {dilation}, {error}. Showing dilation 1 instead.", icon=":material/warning:"
        )
        dilation = 1
        geometry = conv.geometry(image.shape, kernel.shape, stride, padding, dilation)
    if stride > n:
        notes.info(f"The stride ({stride}) is larger than the input ({n} pixels): the window fits only once.")

    data = _step_data(
        source, digit, tuple(map(tuple, kernel.tolist())), stride, padding, dilation, SPEEDS[speed]
    )
    conv_steps(animation, data, key="c2_steps", presenter=presenter, autoplay=state.flag("autoplay"))
    if embedded:  # a slide shows the animation; the lecturer says the rest
        return
    _size_formula(n, k, stride, geometry.pads[0], dilation, geometry.out_shape[0])
    st.markdown(
        "**Convolution or cross-correlation?** What deep learning calls convolution is "
        "**cross-correlation**: the kernel is not flipped. The textbook convolution flips it in both "
        "directions first (the toggle above). A network learns its kernels, so both compute the same "
        "family of layers."
    )
    window = r"x_{is + ud,\; js + vd}"
    st.latex(
        rf"\underbrace{{y_{{ij}} = \sum_{{u,v}} w_{{uv}}\, {window}}}"
        r"_{\text{cross-correlation (PyTorch)}}"
        rf"\qquad\underbrace{{y_{{ij}} = \sum_{{u,v}} w_{{k-1-u,\,k-1-v}}\, {window}}}"
        r"_{\text{convolution}}"
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


# --- section 2: many channels, many filters -------------------------------------------------------


@st.cache_data(max_entries=64, show_spinner=False)
def _layer(preset: str, c_out: int, k: int, seed: int, bias: float, stride: int, padding):
    """The RGB image, the filters and the layer's output maps (C_out, H_out, W_out), as NumPy."""
    image = conv.colour_image()
    filters = conv.colour_filters(preset, c_out, k, seed)
    biases = np.full(c_out, bias)
    return image, filters, biases, conv.conv2d(image, filters, stride=stride, padding=padding, bias=biases)


def _window_at(image, filters, biases, stride, padding, o: int, index: tuple[int, int]) -> conv.Window:
    """The worked-out window of filter o at output `index` (the loop's row-major order)."""
    out_cols = conv.geometry(image.shape[1:], filters.shape[2:], stride, padding).out_shape[1]
    cells = conv.windows(image, filters, stride=stride, padding=padding, bias=biases, o=o)
    return next(w for n, w in enumerate(cells) if n == index[0] * out_cols + index[1])


def _many_channels(state: PageState) -> None:
    if not st.context.is_embedded:
        st.markdown(
            "A colour image has **C_in = 3 channels**. Each filter has one k x k slice per channel: it "
            "multiplies every channel's patch by its own slice, and adds the **partial sums** of all "
            "channels and a bias into **one** output value. C_out filters give C_out output maps, "
            "stacked as the next layer's channels."
        )
    controls, figure = chart_first_in_a_slide("Filters, size, stride, padding, bias; the output cell")
    cols = controls.columns([1.4, 1, 0.8, 0.8, 0.8, 1, 0.8])
    preset = state.selectbox(cols[0], "Filters", list(conv.COLOUR_FILTER_PRESETS), key="cm_preset")
    c_out = int(state.number_input(cols[1], "Filters C_out", 1, 8, default=4, key="cm_cout"))
    k = state.segmented_control(cols[2], "Size k", conv.KERNEL_SIZES, default=3, required=True, key="cm_size")
    stride = int(state.selectbox(cols[3], "Stride s", [1, 2, 3], key="cm_stride"))
    padding = _padding(state.selectbox(cols[4], "Padding p", ["0", "1", "same"], key="cm_padding"))
    bias = float(
        state.number_input(cols[5], "Bias b (all filters)", -2.0, 2.0, default=0.0, step=0.1, key="cm_bias")
    )
    fixed = preset != "random"  # the seed only matters for random filters
    seed = int(state.number_input(cols[6], "Seed", 0, 9999, default=0, key="cm_seed", disabled=fixed))
    image, filters, biases, output = _layer(preset, c_out, k, seed, bias, stride, padding)

    _, rows, columns = output.shape
    pick = controls.columns(3)
    o = int(state.number_input(pick[0], "Filter", 1, c_out, default=1, key="cm_filter")) - 1
    row, column = min(rows // 3, rows - 1), min(2 * columns // 3, columns - 1)
    i = int(state.slider(pick[1], "Output row", 0, rows - 1, default=row, key="cm_row"))
    j = int(state.slider(pick[2], "Output column", 0, columns - 1, default=column, key="cm_col"))
    window = _window_at(image, filters, biases, stride, padding, o, (i, j))
    pads = conv.geometry(image.shape[1:], filters.shape[2:], stride, padding).pads
    padded = conv.pad_input(image, pads)
    chart(figure, conv_figures.channels_figure(padded, filters, window, o))
    if st.context.is_embedded:  # a slide shows the filter at work; the lecturer says the rest
        return
    partial = window.products.sum(axis=(1, 2))
    terms = " + ".join(
        rf"\underbrace{{{p:.3g}}}_{{\text{{{c}}}}}" for p, c in zip(partial, "RGB", strict=True)
    )
    st.latex(
        rf"y_{{{o + 1}}}[{i}, {j}] = \sum_{{c=1}}^{{C_\text{{in}}}}"
        rf" \langle \text{{patch}}_c, w_{{{o + 1},c}} \rangle"
        rf" + b_{{{o + 1}}} = {terms} + {biases[o]:.3g} = {window.value:.4g}"
    )
    chart(st, conv_figures.feature_maps_figure(output, (i, j), o))
    params = conv.parameter_count(k, 3, c_out)
    st.latex(
        rf"\text{{parameters}} = k \cdot k \cdot C_\text{{in}} \cdot C_\text{{out}} + C_\text{{out}}"
        rf" = {k}\cdot{k}\cdot 3\cdot{c_out} + {c_out} = {params}"
        r"\qquad \text{output shape} = (C_\text{out}, H_\text{out}, W_\text{out})"
        rf" = ({c_out}, {rows}, {columns})"
    )


# --- section 3: 1D convolution over text ---------------------------------------------------------------

DEFAULT_SENTENCE = "the cat sat on the mat with the hat"
TEXT_HEIGHT, EMBED_TEXT_HEIGHT = 560, 470  # px, the text figure; in a slide, with its folded settings
ENCODINGS = {"one-hot letters": "one-hot", "word embeddings": "embeddings"}


@st.cache_resource(max_entries=32, show_spinner=False)
def _text_figure(
    tokens: tuple[str, ...],
    encoding: str,
    ngrams: tuple[tuple[str, ...], ...],
    same: bool,
    animate: int,
    height: int,
):
    """The text figure and each filter's max-over-time result, for n-gram detector filters."""
    x = conv.one_hot(tokens) if encoding == "one-hot" else conv.embeddings(tokens)
    labels = (
        [ch if ch != " " else "␣" for ch in conv.ALPHABET]
        if encoding == "one-hot"
        else [f"e{n + 1}" for n in range(conv.EMBEDDING_DIM)]
    )
    responses, pooled = [], []
    for gram in ngrams:
        w = conv.ngram_filter(gram, encoding)[None]
        padding = "same" if same else 0
        y = conv.conv1d(x, w, padding=padding)[0]
        lo, _ = conv.padding_amounts(padding, len(gram))
        name = ("'" + "".join(gram) + "'") if encoding == "one-hot" else " ".join(gram)
        responses.append((f"{name} (k = {len(gram)})", y, (len(gram) - 1) / 2 - lo))
        best, where = conv.max_over_time(y[None])
        start = int(where[0]) - lo
        found = tokens[max(start, 0) : start + len(gram)]
        pooled.append(
            (
                name,
                len(gram),
                float(best[0]),
                int(where[0]),
                ("" if encoding == "one-hot" else " ").join(found),
            )
        )
    width = len(ngrams[animate])
    figure = conv_figures.text_figure(tokens, x, labels, responses, animate, width, height=height)
    return figure, pooled


def _tokens(text: str, encoding: str) -> conv.Tokens | None:
    """The sentence as positions, with a message for every change made to it; None if nothing is left."""
    tokens = conv.letters(text) if encoding == "one-hot" else conv.words(text)
    if tokens.dropped:
        shown = " ".join(quote(ch) for ch in tokens.dropped[:20])
        st.info(f"Characters outside a-z and space were dropped: {literal(shown, limit=None)}.")
    if tokens.truncated:
        st.warning(f"The text is long: only its first {conv.MAX_TEXT} positions are used.", icon=WARNING)
    return tokens


def _text(state: PageState) -> None:
    if not st.context.is_embedded:
        st.markdown(
            "Text becomes a matrix: one column per position, one row per **channel** (a letter of the "
            "alphabet, one-hot; or a coordinate of a word's embedding). A 1D filter of width k covers k "
            "positions and **all** rows; it slides along the text only. A filter equal to the encoding of "
            "an n-gram responds most (k) exactly where that n-gram occurs: that is what it *looks for*. "
            "**Max-over-time pooling** keeps each filter's largest response: whether, not where."
        )
    controls, figure_slot = chart_first_in_a_slide("Sentence, encoding, filters")
    cols = controls.columns([2.6, 1.3, 1.6, 1.0, 1.1])
    text = state.text_input(cols[0], "Sentence", default=DEFAULT_SENTENCE, key="t_text", max_length=20_000)
    encoding = ENCODINGS[state.radio(cols[1], "Encoding", list(ENCODINGS), key="t_encoding")]
    default_grams = "the, at, cat s" if encoding == "one-hot" else "the cat, on the"
    grams_key, grams_label = f"t_grams_{encoding}", "Filters: n-grams to detect (comma-separated)"
    grams_text = state.text_input(cols[2], grams_label, default=default_grams, key=grams_key)
    same = state.toggle(cols[3], '"same" padding', key="t_same")

    tokens = _tokens(text, encoding).tokens
    if not tokens:
        st.warning(f"No usable text in the sentence: showing “{DEFAULT_SENTENCE}” instead.", icon=WARNING)
        tokens = _tokens(DEFAULT_SENTENCE, encoding).tokens
    split = conv.letters if encoding == "one-hot" else conv.words
    grams = [split(g).tokens for g in grams_text.split(",")]
    grams = [g for g in grams if 0 < len(g) <= len(tokens)][:6]
    if not grams:
        st.warning("No usable n-gram (each must be shorter than the text): using 'the'.", icon=WARNING)
        grams = [split("the").tokens[: len(tokens)]]
    names = ["".join(g) if encoding == "one-hot" else " ".join(g) for g in grams]
    animate = (
        names.index(state.selectbox(cols[4], "Slide the window of", names, key="t_animate"))
        if len(names) > 1
        else 0
    )
    height = EMBED_TEXT_HEIGHT if st.context.is_embedded else TEXT_HEIGHT
    figure, pooled = _text_figure(tuple(tokens), encoding, tuple(grams), same, animate, height)
    chart(figure_slot, figure, key="t_chart")
    if st.context.is_embedded:
        return
    left, right = st.columns([1, 1])
    left.markdown("**Max-over-time pooling**: one number per filter, whatever the text's length.")
    left.dataframe(
        pd.DataFrame(pooled, columns=["filter", "width k", "max response", "at position", "window there"]),
        hide_index=True,
    )
    right.markdown(
        "**The same as a 2D convolution.** Lay the matrix on its side as a one-channel image of "
        "L x C pixels; a 2D kernel of k x C (as wide as the embedding) fits in only one column position, "
        "so it can only slide along the text: its output is an L_out x 1 image equal to the 1D output."
    )
    right.latex(
        r"y_t = \sum_{u=0}^{k-1} \sum_{c=1}^{C} w_{c,u}\, x_{c,\,t+u}"
        r"\;=\;\big(\text{conv2d}(X^\top\!,\ W^\top)\big)_{t,0}"
    )


# --- section 4: the backward pass ---------------------------------------------------------------------

BACKWARD_SETTINGS = "Input, kernel, stride, padding, dilation, ∂L/∂Y"
MAX_CELL = 63  # a link's row or column of the "one cell" gradient, before it is checked against the output


@st.cache_resource(max_entries=32, show_spinner=False)
def _backward_data(source, digit, preset, k, stride, padding, dilation, gradient, seed, cell, frame_ms):
    """What the backward chart draws, and dL/dK by the library (`conv.conv2d_backward`), for plain
    values; `cell` (row, column) is inside the output."""
    x = _image(source, digit)[None]
    w = conv.kernel_preset(preset, k)[None, None]
    args = {"stride": stride, "padding": padding, "dilation": dilation}
    g = conv.geometry(x.shape[1:], w.shape[2:], **args)
    dy = conv.upstream(gradient, (1, *g.out_shape), seed=seed, cell=(0, *cell))
    _, dw = conv.conv2d_backward(x, w, dy, **args)
    data = backward_figures.step_data(
        conv.pad_input(x, g.pads)[0],
        g.pads,
        w[0, 0],
        dy[0],
        stride=stride,
        dilation=dilation,
        frame_ms=frame_ms,
    )
    return data, dw[0, 0]


def _gradient_cell(state: PageState, where, axis: str, size: int, notes, disabled: bool) -> int:
    """The row (or column) of the "one cell" gradient: a number the output has (0 to size - 1). One
    outside it (from a link, or left by a larger output) is refused with a sentence and clamped."""
    key, default = f"c2b_{axis[:3]}", size // 2
    state.start(key, default, lambda text: read_number(key, text, default, 0, MAX_CELL, integer=True))
    if st.session_state[key] > size - 1:
        notes.warning(
            f"∂L/∂Y cell {axis} {st.session_state[key]} is outside the output, whose {axis}s are 0 to "
            f"{size - 1}: using {axis} {size - 1}.",
            icon=WARNING,
        )
        st.session_state[key] = size - 1
    label = f"Cell {axis}"
    return int(state.number_input(where, label, 0, size - 1, default=default, key=key, disabled=disabled))


def _backward_lesson(where) -> None:
    where.markdown(
        r"**Backward.** Output cell $y_{ij}$ was the kernel $K$ times the patch under its window, summed: "
        r"its upstream gradient $g = \partial L / \partial y_{ij}$ sends $g \times$ the patch to "
        r"$\partial L/\partial K$ and $g \times K$ to the patch's pixels. Over every output cell, "
        r"$\partial L/\partial K = X \star \partial L/\partial Y$ and $\partial L/\partial X = "
        r"(\partial L/\partial Y)_\text{strided, padded} \ast \operatorname{rot180}(K)$: the *full* "
        r"convolution of the gradient, its cells spread $s$ apart, with the flipped kernel, a "
        r"**transposed convolution**. ▶ Play, or drag the slider."
    )


def _backward(state: PageState) -> None:
    embedded = st.context.is_embedded
    presenter = bool(st.session_state.get("presenter"))
    if not embedded and not presenter:  # (in presenter mode under the chart: Play on the first screen)
        _backward_lesson(st)
    controls, notes, animation, below = _animation_slots("c2b_controls", BACKWARD_SETTINGS, presenter)
    cols = controls.columns([1.3, 0.9, 1.2, 1.0, 0.8, 0.8, 0.8, 1.0])
    source = state.selectbox(cols[0], "Input", ["MNIST digit", *conv.PATTERNS], key="c2b_source")
    digit = 0
    if source == "MNIST digit":
        digit = int(state.number_input(cols[1], "Test digit #", 0, 1999, default=0, key="c2b_digit"))
    preset = state.selectbox(
        cols[2], "Kernel", list(conv.KERNEL_PRESETS), default="Sobel x", key="c2b_kernel"
    )
    k = state.segmented_control(cols[3], "Size", conv.KERNEL_SIZES, default=3, required=True, key="c2b_size")
    stride = int(state.selectbox(cols[4], "Stride s", [1, 2, 3], key="c2b_stride"))
    padding = _padding(state.selectbox(cols[5], "Padding p", PADDINGS, key="c2b_padding"))
    dilation = int(state.selectbox(cols[6], "Dilation d", [1, 2, 3], key="c2b_dilation"))
    speed = state.select_slider(cols[7], "Speed", list(SPEEDS), default="normal", key="c2b_speed")
    image = _image(source, digit)
    rows, columns = conv.geometry(image.shape, (k, k), stride, padding, dilation).out_shape
    more = controls.columns([2.2, 1, 1, 1])
    gradient = state.radio(
        more[0], "Upstream gradient ∂L/∂Y", list(conv.UPSTREAM), key="c2b_grad", horizontal=True
    )
    seed = int(
        state.number_input(more[1], "Seed", 0, 9999, default=0, key="c2b_seed", disabled=gradient != "random")
    )
    one = gradient == "one cell"
    cell = (
        _gradient_cell(state, more[2], "row", rows, notes, disabled=not one),
        _gradient_cell(state, more[3], "column", columns, notes, disabled=not one),
    )
    data, dw = _backward_data(
        source,
        digit,
        preset,
        k,
        stride,
        padding,
        dilation,
        gradient,
        seed,
        cell if one else (0, 0),
        SPEEDS[speed],
    )
    conv_backward_steps(
        animation, data, key="c2b_steps", presenter=presenter, autoplay=state.flag("autoplay")
    )
    if embedded:  # a slide shows the animation; the lecturer says the rest
        return
    if presenter:
        _backward_lesson(below)
    below.caption(
        "∂L/∂Y = ones is the gradient of L = sum of all outputs; one cell, of L = that output alone; "
        "random stands for whatever the layers above send back."
    )
    for line in backward_figures.shapes_latex(
        image.shape, (k, k), stride=stride, padding=padding, dilation=dilation
    ):
        below.latex(line)
    matrix = r" \\ ".join(" & ".join(f"{v:.4g}" for v in row) for row in dw)
    below.latex(
        r"\text{after the last step (conv2d\_backward):}\quad \frac{\partial L}{\partial K} = "
        rf"\begin{{pmatrix}} {matrix} \end{{pmatrix}}"
    )


# --- the page -----------------------------------------------------------------------------------------


def render() -> None:
    state = PageState("conv", known=LINK_PARAMETERS)
    page_setup(state)
    share = st.sidebar.container()
    views = dict(zip(VIEWS, (_one_channel, _many_channels, _text, _backward), strict=True))
    if st.context.is_embedded:  # a slide shows the linked view alone
        state.show_notes()
        views[state.choice(VIEWS, key="conv_view")](state)
    else:
        st.title("Convolutions")
        state.show_notes()
        for tab, view in zip(state.tabs(VIEWS, key="conv_view"), views.values(), strict=True):
            if tab.open:  # only the open tab computes
                with tab:
                    view(state)
    share_box(share, state.publish())
