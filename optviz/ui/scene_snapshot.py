"""A scene's view as the offline deck's blocks (optviz/lecture/offline.py): its page run headless, as
a slide shows it, and what the page drew read back.

The page runs in Streamlit's AppTest with the scene's link and `is_embedded` (a slide: the view its
link names, alone), so the offline deck shows exactly what the lecture page shows, from the same code:
nothing here knows what a page draws. A view that needs trained networks (the MLP's) has its Train
pressed and is read again when the process's trainer is idle.

What a page draws becomes a block: Markdown and formulas; Plotly figures; optviz's components with the
data the page gave them (those that only talk to the server, `SERVER_ONLY`, are left out; the race
chart's start cannot be dragged, `OFFLINE_DATA`); a control's label and value as a setting; rows of
columns; a folded expander. Of a row of tabs, the tab the link names is kept (none: the row is left
out, as a slide leaves it below the fold); buttons, uploads, tables and popovers are left out.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlsplit

from streamlit.testing.v1 import AppTest

from optviz.component_code import read_data, served
from optviz.lecture.deck import Scene
from optviz.lecture.offline import Block, Code, Component, Figure, Formula, Group, Row, Setting, Text
from optviz.mlp.training_jobs import TRAINER

SERVER_ONLY = {"optviz.deck_bridge", "optviz.share_box", "optviz.digit_pad"}
OFFLINE_DATA = {"optviz.race_chart": {"interactive": False}}  # with no server, paths cannot follow a drag
CONTAINERS = {"main", "container", "flex_container", "form", "chat_message"}
ALERTS = {"info", "warning", "error", "success", "exception"}
LEFT_OUT = {"button", "download_button", "file_uploader", "dataframe", "popover", "html", "empty", "table"}
RUN_S = 120  # a page's run
TRAINING_S = 900  # a view's networks trained


class SceneError(RuntimeError):
    """A scene's page could not be drawn; the message names the scene."""


def snapshot(scene: Scene, number: int) -> tuple[Block, ...]:
    """The blocks of `scene` (number `number` in its deck), drawn by its page as a slide shows it."""
    page = AppTest.from_string(f"from optviz.ui.{scene.page} import render\nrender()", default_timeout=RUN_S)
    query = dict(parse_qsl(urlsplit(scene.url(embed=True)).query))
    for key, value in query.items():
        page.query_params[key] = value
    page.context = {"is_embedded": True}
    page.run()
    train = next((button for button in page.button if button.label == "Train"), None)
    if train is not None:
        train.click().run()
        if not TRAINER.wait_idle(TRAINING_S):
            raise SceneError(f"scene {number}: its networks were not trained in {TRAINING_S} s")
        page.run()
    if page.exception:
        raise SceneError(f"scene {number}: its page failed: {page.exception[0].message}")
    return tuple(_blocks(page.main, set(query.values())))


def _blocks(node, views: set[str]) -> Iterator[Block]:
    for child in node.children.values():
        block = _block(child, views)
        if block is not None:
            yield block


def _block(node, views: set[str]) -> Block | None:
    kind = node.type
    if (
        kind == "flex_container"
        and node.proto.flex_container.direction == node.proto.flex_container.HORIZONTAL
    ):
        return _row(node, views)
    if kind in CONTAINERS:
        blocks = tuple(_blocks(node, views))
        return Group(blocks) if blocks else None
    if kind == "tab_container":
        tab = next((tab for tab in node.children.values() if tab.label in views), None)
        return None if tab is None else Group(tuple(_blocks(tab, views)))
    if kind == "expander":
        blocks = tuple(_blocks(node, views))
        return Group(blocks, label=node.label or "Settings") if blocks else None
    if kind in LEFT_OUT:
        return None
    return _element(node)


def _row(node, views: set[str]) -> Row | None:
    columns = [column for column in node.children.values() if column.type == "column"]
    cells = tuple(tuple(_blocks(column, views)) for column in columns)
    if not any(cells):
        return None
    return Row(cells, tuple(column.weight for column in columns))


def _element(node) -> Block | None:
    kind, proto = node.type, node.proto
    if kind in ("markdown", "caption", "latex", "divider"):
        if proto.element_type == proto.LATEX:
            return Formula(proto.body.strip().removeprefix("$$").removesuffix("$$"))
        if proto.element_type == proto.DIVIDER:
            return None
        style = "caption" if proto.element_type == proto.CAPTION else ""
        return Text(proto.body, style=style, html=proto.allow_html)
    if kind in ("title", "header", "subheader"):
        level = {"h1": "#", "h2": "##"}.get(proto.tag, "###")
        return Text(f"{level} {proto.body}")
    if kind in ALERTS:
        return Text(proto.body if kind != "exception" else proto.message, style=kind)
    if kind == "plotly_chart":
        return Figure(json.loads(proto.spec), json.loads(proto.config or "{}"))
    if kind == "code":
        return Code(proto.code_text, proto.language)
    if kind == "bidi_component":
        return _component(proto)
    return _setting(node)


def _component(proto) -> Component | None:
    name = proto.component_name
    if name in SERVER_ONLY:
        return None
    data = read_data(proto)
    if isinstance(data, dict):
        data = {**data, **OFFLINE_DATA.get(name, {})}
    # optviz's components send a loader of their code from the server (optviz/component_code.py); the
    # offline file holds the code itself.
    js = served(name) or proto.js_content
    return Component(name, proto.html_content, proto.css_content, js, data)


def _setting(node) -> Setting | None:
    """A control as its label and value (what the scene's link set it to); None for anything else."""
    label = getattr(node, "label", None)
    try:
        value = node.value
    except Exception:  # an element without a value (or one AppTest cannot read) is left out
        return None
    if not label:
        return None
    index, options = getattr(node, "index", None), getattr(node, "options", None)
    if isinstance(index, int) and options and 0 <= index < len(options):
        value = options[index]  # a choice as the page names it (its format_func), not its key
    return Setting(label, _words(value))


def _words(value) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(map(_words, value))
    return "–" if value is None else str(value)
