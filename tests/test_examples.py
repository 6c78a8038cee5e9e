"""The example lecture deck stays in step with the app: every embedded view's link is one the page
accepts whole (no setting ignored), and the offline animation it shows is there."""

import re
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from PIL import Image

from tests.test_links import _link_notes, _page

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
def test_every_embedded_view_opens_with_all_its_settings(view):
    url = urlsplit(view.replace("&amp;", "&"))
    query = {k: v for k, v in parse_qsl(url.query) if k != "embed"}
    at = _page(PAGES[url.path], query)
    assert not _link_notes(at), _link_notes(at)
    assert dict(at.query_params) == query  # nothing was changed or dropped
