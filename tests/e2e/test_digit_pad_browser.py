"""The MLP page's "Draw a digit" tab in a real browser: strokes drawn with the mouse on the pad
(optviz/ui/digit_pad) get a prediction from the trained network within the 150 ms budget after the
stroke ends, Undo and Clear (from the keyboard too) send the drawing again, an empty pad and a dot
are refused with a sentence, and on a 390 px phone the pad fits and a finger draws instead of
scrolling the page."""

from __future__ import annotations

import re
import statistics
from urllib.parse import quote

from playwright.sync_api import expect

from optviz.mlp import digit
from tests.e2e.browser import LOAD_TIMEOUT_MS, READY, wait_until_drawn
from tests.e2e.conftest import PHONE

VIEW = "⑥ Draw a digit"
SETTINGS = "mlp_epochs=1&mlp_optimizers=adam&mlp_hidden=32"  # one small network: seconds to train
PAD = "[data-testid=digit-pad]"
PREDICTION = "[data-testid=digit-prediction]"
BUDGET_MS = 150  # stroke end -> prediction drawn (issue 20 §1)
CI_ALLOWANCE = 3  # a loaded 2-core CI machine
TRAIN_TIMEOUT_MS = 180_000
# Training is over: the page is idle, the results table drawn and no progress bar left.
JS_TRAINED = f"""() => document.querySelector("{READY}") !== null
    && document.querySelector("[data-testid='stDataFrame']") !== null
    && document.querySelector("[data-testid='stProgress']") === null"""
# In page context, armed before a stroke ends: the time of the pad's next pointerup, and of the first
# animation frame after it in which the networks' answer differs from the one shown before.
JS_ARM = """() => {
    const canvas = document.querySelector('[data-testid=digit-pad] canvas');
    const answer = () => [...document.querySelectorAll('[data-testid=digit-prediction]')]
        .map((e) => e.closest('.digit-net').innerHTML).join('|');
    const before = answer();
    window.__strokeEnd = null;
    window.__answered = null;
    canvas.addEventListener('pointerup', () => { window.__strokeEnd = performance.now(); },
                            {capture: true, once: true});
    const look = () => {
        const now = answer();
        if (window.__strokeEnd !== null && now && now !== before) window.__answered = performance.now();
        else requestAnimationFrame(look);
    };
    requestAnimationFrame(look);
}"""


# In page context: how far the page and its main block are scrolled.
JS_SCROLLED = "() => [window.scrollY, document.querySelector('[data-testid=stMain]').scrollTop]"


def _link(view: str) -> str:
    return f"/mlp?mlp_view={quote(view)}&{SETTINGS}"


def _train_then_open_the_pad(page, open_page):
    """Train the one network (tab ③, as a user would; a run already finished by another test is
    shared and comes back at once), then open the "Draw a digit" tab."""
    open_page(_link("③ Training"))
    page.get_by_role("button", name="Train").click()
    page.wait_for_function(JS_TRAINED, timeout=TRAIN_TIMEOUT_MS)
    page.get_by_role("tab", name=VIEW).click()
    pad = page.locator(PAD)
    pad.wait_for(timeout=LOAD_TIMEOUT_MS)
    wait_until_drawn(page)
    pad.scroll_into_view_if_needed()
    return pad


def _stroke(page, pad, points, *, release: bool = True) -> None:
    """A mouse stroke through `points`, each (x, y) as fractions of the pad's drawing surface."""
    box = pad.locator("canvas").bounding_box()
    at = [(box["x"] + x * box["width"], box["y"] + y * box["height"]) for x, y in points]
    page.mouse.move(*at[0])
    page.mouse.down()
    for x, y in at[1:]:
        page.mouse.move(x, y, steps=10)
    if release:
        page.mouse.up()


def _timed_stroke(page, pad, points) -> float:
    """Draw a stroke; return the ms from its end (pointerup) to the networks' new answer on screen."""
    _stroke(page, pad, points, release=False)
    page.evaluate(JS_ARM)
    page.mouse.up()
    page.wait_for_function("() => window.__answered !== null", timeout=30_000)
    wait_until_drawn(page)
    return page.evaluate("() => window.__answered - window.__strokeEnd")


def _predicted(page) -> int:
    text = page.locator(PREDICTION).first.inner_text()
    match = re.fullmatch(r"Adam: (\d) \((\d+\.\d)%\)", text)
    assert match, f"the prediction should name a digit and its probability: {text!r}"
    return int(match.group(1))


def _shown(page) -> str:
    """The page's notices, without the invisible characters Markdown rendering may add."""
    return " ".join(page.get_by_test_id("stAlert").all_inner_texts()).replace("\u2060", "")


def test_a_drawn_digit_is_predicted_within_the_budget(page, open_page, browser_log, screenshot, measurement):
    pad = _train_then_open_the_pad(page, open_page)
    assert digit.EMPTY_MESSAGE in _shown(page), "an empty pad says so"
    assert page.locator(PREDICTION).count() == 0, "and predicts nothing"

    times = [_timed_stroke(page, pad, [(0.5, 0.12), (0.52, 0.88)])]  # a "1"
    one = _predicted(page)
    assert pad.get_attribute("data-strokes") == "1"
    screenshot(page, "one")

    pad.locator("button", has_text="Clear").click()
    expect(page.get_by_test_id("stAlert").first).to_contain_text("The pad is empty")
    assert page.locator(PREDICTION).count() == 0
    for top in (0.18, 0.2, 0.22):  # a "7": its bar (drawn over, as people do), then its stem
        times.append(_timed_stroke(page, pad, [(0.22, top), (0.78, top)]))
    times.append(_timed_stroke(page, pad, [(0.78, 0.2), (0.45, 0.88)]))
    seven = _predicted(page)
    screenshot(page, "seven")
    median = statistics.median(times)
    measurement(
        f"stroke end -> prediction on screen: median {median:.0f} ms, all {[round(t) for t in times]} ms "
        f"(budget {BUDGET_MS} ms); predicted {one} for the 1 and {seven} for the 7"
    )
    assert median <= BUDGET_MS * CI_ALLOWANCE, f"{median:.0f} ms from stroke end to prediction"
    browser_log.assert_clean()


def test_undo_and_clear_work_from_the_keyboard_and_a_dot_is_refused(page, open_page, browser_log):
    pad = _train_then_open_the_pad(page, open_page)
    _stroke(page, pad, [(0.5, 0.12), (0.5, 0.88)])
    page.locator(PREDICTION).first.wait_for()
    _timed_stroke(page, pad, [(0.3, 0.5), (0.7, 0.5)])
    assert pad.get_attribute("data-strokes") == "2"
    revision = int(pad.get_attribute("data-revision"))

    undo = pad.locator("button", has_text="Undo")
    undo.focus()
    page.keyboard.press("Enter")
    expect(pad).to_have_attribute("data-strokes", "1")
    expect(pad).to_have_attribute("data-revision", str(revision + 1))  # sent again
    wait_until_drawn(page)
    _predicted(page)

    page.keyboard.press("Tab")  # Undo -> Clear
    page.keyboard.press("Enter")
    expect(pad).to_have_attribute("data-strokes", "0")
    expect(page.get_by_test_id("stAlert").first).to_contain_text("The pad is empty")
    assert page.locator(PREDICTION).count() == 0

    box = pad.locator("canvas").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 3, box["y"] + box["height"] / 3)  # a dot
    expect(page.get_by_test_id("stAlert").first).to_contain_text("single dot")
    assert page.locator(PREDICTION).count() == 0
    page.keyboard.press("Control+z")  # the pad has the focus after Clear: undo the dot
    expect(pad).to_have_attribute("data-strokes", "0")
    browser_log.assert_clean()


def test_on_a_phone_the_pad_fits_and_a_finger_draws_without_scrolling(
    new_page, app_url, browser_log, screenshot
):
    page = new_page(**PHONE)
    page.goto(app_url + _link(VIEW), timeout=LOAD_TIMEOUT_MS)
    wait_until_drawn(page, LOAD_TIMEOUT_MS)
    pad = page.locator(PAD)
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390, box
    canvas = pad.locator("canvas").bounding_box()
    assert canvas["width"] >= 250, "big enough for a finger"
    scrolled = page.evaluate(JS_SCROLLED)
    session = page.context.new_cdp_session(page)
    x, top = canvas["x"] + canvas["width"] / 2, canvas["y"] + canvas["height"] * 0.1
    session.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": top}]})
    for k in range(1, 11):  # straight down: a page that took the gesture would scroll
        y = top + canvas["height"] * 0.08 * k
        session.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]})
    session.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    expect(pad).to_have_attribute("data-strokes", "1")
    assert page.evaluate(JS_SCROLLED) == scrolled
    wait_until_drawn(page)
    # A line, not a dot: a browser that took the gesture to scroll would have cancelled the stroke.
    page.get_by_alt_text("the drawing as the networks see it, 28 by 28 pixels").wait_for()
    assert digit.DOT_MESSAGE not in _shown(page)
    screenshot(page, "phone")
    browser_log.assert_clean()


def test_in_a_slide_the_view_trains_itself_and_answers_beside_the_pad(browser, app_url, screenshot):
    """Embedded (a 960 x 540 slide, no tab ③): Train is in the view; once trained, a stroke's answers
    are listed beside the pad, inside the slide."""
    context = browser.new_context(viewport={"width": 960, "height": 540})
    page = context.new_page()
    try:
        page.goto(f"{app_url}{_link(VIEW)}&mlp_seed=21&embed=true", timeout=LOAD_TIMEOUT_MS)
        train = page.get_by_role("button", name="Train")
        train.wait_for(timeout=LOAD_TIMEOUT_MS)
        train.click()
        page.wait_for_function(
            "() => document.querySelector('[data-testid=stProgress]') === null"
            " && document.querySelector('[data-testid=stButton]') === null",
            timeout=TRAIN_TIMEOUT_MS,
        )
        pad = page.locator(PAD)
        pad.wait_for(timeout=LOAD_TIMEOUT_MS)
        wait_until_drawn(page)
        _stroke(page, pad, [(0.5, 0.12), (0.52, 0.88)])
        answer = page.locator(".digit-answers li")
        expect(answer).to_have_count(1, timeout=LOAD_TIMEOUT_MS)
        expect(answer).to_contain_text("Adam: ")
        box = answer.bounding_box()
        assert box["y"] + box["height"] <= 540, "the answer is below the slide"
        assert box["x"] > pad.bounding_box()["x"] + pad.bounding_box()["width"], "not beside the pad"
        screenshot(page, "slide")
    finally:
        context.close()
