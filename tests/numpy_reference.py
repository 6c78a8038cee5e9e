"""Plain NumPy reference optimizers, written from torch.optim's documented pseudo-code.

Independent of optviz: explicit loops, explicit state, no JAX. Each `step_*` takes the current
parameters, gradient and state dict and returns the new parameters (updating the state in place).
"""

import numpy as np


def step_gd(theta, g, s, lr):
    return theta - lr * g


def step_momentum(theta, g, s, lr, beta):
    s["v"] = beta * s.get("v", 0.0) + (1 - beta) * g
    return theta - lr * s["v"]


def step_heavy_ball(theta, g, s, lr, beta):
    # torch.optim.SGD: the buffer is a copy of the first gradient, then b = beta b + g.
    s["b"] = g.copy() if "b" not in s else beta * s["b"] + g
    return theta - lr * s["b"]


def step_nesterov(theta, g, s, lr, beta):
    s["b"] = g.copy() if "b" not in s else beta * s["b"] + g
    return theta - lr * (g + beta * s["b"])


def step_adagrad(theta, g, s, lr, eps):
    s["sum"] = s.get("sum", 0.0) + g * g
    return theta - lr * g / (np.sqrt(s["sum"]) + eps)


def step_rmsprop(theta, g, s, lr, decay, eps):
    s["sq"] = decay * s.get("sq", 0.0) + (1 - decay) * g * g
    return theta - lr * g / (np.sqrt(s["sq"]) + eps)


def step_adadelta(theta, g, s, lr, decay, eps):
    # torch.optim.Adadelta: square_avg and acc_delta start at 0, eps inside both roots.
    s["sq"] = decay * s.get("sq", 0.0) + (1 - decay) * g * g
    delta = np.sqrt(s.get("acc", 0.0) + eps) / np.sqrt(s["sq"] + eps) * g
    s["acc"] = decay * s.get("acc", 0.0) + (1 - decay) * delta * delta
    return theta - lr * delta


def step_adam(theta, g, s, lr, b1, b2, eps):
    s["t"] = s.get("t", 0) + 1
    s["m"] = b1 * s.get("m", 0.0) + (1 - b1) * g
    s["v"] = b2 * s.get("v", 0.0) + (1 - b2) * g * g
    # torch's form: step_size = lr / bc1 and denom = sqrt(v) / sqrt(bc2) + eps
    bc1, bc2 = 1 - b1 ** s["t"], 1 - b2 ** s["t"]
    return theta - (lr / bc1) * s["m"] / (np.sqrt(s["v"]) / np.sqrt(bc2) + eps)


STEPS = {
    "gd": step_gd,
    "sgd": step_gd,
    "momentum": step_momentum,
    "heavy_ball": step_heavy_ball,
    "nesterov": step_nesterov,
    "adagrad": step_adagrad,
    "rmsprop": step_rmsprop,
    "adadelta": step_adadelta,
    "adam": step_adam,
}


def rosenbrock_grad(xy):
    """Closed-form gradient of (1 - x)^2 + 100 (y - x^2)^2."""
    x, y = xy
    return np.array([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)])


def rosenbrock(xy):
    x, y = xy
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2


def descend(name, grad_fn, start, steps, **hyperparams):
    """The optimizer's path as a plain Python loop: an array of shape (steps + 1, 2)."""
    step = STEPS[name]
    theta, state, path = np.array(start, dtype=float), {}, [np.array(start, dtype=float)]
    for _ in range(steps):
        theta = step(theta, grad_fn(theta), state, **hyperparams)
        path.append(theta)
    return np.array(path)
