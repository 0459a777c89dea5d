"""Figures of the saddle-point experiment (Dauphin et al. 2014); each takes the artifacts
(`critical_points`, `optimizers`, `autoencoder`: npz paths) and the search's cutoffs or the
plateau rule as settings."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import cm, colors

from landscapes.critical import accepted, gradient_flat, pool_end_points, spectrum_picks
from landscapes.plotting import figure
from landscapes.store import load_npz

METHOD_STYLE = {  # key in optimizers.npz -> (label, colour)
    "msgd": ("momentum SGD", "tab:blue"),
    "newton": ("damped Newton", "tab:orange"),
    "sfn": ("saddle-free Newton (exact)", "tab:green"),
    "sfn_krylov": ("saddle-free Newton (Krylov)", "tab:olive"),
}


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
    ax.set(xlabel=f"index of critical point (fraction of eigenvalues < -{index_tol:g})",
           ylabel="train error (%)",
           title=f"{len(err)} search end points from {n_seeds} training seeds")
    ax.set_xlim(left=-0.005)
    ax.set_ylim(bottom=-1)
    ax.legend(loc="lower right", fontsize=7)
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
    lim = np.abs(eigs).max()
    bins = np.linspace(-lim, lim, 81)
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
    """Paper Fig. 3: training error, most negative eigenvalue and gradient norm over epochs for
    momentum SGD, damped Newton and saddle-free Newton."""
    m = load_npz(artifacts["optimizers"])
    fig, axes = figure(1, 3, figsize=(15, 4.2))
    a_err, a_lam, a_grad = axes
    for key, (label, colour) in METHOD_STYLE.items():
        ep = m[f"{key}_epoch"]
        a_err.plot(ep, 100 * m[f"{key}_error"], color=colour, label=label)
        a_lam.plot(ep, m[f"{key}_lambda_min"], color=colour, label=label)
        a_grad.semilogy(ep, m[f"{key}_grad_norm"], color=colour, label=label)
    a_err.set(xlabel="epoch (one Newton step = one epoch)", ylabel="training error (%)",
              title="Training error")
    a_lam.axhline(0, color="k", lw=0.8)
    a_lam.set(xlabel="epoch", ylabel="most negative eigenvalue", title="Most negative eigenvalue")
    a_grad.set(xlabel="epoch", ylabel="|grad| (log scale)", title="Gradient norm")
    a_err.legend(fontsize=7)
    fig.tight_layout()
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
