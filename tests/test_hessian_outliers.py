"""The outlier counts, the class restriction and the nets' spectra against cases with known
answers: planted spectra (a bulk plus k outliers), an SLQ of a planted matrix, and the closed-form
spectrum against autograd's."""

import numpy as np
import pytest
import torch

from landscapes import hessian_outliers as outliers
from landscapes.data import Dataset
from landscapes.hessian import exact_hessian, full_batch_loss, matvec_of, slq_density
from landscapes.params import FlatModel
from landscapes.train import TrainConfig, init_model, train


def planted(k, dim=400, bulk=1e-3, seed=0):
    """A bulk of |N(0, bulk)| values near zero and k outliers spread over [1, 10]."""
    rng = np.random.default_rng(seed)
    return np.concatenate([bulk * rng.standard_normal(dim - k), np.geomspace(1.0, 10.0, k)])


@pytest.mark.parametrize("k", [1, 2, 5, 10])
def test_gap_count_reads_the_planted_outliers(k):
    spectrum = planted(k)
    assert outliers.gap_count(spectrum, window=20) == k
    assert outliers.gap_count(np.random.default_rng(1).permutation(spectrum), window=20) == k


def test_gap_count_sees_only_its_window():
    # the widest gap lies below the window's reach: the count is the widest gap inside it
    spectrum = np.concatenate([np.geomspace(2.0, 1.0, 8), [1e-3] * 10])
    assert outliers.gap_count(spectrum, window=20) == 8
    assert outliers.gap_count(spectrum, window=4) < 8


def test_gap_count_floors_the_bulk_at_zero():
    # negative and zero eigenvalues below: the ratio to the floor, not a sign flip
    spectrum = np.array([5.0, 4.0, 3.0, 0.0, -1e-3, -2e-3])
    assert outliers.gap_count(spectrum, window=5) == 3
    np.testing.assert_allclose(outliers.ratio_gaps(spectrum, 3)[2], 3.0 / 5e-6)


def test_gap_count_rejects_broken_spectra():
    with pytest.raises(ValueError):
        outliers.gap_count([1.0, np.nan, 0.5], window=2)
    with pytest.raises(ValueError):
        outliers.gap_count([-1.0, -2.0], window=2)


@pytest.mark.parametrize("k", [2, 6])
def test_bulk_count_reads_the_planted_outliers(k):
    assert outliers.bulk_count(planted(k), quantile=0.9, factor=10.0) == k


def test_gap_value_separates_the_outliers():
    spectrum = planted(4)
    cut = outliers.gap_value(spectrum, 4)
    assert (spectrum > cut).sum() == 4
    assert cut == pytest.approx(np.sqrt(1.0 * np.sort(spectrum)[-5]))


def test_slq_of_a_planted_matrix_puts_its_mass_on_the_planted_eigenvalues():
    k, dim = 5, 300
    spectrum = planted(k, dim)
    q, _ = torch.linalg.qr(torch.randn(dim, dim, generator=torch.Generator().manual_seed(0),
                                       dtype=torch.float64))
    matrix = q @ torch.diag(torch.as_tensor(spectrum)) @ q.T
    density = slq_density(matvec_of(matrix), dim, steps=40, n_probes=8, seed=0)
    # the outliers are Ritz values of every probe, to many digits
    for row in density.nodes:
        top = np.sort(row.numpy())[::-1][:k]
        np.testing.assert_allclose(top, np.sort(spectrum)[::-1][:k], rtol=1e-8)
    # about k eigenvalues' mass above the gap, the rest within the bulk near zero
    mass = outliers.slq_mass_above(density.nodes, density.weights, dim, 0.5)
    assert mass == pytest.approx(k, rel=0.5)
    near_zero = outliers.slq_mass_above(-density.nodes, density.weights, dim, -0.01)
    assert near_zero == pytest.approx(dim - k, rel=0.02)
    assert outliers.gap_count(density.nodes[0].numpy(), window=20) == k


def toy_data(n_classes=4, per_class=30, dim=6, seed=0):
    gen = torch.Generator().manual_seed(seed)
    y = torch.arange(n_classes).repeat_interleave(per_class)
    x = torch.randn(len(y), dim, generator=gen) + 3 * torch.eye(n_classes, dim)[y]
    return Dataset(x, y, x[::3].clone(), y[::3].clone(), "toy", n_classes)


def test_restrict_classes_keeps_the_first_k():
    data = toy_data()
    sub = outliers.restrict_classes(data, 3)
    assert sub.n_classes == 3 and set(sub.y_train.tolist()) == {0, 1, 2}
    assert len(sub.y_train) == 90 and len(sub.y_test) == 30
    torch.testing.assert_close(sub.x_train, data.x_train[data.y_train < 3])
    with pytest.raises(ValueError):
        outliers.restrict_classes(data, 5)
    with pytest.raises(ValueError):
        outliers.restrict_classes(data, 1)


def test_by_class_count_and_counts_read_stored_arrays():
    arrays = {"k2": planted(2), "k10": planted(10), "other": np.zeros(3)}
    assert list(outliers.by_class_count(arrays, "k")) == [2, 10]
    assert outliers.counts(arrays, "mlp", {"window": 20}) == {2: 2, 10: 10}
    conv = {"nodes_k3": planted(3, 40)[None], "weights_k3": np.full((1, 40), 1 / 40)}
    assert outliers.counts(conv, "conv", {"window": 20}) == {3: 3}
    with pytest.raises(ValueError):
        outliers.counts(arrays, "resnet", {"window": 20})


TRAIN = {"epochs": 30, "batch_size": 30, "optimizer": "sgd", "lr": 0.1, "momentum": 0.9}


def test_mlp_spectrum_is_the_whole_exact_spectrum():
    data = toy_data()
    spec = {"name": "mlp", "hidden": [5], "activation": "tanh"}
    row, eigenvalues = outliers.mlp_spectrum(spec, TRAIN, data, 3, seed=0)
    assert row["k"] == 3 and row["dim"] == 6 * 5 + 5 + 5 * 3 + 3 == eigenvalues.size
    assert row["train_acc"] == 1.0 and row["grad_norm"] < 0.1
    # autograd's Hessian of the same trained net has the same spectrum
    sub = outliers.restrict_classes(data, 3)
    net = init_model(spec, sub, 0)
    train(net, sub, TrainConfig(**TRAIN), 0)
    flat = FlatModel(net, "eval")
    h = exact_hessian(full_batch_loss(flat, sub.x_train, sub.y_train), flat.theta0.double())
    np.testing.assert_allclose(eigenvalues, torch.linalg.eigvalsh(h).numpy(), atol=1e-10)
    with pytest.raises(ValueError):
        outliers.mlp_spectrum({"name": "mlp", "hidden": [4, 4]}, TRAIN, data, 3, seed=0)


def test_conv_density_is_the_hessians_slq():
    data = toy_data(dim=64)
    data = Dataset(data.x_train.view(-1, 1, 8, 8), data.y_train, data.x_test.view(-1, 1, 8, 8),
                   data.y_test, "toy_images", data.n_classes)
    spec = {"name": "c1", "width": 0.0625, "dropout": 0.0}
    settings = dict(TRAIN, epochs=3, optimizer="adam", lr=0.01, momentum=0.0)
    row, density = outliers.conv_density(spec, settings, data, 2, seed=0, steps=6, n_probes=2)
    assert density.nodes.shape == (2, 6) and row["k"] == 2
    np.testing.assert_allclose(density.weights.sum(1).numpy(), 1.0, rtol=1e-10)
    assert row["lambda_max"] == pytest.approx(float(density.nodes.max()))
