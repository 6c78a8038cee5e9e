"""The Lecture page (optviz/ui/lecture.py) through AppTest: the scene from the link, its title and
caption, the stage's scenes, speaker notes, and decks from a file or an upload, refused with their
scene and reason while the deck before them stays."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from optviz.lecture import deck as decks
from optviz.ui.lecture import DECK_ENV, KNOWN, UPLOADED, _upload
from optviz.ui.lecture_stage import NAME
from tests.apptest import components_data, link_notes

DEFAULT = decks.load(decks.DEFAULT_DECK, KNOWN)
GOOD = b'title = "Mine"\n[[scene]]\npage = "conv"\ntitle = "Only one"\ncaption = "Just **this**."\n'
BAD = b'[[scene]]\npage = "lab"\ntitle = "a"\n[[scene]]\npage = "lab"\ntitle = "b"\nlink = { lr = 1 }\n'


def _stage(at) -> dict:
    (data,) = components_data(at, NAME)
    return data


def _title(at) -> str:
    return next(m.value for m in at.markdown if m.value.startswith("### "))


def test_the_first_scene_opens_with_its_title_caption_and_every_view(page_session):
    at = page_session("lecture")
    stage = _stage(at)
    assert stage["current"] == 1 and len(stage["scenes"]) == len(DEFAULT.scenes)
    assert stage["scenes"][0]["url"] == DEFAULT.scenes[0].url() + "&sidebar=true"  # its controls at hand
    assert all("embed=true" in view["url"] for view in stage["scenes"])
    presenter = _stage(page_session("lecture", {"presenter": "true"}))
    assert all(view["url"].endswith("&sidebar=true&presenter=true") for view in presenter["scenes"])
    assert "Gradient descent, a good learning rate" in _title(at)
    assert any(DEFAULT.scenes[0].caption == m.value for m in at.markdown)
    assert "scene" not in at.query_params  # the first scene: a short link


def test_the_scene_is_in_the_link_and_follows_the_stage(page_session):
    at = page_session("lecture", {"scene": "9"})
    assert _stage(at)["current"] == 9 and "y = x²" in _title(at)
    at.session_state["lecture_stage"] = {"scene": 10}  # what the stage sends on → (its callback's input)
    at.session_state["scene"] = 10
    at.run()
    assert _stage(at)["current"] == 10 and at.query_params["scene"] == "10"


@pytest.mark.parametrize("scene, shown", [("99", len(DEFAULT.scenes)), ("0", 1), ("five", 1)])
def test_a_scene_number_out_of_the_deck_is_clamped_with_a_note(page_session, scene, shown):
    at = page_session("lecture", {"scene": scene})
    assert _stage(at)["current"] == shown
    assert f'"{scene}"' in link_notes(at)


def test_speaker_notes_show_the_notes_and_the_next_title(page_session):
    at = page_session("lecture", {"scene": "6", "notes": "true"})
    text = " ".join(m.value for m in at.markdown)
    assert DEFAULT.scenes[5].notes in text
    assert f"**Next:** {DEFAULT.scenes[6].title}" in text
    last = page_session("lecture", {"scene": str(len(DEFAULT.scenes)), "notes": "true"})
    assert "**Next:** the end" in [m.value for m in last.markdown]


def test_a_deck_file_from_the_environment_is_used_and_a_bad_one_refused(page_session, tmp_path, monkeypatch):
    mine = tmp_path / "mine.toml"
    mine.write_bytes(GOOD)
    monkeypatch.setenv(DECK_ENV, str(mine))
    at = page_session("lecture")
    assert len(_stage(at)["scenes"]) == 1 and "Only one" in _title(at)
    mine.write_bytes(BAD)
    at = page_session("lecture")
    warning = " ".join(w.value for w in at.warning)
    assert "was not used" in warning and "scene 2" in warning and "lr" in warning
    assert len(_stage(at)["scenes"]) == len(DEFAULT.scenes)  # the week-2 lecture instead


def test_an_uploaded_deck_replaces_the_shown_one_and_a_bad_one_is_refused(monkeypatch):
    """The upload's callback (what the sidebar's file uploader calls), on this session's state."""
    state: dict = {"scene": 7}
    monkeypatch.setattr("optviz.ui.lecture.st.session_state", state)
    state["lecture_upload"] = SimpleNamespace(name="bad.toml", getvalue=lambda: BAD)
    _upload()
    assert UPLOADED not in state and state["scene"] == 7
    assert state["lecture_upload_error"].startswith("bad.toml was not used: scene 2:")
    state["lecture_upload"] = SimpleNamespace(name="mine.toml", getvalue=lambda: GOOD)
    _upload()
    assert state[UPLOADED].title == "Mine" and state["scene"] == 1 and "lecture_upload_error" not in state
    state["lecture_upload"] = None  # the file removed: the deck before it
    _upload()
    assert UPLOADED not in state
