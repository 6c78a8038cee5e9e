"""The MLP page's loss-landscape tab: the trained network's loss on a plane through its final
weights, with every optimizer's path of weights in that one plane (optviz.mlp.landscape).

The slice is computed once per (runs, centre, data, plane, resolution, seed) and kept for every
session: the cache is keyed by those plain values (each run by its settings and how many epochs it
has), never by the weights themselves, which it does not hash.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import streamlit as st

from optviz import mlp
from optviz.mlp import landscape
from optviz.mlp.landscape_figures import landscape3d_figure, landscape_figure
from optviz.optimizers import OPTIMIZERS
from optviz.ui.url_state import PageState
from optviz.ui.widgets import chart, chart_first_in_a_slide

LINK_PARAMETERS = (r"land_\w+",)  # this tab's controls, for the page's PageState(known=...)
DATA_LABELS = {"test": "Test digits", "train": "Training digits"}
PLANE_LABELS = {"random": "Two random directions", "start": "Through the start"}
HEIGHT, EMBED_HEIGHT = 560, 460  # px, the chart; in a 540 px slide, above its folded settings


@st.cache_data(max_entries=32, show_spinner="Computing the loss on the plane…")
def _slice(
    signature: tuple,
    centre: str,
    data: str,
    plane: str,
    resolution: int,
    seed: int,
    activation: str,
    _histories: Mapping[str, mlp.History],
) -> landscape.Slice:
    """landscape.slice_with_paths, cached by `signature` (which runs, with how many epochs) and the
    view's settings; `_histories` (underscore: not hashed) are the runs' Histories it stands for."""
    return landscape.slice_with_paths(
        _histories, centre, data=data, resolution=resolution, seed=seed, plane=plane, activation=activation
    )


def _signature(runs: Sequence, histories: Mapping[str, mlp.History]) -> tuple:
    """The runs drawn, as plain values: each run's settings, its epochs and its last test loss (a
    run's History is fixed by its settings and epochs; the loss is a cheap second check)."""
    return tuple(
        (tuple(run), histories[run.optimizer].epochs, float(histories[run.optimizer].test_loss[-1]))
        for run in runs
        if run.optimizer in histories
    )


def landscape_view(
    runs: Sequence,
    histories: Mapping[str, mlp.History],
    state: PageState,
    ask_to_train: Callable[[str], None],
) -> None:
    """Tab ⑦: `runs` are the page's runs (NamedTuples with optimizer and activation; one network
    shape and seed), `histories` {optimizer: History} those trained; without any, `ask_to_train`
    says why with its sentence and offers training."""
    if not histories:
        ask_to_train(
            "The landscape is that of a trained network, with the paths its optimizers took: "
            "train the network first."
        )
        return
    best = max(histories, key=lambda name: histories[name].test_accuracy[-1])
    controls, figure_slot = chart_first_in_a_slide("Centre, digits, plane, resolution, 3D")
    centre_col, data_col, plane_col = controls.columns([2, 1, 1])
    centre = state.selectbox(
        centre_col,
        "Plane through the final weights of",
        list(histories),
        default=best,
        key="land_centre",
        format_func=lambda n: f"{OPTIMIZERS[n].label} ({histories[n].test_accuracy[-1]:.1%} test accuracy)",
    )
    data = state.radio(
        data_col,
        "Loss on",
        list(landscape.DATA),
        default="test",
        key="land_data",
        format_func=DATA_LABELS.get,
        help=f"Training: {landscape.SLICE_DIGITS:,} of the training digits (a fixed draw), as many as the "
        "test set, so switching does not recompile.",
    )
    plane = state.radio(
        plane_col, "Plane", list(landscape.PLANES), key="land_plane", format_func=PLANE_LABELS.get
    )
    low, high = landscape.RESOLUTION_RANGE
    resolution_col, seed_col, view_col = controls.columns([2, 1, 1], vertical_alignment="bottom")
    resolution = state.slider(
        resolution_col,
        "Resolution (points per axis)",
        low,
        high,
        default=landscape.DEFAULT_RESOLUTION,
        step=2,
        key="land_resolution",
    )
    seed = state.number_input(seed_col, "Directions' seed", 0, 2**31 - 1, default=0, step=1, key="land_seed")
    surface = state.toggle(view_col, "3D view", key="land_3d")
    settings = (centre, data, plane, int(resolution), int(seed), runs[0].activation)
    view = _slice(_signature(runs, histories), *settings, histories)
    height = EMBED_HEIGHT if st.context.is_embedded else HEIGHT
    draw = landscape3d_figure if surface else landscape_figure
    chart(figure_slot, draw(view, plane, height=height), key="land_chart", fresh=True)
    if st.context.is_embedded:  # a slide shows the picture; the lecturer says the rest
        return
    _explanation(view, centre, data, plane, mlp.parameter_count(histories[centre].params))


def _explanation(view: landscape.Slice, centre: str, data: str, plane: str, parameters: int) -> None:
    """What the picture is, and why it is drawn this way."""
    digits = "2,000 test digits" if data == "test" else f"{landscape.SLICE_DIGITS:,} training digits"
    st.markdown(
        f"The loss on the {digits} on a plane through the final weights θ* of "
        f"{OPTIMIZERS[centre].label}: f(α, β) = L(θ* + α δ + β η). Every optimizer's weights at the start "
        "(the ring: all start from the same weights) and after each epoch are projected onto this one "
        "plane; the large marker is where each ended. In 3D, a path lies on the surface: the loss of "
        "the plane under each point, not of the real weights, which lie off the plane."
    )
    held = view.in_plane[centre][0]
    if plane == "random" and np.isfinite(held):
        st.markdown(
            f"**Why the paths look short.** This plane holds {held:.2%} of the way from the start to θ*: "
            f"in {parameters:,} dimensions two random directions are almost orthogonal to any path, so "
            "most of where the weights went is off the plane (Li et al., 2018, section 7). "
            "**Through the start** turns δ into the line from θ* back to the start (α = 1), so progress "
            "along it shows."
        )
    st.markdown(
        "**Filter normalization.** A random direction is scaled, neuron by neuron, to the size of that "
        "neuron's weights (Li et al., 2018). Without it a step α = 1 would be huge for a layer of small "
        "weights and nothing for a layer of large ones; and since a ReLU network computes the same "
        "function when a neuron's incoming weights are doubled and its outgoing ones halved, the slice's "
        "sharpness would show such rescalings instead of the function. Biases get no direction, as in "
        "Li et al.: the plane moves the weights only."
    )
    st.markdown(
        "**One plane for all optimizers**, so that their paths can be compared: the same centre, the same "
        "directions, the same scale. A PCA plane per optimizer (the two directions its own path varied "
        "most) would mislead: each path would look well captured, each in a picture of its own with its "
        "own axes, and no two pictures could be compared; and the directions in which a path varied most "
        "are where it moved, not where the loss is shaped."
    )
