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

Everything else known about an optimizer (its colour, the values that make a good demo on each
surface, its stability limit, ...) is stated once, in its `OptimizerSpec` in `OPTIMIZERS`; and
`switchable(names)` turns several of them into one traced choice, so that one compiled loop serves
them all (the 2D engine and the MLP's training use it alike).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache, partial
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree


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


class AdadeltaState(NamedTuple):
    mean_sq: jax.Array  # v_t, the running mean of squared gradients
    mean_sq_step: jax.Array  # u_t, the running mean of squared steps


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


def adadelta(lr, decay, eps) -> Optimizer:
    r"""torch.optim.Adadelta (its rho is decay; Zeiler 2012): RMSProp whose step carries the units of
    theta. The running RMS of past steps takes the place of the learning rate, so lr = 1 is usual and
    the step size is learned (v_0 = u_0 = 0, eps inside both roots, as in torch and optax):

    v_t = decay v_{t-1} + (1 - decay) g_t^2;  d_t = sqrt(u_{t-1} + eps) / sqrt(v_t + eps) g_t
    u_t = decay u_{t-1} + (1 - decay) d_t^2;  theta_t = theta_{t-1} - lr d_t
    """

    def init(params):
        zeros = jnp.zeros_like(params)
        return AdadeltaState(mean_sq=zeros, mean_sq_step=zeros)

    def update(grads, state, params=None):
        mean_sq = decay * state.mean_sq + (1 - decay) * grads**2
        step = jnp.sqrt(state.mean_sq_step + eps) / jnp.sqrt(mean_sq + eps) * grads
        mean_sq_step = decay * state.mean_sq_step + (1 - decay) * step**2
        return -lr * step, AdadeltaState(mean_sq, mean_sq_step)

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


class Hyperparameter(NamedTuple):
    """How a hyperparameter is written, the range the app accepts (values outside are clamped) and
    the values its slider offers."""

    symbol: str  # LaTeX, for formulas and slider labels
    text: str  # Unicode, for Plotly titles (they cannot typeset LaTeX offline: that needs MathJax)
    description: str
    low: float
    high: float
    log_scale: bool  # choose values on a log scale (learning rates, epsilons): 1, 1.5, 2, 3, 5, 7 a decade
    stops: tuple[float, ...] = ()  # the slider's values when not on a log scale


_DECAY_STOPS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.97, 0.99, 0.995, 0.999)
_SLOW_DECAY_STOPS = (0.0, 0.5, 0.8, 0.9, 0.95, 0.97, 0.99, 0.995, 0.999, 0.9995, 0.9999, 0.99999)
_NOISE_STOPS = (0.0, *(m * 10.0**k for k in range(-2, 3) for m in (1, 2, 5)), 1000.0)

_G2 = "decay of the running mean of g^2"
HYPERPARAMETERS: dict[str, Hyperparameter] = {
    "lr": Hyperparameter(r"\eta", "η", "learning rate", 1e-6, 10.0, True),
    "beta": Hyperparameter(r"\beta", "β", "momentum", 0.0, 0.999, False, _DECAY_STOPS),
    "decay": Hyperparameter(r"\rho", "ρ", _G2, 0.0, 0.9999, False, _SLOW_DECAY_STOPS),
    "b1": Hyperparameter(r"\beta_1", "β₁", "decay of the running mean of g", 0.0, 0.999, False, _DECAY_STOPS),
    "b2": Hyperparameter(r"\beta_2", "β₂", _G2, 0.0, 0.99999, False, _SLOW_DECAY_STOPS),
    "eps": Hyperparameter(r"\epsilon", "ε", "added to the denominator", 1e-12, 1.0, True),
    "noise": Hyperparameter(
        r"\sigma", "σ", "std of the Gaussian gradient noise", 0.0, 1000.0, False, _NOISE_STOPS
    ),
}

# The problems optimizers are recommended for: every built-in surface by name, and the MLP lesson's
# digits network (optviz.mlp) as "mlp". A formula surface has no recommendation: defaults apply.
MLP = "mlp"


@dataclass(frozen=True, eq=False)
class OptimizerSpec:
    """Everything optviz knows about one optimizer, in one place: its update rule, defaults, LaTeX,
    colour, the hyperparameter values that make a good demo on each problem, and the facts the
    lab's analyses read off it. Adding an optimizer is adding one of these (and its tests).

    Calling the spec builds the optimizer: `OPTIMIZERS["adam"](lr=0.1)`. Every optimizer also takes
    `noise` (std of Gaussian gradient noise, default 0 except for ``sgd``) and `seed`.
    """

    name: str
    label: str
    rule: Callable[..., Optimizer]  # the noise-free update rule's factory
    defaults: Mapping[str, float]  # every hyperparameter the optimizer takes, `noise` included
    latex: str  # the update rule in the lecture's notation, g_t = \nabla L(\theta_{t-1})
    state_symbols: Mapping[str, str]  # state field -> its symbol in `latex`, e.g. {"velocity": "v_t"}
    # Mostly Okabe & Ito's colour-blind-safe palette, the same for this optimizer on every chart of
    # every page; every pair stays distinguishable for red- and green-blind eyes (tests/test_colours.py).
    colour: str
    # The shape of its marker (a Plotly symbol name; the canvas charts draw the same, canvas_kit.js
    # markerPath): each optimizer its own, so that colour is never the only cue.
    marker: str
    # Problem (a surface's name, or MLP) -> hyperparameters chosen by a sweep, below the method's
    # stability edge there, where its typical behaviour shows; anything not given takes `defaults`.
    recommended: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    # The hyperparameter mapped against the learning rate in the lab's two-hyperparameter sweep.
    second_parameter: str | None = None
    # hyperparameters -> (c, bound): on a quadratic with curvature lambda the method is stable iff
    # lr * c * lambda < bound (Goh 2017, "Why Momentum Really Works"); None where the step adapts.
    stability_limit: Callable[[Mapping[str, float]], tuple[float, float]] | None = None
    # For the adaptive methods, (states, hyperparameters) -> per coordinate, the factor their step
    # multiplies lr by at steps 1..T; `states` holds each state field after 0..T steps (NumPy).
    adaptive_rate: Callable[[Mapping[str, Any], Mapping[str, float]], Any] | None = None

    @property
    def hyperparams(self) -> tuple[str, ...]:
        return tuple(self.defaults)

    @property
    def rule_hyperparams(self) -> tuple[str, ...]:
        """The hyperparameters of the update rule itself (all but the gradient noise)."""
        return tuple(name for name in self.defaults if name != "noise")

    def resolve(
        self, overrides: Mapping[str, float] | None = None, problem: str | None = None
    ) -> dict[str, float]:
        """The defaults, then the recommendation for `problem` (a surface's name, or MLP), then
        `overrides`; a ValueError names any unknown hyperparameter."""
        chosen = {**self.recommended.get(problem, {}), **(overrides or {})}
        unknown = sorted(set(chosen) - set(self.defaults))
        if unknown:
            valid = ", ".join(self.defaults)
            raise ValueError(f"{self.name} has no hyperparameter {', '.join(unknown)}; valid: {valid}")
        return {**self.defaults, **chosen}

    def split(self, hyperparams: Mapping[str, float]) -> tuple[Optimizer, float]:
        """The noise-free update rule built from `hyperparams`, and the gradient-noise level."""
        resolved = self.resolve(hyperparams)
        noise = resolved.pop("noise")
        return self.rule(**resolved), noise

    def __call__(self, *, seed=0, **hyperparams) -> Optimizer:
        rule, noise = self.split(hyperparams)
        return with_gradient_noise(rule, noise, seed)


_GRAD = r"g_t = \nabla L(\theta_{t-1})"
_NOISY_GRAD = r"g_t = \nabla L(\theta_{t-1}) + \sigma\,\xi_t,\ \ \xi_t \sim \mathcal{N}(0, I)"


def _lines(*lines: str) -> str:
    """Display LaTeX, one equation per line (KaTeX wants line breaks inside an environment)."""
    return r"\begin{gathered}" + r" \\ ".join(lines) + r"\end{gathered}"


def _rates(mlp: float | None = None, **surfaces: float) -> dict[str, dict[str, float]]:
    """Recommended learning rates: one per surface, and one for the MLP."""
    return {name: {"lr": lr} for name, lr in surfaces.items()} | ({} if mlp is None else {MLP: {"lr": mlp}})


# Gradient descent's rates; SGD uses the same, so that noise is the only difference between them.
_GD_RATES = dict(
    rosenbrock=0.001, saddle=0.02, beale=0.01, himmelblau=0.005, quadratic=0.09, rastrigin=0.002,
    ackley=0.1, six_hump_camel=0.02, monkey_saddle=0.003, goldstein_price=1e-05, booth=0.05,
    styblinski_tang=0.01,
)  # fmt: skip
# SGD's noise per surface: large enough to see, small enough to still make progress.
_SGD_NOISE = dict(
    rosenbrock=5.0, saddle=0.5, beale=0.5, himmelblau=5.0, quadratic=1.0, rastrigin=10.0, ackley=1.0,
    six_hump_camel=1.0, monkey_saddle=0.5, goldstein_price=100.0, booth=5.0, styblinski_tang=3.0,
)  # fmt: skip
_MOMENTUM_RATES = dict(
    rosenbrock=0.01, saddle=0.05, beale=0.05, himmelblau=0.03, quadratic=0.2, rastrigin=0.01, ackley=0.2,
    six_hump_camel=0.1, monkey_saddle=0.01, goldstein_price=0.0001, booth=0.1, styblinski_tang=0.1,
)  # fmt: skip
_HEAVY_BALL_RATES = dict(
    rosenbrock=0.001, saddle=0.005, beale=0.005, himmelblau=0.003, quadratic=0.12, rastrigin=0.001,
    ackley=0.02, six_hump_camel=0.01, monkey_saddle=0.001, goldstein_price=1e-05, booth=0.01,
    styblinski_tang=0.01,
)  # fmt: skip
_NESTEROV_RATES = dict(
    rosenbrock=0.0005, saddle=0.004, beale=0.005, himmelblau=0.003, quadratic=0.03, rastrigin=0.001,
    ackley=0.02, six_hump_camel=0.01, monkey_saddle=0.0005, goldstein_price=1e-05, booth=0.03,
    styblinski_tang=0.01,
)  # fmt: skip
_ADAGRAD_RATES = dict(
    rosenbrock=0.5, saddle=0.1, beale=0.5, himmelblau=0.5, quadratic=1.0, rastrigin=0.5, ackley=0.5,
    six_hump_camel=0.5, monkey_saddle=0.05, goldstein_price=0.5, booth=3.0, styblinski_tang=0.5,
)  # fmt: skip
_RMSPROP_RATES = dict(
    rosenbrock=0.01, saddle=0.01, beale=0.01, himmelblau=0.05, quadratic=0.05, rastrigin=0.05,
    ackley=0.05, six_hump_camel=0.05, monkey_saddle=0.005, goldstein_price=0.02, booth=0.2,
    styblinski_tang=0.05,
)  # fmt: skip
_ADAM_RATES = dict(
    rosenbrock=0.05, saddle=0.02, beale=0.05, himmelblau=0.1, quadratic=0.2, rastrigin=0.1, ackley=0.1,
    six_hump_camel=0.1, monkey_saddle=0.01, goldstein_price=0.05, booth=0.5, styblinski_tang=0.2,
)  # fmt: skip
# Adadelta's first steps have size about sqrt(eps) (u_0 = 0), so eps sets how fast it gets going.
_ADADELTA = {
    "rosenbrock": {"lr": 0.5, "eps": 1e-4}, "saddle": {"lr": 0.1, "eps": 1e-4},
    "beale": {"lr": 0.5, "eps": 1e-4}, "himmelblau": {"lr": 0.5, "eps": 1e-4},
    "quadratic": {"lr": 0.5, "eps": 1e-3}, "rastrigin": {"lr": 0.5, "eps": 1e-4},
    "ackley": {"lr": 3.0, "eps": 1e-3}, "six_hump_camel": {"lr": 3.0, "eps": 1e-3},
    "monkey_saddle": {"lr": 0.1, "eps": 1e-4}, "goldstein_price": {"lr": 3.0, "eps": 1e-3},
    "booth": {"lr": 2.0, "eps": 1e-3}, "styblinski_tang": {"lr": 0.5, "eps": 1e-4},
    MLP: {"lr": 1.0},
}  # fmt: skip
# Tuned for the bowl (condition number 20): the optimal heavy-ball beta is
# ((sqrt(20) - 1) / (sqrt(20) + 1))^2 = 0.40, about three times faster than GD.
_BOWL_BETA = {"quadratic": {"beta": 0.4}}


def _merge(*tables: Mapping[str, Mapping[str, float]]) -> dict[str, dict[str, float]]:
    """Per-problem hyperparameter tables merged problem by problem."""
    merged: dict[str, dict[str, float]] = {}
    for table in tables:
        for problem, values in table.items():
            merged[problem] = {**merged.get(problem, {}), **values}
    return merged


# Stability limits on a quadratic with curvature lambda (Goh 2017, "Why Momentum Really Works"):
# the method is stable iff lr * c * lambda < bound, with (c, bound) from the functions below.


def _gd_limit(h):
    """GD multiplies the error along curvature lambda by 1 - lr lambda: stable while lr lambda < 2."""
    return 1.0, 2.0


def _heavy_ball_limit(h):
    """Heavy-ball (torch SGD momentum): stable while lr lambda < 2 + 2 beta."""
    return 1.0, 2 + 2 * h["beta"]


def _momentum_limit(h):
    """The lecture's momentum is heavy-ball with lr (1 - beta): lr (1 - beta) lambda < 2 + 2 beta."""
    return 1 - h["beta"], 2 + 2 * h["beta"]


def _nesterov_limit(h):
    """Nesterov (torch): stable while lr lambda < (2 + 2 beta) / (1 + 2 beta)."""
    return 1.0, (2 + 2 * h["beta"]) / (1 + 2 * h["beta"])


def _sqrt(values):
    return values**0.5


_SPECS = (
    OptimizerSpec(
        name="gd",
        label="Gradient descent",
        rule=gd,
        defaults={"lr": 0.01, "noise": 0.0},
        state_symbols={},
        latex=_lines(_GRAD, r"\theta_t = \theta_{t-1} - \eta\, g_t"),
        colour="#0072B2",
        marker="circle",
        recommended=_rates(mlp=0.1, **_GD_RATES),
        stability_limit=_gd_limit,
    ),
    OptimizerSpec(
        name="sgd",
        label="SGD (noisy gradients)",
        rule=gd,
        defaults={"lr": 0.01, "noise": 1.0},
        state_symbols={},
        latex=_lines(_NOISY_GRAD, r"\theta_t = \theta_{t-1} - \eta\, g_t"),
        colour="#56B4E9",
        marker="square",
        recommended=_merge(_rates(**_GD_RATES), {s: {"noise": n} for s, n in _SGD_NOISE.items()}),
        stability_limit=_gd_limit,
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
        colour="#009E73",
        marker="triangle-up",
        recommended=_merge(
            _rates(mlp=0.1, **_MOMENTUM_RATES),
            _BOWL_BETA,
        ),
        second_parameter="beta",
        stability_limit=_momentum_limit,
    ),
    OptimizerSpec(
        name="heavy_ball",
        label="Heavy-ball momentum (PyTorch SGD)",
        rule=heavy_ball,
        defaults={"lr": 0.01, "beta": 0.9, "noise": 0.0},
        state_symbols={"velocity": "b_t"},
        latex=_lines(_GRAD, r"b_t = \beta\, b_{t-1} + g_t", r"\theta_t = \theta_{t-1} - \eta\, b_t"),
        colour="#6F4E00",  # dark brown (a darkened yellow met Adagrad's orange for a red-blind eye)
        marker="triangle-right",
        recommended=_merge(
            _rates(mlp=0.01, **_HEAVY_BALL_RATES),
            _BOWL_BETA,
        ),
        second_parameter="beta",
        stability_limit=_heavy_ball_limit,
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
        colour="#000000",
        marker="triangle-down",
        recommended=_rates(mlp=0.01, **_NESTEROV_RATES),
        second_parameter="beta",
        stability_limit=_nesterov_limit,
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
        colour="#E69F00",
        marker="pentagon",
        recommended=_rates(mlp=0.01, **_ADAGRAD_RATES),
        adaptive_rate=lambda s, h: 1 / (_sqrt(s["sum_sq"][1:]) + h["eps"]),
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
        colour="#D55E00",
        marker="hexagon",
        recommended=_rates(mlp=0.001, **_RMSPROP_RATES),
        second_parameter="decay",
        adaptive_rate=lambda s, h: 1 / (_sqrt(s["mean_sq"][1:]) + h["eps"]),
    ),
    OptimizerSpec(
        name="adadelta",
        label="Adadelta",
        rule=adadelta,
        defaults={"lr": 1.0, "decay": 0.9, "eps": 1e-6, "noise": 0.0},
        state_symbols={"mean_sq": "v_t", "mean_sq_step": "u_t"},
        latex=_lines(
            _GRAD,
            r"v_t = \rho\, v_{t-1} + (1 - \rho)\, g_t^2",
            r"d_t = \frac{\sqrt{u_{t-1} + \epsilon}}{\sqrt{v_t + \epsilon}}\, g_t,\quad "
            r"u_t = \rho\, u_{t-1} + (1 - \rho)\, d_t^2",
            r"\theta_t = \theta_{t-1} - \eta\, d_t",
        ),
        colour="#882255",  # Paul Tol's wine: the palette above has no ninth colour
        marker="triangle-left",
        recommended=_ADADELTA,
        second_parameter="decay",
        adaptive_rate=lambda s, h: (
            _sqrt(s["mean_sq_step"][:-1] + h["eps"]) / _sqrt(s["mean_sq"][1:] + h["eps"])
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
        colour="#CC79A7",
        marker="diamond",
        recommended=_rates(mlp=0.001, **_ADAM_RATES),
        second_parameter="b1",
        # Adam's step is lr m_hat / (sqrt(v_hat) + eps): the rate divides by the bias-corrected root.
        adaptive_rate=lambda s, h: (
            1 / (_sqrt(s["nu"][1:] / (1 - h["b2"] ** s["count"][1:, None])) + h["eps"])
        ),
    ),
)

OPTIMIZERS: dict[str, OptimizerSpec] = {spec.name: spec for spec in _SPECS}
# Every update rule's hyperparameters, in one fixed order: a traced row of these feeds any rule.
RULE_HYPERPARAMETERS = tuple(sorted({name for spec in _SPECS for name in spec.rule_hyperparams}))


def get_optimizer(name: str) -> OptimizerSpec:
    """The optimizer registered under `name`; a ValueError naming the valid ones otherwise."""
    try:
        return OPTIMIZERS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown optimizer {name!r}; choose one of: {', '.join(OPTIMIZERS)}") from None


# --- many optimizers as one program ---------------------------------------------------------------


def rule_row(hyperparams: Mapping[str, float], dtype=float) -> jax.Array:
    """`hyperparams` as a row in RULE_HYPERPARAMETERS order (1.0 where a rule takes no such value)."""
    return jnp.asarray([hyperparams.get(name, 1.0) for name in RULE_HYPERPARAMETERS], dtype)


def _rule(name: str, row) -> Optimizer:
    """Optimizer `name`'s noise-free rule, built from a (traced) row of RULE_HYPERPARAMETERS."""
    spec = OPTIMIZERS[name]
    return spec.rule(**{key: row[RULE_HYPERPARAMETERS.index(key)] for key in spec.rule_hyperparams})


@cache
def _initial_state(name: str, shape: tuple[int, ...], dtype):
    """Optimizer `name`'s state at zero parameters of this shape and dtype: the template its flat
    layout and its field list are read from."""
    spec = OPTIMIZERS[name]
    return spec.split(spec.defaults)[0].init(jnp.zeros(shape, dtype))


@cache
def _template(name: str, shape: tuple[int, ...], dtype) -> tuple[int, Callable]:
    """How optimizer `name`'s state for parameters of this shape and dtype flattens: (its length,
    the function that rebuilds the state from the flat vector)."""
    flat, unflatten = ravel_pytree(_initial_state(name, shape, dtype))
    return flat.size, unflatten


def state_fields(name: str, shape: tuple[int, ...] = (2,), dtype=float) -> tuple[tuple[str, tuple, Any], ...]:
    """Optimizer `name`'s state fields in flattening order, with their shapes and dtypes."""
    state = _initial_state(name, shape, jnp.dtype(dtype))
    return tuple((key, jnp.shape(value), jnp.asarray(value).dtype) for key, value in state._asdict().items())


def _dispatch(branches, kind, *args):
    """branches[kind](*args): a `lax.switch` only when there is a choice to make."""
    return branches[0](*args) if len(branches) == 1 else jax.lax.switch(kind, branches, *args)


class Switchable(NamedTuple):
    """Several optimizers as one: a traced index `kind` into `names` picks the rule, and every
    state is one flat vector of a common `width` (each optimizer's state raveled, then zero padding).

    A compiled loop over `Switchable` serves every optimizer in `names` and every setting: neither the
    choice of optimizer nor a hyperparameter (a traced RULE_HYPERPARAMETERS row) recompiles it. Under
    `vmap` a switch runs every branch on every row and selects; without `vmap` it runs one.
    """

    names: tuple[str, ...]
    shape: tuple[int, ...]  # of the parameters
    dtype: Any
    width: int

    def init(self, kind, params, row):
        """The flat, zero-padded initial state of optimizer names[kind] at `params`."""
        branches = [partial(self._init, name) for name in self.names]
        return _dispatch(branches, kind, params, row)

    def update(self, kind, grads, flat_state, params, row):
        """One update of optimizer names[kind] on its flat state: (updates, new flat state)."""
        branches = [partial(self._update, name) for name in self.names]
        return _dispatch(branches, kind, grads, flat_state, params, row)

    def _init(self, name, params, row):
        flat, _ = ravel_pytree(_rule(name, row).init(params))
        return jnp.concatenate([flat.astype(self.dtype), jnp.zeros(self.width - flat.size, self.dtype)])

    def _update(self, name, grads, flat_state, params, row):
        size, unflatten = _template(name, self.shape, self.dtype)
        updates, state = _rule(name, row).update(grads, unflatten(flat_state[:size]), params)
        # Concatenate rather than .at[].set: under vmap the latter becomes a scatter, a kernel of its own.
        return updates, jnp.concatenate([ravel_pytree(state)[0].astype(self.dtype), flat_state[size:]])


@cache
def switchable(names: tuple[str, ...], shape: tuple[int, ...] = (2,), dtype=float) -> Switchable:
    """`names` as one `Switchable` for parameters of `shape` and `dtype`: the 2D engine runs all the
    lab's optimizers this way, the MLP trains any of them with one compiled epoch."""
    dtype = jnp.dtype(dtype)
    width = max(1, *(_template(name, shape, dtype)[0] for name in names))
    return Switchable(tuple(names), tuple(shape), dtype, width)
