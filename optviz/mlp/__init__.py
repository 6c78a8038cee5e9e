"""The MLP lesson (page /mlp): backpropagation on small computation graphs (`autodiff`), a
784-hidden-10 network trained on the bundled digits with the shared optimizers (`model`, re-exported
here: `from optviz import mlp; mlp.train(...)`), its Plotly figures (`figures`), the trained
network's loss landscape with the optimizers' paths in it (`landscape`, drawn by `landscape_figures`),
and a hand-drawn digit made into an MNIST digit and explained by a trained network (`digit`).
"""

from optviz.mlp.model import *  # noqa: F403
from optviz.mlp.model import __all__  # noqa: F401
