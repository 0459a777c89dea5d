"""Figures of the eta/B experiment (Jastrzebski et al. 2017), drawn from the tables of runs
(`runs`: one table per replicate seed, or one)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from landscapes.claims.noise_scale import SHARPNESS
from landscapes.plotting import figure
from landscapes.store import load_csv


def _tables(paths) -> list[list[dict]]:
    paths = [paths] if isinstance(paths, str) else list(paths)
    return [[{k: float(v) for k, v in r.items() if k != "reached_target"} for r in load_csv(p)]
            for p in paths]


def _grid(tables, field):
    """(learning rates, batch sizes, values of shape (seeds, lr, B))."""
    lrs = sorted({r["learning_rate"] for r in tables[0]})
    bs = sorted({r["batch_size"] for r in tables[0]})
    v = np.full((len(tables), len(lrs), len(bs)), np.nan)
    for s, rows in enumerate(tables):
        for r in rows:
            v[s, lrs.index(r["learning_rate"]), bs.index(r["batch_size"])] = r[field]
    return lrs, bs, v


def sharpness_vs_ratio(artifacts: dict, settings: dict):
    """Sharpness (top Hessian eigenvalue, Keskar's) and test accuracy against eta/B, one curve
    per batch size, mean and std over seeds: curves of equal eta/B fall on one line."""
    tables = _tables(artifacts["runs"])
    fields = [*SHARPNESS, "test_acc", "train_loss"]
    labels = {"lambda_max": "top Hessian eigenvalue", "keskar": "Keskar's sharpness (eps 1e-3)",
              "test_acc": "test accuracy", "train_loss": "final training loss"}
    fig, axes = figure(1, len(fields), figsize=(4.0 * len(fields), 3.8), squeeze=False)
    colors = plt.get_cmap("viridis")(np.linspace(0.0, 0.85, len({r["batch_size"]
                                                                for r in tables[0]})))
    for ax, field in zip(axes[0], fields):
        lrs, bs, v = _grid(tables, field)
        for j, (b, c) in enumerate(zip(bs, colors)):
            ratio = np.array(lrs) / b
            mean, std = v[:, :, j].mean(0), v[:, :, j].std(0)
            ax.errorbar(ratio, mean, yerr=std, fmt="o-", ms=4, color=c, capsize=2,
                        label=f"B = {b:g}")
        ax.set_xscale("log")
        if field != "test_acc":
            ax.set_yscale("log")
        ax.set(xlabel="eta / B", ylabel=labels[field])
    axes[0][0].legend()
    n = len(tables)
    fig.suptitle(f"Runs of equal eta/B end alike, and a larger eta/B ends flatter "
                 f"(plain SGD, the same epochs; mean and std over {n} seed{'s' if n > 1 else ''})")
    return fig


def heatmap(artifacts: dict, settings: dict):
    """log10 of the top Hessian eigenvalue, and the test accuracy, over the (eta, B) grid:
    equal eta/B runs along the diagonals."""
    tables = _tables(artifacts["runs"])
    fig, axes = figure(1, 2, figsize=(9.5, 4.0))
    for ax, field, label in ((axes[0], "lambda_max", "log10 top Hessian eigenvalue"),
                             (axes[1], "test_acc", "test accuracy")):
        lrs, bs, v = _grid(tables, field)
        z = np.log10(v[0]) if field == "lambda_max" else v[0]
        im = ax.imshow(z, origin="lower", cmap="magma" if field == "lambda_max" else "viridis",
                       aspect="auto")
        for i in range(len(lrs)):
            for j in range(len(bs)):
                ax.text(j, i, f"{z[i, j]:.2f}", ha="center", va="center", fontsize=8,
                        color="white" if z[i, j] < np.nanmean(z) else "black")
        ax.set_xticks(range(len(bs)), [f"{b:g}" for b in bs])
        ax.set_yticks(range(len(lrs)), [f"{lr:g}" for lr in lrs])
        ax.set(xlabel="batch size B", ylabel="learning rate eta", title=label)
        fig.colorbar(im, ax=ax, shrink=0.85)
    fig.suptitle("The (eta, B) grid, first seed: equal eta/B lies on the diagonals")
    return fig
