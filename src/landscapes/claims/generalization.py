"""Claims of Jiang et al. 2020 (with Dinh et al. 2017's rescaling), computed from one
replicate's table of nets.

Only the nets that reached the target training loss enter the correlations, as in the paper
(the gap of a net that stopped early says more about its training loss than its flatness).
The gap is training accuracy minus test accuracy. Every measure is oriented so that larger
should mean a larger gap (1/sigma^2 for the PAC-Bayes flatness, 1/margin^2 for the margin).
Which measure ranks first, and which survive the rescaling, are findings: reported, not
thresholded.
"""

from __future__ import annotations

import math


from landscapes.claims import Verdict, claim, finite
from landscapes.flatness import MEASURES
from landscapes.rank_correlation import granulated_tau, kendall_tau
from landscapes.store import load_csv

EXP = "generalization"
PAPER = "Jiang et al. 2020"
# the measures about the flatness of the minimum (the rest are baselines)
SHARPNESS = ("lambda_max", "hessian_trace", "keskar", "filter_sharpness", "pacbayes_flatness",
             "pacbayes_mag_flatness")
NAMES = {"lambda_max": "the top Hessian eigenvalue", "hessian_trace": "the Hessian trace",
         "keskar": "Keskar's sharpness", "filter_sharpness": "filter-normalized sharpness",
         "pacbayes_flatness": "PAC-Bayes flatness 1/sigma^2",
         "pacbayes_mag_flatness": "magnitude-aware PAC-Bayes flatness 1/alpha^2",
         "weight_norm": "the weight norm", "inverse_margin": "1/margin^2"}


def _number(value: str) -> float:
    return float(value) if value not in ("", None) else math.nan


def nets(artifacts, params) -> list[dict]:
    """Every net's row, numbers as floats, checked against the configured grid's size."""
    from landscapes.population import grid_points

    rows = load_csv(artifacts["nets"])
    expected = len(grid_points(params["grid"]))
    if len(rows) != expected:
        raise ValueError(f"the nets table has {len(rows)} rows; the grid has {expected} points")
    return [{k: (v.strip().lower() == "true" if k == "reached_target" else _number(v))
             for k, v in r.items()} for r in rows]


def reached(rows: list[dict]) -> list[dict]:
    return [r for r in rows if r["reached_target"]]


def taus(rows: list[dict], grid: list[str]) -> dict[str, dict]:
    """{measure: {"tau": overall, "Psi": granulated, <hyperparameter>: psi}} over the nets
    that reached the target."""
    kept = reached(rows)
    varied = [h for h in grid if len({r[h] for r in kept}) > 1]
    out = {}
    for m in MEASURES:
        out[m] = {"tau": kendall_tau([r[m] for r in kept], [r["gap"] for r in kept]),
                  **granulated_tau(kept, m, "gap", varied)}
    return out


@claim(EXP, "nets_reached_target", PAPER, "tau", "",
       "the nets reach the target training loss (generalization.train.target_loss) within the "
       "epochs: at least generalization.claims.min_reached of them",
       "every net trained to cross-entropy 0.01")
def nets_reached_target(artifacts, params):
    bound = params["claims"]["min_reached"]
    rows = nets(artifacts, params)
    share = len(reached(rows)) / len(rows)
    return Verdict(share, f"share of nets at the target >= {bound:g}", bool(share >= bound),
                   {"nets": len(rows), "reached": len(reached(rows)),
                    "max_epochs": max(r["epochs"] for r in rows)},
                   bound=float(bound), sense=">=")


def _positive(measure):
    def check(artifacts, params):
        t = taus(nets(artifacts, params), list(params["grid"]))[measure]
        return Verdict(t["tau"], "Kendall's tau with the gap > 0", bool(t["tau"] > 0),
                       {k: v for k, v in t.items() if k != "tau"}, bound=0.0, sense=">")
    return check


for _m in SHARPNESS:
    claim(EXP, f"tau_{_m}", PAPER, "tau", "",
          f"{NAMES[_m]} correlates positively with the generalization gap over the population "
          f"(Kendall's tau)", "positive for sharpness measures; PAC-Bayes flatness among the "
                              "best (values unverified)")(_positive(_m))


@claim(EXP, "ranking", PAPER, "tau", "",
       "the measures ranked by Kendall's tau with the gap (granulated Psi beside it)",
       "PAC-Bayes measures near the top; norms negative (values unverified)", finding=True)
def ranking(artifacts, params):
    t = taus(nets(artifacts, params), list(params["grid"]))
    order = sorted(MEASURES, key=lambda m: -t[m]["tau"] if finite(t[m]["tau"]) else math.inf)
    text = ", ".join(f"{m} {t[m]['tau']:.2f}" for m in order)
    details = {f"tau_{m}": t[m]["tau"] for m in MEASURES}
    details.update({f"Psi_{m}": t[m]["Psi"] for m in MEASURES})
    return Verdict(text, "finding: tau of each measure, highest first", finite(
        [t[m]["tau"] for m in MEASURES]), details)


def _relative_change(a: float, b: float) -> float:
    # equal values (two infinite inverse margins of a net that misclassifies) did not move
    return 0.0 if a == b else abs(b / a - 1)


def rescaling_changes(rows: list[dict]) -> dict[str, float]:
    """{measure: the largest relative change |rescaled / original - 1|} over the rescaled
    nets, and "output": their largest relative output change."""
    scaled = [r for r in rows if finite(r.get("rescaled_output_change", math.nan))]
    if not scaled:
        return {}
    out = {m: max(_relative_change(r[m], r[f"rescaled_{m}"]) for r in scaled) for m in MEASURES}
    out["output"] = max(r["rescaled_output_change"] for r in scaled)
    return out


@claim(EXP, "rescaling", "Dinh et al. 2017", "tau", "",
       "which measures change under a layer rescaling that leaves the function as it was "
       "(relative change beyond generalization.claims.invariance_tolerance)",
       "sharpness measures can be made arbitrarily large", finding=True)
def rescaling(artifacts, params):
    tol = params["claims"]["invariance_tolerance"]
    change = rescaling_changes(nets(artifacts, params))
    if not change:
        return Verdict("not run (generalization.rescale is null)", "finding", False)
    if not change["output"] <= tol:
        raise ValueError(f"the rescaled nets' outputs moved by {change['output']:.3g} (relative):"
                         f" not the same function")
    moved = [m for m in MEASURES if not change[m] <= tol]
    kept = [m for m in MEASURES if change[m] <= tol]
    return Verdict(f"changed: {', '.join(moved) or 'none'}; invariant: {', '.join(kept) or 'none'}",
                   f"finding: relative change > {tol:g} while the outputs move by "
                   f"{change['output']:.1e}", True, change)
