r"""One compiled JAX function that evaluates every formula: `evaluate(program, points)`.

The program (`program.Program`) is an argument, not part of the code, so XLA compiles the
interpreter once per shape of `points`, and a new formula is a new argument: no compile, and no
compiled code kept per formula. Compiled code that takes a surface (the engine, the landmarks
search, the analysis) is keyed by `Surface.split()`'s family, which for every formula is this one
function.

Running a program. At a point (x, y), registers r0 = x and r1 = y, and instruction k sets
r_(k+2) = op_k(r_left, r_right, constant_k), in order, looping over the program's real length
(`lax.fori_loop` with a bound that is an argument, so a formula of n instructions costs n small
steps); `lax.switch` picks each instruction's operation.

Derivatives, by the chain rule carried forward. JAX's reverse mode cannot go through a loop whose
trip count is only known at run time, and pushing JAX's forward mode twice through the loop (for a
Hessian) makes a program that takes seconds to compile. So each register carries its value v, its
gradient g = dv/d(x, y) and, where asked, its Hessian H, and each instruction u = op(a, b) updates
them by the chain rule (second-order forward mode):

    g_u = u_a g_a + u_b g_b
    H_u = u_aa g_a g_a^T + u_ab (g_a g_b^T + g_b g_a^T) + u_bb g_b g_b^T + u_a H_a + u_b H_b

with each term added only for the inputs (x, y) its operand depends on, as reverse mode does: a
register also carries which inputs it depends on, so d/dy of 1/x at x = 0 is 0, as JAX's reverse
mode says, and not inf * 0 = nan.

The local derivatives u_a, u_b, u_aa, u_ab, u_bb of each operation come from a table of calculus,
`_OPERATION` (sin' = cos, sin'' = -sin, ...). Where a derivative is a convention, the table follows
JAX's rules, so a formula is differentiated as the same hand-written JAX function would be: |a| has
slope 1 at 0, min and max split a tie, 0 ** b has slope 0 in b, a ** 0 has slope 0. The tests hold
every row to JAX's autodiff. (Taking the rows from JAX's `jacfwd` of each operation instead gives the
same numbers, but traces 24 operations twice into every program that holds the interpreter.)

`evaluate` plugs into JAX's autodiff with `jax.custom_jvp`: the derivative of the value is g . t and
the derivative of (value, gradient) is (g . t, H t), each linear in the tangent t, which JAX
transposes for reverse mode. So `jax.grad`, `jax.value_and_grad` and `jax.hessian` work on a formula
as on any JAX function, and a gradient costs one pass of the loop, a Hessian one more.

Integer powers by a constant ("pow_int", |n| <= MAX_EXPONENT = 64 < 2**7) are computed by square
and multiply over the 7 bits of |n|, the way `lax.integer_pow` does for a fixed n: exact products,
also for a negative base, and 1 / a**|n| for n < 0.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from surfaces.formula.parse import MAX_EXPONENT
from surfaces.formula.program import ARITY, CAPACITY, INPUTS, OPERATIONS, Program

EXPONENT_BITS = MAX_EXPONENT.bit_length()  # 7: square and multiply covers |n| <= 127


def _integer_power(a, n):
    """a ** n for an integer-valued n with |n| < 2**EXPONENT_BITS, by square and multiply."""
    k = jnp.abs(n).astype(jnp.int32)
    result, base = jnp.ones_like(a), a
    for bit in range(EXPONENT_BITS):
        result = jnp.where((k >> bit) & 1, result * base, result)
        base = base * base
    return jnp.where(n < 0, 1 / result, result)


def _unary(f, df, d2f):
    """An operation of one operand from f, f' and f'' (each a function of a)."""
    return lambda a, b, c: (f(a), (df(a), 0.0), (d2f(a), 0.0, 0.0))


def _power(a, p, power):
    """a ** p by `power` (a function (a, p) -> a ** p) with its derivatives in a for a constant p.
    As in JAX's integer powers, the derivative of a ** 0 is 0 (not 0 * a ** -1, nan at a = 0), and
    so is the second derivative of a ** 1."""
    first = jnp.where(p == 0, 0.0, p * power(a, p - 1))
    second = jnp.where((p == 0) | (p == 1), 0.0, p * (p - 1) * power(a, p - 2))
    return power(a, p), (first, 0.0), (second, 0.0, 0.0)


def _general_power(a, b):
    """a ** b with its derivatives in a and b; as in JAX, u_b = log(a) a**b reads log(a) as 0 at
    a = 0 (so 0 ** b has slope 0 in b)."""
    u = jnp.power(a, b)
    log_a = jnp.log(jnp.where(a == 0, 1.0, a))
    u_ab = jnp.power(a, b - 1) + b * log_a * jnp.power(a, b - 1)  # d/db of u_a, term by term as JAX
    return (
        u,
        (b * jnp.power(a, b - 1), log_a * u),
        (b * (b - 1) * jnp.power(a, b - 2), u_ab, log_a * log_a * u),
    )


def _extreme(extreme):
    """min or max (`extreme`): the derivative goes to the operand equal to the result, half to each
    on a tie, none where the result is nan (JAX's rule)."""

    def operation(a, b, c):
        u = extreme(a, b)
        is_a, is_b = (a == u).astype(u.dtype), (b == u).astype(u.dtype)
        return u, (is_a / (1 + is_b), is_b / (1 + is_a)), (0.0, 0.0, 0.0)

    return operation


# Every operation as (a, b, c) -> (u, (u_a, u_b), (u_aa, u_ab, u_bb)): its value at the operands a, b
# and its constant c, and its first and second derivatives in the operands: a table of calculus.
_OPERATION = {
    "const": lambda a, b, c: (c, (0.0, 0.0), (0.0, 0.0, 0.0)),
    "neg": lambda a, b, c: (-a, (-1.0, 0.0), (0.0, 0.0, 0.0)),
    "add": lambda a, b, c: (a + b, (1.0, 1.0), (0.0, 0.0, 0.0)),
    "sub": lambda a, b, c: (a - b, (1.0, -1.0), (0.0, 0.0, 0.0)),
    "mul": lambda a, b, c: (a * b, (b, a), (0.0, 1.0, 0.0)),
    "div": lambda a, b, c: (a / b, (1 / b, -a / (b * b)), (0.0, -1 / (b * b), 2 * a / (b * b * b))),
    "pow": lambda a, b, c: _general_power(a, b),
    "pow_int": lambda a, b, c: _power(a, c, _integer_power),
    "pow_real": lambda a, b, c: _power(a, c, jnp.power),
    "sin": _unary(jnp.sin, jnp.cos, lambda a: -jnp.sin(a)),
    "cos": _unary(jnp.cos, lambda a: -jnp.sin(a), lambda a: -jnp.cos(a)),
    "tan": _unary(jnp.tan, lambda a: 1 + jnp.tan(a) ** 2, lambda a: 2 * jnp.tan(a) * (1 + jnp.tan(a) ** 2)),
    "exp": _unary(jnp.exp, jnp.exp, jnp.exp),
    "log": _unary(jnp.log, lambda a: 1 / a, lambda a: -1 / (a * a)),
    "sqrt": _unary(jnp.sqrt, lambda a: 0.5 / jnp.sqrt(a), lambda a: -0.25 / (a * jnp.sqrt(a))),
    "abs": _unary(jnp.abs, lambda a: jnp.where(a >= 0, 1.0, -1.0), jnp.zeros_like),  # slope 1 at 0, as in JAX
    "tanh": _unary(
        jnp.tanh, lambda a: 1 - jnp.tanh(a) ** 2, lambda a: -2 * jnp.tanh(a) * (1 - jnp.tanh(a) ** 2)
    ),
    "sinh": _unary(jnp.sinh, jnp.cosh, jnp.sinh),
    "cosh": _unary(jnp.cosh, jnp.sinh, jnp.cosh),
    "arctan": _unary(jnp.arctan, lambda a: 1 / (1 + a * a), lambda a: -2 * a / (1 + a * a) ** 2),
    "min": _extreme(jnp.minimum),
    "max": _extreme(jnp.maximum),
}
_OPERATION["atan"] = _OPERATION["arctan"]


def _local(operation):
    """The switch branch for one operation: its value and derivatives as arrays (u, (2,), (2, 2))."""

    def branch(a, b, c):
        u, (u_a, u_b), (u_aa, u_ab, u_bb) = operation(a, b, c)
        like = jnp.zeros_like(a)
        first = jnp.stack([u_a + like, u_b + like])
        second = jnp.stack([jnp.stack([u_aa + like, u_ab + like]), jnp.stack([u_ab + like, u_bb + like])])
        return u + like, first, second

    return branch


_BRANCHES = [_local(_OPERATION[name]) for name in OPERATIONS]


_READS = np.array([[arity >= 1, arity >= 2] for arity in ARITY])  # (operations, 2): reads a, reads b


def _run(program: Program, point: jax.Array, order: int):
    """f at one point (2,) with its gradient (order >= 1) and Hessian (order 2): (v, g (2,), H (2, 2))."""
    n = CAPACITY + len(INPUTS)
    dtype = point.dtype
    values = jnp.zeros(n, dtype).at[:2].set(point)
    depends = jnp.zeros((n, 2), bool).at[:2].set(jnp.eye(2, dtype=bool))
    grads = jnp.zeros((n, 2), dtype).at[:2].set(jnp.eye(2, dtype=dtype))
    hessians = jnp.zeros((n, 2, 2), dtype)
    reads = jnp.asarray(_READS)

    def step(k, registers):
        values, depends, grads, hessians = registers
        a, b, op = program.left[k], program.right[k], program.opcode[k]
        c = program.constant[k].astype(dtype)
        u, d, dd = lax.switch(op, _BRANCHES, values[a], values[b], c)
        out = k + len(INPUTS)
        values = values.at[out].set(u)
        # Which of x, y each operand depends on: a term of the chain rule is added only along a
        # dependence, as reverse mode would, so that an infinite local derivative times a slope
        # that is 0 because there is no dependence (d/dy of 1/x at x = 0) gives 0, not nan.
        on_a, on_b = depends[a] & reads[op, 0], depends[b] & reads[op, 1]
        depends = depends.at[out].set(on_a | on_b)
        if order >= 1:
            ga, gb = grads[a], grads[b]
            grads = grads.at[out].set(jnp.where(on_a, d[0] * ga, 0.0) + jnp.where(on_b, d[1] * gb, 0.0))
        if order >= 2:
            aa, bb, ab = jnp.outer(on_a, on_a), jnp.outer(on_b, on_b), jnp.outer(on_a, on_b)
            hessian = (
                jnp.where(aa, dd[0, 0] * jnp.outer(ga, ga) + d[0] * hessians[a], 0.0)
                + jnp.where(bb, dd[1, 1] * jnp.outer(gb, gb) + d[1] * hessians[b], 0.0)
                + jnp.where(ab, dd[0, 1] * jnp.outer(ga, gb), 0.0)
                + jnp.where(ab.T, dd[0, 1] * jnp.outer(gb, ga), 0.0)
            )
            hessians = hessians.at[out].set(hessian)
        return values, depends, grads, hessians

    registers = lax.fori_loop(0, program.length, step, (values, depends, grads, hessians))
    values, _, grads, hessians = registers
    r = program.result
    return values[r], grads[r], hessians[r]


@jax.custom_jvp
def _value(program: Program, point: jax.Array) -> jax.Array:
    return _run(program, point, 0)[0]


@_value.defjvp
def _value_jvp(primals, tangents):
    program, point = primals  # the program's "tangent" (integers and constants) is not used
    value, gradient = _value_and_gradient(program, point)
    return value, gradient @ tangents[1]


@jax.custom_jvp
def _value_and_gradient(program: Program, point: jax.Array):
    return _run(program, point, 1)[:2]


@_value_and_gradient.defjvp
def _value_and_gradient_jvp(primals, tangents):
    program, point = primals
    value, gradient, hessian = _run(program, point, 2)
    return (value, gradient), (gradient @ tangents[1], hessian @ tangents[1])


@jax.jit
def evaluate(program: Program, points: jax.Array) -> jax.Array:
    """f at points (..., 2), with (x, y) on the last axis like every `Surface.fn`: shape (...)."""
    points = jnp.asarray(points)
    if not jnp.issubdtype(points.dtype, jnp.floating):
        points = points.astype(float)
    flat = points.reshape(-1, 2)
    return jax.vmap(_value, in_axes=(None, 0))(program, flat).reshape(points.shape[:-1])
