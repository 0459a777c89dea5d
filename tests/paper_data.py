"""Small fabricated MNIST and CIFAR-10 in torchvision's own on-disk formats, so the paper
scale's loaders run offline. The images are class-dependent patterns plus noise (learnable, so
training does something), a few per class.

torchvision checks CIFAR-10's batches against the md5s of the real archive, which fabricated
files cannot match: `write_checksums` writes the files' own md5s to a JSON file that the
config key `resources_checksums` names, and the pipeline verifies against it instead."""

import gzip
import hashlib
import json
import pickle
from pathlib import Path

import numpy as np


def _images(rng, n_per_class: int, shape: tuple[int, ...]):
    """uint8 images: a fixed random pattern per class, plus noise; labels balanced."""
    patterns = rng.integers(0, 256, (10, *shape))
    labels = np.repeat(np.arange(10), n_per_class)
    rng.shuffle(labels)
    noise = rng.normal(0, 40, (len(labels), *shape))
    return np.clip(patterns[labels] + noise, 0, 255).astype(np.uint8), labels.astype(np.uint8)


def _idx(array: np.ndarray) -> bytes:
    """The big-endian idx format of MNIST's files."""
    magic = {1: 0x0801, 3: 0x0803}[array.ndim]
    header = magic.to_bytes(4, "big") + b"".join(n.to_bytes(4, "big") for n in array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_mnist(root: Path, train_per_class: int, test_per_class: int, seed: int = 0) -> None:
    """<root>/MNIST/raw/*-ubyte.gz, as published; torchvision reads the unpacked files, which
    the pipeline's fetch step unpacks from the archives it has verified."""
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for split, n in (("train", train_per_class), ("t10k", test_per_class)):
        x, y = _images(rng, n, (28, 28))
        for kind, array in (("images-idx3", x), ("labels-idx1", y)):
            # mtime=0: the same bytes every time
            (raw / f"{split}-{kind}-ubyte.gz").write_bytes(gzip.compress(_idx(array), mtime=0))


def write_cifar10(root: Path, train_per_class: int, test_per_class: int, seed: int = 0) -> None:
    """<root>/cifar-10-batches-py/: data_batch_1..5, test_batch and batches.meta pickles with
    torchvision's keys (data: N x 3072 uint8, channels first; labels: list of int)."""
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    x, y = _images(rng, train_per_class, (3, 32, 32))
    for i, part in enumerate(np.array_split(np.arange(len(y)), 5), start=1):
        batch = {"batch_label": f"training batch {i} of 5", "data": x[part].reshape(len(part), -1),
                 "labels": [int(v) for v in y[part]]}
        (folder / f"data_batch_{i}").write_bytes(pickle.dumps(batch))
    x, y = _images(rng, test_per_class, (3, 32, 32))
    test = {"batch_label": "testing batch 1 of 1", "data": x.reshape(len(y), -1),
            "labels": [int(v) for v in y]}
    (folder / "test_batch").write_bytes(pickle.dumps(test))
    meta = {"label_names": ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog",
                            "horse", "ship", "truck"], "num_cases_per_batch": len(y) // 5,
            "num_vis": 3072}
    (folder / "batches.meta").write_bytes(pickle.dumps(meta))


def write_checksums(root: Path, path: Path) -> None:
    """{path under root: md5} of every file written under root."""
    sums = {str(f.relative_to(root)): hashlib.md5(f.read_bytes()).hexdigest()
            for f in sorted(root.rglob("*")) if f.is_file() and f != path}
    path.write_text(json.dumps(sums, indent=1, sort_keys=True) + "\n")
