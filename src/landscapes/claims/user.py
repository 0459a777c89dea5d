"""Checks on your own models (config section `user`): no paper's claim, but the premises of
the plots, judged as claims so they reach the report. Artifacts are `<kind>_<model>` (kinds
check, surface, slice, spectrum) for every model under `params["models"]`.
"""

from __future__ import annotations

import math

import numpy as np

from landscapes.claims import Verdict, claim, finite, most
from landscapes.names import artifact
from landscapes.store import load_json, load_npz
from landscapes.surface import Surface

EXP = "user"
PAPER = "Your models"


def _drop(artifacts, model) -> float:
    """How far the lowest surface or slice point lies below the checkpoint's training loss."""
    center = float(load_json(artifacts[artifact("check", model)])["train_loss"])
    grid = np.concatenate([
        Surface.load(artifacts[artifact(k, model)]).metrics["train_loss"].ravel()
        for k in ("surface", "slice")])
    return center - float(grid.min()) if finite(center, grid) else math.nan


def _ratio(artifacts, model) -> float:
    z = load_npz(artifacts[artifact("spectrum", model)])
    lo, hi = float(z["lambda_min"]), float(z["lambda_max"])
    return abs(lo / hi) if finite(lo, hi) and hi > 0 else math.nan


@claim(EXP, "minimum", PAPER, "contours", "",
       "each checkpoint is the lowest point of its 2D surface and 1D slice (a minimizer in the "
       "plotted plane, as the surface plots presume)", "a check, no paper value")
def minimum(artifacts, params):
    tol = params["claims"]["minimum_tolerance"]
    drops = {m: _drop(artifacts, m) for m in params["models"]}
    worst = most(drops.values())
    return Verdict(worst, f"largest drop below the checkpoint's training loss <= {tol:g}",
                   bool(finite(worst) and worst <= tol), drops)


@claim(EXP, "locally_convex", PAPER, "spectrum", "",
       "at each checkpoint the Hessian is nearly positive semi-definite: |lambda_min / "
       "lambda_max| at most the threshold (the criterion of Li et al. 2018, Fig. 7)",
       "a check, no paper value")
def locally_convex(artifacts, params):
    t = params["claims"]["ratio_threshold"]
    ratios = {m: _ratio(artifacts, m) for m in params["models"]}
    worst = most(ratios.values())
    return Verdict(worst, f"max |lambda_min / lambda_max| <= {t:g} (lambda_max > 0)",
                   bool(finite(worst) and worst <= t), ratios)
