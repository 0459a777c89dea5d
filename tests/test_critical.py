"""Critical-point search validated on closed forms; saddle-free Newton on known saddles."""

import math

import numpy as np
import pytest
import torch

from landscapes import critical as cr
from landscapes import hessian as hs
from landscapes.linear import regression_data
from landscapes.minres import minres

D = torch.float64


def two_layer_linear(d_in=4, hidden=2, d_out=3, seed=0):
    """Whitened regression with distinct singular values; loss of theta = (W1, W2) flat."""
    a = np.array([[3.0, 0, 0, 0], [0, 2.0, 0, 0], [0, 0, 1.0, 0]])
    x, y = regression_data(200, d_in, a, noise=0.1, seed=seed, whiten=True)

    def loss_fn(theta):
        w1 = theta[:hidden * d_in].view(hidden, d_in)
        w2 = theta[hidden * d_in:].view(d_out, hidden)
        return 0.5 * ((x @ w1.T @ w2.T - y) ** 2).sum() / x.shape[0]

    return x, y, loss_fn, hidden * d_in + d_out * hidden


def test_index_counts_eigenvalues_below_minus_tol():
    eigs = torch.tensor([-1.0, -1e-9, 0.0, 2.0], dtype=D)
    assert cr.index_of(eigs, 1e-6) == 0.25
    assert cr.index_of(eigs, 1e-12) == 0.5


def test_finder_converges_to_saddles_of_a_quadratic():
    a = torch.diag(torch.tensor([-2.0, 1.0, 3.0], dtype=D))
    c = torch.tensor([1.0, -1.0, 2.0], dtype=D)  # the only critical point, a saddle
    def loss_fn(t):
        return 0.5 * (t - c) @ a @ (t - c)
    s = cr.find_critical_point(loss_fn, torch.zeros(3, dtype=D), max_iter=30)
    assert s.stop == "converged"
    torch.testing.assert_close(s.theta, c)
    info = cr.describe(loss_fn, lambda t: 0.0, s.theta, index_tol=1e-8)
    assert info["index"] == pytest.approx(1 / 3)


def test_finder_recovers_closed_form_critical_points_of_deep_linear_net():
    x, y, loss_fn, dim = two_layer_linear()
    values = cr.deep_linear_critical_values(x, y, hidden=2)
    assert len(values) == 1 + 3 + 3  # sets of at most 2 of 3 modes
    gen = torch.Generator().manual_seed(0)
    found = []
    for k in range(8):
        theta0 = torch.randn(dim, generator=gen, dtype=D) * (0.05 if k % 2 else 1.0)
        s = cr.find_critical_point(loss_fn, theta0, max_iter=200, grad_tol=1e-10)
        if s.stop != "converged":
            continue
        loss = loss_fn(s.theta).item()
        # every critical point found has one of the closed-form critical losses
        assert min(abs(loss - v) for v in values) < 1e-8, (loss, values)
        found.append(loss)
    assert len(found) >= 4
    assert len({round(v, 6) for v in found}) >= 2  # not just one kind of point


def test_finder_reaches_the_saddle_at_zero_from_near_it():
    x, y, loss_fn, dim = two_layer_linear()
    s = cr.find_critical_point(loss_fn, 1e-3 * torch.ones(dim, dtype=D), max_iter=100)
    top = cr.deep_linear_critical_values(x, y, hidden=2)[-1]  # the origin: no mode learned
    assert loss_fn(s.theta).item() == pytest.approx(top, abs=1e-8)
    info = cr.describe(loss_fn, lambda t: 0.0, s.theta, index_tol=1e-6)
    assert info["index"] > 0  # a saddle, not a minimum


def test_critical_values_need_whitened_inputs():
    x = torch.randn(50, 3, dtype=D)
    with pytest.raises(ValueError, match="whitened"):
        cr.deep_linear_critical_values(x, torch.randn(50, 2, dtype=D), 1)


def test_finder_stalls_where_gradient_is_in_hessian_null_space():
    # f = x^2 + y: H g = 0 with g != 0 everywhere; no critical point exists
    def loss_fn(t):
        return t[0] ** 2 + t[1]
    s = cr.find_critical_point(loss_fn, torch.tensor([1.0, 0.0], dtype=D), max_iter=40)
    assert s.stop != "converged" and s.grad_norms[-1] == pytest.approx(1.0, abs=1e-3)
    assert cr.describe(loss_fn, lambda t: 0.0, s.theta, 1e-6)["gradient_curvature"] < 1e-6


def test_gradient_flat_point_of_a_fold_is_told_from_a_critical_point():
    # f = x^3/3 + x + y^2 has no critical point (f_x = x^2 + 1 > 0), yet |grad|^2 has a
    # minimum at 0 where H = diag(0, 2) and g = (1, 0) lies in its null space
    def loss_fn(t):
        return t[0] ** 3 / 3 + t[0] + t[1] ** 2
    s = cr.find_critical_point(loss_fn, torch.tensor([0.3, 0.5], dtype=D), max_iter=60)
    info = cr.describe(loss_fn, lambda t: 0.0, s.theta, 1e-6)
    assert s.stop != "converged" and 1.0 <= info["grad_norm"] < 1.01
    assert info["gradient_curvature"] < 0.05  # falls towards 0 as the search creeps to x = 0
    # at a genuine saddle nearby in shape (f = x^3/3 - x + y^2 at x = 1) the curvature is seen
    def other(t):
        return t[0] ** 3 / 3 - t[0] + t[1] ** 2
    point = torch.tensor([1.0 + 1e-3, 0.0], dtype=D)
    assert cr.describe(other, lambda t: 0.0, point, 1e-6)["gradient_curvature"] > 0.5


# ---------------------------------------------------------------- MINRES and Newton-MR


def test_minres_solves_indefinite_systems_and_least_squares_ones():
    gen = torch.Generator().manual_seed(0)
    q, _ = torch.linalg.qr(torch.randn(30, 30, generator=gen, dtype=D))
    b = torch.randn(30, generator=gen, dtype=D)
    indefinite = q @ torch.diag(torch.linspace(-4, 6, 30, dtype=D)) @ q.T
    sol = minres(hs.matvec_of(indefinite), b, rtol=1e-10)
    assert sol.stop == "residual" and sol.iterations <= 30
    torch.testing.assert_close(sol.x, torch.linalg.solve(indefinite, b))
    torch.testing.assert_close(sol.a_b, indefinite @ b)
    assert sol.ritz_abs_max == pytest.approx(6.0)
    # singular and inconsistent: the least-squares residual, not a step that blows up
    lam = torch.cat([torch.zeros(6, dtype=D), torch.linspace(1, 5, 24, dtype=D)])
    singular = q @ torch.diag(lam) @ q.T
    sol = minres(hs.matvec_of(singular), b, rtol=1e-10)
    best = torch.linalg.pinv(singular) @ b
    assert sol.stop in ("normal_residual", "invariant")
    assert (singular @ sol.x - b).norm().item() == pytest.approx(
        (singular @ best - b).norm().item(), rel=1e-8)
    assert sol.residual == pytest.approx(((singular @ best - b).norm() / b.norm()).item(),
                                         rel=1e-8)
    assert sol.x.norm() < 10 * best.norm()
    # b in the null space: no step at all
    null = minres(hs.matvec_of(singular), q[:, 0], rtol=1e-10)
    assert null.residual == pytest.approx(1.0) and null.x.norm() < 1e-6


def test_newton_mr_converges_to_the_saddle_of_a_quadratic():
    a = torch.diag(torch.tensor([-2.0, 1.0, 3.0], dtype=D))
    c = torch.tensor([1.0, -1.0, 2.0], dtype=D)
    def loss_fn(t):
        return 0.5 * (t - c) @ a @ (t - c)
    s = cr.newton_mr(loss_fn, torch.zeros(3, dtype=D), max_iter=10, grad_tol=1e-12)
    assert s.stop == "converged" and s.iterations == 1  # one exact Newton step
    assert 0 < s.hvps <= 3 and s.eighs == 0
    torch.testing.assert_close(s.theta, c)


def test_newton_mr_reaches_closed_form_saddles_of_several_indices_of_a_deep_linear_net():
    x, y, loss_fn, dim = two_layer_linear()
    values = cr.deep_linear_critical_values(x, y, hidden=2)
    gen = torch.Generator().manual_seed(0)
    found = {}
    for k in range(12):
        theta0 = torch.randn(dim, generator=gen, dtype=D) * (0.05 if k % 2 else 1.0)
        s = cr.newton_mr(loss_fn, theta0, max_iter=100, grad_tol=1e-10, minres_tol=1e-4)
        if s.stop != "converged":
            continue
        info = cr.describe(loss_fn, lambda t: 0.0, s.theta, index_tol=1e-6)
        assert info["grad_norm"] < 1e-8
        # every point it calls converged has one of the closed-form critical losses
        assert min(abs(info["loss"] - v) for v in values) < 1e-8, (info["loss"], values)
        found[round(info["index"], 6)] = info["loss"]
    saddles = {i for i in found if i > 0}
    assert len(saddles) >= 3, found  # saddles of at least three distinct indices


def test_newton_mr_reports_a_gradient_in_the_hessian_null_space():
    # f = x^2 + y: H g = 0 with g != 0 everywhere; no critical point exists
    def loss_fn(t):
        return t[0] ** 2 + t[1]
    s = cr.newton_mr(loss_fn, torch.tensor([1.0, 0.0], dtype=D), max_iter=40)
    assert s.stop == "gradient_flat" and s.iterations < 40
    assert s.grad_norms[-1] == pytest.approx(1.0, abs=1e-8)


def test_newton_mr_reports_the_gradient_flat_point_of_a_fold():
    # f = x^3/3 + x + y^2: no critical point; |grad|^2 is least at x = 0, where g = (1, 0)
    # lies in the null space of H = diag(0, 2): the line search fails as the search nears it
    def loss_fn(t):
        return t[0] ** 3 / 3 + t[0] + t[1] ** 2
    s = cr.newton_mr(loss_fn, torch.tensor([0.3, 0.5], dtype=D), max_iter=60)
    assert s.stop == "gradient_flat" and s.iterations < 60
    assert 1.0 <= s.grad_norms[-1] < 1.0 + 1e-6


@pytest.mark.parametrize("finder", ["newton_mr", "lm"])
def test_search_records_the_finders_work(finder):
    a = torch.diag(torch.tensor([-2.0, 1.0, 3.0], dtype=D))
    def loss_fn(t):
        return 0.5 * t @ a @ t + 0.1 * (t ** 4).sum()
    problem = cr.Problem(loss_fn, lambda t: 0.0, hs.exact_hessian, 3)
    starts = [torch.full((3,), 0.1, dtype=D), torch.full((3,), -0.2, dtype=D)]
    out = cr.search_critical_points(problem, starts, 1e-6, 30, 1e-12, finder=finder)
    assert list(out["stop"]) == ["converged", "converged"]
    assert (out["grad_norm"] < 1e-10).all() and (out["iterations"] > 0).all()
    assert (out["hvps"] > 0).all()
    assert (out["eighs"] == 0).all() if finder == "newton_mr" else (
        out["hvps"] == 3 * out["eighs"]).all()
    with pytest.raises(ValueError, match="allowed: newton_mr, lm"):
        cr.search_critical_points(problem, starts, 1e-6, 30, 1e-12, finder="bfgs")


# ---------------------------------------------------------------- saddle-free Newton


def saddle():
    """f = 1/2 (x^2 - y^2) + y^4 / 4: a saddle at 0, minima at y = +-1 with f = -1/4."""
    return lambda t: 0.5 * (t[0] ** 2 - t[1] ** 2) + 0.25 * t[1] ** 4


def test_newton_direction_formulas():
    lam = torch.tensor([-2.0, 4.0], dtype=D)
    vecs = torch.eye(2, dtype=D)
    g = torch.tensor([1.0, 1.0], dtype=D)
    torch.testing.assert_close(cr.newton_direction(g, lam, vecs, 0.0, "sfn"),
                               torch.tensor([-0.5, -0.25], dtype=D))
    torch.testing.assert_close(cr.newton_direction(g, lam, vecs, 0.0, "newton"),
                               torch.tensor([0.5, -0.25], dtype=D))
    with pytest.raises(ValueError, match="allowed: newton, sfn"):
        cr.newton_direction(g, lam, vecs, 0.0, "gd")


def test_krylov_sfn_equals_exact_sfn_in_full_subspace():
    gen = torch.Generator().manual_seed(0)
    q, _ = torch.linalg.qr(torch.randn(6, 6, generator=gen, dtype=D))
    lam = torch.tensor([-3.0, -0.5, 0.2, 1.0, 2.0, 5.0], dtype=D)
    h = q @ torch.diag(lam) @ q.T
    g = torch.randn(6, generator=gen, dtype=D)
    exact = cr.newton_direction(g, lam, q, 0.1, "sfn")
    krylov = cr.krylov_sfn_direction(hs.matvec_of(h), g, 6, 0.1)
    torch.testing.assert_close(krylov, exact)
    # a direction of descent even where H is indefinite
    assert cr.krylov_sfn_direction(hs.matvec_of(h), g, 3, 0.1) @ g < 0


@pytest.mark.parametrize("method", ["sfn", "sfn_krylov"])
def test_sfn_escapes_saddle_that_newton_is_attracted_to(method):
    f = saddle()
    start = torch.tensor([0.5, 1e-3], dtype=D)
    def err(t):
        return 0.0
    sfn, theta = cr.second_order_run(f, err, start, method, 20, [1e-3, 1e-1, 1.0],
                                        krylov_dim=2)
    assert f(theta).item() == pytest.approx(-0.25, abs=1e-6)
    assert sfn.rows[-1]["lambda_min"] > 0  # ended at a minimum
    newton, theta_n = cr.second_order_run(f, err, start, "newton", 15, [0.0])
    # undamped Newton jumps to the saddle's neighbourhood (|x| -> 0) and stays near f = 0
    assert abs(theta_n[0].item()) < 1e-6 and f(theta_n).item() > -1e-3
    assert newton.rows[-1]["lambda_min"] < 0


def test_second_order_run_rejects_unknown_method():
    with pytest.raises(ValueError, match="allowed: newton, sfn, sfn_krylov"):
        cr.second_order_run(saddle(), lambda t: 0.0, torch.zeros(2, dtype=D), "bfgs", 1, [0.1])


def test_plateau_epoch():
    losses = [2.0, 1.5, 1.2, 1.19, 1.189, 1.1889, 0.5]
    assert cr.plateau_epoch(losses, window=2, rel_tol=0.02) == 4
    assert cr.plateau_epoch([3.0, 2.0, 1.0], window=1, rel_tol=0.01) is None
    assert math.isfinite(cr.plateau_epoch(losses, 1, 0.05))



# ---------------------------------------------------------------- Fig. 3: optimizers compared


def test_krylov_sfn_directions_share_one_basis():
    gen = torch.Generator().manual_seed(1)
    q, _ = torch.linalg.qr(torch.randn(5, 5, generator=gen, dtype=D))
    lam = torch.tensor([-2.0, -0.1, 0.3, 1.0, 4.0], dtype=D)
    h, g = q @ torch.diag(lam) @ q.T, torch.randn(5, generator=gen, dtype=D)
    dampings = [0.0, 0.1, 1.0]
    steps = cr.krylov_sfn_directions(hs.matvec_of(h), g, 5, dampings)
    for d, step in zip(dampings, steps):
        torch.testing.assert_close(step, cr.newton_direction(g, lam, q, d, "sfn"))
        torch.testing.assert_close(step, cr.krylov_sfn_direction(hs.matvec_of(h), g, 5, d))


def counting_hessian():
    calls = []

    def hessian_fn(loss_fn, theta):
        calls.append(theta.clone())
        return hs.exact_hessian(loss_fn, theta)
    return hessian_fn, calls


def test_second_order_run_computes_a_stalled_point_once():
    def f(t):
        return 0.5 * (t ** 2).sum()
    # at the minimum no candidate lowers the loss: every later step would be the same
    hessian_fn, calls = counting_hessian()
    hist, theta = cr.second_order_run(f, lambda t: 0.0, torch.zeros(3, dtype=D), "sfn", 4,
                                      [0.1, 1.0], hessian_fn=hessian_fn)
    assert len(calls) == 1 and torch.equal(theta, torch.zeros(3, dtype=D))
    assert list(hist.column("epoch")) == [0, 1, 2, 3, 4]
    assert (hist.column("loss") == 0).all() and np.isnan(hist.column("damping")).all()
    assert (hist.column("lambda_min") == 1.0).all()  # exact: the Hessian is I
    # away from it every step is taken: one Hessian per point
    hessian_fn, calls = counting_hessian()
    hist, _ = cr.second_order_run(f, lambda t: 0.0, torch.ones(3, dtype=D), "newton", 3,
                                  [0.5], hessian_fn=hessian_fn)
    assert len(calls) == 4 and list(hist.column("damping")[1:]) == [0.5] * 3
    np.testing.assert_allclose(hist.column("loss"), 1.5 / 9 ** np.arange(4))  # x / 3 per step


def tiny_classification(n=40, d=5, classes=3, seed=0):
    from landscapes.data import Dataset
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=gen)
    y = (x[:, 0] > 0).long() + (x[:, 1] > 0.5).long()
    return Dataset(x, y, x[:10], y[:10], "tiny", classes)


def test_compare_optimizers_starts_every_method_at_one_initialization():
    from landscapes import train
    data = tiny_classification()
    model = train.init_model({"name": "mlp", "hidden": [3], "activation": "tanh"}, data, 0)
    before = [p.detach().clone() for p in model.parameters()]
    sgd = train.TrainConfig(batch_size=10, lr=0.05, momentum=0.9, epochs=50)
    runs = cr.compare_optimizers(model, data, 1e-3, sgd, 0, 3, [0.1, 1.0], 5, name="t")
    assert tuple(runs) == cr.OPTIMIZERS
    assert all(list(h.column("epoch")) == [0, 1, 2, 3] for h in runs.values())  # not 50
    first = [(h.rows[0]["loss"], h.rows[0]["error"], h.rows[0]["lambda_min"])
             for h in runs.values()]
    assert all(row == pytest.approx(first[0], rel=1e-12) for row in first)
    # the model is left as it was
    assert all(p.dtype == torch.float32 and torch.equal(p, b)
               for p, b in zip(model.parameters(), before))
    # every record's most negative eigenvalue is the exact one of the full-batch loss
    problem = cr.mlp_problem(model, data.x_train, data.y_train, 1e-3)
    theta0 = torch.cat([b.flatten() for b in before]).double()
    assert problem.loss_fn(theta0).item() == pytest.approx(first[0][0], rel=1e-12)
    exact = torch.linalg.eigvalsh(hs.exact_hessian(problem.loss_fn, theta0))[0].item()
    assert first[0][2] == pytest.approx(exact, rel=1e-8)


def test_closed_form_and_autodiff_hessians_give_the_same_run():
    from landscapes import train
    data = tiny_classification(seed=1)
    model = train.init_model({"name": "mlp", "hidden": [3], "activation": "tanh"}, data, 1)
    problem = cr.mlp_problem(model, data.x_train, data.y_train, 1e-3)
    theta0 = torch.cat([p.detach().flatten() for p in model.parameters()])
    args = (problem.loss_fn, problem.error_fn, theta0, "sfn", 4, [1e-2, 0.1, 1.0])
    closed, _ = cr.second_order_run(*args, hessian_fn=problem.hessian_fn)
    autodiff, _ = cr.second_order_run(*args)
    for key in ("loss", "lambda_min", "grad_norm"):
        np.testing.assert_allclose(closed.column(key), autodiff.column(key), rtol=1e-9)
    assert closed.column("loss")[-1] < closed.column("loss")[0]


def test_lowest_error_is_nan_if_any_record_is():
    m = {"sfn_error": np.array([0.5, 0.1, 0.2])}
    assert cr.lowest_error(m, "sfn") == pytest.approx(0.1)
    assert math.isnan(cr.lowest_error({"sfn_error": np.array([0.5, np.nan, 0.0])}, "sfn"))
