"""Claims of Choromanska et al. 2015, computed from the tables of trained nets and spin glasses.

"Falls with size" allows `max_inversions` rises between consecutive sizes (random runs are
noisy) but asks the largest size to end below the smallest. Thresholds come from
`params["claims"]`; the tables must hold the sizes and runs the section configures.
"""

from __future__ import annotations

import math
from itertools import pairwise

import numpy as np

from landscapes.claims import Verdict, claim, finite, most
from landscapes.store import columns, load_csv

EXP = "minima"
PAPER = "Choromanska et al. 2015"


def inversions(values: list[float]) -> int:
    """How many times a sequence that should fall rises from one entry to the next."""
    return int(sum(b > a for a, b in pairwise(values)))


def _falls(values: list[float], max_inversions: int) -> bool:
    # a NaN would count as no rise; two sizes at least, or nothing can fall
    return (len(values) >= 2 and finite(values) and inversions(values) <= max_inversions
            and values[-1] < values[0])


def _groups(rows, group, fields, sizes, runs, table):
    """The table grouped by size, checked against the configured sizes and runs per size."""
    g = columns(rows, group, *fields)
    counts = {k: len(v[fields[0]]) for k, v in g.items()}
    if list(g) != sorted(int(s) for s in sizes) or set(counts.values()) != {int(runs)}:
        raise ValueError(f"the {table} table has {counts} rows per size; the config asks for "
                         f"{int(runs)} at each of {sorted(sizes)}")
    return g


def _nets(artifacts, params, *fields):
    return _groups(load_csv(artifacts["nets"]), "size", fields, params["sizes"], params["runs"],
                   "nets")


def _glass(artifacts, params):
    sg = params["spinglass"]
    return _groups(load_csv(artifacts["glass"]), "n", ("energy",), sg["sizes"], sg["starts"],
                   "spin-glass")


def _inversions_text(k: int, what: str) -> str:
    return f"<= {k} inversion{'s' if k != 1 else ''} and {what}"


@claim(EXP, "test_loss_spread_falls", PAPER, "test_loss", "Fig. 2",
       "the spread (std) of the test loss of SGD minima falls as the hidden layer grows",
       "narrower distributions for larger nets")
def test_loss_spread_falls(artifacts, params):
    k = params["claims"]["max_inversions"]
    g = _nets(artifacts, params, "test_loss")
    std = [float(v["test_loss"].std(ddof=1)) for v in g.values()]
    return Verdict(inversions(std), _inversions_text(k, "std(largest) < std(smallest)"),
                   _falls(std, k), {f"std_{n}": s for n, s in zip(g, std)})


@claim(EXP, "test_loss_mean_not_rising", PAPER, "test_loss", "Fig. 2",
       "the mean test loss of SGD minima does not rise as the hidden layer grows",
       "lower losses for larger nets")
def test_loss_mean_not_rising(artifacts, params):
    limit = params["claims"]["rise_se"]
    g = _nets(artifacts, params, "test_loss")
    mean = [float(v["test_loss"].mean()) for v in g.values()]
    se = [float(v["test_loss"].std(ddof=1) / np.sqrt(len(v["test_loss"]))) for v in g.values()]
    # a rise in standard errors: NaN where both sizes have no spread (zero denominator)
    rises = [(b - a) / math.hypot(sa, sb) if math.hypot(sa, sb) > 0 else math.nan
             for (a, sa), (b, sb) in pairwise(zip(mean, se))]
    worst = most(rises)
    return Verdict(worst, f"largest rise between consecutive sizes < {limit:g} standard errors",
                   bool(worst < limit), {f"mean_{n}": m for n, m in zip(g, mean)})


@claim(EXP, "train_test_correlation_falls", PAPER, "test_vs_train", "",
       "the Pearson correlation between train and test loss of the minima falls with size",
       "falls with size (values unverified)")
def train_test_correlation_falls(artifacts, params):
    k = params["claims"]["max_inversions"]
    g = _nets(artifacts, params, "train_loss", "test_loss")
    with np.errstate(invalid="ignore", divide="ignore"):  # a constant column gives NaN: fails
        r = [float(np.corrcoef(v["train_loss"], v["test_loss"])[0, 1]) for v in g.values()]
    return Verdict(inversions(r), _inversions_text(k, "r(largest) < r(smallest)"),
                   _falls(r, k), {f"r_{n}": x for n, x in zip(g, r)})


@claim(EXP, "spinglass_spread_falls", PAPER, "spinglass", "Fig. 2",
       "the spread (std) of H/N at the minima of the spherical 3-spin glass falls with N",
       "narrower distributions for larger N")
def spinglass_spread_falls(artifacts, params):
    k = params["claims"]["max_inversions"]
    g = _glass(artifacts, params)
    std = [float(v["energy"].std(ddof=1)) for v in g.values()]
    return Verdict(inversions(std), _inversions_text(k, "std(largest N) < std(smallest N)"),
                   _falls(std, k), {f"std_{n}": s for n, s in zip(g, std)})


@claim(EXP, "spinglass_band", PAPER, "spinglass", "Fig. 2",
       "at the largest N the minima found lie in a band near the threshold -2 sqrt(2/3)",
       "ground state -1.657, threshold -1.633")
def spinglass_band(artifacts, params):
    lo, hi = params["claims"]["band_low"], params["claims"]["band_high"]
    if not lo < hi:
        raise ValueError(f"minima.claims.band_low ({lo}) must be below band_high ({hi})")
    g = _glass(artifacts, params)
    n = max(g)
    mean = float(g[n]["energy"].mean())
    return Verdict(mean, f"mean H/N at N = {n} in [{lo:g}, {hi:g}]", bool(lo <= mean <= hi),
                   {"n": n})
