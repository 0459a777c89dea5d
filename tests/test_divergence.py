"""Every training and measuring loop stops on a non-finite loss (or a training loss that blew
up) with DivergedError naming the computation, the run or seed and the step."""

import math
from dataclasses import replace

import numpy as np
import pytest
import torch

from landscapes import critical, data, ensemble, hessian, linear, sharpness, spinglass, train
from landscapes.models import MLP
from landscapes.provenance import configure_runtime
from landscapes.surface import Evaluator, Grid, evaluate_tile, extreme_eigenvalues_tile
from landscapes.train import DivergedError, TrainConfig

NAN = float("nan")
SPEC = {"name": "mlp", "hidden": [16]}


@pytest.fixture(autouse=True)
def one_thread():
    configure_runtime(1)  # tiny tensors: extra threads only contend on a shared machine


@pytest.fixture(scope="module")
def digits():
    return data.prepare("digits", n_train=200, n_test=100, seed=0)


def quadratic_problem(loss_fn, dim=3):
    return critical.Problem(loss_fn, lambda t: 0.0, hessian.exact_hessian, dim)


# ---------------------------------------------------------------- the shared helper


def test_check_finite_names_the_first_bad_entry():
    for ok in (1.0, 3, np.ones(3), torch.ones(2), [0.5, 2.0]):
        train.check_finite(ok, "fine")
    with pytest.raises(DivergedError, match=r"^run diverged at step 3: loss is nan$"):
        train.check_finite(NAN, "run diverged at step 3")
    with pytest.raises(DivergedError, match=r": loss of seed 5 is inf \(2 of 3 not finite\)$"):
        train.check_finite(torch.tensor([1.0, math.inf, NAN]), "x", ["seed 4", "seed 5", "seed 6"])
    with pytest.raises(DivergedError, match=r": energy of start 7 is nan$"):
        train.check_finite([0.0, NAN], "x", lambda i: f"start {i + 6}", quantity="energy")
    with pytest.raises(DivergedError, match=r": loss of entry 1 is -inf$"):
        train.check_finite(np.array([0.0, -math.inf]), "x")


def test_the_script_adds_the_config_key_to_change():
    with pytest.raises(DivergedError, match=r"step 2: loss is nan; lower linear.saddle.lr$"):
        with train.divergence_hint("lower linear.saddle.lr"):
            train.check_finite(NAN, "linear_saddle seed 0 diverged at step 2")
    with pytest.raises(ValueError, match="^other$"):  # other errors pass unchanged
        with train.divergence_hint("lower linear.saddle.lr"):
            raise ValueError("other")


# ---------------------------------------------------------------- training


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_training_stops_on_a_non_finite_loss(digits, optimizer):
    # max_loss_ratio out of the way: the loss itself overflows
    cfg = TrainConfig(epochs=3, batch_size=50, optimizer=optimizer, lr=1e30, momentum=0.9,
                      max_loss_ratio=1e300)
    with pytest.raises(DivergedError, match=r"^run 'sharpness_train mlp' \(seed 4\) diverged at "
                                            r"epoch \d+(, batch \d+)?: (training )?loss is "
                                            r"(nan|inf)"):
        train.train(train.init_model(SPEC, digits, 4), digits, cfg, 4,
                    name="sharpness_train mlp")


def test_adam_blowing_up_with_a_finite_loss_stops(digits):
    # Adam's steps are bounded by its learning rate: at lr 1e3 the loss stays finite (near
    # 1e3 at chance accuracy) and only max_loss_ratio tells the run blew up.
    cfg = TrainConfig(epochs=2, batch_size=50, optimizer="adam", lr=1e3)
    with pytest.raises(DivergedError, match=r"^run 'r' \(seed 0\) diverged at epoch 1: training "
                                            r"loss \S+ is above max_loss_ratio \(100\) times "
                                            r"the first batch's loss \(2\.\d+\)$"):
        train.train(train.init_model(SPEC, digits, 0), digits, cfg, 0, name="r")
    lax = train.train(train.init_model(SPEC, digits, 0), digits,
                      replace(cfg, max_loss_ratio=1e12), 0, name="r")
    losses = [m["train_loss"] for m in lax.metrics]
    assert all(math.isfinite(v) and v > 230 for v in losses)


def test_a_lagging_batchnorm_eval_loss_is_no_blow_up():
    # a plain 56-layer BN net after one epoch of 12 steps: the batches' loss is near chance
    # (2.3) while the eval-mode loss, with running statistics that lag the weights, is near
    # 2e6. Only the loss the optimizer saw says whether the run blew up.
    full = data.prepare("digits", n_train=1497, n_test=100, seed=0)
    spec = {"name": "resnet", "depth": 56, "width": 8, "batchnorm": True, "shortcuts": False}
    cfg = TrainConfig(epochs=1, batch_size=128, optimizer="sgd", lr=0.1, momentum=0.9,
                      nesterov=True, weight_decay=5e-4)
    epoch = train.train(train.init_model(spec, full, 0), full, cfg, 0).metrics[-1]
    assert epoch["train_loss"] > cfg.max_loss_ratio * 2.3 > epoch["batch_loss"]


def test_ensemble_names_the_net_and_batch(digits):
    cfg = TrainConfig(epochs=2, batch_size=50, lr=1e30, momentum=0.9)
    nets = ensemble.init_ensemble(SPEC, digits, [7, 8])
    with pytest.raises(DivergedError, match=r"^minima_train_shard size 16 shard 0 diverged at "
                                            r"epoch \d+, batch \d+: loss of the net with seed "
                                            r"[78] is (nan|inf)"):
        ensemble.train_ensemble(nets, digits, cfg, name="minima_train_shard size 16 shard 0")


def test_ensemble_stops_a_net_whose_finite_loss_blew_up(digits):
    cfg = TrainConfig(epochs=2, batch_size=50, lr=20.0)  # epoch 1 ends near 8e3, finite
    nets = ensemble.init_ensemble(SPEC, digits, [1, 2])
    with pytest.raises(DivergedError, match=r"^e: the net with seed 1 diverged at epoch 1: "
                                            r"training loss \S+ is above max_loss_ratio"):
        ensemble.train_ensemble(nets, digits, cfg, name="e")


# ---------------------------------------------------------------- deep linear nets

SADDLE = dict(n_samples=50, in_dim=3, out_dim=2, hidden=2, singular_values=[2.0, 1.0],
              noise=0.1, init_scale=1e-3, steps=40, record_every=10, n_inits=3, seed=1)


def test_saddle_gradient_descent_names_the_init_and_step():
    with pytest.raises(DivergedError, match=r"^linear_saddle seed 1: gradient descent from small "
                                            r"weights diverged at step \d+: loss of init \d "
                                            r"\(seed 100\d\) is (nan|inf)"):
        linear.saddle_experiment(lr=1e6, name="linear_saddle seed 1", **SADDLE)
    assert np.isfinite(linear.saddle_experiment(lr=0.02, **SADDLE)["losses"]).all()


def test_surfaces_fit_names_the_net_and_step():
    with pytest.raises(DivergedError, match=r"^linear_surfaces seed 0: fit of the linear 2-3-1 "
                                            r"net diverged at step \d+: loss is (nan|inf)"):
        linear.surfaces(n_samples=30, noise=0.1, target=1.0, grid=5, extent=1.0, fit_steps=100,
                        fit_lr=1e6, seed=0, name="linear_surfaces seed 0")


def test_permutation_path_of_a_diverged_net_stops(digits):
    model = train.init_model(SPEC, digits, 0).double()
    with torch.no_grad():
        model.net[1].weight[0, 0] = NAN
    with pytest.raises(DivergedError, match=r"^linear_permutation seed 0: loss of the trained "
                                            r"net is nan"):
        linear.permutation_experiment(model, digits.x_train.double(), digits.y_train, 5, 0,
                                      name="linear_permutation seed 0")


# ---------------------------------------------------------------- critical points, Newton


def test_critical_point_search_names_the_start():
    problem = quadratic_problem(lambda t: torch.where(t[0] > 10, NAN, 0.5 * (t ** 2).sum()))
    starts = [torch.full((3,), 0.1, dtype=torch.float64),
              torch.full((3,), 100.0, dtype=torch.float64)]
    with pytest.raises(DivergedError, match=r"^saddles_search seed 0 shard 1, start 2 of 2 "
                                            r"\(run 0 epoch 4\) diverged at its start: loss is "
                                            r"nan"):
        critical.search_critical_points(problem, starts, 1e-5, 5, 1e-10,
                                        ["run 0 epoch 0", "run 0 epoch 4"],
                                        "saddles_search seed 0 shard 1")


@pytest.mark.parametrize("finder", ["lm", "newton_mr"])
def test_critical_point_search_stops_at_an_accepted_step_with_a_nan_loss(finder):
    # the gradient is the quadratic's everywhere, the loss NaN near its minimum
    def loss_fn(t):
        return 0.5 * (t ** 2).sum() + torch.where(t.norm() < 0.05, NAN, 0.0)

    find = critical.find_critical_point if finder == "lm" else critical.newton_mr
    with pytest.raises(DivergedError, match=r"^s diverged at step 1: loss is nan"):
        find(loss_fn, torch.full((3,), 0.2, dtype=torch.float64), name="s")


def test_newton_mr_stops_on_a_nan_hessian_vector_product():
    def hvp(theta):
        return lambda v: torch.full_like(v, NAN)

    with pytest.raises(DivergedError, match=r"^s diverged at step 0: Hessian-vector product"):
        critical.newton_mr(lambda t: 0.5 * (t ** 2).sum(),
                           torch.full((3,), 0.2, dtype=torch.float64), hvp=hvp, name="s")


def test_second_order_runs_name_the_method_and_epoch():
    problem = quadratic_problem(lambda t: 0.5 * (t ** 2).sum())
    start = torch.full((3,), NAN, dtype=torch.float64)
    for method in critical.METHODS:
        with pytest.raises(DivergedError, match=rf"^saddles_compare seed 0 {method} diverged at "
                                                r"epoch 5: loss is nan"):
            critical.second_order_run(problem.loss_fn, problem.error_fn, start, method, 2, [1.0],
                                      krylov_dim=2, name="saddles_compare seed 0", first_epoch=5)
    trajectory = torch.stack([torch.ones(3), 0.5 * torch.ones(3), torch.full((3,), NAN)])
    with pytest.raises(DivergedError, match=r"^saddles_compare seed 0 momentum SGD diverged at "
                                            r"epoch 2: loss is nan"):
        critical.trajectory_history(problem, trajectory, [0, 1, 2],
                                    "saddles_compare seed 0 momentum SGD")


def test_a_non_finite_hessian_eigenvalue_stops_the_record():
    # finite loss and gradient at 0, but d2/dx2 |x|^1.5 is infinite there
    def loss_fn(t):
        return 0.5 * (t ** 2).sum() + t[0].abs() ** 1.5

    assert all(math.isnan(v) for v in hessian.extreme_eigenvalues(lambda v: v * NAN, 4, 4))
    with pytest.raises(DivergedError, match=r"^r sfn diverged at epoch 0: most negative Hessian "
                                            r"eigenvalue is nan"):
        critical.second_order_run(loss_fn, lambda t: 0.0, torch.zeros(3, dtype=torch.float64),
                                  "sfn", 1, [1.0], name="r")


# ---------------------------------------------------------------- spin glass


def test_spin_glass_descent_names_the_start_and_step():
    s, w = spinglass.couplings(5, 0), spinglass.random_sphere(4, 5, 1)
    with pytest.raises(DivergedError, match=r"^minima_spinglass N=5 seed 0 diverged at step 1: "
                                            r"energy of start 0 is nan"):
        spinglass.descend(s, w, 1e308, 1e-3, 10, name="minima_spinglass N=5 seed 0")


# ---------------------------------------------------------------- sharpness


def test_keskar_sharpness_names_eps_space_and_evaluation():
    def f(z):  # finite at x = 0, NaN towards the box's corners
        return (NAN if np.abs(z).max() > 0.5 else float(z.sum())), np.ones_like(z)

    with pytest.raises(DivergedError, match=r"^m, eps 1 in the full space, diverged inside the "
                                            r"box at evaluation \d+: loss is nan"):
        sharpness.keskar_sharpness(f, np.zeros(3), 1.0, name="m")


def test_sharpness_of_a_diverged_model_stops(digits):
    model = train.init_model(SPEC, digits, 0)
    with torch.no_grad():
        model.net[1].weight[0, 0] = NAN
    with pytest.raises(DivergedError, match=r"^sharpness_measure mlp, eps 0.001 in the subspace "
                                            r"space, diverged at the minimizer itself: loss is "
                                            r"nan"):
        sharpness.model_sharpness(model, digits.x_train, digits.y_train, 1e-3, 5,
                                  name="sharpness_measure mlp")


def test_interpolation_and_slices_name_the_point(digits):
    model = train.init_model(SPEC, digits, 0)
    good = dict(model.state_dict())
    bad = {k: torch.full_like(v, NAN) for k, v in good.items()}
    sets = (digits.x_train, digits.y_train, digits.x_test, digits.y_test)
    with pytest.raises(DivergedError, match=r"^sharpness_interpolate mlp wd 0 seed 0 diverged at "
                                            r"alpha = -0.5: loss of the training set is nan"):
        sharpness.interpolation_curve(model, good, bad, [-0.5, 0.0, 1.0], *sets,
                                      name="sharpness_interpolate mlp wd 0 seed 0")
    with pytest.raises(DivergedError, match=r"^sharpness_slice mlp diverged: training loss of "
                                            r"a = -1e\+30 is (nan|inf)"):
        sharpness.filter_normalized_slice(model, 0, 1e30, 3, *sets, name="sharpness_slice mlp")


def test_reparametrization_names_the_factor(digits):
    model = train.init_model(SPEC, digits, 0)
    with pytest.raises(DivergedError, match=r"^sharpness_reparam seed 0 at a = 1e\+39, eps "
                                            r"0.001 in the full space, diverged at the minimizer "
                                            r"itself: loss is nan"):
        sharpness.reparametrization_sweep(model, digits.x_train, digits.y_train, [1.0, 1e39], 0,
                                          1e-3, 3, name="sharpness_reparam seed 0")


# ---------------------------------------------------------------- surfaces and Hessian maps


def far_plane():
    """A small MLP and a direction so long that the loss overflows away from the center."""
    torch.manual_seed(0)
    model = MLP(6, [5], 3).eval()
    dim = sum(p.numel() for p in model.parameters())
    x = torch.randn(40, 6, generator=torch.Generator().manual_seed(1))
    y = torch.randint(0, 3, (40,), generator=torch.Generator().manual_seed(2))
    return model, torch.full((1, dim), 1e30), x, y


def test_surface_tile_names_the_tile_and_point():
    model, d, x, y = far_plane()
    grid = Grid.linspace(alpha=(-1, 1, 3))
    with pytest.raises(DivergedError, match=r"^skips_surface_tile plain8 random seed 0 tile 0, "
                                            r"rows 0-2 of alpha, diverged: train loss of point "
                                            r"\(alpha = -1\) is (nan|inf) \(2 of 3 not finite\)"):
        evaluate_tile(Evaluator(model, d), grid, 0, 3, (x, y),
                      name="skips_surface_tile plain8 random seed 0 tile 0")
    ok = evaluate_tile(Evaluator(model, d), grid, 1, 2, (x, y))  # the center alone is fine
    assert np.isfinite(ok.metrics["train_loss"]).all()


def test_hessian_map_names_the_tile_and_point():
    model, d, x, y = far_plane()
    grid = Grid.linspace(alpha=(-1, 1, 3))
    with pytest.raises(DivergedError, match=r"^skips_hessian_tile plain8 seed 0 tile 0, rows 0-2 "
                                            r"of alpha, diverged at point \(alpha = -1\): Hessian "
                                            r"eigenvalue of lambda_min is nan"):
        extreme_eigenvalues_tile(model, d, grid, 0, 3, x, y, 3, 0,
                                 name="skips_hessian_tile plain8 seed 0 tile 0")


def test_spectral_density_names_the_probe():
    from landscapes.hessian import slq_density

    def matvec(v):
        return v * float("nan")

    with pytest.raises(DivergedError, match=r"spectrum of m: probe 1 of 2: Lanczos coefficient"):
        slq_density(matvec, 6, steps=3, n_probes=2, name="spectrum of m")


def test_a_non_finite_eval_loss_stops_only_the_last_epoch(digits, monkeypatch):
    # A plain 110-layer BN net at full width overflows in eval mode after one step (its
    # running statistics are a tenth of the way to the batches'), with finite batches: the
    # run goes on, and stops only if the model it ends with is not finite in eval mode.
    evaluate, calls = train.evaluate, []

    def nan_in_epoch_one(model, x, y, **kw):
        calls.append(1)
        loss, acc = evaluate(model, x, y, **kw)
        return (NAN if len(calls) <= 2 else loss), acc
    monkeypatch.setattr(train, "evaluate", nan_in_epoch_one)
    cfg = TrainConfig(epochs=2, batch_size=50, lr=0.1, momentum=0.9)
    metrics = train.train(train.init_model(SPEC, digits, 0), digits, cfg, 0, name="r").metrics
    assert math.isnan(metrics[0]["train_loss"]) and math.isnan(metrics[0]["test_loss"])
    assert math.isfinite(metrics[1]["train_loss"]) and math.isfinite(metrics[0]["batch_loss"])
    calls.clear()
    with pytest.raises(DivergedError, match=r"^run 'r' \(seed 0\) diverged at epoch 1: "
                                            r"training loss is nan$"):
        train.train(train.init_model(SPEC, digits, 0), digits, replace(cfg, epochs=1), 0,
                    name="r")
