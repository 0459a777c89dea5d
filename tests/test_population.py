"""Grids of hyperparameters, the nets they name, and a group trained side by side against the
same group trained one by one."""

import pytest
import torch

from landscapes import population
from landscapes.data import Dataset

MODEL = {"name": "mlp", "hidden": [8, 8], "activation": "relu"}
TRAIN = {"epochs": 3, "optimizer": "sgd", "momentum": 0.9, "target_loss": 0.5}
MEASURES = {"lanczos_steps": 4, "trace_probes": 2, "keskar": {"eps": 1e-3, "maxiter": 2},
            "filter": {"radius": 0.1, "directions": 1}, "pacbayes": {"rise": 0.1, "draws": 1},
            "margin_quantile": 0.1}


def test_grid_points_are_every_combination_in_key_order():
    pts = population.grid_points({"learning_rate": [0.1, 0.2], "batch_size": [8, 16, 32]})
    assert len(pts) == 6
    assert pts[0] == {"learning_rate": 0.1, "batch_size": 8}
    assert pts[-1] == {"learning_rate": 0.2, "batch_size": 32}


def test_net_spec_sets_widths_and_dropout():
    assert population.net_spec(MODEL, {"width": 32, "dropout": 0.1}) == {
        **MODEL, "hidden": [32, 32], "dropout": 0.1}
    assert population.net_spec({"name": "c1", "width": 1.0}, {"width": 0.5}) == {
        "name": "c1", "width": 0.5}
    cfg = population.train_config(TRAIN, {"learning_rate": 0.3, "batch_size": 4,
                                          "weight_decay": 1e-3, "width": 8})
    assert (cfg.lr, cfg.batch_size, cfg.weight_decay, cfg.epochs) == (0.3, 4, 1e-3, 3)


def test_stackable_only_for_plain_sgd_relu_mlps():
    assert population.stackable(MODEL, TRAIN)
    assert not population.stackable({**MODEL, "activation": "tanh"}, TRAIN)
    assert not population.stackable({"name": "c1"}, TRAIN)
    assert not population.stackable(MODEL, {**TRAIN, "optimizer": "adam"})


def _data():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(40, 6, generator=gen)
    y = torch.randint(0, 3, (40,), generator=gen)
    return Dataset(x, y, x[:20], y[:20], "toy", 3)


def test_a_stacked_group_matches_the_group_trained_one_by_one(monkeypatch):
    pts = population.grid_points({"learning_rate": [0.05, 0.1], "batch_size": [8],
                                  "width": [8], "weight_decay": [0.0, 1e-3]})
    data = _data()
    which = ("lambda_max", "weight_norm")
    stacked = population.train_and_measure_group(MODEL, TRAIN, pts, data, 0, MEASURES, which,
                                                 {"layer": 0, "factor": 10.0})
    monkeypatch.setattr(population, "stackable", lambda *a: False)
    alone = population.train_and_measure_group(MODEL, TRAIN, pts, data, 0, MEASURES, which,
                                               {"layer": 0, "factor": 10.0})
    assert len(stacked) == len(alone) == 4
    for s, a in zip(stacked, alone):
        assert s["epochs"] == a["epochs"]
        for k in ("train_loss", "gap", "lambda_max", "weight_norm"):
            assert s[k] == pytest.approx(a[k], rel=1e-3, abs=1e-6), k
    # only the first net of the group is rescaled, and it computes the same function
    assert "rescaled_lambda_max" in stacked[0] and "rescaled_lambda_max" not in stacked[1]
    assert stacked[0]["rescaled_output_change"] < 1e-5


def test_a_group_must_share_width_and_batch_size():
    pts = population.grid_points({"batch_size": [8, 16], "width": [8]})
    with pytest.raises(ValueError, match="share width and batch size"):
        population.train_and_measure_group(MODEL, TRAIN, pts, _data(), 0, MEASURES, ())
