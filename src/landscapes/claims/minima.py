"""Claims of Choromanska et al. 2015, computed from the tables of trained nets and spin glasses.

The distributions are those of minima: nets that met the convergence rule (the norm of their
full training-set gradient below `minima.convergence.grad_tol`) and spin-glass descents that
met theirs (tangential gradient norm below `minima.spinglass.tol`); how many did is a claim of
its own. "Falls with size" allows `max_inversions` rises between consecutive sizes (random
runs are noisy) but asks the largest size to end below the smallest. Thresholds come from
`params["claims"]`; the tables must hold the sizes and runs the section configures.
"""

from __future__ import annotations

import math
from itertools import pairwise

import numpy as np

from landscapes.claims import Verdict, claim, finite, most, ratio
from landscapes.spinglass import GROUND_STATE, THRESHOLD
from landscapes.store import load_csv

EXP = "minima"
PAPER = "Choromanska et al. 2015"
# Fewest minima of one size a distribution is measured on: a spread needs a few.
MIN_MINIMA = 3


def inversions(values: list[float]) -> int:
    """How many times a sequence that should fall rises from one entry to the next."""
    return int(sum(b > a for a, b in pairwise(values)))


def _falls(values: list[float], max_inversions: int) -> bool:
    # a NaN would count as no rise; two sizes at least, or nothing can fall
    return (len(values) >= 2 and finite(values) and inversions(values) <= max_inversions
            and values[-1] < values[0])


def flag(value) -> bool:
    """A CSV cell written from a bool ('True'/'False') or a number."""
    return str(value).strip().lower() in ("true", "1", "1.0")


def _table(path, group: str, fields, sizes, runs, table: str):
    """{size: {field: array, "converged": bool array}} for every row, checked against the
    configured sizes and runs per size."""
    rows = load_csv(path)
    keys = sorted({int(r[group]) for r in rows})
    g = {k: [r for r in rows if int(r[group]) == k] for k in keys}
    counts = {k: len(v) for k, v in g.items()}
    if keys != sorted(int(s) for s in sizes) or set(counts.values()) != {int(runs)}:
        raise ValueError(f"the {table} table has {counts} rows per size; the config asks for "
                         f"{int(runs)} at each of {sorted(sizes)}")
    return {k: {**{f: np.array([float(r[f]) for r in v]) for f in fields},
                "converged": np.array([flag(r.get("converged", True)) for r in v])}
            for k, v in g.items()}


def _minima(groups, *fields):
    """Only the converged rows; a size with fewer than MIN_MINIMA gives NaN (fails)."""
    out = {}
    for k, v in groups.items():
        keep = v["converged"]
        out[k] = {f: (v[f][keep] if keep.sum() >= MIN_MINIMA else np.array([math.nan]))
                  for f in fields}
    return out


def _nets(artifacts, params, *fields):
    return _table(artifacts["nets"], "size", fields, params["sizes"], params["runs"], "nets")


def _glass(artifacts, params, *fields):
    sg = params["spinglass"]
    return _table(artifacts["glass"], "n", fields, sg["sizes"], sg["starts"], "spin-glass")


def _std(v: np.ndarray) -> float:
    return float(v.std(ddof=1)) if len(v) > 1 else math.nan


def _inversions_text(k: int, what: str) -> str:
    return f"<= {k} inversion{'s' if k != 1 else ''} and {what}"


def _shares(groups) -> dict:
    return {k: float(v["converged"].mean()) for k, v in groups.items()}


@claim(EXP, "nets_converged", PAPER, "test_vs_train", "",
       "every net was trained to a minimum: the norm of its gradient over the whole training "
       "set fell below the tolerance (minima.convergence.grad_tol) within the epochs allowed",
       "SGD trained to convergence")
def nets_converged(artifacts, params):
    g = _nets(artifacts, params, "epochs", "grad_norm", "train_loss")
    share = _shares(g)
    worst = min(share.values())
    details = {f"converged_{k}": s for k, s in share.items()}
    details.update({f"epochs_max_{k}": float(v["epochs"].max()) for k, v in g.items()})
    details["grad_tol"] = params["convergence"]["grad_tol"]
    return Verdict(worst, "share of converged nets at every size >= 1", bool(worst >= 1.0),
                   details, bound=1.0, sense=">=")


@claim(EXP, "train_loss_at_minima", PAPER, "test_vs_train", "",
       "the training loss at the minima: its spread per size (largest over smallest of all "
       "converged nets' final training losses, per size)",
       "not stated", finding=True)
def train_loss_at_minima(artifacts, params):
    g = _minima(_nets(artifacts, params, "train_loss"), "train_loss")
    details = {}
    for k, v in g.items():
        t = v["train_loss"]
        details.update({f"min_{k}": float(t.min()), f"max_{k}": float(t.max()),
                        f"mean_{k}": float(t.mean())})
    widest = most(ratio(v["train_loss"].max(), v["train_loss"].min()) for v in g.values())
    # measured once every size has minima; without them there is nothing to report
    return Verdict(widest, "finding: max/min of the final training loss, widest size",
                   finite(widest), details)


@claim(EXP, "test_loss_spread_falls", PAPER, "test_loss", "Fig. 2",
       "the spread (std) of the test loss of SGD minima falls as the hidden layer grows",
       "narrower distributions for larger nets")
def test_loss_spread_falls(artifacts, params):
    k = params["claims"]["max_inversions"]
    g = _minima(_nets(artifacts, params, "test_loss"), "test_loss")
    std = [_std(v["test_loss"]) for v in g.values()]
    return Verdict(inversions(std), _inversions_text(k, "std(largest) < std(smallest)"),
                   _falls(std, k), {f"std_{n}": s for n, s in zip(g, std)})


@claim(EXP, "test_loss_mean_not_rising", PAPER, "test_loss", "Fig. 2",
       "the mean test loss of SGD minima does not rise as the hidden layer grows",
       "lower losses for larger nets")
def test_loss_mean_not_rising(artifacts, params):
    limit = params["claims"]["rise_se"]
    g = _minima(_nets(artifacts, params, "test_loss"), "test_loss")
    mean = [float(v["test_loss"].mean()) for v in g.values()]
    se = [_std(v["test_loss"]) / np.sqrt(len(v["test_loss"])) for v in g.values()]
    # a rise in standard errors: NaN where both sizes have no spread (zero denominator)
    rises = [(b - a) / math.hypot(sa, sb) if math.hypot(sa, sb) > 0 else math.nan
             for (a, sa), (b, sb) in pairwise(zip(mean, se))]
    worst = most(rises)
    return Verdict(worst, f"largest rise between consecutive sizes < {limit:g} standard errors",
                   bool(worst < limit), {f"mean_{n}": m for n, m in zip(g, mean)},
                   bound=float(limit), sense="<")


@claim(EXP, "train_test_correlation_falls", PAPER, "test_vs_train", "",
       "the Pearson correlation between train and test loss of the minima falls with size",
       "falls with size (values unverified)")
def train_test_correlation_falls(artifacts, params):
    k = params["claims"]["max_inversions"]
    g = _minima(_nets(artifacts, params, "train_loss", "test_loss"), "train_loss", "test_loss")
    with np.errstate(invalid="ignore", divide="ignore"):  # a constant column gives NaN: fails
        r = [float(np.corrcoef(v["train_loss"], v["test_loss"])[0, 1])
             if len(v["test_loss"]) > 1 else math.nan for v in g.values()]
    return Verdict(inversions(r), _inversions_text(k, "r(largest) < r(smallest)"),
                   _falls(r, k), {f"r_{n}": x for n, x in zip(g, r)})


@claim(EXP, "spinglass_converged", PAPER, "spinglass", "Fig. 2",
       "every spin-glass descent reached a minimum: its tangential gradient norm fell below "
       "minima.spinglass.tol within minima.spinglass.max_steps steps",
       "gradient norm below 0.01 (the authors' code)")
def spinglass_converged(artifacts, params):
    g = _glass(artifacts, params, "steps")
    share = _shares(g)
    worst = min(share.values())
    details = {f"converged_{n}": s for n, s in share.items()}
    details.update({f"steps_max_{n}": float(v["steps"].max()) for n, v in g.items()})
    return Verdict(worst, "share of converged descents at every N >= 1", bool(worst >= 1.0),
                   details, bound=1.0, sense=">=")


@claim(EXP, "spinglass_spread_falls", PAPER, "spinglass", "Fig. 2",
       "the spread (std) of H/N at the minima of the spherical 3-spin glass falls with N",
       "narrower distributions for larger N")
def spinglass_spread_falls(artifacts, params):
    k = params["claims"]["max_inversions"]
    g = _minima(_glass(artifacts, params, "energy"), "energy")
    std = [_std(v["energy"]) for v in g.values()]
    return Verdict(inversions(std), _inversions_text(k, "std(largest N) < std(smallest N)"),
                   _falls(std, k), {f"std_{n}": s for n, s in zip(g, std)})


@claim(EXP, "spinglass_band", PAPER, "spinglass", "Fig. 2",
       "at the largest N the minima found lie in the band between the ground state and the "
       "threshold: their mean H/N is at most the band's top (minima.claims.band_high)",
       "ground state -1.657, threshold -1.633")
def spinglass_band(artifacts, params):
    top = params["claims"]["band_high"]
    if not top > GROUND_STATE:
        raise ValueError(f"minima.claims.band_high ({top}) must lie above the ground state "
                         f"({GROUND_STATE})")
    g = _minima(_glass(artifacts, params, "energy"), "energy")
    n = max(g)
    mean = float(g[n]["energy"].mean())
    return Verdict(mean, f"mean H/N of the converged minima at N = {n} <= {top:g}",
                   bool(mean <= top), {"n": n, "gap_above_threshold": mean - THRESHOLD},
                   bound=float(top), sense="<=")


@claim(EXP, "spinglass_nears_band", PAPER, "spinglass", "Fig. 2",
       "the minima found near the threshold as N grows: the gap of the mean H/N above the "
       "threshold is smaller at the largest N than at the smallest (the weak form of the "
       "band claim)", "the band is the N -> infinity limit")
def spinglass_nears_band(artifacts, params):
    g = _minima(_glass(artifacts, params, "energy"), "energy")
    gaps = {n: float(v["energy"].mean()) - THRESHOLD for n, v in g.items()}
    first, last = min(gaps), max(gaps)
    shrink = ratio(gaps[last], gaps[first])
    return Verdict(shrink, f"gap at N = {last} / gap at N = {first} < 1",
                   bool(shrink < 1.0), {f"gap_{n}": v for n, v in gaps.items()},
                   bound=1.0, sense="<")
