"""The optimizer lab: optimizers race on a 2D loss surface, animated side by side in the browser.

Data flows one way: widgets -> a `RaceConfig` (optviz/lab/config.py) -> cached library calls ->
figure builders -> `widgets.chart`; the race itself is the live race chart (optviz/ui/race_chart),
fed the packed race (optviz/lab/race_data.py), which sends a dragged or clicked start back. The
sliders of the hyperparameters, the steps and the noise run nothing on the server as they move: the
chart races them in the browser (through the server's race route, as a dragged start) and sends
their values once they rest. The "Loss and distance" tab is a component too (optviz/ui/race_curves,
fed optviz/lab/curves_data.py), whose cursor follows the race chart's step in the browser.
"""

from __future__ import annotations

import streamlit as st

from optviz import OPTIMIZERS, SURFACES, resolve_hyperparams
from optviz.lab import analysis
from optviz.lab import config as lab
from optviz.lab.config import RaceConfig, RaceView
from optviz.lab.curves_data import curves_data
from optviz.lab.figures import surface3d_figure
from optviz.lab.race import landmarks, race, step_internals, summarize
from optviz.lab.race_data import race_data, race_paths, signature
from optviz.lab.race_requests import REQUESTS as RACE_REQUESTS
from optviz.params import hyperparameter_key, read_number
from optviz.schedules import SCHEDULES
from optviz.text import literal
from optviz.ui import exports, lab_views
from optviz.ui.lab_views import BY_SETTINGS, surface_view
from optviz.ui.race_chart import race_chart, sent_start
from optviz.ui.race_curves import race_curves
from optviz.ui.share_box import share_box
from optviz.ui.url_state import PageState
from optviz.ui.widgets import (
    FRAME_PARAMETERS,
    chart,
    chart_sliders,
    hyperparameter_sliders,
    hyperparameter_values,
    page_setup,
    reset_hyperparameters,
    slider_stops,
)
from surfaces import Surface, from_formula, get_surface
from surfaces.formula import is_formula_name
from surfaces.formula.program import listing

RACE_CHART_KEY = "race_chart"
NOISE_STOPS = slider_stops("noise", 0.0)  # the stops of the gradient noise's slider
# The page's fragments that a control changing only the race reruns (`_race_changed`).
RACE_FRAGMENT, VIEW_FRAGMENT, SURFACE_3D_FRAGMENT = "lab_race", "lab_view", "lab_surface_3d"
# The start's controls show x₀ and y₀ to the decimals a start picked on the map is rounded to.
START_FORMAT = f"%.{lab.START_DECIMALS}f"
RESET = ":material/restart_alt:"  # the toast that says tuned values went back
TUNED = ":material/target:"  # the toast that says what tuning chose
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


@st.cache_resource(max_entries=16, show_spinner=False, hash_funcs=BY_SETTINGS)
def _race(config: RaceConfig):
    """The race of `config`: the one the chart's race route has just answered for these settings (a
    drag released, sliders at rest: `RaceRequests.raced`), or raced now. Every session with these
    settings shares the one race, as the route's answers are shared: a cache resource, not cache
    data, which would pickle it when kept and unpickle a copy at each of a run's two or three reads
    (its arrays are read-only, so a reader cannot change it for the others)."""
    return RACE_REQUESTS.raced(config) or race(config)


def _race_data(config: RaceConfig, *, with_map: bool) -> dict:
    """The race as the chart draws it (the same for every session with these settings); without
    its map, the paths for the map the chart has."""
    if not with_map:
        return race_paths(config.surface, _race(config), settings=signature(config.key))
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
    _reset(recommended)
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
    """Start at (x, y) as the start's controls show it (`lab.START_DECIMALS`): a named start, or a
    point picked on the map (a float32 from the browser, e.g. -2.700000048), races from, and lands in
    the link as, -2.7."""
    st.session_state.start_x = round(float(x), lab.START_DECIMALS)
    st.session_state.start_y = round(float(y), lab.START_DECIMALS)


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
    # The release reruns the page (the start boxes, the tabs and the link follow), as does a start
    # whose race cannot be read again here.
    st.session_state.race_released = bool(sent.get("final")) or not _race_settings_read_again()


def _tuned_from_chart() -> None:
    """The sliders the chart races settled ({values: {hp_adam_lr: 0.003, steps: 120, ...}, seq,
    drawn}; the chart raced them through the server's race route meanwhile): its own, or the
    sidebar's (whose values came with this run). The values become the sidebar's, and the race's
    fragments rerun as after a change there (`_race_changed`), so the tabs and the link follow; the
    page reruns instead when the sidebar shows one of those sliders at another value (moved on the
    chart, its optimizer's box open), so that it shows the value. The sequence number goes back with
    the race, which is not sent again if it is the one the chart shows (`drawn`, its signature: the
    route's answer). Values the race cannot take (`RaceConfig.tuned`) are ignored."""
    sent = (st.session_state.get(RACE_CHART_KEY) or {}).get("tuned")
    try:
        values, seq = {str(k): float(v) for k, v in sent["values"].items()}, int(sent["seq"])
        config, _ = _race_settings()
        tuned = config.tuned(values)
    except (AttributeError, KeyError, TypeError, ValueError):
        return  # not what the chart sends: ignored
    # Each setting's control (its key is its link name) and the box it sits in, if any.
    controls = [
        *((hyperparameter_key(optimizer, name), _tuning_box_key(optimizer))
          for optimizer in tuned.optimizers for name in tuned.hyperparams_of(optimizer)),
        *((key, None) for key in lab.RACE_SLIDERS),
    ]  # fmt: skip
    redraw_sidebar = False
    for key, box in controls:
        if key in values:
            value = tuned.setting(key)
            shown = box is None or bool(st.session_state.get(box))
            redraw_sidebar = redraw_sidebar or (shown and st.session_state.get(key) != value)
            st.session_state[key] = value
    st.session_state.race_answer = seq
    st.session_state.race_drawn = sent.get("drawn")  # the race the chart shows (the route's answer)
    if not redraw_sidebar:
        _race_changed()  # reruns the fragments; returns when only the page can follow
    st.session_state.race_released = True


# --- the page -------------------------------------------------------------------------------------


def render() -> None:
    state = PageState("lab", known=LINK_PARAMETERS)
    embedded = st.context.is_embedded
    # A slide of one of the tabs (an embedded link naming `view`) shows that view alone, the race
    # chart's place included; remembered, since the link loses `view` when it names the first tab.
    alone = st.session_state.setdefault("lab_view_alone", embedded and "view" in st.query_params)
    with st.sidebar:
        config, show_3d = _controls(state, raced_by_chart=not alone)
    presenter = page_setup(state)
    share = st.sidebar.container()
    state.show_notes()
    surface = config.surface

    title, formula = st.columns([1, 2], vertical_alignment="center")
    title.markdown(f"### {surface.title}")
    formula.latex(surface.formula)
    if not embedded:  # in a slide, the lecturer says it; the chart gets the room
        st.caption(f"{literal(surface.description, limit=None)} **What to look for:** {surface.lesson}")
    fragments = st.session_state.lab_fragments = []  # what `_race_changed` reruns
    if not config.optimizers:
        st.warning("Choose at least one optimizer in the sidebar.")
        share_box(share, state.publish())
        return

    if not alone:
        height = EMBED_CHART_HEIGHT if embedded else PRESENTER_CHART_HEIGHT if presenter else CHART_HEIGHT
        st.session_state.race_page_run = True  # read by the fragment: this run is the whole page's
        fragments.append(RACE_FRAGMENT)
        _race_panel(surface, presenter, height, state.flag("autoplay"))
        if not embedded:
            st.caption(
                "▶ Play runs every optimizer together (Space on the chart; arrow keys step, Shift for ten). "
                "Drag the start ring, or click anywhere on the map, to start from there."
            )
            _files(surface, presenter, fragments)
    fragments.append(VIEW_FRAGMENT)
    if alone:
        _view(state.choice(VIEWS, key="view"), surface, state, share, presenter)
    else:
        # Only the open tab computes (sweeps and basin maps are hundreds of runs).
        for tab, name in zip(state.tabs(VIEWS, key="view"), VIEWS, strict=True):
            if tab.open:
                with tab:
                    _view(name, surface, state, share, presenter)
    if show_3d:
        fragments.append(SURFACE_3D_FRAGMENT)
        _surface_3d(surface)
    state.show_notes_now()


def _race_changed() -> None:
    """A control that changes only the race (a hyperparameter, the steps, the noise, the start, the
    chart's look) reruns the parts of the page that show the race, not the page: the race chart,
    the open tab, and the files and the 3D surface if shown. Streamlit's keyed fragment rerun; the
    sidebar, where the change was made, is drawn in the browser already."""
    fragments = st.session_state.get("lab_fragments")
    if fragments and _race_settings_read_again():
        st.rerun(fragments)
    # else the page reruns


def _race_settings_read_again() -> bool:
    """Read the race's settings again on the surface shown (in a callback); False if the session
    lacks a control's value (a client that sent only the values it changed, where a browser sends
    them all): the page's run then makes it again, from the link or its default."""
    try:
        _keep_race_settings(_race_settings()[0].surface)
    except (AttributeError, KeyError):
        return False
    return True


def _race_settings() -> tuple[RaceConfig, RaceView]:
    """The race and its look as the controls last set them (`_read_race_settings`, kept in the
    session where they change: the page's run, `_race_changed`, a start from the chart)."""
    return st.session_state.lab_settings


def _keep_race_settings(surface: Surface) -> tuple[RaceConfig, RaceView]:
    """Read the race's settings on `surface` from the controls' values and keep them for this run's
    fragments and the next fragment reruns."""
    settings = st.session_state.lab_settings = _read_race_settings(surface)
    return settings


def _read_race_settings(surface: Surface) -> tuple[RaceConfig, RaceView]:
    """The race and its look as the controls have them, read from the session, where each control
    keeps its value: a full run reads them after drawing the controls, a control that changes only
    the race (`_race_changed`) without drawing them."""
    session = st.session_state
    recommended = _recommended(surface)
    steps = int(session.steps)
    schedule = lab.schedule(
        session.schedule,
        steps,
        gamma=session.get("schedule_gamma", lab.DEFAULT_GAMMA),
        every=session.get("schedule_every"),
        warmup=session.get("schedule_warmup"),
    )
    # The start as its boxes show it (START_DECIMALS, as a start picked on the map is): a link's or a
    # typed 0.123456 races from 0.123, as the chart's race route races it while a slider moves.
    start = (
        round(float(session.start_x), lab.START_DECIMALS),
        round(float(session.start_y), lab.START_DECIMALS),
    )
    config = RaceConfig.create(
        surface,
        session.optimizers,
        start,
        steps,
        {name: hyperparameter_values(name, recommended[name]) for name in session.optimizers},
        session.noise,
        session.seed,
        schedule,
    )
    view = RaceView(
        panels=session.layout == lab.LAYOUTS[1],
        speed=session.speed,
        equal_scale=bool(session.equal_scale) and lab.equal_scale_fits(surface),
    )
    return config, view


@st.fragment(key=RACE_FRAGMENT)
def _race_panel(surface: Surface, presenter: bool, height: int, autoplay: bool) -> None:
    """The live race chart and what diverged, in a fragment of their own: a control that changes
    the race, or each position the chart sends while its start is dragged, reruns this (a race and
    its packing, a few ms), not the page. The settings come from the session (`_race_settings`).
    The map goes with a whole page's run (the chart may be new) or when the chart asks for it; a
    fragment rerun sends the paths alone. The release (or a click) reruns the whole page once, so
    the start boxes, the tabs and the link follow. A race that fails keeps the last one drawn, with
    the reason under it."""
    config, view = _race_settings()
    recommended = _recommended(surface)
    page_run = st.session_state.pop("race_page_run", False)
    if st.session_state.pop("race_released", False) and not page_run:
        st.rerun(scope="app")
    with_map = page_run or st.session_state.pop("race_map_wanted", False)
    # Sliders at rest: the chart shows their race already (the route answered it), not sent again.
    drawn = st.session_state.pop("race_drawn", None) == signature(config.key)
    try:
        data = None if drawn and not with_map else _race_data(config, with_map=with_map)
        error = None
    except Exception as problem:  # the chart keeps its last race; the page says why
        data, error = None, f"This start could not be raced ({type(problem).__name__}: {problem})."
    race_chart(
        data,
        key=RACE_CHART_KEY,
        token=RACE_REQUESTS.register(config),
        answer=st.session_state.get("race_answer", 0),
        epoch=st.session_state.get("race_epoch", 0),
        tuning=_chart_tuning(config, recommended, with_stops=with_map),
        race_sliders=_race_sliders(config, with_stops=with_map),
        speed=lab.CHART_SPEEDS[view.speed],
        panels=view.panels,
        equal_scale=view.equal_scale,
        presenter=presenter,
        height=height,
        autoplay=autoplay,
        error=error,
        on_start=_start_from_chart,
        on_tuned=_tuned_from_chart,
        on_map_wanted=_map_wanted,
    )
    if error is None:
        for name, t in _race(config).items():
            if t.diverged_at is not None:
                status = summarize(config.surface, t).status
                st.warning(f"**{OPTIMIZERS[name].label}** {status}.", icon=":material/warning:")


def _chart_tuning(config: RaceConfig, recommended: dict, *, with_stops: bool) -> list[dict]:
    """The hyperparameter sliders the chart races, its own and the sidebar's: each racing optimizer's
    (`widgets.chart_sliders`) at its values."""
    return [
        {
            "label": OPTIMIZERS[name].label,
            "colour": OPTIMIZERS[name].colour,
            "sliders": chart_sliders(
                name, recommended[name], config.hyperparams_of(name), with_stops=with_stops
            ),
        }
        for name in config.optimizers
    ]


def _race_sliders(config: RaceConfig, *, with_stops: bool) -> list[dict]:
    """The race-wide sliders of the sidebar that the chart races too (`lab.RACE_SLIDERS`), as data
    for it: the steps (a numeric slider: its position is its value) and the noise (its position is
    the index of a stop; the stops go with a page's run, as the hyperparameters' do)."""
    noise_stops = {"stops": NOISE_STOPS} if with_stops else {}
    return [
        {"key": "steps", "value": config.steps, "numeric": True},
        {"key": "noise", "value": config.noise, **noise_stops},
    ]


def _map_wanted() -> None:
    """The chart was sent paths without a map and has none (it was drawn anew): the next run sends it."""
    st.session_state.race_map_wanted = True


def _files(surface: Surface, presenter: bool, fragments: list[str]) -> None:
    """The downloads, folded away: closed, they are not drawn (opening them reruns the page), and a
    change of the race has nothing of theirs to redraw."""
    with st.expander(
        ":material/download: Files for slides: an offline HTML animation, a GIF, a PNG",
        key="lab_files",
        on_change="rerun",
    ) as box:
        if box.open:
            fragments.append(exports.SECTION)
            # The files are made from the settings when asked for, in the style the page shows.
            exports.downloads(*_race_settings(), presenter)


@st.fragment(key=VIEW_FRAGMENT)
def _view(name: str, surface: Surface, state: PageState, share, presenter: bool) -> None:
    """The open tab's view, in a fragment that a change of the race reruns (with the chart), as its
    own controls do; then the link, which follows every control, in the sidebar's share box."""
    config, _ = _race_settings()
    trajectories = _race(config)
    if name == "Loss and distance":
        race_curves(
            curves_data(surface, trajectories, settings=signature(config.key)),
            key="race_curves",
            presenter=presenter,
            height=PRESENTER_CURVES_HEIGHT if presenter else CURVES_HEIGHT,
        )
    elif name == "Results":
        _results_table(surface, trajectories, state)
    elif name == "Update rules, step by step":
        _update_rules(trajectories, config, state)
    elif name == "Learning-rate sweep":
        lab_views.sweep_view(config, trajectories, state)
    elif name == "Basins of attraction":
        lab_views.basins_view(config, state)
    elif name == "Stability":
        lab_views.stability_view(config, trajectories)
    elif name == "Noise fan":
        lab_views.noise_view(config, state)
    else:
        lab_views.internals_view(config, trajectories, state)
    state.refresh()
    share_box(share, state.publish(notes=False))


@st.fragment(key=SURFACE_3D_FRAGMENT)
def _surface_3d(surface: Surface) -> None:
    """The surface in 3D with the paths on it."""
    config, _ = _race_settings()
    grid, colour = surface_view(surface)
    chart(st, surface3d_figure(surface, grid, colour, _race(config)), fresh=True)


def _reset(recommended: dict[str, dict[str, float]]) -> None:
    """Every optimizer's sliders back to `recommended` (a callback), over any value the chart has not
    sent yet (`_page_set_values`)."""
    reset_hyperparameters(recommended)
    _page_set_values()


def _page_set_values() -> None:
    """The page set the race's sliders itself (a reset, the tuner, a new surface): a new epoch tells
    the chart to forget the values it raced and has not sent yet (a slider moved just before), which
    would otherwise come back once they rest and undo this."""
    st.session_state.race_epoch = st.session_state.get("race_epoch", 0) + 1


def _tune() -> None:
    """Set each optimizer's learning rate to the sweep's best for this surface, start and budget,
    and say what it chose (a button's callback: the page's run that follows moves the sliders)."""
    config, _ = _race_settings()
    tuned = analysis.tune(lab_views.lr_sweeps(config), config.surface)
    for name, choice in tuned.items():
        st.session_state[hyperparameter_key(name, "lr")] = choice.lr
    _page_set_values()
    chosen = ", ".join(
        f"{OPTIMIZERS[n].label} η = {t.lr:.3g}" for n, t in tuned.items() if n in config.optimizers
    )
    st.toast(f"Tuned for {config.steps} steps from this start: {chosen or 'every run diverged'}.", icon=TUNED)


def _controls(state: PageState, *, raced_by_chart: bool):
    """The sidebar. Returns the race's configuration (hashable) and whether to show the 3D surface.
    A control that changes only the race calls `_race_changed` (a fragment rerun); one that changes
    what the sidebar itself shows (the surface, the optimizers, the schedule's kind) reruns the page.
    With the race chart on the page (`raced_by_chart`), the sliders of the hyperparameters, the steps
    and the noise run nothing at all (on_change="ignore"): the chart sees them move in the browser,
    races them through the server's race route, and sends the values once they rest
    (`_tuned_from_chart`), with whose run the sliders' values come."""
    raced = "ignore" if raced_by_chart else _race_changed
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
    for where, label, key, default, (low, high) in (
        (left, "x₀", "start_x", default_x, (x0, x1)),
        (right, "y₀", "start_y", default_y, (y0, y1)),
    ):
        state.number_input(
            where,
            label,
            low,
            high,
            key=key,
            default=default,
            step=(high - low) / 100,
            format=START_FORMAT,
            on_change=_race_changed,
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
    for name in selected:
        # Lazy: a closed expander's sliders are not drawn (opening one reruns the page).
        with st.expander(
            f":material/tune: {OPTIMIZERS[name].label}", key=_tuning_box_key(name), on_change="rerun"
        ) as box:
            hyperparameter_sliders(name, recommended[name], state, shown=box.open, on_change=raced)
    st.button("Reset to this surface's defaults", on_click=_reset, args=(recommended,), key="reset")
    st.button(
        f"{TUNED} Tune each learning rate",
        key="tune",
        on_click=_tune,
        help="Fixed learning rates make an unfair race. This sweeps 60 learning rates from 10⁻⁵ to 10 per "
        "optimizer for this surface, start and step budget, and races each at the one with the lowest "
        "f − f* after the budget (below 10⁻¹² counts as solved; ties take the middle rate). Other "
        "hyperparameters stay as set.",
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
        on_change=raced,
    )
    state.select_slider(
        st,
        "Gradient noise σ for every optimizer",
        NOISE_STOPS,
        key="noise",
        default=0.0,
        help="Gaussian noise added to every gradient (SGD adds its own); all optimizers see the same draws.",
        on_change=raced,
    )
    state.number_input(
        st, "Noise seed", 0, lab.MAX_SEED, key="seed", default=0, step=1, on_change=_race_changed
    )
    _schedule_controls(int(steps), state)
    st.markdown("**View**")
    layouts = list(lab.LAYOUTS)
    state.segmented_control(
        st,
        "Layout",
        layouts,
        key="layout",
        default=layouts[0],
        selection_mode="single",
        required=True,
        on_change=_race_changed,
    )
    state.select_slider(
        st, "Animation speed", list(lab.SPEEDS), key="speed", default="normal", on_change=_race_changed
    )
    _equal_scale_toggle(surface, state)
    show_3d = state.toggle(st, "Show the 3D surface", key="show_3d")
    config, _ = _keep_race_settings(surface)
    return config, show_3d


def _tuning_box_key(optimizer: str) -> str:
    """The key of the sidebar's box of `optimizer`'s sliders (its value: whether it is open)."""
    return f"tune_{optimizer}"


def _equal_scale_toggle(surface: Surface, state: PageState) -> None:
    """Equal scales on x and y, offered where the window is not too far from square (the toggle is
    greyed out, saying why, elsewhere, and its value then counts as off: `_race_settings`)."""
    fits = lab.equal_scale_fits(surface)
    state.toggle(
        st,
        "Equal scale on x and y",
        key="equal_scale",
        disabled=not fits,
        on_change=_race_changed,
        help=(
            "One unit as long on both axes: the gradient, perpendicular to the contours, is drawn "
            "perpendicular to them, and circles look round."
            if fits
            else f"This window is {lab.window_ratio(surface):.1f} times longer one way than the other: "
            "on one scale the map would be a thin strip."
        ),
    )


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


def _schedule_controls(steps: int, state: PageState) -> None:
    """The learning-rate schedule every optimizer follows, with its one or two settings (read back
    by `_race_settings`). A new kind reruns the page: it brings other settings."""
    kind = state.selectbox(
        st, "Learning-rate schedule", list(SCHEDULES), key="schedule", format_func=lab.SCHEDULE_LABELS.get
    )
    if kind == "step":
        left, right = st.columns(2)
        state.select_slider(
            left,
            "× γ",
            lab.SCHEDULE_GAMMAS,
            key="schedule_gamma",
            default=lab.DEFAULT_GAMMA,
            on_change=_race_changed,
        )
        state.number_input(
            right,
            "every k steps",
            1,
            lab.MAX_STEPS,
            key="schedule_every",
            default=lab.default_every(steps),
            step=1,
            on_change=_race_changed,
        )
    elif kind == "warmup":
        state.number_input(
            st,
            "warm up over w steps",
            1,
            lab.MAX_STEPS,
            key="schedule_warmup",
            default=lab.default_warmup(steps),
            step=1,
            on_change=_race_changed,
        )


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
