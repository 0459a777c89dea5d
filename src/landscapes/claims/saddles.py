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
from landscapes.critical import accepted, gradient_flat, spectrum_picks
from landscapes.store import load_npz

EXP = "saddles"
PAPER = "Dauphin et al. 2014"


def _cut(search) -> str:
    return f"|grad| < {search['grad_cutoff']:g}, eigenvalues < -{search['index_tol']:g} negative"


@claim(EXP, "error_index_correlation", PAPER, "error_vs_index", "Fig. 1a/c",
       "training error rises with the index of critical points (Spearman correlation)",
       "points near a monotone error-index curve")
def error_index_correlation(artifacts, params):
    search, c = params["search"], params["claims"]
    m = load_npz(artifacts["critical_points"])
    ok = accepted(m, search["grad_cutoff"])
    n = int(ok.sum())
    rho_all = float(spearmanr(m["error"], m["index"]).statistic) if len(ok) > 2 else float("nan")
    flat = int(gradient_flat(m, search["grad_cutoff"], search["flat_tol"]).sum())
    details = {"accepted": n, "candidates": len(ok), "spearman_all_candidates": rho_all,
               "gradient_flat": flat, "unfinished": len(ok) - n - flat,
               "cutoff": _cut(search), "flat_tol": search["flat_tol"]}
    threshold = (f"Spearman >= {c['min_spearman']} over >= {c['min_points']} points "
                 f"with {_cut(search)}")
    if n < c["min_points"]:
        return Verdict(f"n/a: {n} of {len(ok)} points under the cutoff ({flat} of the rest "
                       "gradient-flat)", threshold, False, details)
    rho = float(spearmanr(m["error"][ok], m["index"][ok]).statistic)
    holds = bool(np.isfinite(rho) and rho >= c["min_spearman"])
    return Verdict(rho, threshold, holds, details)


@claim(EXP, "spectrum_shifts_right", PAPER, "spectra", "Fig. 1b/d",
       "the median Hessian eigenvalue grows as the error of the critical point falls",
       "spectra at 0.32%, 23.4%, 28.2% error shift right as error falls")
def spectrum_shifts_right(artifacts, params):
    search = params["search"]
    m = load_npz(artifacts["critical_points"])
    picks = spectrum_picks(m, search["grad_cutoff"])
    threshold = f"median(low) > median(middle) > median(high error), {_cut(search)}"
    if not picks:
        n = int(accepted(m, search["grad_cutoff"]).sum())
        return Verdict(f"n/a: {n} points under the cutoff, fewer than 3 distinct errors",
                       threshold, False,
                       {"cutoff": _cut(search)})
    medians = [float(np.median(m["eigenvalues"][k])) for k in picks]
    errors = [float(m["error"][k]) for k in picks]
    holds = medians[0] > medians[1] > medians[2]
    return Verdict(f"medians {medians[0]:.3g} > {medians[1]:.3g} > {medians[2]:.3g}",
                   threshold, bool(holds),
                   {"errors": str(errors), "medians": str(medians), "cutoff": _cut(search)})


@claim(EXP, "sfn_lowest_loss", PAPER, "optimizers", "Fig. 3",
       "saddle-free Newton ends at a training loss at or below damped Newton's and SGD's "
       "after equally many epochs", "SFN reaches lower error; MSGD and Newton stall")
def sfn_lowest_loss(artifacts, params):
    m = load_npz(artifacts["optimizers"])
    epochs = int(m["sfn_epoch"][-1])
    sgd_at = np.flatnonzero(m["msgd_epoch"] == epochs)
    if not len(sgd_at):
        raise ValueError(f"momentum SGD has no record at epoch {epochs}: raise "
                         "saddles.train.epochs to at least saddles.compare.epochs")
    sfn, newton, sgd = m["sfn_loss"][-1], m["newton_loss"][-1], m["msgd_loss"][sgd_at[0]]
    holds = bool(finite(sfn, newton, sgd) and sfn <= newton and sfn <= sgd)
    return Verdict(f"SFN {sfn:.4g}, Newton {newton:.4g}, SGD {sgd:.4g}",
                   f"SFN <= both after {epochs} epochs", holds,
                   {"sfn": float(sfn), "newton": float(newton), "msgd": float(sgd),
                    "sfn_krylov": float(m["sfn_krylov_loss"][-1])})


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
