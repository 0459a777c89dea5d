"""Every claim of the sharp-minima experiment (Keskar et al. 2017, Li et al. 2018 section 5,
Dinh et al. 2017) on small synthetic artifacts in the pipeline's format: the summary made by
`sharpness.summarize` from measurement records, interpolation and slice curves, the
rescaling sweep. One case that holds, one that fails, and the degenerate inputs that must fail
or raise."""

import copy
import math

import numpy as np
import pytest
from claims_support import section, verdicts

from landscapes.claims import sharpness as shc
from landscapes.names import interp_id, phi_column
from landscapes.sharpness import summarize
from landscapes.store import load_json, save_json, save_npz

KESKAR, EPS = ["mlp", "conv"], [1e-3, 5e-4]
SB = {"mlp": 32, "conv": 32, "vgg": 32}
LB = {"mlp": 150, "conv": 150, "vgg": 375}
SWEEP = {"network": "mlp", "batch_sizes": [48, 64, 96]}  # apart from SB and LB
SEEDS = (0, 1, 2)
LI = {"network": "vgg", "weight_decays": [0.0, 5e-4], "seed": 0}


def params(**claims):
    return section("sharpness", keskar=KESKAR, metric={"eps": EPS},
                   networks={"vgg": {"train": {"batch_size": SB["vgg"]},
                                     "large_batch": LB["vgg"]}},
                   li={"network": LI["network"], "weight_decays": LI["weight_decays"]},
                   sweep={"batch_sizes": SWEEP["batch_sizes"]}, claims=claims)


def measure(net, batch, seed, full, subspace, test_acc, reached=True, converged=True):
    """One sharpness record as rule sharpness_measure writes it."""
    return {"net": net, "batch": batch, "weight_decay": 0.0, "sb": batch == SB[net],
            "lb": batch == LB[net], "seed": seed, "epochs": 40, "target_loss": 1e-3,
            "reached_target": reached, "train_loss": 1e-3 if reached else 0.01, "train_acc": 1.0,
            "test_loss": 0.1, "test_acc": test_acc, "bn_mode": "eval (running statistics)",
            "sharpness": [{"phi": phi, "f0": 0.01, "f_max": 0.01 + phi, "eps": e, "space": space,
                           "dim": 10, "iterations": 3, "evaluations": 4,
                           "converged": converged,
                           "status": 0, "message": "ok"}
                          for e in EPS for space, phi in (("full", full), ("subspace", subspace))]}


# The paper's shape: without weight decay SB's weights end larger, with it LB's; SB tests
# better in both settings.
LI_NORM = {(0.0, "SB"): 20.0, (0.0, "LB"): 10.0, (5e-4, "SB"): 8.0, (5e-4, "LB"): 10.0}
LI_ACC = {(wd, r): 0.9 if r == "SB" else 0.85 for wd in LI["weight_decays"] for r in ("SB", "LB")}


def li_runs(tmp_path, norm=None, acc=None, net="vgg", seed=0):
    """The weight-decay runs' training records as rule sharpness_train writes them."""
    norm, acc = {**LI_NORM, **(norm or {})}, {**LI_ACC, **(acc or {})}
    paths = []
    for (wd, r), a in acc.items():
        batch = {"SB": SB, "LB": LB}[r]["vgg"]
        path = tmp_path / f"run_b{batch}_wd{wd:g}_{net}_s{seed}.json"
        save_json(path, {"net": net, "batch_size": batch, "weight_decay": wd, "seed": seed,
                         "final": {"epoch": 2, "train_loss": 0.01, "train_acc": 1.0,
                                   "test_acc": a},
                         "norm_epochs": [0, 1, 2], "weight_norm": [9.0, 9.5, norm[wd, r]],
                         "final_weight_norm": norm[wd, r]})
        paths.append(str(path))
    return paths


def summary(tmp_path, phi=None, acc=None, sweep_phi=(1.0, 4.0, 10.0), seeds=SEEDS,
            name="summary.json", **record):
    """phi: {(net, regime): (full, subspace)}; acc: {(net, regime): test accuracy}, to which
    SB adds 0.1 points per seed (gaps of 1.0, 1.1 and 1.2 points at three seeds)."""
    phi = {**{(n, "SB"): (1.0, 0.1) for n in KESKAR}, **{(n, "LB"): (10.0, 1.0) for n in KESKAR},
           **(phi or {})}
    acc = {**{(n, "SB"): 0.98 for n in KESKAR}, **{(n, "LB"): 0.97 for n in KESKAR},
           **(acc or {})}
    measures = [measure(n, {"SB": SB, "LB": LB}[r][n], seed, *phi[n, r],
                        acc[n, r] + (0.001 * seed if r == "SB" else 0.0), **record)
                for n in KESKAR for r in ("SB", "LB") for seed in seeds]
    measures += [measure("mlp", b, seed, full, full / 10, a) for b, full, a in
                 zip(SWEEP["batch_sizes"], sweep_phi, (0.98, 0.975, 0.97)) for seed in seeds]
    s = summarize(measures, KESKAR, EPS, SB, LB, SWEEP)
    save_json(tmp_path / name, s)
    return str(tmp_path / name)


ALPHAS = np.linspace(-1.0, 2.0, 13)  # steps of 0.25


def line(tmp_path, name, sb_curv, lb_curv, net="mlp", wd=0.0):
    """A curve along alpha x_LB + (1 - alpha) x_SB with curvature sb_curv at alpha = 0 and
    lb_curv at alpha = 1."""
    loss = np.minimum(sb_curv * ALPHAS**2 + 0.02, lb_curv * (ALPHAS - 1) ** 2 + 0.01)
    path = tmp_path / f"{name}.npz"
    save_npz(path, network=np.array(net), weight_decay=np.float64(wd), alphas=ALPHAS,
             train_loss=loss, train_acc=1 - loss, test_loss=loss + 0.1, test_acc=0.9 - loss)
    return str(path)


def slice_(tmp_path, batch, wd, curv, net="vgg", seed=0):
    a = np.linspace(-1, 1, 9)
    loss = curv * a**2 + 0.01
    path = tmp_path / f"slice_b{batch}_wd{wd:g}_s{seed}.npz"
    save_npz(path, network=np.array(net), batch_size=np.int64(batch),
             weight_decay=np.float64(wd), seed=np.int64(seed), alphas=a, train_loss=loss,
             train_acc=1 - loss, test_loss=loss + 0.1, test_acc=0.9 - loss)
    return str(path)


def reparam(tmp_path, change=(1e-7, 0.0, 1e-7), phi=(1.0, 10.0, 1000.0), lam=(0.5, 5, 500)):
    path = tmp_path / "reparam.npz"
    save_npz(path, factors=np.array([0.1, 1.0, 10.0]), max_output_change=np.array(change),
             train_loss=np.full(3, 0.01), phi=np.array(phi, dtype=float),
             lambda_max=np.array(lam, dtype=float), converged=np.ones(3),
             eps=np.float64(1e-3), layer=np.int64(0))
    return str(path)


def artifacts(tmp_path, **over):
    """The paper's shape: LB sharper and worse everywhere; with weight decay the raw
    interpolation flips (SB looks sharper); filter-normalized slices rank LB sharper. The
    defaults go to their own folder, so that they cannot overwrite a test's replacements."""
    base = tmp_path / "base"
    base.mkdir(exist_ok=True)
    if "summary" in over:  # one summary for a seed's and the pooled claims
        over.setdefault("summary_all", over["summary"])
    make = {"summary": lambda: summary(base), "summary_all": lambda: summary(base),
            "parametric": lambda: [line(base, interp_id(n, 0, 0).replace("/", "_"), 0.1, 2.0, n)
                                   for n in KESKAR],
            "li_interps": lambda: [line(base, "li_wd0", 0.1, 2.0, "vgg", 0.0),
                                   line(base, "li_wd5e-4", 2.0, 0.1, "vgg", 5e-4)],
            "li_slices": lambda: [slice_(base, b, wd, c) for wd in LI["weight_decays"]
                                  for b, c in ((32, 0.5), (375, 3.0))],
            "li_runs": lambda: li_runs(base),
            # two seeds of the same shape for the values pooled over seeds
            "li_slices_all": lambda: [slice_(base, b, wd, c, seed=seed) for seed in (0, 1)
                                      for wd in LI["weight_decays"]
                                      for b, c in ((32, 0.5), (375, 3.0))],
            "li_runs_all": lambda: li_runs(base) + li_runs(base, seed=1),
            "reparam": lambda: reparam(base)}
    return {k: over[k] if k in over else f() for k, f in make.items()}


def test_every_claim_holds_on_artifacts_of_the_papers_shape(tmp_path):
    records = verdicts("sharpness", artifacts(tmp_path), params())
    assert len(records) == 13
    assert records["filter_normalized_lb_sharper"]["measured"] == pytest.approx(6.0)
    assert all(r["holds"] for r in records.values()), \
        {k: r["measured"] for k, r in records.items() if not r["holds"]}
    assert records["lb_sharper_full"]["measured"] == pytest.approx(10.0)
    # gaps 1.0, 1.1, 1.2 points: mean 1.1, standard error 0.1 / sqrt(3)
    assert records["lb_generalizes_worse"]["measured"] == pytest.approx(1.1 / (0.1 / 3**0.5))
    assert records["lb_sharper_subspace"]["measured"] == pytest.approx(10.0)
    assert records["lb_sharper_full"]["bound"] == 5.0
    assert "10x [95% CI 10, 10] over 3 seeds" in records["lb_sharper_full"]["details"]["pooled"]
    assert records["sharpness_converged"]["measured"] == "48 of 48"
    # rise(LB) = (0.07625 + 0.135) / 2 - 0.01, rise(SB) = 0.02625 - 0.02
    assert records["parametric_steeper_at_lb"]["measured"] == pytest.approx(15.3)
    assert records["filter_normalized_ranks_generalization"]["measured"] == "2 of 2 settings"
    assert records["filter_normalized_ranks_generalization"]["details"]["pooled"] == \
        "2 of 2 settings (means over 2 seeds)"
    # min(SB/LB = 20/10 at wd 0, LB/SB = 10/8 at wd 5e-4)
    assert records["weight_norms_flip_with_decay"]["measured"] == pytest.approx(1.25)
    assert records["weight_norms_flip_with_decay"]["bound"] == 1.0


def test_summary_columns_are_the_names_helpers(tmp_path):
    row = load_json(summary(tmp_path))["table"][0]
    assert {phi_column(s, e, "mean") for s in ("full", "subspace") for e in EPS} <= set(row)


# ---------------------------------------------------------------- Keskar: Tables 2-4


def test_lb_sharper_full_fails_below_the_configured_ratio(tmp_path):
    art = artifacts(tmp_path, summary=summary(tmp_path, phi={("conv", "LB"): (3.0, 1.0)}))
    r = shc.lb_sharper_full(art, params())
    assert not r.holds and r.measured == pytest.approx(3.0)
    assert shc.lb_sharper_full(art, params(sharper_ratio=2.0)).holds


def test_one_bound_for_both_spaces(tmp_path):
    # 3x in the subspace, 10x in the full space: one bound of 5 fails the subspace only
    art = artifacts(tmp_path, summary=summary(tmp_path, phi={("conv", "LB"): (10.0, 0.3)}))
    assert shc.lb_sharper_full(art, params()).holds
    r = shc.lb_sharper_subspace(art, params())
    assert not r.holds and r.measured == pytest.approx(3.0)
    assert shc.lb_sharper_subspace(art, params(sharper_ratio=2.0)).holds


def test_lb_sharper_full_fails_on_a_zero_sb_sharpness_or_nan(tmp_path):
    # LB / 0 was scored as LB / 1e-300, about 1e301 times sharper
    zero = artifacts(tmp_path, summary=summary(tmp_path, phi={("mlp", "SB"): (0.0, 0.1)}))
    assert not shc.lb_sharper_full(zero, params()).holds
    nan = artifacts(tmp_path, summary=summary(tmp_path, phi={("conv", "LB"): (math.nan, 1.0)}))
    assert not shc.lb_sharper_full(nan, params()).holds


def test_lb_sharper_subspace_fails_when_sb_is_sharper_for_one_network(tmp_path):
    art = artifacts(tmp_path, summary=summary(tmp_path, phi={("conv", "SB"): (1.0, 2.0)}))
    r = shc.lb_sharper_subspace(art, params())
    assert not r.holds and r.measured == pytest.approx(0.5)


def test_lb_sharper_subspace_fails_on_a_zero_sb_sharpness(tmp_path):
    zero = artifacts(tmp_path, summary=summary(tmp_path, phi={("conv", "SB"): (1.0, 0.0)}))
    assert not shc.lb_sharper_subspace(zero, params()).holds


def test_lb_sharper_raises_on_a_network_missing_from_the_table(tmp_path):
    p = params()
    p["keskar"] = ["mlp", "conv", "f1"]
    with pytest.raises(KeyError):
        shc.lb_sharper_full(artifacts(tmp_path), p)


def test_lb_generalizes_worse_fails_when_lb_tests_better_or_nan(tmp_path):
    art = artifacts(tmp_path, summary=summary(tmp_path, acc={("conv", "LB"): 0.99}))
    assert not shc.lb_generalizes_worse(art, params()).holds
    nan = artifacts(tmp_path, summary=summary(tmp_path, acc={("mlp", "SB"): math.nan}))
    assert not shc.lb_generalizes_worse(nan, params()).holds


def test_lb_generalizes_worse_needs_the_gap_beyond_its_standard_error(tmp_path):
    # gaps 0.1, 0.2, 0.3 points for conv: mean 0.2 within 0.2 / 0.0577 = 3.5 standard errors
    # holds; gaps -0.9, 0.1, 1.1 (SB + 1 point per seed): mean 0.1, SE 0.58, fails
    wide = tmp_path / "wide"
    wide.mkdir()
    near = summary(wide, acc={("conv", "SB"): 0.971})
    assert shc.lb_generalizes_worse(artifacts(tmp_path, summary=near), params()).holds
    noisy = [measure(n, {"SB": SB, "LB": LB}[r][n], seed, *phi,
                     0.97 + (0.01 * seed - 0.009 if r == "SB" else 0.0))
             for n in KESKAR for r, phi in (("SB", (1.0, 0.1)), ("LB", (10.0, 1.0)))
             for seed in SEEDS]
    noisy += [measure("mlp", b, seed, 1.0, 0.1, 0.98) for b in SWEEP["batch_sizes"]
              for seed in SEEDS]
    save_json(wide / "noisy.json", summarize(noisy, KESKAR, EPS, SB, LB, SWEEP))
    r = shc.lb_generalizes_worse(artifacts(tmp_path, summary=str(wide / "noisy.json")), params())
    assert not r.holds and r.measured == pytest.approx(0.1 / (1.0 / 3**0.5))
    one = summary(wide, seeds=(0,), name="one.json")  # no standard error from one seed
    assert not shc.lb_generalizes_worse(artifacts(tmp_path, summary=one), params()).holds


def test_matched_loss_and_convergence_fail_on_one_run_short_of_its_target(tmp_path):
    short = artifacts(tmp_path, summary=summary(tmp_path, reached=False))
    r = shc.keskar_matched_loss(short, params())
    assert not r.holds and r.details["reached"] == "0 of 12 runs"
    assert shc.keskar_matched_loss(artifacts(tmp_path), params()).holds
    capped = artifacts(tmp_path, summary=summary(tmp_path, converged=False))
    r = shc.sharpness_converged(capped, params())
    assert not r.holds and r.measured == "0 of 48"


def test_summary_pairs_seeds_and_refuses_unpaired_ones(tmp_path):
    s = load_json(summary(tmp_path, phi={("mlp", "LB"): (20.0, 1.0)}))
    r = s["ratios"]["mlp"]["full_0.001"]
    assert r["per_seed"] == [20.0, 20.0, 20.0] and r["geometric_mean"] == pytest.approx(20.0)
    assert s["test_acc_gap_points"]["conv"]["per_seed"] == pytest.approx([1.0, 1.1, 1.2])
    assert s["sweep"]["seeds"] == list(SEEDS) and s["sweep"]["phi_std"]["full_0.001"] == [0, 0, 0]
    lone = [measure("mlp", SB["mlp"], 0, 1.0, 0.1, 0.98), measure("mlp", LB["mlp"], 1, 1.0, 0.1,
                                                                    0.97)]
    with pytest.raises(ValueError, match="SB has seeds"):
        summarize(lone, ["mlp"], EPS, SB, LB, {"network": "mlp", "batch_sizes": [32, 150]})


# ---------------------------------------------------------------- Keskar: Figs. 3 and 4


def test_parametric_fails_when_sb_is_steeper_for_one_network(tmp_path):
    lines = [line(tmp_path, "mlp", 0.1, 2.0, "mlp"), line(tmp_path, "conv", 2.0, 0.1, "conv")]
    assert not shc.parametric_steeper_at_lb(artifacts(tmp_path, parametric=lines),
                                            params()).holds


def test_parametric_fails_when_the_loss_falls_away_from_sb(tmp_path):
    # rise(SB) < 0: alpha = 0 is a maximum on the line; the ratio was scored as infinite
    falling = tmp_path / "falling.npz"
    loss = np.minimum(0.5 - 0.1 * ALPHAS**2, 2.0 * (ALPHAS - 1) ** 2 + 0.01)
    save_npz(falling, network=np.array("conv"), weight_decay=np.float64(0.0), alphas=ALPHAS,
             train_loss=loss, train_acc=1 - loss, test_loss=loss, test_acc=1 - loss)
    lines = [line(tmp_path, "mlp", 0.1, 2.0, "mlp"), str(falling)]
    art = artifacts(tmp_path, parametric=lines)
    r = shc.parametric_steeper_at_lb(art, params())
    assert not r.holds and math.isnan(r.details["conv"])


def test_parametric_raises_without_a_curve_per_network(tmp_path):
    with pytest.raises(ValueError, match="config asks"):
        shc.parametric_steeper_at_lb(
            artifacts(tmp_path, parametric=[line(tmp_path, "mlp", 0.1, 2.0, "mlp")]), params())
    twice = [line(tmp_path, "a", 0.1, 2.0, "mlp"), line(tmp_path, "b", 0.1, 2.0, "mlp"),
             line(tmp_path, "c", 0.1, 2.0, "conv")]
    with pytest.raises(ValueError, match="config asks"):
        shc.parametric_steeper_at_lb(artifacts(tmp_path, parametric=twice), params())


def test_radius_comes_from_the_config(tmp_path):
    # near LB the loss is flat within 0.25 and steep beyond: sharper at LB only over 0.5
    loss = np.where(np.abs(ALPHAS - 1) <= 0.25, 0.01, 5.0 * (ALPHAS - 1) ** 2)
    loss = np.minimum(loss, 0.1 * ALPHAS**2 + 0.02)
    loss[np.isclose(ALPHAS, 1)] = 0.01
    paths = []
    for n in KESKAR:
        p = tmp_path / f"r_{n}.npz"
        save_npz(p, network=np.array(n), weight_decay=np.float64(0.0), alphas=ALPHAS,
                 train_loss=loss, train_acc=1 - loss, test_loss=loss, test_acc=1 - loss)
        paths.append(str(p))
    art = artifacts(tmp_path, parametric=paths)
    assert not shc.parametric_steeper_at_lb(art, params()).holds
    assert shc.parametric_steeper_at_lb(art, params(radius=0.5)).holds


def test_sweep_fails_when_sharpness_falls_with_batch_size(tmp_path):
    art = artifacts(tmp_path, summary=summary(tmp_path, sweep_phi=(10.0, 4.0, 1.0)))
    assert not shc.sweep_sharpness_grows(art, params()).holds


@pytest.mark.filterwarnings("ignore:An input array is constant")
def test_sweep_fails_on_constant_sharpness_and_raises_on_missing_points(tmp_path):
    flat = artifacts(tmp_path, summary=summary(tmp_path, sweep_phi=(3.0, 3.0, 3.0)))
    assert not shc.sweep_sharpness_grows(flat, params()).holds
    p = params()
    p["sweep"]["batch_sizes"] = [48, 64, 96, 375]
    with pytest.raises(ValueError, match="config asks"):
        shc.sweep_sharpness_grows(artifacts(tmp_path), p)


# ---------------------------------------------------------------- Li et al.: Figs. 2 and 3


def test_weight_norms_fail_when_lb_ends_larger_without_decay_or_smaller_with_it(tmp_path):
    r = shc.weight_norms_flip_with_decay(artifacts(tmp_path), params())
    assert r.holds and r.details["norm SB, wd 0"] == 20.0
    no_flip = artifacts(tmp_path, li_runs=li_runs(tmp_path, norm={(5e-4, "SB"): 12.0}))
    r = shc.weight_norms_flip_with_decay(no_flip, params())
    assert not r.holds and r.measured == pytest.approx(10 / 12)
    lb_larger = artifacts(tmp_path, li_runs=li_runs(tmp_path, norm={(0.0, "LB"): 25.0}))
    r = shc.weight_norms_flip_with_decay(lb_larger, params())
    assert not r.holds and r.measured == pytest.approx(0.8)
    zero = artifacts(tmp_path, li_runs=li_runs(tmp_path, norm={(5e-4, "SB"): 0.0}))
    assert not shc.weight_norms_flip_with_decay(zero, params()).holds  # NaN, not infinite


def test_li_runs_raise_on_a_missing_repeated_or_foreign_run(tmp_path):
    runs = li_runs(tmp_path)
    with pytest.raises(ValueError, match="config asks"):
        shc.weight_norms_flip_with_decay(artifacts(tmp_path, li_runs=runs[:3]), params())
    with pytest.raises(ValueError, match="two runs of"):
        shc.weight_norms_flip_with_decay(artifacts(tmp_path, li_runs=runs + runs[:1]), params())
    other = tmp_path / "other"
    other.mkdir()
    with pytest.raises(ValueError, match="a run of mlp"):
        shc.weight_norms_flip_with_decay(artifacts(tmp_path, li_runs=li_runs(other, net="mlp")),
                                         params())


def test_weight_decay_flip_fails_when_lb_still_looks_sharper(tmp_path):
    curves = [line(tmp_path, "li_wd0", 0.1, 2.0, "vgg", 0.0),
              line(tmp_path, "li_wd5e-4", 0.1, 2.0, "vgg", 5e-4)]
    r = shc.weight_decay_flips_raw(artifacts(tmp_path, li_interps=curves), params())
    assert not r.holds and r.bound == 1.0 and r.sense == ">"


def test_weight_decay_flip_fails_when_sb_already_looks_sharper_without_decay(tmp_path):
    # the strong form: the flip needs LB sharper at wd 0 as well as SB sharper with decay
    curves = [line(tmp_path, "li_wd0", 2.0, 0.1, "vgg", 0.0),
              line(tmp_path, "li_wd5e-4", 2.0, 0.1, "vgg", 5e-4)]
    r = shc.weight_decay_flips_raw(artifacts(tmp_path, li_interps=curves), params())
    assert not r.holds and r.measured < 1
    assert r.details["rise SB / rise LB, wd 0.0005"] > 1


def test_weight_decay_flip_fails_when_the_loss_falls_away_from_lb(tmp_path):
    # rise(LB) < 0 (alpha = 1 a maximum on the line): SB / LB was scored as infinite
    falling = tmp_path / "falling.npz"
    loss = np.minimum(2.0 * ALPHAS**2 + 0.01, 0.5 - 0.1 * (ALPHAS - 1) ** 2)
    save_npz(falling, network=np.array("vgg"), weight_decay=np.float64(5e-4), alphas=ALPHAS,
             train_loss=loss, train_acc=1 - loss, test_loss=loss, test_acc=1 - loss)
    curves = [line(tmp_path, "li_wd0", 0.1, 2.0, "vgg", 0.0), str(falling)]
    r = shc.weight_decay_flips_raw(artifacts(tmp_path, li_interps=curves), params())
    assert not r.holds and math.isnan(r.measured)


def test_weight_decay_flip_raises_on_missing_or_foreign_curves(tmp_path):
    one = [line(tmp_path, "li_wd0", 0.1, 2.0, "vgg", 0.0)]
    with pytest.raises(ValueError, match="config asks"):
        shc.weight_decay_flips_raw(artifacts(tmp_path, li_interps=one), params())
    other = [line(tmp_path, "li_wd0", 0.1, 2.0, "mlp", 0.0),
             line(tmp_path, "li_wd5e-4", 2.0, 0.1, "mlp", 5e-4)]
    with pytest.raises(ValueError, match="not vgg"):
        shc.weight_decay_flips_raw(artifacts(tmp_path, li_interps=other), params())


def test_filter_normalized_lb_sharper_fails_where_sb_is_sharper_or_a_slice_is_missing(tmp_path):
    slices = [slice_(tmp_path, b, wd, c) for wd, b, c in
              ((0.0, 32, 0.5), (0.0, 375, 3.0), (5e-4, 32, 3.0), (5e-4, 375, 1.5))]
    r = shc.filter_normalized_lb_sharper(artifacts(tmp_path, li_slices=slices), params())
    assert not r.holds and r.measured == pytest.approx(0.5)
    assert r.details["rise LB / rise SB, wd 0"] == pytest.approx(6.0)
    r = shc.filter_normalized_lb_sharper(artifacts(tmp_path, li_slices=slices[:3]), params())
    assert not r.holds and math.isnan(r.measured)
    with pytest.raises(ValueError, match="two slices"):
        shc.filter_normalized_lb_sharper(artifacts(tmp_path, li_slices=slices + slices[:1]),
                                         params())


def test_filter_normalized_fails_when_the_sharper_one_tests_better(tmp_path):
    # at wd 0 the SB slice is the sharper one, yet SB has the higher test accuracy
    slices = [slice_(tmp_path, b, wd, c) for wd, b, c in
              ((0.0, 32, 3.0), (0.0, 375, 0.5), (5e-4, 32, 0.5), (5e-4, 375, 3.0))]
    r = shc.filter_normalized_ranks_generalization(artifacts(tmp_path, li_slices=slices),
                                                   params())
    assert not r.holds and r.measured == "1 of 2 settings"


def test_filter_normalized_fails_without_both_regimes_or_on_ties(tmp_path):
    # one slice per setting made "the sharper one" also "the worse one" by default
    lb_only = [slice_(tmp_path, 375, wd, 3.0) for wd in LI["weight_decays"]]
    r = shc.filter_normalized_ranks_generalization(artifacts(tmp_path, li_slices=lb_only),
                                                   params())
    assert not r.holds
    none = shc.filter_normalized_ranks_generalization(artifacts(tmp_path, li_slices=[]),
                                                      params())
    assert not none.holds and none.measured == "0 of 2 settings"
    tied = [slice_(tmp_path, b, wd, 1.0) for wd in LI["weight_decays"] for b in (32, 375)]
    assert not shc.filter_normalized_ranks_generalization(artifacts(tmp_path, li_slices=tied),
                                                          params()).holds
    same_acc = {(wd, r): 0.9 for wd in LI["weight_decays"] for r in ("SB", "LB")}
    art = artifacts(tmp_path, li_runs=li_runs(tmp_path, acc=same_acc))
    r = shc.filter_normalized_ranks_generalization(art, params())
    assert not r.holds and r.details["wd 0"] == "sharper LB, higher test error None"


def test_filter_normalized_pools_the_test_errors_of_every_seed(tmp_path):
    # seed 0 ties on test error (undefined: fails); over both seeds LB tests worse
    same = {(wd, r): 0.9 for wd in LI["weight_decays"] for r in ("SB", "LB")}
    seed0 = li_runs(tmp_path, acc=same)
    worse = {(wd, r): 0.9 if r == "SB" else 0.88 for wd in LI["weight_decays"]
             for r in ("SB", "LB")}
    art = artifacts(tmp_path, li_runs=seed0,
                    li_runs_all=seed0 + li_runs(tmp_path, acc=worse, seed=1))
    r = shc.filter_normalized_ranks_generalization(art, params())
    assert not r.holds and r.measured == "0 of 2 settings"
    assert r.details["pooled"] == "2 of 2 settings (means over 2 seeds)"
    assert r.details["test error LB - SB (points), wd 0 (means over seeds)"] == \
        pytest.approx(1.0)
    # every setting needs a slice and a run at each of the same seeds
    short = artifacts(tmp_path)
    short["li_slices_all"] = short["li_slices_all"][:-1]
    with pytest.raises(ValueError, match="each of the same seeds"):
        shc.filter_normalized_ranks_generalization(short, params())
    other = artifacts(tmp_path)
    other["li_runs_all"] = other["li_runs_all"][:4] + li_runs(tmp_path, seed=2)
    with pytest.raises(ValueError, match="each of the same seeds"):
        shc.filter_normalized_ranks_generalization(other, params())


def test_filter_normalized_raises_on_a_slice_the_config_does_not_name(tmp_path):
    foreign = artifacts(tmp_path)
    foreign["li_slices"] = foreign["li_slices"][:3] + [slice_(tmp_path, 375, 5e-4, 3.0, "mlp")]
    with pytest.raises(ValueError, match="config"):
        shc.filter_normalized_ranks_generalization(foreign, params())
    twice = artifacts(tmp_path)
    twice["li_slices"] = twice["li_slices"] + twice["li_slices"][:1]
    with pytest.raises(ValueError, match="two slices"):
        shc.filter_normalized_ranks_generalization(twice, params())
    other_batch = artifacts(tmp_path)
    other_batch["li_slices"] = other_batch["li_slices"][:3] + [slice_(tmp_path, 64, 5e-4, 3.0)]
    with pytest.raises(ValueError, match="batch 64"):
        shc.filter_normalized_ranks_generalization(other_batch, params())


# ---------------------------------------------------------------- Dinh et al.


def test_reparam_sharpness_fails_when_the_function_changes_or_phi_barely_moves(tmp_path):
    changed = artifacts(tmp_path, reparam=reparam(tmp_path, change=(1e-3, 0.0, 1e-7)))
    assert not shc.reparam_same_function_sharpness(changed, params()).holds
    assert shc.reparam_same_function_sharpness(changed, params(output_tol=1e-2)).holds
    still = artifacts(tmp_path, reparam=reparam(tmp_path, phi=(1.0, 2.0, 5.0)))
    assert not shc.reparam_same_function_sharpness(still, params()).holds
    assert shc.reparam_same_function_sharpness(still, params(reparam_ratio=4.0)).holds


def test_reparam_sharpness_fails_on_zero_or_nan_phi(tmp_path):
    zero = artifacts(tmp_path, reparam=reparam(tmp_path, phi=(0.0, 10.0, 1000.0)))
    assert not shc.reparam_same_function_sharpness(zero, params()).holds
    nan = artifacts(tmp_path, reparam=reparam(tmp_path, phi=(1.0, math.nan, 1000.0)))
    assert not shc.reparam_same_function_sharpness(nan, params()).holds
    nan = artifacts(tmp_path, reparam=reparam(tmp_path, change=(math.nan, 0.0, 0.0)))
    assert not shc.reparam_same_function_sharpness(nan, params()).holds


def test_reparam_hessian_fails_when_lambda_max_barely_moves(tmp_path):
    art = artifacts(tmp_path, reparam=reparam(tmp_path, lam=(1.0, 2.0, 5.0)))
    assert not shc.reparam_hessian(art, params()).holds


def test_reparam_hessian_fails_on_a_non_positive_or_nan_eigenvalue(tmp_path):
    for lam in ((0.0, 5.0, 500.0), (-1.0, 5.0, 500.0), (0.5, math.nan, 500.0)):
        art = artifacts(tmp_path, reparam=reparam(tmp_path, lam=lam))
        assert not shc.reparam_hessian(art, params()).holds, lam


def test_a_missing_artifact_raises(tmp_path):
    art = artifacts(tmp_path)
    del art["reparam"]
    with pytest.raises(KeyError):
        verdicts("sharpness", art, params())
    art = copy.deepcopy(artifacts(tmp_path))
    del art["li_slices"]
    with pytest.raises(KeyError):
        shc.filter_normalized_ranks_generalization(art, params())
