"""The offline deck in Chromium with no network: `python -m optviz lecture` writes the default week-2
deck within its budgets (<= 25 MB, <= 60 s), and the file steps with a clicker's keys and draws every
scene's charts from what it carries.

Here, beside the other browser tests, because they share their Playwright session."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from optviz.lecture import cli
from optviz.lecture import deck as decks
from optviz.ui.lecture import KNOWN
from tests.conftest import use_own_trainer

DECK = decks.load(decks.DEFAULT_DECK, KNOWN)
MAX_BYTES = 25 * 10**6
MAX_WRITE_S = 60
SHOWN = ".optviz-offline__scene:not([hidden])"


@pytest.fixture(scope="module")
def deck_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("offline") / "week2.html"
    with pytest.MonkeyPatch.context() as monkeypatch:
        use_own_trainer(monkeypatch)
        started = time.perf_counter()
        assert cli.main(["--out", str(path)]) == 0
        seconds = time.perf_counter() - started
    size = path.stat().st_size
    print(f"offline deck: {size / 1e6:.1f} MB (budget 25), written in {seconds:.0f} s (budget {MAX_WRITE_S})")
    assert size <= MAX_BYTES
    assert seconds <= MAX_WRITE_S
    return path


@pytest.fixture
def offline_page(browser, deck_file):
    """The deck opened from its file at 1280 x 720 with every request outside it refused; the test
    fails on any console error (a refused request or a blocked script says so there)."""
    context = browser.new_context(viewport={"width": 1280, "height": 720}, offline=True)
    requests, errors = [], []

    def refuse(route):
        if route.request.url.startswith(("file:", "blob:", "data:")):
            route.continue_()
        else:
            requests.append(route.request.url)
            route.abort()

    context.route("**/*", refuse)
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.goto(deck_file.as_uri())
    expect(page.locator(".optviz-lecture")).to_have_attribute("data-ready", "true")
    yield page
    context.close()
    assert not requests, f"the deck asked the network for {requests}"
    assert not errors, errors


def _shown_title(page) -> str:
    return page.locator(f"{SHOWN} h1").inner_text()


def test_a_clicker_steps_through_the_offline_deck(offline_page):
    page = offline_page
    assert _shown_title(page) == DECK.scenes[0].title
    race = page.locator(f"{SHOWN} [data-testid=race-chart]")
    expect(race).to_have_attribute("data-playing", "true"), "the first scene's race plays by itself"
    for key, number in (("ArrowRight", 2), (" ", 3), ("PageDown", 4), ("ArrowLeft", 3), ("PageUp", 2)):
        page.keyboard.press(key)
        assert _shown_title(page) == DECK.scenes[number - 1].title
        assert page.evaluate("location.hash") == f"#{number}"
        expect(page.locator(".optviz-lecture__count")).to_have_text(f"{number} / {len(DECK.scenes)}")
    for key in ("1", "2", "Enter"):
        page.keyboard.press(key)
    assert _shown_title(page) == DECK.scenes[11].title
    page.keyboard.press("End")
    assert _shown_title(page) == DECK.scenes[-1].title
    page.keyboard.press("Escape")
    grid = page.locator(".optviz-lecture__grid")
    expect(grid).to_be_visible()
    grid.get_by_role("button").nth(4).click()
    expect(grid).to_be_hidden()
    assert _shown_title(page) == DECK.scenes[4].title


def test_every_scene_draws_its_charts_from_the_file(offline_page):
    page = offline_page
    for number, scene in enumerate(DECK.scenes, 1):
        if number > 1:
            page.keyboard.press("ArrowRight")
        assert _shown_title(page) == scene.title
        slots = page.locator(f"{SHOWN} [data-mount]")
        formulas = page.locator(f"{SHOWN} .optviz-offline__view math")
        assert slots.count() + formulas.count() > 0, f"scene {number} shows its view, not only its caption"
        for i in range(slots.count()):
            # a component draws its own root element; a figure, Plotly's container (also in a folded
            # expander, where it is drawn but not visible)
            expect(slots.nth(i).locator(":scope > *")).not_to_have_count(0)
        typed = page.locator(f"{SHOWN} .optviz-offline__latex")
        assert typed.count() == 0, f"scene {number}: a formula shown as typed"
        assert "could not be drawn" not in page.locator(SHOWN).inner_text()
    assert page.locator(".optviz-offline__scene [data-mount] > *").count() == slots.count() > 0, (
        "a scene that is left takes its charts down"
    )


def test_a_phone_reads_the_deck_without_scrolling_sideways(browser, deck_file):
    context = browser.new_context(viewport={"width": 390, "height": 800}, offline=True, has_touch=True)
    try:
        page = context.new_page()
        page.goto(f"{deck_file.as_uri()}#9")
        expect(page.locator(".optviz-lecture")).to_have_attribute("data-ready", "true")
        assert _shown_title(page) == DECK.scenes[8].title, "the fragment names the scene to open"
        page.locator(".optviz-lecture__step").nth(1).tap()
        assert _shown_title(page) == DECK.scenes[9].title
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        context.close()
