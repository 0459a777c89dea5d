"""Hessians, Lanczos, SLQ and Hutchinson against exact answers: quadratics with known spectra
and the exact Hessian + eigh of small nets."""

import math

import numpy as np
import pytest
import torch
from torch.func import hessian

from landscapes import hessian as hs
from landscapes.models import MLP
from landscapes.params import FlatModel

D = torch.float64


def quadratic(eigs, seed=0):
    """A = Q diag(eigs) Q^T with a seeded random rotation, and f(theta) = theta^T A theta / 2."""
    gen = torch.Generator().manual_seed(seed)
    q, _ = torch.linalg.qr(torch.randn(len(eigs), len(eigs), generator=gen, dtype=D))
    a = q @ torch.diag(torch.tensor(eigs, dtype=D)) @ q.T
    a = 0.5 * (a + a.T)
    return a, (lambda th: 0.5 * th @ a @ th)


def small_net(seed=0, n=30, activation="tanh"):
    torch.manual_seed(seed)
    model = MLP(5, [4], 3, activation).double()
    flat = FlatModel(model)
    x = torch.randn(n, 5)
    y = torch.randint(0, 3, (n,))
    return flat, hs.full_batch_loss(flat, x, y, weight_decay=1e-3), x, y


# ---------------------------------------------------------------- products and exact Hessian


@pytest.mark.parametrize("method", ["backward", "jvp"])
def test_hvp_of_quadratic_is_matrix_product(method):
    a, f = quadratic([-3.0, -1.0, 0.5, 2.0, 4.0])
    theta = torch.randn(5, dtype=D)
    mv = hs.hvp_fn(f, theta, method)
    v = torch.randn(5, dtype=D)
    torch.testing.assert_close(mv(v), a @ v)


def test_unknown_hvp_method_is_named():
    with pytest.raises(ValueError, match="allowed: backward, jvp"):
        hs.hvp_fn(lambda t: t.sum(), torch.zeros(2, dtype=D), "finite")


def test_exact_hessian_matches_torch_func_on_small_net():
    flat, loss_fn, _, _ = small_net()
    theta = flat.theta0 + 0.3 * torch.randn(flat.dim, dtype=D)
    h = hs.exact_hessian(loss_fn, theta, block=7)  # blocks that do not divide dim
    ref = hessian(loss_fn)(theta)
    torch.testing.assert_close(h, 0.5 * (ref + ref.T))
    torch.testing.assert_close(h, h.T)
    for method in ("backward", "jvp"):
        v = torch.randn(flat.dim, dtype=D)
        torch.testing.assert_close(hs.hvp_fn(loss_fn, theta, method)(v), h @ v)


def test_weight_decay_shifts_spectrum():
    flat, _, x, y = small_net()
    plain = hs.exact_hessian(hs.full_batch_loss(flat, x, y), flat.theta0)
    decayed = hs.exact_hessian(hs.full_batch_loss(flat, x, y, weight_decay=0.1), flat.theta0)
    torch.testing.assert_close(torch.linalg.eigvalsh(decayed), torch.linalg.eigvalsh(plain) + 0.1)


def test_full_batch_loss_is_the_whole_dataset_mean():
    flat, _, x, y = small_net(n=10)
    loss_fn = hs.full_batch_loss(flat, x, y, chunk=3)
    each = [hs.full_batch_loss(flat, x[i:i + 1], y[i:i + 1])(flat.theta0) for i in range(10)]
    torch.testing.assert_close(loss_fn(flat.theta0), torch.stack(each).mean())


def test_gradient_matches_autograd():
    a, f = quadratic([1.0, 2.0, 3.0])
    theta = torch.randn(3, dtype=D)
    loss, g = hs.gradient(f, theta)
    torch.testing.assert_close(g, a @ theta)
    torch.testing.assert_close(loss, f(theta))


# ---------------------------------------------------------------- Lanczos


def test_lanczos_basis_is_orthonormal_and_tridiagonalizes():
    eigs = list(np.linspace(-2, 5, 40))
    a, _ = quadratic(eigs)
    res = hs.lanczos(hs.matvec_of(a), 40, 25, seed=3, return_basis=True)
    q = res.basis
    assert q.shape == (25, 40) and res.beta.shape == (24,)
    torch.testing.assert_close(q @ q.T, torch.eye(25, dtype=D), atol=1e-12, rtol=0)
    torch.testing.assert_close(q @ a @ q.T, res.tridiagonal(), atol=1e-10, rtol=0)


def test_full_lanczos_recovers_whole_spectrum():
    eigs = [-4.0, -1.0, -0.5, 0.1, 0.2, 1.0, 3.0, 7.0]
    a, _ = quadratic(eigs)
    vals, _ = hs.lanczos(hs.matvec_of(a), 8, 8, seed=1).ritz()
    torch.testing.assert_close(vals, torch.tensor(eigs, dtype=D), atol=1e-10, rtol=0)


def test_lanczos_stops_at_invariant_subspace():
    a = torch.diag(torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=D))
    v0 = torch.tensor([1.0, 1.0, 0.0, 0.0], dtype=D)  # spans an invariant subspace of dim 2
    res = hs.lanczos(hs.matvec_of(a), 4, 4, v0=v0)
    assert res.steps == 2 and res.last_beta < 1e-12
    torch.testing.assert_close(res.ritz()[0], torch.tensor([1.0, 2.0], dtype=D))


def test_extreme_eigenvalues_are_signed_not_largest_magnitude():
    # the largest-magnitude eigenvalue is negative: power iteration would return |-9| as "top"
    eigs = [-9.0] + list(np.linspace(-1, 2.5, 98)) + [3.0]
    a, _ = quadratic(eigs, seed=2)
    info = hs.extreme_eigenvalues(hs.matvec_of(a), 100, steps=100, tol=1e-8, return_info=True)
    assert info.converged and info.matvecs < 100
    assert info.lambda_min == pytest.approx(-9.0, abs=1e-8)
    assert info.lambda_max == pytest.approx(3.0, abs=1e-6)
    lmin, lmax = hs.extreme_eigenvalues(hs.matvec_of(a), 100, steps=100, tol=1e-8)
    assert (lmin, lmax) == (info.lambda_min, info.lambda_max)


def test_extreme_eigenvalues_of_small_net_match_eigh():
    flat, loss_fn, _, _ = small_net(seed=1)
    theta = flat.theta0 + 0.5 * torch.randn(flat.dim, dtype=D)
    exact = torch.linalg.eigvalsh(hs.exact_hessian(loss_fn, theta))
    assert exact[0] < 0 < exact[-1]  # an indefinite Hessian away from a minimum
    lmin, lmax = hs.extreme_eigenvalues(hs.hvp_fn(loss_fn, theta), flat.dim, steps=flat.dim,
                                        tol=1e-9)
    assert lmin == pytest.approx(exact[0].item(), rel=1e-6, abs=1e-9)
    assert lmax == pytest.approx(exact[-1].item(), rel=1e-6, abs=1e-9)


def test_lanczos_rejects_bad_sizes():
    with pytest.raises(ValueError, match="steps >= 1"):
        hs.lanczos(lambda v: v, 3, 0)


# ---------------------------------------------------------------- SLQ and Hutchinson


def test_slq_is_exact_gauss_quadrature_for_low_degree_moments():
    eigs = list(np.linspace(-1, 3, 60))
    a, _ = quadratic(eigs, seed=4)
    steps = 6
    dens = hs.slq_density(hs.matvec_of(a), 60, steps=steps, n_probes=3, seed=0)
    torch.testing.assert_close(dens.weights.sum(1), torch.ones(3, dtype=D))
    # per probe, Gauss quadrature with m nodes integrates v^T A^k v exactly for k < 2m
    for p in range(3):
        v = hs._start_vector(60, 0 * 100_003 + p, D, "cpu", kind="rademacher")
        v = v / v.norm()
        for k in (1, 2, 5, 11):
            quad = (dens.weights[p] * dens.nodes[p] ** k).sum()
            exact = v @ torch.linalg.matrix_power(a, k) @ v
            torch.testing.assert_close(quad, exact, rtol=1e-9, atol=1e-9)


def test_slq_density_estimates_spectrum():
    eigs = list(np.linspace(-1, 3, 200))
    a, _ = quadratic(eigs, seed=5)
    dens = hs.slq_density(hs.matvec_of(a), 200, steps=30, n_probes=20, seed=1)
    assert dens.moment(1) == pytest.approx(np.mean(eigs), abs=0.1)
    assert dens.moment(2) == pytest.approx(np.mean(np.square(eigs)), rel=0.1)
    grid = np.linspace(-3, 5, 801)
    rho = dens.on_grid(grid, sigma=0.1)
    assert np.trapezoid(rho, grid) == pytest.approx(1.0, abs=1e-3)
    # a flat spectrum on [-1, 3]: density near 1/4 in the middle, near 0 well outside
    assert rho[np.searchsorted(grid, 1.0)] == pytest.approx(0.25, abs=0.08)
    assert rho[np.searchsorted(grid, 4.0)] < 1e-3


def test_hutchinson_is_exact_for_diagonal_and_uses_fixed_samples():
    a = torch.diag(torch.tensor([-2.0, 1.0, 5.0, 0.5], dtype=D))
    calls = []

    def mv(v):
        calls.append(1)
        return a @ v

    est, err = hs.hutchinson_trace(mv, 4, n_samples=7, seed=0)
    assert len(calls) == 7  # never stops early
    assert est == pytest.approx(4.5) and err == pytest.approx(0.0, abs=1e-12)


def test_hutchinson_unbiased_within_standard_error():
    a, _ = quadratic(list(np.linspace(-1, 4, 50)), seed=6)
    est, err = hs.hutchinson_trace(hs.matvec_of(a), 50, n_samples=200, seed=3)
    assert err > 0
    assert abs(est - torch.trace(a).item()) < 4 * err
    with pytest.raises(ValueError, match="n_samples >= 1"):
        hs.hutchinson_trace(hs.matvec_of(a), 50, n_samples=0)


def test_trace_of_net_hessian():
    flat, loss_fn, _, _ = small_net(seed=2)
    h = hs.exact_hessian(loss_fn, flat.theta0)
    est, err = hs.hutchinson_trace(hs.hvp_fn(loss_fn, flat.theta0), flat.dim, 300, seed=0)
    assert abs(est - torch.trace(h).item()) < 4 * err + 1e-9
    assert math.isfinite(est)


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu", "linear"])
def test_closed_form_mlp_hessian_matches_autodiff(activation):
    torch.manual_seed(3)
    model = MLP(6, [5], 4, activation).double()
    flat = FlatModel(model)
    x, y = torch.randn(25, 6), torch.randint(0, 4, (25,))
    theta = flat.theta0 + 0.2 * torch.randn(flat.dim, dtype=D)
    ref = hs.exact_hessian(hs.full_batch_loss(flat, x, y, weight_decay=0.01), theta)
    fast = hs.mlp_hessian(theta, x, y, 5, 4, activation, weight_decay=0.01)
    torch.testing.assert_close(fast, ref)


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "linear", "relu"])
def test_closed_form_mlp_products_match_autodiff(activation):
    torch.manual_seed(4)
    model = MLP(6, [5], 4, activation).double()
    flat = FlatModel(model)
    x, y = torch.randn(25, 6), torch.randint(0, 4, (25,))
    theta = flat.theta0 + 0.2 * torch.randn(flat.dim, dtype=D)
    loss = hs.full_batch_loss(flat, x, y, weight_decay=0.01)
    fast = hs.mlp_hvp_fn(x, y, 5, 4, activation, weight_decay=0.01)(theta)
    for v in torch.randn(3, flat.dim, dtype=D):
        torch.testing.assert_close(fast(v), hs.hvp_fn(loss, theta)(v))
    with pytest.raises(ValueError, match="has 3 entries"):
        hs.mlp_hvp_fn(x, y, 5, 4)(torch.zeros(3, dtype=D))


def test_closed_form_mlp_hessian_checks_its_input():
    with pytest.raises(ValueError, match="unknown activation"):
        hs.mlp_hessian(torch.zeros(3, dtype=D), torch.zeros(2, 1), torch.zeros(2).long(), 1, 1,
                       "elu")
    with pytest.raises(ValueError, match="has 3 entries"):
        hs.mlp_hessian(torch.zeros(3, dtype=D), torch.zeros(2, 1), torch.zeros(2).long(), 1, 2)
