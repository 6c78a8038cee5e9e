"""Reading what a page sent, for the tests that drive it through Streamlit's AppTest. The sessions
themselves come from fixtures in conftest.py (`lab_session`, `page_session`)."""

import base64
import json
import re

import numpy as np

from optviz.component_code import read_data
from optviz.lab.race_data import unpack_path
from optviz.text import WORD_JOINER
from optviz.ui.code_block import NAME as CODE_BLOCK
from optviz.ui.conv_steps import NAME as CONV_STEPS
from optviz.ui.graph_view import NAME as GRAPH_VIEW
from optviz.ui.race_chart import NAME as RACE_CHART
from optviz.ui.race_curves import NAME as RACE_CURVES


def tuning(at, *optimizers: str):
    """Open the lab's expanders of `optimizers`' hyperparameters and run: a closed expander's
    sliders are not drawn (optviz/ui/lab.py). Returns `at`."""
    for name in optimizers:
        at.session_state[f"tune_{name}"] = True
    return at.run()


def with_files(at):
    """Open the lab's folded "Files for slides" (closed, its buttons are not drawn) and run."""
    at.session_state["lab_files"] = True
    return at.run()


def whole_page(at):
    """`at` run once more as a whole page. A lab control that changes only the race reruns only the
    page's fragments (optviz/ui/lab.py, `_race_changed`): AppTest's tree then holds just their
    elements, where a browser keeps the rest. A test that reads the sidebar next reads this."""
    return at.run()


def race_charts(at) -> list:
    """The live race charts on the page (the lab has one; the share box is a component too)."""
    return [c for c in at.get("bidi_component") if c.proto.component_name == RACE_CHART]


def race_curves(at) -> list:
    """The loss and distance curves on the page (the lab's "Loss and distance" tab, when open)."""
    return [c for c in at.get("bidi_component") if c.proto.component_name == RACE_CURVES]


def conv_steps_data(at):
    """What the convolution's step-by-step chart receives: its `data` (None when not on the page)."""
    charts = [c for c in at.get("bidi_component") if c.proto.component_name == CONV_STEPS]
    return read_data(charts[0].proto) if charts else None


def components_data(at, name: str) -> list:
    """The `data` each of the page's components named `name` receives, in page order."""
    return [read_data(c.proto) for c in at.get("bidi_component") if c.proto.component_name == name]


def code_blocks(at) -> list[str]:
    """The source shown in each of the page's code blocks (optviz/ui/code_block), in page order."""
    return ["".join(text for _, text in data["spans"]) for data in components_data(at, CODE_BLOCK)]


def graph_view_data(at):
    """What the MLP page's computation-graph view receives: its `data` (None when not on the page)."""
    views = components_data(at, GRAPH_VIEW)
    return views[0] if views else None


def race_chart_data(at):
    """What the live race chart receives: its `data`."""
    (chart,) = race_charts(at)
    return read_data(chart.proto)


def race_curves_data(at):
    """What the loss and distance curves receive: their `data`."""
    (curves,) = race_curves(at)
    return read_data(curves.proto)


def paths(data):
    """The race chart's paths, decoded: each {"name": its label, "optimizer", "x", "y", "diverged_at"}."""
    decoded = []
    for packed in data["race"]["paths"]:
        xy = unpack_path(packed)
        decoded.append(
            {
                "name": packed["label"],
                "optimizer": packed["name"],
                "x": xy[:, 0],
                "y": xy[:, 1],
                "diverged_at": packed["diverged_at"],
            }
        )
    return decoded


def values(array):
    """A trace array as sent to the browser: a list, or plotly's base64 typed array."""
    if isinstance(array, dict):
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"])
    return np.asarray(array)


def send_from_race_chart(at, state: dict):
    """Run the page as after the race chart set its component state to `state` (what its
    `setStateValue` does in the browser): AppTest cannot drive a custom component itself."""
    (chart,) = race_charts(at)
    widgets = at._tree.get_widget_states()
    widgets.widgets.add(id=chart.proto.id, json_value=json.dumps(state))
    return at._run(widgets)


def move_race_slider(at, key: str, value: float, seq: int = 1, drawn: str | None = None):
    """Move a slider the lab's race chart races (a hyperparameter's, the steps', the noise's) to
    `value` as in a browser: the slider runs nothing itself (on_change="ignore"); the chart, which
    saw it move, races it and, once it rests, sends the values ({values, seq, drawn}: `drawn` the
    signature of the race it shows), with whose run the slider's value comes."""
    (slider,) = [w for w in [*at.get("select_slider"), *at.get("slider")] if w.key == key]
    slider.set_value(value)
    return send_from_race_chart(at, {"tuned": {"values": {key: value}, "seq": seq, "drawn": drawn}})


def shown(markdown: str) -> str:
    """The text a reader sees of Markdown made by `optviz.text.literal` (escapes read, the invisible
    word joiners that break autolinks dropped)."""
    return re.sub(r"\\(.)", r"\1", markdown.replace(WORD_JOINER, ""))


def link_notes(at) -> str:
    """The warning a page shows about what its link asked for that it could not use ("" if none)."""
    return " ".join(shown(w.value) for w in at.warning if "this link" in w.value)
