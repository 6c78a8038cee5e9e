"""Small datasets bundled with optviz, so that nothing downloads at run time."""

from optviz.data.mnist import Digits, load, read_idx

__all__ = ["Digits", "load", "read_idx"]
