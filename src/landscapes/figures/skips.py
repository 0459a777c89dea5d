"""Figures of Li et al. 2018 from stored surfaces, maps and directions (never measures).

Each function takes the artifacts, a mapping `<kind>_<model>` -> path (`names.artifact`; kinds
surface, slice, hessian, pca, directions; models `names.ResNetId`), and settings with the
depths.
"""

from __future__ import annotations

import numpy as np

from landscapes.names import ResNetId, artifact
from landscapes.plotting import figure
from landscapes.store import load_tensors
from landscapes.surface import Surface

LEVELS = np.arange(0.1, 10, 0.5)  # the paper's contour levels: vmin 0.1, vmax 10, step 0.5
VMAX = 10.0


def _rows(depths):
    """Models laid out as the paper: shortcuts on the top row, none below, depth across."""
    return [[ResNetId(d, shortcuts) for d in depths] for shortcuts in (True, False)]


def _mesh(s: Surface):
    return np.meshgrid(s.grid.values[0], s.grid.values[1], indexing="ij")


def _panels(depths, **kw):
    rows = _rows(depths)
    fig, axes = figure(2, len(depths), figsize=(3.2 * len(depths), 6.2), squeeze=False,
                       **kw)
    return fig, axes, rows


def contours(artifacts: dict, settings: dict):
    """2D contours of the training loss along two filter-normalized directions (Fig. 5)."""
    fig, axes, rows = _panels(settings["depths"])
    for r, row in enumerate(rows):
        for c, model in enumerate(row):
            s = Surface.load(artifacts[artifact("surface", model)])
            a, b = _mesh(s)
            ax = axes[r, c]
            cs = ax.contour(a, b, s.metrics["train_loss"], levels=LEVELS, cmap="summer")
            ax.clabel(cs, cs.levels[::2], fontsize=6, fmt="%.1f")
            ax.plot(0, 0, "k+", ms=6)
            ax.set_title(model.label)
            ax.set_aspect("equal")
            ax.set_xlabel(s.grid.names[0])
            ax.set_ylabel(s.grid.names[1])
    fig.suptitle("Training loss around the minimizer (filter-normalized directions)")
    return fig


def surface3d(artifacts: dict, settings: dict):
    """The deepest pair as 3D surfaces, with and without shortcuts (Fig. 1)."""
    deepest = max(settings["depths"])
    fig, axes = figure(1, 2, figsize=(10, 4.6), subplot_kw={"projection": "3d"})
    for ax, model in zip(axes, (ResNetId(deepest, False), ResNetId(deepest, True))):
        s = Surface.load(artifacts[artifact("surface", model)])
        a, b = _mesh(s)
        z = np.minimum(s.metrics["train_loss"], VMAX)
        ax.plot_surface(a, b, z, cmap="viridis", vmin=0, vmax=VMAX, rstride=1, cstride=1,
                        linewidth=0.2, edgecolor="k", antialiased=True)
        ax.set_zlim(0, VMAX)
        ax.set_title(model.label + (" (with shortcuts)" if model.shortcuts
                                    else " (without shortcuts)"))
        ax.set_xlabel(s.grid.names[0])
        ax.set_ylabel(s.grid.names[1])
        ax.set_zlabel(f"train loss (clipped at {VMAX:g})")
        ax.view_init(elev=35, azim=-60)
    return fig


def slices(artifacts: dict, settings: dict):
    """1D filter-normalized slices: loss (top) and accuracy (bottom), train solid, test dashed."""
    depths = settings["depths"]
    fig, axes = figure(2, len(depths), figsize=(3.4 * len(depths), 5.6), squeeze=False,
                       sharex=True)
    colors = {True: "C0", False: "C3"}
    names = {True: "shortcuts", False: "no shortcuts"}
    for c, depth in enumerate(depths):
        for shortcuts, color in colors.items():
            s = Surface.load(artifacts[artifact("slice", ResNetId(depth, shortcuts))])
            a, m = s.grid.values[0], s.metrics
            name = names[shortcuts]
            axes[0, c].plot(a, m["train_loss"], "-", color=color, label=f"{name}, train")
            axes[0, c].plot(a, m["test_loss"], "--", color=color, label=f"{name}, test")
            axes[1, c].plot(a, 100 * m["train_acc"], "-", color=color)
            axes[1, c].plot(a, 100 * m["test_acc"], "--", color=color)
        axes[0, c].set_title(f"ResNet-{depth}")
        axes[0, c].set_yscale("log")
        axes[1, c].set_xlabel("alpha (filter-normalized)")
        axes[1, c].set_ylim(0, 100)
    axes[0, 0].set_ylabel("loss")
    axes[1, 0].set_ylabel("accuracy (%)")
    axes[0, 0].legend(loc="upper center")
    return fig


def nonconvexity_ratio(h: Surface) -> np.ndarray:
    """|lambda_min / lambda_max| of a Hessian map."""
    return np.abs(h.metrics["lambda_min"] / h.metrics["lambda_max"])


def nonconvexity(artifacts: dict, settings: dict):
    """|lambda_min / lambda_max| on the coarse grid, loss contours on top (Fig. 7)."""
    fig, axes, rows = _panels(settings["depths"])
    maps = {m: Surface.load(artifacts[artifact("hessian", m)]) for row in rows for m in row}
    top = max(float(nonconvexity_ratio(h).max()) for h in maps.values())
    image = None
    for r, row in enumerate(rows):
        for c, model in enumerate(row):
            h, s = maps[model], Surface.load(artifacts[artifact("surface", model)])
            ha, hb = _mesh(h)
            ax = axes[r, c]
            image = ax.pcolormesh(ha, hb, nonconvexity_ratio(h), shading="nearest",
                                  cmap="viridis", vmin=0, vmax=top)
            a, b = _mesh(s)
            ax.contour(a, b, s.metrics["train_loss"], levels=LEVELS, colors="w",
                       linewidths=0.6)
            ax.set_title(model.label)
            ax.set_aspect("equal")
            ax.set_xlabel(h.grid.names[0])
            ax.set_ylabel(h.grid.names[1])
    n = h.meta.get("n_samples")
    fig.suptitle(f"|lambda_min / lambda_max| of the Hessian (Lanczos, {n} training samples); "
                 "white: loss contours")
    fig.colorbar(image, ax=axes, shrink=0.7, label="|lambda_min / lambda_max|")
    return fig


def trajectory(artifacts: dict, settings: dict):
    """The training path projected on its PCA plane over the loss contours (Fig. 9)."""
    fig, axes, rows = _panels(settings["depths"])
    for r, row in enumerate(rows):
        for c, model in enumerate(row):
            s = Surface.load(artifacts[artifact("pca", model)])
            t, _ = load_tensors(artifacts[artifact("directions", model)])
            ratio = 100 * t["pca_explained_variance_ratio"].numpy()
            path = t["pca_coordinates"].numpy()
            a, b = _mesh(s)
            ax = axes[r, c]
            cs = ax.contour(a, b, s.metrics["train_loss"], levels=LEVELS, cmap="summer")
            ax.clabel(cs, cs.levels[::2], fontsize=6, fmt="%.1f")
            ax.plot(path[:, 0], path[:, 1], "-", color="C3", lw=1)
            ax.plot(path[:, 0], path[:, 1], ".", color="C3", ms=5)
            ax.plot(0, 0, "k*", ms=8)
            ax.set_title(model.label)
            ax.set_xlabel(f"1st PC: {ratio[0]:.2f} %")
            ax.set_ylabel(f"2nd PC: {ratio[1]:.2f} %")
    fig.suptitle("Training trajectory on its PCA plane (red: one dot per epoch; star: final)")
    return fig
