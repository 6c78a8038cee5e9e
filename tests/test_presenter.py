"""Presenter mode restyles every chart: a page opened with `?presenter=true` draws each of its Plotly
charts, in every tab, in presenter style (`optviz.plotting.presenter_style`, which marks a figure with
`layout.meta == "presenter"`), driven through Streamlit's AppTest.

One case per (page, tab), the tabs taken from each page module's own list, so a new tab is covered
by itself. A case opens the tab by its link and checks the charts the browser would show with that tab
open: the tab's own and those outside the tabs (the lab's 3D view), and the canvas components (the
race chart and its curves, the conv steps, the computation graph), told by their data to draw in
presenter style. Charts drawn in the other tabs are their cases' (a page computes only its open tab).
"""

import json

import pytest

from optviz.component_code import read_data
from optviz.mlp.training_jobs import TRAINER
from optviz.ui import conv, diagnose, lab, mlp
from optviz.ui.conv_steps import NAME as CONV_STEPS
from optviz.ui.graph_view import NAME as GRAPH_VIEW
from optviz.ui.race_chart import NAME as RACE_CHART
from optviz.ui.race_curves import NAME as RACE_CURVES
from tests.apptest import link_notes

# Each page: its address, its tabs, the link parameter that opens one, and the rest of its link.
PAGES = {
    "lab": ("/", lab.VIEWS, "view", {"show_3d": "true"}),  # the 3D view too
    # One small, quick training run (8 steps), so that Train can be pressed.
    "mlp": (
        "/mlp",
        mlp.VIEWS,
        "mlp_view",
        {"mlp_hidden": "8", "mlp_batch": "1000", "mlp_epochs": "1", "mlp_optimizers": "adam"},
    ),
    "conv": ("/conv", conv.VIEWS, "conv_view", {}),
    "diagnose": ("/diagnose", diagnose.VIEWS, "diag_view", {}),
}
DRAWINGS = {RACE_CHART, RACE_CURVES, CONV_STEPS, GRAPH_VIEW}  # the share box and code blocks have no style
CASES = [
    pytest.param(page, tab, id=f"{page}-{tab.encode('ascii', 'ignore').decode().strip()}")
    for page, (_, tabs, _, _) in PAGES.items()
    for tab in tabs
]


def _traces(spec) -> str:
    return ", ".join(sorted({trace.get("type", "scatter") for trace in spec["data"]})) or "no traces"


@pytest.mark.parametrize("page, tab", CASES)
def test_every_chart_is_drawn_in_presenter_style(page, tab, page_session):
    path, _, key, query = PAGES[page]
    at = page_session(page, {"presenter": "true", key: tab, **query})
    assert not link_notes(at), link_notes(at)  # the link was used whole: this tab, presenter mode on
    assert at.session_state[key] == tab and at.toggle(key="presenter").value is True
    if page == "mlp":  # the page as after Train: its training curves and the trained network
        at.session_state[key] = mlp.VIEWS[2]
        at.run()
        at.button(key="mlp_train").click().run()
        assert TRAINER.wait_idle(timeout=180), "training took more than 3 minutes"
        at.session_state[key] = tab
        at.run()
        assert not at.exception, at.exception

    in_tab = [chart for t in at.tabs if t.label == tab for chart in t.get("plotly_chart")]
    elsewhere = [chart for t in at.tabs if t.label != tab for chart in t.get("plotly_chart")]
    plain = []
    for index, chart in enumerate(at.get("plotly_chart")):
        if any(chart is other for other in elsewhere):
            continue
        spec = json.loads(chart.proto.spec)
        if spec["layout"].get("meta") != "presenter":
            where = "in the tab" if any(chart is mine for mine in in_tab) else "outside the tabs"
            meta = spec["layout"].get("meta")
            plain.append(f"chart {index} of the page ({where}; {_traces(spec)}): meta={meta!r}")
    for chart in at.get("bidi_component"):  # the drawing components: styled by their data
        if chart.proto.component_name not in DRAWINGS:
            continue
        if read_data(chart.proto).get("presenter") is not True:
            plain.append(f"the component {chart.proto.component_name}: presenter not set")
    assert not plain, f"{path}, tab {tab!r}: not in presenter style: " + "; ".join(plain)
