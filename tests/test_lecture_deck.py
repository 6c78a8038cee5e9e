"""Lecture decks (optviz.lecture.deck): the default week-2 deck parses and every scene opens its page
with nothing reported about its link; a deck that cannot be used names its scene and what is wrong."""

from __future__ import annotations

import textwrap
from urllib.parse import parse_qsl, urlsplit

import pytest

from optviz.lecture import deck as decks
from optviz.ui.lecture import KNOWN
from tests.apptest import link_notes

DEFAULT = decks.load(decks.DEFAULT_DECK, KNOWN)
SCENE = '[[scene]]\npage = "{}"\ntitle = "{}"\n'  # a scene's page and title; more lines after it


def _deck(scenes: str, title: str = "Test") -> bytes:
    return (f'title = "{title}"\n' + textwrap.dedent(scenes)).encode()


def test_the_default_deck_follows_the_week_2_notes():
    titles = [scene.title for scene in DEFAULT.scenes]
    assert len(titles) >= 14
    order = ["good learning rate", "too small", "too large", "Mini-batch", "Momentum", "Adam",
             "saddle", "y = x²", "neuron", "784", "training loop", "first layer", "3×3", "Many channels",
             "1D convolution"]  # fmt: skip
    found = [next(i for i, title in enumerate(titles) if words in title) for words in order]
    assert found == sorted(found), "the scenes follow the notes' order"
    assert all(scene.caption for scene in DEFAULT.scenes)
    assert {scene.page for scene in DEFAULT.scenes} == {"lab", "mlp", "conv"}


@pytest.mark.parametrize("number", range(1, len(DEFAULT.scenes) + 1))
def test_every_scene_opens_its_page_with_nothing_reported(page_session, number):
    """A renamed control or a value its page no longer takes breaks this test, not a lecture."""
    scene = DEFAULT.scenes[number - 1]
    query = dict(parse_qsl(urlsplit(scene.url(embed=False)).query))
    at = page_session(scene.page, query)
    assert not link_notes(at), f"scene {number} ({scene.title}): {link_notes(at)}"
    assert not at.error, [e.value for e in at.error]


def test_a_scene_url_is_its_page_embedded_and_told_to_play():
    scene = decks.parse(
        _deck("""
            [[scene]]
            page = "lab"
            title = "t"
            autoplay = true
            link = { surface = "beale", optimizers = ["gd", "adam"], hp_adam_lr = 0.05, show_3d = false }
        """),
        KNOWN,
    ).scenes[0]
    path, query = scene.url().split("?")
    assert path == "/"
    assert dict(parse_qsl(query)) == {
        "surface": "beale", "optimizers": "gd,adam", "hp_adam_lr": "0.05", "show_3d": "false",
        "autoplay": "true", "embed": "true",
    }  # fmt: skip
    assert "embed" not in scene.url(embed=False)
    conv = decks.parse(_deck(SCENE.format("conv", "t") + "autoplay = true"), KNOWN).scenes[0]
    assert conv.url() == "/conv?autoplay=true&embed=true"


@pytest.mark.parametrize(
    "scenes, message",
    [
        (SCENE.format("lab", "ok") + SCENE.format("lob", "x"), "scene 2: unknown page 'lob'"),
        (SCENE.format("mlp", "x") + "link = { lr = 0.1 }", "scene 1: the mlp page has no link parameter 'lr"),
        (SCENE.format("conv", "x") + 'link = { surface = "beale" }', "scene 1: the conv page has no"),
        (SCENE.format("lab", "x") + "link = { embed = true }", "scene 1: the lab page has no link parameter"),
        ('[[scene]]\npage = "lab"\ncaption = "no title"', "scene 1: the title is missing"),
        (SCENE.format("lab", "   "), "scene 1: the title is missing"),
        (SCENE.format("lab", "x") + 'autoplay = "yes"', "scene 1: autoplay must be true or false"),
        (SCENE.format("mlp", "x") + "autoplay = true", "scene 1: the mlp page has nothing to play"),
        (SCENE.format("lab", "x") + "link = { steps = { a = 1 } }", "scene 1: the value of 'steps'"),
        (SCENE.format("lab", "x") + 'speaker = "y"', "scene 1: unknown key 'speaker'"),
        (SCENE.format("lab", "x") + f'caption = "{"w" * 700}"', "scene 1: the caption is 700"),
        ("", "the deck has no scenes"),
        ('[[scene]\npage = "lab"', "the deck is not valid TOML"),
        ('scene = "lab"', "the deck has no scenes"),
    ],
)
def test_a_deck_that_cannot_be_used_names_its_scene_and_what_is_wrong(scenes, message):
    with pytest.raises(decks.DeckError) as error:
        decks.parse(_deck(scenes), KNOWN)
    assert message in str(error.value)


def test_files_that_are_no_deck_are_refused_in_one_sentence(tmp_path):
    with pytest.raises(decks.DeckError, match="not UTF-8"):
        decks.parse(b"\xff\xfe\x00", KNOWN)
    with pytest.raises(decks.DeckError, match="at most"):
        decks.parse(b"#" * (decks.MAX_DECK_BYTES + 1), KNOWN)
    with pytest.raises(decks.DeckError, match="cannot be read"):
        decks.load(tmp_path / "missing.toml", KNOWN)
