"""Diagnose training (page /diagnose): CS231n's "babysitting the learning process" on the digits.

    from optviz import diagnose
    diagnose.init_stats("tiny", "tanh", layers=6)       # Snapshot: .loss, .layers[l].act_std, ...
    diagnose.grad_check(seed=0, h=1e-5, dtype="float64") # GradCheck: .rel_error per sampled parameter
    diagnose.train(layers=3, init="he", weight_decay=1e-4, train_size=500, histograms=True)
    diagnose.search(method="random", n=16, epochs=1)     # Search: .rows() with lr, weight_decay, val_accuracy

`network` (the deep MLP, its initializations and what its layers look like inside), `training`
(runs that record every step's update:weight ratio; many settings in one vmapped call),
`gradcheck`, `hyperparameter_search`, and their Plotly figures (`figures`).
"""

import jax

jax.config.update("jax_enable_x64", True)  # the gradient check compares float32 with float64

from optviz.diagnose.gradcheck import GradCheck, grad_check, step_sweep  # noqa: E402
from optviz.diagnose.hyperparameter_search import Search, search, search_chunks, zoom  # noqa: E402
from optviz.diagnose.network import INITS, Network, Snapshot, init_params, snapshot  # noqa: E402
from optviz.diagnose.training import PROBE_SIZE as _PROBE_SIZE  # noqa: E402
from optviz.diagnose.training import Run, branch, train, train_epochs, train_together, training_data  # noqa: E402


def init_stats(init: str, activation: str, layers: int, seed: int = 0, width: int = 256) -> Snapshot:
    """The network at initialization on the first PROBE_SIZE training digits: its data loss (ln 10 =
    2.303 for a network that guesses uniformly, what a sane init gives) and, per hidden layer,
    act_std, grad_std, dead and saturated (network.LayerStats) with their histograms."""
    network = Network(layers, width, activation, init)
    x, y, _, _ = training_data(_PROBE_SIZE)
    return snapshot(init_params(network, seed), x, y, activation)


__all__ = [
    "INITS",
    "GradCheck",
    "Network",
    "Run",
    "Search",
    "Snapshot",
    "branch",
    "grad_check",
    "init_stats",
    "search",
    "search_chunks",
    "step_sweep",
    "train",
    "train_epochs",
    "train_together",
    "zoom",
]
