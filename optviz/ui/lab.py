"""The optimizer lab: optimizers race on a 2D loss surface, animated side by side in the browser.

Data flows one way: widgets -> a hashable configuration -> cached library calls -> figure builders.
"""

from __future__ import annotations

import streamlit as st

from optviz import OPTIMIZERS, SURFACES, analysis, get_surface, resolve_hyperparams
from optviz.figures import OPTIMIZER_COLOURS, progress_figure, race_figure, surface3d_figure
from optviz.lab import MAX_STEPS, colouring, landmarks, race, step_internals, summarize, surface_grid
from optviz.schedules import SCHEDULES, Schedule
from optviz.ui import explore
from optviz.ui.widgets import (
    compact_page,
    hyperparameter_key,
    hyperparameter_sliders,
    plain_text,
    reset_hyperparameters,
    slider_stops,
)
from surfaces import from_formula

DEFAULT_OPTIMIZERS = ["gd", "sgd", "momentum", "adagrad", "rmsprop", "adam"]
SPEEDS = {"slow": 6, "normal": 15, "fast": 30, "very fast": 60}  # frames (steps) per second
RACE_CHART_KEY = "race_chart"
CUSTOM = "custom"  # the surface choice that reads a formula from a text box
EXAMPLE_FORMULA = "sin(x)*cos(y) + 0.1*(x**2 + y**2)"
FORMULA_HELP = (
    "Use x, y, numbers, pi, e, + - * / ** (or ^), parentheses and sin, cos, tan, exp, log, sqrt, abs, "
    "tanh, sinh, cosh, arctan, min, max. At most 200 characters."
)
SCHEDULE_LABELS = {"constant": "constant", "step": "step decay", "cosine": "cosine", "warmup": "warmup"}
VIEWS = (
    "Loss and distance",
    "Results",
    "Update rules, step by step",
    "Learning-rate sweep",
    "Basins of attraction",
    "Stability",
    "Noise fan",
    "Internals",
)


# --- cached computations: keyed by plain hashable values, so every session shares them ------------
# Bounded by memory: a cached race figure is ~0.9 MB of Python objects, a progress figure ~0.3 MB, a
# race ~0.3 MB pickled. 16 figures and 64 races keep what a class shares (the defaults, a setting
# the lecturer names) and each student's last few; with 64 figures and 256 races a busy classroom
# minute left the server 17% above its one-session memory, with these 7% (python -m bench.load).


@st.cache_resource(max_entries=32, show_spinner=False)
def _surface_view(surface_name: str):
    surface = get_surface(surface_name)
    grid = surface_grid(surface)
    return grid, colouring(surface, grid)


@st.cache_data(max_entries=64, show_spinner=False)
def _race(surface_name, names, start, steps, hyperparams, shared_noise, seed, schedule):
    hyperparams = {k: dict(v) for k, v in hyperparams}
    return race(
        surface_name, list(names), start, steps, hyperparams, shared_noise, seed, Schedule(**dict(schedule))
    )


@st.cache_resource(max_entries=16, show_spinner=False)
def _race_figure(config, panels: bool, frames_per_second: int):
    surface = get_surface(config[0])
    grid, colour = _surface_view(config[0])
    return race_figure(
        surface, grid, colour, _race(*config), panels=panels, frame_ms=1000 // frames_per_second
    )


@st.cache_resource(max_entries=16, show_spinner=False)
def _progress_figure(config):
    return progress_figure(get_surface(config[0]), _race(*config))


# --- widget callbacks ------------------------------------------------------------------------------


def _current_surface():
    """The surface being shown: a built-in one, or the last formula that parsed."""
    return get_surface(st.session_state.surface_name)


def _apply_surface_defaults(surface) -> None:
    """A new surface brings its own start, step count and recommended hyperparameters."""
    st.session_state.start_x, st.session_state.start_y = surface.default_start
    st.session_state.steps = surface.default_steps
    reset_hyperparameters({name: resolve_hyperparams(surface, name) for name in OPTIMIZERS})


def _set_start(x: float, y: float) -> None:
    st.session_state.start_x, st.session_state.start_y = float(x), float(y)


def _start_from_preset() -> None:
    """A named start was picked: move there, and clear the pick so the same one can be picked again."""
    label = st.session_state.start_preset
    if label is not None:
        _set_start(*_current_surface().starts[label])
        st.session_state.start_preset = None


def _start_from_click() -> None:
    """A click on the race chart selects an (invisible) grid point: start there."""
    points = st.session_state[RACE_CHART_KEY].selection.points
    if points:
        (x0, x1), (y0, y1) = _current_surface().bounds
        _set_start(min(max(points[0]["x"], x0), x1), min(max(points[0]["y"], y0), y1))


def _tune(config) -> None:
    """Set each optimizer's learning rate to the sweep's best for this surface, start and budget."""
    tuned = analysis.tune(explore.lr_sweeps(config), config[0])
    st.session_state.tuned = {"for": config[:4], "lrs": {name: t.lr for name, t in tuned.items()}}
    for name, choice in tuned.items():
        st.session_state[hyperparameter_key(name, "lr")] = choice.lr


# --- the page -------------------------------------------------------------------------------------


def render() -> None:
    compact_page()
    with st.sidebar:
        config, panels, speed, show_3d = _controls()
    surface = get_surface(config[0])
    selected = config[1]

    title, formula = st.columns([1, 2], vertical_alignment="center")
    title.markdown(f"### {surface.title}")
    formula.latex(surface.formula)
    st.caption(f"{surface.description} **What to look for:** {surface.lesson}")
    if not selected:
        st.warning("Choose at least one optimizer in the sidebar.")
        return

    trajectories = _race(*config)
    st.plotly_chart(
        _race_figure(config, panels, speed),
        key=RACE_CHART_KEY,
        on_select=_start_from_click,
        selection_mode="points",
        # A short toolbar (zoom, pan, reset, snapshot) that does not cover the legend.
        config={
            "displaylogo": False,
            "modeBarButtonsToRemove": ["select2d", "lasso2d", "zoomIn2d", "zoomOut2d", "autoScale2d"],
        },
    )
    st.caption(
        "▶ Play runs every optimizer together; drag the step slider to scrub. "
        "Click anywhere on the map to start from there. Hover a path for its loss at each step."
    )
    for name, t in trajectories.items():
        summary = summarize(surface, t)
        if t.diverged_at is not None:
            st.warning(f"**{OPTIMIZERS[name].label}** {summary.status}.", icon=":material/warning:")

    _tune_button(config)
    tabs = dict(zip(VIEWS, st.tabs(VIEWS, key="view", bind="query-params"), strict=True))
    surface_view = _surface_view(surface.name)
    # Only the open tab computes (sweeps and basin maps are hundreds of runs).
    if tabs["Loss and distance"].open:
        with tabs["Loss and distance"]:
            st.plotly_chart(_progress_figure(config), config={"displaylogo": False})
    if tabs["Results"].open:
        with tabs["Results"]:
            _results_table(surface, trajectories)
    if tabs["Update rules, step by step"].open:
        with tabs["Update rules, step by step"]:
            _update_rules(trajectories, config)
    if tabs["Learning-rate sweep"].open:
        with tabs["Learning-rate sweep"]:
            explore.sweep_view(config, trajectories, surface_view)
    if tabs["Basins of attraction"].open:
        with tabs["Basins of attraction"]:
            explore.basins_view(config, surface_view)
    if tabs["Stability"].open:
        with tabs["Stability"]:
            explore.stability_view(trajectories)
    if tabs["Noise fan"].open:
        with tabs["Noise fan"]:
            explore.noise_view(config, surface_view)
    if tabs["Internals"].open:
        with tabs["Internals"]:
            explore.internals_view(config, trajectories, surface_view)
    if show_3d:
        grid, colour = surface_view
        st.plotly_chart(surface3d_figure(surface, grid, colour, trajectories), config={"displaylogo": False})


def _tune_button(config) -> None:
    """The fair-comparison button, and what the last tuning did (while it still applies)."""
    left, right = st.columns([1, 3], vertical_alignment="center")
    left.button(
        ":material/target: Tune each learning rate",
        key="tune",
        on_click=_tune,
        args=(config,),
        help="Sweep 60 learning rates per optimizer and race each at its best: a fair comparison.",
    )
    tuned = st.session_state.get("tuned")
    if tuned and tuned["for"] == config[:4]:
        chosen = ", ".join(
            f"{OPTIMIZERS[n].label} η = {lr:.3g}" for n, lr in tuned["lrs"].items() if n in config[1]
        )
        right.caption(
            f"Tuned: {chosen}. Objective: the lowest f − f* after the budget of {config[3]} steps from "
            f"({config[2][0]:.3g}, {config[2][1]:.3g}), among 60 learning rates from 10⁻⁵ to 10 that did not "
            "diverge (below 10⁻¹² counts as solved; ties take the middle rate). Other hyperparameters as set."
        )
    else:
        right.caption(
            "Fixed learning rates make an unfair race: tune each one for this surface, start and budget."
        )


def _controls():
    """The sidebar. Returns the race configuration (hashable) and the view options."""
    choice = st.selectbox(
        "Loss surface",
        [*SURFACES, CUSTOM],
        key="surface",
        format_func=lambda name: "Your own f(x, y)" if name == CUSTOM else SURFACES[name].title,
        bind="query-params",
    )
    name = _formula_controls() if choice == CUSTOM else choice
    if st.session_state.get("surface_name") != name:  # first run, or a new surface or formula
        st.session_state.surface_name = name
        _apply_surface_defaults(get_surface(name))
    surface = get_surface(name)
    (x0, x1), (y0, y1) = surface.bounds
    st.pills(
        "Start point (or click the map)",
        list(surface.starts),
        key="start_preset",
        on_change=_start_from_preset,
    )
    left, right = st.columns(2)
    start_x = left.number_input(
        "x₀", min_value=x0, max_value=x1, step=(x1 - x0) / 100, key="start_x", format="%.3f"
    )
    start_y = right.number_input(
        "y₀", min_value=y0, max_value=y1, step=(y1 - y0) / 100, key="start_y", format="%.3f"
    )

    selected = st.multiselect(
        "Optimizers",
        list(OPTIMIZERS),
        default=DEFAULT_OPTIMIZERS,
        key="optimizers",
        format_func=lambda name: OPTIMIZERS[name].label,
    )
    recommended = {name: resolve_hyperparams(surface, name) for name in OPTIMIZERS}
    tuned = st.session_state.get("tuned", {}).get("lrs", {})
    hyperparams = {}
    for name in selected:
        with st.expander(f":material/tune: {OPTIMIZERS[name].label}"):
            extra = {"lr": tuned[name]} if name in tuned else None
            hyperparams[name] = hyperparameter_sliders(name, recommended[name], extra)
    st.button(
        "Reset to this surface's defaults", on_click=reset_hyperparameters, args=(recommended,), key="reset"
    )

    st.markdown("**Run**")
    steps = st.slider("Steps", 10, MAX_STEPS, step=10, key="steps")
    noise = st.select_slider(
        "Gradient noise σ for every optimizer",
        options=slider_stops("noise", 0.0),
        value=0.0,
        key="noise",
        help="Gaussian noise added to every gradient (SGD adds its own); all optimizers see the same draws.",
    )
    seed = st.number_input("Noise seed", min_value=0, max_value=2**31 - 1, value=0, step=1, key="seed")
    schedule = _schedule_controls(int(steps))
    st.markdown("**View**")
    panels = (
        st.segmented_control(
            "Layout", ["Overlay", "Side by side"], default="Overlay", key="layout", selection_mode="single"
        )
        == "Side by side"
    )
    speed = SPEEDS[st.select_slider("Animation speed", list(SPEEDS), value="normal", key="speed")]
    show_3d = st.toggle("Show the 3D surface", key="show_3d")

    config = (
        surface.name,
        tuple(selected),
        (float(start_x), float(start_y)),
        int(steps),
        tuple((name, tuple(sorted(values.items()))) for name, values in hyperparams.items()),
        float(noise),
        int(seed),
        tuple(sorted(schedule.__dict__.items())),
    )
    return config, panels, speed, show_3d


def _formula_controls() -> str:
    """The formula box and its window; returns the surface's name (the last one that worked, if the
    text does not parse, with the reason shown)."""
    text = st.text_input(
        "f(x, y) =", value=EXAMPLE_FORMULA, key="formula", help=FORMULA_HELP, bind="query-params"
    )
    left, right = st.columns(2)
    x0 = left.number_input("x from", value=-3.0, key="formula_x0", bind="query-params")
    x1 = right.number_input("x to", value=3.0, key="formula_x1", bind="query-params")
    y0 = left.number_input("y from", value=-3.0, key="formula_y0", bind="query-params")
    y1 = right.number_input("y to", value=3.0, key="formula_y1", bind="query-params")
    try:
        return from_formula(text, ((x0, x1), (y0, y1))).name
    except ValueError as problem:
        st.error(plain_text(str(problem)), icon=":material/error:")
        previous = st.session_state.get("surface_name", "")
        fallback = previous if previous.startswith("f:") else from_formula(EXAMPLE_FORMULA).name
        st.caption(f"Showing the last formula that worked: {get_surface(fallback).description}")
        return fallback


def _schedule_controls(steps: int) -> Schedule:
    """The learning-rate schedule every optimizer follows, with its one or two settings."""
    kind = st.selectbox(
        "Learning-rate schedule", list(SCHEDULES), key="schedule", format_func=SCHEDULE_LABELS.get
    )
    if kind == "step":
        left, right = st.columns(2)
        gamma = left.select_slider("× γ", [0.1, 0.2, 0.5, 0.7, 0.9], value=0.5, key="schedule_gamma")
        every = right.number_input(
            "every k steps", 1, MAX_STEPS, value=max(steps // 4, 1), key="schedule_every"
        )
        return Schedule("step", gamma=gamma, every=int(every))
    if kind == "warmup":
        warmup = st.number_input(
            "warm up over w steps", 1, MAX_STEPS, value=max(steps // 5, 1), key="schedule_warmup"
        )
        return Schedule("warmup", warmup=int(warmup))
    if kind == "cosine":
        return Schedule("cosine", horizon=steps)  # anneal to zero over the run
    return Schedule()


def _results_table(surface, trajectories) -> None:
    tolerance = st.select_slider(
        "Tolerance for 'reached'",
        [1e-1, 1e-2, 1e-3, 1e-4, 1e-6, 1e-8],
        value=1e-3,
        key="tolerance",
        format_func=lambda v: f"{v:g}",
    )
    _, landmark = landmarks(surface)
    rows = []
    for name, t in trajectories.items():
        s = summarize(surface, t, tolerance)
        rows.append(
            {
                "optimizer": OPTIMIZERS[name].label,
                "what happened": s.status,
                "final loss": s.final_loss,
                "f − f*": s.gap,
                "step reaching tolerance": s.steps_to_tolerance,
                landmark: s.nearest,
                "distance to it": s.distance,
            }
        )
    st.dataframe(
        rows,
        hide_index=True,
        column_config={
            "what happened": st.column_config.TextColumn(width="large"),
            "final loss": st.column_config.NumberColumn(format="%.4g"),
            "f − f*": st.column_config.NumberColumn(format="%.3e"),
            "distance to it": st.column_config.NumberColumn(format="%.3g"),
        },
    )


def _update_rules(trajectories, config) -> None:
    """Each optimizer's rule beside the numbers that went into it at the inspected step."""
    schedule = Schedule(**dict(config[7]))
    if schedule.kind != "constant":
        st.markdown(f"Every η below follows the **{SCHEDULE_LABELS[schedule.kind]}** schedule:")
        st.latex(schedule.latex)
    steps = next(iter(trajectories.values())).steps
    # The step count may have shrunk since the slider was last moved.
    st.session_state.inspect_step = min(st.session_state.get("inspect_step", 1), steps)
    step = st.slider("Inspect step t", 1, steps, key="inspect_step")
    st.caption(
        r"$\theta_{t-1}$: where step $t$ started · $g_t$: the gradient it saw (noise included) · then the "
        r"optimizer's state after the step · $\theta_t - \theta_{t-1}$: the step taken · "
        r"$-\Delta\theta / g_t$: the effective learning rate of each coordinate"
    )
    for name, t in trajectories.items():
        rule, numbers = st.columns(2, vertical_alignment="center")
        rule.markdown(
            f"<span style='color:{OPTIMIZER_COLOURS[name]}'>●</span> **{OPTIMIZERS[name].label}**",
            unsafe_allow_html=True,
        )
        rule.latex(OPTIMIZERS[name].latex)
        numbers.latex(_numbers_latex(step_internals(t, step)))


def _numbers_latex(quantities) -> str:
    """The quantities of one step as aligned LaTeX lines, e.g. g_t = (-155, -50) (meanings: the caption)."""

    def value(v):
        return rf"{v:.4g}" if v.ndim == 0 else rf"({v[0]:.4g},\ {v[1]:.4g})"

    lines = [rf"{q.symbol} &= {value(q.value)}" for q in quantities]
    return r"\begin{aligned}" + r" \\ ".join(lines) + r"\end{aligned}"
