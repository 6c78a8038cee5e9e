"""A whole deck as one standalone HTML file, for a room without a network.

Each scene is what its page shows in a slide (`embed=true`), as a tree of `Block`s: text (Markdown with
LaTeX), formulas, Plotly figures, optviz's own components (the race chart, the step charts, the
computation graph, code) with the data the page gave them, the settings the page was opened with, in
the page's rows and columns. optviz/ui/scene_snapshot.py reads the blocks from a page run headless;
here they become HTML, so this module knows nothing of Streamlit and can be tested with blocks made
by hand.

The file steps like the lecture page: it runs the lecture stage's own JS (optviz/ui/lecture_stage:
keys, progress bar, count, the grid of all scenes) with the scenes as sections of the page instead of
iframes. A scene's charts are drawn when it is shown and taken down when it is left, so an animation
starts from its beginning each time its scene comes, as in the app. The scene number is the URL's
fragment (week2.html#5).

Offline means nothing is fetched: the components' JS, plotly.js (once) and the data are in the file,
the formulas are MathML (converted here, drawn by the browser), and the Content-Security-Policy
forbids every request (`CSP`). Text is Markdown with raw HTML escaped, except where the page itself
wrote HTML for its own text (`Text.html`), as on the page.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import plotly.offline
from latex2mathml.converter import convert as latex_to_mathml
from markdown_it import MarkdownIt

from optviz.lab.export.html import inline

UI = Path(__file__).parents[1] / "ui"  # the stage's and kits' files (read, not imported: optviz.ui imports
STAGE = UI / "lecture_stage"  # Streamlit)
HERE = Path(__file__).parent

# Nothing from anywhere: the page's own inline scripts and styles, the components' modules (made from
# the page's text as blob: URLs, as Streamlit loads them), and pictures Plotly draws for itself (data:).
CSP = (
    "default-src 'none'; script-src 'unsafe-inline' blob:; style-src 'unsafe-inline'; "
    "img-src data: blob:; base-uri 'none'; form-action 'none'"
)
NOTE = "Recorded by optviz: the charts replay; their settings are those of the scene's link."


@dataclass(frozen=True)
class Text:
    """Markdown with $...$ and $$...$$ LaTeX. `style`: "" (text), "caption" (small, grey) or an alert's
    kind ("info", "warning", "error", "success"). `html`: the page wrote raw HTML into it (a coloured
    dot); otherwise HTML in it is shown as typed."""

    markdown: str
    style: str = ""
    html: bool = False


@dataclass(frozen=True)
class Formula:
    latex: str  # shown on a line of its own


@dataclass(frozen=True)
class Figure:
    spec: dict  # Plotly's figure JSON ({"data", "layout"})
    config: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Component:
    """One of optviz's components: its name, its files' text and the data the page gave it."""

    name: str
    html: str
    css: str
    js: str
    data: Any


@dataclass(frozen=True)
class Setting:
    label: str
    value: str


@dataclass(frozen=True)
class Code:
    text: str
    language: str = ""


@dataclass(frozen=True)
class Row:
    columns: tuple[tuple[Block, ...], ...]
    weights: tuple[float, ...]


@dataclass(frozen=True)
class Group:
    blocks: tuple[Block, ...]
    label: str = ""  # a folded group (the page's expander) has one


Block = Text | Formula | Figure | Component | Setting | Code | Row | Group


@dataclass(frozen=True)
class SceneView:
    title: str
    caption: str  # Markdown and LaTeX
    notes: str
    blocks: tuple[Block, ...]


# --- text and formulas -------------------------------------------------------------------------------

# $$display$$ or $inline$ ($ not escaped; an inline formula neither starts nor ends with a space, and a
# closing $ followed by a digit is a price, not a formula), as Streamlit's Markdown reads them.
_MATH = re.compile(r"(?<!\\)\$\$(.+?)(?<!\\)\$\$|(?<![\\$])\$(?![\s$])(.+?)(?<![\\\s])\$(?!\d)", re.S)
_TOKEN = "OPTVIZMATH{}X"
_COLOURS = {
    "blue": "#0072b2",
    "red": "#d55e00",
    "green": "#009e73",
    "orange": "#e69f00",
    "violet": "#cc79a7",
    "gray": "#6b6f76",
    "grey": "#6b6f76",
}
_COLOURED = re.compile(r":(" + "|".join(_COLOURS) + r")\[([^\]]*)\]")


def formula(latex: str, *, display: bool) -> str:
    """`latex` as MathML; as its source, literally, if it cannot be converted. (KaTeX's `aligned`, the
    pages' aligned lines, is latex2mathml's `align*`.)"""
    latex = latex.strip().replace(r"{aligned}", r"{align*}")
    try:
        return latex_to_mathml(latex, display="block" if display else "inline")
    except Exception:  # latex2mathml raises many kinds; a formula must never stop the file
        return f'<code class="optviz-offline__latex">{html.escape(latex)}</code>'


def markdown(text: str, *, allow_html: bool = False) -> str:
    """Markdown with LaTeX as HTML: the formulas are set aside before the Markdown is read, so that
    neither changes the other, then put back as MathML. Streamlit's coloured text (:blue[...]) keeps
    its colour; raw HTML is escaped unless `allow_html`."""
    formulas: list[str] = []

    def set_aside(match: re.Match) -> str:
        display = match.group(1) is not None
        formulas.append(formula(match.group(1) if display else match.group(2), display=display))
        return _TOKEN.format(len(formulas) - 1)

    parser = MarkdownIt("commonmark", {"html": allow_html}).enable("table").enable("strikethrough")
    rendered = parser.render(_MATH.sub(set_aside, text))
    rendered = _COLOURED.sub(lambda m: f'<span style="color:{_COLOURS[m[1]]}">{m[2]}</span>', rendered)
    return re.sub(r"OPTVIZMATH(\d+)X", lambda m: formulas[int(m[1])], rendered)


# --- blocks ------------------------------------------------------------------------------------------


class _Page:
    """The HTML of the blocks, with what the page's script needs collected on the way: each component's
    files once, and each chart to draw (`mounts`: [kind, name, data], pointed to by data-mount)."""

    def __init__(self) -> None:
        self.components: dict[str, Component] = {}
        self.mounts: list[list] = []

    def blocks(self, blocks) -> str:
        return "".join(self.block(block) for block in blocks)

    def block(self, block: Block) -> str:
        if isinstance(block, Text):
            body = markdown(block.markdown, allow_html=block.html)
            return f'<div class="optviz-offline__text {block.style}">{body}</div>' if block.style else body
        if isinstance(block, Formula):
            return f'<div class="optviz-offline__formula">{formula(block.latex, display=True)}</div>'
        if isinstance(block, Figure):
            return self.mount("figure", "plotly", {"spec": block.spec, "config": block.config})
        if isinstance(block, Component):
            self.components.setdefault(block.name, block)
            return self.mount("component", block.name, block.data)
        if isinstance(block, Setting):
            label, value = html.escape(block.label), html.escape(block.value)
            return f'<span class="optviz-offline__setting"><span>{label}</span> {value}</span>'
        if isinstance(block, Code):
            return f'<pre class="optviz-offline__code"><code>{html.escape(block.text)}</code></pre>'
        if isinstance(block, Row):
            total = sum(block.weights) or 1
            cells = "".join(
                f'<div style="flex:{weight / total:.4f} 1 0">{self.blocks(column)}</div>'
                for column, weight in zip(block.columns, block.weights, strict=True)
            )
            return f'<div class="optviz-offline__row">{cells}</div>'
        if isinstance(block, Group):
            inner = self.blocks(block.blocks)
            if block.label:
                return f"<details><summary>{markdown(block.label)}</summary>{inner}</details>"
            return f'<div class="optviz-offline__group">{inner}</div>'
        raise TypeError(f"not a block: {block!r}")

    def mount(self, kind: str, name: str, data) -> str:
        self.mounts.append([kind, name, data])
        return f'<div class="optviz-offline__mount" data-mount="{len(self.mounts) - 1}"></div>'


def _script_json(value) -> str:
    """JSON for the inside of a <script>: '<' written as \\u003c, so no text can close the element."""
    return json.dumps(value, separators=(",", ":"), allow_nan=False).replace("<", "\\u003c")


def to_html(title: str, scenes: list[SceneView]) -> bytes:
    """The deck titled `title` as one standalone HTML page, UTF-8: its scenes stepped with the keys of
    the lecture page, every chart drawn from the data in the file, nothing fetched."""
    if not scenes:
        raise ValueError("a deck needs at least one scene")
    page = _Page()
    sections = []
    for number, scene in enumerate(scenes, 1):
        notes = f"<summary>Speaker notes</summary>{markdown(scene.notes)}" if scene.notes else ""
        notes = f'<details class="optviz-offline__notes">{notes}</details>' if notes else ""
        sections.append(
            f'<section class="optviz-offline__scene" data-scene="{number}" hidden>'
            f"<h1>{html.escape(scene.title)}</h1>"
            f'<div class="optviz-offline__caption">{markdown(scene.caption)}</div>'
            f'<div class="optviz-offline__view">{page.blocks(scene.blocks)}</div>{notes}</section>'
        )
    uses_plotly = any(kind == "figure" for kind, _, _ in page.mounts)
    component_files = "".join(
        f'<template id="optviz-html-{name}">{c.html}</template>'
        f'<script type="text/plain" id="optviz-js-{name}">{inline(c.js, name)}</script>'
        for name, c in page.components.items()
    )
    styles = "\n".join(inline(c.css, c.name) for c in page.components.values())
    stage_files = (UI / "canvas_kit.js", STAGE / "lecture_stage.js", HERE / "offline_stage.js")
    stage_js = "\n".join(path.read_text("utf-8") for path in stage_files)
    deck = {"scenes": [{"title": scene.title} for scene in scenes], "mounts": page.mounts}
    plotly_js = inline(plotly.offline.get_plotlyjs(), "plotly.js") if uses_plotly else ""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>{(STAGE / "lecture_stage.css").read_text("utf-8")}
{(HERE / "offline_stage.css").read_text("utf-8")}
{styles}</style>
</head>
<body>
<main class="optviz-offline">
<header class="optviz-offline__deck">{html.escape(title)}</header>
{(STAGE / "lecture_stage.html").read_text("utf-8")}
<div class="optviz-offline__scenes">{"".join(sections)}</div>
<p class="optviz-offline__note">{html.escape(NOTE)}</p>
</main>
{component_files}
<script type="application/json" id="optviz-deck">{_script_json(deck)}</script>
<script>{plotly_js}</script>
<script type="module">{inline(stage_js, "the stage's JS")}</script>
</body>
</html>
""".encode()
