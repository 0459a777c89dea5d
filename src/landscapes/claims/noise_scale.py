"""Claims of Jastrzebski et al. 2017, computed from one replicate's table of runs over the
(eta, B) grid: SGD's noise scale is eta/B, so runs of equal eta/B end alike, and a larger
eta/B ends at a flatter minimum.

Sharpness is compared on a log scale (it spans orders of magnitude over the grid). Equal eta/B
is matched to a relative 1e-9. The training loss at the end also falls with eta/B (the same
epochs are more SGD time, eta times steps, at a larger ratio); a finding reports it beside the
claims, since the flatness of a cross-entropy minimum also grows as its loss falls.
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
from scipy import stats

from landscapes.claims import Verdict, claim, finite
from landscapes.store import load_csv

EXP = "noise_scale"
PAPER = "Jastrzebski et al. 2017"
SHARPNESS = {"lambda_max": "the top Hessian eigenvalue", "keskar": "Keskar's sharpness"}


def runs(artifacts, params) -> list[dict]:
    """The table's rows as floats, checked against the configured grid."""
    rows = [{k: float(v) for k, v in r.items() if k != "reached_target"}
            for r in load_csv(artifacts["runs"])]
    grid = {(float(lr), float(b)) for lr in params["learning_rates"]
            for b in params["batch_sizes"]}
    got = [(r["learning_rate"], r["batch_size"]) for r in rows]
    if sorted(got) != sorted(grid):
        raise ValueError(f"the runs table holds (eta, B) {sorted(got)}; the config asks for "
                         f"{sorted(grid)}")
    for r in rows:
        r["ratio"] = r["learning_rate"] / r["batch_size"]
    return rows


def by_ratio(rows: list[dict]) -> dict[float, list[dict]]:
    groups = defaultdict(list)
    for r in rows:
        groups[round(math.log(r["ratio"]), 9)].append(r)
    return dict(sorted(groups.items()))


def spreads(rows: list[dict], measure: str) -> tuple[float, float]:
    """(across, within): the std of the ratio groups' mean log sharpness, and the pooled std
    of log sharpness within the groups that hold two runs or more."""
    logs = {k: np.log([r[measure] for r in g]) for k, g in by_ratio(rows).items()}
    if not finite(*logs.values()):
        return math.nan, math.nan
    means = np.array([v.mean() for v in logs.values()])
    shared = [v for v in logs.values() if v.size > 1]
    dof = sum(v.size - 1 for v in shared)
    if len(means) < 2 or dof < 1:
        return math.nan, math.nan
    within = math.sqrt(sum(((v - v.mean()) ** 2).sum() for v in shared) / dof)
    return float(means.std(ddof=1)), within


def _equal_ratio(measure):
    def check(artifacts, params):
        factor = params["claims"]["spread_factor"]
        rows = runs(artifacts, params)
        across, within = spreads(rows, measure)
        value = across / within if finite(across, within) and within > 0 else math.nan
        return Verdict(value, f"std across ratios / pooled std within a ratio (log "
                              f"{measure}) >= {factor:g}",
                       bool(value >= factor), {"across": across, "within": within,
                                               "ratios": len(by_ratio(rows))},
                       bound=float(factor), sense=">=")
    return check


def _falls(measure):
    def check(artifacts, params):
        limit = params["claims"]["max_spearman"]
        rows = runs(artifacts, params)
        values = [r[measure] for r in rows]
        rho = (float(stats.spearmanr([r["ratio"] for r in rows], values).statistic)
               if finite(values) else math.nan)
        return Verdict(rho, f"Spearman(eta/B, {measure}) <= {limit:g}", bool(rho <= limit),
                       {"min": min(values), "max": max(values)}, bound=float(limit), sense="<=")
    return check


for _m, _what in SHARPNESS.items():
    claim(EXP, f"equal_ratio_similar_{_m}", PAPER, "sharpness_vs_ratio", "",
          f"runs of equal eta/B end with similar sharpness ({_what}): its spread across ratios "
          f"exceeds its spread within a ratio by at least noise_scale.claims.spread_factor",
          "equal eta/B, similar minima")(_equal_ratio(_m))
    claim(EXP, f"{_m}_falls_with_ratio", PAPER, "sharpness_vs_ratio", "",
          f"sharpness ({_what}) falls as eta/B grows: Spearman correlation at most "
          f"noise_scale.claims.max_spearman", "larger eta/B, wider minima")(_falls(_m))


@claim(EXP, "runs_fit", PAPER, "sharpness_vs_ratio", "",
       "every run fits its training set within the epochs: its final training accuracy is at "
       "least noise_scale.claims.min_train_acc, so the sharpness compared is that of minima",
       "runs trained to convergence")
def runs_fit(artifacts, params):
    bound = params["claims"]["min_train_acc"]
    rows = runs(artifacts, params)
    worst = min(r["train_acc"] for r in rows)
    return Verdict(worst, f"lowest training accuracy >= {bound:g}", bool(worst >= bound),
                   {"max_train_loss": max(r["train_loss"] for r in rows)},
                   bound=float(bound), sense=">=")


@claim(EXP, "loss_and_accuracy_with_ratio", PAPER, "sharpness_vs_ratio", "",
       "how the final training loss and the test accuracy move with eta/B (Spearman)",
       "test accuracy similar at equal eta/B", finding=True)
def loss_and_accuracy_with_ratio(artifacts, params):
    rows = runs(artifacts, params)
    ratio = [r["ratio"] for r in rows]
    loss = float(stats.spearmanr(ratio, [r["train_loss"] for r in rows]).statistic)
    acc = float(stats.spearmanr(ratio, [r["test_acc"] for r in rows]).statistic)
    return Verdict(f"training loss {loss:.3f}, test accuracy {acc:.3f}",
                   "finding: Spearman(eta/B, final training loss), Spearman(eta/B, test "
                   "accuracy)", finite(loss), {"spearman_train_loss": loss,
                                              "spearman_test_acc": acc})
