import numpy as np
import pytest
import torch

import paper_data
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


def _offline(monkeypatch, source="MNIST"):
    """torchvision's download as it fails without a network."""
    import torchvision

    def no_network(*args, **kwargs):
        raise RuntimeError("network unreachable")

    monkeypatch.setattr(getattr(torchvision.datasets, source), "download", no_network)


def test_mnist_loader_reads_torchvision_files(tmp_path, monkeypatch):
    _offline(monkeypatch)
    paper_data.write_mnist(tmp_path, train_per_class=3, test_per_class=2)
    paper_data.write_checksums(tmp_path, tmp_path / "sums.json")
    receipt = data.fetch("mnist", tmp_path, tmp_path / "sums.json")
    # the verified archives are unpacked beside themselves, where torchvision reads
    assert (tmp_path / "MNIST/raw/train-images-idx3-ubyte").is_file()
    assert "MNIST/raw/t10k-labels-idx1-ubyte" in receipt
    d = data.prepare("mnist", n_train=20, n_test=None, size=10, flatten=True, root=tmp_path,
                     receipt=receipt)
    assert d.x_train.shape == (20, 100) and d.x_test.shape == (20, 100)
    assert sorted(d.y_test.tolist()) == sorted(np.repeat(np.arange(10), 2).tolist())


def test_cifar10_loader_reads_torchvision_files(tmp_path, monkeypatch):
    # torchvision checks the batches against the real archive's md5s: a checksum file (config
    # key resources_checksums) gives the fabricated files' own, and the loader passes them on
    _offline(monkeypatch, "CIFAR10")
    paper_data.write_cifar10(tmp_path, train_per_class=2, test_per_class=1)
    paper_data.write_checksums(tmp_path, tmp_path / "sums.json")
    d = data.prepare("cifar10", root=tmp_path, checksums=tmp_path / "sums.json")
    assert d.x_train.shape == (20, 3, 32, 32) and d.x_test.shape == (10, 3, 32, 32)
    assert sorted(d.y_train.tolist()) == sorted(np.repeat(np.arange(10), 2).tolist())


def test_published_checksums_are_torchvisions_and_refuse_other_files(tmp_path, monkeypatch):
    import torchvision

    assert data.raw_files("cifar10")["cifar-10-batches-py/test_batch"] == dict(
        torchvision.datasets.CIFAR10.test_list)["test_batch"]
    assert set(data.raw_files("mnist")) == {f"MNIST/raw/{n}" for n, _ in
                                            torchvision.datasets.MNIST.resources}
    _offline(monkeypatch)
    paper_data.write_mnist(tmp_path, train_per_class=1, test_per_class=1)
    with pytest.raises(data.DatasetMissingError, match=r"fail their md5 checksums") as e:
        data.fetch("mnist", tmp_path)
    assert str(tmp_path / "MNIST/raw/train-images-idx3-ubyte.gz") in str(e.value)


def test_missing_files_are_each_named_with_where_to_get_them(tmp_path, monkeypatch):
    _offline(monkeypatch)
    paper_data.write_mnist(tmp_path, train_per_class=1, test_per_class=1)
    paper_data.write_checksums(tmp_path, tmp_path / "sums.json")
    (tmp_path / "MNIST/raw/t10k-labels-idx1-ubyte.gz").unlink()
    (tmp_path / "MNIST/raw/train-images-idx3-ubyte.gz").unlink()
    with pytest.raises(data.DatasetMissingError) as e:
        data.fetch("mnist", tmp_path, tmp_path / "sums.json")
    message = str(e.value)
    assert "lacks 2 file(s)" in message and "network unreachable" in message
    assert str(tmp_path / "MNIST/raw/t10k-labels-idx1-ubyte.gz") in message
    assert str(tmp_path / "MNIST/raw/train-images-idx3-ubyte.gz") in message
    assert "train-labels" not in message  # present files are not listed
    assert "https://" in message


def test_cifar10_missing_says_which_archive_to_unpack(tmp_path, monkeypatch):
    _offline(monkeypatch, "CIFAR10")
    with pytest.raises(data.DatasetMissingError, match=r"cifar-10-python\.tar\.gz") as e:
        data.prepare("cifar10", root=tmp_path)
    assert str(tmp_path / "cifar-10-batches-py/data_batch_5") in str(e.value)


def test_raw_files_changed_after_fetch_are_refused(tmp_path, monkeypatch):
    _offline(monkeypatch)
    paper_data.write_mnist(tmp_path, train_per_class=1, test_per_class=1)
    paper_data.write_checksums(tmp_path, tmp_path / "sums.json")
    receipt = data.fetch("mnist", tmp_path, tmp_path / "sums.json")
    (tmp_path / "MNIST/raw/t10k-labels-idx1-ubyte").write_bytes(b"edited")
    with pytest.raises(data.DatasetMissingError, match="changed since they were verified"):
        data.prepare("mnist", root=tmp_path, receipt=receipt)
