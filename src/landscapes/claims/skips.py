"""Claims of Li et al. 2018 on skip connections, computed from surfaces, maps and metrics.

Artifacts are named `surface_<model>`, `hessian_<model>` and `metrics_<model>` for the models
`resnet<depth>` (shortcuts) and `plain<depth>` (none); settings carry the depths and the
thresholds of the config's `skips.claims`.
"""

from __future__ import annotations

import numpy as np

from landscapes.claims import Verdict, claim
from landscapes.store import load_csv
from landscapes.surface import Surface, local_minima

EXP = "skips"
PAPER = "Li et al. 2018"


def _minima(artifacts, model, tolerance) -> int:
    return local_minima(Surface.load(artifacts[f"surface_{model}"]).metrics["train_loss"],
                        tolerance)


def _nonconvex_share(artifacts, model, threshold) -> float:
    h = Surface.load(artifacts[f"hessian_{model}"]).metrics
    return float(np.mean(np.abs(h["lambda_min"] / h["lambda_max"]) > threshold))


def _train_loss(artifacts, model) -> float:
    return float(load_csv(artifacts[f"metrics_{model}"])[-1]["train_loss"])


@claim(EXP, "nonconvex_share", PAPER, "nonconvexity", "Fig. 7",
       "the deepest plain net has a larger share of strongly non-convex grid points "
       "(|lambda_min / lambda_max| above the threshold) than its shortcut twin",
       "large non-convex regions without shortcuts, almost none with")
def nonconvex_share(artifacts, params):
    d, t = max(params["depths"]), params["ratio_threshold"]
    plain = _nonconvex_share(artifacts, f"plain{d}", t)
    short = _nonconvex_share(artifacts, f"resnet{d}", t)
    return Verdict(plain, f"> share with shortcuts ({short:.3g}); ratio threshold {t:g}",
                   bool(plain > short),
                   {"plain": plain, "shortcuts": short, "depth": d})


@claim(EXP, "single_basin", PAPER, "contours", "Fig. 5",
       "with shortcuts the surface has a single basin at every depth (one local minimum "
       "of the grid)",
       "convex-looking contours for ResNet-20/56/110")
def single_basin(artifacts, params):
    tol = params["minima_tolerance"]
    counts = {f"resnet{d}": _minima(artifacts, f"resnet{d}", tol) for d in params["depths"]}
    worst = max(counts.values())
    return Verdict(worst, "1 local minimum at every depth",
                   all(c == 1 for c in counts.values()), counts)


@claim(EXP, "plain_more_minima", PAPER, "contours", "Fig. 5",
       "the deepest plain net has more local minima of the grid than its shortcut twin",
       "chaotic surface for ResNet-110-noshort")
def plain_more_minima(artifacts, params):
    d, tol = max(params["depths"]), params["minima_tolerance"]
    plain, short = _minima(artifacts, f"plain{d}", tol), _minima(artifacts, f"resnet{d}", tol)
    return Verdict(plain, f"> local minima with shortcuts ({short})", bool(plain > short),
                   {"plain": plain, "shortcuts": short, "depth": d})


@claim(EXP, "depth_hurts_plain", PAPER, "contours", "Fig. 5",
       "the plain nets' training loss rises with depth while the shortcut nets' does not",
       "deep plain nets train worse; shortcut nets do not")
def depth_hurts_plain(artifacts, params):
    lo, hi, tol = min(params["depths"]), max(params["depths"]), params["loss_rise_tolerance"]
    rise = {kind: _train_loss(artifacts, f"{kind}{hi}") - _train_loss(artifacts, f"{kind}{lo}")
            for kind in ("plain", "resnet")}
    holds = rise["plain"] > tol and rise["resnet"] <= tol
    return Verdict(rise["plain"],
                   f"plain rise > {tol:g} and shortcut rise ({rise['resnet']:.3g}) <= {tol:g}",
                   bool(holds), {"plain_rise": rise["plain"], "shortcut_rise": rise["resnet"],
                                 **{f"train_loss_{k}{d}": _train_loss(artifacts, f"{k}{d}")
                                    for k in ("plain", "resnet") for d in (lo, hi)}})
