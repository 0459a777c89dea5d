"""Claims of the deep linear network example, computed from its measurements."""

from __future__ import annotations

import numpy as np

from landscapes.claims import Verdict, claim
from landscapes.linear import barrier, min_hessian_eigenvalue_grid
from landscapes.store import load_npz

EXP = "linear"
SEED_PAPER = "Deep linear example"
SAXE = "Saxe et al. 2014"
KAWAGUCHI = "Kawaguchi 2016"
CONVEX_TOL = 1e-6  # smallest curvature >= -tol * largest: convex up to finite-difference rounding


def _curvature(z: np.ndarray, axis: np.ndarray) -> tuple[float, float]:
    lam = min_hessian_eigenvalue_grid(z, axis[1] - axis[0])
    zxx = np.abs(np.diff(z, 2, axis=1)).max() / (axis[1] - axis[0]) ** 2
    return float(lam.min()), float(zxx)


@claim(EXP, "bowl_convex", SEED_PAPER, "convexity", "(a)",
       "2-3-1 linear net: the loss is convex in its effective weights (a, b)",
       "convex bowl")
def bowl_convex(artifacts, params):
    m = load_npz(artifacts["surfaces"])
    lam_min, scale = _curvature(m["bowl"], m["axis"])
    ratio = lam_min / scale
    return Verdict(ratio, f"min curvature / max >= -{CONVEX_TOL:g}", bool(ratio >= -CONVEX_TOL))


@claim(EXP, "chain_saddle", SEED_PAPER, "convexity", "(a)",
       "1-1-1 chain: the origin is a saddle (Hessian eigenvalues -s and +s)",
       "saddle at the origin")
def chain_saddle(artifacts, params):
    m = load_npz(artifacts["surfaces"])
    axis, z = m["axis"], m["chain"]
    i = int(np.argmin(np.abs(axis)))
    h = axis[1] - axis[0]
    zxy = (z[i + 1, i + 1] - z[i + 1, i - 1] - z[i - 1, i + 1] + z[i - 1, i - 1]) / (4 * h * h)
    zxx = (z[i, i + 1] - 2 * z[i, i] + z[i, i - 1]) / h**2
    zyy = (z[i + 1, i] - 2 * z[i, i] + z[i - 1, i]) / h**2
    eig = np.linalg.eigvalsh([[zxx, zxy], [zxy, zyy]])
    s = abs(float(m["target"]))
    return Verdict(f"{eig[0]:.4g}, {eig[1]:.4g}", f"eigenvalues within 1e-6 of -{s:g}, +{s:g}",
                   bool(abs(eig[0] + s) < 1e-6 and abs(eig[1] - s) < 1e-6))


@claim(EXP, "activation_nonconvex", SEED_PAPER, "activations", "(b)",
       "slices through two first-layer weights are convex with linear units and non-convex "
       "with sigmoids", "non-convexity comes from the activation")
def activation_nonconvex(artifacts, params):
    m = load_npz(artifacts["surfaces"])
    lin, lin_scale = _curvature(m["slice_linear"], m["axis"])
    sig, sig_scale = _curvature(m["slice_sigmoid"], m["axis"])
    r_lin, r_sig = lin / lin_scale, sig / sig_scale
    return Verdict(f"linear {r_lin:.3g}, sigmoid {r_sig:.3g}",
                   f"min curvature / max: linear >= -{CONVEX_TOL:g}, sigmoid < -{CONVEX_TOL:g}",
                   bool(r_lin >= -CONVEX_TOL and r_sig < -CONVEX_TOL))


@claim(EXP, "permutation_invariance", SEED_PAPER, "permutation", "(c)",
       "permuting the hidden units of a trained MLP leaves its training loss unchanged",
       "identical loss")
def permutation_invariance(artifacts, params):
    m = load_npz(artifacts["permutation"])
    diff = abs(float(m["loss_permuted"]) - float(m["loss_original"]))
    moved = float(m["moved_fraction"])
    return Verdict(diff, "|L(P theta) - L(theta)| <= 1e-6, units moved > 0",
                   bool(diff <= 1e-6 and moved > 0), {"moved_fraction": moved})


@claim(EXP, "permutation_barrier", SEED_PAPER, "permutation", "(c)",
       "the straight line between the net and its permuted copy crosses a loss barrier",
       "barrier > 0")
def permutation_barrier(artifacts, params):
    m = load_npz(artifacts["permutation"])
    b = barrier(m["loss"])
    return Verdict(b, "barrier height > 0", bool(b > 0))


@claim(EXP, "gd_reaches_optimum", KAWAGUCHI, "saddle", "(d)",
       "gradient descent from small random initializations reaches the closed-form optimal "
       "loss (every local minimum is global)", "global optimum")
def gd_reaches_optimum(artifacts, params):
    m = load_npz(artifacts["saddle"])
    opt = float(m["optimal_loss"])
    gaps = (m["losses"][:, -1] - opt) / opt
    n = len(gaps)
    need = int(params["n_inits"])
    return Verdict(float(gaps.max()), f"max relative gap <= 1e-6 over {need} (>= 20) inits",
                   bool(n >= 20 and n == need and gaps.max() <= 1e-6), {"n_inits": n})


@claim(EXP, "hessian_origin_depth2", KAWAGUCHI, "saddle", "(d)",
       "Hessian at W = 0 of a two-layer linear net has eigenvalues +/- sigma_i of Sigma_yx "
       "(each hidden-width times) and zeros", "+/- sigma_i")
def hessian_origin_depth2(artifacts, params):
    m = load_npz(artifacts["saddle"])
    err = float(np.abs(np.sort(m["eig_depth2"]) - m["predicted_depth2"]).max())
    return Verdict(err, "max |eigenvalue - prediction| <= 1e-5", bool(err <= 1e-5))


@claim(EXP, "hessian_origin_depth3", KAWAGUCHI, "saddle", "(d)",
       "for three weight layers the Hessian at W = 0 is exactly zero (a degenerate saddle)",
       "H(0) = 0")
def hessian_origin_depth3(artifacts, params):
    m = load_npz(artifacts["saddle"])
    err = float(np.abs(m["eig_depth3"]).max())
    return Verdict(err, "max |eigenvalue| <= 1e-12", bool(err <= 1e-12))


@claim(EXP, "modes_in_order", SAXE, "saddle", "(d)",
       "from small weights, modes are learned in order of decreasing singular value",
       "stronger modes first")
def modes_in_order(artifacts, params):
    m = load_npz(artifacts["saddle"])
    sigma, steps = m["sigma"], m["steps"]
    r = int(m["n_modes"])  # the teacher's modes; the rest is noise
    in_order = []
    for s in m["strengths"]:  # per init: first step where mode i reaches half of sigma_i
        reached = s[:, :r] >= 0.5 * sigma[:r]
        times = [steps[np.argmax(col)] if col.any() else np.inf for col in reached.T]
        in_order.append(all(a < b for a, b in zip(times[:-1], times[1:])))
    frac = float(np.mean(in_order))
    return Verdict(frac, "fraction of inits with strictly ordered learning times = 1",
                   bool(frac == 1.0))
