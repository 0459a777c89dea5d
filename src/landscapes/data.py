"""Datasets by name, prepared once into tensors: deterministic splits, downsampling, scaling.

Offline: `digits` (scikit-learn's bundled 8x8 handwritten digits, images) and `mnist1d`
(MNIST-1D generated locally by the `mnist1d` package, 40 features). Through torchvision,
downloaded into a resources folder on first use (`fetch`, which verifies every raw file's
md5 against the checksums torchvision publishes): `mnist`, `fashion_mnist`, `cifar10`. From a
user's files (`path`): `npz` (arrays `x` and `y`, optionally `x_test` and `y_test`; integer
inputs are pixels, scaled by 1/255) and `image_folder` (one subfolder of images per class, as
torchvision's ImageFolder reads it; labels in sorted folder order). Without a test split of its
own, a seeded fifth of the samples is held out for testing.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from landscapes.store import load_tensors, save_tensors

log = logging.getLogger(__name__)

OFFLINE = ("digits", "mnist1d")
TORCHVISION = {"mnist": "MNIST", "fashion_mnist": "FashionMNIST", "cifar10": "CIFAR10"}
FILES = ("npz", "image_folder")  # sources read from a user's `path`
SOURCES = OFFLINE + tuple(TORCHVISION) + FILES

class DatasetMissingError(RuntimeError):
    """A dataset that is neither on disk nor downloadable, or whose files fail their checksums."""


def _torchvision_class(source: str):
    import torchvision

    return getattr(torchvision.datasets, TORCHVISION[source])


def raw_files(source: str) -> dict[str, str]:
    """{path under the resources folder: md5} of the files a torchvision source is read from,
    with the checksums torchvision's own class publishes (MNIST: the .gz archives, which
    torchvision unpacks beside them; CIFAR-10: the python batches of the archive)."""
    cls = _torchvision_class(source)
    if source == "cifar10":
        files = {f"{cls.base_folder}/{n}": md5 for n, md5 in cls.train_list + cls.test_list}
        files[f"{cls.base_folder}/{cls.meta['filename']}"] = cls.meta["md5"]
        return files
    return {f"{cls.__name__}/raw/{n}": md5 for n, md5 in cls.resources}


def _where_from(source: str) -> str:
    cls = _torchvision_class(source)
    if source == "cifar10":
        return f"unpack {cls.url} there (it holds {cls.base_folder}/)"
    return f"each from {cls.mirrors[0]}<file name>"


def _digest(path: Path, algorithm: str) -> str:
    h = hashlib.new(algorithm, usedforsecurity=False)
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def read_checksums(path: str | Path | None, source: str) -> dict[str, str]:
    """The md5s to verify a source against: torchvision's, or (for fabricated or re-packed
    data) those of a JSON file {path under the resources folder: md5} that lists every file."""
    published = raw_files(source)
    if path is None:
        return published
    given = json.loads(Path(path).read_text())
    lacking = [f for f in published if f not in given]
    if lacking:
        raise DatasetMissingError(f"checksum file {path} lists no md5 for {', '.join(lacking)}")
    return {f: given[f] for f in published}


def _unpack_gz(root: Path, files) -> None:
    """torchvision's MNIST reads the unpacked idx files beside the .gz archives: unpack each
    verified archive where its idx file is missing or differs (atomically)."""
    for f in files:
        if not f.endswith(".gz"):
            continue
        gz, idx = root / f, root / f[:-3]
        content = gzip.decompress(gz.read_bytes())
        if idx.is_file() and idx.read_bytes() == content:
            continue
        tmp = idx.with_name(idx.name + ".tmp")
        tmp.write_bytes(content)
        os.replace(tmp, idx)
        log.info("unpacked %s", gz)


def fetch(source: str, root: str | Path = "resources", checksums: str | Path | None = None):
    """Make sure a torchvision source's raw files are under `root` with the right md5s,
    downloading through torchvision what is missing or corrupt. Returns the receipt
    {path under root: {md5, sha256, bytes}} of every file the loader reads. Offline, the
    error names each missing file and where to get it."""
    root = Path(root)
    expected = read_checksums(checksums, source)

    def failing():
        return [f for f, md5 in expected.items()
                if not (root / f).is_file() or _digest(root / f, "md5") != md5]

    reason = ""
    if failing():
        try:
            log.info("downloading %s into %s", source, root)
            _torchvision_class(source)(str(root), train=True, download=True)
        except Exception as e:  # no network, or a broken mirror
            reason = f" (download failed: {str(e).strip().splitlines()[0]})"
    bad = failing()
    missing = [f for f in bad if not (root / f).is_file()]
    if missing:
        raise DatasetMissingError(
            f"dataset source '{source}' lacks {len(missing)} file(s) in {root}/ and could not "
            f"be downloaded{reason}. Put these files there, {_where_from(source)}:\n"
            + "\n".join(f"  {root / f}" for f in missing))
    if bad:
        raise DatasetMissingError(
            f"dataset source '{source}': these files in {root}/ fail their md5 checksums "
            f"(expected {', '.join(expected[f] for f in bad)}){reason}; replace them, "
            f"{_where_from(source)}:\n" + "\n".join(f"  {root / f}" for f in bad))
    _unpack_gz(root, expected)
    read = {f: expected[f] for f in expected}
    read.update({f[:-3]: None for f in expected if f.endswith(".gz")})
    return {f: {"md5": md5 or _digest(root / f, "md5"), "sha256": _digest(root / f, "sha256"),
                "bytes": (root / f).stat().st_size} for f, md5 in sorted(read.items())}


@dataclass
class Dataset:
    """A prepared dataset: float inputs (N, C, H, W) or (N, D) and int64 labels."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    name: str
    n_classes: int

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[1:])

    def save(self, path) -> None:
        save_tensors(path, {"x_train": self.x_train, "y_train": self.y_train,
                            "x_test": self.x_test, "y_test": self.y_test},
                     {"name": self.name, "n_classes": self.n_classes})

    @classmethod
    def load(cls, path) -> Dataset:
        t, meta = load_tensors(path)
        return cls(t["x_train"], t["y_train"], t["x_test"], t["y_test"], meta["name"],
                   meta["n_classes"])


def _split(n: int, n_train: int | None, n_test: int | None, seed: int):
    """A seeded permutation cut into disjoint train and test indices."""
    perm = np.random.default_rng(seed).permutation(n)
    n_train = n - (n_test or 0) if n_train is None else n_train
    n_test = n - n_train if n_test is None else n_test
    if n_train + n_test > n:
        raise ValueError(f"n_train + n_test = {n_train + n_test} exceeds the {n} samples available")
    return perm[:n_train], perm[n_train:n_train + n_test]


def _subsample(n: int, k: int | None, seed: int) -> np.ndarray:
    if k is None or k >= n:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).permutation(n)[:k])


def _digits(n_train, n_test, seed):
    from sklearn.datasets import load_digits

    d = load_digits()
    x = torch.tensor(d.images, dtype=torch.float32).unsqueeze(1) / 16.0
    y = torch.tensor(d.target, dtype=torch.int64)
    tr, te = _split(len(y), n_train, n_test, seed)
    return x[tr], y[tr], x[te], y[te], 10


def _mnist1d(n_train, n_test, seed):
    from mnist1d.data import get_dataset_args, make_dataset

    n_train = 4000 if n_train is None else n_train
    n_test = 1000 if n_test is None else n_test
    total = n_train + n_test
    if total % 10:
        raise ValueError(f"mnist1d needs n_train + n_test divisible by 10, got {total}")
    args = get_dataset_args()
    args.num_samples, args.train_split, args.seed = total, n_train / total, seed
    state = np.random.get_state()  # make_dataset seeds numpy's global generator
    try:
        d = make_dataset(args)
    finally:
        np.random.set_state(state)
    f = lambda a: torch.tensor(np.asarray(a), dtype=torch.float32)  # noqa: E731
    i = lambda a: torch.tensor(np.asarray(a), dtype=torch.int64)  # noqa: E731
    return f(d["x"]), i(d["y"]), f(d["x_test"]), i(d["y_test"]), 10


def _check_receipt(root: Path, receipt: dict) -> None:
    """The raw files are still the bytes `fetch` verified."""
    changed = [f for f, r in receipt.items()
               if not (root / f).is_file() or _digest(root / f, "sha256") != r["sha256"]]
    if changed:
        raise DatasetMissingError(
            "these raw files changed since they were verified (rerun rule fetch_data): "
            + ", ".join(str(root / f) for f in changed))


def _torchvision(name, root, n_train, n_test, seed, receipt=None, checksums=None):
    root = Path(root)
    if receipt is None:
        receipt = fetch(name, root, checksums)
    else:
        _check_receipt(root, receipt)
    cls = _torchvision_class(name)
    if name == "cifar10":
        # torchvision checks each batch against the md5s its class lists: a subclass lists
        # those just verified (the published ones, or a checksum file's for fabricated data)
        md5 = lambda n: receipt[f"{cls.base_folder}/{n}"]["md5"]  # noqa: E731
        cls = type(cls.__name__, (cls,), {
            "train_list": [[n, md5(n)] for n, _ in cls.train_list],
            "test_list": [[n, md5(n)] for n, _ in cls.test_list],
            "meta": {**cls.meta, "md5": md5(cls.meta["filename"])}})

    out = []
    for train, k, s in ((True, n_train, seed), (False, n_test, seed + 1)):
        ds = cls(str(root), train=train, download=False)
        data = ds.data if isinstance(ds.data, torch.Tensor) else torch.tensor(ds.data)
        x = data.float() / 255.0
        x = x.unsqueeze(1) if x.ndim == 3 else x.permute(0, 3, 1, 2)  # CIFAR is NHWC
        y = torch.as_tensor(ds.targets, dtype=torch.int64)
        idx = torch.from_numpy(_subsample(len(y), k, s))
        out += [x[idx].contiguous(), y[idx].contiguous()]
    return (*out, 10)


def _shuffled(x, y, k, seed):
    """`k` samples (all for None) in a seeded random order: a user's file may be sorted by
    class, and measurements on a subset take its first samples."""
    idx = torch.from_numpy(np.random.default_rng(seed).permutation(len(y))[:k])
    return x[idx].contiguous(), y[idx].contiguous()


def _from_arrays(x, y, x_test, y_test, n_train, n_test, seed, where):
    """Train and test splits of user arrays: the given test split, or a seeded split of x
    (a fifth held out unless n_test says otherwise)."""
    if x_test is None:
        if n_test is None:
            n_test = max(1, len(y) // 5) if n_train is None else len(y) - n_train
        tr, te = _split(len(y), n_train, n_test, seed)
        x_test, y_test, x, y = x[te], y[te], x[tr], y[tr]
        n_train = n_test = None
    for key, n, have in (("n_train", n_train, len(y)), ("n_test", n_test, len(y_test))):
        if n is not None and n > have:
            raise ValueError(f"{where}: {key} = {n} exceeds the {have} samples there")
    if not len(y) or not len(y_test):
        raise ValueError(f"{where}: the training and the test split each need samples "
                         f"({len(y)} and {len(y_test)} here)")
    x, y = _shuffled(x, y, n_train, seed)
    x_test, y_test = _shuffled(x_test, y_test, n_test, seed + 1)
    n_classes = int(max(y.max(), y_test.max())) + 1
    return x, y, x_test, y_test, n_classes


def _as_inputs(a: np.ndarray, where: str, key: str) -> torch.Tensor:
    if a.dtype.kind in "ui":
        return torch.from_numpy(a.astype(np.float32) / 255.0)  # pixels
    if a.dtype.kind != "f":
        raise ValueError(f"{where}: '{key}' holds {a.dtype} values; expected numbers "
                         "(float inputs, or integer pixels 0..255)")
    return torch.from_numpy(a.astype(np.float32))


def _as_labels(a: np.ndarray, n: int, where: str, key: str) -> torch.Tensor:
    if a.ndim != 1 or len(a) != n or a.dtype.kind not in "ui" or (len(a) and a.min() < 0):
        raise ValueError(f"{where}: '{key}' must be {n} non-negative integer class labels "
                         f"(shape ({n},)), got {a.dtype} of shape {a.shape}")
    return torch.from_numpy(a.astype(np.int64))


def _npz(path, n_train, n_test, seed):
    where = str(path)
    try:
        z = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise DatasetMissingError(f"{where}: cannot read it as an .npz of arrays x and y "
                                  f"({e})") from e
    with z:
        missing = [k for k in ("x", "y") if k not in z.files]
        if missing or ("x_test" in z.files) != ("y_test" in z.files):
            raise ValueError(f"{where}: expected arrays 'x' (inputs, one row per sample) and "
                             f"'y' (integer labels), optionally 'x_test' and 'y_test'; it "
                             f"holds {', '.join(z.files) or 'nothing'}")
        x = _as_inputs(z["x"], where, "x")
        y = _as_labels(z["y"], len(x), where, "y")
        x_test = y_test = None
        if "x_test" in z.files:
            x_test = _as_inputs(z["x_test"], where, "x_test")
            y_test = _as_labels(z["y_test"], len(x_test), where, "y_test")
            if x_test.shape[1:] != x.shape[1:]:
                raise ValueError(f"{where}: 'x_test' samples have shape "
                                 f"{tuple(x_test.shape[1:])}, 'x' samples "
                                 f"{tuple(x.shape[1:])}")
    return _from_arrays(x, y, x_test, y_test, n_train, n_test, seed, where)


def _image_folder(path, n_train, n_test, seed):
    import torchvision
    from torchvision.transforms.functional import pil_to_tensor

    if not Path(path).is_dir():
        raise DatasetMissingError(f"{path}: no such folder; an image folder holds one "
                                  "subfolder of images per class (<path>/<class>/<image>)")
    try:
        folder = torchvision.datasets.ImageFolder(str(path))
    except (FileNotFoundError, RuntimeError) as e:
        raise ValueError(f"{path}: expected one subfolder of images per class "
                         f"(<path>/<class>/<image>): {e}") from e
    images = [pil_to_tensor(folder.loader(f)) for f, _ in folder.samples]
    shapes = {tuple(im.shape) for im in images}
    if len(shapes) > 1:
        first = {tuple(im.shape): f for im, (f, _) in zip(images, folder.samples)}
        raise ValueError(f"{path}: images differ in size ("
                         + ", ".join(f"{f}: {s}" for s, f in sorted(first.items())[:3])
                         + "); every image of a folder must have the same size")
    x = torch.stack(images).float() / 255.0
    y = torch.tensor([c for _, c in folder.samples], dtype=torch.int64)
    out = _from_arrays(x, y, None, None, n_train, n_test, seed, str(path))
    return (*out[:4], len(folder.classes))


def downsample(x: torch.Tensor, size: int) -> torch.Tensor:
    """Images (N, C, H, W) averaged down to size x size (area interpolation, as pooling)."""
    return F.interpolate(x, size=(size, size), mode="area")


def standardize(x_train: torch.Tensor, x_test: torch.Tensor):
    """Zero mean, unit variance per channel (images) or per feature (vectors), train statistics."""
    dims = (0, 2, 3) if x_train.ndim == 4 else (0,)
    mean = x_train.mean(dim=dims, keepdim=True)
    std = x_train.std(dim=dims, keepdim=True).clamp_min(1e-8)
    return (x_train - mean) / std, (x_test - mean) / std


def prepare(source: str, n_train: int | None = None, n_test: int | None = None, seed: int = 0,
            size: int | None = None, flatten: bool = False, normalize: bool = True,
            root: str | Path = "resources", name: str | None = None, receipt: dict | None = None,
            checksums: str | Path | None = None, path: str | Path | None = None) -> Dataset:
    """Build a dataset by name, ready to train on. A torchvision source is read from `root`:
    checked against `receipt` (what `fetch` verified), else fetched and verified here; `path`
    is the file or folder of `npz` and `image_folder`."""
    if source not in SOURCES:
        raise ValueError(f"unknown dataset source '{source}'; allowed: {', '.join(SOURCES)}")
    if source in FILES and path is None:
        raise ValueError(f"dataset source '{source}' reads a file: give its path")
    if source == "npz":
        xs = _npz(path, n_train, n_test, seed)
    elif source == "image_folder":
        xs = _image_folder(path, n_train, n_test, seed)
    elif source == "digits":
        xs = _digits(n_train, n_test, seed)
    elif source == "mnist1d":
        xs = _mnist1d(n_train, n_test, seed)
    else:
        xs = _torchvision(source, root, n_train, n_test, seed, receipt, checksums)
    x_train, y_train, x_test, y_test, n_classes = xs
    if size is not None:
        if x_train.ndim != 4:
            raise ValueError(f"dataset '{source}' has no images to downsample")
        x_train, x_test = downsample(x_train, size), downsample(x_test, size)
    if normalize:
        x_train, x_test = standardize(x_train, x_test)
    if flatten:
        x_train, x_test = x_train.flatten(1), x_test.flatten(1)
    return Dataset(x_train.contiguous(), y_train, x_test.contiguous(), y_test,
                   name or source, n_classes)
