"""A checked formula tree as a JAX function of points, f(points) -> values.

Each node of the tree becomes a closure over a jnp operation, so f(x, y) is the composition the
tree spells out, and JAX traces it like a hand-written function: `jax.grad`, `jax.hessian`, `jit`
and `vmap` work on it unchanged. A constant exponent is folded to its value: an integer one is
passed to jnp.power as an int, which JAX computes by repeated multiplication (exact, also for a
negative base), any other one as a float.

`surface_function` takes points with (x, y) on the last axis, like every `Surface.fn`, so one
function evaluates a grid (..., 2) and a single point (2,), and it broadcasts its value to one per
point: a formula in x alone, or with constant terms, still fills the grid.

Why a module of its own: `parse.py` is the boundary for untrusted text and is read on its own,
where the only arithmetic is the float value of constant exponents; this module only ever sees
trees that the parser accepted, and gives them their meaning.
"""

from __future__ import annotations

import ast
from collections.abc import Callable

import jax
import jax.numpy as jnp

from surfaces.formula.parse import BINARY_FUNCTIONS, CONSTANTS, FUNCTIONS, constant_exponent, is_constant


def _compile(node: ast.AST) -> Callable:
    """A function (x, y) -> value built from closures over jnp operations, one per node."""
    if isinstance(node, ast.Constant):
        value = float(node.value)
        return lambda x, y: value
    if isinstance(node, ast.Name):
        if node.id == "x":
            return lambda x, y: x
        if node.id == "y":
            return lambda x, y: y
        value = CONSTANTS[node.id]
        return lambda x, y: value
    if isinstance(node, ast.UnaryOp):
        operand = _compile(node.operand)
        if isinstance(node.op, ast.USub):
            return lambda x, y: -operand(x, y)
        return operand
    if isinstance(node, ast.BinOp):
        left = _compile(node.left)
        if isinstance(node.op, ast.Pow) and is_constant(node.right):
            power = constant_exponent(node.right)
            if power == int(power):  # an integer power is exact, also for a negative base
                n = int(power)
                return lambda x, y: jnp.power(left(x, y), n)
            return lambda x, y: jnp.power(left(x, y), power)
        right = _compile(node.right)
        op = {
            ast.Add: jnp.add,
            ast.Sub: jnp.subtract,
            ast.Mult: jnp.multiply,
            ast.Div: jnp.divide,
            ast.Pow: jnp.power,
        }[type(node.op)]
        return lambda x, y: op(left(x, y), right(x, y))
    if isinstance(node, ast.Call):
        name = node.func.id
        args = [_compile(arg) for arg in node.args]
        if name in FUNCTIONS:
            f, (a,) = FUNCTIONS[name][0], args
            return lambda x, y: f(a(x, y))
        g, (a, b) = BINARY_FUNCTIONS[name][0], args
        return lambda x, y: g(a(x, y), b(x, y))
    raise AssertionError(f"unvalidated node {type(node).__name__}")  # pragma: no cover


def surface_function(tree: ast.AST) -> Callable[[jax.Array], jax.Array]:
    body = _compile(tree)

    def fn(points):
        points = jnp.asarray(points)
        x, y = points[..., 0], points[..., 1]
        # A formula in x alone still returns one value per point.
        return jnp.broadcast_to(jnp.asarray(body(x, y), dtype=x.dtype), x.shape)

    return fn
