r"""Optimizers as pure functions, in the shape optax uses.

Each factory returns an `Optimizer(init, update)`:

    state = opt.init(params)
    updates, state = opt.update(grads, state, params)
    params = params + updates

Every state is a NamedTuple of arrays, so `jax.lax.scan` can carry it and the engine can record it.
Conventions follow the lecture and torch.optim (not optax) where they differ:

- ``momentum`` is the lecture's exponential average, v_t = beta v_{t-1} + (1 - beta) g_t with v_0 = 0.
  torch's SGD momentum is the separate ``heavy_ball`` (and ``nesterov``).
- Adagrad, RMSProp and Adam put eps *outside* the square root and start their accumulators at 0,
  as torch.optim does. optax.adagrad starts at 0.1 with eps inside the root, and optax.rmsprop puts
  eps inside the root unless ``eps_in_sqrt=False``; the tests set those options to compare.

Gradient noise (the mini-batch SGD stand-in) is a wrapper, `with_gradient_noise`, that any optimizer
can wear; `OPTIMIZERS[name](..., noise=s, seed=k)` applies it. ``sgd`` is plain gradient descent whose
default noise is not zero.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp


class Optimizer(NamedTuple):
    """A pure optimizer: `init(params) -> state`, `update(grads, state, params) -> (updates, state)`."""

    init: Callable[[jax.Array], Any]
    update: Callable[[jax.Array, Any, jax.Array], tuple[jax.Array, Any]]


class EmptyState(NamedTuple):
    """Gradient descent remembers nothing between steps."""


class MomentumState(NamedTuple):
    velocity: jax.Array  # v_t, same shape as params


class AdagradState(NamedTuple):
    sum_sq: jax.Array  # G_t = sum of squared gradients so far, same shape as params


class RMSPropState(NamedTuple):
    mean_sq: jax.Array  # v_t, the running mean of squared gradients


class AdamState(NamedTuple):
    count: jax.Array  # t, the number of updates so far (scalar int)
    mu: jax.Array  # m_t, running mean of gradients
    nu: jax.Array  # v_t, running mean of squared gradients


class NoisyState(NamedTuple):
    key: jax.Array  # the PRNG key the noise is drawn from; fixed, folded with `count` each step
    count: jax.Array  # steps taken so far (scalar int)
    inner: Any  # the wrapped optimizer's state


def gd(lr) -> Optimizer:
    r"""Gradient descent: theta_t = theta_{t-1} - lr * g_t."""

    def init(params):
        return EmptyState()

    def update(grads, state, params=None):
        return -lr * grads, state

    return Optimizer(init, update)


def momentum(lr, beta) -> Optimizer:
    r"""The lecture's momentum, an exponential average of the gradients (v_0 = 0):

    v_t = beta v_{t-1} + (1 - beta) g_t;  theta_t = theta_{t-1} - lr v_t

    Since v_t = (1 - beta) b_t for heavy-ball's b_t, this is heavy-ball with lr scaled by (1 - beta).
    """

    def init(params):
        return MomentumState(velocity=jnp.zeros_like(params))

    def update(grads, state, params=None):
        velocity = beta * state.velocity + (1 - beta) * grads
        return -lr * velocity, MomentumState(velocity)

    return Optimizer(init, update)


def heavy_ball(lr, beta) -> Optimizer:
    r"""torch.optim.SGD(momentum=beta): b_t = beta b_{t-1} + g_t; theta_t = theta_{t-1} - lr b_t.

    torch starts the buffer at the first gradient (b_1 = g_1); with no dampening that is exactly
    what b_0 = 0 gives, so the buffer starts at zero here.
    """

    def init(params):
        return MomentumState(velocity=jnp.zeros_like(params))

    def update(grads, state, params=None):
        velocity = beta * state.velocity + grads
        return -lr * velocity, MomentumState(velocity)

    return Optimizer(init, update)


def nesterov(lr, beta) -> Optimizer:
    r"""torch.optim.SGD(momentum=beta, nesterov=True): b_t as in heavy-ball, and a look-ahead step

    theta_t = theta_{t-1} - lr (g_t + beta b_t)
    """

    def init(params):
        return MomentumState(velocity=jnp.zeros_like(params))

    def update(grads, state, params=None):
        velocity = beta * state.velocity + grads
        return -lr * (grads + beta * velocity), MomentumState(velocity)

    return Optimizer(init, update)


def adagrad(lr, eps) -> Optimizer:
    r"""torch.optim.Adagrad: a per-coordinate step that shrinks as squared gradients pile up (G_0 = 0).

    G_t = G_{t-1} + g_t^2;  theta_t = theta_{t-1} - lr g_t / (sqrt(G_t) + eps)
    """

    def init(params):
        return AdagradState(sum_sq=jnp.zeros_like(params))

    def update(grads, state, params=None):
        sum_sq = state.sum_sq + grads**2
        return -lr * grads / (jnp.sqrt(sum_sq) + eps), AdagradState(sum_sq)

    return Optimizer(init, update)


def rmsprop(lr, decay, eps) -> Optimizer:
    r"""torch.optim.RMSprop (its alpha is decay): Adagrad with a running mean instead of a sum (v_0 = 0).

    v_t = decay v_{t-1} + (1 - decay) g_t^2;  theta_t = theta_{t-1} - lr g_t / (sqrt(v_t) + eps)
    """

    def init(params):
        return RMSPropState(mean_sq=jnp.zeros_like(params))

    def update(grads, state, params=None):
        mean_sq = decay * state.mean_sq + (1 - decay) * grads**2
        return -lr * grads / (jnp.sqrt(mean_sq) + eps), RMSPropState(mean_sq)

    return Optimizer(init, update)


def adam(lr, b1, b2, eps) -> Optimizer:
    r"""torch.optim.Adam: bias-corrected running means of g and g^2, eps outside the root.

    m_t = b1 m_{t-1} + (1 - b1) g_t;  v_t = b2 v_{t-1} + (1 - b2) g_t^2
    m_hat_t = m_t / (1 - b1^t);  v_hat_t = v_t / (1 - b2^t)
    theta_t = theta_{t-1} - lr m_hat_t / (sqrt(v_hat_t) + eps)
    """

    def init(params):
        zeros = jnp.zeros_like(params)
        return AdamState(count=jnp.zeros((), jnp.int32), mu=zeros, nu=zeros)

    def update(grads, state, params=None):
        count = state.count + 1
        mu = b1 * state.mu + (1 - b1) * grads
        nu = b2 * state.nu + (1 - b2) * grads**2
        mu_hat = mu / (1 - b1**count)
        nu_hat = nu / (1 - b2**count)
        return -lr * mu_hat / (jnp.sqrt(nu_hat) + eps), AdamState(count, mu, nu)

    return Optimizer(init, update)


def gradient_noise(key, step, like):
    r"""The noise xi_t ~ N(0, I) for step t, drawn from fold_in(key, t) in the shape and dtype of `like`.

    Indexing by step (rather than splitting keys) means every optimizer run with the same seed sees
    the same noise sequence: a fair race.
    """
    return jax.random.normal(jax.random.fold_in(key, step), jnp.shape(like), jnp.result_type(like))


def with_gradient_noise(optimizer: Optimizer, noise, seed) -> Optimizer:
    r"""Feed `optimizer` noisy gradients g_t + noise * xi_t (see `gradient_noise`); noise = 0 is exact."""

    def init(params):
        return NoisyState(jax.random.key(seed), jnp.zeros((), jnp.int32), optimizer.init(params))

    def update(grads, state, params=None):
        noisy = grads + noise * gradient_noise(state.key, state.count, grads)
        updates, inner = optimizer.update(noisy, state.inner, params)
        return updates, NoisyState(state.key, state.count + 1, inner)

    return Optimizer(init, update)


@dataclass(frozen=True, eq=False)
class OptimizerSpec:
    """A named optimizer: its update rule, default hyperparameters and LaTeX, in one place.

    Calling the spec builds the optimizer: `OPTIMIZERS["adam"](lr=0.1)`. Every optimizer also takes
    `noise` (std of Gaussian gradient noise, default 0 except for ``sgd``) and `seed`.
    """

    name: str
    label: str
    rule: Callable[..., Optimizer]  # the noise-free update rule's factory
    defaults: Mapping[str, float]  # every hyperparameter the optimizer takes, `noise` included
    latex: str  # the update rule in the lecture's notation, g_t = \nabla L(\theta_{t-1})
    state_symbols: Mapping[str, str]  # state field -> its symbol in `latex`, e.g. {"velocity": "v_t"}

    @property
    def hyperparams(self) -> tuple[str, ...]:
        return tuple(self.defaults)

    def resolve(self, overrides: Mapping[str, float] | None = None) -> dict[str, float]:
        """The defaults updated by `overrides`; a ValueError names any unknown hyperparameter."""
        overrides = dict(overrides or {})
        unknown = sorted(set(overrides) - set(self.defaults))
        if unknown:
            valid = ", ".join(self.defaults)
            raise ValueError(f"{self.name} has no hyperparameter {', '.join(unknown)}; valid: {valid}")
        return {**self.defaults, **overrides}

    def split(self, hyperparams: Mapping[str, float]) -> tuple[Optimizer, float]:
        """The noise-free update rule built from `hyperparams`, and the gradient-noise level."""
        resolved = self.resolve(hyperparams)
        noise = resolved.pop("noise")
        return self.rule(**resolved), noise

    def __call__(self, *, seed=0, **hyperparams) -> Optimizer:
        rule, noise = self.split(hyperparams)
        return with_gradient_noise(rule, noise, seed)


class Hyperparameter(NamedTuple):
    """How a hyperparameter is written and the range the app accepts (values outside are clamped)."""

    symbol: str  # LaTeX
    description: str
    low: float
    high: float
    log_scale: bool  # choose values on a log scale (learning rates, epsilons)


HYPERPARAMETERS: dict[str, Hyperparameter] = {
    "lr": Hyperparameter(r"\eta", "learning rate", 1e-6, 10.0, True),
    "beta": Hyperparameter(r"\beta", "momentum", 0.0, 0.999, False),
    "decay": Hyperparameter(r"\rho", "decay of the running mean of g^2", 0.0, 0.9999, False),
    "b1": Hyperparameter(r"\beta_1", "decay of the running mean of g", 0.0, 0.999, False),
    "b2": Hyperparameter(r"\beta_2", "decay of the running mean of g^2", 0.0, 0.99999, False),
    "eps": Hyperparameter(r"\epsilon", "added to the denominator", 1e-12, 1.0, True),
    "noise": Hyperparameter(r"\sigma", "std of the Gaussian gradient noise", 0.0, 1000.0, False),
}


_GRAD = r"g_t = \nabla L(\theta_{t-1})"
_NOISY_GRAD = r"g_t = \nabla L(\theta_{t-1}) + \sigma\,\xi_t,\ \ \xi_t \sim \mathcal{N}(0, I)"


def _lines(*lines: str) -> str:
    """Display LaTeX, one equation per line (KaTeX wants line breaks inside an environment)."""
    return r"\begin{gathered}" + r" \\ ".join(lines) + r"\end{gathered}"


_SPECS = (
    OptimizerSpec(
        name="gd",
        label="Gradient descent",
        rule=gd,
        defaults={"lr": 0.01, "noise": 0.0},
        state_symbols={},
        latex=_lines(_GRAD, r"\theta_t = \theta_{t-1} - \eta\, g_t"),
    ),
    OptimizerSpec(
        name="sgd",
        label="SGD (noisy gradients)",
        rule=gd,
        defaults={"lr": 0.01, "noise": 1.0},
        state_symbols={},
        latex=_lines(_NOISY_GRAD, r"\theta_t = \theta_{t-1} - \eta\, g_t"),
    ),
    OptimizerSpec(
        name="momentum",
        label="Momentum",
        rule=momentum,
        defaults={"lr": 0.01, "beta": 0.9, "noise": 0.0},
        state_symbols={"velocity": "v_t"},
        latex=_lines(
            _GRAD, r"v_t = \beta\, v_{t-1} + (1 - \beta)\, g_t", r"\theta_t = \theta_{t-1} - \eta\, v_t"
        ),
    ),
    OptimizerSpec(
        name="heavy_ball",
        label="Heavy-ball momentum (PyTorch SGD)",
        rule=heavy_ball,
        defaults={"lr": 0.01, "beta": 0.9, "noise": 0.0},
        state_symbols={"velocity": "b_t"},
        latex=_lines(_GRAD, r"b_t = \beta\, b_{t-1} + g_t", r"\theta_t = \theta_{t-1} - \eta\, b_t"),
    ),
    OptimizerSpec(
        name="nesterov",
        label="Nesterov momentum",
        rule=nesterov,
        defaults={"lr": 0.01, "beta": 0.9, "noise": 0.0},
        state_symbols={"velocity": "b_t"},
        latex=_lines(
            _GRAD, r"b_t = \beta\, b_{t-1} + g_t", r"\theta_t = \theta_{t-1} - \eta\,(g_t + \beta\, b_t)"
        ),
    ),
    OptimizerSpec(
        name="adagrad",
        label="Adagrad",
        rule=adagrad,
        defaults={"lr": 0.01, "eps": 1e-10, "noise": 0.0},
        state_symbols={"sum_sq": "G_t"},
        latex=_lines(
            _GRAD,
            r"G_t = G_{t-1} + g_t^2",
            r"\theta_t = \theta_{t-1} - \frac{\eta}{\sqrt{G_t} + \epsilon}\, g_t",
        ),
    ),
    OptimizerSpec(
        name="rmsprop",
        label="RMSProp",
        rule=rmsprop,
        defaults={"lr": 0.01, "decay": 0.99, "eps": 1e-8, "noise": 0.0},
        state_symbols={"mean_sq": "v_t"},
        latex=_lines(
            _GRAD,
            r"v_t = \rho\, v_{t-1} + (1 - \rho)\, g_t^2",
            r"\theta_t = \theta_{t-1} - \frac{\eta}{\sqrt{v_t} + \epsilon}\, g_t",
        ),
    ),
    OptimizerSpec(
        name="adam",
        label="Adam",
        rule=adam,
        defaults={"lr": 0.001, "b1": 0.9, "b2": 0.999, "eps": 1e-8, "noise": 0.0},
        state_symbols={"count": "t", "mu": "m_t", "nu": "v_t"},
        latex=_lines(
            _GRAD,
            r"m_t = \beta_1 m_{t-1} + (1 - \beta_1)\, g_t",
            r"v_t = \beta_2 v_{t-1} + (1 - \beta_2)\, g_t^2",
            r"\hat m_t = \frac{m_t}{1 - \beta_1^t},\quad \hat v_t = \frac{v_t}{1 - \beta_2^t}",
            r"\theta_t = \theta_{t-1} - \frac{\eta\, \hat m_t}{\sqrt{\hat v_t} + \epsilon}",
        ),
    ),
)

OPTIMIZERS: dict[str, OptimizerSpec] = {spec.name: spec for spec in _SPECS}


def get_optimizer(name: str) -> OptimizerSpec:
    """The optimizer registered under `name`; a ValueError naming the valid ones otherwise."""
    try:
        return OPTIMIZERS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown optimizer {name!r}; choose one of: {', '.join(OPTIMIZERS)}") from None
