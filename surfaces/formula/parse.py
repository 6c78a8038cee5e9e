"""The whitelist parser: a student's formula text becomes a checked `ast` tree, or a `ValueError`
whose message names the problem and its column.

The text is untrusted (it arrives in links and on the command line), so it is parsed with Python's
`ast` (mode "eval") and every node is checked against a whitelist; nothing is ever passed to eval, exec
or compile-to-code. The grammar:

- numbers (`2`, `0.5`, `2.5e-1`), the variables `x` and `y`, the constants `pi` and `e`;
- `+ - * /`, powers with `**` or `^` (`^` is rewritten to `**` before parsing, so it means power,
  never Python's xor), unary `-` and `+`, parentheses;
- one-argument functions: sin, cos, tan, exp, log (natural), sqrt, abs, tanh, sinh, cosh, arctan
  (alias atan); and min(a, b), max(a, b).

Anything else (other names, attributes, indexing, strings, comparisons, lambdas, ...) is rejected
with a message meant for the student: it names the problem and, where there is one, its column.
Rewriting `^` as `**` makes the parsed text longer than the typed one, so positions are mapped back
(`_Source`) and the column is the one the student sees.

The limits bound the work any text can cause, since every later step (the JAX function, the LaTeX)
walks the tree: at most MAX_LENGTH characters (checked first, so a huge input costs nothing),
MAX_NODES nodes and MAX_DEPTH levels of nesting. A chain a + b - c + ... is long, not deep: Python
hangs it on its left spine, which does not count as nesting, so a long flat sum stays allowed.
An exponent that is a constant must be at most MAX_EXPONENT in size. Its value is computed here in
floats by an evaluator of the same whitelist (math.pow raises OverflowError instead of building a
big integer), so `9**9**9` is refused at once instead of computing 9**387420489.

`FUNCTIONS` and `BINARY_FUNCTIONS` are the grammar's tables: one row per function with its LaTeX
command (for `latex.py`) and its float function (for constant exponents, here). Its meaning as a
JAX function, with its derivatives, is a row of `interpreter.py`'s table of operations; a name
missing there stops the import, so a function cannot be added to the grammar alone.
"""

from __future__ import annotations

import ast
import math
import warnings
from collections.abc import Callable

MAX_LENGTH = 200  # characters
MAX_NODES = 100  # numbers, names, operations and calls
MAX_DEPTH = 20  # nesting of operations
MAX_EXPONENT = 64  # largest |constant exponent|

# name -> (LaTeX command, float function for constant exponents)
FUNCTIONS: dict[str, tuple[str, Callable]] = {
    "sin": (r"\sin", math.sin),
    "cos": (r"\cos", math.cos),
    "tan": (r"\tan", math.tan),
    "exp": (r"\exp", math.exp),
    "log": (r"\log", math.log),
    "sqrt": (r"\sqrt", math.sqrt),
    "abs": ("abs", abs),
    "tanh": (r"\tanh", math.tanh),
    "sinh": (r"\sinh", math.sinh),
    "cosh": (r"\cosh", math.cosh),
    "arctan": (r"\arctan", math.atan),
    "atan": (r"\arctan", math.atan),
}
BINARY_FUNCTIONS: dict[str, tuple[str, Callable]] = {
    "min": (r"\min", min),
    "max": (r"\max", max),
}
CONSTANTS = {"pi": math.pi, "e": math.e}
VARIABLES = ("x", "y")
OPERATORS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}

_ALLOWED = (
    "use x, y, numbers, pi, e, + - * / ** (or ^) and the functions "
    + ", ".join(name for name in FUNCTIONS if name != "atan")
    + ", min, max"
)
AT = "{at}"  # stands for " at column N" in a message until the column is known
# What a student most likely meant, for constructs outside the grammar.
_NOT_ALLOWED = {
    ast.Subscript: f"indexing with [...]{AT} is not allowed",
    ast.Lambda: f"'lambda'{AT} is not allowed",
    ast.ListComp: f"a comprehension{AT} is not allowed",
    ast.SetComp: f"a comprehension{AT} is not allowed",
    ast.DictComp: f"a comprehension{AT} is not allowed",
    ast.GeneratorExp: f"a comprehension{AT} is not allowed",
    ast.List: f"a list{AT} is not allowed",
    ast.Tuple: f"a tuple (a, b){AT} is not allowed",
    ast.Set: f"a set{AT} is not allowed",
    ast.Dict: f"a dict{AT} is not allowed",
    ast.Compare: f"a comparison (<, >, ==, ...){AT} is not allowed",
    ast.BoolOp: f"'and' / 'or'{AT} is not allowed",
    ast.IfExp: f"'... if ... else ...'{AT} is not allowed",
    ast.NamedExpr: f"':='{AT} is not allowed",
    ast.JoinedStr: f"an f-string{AT} is not allowed",
    ast.Starred: f"'*' unpacking{AT} is not allowed",
}


class _Rejected(Exception):
    """A problem at a position of the text that was parsed (0-based), reported in the user's columns."""

    def __init__(self, message: str, offset: int | None = None):
        super().__init__(message)
        self.message, self.offset = message, offset


class _Source:
    """The user's text, the text handed to `ast` (`^` -> `**`) and the map between their columns."""

    def __init__(self, text: str):
        self.text = text
        self.parsed = text.replace("^", "**")
        # origin[i] = index in `text` of the character parsed[i] came from; one past the end at the end.
        self.origin = [i for i, c in enumerate(text) for _ in range(2 if c == "^" else 1)] + [len(text)]

    def column(self, offset: int) -> int:
        """The 1-based column in the user's text of 0-based position `offset` in the parsed text."""
        return self.origin[min(max(offset, 0), len(self.parsed))] + 1

    def snippet(self, start: int, end: int) -> str:
        """The user's text behind parsed[start:end]."""
        a = self.origin[min(max(start, 0), len(self.parsed))]
        b = self.origin[min(max(end, start + 1), len(self.parsed))]
        return self.text[a:b] if b > a else self.text[a : a + 1]


def checked_tree(text: str) -> ast.expr:
    """The validated expression tree of `text`, or a ValueError with the student's message."""
    if not isinstance(text, str):
        raise ValueError("the formula must be text, e.g. 'x**2 + y**2'")
    if len(text) > MAX_LENGTH:  # before anything else: a huge input costs nothing
        raise ValueError(f"the formula is too long ({len(text)} characters; at most {MAX_LENGTH})")
    for i, c in enumerate(text):
        if not " " <= c <= "~":
            hint = " (write pi for π)" if c == "π" else " (use plain ASCII characters)"
            raise ValueError(f"unexpected character {c!r} at column {i + 1}{hint}")
    if not text.strip():
        raise ValueError("the formula is empty: type an expression in x and y, e.g. x**2 + y**2")
    if "|" in text:
        raise ValueError(f"'|' at column {text.index('|') + 1} is not allowed: write abs(x) for |x|")
    source = _Source(text)
    body = source.parsed.lstrip()
    shift = len(source.parsed) - len(body)  # leading spaces, which eval-mode parsing refuses
    try:
        with warnings.catch_warnings():  # e.g. "invalid decimal literal" for 1if: the error says it all
            warnings.simplefilter("ignore", SyntaxWarning)
            tree = ast.parse(body, mode="eval").body
    except SyntaxError as error:
        raise ValueError(_syntax_message(source, error, shift)) from None
    except (ValueError, RecursionError, MemoryError):
        raise ValueError("the formula could not be read: check its brackets and operators") from None
    try:
        _check(tree, depth=1, count=[0])
    except _Rejected as problem:
        where = ""
        if problem.offset is not None:
            offset = problem.offset + shift
            while offset < len(source.parsed) - 1 and source.parsed[offset] in " ()":
                offset += 1  # an operator's position is given as the end of its left operand
            where = f" at column {source.column(offset)}"
        raise ValueError(problem.message.replace(AT, where)) from None
    return tree


def _syntax_message(source: _Source, error: SyntaxError, shift: int) -> str:
    end_of_text = len(source.parsed) - shift
    offset = (error.offset or 0) - 1  # 0-based in the parsed body; -1 when Python gives no position
    if error.lineno not in (None, 1) or offset < 0 or offset >= end_of_text:
        tail = source.text.rstrip()[-10:]
        return f"the formula ends too early: something is missing after '{tail}'"
    start = offset + shift
    end = (error.end_offset or 0) - 1 + shift
    end = end if error.end_lineno in (None, 1) and end > start else start + 1
    what = source.snippet(start, end)
    column = source.column(start)
    if "never closed" in (error.msg or ""):
        return f"'{what}' at column {column} is never closed: add a ')'"
    return f"unexpected '{what}' at column {column}"


def _check(node: ast.AST, depth: int, count: list[int]) -> None:
    """Walk the tree and raise _Rejected at the first node outside the grammar."""
    offset = getattr(node, "col_offset", None)
    count[0] += 1
    if count[0] > MAX_NODES:
        raise _Rejected(f"the formula is too long (more than {MAX_NODES} numbers, names and operations)")
    if depth > MAX_DEPTH:
        raise _Rejected(f"the formula is nested too deeply{AT} (more than {MAX_DEPTH} levels)", offset)
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, bool) or value is None or value is Ellipsis:
            raise _Rejected(f"'{value}'{AT} is not allowed: {_ALLOWED}", offset)
        if isinstance(value, complex):
            raise _Rejected(f"complex numbers (like 1j){AT} are not allowed", offset)
        if isinstance(value, str | bytes):
            raise _Rejected(f"text in quotes{AT} is not allowed: write the formula itself", offset)
        if not isinstance(value, int | float):
            raise _Rejected(f"'{value!r}'{AT} is not allowed: {_ALLOWED}", offset)
        if not math.isfinite(_to_float(value)):
            raise _Rejected(f"the number{AT} is too large (at most 1e308)", offset)
    elif isinstance(node, ast.Name):
        if node.id not in VARIABLES and node.id not in CONSTANTS:
            if node.id in FUNCTIONS or node.id in BINARY_FUNCTIONS:
                raise _Rejected(f"'{node.id}'{AT} is a function: call it, e.g. {node.id}(x)", offset)
            raise _Rejected(f"'{node.id}'{AT} is not allowed: {_ALLOWED}", offset)
    elif isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, ast.USub | ast.UAdd):
            symbol = "not" if isinstance(node.op, ast.Not) else "~"
            raise _Rejected(f"'{symbol}'{AT} is not allowed: {_ALLOWED}", offset)
        _check(node.operand, depth + 1, count)
    elif isinstance(node, ast.BinOp):
        if type(node.op) not in OPERATORS:
            symbol = {ast.Mod: "%", ast.FloorDiv: "//", ast.MatMult: "@", ast.LShift: "<<"}.get(
                type(node.op),
                {ast.RShift: ">>", ast.BitAnd: "&", ast.BitXor: "^", ast.BitOr: "|"}.get(type(node.op), "?"),
            )
            raise _Rejected(f"'{symbol}'{AT} is not allowed: {_ALLOWED}", node.left.end_col_offset)
        # A chain like a + b - c + ... is long, not deep: its left spine does not count as nesting.
        chained = isinstance(node.left, ast.BinOp) and _kind(node.left.op) == _kind(node.op)
        _check(node.left, depth if chained else depth + 1, count)
        _check(node.right, depth + 1, count)
        if isinstance(node.op, ast.Pow) and is_constant(node.right):
            constant_exponent(node.right)  # raises if too large
    elif isinstance(node, ast.Call):
        _check_call(node, depth, count)
    else:
        if isinstance(node, ast.Attribute):  # point at the dot
            offset = (node.end_col_offset or 0) - len(node.attr) - 1
            raise _Rejected(f"'.{node.attr}'{AT} is not allowed (no attribute access): {_ALLOWED}", offset)
        reason = _NOT_ALLOWED.get(type(node), f"'{type(node).__name__}'{AT} is not allowed")
        raise _Rejected(f"{reason}: {_ALLOWED}", offset)


def _kind(op: ast.operator) -> int:
    return 0 if isinstance(op, ast.Add | ast.Sub) else 1 if isinstance(op, ast.Mult | ast.Div) else 2


def _check_call(node: ast.Call, depth: int, count: list[int]) -> None:
    offset = node.col_offset
    if not isinstance(node.func, ast.Name):
        if isinstance(node.func, ast.Attribute):
            attribute = f"'.{node.func.attr}'{AT} is not allowed (no attribute access)"
            raise _Rejected(f"{attribute}: {_ALLOWED}", node.func.end_col_offset - len(node.func.attr) - 1)
        raise _Rejected(f"only named functions can be called{AT}: {_ALLOWED}", offset)
    name = node.func.id
    arity = 1 if name in FUNCTIONS else 2 if name in BINARY_FUNCTIONS else 0
    if not arity:
        raise _Rejected(f"'{name}'{AT} is not a known function: {_ALLOWED}", offset)
    example = f"{name}(x)" if arity == 1 else f"{name}(x, y)"
    if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
        raise _Rejected(f"{name}{AT} takes plain arguments, without names or '*': write {example}", offset)
    if len(node.args) != arity:
        wanted = "one argument" if arity == 1 else "two arguments"
        raise _Rejected(f"{name}{AT} takes exactly {wanted} (got {len(node.args)}): write {example}", offset)
    for arg in node.args:
        _check(arg, depth + 1, count)


def _to_float(value: int | float) -> float:
    try:
        return float(value)
    except OverflowError:
        return math.inf


def is_constant(node: ast.AST) -> bool:
    """Whether a validated subtree is free of x and y."""
    return not any(isinstance(n, ast.Name) and n.id in VARIABLES for n in ast.walk(node))


def _constant_value(node: ast.AST) -> float:
    """The float value of a validated, constant subtree; inf on overflow, nan where undefined.

    Only floats are ever computed (math.pow raises OverflowError instead of building a big number).
    """
    try:
        if isinstance(node, ast.Constant):
            return _to_float(node.value)
        if isinstance(node, ast.Name):
            return CONSTANTS[node.id]
        if isinstance(node, ast.UnaryOp):
            value = _constant_value(node.operand)
            return -value if isinstance(node.op, ast.USub) else value
        if isinstance(node, ast.BinOp):
            a, b = _constant_value(node.left), _constant_value(node.right)
            if isinstance(node.op, ast.Add):
                return a + b
            if isinstance(node.op, ast.Sub):
                return a - b
            if isinstance(node.op, ast.Mult):
                return a * b
            if isinstance(node.op, ast.Div):
                return a / b
            return math.pow(a, b)
        if isinstance(node, ast.Call):
            table = FUNCTIONS if node.func.id in FUNCTIONS else BINARY_FUNCTIONS
            return float(table[node.func.id][1](*(_constant_value(arg) for arg in node.args)))
    except OverflowError:
        return math.inf
    except (ValueError, ZeroDivisionError):
        return math.nan
    raise AssertionError(f"unvalidated node {type(node).__name__}")  # pragma: no cover


def constant_exponent(node: ast.AST) -> float:
    """The value of a constant exponent; _Rejected if it is not a number of size at most MAX_EXPONENT."""
    value = _constant_value(node)
    if math.isnan(value):
        raise _Rejected(f"the exponent{AT} is not a number (e.g. log of a negative number)", node.col_offset)
    if abs(value) > MAX_EXPONENT:
        shown = f"{value:.0f}" if abs(value) < 1e15 and value == int(value) else f"{value:.3g}"
        raise _Rejected(f"exponent {shown}{AT} is too large (at most {MAX_EXPONENT})", node.col_offset)
    return value


def normalize(text: str) -> str:
    """The canonical spelling of a valid formula: the text without spaces (it parses to the same tree).

    Raises ValueError, with the student's message, for an invalid formula.
    """
    tree = checked_tree(text)
    canonical = text.replace(" ", "")
    # Removing spaces cannot join two tokens of a valid formula (that would need two adjacent
    # names or numbers); check anyway, and keep the spaces if it ever did.
    if ast.dump(ast.parse(canonical.replace("^", "**"), mode="eval").body) != ast.dump(tree):
        return text.strip()  # pragma: no cover
    return canonical
