"""What the computation-graph view draws, checked against the expressions' closed forms."""

import numpy as np
import pytest

from optviz.mlp import autodiff
from optviz.mlp.graph_data import CURVE_POINTS, X_RANGE, graph_data, positions


def _data(name, x=2.0, backward=True):
    expression = autodiff.EXPRESSIONS[name]
    leaves = {**expression.defaults, "x": x}
    evaluation = autodiff.evaluate(expression, leaves)
    return expression, graph_data(expression, evaluation, leaves, backward=backward)


def test_one_box_per_node_one_arrow_per_input_and_gradients_only_after_backward():
    expression, forward = _data("neuron", backward=False)
    assert len(forward["nodes"]) == len(expression.nodes)
    assert len(forward["edges"]) == sum(len(node.inputs) for node in expression.nodes)
    assert all(node["grad"] is None for node in forward["nodes"])
    _, backward = _data("neuron")
    texts = {n["title"]: (n["value"], n["grad"]) for n in backward["nodes"]}
    assert texts["w (input)"] == ("value 0.8", "∂y/∂w = 2")  # dy/dw = x = 2 (z = 1.1 > 0)
    assert texts["y = ReLU"] == ("value 1.1", "∂y/∂y = 1")


def test_inputs_in_the_first_column_and_each_operation_right_of_its_inputs():
    expression = autodiff.EXPRESSIONS["squared_loss"]
    at = positions(expression)
    for node in expression.nodes:
        column = at[node.name][0]
        assert column == 0 if node.op is None else column == 1 + max(at[i][0] for i in node.inputs)
    heights = sorted(at[leaf][1] for leaf in expression.leaves)
    assert heights == [-1.5, -0.5, 0.5, 1.5]  # four inputs centred on the middle row
    assert at[expression.output.name][1] == 0


@pytest.mark.parametrize("x", [-2.5, 0.0, 1.3])
def test_the_curve_and_its_tangent_are_y_equals_x_squared_and_2x(x):
    _, data = _data("square", x=x)
    xs = np.array(data["curve"]["x"])
    assert len(xs) == CURVE_POINTS and (xs[0], xs[-1]) == X_RANGE
    np.testing.assert_allclose(data["curve"]["y"], xs**2, rtol=1e-6, atol=1e-6)
    point = data["point"]
    assert point["x"] == x and point["y"] == pytest.approx(x**2) and point["slope"] == pytest.approx(2 * x)
    assert data["labels"] == {"output": "y", "tangent": f"tangent, slope {autodiff.number(2 * x)}"}


def test_the_squared_loss_writes_y_hat_as_text():
    _, data = _data("squared_loss")
    assert data["labels"]["output"] == "L"
    assert any(node["title"] == "ŷ = +" for node in data["nodes"])
