"""Figures of mode connectivity (Garipov et al. 2018; Draxler et al. 2018), drawn from each
pair's measurements (`independent`, `permuted`: one npz per replicate seed, or one)."""

from __future__ import annotations

import numpy as np
from landscapes.plotting import figure
from landscapes.store import load_npz

PATHS = {"line": ("straight line", "tab:red"), "curve": ("Bezier curve", "tab:blue")}
PANELS = (("train_loss", "training loss"), ("test_loss", "test loss"),
          ("train_error", "training error"), ("test_error", "test error"))
PAIR_TITLES = {"independent": "two independent minima", "permuted": "a net and its permuted copy"}


def _loaded(paths) -> list[dict]:
    return [load_npz(p) for p in ([paths] if isinstance(paths, str) else paths)]


def _along(runs: list[dict], title: str, other_end: str = "w2"):
    """Loss and error along the line and the curve against t: each seed thin, the mean
    thick."""
    fig, axes = figure(2, 2, figsize=(9.0, 6.5))
    t = runs[0]["t"]
    for ax, (field, label) in zip(axes.flat, PANELS):
        for path, (name, color) in PATHS.items():
            values = np.stack([r[f"{path}_{field}"] for r in runs])
            for v in values:
                ax.plot(t, v, color=color, lw=0.6, alpha=0.4)
            ax.plot(t, values.mean(0), color=color, lw=2, label=name)
        if field.endswith("loss"):
            ax.set_yscale("log")
        ax.set(xlabel=f"t (0: w1, 1: {other_end})", ylabel=label)
    axes[0, 0].legend()
    n = len(runs)
    fig.suptitle(f"{title}: the line and the trained curve (each of {n} seed{'s' * (n > 1)} "
                 "thin, their mean thick)")
    return fig


def paths(artifacts: dict, settings: dict):
    """Garipov et al. Fig. 2: loss and error along the line and the curve between two
    independently trained minima."""
    return _along(_loaded(artifacts["independent"]), "Two independent minima")


def permutation(artifacts: dict, settings: dict):
    """The same between a net and its hidden-unit permutation (deep linear example (c))."""
    return _along(_loaded(artifacts["permuted"]), "A net and its hidden-unit permutation",
                  other_end="P w1")


def plane(artifacts: dict, settings: dict):
    """Garipov et al. Fig. 1 (right): the training loss over the plane through w1, w2 and the
    bend theta (orthonormal axes: u along w2 - w1, v the rest of theta - w1), log-scaled
    contours, with the three points, the line and the curve; one panel per pair."""
    pairs = [p for p in PAIR_TITLES if p in artifacts]
    # equal axes: the figure's height follows the planes' own aspect, not a fixed one
    first = _loaded(artifacts[pairs[0]])[0]
    aspect = float(np.ptp(first["plane_y"]) / np.ptp(first["plane_x"]))
    fig, axes = figure(1, len(pairs), figsize=(6.0 * len(pairs), 1.2 + 5.0 * aspect),
                       squeeze=False)
    for ax, name in zip(axes[0], pairs):
        m = _loaded(artifacts[name])[0]
        # [i, j] = (x_i, y_j): transposed, rows along y; log10, contours evenly spaced in it
        z = np.log10(np.maximum(m["plane_train_loss"].T, 1e-12))
        levels = np.linspace(z.min(), z.max(), 25)
        cs = ax.contourf(m["plane_x"], m["plane_y"], z, levels=levels, cmap="viridis_r")
        ax.contour(m["plane_x"], m["plane_y"], z, levels=levels[::3], colors="k",
                   linewidths=0.3, alpha=0.5)
        ax.plot(*m["line_xy"].T, "--", color="tab:red", lw=1.2, label="line")
        ax.plot(*m["curve_xy"].T, "-", color="white", lw=1.8, label="Bezier curve")
        pts = m["points_xy"]
        ax.plot(*pts[:2].T, "o", color="tab:red", ms=7, mec="k")
        ax.plot(*pts[2], "^", color="white", ms=8, mec="k", label="bend theta")
        for (x, y), label in zip(pts, ("w1", "w2" if name == "independent" else "P w1",
                                       "theta")):
            ax.annotate(label, (x, y), textcoords="offset points", xytext=(6, 6), fontsize=9,
                        color="k", weight="bold")
        end = "w2" if name == "independent" else "P w1"
        ax.set(xlabel=f"u (along {end} - w1)", ylabel="v (theta - w1, orthogonal to u)",
               title=PAIR_TITLES[name], aspect="equal")
        fig.colorbar(cs, ax=ax, shrink=0.8, label="log10 training loss")
    axes[0][0].legend(loc="upper left", fontsize=7, framealpha=0.9)
    fig.suptitle("Training loss over the plane through both ends and the curve's bend "
                 "(first seed)")
    return fig
