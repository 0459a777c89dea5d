"""Flatness measures against known answers: the sigma search on a quadratic, the margin of a
net set by hand, and what survives Dinh et al.'s layer rescaling."""

import math

import pytest
import torch

from landscapes import flatness
from landscapes.models import MLP
from landscapes.sharpness import rescale_relu_layer


def test_largest_sigma_on_a_quadratic_solves_the_rise_exactly():
    # L = 1/2 sum h_i t_i^2 at t = 0: the mean rise over draws u_k is 1/2 sigma^2 m with
    # m = mean_k sum h_i (s_i u_ki)^2, so the largest sigma is sqrt(2 rise / m)
    h = torch.linspace(0.1, 5.0, 40, dtype=torch.float64)
    scale = torch.linspace(0.5, 2.0, 40, dtype=torch.float64)

    def loss(t):
        return float(0.5 * (h * t * t).sum())

    rise, draws, seed = 0.1, 6, 3
    sigma = flatness.largest_sigma(loss, torch.zeros(40, dtype=torch.float64), scale, rise,
                                   draws, seed)
    gen = torch.Generator().manual_seed(seed)
    m = sum(float((h * (scale * torch.randn(40, generator=gen, dtype=torch.float64)) ** 2)
                  .sum()) for _ in range(draws)) / draws
    assert sigma == pytest.approx(math.sqrt(2 * rise / m), rel=1e-3)
    # with many draws the rise is 1/2 sigma^2 sum h_i s_i^2, the scaled Hessian's trace
    many = flatness.largest_sigma(loss, torch.zeros(40, dtype=torch.float64), scale, rise,
                                  400, seed)
    assert many == pytest.approx(math.sqrt(2 * rise / float((h * scale ** 2).sum())), rel=0.1)


def test_largest_sigma_brackets_from_either_side():
    def loss(t):
        return float((t * t).sum())

    zero = torch.zeros(5, dtype=torch.float64)
    ones = torch.ones(5, dtype=torch.float64)
    for start in (1e-6, 1e3):
        assert flatness.largest_sigma(loss, zero, ones, 0.5, 2, 0, start=start) == pytest.approx(
            flatness.largest_sigma(loss, zero, ones, 0.5, 2, 0), rel=1e-3)
    with pytest.raises(ValueError, match="positive"):
        flatness.largest_sigma(loss, zero, ones, 0.0, 2, 0)


def test_margin_of_a_net_set_by_hand():
    net = MLP(2, [], 3, bias=False)
    with torch.no_grad():
        net.net[1].weight.copy_(torch.eye(3, 2))  # logits (x1, x2, 0)
    x = torch.tensor([[3.0, 1.0], [1.0, 4.0], [0.0, 2.0]])
    y = torch.tensor([0, 1, 1])
    # margins 3 - 1 = 2, 4 - 1 = 3, 2 - 0 = 2: the lowest quantile is 2, the top 3
    assert flatness.margin(net, x, y, 0.0) == pytest.approx(2.0)
    assert flatness.margin(net, x, y, 1.0) == pytest.approx(3.0)


SETTINGS = {"lanczos_steps": 10, "trace_probes": 4, "keskar": {"eps": 1e-3, "maxiter": 5},
            "filter": {"radius": 0.2, "directions": 2},
            "pacbayes": {"rise": 0.05, "draws": 2}, "margin_quantile": 0.1}


def _net_and_data():
    torch.manual_seed(0)
    net = MLP(6, [8, 8], 3, dropout=0.1)
    x = torch.randn(40, 6)
    y = torch.randint(0, 3, (40,))
    return net, x, y


def test_rescaling_leaves_the_invariant_measures_and_moves_the_others():
    net, x, y = _net_and_data()
    scaled = rescale_relu_layer(net, 0, 10.0)
    a = flatness.measure(net, x, y, SETTINGS, seed=1)
    b = flatness.measure(scaled, x, y, SETTINGS, seed=1)
    assert set(a) == set(flatness.MEASURES)
    # filter normalization and magnitude-aware noise scale with each weight: the same function
    # is perturbed the same way, so the measure is that of the original up to rounding
    for name in ("filter_sharpness", "pacbayes_mag_flatness", "inverse_margin"):
        assert b[name] == pytest.approx(a[name], rel=1e-6), name
    # the Hessian, the isotropic noise and the weight norm see the new scale
    for name in ("lambda_max", "hessian_trace", "pacbayes_flatness", "weight_norm"):
        assert not b[name] == pytest.approx(a[name], rel=0.05), name


def test_measure_computes_only_what_is_asked():
    net, x, y = _net_and_data()
    out = flatness.measure(net, x, y, SETTINGS, seed=0, which=("weight_norm", "inverse_margin"))
    assert set(out) == {"weight_norm", "inverse_margin"}
