"""Keskar's Metric 2.1 against closed-form maxima of quadratics, Dinh's rescaling, and the
tables and filter-normalized planes of Li et al.'s weight-decay runs."""

import numpy as np
import pytest
import torch

from landscapes import data, models
from landscapes.provenance import configure_runtime
from landscapes.sharpness import (
    interpolate_state,
    keskar_sharpness,
    model_sharpness,
    orthonormal_subspace,
    phi_from,
    relu_layers,
    rescale_relu_layer,
    rise,
)


@pytest.fixture(autouse=True)
def one_thread():
    configure_runtime(1)  # tiny tensors: extra threads only contend on a shared machine


@pytest.fixture(scope="module")
def digits():
    return data.prepare("digits", n_train=100, n_test=50, seed=0)


def quadratic(h, c):
    """f(z) = 1/2 sum h_i (z_i - c_i)^2 with its gradient (h may be negative: concave)."""
    def f(z):
        d = z - c
        return 0.5 * float(np.sum(h * d * d)), h * d
    return f


def test_linear_function_box_uses_abs_x_plus_one():
    # f(z) = z at x = 3: the box is |y| <= eps (3 + 1), so max f = 3 + 4 eps.
    def f(z):
        return float(z[0]), np.ones(1)
    r = keskar_sharpness(f, np.array([3.0]), eps=1e-3)
    assert r.f0 == 3.0
    assert r.f_max == pytest.approx(3.004, abs=1e-12)
    assert r.phi == pytest.approx(0.004 / 4.0 * 100, rel=1e-9)


def test_phi_formula_precedence():
    assert phi_from(0.5, 0.8) == pytest.approx(0.3 / 1.5 * 100)


@pytest.mark.parametrize("eps", [1e-3, 5e-4])
def test_convex_quadratic_maximum_at_far_vertex(eps):
    rng = np.random.default_rng(0)
    n = 50
    x = rng.normal(size=n)
    c = x + rng.normal(scale=1e-3, size=n)  # a minimum near x, as for a trained net
    h = rng.uniform(0.5, 20.0, size=n)
    f = quadratic(h, c)
    w = eps * (np.abs(x) + 1)
    # Each coordinate goes to the bound farther from c.
    far = x + np.sign(x - c) * w
    expected = f(far)[0]
    r = keskar_sharpness(f, x, eps)
    assert r.f_max == pytest.approx(expected, rel=1e-9)
    assert r.phi == pytest.approx(phi_from(f(x)[0], expected), rel=1e-9)
    assert r.phi > 0 and r.space == "full" and r.dim == n


def test_concave_quadratic_maximum_is_clipped_peak():
    rng = np.random.default_rng(1)
    n = 30
    x = rng.normal(size=n)
    eps = 1e-3
    w = eps * (np.abs(x) + 1)
    c = x + rng.uniform(-2, 2, size=n) * w  # the peak: half the coordinates outside the box
    f = quadratic(-np.ones(n), c)
    expected = f(x + np.clip(c - x, -w, w))[0]
    r = keskar_sharpness(f, x, eps)
    assert r.f_max == pytest.approx(expected, abs=1e-14)
    assert r.converged and r.status == 0


def test_subspace_maximum_closed_form():
    rng = np.random.default_rng(2)
    n, p, eps = 200, 10, 1e-3
    x = rng.normal(size=n)
    c = x + rng.normal(scale=0.01, size=n)
    f = quadratic(np.ones(n), c)
    A = orthonormal_subspace(n, p, seed=3)
    # g(y) = 1/2 |x - c + A y|^2 = const + (A^T (x-c))^T y + 1/2 |y|^2: separable in y.
    w = eps * (np.abs(A.T @ x) + 1)
    d = x - c
    proj = A.T @ d
    expected = 0.5 * np.sum((d - A @ proj) ** 2) + 0.5 * np.sum((np.abs(proj) + w) ** 2)
    r = keskar_sharpness(f, x, eps, subspace=A)
    assert r.space == "subspace" and r.dim == p
    assert r.f_max == pytest.approx(expected, rel=1e-9)


def test_orthonormal_subspace_is_seeded_and_orthonormal():
    A = orthonormal_subspace(40, 5, seed=7)
    np.testing.assert_allclose(A.T @ A, np.eye(5), atol=1e-12)
    np.testing.assert_array_equal(A, orthonormal_subspace(40, 5, seed=7))
    assert not np.allclose(A, orthonormal_subspace(40, 5, seed=8))
    with pytest.raises(ValueError, match="subspace dimension"):
        orthonormal_subspace(4, 5, seed=0)


def test_termination_flag_kept_when_iterations_run_out():
    # A badly conditioned, non-separable concave quadratic whose peak is inside the box.
    rng = np.random.default_rng(4)
    n = 20
    q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    H = q @ np.diag(np.geomspace(1, 1e4, n)) @ q.T
    x = np.zeros(n)
    c = rng.uniform(-5e-4, 5e-4, size=n)

    def f(z):
        d = z - c
        return -0.5 * float(d @ H @ d), -H @ d
    r = keskar_sharpness(f, x, 1e-3, maxiter=2)
    assert r.iterations == 2 and not r.converged and r.status == 1
    assert "ITERATIONS" in r.message.upper()


def test_vertex_start_converges_to_the_box_maximum_of_a_convex_quadratic():
    # f = 0.5 |z - c|^2 on a box around x: the maximum is the corner farthest from c, the
    # corner in the gradient's direction at x; from there L-BFGS-B has nothing left to do
    c, x, eps = np.array([0.3, -0.2, 0.1]), np.array([1.0, 2.0, -1.0]), 1e-3
    f = quadratic(np.ones(3), c)
    w = eps * (np.abs(x) + 1)
    expected = 0.5 * np.sum((np.abs(x - c) + w) ** 2)
    r = keskar_sharpness(f, x, eps, start="vertex", maxiter=100)
    assert r.converged and r.f_max == pytest.approx(expected, rel=1e-12)
    assert keskar_sharpness(f, x, eps, start="origin", maxiter=100).f_max <= r.f_max
    with pytest.raises(ValueError, match="start"):
        keskar_sharpness(f, x, eps, start="center")


def test_bad_eps_and_shapes_rejected():
    f = quadratic(np.ones(3), np.zeros(3))
    with pytest.raises(ValueError, match="eps"):
        keskar_sharpness(f, np.ones(3), 0.0)
    with pytest.raises(ValueError, match="rows"):
        keskar_sharpness(f, np.ones(3), 1e-3, subspace=np.ones((4, 1)))


def _tiny_problem():
    torch.manual_seed(0)
    x = torch.randn(64, 6)
    y = torch.randint(0, 3, (64,))
    model = models.MLP(6, [8, 8], 3)
    return model, x, y


def test_model_sharpness_measures_training_loss_in_float64():
    model, x, y = _tiny_problem()
    r = model_sharpness(model, x, y, eps=1e-3)
    expected = torch.nn.functional.cross_entropy(model.double()(x.double()), y).item()
    assert r.f0 == pytest.approx(expected, rel=1e-12)
    assert r.f_max >= r.f0 and r.phi >= 0
    sub = model_sharpness(model.float(), x, y, eps=1e-3, subspace_dim=5, seed=1)
    again = model_sharpness(model, x, y, eps=1e-3, subspace_dim=5, seed=1)
    assert sub.dim == 5 and sub.phi == again.phi
    assert next(model.parameters()).dtype == torch.float32  # the caller's model is untouched


def test_rescaling_keeps_function_and_changes_sharpness():
    model, x, y = _tiny_problem()
    base = model_sharpness(model, x, y, eps=1e-3)
    scaled = rescale_relu_layer(model, 0, 100.0)
    with torch.no_grad():
        np.testing.assert_allclose(scaled(x).numpy(), model(x).numpy(), atol=1e-5)
    r = model_sharpness(scaled, x, y, eps=1e-3)
    assert r.f0 == pytest.approx(base.f0, rel=1e-6)
    assert r.phi > 10 * base.phi


def test_rescaling_rejects_bad_factor_layer_and_model():
    model, _, _ = _tiny_problem()
    with pytest.raises(ValueError, match="positive"):
        rescale_relu_layer(model, 0, -1.0)
    with pytest.raises(ValueError, match="layer must be"):
        rescale_relu_layer(model, 2, 2.0)
    with pytest.raises(TypeError, match="ReLU"):
        relu_layers(models.MLP(6, [8], 3, activation="tanh"))


def test_rise_compares_curvature_around_points():
    a = np.linspace(-1, 2, 25)
    curve = a ** 2
    steep = np.minimum(a ** 2, 10 * (a - 1) ** 2)
    assert rise(a, steep, 1.0, 0.25) > rise(a, steep, 0.0, 0.25) > 0
    # grid step 0.125: neighbours +-0.125 and +-0.25 of 0
    assert rise(a, curve, 0.0, 0.25) == pytest.approx((0.125 ** 2 + 0.25 ** 2) / 2, rel=1e-12)
    with pytest.raises(ValueError, match="not on the grid"):
        rise(a, curve, 0.05, 0.25)


def test_interpolate_state_endpoints():
    a = {"w": torch.zeros(3), "n": torch.tensor(1)}
    b = {"w": torch.ones(3), "n": torch.tensor(5)}
    torch.testing.assert_close(interpolate_state(a, b, 0.25)["w"], torch.full((3,), 0.25))
    assert int(interpolate_state(a, b, 1.0)["n"]) == 1
    var = {"bn.running_var": torch.tensor([1.0, 4.0])}
    far = {"bn.running_var": torch.tensor([4.0, 1.0])}
    torch.testing.assert_close(interpolate_state(var, far, 0.5)["bn.running_var"],
                               torch.tensor([2.0, 2.0]))
    assert (interpolate_state(var, far, -1.0)["bn.running_var"] > 0).all()


def _measure(net, batch, seed, phi, acc):
    return {"net": net, "batch": batch, "seed": seed, "epochs": 10, "train_loss": 1e-3,
            "train_acc": 1.0, "test_acc": acc,
            "sharpness": [{"space": s, "eps": e, "phi": phi * (1 if s == "full" else 0.1),
                           "converged": False} for e in (1e-3, 5e-4) for s in ("full", "subspace")]}


def test_summary_table_means_and_sweep():
    from landscapes.sharpness import summarize

    measures = [_measure("mlp", 32, s, 1.0 + s, 0.98) for s in (0, 1)]
    measures += [_measure("mlp", 150, s, 10.0 + s, 0.96) for s in (0, 1)]
    measures += [_measure("mlp", 64, s, 5.0 + 2 * s, 0.97) for s in (0, 1)]
    s = summarize(measures, ["mlp"], [1e-3, 5e-4], {"mlp": 32}, {"mlp": 150},
                  {"network": "mlp", "batch_sizes": [32, 64, 150]})
    sb, lb = s["table"]
    assert (sb["regime"], lb["regime"]) == ("SB", "LB")
    assert sb["phi_full_0.001_mean"] == pytest.approx(1.5)
    assert sb["phi_full_0.001_std"] == pytest.approx(np.std([1.0, 2.0], ddof=1))
    assert lb["phi_subspace_0.0005_mean"] == pytest.approx(1.05)
    assert s["sweep"]["batch_size"] == [32, 64, 150]
    assert s["sweep"]["phi"]["full_0.001"] == [1.5, 6.0, 10.5]  # means over the two seeds
    assert s["sweep"]["phi_std"]["full_0.001"][1] == pytest.approx(np.std([5, 7], ddof=1))
    ratio = s["ratios"]["mlp"]["full_0.001"]
    assert ratio["per_seed"] == [10.0, 5.5]
    assert ratio["geometric_mean"] == pytest.approx(np.sqrt(55))
    assert ratio["ci"][0] < np.sqrt(55) < ratio["ci"][1]
    with pytest.raises(ValueError, match="same seeds"):
        summarize(measures[:-1], ["mlp"], [1e-3], {"mlp": 32}, {"mlp": 150},
                  {"network": "mlp", "batch_sizes": [32, 64, 150]})
    assert "| mlp | LB | 150 |" in s["table_md"]
    with pytest.raises(ValueError, match="no measurements"):
        summarize(measures, ["mlp"], [1e-3], {"mlp": 16}, {"mlp": 150},
                  {"network": "mlp", "batch_sizes": []})


def _li_record(batch, wd, seed, norm, test_acc, train_loss=0.01):
    """A training record as rule sharpness_train writes it (the keys li_table reads)."""
    return {"net": "vgg", "batch_size": batch, "weight_decay": wd, "seed": seed,
            "final": {"train_loss": train_loss, "train_acc": 1.0, "test_acc": test_acc},
            "final_weight_norm": norm}


def test_li_table_means_and_stds_over_seeds():
    from landscapes.sharpness import li_table, li_table_markdown

    runs = [_li_record(375, 0.01, s, n, a) for s, n, a in ((1, 10.0, 0.98), (0, 12.0, 0.96))]
    runs += [_li_record(32, 0.01, 0, 8.0, 0.99), _li_record(32, 0.0, 0, 30.0, 0.97)]
    rows = li_table(runs, sb_batch=32)
    assert [(r["weight_decay"], r["regime"], r["batch"]) for r in rows] == [
        (0.0, "SB", 32), (0.01, "SB", 32), (0.01, "LB", 375)]
    lb = rows[-1]
    assert lb["seeds"] == [0, 1]
    assert lb["weight_norm_mean"] == pytest.approx(11.0)
    assert lb["weight_norm_std"] == pytest.approx(np.sqrt(2.0))  # sample std of 10 and 12
    assert lb["test_error_mean"] == pytest.approx(0.03)
    assert rows[0]["weight_norm_std"] == 0.0  # one seed: no spread
    assert "| 0.01 | LB | 375 | 2 | 0.01 +/- 0 | 100.00 +/- 0.00 | 3.00 +/- 1.41 | 11.000 " \
        in li_table_markdown(rows)
    with pytest.raises(ValueError, match="at one seed"):
        li_table(runs + [_li_record(375, 0.01, 1, 9.0, 0.9)], sb_batch=32)


def test_filter_normalized_plane_contains_the_slice_and_leaves_the_model(digits):
    """The plane's b = 0 row is the 1D slice of the same seed (the same first direction);
    at its center sits the model's own loss; the model is not moved."""
    from landscapes.params import evaluate, vector
    from landscapes.sharpness import filter_normalized_plane, filter_normalized_slice

    torch.manual_seed(0)
    model = models.build({"name": "vgg9", "width": 0.0625}, digits.input_shape,
                         digits.n_classes)
    with torch.no_grad():  # BatchNorm statistics of a trained net, not the initial 0 and 1
        model.train()(digits.x_train)
    model.eval()
    before = vector(model).clone()
    plane = filter_normalized_plane(model, 3, 0.5, 5, digits)
    line = filter_normalized_slice(model, 3, 0.5, 5, digits.x_train, digits.y_train,
                                   digits.x_test, digits.y_test)
    assert plane.metrics["train_loss"].shape == (5, 5)
    np.testing.assert_allclose(plane.grid.values[0], line["alphas"])
    np.testing.assert_allclose(plane.metrics["train_loss"][:, 2], line["train_loss"], rtol=1e-5)
    center, _ = evaluate(model, digits.x_train, digits.y_train)
    assert plane.metrics["train_loss"][2, 2] == pytest.approx(center, rel=1e-5)
    torch.testing.assert_close(vector(model), before, rtol=0, atol=0)
    assert not model.training
    # the second direction is another draw: the a = 0 column differs from the slice
    assert not np.allclose(plane.metrics["train_loss"][2, :], line["train_loss"], rtol=1e-3)
