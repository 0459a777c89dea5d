"""Claims of the deep linear network example, computed from its measurements.

Thresholds come from `params["claims"]` (the section's `claims:`, defaults in its schema).
"""

from __future__ import annotations

import math

import numpy as np

from landscapes.claims import Verdict, claim, finite, ratio
from landscapes.linear import barrier, min_hessian_eigenvalue_grid
from landscapes.store import load_npz

EXP = "linear"
SEED_PAPER = "Deep linear example"
SAXE = "Saxe et al. 2014"
KAWAGUCHI = "Kawaguchi 2016"


def _curvature(z: np.ndarray, axis: np.ndarray) -> float:
    """Smallest Hessian eigenvalue over the grid / largest |d2z/dx2|: NaN on a flat or broken
    grid, so neither "convex" nor "non-convex" can hold there."""
    h = axis[1] - axis[0]
    lam = min_hessian_eigenvalue_grid(z, h)
    zxx = np.abs(np.diff(z, 2, axis=1)) / h**2
    return ratio(float(lam.min()) if finite(lam) else math.nan, zxx.max())


@claim(EXP, "bowl_convex", SEED_PAPER, "convexity", "(a)",
       "2-3-1 linear net: the loss is convex in its effective weights (a, b)",
       "convex bowl")
def bowl_convex(artifacts, params):
    tol = params["claims"]["convex_tol"]
    m = load_npz(artifacts["surfaces"])
    r = _curvature(m["bowl"], m["axis"])
    return Verdict(r, f"min curvature / max >= -{tol:g}", bool(r >= -tol), bound=-tol,
                   sense=">=")


@claim(EXP, "chain_saddle", SEED_PAPER, "convexity", "(a)",
       "1-1-1 chain: the origin is a saddle (Hessian eigenvalues -s and +s)",
       "saddle at the origin")
def chain_saddle(artifacts, params):
    tol = params["claims"]["saddle_tol"]
    m = load_npz(artifacts["surfaces"])
    axis, z = m["axis"], m["chain"]
    i = int(np.argmin(np.abs(axis)))
    h = axis[1] - axis[0]
    if abs(axis[i]) > h / 4:  # half a step off on even grids: not the origin's Hessian
        raise ValueError(f"the chain grid has no point at the origin (nearest {axis[i]:g}): "
                         "use an odd number of grid points")
    zxy = (z[i + 1, i + 1] - z[i + 1, i - 1] - z[i - 1, i + 1] + z[i - 1, i - 1]) / (4 * h * h)
    zxx = (z[i, i + 1] - 2 * z[i, i] + z[i, i - 1]) / h**2
    zyy = (z[i + 1, i] - 2 * z[i, i] + z[i - 1, i]) / h**2
    eig = np.linalg.eigvalsh([[zxx, zxy], [zxy, zyy]]) if finite(zxx, zxy, zyy) else [math.nan] * 2
    s = abs(float(m["target"]))
    # a saddle needs curvature of both signs beyond the tolerance: with s = 0 both eigenvalues
    # are within tol of -s and +s, and the origin is no saddle
    holds = eig[0] < -tol and eig[1] > tol and abs(eig[0] + s) <= tol and abs(eig[1] - s) <= tol
    return Verdict(f"{eig[0]:.4g}, {eig[1]:.4g}",
                   f"eigenvalues beyond -{tol:g} and +{tol:g}, within {tol:g} of -{s:g}, +{s:g}",
                   bool(holds))


@claim(EXP, "activation_nonconvex", SEED_PAPER, "activations", "(b)",
       "slices through two first-layer weights are convex with linear units and non-convex "
       "with sigmoids", "non-convexity comes from the activation")
def activation_nonconvex(artifacts, params):
    tol = params["claims"]["convex_tol"]
    m = load_npz(artifacts["surfaces"])
    r_lin = _curvature(m["slice_linear"], m["axis"])
    r_sig = _curvature(m["slice_sigmoid"], m["axis"])
    return Verdict(f"linear {r_lin:.3g}, sigmoid {r_sig:.3g}",
                   f"min curvature / max: linear >= -{tol:g}, sigmoid < -{tol:g}",
                   bool(r_lin >= -tol and r_sig < -tol))


@claim(EXP, "permutation_invariance", SEED_PAPER, "permutation", "(c)",
       "permuting the hidden units of a trained MLP leaves its training loss unchanged",
       "identical loss")
def permutation_invariance(artifacts, params):
    tol = params["claims"]["permutation_tol"]
    m = load_npz(artifacts["permutation"])
    diff = abs(float(m["loss_permuted"]) - float(m["loss_original"]))
    moved = float(m["moved_fraction"])
    return Verdict(diff, f"|L(P theta) - L(theta)| <= {tol:g}, units moved > 0",
                   bool(diff <= tol and moved > 0), {"moved_fraction": moved},
                   bound=tol, sense="<=")


@claim(EXP, "permutation_barrier", SEED_PAPER, "permutation", "(c)",
       "the straight line between the net and its permuted copy crosses a loss barrier",
       "barrier > 0")
def permutation_barrier(artifacts, params):
    m = load_npz(artifacts["permutation"])
    b = barrier(m["loss"]) if finite(m["loss"]) else math.nan
    return Verdict(b, "barrier height > 0", bool(b > 0), bound=0.0, sense=">")


@claim(EXP, "gd_reaches_optimum", KAWAGUCHI, "saddle", "(d)",
       "gradient descent from small random initializations reaches the closed-form optimal "
       "loss (every local minimum is global)", "global optimum")
def gd_reaches_optimum(artifacts, params):
    tol, least_inits = params["claims"]["optimum_tol"], params["claims"]["min_inits"]
    need = int(params["saddle"]["n_inits"])
    m = load_npz(artifacts["saddle"])
    opt = float(m["optimal_loss"])
    final = np.asarray(m["losses"])[:, -1]
    # |gap|: ending below the closed-form optimum is as wrong as ending above it
    gaps = [abs(ratio(f - opt, opt)) for f in final] if opt > 0 else [math.nan]
    gap = float(np.max(gaps)) if len(gaps) else math.nan
    n = len(final)
    return Verdict(gap, f"max |relative gap| <= {tol:g} over {need} (>= {least_inits}) inits",
                   bool(n >= least_inits and n == need and gap <= tol), {"n_inits": n},
                   bound=tol, sense="<=")


@claim(EXP, "hessian_origin_depth2", KAWAGUCHI, "saddle", "(d)",
       "Hessian at W = 0 of a two-layer linear net has eigenvalues +/- sigma_i of Sigma_yx "
       "(each hidden-width times) and zeros", "+/- sigma_i")
def hessian_origin_depth2(artifacts, params):
    tol = params["claims"]["spectrum_tol"]
    m = load_npz(artifacts["saddle"])
    err = float(np.abs(np.sort(m["eig_depth2"]) - m["predicted_depth2"]).max())
    return Verdict(err, f"max |eigenvalue - prediction| <= {tol:g}", bool(err <= tol),
                   bound=tol, sense="<=")


@claim(EXP, "hessian_origin_depth3", KAWAGUCHI, "saddle", "(d)",
       "for three weight layers the Hessian at W = 0 is exactly zero (a degenerate saddle)",
       "H(0) = 0")
def hessian_origin_depth3(artifacts, params):
    tol = params["claims"]["zero_hessian_tol"]
    m = load_npz(artifacts["saddle"])
    err = float(np.abs(m["eig_depth3"]).max())
    return Verdict(err, f"max |eigenvalue| <= {tol:g}", bool(err <= tol), bound=tol,
                   sense="<=")


@claim(EXP, "modes_in_order", SAXE, "saddle", "(d)",
       "from small weights, modes are learned in order of decreasing singular value",
       "stronger modes first")
def modes_in_order(artifacts, params):
    share = params["claims"]["learned_share"]
    m = load_npz(artifacts["saddle"])
    sigma, steps = m["sigma"], m["steps"]
    r = int(m["n_modes"])  # the teacher's modes; the rest is noise
    in_order = []
    for s in m["strengths"]:  # per init: first step where mode i reaches share * sigma_i
        reached = s[:, :r] >= share * sigma[:r]
        times = [steps[np.argmax(col)] if col.any() else np.inf for col in reached.T]
        # a mode never learned has no place in the order
        in_order.append(finite(times) and all(a < b for a, b in zip(times[:-1], times[1:])))
    # one mode has no order, and no init is no evidence
    frac = float(np.mean(in_order)) if in_order and r >= 2 else math.nan
    return Verdict(frac, f"fraction of inits with strictly ordered times to {share:g} sigma_i "
                   "= 1 (>= 2 modes)", bool(frac == 1.0), {"n_modes": r}, bound=1.0,
                   sense=">=")
