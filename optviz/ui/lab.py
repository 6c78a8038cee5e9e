"""The optimizer lab: optimizers race on a 2D loss surface, animated side by side in the browser.

Data flows one way: widgets -> a `RaceConfig` (optviz/lab/config.py) -> cached library calls ->
figure builders -> `widgets.chart`; the race itself is the live race chart (optviz/ui/race_chart),
fed the packed race (optviz/lab/race_data.py), which sends a dragged or clicked start back. The
"Loss and distance" tab is a component too (optviz/ui/race_curves, fed optviz/lab/curves_data.py),
whose cursor follows the race chart's step in the browser.
"""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from optviz import OPTIMIZERS, SURFACES, resolve_hyperparams
from optviz.lab import analysis
from optviz.lab import config as lab
from optviz.lab.config import RaceConfig, RaceView
from optviz.lab.curves_data import curves_data
from optviz.lab.figures import surface3d_figure
from optviz.lab.race import landmarks, race, step_internals, summarize
from optviz.lab.race_data import race_data, signature
from optviz.lab.race_requests import REQUESTS as RACE_REQUESTS
from optviz.params import hyperparameter_key, read_number
from optviz.schedules import SCHEDULES, Schedule
from optviz.text import literal
from optviz.ui import exports, lab_views
from optviz.ui.lab_views import by_settings, surface_view
from optviz.ui.race_chart import race_chart, sent_start
from optviz.ui.race_curves import race_curves
from optviz.ui.share_box import share_box
from optviz.ui.url_state import PageState
from optviz.ui.widgets import (
    FRAME_PARAMETERS,
    chart,
    hyperparameter_sliders,
    page_setup,
    reset_hyperparameters,
    slider_stops,
)
from surfaces import Surface, from_formula, get_surface
from surfaces.formula import is_formula_name
from surfaces.formula.program import listing

RACE_CHART_KEY = "race_chart"
# The start's controls show x₀ and y₀ to 3 decimals; a start picked on the map is rounded to them.
START_DECIMALS = 3
START_FORMAT = f"%.{START_DECIMALS}f"
RESET = ":material/restart_alt:"  # the toast that says tuned values went back
# px, the loss and distance panels side by side (larger type needs taller panels in presenter mode)
CURVES_HEIGHT, PRESENTER_CURVES_HEIGHT = 300, 400
# px, the race chart's controls included; the embedded chart fits a 960 x 540 slide under its title
CHART_HEIGHT, EMBED_CHART_HEIGHT, PRESENTER_CHART_HEIGHT = 560, 440, 640
# Link parameters that belong to widgets made only in some views or for some selections.
LINK_PARAMETERS = (
    r"surface|formula|formula_[xy][01]|start_[xy]|optimizers|steps|noise|seed|schedule\w*|layout|speed",
    r"equal_scale",
    lab.HYPERPARAMETER_KEYS,
    r"autoplay|show_3d|view|tolerance|inspect_step|grid_sweep_optimizer|basin_resolution|fan_\w+|internals_\w+",
    *FRAME_PARAMETERS,
)
FORMULA_HELP = (
    "Use x, y, numbers, pi, e, + - * / ** (or ^), parentheses and sin, cos, tan, exp, log, sqrt, abs, "
    "tanh, sinh, cosh, arctan, min, max. At most 200 characters."
)
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


# --- cached computations: keyed by plain values, so every session shares them ---------------------
# A race is a few arrays per optimizer; 16 keep what a class shares (the defaults, a setting the
# lecturer names) and each student's last few. Figures are not cached: a race figure holds the same
# numbers several times over, as Python objects (paths, frames, slider), so a cached one would cost
# several races' memory (python -m bench.load measures the server's memory after a class).


@by_settings(max_entries=16)
def _race(config: RaceConfig):
    return race(config)


def _race_data(config: RaceConfig) -> dict:
    """The race as the chart draws it (the same for every session with these settings)."""
    grid, colour = surface_view(config.surface)
    return race_data(config.surface, grid, colour, _race(config), settings=signature(config.key))


# --- widget callbacks ------------------------------------------------------------------------------


def _current_surface():
    """The surface being shown: a built-in one, or the last formula that parsed."""
    return get_surface(st.session_state.surface_name)


def _recommended(surface: Surface) -> dict[str, dict[str, float]]:
    """Every optimizer's recommended hyperparameters on `surface`: where its sliders start."""
    return {name: resolve_hyperparams(surface, name) for name in OPTIMIZERS}


def _apply_surface_defaults(surface: Surface) -> None:
    """A new surface brings its own start, step count and recommended hyperparameters. Settings
    tuned on the previous surface are not carried over (a learning rate tuned for one surface can
    diverge on another, whose scale differs); a toast names the optimizers whose values went back."""
    recommended = _recommended(surface)
    previous = st.session_state.get("recommended")  # None on a session's first run
    tuned = [] if previous is None else _tuned_away_from(previous)
    st.session_state.recommended = recommended
    st.session_state.start_x, st.session_state.start_y = surface.default_start
    st.session_state.steps = surface.default_steps
    reset_hyperparameters(recommended)
    if tuned:
        names, title = ", ".join(tuned), literal(surface.title)
        st.toast(f"{names}: hyperparameters back at the values recommended for {title}.", icon=RESET)


def _tuned_away_from(recommended: dict[str, dict[str, float]]) -> list[str]:
    """The chosen optimizers (labels) with a hyperparameter that differs from `recommended`."""
    chosen = st.session_state.get("optimizers") or []
    return [
        OPTIMIZERS[name].label
        for name in chosen
        if any(
            st.session_state.get(hyperparameter_key(name, hp), value) != value
            for hp, value in recommended.get(name, {}).items()
        )
    ]


def _set_start(x: float, y: float) -> None:
    """Start at (x, y) as the start's controls show it (START_DECIMALS): a point picked on the map
    (a float32 from the browser, e.g. -2.700000048) races from, and lands in the link as, -2.7."""
    st.session_state.start_x = round(float(x), START_DECIMALS)
    st.session_state.start_y = round(float(y), START_DECIMALS)


def _start_from_preset() -> None:
    """A named start was picked: move there, and clear the pick so the same one can be picked again."""
    label = st.session_state.start_preset
    if label is not None:
        _set_start(*_current_surface().starts[label])
        st.session_state.start_preset = None


def _start_from_chart() -> None:
    """The race chart sent a start (a drag's release, a click on the map, or a drag in progress
    where the chart cannot ask the server's race route): start there, clamped to the window
    (`start_on_map`). The sequence number goes back with the race it asked for."""
    sent = sent_start(RACE_CHART_KEY)
    if not sent:
        return
    try:
        x, y, seq = float(sent["x"]), float(sent["y"]), int(sent["seq"])
        start = lab.start_on_map(_current_surface(), x, y)
    except (KeyError, TypeError, ValueError):
        return  # not what the chart sends: ignored
    _set_start(*start)
    st.session_state.race_answer = seq
    st.session_state.race_released = bool(sent.get("final"))


def _tuned_for(config: RaceConfig) -> tuple:
    """What a tuning applies to: the surface, the optimizers, the start and the step budget."""
    return config.surface.name, config.optimizers, config.start, config.steps


def _tune(config: RaceConfig) -> None:
    """Set each optimizer's learning rate to the sweep's best for this surface, start and budget."""
    tuned = analysis.tune(lab_views.lr_sweeps(config), config.surface)
    st.session_state.tuned = {"for": _tuned_for(config), "lrs": {name: t.lr for name, t in tuned.items()}}
    for name, choice in tuned.items():
        st.session_state[hyperparameter_key(name, "lr")] = choice.lr


# --- the page -------------------------------------------------------------------------------------


def render() -> None:
    state = PageState("lab", known=LINK_PARAMETERS)
    with st.sidebar:
        config, view, show_3d = _controls(state)
    presenter = page_setup(state)
    share = st.sidebar.container()
    state.show_notes()
    embedded = st.context.is_embedded
    surface, selected = config.surface, config.optimizers

    title, formula = st.columns([1, 2], vertical_alignment="center")
    title.markdown(f"### {surface.title}")
    formula.latex(surface.formula)
    if not embedded:  # in a slide, the lecturer says it; the chart gets the room
        st.caption(f"{literal(surface.description, limit=None)} **What to look for:** {surface.lesson}")
    if not selected:
        st.warning("Choose at least one optimizer in the sidebar.")
        share_box(share, state.publish())
        return

    trajectories = _race(config)
    # A slide of one of the tabs (an embedded link naming `view`) shows that view alone, the race
    # chart's place included; remembered, since the link loses `view` when it names the first tab.
    alone = st.session_state.setdefault("lab_view_alone", embedded and "view" in st.query_params)
    if not alone:
        _race_and_downloads(config, view, trajectories, state, presenter)
    views = {
        "Loss and distance": lambda: race_curves(
            curves_data(surface, trajectories, settings=signature(config.key)),
            key="race_curves",
            presenter=presenter,
            height=PRESENTER_CURVES_HEIGHT if presenter else CURVES_HEIGHT,
        ),
        "Results": lambda: _results_table(surface, trajectories, state),
        "Update rules, step by step": lambda: _update_rules(trajectories, config, state),
        "Learning-rate sweep": lambda: lab_views.sweep_view(config, trajectories, state),
        "Basins of attraction": lambda: lab_views.basins_view(config, state),
        "Stability": lambda: lab_views.stability_view(config, trajectories),
        "Noise fan": lambda: lab_views.noise_view(config, state),
        "Internals": lambda: lab_views.internals_view(config, trajectories, state),
    }
    if alone:
        views[state.choice(VIEWS, key="view")]()
    else:
        # Only the open tab computes (sweeps and basin maps are hundreds of runs).
        for tab, show in zip(state.tabs(VIEWS, key="view"), views.values(), strict=True):
            if tab.open:
                with tab:
                    show()
    if show_3d:
        grid, colour = surface_view(surface)
        chart(st, surface3d_figure(surface, grid, colour, trajectories), fresh=True)
    share_box(share, state.publish())


def _race_and_downloads(config: RaceConfig, view: RaceView, trajectories, state: PageState, presenter: bool):
    """The live race chart, what diverged, and (on the page, not in a slide) tuning and the files."""
    embedded = st.context.is_embedded
    height = EMBED_CHART_HEIGHT if embedded else PRESENTER_CHART_HEIGHT if presenter else CHART_HEIGHT
    st.session_state.race_page_run = True  # read by the fragment: this run is the whole page's
    _race_panel(config, view, presenter, height, state.flag("autoplay"))
    if not embedded:
        st.caption(
            "▶ Play runs every optimizer together (Space on the chart; arrow keys step, Shift for ten). "
            "Drag the start ring, or click anywhere on the map, to start from there."
        )
    for name, t in trajectories.items():
        summary = summarize(config.surface, t)
        if t.diverged_at is not None:
            st.warning(f"**{OPTIMIZERS[name].label}** {summary.status}.", icon=":material/warning:")
    if not embedded:
        _tune_button(config)
        # The files are made from the settings when asked for, in the style the page shows.
        exports.downloads(config, view, presenter)


@st.fragment
def _race_panel(config: RaceConfig, view: RaceView, presenter: bool, height: int, autoplay: bool) -> None:
    """The live race chart, in a fragment of its own: while the start is dragged, each position the
    chart sends reruns only this (a race and its packing, a few ms), not the page. The start comes
    from the session (the chart's callback moved it; the arguments are the last page run's).
    The release (or a click) reruns the whole page once, so the start boxes, the tabs and the link
    follow. A race that fails keeps the last one drawn, with the reason under it."""
    start = (float(st.session_state.start_x), float(st.session_state.start_y))
    if start != config.start:
        config = replace(config, start=start)
    page_run = st.session_state.pop("race_page_run", False)
    if st.session_state.pop("race_released", False) and not page_run:
        st.rerun(scope="app")
    try:
        data, error = _race_data(config), None
    except Exception as problem:  # the chart keeps its last race; the page says why
        data, error = None, f"This start could not be raced ({type(problem).__name__}: {problem})."
    race_chart(
        data,
        key=RACE_CHART_KEY,
        token=RACE_REQUESTS.register(config),
        answer=st.session_state.get("race_answer", 0),
        speed=lab.CHART_SPEEDS[view.speed],
        panels=view.panels,
        equal_scale=view.equal_scale,
        presenter=presenter,
        height=height,
        autoplay=autoplay,
        error=error,
        on_start=_start_from_chart,
    )


def _tune_button(config: RaceConfig) -> None:
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
    if tuned and tuned["for"] == _tuned_for(config):
        chosen = ", ".join(
            f"{OPTIMIZERS[n].label} η = {lr:.3g}" for n, lr in tuned["lrs"].items() if n in config.optimizers
        )
        x, y = config.start
        right.caption(
            f"Tuned: {chosen}. Objective: the lowest f − f* after the budget of {config.steps} steps from "
            f"({x:.3g}, {y:.3g}), among 60 learning rates from 10⁻⁵ to 10 that did not "
            "diverge (below 10⁻¹² counts as solved; ties take the middle rate). Other hyperparameters as set."
        )
    else:
        right.caption(
            "Fixed learning rates make an unfair race: tune each one for this surface, start and budget."
        )


def _controls(state: PageState):
    """The sidebar. Returns the race configuration (hashable) and the view options."""
    choice = state.selectbox(
        st,
        "Loss surface",
        [*SURFACES, lab.CUSTOM],
        key="surface",
        format_func=lambda name: "Your own f(x, y)" if name == lab.CUSTOM else SURFACES[name].title,
    )
    surface = _formula_controls(state) if choice == lab.CUSTOM else SURFACES[choice]
    if st.session_state.get("surface_name") != surface.name:  # first run, or a new surface or formula
        st.session_state.surface_name = surface.name
        _apply_surface_defaults(surface)
    (x0, x1), (y0, y1) = surface.bounds
    st.pills(
        "Start point (or click the map)",
        list(surface.starts),
        key="start_preset",
        on_change=_start_from_preset,
    )
    left, right = st.columns(2)
    default_x, default_y = surface.default_start
    start_x = state.number_input(
        left, "x₀", x0, x1, key="start_x", default=default_x, step=(x1 - x0) / 100, format=START_FORMAT
    )
    start_y = state.number_input(
        right, "y₀", y0, y1, key="start_y", default=default_y, step=(y1 - y0) / 100, format=START_FORMAT
    )

    selected = state.multiselect(
        st,
        "Optimizers",
        list(OPTIMIZERS),
        key="optimizers",
        default=list(lab.DEFAULT_OPTIMIZERS),
        format_func=lambda name: OPTIMIZERS[name].label,
    )
    recommended = _recommended(surface)
    hyperparams = {}
    for name in selected:
        # Lazy: a closed expander's sliders are not drawn (opening one reruns the page).
        with st.expander(
            f":material/tune: {OPTIMIZERS[name].label}", key=f"tune_{name}", on_change="rerun"
        ) as box:
            hyperparams[name] = hyperparameter_sliders(name, recommended[name], state, shown=box.open)
    st.button(
        "Reset to this surface's defaults", on_click=reset_hyperparameters, args=(recommended,), key="reset"
    )

    st.markdown("**Run**")
    steps = state.slider(
        st,
        "Steps",
        lab.MIN_STEPS,
        lab.MAX_STEPS,
        step=lab.STEP_STEP,
        key="steps",
        default=surface.default_steps,
    )
    noise = state.select_slider(
        st,
        "Gradient noise σ for every optimizer",
        slider_stops("noise", 0.0),
        key="noise",
        default=0.0,
        help="Gaussian noise added to every gradient (SGD adds its own); all optimizers see the same draws.",
    )
    seed = state.number_input(st, "Noise seed", 0, lab.MAX_SEED, key="seed", default=0, step=1)
    schedule = _schedule_controls(int(steps), state)
    st.markdown("**View**")
    layouts = list(lab.LAYOUTS)
    layout = state.segmented_control(
        st, "Layout", layouts, key="layout", default=layouts[0], selection_mode="single", required=True
    )
    speed = state.select_slider(st, "Animation speed", list(lab.SPEEDS), key="speed", default="normal")
    equal_scale = _equal_scale_toggle(surface, state)
    show_3d = state.toggle(st, "Show the 3D surface", key="show_3d")

    config = RaceConfig.create(
        surface, selected, (start_x, start_y), steps, hyperparams, noise, seed, schedule
    )
    view = RaceView(panels=layout == layouts[1], speed=speed, equal_scale=equal_scale)
    return config, view, show_3d


def _equal_scale_toggle(surface: Surface, state: PageState) -> bool:
    """Equal scales on x and y, offered where the window is not too far from square (the toggle is
    greyed out, saying why, elsewhere, and its value then counts as off)."""
    fits = lab.equal_scale_fits(surface)
    on = state.toggle(
        st,
        "Equal scale on x and y",
        key="equal_scale",
        disabled=not fits,
        help=(
            "One unit as long on both axes: the gradient, perpendicular to the contours, is drawn "
            "perpendicular to them, and circles look round."
            if fits
            else f"This window is {lab.window_ratio(surface):.1f} times longer one way than the other: "
            "on one scale the map would be a thin strip."
        ),
    )
    return on and fits


def _formula_controls(state: PageState) -> Surface:
    """The formula box and its window; returns the formula's surface (the last one that worked, if
    the text does not parse, with the reason shown)."""
    text = state.text_input(st, "f(x, y) =", key="formula", default=lab.EXAMPLE_FORMULA, help=FORMULA_HELP)
    left, right = st.columns(2)
    (default_x0, default_x1), (default_y0, default_y1) = lab.FORMULA_WINDOW
    x0 = state.number_input(left, "x from", key="formula_x0", default=default_x0)
    x1 = state.number_input(right, "x to", key="formula_x1", default=default_x1)
    y0 = state.number_input(left, "y from", key="formula_y0", default=default_y0)
    y1 = state.number_input(right, "y to", key="formula_y1", default=default_y1)
    try:
        surface = from_formula(text, ((x0, x1), (y0, y1)))
    except ValueError as problem:
        st.error(literal(str(problem), limit=None), icon=":material/error:")
        previous = st.session_state.get("surface_name", "")
        fallback = get_surface(previous) if is_formula_name(previous) else from_formula(lab.EXAMPLE_FORMULA)
        st.caption(f"Showing the last formula that worked: {literal(fallback.description, limit=None)}")
        return fallback
    with st.expander("As the computer runs it"):
        st.caption(
            "One instruction a line, each reading earlier results: the computation graph of f, in order. "
            "Every formula runs through one compiled interpreter of such lines, which carries each "
            "value's gradient along by the chain rule."
        )
        st.text(listing(surface.params))  # plain monospace: a code block would load a syntax highlighter
    return surface


def _schedule_controls(steps: int, state: PageState) -> Schedule:
    """The learning-rate schedule every optimizer follows, with its one or two settings."""
    kind = state.selectbox(
        st, "Learning-rate schedule", list(SCHEDULES), key="schedule", format_func=lab.SCHEDULE_LABELS.get
    )
    if kind == "step":
        left, right = st.columns(2)
        gamma = state.select_slider(
            left, "× γ", lab.SCHEDULE_GAMMAS, key="schedule_gamma", default=lab.DEFAULT_GAMMA
        )
        every = state.number_input(
            right,
            "every k steps",
            1,
            lab.MAX_STEPS,
            key="schedule_every",
            default=lab.default_every(steps),
            step=1,
        )
        return lab.schedule(kind, steps, gamma=gamma, every=int(every))
    if kind == "warmup":
        warmup = state.number_input(
            st,
            "warm up over w steps",
            1,
            lab.MAX_STEPS,
            key="schedule_warmup",
            default=lab.default_warmup(steps),
            step=1,
        )
        return lab.schedule(kind, steps, warmup=int(warmup))
    return lab.schedule(kind, steps)


def _results_table(surface, trajectories, state: PageState) -> None:
    tolerance = state.select_slider(
        st,
        "Tolerance for 'reached'",
        [1e-1, 1e-2, 1e-3, 1e-4, 1e-6, 1e-8],
        default=1e-3,
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


def _update_rules(trajectories, config, state: PageState) -> None:
    """Each optimizer's rule beside the numbers that went into it at the inspected step."""
    schedule = config.schedule
    if schedule.kind != "constant":
        st.markdown(f"Every η below follows the **{lab.SCHEDULE_LABELS[schedule.kind]}** schedule:")
        st.latex(schedule.latex)
    steps = next(iter(trajectories.values())).steps
    state.start("inspect_step", 1, lambda text: read_number("inspect_step", text, 1, 1, steps, integer=True))
    # The step count may have shrunk since the slider was last moved.
    st.session_state.inspect_step = min(st.session_state.inspect_step, steps)
    step = st.slider("Inspect step t", 1, steps, key="inspect_step")
    state.record("inspect_step", step)
    st.caption(
        r"$\theta_{t-1}$: where step $t$ started · $g_t$: the gradient it saw (noise included) · then the "
        r"optimizer's state after the step · $\theta_t - \theta_{t-1}$: the step taken · "
        r"$-\Delta\theta / g_t$: the effective learning rate of each coordinate"
    )
    for name, t in trajectories.items():
        rule, numbers = st.columns(2, vertical_alignment="center")
        rule.markdown(
            f"<span style='color:{OPTIMIZERS[name].colour}'>●</span> **{OPTIMIZERS[name].label}**",
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
