"""Links in a real browser: each page writes its controls into the address bar, the copied address
reopens the same view in a new session, and every page renders inside a slide (`?embed=true`)."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import expect

from tests.e2e.browser import (
    LOAD_TIMEOUT_MS,
    RERUN_TIMEOUT_MS,
    arm_rerun_watch,
    wait_for_rerun,
    wait_until_drawn,
)

# The lab's race chart (a component) has drawn its first race.
RACE_DRAWN = "() => Number(document.querySelector('[data-testid=race-chart]')?.dataset.revision) > 0"


def _no_exception(page) -> None:
    exceptions = page.get_by_test_id("stException")
    assert exceptions.count() == 0, "\n".join(exceptions.all_inner_texts())


def _query(page) -> dict:
    return {key: values[-1] for key, values in parse_qs(urlparse(page.url).query).items()}


def _reopen(browser, url: str):
    """A new browser context (a new Streamlit session, like a student opening the link)."""
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    other = context.new_page()
    other.goto(url, timeout=LOAD_TIMEOUT_MS)
    wait_until_drawn(other, LOAD_TIMEOUT_MS)
    return context, other


def test_lab_link_reopens_the_same_view(page, browser, open_lab, browser_log):
    open_lab("/?surface=himmelblau&optimizers=gd,adam&hp_adam_lr=0.3&steps=120")
    box = page.get_by_test_id("stSidebar").get_by_label("x₀")
    box.fill("1.25")
    arm_rerun_watch(page)
    box.press("Enter")
    wait_for_rerun(page, "typing x₀ = 1.25")
    page.wait_for_function("() => location.search.includes('start_x=1.25')", timeout=RERUN_TIMEOUT_MS)
    query = _query(page)
    assert query == {
        "surface": "himmelblau",
        "optimizers": "gd,adam",
        "hp_adam_lr": "0.3",
        "steps": "120",
        "start_x": "1.25",
    }
    share = page.get_by_test_id("stSidebar").get_by_test_id("share-link")
    expect(share).to_have_value(re.compile("start_x=1.25"), timeout=RERUN_TIMEOUT_MS)
    link = share.input_value()
    assert urlparse(link).query and parse_qs(urlparse(link).query)["start_x"] == ["1.25"]
    page.get_by_test_id("share-box").get_by_role("button", name="Copy").first.click()
    expect(page.get_by_test_id("share-box").get_by_role("button").first).to_have_text(
        re.compile("Copied|Select")
    )
    embed = page.get_by_test_id("share-iframe").input_value()
    assert embed.startswith(f'<iframe src="{link}&embed=true"') and 'width="960" height="540"' in embed
    # Each field as tall as its wrapped text, up to about six lines: the link shows whole, and the
    # longer embed code scrolls inside its capped field.
    heights = page.get_by_test_id("share-box").evaluate(
        "box => [...box.querySelectorAll('textarea')].map(t => [t.clientHeight, t.scrollHeight])"
    )
    (link_shown, link_text), (embed_shown, embed_text) = heights
    assert 2 * 18 <= link_shown and link_text <= link_shown, f"the link field (shown, text px): {heights[0]}"
    assert 100 <= embed_shown <= 120 < embed_text, f"the embed field (shown, text px): {heights[1]}"
    context, other = _reopen(browser, link)
    try:
        other.wait_for_function(RACE_DRAWN, timeout=LOAD_TIMEOUT_MS)
        expect(other.get_by_test_id("stSidebar").get_by_label("x₀")).to_have_value(
            "1.250", timeout=LOAD_TIMEOUT_MS
        )
        assert _query(other) == query
        start = other.get_by_test_id("race-chart").get_attribute("data-start").split(",")
        assert float(start[0]) == pytest.approx(1.25)
        _no_exception(other)
    finally:
        context.close()
    browser_log.assert_clean()


@pytest.mark.parametrize(
    "path, heading",
    [
        ("/mlp?mlp_hidden=64&mlp_activation=tanh", "MLP & backpropagation"),
        ("/conv?c2_kernel=Laplacian&c2_stride=2", "Convolutions"),
    ],
)
def test_other_pages_keep_their_link(page, browser, open_page, browser_log, path, heading):
    open_page(path)
    page.get_by_role("heading", name=heading).wait_for(timeout=LOAD_TIMEOUT_MS)
    expected = {k: v[-1] for k, v in parse_qs(urlparse(path).query).items()}
    page.wait_for_timeout(500)
    assert _query(page) == expected  # the page kept (re-wrote) exactly the link's settings
    context, other = _reopen(browser, page.url)
    try:
        other.get_by_role("heading", name=heading).wait_for(timeout=LOAD_TIMEOUT_MS)
        assert _query(other) == expected
        assert not other.get_by_text("Some settings in this link were not used").count()
        _no_exception(other)
    finally:
        context.close()
    browser_log.assert_clean()


# Each page's first chart, and for those drawn by a component, the controls that must be in the slide.
EMBEDDED_CHARTS = {
    "/": ("[data-testid=race-chart]", ("button", "input[type=range]")),
    "/conv": ("[data-testid=conv-steps]", ("button", "input[type=range]")),
    "/mlp": ("[data-testid=graph-view]", ()),
    # A link to another view opens on that view, alone.
    "/conv?conv_view=1D over text": (".js-plotly-plot", ()),
    "/conv?conv_view=Many channels, many filters": (".js-plotly-plot", ()),
    "/mlp?mlp_view=④ What it learned": (".js-plotly-plot", ()),
    "/?view=Noise fan": (".js-plotly-plot", ()),  # a lab tab alone, in the race chart's place
    "/conv?conv_view=Backward pass": ("[data-testid=conv-backward]", ("button", "input[type=range]")),
    "/mlp?mlp_view=⑥ Draw a digit": ("[data-testid=digit-pad]", ("button",)),
    # Not trained yet in this test run: why, and Train right there (a slide has no tab ③).
    "/mlp?mlp_view=⑦ Loss landscape": ("[data-testid=stButton]", ()),
}


@pytest.mark.parametrize("path", list(EMBEDDED_CHARTS))
def test_every_page_renders_embedded_in_a_slide(browser, app_url, screenshot, path):
    context = browser.new_context(viewport={"width": 960, "height": 540})
    page = context.new_page()
    try:
        separator = "&" if "?" in path else "?"
        page.goto(f"{app_url}{path}{separator}embed=true", timeout=LOAD_TIMEOUT_MS)
        wait_until_drawn(page, LOAD_TIMEOUT_MS)  # the chart's place depends on what is drawn above it
        selector, controls = EMBEDDED_CHARTS[path]
        page.wait_for_function(
            RACE_DRAWN if path == "/" else f"() => document.querySelectorAll('{selector}').length > 0",
            timeout=LOAD_TIMEOUT_MS,
        )
        page.wait_for_timeout(500)
        screenshot(page, path.strip("/").split("?")[0] or "lab")
        _no_exception(page)
        # Nothing of Streamlit's frame: the content starts at the slide's left edge, no sidebar.
        expect(page.get_by_test_id("stSidebar")).to_be_hidden()
        expect(page.get_by_test_id("stHeader")).to_be_hidden()
        chart = page.locator(selector).first
        box = chart.bounding_box()
        assert box["x"] < 150
        assert box["y"] + box["height"] <= 540  # the chart fits the slide, its Play button and scrubber too
        for control in controls:
            control_box = chart.locator(control).first.bounding_box()
            assert control_box["y"] + control_box["height"] <= 540, control
        if path != "/":  # the linked view alone (the lab's tabs stay, under its chart)
            expect(page.get_by_role("tab")).to_have_count(0)
    finally:
        context.close()


def _open_files(page) -> None:
    """Unfold the lab's "Files for slides" (folded, its buttons are not drawn) and wait for them."""
    page.get_by_test_id("stExpander").filter(has_text="Files for slides").locator("summary").click()
    page.get_by_test_id("stDownloadButton").filter(has_text="HTML animation").wait_for(
        timeout=LOAD_TIMEOUT_MS
    )


def _download(page, label: str) -> tuple[str, bytes]:
    """Wait for the download button labelled `label`, click it: the file's name and bytes."""
    button = page.get_by_test_id("stDownloadButton").filter(has_text=label)
    button.wait_for(timeout=LOAD_TIMEOUT_MS)
    with page.expect_download(timeout=LOAD_TIMEOUT_MS) as file:
        button.get_by_role("button").click()
    return file.value.suggested_filename, open(file.value.path(), "rb").read()


def test_the_lab_downloads_an_offline_animation_and_a_picture(page, open_lab, browser_log):
    open_lab("/?surface=beale&optimizers=gd,adam&steps=100")
    _open_files(page)
    name, content = _download(page, "HTML animation")
    assert name == "race-beale.html"
    assert b'data-testid="race-chart"' in content and b'"steps":100' in content, "not the chart's page"
    assert b'<script src="http' not in content
    page.get_by_role("button", name="Make PNG").click()  # drawn by the server's shared renders
    name, content = _download(page, "Download PNG")
    assert name == "race-beale.png" and content[:8] == b"\x89PNG\r\n\x1a\n"
    _no_exception(page)
    browser_log.assert_clean()


def test_two_students_asking_for_one_gif_share_its_render(page, browser, open_lab, screenshot, browser_log):
    """The lecturer's view asked for from two sessions at once: both download the same GIF. While it
    is made, the page says so (a progress bar, or the place in the queue)."""
    open_lab("/?surface=rosenbrock&optimizers=gd,momentum,adam&steps=400")
    context, other = _reopen(browser, page.url)
    try:
        for student in (page, other):
            _open_files(student)
        page.get_by_role("button", name="Make GIF").click()
        other.get_by_role("button", name="Make GIF").click()
        made = page.get_by_test_id("stProgress").or_(page.get_by_text("Download GIF"))
        expect(made.first).to_be_visible(timeout=RERUN_TIMEOUT_MS)
        screenshot(page, "making")
        gifs = [_download(student, "Download GIF")[1] for student in (page, other)]
        screenshot(page, "ready")
        arm_rerun_watch(page)  # the download reran the section without its timer: it looks no more
        page.wait_for_timeout(4_000)
        assert not page.evaluate("() => window.__e2eRan"), "the page still reruns after the download"
    finally:
        context.close()
    assert gifs[0][:6] == b"GIF89a" and gifs[0] == gifs[1]
    _no_exception(page)
    browser_log.assert_clean()


def test_mlp_tabs_land_in_the_link(page, open_page, browser_log):
    """The MLP page's open tab is in the link, beside the page's own parameters (its tabs rerun the
    page like the other pages' tabs: training goes on in the background meanwhile)."""
    open_page("/mlp?mlp_hidden=64")
    page.get_by_role("heading", name="MLP & backpropagation").wait_for(timeout=LOAD_TIMEOUT_MS)
    # What a user sees, not the script's run states (a watch on those timed out after this tab's
    # rerun once in CI and once locally, with the link already updated): the tab's content, the link.
    page.get_by_role("tab", name="③ Training").click()
    page.get_by_role("button", name="Train").wait_for(timeout=RERUN_TIMEOUT_MS)
    page.wait_for_function("() => location.search.includes('mlp_view=')", timeout=RERUN_TIMEOUT_MS)
    box = page.get_by_label("Seed (initial weights, shuffling)")
    box.fill("3")
    box.press("Enter")
    page.wait_for_function("() => location.search.includes('mlp_seed=3')", timeout=RERUN_TIMEOUT_MS)
    query = _query(page)
    assert query["mlp_view"] == "③ Training" and query["mlp_hidden"] == "64"
    _no_exception(page)
    browser_log.assert_clean()
