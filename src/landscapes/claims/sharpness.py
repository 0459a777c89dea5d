"""Claims of the sharp-minima experiment: Keskar et al. 2017 and its critics.

Params are the `sharpness` section: its networks (`keskar`, `li.network`), box sizes
(`metric.eps`), weight decays and sweep, and its thresholds under `claims`. A sharpness ratio
over a non-positive denominator is NaN and fails (see `landscapes.claims.ratio`).
"""

from __future__ import annotations

import math
import os

import numpy as np
from scipy.stats import spearmanr

from landscapes.claims import Verdict, claim, finite, least, ratio
from landscapes.names import number, phi_column, phi_key
from landscapes.sharpness import rise
from landscapes.store import load_json, load_npz

EXP = "sharpness"
KESKAR = "Keskar et al. 2017"
LI = "Li et al. 2018"
DINH = "Dinh et al. 2017"


def _paths(value) -> list:
    return [value] if isinstance(value, (str, os.PathLike)) else list(value)


def _table(artifacts) -> dict:
    return {(r["network"], r["regime"]): r for r in load_json(artifacts["summary"])["table"]}


def _ratios(artifacts, params, space: str) -> dict[str, float]:
    """LB / SB mean phi per network and eps: NaN (fails) where SB's phi is not positive."""
    t = _table(artifacts)
    col = {e: phi_column(space, e, "mean") for e in params["metric"]["eps"]}
    return {f"{net} eps={e:g}": ratio(t[net, "LB"][col[e]], t[net, "SB"][col[e]])
            for net in params["keskar"] for e in col}


def _pooled_ratios(artifacts, params, space: str) -> str:
    """The LB/SB ratios over every seed (the same text at each seed): geometric mean and its
    95% interval, per network and eps."""
    pooled = load_json(artifacts["summary_all"])["ratios"]
    parts = []
    for net in params["keskar"]:
        for e in params["metric"]["eps"]:
            r = pooled[net][phi_key(space, e)]
            lo, hi = r["ci"]
            parts.append(f"{net} eps={e:g}: {r['geometric_mean']:.3g}x [95% CI {lo:.3g}, "
                         f"{hi:.3g}] over {r['n']} seeds")
    return "; ".join(parts)


def _sharper(artifacts, params, space: str) -> Verdict:
    # one bound for both spaces: the paper's claim is the same in both (LB minimizers are
    # many-fold sharper), and its smallest ratio in either is about 9x
    need = params["claims"]["sharper_ratio"]
    ratios = _ratios(artifacts, params, space)
    worst = least(ratios.values())
    details = {**ratios, "pooled": _pooled_ratios(artifacts, params, space)}
    return Verdict(worst, f"min LB/SB mean phi >= {need:g}", bool(worst >= need), details,
                   bound=need, sense=">=")


@claim(EXP, "lb_sharper_full", KESKAR, "sharpness", "Table 3",
       "LB minimizers are many-fold sharper than SB ones in the full space, for every network "
       "and eps", "LB/SB 9x to 200x+ (F1 eps 1e-3: 1.23 vs 205.14)")
def lb_sharper_full(artifacts, params):
    return _sharper(artifacts, params, "full")


@claim(EXP, "lb_sharper_subspace", KESKAR, "sharpness", "Table 4",
       "LB minimizers are many-fold sharper than SB ones in a random 100-dim subspace, every "
       "network and eps", "9x to 84x (F1 0.11 vs 9.22; C1 2.18 vs 137.25)")
def lb_sharper_subspace(artifacts, params):
    return _sharper(artifacts, params, "subspace")


@claim(EXP, "lb_generalizes_worse", KESKAR, "sharpness", "Table 2",
       "LB minimizers test worse than SB ones for every network: the mean SB - LB test-"
       "accuracy gap over seeds exceeds its standard error (pooled: the same at every seed)",
       "F1 98.03 vs 97.81; C1 80.04 vs 77.26")
def lb_generalizes_worse(artifacts, params):
    gaps = load_json(artifacts["summary_all"])["test_acc_gap_points"]
    # a gap in standard errors; one seed has no standard error: NaN fails
    t = {net: ratio(gaps[net]["mean"], gaps[net]["se"]) for net in params["keskar"]}
    worst = least(t.values())
    seed = _table(artifacts)
    details = {f"{net} gap this seed (points)": 100 * (seed[net, "SB"]["test_acc_mean"]
                                                        - seed[net, "LB"]["test_acc_mean"])
               for net in params["keskar"]}
    details["pooled"] = "; ".join(
        f"{net}: {g['mean']:.3g} +/- {g['se']:.2g} points (SE over {g['n']} seeds)"
        for net, g in ((n, gaps[n]) for n in params["keskar"]))
    return Verdict(worst, "min over networks of mean SB - LB test accuracy / its standard "
                   "error over seeds > 1", bool(worst > 1), details, bound=1.0, sense=">")


def _keskar_runs(artifacts, params) -> list[dict]:
    runs = load_json(artifacts["summary"])["runs"]
    return [m for net in params["keskar"] for regime in ("SB", "LB")
            for m in runs[net][regime]]


@claim(EXP, "keskar_matched_loss", KESKAR, "sharpness", "Table 2",
       "SB and LB are compared at one training loss: every run of the table trained until its "
       "training loss reached the configured target", "both regimes near 100% training accuracy")
def keskar_matched_loss(artifacts, params):
    runs = _keskar_runs(artifacts, params)
    reached = sum(bool(m.get("reached_target")) for m in runs)
    worst = max(float(m["train_loss"]) for m in runs)
    details = {f"{m['net']} batch {m['batch']}": f"loss {m['train_loss']:.3g} after "
               f"{m['epochs']} epochs" for m in runs}
    details["reached"] = f"{reached} of {len(runs)} runs"
    return Verdict(worst, "every run reached its target training loss",
                   bool(reached == len(runs)), details)


@claim(EXP, "sharpness_converged", KESKAR, "sharpness", "Metric 2.1",
       "every maximization of Metric 2.1 in the table converged (L-BFGS-B's own test), so phi "
       "is the box's maximum found, not where an iteration cap stopped", "10 iterations")
def sharpness_converged(artifacts, params):
    boxes = [r for m in _keskar_runs(artifacts, params) for r in m["sharpness"]]
    done = sum(bool(r["converged"]) for r in boxes)
    most = max(int(r["iterations"]) for r in boxes)
    return Verdict(f"{done} of {len(boxes)}", "every maximization converged",
                   bool(done == len(boxes)), {"most iterations": most})


def _curves(paths, field: str, expected, what: str) -> dict:
    """The curves of the artifact keyed by one of their fields, which must be the configured
    ones (a missing curve must not drop out of a min or a comparison)."""
    loaded = [load_npz(p) for p in _paths(paths)]
    curves = {m[field].item(): m for m in loaded}
    if len(curves) != len(loaded) or sorted(curves) != sorted(expected):
        raise ValueError(f"{what}: curves for {sorted(curves)}, the config asks for "
                         f"{sorted(expected)}")
    return curves


@claim(EXP, "parametric_steeper_at_lb", KESKAR, "parametric", "Fig. 3",
       "on the line through both minimizers the training loss rises faster around the LB "
       "minimizer (alpha = 1) than around the SB one (alpha = 0)", "visibly sharper at LB")
def parametric_steeper_at_lb(artifacts, params):
    r = params["claims"]["radius"]
    curves = _curves(artifacts["parametric"], "network", params["keskar"], "parametric")
    # rise(SB) <= 0 (the loss does not rise around the SB minimizer) leaves no ratio: NaN fails
    details = {net: ratio(_rise(m, 1.0, r), _rise(m, 0.0, r)) for net, m in curves.items()}
    worst = least(details.values())
    return Verdict(worst, f"min over networks of rise(LB)/rise(SB) within |d alpha| <= {r:g} "
                   "> 1", bool(worst > 1), details)


@claim(EXP, "sweep_sharpness_grows", KESKAR, "sweep", "Fig. 4",
       "sharpness grows with batch size", "rises beyond a threshold batch size")
def sweep_sharpness_grows(artifacts, params):
    s = load_json(artifacts["summary"])["sweep"]
    if sorted(s["batch_size"]) != sorted(params["sweep"]["batch_sizes"]):
        raise ValueError(f"the sweep has batch sizes {s['batch_size']}, the config asks for "
                         f"{params['sweep']['batch_sizes']}")
    eps = params["metric"]["eps"][0]
    rho = float(spearmanr(s["batch_size"], s["phi"][phi_key("full", eps)]).statistic)
    acc = float(spearmanr(s["batch_size"], s["test_acc"]).statistic)
    return Verdict(rho, f"Spearman(batch size, phi full eps={number(eps)}) > 0",
                   bool(rho > 0), {"spearman_batch_test_acc": acc})


def _rise(m: dict, center: float, radius: float) -> float:
    """rise() within `radius`, widened to one grid step on coarse (tiny) grids."""
    radius = max(radius, float(np.diff(m["alphas"]).max()))
    return rise(m["alphas"], m["train_loss"], center, radius)


def _li_curves(artifacts, params) -> dict:
    li = params["li"]
    curves = _curves(artifacts["li_interps"], "weight_decay", li["weight_decays"], "li_interps")
    for m in curves.values():
        if str(m["network"]) != li["network"]:
            raise ValueError(f"li_interps: a curve of {m['network']}, not {li['network']}")
    return curves


def _regimes(params) -> dict[int, str]:
    """Batch size -> SB or LB for the weight-decay network."""
    net = params["networks"][params["li"]["network"]]
    return {int(net["train"]["batch_size"]): "SB", int(net["large_batch"]): "LB"}


def _run_records(paths, params) -> list[tuple[tuple[float, str], dict]]:
    """Training records of weight-decay runs with their (weight decay, regime); a run of
    another network, batch size or weight decay than the config names raises."""
    li, regimes = params["li"], _regimes(params)
    wds = {float(w) for w in li["weight_decays"]}
    out = []
    for path in _paths(paths):
        r = load_json(path)
        key = (float(r["weight_decay"]), regimes.get(int(r["batch_size"])))
        if r["net"] != li["network"] or key[1] is None or key[0] not in wds:
            raise ValueError(f"li_runs: a run of {r['net']} with batch {r['batch_size']} at wd "
                             f"{r['weight_decay']:g}, not one the config names")
        out.append((key, r))
    return out


def _li_runs(artifacts, params) -> dict[tuple[float, str], dict]:
    """The training records of the weight-decay runs at one seed, by (weight decay, regime):
    exactly the configured weight decays, each with the network's SB and LB batch."""
    runs: dict[tuple[float, str], dict] = {}
    for key, r in _run_records(artifacts["li_runs"], params):
        if key in runs:
            raise ValueError(f"li_runs: two runs of {key[1]} at wd {key[0]:g} at one seed")
        runs[key] = r
    want = {(float(wd), g) for wd in params["li"]["weight_decays"] for g in ("SB", "LB")}
    if set(runs) != want:
        raise ValueError(f"li_runs: runs for {sorted(runs)}, the config asks for {sorted(want)}")
    return runs


def _slice_rises(paths, params, seeds: dict | None = None) -> dict[tuple[float, str],
                                                                   list[float]]:
    """The rise around a = 0 of every filter-normalized slice, by (weight decay, regime);
    each slice's seed goes to `seeds` (same keys) when given."""
    li, regimes, r = params["li"], _regimes(params), params["claims"]["radius"]
    wds = {float(w) for w in li["weight_decays"]}
    rises: dict[tuple[float, str], list[float]] = {}
    for path in _paths(paths):
        m = load_npz(path)
        wd, batch = float(m["weight_decay"]), int(m["batch_size"])
        if str(m["network"]) != li["network"] or wd not in wds or batch not in regimes:
            raise ValueError(f"li_slices: a slice of {m['network']} with batch {batch} at wd "
                             f"{wd:g}, the config asks for {li['network']} at "
                             f"{li['weight_decays']} with batches {sorted(regimes)}")
        rises.setdefault((wd, regimes[batch]), []).append(_rise(m, 0.0, r))
        if seeds is not None:
            seeds.setdefault((wd, regimes[batch]), []).append(int(m["seed"]))
    return rises


def _seed_slice_rises(artifacts, params) -> dict[tuple[float, str], float]:
    """The one slice's rise per (weight decay, regime) at this seed; two of one raise."""
    rises = _slice_rises(artifacts["li_slices"], params)
    for (wd, g), values in rises.items():
        if len(values) > 1:
            raise ValueError(f"li_slices: two slices of {g} at wd {wd:g} at one seed")
    return {key: values[0] for key, values in rises.items()}


def _decays(params) -> tuple[float, float]:
    """Li's two settings: without weight decay (the smallest) and with it (the largest)."""
    wds = [float(w) for w in params["li"]["weight_decays"]]
    return min(wds), max(wds)


@claim(EXP, "weight_norms_flip_with_decay", LI, "weight_decay", "Fig. 2",
       "without weight decay the SB minimizer's weights end larger than LB's; with weight "
       "decay LB's end larger than SB's (SB takes more steps, so decay shrinks it more)",
       "wd 0: SB larger; wd 5e-4: LB much larger")
def weight_norms_flip_with_decay(artifacts, params):
    runs = _li_runs(artifacts, params)
    off, on = _decays(params)

    def norm(wd, regime):
        return runs[wd, regime]["final_weight_norm"]
    details = {f"SB / LB weight norm, wd {off:g}": ratio(norm(off, "SB"), norm(off, "LB")),
               f"LB / SB weight norm, wd {on:g}": ratio(norm(on, "LB"), norm(on, "SB"))}
    worst = least(details.values())
    details.update({f"norm {g}, wd {wd:g}": norm(wd, g) for wd in (off, on) for g in ("SB", "LB")})
    return Verdict(worst, f"min(SB/LB norm at wd {off:g}, LB/SB norm at wd {on:g}) > 1",
                   bool(worst > 1), details, bound=1.0, sense=">")


@claim(EXP, "weight_decay_flips_raw", LI, "weight_decay", "Fig. 2",
       "on the raw linear interpolation the LB minimizer looks sharper without weight decay, "
       "and the SB one looks sharper with it", "flips with weight decay")
def weight_decay_flips_raw(artifacts, params):
    r = params["claims"]["radius"]
    off, on = _decays(params)
    curves = _li_curves(artifacts, params)
    rises = {(wd, g): _rise(curves[wd], x, r) for wd in (off, on) for g, x in (("SB", 0.0),
                                                                                ("LB", 1.0))}
    # a rise <= 0 (the loss falls away from a minimizer) leaves no ratio: NaN fails
    details = {f"rise LB / rise SB, wd {off:g}": ratio(rises[off, "LB"], rises[off, "SB"]),
               f"rise SB / rise LB, wd {on:g}": ratio(rises[on, "SB"], rises[on, "LB"])}
    worst = least(details.values())
    details.update({f"rise {g}, wd {wd:g}": v for (wd, g), v in rises.items()})
    return Verdict(worst, f"min(rise LB/SB at wd {off:g}, rise SB/LB at wd {on:g}) within "
                   f"|d alpha| <= {r:g} > 1", bool(worst > 1), details, bound=1.0, sense=">")


@claim(EXP, "filter_normalized_lb_sharper", LI, "filter_normalized", "Fig. 3",
       "on 1D filter-normalized slices the LB minimizer is sharper than the SB one with and "
       "without weight decay: normalizing the filters removes the raw interpolation's flip",
       "LB visibly sharper (not dramatically) in every setting")
def filter_normalized_lb_sharper(artifacts, params):
    wds = sorted(float(wd) for wd in params["li"]["weight_decays"])
    rises = _seed_slice_rises(artifacts, params)
    details = {}
    for wd in wds:
        sb, lb = rises.get((wd, "SB")), rises.get((wd, "LB"))
        # a missing slice, or rise(SB) <= 0, leaves no ratio: NaN fails
        details[f"rise LB / rise SB, wd {wd:g}"] = (ratio(lb, sb) if sb is not None
                                                    and lb is not None else math.nan)
    worst = least(details.values())
    return Verdict(worst, "min over weight decays of rise(LB)/rise(SB) on the slices > 1",
                   bool(worst > 1), details, bound=1.0, sense=">")


@claim(EXP, "filter_normalized_ranks_generalization", LI, "filter_normalized", "Fig. 3",
       "on 1D filter-normalized slices the sharper minimizer is the one with the higher test "
       "error, with and without weight decay (LB: sharper and worse in both)",
       "sharper = worse test error in every setting; wd 0: 7.37% vs 11.07%, wd 5e-4: 6.00% "
       "vs 10.19%")
def filter_normalized_ranks_generalization(artifacts, params):
    wds = sorted(float(wd) for wd in params["li"]["weight_decays"])
    runs = _li_runs(artifacts, params)
    # a missing slice leaves its setting undefined: it fails
    seed = {key: (rise, 1.0 - runs[key]["final"]["test_acc"])
            for key, rise in _seed_slice_rises(artifacts, params).items()}
    agree, details = _sharper_is_worse(seed, wds)
    # test error on a few hundred images moves by an image or two between seeds: the seeds'
    # means (the same at every seed) are reported beside each seed's verdict
    pooled = _pooled_rises_and_errors(artifacts, params)
    n = len(next(iter(pooled.values()))[2])
    means = {k: (float(np.mean(r)), float(np.mean(e))) for k, (r, e, _) in pooled.items()}
    k, mean_details = _sharper_is_worse(means, wds)
    details["pooled"] = f"{k} of {len(wds)} settings (means over {n} seeds)"
    details.update({f"{key} (means over seeds)": v for key, v in mean_details.items()})
    return Verdict(f"{agree} of {len(wds)} settings", "sharper slice = higher test error "
                   "in every weight-decay setting", bool(wds and agree == len(wds)), details)


def _pooled_rises_and_errors(artifacts, params) -> dict:
    """(wd, regime) -> (slice rises, test errors, seeds) over every seed's artifacts; every
    setting must have one slice and one run at each of the same seeds."""
    slice_seeds: dict[tuple[float, str], list[int]] = {}
    rises = _slice_rises(artifacts["li_slices_all"], params, slice_seeds)
    errors: dict[tuple[float, str], list[float]] = {}
    seeds: dict[tuple[float, str], list[int]] = {}
    for key, r in _run_records(artifacts["li_runs_all"], params):
        errors.setdefault(key, []).append(1.0 - r["final"]["test_acc"])
        seeds.setdefault(key, []).append(int(r["seed"]))
    want = {(float(wd), g) for wd in params["li"]["weight_decays"] for g in ("SB", "LB")}
    every = {tuple(sorted(v)) for v in (*seeds.values(), *slice_seeds.values())}
    once = all(len(set(v)) == len(v) for v in (*seeds.values(), *slice_seeds.values()))
    if set(rises) != want or set(errors) != want or len(every) != 1 or not once:
        raise ValueError("li_slices_all and li_runs_all: every weight decay and regime needs "
                         "one slice and one run at each of the same seeds")
    return {key: (rises[key], errors[key], sorted(seeds[key])) for key in want}


def _sharper_is_worse(values: dict, wds: list[float]) -> tuple[int, dict]:
    """How many weight-decay settings have the sharper slice (larger rise) at the minimizer
    with the higher test error; `values` maps (wd, regime) to (rise, test error)."""
    agree, details = 0, {}
    for wd in wds:
        sharper = worse = None
        # both regimes, finite and untied: otherwise "the sharper" or "the worse" is undefined
        if (wd, "SB") in values and (wd, "LB") in values and finite(
                *values[wd, "SB"], *values[wd, "LB"]):
            (sb_rise, sb_err), (lb_rise, lb_err) = values[wd, "SB"], values[wd, "LB"]
            if sb_rise != lb_rise:
                sharper = "SB" if sb_rise > lb_rise else "LB"
            if sb_err != lb_err:
                worse = "SB" if sb_err > lb_err else "LB"
            details[f"rise LB / rise SB, wd {wd:g}"] = ratio(lb_rise, sb_rise)
            details[f"test error LB - SB (points), wd {wd:g}"] = 100 * (lb_err - sb_err)
        details[f"wd {wd:g}"] = f"sharper {sharper}, higher test error {worse}"
        agree += sharper is not None and sharper == worse
    return agree, details


@claim(EXP, "reparam_same_function_sharpness", DINH, "reparam", "",
       "scaling a ReLU layer by a and the next by 1/a keeps every output while Keskar's "
       "sharpness changes many-fold", "arbitrarily sharp, same function")
def reparam_same_function_sharpness(artifacts, params):
    tol, need = params["claims"]["output_tol"], params["claims"]["reparam_ratio"]
    m = load_npz(artifacts["reparam"])
    change = float(np.max(m["max_output_change"]))
    phi = np.asarray(m["phi"], dtype=float)
    # a non-positive smallest phi is no sharpness to compare with: NaN fails
    changed = ratio(phi.max(), phi.min()) if finite(phi) else math.nan
    return Verdict(changed, f"max output change <= {tol:g} and max/min phi > {need:g}",
                   bool(change <= tol and changed > need), {"max_output_change": change})


@claim(EXP, "reparam_hessian", DINH, "reparam", "",
       "the same rescalings change the top Hessian eigenvalue many-fold",
       "spectral norm arbitrarily large")
def reparam_hessian(artifacts, params):
    need = params["claims"]["reparam_ratio"]
    lam = np.asarray(load_npz(artifacts["reparam"])["lambda_max"], dtype=float)
    changed = ratio(lam.max(), lam.min()) if finite(lam) else math.nan
    return Verdict(changed, f"max/min lambda_max > {need:g}", bool(changed > need))
