"""Claims of the sharp-minima experiment: Keskar et al. 2017 and its critics."""

from __future__ import annotations

import numpy as np
from scipy.stats import spearmanr

from landscapes.claims import Verdict, claim
from landscapes.sharpness import rise
from landscapes.store import load_json, load_npz

EXP = "sharpness"
KESKAR = "Keskar et al. 2017"
LI = "Li et al. 2018"
DINH = "Dinh et al. 2017"
FULL_RATIO = 5.0  # LB/SB sharpness in the full space (the paper's ratios: 9x to over 200x)
REPARAM_RATIO = 10.0
OUTPUT_TOL = 1e-5


def _paths(value) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _table(artifacts) -> dict:
    return {(r["network"], r["regime"]): r for r in load_json(artifacts["summary"])["table"]}


def _ratios(artifacts, params, space: str) -> dict[str, float]:
    t = _table(artifacts)
    return {f"{net} eps={e:g}": t[net, "LB"][f"phi_{space}_{e:g}_mean"]
            / max(t[net, "SB"][f"phi_{space}_{e:g}_mean"], 1e-300)
            for net in params["keskar"] for e in params["eps"]}


@claim(EXP, "lb_sharper_full", KESKAR, "sharpness", "Table 3",
       "LB minimizers are sharper than SB ones in the full space, for every network and eps",
       "LB/SB 9x to 200x+ (F1 eps 1e-3: 1.23 vs 205.14)")
def lb_sharper_full(artifacts, params):
    ratios = _ratios(artifacts, params, "full")
    worst = min(ratios.values())
    return Verdict(worst, f"min LB/SB mean phi >= {FULL_RATIO:g}", bool(worst >= FULL_RATIO),
                   ratios)


@claim(EXP, "lb_sharper_subspace", KESKAR, "sharpness", "Table 4",
       "LB minimizers are sharper than SB ones in a random 100-dim subspace, every network "
       "and eps", "F1 0.11 vs 9.22; C1 2.18 vs 137.25")
def lb_sharper_subspace(artifacts, params):
    ratios = _ratios(artifacts, params, "subspace")
    worst = min(ratios.values())
    return Verdict(worst, "min LB/SB mean phi > 1", bool(worst > 1.0), ratios)


@claim(EXP, "lb_generalizes_worse", KESKAR, "sharpness", "Table 2",
       "mean LB test accuracy is below mean SB test accuracy for every network",
       "F1 98.03 vs 97.81; C1 80.04 vs 77.26")
def lb_generalizes_worse(artifacts, params):
    t = _table(artifacts)
    gaps = {net: 100 * (t[net, "SB"]["test_acc_mean"] - t[net, "LB"]["test_acc_mean"])
            for net in params["keskar"]}
    worst = min(gaps.values())
    return Verdict(worst, "min over networks of SB - LB test accuracy (points) > 0",
                   bool(worst > 0), gaps)


@claim(EXP, "parametric_steeper_at_lb", KESKAR, "parametric", "Fig. 3",
       "on the line through both minimizers the training loss rises faster around the LB "
       "minimizer (alpha = 1) than around the SB one (alpha = 0)", "visibly sharper at LB")
def parametric_steeper_at_lb(artifacts, params):
    r = params["radius"]
    details = {}
    for path in _paths(artifacts["parametric"]):
        m = load_npz(path)
        lb, sb = _rise(m, 1.0, r), _rise(m, 0.0, r)
        details[str(m["network"])] = lb / max(sb, 1e-300) if sb > 0 else float("inf")
    worst = min(details.values())
    return Verdict(worst, f"min over networks of rise(LB)/rise(SB) within |d alpha| <= {r:g} "
                   "> 1", bool(worst > 1), details)


@claim(EXP, "sweep_sharpness_grows", KESKAR, "sweep", "Fig. 4",
       "sharpness grows with batch size", "rises beyond a threshold batch size")
def sweep_sharpness_grows(artifacts, params):
    s = load_json(artifacts["summary"])["sweep"]
    key = f"full_{params['eps'][0]:g}"
    rho = float(spearmanr(s["batch_size"], s["phi"][key]).statistic)
    acc = float(spearmanr(s["batch_size"], s["test_acc"]).statistic)
    return Verdict(rho, f"Spearman(batch size, phi {key.replace('_', ' eps=')}) > 0",
                   bool(rho > 0), {"spearman_batch_test_acc": acc})


def _rise(m: dict, center: float, radius: float) -> float:
    """rise() within `radius`, widened to one grid step on coarse (tiny) grids."""
    radius = max(radius, float(np.diff(m["alphas"]).max()))
    return rise(m["alphas"], m["train_loss"], center, radius)


def _li_curves(artifacts):
    return {float(m["weight_decay"]): m for m in map(load_npz, _paths(artifacts["li_interps"]))}


@claim(EXP, "weight_decay_flips_raw", LI, "weight_decay", "Fig. 2",
       "with weight decay 5e-4 the raw linear interpolation makes the SB minimizer look "
       "sharper than the LB one (without weight decay, LB looks sharper)",
       "flips with weight decay")
def weight_decay_flips_raw(artifacts, params):
    r = params["radius"]
    details = {}
    for wd, m in sorted(_li_curves(artifacts).items()):
        sb, lb = _rise(m, 0.0, r), _rise(m, 1.0, r)
        details[f"rise SB / rise LB, wd {wd:g}"] = sb / lb if lb > 0 else float("inf")
    wd = max(params["weight_decays"])
    ratio = details[f"rise SB / rise LB, wd {wd:g}"]
    return Verdict(ratio, f"rise(SB)/rise(LB) at wd {wd:g} within |d alpha| <= {r:g} > 1",
                   bool(ratio > 1), details)


@claim(EXP, "filter_normalized_ranks_generalization", LI, "weight_decay", "Fig. 3",
       "on 1D filter-normalized slices the sharper minimizer is the one with the lower test "
       "accuracy, with and without weight decay (so at wd 5e-4 LB is sharper again)",
       "sharper = worse test error in every setting")
def filter_normalized_ranks_generalization(artifacts, params):
    r = params["radius"]
    li = load_json(artifacts["summary"])["li"]
    by_wd: dict[float, list] = {}
    for path in _paths(artifacts["li_slices"]):
        m = load_npz(path)
        wd, batch = float(m["weight_decay"]), int(m["batch_size"])
        run = next(x for x in li if x["batch_size"] == batch and x["weight_decay"] == wd)
        by_wd.setdefault(wd, []).append((_rise(m, 0.0, r),
                                         run["test_acc"], run["regime"]))
    agree, details = 0, {}
    for wd, runs in sorted(by_wd.items()):
        sharper = max(runs)[2]
        worse = min(runs, key=lambda x: x[1])[2]
        details[f"wd {wd:g}"] = f"sharper {sharper}, worse test accuracy {worse}"
        agree += sharper == worse
    return Verdict(f"{agree} of {len(by_wd)} settings", "sharper slice = lower test accuracy "
                   "in every weight-decay setting", bool(agree == len(by_wd)), details)


@claim(EXP, "reparam_same_function_sharpness", DINH, "reparam", "",
       "scaling a ReLU layer by a and the next by 1/a keeps every output (to 1e-5) while "
       "Keskar's sharpness changes more than 10x", "arbitrarily sharp, same function")
def reparam_same_function_sharpness(artifacts, params):
    m = load_npz(artifacts["reparam"])
    change = float(m["max_output_change"].max())
    ratio = float(m["phi"].max() / max(m["phi"].min(), 1e-300))
    return Verdict(ratio, f"max output change <= {OUTPUT_TOL:g} and max/min phi > "
                   f"{REPARAM_RATIO:g}", bool(change <= OUTPUT_TOL and ratio > REPARAM_RATIO),
                   {"max_output_change": change})


@claim(EXP, "reparam_hessian", DINH, "reparam", "",
       "the same rescalings change the top Hessian eigenvalue more than 10x",
       "spectral norm arbitrarily large")
def reparam_hessian(artifacts, params):
    m = load_npz(artifacts["reparam"])
    lam = np.asarray(m["lambda_max"])
    ratio = float(lam.max() / max(lam.min(), 1e-300))
    return Verdict(ratio, f"max/min lambda_max > {REPARAM_RATIO:g}", bool(ratio > REPARAM_RATIO))
