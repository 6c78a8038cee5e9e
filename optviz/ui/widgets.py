"""Widgets shared by the pages: the one way a chart is drawn, hyperparameter sliders with sensible
stops and every page's frame (embed and presenter modes)."""

from __future__ import annotations

import copy

import numpy as np
import streamlit as st

from optviz.optimizers import HYPERPARAMETERS, OPTIMIZERS
from optviz.params import hyperparameter_key, read_number
from optviz.plotting import presenter_style
from optviz.ui.deck_bridge import deck_bridge
from optviz.ui.url_state import PageState


def slider_stops(name: str, recommended: float) -> list[float]:
    """The values a hyperparameter's slider offers: 1, 1.5, 2, 3, 5, 7 per decade for log-scale ones
    (learning rates, epsilons), its listed stops otherwise; all within the documented range, and
    always including `recommended`."""
    info = HYPERPARAMETERS[name]
    if info.log_scale:
        decades = range(int(np.floor(np.log10(info.low))), int(np.ceil(np.log10(info.high))) + 1)
        stops = [m * 10.0**k for k in decades for m in (1, 1.5, 2, 3, 5, 7)]
    else:
        stops = info.stops
    stops = [float(f"{v:.6g}") for v in stops if info.low <= v <= info.high]
    return sorted({*stops, float(recommended)})


def hyperparameter_sliders(
    optimizer: str,
    recommended: dict[str, float],
    state: PageState,
    prefix: str = "hp",
    *,
    shown: bool = True,
    on_change=None,
) -> dict[str, float]:
    """One slider per hyperparameter of `optimizer` in `recommended`, starting there (or at a link's
    value); returns their values. `prefix` keeps each page's sliders apart (the lab's Adam learning
    rate is not the MLP's). A value set from outside the slider (a link, the tuner) that is not one
    of its stops becomes one more stop, so it is kept exactly.

    shown=False: the values without the sliders (their expander is closed), each still read from a
    link, kept in the session and written to the link. A slider costs the server and the browser
    more than any other widget on each run, and most of them sit in closed expanders.
    `on_change`: the sliders' callback, or "ignore" (a move runs nothing: the lab's race chart
    races it in the browser)."""
    values = {}
    for name in _tuned_by_sliders(optimizer, recommended):
        info = HYPERPARAMETERS[name]
        key = hyperparameter_key(optimizer, name, prefix)
        default = recommended[name]
        state.start(
            key, default, lambda text, k=key, d=default, i=info: read_number(k, text, d, i.low, i.high)
        )
        current = float(st.session_state[key])
        value = min(max(current, info.low), info.high)
        # A hidden slider's value is assigned on every run: a value assigned in a run outlives a
        # widget not drawn. A drawn one's only when it is out of range: an assignment would override
        # the value the browser just sent (e.g. the expander opened in the same run as the move).
        if not shown or value != current:
            st.session_state[key] = value
        values[name] = value
        if shown:
            values[name] = st.select_slider(
                f"${info.symbol}$  {info.description}",
                options=_slider_options(name, default, value),
                key=key,
                format_func=lambda v: f"{v:.4g}",
                on_change=on_change,
            )
        state.record(key, values[name])
    return values


# The race chart's own row of sliders (optviz/ui/race_chart): each rule's step size and decays. Epsilon and
# an optimizer's own gradient noise stay in the sidebar: a lecture seldom turns them, and without them the
# row is one line on a 960 px slide.
CHART_HYPERPARAMETERS = ("lr", "beta", "decay", "b1", "b2")


def chart_sliders(
    optimizer: str, recommended: dict[str, float], values: dict[str, float], *, with_stops: bool
) -> list[dict]:
    """The sliders of `optimizer` that the lab's race chart races in the browser, as data for it:
    every slider of the sidebar (`hyperparameter_sliders`), at `values`, with its stops when
    `with_stops` (the chart keeps the last it got: a page's run sends them, not each change), so the
    chart can read a sidebar slider's position (an index into the stops); `row` marks those its own
    row of sliders offers (CHART_HYPERPARAMETERS)."""
    return [
        {
            "key": hyperparameter_key(optimizer, name),
            "symbol": HYPERPARAMETERS[name].text,
            "description": HYPERPARAMETERS[name].description,
            "value": values[name],
            "row": name in CHART_HYPERPARAMETERS,
            **({"stops": _slider_options(name, recommended[name], values[name])} if with_stops else {}),
        }
        for name in _tuned_by_sliders(optimizer, recommended)
    ]


def _slider_options(name: str, recommended: float, value: float) -> list[float]:
    """A hyperparameter slider's stops, with its current value among them (a value from a link or the
    tuner that is not a stop is kept exactly)."""
    return sorted({*slider_stops(name, recommended), value})


def hyperparameter_values(
    optimizer: str, recommended: dict[str, float], prefix: str = "hp"
) -> dict[str, float]:
    """The values of `optimizer`'s sliders as the session holds them, once `hyperparameter_sliders`
    has run in it: what a fragment rerun reads without drawing the sliders."""
    return {
        name: float(st.session_state[hyperparameter_key(optimizer, name, prefix)])
        for name in _tuned_by_sliders(optimizer, recommended)
    }


def _tuned_by_sliders(optimizer: str, recommended: dict[str, float]) -> list[str]:
    """The hyperparameters of `optimizer` that get a slider: those with a recommended value."""
    return [name for name in OPTIMIZERS[optimizer].hyperparams if name in recommended]


def reset_hyperparameters(recommended: dict[str, dict[str, float]]) -> None:
    """Set every optimizer's sliders back to `recommended` (call from a widget callback)."""
    for optimizer, values in recommended.items():
        for name, value in values.items():
            st.session_state[hyperparameter_key(optimizer, name)] = value


FRAME_PARAMETERS = ("presenter", "sidebar")  # page_setup's link parameters, read on every page


def page_setup(state: PageState) -> bool:
    """Every page's frame: less empty space (the main chart fits a 1280x720 projector), a tighter
    layout inside an iframe (`?embed=true`), and presenter mode (`?presenter=true` or the sidebar
    toggle): larger text and higher contrast for the back of a lecture hall. Returns whether
    presenter mode is on, for the figures (thicker lines, larger markers)."""
    presenter = state.toggle(
        st.sidebar,
        "Presenter mode",
        key="presenter",
        help="Larger text, thicker lines, higher contrast: readable from the back of a lecture hall.",
    )
    embedded = st.context.is_embedded
    top = "0.5rem" if embedded else "2.5rem"
    css = [f"[data-testid='stMainBlockContainer'] {{padding-top: {top}; padding-bottom: 2rem}}"]
    if embedded:
        # In a slide: nothing of Streamlit's frame (its header would hold only the sidebar's »), and
        # a clicker's keys reach the deck around the view. A view that asks to keep its sidebar
        # (`sidebar=true`: a scene of optviz's own lecture) keeps the sidebar's » in the corner, so
        # that a question in class ("and if beta is 0.99?") can be tried in it.
        if state.flag("sidebar"):
            css += [
                "[data-testid='stHeader'] {background: transparent; pointer-events: none}",
                "[data-testid='stExpandSidebarButton'] {pointer-events: auto}",
                # A phone has no margin beside the content for the » to sit in: above it, then.
                "@media (max-width: 640px) {[data-testid='stMainBlockContainer'] {padding-top: 3rem}}",
                "[data-testid='stToolbarActions'], [data-testid='stMainMenu'], "
                "[data-testid='stAppDeployButton'], [data-testid='stDecoration'] {display: none}",
            ]
        else:
            css.append("[data-testid='stHeader'], [data-testid='stSidebar'] {display: none}")
        deck_bridge()
    if presenter:
        css += [
            "html {font-size: 20px}",
            "[data-testid='stMarkdownContainer'] {color: #000 !important}",
            "[data-testid='stCaptionContainer'] {color: #000 !important}",
            ".katex {font-size: 1.3em}",
        ]
    st.html("<style>" + "\n".join(css) + "</style>")
    return presenter


def chart(where, fig, *, fresh: bool = False, **kwargs):
    """Every chart of every page goes through here: `where.plotly_chart(fig)`, in presenter style when
    presenter mode is on, without Plotly's logo in the toolbar. A figure may come from a cache that
    every session shares, so it is styled on a copy, unless `fresh` says it was built for this run
    alone (copying a large animated figure costs more than drawing it)."""
    if st.session_state.get("presenter"):
        fig = presenter_style(fig if fresh else copy.deepcopy(fig))
    config = {"displaylogo": False, **kwargs.pop("config", {})}
    return where.plotly_chart(fig, config=config, **kwargs)


def chart_first_in_a_slide(settings: str):
    """(controls, figure): on the page, the controls above the figure; in a slide (`?embed=true`), the
    figure first and the controls folded under it (`settings` names them), so the chart is whole in
    the slide."""
    if st.context.is_embedded:
        figure = st.container()
        return st.expander(settings, icon=":material/tune:"), figure
    return st.container(), st.container()
