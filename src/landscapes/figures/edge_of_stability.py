"""Figures of the edge-of-stability experiment (Cohen et al. 2021), drawn from the GD tables
(`runs_<architecture>`: one table per replicate seed, or one), one column per architecture."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from landscapes.claims.edge_of_stability import load_runs
from landscapes.plotting import figure


def _archs(artifacts) -> list[str]:
    return [k.removeprefix("runs_") for k in artifacts if k.startswith("runs_")]


def _paths(value) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _colors(n):
    return plt.get_cmap("viridis")(np.linspace(0.0, 0.85, n))


def _label(settings, arch):
    return settings.get("labels", {}).get(arch, arch)


def loss_and_sharpness(artifacts: dict, settings: dict):
    """The paper's Fig. 1: the training loss (top) and the sharpness (bottom) against the GD
    step, one colour per step size, dashed lines at 2/eta; one column per architecture."""
    archs = _archs(artifacts)
    fig, axes = figure(2, len(archs), figsize=(4.6 * len(archs), 6.4), squeeze=False,
                       sharex="col")
    for j, arch in enumerate(archs):
        runs = load_runs(_paths(artifacts[f"runs_{arch}"])[0])
        for (edge, run), c in zip(runs.items(), _colors(len(runs))):
            axes[0][j].plot(np.arange(len(run["loss"])), run["loss"], color=c, lw=0.9,
                            label=f"eta = 2/{edge:g}")
            axes[1][j].plot(run["steps"], run["sharpness"], color=c, lw=1.2)
            axes[1][j].axhline(edge, color=c, ls="--", lw=1.0)
        axes[0][j].set(title=_label(settings, arch), ylabel="train loss")
        axes[1][j].set(xlabel="GD step", ylabel="sharpness (top Hessian eigenvalue)")
        axes[0][j].legend()
    fig.suptitle("Full-batch GD at three step sizes per network (first seed): the training "
                 "loss, and the sharpness against 2/eta (dashed)")
    return fig


def sharpness_over_seeds(artifacts: dict, settings: dict):
    """The sharpness in units of 2/eta against the step, every run at every seed (one colour
    per step size, one line per seed), with the band the claims read shaded."""
    archs = _archs(artifacts)
    band = settings.get("band")
    fig, axes = figure(1, len(archs), figsize=(4.6 * len(archs), 3.6), squeeze=False)
    for j, arch in enumerate(archs):
        ax = axes[0][j]
        paths = _paths(artifacts[f"runs_{arch}"])
        for path in paths:
            runs = load_runs(path)
            for (edge, run), c in zip(runs.items(), _colors(len(runs))):
                ax.plot(run["steps"], run["sharpness"] / edge, color=c, lw=0.9, alpha=0.8,
                        label=f"eta = 2/{edge:g}" if path == paths[0] else None)
        ax.axhline(1.0, color="k", ls="--", lw=1.0)
        if band:
            ax.axhspan(1 - band, 1 + band, color="0.85", zorder=0)
        ax.set(title=f"{_label(settings, arch)}, {len(paths)} seed{'s' if len(paths) > 1 else ''}",
               xlabel="GD step", ylabel="sharpness / (2/eta)")
        ax.legend()
    fig.suptitle("Sharpness over 2/eta, every step size and seed (shaded: the band the claim "
                 "that it stays at the edge reads)")
    return fig
