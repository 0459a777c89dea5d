"""Figures of the minima experiment (Choromanska et al. 2015): each draws from gathered tables.

`nets` is the table of trained nets (size, seed, train_loss, test_loss, ...), `glass` the table
of spin-glass descents (n, start, energy, ...), both as lists of rows from their CSV files.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from landscapes.plotting import figure
from landscapes.spinglass import GROUND_STATE, THRESHOLD
from landscapes.store import columns, load_csv


def _colors(n: int):
    return plt.get_cmap("viridis")(np.linspace(0.0, 0.85, n))


def _histograms(ax, groups: dict[int, np.ndarray], label: str, bins: int = 40):
    """Overlaid density histograms on one shared set of bins, one colour per group."""
    values = np.concatenate(list(groups.values()))
    edges = np.linspace(values.min(), values.max(), bins + 1)
    for (k, v), c in zip(groups.items(), _colors(len(groups))):
        ax.hist(v, bins=edges, density=True, histtype="stepfilled", alpha=0.25, color=c)
        ax.hist(v, bins=edges, density=True, histtype="step", lw=1.4, color=c,
                label=f"{label} = {k}: mean {v.mean():.3f}, std {v.std(ddof=1):.3f}")
    ax.set_ylabel("density")


def test_loss(artifacts: dict, settings: dict):
    """Paper Fig. 2 (right): test loss of the minima SGD found, one histogram per hidden size."""
    nets = load_csv(artifacts["nets"])
    g = columns(nets, "size", "test_loss")
    fig, axes = figure(2, 1, figsize=(7, 6.5), sharex=True,
                       gridspec_kw={"height_ratios": [2, 1.2]})
    _histograms(axes[0], {k: v["test_loss"] for k, v in g.items()}, "hidden units")
    axes[0].legend(loc="upper right")
    axes[0].set_title(f"Test loss of SGD minima, one-hidden-layer ReLU nets "
                      f"({len(next(iter(g.values()))['test_loss'])} runs per size)")
    # The same runs as strips, one row per size, so narrow distributions stay visible.
    for i, ((k, v), c) in enumerate(zip(g.items(), _colors(len(g)))):
        jitter = np.random.default_rng(k).uniform(-0.25, 0.25, len(v["test_loss"]))
        axes[1].plot(v["test_loss"], i + jitter, "o", ms=2.5, alpha=0.5, color=c)
    axes[1].set_yticks(range(len(g)), [str(k) for k in g])
    axes[1].set(ylabel="hidden units", xlabel="test loss (cross-entropy)")
    return fig


def test_vs_train(artifacts: dict, settings: dict):
    """Test vs train loss of every minimum, one panel per hidden size, with Pearson's r."""
    nets = load_csv(artifacts["nets"])
    g = columns(nets, "size", "train_loss", "test_loss")
    fig, axes = figure(1, len(g), figsize=(3.0 * len(g), 3.3), squeeze=False)
    for ax, (k, v), c in zip(axes[0], g.items(), _colors(len(g))):
        r = np.corrcoef(v["train_loss"], v["test_loss"])[0, 1]
        ax.plot(v["train_loss"], v["test_loss"], "o", ms=3, alpha=0.6, color=c)
        ax.set_title(f"{k} hidden units\nPearson r = {r:.2f}")
        ax.set_xlabel("train loss")
        ax.locator_params(nbins=4)
    axes[0][0].set_ylabel("test loss")
    fig.suptitle("Test vs train loss of SGD minima: the correlation falls as nets grow")
    fig.tight_layout()
    return fig


def spinglass(artifacts: dict, settings: dict):
    """Paper Fig. 2 (left): H/N at the minima projected descent found, one histogram per N."""
    glass = load_csv(artifacts["glass"])
    g = columns(glass, "n", "energy")
    fig, ax = figure(figsize=(7, 4.5))
    _histograms(ax, {k: v["energy"] for k, v in g.items()}, "N")
    ax.axvline(GROUND_STATE, color="k", ls="-", lw=1, label="ground state ~ -1.657")
    ax.axvline(THRESHOLD, color="k", ls="--", lw=1, label="threshold -2 sqrt(2/3) ~ -1.633")
    lo, hi = ax.get_xlim()
    ax.set_xlim(min(lo, GROUND_STATE - 0.02), hi)  # keep both reference lines off the frame
    ax.legend(loc="upper right")
    ax.set(xlabel="H / N at the minimum", title="Spherical 3-spin glass: minima found by "
           f"projected gradient descent ({len(next(iter(g.values()))['energy'])} starts per N)")
    return fig
