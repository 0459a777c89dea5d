"""Claims of Garipov et al. 2018 and Draxler et al. 2018, computed from one replicate's paths:
the straight line between two minima crosses a barrier, a trained quadratic Bezier curve
between them does not; and the same between a net and its hidden-unit permutation.

Barriers are in training loss (mean cross-entropy over the whole training set): a path's peak
above the higher of its two ends (`landscapes.linear.barrier`). Errors are 1 - accuracy.
"""

from __future__ import annotations

import math

import numpy as np

from landscapes.claims import Verdict, claim, finite, ratio
from landscapes.linear import barrier
from landscapes.store import load_npz

EXP = "mode_connectivity"
GARIPOV = "Garipov et al. 2018"
DRAXLER = "Draxler et al. 2018"


def pair(artifacts, name: str) -> dict | None:
    """The measurements of one pair, None where the config does not join it."""
    return load_npz(artifacts[name]) if name in artifacts else None


def _barrier(losses) -> float:
    return barrier(np.asarray(losses)) if finite(losses) else math.nan


def ends(m: dict, field: str) -> float:
    """The higher endpoint's value of a path's `field` (line and curve share their ends)."""
    values = m[f"line_{field}"]
    return max(float(values[0]), float(values[-1])) if finite(values[0], values[-1]) else math.nan


def _not_run(name):
    return Verdict(f"not run (mode_connectivity.pairs has no '{name}' pair)", "not measured",
                   False)


@claim(EXP, "endpoints_fit", GARIPOV, "paths", "Fig. 2",
       "both independently trained minima fit their training set (training error at most "
       "mode_connectivity.claims.max_endpoint_error): the paths join minima",
       "converged endpoints")
def endpoints_fit(artifacts, params):
    bound = params["claims"]["max_endpoint_error"]
    m = pair(artifacts, "independent")
    worst = ends(m, "train_error")
    return Verdict(worst, f"higher endpoint training error <= {bound:g}", bool(worst <= bound),
                   {"train_loss": ends(m, "train_loss"), "test_error": ends(m, "test_error")},
                   bound=float(bound), sense="<=")


def _line_barrier(name):
    def check(artifacts, params):
        m = pair(artifacts, name)
        if m is None:
            return _not_run(name)
        factor = params["claims"]["min_line_rise"]
        peak = float(np.max(m["line_train_loss"])) if finite(m["line_train_loss"]) else math.nan
        rise = ratio(peak, ends(m, "train_loss"))
        return Verdict(rise, f"peak training loss on the line / the higher end's >= {factor:g}",
                       bool(rise >= factor), {"barrier": _barrier(m["line_train_loss"]),
                                              "peak": peak, "end": ends(m, "train_loss")},
                       bound=float(factor), sense=">=")
    return check


claim(EXP, "line_barrier", GARIPOV, "paths", "Fig. 2",
      "the straight line between two independent minima crosses a barrier: its peak training "
      "loss is at least mode_connectivity.claims.min_line_rise times the higher endpoint's",
      "high loss along the line")(_line_barrier("independent"))
claim(EXP, "permuted_line_barrier", GARIPOV, "permutation", "",
      "the straight line between a net and its hidden-unit permutation (the same function) "
      "crosses a barrier: its peak training loss is at least "
      "mode_connectivity.claims.min_line_rise times the ends'",
      "symmetric copies apart (deep linear example (c))")(_line_barrier("permuted"))


@claim(EXP, "line_error_barrier", GARIPOV, "paths", "Fig. 2",
       "the paper's regime, strong form: the line's peak training error lies at least "
       "mode_connectivity.claims.min_line_error_rise above the endpoints'",
       "near-chance error mid-line")
def line_error_barrier(artifacts, params):
    bound = params["claims"]["min_line_error_rise"]
    m = pair(artifacts, "independent")
    err = m["line_train_error"]
    rise = float(np.max(err)) - ends(m, "train_error") if finite(err) else math.nan
    return Verdict(rise, f"peak training error on the line - the endpoints' >= {bound:g}",
                   bool(rise >= bound), {"peak_test_error": float(np.max(m["line_test_error"]))},
                   bound=float(bound), sense=">=")


def _curve_removes(name):
    def check(artifacts, params):
        m = pair(artifacts, name)
        if m is None:
            return _not_run(name)
        bound = params["claims"]["max_barrier_ratio"]
        line, curve = _barrier(m["line_train_loss"]), _barrier(m["curve_train_loss"])
        value = ratio(curve, line)
        return Verdict(value, f"curve's barrier / line's barrier (training loss) <= {bound:g}",
                       bool(value <= bound), {"line_barrier": line, "curve_barrier": curve},
                       bound=float(bound), sense="<=")
    return check


claim(EXP, "curve_removes_barrier", DRAXLER, "paths", "Fig. 2",
      "the trained Bezier curve between the two minima has essentially no barrier: its "
      "training-loss barrier is at most mode_connectivity.claims.max_barrier_ratio of the line's",
      "essentially no barriers")(_curve_removes("independent"))
claim(EXP, "permuted_curve_removes_barrier", DRAXLER, "permutation", "",
      "a trained Bezier curve also joins a net and its permuted copy: its barrier is at most "
      "mode_connectivity.claims.max_barrier_ratio of the line's",
      "essentially no barriers")(_curve_removes("permuted"))


@claim(EXP, "curve_loss_flat", GARIPOV, "paths", "Fig. 2",
       "strong form: along the curve the training loss never rises more than "
       "mode_connectivity.claims.max_loss_rise (a fraction) above the higher endpoint's",
       "nearly constant training loss")
def curve_loss_flat(artifacts, params):
    bound = params["claims"]["max_loss_rise"]
    m = pair(artifacts, "independent")
    loss = m["curve_train_loss"]
    peak = float(np.max(loss)) if finite(loss) else math.nan
    rise = ratio(peak, ends(m, "train_loss")) - 1.0
    return Verdict(rise, f"(peak on the curve - the higher end) / the higher end <= {bound:g}",
                   bool(rise <= bound), {"peak": peak, "end": ends(m, "train_loss")},
                   bound=float(bound), sense="<=")


def _curve_error(split):
    def check(artifacts, params):
        bound = params["claims"][f"max_{split}_error_rise"]
        m = pair(artifacts, "independent")
        err = m[f"curve_{split}_error"]
        rise = float(np.max(err)) - ends(m, f"{split}_error") if finite(err) else math.nan
        return Verdict(rise, f"peak {split} error on the curve - the endpoints' <= {bound:g}",
                       bool(rise <= bound), {"peak": float(np.max(err))}, bound=float(bound),
                       sense="<=")
    return check


for _split in ("train", "test"):
    claim(EXP, f"curve_{_split}_error_flat", GARIPOV, "paths", "Fig. 2",
          f"the {_split} error along the curve stays within "
          f"mode_connectivity.claims.max_{_split}_error_rise of the endpoints'",
          f"nearly constant {_split} accuracy")(_curve_error(_split))


@claim(EXP, "barrier_heights", DRAXLER, "paths", "Fig. 2",
       "the training-loss barriers measured along each path of each pair (nats)",
       "line: high; curve: essentially zero", finding=True)
def barrier_heights(artifacts, params):
    heights = {}
    for name in ("independent", "permuted"):
        m = pair(artifacts, name)
        if m is not None:
            for path in ("line", "curve"):
                heights[f"{name}_{path}"] = _barrier(m[f"{path}_train_loss"])
    text = "; ".join(f"{k.replace('_', ' ')} {v:.4g}" for k, v in heights.items())
    return Verdict(text, "finding: peak training loss above the higher end, per path",
                   finite(list(heights.values())), heights)
