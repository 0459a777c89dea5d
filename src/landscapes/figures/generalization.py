"""Figures of the flatness-against-generalization experiment (Jiang et al. 2020, with Dinh et
al. 2017's rescaling), drawn from the tables of nets (`nets`: one per replicate seed, or
one)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from landscapes.claims.generalization import NAMES, SHARPNESS, rescaling_changes, taus
from landscapes.flatness import MEASURES
from landscapes.plotting import figure
from landscapes.store import load_csv

INVARIANCE_TOLERANCE = 0.01  # the claims' default: marks the measures the rescaling moves


def _tables(paths) -> list[list[dict]]:
    paths = [paths] if isinstance(paths, str) else list(paths)
    out = []
    for p in paths:
        out.append([{k: (v.strip().lower() == "true" if k == "reached_target"
                         else (float(v) if v != "" else np.nan)) for k, v in r.items()}
                    for r in load_csv(p)])
    return out


def tau(artifacts: dict, settings: dict):
    """Kendall's tau of each measure with the gap, overall and granulated (Psi), mean and
    range over seeds; a cross marks a measure that Dinh et al.'s rescaling changes."""
    tables = _tables(artifacts["nets"])
    grid = settings["grid"]
    per_seed = [taus(rows, grid) for rows in tables]
    changed = set()
    for rows in tables:
        change = rescaling_changes(rows)
        changed |= {m for m in MEASURES if change and not change[m] <= INVARIANCE_TOLERANCE}
    order = sorted(MEASURES, key=lambda m: np.mean([t[m]["tau"] for t in per_seed]))
    fig, ax = figure(figsize=(8.5, 4.8))
    y = np.arange(len(order))
    for offset, key, color, label in ((0.18, "tau", "tab:blue", "overall tau"),
                                      (-0.18, "Psi", "tab:orange", "granulated Psi")):
        v = np.array([[t[m][key] for t in per_seed] for m in order])
        mean = v.mean(1)
        ax.barh(y + offset, mean, height=0.34, color=color, label=label)
        if v.shape[1] > 1:
            ax.errorbar(mean, y + offset, xerr=[mean - v.min(1), v.max(1) - mean], fmt="none",
                        ecolor="k", capsize=2, lw=0.8)
    labels = [f"{NAMES[m]}{' (x)' if m in changed else ''}" for m in order]
    ax.set_yticks(y, labels)
    for tick, m in zip(ax.get_yticklabels(), order):
        tick.set_fontweight("bold" if m in SHARPNESS else "normal")
    ax.axvline(0, color="k", lw=0.8)
    ax.set_xlim(-1, 1)
    n = sum(r["reached_target"] for r in tables[0])
    ax.set(xlabel="Kendall's rank correlation with the generalization gap",
           title=f"Which measure ranks the nets by their gap ({n} of {len(tables[0])} nets at "
                 f"the target, {len(tables)} seed{'s' if len(tables) > 1 else ''}; "
                 f"(x): changed by a rescaling)")
    ax.legend(loc="lower right")
    return fig


def measures_vs_gap(artifacts: dict, settings: dict):
    """Each measure against the gap, one point per net that reached the target (first seed):
    colour the learning rate, shape the batch size, hollow the nets with dropout."""
    from matplotlib.ticker import NullFormatter

    rows = [r for r in _tables(artifacts["nets"])[0] if r["reached_target"]]
    fig, axes = figure(2, 4, figsize=(14, 6.6), squeeze=False)
    lrs = sorted({r["learning_rate"] for r in rows})
    bs = sorted({r["batch_size"] for r in rows})
    colors = plt.get_cmap("viridis")(np.linspace(0.0, 0.85, len(lrs)))
    markers = "os^vD"
    for ax, m in zip(axes.flat, MEASURES):
        for r in rows:
            i, j = lrs.index(r["learning_rate"]), bs.index(r["batch_size"])
            dropped = r.get("dropout", 0.0) > 0
            ax.scatter(r[m], r["gap"], s=16, marker=markers[j % len(markers)],
                       facecolors="none" if dropped else colors[i], edgecolors=colors[i],
                       alpha=0.85)
        values = [r[m] for r in rows if np.isfinite(r[m])]  # 1/margin^2 is inf for a net that
        # misclassifies more than the quantile's share of its training set
        if not values:
            ax.text(0.5, 0.5, "no finite value at the target", transform=ax.transAxes,
                    ha="center")
        elif min(values) > 0:
            ax.set_xscale("log")
            if max(values) > 10 * min(values):  # labelled decades: minor labels would collide
                ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set(xlabel=NAMES[m], ylabel="gap (train - test accuracy)")
    handles = [plt.Line2D([], [], ls="", marker="o", color=c, label=f"eta {lr:g}")
               for lr, c in zip(lrs, colors)]
    handles += [plt.Line2D([], [], ls="", marker=markers[j % len(markers)], color="0.4",
                           label=f"B {b:g}") for j, b in enumerate(bs)]
    handles.append(plt.Line2D([], [], ls="", marker="o", mfc="none", color="0.4",
                              label="dropout > 0"))
    fig.legend(handles=handles, loc="outside right center", fontsize=8)
    fig.suptitle("Flatness measures against the generalization gap (first seed; nets at the "
                 "target training loss)")
    return fig
