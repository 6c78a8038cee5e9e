"""The MLP page's first view in a real browser: the computation graph and its tangent are a canvas
component (optviz/ui/graph_view) that stays mounted while x moves, its code blocks are coloured
without Streamlit's syntax highlighter and copy their code, the first view downloads neither Plotly
nor the highlighter, and the graph fits a 390 px phone."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.browser import LOAD_TIMEOUT_MS, RERUN_TIMEOUT_MS
from tests.e2e.conftest import PHONE

GRAPH = "[data-testid=graph-view]"
JS_DRAWN = f"() => Number(document.querySelector('{GRAPH}')?.dataset.revision) > 0"
# In page context: how many of the canvas's pixels are not white (the drawing is there).
JS_INKED = f"""() => {{
    const canvas = document.querySelector('{GRAPH} canvas');
    const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let inked = 0;
    for (let i = 0; i < pixels.length; i += 4) if (pixels[i + 3] > 0 && pixels[i] < 200) inked++;
    return inked;
}}"""


def _open_graph(page, open_page, path: str = "/mlp"):
    open_page(path)
    page.wait_for_function(JS_DRAWN, timeout=LOAD_TIMEOUT_MS)
    graph = page.locator(GRAPH)
    graph.scroll_into_view_if_needed()
    return graph


def test_the_first_view_loads_neither_plotly_nor_the_syntax_highlighter(page, open_page, browser_log):
    responses = []
    page.on("response", lambda response: responses.append(response.url))
    _open_graph(page, open_page)
    page.get_by_test_id("code-block").first.wait_for()
    page.wait_for_timeout(1500)  # late chunks would arrive by now
    assert [url for url in responses if url.endswith(".js")], "no script was loaded: the watch saw nothing"
    assert not [url for url in responses if "PlotlyChart" in url or "SyntaxHighlighter" in url]
    browser_log.assert_clean()


def test_moving_x_redraws_the_same_graph_with_the_new_gradient(page, open_page, browser_log, screenshot):
    graph = _open_graph(page, open_page)
    expect(graph).to_have_attribute("aria-label", re.compile("∂y/∂x = 4"))
    assert page.evaluate(JS_INKED) > 2000, "the canvas is blank"
    layout = graph.evaluate("root => root.layout()")
    assert layout["mode"] == "beside" and layout["plot"]["left"] > max(b["x"] for b in layout["boxes"])
    graph.evaluate("root => { root.dataset.mark = 'first mount'; }")  # gone if the element is remounted
    revision = int(graph.get_attribute("data-revision"))
    slider = page.get_by_role("slider", name="x")
    slider.focus()
    slider.press("ArrowRight")  # x = 2.1: dy/dx = 4.2
    expect(graph).to_have_attribute("aria-label", re.compile("∂y/∂x = 4.2"), timeout=RERUN_TIMEOUT_MS)
    assert int(graph.get_attribute("data-revision")) > revision
    assert graph.get_attribute("data-mark") == "first mount"
    assert "tangent, slope 4.2" in graph.get_attribute("aria-label")
    screenshot(page, "x-2.1")
    browser_log.assert_clean()


def test_the_code_blocks_are_coloured_and_copy_their_code(page, open_page, browser_log):
    _open_graph(page, open_page)
    torch = page.get_by_test_id("code-block").first
    expect(torch.locator("code")).to_contain_text("print(x.grad)  # tensor(4.)")
    assert torch.locator(".optviz-code--keyword").first.inner_text() == "True"
    assert torch.locator(".optviz-code--comment").inner_text() == "# tensor(4.)"
    torch.hover()
    torch.get_by_role("button", name="Copy").click()
    expect(torch.get_by_role("button")).to_have_text(re.compile("Copied|Select"))
    browser_log.assert_clean()


def test_the_graph_fits_a_phone(new_page, app_url, browser_log, screenshot):
    """On a 390 px phone the graph runs top to bottom (the inputs in a row), every box is on the
    screen with legible text, and the plot is under the graph."""
    page = new_page(**PHONE)
    page.goto(app_url + "/mlp?graph_expression=squared_loss", timeout=LOAD_TIMEOUT_MS)
    page.wait_for_function(JS_DRAWN, timeout=LOAD_TIMEOUT_MS)
    graph = page.locator(GRAPH)
    graph.scroll_into_view_if_needed()
    box = graph.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    layout = graph.evaluate("root => root.layout()")
    assert layout["mode"] == "turned" and layout["textPx"] >= 11
    for node in layout["boxes"]:
        assert 0 <= node["x"] - node["width"] / 2 and node["x"] + node["width"] / 2 <= layout["width"]
    inputs = layout["boxes"][:4]  # x, w, b, y: one row at the top
    assert len({node["y"] for node in inputs}) == 1 and layout["boxes"][-1]["y"] > inputs[0]["y"]
    assert layout["plot"]["top"] > max(node["y"] + node["height"] / 2 for node in layout["boxes"])
    screenshot(page, "phone")
    browser_log.assert_clean()
