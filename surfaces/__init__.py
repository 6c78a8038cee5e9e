"""Loss-surface registry: `SURFACES` by name, `get_surface(name)`, and the `Surface` record.

Surfaces are evaluated in float64 (enabled here, before any array is made): in float32 the loss
of Beale or Rosenbrock floors near 1e-10, which hides the last stretch of convergence on a log plot.

Besides the built-in catalog, `from_formula(text, bounds)` makes a surface from a student's formula;
its name (`formula_name(text, bounds)`, starting with "f:") is understood by `get_surface` too.
"""

import jax

jax.config.update("jax_enable_x64", True)

from surfaces.catalog import SURFACES  # noqa: E402
from surfaces.formula import formula_name, from_formula, from_name, is_formula_name  # noqa: E402
from surfaces.surface import Bounds, Minimum, Point, Surface  # noqa: E402

__all__ = [
    "SURFACES",
    "Bounds",
    "Minimum",
    "Point",
    "Surface",
    "as_surface",
    "formula_name",
    "from_formula",
    "get_surface",
]


def get_surface(name: str) -> Surface:
    """The surface registered under `name`, or built from a formula name ("f:..."); a ValueError
    naming the valid ones (or, for a formula, what is wrong with it) otherwise."""
    if is_formula_name(name):
        return from_name(name)
    try:
        return SURFACES[name]
    except (KeyError, TypeError):
        valid = ", ".join(SURFACES)
        raise ValueError(f"unknown surface {name!r}; choose one of: {valid}") from None


def as_surface(surface: str | Surface) -> Surface:
    """A surface record as it is, or the one a name stands for: the public API takes either, and
    resolves a name once, at its edge; everything below it passes the record."""
    return surface if isinstance(surface, Surface) else get_surface(surface)
