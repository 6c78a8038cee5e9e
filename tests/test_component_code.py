"""The components' JS as the browser gets it (optviz/component_code.py): served once from the code
route, a small loader inline; comment lines go, code stays, and optviz's JS keeps the one property
that makes that safe."""

import json
import re
from pathlib import Path

import numpy as np
import pytest
from starlette.requests import Request
from starlette.routing import Match
from streamlit.proto.BidiComponent_pb2 import BidiComponent

from optviz.component_code import CODE_ROUTE, data_bytes, loader, read_data, without_comment_lines
from optviz.serve import code_route

UI = Path(__file__).parents[1] / "optviz" / "ui"
SOURCES = sorted(UI.glob("*.js")) + sorted(UI.glob("*/*.js"))


def test_whole_line_comments_blank_lines_and_indentation_go_code_stays():
    js = """// The chart.
const a = 1; // one

    // indented comment
    if (a) {
      call("//not a comment", `${a}`);
    }
"""
    assert without_comment_lines(js) == 'const a = 1; // one\nif (a) {\ncall("//not a comment", `${a}`);\n}'


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.name)
def test_no_template_literal_spans_lines_so_dropping_indentation_is_safe(source):
    odd = [i + 1 for i, line in enumerate(source.read_text().splitlines()) if line.count("`") % 2]
    assert not odd, f"{source.name}: a template literal spans lines at {odd} (its indentation would go)"


def test_the_race_chart_goes_a_fifth_lighter():
    js = (UI / "canvas_kit.js").read_text() + (UI / "race_chart" / "race_chart.js").read_text()
    assert len(without_comment_lines(js)) < 0.8 * len(js)


# --- the code served once, and the loader that goes inline ------------------------------------------


def get(path: str):
    """The code route's answer to GET `path` (a Starlette response)."""
    (route,) = code_route.ROUTES
    scope = {"type": "http", "method": "GET", "path": path, "headers": [], "query_string": b""}
    match, child_scope = route.matches(scope)
    assert match is Match.FULL, path
    return route.endpoint(Request({**scope, **child_scope}))


def own_code(name: str) -> str:
    """Component `name`'s JS as written (optviz/ui/<folder>/<folder>.js), after the kits its module
    names (`kits=("canvas_kit",)`), without comment lines: what the route must serve for it."""
    folder = UI / name.removeprefix("optviz.")
    kits = re.search(r"kits=\(([^)]*)\)", (folder / "__init__.py").read_text())
    sources = [UI / f"{kit}.js" for kit in re.findall(r'"(\w+)"', kits[1] if kits else "")]
    return without_comment_lines("\n".join(p.read_text() for p in [*sources, folder / f"{folder.name}.js"]))


def test_the_labs_components_send_a_small_loader_and_the_route_serves_their_code_for_good(lab_session):
    at = lab_session()
    sent = {c.proto.component_name: c.proto.js_content for c in at.get("bidi_component")}
    assert {"optviz.race_chart", "optviz.race_curves", "optviz.share_box"} <= set(sent)
    for name, inline in sent.items():
        assert len(inline) < 500, f"{name}: {len(inline)} bytes of JS go with each update"
        (url,) = re.findall(r'import\(new URL\("([^"]+)"', inline)
        path, _, version = url.partition("?v=")
        assert path == f"{CODE_ROUTE}/{name}.js" and len(version) == 16
        response = get(path)
        assert response.status_code == 200 and response.media_type == "text/javascript", name
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert response.body.decode() == own_code(name)


def test_changed_code_is_a_new_address_and_an_unknown_component_a_404():
    first = loader("optviz.test_only", "export default () => 1;")
    second = loader("optviz.test_only", "export default () => 2;")
    assert first != second  # a browser keeps the old code for good: the new one needs a new URL
    assert get(f"{CODE_ROUTE}/optviz.test_only.js").body == b"export default () => 2;"
    missing = get(f"{CODE_ROUTE}/optviz.nothing.js")
    assert missing.status_code == 404 and missing.headers["cache-control"] == "no-store"


def test_data_goes_as_json_bytes_that_read_back_as_json_would():
    data = {"race": None, "steps": 500, "lr": np.float64(0.003), "xy": np.arange(3.0), "odd": float("nan")}
    sent = data_bytes(data)
    assert json.loads(sent) == {"race": None, "steps": 500, "lr": 0.003, "xy": [0.0, 1.0, 2.0], "odd": None}
    element = BidiComponent(bytes=sent)
    assert read_data(element) == json.loads(sent)
    assert read_data(BidiComponent(json='{"a": 1}')) == {"a": 1} and read_data(BidiComponent()) is None


def test_the_labs_components_send_their_data_as_json_bytes(lab_session):
    at = lab_session()
    for element in at.get("bidi_component"):
        if element.proto.component_name != "optviz.deck_bridge":
            assert element.proto.WhichOneof("data") == "bytes", element.proto.component_name
