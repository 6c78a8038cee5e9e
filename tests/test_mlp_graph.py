"""The MLP page's first tab, the computation graph, driven through Streamlit's AppTest (no browser)."""

import json

import pytest


@pytest.fixture
def at(page_session):
    return page_session("mlp")


def _latex(at):
    """The page's formulas, without the $$ fences st.latex adds."""
    return [element.value.strip("$\n") for element in at.latex]


def _charts(at):
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def test_the_graph_opens_on_y_equals_x_squared_at_2(at):
    assert r"y = x^2" in _latex(at)
    assert "# tensor(4.)" in at.code[0].value and "square_grad(2.0)  # (4)" in at.code[1].value


def test_the_graph_controls_change_the_numbers(at):
    at.slider(key="graph_x").set_value(3.0).run()
    assert "# tensor(6.)" in at.code[0].value
    assert r"\frac{\partial y}{\partial x} &= 2x = 6" in "".join(_latex(at))
    at.radio(key="graph_expression").set_value("neuron").run()
    assert r"y = \mathrm{ReLU}(w\,x + b)\qquad (w = 0.8, b = -0.5)" in _latex(at)
    assert "# tensor(0.8000) tensor(3.) tensor(1.)" in at.code[0].value  # dy/dx = w, dy/dw = x, dy/db = 1
    at.toggle(key="graph_backward").set_value(False).run()
    assert not any("partial" in value for value in _latex(at))
    graph = _charts(at)[0]
    assert not any("∂" in a["text"] for a in graph["layout"]["annotations"])
