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


@claim(EXP, "lb_sharper_full", KESKAR, "sharpness", "Table 3",
       "LB minimizers are sharper than SB ones in the full space, for every network and eps",
       "LB/SB 9x to 200x+ (F1 eps 1e-3: 1.23 vs 205.14)")
def lb_sharper_full(artifacts, params):
    need = params["claims"]["full_ratio"]
    ratios = _ratios(artifacts, params, "full")
    worst = least(ratios.values())
    return Verdict(worst, f"min LB/SB mean phi >= {need:g}", bool(worst >= need), ratios)


@claim(EXP, "lb_sharper_subspace", KESKAR, "sharpness", "Table 4",
       "LB minimizers are sharper than SB ones in a random 100-dim subspace, every network "
       "and eps", "F1 0.11 vs 9.22; C1 2.18 vs 137.25")
def lb_sharper_subspace(artifacts, params):
    ratios = _ratios(artifacts, params, "subspace")
    worst = least(ratios.values())
    return Verdict(worst, "min LB/SB mean phi > 1", bool(worst > 1.0), ratios)


@claim(EXP, "lb_generalizes_worse", KESKAR, "sharpness", "Table 2",
       "mean LB test accuracy is below mean SB test accuracy for every network",
       "F1 98.03 vs 97.81; C1 80.04 vs 77.26")
def lb_generalizes_worse(artifacts, params):
    t = _table(artifacts)
    gaps = {net: 100 * (t[net, "SB"]["test_acc_mean"] - t[net, "LB"]["test_acc_mean"])
            for net in params["keskar"]}
    worst = least(gaps.values())
    return Verdict(worst, "min over networks of SB - LB test accuracy (points) > 0",
                   bool(worst > 0), gaps)


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


@claim(EXP, "weight_decay_flips_raw", LI, "weight_decay", "Fig. 2",
       "with weight decay 5e-4 the raw linear interpolation makes the SB minimizer look "
       "sharper than the LB one (without weight decay, LB looks sharper)",
       "flips with weight decay")
def weight_decay_flips_raw(artifacts, params):
    r = params["claims"]["radius"]
    # rise(LB) <= 0 leaves no ratio: NaN fails
    details = {f"rise SB / rise LB, wd {wd:g}": ratio(_rise(m, 0.0, r), _rise(m, 1.0, r))
               for wd, m in sorted(_li_curves(artifacts, params).items())}
    wd = max(params["li"]["weight_decays"])
    at = details[f"rise SB / rise LB, wd {wd:g}"]
    return Verdict(at, f"rise(SB)/rise(LB) at wd {wd:g} within |d alpha| <= {r:g} > 1",
                   bool(at > 1), details)


@claim(EXP, "filter_normalized_ranks_generalization", LI, "weight_decay", "Fig. 3",
       "on 1D filter-normalized slices the sharper minimizer is the one with the lower test "
       "accuracy, with and without weight decay (so at wd 5e-4 LB is sharper again)",
       "sharper = worse test error in every setting")
def filter_normalized_ranks_generalization(artifacts, params):
    r, li_cfg = params["claims"]["radius"], params["li"]
    li = load_json(artifacts["summary"])["li"]
    by_wd: dict[float, dict] = {float(wd): {} for wd in li_cfg["weight_decays"]}
    for path in _paths(artifacts["li_slices"]):
        m = load_npz(path)
        wd, batch = float(m["weight_decay"]), int(m["batch_size"])
        if str(m["network"]) != li_cfg["network"] or wd not in by_wd:
            raise ValueError(f"li_slices: a slice of {m['network']} at wd {wd:g}, the config "
                             f"asks for {li_cfg['network']} at {li_cfg['weight_decays']}")
        runs = [x for x in li if x["batch_size"] == batch and x["weight_decay"] == wd]
        if len(runs) != 1:
            raise ValueError(f"the summary has {len(runs)} Li runs with batch {batch}, wd {wd:g}")
        by_wd[wd][runs[0]["regime"]] = (_rise(m, 0.0, r), runs[0]["test_acc"])
    agree, details = 0, {}
    for wd, runs in sorted(by_wd.items()):
        sharper = worse = None
        # both regimes, finite and untied: otherwise "the sharper" or "the worse" is undefined
        if set(runs) == {"SB", "LB"} and finite(*runs["SB"], *runs["LB"]):
            (sb_rise, sb_acc), (lb_rise, lb_acc) = runs["SB"], runs["LB"]
            if sb_rise != lb_rise:
                sharper = "SB" if sb_rise > lb_rise else "LB"
            if sb_acc != lb_acc:
                worse = "SB" if sb_acc < lb_acc else "LB"
        details[f"wd {wd:g}"] = f"sharper {sharper}, worse test accuracy {worse}"
        agree += sharper is not None and sharper == worse
    return Verdict(f"{agree} of {len(by_wd)} settings", "sharper slice = lower test accuracy "
                   "in every weight-decay setting", bool(by_wd and agree == len(by_wd)),
                   details)


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
