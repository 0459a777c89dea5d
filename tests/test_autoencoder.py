"""The deep autoencoder's problem, momentum SGD as an iterator, and the switch from SGD to
saddle-free Newton at a plateau, on a saddle whose plateau, escape and minimum are known."""

import matplotlib
import numpy as np
import pytest
import torch

from landscapes import autoencoder as ae
from landscapes import critical as cr
from landscapes.figures import saddles as figs
from landscapes.hessian import exact_hessian, hvp_fn
from landscapes.models import autoencoder as build_autoencoder
from landscapes.store import save_npz

matplotlib.use("Agg")
D = torch.float64


def test_autoencoder_maps_inputs_back_to_their_shape():
    net = build_autoencoder(12, [5, 2, 5], "tanh")
    assert net(torch.zeros(3, 1, 3, 4)).shape == (3, 12)
    widths = [m.out_features for m in net.modules() if isinstance(m, torch.nn.Linear)]
    assert widths == [5, 2, 5, 12]
    with pytest.raises(ValueError, match="at least one hidden layer"):
        build_autoencoder(12, [], "tanh")


def small_problem(wd=0.01):
    torch.manual_seed(0)
    x = torch.randn(20, 1, 2, 3)
    return ae.reconstruction_problem(build_autoencoder(6, [3, 2, 3], "sigmoid"), x, wd), x


def test_reconstruction_problem_is_the_mean_squared_error_plus_weight_decay():
    p, x = small_problem()
    theta = p.theta0 + 0.1
    net = build_autoencoder(6, [3, 2, 3], "sigmoid").double()
    torch.nn.utils.vector_to_parameters(theta, net.parameters())
    xd = x.double().flatten(1)
    mse = ((net(xd) - xd) ** 2).mean().item()  # over samples and features
    assert p.error_fn(theta) == pytest.approx(mse, rel=1e-12)
    assert p.loss_fn(theta).item() == pytest.approx(mse + 0.005 * theta.dot(theta).item(),
                                                    rel=1e-12)
    rows = torch.tensor([1, 4, 7])
    assert p.mse(theta, rows).item() == pytest.approx(
        ((net(xd[rows]) - xd[rows]) ** 2).mean().item(), rel=1e-12)
    assert p.n == 20 and p.dim == theta.numel() == 6 * 3 + 3 + 3 * 2 + 2 + 2 * 3 + 3 + 3 * 6 + 6
    # the Hessian (autodiff) is symmetric and matches the products the Krylov steps use
    h = p.hessian_fn(p.loss_fn, theta)
    v = torch.randn(p.dim, dtype=D)
    torch.testing.assert_close(h, h.T)
    torch.testing.assert_close(h @ v, hvp_fn(p.loss_fn, theta)(v))


def test_msgd_epochs_is_momentum_sgd_with_weight_decay():
    p, _ = small_problem(wd=0.0)
    it = ae.msgd_epochs(p.mse, p.n, p.theta0, lr=0.1, momentum=0.9, batch_size=8,
                        weight_decay=0.01, seed=3)
    torch.testing.assert_close(next(it), p.theta0)
    got = [next(it) for _ in range(3)]
    # the same batches through torch.optim.SGD
    theta = p.theta0.clone().requires_grad_(True)
    opt = torch.optim.SGD([theta], lr=0.1, momentum=0.9, weight_decay=0.01)
    gen = torch.Generator().manual_seed(3)
    for epoch in range(3):
        perm = torch.randperm(p.n, generator=gen)
        for i in range(0, p.n, 8):
            opt.zero_grad()
            p.mse(theta, perm[i:i + 8]).backward()
            opt.step()
        torch.testing.assert_close(got[epoch], theta.detach())


def saddle(offset=1.0):
    """f = c + 1/2 (x^2 - y^2) + y^4 / 4: a saddle at 0 with f = c and Hessian eigenvalues
    +1, -1; minima at (0, +-1) with f = c - 1/4."""
    return lambda t: offset + 0.5 * (t[0] ** 2 - t[1] ** 2) + 0.25 * t[1] ** 4


def toy_problem():
    f = saddle()
    return cr.Problem(f, lambda t: float(f(t)), exact_hessian, 2)


def toy_msgd(lr=1e-3):
    """Momentum SGD on the saddle (one step per epoch): x falls fast, y grows by ~1% a step."""
    f = saddle()
    return ae.msgd_epochs(lambda t, rows: f(t), 1, torch.tensor([1.0, 1e-4], dtype=D), lr=lr,
                          momentum=0.9, batch_size=1)


@pytest.mark.parametrize("methods", [["sfn"], ["sfn_krylov"], ["sfn_krylov", "sfn"]])
def test_switch_escapes_a_known_saddle_where_momentum_sgd_stays(methods):
    s = ae.switch_run(toy_problem(), toy_msgd(), max_epochs=1000, window=5, rel_tol=1e-3,
                      epochs=25, methods=methods, dampings=[1e-3, 1e-1, 1.0], krylov_dim=2)
    losses = s.msgd.column("loss")
    assert s.plateau_found
    # the switch is the plateau rule's first epoch, and the plateau is the saddle's value
    assert s.at == cr.plateau_epoch(losses[:s.at + 1], 5, 1e-3) > 100
    assert losses[s.at] == pytest.approx(1.0, abs=0.02)
    assert s.msgd.column("lambda_min")[s.at] == pytest.approx(-1.0, abs=1e-6)
    # SGD continued for as many epochs is still on the plateau ...
    np.testing.assert_array_equal(s.msgd.column("epoch"), np.arange(s.at + 26))
    assert (losses[s.at] - losses[-1]) / losses[s.at] < 0.02
    # ... while saddle-free Newton from the same point ends at the minimum
    assert list(s.switched) == methods
    for hist in s.switched.values():
        np.testing.assert_array_equal(hist.column("epoch"), np.arange(s.at, s.at + 26))
        assert hist.column("loss")[0] == losses[s.at]
        assert hist.column("loss")[-1] == pytest.approx(0.75, abs=1e-8)
        assert hist.column("lambda_min")[-1] > 0
    arrays = ae.switch_arrays(s)
    assert list(arrays["methods"]) == methods and int(arrays["switch_at"]) == s.at


def test_switch_without_a_plateau_comes_at_the_last_epoch():
    s = ae.switch_run(toy_problem(), toy_msgd(), max_epochs=20, window=5, rel_tol=1e-3,
                      epochs=2, methods=["sfn"], dampings=[0.1])
    assert not s.plateau_found and s.at == 20 and len(s.msgd.rows) == 23
    assert not bool(ae.switch_arrays(s)["plateau_found"])


def test_switch_rejects_unknown_methods_and_a_short_iterator():
    with pytest.raises(ValueError, match="allowed: newton, sfn, sfn_krylov"):
        ae.switch_run(toy_problem(), toy_msgd(), 5, 2, 1e-3, 2, ["bfgs"], [0.1])
    short = iter([torch.tensor([1.0, 1e-4], dtype=D)] * 3)
    with pytest.raises(ValueError, match="ended at epoch 2"):
        ae.switch_run(toy_problem(), short, 10, 5, 1e-3, 2, ["sfn"], [0.1])


def test_autoencoder_switch_runs_end_to_end_and_the_figure_draws(tmp_path):
    p, _ = small_problem()
    msgd = ae.msgd_epochs(p.mse, p.n, p.theta0, 0.05, 0.9, 8, 0.01, seed=0)
    s = ae.switch_run(p, msgd, max_epochs=4, window=2, rel_tol=0.01, epochs=2,
                      methods=["sfn_krylov", "sfn"], dampings=[1e-2, 1.0], krylov_dim=4)
    arrays = ae.switch_arrays(s)
    for key in ("msgd", "sfn_krylov", "sfn"):
        assert np.isfinite(arrays[f"{key}_loss"]).all()
        assert np.isfinite(arrays[f"{key}_error"]).all()
    for key in ("sfn_krylov", "sfn"):  # a step is taken only where it lowers the loss
        assert (np.diff(arrays[f"{key}_loss"]) <= 0).all()
    save_npz(tmp_path / "ae.npz", **arrays)
    fig = figs.autoencoder({"autoencoder": str(tmp_path / "ae.npz")},
                           {"window": 2, "rel_tol": 0.01})
    assert len(fig.axes) == 2
