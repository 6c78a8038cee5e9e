r"""Small computation graphs for the backpropagation lesson: nodes, forward values, gradients.

An expression is a list of nodes in evaluation order; each node is an input (a leaf) or one operation
on earlier nodes. Backpropagation gives every node n its gradient dOut/dn by the chain rule, summing
over the nodes c that use n:

    dOut/dn = \sum_c dOut/dc \cdot dc/dn        (dc/dn: the local derivative of c's operation)

The gradients here come from `jax.grad` (each node's value gets a zero added, and jax.grad with
respect to those zeros is dOut/dnode); the chain-rule products are written out beside them, with the
local derivatives also from jax.grad, so the page can show that the two agree. The PyTorch code from
the lecture is kept as text (torch is not a dependency); its printed numbers are these gradients.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np


class Op(NamedTuple):
    """An operation: its function, its LaTeX (inputs as {0}, {1}) and each input's local derivative."""

    fn: Callable
    latex: str
    partials: tuple[str, ...]  # LaTeX of d(out)/d(input i), in terms of the inputs


OPS = {
    "mul": Op(lambda a, b: a * b, r"{0}\,{1}", ("{1}", "{0}")),
    "add": Op(lambda a, b: a + b, "{0} + {1}", ("1", "1")),
    "sub": Op(lambda a, b: a - b, "{0} - {1}", ("1", "(-1)")),
    "square": Op(lambda a: a**2, "{0}^2", ("2{0}",)),
    "relu": Op(jax.nn.relu, r"\mathrm{{ReLU}}({0})", (r"\mathbb{{1}}[{0} > 0]",)),
}


class Node(NamedTuple):
    name: str
    symbol: str  # LaTeX
    op: str | None = None  # None: an input (leaf)
    inputs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Expression:
    """A computation graph; its last node is the output."""

    name: str
    title: str
    nodes: tuple[Node, ...]
    defaults: Mapping[str, float]  # every leaf's value; "x" is the one the page's slider moves
    pytorch: str  # the lecture's PyTorch code, {leaf} and {grad_leaf} filled in by `pytorch_code`
    jax_fn: Callable  # the same gradient with jax.grad: takes the leaves in `defaults` order

    @property
    def output(self) -> Node:
        return self.nodes[-1]

    @property
    def leaves(self) -> tuple[str, ...]:
        return tuple(self.defaults)

    def node(self, name: str) -> Node:
        return next(n for n in self.nodes if n.name == name)

    def formula(self, name: str | None = None) -> str:
        """The node's value written in the leaves, e.g. \\mathrm{ReLU}(w\\,x + b) for the neuron."""
        node = self.node(name or self.output.name)
        if node.op is None:
            return node.symbol
        parts = [self.formula(i) for i in node.inputs]
        if node.op == "mul":  # a sum inside a product needs brackets
            parts = [rf"({p})" if "+" in p or "-" in p else p for p in parts]
        if node.op == "square" and node.inputs[0] not in self.defaults:
            parts = [rf"({parts[0]})"]
        return OPS[node.op].latex.format(*parts)

    def jax_source(self) -> str:
        return inspect.getsource(self.jax_fn)


class Evaluation(NamedTuple):
    values: dict[str, float]  # every node's forward value
    grads: dict[str, float]  # dOut/dnode for every node (the output's own is 1)
    local: dict[tuple[str, str], float]  # (node c, its input n) -> dc/dn at these values
    chain: dict[str, str]  # node -> the chain-rule product for its gradient, in LaTeX with numbers


def _forward(expression: Expression, leaves: Mapping[str, float], shifts: Mapping[str, float]) -> dict:
    """Every node's value, each with `shifts[node]` added (zeros: d(out)/d(shift) = d(out)/d(node))."""
    values = {}
    for node in expression.nodes:
        if node.op is None:
            value = leaves[node.name]
        else:
            value = OPS[node.op].fn(*(values[i] for i in node.inputs))
        values[node.name] = value + shifts[node.name]
    return values


def evaluate(expression: Expression, leaves: Mapping[str, float] | None = None) -> Evaluation:
    """Forward values, gradients (jax.grad) and the chain-rule products at `leaves` (defaults if None)."""
    leaves = {**expression.defaults, **(leaves or {})}
    zeros = {node.name: 0.0 for node in expression.nodes}
    output = expression.output.name
    values = _forward(expression, leaves, zeros)
    grads = jax.grad(lambda shifts: _forward(expression, leaves, shifts)[output])(zeros)
    local = {}
    for node in expression.nodes:
        for i, name in enumerate(node.inputs):
            args = [values[n] for n in node.inputs]
            local[node.name, name] = jax.grad(OPS[node.op].fn, argnums=i)(*args)
    values = {k: float(v) for k, v in values.items()}
    grads = {k: float(v) for k, v in grads.items()}
    local = {k: float(v) for k, v in local.items()}
    chain = {node.name: _chain_latex(expression, node, values, grads, local) for node in expression.nodes}
    return Evaluation(values, grads, local, chain)


def number(v: float) -> str:
    """A number as the page prints it: at most 4 significant digits, no '-0'."""
    return f"{v + 0.0:.4g}"


def _partial(out: str, of: str) -> str:
    return rf"\frac{{\partial {out}}}{{\partial {of}}}"


def _chain_latex(expression, node, values, grads, local) -> str:
    r"""dOut/dn = sum over consumers c of dOut/dc * dc/dn: symbols, then the local derivatives' formulas,
    then numbers, e.g. \frac{\partial y}{\partial w} = \frac{\partial y}{\partial u}\, x = 1 \cdot 2 = 2."""
    out = expression.output.symbol
    lhs = _partial(out, node.symbol)
    if node is expression.output:
        return rf"{lhs} = 1"
    consumers = [(c, c.inputs.index(node.name)) for c in expression.nodes if node.name in c.inputs]
    symbolic, formulas, numbers = [], [], []
    for c, i in consumers:
        local_formula = OPS[c.op].partials[i].format(*(expression.node(n).symbol for n in c.inputs))
        local_value = local[c.name, node.name]
        if c is expression.output:  # dOut/dOut = 1: no upstream factor to write
            symbolic.append(_partial(out, node.symbol))
            formulas.append(local_formula)
            numbers.append(number(local_value))
        else:
            upstream = _partial(out, c.symbol)
            symbolic.append(upstream + _partial(c.symbol, node.symbol))
            formulas.append(rf"{upstream} \cdot {local_formula}")
            numbers.append(rf"{_factor(grads[c.name])} \cdot {_factor(local_value)}")
    steps = [lhs, " + ".join(symbolic), " + ".join(formulas), " + ".join(numbers), number(grads[node.name])]
    return " = ".join(dict.fromkeys(steps))  # drop repeats, e.g. dy/dx = 2x = 4 for y = x^2


def _factor(v: float) -> str:
    """A number inside a product: negative ones in brackets."""
    return number(v) if v >= 0 else rf"({number(v)})"


def output_curve(expression: Expression, leaves: Mapping[str, float], xs) -> np.ndarray:
    """The output as a function of x (the other leaves held at `leaves`), at every x in `xs`."""
    leaves = {**expression.defaults, **leaves}
    zeros = {node.name: 0.0 for node in expression.nodes}

    def out(x):
        return _forward(expression, {**leaves, "x": x}, zeros)[expression.output.name]

    return np.asarray(jax.vmap(out)(jnp.asarray(xs)))


def pytorch_code(expression: Expression, evaluation: Evaluation) -> str:
    """The lecture's PyTorch snippet with these leaf values, and what its prints would show."""
    fields = {leaf: python_float(evaluation.values[leaf]) for leaf in expression.leaves}
    fields.update({f"grad_{leaf}": torch_repr(evaluation.grads[leaf]) for leaf in expression.leaves})
    return expression.pytorch.format(**fields)


def python_float(v: float) -> str:
    """A float literal (torch.tensor(2) would be an integer tensor, which cannot require a gradient)."""
    text = number(v)
    return text if any(c in text for c in ".en") else text + ".0"


def torch_repr(v: float) -> str:
    """How PyTorch prints a float scalar tensor: tensor(4.) for whole numbers, else 4 decimals."""
    v += 0.0
    return f"tensor({v:.0f}.)" if v == round(v) else f"tensor({v:.4f})"


# --- the lecture's expressions, each with its jax.grad equivalent -------------------------------


def square_grad(x):
    """dy/dx of y = x**2."""

    def y(x):
        return x**2

    return (jax.grad(y)(x),)


def neuron_grads(x, w, b):
    """dy/dx, dy/dw, dy/db of a neuron."""

    def y(x, w, b):
        return jax.nn.relu(w * x + b)

    return jax.grad(y, argnums=(0, 1, 2))(x, w, b)


def squared_loss_grads(x, w, b, y):
    """dL/dx, dL/dw, dL/db, dL/dy."""

    def loss(x, w, b, y):
        y_hat = w * x + b
        return (y_hat - y) ** 2

    return jax.grad(loss, argnums=(0, 1, 2, 3))(x, w, b, y)


EXPRESSIONS = {
    e.name: e
    for e in (
        Expression(
            name="square",
            title="y = x²",
            nodes=(Node("x", "x"), Node("y", "y", "square", ("x",))),
            defaults={"x": 2.0},
            pytorch=(
                "x = torch.tensor({x}, requires_grad=True)\ny = x**2\ny.backward()\nprint(x.grad)  # {grad_x}"
            ),
            jax_fn=square_grad,
        ),
        Expression(
            name="neuron",
            title="a neuron: y = ReLU(w·x + b)",
            nodes=(
                Node("x", "x"),
                Node("w", "w"),
                Node("b", "b"),
                Node("u", "u", "mul", ("w", "x")),
                Node("z", "z", "add", ("u", "b")),
                Node("y", "y", "relu", ("z",)),
            ),
            defaults={"x": 2.0, "w": 0.8, "b": -0.5},
            pytorch=(
                "x = torch.tensor({x}, requires_grad=True)\n"
                "w = torch.tensor({w}, requires_grad=True)\n"
                "b = torch.tensor({b}, requires_grad=True)\n"
                "y = torch.relu(w * x + b)\n"
                "y.backward()\n"
                "print(x.grad, w.grad, b.grad)\n"
                "# {grad_x} {grad_w} {grad_b}"
            ),
            jax_fn=neuron_grads,
        ),
        Expression(
            name="squared_loss",
            title="a squared loss: L = (ŷ − y)², ŷ = w·x + b",
            nodes=(
                Node("x", "x"),
                Node("w", "w"),
                Node("b", "b"),
                Node("y", "y"),
                Node("u", "u", "mul", ("w", "x")),
                Node("y_hat", r"\hat y", "add", ("u", "b")),
                Node("e", "e", "sub", ("y_hat", "y")),
                Node("L", "L", "square", ("e",)),
            ),
            defaults={"x": 2.0, "w": 0.8, "b": -0.5, "y": 2.0},
            pytorch=(
                "x = torch.tensor({x}, requires_grad=True)\n"
                "w = torch.tensor({w}, requires_grad=True)\n"
                "b = torch.tensor({b}, requires_grad=True)\n"
                "y = torch.tensor({y}, requires_grad=True)\n"
                "L = (w * x + b - y)**2\n"
                "L.backward()\n"
                "print(x.grad, w.grad, b.grad, y.grad)\n"
                "# {grad_x} {grad_w} {grad_b} {grad_y}"
            ),
            jax_fn=squared_loss_grads,
        ),
    )
}
