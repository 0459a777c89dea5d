"""Figures of the saddle-point experiment (Dauphin et al. 2014); each takes the artifacts
(`critical_points`: an npz path; `optimizers`: one npz path per hidden size) and the search's
cutoffs or the size whose curves are drawn as settings."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import cm, colors

from landscapes.critical import (
    accepted,
    comparisons_by_size,
    gradient_flat,
    lowest_error,
    spectrum_picks,
)
from landscapes.plotting import figure
from landscapes.store import load_npz

METHOD_STYLE = {  # key in optimizers_h<hidden>.npz -> (label, colour)
    "msgd": ("momentum SGD", "tab:blue"),
    "newton": ("damped Newton", "tab:orange"),
    "sfn": ("saddle-free Newton (exact)", "tab:green"),
    "sfn_krylov": ("saddle-free Newton (Krylov)", "tab:olive"),
}
MARKERS = {"msgd": "o", "newton": "s", "sfn": "^", "sfn_krylov": "v"}  # tied points stay apart


def error_vs_index(artifacts: dict, settings: dict):
    """Paper Fig. 1 (a, c): one dot per critical point, index on x, training error on y; the
    searches' other end points drawn open, gradient-flat ones apart from unfinished ones."""
    m = load_npz(artifacts["critical_points"])
    grad_cutoff, index_tol = settings["grad_cutoff"], settings["index_tol"]
    flat_tol = settings["flat_tol"]
    fig, ax = figure(figsize=(5.6, 4.4))
    ok = accepted(m, grad_cutoff)
    flat = gradient_flat(m, grad_cutoff, flat_tol)
    rest = ~ok & ~flat
    err, index = 100 * np.asarray(m["error"]), 100 * np.asarray(m["index"])
    logg = np.log10(np.maximum(np.asarray(m["grad_norm"]), 1e-300))
    norm = colors.Normalize(logg.min(), max(logg.max(), logg.min() + 1))
    cmap = plt.get_cmap("viridis")
    ax.scatter(index[flat], err[flat], s=26, facecolors="none",
               edgecolors=cmap(norm(logg[flat])),
               label=f"gradient-flat, |Hg| < {flat_tol:g} |g||H|: not critical ({flat.sum()})")
    ax.scatter(index[rest], err[rest], s=30, marker="x", c=cmap(norm(logg[rest])),
               label=f"unfinished, |grad| >= {grad_cutoff:g}: not critical ({rest.sum()})")
    ax.scatter(index[ok], err[ok], s=30, c=cmap(norm(logg[ok])), edgecolors="k", linewidths=0.5,
               label=f"critical points, |grad| < {grad_cutoff:g} ({ok.sum()})")
    fig.colorbar(cm.ScalarMappable(norm, cmap), ax=ax, label="log10 |grad| at the end point")
    ax.set(xlabel=f"index: % of Hessian eigenvalues < -{index_tol:g}",
           ylabel="training error (%)",
           title="Critical points found from perturbed SGD trajectory points")
    ax.set_xlim(left=-1)
    ax.legend(loc="lower right", fontsize=7)
    return fig


def spectra(artifacts: dict, settings: dict):
    """Paper Fig. 1 (b, d): eigenvalue histograms at critical points of low, middle and high
    error; log y-axis, a line at zero."""
    m = load_npz(artifacts["critical_points"])
    grad_cutoff = settings["grad_cutoff"]
    picks = spectrum_picks(m, grad_cutoff)
    note = ""
    if not picks:  # too few distinct critical points: show the searches' end points instead
        order = np.argsort(m["error"], kind="stable")
        picks = spectrum_picks(m, None) or [int(order[0]), int(order[len(order) // 2]),
                                            int(order[-1])]
        note = (f"\nfewer than 3 distinct points under |grad| < {grad_cutoff:g}: "
                "search end points shown, NOT critical points")
    fig, ax = figure(figsize=(6.4, 4.4))
    eigs = np.asarray(m["eigenvalues"])[picks]
    lim = np.abs(eigs).max()
    bins = np.linspace(-lim, lim, 81)
    for k, colour, label in zip(picks, ("tab:green", "tab:orange", "tab:red"),
                                ("low", "middle", "high")):
        e = m["eigenvalues"][k]
        ax.hist(e, bins=bins, histtype="step", lw=1.6, color=colour,
                label=f"{label} error {100 * m['error'][k]:.1f}%: index "
                      f"{100 * m['index'][k]:.1f}%, median {np.median(e):.2g}, "
                      f"|grad| {m['grad_norm'][k]:.1e}")
    ax.axvline(0, color="k", lw=0.8)
    ax.set_yscale("log")
    ax.set(xlabel="Hessian eigenvalue", ylabel="count (log scale)",
           title="Spectra at critical points of different error" + note)
    ax.legend(loc="upper left", fontsize=7)
    return fig


def optimizers(artifacts: dict, settings: dict):
    """Paper Fig. 3: (a) the lowest training error each method reaches in equally many
    epochs, against the number of hidden units (log y; a method at 0 errors is drawn open at
    a floor of half an example); (b)-(d) for one size (`curves_hidden`): training error,
    |most negative Hessian eigenvalue| and |grad| over epochs (one Newton step = one epoch)."""
    runs = comparisons_by_size(artifacts["optimizers"])
    sizes = [int(m["hidden"]) for m in runs]
    curves = runs[sizes.index(int(settings["curves_hidden"]))]
    floor = 100 * 0.5 / int(runs[0]["n_train"])  # half an example, in %
    fig, (a_min, a_err, a_lam, a_grad) = figure(1, 4, figsize=(17, 4.2))
    for key, (label, colour) in METHOD_STYLE.items():
        low = np.array([100 * lowest_error(m, key) for m in runs])
        zero = low <= 0
        a_min.semilogy(sizes, np.maximum(low, floor), "-", color=colour, label=label,
                       marker=MARKERS[key], markersize=6)
        a_min.scatter(np.array(sizes)[zero], np.full(zero.sum(), floor), facecolors="white",
                      edgecolors=colour, marker=MARKERS[key], s=36, zorder=3)
        ep = curves[f"{key}_epoch"]
        err = 100 * np.asarray(curves[f"{key}_error"], dtype=float)
        a_err.semilogy(ep, np.maximum(err, floor), color=colour, label=label)
        lam = np.asarray(curves[f"{key}_lambda_min"], dtype=float)
        # no negative eigenvalue left (a minimum): nothing to draw on a log axis
        a_lam.semilogy(ep, np.where(lam < 0, -lam, np.nan), color=colour, label=label)
        a_grad.semilogy(ep, curves[f"{key}_grad_norm"], color=colour, label=label)
    epochs = int(runs[0]["msgd_epoch"][-1])
    a_min.axhline(floor, color="0.6", ls=":", lw=0.8)
    a_min.set_xscale("log", base=2)
    a_min.set_xticks(sizes, [str(h) for h in sizes])
    a_min.minorticks_off()
    a_min.set(xlabel="hidden units", ylabel="lowest training error (%, log scale)",
              title=f"(a) Lowest error in {epochs} epochs\n(open: 0 errors, drawn at half an "
                    f"example = {floor:.3g}%)")
    a_min.legend(fontsize=7)
    h = int(settings["curves_hidden"])
    a_err.axhline(floor, color="0.6", ls=":", lw=0.8)
    a_err.set(xlabel="epoch (one Newton step = one full-batch epoch)",
              ylabel="training error (%, log scale)",
              title=f"(b) Training error, {h} hidden units\n(0 errors drawn at {floor:.3g}%)")
    a_lam.set(xlabel="epoch", ylabel="|most negative eigenvalue| (log scale)",
              title=f"(c) Most negative Hessian eigenvalue, {h} hidden units\n"
                    "(gaps: no negative eigenvalue)")
    a_grad.set(xlabel="epoch", ylabel="|grad| (log scale)",
               title=f"(d) Gradient norm, {h} hidden units")
    return fig
