"""optviz: see how neural networks learn.

The public API:

    import optviz
    t = optviz.simulate("rosenbrock", "adam", start=(-1.5, 2.0), steps=200, lr=0.05, seed=0)
    runs = optviz.compare("beale", ["gd", "momentum", "adam"], start=(1.0, 1.4), steps=300)
    optviz.OPTIMIZERS["adam"](lr=0.1)   # an optax-shaped (init, update) pair
"""

import importlib
import sys
import types

# Where each public name lives. They are imported when first used, not with the package: the
# serve command's supervisor and `python -m optviz --help` need none of JAX, which costs every
# process that imports it over a second and about 100 MB (python -X importtime -c "import optviz").
_HOMES = {
    "Runs": "optviz.engine",
    "resolve_hyperparams": "optviz.engine",
    "run": "optviz.engine",
    "OPTIMIZERS": "optviz.optimizers",
    "Optimizer": "optviz.optimizers",
    "OptimizerSpec": "optviz.optimizers",
    "get_optimizer": "optviz.optimizers",
    "Trajectory": "optviz.simulate",
    "compare": "optviz.simulate",
    "simulate": "optviz.simulate",
    "SURFACES": "surfaces",
    "get_surface": "surfaces",
}

__all__ = [
    "OPTIMIZERS",
    "SURFACES",
    "Optimizer",
    "OptimizerSpec",
    "Runs",
    "Trajectory",
    "compare",
    "get_optimizer",
    "get_surface",
    "resolve_hyperparams",
    "run",
    "simulate",
]


def __getattr__(name: str):
    """`optviz.NAME` and `from optviz import NAME`: the public name, imported from its home once."""
    if name not in _HOMES:
        raise AttributeError(f"module 'optviz' has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOMES[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])


class _Package(types.ModuleType):
    """The package, which keeps its public names when a submodule of the same name is imported:
    `import optviz.simulate` binds the package's `simulate` to that module (the import system does),
    while `optviz.simulate` is the function of that name (resolved by `__getattr__`)."""

    def __setattr__(self, name: str, value) -> None:
        if name in _HOMES and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
