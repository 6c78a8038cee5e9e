"""The Lecture page (/lecture): a deck of scenes (optviz.lecture.deck), each a live view of one of the
other pages with a title and a caption, stepped with the keyboard or a presenter's clicker.

The deck is the week-2 lecture (optviz/lecture/week2.toml), or the file $OPTVIZ_DECK names, or one
uploaded in the sidebar; a deck that cannot be used is refused with its scene and reason, and the
deck before it stays. The stage (optviz/ui/lecture_stage) steps in the browser and tells this page the
scene, which writes its title and caption above it and its number in the URL (`?scene=5`).
`notes=true` shows the speaker notes and the next scene's title beside the stage (a second screen).
"""

from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

from optviz.lecture import deck as decks
from optviz.params import read_number
from optviz.text import literal
from optviz.ui import conv, lab, mlp
from optviz.ui.lecture_stage import lecture_stage
from optviz.ui.share_box import share_box
from optviz.ui.url_state import PageState
from optviz.ui.widgets import FRAME_PARAMETERS, page_setup

DECK_ENV = "OPTVIZ_DECK"  # a deck file chosen when the server starts
KNOWN = {"lab": lab.LINK_PARAMETERS, "mlp": mlp.LINK_PARAMETERS, "conv": conv.LINK_PARAMETERS}
STAGE_KEY = "lecture_stage"
UPLOADED = "lecture_uploaded_deck"  # session state: a deck this session uploaded
KEYS_HINT = "→ Space PageDown: next · ← PageUp: back · a number then Enter: that scene · Esc: all scenes"


@st.cache_resource(max_entries=8, show_spinner=False)
def _deck_file(path: str, modified: float) -> decks.Deck | str:
    """The deck at `path` as it was at `modified` (a new save is read again), or why it cannot be used."""
    try:
        return decks.load(path, KNOWN)
    except decks.DeckError as problem:
        return str(problem)


def _file_deck(path: Path) -> tuple[decks.Deck | None, str | None]:
    try:
        modified = path.stat().st_mtime
    except OSError as problem:
        return None, f"{path} cannot be read ({problem.strerror})"
    found = _deck_file(str(path), modified)
    return (found, None) if isinstance(found, decks.Deck) else (None, found)


def _deck() -> tuple[decks.Deck, str | None]:
    """The deck to show, and why it is not the one asked for (None if it is)."""
    uploaded = st.session_state.get(UPLOADED)
    if uploaded is not None:
        return uploaded, None
    chosen = os.environ.get(DECK_ENV, "").strip()
    if chosen:
        deck, problem = _file_deck(Path(chosen).expanduser())
        if deck is not None:
            return deck, None
        default, _ = _file_deck(decks.DEFAULT_DECK)
        return default, f"The deck in ${DECK_ENV} was not used: {problem}. Showing the week-2 lecture."
    default, problem = _file_deck(decks.DEFAULT_DECK)
    if default is None:  # the bundled deck is checked by the tests: this is a broken install
        raise RuntimeError(f"the default deck cannot be used: {problem}")
    return default, None


def _upload() -> None:
    """The sidebar's deck upload: a good deck replaces the shown one from its first scene."""
    file = st.session_state.get("lecture_upload")
    st.session_state.pop("lecture_upload_error", None)
    if file is None:
        st.session_state.pop(UPLOADED, None)
        return
    try:
        st.session_state[UPLOADED] = decks.parse(file.getvalue(), KNOWN)
        st.session_state["scene"] = 1
    except decks.DeckError as problem:
        st.session_state["lecture_upload_error"] = f"{file.name} was not used: {problem}"


def _go_to_scene() -> None:
    scene = st.session_state[STAGE_KEY].get("scene")
    if isinstance(scene, int):
        st.session_state["scene"] = scene


def render() -> None:
    # The stage gets the width: the deck's sidebar (upload, presenter mode, share) starts folded.
    st.set_page_config(initial_sidebar_state="collapsed")
    state = PageState("lecture", known=("scene", "notes", *FRAME_PARAMETERS))
    deck, problem = _deck()
    with st.sidebar:
        st.markdown(f"**{literal(deck.title)}** · {len(deck.scenes)} scenes")
        st.caption(KEYS_HINT)
        st.file_uploader(
            "Your own deck (a .toml file)",
            type=["toml"],
            key="lecture_upload",
            on_change=_upload,
            help="One [[scene]] per slide, as in optviz/lecture/week2.toml; see the README.",
        )
        if "lecture_upload_error" in st.session_state:
            st.error(literal(st.session_state["lecture_upload_error"], limit=None))
    presenter = page_setup(state)
    share = st.sidebar.container()
    state.show_notes()
    if problem:
        st.warning(literal(problem, limit=None))
    count = len(deck.scenes)
    state.start("scene", 1, lambda text: read_number("scene", text, 1, 1, count, integer=True))
    scene_number = min(max(int(st.session_state["scene"]), 1), count)
    st.session_state["scene"] = scene_number
    state.record("scene", scene_number, default=1)
    notes = state.flag("notes")
    scene = deck.scenes[scene_number - 1]

    stage_col, notes_col = st.columns([3, 1]) if notes else (st.container(), None)
    with stage_col:
        # The deck's own text: its titles, captions and notes are the lecturer's Markdown and LaTeX
        # (a deck comes from the server's files or this session's own upload, never from a link).
        st.markdown(f"### {scene.title}")
        if scene.caption:
            st.markdown(scene.caption)
        views = [{"url": _view_url(s, presenter), "title": s.title} for s in deck.scenes]
        lecture_stage(st.container(), views, scene_number, key=STAGE_KEY, on_scene=_go_to_scene)
        st.link_button(
            "Open this scene's page, with every control",
            scene.url(embed=False),
            icon=":material/open_in_new:",
        )
    if notes_col is not None:
        with notes_col:
            following = deck.scenes[scene_number] if scene_number < count else None
            st.markdown("**Next:** " + (following.title if following else "the end"))
            st.markdown("**Notes**")
            st.markdown(scene.notes or "(none for this scene)")
    share_box(share, state.publish())


def _view_url(scene: decks.Scene, presenter: bool) -> str:
    """The scene's view in the stage: embedded, with the sidebar's » to open its controls
    (optviz/ui/widgets.py), and in presenter style if the lecture is."""
    url = f"{scene.url()}&sidebar=true"
    return f"{url}&presenter=true" if presenter else url
