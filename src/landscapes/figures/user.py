"""Figures of your own models (config section `user`), one panel per model (never measures).

Artifacts are `<kind>_<model>` -> path (`names.artifact`; kinds surface, slice, hessian,
spectrum, sharpness); settings name the models. A user's losses can span any range, so
contour levels come from each surface itself rather than the paper's fixed levels.
"""

from __future__ import annotations

import numpy as np
from matplotlib.ticker import MaxNLocator
from matplotlib.colors import LogNorm

from landscapes.names import artifact
from landscapes.plotting import figure
from landscapes.store import load_json, load_npz
from landscapes.surface import Surface

N_LEVELS = 15


def _mesh(s: Surface):
    return np.meshgrid(s.grid.values[0], s.grid.values[1], indexing="ij")


def _levels(z: np.ndarray) -> np.ndarray:
    """Evenly spaced levels, or log-spaced where the loss spans more than a decade (the
    basin would otherwise be one level)."""
    lo, hi = float(np.nanmin(z)), float(np.nanmax(z))
    if lo > 0 and hi > 10 * lo:
        return np.geomspace(lo, hi, N_LEVELS)
    return np.linspace(lo, hi if hi > lo else lo + 1e-9, N_LEVELS)


def _row(models, height=3.4, **kw):
    fig, axes = figure(1, len(models), figsize=(3.8 * len(models), height), squeeze=False,
                       **kw)
    return fig, axes[0]


def _labels(ax, s: Surface):
    ax.set_xlabel(f"{s.grid.names[0]} (filter-normalized)")
    ax.set_ylabel(s.grid.names[1])


def contours(artifacts: dict, settings: dict):
    """Filled contours of the training loss along two filter-normalized directions."""
    fig, axes = _row(settings["models"])
    for ax, m in zip(axes, settings["models"]):
        s = Surface.load(artifacts[artifact("surface", m)])
        a, b = _mesh(s)
        z = s.metrics["train_loss"]
        levels = _levels(z)
        norm = LogNorm(levels[0], levels[-1]) if levels[-1] > 10 * levels[0] > 0 else None
        filled = ax.contourf(a, b, z, levels=levels, cmap="viridis", norm=norm)
        ax.contour(a, b, z, levels=levels, colors="w", linewidths=0.4)
        ax.plot(0, 0, "r+", ms=9, mew=1.5)
        ax.set_title(m)
        ax.set_aspect("equal")
        _labels(ax, s)
        bar = fig.colorbar(filled, ax=ax, shrink=0.85, label="training loss")
        bar.set_ticks(levels[::2], labels=[f"{v:.3g}" for v in levels[::2]])  # log norms too
    fig.suptitle("Training loss around the checkpoint (red +)")
    return fig


def surface3d(artifacts: dict, settings: dict):
    """The training loss as a 3D surface."""
    fig, axes = _row(settings["models"], height=4.2, subplot_kw={"projection": "3d"})
    for ax, m in zip(axes, settings["models"]):
        s = Surface.load(artifacts[artifact("surface", m)])
        a, b = _mesh(s)
        ax.plot_surface(a, b, s.metrics["train_loss"], cmap="viridis", rstride=1, cstride=1,
                        linewidth=0.2, edgecolor="k", antialiased=True)
        ax.set_title(m)
        ax.set_xlabel(s.grid.names[0])
        ax.set_ylabel(s.grid.names[1])
        ax.set_zlabel("training loss")
        ax.view_init(elev=35, azim=-60)
    return fig


def slices(artifacts: dict, settings: dict):
    """1D filter-normalized slices: loss (top) and accuracy (bottom), train solid, test dashed."""
    models = settings["models"]
    fig, axes = figure(2, len(models), figsize=(3.8 * len(models), 5.6), squeeze=False,
                       sharex="col")
    for c, m in enumerate(models):
        s = Surface.load(artifacts[artifact("slice", m)])
        a, k = s.grid.values[0], s.metrics
        axes[0, c].plot(a, k["train_loss"], "-", color="C0", label="train")
        axes[0, c].plot(a, k["test_loss"], "--", color="C3", label="test")
        axes[1, c].plot(a, 100 * k["train_acc"], "-", color="C0")
        axes[1, c].plot(a, 100 * k["test_acc"], "--", color="C3")
        axes[0, c].set_title(m)
        axes[0, c].set_yscale("log")  # the loss rises by decades away from a minimum
        axes[1, c].set_xlabel("alpha (filter-normalized)")
        axes[1, c].set_ylim(0, 100)
    axes[0, 0].set_ylabel("loss")
    axes[1, 0].set_ylabel("accuracy (%)")
    axes[0, 0].legend()
    return fig


def nonconvexity(artifacts: dict, settings: dict):
    """|lambda_min / lambda_max| of the Hessian on the coarse grid, loss contours on top."""
    fig, axes = _row(settings["models"])
    for ax, m in zip(axes, settings["models"]):
        h = Surface.load(artifacts[artifact("hessian", m)])
        s = Surface.load(artifacts[artifact("surface", m)])
        ratio = np.abs(h.metrics["lambda_min"] / h.metrics["lambda_max"])
        ha, hb = _mesh(h)
        image = ax.pcolormesh(ha, hb, ratio, shading="nearest", cmap="viridis", vmin=0,
                              vmax=max(float(np.nanmax(ratio)), 1e-12))
        a, b = _mesh(s)
        z = s.metrics["train_loss"]
        ax.contour(a, b, z, levels=_levels(z), colors="w", linewidths=0.6)
        ax.set_xlim(ha.min(), ha.max())  # the grid's own range, not its cells' outer edges
        ax.set_ylim(hb.min(), hb.max())
        ax.set_title(f"{m} ({h.meta.get('n_samples')} samples, "
                     f"{h.meta.get('lanczos_steps')} Lanczos steps)")
        ax.set_aspect("equal")
        _labels(ax, h)
        fig.colorbar(image, ax=ax, shrink=0.85, label="|lambda_min / lambda_max|")
    fig.suptitle("Hessian non-convexity; white: training-loss contours")
    return fig


def spectrum(artifacts: dict, settings: dict):
    """The Hessian eigenvalue density at the checkpoint (stochastic Lanczos quadrature)."""
    fig, axes = _row(settings["models"])
    for ax, m in zip(axes, settings["models"]):
        z = load_npz(artifacts[artifact("spectrum", m)])
        floor = 1e-8 * float(z["density"].max())  # a log axis cannot show zero density
        ax.semilogy(z["grid"], np.maximum(z["density"], floor), color="C0")
        for key, color in (("lambda_min", "C3"), ("lambda_max", "C2")):
            ax.axvline(float(z[key]), color=color, ls="--", lw=1,
                       label=f"{key} {float(z[key]):.3g}")
        ax.axvline(0.0, color="k", lw=0.5)
        ax.set_title(f"{m} ({int(z['n_samples'])} samples, {z['nodes'].shape[0]} probes x "
                     f"{z['nodes'].shape[1]} steps)")
        ax.set_xlabel("Hessian eigenvalue")
        ax.xaxis.set_major_locator(MaxNLocator(5))  # wide ranges: tick labels must not collide
        ax.set_ylabel("density (smoothed)")
        ax.legend(loc="upper right")
    return fig


def sharpness(artifacts: dict, settings: dict):
    """Keskar's sharpness per box size, full space and random subspace."""
    fig, axes = _row(settings["models"])
    for ax, m in zip(axes, settings["models"]):
        runs = load_json(artifacts[artifact("sharpness", m)])["sharpness"]
        spaces = sorted({r["space"] for r in runs})
        eps = sorted({r["eps"] for r in runs}, reverse=True)
        width = 0.8 / len(spaces)
        for i, space in enumerate(spaces):
            phi = [next(r["phi"] for r in runs if r["space"] == space and r["eps"] == e)
                   for e in eps]
            bars = ax.bar(np.arange(len(eps)) + (i - (len(spaces) - 1) / 2) * width, phi,
                          width, label=space, color=f"C{i}")
            ax.bar_label(bars, fmt="%.3g", fontsize=7)
        ax.set_xticks(np.arange(len(eps)), [f"eps {e:g}" for e in eps])
        ax.set_ylabel("sharpness phi (%)")
        ax.set_title(f"{m} (f0 {runs[0]['f0']:.3g})")
        ax.legend(title="space")
    fig.suptitle("Keskar et al.'s sharpness: largest loss rise in the box, % of 1 + f0")
    return fig
