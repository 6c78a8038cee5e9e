"""Small datasets bundled with optviz, so that nothing downloads at run time."""

from optviz.data.mnist import TRAIN_SIZE, Digits, load, read_idx

__all__ = ["TRAIN_SIZE", "Digits", "load", "read_idx"]
