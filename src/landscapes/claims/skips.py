"""Claims of Li et al. 2018 on skip connections, computed from surfaces, maps and metrics.

Artifacts are named `surface_<model>`, `hessian_<model>` and `metrics_<model>` for the models
`resnet<depth>` (shortcuts) and `plain<depth>` (none), built by `landscapes.names`; params are
the `skips` section: its depths, and its thresholds under `claims`.
"""

from __future__ import annotations

import math

import numpy as np

from landscapes.claims import Verdict, claim, finite, most
from landscapes.names import ResNetId, artifact, resnets
from landscapes.store import load_csv
from landscapes.surface import Surface, local_minima

EXP = "skips"
PAPER = "Li et al. 2018"


def _minima(artifacts, model: ResNetId, tolerance) -> float:
    """Local minima of the training-loss grid; NaN where the grid has a NaN (a NaN point is
    lower than nothing, so it would hide a minimum or a basin)."""
    z = Surface.load(artifacts[artifact("surface", model)]).metrics["train_loss"]
    return local_minima(z, tolerance) if finite(z) else math.nan


def _nonconvex_share(artifacts, model: ResNetId, threshold) -> float:
    """Share of grid points with |lambda_min / lambda_max| > threshold; NaN unless every
    lambda_max is positive and every eigenvalue finite (NaN points would count as convex)."""
    h = Surface.load(artifacts[artifact("hessian", model)]).metrics
    lo, hi = np.asarray(h["lambda_min"]), np.asarray(h["lambda_max"])
    if lo.size == 0 or not finite(lo, hi) or not (hi > 0).all():
        return math.nan
    return float(np.mean(np.abs(lo / hi) > threshold))


def _train_loss(artifacts, model: ResNetId) -> float:
    return float(load_csv(artifacts[artifact("metrics", model)])[-1]["train_loss"])


def _deepest(params) -> tuple[ResNetId, ResNetId]:
    d = max(params["depths"])
    return ResNetId(d, shortcuts=False), ResNetId(d, shortcuts=True)


@claim(EXP, "nonconvex_share", PAPER, "nonconvexity", "Fig. 7",
       "the deepest plain net has a larger share of strongly non-convex grid points "
       "(|lambda_min / lambda_max| above the threshold) than its shortcut twin",
       "large non-convex regions without shortcuts, almost none with")
def nonconvex_share(artifacts, params):
    t = params["claims"]["ratio_threshold"]
    plain_id, short_id = _deepest(params)
    plain = _nonconvex_share(artifacts, plain_id, t)
    short = _nonconvex_share(artifacts, short_id, t)
    return Verdict(plain, f"> share with shortcuts ({short:.3g}); ratio threshold {t:g}",
                   bool(finite(plain, short) and plain > short),
                   {"plain": plain, "shortcuts": short, "depth": plain_id.depth},
                   bound=short, sense=">")


@claim(EXP, "single_basin", PAPER, "contours", "Fig. 5",
       "with shortcuts the surface has a single basin at every depth (one local minimum "
       "of the grid)",
       "convex-looking contours for ResNet-20/56/110")
def single_basin(artifacts, params):
    tol = params["claims"]["minima_tolerance"]
    counts = {str(m): _minima(artifacts, m, tol) for m in resnets(params["depths"])
              if m.shortcuts}
    worst = most(counts.values())  # NaN if any grid is broken; raises on no depths
    return Verdict(worst, "1 local minimum at every depth",
                   all(c == 1 for c in counts.values()), counts)


@claim(EXP, "plain_more_minima", PAPER, "contours", "Fig. 5",
       "the deepest plain net has more local minima of the grid than its shortcut twin",
       "chaotic surface for ResNet-110-noshort")
def plain_more_minima(artifacts, params):
    tol = params["claims"]["minima_tolerance"]
    plain_id, short_id = _deepest(params)
    plain, short = _minima(artifacts, plain_id, tol), _minima(artifacts, short_id, tol)
    return Verdict(plain, f"> local minima with shortcuts ({short})",
                   bool(finite(plain, short) and plain > short),
                   {"plain": plain, "shortcuts": short, "depth": plain_id.depth},
                   bound=short, sense=">")


@claim(EXP, "depth_hurts_plain", PAPER, "contours", "Fig. 5",
       "the plain nets' training loss rises with depth while the shortcut nets' does not",
       "deep plain nets train worse; shortcut nets do not")
def depth_hurts_plain(artifacts, params):
    lo, hi = min(params["depths"]), max(params["depths"])
    tol = params["claims"]["loss_rise_tolerance"]
    loss = {str(m): _train_loss(artifacts, m) for m in resnets(sorted({lo, hi}))}
    rise = {kind: loss[str(ResNetId(hi, kind))] - loss[str(ResNetId(lo, kind))]
            for kind in (False, True)}
    # one depth has no rise to compare
    holds = lo < hi and finite(*loss.values()) and rise[False] > tol and rise[True] <= tol
    return Verdict(rise[False],
                   f"plain rise > {tol:g} and shortcut rise ({rise[True]:.3g}) <= {tol:g}",
                   bool(holds), {"plain_rise": rise[False], "shortcut_rise": rise[True],
                                 **{f"train_loss_{m}": v for m, v in loss.items()}})
