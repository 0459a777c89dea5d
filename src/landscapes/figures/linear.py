"""Figures of the deep linear network example; each takes the measurements' arrays."""

from __future__ import annotations

import numpy as np

from landscapes.plotting import figure
from landscapes.store import load_npz


def convexity(artifacts: dict, settings: dict):
    """(a) Convex in the effective weights (a, b), non-convex in the weights of the chain."""
    m = load_npz(artifacts["surfaces"])
    fig = figure(figsize=(11, 5))[0]
    fig.clear()
    axis = m["axis"]
    X, Y = np.meshgrid(axis, axis, indexing="xy")
    s = float(m["target"])
    panels = [
        (m["bowl"], "a = w11 v11 + w21 v12 + w31 v13", "b = w12 v11 + w22 v12 + w32 v13",
         "2-3-1 linear net over its effective weights:\na convex bowl"),
        (m["chain"], "w1", "w2",
         f"1-1-1 chain L = 1/2 (s - w2 w1)^2, s = {s:g}:\nsaddle at 0, minima on w1 w2 = s"),
    ]
    for i, (z, xlabel, ylabel, title) in enumerate(panels):
        ax = fig.add_subplot(1, 2, i + 1, projection="3d")
        ax.plot_surface(X, Y, z, cmap="viridis", rstride=1, cstride=1, linewidth=0,
                        antialiased=True, alpha=0.9)
        ax.contour(X, Y, z, levels=15, zdir="z", offset=z.min(), cmap="viridis", linewidths=0.6)
        ax.set_xlabel(xlabel, fontsize=8)
        ax.set_ylabel(ylabel, fontsize=8)
        ax.set_zlabel("training loss")
        ax.set_title(title)
        ax.view_init(elev=28, azim=-60)
    ax = fig.axes[1]
    w = np.linspace(abs(s) / axis.max(), axis.max(), 100)
    for sign in (1, -1):
        ax.plot(sign * w, s / (sign * w), np.zeros_like(w), "r-", lw=2)
    ax.plot([0], [0], [0.5 * s**2], "wo", mec="k", ms=7, zorder=10)
    return fig


def activations(artifacts: dict, settings: dict):
    """(b) Two first-layer weights of a fitted 2-3-1 net: linear vs sigmoid activations."""
    m = load_npz(artifacts["surfaces"])
    fig, axes = figure(1, 2, figsize=(10, 4.6))
    axis = m["axis"]
    for ax, act in zip(axes, ("linear", "sigmoid")):
        c = m[f"center_{act}"]
        X, Y = np.meshgrid(c[0] + axis, c[1] + axis, indexing="xy")
        z = m[f"slice_{act}"]
        cs = ax.contourf(X, Y, z, levels=30, cmap="viridis")
        ax.contour(X, Y, z, levels=15, colors="white", linewidths=0.4)
        ax.plot(*c, "r*", ms=10, label="fitted net")
        ax.set(title=f"{act} activations: loss over (w11, w21)", xlabel="w11 (hidden unit 1)",
               ylabel="w21 (hidden unit 2)", aspect="equal")
        ax.legend(loc="lower left")
        fig.colorbar(cs, ax=ax, label="training loss")
    fig.suptitle("Slices through weight space: convex with linear units, not with sigmoids")
    return fig


def permutation(artifacts: dict, settings: dict):
    """(c) Loss along the straight line from a trained net to its hidden-unit permutation."""
    m = load_npz(artifacts["permutation"])
    fig, ax = figure(figsize=(6, 4))
    ax.plot(m["alphas"], m["loss"], "o-", ms=3, label="training loss")
    ax.axhline(float(m["loss_original"]), color="gray", ls="--", lw=0.8)
    ax.set(xlabel="alpha: (1 - alpha) theta + alpha P(theta)", ylabel="training loss",
           title="Permutation symmetry: equal loss at both ends, a barrier between")
    ax2 = ax.twinx()
    ax2.plot(m["alphas"], m["accuracy"], "s--", ms=3, color="C1", label="training accuracy")
    ax2.set_ylabel("training accuracy")
    ax2.spines["right"].set_visible(True)
    lines = ax.get_lines()[:1] + ax2.get_lines()
    ax.legend(lines, [line.get_label() for line in lines], loc="upper right")
    return fig


def saddle(artifacts: dict, settings: dict):
    """(d) Hessian spectrum at the origin, and learning from small weights."""
    m = load_npz(artifacts["saddle"])
    fig, axes = figure(1, 3, figsize=(15, 4.4))
    ax = axes[0]
    eig2, eig3 = m["eig_depth2"], m["eig_depth3"]
    ax.plot(np.arange(eig2.size), eig2, "o", ms=4, label="depth 2: eigenvalues of H(0)")
    ax.plot(np.arange(eig3.size), eig3, "x", ms=4, color="C2", label="depth 3: all zero")
    for s in m["sigma"]:
        ax.axhline(s, color="gray", lw=0.5, ls=":")
        ax.axhline(-s, color="gray", lw=0.5, ls=":")
    ax.plot([], [], color="gray", ls=":", label="+/- sigma_i of Sigma_yx")
    ax.set(xlabel="eigenvalue index", ylabel="eigenvalue",
           title="Hessian at W = 0: a saddle (depth 2), flat (depth 3)")
    ax.legend(fontsize=7)
    ax = axes[1]
    steps, opt = m["steps"], float(m["optimal_loss"])
    for i, losses in enumerate(m["losses"]):
        ax.plot(steps, losses - opt + 1e-16, color="C0", alpha=0.35, lw=0.8,
                label=f"{len(m['losses'])} small initializations" if i == 0 else None)
    ax.set(yscale="log", xlabel="gradient-descent step", ylabel="loss - optimal loss",
           title="Plateaus, then sharp drops")
    ax.legend()
    ax = axes[2]
    strengths = m["strengths"][0]
    for i, s in enumerate(m["sigma"][: int(m["n_modes"])]):
        ax.plot(steps, strengths[:, i], color=f"C{i}", label=f"mode {i + 1}")
        ax.axhline(s, color=f"C{i}", ls=":", lw=0.8)
    ax.set(xlabel="gradient-descent step", ylabel="u_i^T W2 W1 v_i",
           title="Modes learned in order of decreasing sigma_i")
    ax.legend()
    return fig
