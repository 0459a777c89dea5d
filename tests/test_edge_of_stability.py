"""The edge-of-stability library against cases with known answers: GD on a quadratic is stable
iff its top curvature is below 2/eta, and the sharpness tracker reads that curvature exactly;
the square loss by hand; the run readings on made-up sequences; the BatchNorm-free conv net."""

import math

import numpy as np
import pytest
import torch

from landscapes import edge_of_stability as eos
from landscapes import models
from landscapes.data import Dataset
from landscapes.hessian import exact_hessian
from landscapes.params import FlatModel
from landscapes.train import DivergedError

CURVATURES = [5.0, 2.0, 1.0, 0.5, 0.1]


def test_mse_loss_is_half_the_summed_squared_error_averaged_over_examples():
    out = torch.tensor([[1.0, 2.0], [0.0, 0.0]])
    target = torch.tensor([[0.0, 0.0], [0.0, 3.0]])
    # (1 + 4) / 2 and 9 / 2, averaged over the two examples
    assert eos.mse_loss(out, target).item() == pytest.approx((2.5 + 4.5) / 2)
    assert eos.one_hot(torch.tensor([2, 0]), 3).tolist() == [[0, 0, 1], [1, 0, 0]]


def test_full_batch_mse_matches_the_network_by_hand():
    torch.manual_seed(0)
    net = models.build({"name": "mlp", "hidden": [4], "activation": "tanh"}, (3,), 2)
    x, y = torch.randn(7, 3), torch.tensor([0, 1, 1, 0, 1, 0, 0])
    flat = FlatModel(net, "train")
    loss = eos.full_batch_mse(flat, x, y, 2)(flat.theta0)
    by_hand = 0.5 * ((net(x) - torch.nn.functional.one_hot(y, 2).float()) ** 2).sum() / 7
    assert loss.item() == pytest.approx(by_hand.item(), rel=1e-6)


def test_tracker_reads_the_top_curvature_of_a_quadratic_exactly():
    theta = torch.randn(len(CURVATURES), dtype=torch.float64)
    tracker = eos.SharpnessTracker(eos.quadratic_loss(CURVATURES), len(CURVATURES), steps=3,
                                   first_steps=5)
    first = tracker(theta)
    assert first.value == pytest.approx(5.0, rel=1e-10) and first.residual < 1e-8
    # warm-started from the converged vector, two steps read it again
    tracker.steps = 2
    assert tracker(theta).value == pytest.approx(5.0, rel=1e-10)


def test_tracker_reads_the_largest_not_the_largest_magnitude_eigenvalue():
    tracker = eos.SharpnessTracker(eos.quadratic_loss([-9.0, 3.0, 1.0]), 3, first_steps=3)
    assert tracker(torch.ones(3, dtype=torch.float64)).value == pytest.approx(3.0, rel=1e-10)


def test_tracker_on_a_network_matches_the_exact_hessian():
    torch.manual_seed(1)
    net = models.build({"name": "mlp", "hidden": [5], "activation": "tanh"}, (3,), 2).double()
    x, y = torch.randn(20, 3, dtype=torch.float64), torch.randint(0, 2, (20,))
    flat = FlatModel(net, "train")
    loss_fn = eos.full_batch_mse(flat, x, y, 2)
    top = torch.linalg.eigvalsh(exact_hessian(loss_fn, flat.theta0))[-1].item()
    got = eos.SharpnessTracker(loss_fn, flat.dim, first_steps=flat.dim)(flat.theta0)
    assert got.value == pytest.approx(top, rel=1e-8)


@pytest.mark.parametrize("eta, stable", [(2 / 5.0 * 0.95, True), (2 / 5.0 * 1.05, False)])
def test_gd_on_a_quadratic_is_stable_iff_the_top_curvature_is_below_two_over_eta(eta, stable):
    loss_fn = eos.quadratic_loss(CURVATURES)
    theta = torch.ones(len(CURVATURES), dtype=torch.float64)
    rows, end = eos.gradient_descent(loss_fn, theta, eta, 200, every=50)
    loss = np.array([r["train_loss"] for r in rows])
    assert len(rows) == 201 and [r["step"] for r in rows] == list(range(201))
    # along the top direction theta_t = (1 - 5 eta)^t: |1 - 5 eta| < 1 iff eta < 2/5
    assert end[0].item() == pytest.approx((1 - 5.0 * eta) ** 200, rel=1e-9, abs=1e-300)
    assert (loss[-1] < 1e-3 * loss[0]) if stable else (loss[-1] > 1e3 * loss[0])


def test_gd_measures_the_sharpness_every_k_steps_and_at_the_last():
    loss_fn = eos.quadratic_loss(CURVATURES)
    theta = torch.ones(len(CURVATURES), dtype=torch.float64)
    tracker = eos.SharpnessTracker(loss_fn, len(CURVATURES), steps=5, first_steps=5)
    rows, _ = eos.gradient_descent(loss_fn, theta, 0.1, 25, every=10, tracker=tracker)
    measured = [r["step"] for r in rows if math.isfinite(r["sharpness"])]
    assert measured == [0, 10, 20, 25]
    assert all(r["sharpness"] == pytest.approx(5.0) for r in rows if r["step"] in measured)
    # a quadratic's sharpness never moves; GD below the edge descends at every step
    assert eos.rise_share([r["train_loss"] for r in rows]) == 0.0


def test_gd_names_the_step_where_the_loss_overflows():
    loss_fn = eos.quadratic_loss([1e3])
    with pytest.raises(DivergedError, match="quad diverged at step"):
        eos.gradient_descent(loss_fn, torch.ones(1, dtype=torch.float64), 1.0, 500, every=10,
                             name="quad")


def test_runs_tag_each_step_size_and_start_from_the_seeds_initialization():
    g = torch.Generator().manual_seed(0)
    data = Dataset(torch.randn(30, 1, 4, 4, generator=g), torch.randint(0, 3, (30,), generator=g),
                   torch.randn(5, 1, 4, 4), torch.zeros(5, dtype=torch.int64), "toy", 3)
    spec = {"name": "cnn", "channels": [2], "activation": "relu", "downsample": "stride"}
    rows = eos.runs(spec, data, [50.0, 100.0], 6, 3, 3, 5, seed=4)
    assert [r["edge"] for r in rows] == [50.0] * 7 + [100.0] * 7
    assert rows[0]["eta"] == pytest.approx(2 / 50) and rows[7]["eta"] == pytest.approx(2 / 100)
    # both runs start at the same initialization: the same loss and sharpness at step 0
    assert rows[0]["train_loss"] == rows[7]["train_loss"]
    assert rows[0]["sharpness"] == pytest.approx(rows[7]["sharpness"], rel=1e-5)


def test_first_reach_band_and_rises_on_known_sequences():
    eta = 0.1  # edge 20
    s = [5.0, 10.0, 18.0, 19.5, 21.0, 25.0]
    assert eos.first_reach(s, eta, 0.05) == 3  # 19.5 >= 19
    assert eos.first_reach(s, eta, 0.0) == 4
    assert eos.first_reach([5.0, 6.0], eta, 0.05) is None
    assert eos.share_in_band([20.0, 21.9, 22.1, 17.0], eta, 0.1) == 0.5
    assert math.isnan(eos.share_in_band([], eta, 0.1))
    assert eos.rise_share([3.0, 2.0, 2.5, 1.0, 1.0]) == 0.25
    assert math.isnan(eos.rise_share([1.0]))
    assert eos.window_median([1.0, 5.0, 2.0, 9.0], 1, 4) == 5.0


def test_read_run_on_a_made_up_edge_of_stability_run():
    eta, steps = 0.1, np.arange(0, 101, 10)
    sharp = np.array([5.0, 8, 11, 14, 17, 20, 20.5, 19.8, 20.4, 25.0, 20.1])  # reaches at 50
    loss = np.linspace(1.0, 0.1, 101)
    loss[51::2] += 0.02  # rises and falls at the edge
    r = eos.read_run(loss, steps, sharp, eta, 0.05, 0.1)
    assert r["reach_step"] == 50 and r["sharpening"] == pytest.approx(4.0)
    assert r["rise_spearman"] == pytest.approx(1.0)
    assert r["after"] == 5 and r["share_in_band"] == pytest.approx(4 / 5)
    assert r["edge_ratio"] == pytest.approx(20.4 / 20)
    assert r["peak_over_edge"] == pytest.approx(25 / 20)
    # median of the last 10 losses over that of the 11 up to step 50
    want = np.median(loss[91:]) / np.median(loss[40:51])
    assert r["loss_ratio"] == pytest.approx(want)
    assert r["rises_before"] == 0.0 and r["rises_after"] == pytest.approx(25 / 50)


def test_read_run_that_never_reaches_the_edge_has_no_edge_phase():
    r = eos.read_run(np.linspace(1, 0.5, 11), [0, 5, 10], [1.0, 2.0, 3.0], 0.1, 0.05, 0.1)
    assert r["reach_step"] is None and r["peak_over_edge"] == pytest.approx(3 / 20)
    assert all(math.isnan(r[k]) for k in ("sharpening", "share_in_band", "loss_ratio",
                                          "rises_after"))


def test_conv_net_has_no_batchnorm_and_halves_the_image_per_conv():
    for down in ("pool", "stride"):
        net = models.build({"name": "cnn", "channels": [3, 4], "activation": "tanh",
                            "downsample": down}, (1, 8, 8), 10)
        assert not any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm)
                       for m in net.modules())
        assert net(torch.zeros(2, 1, 8, 8)).shape == (2, 10)
        assert net.classifier.in_features == 4 * 2 * 2  # 8 -> 4 -> 2
    odd = models.build({"name": "cnn", "channels": [2]}, (1, 5, 5), 3)
    assert odd.classifier.in_features == 2 * 3 * 3
    with pytest.raises(ValueError, match="downsampling"):
        models.build({"name": "cnn", "channels": [2], "downsample": "avg"}, (1, 4, 4), 3)
