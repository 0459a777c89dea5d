"""Figures of the saddle-point experiment (Dauphin et al. 2014); each takes the artifacts
(`critical_points_<seed>`: npz paths; `optimizers`: one npz path per hidden size;
`autoencoder`: an npz path) and the search's cutoffs, the size whose curves are drawn or the
plateau rule as settings."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import cm, colors

from landscapes.critical import (
    accepted,
    comparisons_by_size,
    gradient_flat,
    lowest_error,
    pool_end_points,
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


def _pooled(artifacts: dict) -> tuple[dict, int]:
    """Every replicate seed's end points (`critical_points_<seed>` artifacts) as one table."""
    tables = [load_npz(artifacts[k]) for k in sorted(artifacts)
              if k.startswith("critical_points")]
    return pool_end_points(tables), len(tables)


def error_vs_index(artifacts: dict, settings: dict):
    """Paper Fig. 1 (a, c): one dot per search end point, index (fraction of negative
    eigenvalues) on x, training error (%) on y, every replicate seed's searches together;
    critical points filled, gradient-flat end points open, unfinished ones crosses."""
    m, n_seeds = _pooled(artifacts)
    grad_cutoff, index_tol = settings["grad_cutoff"], settings["index_tol"]
    flat_tol = settings["flat_tol"]
    fig, ax = figure(figsize=(5.6, 4.4))
    ok = accepted(m, grad_cutoff)
    flat = gradient_flat(m, grad_cutoff, flat_tol)
    rest = ~ok & ~flat
    err, index = 100 * np.asarray(m["error"]), np.asarray(m["index"])
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
    ax.set(xlabel=f"index (fraction of Hessian eigenvalues < -{index_tol:g})",
           ylabel="train error (%)",
           title=f"{len(err)} search end points from {n_seeds} training seeds")
    ax.set_xlim(left=-0.005)
    ax.set_ylim(bottom=-1)
    ax.legend(loc="center left", fontsize=7)  # low index, middle error: empty in the paper too
    return fig


def spectra(artifacts: dict, settings: dict):
    """Paper Fig. 1 (b, d): eigenvalue histograms at the critical points (every seed's) whose
    errors are nearest the paper's three; log y-axis, a line at zero."""
    m, _ = _pooled(artifacts)
    grad_cutoff, targets = settings["grad_cutoff"], settings["spectrum_errors"]
    picks = spectrum_picks(m, grad_cutoff, targets)
    note = ""
    if not picks:  # too few distinct critical points: show the searches' end points instead
        picks = spectrum_picks(m, None, targets)
        note = (f"\nfewer than 3 distinct points under |grad| < {grad_cutoff:g}: "
                "search end points shown, NOT critical points")
    if not picks:
        raise ValueError("fewer than three distinct training errors among the search end "
                         "points: no spectra to compare")
    fig, ax = figure(figsize=(6.4, 4.4))
    eigs = np.asarray(m["eigenvalues"])[picks]
    pad = 0.02 * (eigs.max() - eigs.min())
    bins = np.linspace(eigs.min() - pad, eigs.max() + pad, 81)
    for k, colour in zip(picks, ("tab:green", "tab:orange", "tab:red")):
        e = m["eigenvalues"][k]
        ax.hist(e, bins=bins, histtype="step", lw=1.6, color=colour,
                label=f"error {100 * m['error'][k]:.2f}%: index {m['index'][k]:.3f}, "
                      f"|grad| {m['grad_norm'][k]:.1e}, median {np.median(e):.2g}")
    ax.axvline(0, color="k", lw=0.8)
    ax.set_yscale("log")
    wanted = ", ".join(f"{100 * t:g}%" for t in targets)
    ax.set(xlabel="eigenvalue", ylabel="count (log scale)",
           title=f"Spectra at the critical points nearest {wanted} error" + note)
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


def autoencoder(artifacts: dict, settings: dict):
    """Paper Fig. 4: a deep autoencoder trained with momentum SGD until it plateaus, then
    saddle-free Newton from there beside momentum SGD continued. (a) reconstruction error over
    epochs; (b) |most negative Hessian eigenvalue| and |grad| over epochs (log scale)."""
    m = load_npz(artifacts["autoencoder"])
    at = int(m["switch_at"])
    how = (f"plateau: loss fell < {settings['rel_tol']:g} (relative) over {settings['window']} "
           "epochs" if bool(m["plateau_found"]) else "no plateau found: switched at the last "
           "epoch")
    runs = [("msgd", "momentum SGD, continued past the switch", METHOD_STYLE["msgd"][1])]
    runs += [(str(k), METHOD_STYLE[str(k)][0] + " from the switch", METHOD_STYLE[str(k)][1])
             for k in m["methods"]]
    short = {"msgd": "MSGD", "sfn": "SFN (exact)", "sfn_krylov": "SFN (Krylov)"}
    fig, (a_err, a_eig) = figure(1, 2, figsize=(11, 4.4))
    for key, label, colour in runs:
        ep = m[f"{key}_epoch"]
        a_err.plot(ep, m[f"{key}_error"], color=colour, label=label)
        lam = np.asarray(m[f"{key}_lambda_min"], dtype=float)
        neg = np.where(lam < 0, -lam, np.nan)  # a gap where no eigenvalue is negative
        a_eig.semilogy(ep, neg, color=colour, label=f"{short[key]}: |most negative eigenvalue|")
        a_eig.semilogy(ep, m[f"{key}_grad_norm"], color=colour, ls="--",
                       label=f"{short[key]}: |grad|")
    for ax in (a_err, a_eig):
        ax.axvline(at, color="0.5", ls=":", lw=1)
    a_err.set(xlabel="epoch (one Newton step = one full-batch epoch)",
              ylabel="reconstruction error (mean squared)",
              title=f"(a) switch at epoch {at} ({how})")
    a_eig.set(xlabel="epoch", ylabel="magnitude (log scale)",
              title="(b) most negative eigenvalue and gradient norm")
    a_err.legend(fontsize=7)
    a_eig.legend(fontsize=7)
    return fig
