"""The components' JS as the browser gets it (optviz/component_code.py): comment lines go, code stays,
and optviz's JS keeps the one property that makes that safe."""

from pathlib import Path

import pytest

from optviz.component_code import without_comment_lines

UI = Path(__file__).parents[1] / "optviz" / "ui"
SOURCES = sorted(UI.glob("*.js")) + sorted(UI.glob("*/*.js"))


def test_whole_line_comments_blank_lines_and_indentation_go_code_stays():
    js = """// The chart.
const a = 1; // one

    // indented comment
    if (a) {
      call("//not a comment", `${a}`);
    }
"""
    assert without_comment_lines(js) == 'const a = 1; // one\nif (a) {\ncall("//not a comment", `${a}`);\n}'


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.name)
def test_no_template_literal_spans_lines_so_dropping_indentation_is_safe(source):
    odd = [i + 1 for i, line in enumerate(source.read_text().splitlines()) if line.count("`") % 2]
    assert not odd, f"{source.name}: a template literal spans lines at {odd} (its indentation would go)"


def test_the_race_chart_goes_a_fifth_lighter():
    js = (UI / "canvas_kit.js").read_text() + (UI / "race_chart" / "race_chart.js").read_text()
    assert len(without_comment_lines(js)) < 0.8 * len(js)
