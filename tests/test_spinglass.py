"""The spherical 3-spin Hamiltonian, its gradient and projected descent (its claims are in
test_claims_minima.py)."""

import math

import pytest
import torch

from landscapes import spinglass
from landscapes.provenance import configure_runtime


@pytest.fixture(autouse=True)
def runtime():
    configure_runtime(1)


def raw_energy(j, w):
    """H(w) = N^-1 sum_ijk J_ijk w_i w_j w_k with the unsymmetrized couplings."""
    return torch.einsum("ijk,ri,rj,rk->r", j, w, w, w) / w.shape[-1]


def test_energy_and_gradient_match_the_definition():
    n = 7
    s = spinglass.couplings(n, seed=3)
    j = torch.randn(n, n, n, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    w = spinglass.random_sphere(5, n, seed=4).requires_grad_(True)
    energy, grad = spinglass.energy_and_grad(s, w.detach())
    expected = raw_energy(j, w)
    (auto,) = torch.autograd.grad(expected.sum(), w)
    assert torch.allclose(energy, expected.detach(), atol=1e-10)
    assert torch.allclose(grad, auto, atol=1e-10)
    assert torch.allclose(s, s.permute(1, 2, 0)) and torch.allclose(s, s.permute(0, 2, 1))


def test_energy_has_variance_n_at_a_fixed_point():
    # E[H(w)^2] = N^-2 sum_ijk w_i^2 w_j^2 w_k^2 = N when ||w||^2 = N
    n = 8
    w = spinglass.random_sphere(1, n, seed=0)
    h = torch.stack([spinglass.energy_and_grad(spinglass.couplings(n, seed), w)[0][0]
                     for seed in range(400)])
    assert 0.8 < (h**2).mean().item() / n < 1.2


def test_tangent_is_orthogonal_and_projection_lands_on_sphere():
    w = spinglass.random_sphere(4, 30, seed=1)
    assert torch.allclose(w.norm(dim=1), torch.full((4,), math.sqrt(30.0), dtype=w.dtype))
    g = torch.randn(4, 30, dtype=w.dtype)
    assert torch.allclose((spinglass.tangent(g, w) * w).sum(1), torch.zeros(4, dtype=w.dtype),
                          atol=1e-10)


def test_descent_finds_minima_on_the_sphere():
    n = 40
    s = spinglass.couplings(n, seed=0)
    w0 = spinglass.random_sphere(16, n, seed=1)
    start = spinglass.energy_and_grad(s, w0)[0] / n
    d = spinglass.descend(s, w0, lr=0.2, tol=0.01, max_steps=3000)
    assert d.converged.all()
    assert (d.grad_norm < 0.01).all()
    assert (d.energy < start).all()
    # random points have H/N ~ 0; minima of the 3-spin glass sit near -1.6
    assert d.energy.max() < -1.2 and d.energy.min() > -1.9
    assert 0 < d.steps.min() <= d.steps.max() <= 3000


def test_descent_stops_at_max_steps_and_reports_it():
    s = spinglass.couplings(20, seed=0)
    d = spinglass.descend(s, spinglass.random_sphere(3, 20, seed=1), lr=0.2, tol=1e-12,
                          max_steps=5)
    assert not d.converged.any() and (d.steps == 5).all()


def test_reference_levels():
    assert spinglass.THRESHOLD == pytest.approx(-1.633, abs=1e-3)
    assert spinglass.GROUND_STATE < spinglass.THRESHOLD



def test_packed_couplings_give_the_full_contraction():
    n = 9
    s = spinglass.couplings(n, seed=2)
    many = spinglass.random_sphere(200, n, seed=5)  # 200 x 45 pairs: the per-row products
    few = many[:3]  # 3 x 45: the gather
    for w in (many, few):
        energy, grad = spinglass.energy_and_grad(s, w)
        e64, g64 = spinglass.Packed(s, torch.float64).energy_and_grad(w)
        e32, g32 = spinglass.Packed(s).energy_and_grad(w)
        assert torch.allclose(e64, energy, atol=1e-12) and torch.allclose(g64, grad, atol=1e-12)
        assert torch.allclose(e32, energy, atol=1e-4) and torch.allclose(g32, grad, atol=1e-4)
        assert e32.dtype == torch.float64  # the matmul in float32, the result in w's dtype


def test_float32_descent_ends_where_float64_does():
    n = 30
    s = spinglass.couplings(n, seed=0)
    w0 = spinglass.random_sphere(12, n, seed=1)
    d32 = spinglass.descend(s, w0, lr=0.2, tol=0.01, max_steps=3000)
    d64 = spinglass.descend(s, w0, lr=0.2, tol=0.01, max_steps=3000, dtype=torch.float64)
    assert d32.converged.all() and d64.converged.all()
    assert (d32.grad_norm < 0.01).all()  # measured with the full float64 couplings
    assert torch.allclose(d32.energy, d64.energy, atol=1e-6)
    assert (d32.steps - d64.steps).abs().max() <= 2


def test_a_start_rounding_put_across_the_tolerance_descends_on(caplog):
    # bfloat16 rounds the gradient norm by about 1%: some starts stop early in it, and must
    # then go on with the full couplings until their float64 norm is below the tolerance
    s = spinglass.couplings(20, seed=0)
    w0 = spinglass.random_sphere(16, 20, seed=1)
    with caplog.at_level("INFO", logger="landscapes.spinglass"):
        d = spinglass.descend(s, w0, lr=0.2, tol=0.3, max_steps=2000, dtype=torch.bfloat16)
    assert "met the tolerance in torch.bfloat16 but not in torch.float64" in caplog.text
    assert d.converged.all() and (d.grad_norm < 0.3).all()
