"""The convolutions lesson (page /conv): the math on `jax.lax.conv_general_dilated` and the explicit
loops that show their work (`model`, re-exported here: `from optviz import conv; conv.conv2d(...)`),
and its Plotly figures (`figures`).
"""

from optviz.conv.model import *  # noqa: F403
from optviz.conv.model import __all__  # noqa: F401
