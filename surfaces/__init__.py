"""Loss-surface registry: `SURFACES` by name, `get_surface(name)`, and the `Surface` record.

Surfaces are evaluated in float64 (enabled here, before any array is made): in float32 the loss
of Beale or Rosenbrock floors near 1e-10, which hides the last stretch of convergence on a log plot.
"""

import jax

jax.config.update("jax_enable_x64", True)

from surfaces.catalog import SURFACES  # noqa: E402
from surfaces.surface import Bounds, Minimum, Point, Surface  # noqa: E402

__all__ = ["SURFACES", "Bounds", "Minimum", "Point", "Surface", "get_surface"]


def get_surface(name: str) -> Surface:
    """The surface registered under `name`; a ValueError naming the valid ones otherwise."""
    try:
        return SURFACES[name]
    except (KeyError, TypeError):
        valid = ", ".join(SURFACES)
        raise ValueError(f"unknown surface {name!r}; choose one of: {valid}") from None
