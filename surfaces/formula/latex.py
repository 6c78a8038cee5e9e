r"""A checked formula tree as LaTeX, `f(x, y) = ...`, with the fewest parentheses that keep its meaning.

The lab shows the formula typeset next to the surface's title, for the student to check that it reads
as they meant: no more brackets than a textbook would write, and none fewer than the meaning needs.

Each piece carries its precedence, how tightly it binds: atom (number, name, call) > power > sign >
product > sum. A piece is bracketed only where it binds more loosely than its place demands: a base
that is not an atom, (x^{2})^{3}; a sum in a product, 0.1\,(x^{2} + y^{2}); a sum after a minus,
x - (y - 1) but x - y - 1; and a signed factor or term on the right, x\,(-y). A fraction needs no
brackets of its own but binds like a power, so it is bracketed only as a base, with \left( \right)
that grow to its height.

A product is written with a thin space, 2\,x, but with \cdot before a digit, so that x \cdot 2 \cdot 3
cannot read as x 23. A number is printed as Python spells it (repr) without a trailing .0, and one
with an exponent as a power of ten: 2.5e-7 is 2.5 \times 10^{-7}, 1e-7 is 10^{-7}.
"""

from __future__ import annotations

import ast

from surfaces.formula.parse import BINARY_FUNCTIONS, FUNCTIONS

_ATOM, _POW, _UNARY, _PRODUCT, _SUM = 5, 4, 3, 2, 1  # precedence: how tightly a piece binds


def to_latex(tree: ast.AST) -> str:
    """`f(x, y) = ...` for a validated tree, with the fewest parentheses that keep its meaning."""
    return "f(x, y) = " + _latex(tree)[0]


def _number(value: int | float) -> tuple[str, int]:
    if isinstance(value, int):
        return str(value), _ATOM
    text = repr(float(value))
    if text.endswith(".0"):
        text = text[:-2]
    if "e" not in text:
        return text, _ATOM
    mantissa, exponent = text.split("e")
    power = f"10^{{{int(exponent)}}}"
    return (power, _POW) if mantissa == "1" else (rf"{mantissa} \times {power}", _PRODUCT)


def _group(latex: str) -> str:
    return rf"\left({latex}\right)" if r"\frac" in latex else f"({latex})"


def _latex(node: ast.AST) -> tuple[str, int]:
    """(LaTeX, precedence) of a validated node."""
    if isinstance(node, ast.Constant):
        return _number(node.value)
    if isinstance(node, ast.Name):
        return (r"\pi" if node.id == "pi" else node.id), _ATOM
    if isinstance(node, ast.UnaryOp):
        operand, p = _latex(node.operand)
        sign = "-" if isinstance(node.op, ast.USub) else "+"
        return sign + (_group(operand) if p < _UNARY else operand), _UNARY
    if isinstance(node, ast.Call):
        name = node.func.id
        args = [_latex(arg)[0] for arg in node.args]
        if name == "sqrt":
            return rf"\sqrt{{{args[0]}}}", _ATOM
        if name == "abs":
            return (rf"\left|{args[0]}\right|" if r"\frac" in args[0] else f"|{args[0]}|"), _ATOM
        command = (FUNCTIONS.get(name) or BINARY_FUNCTIONS[name])[0]
        return command + _group(", ".join(args)), _ATOM
    assert isinstance(node, ast.BinOp)
    (left, lp), (right, rp) = _latex(node.left), _latex(node.right)
    right_is_signed = isinstance(node.right, ast.UnaryOp)
    if isinstance(node.op, ast.Div):
        return rf"\frac{{{left}}}{{{right}}}", _POW  # binds like a power: bracketed only as a base
    if isinstance(node.op, ast.Pow):
        base = _group(left) if lp <= _POW else left
        return f"{base}^{{{right}}}", _POW
    if isinstance(node.op, ast.Mult):
        left = _group(left) if lp < _PRODUCT else left
        right = _group(right) if rp < _PRODUCT or right_is_signed else right
        joiner = r" \cdot " if right[0].isdigit() else r"\,"
        return left + joiner + right, _PRODUCT
    sign = "+" if isinstance(node.op, ast.Add) else "-"
    needs_group = right_is_signed or (sign == "-" and rp <= _SUM)
    return f"{left} {sign} {_group(right) if needs_group else right}", _SUM
