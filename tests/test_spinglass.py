"""The spherical 3-spin Hamiltonian, its gradient, projected descent, and the spin-glass claims."""

import math

import numpy as np
import pytest
import torch

from landscapes import spinglass
from landscapes.claims import minima as minima_claims
from landscapes.provenance import configure_runtime
from landscapes.store import save_csv


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


def _glass_table(tmp_path, spreads, means):
    rng = np.random.default_rng(0)
    rows = [{"n": n, "start": k, "energy": e, "grad_norm": 0.0, "steps": 1, "converged": True}
            for n, sd, mu in zip((10, 20, 40), spreads, means)
            for k, e in enumerate(mu + sd * rng.standard_normal(100))]
    path = tmp_path / "glass.csv"
    save_csv(path, rows)
    return {"glass": str(path)}


def test_spinglass_claims(tmp_path):
    good = _glass_table(tmp_path, (0.1, 0.05, 0.02), (-1.5, -1.55, -1.6))
    assert minima_claims.spinglass_spread_falls(good, {}).holds
    assert minima_claims.spinglass_band(good, {}).holds
    bad = _glass_table(tmp_path, (0.02, 0.05, 0.1), (-1.5, -1.5, -1.4))
    assert not minima_claims.spinglass_spread_falls(bad, {}).holds
    assert not minima_claims.spinglass_band(bad, {}).holds
