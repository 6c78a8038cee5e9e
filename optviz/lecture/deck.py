"""A lecture deck: scenes read from a TOML file, checked before anything is shown.

Why TOML: Python reads it with its standard library (tomllib), a lecturer edits it in any text editor,
captions and notes are triple-quoted strings that keep their LaTeX backslashes as written ('''...''')
and their line breaks, comments are allowed, and unlike YAML nothing turns a value into something
else behind the lecturer's back (`no` is not false, `1e-3` is not a string, indentation is free).

    title = "Week 2"

    [[scene]]
    page = "lab"                 # lab, mlp or conv
    title = "Momentum in Rosenbrock's valley"
    caption = '''Velocity $v_t = \\beta v_{t-1} + \\nabla L$ ...'''   # Markdown and LaTeX, 1-3 sentences
    notes = "Ask: what does beta = 0.99 do?"                          # optional: speaker notes
    autoplay = true                                                   # optional: start playing
    link = { surface = "rosenbrock", optimizers = "gd,momentum" }     # the page's link parameters

A deck that cannot be used raises DeckError naming the scene (counted from 1) and what is wrong: an
unknown page, a link parameter the page does not have, a missing or empty title, a caption over
MAX_CAPTION characters, a value of the wrong type. A value the page cannot use (a learning rate out
of range) is the page's to report, as it does for any link, when the scene is shown; the tests open
every scene of the default deck and check that its page reports nothing.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

DEFAULT_DECK = Path(__file__).with_name("week2.toml")
PAGE_PATHS = {"lab": "/", "mlp": "/mlp", "conv": "/conv"}  # a scene's page, where the app serves it
PLAYS = {"lab", "conv"}  # the pages whose animation a link can start (`autoplay=true`)
SCENE_KEYS = {"page", "title", "caption", "notes", "autoplay", "link"}
MAX_SCENES = 200
MAX_TITLE = 120  # characters
MAX_CAPTION = 600  # characters: one to three sentences on a slide
MAX_NOTES = 4000
MAX_DECK_BYTES = 1_000_000


class DeckError(ValueError):
    """A deck that cannot be used; the message names the scene and what is wrong."""


@dataclass(frozen=True)
class Scene:
    page: str  # a key of PAGE_PATHS
    title: str
    caption: str  # Markdown and LaTeX
    notes: str  # speaker notes, Markdown; "" if none
    autoplay: bool  # the page's animation plays when the scene is shown (PLAYS)
    link: tuple[tuple[str, str], ...]  # the page's link parameters, as the URL carries them

    def url(self, *, embed: bool = True) -> str:
        """The scene's view: its page with its link parameters (its animation told to play if `autoplay`),
        embedded (`embed=true`: the view alone, fitted to a slide) unless said otherwise."""
        query = dict(self.link)
        if self.autoplay and self.page in PLAYS:
            query["autoplay"] = "true"
        if embed:
            query["embed"] = "true"
        return PAGE_PATHS[self.page] + (f"?{urlencode(query)}" if query else "")


@dataclass(frozen=True)
class Deck:
    title: str
    scenes: tuple[Scene, ...]


def load(path: str | Path, known: Mapping[str, Sequence[str]]) -> Deck:
    """Read and check the deck at `path` (see `parse`)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as problem:
        raise DeckError(f"the deck {str(path)!r} cannot be read: {problem.strerror or problem}") from None
    return parse(data, known)


def parse(data: bytes | str, known: Mapping[str, Sequence[str]]) -> Deck:
    """The deck in `data` (TOML text), checked. `known` maps each page to the regular expressions of
    its link parameters' names (the pages' LINK_PARAMETERS); a page missing from it is unknown."""
    if isinstance(data, bytes):
        if len(data) > MAX_DECK_BYTES:
            raise DeckError(f"the deck is {len(data):,} bytes; at most {MAX_DECK_BYTES:,}")
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            raise DeckError("the deck is not UTF-8 text") from None
    try:
        document = tomllib.loads(data)
    except tomllib.TOMLDecodeError as problem:
        raise DeckError(f"the deck is not valid TOML: {problem}") from None
    title = document.get("title", "Lecture")
    if not isinstance(title, str):
        raise DeckError("the deck's title must be text")
    scenes = document.get("scene")
    if not isinstance(scenes, list) or not scenes:
        raise DeckError("the deck has no scenes: add [[scene]] tables")
    if len(scenes) > MAX_SCENES:
        raise DeckError(f"the deck has {len(scenes)} scenes; at most {MAX_SCENES}")
    patterns = {page: [re.compile(p) for p in names] for page, names in known.items()}
    return Deck(title.strip() or "Lecture", tuple(_scene(n, s, patterns) for n, s in enumerate(scenes, 1)))


def _scene(number: int, table: object, patterns: Mapping[str, list[re.Pattern]]) -> Scene:
    def wrong(what: str) -> DeckError:
        return DeckError(f"scene {number}: {what}")

    if not isinstance(table, dict):
        raise wrong("a scene must be a table of page, title, caption and link")
    extra = sorted(set(table) - SCENE_KEYS)
    if extra:
        raise wrong(f"unknown key {extra[0]!r}; a scene has {', '.join(sorted(SCENE_KEYS))}")
    page = table.get("page")
    if page not in PAGE_PATHS or page not in patterns:
        raise wrong(f"unknown page {page!r}; the pages are {', '.join(PAGE_PATHS)}")
    title = _text(table, "title", MAX_TITLE, wrong)
    if not title:
        raise wrong("the title is missing")
    autoplay = table.get("autoplay", False)
    if not isinstance(autoplay, bool):
        raise wrong("autoplay must be true or false")
    if autoplay and page not in PLAYS:
        raise wrong(f"the {page} page has nothing to play; autoplay is for {' and '.join(sorted(PLAYS))}")
    link = table.get("link", {})
    if not isinstance(link, dict):
        raise wrong("link must be a table of the page's link parameters")
    pairs = []
    for name, value in link.items():
        if not any(p.fullmatch(name) for p in patterns[page]) or name in ("embed", "autoplay"):
            raise wrong(f"the {page} page has no link parameter {name!r}")
        pairs.append((name, _link_text(value, name, wrong)))
    return Scene(
        page,
        title,
        _text(table, "caption", MAX_CAPTION, wrong),
        _text(table, "notes", MAX_NOTES, wrong),
        autoplay,
        tuple(pairs),
    )


def _text(table: dict, key: str, limit: int, wrong) -> str:
    value = table.get(key, "")
    if not isinstance(value, str):
        raise wrong(f"{key} must be text")
    value = value.strip()
    if len(value) > limit:
        raise wrong(f"the {key} is {len(value)} characters; at most {limit}")
    return value


def _link_text(value: object, name: str, wrong) -> str:
    """A link value as the URL carries it: text as it is, numbers as written, true/false, lists
    joined by commas (`optimizers = ["gd", "adam"]`)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # 2.0 as a link writes it: 2
    if isinstance(value, int | float | str):
        return str(value)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ",".join(value)
    raise wrong(f"the value of {name!r} must be text, a number, true/false or a list of names")
