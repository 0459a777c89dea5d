import pickle

import numpy as np
import pytest
import torch

from landscapes import data


def test_digits_split_is_deterministic_and_disjoint():
    a = data.prepare("digits", n_train=100, n_test=50, seed=3)
    b = data.prepare("digits", n_train=100, n_test=50, seed=3)
    c = data.prepare("digits", n_train=100, n_test=50, seed=4)
    assert a.x_train.shape == (100, 1, 8, 8) and a.x_test.shape == (50, 1, 8, 8)
    assert torch.equal(a.x_train, b.x_train) and torch.equal(a.y_test, b.y_test)
    assert not torch.equal(a.x_train, c.x_train)
    raw = data.prepare("digits", n_train=100, n_test=50, seed=3, normalize=False)
    train_rows = {tuple(r) for r in raw.x_train.flatten(1).tolist()}
    assert not any(tuple(r) in train_rows for r in raw.x_test.flatten(1).tolist())


def test_standardize_uses_training_statistics():
    d = data.prepare("digits", n_train=300, n_test=100, seed=0)
    assert abs(d.x_train.mean().item()) < 1e-5
    assert abs(d.x_train.std().item() - 1) < 1e-3
    assert abs(d.x_test.mean().item()) > 1e-6  # test set is not re-centred on itself


def test_mnist1d_generated_offline():
    d = data.prepare("mnist1d", n_train=400, n_test=100, seed=1, flatten=True)
    assert d.x_train.shape == (400, 40) and d.x_test.shape == (100, 40)
    assert set(d.y_train.tolist()) == set(range(10))
    again = data.prepare("mnist1d", n_train=400, n_test=100, seed=1, flatten=True)
    assert torch.equal(d.x_train, again.x_train)


def test_mnist1d_rejects_counts_not_divisible_by_ten():
    with pytest.raises(ValueError, match="divisible by 10"):
        data.prepare("mnist1d", n_train=401, n_test=100)


def test_downsample_and_flatten():
    d = data.prepare("digits", n_train=50, n_test=20, size=4, flatten=True)
    assert d.x_train.shape == (50, 16)
    x = torch.arange(16.0).view(1, 1, 4, 4)
    assert torch.allclose(data.downsample(x, 2), torch.tensor([[[[2.5, 4.5], [10.5, 12.5]]]]))


def test_unknown_source_is_named():
    with pytest.raises(ValueError, match="unknown dataset source 'imagenet'"):
        data.prepare("imagenet")


def test_roundtrip(tmp_path):
    d = data.prepare("digits", n_train=50, n_test=20)
    d.save(tmp_path / "d.safetensors")
    e = data.Dataset.load(tmp_path / "d.safetensors")
    assert torch.equal(d.x_train, e.x_train) and e.n_classes == 10 and e.name == "digits"


def _write_idx(path, array):
    """torchvision's on-disk MNIST format: big-endian idx files."""
    array = np.asarray(array, dtype=np.uint8)
    magic = {1: 0x0801, 3: 0x0803}[array.ndim]
    header = magic.to_bytes(4, "big") + b"".join(n.to_bytes(4, "big") for n in array.shape)
    path.write_bytes(header + array.tobytes())


def test_mnist_loader_reads_torchvision_files(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for split, n in (("train", 30), ("t10k", 12)):
        _write_idx(raw / f"{split}-images-idx3-ubyte", rng.integers(0, 256, (n, 28, 28)))
        _write_idx(raw / f"{split}-labels-idx1-ubyte", np.arange(n) % 10)
    d = data.prepare("mnist", n_train=20, n_test=None, size=10, flatten=True, root=tmp_path)
    assert d.x_train.shape == (20, 100) and d.x_test.shape == (12, 100)
    assert sorted(d.y_test.tolist()) == sorted((np.arange(12) % 10).tolist())


def test_cifar10_loader_reads_torchvision_files(tmp_path, monkeypatch):
    import torchvision

    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.default_rng(0)
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for name in names:
        batch = {"data": rng.integers(0, 256, (4, 3072), dtype=np.uint8),
                 "labels": list(rng.integers(0, 10, 4))}
        (folder / name).write_bytes(pickle.dumps(batch))
    meta = {"label_names": [str(i) for i in range(10)]}
    (folder / "batches.meta").write_bytes(pickle.dumps(meta))
    # the files are ours, so torchvision's checksums of the real archive cannot match
    monkeypatch.setattr(torchvision.datasets.CIFAR10, "_check_integrity", lambda self: True)
    monkeypatch.setattr(torchvision.datasets.cifar, "check_integrity", lambda *a, **k: True)
    d = data.prepare("cifar10", root=tmp_path)
    assert d.x_train.shape == (20, 3, 32, 32) and d.x_test.shape == (4, 3, 32, 32)


def test_missing_dataset_says_where_to_put_it(tmp_path, monkeypatch):
    import torchvision

    def no_network(self):
        raise OSError("network unreachable")

    monkeypatch.setattr(torchvision.datasets.MNIST, "download", no_network)
    with pytest.raises(data.DatasetMissingError, match=r"MNIST/raw/.*ubyte"):
        data.prepare("mnist", root=tmp_path)
