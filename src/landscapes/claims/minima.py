"""Claims of Choromanska et al. 2015, computed from the tables of trained nets and spin glasses.

"Falls with size" allows one inversion between consecutive sizes (random runs are noisy) but
asks the largest size to end below the smallest.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np

from landscapes.claims import Verdict, claim
from landscapes.store import columns, load_csv

EXP = "minima"
PAPER = "Choromanska et al. 2015"
MEAN_BAND = (-1.70, -1.55)  # the band for the mean H/N at the largest N
RISE_SE = 2.0  # a rise of the mean larger than this many standard errors counts as rising


def inversions(values: list[float]) -> int:
    """How many times a sequence that should fall rises from one entry to the next."""
    return int(sum(b > a for a, b in pairwise(values)))


def _falls(values: list[float]) -> bool:
    return inversions(values) <= 1 and values[-1] < values[0]


def _per_size(artifacts, field):
    g = columns(load_csv(artifacts["nets"]), "size", field)
    return list(g), [g[k][field] for k in g]


@claim(EXP, "test_loss_spread_falls", PAPER, "minima/test_loss (Fig. 2)",
       "the spread (std) of the test loss of SGD minima falls as the hidden layer grows",
       "narrower distributions for larger nets")
def test_loss_spread_falls(artifacts, params):
    sizes, losses = _per_size(artifacts, "test_loss")
    std = [float(v.std(ddof=1)) for v in losses]
    return Verdict(inversions(std), "<= 1 inversion and std(largest) < std(smallest)",
                   _falls(std), {f"std_{k}": s for k, s in zip(sizes, std)})


@claim(EXP, "test_loss_mean_not_rising", PAPER, "minima/test_loss (Fig. 2)",
       "the mean test loss of SGD minima does not rise as the hidden layer grows",
       "lower losses for larger nets")
def test_loss_mean_not_rising(artifacts, params):
    sizes, losses = _per_size(artifacts, "test_loss")
    mean = [float(v.mean()) for v in losses]
    se = [float(v.std(ddof=1) / np.sqrt(len(v))) for v in losses]
    rises = [(b - a) / np.hypot(sa, sb) for (a, sa), (b, sb) in pairwise(zip(mean, se))]
    worst = float(max(rises))
    return Verdict(worst, f"largest rise between consecutive sizes < {RISE_SE:g} standard errors",
                   bool(worst < RISE_SE), {f"mean_{k}": m for k, m in zip(sizes, mean)})


@claim(EXP, "train_test_correlation_falls", PAPER, "minima/test_vs_train",
       "the Pearson correlation between train and test loss of the minima falls with size",
       "falls with size (values unverified)")
def train_test_correlation_falls(artifacts, params):
    g = columns(load_csv(artifacts["nets"]), "size", "train_loss", "test_loss")
    r = [float(np.corrcoef(v["train_loss"], v["test_loss"])[0, 1]) for v in g.values()]
    return Verdict(inversions(r), "<= 1 inversion and r(largest) < r(smallest)", _falls(r),
                   {f"r_{k}": x for k, x in zip(g, r)})


@claim(EXP, "spinglass_spread_falls", PAPER, "minima/spinglass (Fig. 2)",
       "the spread (std) of H/N at the minima of the spherical 3-spin glass falls with N",
       "narrower distributions for larger N")
def spinglass_spread_falls(artifacts, params):
    g = columns(load_csv(artifacts["glass"]), "n", "energy")
    std = [float(v["energy"].std(ddof=1)) for v in g.values()]
    return Verdict(inversions(std), "<= 1 inversion and std(largest N) < std(smallest N)",
                   _falls(std), {f"std_{k}": s for k, s in zip(g, std)})


@claim(EXP, "spinglass_band", PAPER, "minima/spinglass (Fig. 2)",
       "at the largest N the minima found lie in a band near the threshold -2 sqrt(2/3)",
       "ground state -1.657, threshold -1.633")
def spinglass_band(artifacts, params):
    g = columns(load_csv(artifacts["glass"]), "n", "energy")
    n = max(g)
    mean = float(g[n]["energy"].mean())
    lo, hi = MEAN_BAND
    return Verdict(mean, f"mean H/N at N = {n} in [{lo:g}, {hi:g}]", bool(lo <= mean <= hi),
                   {"n": n})
