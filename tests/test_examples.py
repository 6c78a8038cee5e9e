"""The example lecture deck stays in step with the app: every embedded view's link is one the page
accepts whole (no setting ignored), and the offline animation it shows is there."""

import re
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from PIL import Image

from tests.apptest import link_notes

DECK = Path(__file__).resolve().parents[1] / "examples" / "deck.html"
PAGES = {"/": "lab", "/mlp": "mlp", "/conv": "conv"}


def _views():
    return re.findall(r'<iframe[^>]*\ssrc="([^"]+)"', DECK.read_text(), re.S)


def test_the_deck_embeds_three_live_views_and_one_offline_animation():
    views = _views()
    assert len(views) == 3 and all("embed=true" in v for v in views)
    (picture,) = re.findall(r'<img[^>]*\ssrc="([^"]+)"', DECK.read_text())
    gif = Image.open(DECK.parent / picture)
    assert gif.format == "GIF" and gif.n_frames == 100


@pytest.mark.parametrize("view", _views())
def test_every_embedded_view_opens_with_all_its_settings(view, page_session):
    url = urlsplit(view.replace("&amp;", "&"))
    query = {k: v for k, v in parse_qsl(url.query) if k != "embed"}
    at = page_session(PAGES[url.path], query)
    assert not link_notes(at), link_notes(at)
    assert dict(at.query_params) == query  # nothing was changed or dropped
