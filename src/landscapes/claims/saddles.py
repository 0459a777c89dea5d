"""Claims of Dauphin et al. 2014, evaluated on the saddle-point experiment's artifacts.

Every verdict states the gradient-norm cutoff and the eigenvalue tolerance it used (the
section's `search` settings): points with |grad| at or above the cutoff are not critical points
and are left out; how many of them are gradient-flat (H g = 0 with g != 0, where no Newton-type
search can go on) is reported. Thresholds come from `params["claims"]`.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import spearmanr

from landscapes.claims import Verdict, claim, finite, ratio
from landscapes.critical import (
    OPTIMIZERS,
    accepted,
    comparisons_by_size,
    gradient_flat,
    lowest_error,
    pool_end_points,
    spectrum_picks,
)
from landscapes.store import load_npz

EXP = "saddles"
PAPER = "Dauphin et al. 2014"


def _cut(search) -> str:
    return f"|grad| < {search['grad_cutoff']:g}, eigenvalues < -{search['index_tol']:g} negative"


def _end_points(artifacts) -> dict:
    return load_npz(artifacts["critical_points"])


def _pooled(artifacts) -> dict:
    """Every replicate seed's end points together (the `pooled_critical_points_<seed>`
    artifacts), for the value pooled over seeds that each seed's verdict reports beside its
    own."""
    paths = [artifacts[k] for k in sorted(artifacts) if k.startswith("pooled_critical_points")]
    if not paths:
        raise KeyError("no pooled_critical_points_<seed> artifacts: the claims rule names "
                         "every seed's critical_points.npz")
    return pool_end_points([load_npz(p) for p in paths])


def _spearman(m: dict, mask=None) -> float:
    err, idx = np.asarray(m["error"]), np.asarray(m["index"])
    if mask is not None:
        err, idx = err[mask], idx[mask]
    if len(err) < 3:
        return float("nan")
    return float(spearmanr(err, idx).statistic)


@claim(EXP, "error_index_correlation_all", PAPER, "error_vs_index", "Fig. 1a/c",
       "as the paper measured: training error rises with the index over every search end point "
       "(Spearman correlation; no gradient cutoff, as the paper states none)",
       "points near a monotone error-index curve")
def error_index_correlation_all(artifacts, params):
    c = params["claims"]
    m = _end_points(artifacts)
    n = len(m["error"])
    rho = _spearman(m)
    threshold = f"Spearman >= {c['min_spearman']} over >= {c['min_points']} end points"
    details = {"end_points": n, "pooled": round(_spearman(_pooled(artifacts)), 4)}
    holds = bool(n >= c["min_points"] and np.isfinite(rho) and rho >= c["min_spearman"])
    return Verdict(rho, threshold, holds, details, bound=c["min_spearman"], sense=">=")


@claim(EXP, "error_index_correlation", PAPER, "error_vs_index", "Fig. 1a/c",
       "strong form: training error rises with the index of the end points that are critical "
       "points, under the gradient cutoff (Spearman correlation)",
       "points near a monotone error-index curve")
def error_index_correlation(artifacts, params):
    search, c = params["search"], params["claims"]
    m = _end_points(artifacts)
    ok = accepted(m, search["grad_cutoff"])
    n = int(ok.sum())
    flat = int(gradient_flat(m, search["grad_cutoff"], search["flat_tol"]).sum())
    pooled = _pooled(artifacts)
    pooled_ok = accepted(pooled, search["grad_cutoff"])
    details = {"accepted": n, "candidates": len(ok), "gradient_flat": flat,
               "unfinished": len(ok) - n - flat, "cutoff": _cut(search),
               "flat_tol": search["flat_tol"],
               "pooled": (round(_spearman(pooled, pooled_ok), 4)
                          if pooled_ok.sum() >= c["min_points"]
                          else f"n/a: {int(pooled_ok.sum())} points under the cutoff")}
    threshold = (f"Spearman >= {c['min_spearman']} over >= {c['min_points']} points "
                 f"with {_cut(search)}")
    if n < c["min_points"]:
        return Verdict(f"n/a: {n} of {len(ok)} points under the cutoff ({flat} of the rest "
                       "gradient-flat)", threshold, False, details)
    rho = _spearman(m, ok)
    holds = bool(np.isfinite(rho) and rho >= c["min_spearman"])
    return Verdict(rho, threshold, holds, details, bound=c["min_spearman"], sense=">=")


def _kinds(m: dict, search) -> tuple[str, dict]:
    ok = accepted(m, search["grad_cutoff"])
    flat = gradient_flat(m, search["grad_cutoff"], search["flat_tol"])
    n = len(ok)
    counts = {"critical": int(ok.sum()), "gradient-flat": int(flat.sum()),
              "unfinished": int((~ok & ~flat).sum())}
    text = ", ".join(f"{k} {v} of {n} ({100 * v / n:.0f}%)" for k, v in counts.items())
    return text, counts


@claim(EXP, "end_point_kinds", "Frye et al. 2021", "error_vs_index", "Fig. 1a/c",
       "where the Newton-type searches end: critical points, gradient-flat points (H g = 0 with "
       "g != 0) or unfinished", "gradient-flat regions are common where Newton methods stop",
       finding=True)
def end_point_kinds(artifacts, params):
    search = params["search"]
    m = _end_points(artifacts)
    if not len(m["error"]):
        raise ValueError("no search end points")
    text, counts = _kinds(m, search)
    pooled, _ = _kinds(_pooled(artifacts), search)
    return Verdict(text, f"{_cut(search)}; gradient-flat: |Hg| < {search['flat_tol']:g} "
                   "|g| max|eigenvalue|", True, {**counts, "pooled": pooled})


def _error_range(m: dict) -> tuple[float, float]:
    err = np.asarray(m["error"], dtype=float)
    if not err.size or not finite(err):
        return float("nan"), float("nan")
    return float(err.min()), float(err.max())


@claim(EXP, "error_range", PAPER, "error_vs_index", "Fig. 1a/c",
       "the search end points span the paper's error range: the lowest below the low bound, "
       "the highest above the high bound (the regime the figure is drawn in)",
       "critical points from near 0% to about 50% training error")
def error_range(artifacts, params):
    c = params["claims"]
    low, high = _error_range(_end_points(artifacts))
    p_low, p_high = _error_range(_pooled(artifacts))
    holds = bool(finite(low, high) and low < c["low_error"] and high > c["high_error"])
    return Verdict(f"lowest {100 * low:.2f}%, highest {100 * high:.1f}%",
                   f"lowest < {100 * c['low_error']:g}%, highest > {100 * c['high_error']:g}% "
                   "training error", holds,
                   {"lowest": low, "highest": high,
                    "pooled": f"lowest {100 * p_low:.2f}%, highest {100 * p_high:.1f}%"})


@claim(EXP, "spectrum_shifts_right", PAPER, "spectra", "Fig. 1b/d",
       "the median Hessian eigenvalue grows as the error of the critical point falls (the "
       "critical points nearest the paper's three errors)",
       "spectra at 0.32%, 23.4%, 28.2% error shift right as error falls")
def spectrum_shifts_right(artifacts, params):
    search = params["search"]
    targets = params["spectrum_errors"]
    m = _end_points(artifacts)
    picks = spectrum_picks(m, search["grad_cutoff"], targets)
    threshold = (f"median(low) > median(middle) > median(high error) at the critical points "
                 f"nearest {', '.join(f'{100 * t:g}%' for t in targets)} error, {_cut(search)}")
    if not picks:
        n = int(accepted(m, search["grad_cutoff"]).sum())
        return Verdict(f"n/a: {n} points under the cutoff, fewer than 3 distinct errors",
                       threshold, False,
                       {"cutoff": _cut(search)})
    medians = [float(np.median(m["eigenvalues"][k])) for k in picks]
    errors = [float(m["error"][k]) for k in picks]
    holds = finite(medians) and medians[0] > medians[1] > medians[2]
    return Verdict(f"medians {medians[0]:.3g} > {medians[1]:.3g} > {medians[2]:.3g}",
                   threshold, bool(holds),
                   {"errors": str(errors), "medians": str(medians), "cutoff": _cut(search)})


@claim(EXP, "sfn_lowest_loss", PAPER, "optimizers", "Fig. 3",
       "at every hidden size, saddle-free Newton (exact) reaches a training error at or below "
       "damped Newton's and momentum SGD's in equally many epochs",
       "SFN reaches lower error at every size; MSGD and Newton stall")
def sfn_lowest_loss(artifacts, params):
    # The paper's Fig. 3a plots the minimum training error, so the error is compared (the
    # lowest each method reached); the losses at the end go into the details beside it.
    tol = params["claims"]["sfn_error_tol"]
    runs = comparisons_by_size(artifacts["optimizers"])
    epochs = int(runs[0]["sfn_epoch"][-1])
    details, gaps = {}, []
    for m in runs:
        low = {k: lowest_error(m, k) for k in OPTIMIZERS}
        gap = low["sfn"] - min(low["newton"], low["msgd"])  # > 0: another method went lower
        gaps.append(gap if finite(*low.values()) else float("nan"))
        details[f"hidden {int(m['hidden'])}"] = (
            "lowest error (%) " + ", ".join(f"{k} {100 * v:.2f}" for k, v in low.items())
            + "; final loss " + ", ".join(f"{k} {m[f'{k}_loss'][-1]:.4g}" for k in OPTIMIZERS))
    worst = float(max(gaps)) if finite(gaps) else float("nan")
    held = sum(bool(g <= tol) for g in gaps)
    details["sizes_held"] = f"{held} of {len(gaps)}"
    sizes = ", ".join(str(int(m["hidden"])) for m in runs)
    return Verdict(100 * worst,
                   f"at each of {len(gaps)} hidden sizes ({sizes}), SFN's lowest error - "
                   f"min(Newton's, MSGD's) <= {100 * tol:g} %-points after {epochs} epochs "
                   "each; measured: the largest over sizes",
                   bool(finite(worst) and worst <= tol), details, bound=100 * tol, sense="<=")


@claim(EXP, "switch_escapes_plateau", PAPER, "autoencoder", "Fig. 4",
       "switching a deep autoencoder from momentum SGD at its plateau to saddle-free Newton "
       "lowers the loss while SGD stays flat", "SFN escapes the plateau where MSGD is stuck")
def switch_escapes_plateau(artifacts, params):
    m = load_npz(artifacts["autoencoder"])
    rule = params["autoencoder"]["switch"]
    method = str(m["methods"][0])  # the first method configured: the paper's Krylov SFN
    at, end = int(m["switch_at"]), int(m[f"{method}_epoch"][-1])
    sgd_epochs = list(m["msgd_epoch"])
    if end not in sgd_epochs:
        raise ValueError(f"momentum SGD has no record at epoch {end}, where {method} ends")
    start = m["msgd_loss"][sgd_epochs.index(at)]
    sgd_end = m["msgd_loss"][sgd_epochs.index(end)]
    # relative drops: NaN (fails) unless the loss at the switch is positive
    sfn_drop = ratio(start - m[f"{method}_loss"][-1], start)
    sgd_drop = ratio(start - sgd_end, start)
    margin = params["claims"]["switch_margin"]
    found = bool(m["plateau_found"])
    threshold = (f"relative loss drop over the same epochs: SFN >= {margin}, SGD < {margin}, "
                 "from a plateau")
    details = {"switch_epoch": at, "plateau_found": found, "method": method,
               "plateau_rule": f"first epoch e >= {rule['window']} where the full-batch loss "
                               f"fell by less than {rule['rel_tol']:g} (relative) over the "
                               f"last {rule['window']} epochs",
               "loss_at_switch": float(start), "drop_msgd": float(sgd_drop)}
    for other in m["methods"]:
        details[f"drop_{other}"] = float(ratio(start - m[f"{other}_loss"][-1], start))
    measured = f"SFN drop {sfn_drop:.3f}, SGD drop {sgd_drop:.3f} (epochs {at}-{end})"
    if not found:
        measured += ": no plateau found, switched at the last SGD epoch"
    holds = bool(found and sfn_drop >= margin and sgd_drop < margin)
    return Verdict(measured, threshold, holds, details)
