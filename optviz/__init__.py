"""optviz: see how neural networks learn.

The public API:

    import optviz
    t = optviz.simulate("rosenbrock", "adam", start=(-1.5, 2.0), steps=200, lr=0.05, seed=0)
    runs = optviz.compare("beale", ["gd", "momentum", "adam"], start=(1.0, 1.4), steps=300)
    optviz.OPTIMIZERS["adam"](lr=0.1)   # an optax-shaped (init, update) pair
"""

from optviz.engine import Runs, resolve_hyperparams, run
from optviz.optimizers import OPTIMIZERS, Optimizer, OptimizerSpec, get_optimizer
from optviz.simulate import Trajectory, compare, simulate
from surfaces import SURFACES, get_surface

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
