"""The convolutions lesson (page /conv): the math on `jax.lax.conv_general_dilated` and the explicit
loops that show their work (`model`, re-exported here: `from optviz import conv; conv.conv2d(...)`),
the backward pass of a 2D convolution (`backward`, re-exported too: `conv.conv2d_backward(...)`),
and its Plotly figures (`figures`).
"""

from optviz.conv.backward import *  # noqa: F403
from optviz.conv.backward import __all__ as _backward_names
from optviz.conv.model import *  # noqa: F403
from optviz.conv.model import __all__ as _model_names

__all__ = [*_model_names, *_backward_names]
