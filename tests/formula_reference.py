"""An independent reference for the formula interpreter: a checked tree turned into a plain JAX
function by composing closures, one per node, with JAX's own functions and JAX's own autodiff.

This is how formulas were evaluated before they became data (one compiled program per formula);
the tests hold the interpreter to it, and `bench.formula` measures it as the alternative.
"""

import ast

import jax.numpy as jnp

from surfaces.formula.parse import CONSTANTS, constant_exponent, is_constant

JAX_FUNCTIONS = {
    "sin": jnp.sin, "cos": jnp.cos, "tan": jnp.tan, "exp": jnp.exp, "log": jnp.log, "sqrt": jnp.sqrt,
    "abs": jnp.abs, "tanh": jnp.tanh, "sinh": jnp.sinh, "cosh": jnp.cosh, "arctan": jnp.arctan,
    "atan": jnp.arctan, "min": jnp.minimum, "max": jnp.maximum,
}  # fmt: skip
OPERATORS = {
    ast.Add: jnp.add,
    ast.Sub: jnp.subtract,
    ast.Mult: jnp.multiply,
    ast.Div: jnp.divide,
    ast.Pow: jnp.power,
}


def _compile(node):
    if isinstance(node, ast.Constant):
        return lambda x, y: float(node.value)
    if isinstance(node, ast.Name):
        if node.id in ("x", "y"):
            return (lambda x, y: x) if node.id == "x" else (lambda x, y: y)
        return lambda x, y: CONSTANTS[node.id]
    if isinstance(node, ast.UnaryOp):
        operand = _compile(node.operand)
        return (lambda x, y: -operand(x, y)) if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.BinOp):
        left = _compile(node.left)
        if isinstance(node.op, ast.Pow) and is_constant(node.right):
            power = constant_exponent(node.right)
            power = int(power) if power == int(power) else power  # an int: exact repeated products
            return lambda x, y: jnp.power(left(x, y), power)
        right, op = _compile(node.right), OPERATORS[type(node.op)]
        return lambda x, y: op(left(x, y), right(x, y))
    if isinstance(node, ast.Call):
        f, args = JAX_FUNCTIONS[node.func.id], [_compile(arg) for arg in node.args]
        return lambda x, y: f(*(a(x, y) for a in args))
    raise AssertionError(type(node).__name__)


def reference_function(tree):
    """f(points (..., 2)) -> values (...), the tree as composed JAX functions."""
    body = _compile(tree)

    def fn(points):
        points = jnp.asarray(points)
        x, y = points[..., 0], points[..., 1]
        return jnp.broadcast_to(jnp.asarray(body(x, y), dtype=x.dtype), x.shape)

    return fn
