"""Figures of the straight line from initialization to solution (Goodfellow et al. 2015),
drawn from each net's walks (`line_<net>`: one per replicate seed)."""

from __future__ import annotations

import matplotlib.colors as mcolors
import numpy as np

from landscapes.plotting import figure
from landscapes.store import load_npz


def _walks(artifacts) -> dict[str, list[dict]]:
    return {k.removeprefix("line_"): [load_npz(p) for p in ([v] if isinstance(v, str) else v)]
            for k, v in artifacts.items() if k.startswith("line_")}


def line(artifacts: dict, settings: dict):
    """Training and test loss (top) and error (bottom) along theta(a) = (1 - a) theta_init +
    a theta_final, one column per net, one line per seed: the paper's interpolation plots."""
    walks = _walks(artifacts)
    fig, axes = figure(2, len(walks), figsize=(5.0 * len(walks), 6.5), squeeze=False,
                       sharex=True)
    for col, (net, runs) in enumerate(walks.items()):
        top, bottom = axes[0][col], axes[1][col]
        for s, w in enumerate(runs):
            lab = s == 0
            top.plot(w["alphas"], w["train_loss"], color="C0", lw=1.3,
                     label="train" if lab else None)
            top.plot(w["alphas"], w["test_loss"], color="C3", lw=1.0, ls="--",
                     label="test" if lab else None)
            bottom.plot(w["alphas"], w["train_error"], color="C0", lw=1.3)
            bottom.plot(w["alphas"], w["test_error"], color="C3", lw=1.0, ls="--")
        for ax in (top, bottom):
            for x in (0.0, 1.0):
                ax.axvline(x, color="0.6", lw=0.7, ls=":")
        top.set_yscale("log")
        # past the solution the training loss of a separable fit falls below float32's reach
        top.set_ylim(bottom=max(top.get_ylim()[0], 1e-8))
        top.set(title=f"{net} ({len(runs)} seed{'s' if len(runs) > 1 else ''})",
                ylabel="cross-entropy")
        bottom.set(xlabel="a  (0: initialization, 1: solution)", ylabel="classification error",
                   ylim=(-0.02, 1.0))
        top.legend()
    fig.suptitle("The straight line from initialization to solution: the training loss falls "
                 "all the way")
    return fig


def path(artifacts: dict, settings: dict):
    """Top: the first seed's training loss over the plane through the initialization, the
    solution and the path's farthest point, with the line and the path projected on it.
    Bottom: each seed's path as progress along the line against distance from it, the
    paper's two coordinates for its projection of the path."""
    walks = _walks(artifacts)
    fig, axes = figure(2, len(walks), figsize=(5.2 * len(walks), 7.5), squeeze=False)
    for col, (net, runs) in enumerate(walks.items()):
        top, bottom = axes[0][col], axes[1][col]
        w = runs[0]
        z = np.log10(np.clip(w["plane_loss"], 1e-6, None))
        levels = np.linspace(np.nanmin(z), min(np.nanmax(z), np.log10(50.0)), 25)
        cs = top.contourf(w["plane_a"], w["plane_b"], z.T, levels=levels, cmap="viridis",
                          extend="max")
        fig.colorbar(cs, ax=top, label="log10 training loss")
        p = w["plane_path"]
        top.plot([0, 1], [0, 0], color="white", lw=1.2, ls="--", label="the line")
        top.plot(p[:, 0], p[:, 1], "o-", color="tab:red", ms=2.5, lw=1.0, label="training path")
        top.plot([0, 1], [0, 0], "k*", ms=10)
        top.set(title=f"{net}: the plane of its path (first replicate)", xlabel="along the line",
                ylabel="across (line lengths)")
        top.legend(loc="upper right", fontsize=8)
        norm = mcolors.Normalize(0, max(len(r["progress"]) for r in runs) - 1)
        for s, r in enumerate(runs):
            bottom.plot(r["progress"], r["distance"], "-", color=f"C{s}", lw=1.0,
                        label=f"replicate {s + 1}")
            bottom.scatter(r["progress"], r["distance"], c=np.arange(len(r["progress"])),
                           cmap="plasma", norm=norm, s=9, zorder=3)
        bottom.set(xlabel="progress along the line (projection, line lengths)",
                   ylabel="distance from the line (line lengths)",
                   title="the path, epoch by epoch (colour: epoch)")
        bottom.legend(fontsize=8)
    fig.suptitle("How the training path departs from the straight line")
    return fig
