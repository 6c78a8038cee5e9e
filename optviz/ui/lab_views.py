"""The lab's "why" views: learning-rate sweeps, basins, stability, noise fans and optimizer internals.

Each view is a function of the race the sidebar built (a `RaceConfig`) and renders into the tab it
is called in. Computations are cached by the race's plain settings; figures come from
optviz.lab.analysis_figures and are drawn by `widgets.chart`.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from optviz import OPTIMIZERS
from optviz.lab import analysis
from optviz.lab.analysis_figures import (
    basin_figure,
    fan_figure,
    grid_sweep_figure,
    internals_figure,
    stability_figure,
    sweep_figure,
)
from optviz.lab.config import RaceConfig
from optviz.lab.race import colouring, optimum_value, surface_grid
from optviz.params import read_number
from optviz.ui.url_state import PageState
from optviz.ui.widgets import chart, chart_first_in_a_slide
from surfaces import Surface

# The learning rates every sweep and the tuner try: 60 values over 6 decades, rounded to 3 digits
# so that a tuned value reads cleanly on its slider.
SWEEP_LRS = tuple(float(f"{lr:.3g}") for lr in analysis.log_spaced(1e-5, 10.0, 60))
BASIN_RESOLUTIONS = (50, 100, 200)
BATCH_SIZES = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
FAN_HEIGHT, EMBED_FAN_HEIGHT = 480, 400  # px, the fan; in a slide, under its title and above its settings


# --- cached computations -------------------------------------------------------------------------------


# A race's plain settings (`RaceConfig.key`) and a surface's name, as a cache hashes them: the records
# themselves hold JAX functions, which a cache cannot hash. The settings go in as their repr, one
# string (exact: a float's repr reads back as the same float): Streamlit's hasher walks a nested
# tuple value by value, which cost ~2 ms per cached call of every page run.
BY_SETTINGS = {RaceConfig: lambda config: repr(config.key), Surface: lambda surface: surface.name}


def by_settings(**options):
    """st.cache_data keyed by a race's settings (`BY_SETTINGS`)."""
    return st.cache_data(hash_funcs=BY_SETTINGS, **{"show_spinner": False, **options})


@st.cache_resource(max_entries=32, show_spinner=False, hash_funcs={Surface: lambda surface: surface.name})
def surface_view(surface: Surface):
    """The surface sampled on the plot's grid, and its colour transform."""
    grid = surface_grid(surface)
    return grid, colouring(surface, grid)


@by_settings(max_entries=64, show_spinner="Sweeping learning rates…")
def lr_sweeps(c: RaceConfig):
    hyperparams = {name: c.hyperparams_of(name) for name in c.optimizers}
    return analysis.lr_sweep(
        c.surface, c.optimizers, c.start, c.steps, hyperparams, SWEEP_LRS, c.seed, c.schedule
    )


@by_settings(max_entries=32, show_spinner="Mapping two hyperparameters…")
def _grid_sweep(c: RaceConfig, name: str):
    other = OPTIMIZERS[name].second_parameter
    return analysis.lr_grid_sweep(
        c.surface, name, other, c.start, c.steps, c.hyperparams_of(name), seed=c.seed, schedule=c.schedule
    )


@by_settings(max_entries=32, show_spinner="Running every start point…")
def _basins(c: RaceConfig, names: tuple[str, ...], resolution: int):
    return {
        name: analysis.basins(
            c.surface, name, c.steps, c.hyperparams_of(name), resolution, c.seed, c.schedule
        )
        for name in names
    }


@by_settings(max_entries=32, show_spinner="Running the noisy runs…")
def _fan(c: RaceConfig, name: str, noise: float, runs: int):
    hyperparams = {k: v for k, v in c.hyperparams_of(name).items() if k != "noise"}
    return analysis.noise_fan(c.surface, name, c.start, c.steps, noise, hyperparams, runs, c.schedule)


# --- the views ------------------------------------------------------------------------------------------


def sweep_view(config: RaceConfig, trajectories, state: PageState) -> None:
    surface = config.surface
    has_minimum = optimum_value(surface) is not None
    st.markdown(
        f"Every selected optimizer at **60 learning rates** from 10⁻⁵ to 10, from the current start for "
        f"**{config.steps} steps** (one vmapped call). Dotted lines: the divergence edge, above which every "
        "rate diverges (×). Rings: your current learning rates."
    )
    sweeps = lr_sweeps(config)
    current = {
        name: (t.hyperparams["lr"], _final_objective(surface, t.loss[-1])) for name, t in trajectories.items()
    }
    chart(st, sweep_figure(sweeps, current, has_minimum), fresh=True)
    two = [name for name in config.optimizers if OPTIMIZERS[name].second_parameter]
    if not two:
        st.caption("Select momentum, Nesterov, RMSProp or Adam for a two-hyperparameter map.")
        return
    name = state.segmented_control(
        st,
        "Two-hyperparameter map",
        two,
        key="grid_sweep_optimizer",
        default=two[0],
        required=True,
        format_func=lambda n: f"{OPTIMIZERS[n].label}: η × {OPTIMIZERS[n].second_parameter}",
    )
    other = OPTIMIZERS[name].second_parameter
    hyperparams = trajectories[name].hyperparams
    grid = _grid_sweep(config, name)
    chart(st, grid_sweep_figure(grid, (hyperparams["lr"], hyperparams[other]), has_minimum), fresh=True)


def _final_objective(surface, loss: float) -> float:
    f_star = optimum_value(surface)
    return loss if f_star is None else max(loss - f_star, 0.0)


def basins_view(config: RaceConfig, state: PageState) -> None:
    surface = config.surface
    resolution = state.select_slider(
        st,
        "Start points per side",
        BASIN_RESOLUTIONS,
        default=100,
        key="basin_resolution",
        help="The map runs every optimizer from resolution² start points over the whole window.",
    )
    st.markdown(
        f"Each pixel is a start point; its colour says where **{config.steps} steps** from there end up. "
        "Same hyperparameters as the race. Dark: diverged; light grey: not within 2% of a minimum yet."
    )
    if not surface.minima:
        st.info("This surface has no minimum: every start either runs off (dark) or is still moving.")
    names = config.optimizers[:4]
    if len(config.optimizers) > 4:
        st.caption(
            f"Showing the first four selected optimizers: {', '.join(OPTIMIZERS[n].label for n in names)}."
        )
    maps = _basins(config, names, resolution)
    grid, colour = surface_view(surface)
    chart(st, basin_figure(surface, grid, colour, maps), fresh=True)
    labels = {analysis.DIVERGED: "diverged", analysis.NOT_CONVERGED: "not converged"}
    labels |= {i: f"{m.kind} minimum ({m.xy[0]:.3g}, {m.xy[1]:.3g})" for i, m in enumerate(surface.minima)}
    rows = [
        {"optimizer": OPTIMIZERS[n].label}
        | {
            label: f"{maps[n].shares().get(k, 0.0):.0%}"
            for k, label in sorted(labels.items(), key=_minima_first)
        }
        for n in names
    ]
    st.dataframe(rows, hide_index=True)


def _minima_first(item):
    """Order basin labels: minima 0, 1, ..., then diverged, then not converged."""
    return (item[0] < 0, abs(item[0]))


def stability_view(config: RaceConfig, trajectories) -> None:
    st.markdown(
        r"On a quadratic with curvature $\lambda$, gradient descent multiplies the error along that "
        r"direction by $1 - \eta\lambda$ each step: it shrinks only while $\eta\,\lambda_{\max} < 2$. "
        r"Heavy-ball momentum is stable while $\eta\,\lambda_{\max} < 2 + 2\beta$ (the lecture's momentum "
        r"while $\eta(1-\beta)\lambda_{\max} < 2 + 2\beta$; Nesterov while "
        r"$\eta\,\lambda_{\max} < \frac{2 + 2\beta}{1 + 2\beta}$). Below, each gauge is divided by its "
        r"bound, with $\lambda_{\max}$ the largest eigenvalue of the Hessian (`jax.hessian`) where each step "
        "starts: above 1, the step amplifies the error, so divergence shows up before it happens."
    )
    stabilities = {name: analysis.stability(t) for name, t in trajectories.items()}
    chart(st, stability_figure(stabilities), fresh=True)
    for name, s in stabilities.items():
        step = s.first_unstable_step()
        if s.gauge is None:
            continue
        label = OPTIMIZERS[name].label
        diverged = trajectories[name].diverged_at
        if step is None:
            st.success(f"**{label}**: every step was below its stability bound.")
        elif diverged or s.gauge[-1] > s.bound:
            # A warning only when the run paid for it: it diverged, or it ends still above the bound.
            then = f"; it diverged at step {diverged}" if diverged else "; it is still above it at the end"
            st.warning(f"**{label}**: the gauge first passed its bound at step {step}{then}.")
        else:
            over = int(np.sum(s.gauge > s.bound))
            st.info(
                f"**{label}**: the gauge passed its bound at step {step} ({over} step(s) in all) where the "
                "surface curves steeply, then stayed below it: those steps amplified the error along "
                "the steepest direction, and the run settled as the curvature fell. Not a divergence."
            )
    adaptive = [OPTIMIZERS[n].label for n, s in stabilities.items() if s.gauge is None]
    if adaptive:
        st.caption(
            f"{', '.join(adaptive)}: no fixed bound; their step adapts to the gradient (see Internals)."
        )
    curvature = analysis.curvature_at_minimum(config.surface)
    if curvature is not None:
        c = curvature
        st.latex(
            rf"\text{{at the global minimum }}({c.at[0]:.3g}, {c.at[1]:.3g}):\quad "
            rf"\lambda_{{\min}} = {c.lambda_min:.4g},\ \lambda_{{\max}} = {c.lambda_max:.4g},\quad "
            rf"\kappa = {c.condition_number:.4g},\quad "
            rf"\eta^{{*}}_{{GD}} = \frac{{2}}{{\lambda_{{\min}} + \lambda_{{\max}}}} = {c.optimal_lr:.4g}"
        )


def noise_view(config: RaceConfig, state: PageState) -> None:
    surface = config.surface
    names = list(config.optimizers)
    controls, figure = chart_first_in_a_slide("Optimizer, mini-batch size, noise")
    left, middle, right = controls.columns(3)
    name = state.selectbox(
        left, "Optimizer", names, key="fan_optimizer", format_func=lambda n: OPTIMIZERS[n].label
    )
    batch = state.select_slider(
        middle,
        "Mini-batch size B",
        BATCH_SIZES,
        default=16,
        key="fan_batch",
        help=f"Of N = {analysis.DATASET_SIZE} examples: B = N is full-batch gradient descent.",
    )
    per_example = state.select_slider(
        right,
        "Per-example gradient noise σ₁",
        [0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0],
        default=10.0,
        key="fan_sigma",
    )
    noise = analysis.minibatch_noise(per_example, batch)
    embedded = st.context.is_embedded
    fan = _fan(config, name, float(noise), 50)
    grid, colour = surface_view(surface)
    height = EMBED_FAN_HEIGHT if embedded else FAN_HEIGHT
    chart(figure, fan_figure(surface, grid, colour, fan, name, height=height), fresh=True)
    if embedded:  # a slide shows the fan; the lecturer says the rest
        return
    st.markdown(
        rf"A mini-batch gradient averages $B$ of $N = {analysis.DATASET_SIZE}$ per-example gradients, so its "
        rf"noise has standard deviation $\sigma = \sigma_1 \sqrt{{(N - B) / (B (N - 1))}} = {noise:.3g}$: "
        "halve it by taking four times the batch, and it vanishes at the full batch. 50 runs, each with its "
        "own noise seed, in one call; the bold line is their median, the dashed one the run without noise."
    )
    spread = np.median(np.linalg.norm(fan.paths[:, -1] - fan.median[-1], axis=-1))
    st.caption(f"Median distance of the 50 end points from the median end point: {spread:.3g}.")


def internals_view(config: RaceConfig, trajectories, state: PageState) -> None:
    surface = config.surface
    left, right = st.columns([1, 2])
    name = state.selectbox(
        left,
        "Optimizer",
        list(trajectories),
        key="internals_optimizer",
        format_func=lambda n: OPTIMIZERS[n].label,
    )
    t = trajectories[name]
    state.start(
        "internals_step", 1, lambda text: read_number("internals_step", text, 1, 1, t.steps, integer=True)
    )
    st.session_state.internals_step = min(st.session_state.internals_step, t.steps)  # steps may have shrunk
    step = right.slider("Step t", 1, t.steps, key="internals_step")
    state.record("internals_step", step)
    grid, colour = surface_view(surface)
    effective = analysis.effective_lr(t)
    chart(st, internals_figure(surface, grid, colour, t, step, effective), fresh=True)
    if effective is not None:
        st.caption(
            "Adagrad divides η by the root of the *sum* of all squared gradients so far, which only grows: "
            "its effective rate can only fall. RMSProp and Adam use a running *mean*, which forgets, so "
            "their rates recover when gradients shrink."
        )
