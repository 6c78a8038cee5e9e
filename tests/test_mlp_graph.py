"""The MLP page's first tab, the computation graph, driven through Streamlit's AppTest (no browser)."""

import pytest

from tests.apptest import code_blocks, graph_view_data


@pytest.fixture
def at(page_session):
    return page_session("mlp")


def _latex(at):
    """The page's formulas, without the $$ fences st.latex adds."""
    return [element.value.strip("$\n") for element in at.latex]


def test_the_graph_opens_on_y_equals_x_squared_at_2(at):
    assert r"y = x^2" in _latex(at)
    torch, jax = code_blocks(at)
    assert "# tensor(4.)" in torch and "square_grad(2.0)  # (4)" in jax
    graph = graph_view_data(at)
    assert [node["grad"] for node in graph["nodes"]] == ["∂y/∂x = 4", "∂y/∂y = 1"]
    assert graph["point"] == {"x": 2.0, "y": 4.0, "slope": 4.0}


def test_the_graph_controls_change_the_numbers(at):
    at.slider(key="graph_x").set_value(3.0).run()
    assert "# tensor(6.)" in code_blocks(at)[0]
    assert r"\frac{\partial y}{\partial x} &= 2x = 6" in "".join(_latex(at))
    assert graph_view_data(at)["labels"]["tangent"] == "tangent, slope 6"
    at.radio(key="graph_expression").set_value("neuron").run()
    assert r"y = \mathrm{ReLU}(w\,x + b)\qquad (w = 0.8, b = -0.5)" in _latex(at)
    assert "# tensor(0.8000) tensor(3.) tensor(1.)" in code_blocks(at)[0]  # dy/dx = w, dy/dw = x, dy/db = 1
    at.toggle(key="graph_backward").set_value(False).run()
    assert not any("partial" in value for value in _latex(at))
    assert all(node["grad"] is None for node in graph_view_data(at)["nodes"])
