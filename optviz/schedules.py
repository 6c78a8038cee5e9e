r"""Learning-rate schedules: the learning rate of update t is eta_t = eta * s(t), t = 1, 2, ...

- constant:   s(t) = 1
- step decay: s(t) = gamma^floor((t - 1) / k)           (torch.optim.lr_scheduler.StepLR)
- cosine:     s(t) = (1 + cos(pi * min(t - 1, T) / T)) / 2   (optax.cosine_decay_schedule, alpha = 0)
- warmup:     s(t) = min(1, t / w)                      (a linear ramp, then constant)

Every optimizer here moves by an update that is proportional to its learning rate (GD, the three
momentums, Adagrad, RMSProp and Adam alike), so scaling the update by s(t) is the same as running
the optimizer with eta_t. That is how the engine applies a schedule to any optimizer without
touching its state. The schedule is a few traced numbers, so choosing another never recompiles.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax.numpy as jnp
import numpy as np

SCHEDULES = {
    "constant": r"\eta_t = \eta",
    "step": r"\eta_t = \eta\, \gamma^{\lfloor (t - 1) / k \rfloor}",
    "cosine": r"\eta_t = \tfrac{\eta}{2}\left(1 + \cos\frac{\pi \min(t - 1,\, T)}{T}\right)",
    "warmup": r"\eta_t = \eta \min(1,\ t / w)",
}
# Index order of the traced `kind` code; matches the branches in `multiplier`.
_KINDS = tuple(SCHEDULES)


@dataclass(frozen=True)
class Schedule:
    """A learning-rate schedule and its settings (the ones its kind does not use are ignored)."""

    kind: str = "constant"
    gamma: float = 0.5  # step decay: multiply the rate by gamma ...
    every: int = 100  # ... every `every` steps
    horizon: int = 500  # cosine: anneal to zero over this many steps
    warmup: int = 50  # warmup: ramp up linearly over this many steps

    def __post_init__(self):
        if self.kind not in SCHEDULES:
            raise ValueError(f"unknown schedule {self.kind!r}; choose one of: {', '.join(SCHEDULES)}")
        if not 0 < self.gamma <= 1:
            raise ValueError(f"gamma must be in (0, 1], got {self.gamma}")
        for name in ("every", "horizon", "warmup"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")

    @property
    def latex(self) -> str:
        return SCHEDULES[self.kind]

    def as_array(self) -> np.ndarray:
        """The schedule as the traced vector the engine takes: [kind code, gamma, every, horizon, warmup]."""
        return np.array([_KINDS.index(self.kind), self.gamma, self.every, self.horizon, self.warmup], float)

    def factors(self, steps: int) -> np.ndarray:
        """s(1), ..., s(steps) as NumPy (for plots and for the stability gauge)."""
        return np.asarray(multiplier(self.as_array(), jnp.arange(1, steps + 1)))


CONSTANT = Schedule()


def multiplier(schedule, t):
    """s(t) for update t >= 1 (any shape), given `Schedule.as_array()`; jit- and vmap-friendly."""
    kind, gamma, every, horizon, warmup = (schedule[i] for i in range(5))
    t = jnp.asarray(t, dtype=jnp.result_type(float))
    step_decay = gamma ** jnp.floor((t - 1) / every)
    cosine = 0.5 * (1 + jnp.cos(jnp.pi * jnp.minimum(t - 1, horizon) / horizon))
    ramp = jnp.minimum(1.0, t / warmup)
    return jnp.select([kind == 1, kind == 2, kind == 3], [step_decay, cosine, ramp], jnp.ones_like(t))
