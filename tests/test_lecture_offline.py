"""The offline deck: text and formulas turned into HTML (optviz.lecture.offline), a scene's view read
back from its page (optviz.ui.scene_snapshot), and the command that writes the file
(`python -m optviz lecture`). The file itself is opened in Chromium with the network blocked in
tests/e2e/test_lecture_offline_browser.py."""

from __future__ import annotations

import json
import re

import pytest

from optviz import __main__ as optviz_main
from optviz.component_code import CODE_ROUTE
from optviz.lecture import cli, offline
from optviz.lecture import deck as decks
from optviz.lecture.offline import Code, Component, Figure, Formula, Group, Row, SceneView, Setting, Text
from optviz.ui.lecture import KNOWN
from optviz.ui.scene_snapshot import snapshot
from tests.conftest import use_own_trainer

DEFAULT = decks.load(decks.DEFAULT_DECK, KNOWN)


@pytest.fixture(autouse=True)
def own_trainer(monkeypatch):
    use_own_trainer(monkeypatch)


def _scene(title: str):
    return next((number, scene) for number, scene in enumerate(DEFAULT.scenes, 1) if title in scene.title)


def _walk(blocks):
    for block in blocks:
        yield block
        if isinstance(block, Group):
            yield from _walk(block.blocks)
        if isinstance(block, Row):
            for column in block.columns:
                yield from _walk(column)


def _deck_data(page: str) -> dict:
    return json.loads(re.search(r'id="optviz-deck">(.*?)</script>', page, re.S)[1])


# --- text and formulas -------------------------------------------------------------------------------


def test_markdown_keeps_formulas_apart_from_the_markdown():
    rendered = offline.markdown(r"The step $\theta_t = \theta_{t-1} - \eta g_t$ is **short**; it costs \$5.")
    assert rendered.count("<math") == 1 and "<strong>short</strong>" in rendered
    assert "$5" in rendered and "\\$" not in rendered, "an escaped dollar is a dollar, not a formula"
    assert "_" not in rendered.split("<math")[0], "the formula's underscores are not Markdown's emphasis"
    display = offline.markdown("Below:\n\n$$\\frac{1}{2}x^2$$")
    assert 'display="block"' in display and "<mfrac>" in display


def test_html_in_text_is_shown_as_typed_unless_the_page_wrote_it():
    typed = offline.markdown('<img src="https://example.com/x.png"> and <script>alert(1)</script>')
    assert "<img" not in typed and "<script" not in typed and "&lt;img" in typed
    dot = "<span style='color:#cc79a7'>●</span>"
    assert dot in offline.markdown(dot, allow_html=True)
    assert '<span style="color:#0072b2">fast</span>' in offline.markdown(":blue[fast]")


def test_aligned_lines_are_a_table_and_a_bad_formula_is_shown_as_typed():
    latex = r"\begin{aligned}\frac{\partial y}{\partial x} &= 2x = 4\end{aligned}"
    aligned = offline.formula(latex, display=True)
    assert "<mtable" in aligned and "&amp;" not in aligned and "<mi>&" not in aligned
    broken = offline.formula(r"\left( <b>", display=False)
    assert broken.startswith("<code") and "&lt;b&gt;" in broken


# --- the page ----------------------------------------------------------------------------------------

COMPONENT = Component("optviz.test", "<div class=t></div>", ".t{color:red}", "export default () => {};", {})


def test_the_file_carries_every_scene_each_components_code_once_and_forbids_every_request():
    scenes = [
        SceneView("One <b>", "A caption with $x^2$.", "", (Text("Some **text**"), Formula("y = x^2"))),
        SceneView(
            "Two",
            "",
            "Ask the class.",
            (
                Row(((COMPONENT,), (Component(**{**COMPONENT.__dict__, "data": {"n": 2}}),)), (1, 2)),
                Group((Setting("Learning rate η", "0.05"), Code("for x in loader: pass")), label="Settings"),
            ),
        ),
    ]
    page = offline.to_html("Week <2>", scenes).decode()
    assert page.count('<section class="optviz-offline__scene"') == 2
    assert "<title>Week &lt;2&gt;</title>" in page and "<h1>One &lt;b&gt;</h1>" in page
    assert page.count('id="optviz-js-optviz.test"') == 1, "a component's JS once, however often it is shown"
    assert "default-src 'none'" in page and "connect-src" not in page
    assert "Plotly" not in page.split("<script>", 1)[-1][:100], "no plotly.js without a figure"
    mounts = _deck_data(page)["mounts"]
    assert mounts == [["component", "optviz.test", {}], ["component", "optviz.test", {"n": 2}]]
    assert "flex:0.3333 1 0" in page and "<details><summary>" in page and "Speaker notes" in page
    assert "Learning rate η</span> 0.05" in page


def test_data_cannot_close_the_pages_script_and_plotly_comes_with_a_figure():
    trace = {"type": "scatter", "name": "</script><script>alert(1)</script>"}
    figure = Figure({"data": [trace], "layout": {}})
    page = offline.to_html("t", [SceneView("t", "", "", (figure,))]).decode()
    assert "</script><script>alert(1)" not in page
    assert _deck_data(page)["mounts"][0][2]["spec"]["data"][0]["name"].startswith("</script>")
    assert len(page) > 3_000_000, "plotly.js is in the file"
    with pytest.raises(ValueError, match="cannot be inlined"):
        offline.to_html("t", [SceneView("t", "", "", (Component("x", "", "", "a</script>b", None),))])
    with pytest.raises(ValueError, match="at least one scene"):
        offline.to_html("t", [])


# --- a scene's view, read from its page ----------------------------------------------------------------


def test_a_race_scene_is_its_chart_playing_by_itself_with_no_start_to_drag():
    number, scene = _scene("good learning rate")
    blocks = list(_walk(snapshot(scene, number)))
    charts = [block for block in blocks if isinstance(block, Component)]
    assert [chart.name for chart in charts] == ["optviz.race_chart"], "no deck bridge, no tabs below it"
    race = charts[0]
    assert race.data["autoplay"] is True and race.data["interactive"] is False
    assert race.js and race.html, "the component's own files, as the page registered them"
    assert "class RaceChart" in race.js and CODE_ROUTE not in race.js, "its code, not the server's loader"
    assert any(isinstance(block, Formula) for block in blocks), "the surface's formula"


def test_a_graph_scene_keeps_its_graph_its_settings_and_its_formulas():
    number, scene = _scene("y = x²")
    blocks = list(_walk(snapshot(scene, number)))
    names = [block.name for block in blocks if isinstance(block, Component)]
    assert "optviz.graph_view" in names and "optviz.code_block" in names
    settings = {block.label: block.value for block in blocks if isinstance(block, Setting)}
    assert settings["x"] == "2" and settings["backward()"] == "on"
    assert any("2x = 4" in block.latex for block in blocks if isinstance(block, Formula))


def test_a_view_that_needs_trained_networks_is_trained_first():
    number, scene = _scene("Training with each optimizer")
    blocks = list(_walk(snapshot(scene, number)))
    figures = [block for block in blocks if isinstance(block, Figure)]
    assert figures, "the training curves"
    names = {trace.get("name") for figure in figures for trace in figure.spec["data"]}
    assert {"Gradient descent", "Adam"} <= names
    assert not any(isinstance(block, Text) and block.style == "info" for block in blocks), "no 'press Train'"


def test_the_named_tab_of_the_lab_is_kept():
    number, scene = _scene("Batch size")
    blocks = list(_walk(snapshot(scene, number)))
    assert any(isinstance(block, Figure) for block in blocks), "the noise fan"
    assert not any(isinstance(block, Component) and block.name == "optviz.race_chart" for block in blocks)


# --- the command -------------------------------------------------------------------------------------


def test_the_command_is_listed_and_refuses_a_bad_deck_naming_its_scene(tmp_path, capsys):
    assert optviz_main.main(["--help"]) == 0
    assert "lecture" in capsys.readouterr().out
    deck = tmp_path / "bad.toml"
    scene = '[[scene]]\npage = "{}"\ntitle = "{}"\n'
    deck.write_text('title = "T"\n' + scene.format("lab", "A") + scene.format("nope", "B"))
    with pytest.raises(SystemExit) as exit_:
        optviz_main.main(["lecture", "--deck", str(deck), "--out", str(tmp_path / "x.html")])
    assert exit_.value.code == 2
    error = capsys.readouterr().err
    assert "scene 2" in error and "nope" in error and "Traceback" not in error
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--out", str(tmp_path)])
    assert exit_.value.code == 2 and "is a folder" in capsys.readouterr().err
    assert not (tmp_path / "x.html").exists()


def test_the_command_writes_a_deck_of_its_own(tmp_path, capsys):
    deck = tmp_path / "mine.toml"
    deck.write_text(
        'title = "Mine"\n[[scene]]\npage = "conv"\ntitle = "Text"\ncaption = "Words $w_i$."\n'
        'link = { conv_view = "1D over text" }\n'
    )
    out = tmp_path / "mine.html"
    assert cli.main(["--deck", str(deck), "--out", str(out)]) == 0
    assert f"wrote {out}" in capsys.readouterr().out
    page = out.read_text()
    assert "<title>Mine</title>" in page and "<math" in page
    assert [kind for kind, _, _ in _deck_data(page)["mounts"]] == ["figure"]
