"""The backpropagation lesson's computation graphs, against closed-form derivatives."""

import math

import numpy as np
import pytest

from optviz.mlp import autodiff
from optviz.mlp.autodiff import EXPRESSIONS, evaluate


def test_x_squared_at_2_has_gradient_4_like_pytorch():
    ev = evaluate(EXPRESSIONS["square"], {"x": 2.0})
    assert ev.values["y"] == 4.0
    assert ev.grads["x"] == 4.0
    assert ev.chain["x"] == r"\frac{\partial y}{\partial x} = 2x = 4"
    code = autodiff.pytorch_code(EXPRESSIONS["square"], ev)
    assert "x = torch.tensor(2.0, requires_grad=True)" in code
    assert "# tensor(4.)" in code


@pytest.mark.parametrize("x, w, b", [(2.0, 0.8, -0.5), (-1.5, 0.3, 0.1), (1.0, -2.0, 0.5)])
def test_neuron_gradients_match_the_closed_form(x, w, b):
    ev = evaluate(EXPRESSIONS["neuron"], {"x": x, "w": w, "b": b})
    z = w * x + b
    active = 1.0 if z > 0 else 0.0
    assert ev.values["y"] == pytest.approx(max(z, 0.0))
    assert ev.grads["w"] == pytest.approx(active * x)
    assert ev.grads["x"] == pytest.approx(active * w)
    assert ev.grads["b"] == pytest.approx(active)
    assert ev.local["y", "z"] == active


@pytest.mark.parametrize("x, w, b, y", [(2.0, 0.8, -0.5, 2.0), (-3.0, 1.5, 2.0, -1.0)])
def test_squared_loss_gradients_match_the_closed_form(x, w, b, y):
    ev = evaluate(EXPRESSIONS["squared_loss"], {"x": x, "w": w, "b": b, "y": y})
    e = w * x + b - y
    assert ev.values["L"] == pytest.approx(e**2)
    expected = {"w": 2 * e * x, "x": 2 * e * w, "b": 2 * e, "y": -2 * e, "e": 2 * e}
    for name, value in expected.items():
        assert ev.grads[name] == pytest.approx(value), name


@pytest.mark.parametrize("name", list(EXPRESSIONS))
def test_the_chain_rule_products_and_the_jax_code_agree_with_the_graph(name):
    expression = EXPRESSIONS[name]
    ev = evaluate(expression)
    for node in expression.nodes:  # dOut/dn = sum over consumers c of dOut/dc * dc/dn
        consumers = [c for c in expression.nodes if node.name in c.inputs]
        if consumers:
            total = sum(ev.grads[c.name] * ev.local[c.name, node.name] for c in consumers)
            assert ev.grads[node.name] == pytest.approx(total)
        assert ev.chain[node.name].endswith(autodiff.number(ev.grads[node.name]))
    shown = expression.jax_fn(*(ev.values[leaf] for leaf in expression.leaves))
    np.testing.assert_allclose(shown, [ev.grads[leaf] for leaf in expression.leaves])
    assert "jax.grad" in expression.jax_source()


@pytest.mark.parametrize("name", list(EXPRESSIONS))
def test_the_output_curve_has_the_gradient_as_its_slope(name):
    expression = EXPRESSIONS[name]
    ev = evaluate(expression, {"x": 1.3})
    h = 1e-5
    ys = autodiff.output_curve(expression, {"x": 1.3}, [1.3 - h, 1.3, 1.3 + h])
    assert ys[1] == pytest.approx(ev.values[expression.output.name])
    assert (ys[2] - ys[0]) / (2 * h) == pytest.approx(ev.grads["x"], rel=1e-6)


def test_formulas_and_torch_printing():
    assert EXPRESSIONS["neuron"].formula() == r"\mathrm{ReLU}(w\,x + b)"
    assert EXPRESSIONS["squared_loss"].formula() == r"(w\,x + b - y)^2"
    assert autodiff.torch_repr(4.0) == "tensor(4.)"
    assert autodiff.torch_repr(-1.44) == "tensor(-1.4400)"
    assert autodiff.torch_repr(-0.0) == "tensor(0.)"
    assert not math.isnan(float(autodiff.python_float(3.0)))
