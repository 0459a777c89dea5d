"""Claims of Sagun, Bottou and LeCun 2016 and Sagun et al. 2017, computed from one replicate's
spectra: at the end of training the Hessian's spectrum is a bulk near zero plus outliers, and
the outliers number about the classes k of the data.

The outlier count is `hessian_outliers.gap_count` (the widest ratio gap among the top
eigenvalues, hessian_outliers.count in the config): of every exact eigenvalue for the MLP, of
the first SLQ probe's Ritz values for the conv net. "About k" is |count - k| <= tolerance
(default 1: cross-entropy often shows k - 1), at every class count, the strong form; the weaker
form asks only that the count grows with k.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from landscapes import hessian_outliers as outliers
from landscapes.claims import Verdict, claim, finite
from landscapes.store import load_csv, load_npz

EXP = "hessian_outliers"
PAPER = "Sagun et al. 2016, 2017"
NETS = {"mlp": ("mlp_spectra", "the MLP's exact spectrum"),
        "conv": ("conv_densities", "the conv net's Lanczos Ritz values")}


def net_counts(artifacts, params, net: str) -> dict[int, int]:
    """{k: outlier count}, checked against the configured class counts."""
    got = outliers.counts(load_npz(artifacts[NETS[net][0]]), net, params["count"])
    if sorted(got) != sorted(params[net]["classes"]):
        raise ValueError(f"the {net} spectra hold class counts {sorted(got)}; the config asks "
                         f"for {sorted(params[net]['classes'])}")
    return got


def _tracks(net):
    def check(artifacts, params):
        tol = params["claims"]["tolerance"]
        found = net_counts(artifacts, params, net)
        worst = max(abs(c - k) for k, c in found.items())
        within = sum(abs(c - k) <= tol for k, c in found.items())
        return Verdict(float(worst), f"max over k of |count - k| <= {tol}", bool(worst <= tol),
                       {"counts": {str(k): c for k, c in found.items()},
                        "k_within": f"{within} of {len(found)}"},
                       bound=float(tol), sense="<=")
    return check


def _grows(net):
    def check(artifacts, params):
        bound = params["claims"]["min_spearman"]
        found = net_counts(artifacts, params, net)
        ks, cs = list(found), list(found.values())
        rho = (float(stats.spearmanr(ks, cs).statistic) if len(set(cs)) > 1 else math.nan)
        return Verdict(rho, f"Spearman(k, count) >= {bound:g}", bool(rho >= bound),
                       {"counts": {str(k): c for k, c in found.items()}},
                       bound=float(bound), sense=">=")
    return check


for _net, (_, _what) in NETS.items():
    claim(EXP, f"{_net}_count_tracks_k", PAPER, "outlier_count", "",
          f"the outliers of {_what} number about k: |count - k| is at most "
          f"hessian_outliers.claims.tolerance at every class count k",
          "about k outliers")(_tracks(_net))
    claim(EXP, f"{_net}_count_grows_with_k", PAPER, "outlier_count", "",
          f"the weaker form: the outlier count of {_what} grows with k, Spearman at least "
          f"hessian_outliers.claims.min_spearman", "more classes, more outliers")(_grows(_net))


@claim(EXP, "bulk_near_zero", PAPER, "mlp_spectra", "",
       "the bulk lies near zero: at every k at least hessian_outliers.claims.bulk_fraction of "
       "the MLP's exact eigenvalues have magnitude below bulk_scale times the top one",
       "a bulk concentrated at zero")
def bulk_near_zero(artifacts, params):
    c = params["claims"]
    spectra = outliers.by_class_count(load_npz(artifacts["mlp_spectra"]), "k")
    fractions = {k: float(np.mean(np.abs(v) < c["bulk_scale"] * v.max()))
                 for k, v in spectra.items()}
    worst = min(fractions.values())
    return Verdict(worst, f"lowest fraction of |eigenvalue| < {c['bulk_scale']:g} lambda_max "
                          f">= {c['bulk_fraction']:g}", bool(worst >= c["bulk_fraction"]),
                   {"fractions": {str(k): f for k, f in fractions.items()}},
                   bound=float(c["bulk_fraction"]), sense=">=")


@claim(EXP, "nets_fit", PAPER, "outlier_count", "",
       "every net fits its training set (the spectra are those of the end of training): final "
       "training accuracy at least hessian_outliers.claims.min_train_acc",
       "trained to the end")
def nets_fit(artifacts, params):
    bound = params["claims"]["min_train_acc"]
    rows = [dict(r, net=net) for net in NETS for r in load_csv(artifacts[f"{net}_nets"])]
    accs = [float(r["train_acc"]) for r in rows]
    worst = min(accs) if finite(accs) else math.nan
    return Verdict(worst, f"lowest training accuracy >= {bound:g}", bool(worst >= bound),
                   {"max_train_loss": max(float(r["train_loss"]) for r in rows),
                    "max_grad_norm": max(float(r["grad_norm"]) for r in rows)},
                   bound=float(bound), sense=">=")


@claim(EXP, "other_readings", PAPER, "outlier_count", "",
       "the count read two other ways: the MLP's eigenvalues above bulk_factor times the "
       "bulk_quantile of their magnitudes; the conv net's SLQ estimate of the eigenvalues above "
       "its gap (dim times the quadrature weight there, over every probe)",
       "", finding=True)
def other_readings(artifacts, params):
    count = params["count"]
    spectra = outliers.by_class_count(load_npz(artifacts["mlp_spectra"]), "k")
    bulk = {k: outliers.bulk_count(v, count.get("bulk_quantile", 0.9),
                                   count.get("bulk_factor", 10.0)) for k, v in spectra.items()}
    arrays = load_npz(artifacts["conv_densities"])
    nodes = outliers.by_class_count(arrays, "nodes_k")
    weights = outliers.by_class_count(arrays, "weights_k")
    dims = {int(r["k"]): int(r["dim"]) for r in load_csv(artifacts["conv_nets"])}
    found = net_counts(artifacts, params, "conv")
    mass = {k: outliers.slq_mass_above(
        nodes[k], weights[k], dims[k], outliers.gap_value(nodes[k][0], found[k]))
        for k in nodes}
    text = ("MLP above the bulk: " + ", ".join(f"k {k}: {c}" for k, c in bulk.items())
            + "; conv SLQ mass: " + ", ".join(f"k {k}: {m:.1f}" for k, m in mass.items()))
    return Verdict(text, "finding: eigenvalues above the bulk's scale (MLP), SLQ estimate of "
                         "the count (conv)", finite(list(mass.values())),
                   {"mlp_bulk_count": {str(k): c for k, c in bulk.items()},
                    "conv_slq_mass": {str(k): m for k, m in mass.items()}})
