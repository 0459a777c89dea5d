"""The Bezier curve, its training and the plane through its three points, on a toy loss whose
valley is a known circle: the line between two points of the valley crosses a barrier of known
height at the circle's centre, a trained curve goes round it."""

import math

import numpy as np
import pytest
import torch
from torch import nn

from landscapes import mode_connectivity as mc
from landscapes.data import Dataset
from landscapes.linear import barrier, permuted_copy
from landscapes.params import Layout, vector
from landscapes.train import TrainConfig

A, B = 6.0, 10.0  # depth of the valley, height of the centre above it


def softplus(z):
    return math.log1p(math.exp(z))


class Ring(nn.Module):
    """Logits (A - B (|w| - 1)^2, 0) for every input: with label 0 the cross-entropy is
    softplus(B (|w| - 1)^2 - A), lowest on the unit circle, highest at its centre."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.tensor([-1.0, 0.0], dtype=torch.float64))

    def forward(self, x):
        g = A - B * (torch.sqrt((self.w ** 2).sum()) - 1) ** 2
        zero = torch.zeros_like(x[:, 0])
        return torch.stack([g.expand_as(zero), zero], 1)


def ring_loss(w):
    return softplus(B * (np.hypot(*w) - 1) ** 2 - A)


@pytest.fixture
def ring():
    x = torch.zeros(64, 1, dtype=torch.float64)
    y = torch.zeros(64, dtype=torch.int64)
    data = Dataset(x, y, x, y, "ring", 2)
    w1 = torch.tensor([-1.0, 0.0], dtype=torch.float64)
    w2 = torch.tensor([1.0, 0.0], dtype=torch.float64)
    return Ring(), data, w1, w2


def test_bezier_coefficients_and_points_are_the_curve():
    c = mc.bezier_coefficients([0.0, 0.5, 1.0, 0.3])
    assert np.allclose(c[:3], [[1, 0, 0], [0.25, 0.5, 0.25], [0, 0, 1]])
    assert np.allclose(c.sum(1), 1.0)  # an affine combination: the curve lies in the plane
    w1, theta, w2 = torch.tensor([0.0, 0.0]), torch.tensor([1.0, 2.0]), torch.tensor([2.0, 0.0])
    assert torch.allclose(mc.bezier_point(w1, theta, w2, 0.5), torch.tensor([1.0, 1.0]))
    pts = mc.curve_points(w1, theta, w2, [0.0, 0.3, 1.0])
    assert torch.allclose(pts[0], w1) and torch.allclose(pts[-1], w2)
    assert torch.allclose(pts[1], mc.bezier_point(w1, theta, w2, 0.3))
    assert torch.allclose(mc.line_points(w1, w2, [0.25])[0], torch.tensor([0.5, 0.0]))


def test_plane_basis_is_orthonormal_and_holds_the_curve():
    g = torch.Generator().manual_seed(0)
    w1, w2, theta = (torch.randn(50, generator=g, dtype=torch.float64) for _ in range(3))
    basis = mc.plane_basis(w1, w2, theta)
    assert torch.allclose(basis @ basis.T, torch.eye(2, dtype=torch.float64), atol=1e-12)
    xy = mc.plane_coordinates(torch.stack([w1, w2, theta]), w1, basis)
    assert np.allclose(xy[0], 0) and np.isclose(xy[1, 0], float((w2 - w1).norm()))
    assert abs(xy[1, 1]) < 1e-12 and xy[2, 1] > 0  # w2 on the u axis, theta above it
    pts = mc.curve_points(w1, theta, w2, np.linspace(0, 1, 7))
    back = w1 + torch.as_tensor(mc.plane_coordinates(pts, w1, basis)) @ basis
    assert torch.allclose(back, pts, atol=1e-10)  # the projection loses nothing: in the plane
    with pytest.raises(ValueError, match="undefined"):
        mc.plane_basis(w1, w2, (w1 + w2) / 2)


def test_the_line_crosses_the_known_barrier_and_the_trained_curve_goes_round(ring):
    model, data, w1, w2 = ring
    cfg = TrainConfig(epochs=60, batch_size=16, optimizer="sgd", lr=0.05, momentum=0.9)
    # at the midpoint the bend's gradient across the line is zero by symmetry: start just off
    theta0 = torch.tensor([0.0, 0.05], dtype=torch.float64)
    theta, rows = mc.train_bend(model, w1, w2, data.x_train, data.y_train, cfg, seed=0,
                                theta0=theta0)
    assert len(rows) == 60 and rows[-1]["batch_loss"] < rows[0]["batch_loss"]
    assert torch.equal(model.w.detach(), w1)  # the model is only read
    out = mc.measure(model, w1, w2, theta, data, n_points=21, plane_points=(9, 7), margin=0.2)
    line = out["line_train_loss"]
    assert line[10] == pytest.approx(ring_loss((0.0, 0.0)), rel=1e-9)  # the centre
    assert barrier(line) == pytest.approx(softplus(B - A) - softplus(-A), rel=1e-9)
    curve = out["curve_train_loss"]
    assert barrier(curve) < 0.05 * barrier(line)
    mid = mc.bezier_point(w1, theta, w2, 0.5)
    assert float(mid[1]) > 0.5  # the curve's middle left the line for the valley (radius 1)
    # the plane: w1 at the origin, w2 at (2, 0), and the grid holds the toy loss
    xy = out["points_xy"]
    assert np.allclose(xy[:2], [[0, 0], [2, 0]]) and xy[2, 1] > 0
    i, j = 4, 3
    point = w1.numpy() + out["plane_x"][i] * np.array([1.0, 0.0]) + out["plane_y"][j] * \
        np.array([0.0, 1.0])
    assert out["plane_train_loss"][i, j] == pytest.approx(ring_loss(point), rel=1e-9)
    assert out["plane_x"].min() < 0 < 2 < out["plane_x"].max()
    # label 0 loses where g < 0: within 1 - sqrt(A / B) of the centre
    x = np.linspace(-1, 1, 21)
    assert np.array_equal(out["line_train_error"], (np.abs(x) < 1 - math.sqrt(A / B)) * 1.0)
    assert out["curve_train_error"].max() == 0


def test_bend_training_is_seeded(ring):
    model, data, w1, w2 = ring
    cfg = TrainConfig(epochs=3, batch_size=16, optimizer="sgd", lr=0.05, momentum=0.9)
    theta0 = torch.tensor([0.0, 0.05], dtype=torch.float64)
    a, _ = mc.train_bend(model, w1, w2, data.x_train, data.y_train, cfg, 1, theta0=theta0)
    b, _ = mc.train_bend(model, w1, w2, data.x_train, data.y_train, cfg, 1, theta0=theta0)
    c, _ = mc.train_bend(model, w1, w2, data.x_train, data.y_train, cfg, 2, theta0=theta0)
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_bend_training_leaves_batchnorm_statistics_alone():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    w = vector(model)
    x, y = torch.randn(32, 3), torch.randint(0, 2, (32,))
    cfg = TrainConfig(epochs=1, batch_size=8, optimizer="sgd", lr=0.1)
    theta, _ = mc.train_bend(model, w, w + 0.1, x, y, cfg, 0)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert theta.shape == w.shape and not torch.equal(theta, w + 0.05)


def test_permuted_copy_is_the_same_function_at_another_point():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 3)).double()
    perm, flat = permuted_copy(model, seed=4)
    assert torch.equal(perm, torch.randperm(8, generator=torch.Generator().manual_seed(4)))
    other = mc.model_at(model, flat)
    x = torch.randn(10, 5, dtype=torch.float64)
    assert torch.allclose(other(x), model(x), atol=1e-12)
    assert not torch.equal(flat, vector(model))
    assert torch.equal(other[0].weight, model[0].weight[perm])


def test_model_at_copies_and_leaves_the_model():
    model = nn.Linear(3, 2)
    w = vector(model)
    moved = mc.model_at(model, w + 1)
    assert torch.equal(vector(moved), w + 1) and torch.equal(vector(model), w)
    assert Layout.of(moved) == Layout.of(model)


def test_endpoint_seeds_differ_within_and_across_replicates():
    seeds = [s for r in range(3) for s in mc.endpoint_seeds(r)]
    assert len(set(seeds)) == len(seeds) and mc.endpoint_seeds(0)[0] == 0
