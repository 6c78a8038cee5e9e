"""The example lecture decks stay in step with the app: every embedded view's link (the plain deck's
iframes, the reveal.js deck's lazy `data-src` iframes) is one the page accepts whole (no setting
ignored), the offline animation the plain deck shows is there, the vendored reveal.js is the version
the deck names, with its licence, and the Quarto source embeds the same views as the reveal.js deck."""

import re
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from PIL import Image

from tests.apptest import link_notes

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
DECK = EXAMPLES / "deck.html"
REVEAL_DECK = EXAMPLES / "reveal-deck.html"
QUARTO_DECK = EXAMPLES / "week2.qmd"
REVEAL_JS = EXAMPLES / "reveal.js"
REVEAL_VERSION = "6.0.2"
PAGES = {"/": "lab", "/mlp": "mlp", "/conv": "conv"}


def _views():
    return re.findall(r'<iframe[^>]*\ssrc="([^"]+)"', DECK.read_text(), re.S)


def _lazy_views(deck: Path) -> list[str]:
    """The links of the deck's `<iframe data-src=...>` views, in slide order, `&amp;` decoded."""
    found = re.findall(r'<iframe[^>]*\sdata-src="([^"]+)"', deck.read_text(), re.S)
    return [view.replace("&amp;", "&") for view in found]


def test_the_deck_embeds_three_live_views_and_one_offline_animation():
    views = _views()
    assert len(views) == 3 and all("embed=true" in v for v in views)
    (picture,) = re.findall(r'<img[^>]*\ssrc="([^"]+)"', DECK.read_text())
    gif = Image.open(DECK.parent / picture)
    assert gif.format == "GIF" and gif.n_frames == 100


def test_the_reveal_deck_embeds_three_live_views_lazily_one_preloaded_and_playing():
    views = _lazy_views(REVEAL_DECK)
    assert len(views) == 3 and all("embed=true" in v for v in views)
    assert "<iframe" not in re.sub(r"<iframe[^>]*\sdata-src=", "", REVEAL_DECK.read_text())  # all lazy
    (preloaded,) = re.findall(r'<iframe[^>]*\sdata-preload[^>]*\sdata-src="([^"]+)"', REVEAL_DECK.read_text())
    assert "autoplay=true" in preloaded


def test_the_vendored_reveal_js_is_the_named_version_with_its_licence():
    code = (REVEAL_JS / "reveal.js").read_text()
    assert code.startswith("/*!\n * reveal.js\n") and "MIT licensed" in code[:200]
    # reveal.js 6's built file names its version in its code (Reveal.VERSION), not in its banner.
    assert re.findall(r"[`\"']\d+\.\d+\.\d+[`\"']", code) == [f"`{REVEAL_VERSION}`"]
    assert f"reveal.js {REVEAL_VERSION}" in REVEAL_DECK.read_text()
    assert (REVEAL_JS / "reveal.css").is_file()
    licence = (REVEAL_JS / "LICENSE").read_text()
    assert "Hakim El Hattab" in licence and "Permission is hereby granted, free of charge" in licence


def test_the_quarto_source_embeds_the_reveal_decks_views():
    text = QUARTO_DECK.read_text()
    assert re.search(r"^format:\s*\n\s+revealjs:", text, re.M)
    assert re.search(r"^\s+width: 1280$", text, re.M) and re.search(r"^\s+height: 720$", text, re.M)
    assert _lazy_views(QUARTO_DECK) == _lazy_views(REVEAL_DECK)
    preloaded = re.findall(r'<iframe[^>]*\sdata-preload[^>]*\sdata-src="([^"]+)"', text)
    assert preloaded == re.findall(
        r'<iframe[^>]*\sdata-preload[^>]*\sdata-src="([^"]+)"', REVEAL_DECK.read_text()
    )


@pytest.mark.parametrize("view", sorted(set(_views()) | set(_lazy_views(REVEAL_DECK))))
def test_every_embedded_view_opens_with_all_its_settings(view, page_session):
    url = urlsplit(view.replace("&amp;", "&"))
    query = {k: v for k, v in parse_qsl(url.query) if k != "embed"}
    at = page_session(PAGES[url.path], query)
    assert not link_notes(at), link_notes(at)
    kept = dict(at.query_params)
    dropped = {k: v for k, v in query.items() if k not in kept}
    assert kept == {k: v for k, v in query.items() if k not in dropped}  # nothing was changed
    if dropped:  # the app drops a setting from its URL at its default value (surface=rosenbrock):
        # the session has the link's value, and the link without it opens the same view
        assert {k: at.session_state[k] for k in dropped} == dropped
        without = page_session(PAGES[url.path], kept)
        assert {k: without.session_state[k] for k in dropped} == dropped
