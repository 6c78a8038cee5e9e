r"""A checked formula tree as data: a short list of instructions, each reading earlier results.

    >>> print(listing(to_program(checked_tree("x**2 + 3*y"))))
    r0 = x
    r1 = y
    r2 = r0 ** 2
    r3 = 3
    r4 = r3 * r1
    r5 = r2 + r4

Registers r0 and r1 hold the point's x and y; instruction k computes register r_(k+2) from an
operation, up to two earlier registers (`left`, `right`) and a constant. The tree is visited
children first (post-order), so every operand is ready when it is read, and register `result`
holds f(x, y). This is the computation graph of the formula written out in order, as in the
lecture's y = x**2 example.

Why data and not a Python function: one compiled program, `interpreter.evaluate`, runs every
formula. A function built per formula would be a new program for XLA to compile (about a second)
and to keep in memory for as long as the process lives; four arrays of CAPACITY numbers cost
nothing to make and are passed to the compiled interpreter as arguments.

The parser allows at most MAX_NODES nodes and every node becomes at most one instruction, so
CAPACITY = MAX_NODES instructions always suffice; the arrays are padded to that length, so every
program has one shape. A constant exponent is folded to its value, as the parser checked it: an
integer one becomes "pow_int" (exact repeated multiplication, also for a negative base), any other
one "pow_real". Every operation reads two operands; one that needs fewer ignores the rest.

The operations are listed once, in OPERATIONS; the functions come from the parser's tables, so a
function added to the grammar is added here too.
"""

from __future__ import annotations

import ast
from typing import NamedTuple

import numpy as np

from surfaces.formula.parse import (
    BINARY_FUNCTIONS,
    CONSTANTS,
    FUNCTIONS,
    MAX_NODES,
    constant_exponent,
    is_constant,
)

CAPACITY = MAX_NODES  # instructions of every program: one per node at most
INPUTS = ("x", "y")  # registers 0 and 1

# Every operation, in opcode order: how `listing` spells it ({a}, {b}: operand registers, {c}: the constant).
OPERATIONS: dict[str, str] = {
    "const": "{c}",
    "neg": "-{a}",
    "add": "{a} + {b}",
    "sub": "{a} - {b}",
    "mul": "{a} * {b}",
    "div": "{a} / {b}",
    "pow": "{a} ** {b}",
    "pow_int": "{a} ** {c}",
    "pow_real": "{a} ** {c}",
    **{name: f"{name}({{a}})" for name in FUNCTIONS},
    **{name: f"{name}({{a}}, {{b}})" for name in BINARY_FUNCTIONS},
}
OPCODE = {name: code for code, name in enumerate(OPERATIONS)}
# How many operands each operation reads (0, 1 or 2), as its spelling shows.
ARITY = [("{a}" in spelling) + ("{b}" in spelling) for spelling in OPERATIONS.values()]
_BINARY = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div", ast.Pow: "pow"}


class Program(NamedTuple):
    """A formula as instructions (arrays of CAPACITY; entries from `length` on are padding).
    Instruction k writes register k + len(INPUTS).

    A NamedTuple of arrays is a JAX pytree, so a program is passed to compiled code as it is.
    """

    opcode: np.ndarray  # (CAPACITY,) int32, an index into OPERATIONS
    left: np.ndarray  # (CAPACITY,) int32, the first operand's register
    right: np.ndarray  # (CAPACITY,) int32, the second operand's register
    constant: np.ndarray  # (CAPACITY,) float64: the value of "const", the exponent of "pow_int"/"pow_real"
    length: np.ndarray  # () int32: the number of instructions
    result: np.ndarray  # () int32: the register that holds f(x, y)


def to_program(tree: ast.expr) -> Program:
    """The instructions of a tree that `parse.checked_tree` accepted."""
    rows: list[tuple[int, int, int, float]] = []

    def emit(operation: str, left: int = 0, right: int = 0, constant: float = 0.0) -> int:
        rows.append((OPCODE[operation], left, right, constant))
        return len(rows) - 1 + len(INPUTS)

    def visit(node: ast.AST) -> int:
        if isinstance(node, ast.Constant):
            return emit("const", constant=float(node.value))
        if isinstance(node, ast.Name):
            return INPUTS.index(node.id) if node.id in INPUTS else emit("const", constant=CONSTANTS[node.id])
        if isinstance(node, ast.UnaryOp):
            operand = visit(node.operand)
            return emit("neg", operand) if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.BinOp):
            if isinstance(node.op, ast.Pow) and is_constant(node.right):
                power = constant_exponent(node.right)
                if power == 0:  # a ** 0 is 1 for every a, inf and nan included: no dependence on a
                    return emit("const", constant=1.0)
                return emit(
                    "pow_int" if power == int(power) else "pow_real", visit(node.left), constant=power
                )
            left = visit(node.left)
            return emit(_BINARY[type(node.op)], left, visit(node.right))
        if isinstance(node, ast.Call):
            operands = [visit(arg) for arg in node.args]
            return emit(node.func.id, *operands)
        raise AssertionError(f"unvalidated node {type(node).__name__}")  # pragma: no cover

    result = visit(tree)
    table = np.zeros(CAPACITY, dtype=[("opcode", "i4"), ("left", "i4"), ("right", "i4"), ("constant", "f8")])
    table[: len(rows)] = rows
    return Program(
        *(np.ascontiguousarray(table[field]) for field in ("opcode", "left", "right", "constant")),
        np.int32(len(rows)),
        np.int32(result),
    )


def listing(program: Program) -> str:
    """The instructions as lines `r_i = ...`, for reading a program (and for the tests)."""
    names = list(OPERATIONS)
    lines = [f"r{i} = {name}" for i, name in enumerate(INPUTS)]
    for i in range(int(program.length)):
        template = OPERATIONS[names[program.opcode[i]]]
        text = template.format(
            a=f"r{program.left[i]}", b=f"r{program.right[i]}", c=f"{program.constant[i]:g}"
        )
        lines.append(f"r{i + len(INPUTS)} = {text}")
    return "\n".join(lines)
