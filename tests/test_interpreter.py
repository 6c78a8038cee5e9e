"""The formula as data: its program, the one compiled interpreter, and what sharing it buys.

The interpreter is held to independent references: the built-in surfaces' own JAX functions (each
written as text) and, for random formulas of the whole grammar, the same tree composed as plain
JAX functions (`tests.formula_reference`), with JAX's autodiff for the derivatives.
"""

import dataclasses
import gc

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import optviz
from optviz.lab import analysis
from optviz.lab.config import RaceConfig
from optviz.lab.race import race, surface_grid
from surfaces import SURFACES, from_formula
from surfaces.formula import CACHED_SURFACES, _build
from surfaces.formula.interpreter import _OPERATION, evaluate
from surfaces.formula.parse import BINARY_FUNCTIONS, FUNCTIONS, checked_tree
from surfaces.formula.program import CAPACITY, OPERATIONS, listing, to_program
from tests.formula_reference import JAX_FUNCTIONS, reference_function

# Every built-in surface, typed as a student would.
AS_TEXT = {
    "rosenbrock": "(1 - x)**2 + 100*(y - x**2)**2",
    "saddle": "x^2 - y^2",
    "beale": "(1.5 - x + x*y)**2 + (2.25 - x + x*y**2)**2 + (2.625 - x + x*y**3)**2",
    "himmelblau": "(x**2 + y - 11)**2 + (x + y**2 - 7)**2",
    "quadratic": "0.5*(x**2 + 20*y**2)",
    "rastrigin": "20 + x**2 - 10*cos(2*pi*x) + y**2 - 10*cos(2*pi*y)",
    "ackley": "-20*exp(-0.2*sqrt(0.5*(x**2 + y**2))) - exp(0.5*(cos(2*pi*x) + cos(2*pi*y))) + e + 20",
    "six_hump_camel": "(4 - 2.1*x**2 + x**4/3)*x**2 + x*y + (-4 + 4*y**2)*y**2",
    "monkey_saddle": "x**3 - 3*x*y**2",
    "goldstein_price": "(1+(x+y+1)**2*(19-14*x+3*x**2-14*y+6*x*y+3*y**2))"
    "*(30+(2*x-3*y)**2*(18-32*x+12*x**2+48*y-36*x*y+27*y**2))",
    "booth": "(x + 2*y - 7)**2 + (2*x + y - 5)**2",
    "styblinski_tang": "0.5*(x**4 - 16*x**2 + 5*x + y**4 - 16*y**2 + 5*y)",
}


def test_every_built_in_surface_has_its_text():
    assert set(AS_TEXT) == set(SURFACES)


def _derivatives(fn, points):
    """f, grad f and the Hessian at each point (N, 2), by JAX's autodiff of fn."""
    points = jnp.asarray(points)
    return (
        np.asarray(jax.vmap(fn)(points)),
        np.asarray(jax.vmap(jax.grad(fn))(points)),
        np.asarray(jax.vmap(jax.hessian(fn))(points)),
    )


def _assert_close(mine, theirs, rtol):
    """Values and gradients equal within rtol (relative to the larger magnitude at each point) where
    finite, and finite at the same places; Hessians equal where both are finite and JAX's is
    symmetric. (Where a second derivative is not continuous, as for y**x at y = 0, JAX's mixed
    partials depend on the order it takes them in, and forward and reverse mode reach inf or nan in
    different entries: no answer is the right one there.)"""
    for kind, a, b in zip(("value", "gradient", "Hessian"), mine, theirs, strict=True):
        if kind == "Hessian":
            with np.errstate(invalid="ignore"):  # inf - inf where JAX's is infinite: not symmetric
                symmetric = np.abs(b - np.swapaxes(b, -1, -2)) <= rtol * np.maximum(np.abs(b), 1.0)
            finite = np.isfinite(a) & np.isfinite(b) & symmetric.all(axis=(-1, -2), keepdims=True)
        else:
            np.testing.assert_array_equal(np.isfinite(a), np.isfinite(b), err_msg=kind)
            finite = np.isfinite(b)
        error = np.abs(np.where(finite, a, 0.0) - np.where(finite, b, 0.0))
        assert np.all(error <= rtol * np.maximum(np.abs(np.where(finite, b, 0.0)), 1.0)), (kind, error.max())


@pytest.mark.parametrize("name", list(AS_TEXT))
def test_a_built_in_surface_typed_as_text_has_its_values_and_derivatives(name):
    builtin = SURFACES[name]
    typed = from_formula(AS_TEXT[name], builtin.bounds)
    (x0, x1), (y0, y1) = builtin.bounds
    points = np.random.default_rng(7).uniform((x0, y0), (x1, y1), size=(50, 2))
    points = np.concatenate([points, list(builtin.starts.values())])
    _assert_close(_derivatives(typed.fn, points), _derivatives(builtin.fn, points), rtol=1e-9)
    grid = np.stack(np.meshgrid(np.linspace(x0, x1, 41), np.linspace(y0, y1, 31)), axis=-1)
    np.testing.assert_allclose(typed.fn(grid), builtin.fn(jnp.asarray(grid)), rtol=1e-12, atol=1e-12)


def _largest_distance(runs, others):
    return {name: float(np.max(np.abs(runs[name].xy - others[name].xy))) for name in runs}


@pytest.mark.parametrize("name", list(AS_TEXT))
def test_a_built_in_surface_typed_as_text_races_like_the_built_in(name):
    """Every optimizer's path on the typed surface is the built-in's to 1e-5 (Rosenbrock's too),
    except where the built-in's own path is set by rounding: where it moves by more than 1e-6 when
    its gradient changes by 1e-13 (a tilt of the surface), a run is chaotic (RMSProp oscillating in
    Rosenbrock's valley, Adadelta's first steps), and the typed one must stay within 10 times
    the distance the tilt made."""
    builtin = SURFACES[name]
    typed = from_formula(AS_TEXT[name], builtin.bounds)
    tilted = dataclasses.replace(builtin, fn=lambda p: builtin.fn(p) + 1e-13 * (p[..., 0] + p[..., 1]))
    names = list(optviz.OPTIMIZERS)
    settings = {n: optviz.resolve_hyperparams(builtin, n) for n in names}  # the built-in's tuned ones
    theirs = optviz.compare(builtin, names, builtin.default_start, 300, hyperparams=settings)
    mine = _largest_distance(
        optviz.compare(typed, names, builtin.default_start, 300, hyperparams=settings), theirs
    )
    tilt = _largest_distance(
        optviz.compare(tilted, names, builtin.default_start, 300, hyperparams=settings), theirs
    )
    for n in names:
        tolerance = 1e-5 if tilt[n] <= 1e-6 else 10 * tilt[n]
        assert mine[n] <= tolerance, (n, mine[n], tilt[n])
    if name == "rosenbrock":
        assert sum(tilt[n] <= 1e-6 for n in names) >= 7  # only RMSProp and Adadelta are chaotic there


# Each operation as the JAX function of its operands that its row of the table differentiates.
AS_JAX = {
    "neg": lambda a, b, c: -a,
    "add": lambda a, b, c: a + b,
    "sub": lambda a, b, c: a - b,
    "mul": lambda a, b, c: a * b,
    "div": lambda a, b, c: a / b,
    "pow": lambda a, b, c: jnp.power(a, b),
    "pow_int": lambda a, b, c: jnp.power(a, int(c)),
    "pow_real": lambda a, b, c: jnp.power(a, float(c)),
    "min": lambda a, b, c: jnp.minimum(a, b),
    "max": lambda a, b, c: jnp.maximum(a, b),
}
for _name in FUNCTIONS:
    AS_JAX[_name] = lambda a, b, c, f=JAX_FUNCTIONS[_name]: f(a)


@pytest.mark.parametrize("name", [name for name in OPERATIONS if name != "const"])
def test_each_row_of_the_table_of_derivatives_is_jax_s(name):
    """Each partial derivative alone, as JAX's reverse mode takes it (jacfwd of both operands at once
    would mix an infinite slope in one with a zero tangent in the other: inf * 0)."""
    constants = {"pow_int": (-3.0, 0.0, 1.0, 2.0, 5.0), "pow_real": (0.5, -1.5, 2.5)}.get(name, (0.0,))
    operands = [-2.0, -0.5, 0.0, 0.3, 1.0, 2.0]
    for c in constants:
        for a in map(jnp.float64, operands):
            for b in map(jnp.float64, operands):
                u, (u_a, u_b), (u_aa, u_ab, u_bb) = _OPERATION[name](
                    jnp.float64(a), jnp.float64(b), jnp.float64(c)
                )

                def f(a, b, c=c):
                    return AS_JAX[name](a, b, c)

                def d(i, g=f):
                    return jax.grad(g, argnums=i)

                mine = [u, u_a, u_b, u_aa, u_ab, u_bb]
                theirs = [
                    f(a, b),
                    d(0)(a, b),
                    d(1)(a, b),
                    d(0, d(0))(a, b),
                    d(1, d(0))(a, b),
                    d(1, d(1))(a, b),
                ]
                for label, m, t in zip(
                    ("u", "u_a", "u_b", "u_aa", "u_ab", "u_bb"), mine, theirs, strict=True
                ):
                    np.testing.assert_allclose(
                        float(m), float(t), rtol=1e-12, err_msg=f"{name} {label} at {float(a), float(b), c}"
                    )


# --- random formulas of the whole grammar ----------------------------------------------------------

NUMBERS = st.sampled_from(["0", "1", "2", "3", "0.5", "1.5", "2.5e-1", "pi", "e", "10"])
LEAVES = st.one_of(st.sampled_from(["x", "y"]), NUMBERS)


def _grow(children):
    return st.one_of(
        st.tuples(children, st.sampled_from("+-*/"), children).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        children.map(lambda a: f"(-{a})"),
        st.tuples(
            children, st.sampled_from(["2", "3", "-1", "-2", "0", "1", "5", "0.5", "1.5", "(1/3)"])
        ).map(lambda t: f"({t[0]})**{t[1]}"),
        st.tuples(children, children).map(lambda t: f"({t[0]})**({t[1]})"),
        st.tuples(st.sampled_from(sorted(FUNCTIONS)), children).map(lambda t: f"{t[0]}({t[1]})"),
        st.tuples(st.sampled_from(sorted(BINARY_FUNCTIONS)), children, children).map(
            lambda t: f"{t[0]}({t[1]}, {t[2]})"
        ),
    )


FORMULAS = st.recursive(LEAVES, _grow, max_leaves=10)
RANDOM_POINTS = np.concatenate(
    [np.random.default_rng(3).uniform(-2.5, 2.5, size=(12, 2)), [(0.0, 0.0), (1.0, 0.0), (0.0, -1.0)]]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(FORMULAS)
@example("(-(x)**((x)**(0)))")  # the exponent x**0 is the constant 1: no slope through log(x) at x < 0
@example("max(x, log(x))")  # max with nan: no slope to either side
@example("(-(x)**-1)")  # d/dy of 1/x at x = 0 is 0, not inf * 0
def test_random_formulas_evaluate_and_differentiate_like_composed_jax_functions(text):
    try:
        tree = checked_tree(text)
    except ValueError:
        return  # e.g. nested too deeply, or an exponent out of range: the parser's business
    program = to_program(tree)
    mine = _derivatives(lambda p: evaluate(program, p), RANDOM_POINTS)
    theirs = _derivatives(reference_function(tree), RANDOM_POINTS)
    _assert_close(mine, theirs, rtol=1e-5)


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
def test_the_interpreter_computes_in_the_points_precision(dtype):
    program = to_program(checked_tree("sin(x)*cos(y) + 0.1*(x**2 + y**2)"))
    points = jnp.asarray(RANDOM_POINTS, dtype=dtype)
    values = evaluate(program, points)
    assert values.dtype == dtype
    expected = reference_function(checked_tree("sin(x)*cos(y) + 0.1*(x**2 + y**2)"))(points)
    np.testing.assert_allclose(values, expected, rtol=1e-5 if dtype == jnp.float32 else 1e-12)


def test_integer_powers_are_exact_products_also_for_a_negative_base():
    program = to_program(checked_tree("x**3 + y**(-2) + x**64"))
    x, y = -1.1, -0.7
    x64 = x
    for _ in range(6):
        x64 = x64 * x64
    assert float(evaluate(program, jnp.array([x, y]))) == (x * x * x) + 1 / (y * y) + x64


# --- the program ----------------------------------------------------------------------------------


def test_a_program_lists_the_computation_graph_in_order():
    assert listing(to_program(checked_tree("sin(x)*y + 2^x"))).splitlines() == [
        "r0 = x",
        "r1 = y",
        "r2 = sin(r0)",
        "r3 = r2 * r1",
        "r4 = 2",
        "r5 = r4 ** r0",
        "r6 = r3 + r5",
    ]


def test_the_largest_formula_the_parser_allows_fits_the_program():
    text = "+".join(["x"] * 50)  # 99 nodes
    program = to_program(checked_tree(text))
    assert int(program.length) <= CAPACITY
    assert float(evaluate(program, jnp.array([2.0, 0.0]))) == 100.0


# --- one compiled program for every formula, and bounded memory -------------------------------------


def _distinct_formulas(count, start=0):
    return [
        f"sin({k + 1}*x/7)*cos(y) + 0.1*(x^2 + y^2) + {k % 5}*x*y/10" for k in range(start, start + count)
    ]


def _use(surface):
    """What the lab does with a formula: its grid, its race of every optimizer, the lr sweep, the
    Hessian along the race."""
    surface_grid(surface)
    trajectories = race(RaceConfig.create(surface, list(optviz.OPTIMIZERS), surface.default_start, 200))
    analysis.lr_sweep(
        surface, ["gd", "adam"], surface.default_start, 100, lrs=analysis.log_spaced(1e-3, 1, 8)
    )
    analysis.hessian_eigenvalues(surface, trajectories["gd"].xy)


def test_a_new_formula_compiles_nothing():
    _use(from_formula(_distinct_formulas(1, start=1000)[0]))  # compiles the shared programs once
    compiled = []
    listener = lambda event, seconds, **kwargs: compiled.append(event) if "backend_compile" in event else None  # noqa: E731
    jax.monitoring.register_event_duration_secs_listener(listener)
    try:
        for text in _distinct_formulas(10, start=2000):
            _use(from_formula(text))
    finally:
        jax.monitoring.unregister_event_duration_listener(listener)
    assert compiled == []


def _resident_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096 / 1e6


def test_memory_stays_flat_over_hundreds_of_formulas():
    texts = _distinct_formulas(300, start=5000)
    for text in texts[:5]:
        _use(from_formula(text))
    gc.collect()
    before = _resident_mb()
    for text in texts[5:]:
        surface = from_formula(text)
        surface_grid(surface)
        race(RaceConfig.create(surface, list(optviz.OPTIMIZERS), surface.default_start, 200))
    gc.collect()
    assert _resident_mb() - before <= 30


def test_the_surface_cache_holds_at_most_its_stated_size():
    for text in _distinct_formulas(CACHED_SURFACES + 10, start=9000):
        from_formula(text)
    info = _build.cache_info()
    assert info.maxsize == CACHED_SURFACES and info.currsize <= CACHED_SURFACES
