"""The line from initialization to solution against known answers: rises of a set sequence,
a path's coordinates relative to a line set by hand, and the walk of a small net whose ends
are its initialization and its solution."""

import numpy as np
import pytest
import torch

from landscapes import init_to_solution as its
from landscapes import train
from landscapes.data import Dataset
from landscapes.params import evaluate, vector


def test_largest_rise_reads_the_biggest_step_up():
    assert its.largest_rise([3.0, 2.0, 2.5, 1.0, 1.1]) == pytest.approx(0.5)
    assert its.largest_rise([3.0, 2.0, 1.0]) == pytest.approx(-1.0)  # never rises: negative
    with pytest.raises(ValueError, match="at least two"):
        its.largest_rise([1.0])


def test_path_coordinates_of_a_path_set_by_hand():
    # the line from 0 to 2 e1: units of its length 2
    init, final = torch.zeros(3), torch.tensor([2.0, 0.0, 0.0])
    path = torch.tensor([[0.0, 0.0, 0.0], [1.0, 0.6, 0.0], [1.0, 0.0, -0.8], [2.0, 0.0, 0.0]])
    progress, distance = its.path_coordinates(path, init, final)
    np.testing.assert_allclose(progress, [0.0, 0.5, 0.5, 1.0])
    np.testing.assert_allclose(distance, [0.0, 0.3, 0.4, 0.0])
    with pytest.raises(ValueError, match="no line"):
        its.path_coordinates(path, init, init)


def test_the_plane_holds_the_line_and_the_farthest_point():
    gen = torch.Generator().manual_seed(0)
    init, final = torch.randn(20, generator=gen), torch.randn(20, generator=gen)
    path = torch.stack([init + t * (final - init) + (t * (1 - t)) * torch.randn(20, generator=gen)
                        for t in torch.linspace(0, 1, 7)])
    d = its.plane_directions(path, init, final)
    assert float(d[0] @ d[1]) == pytest.approx(0.0, abs=1e-5)
    assert float(d[1].norm()) == pytest.approx(float(d[0].norm()), rel=1e-6)
    coords = its.in_plane(path, init, d)
    progress, distance = its.path_coordinates(path, init, final)
    np.testing.assert_allclose(coords[:, 0], progress, atol=1e-6)
    far = int(distance.argmax())  # in the plane by construction: its coordinates are exact
    assert coords[far, 1] == pytest.approx(distance[far], rel=1e-5)
    assert np.all(np.abs(coords[:, 1]) <= distance + 1e-6)
    # a path on the line has no side direction
    on_line = torch.stack([init + t * (final - init) for t in torch.linspace(0, 1, 4)])
    assert torch.count_nonzero(its.plane_directions(on_line, init, final)[1]) == 0


def _data():
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(64, 5, generator=gen)
    y = (x[:, 0] > 0).long()
    return Dataset(x, y, x[:32], y[:32], "toy", 2)


def test_the_walk_ends_at_the_initialization_and_the_solution():
    data = _data()
    spec = {"name": "mlp", "hidden": [8]}
    model = train.init_model(spec, data, seed=0)
    cfg = train.TrainConfig(epochs=5, batch_size=16, lr=0.1, trajectory_every=1)
    result = train.train(model, data, cfg, seed=0)
    path = torch.stack(result.trajectory)
    alphas = np.linspace(-0.5, 1.5, 9)  # 0 and 1 are points 2 and 6
    walk = its.line_and_plane(train.init_model(spec, data, seed=0), path, data, alphas,
                              (9, 3), 0.25)
    start = evaluate(train.init_model(spec, data, seed=0), data.x_train, data.y_train)
    end = evaluate(model, data.x_train, data.y_train)
    assert walk["train_loss"][2] == pytest.approx(start[0], rel=1e-5)
    assert walk["train_loss"][6] == pytest.approx(end[0], rel=1e-5)
    assert walk["train_error"][6] == pytest.approx(1 - end[1])
    assert walk["test_loss"][6] == pytest.approx(evaluate(model, data.x_test, data.y_test)[0],
                                                 rel=1e-5)
    # the path's ends lie at (0, 0) and (1, 0) of its plane; the plane spans the line's range
    np.testing.assert_allclose(walk["plane_path"][[0, -1]], [[0, 0], [1, 0]], atol=1e-5)
    assert walk["plane_a"][[0, -1]].tolist() == [-0.5, 1.5] and walk["plane_loss"].shape == (9, 3)
    assert walk["line_length"] == pytest.approx(float((vector(model) - path[0]).norm()))
    with pytest.raises(ValueError, match="first point"):
        its.line_and_plane(model, path, data, alphas, (3, 3), 0.25)
