"""Figures of the minima experiment (Choromanska et al. 2015): each draws from gathered tables.

`nets` is the table of trained nets (size, seed, train_loss, test_loss, ..., epochs,
converged, grad_norm), `glass` the table of spin-glass descents (n, start, energy, grad_norm,
steps, converged). The distributions drawn are those of the minima, the rows that met their
convergence rule; the figures say how many did.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from landscapes.claims.minima import flag
from landscapes.plotting import figure
from landscapes.spinglass import GROUND_STATE, THRESHOLD
from landscapes.store import load_csv


def _colors(n: int):
    return plt.get_cmap("viridis")(np.linspace(0.0, 0.85, n))


def _groups(rows: list[dict], group: str, *fields: str) -> dict[int, dict[str, np.ndarray]]:
    """Converged rows by size: {size: {field: array, "total": rows of that size}}."""
    out = {}
    for k in sorted({int(r[group]) for r in rows}):
        of_k = [r for r in rows if int(r[group]) == k]
        kept = [r for r in of_k if flag(r.get("converged", True))]
        out[k] = {f: np.array([float(r[f]) for r in kept]) for f in fields}
        out[k]["total"] = len(of_k)
    return out


def _converged_text(g: dict, field: str) -> str:
    kept = sum(len(v[field]) for v in g.values())
    total = sum(v["total"] for v in g.values())
    return f"{kept} of {total} converged" if kept < total else f"all {total} converged"


def _histograms(ax, groups: dict[int, np.ndarray], label: str, bins: int = 40):
    """Overlaid density histograms on one shared set of bins, one colour per group."""
    values = np.concatenate([v for v in groups.values() if len(v)] or [np.zeros(0)])
    if not len(values):
        ax.text(0.5, 0.5, "no run converged", transform=ax.transAxes, ha="center")
        return
    edges = np.linspace(values.min(), values.max(), bins + 1)
    for (k, v), c in zip(groups.items(), _colors(len(groups))):
        if not len(v):
            continue
        ax.hist(v, bins=edges, density=True, histtype="stepfilled", alpha=0.25, color=c)
        ax.hist(v, bins=edges, density=True, histtype="step", lw=1.4, color=c,
                label=f"{label} = {k}: mean {v.mean():.4g}, std {v.std(ddof=1):.2g}")
    ax.set_ylabel("density")


def test_loss(artifacts: dict, settings: dict):
    """Paper Fig. 2 (right): test loss of the minima SGD found, one histogram per hidden size."""
    g = _groups(load_csv(artifacts["nets"]), "size", "test_loss", "train_loss")
    fig, axes = figure(2, 1, figsize=(7.5, 6.8), sharex=True,
                       gridspec_kw={"height_ratios": [2, 1.2]})
    _histograms(axes[0], {k: v["test_loss"] for k, v in g.items()}, "hidden units")
    if axes[0].get_legend_handles_labels()[0]:
        axes[0].legend(loc="upper right")
    tol = settings.get("grad_tol")
    rule = f"|grad| < {tol:g}" if tol else "the convergence rule"
    train = np.concatenate([v["train_loss"] for v in g.values()] or [np.zeros(0)])
    span = (f"final training loss {train.min():.2e} to {train.max():.2e}" if len(train)
            else "no final training loss to show")
    axes[0].set_title(f"Test loss at the minima of one-hidden-layer ReLU nets "
                      f"({_converged_text(g, 'test_loss')}: {rule});\n{span}")
    # The same runs as strips, one row per size, so narrow distributions stay visible.
    for i, ((k, v), c) in enumerate(zip(g.items(), _colors(len(g)))):
        jitter = np.random.default_rng(k).uniform(-0.25, 0.25, len(v["test_loss"]))
        axes[1].plot(v["test_loss"], i + jitter, "o", ms=2.0, alpha=0.45, color=c)
    axes[1].set_yticks(range(len(g)), [str(k) for k in g])
    axes[1].set(ylabel="hidden units", xlabel="test loss (cross-entropy) at the minimum")
    return fig


def test_vs_train(artifacts: dict, settings: dict):
    """Test vs final training loss of every minimum, one panel per hidden size, with
    Pearson's r and the spread of the training losses."""
    g = _groups(load_csv(artifacts["nets"]), "size", "train_loss", "test_loss")
    fig, axes = figure(1, len(g), figsize=(3.1 * len(g), 3.6), squeeze=False)
    for ax, (k, v), c in zip(axes[0], g.items(), _colors(len(g))):
        tr, te = v["train_loss"], v["test_loss"]
        ax.plot(tr, te, "o", ms=2.5, alpha=0.5, color=c)
        if len(tr) > 1:
            r = np.corrcoef(tr, te)[0, 1]
            ax.set_title(f"{k} hidden units, r = {r:.2f}\n"
                         f"train loss {tr.min():.2g} to {tr.max():.2g}")
        else:
            ax.set_title(f"{k} hidden units\n{len(tr)} of {v['total']} converged")
        ax.set_xlabel("final training loss")
        ax.locator_params(nbins=4)
        ax.ticklabel_format(axis="x", style="sci", scilimits=(-2, 2))
    axes[0][0].set_ylabel("test loss")
    tol = settings.get("grad_tol")
    rule = f" (|grad| < {tol:g})" if tol else ""
    fig.suptitle(f"Test vs training loss at the minima{rule}, "
                 f"{_converged_text(g, 'test_loss')}; Pearson r per size")
    return fig


def spinglass(artifacts: dict, settings: dict):
    """Paper Fig. 2 (left): H/N at the minima projected descent found, one histogram per N."""
    g = _groups(load_csv(artifacts["glass"]), "n", "energy")
    fig, ax = figure(figsize=(7.5, 4.8))
    _histograms(ax, {k: v["energy"] for k, v in g.items()}, "N")
    ax.axvspan(GROUND_STATE, THRESHOLD, color="0.85", zorder=0,
               label="band: ground state -1.657 to threshold -1.633")
    ax.axvline(GROUND_STATE, color="k", ls="-", lw=1)
    ax.axvline(THRESHOLD, color="k", ls="--", lw=1)
    lo, hi = ax.get_xlim()
    ax.set_xlim(min(lo, GROUND_STATE - 0.02), hi)  # keep both reference lines off the frame
    ax.legend(loc="upper right")
    tol = settings.get("tol")
    rule = f"|grad| < {tol:g}" if tol else "converged"
    ax.set(xlabel="H / N at the minimum", title="Spherical 3-spin glass, projected gradient "
           f"descent: {_converged_text(g, 'energy')} ({rule})")
    return fig
