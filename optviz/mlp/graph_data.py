"""What the computation-graph view draws (optviz/ui/graph_view): the graph laid out in columns with each
node's text, and the output against x with its tangent. Plain data for the browser, no drawing.

Every number is written here, with `autodiff.number`, so that the view, the chain rule beside it and
the tests read the same text.

Layout: inputs in the left column, each operation one column right of its deepest input; a column's
nodes are centred on the middle row. The tangent at x0 is the line y0 + slope (x - x0), slope =
d(output)/dx from jax.grad: the picture of what the number in node x's box means.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from optviz.mlp.autodiff import Evaluation, Expression, number, output_curve

X_RANGE = (-3.0, 3.0)  # the page's x slider, and the curve's extent
CURVE_POINTS = 121  # one every 0.05: smooth at a projector's width
VALUE_COLOUR = "#0072B2"  # forward values (Okabe-Ito blue)
GRADIENT_COLOUR = "#D55E00"  # gradients and the tangent (Okabe-Ito vermillion)
OP_TEXT = {"mul": "×", "add": "+", "sub": "−", "square": "( )²", "relu": "ReLU"}
SYMBOL_TEXT = {"y_hat": "ŷ"}


def symbol(name: str) -> str:
    """A node's name as plain text (the page's LaTeX writes ŷ as \\hat{y})."""
    return SYMBOL_TEXT.get(name, name)


def positions(expression: Expression) -> dict[str, tuple[int, float]]:
    """Each node's (column, height): height 0 is the middle row, +1 a row above it."""
    depth: dict[str, int] = {}
    for node in expression.nodes:
        depth[node.name] = 1 + max((depth[i] for i in node.inputs), default=-1)
    columns: dict[int, list[str]] = {}
    for name, d in depth.items():
        columns.setdefault(d, []).append(name)
    return {
        name: (d, (len(names) - 1) / 2 - row)
        for d, names in columns.items()
        for row, name in enumerate(names)
    }


def graph_data(
    expression: Expression, evaluation: Evaluation, leaves: Mapping[str, float], *, backward: bool
) -> dict:
    """The view's data: nodes (title, value, gradient text or None, column, height), edges as index
    pairs (input -> node), the output's curve over X_RANGE, the point x0 with its tangent's slope."""
    at = positions(expression)
    index = {node.name: n for n, node in enumerate(expression.nodes)}
    output = symbol(expression.output.name)
    nodes = []
    for node in expression.nodes:
        name = symbol(node.name)
        column, height = at[node.name]
        nodes.append(
            {
                "title": f"{name} = {OP_TEXT[node.op]}" if node.op else f"{name} (input)",
                "value": f"value {number(evaluation.values[node.name])}",
                "grad": f"∂{output}/∂{name} = {number(evaluation.grads[node.name])}" if backward else None,
                "column": column,
                "height": height,
            }
        )
    xs = np.linspace(*X_RANGE, CURVE_POINTS)
    ys = output_curve(expression, leaves, xs)
    slope = evaluation.grads["x"]
    tangent = f"tangent, slope {number(slope)}"
    return {
        "nodes": nodes,
        "edges": [[index[source], index[node.name]] for node in expression.nodes for source in node.inputs],
        "curve": {"x": xs.round(4).tolist(), "y": [float(y) for y in ys]},
        "point": {"x": float(leaves["x"]), "y": evaluation.values[expression.output.name], "slope": slope},
        "labels": {"output": output, "tangent": tangent},
        "colours": {"value": VALUE_COLOUR, "gradient": GRADIENT_COLOUR},
    }
