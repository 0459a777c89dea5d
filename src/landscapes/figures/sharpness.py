"""Figures of the sharp-minima experiment; each takes its artifacts (name -> path or paths)."""

from __future__ import annotations

import numpy as np

from landscapes.names import SharpRun, number, parse_phi_key, phi_column
from landscapes.plotting import figure
from landscapes.store import load_json, load_npz, load_tensors
from landscapes.surface import Surface

SB_COLOR, LB_COLOR = "tab:blue", "tab:red"
LOSS_COLOR, ACC_COLOR = "tab:blue", "tab:red"


def _paths(value) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _accuracy_axis(ax, m: dict, marks):
    """Accuracy (%) on a right-hand axis, train solid and test dashed; the named marks as
    dotted vertical lines labelled above the plot."""
    a = m["alphas"]
    acc = ax.twinx()
    acc.spines["right"].set_visible(True)
    acc.plot(a, 100 * m["train_acc"], "-", color=ACC_COLOR, label="train accuracy")
    acc.plot(a, 100 * m["test_acc"], "--", color=ACC_COLOR, label="test accuracy")
    acc.set_ylabel("accuracy (%)", color=ACC_COLOR)
    acc.set_ylim(0, 102)
    for name, x in marks:
        ax.axvline(x, color="0.6", lw=0.8, ls=":")
        ax.annotate(name, (x, 1.0), xycoords=("data", "axes fraction"), ha="center",
                    va="bottom", fontsize=8)
    return acc


def _curve(ax, m: dict, title: str, marks=(("SB", 0.0), ("LB", 1.0)), xlabel="alpha"):
    """Cross-entropy on the left axis, accuracy on the right; train solid, test dashed."""
    a = m["alphas"]
    ax.plot(a, m["train_loss"], "-", color=LOSS_COLOR, label="train loss")
    ax.plot(a, m["test_loss"], "--", color=LOSS_COLOR, label="test loss")
    ax.set(xlabel=xlabel)
    ax.set_title(title, pad=14)
    ax.set_ylabel("cross-entropy", color=LOSS_COLOR)
    ax.set_yscale("log")
    return _accuracy_axis(ax, m, marks)


def _legend(ax, acc):
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = acc.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, loc="center left", fontsize=7)


def parametric(artifacts: dict, settings: dict):
    """Keskar et al. Fig. 3: f(alpha x_LB + (1 - alpha) x_SB), one panel per network."""
    curves = [load_npz(p) for p in _paths(artifacts["interps"])]
    fig, axes = figure(1, len(curves), figsize=(5.2 * len(curves), 3.8), squeeze=False)
    for ax, m in zip(axes[0], curves):
        acc = _curve(ax, m, f"{m['network']}: alpha x_LB + (1 - alpha) x_SB")
        _legend(ax, acc)
    fig.tight_layout()
    return fig


def sharpness(artifacts: dict, settings: dict):
    """Keskar et al. Tables 2-4 as a figure: sharpness SB vs LB (mean +/- std over seeds) for
    every eps and space, and test accuracy beside it."""
    table = load_json(artifacts["summary"])["table"]
    nets = list(dict.fromkeys(r["network"] for r in table))
    cols = [parse_phi_key(k.removeprefix("phi_").removesuffix("_mean"))
            for k in table[0] if k.startswith("phi_") and k.endswith("_mean")]
    fig, (ax, ax2) = figure(1, 2, figsize=(13, 4), gridspec_kw={"width_ratios": [3, 1]})
    width = 0.38
    x = np.arange(len(nets) * len(cols))
    labels = [f"{net} {space}\neps {number(e)}" for net in nets for space, e in cols]
    for k, (regime, color) in enumerate((("SB", SB_COLOR), ("LB", LB_COLOR))):
        rows = {r["network"]: r for r in table if r["regime"] == regime}
        mean = [rows[n][phi_column(*c, "mean")] for n in nets for c in cols]
        std = [rows[n][phi_column(*c, "std")] for n in nets for c in cols]
        batch = rows[nets[0]]["batch"]
        ax.bar(x + (k - 0.5) * width, mean, width, yerr=std, color=color, capsize=2,
               label=f"{regime} (batch {batch})" if len(nets) == 1 else regime)
    ax.set_xticks(x, labels, fontsize=7)
    ax.set_yscale("log")
    ax.set(ylabel="sharpness phi (Metric 2.1)",
           title="Sharpness of SB and LB minimizers (Keskar et al. Tables 3-4)")
    ax.legend()
    xa = np.arange(len(nets))
    for k, (regime, color) in enumerate((("SB", SB_COLOR), ("LB", LB_COLOR))):
        rows = {r["network"]: r for r in table if r["regime"] == regime}
        ax2.bar(xa + (k - 0.5) * width, [100 * rows[n]["test_acc_mean"] for n in nets], width,
                yerr=[100 * rows[n]["test_acc_std"] for n in nets], color=color, capsize=2,
                label=regime)
    lo = min(100 * r["test_acc_mean"] - 100 * r["test_acc_std"] for r in table)
    ax2.set_ylim(max(0, lo - 3), 100)
    ax2.set_xticks(xa, nets)
    ax2.set(ylabel="test accuracy (%)", title="Test accuracy (Table 2)")
    fig.tight_layout()
    return fig


def sweep(artifacts: dict, settings: dict):
    """Keskar et al. Fig. 4: test accuracy and sharpness against batch size, mean +/- std
    over the replicate seeds."""
    s = load_json(artifacts["summary"])["sweep"]
    b = np.asarray(s["batch_size"])
    n = len(s.get("seeds", [None]))
    fig, ax = figure(figsize=(5.6, 3.8))
    ax.errorbar(b, 100 * np.asarray(s["test_acc"]), yerr=100 * np.asarray(s["test_acc_std"]),
                fmt="o-", color=ACC_COLOR, capsize=2, label="test accuracy")
    ax.set_xscale("log")
    ax.set_xticks(b, [str(v) for v in b])
    ax.minorticks_off()
    ax.set(xlabel="batch size", title=f"{s['network']}: accuracy and sharpness vs batch size"
           + (f" ({n} seeds)" if n > 1 else ""))
    ax.set_ylabel("test accuracy (%)", color=ACC_COLOR)
    right = ax.twinx()
    right.spines["right"].set_visible(True)
    for key, style in zip(s["phi"], ("s-", "s:", "^-", "^:")):
        space, eps = parse_phi_key(key)
        right.errorbar(b, s["phi"][key], yerr=s["phi_std"][key], fmt=style, color=LOSS_COLOR,
                       ms=4, capsize=2, label=f"sharpness {space} eps={number(eps)}")
    right.set_yscale("log")
    right.set_ylabel("sharpness phi", color=LOSS_COLOR)
    _legend(ax, right)
    fig.tight_layout()
    return fig


# Li et al.'s plots: loss up to 5 on a linear axis, accuracy 0-100; the 2D contours at the
# levels of their plotting code (0.1 to 10 in steps of 0.5, as the skips figures).
LI_LOSS_MAX = 5.0
LI_LEVELS = np.arange(0.1, 10, 0.5)


def _li_curve(ax, m: dict, title: str, xlabel: str, marks=()):
    """Li et al.'s 1D plots: cross-entropy (blue, left) and accuracy (red, right), train
    solid and test dashed; losses above the axis run off the top, as in the paper."""
    a = m["alphas"]
    ax.plot(a, m["train_loss"], "-", color=LOSS_COLOR, label="train loss")
    ax.plot(a, m["test_loss"], "--", color=LOSS_COLOR, label="test loss")
    ax.set(xlabel=xlabel, xlim=(a[0], a[-1]), ylim=(0, LI_LOSS_MAX))
    ax.set_title(title, fontsize=9, pad=14 if marks else 6)
    ax.set_ylabel("cross-entropy", color=LOSS_COLOR)
    return _accuracy_axis(ax, m, marks)


def _li_runs(paths) -> list[dict]:
    return [load_json(p) for p in _paths(paths)]


def _regime_of(runs: list[dict]) -> dict[int, str]:
    """Batch size -> SB or LB: the smaller batch of the weight-decay runs is SB."""
    batches = sorted({int(r["batch_size"]) for r in runs})
    return {b: "SB" if b == batches[0] else "LB" for b in batches}


def _flat_weights(path) -> np.ndarray:
    """Every conv kernel and weight matrix of a checkpoint (what the weight norm sums)."""
    state, _ = load_tensors(path)
    return np.concatenate([t.double().numpy().ravel() for n, t in sorted(state.items())
                           if n.endswith("weight") and t.ndim > 1])


def weight_decay(artifacts: dict, settings: dict):
    """Li et al. Fig. 2: one row per weight decay. Left, the raw linear interpolation from the
    SB minimizer (0) to the LB one (1); middle, the histograms of their weights; right, the
    weight norm during training at every seed (final mean +/- std over seeds in the legend)."""
    interps = sorted((load_npz(p) for p in _paths(artifacts["interps"])),
                     key=lambda m: float(m["weight_decay"]))
    runs = _li_runs(artifacts["runs"])
    regime = _regime_of(runs)
    table = {(r["weight_decay"], r["regime"]): r for r in load_json(artifacts["table"])["table"]}
    ids = {f"{SharpRun(r['net'], r['batch_size'], r['weight_decay'], r['seed'])}.safetensors":
           (float(r["weight_decay"]), regime[int(r["batch_size"])]) for r in runs}
    # each checkpoint by the run id that ends its path
    models = {ids[i]: path for path in _paths(artifacts["models"]) for i in ids
              if str(path).endswith("/" + i)}
    fig, axes = figure(len(interps), 3, figsize=(14, 3.6 * len(interps)), squeeze=False)
    for row, m in zip(axes, interps):
        wd = float(m["weight_decay"])
        acc = _li_curve(row[0], m, f"weight decay {wd:g}: (1 - alpha) x_SB + alpha x_LB",
                        "alpha", marks=(("SB", 0.0), ("LB", 1.0)))
        _legend(row[0], acc)
        weights = {g: _flat_weights(models[wd, g]) for g in ("SB", "LB")}
        top = max(np.quantile(np.abs(w), 0.999) for w in weights.values())
        bins = np.linspace(-top, top, 81)
        for g, color in (("SB", SB_COLOR), ("LB", LB_COLOR)):
            row[1].hist(weights[g], bins=bins, histtype="step", color=color, lw=1.2,
                        label=f"{g} (batch {table[wd, g]['batch']})")
        row[1].set(xlabel="weight value", ylabel="count",
                   title=f"weight decay {wd:g}: weights of the minimizers")
        row[1].legend(fontsize=7)
        for g, color in (("SB", SB_COLOR), ("LB", LB_COLOR)):
            t = table[wd, g]
            label = (f"{g} (batch {t['batch']}): {t['weight_norm_mean']:.2f} +/- "
                     f"{t['weight_norm_std']:.2f} at the end, {len(t['seeds'])} seeds")
            for r in (r for r in runs if float(r["weight_decay"]) == wd
                      and regime[int(r["batch_size"])] == g):
                row[2].plot(r["norm_epochs"], r["weight_norm"], "-", color=color, lw=0.9,
                            alpha=0.8, label=label)
                label = None
        row[2].set(xlabel="epoch", ylabel="L2 norm of the weights",
                   title=f"weight decay {wd:g}: weight norm during training")
        row[2].legend(fontsize=7)
    fig.suptitle(f"{interps[0]['network']}: small batch (SB) vs large batch (LB) minimizers, "
                 "raw parameters (Li et al. 2018, Fig. 2)", fontsize=10)
    return fig


def filter_normalized(artifacts: dict, settings: dict):
    """Li et al. Fig. 3: one column per minimizer (weight decay x SB/LB, titled with its test
    error); top, the 1D filter-normalized slice (loss and accuracy, train solid, test
    dashed); bottom, the training loss on a filter-normalized plane, whose first direction
    is the slice's."""
    runs = _li_runs(artifacts["runs"])
    regime = _regime_of(runs)
    by_key = {(float(r["weight_decay"]), int(r["batch_size"])): r for r in runs}
    slices = {(float(m["weight_decay"]), int(m["batch_size"])): m
              for m in (load_npz(p) for p in _paths(artifacts["slices"]))}
    planes = {(float(s.meta["weight_decay"]), int(s.meta["batch_size"])): s
              for s in (Surface.load(p) for p in _paths(artifacts["planes"]))}
    keys = sorted(slices, key=lambda k: (k[0], k[1]))
    fig, axes = figure(2, len(keys), figsize=(3.6 * len(keys), 6.6), squeeze=False)
    for c, key in enumerate(keys):
        wd, batch = key
        err = 100 * (1 - by_key[key]["final"]["test_acc"])
        title = f"{regime[batch]}: wd={wd:g}, batch={batch}, test error {err:.2f}%"
        acc = _li_curve(axes[0, c], slices[key], title, "a (filter-normalized)")
        if c == 0:
            _legend(axes[0, c], acc)
        s = planes[key]
        a, b = np.meshgrid(s.grid.values[0], s.grid.values[1], indexing="ij")
        ax = axes[1, c]
        cs = ax.contour(a, b, s.metrics["train_loss"], levels=LI_LEVELS, cmap="summer")
        ax.clabel(cs, cs.levels[::2], fontsize=6, fmt="%.1f")
        ax.plot(0, 0, "k+", ms=6)
        ax.set_aspect("equal")
        ax.set(xlabel="a", ylabel="b", title=f"{regime[batch]}, wd={wd:g}: training loss")
    fig.suptitle(f"{runs[0]['net']}: filter-normalized 1D slices and 2D contours around each "
                 f"minimizer, seed {runs[0]['seed']} (Li et al. 2018, Fig. 3)", fontsize=10)
    return fig


def reparam(artifacts: dict, settings: dict):
    """Dinh et al.: rescaling a ReLU layer by a and the next by 1/a keeps every output while
    the sharpness and the top Hessian eigenvalue change by orders of magnitude."""
    m = load_npz(artifacts["reparam"])
    a = m["factors"]
    fig, axes = figure(1, 3, figsize=(12, 3.6))
    axes[0].plot(a, np.maximum(m["max_output_change"], 1e-12), "o-", color="0.3")
    axes[0].set(xscale="log", yscale="log", xlabel="a", ylabel="max |f_a(x) - f(x)|",
                title="Outputs: unchanged (float32 rounding)")
    axes[0].set_ylim(1e-12, 1)
    axes[0].axhline(1e-5, color="0.6", ls=":", lw=0.8)
    axes[1].plot(a, m["phi"], "s-", color=LOSS_COLOR)
    axes[1].set(xscale="log", yscale="log", xlabel="a",
                ylabel=f"sharpness phi (eps={float(m['eps']):g})",
                title="Keskar sharpness")
    axes[2].plot(a, m["lambda_max"], "^-", color=ACC_COLOR)
    axes[2].set(xscale="log", yscale="log", xlabel="a", ylabel="top Hessian eigenvalue",
                title="Largest Hessian eigenvalue")
    fig.suptitle(f"Layer {int(m['layer'])} times a, layer {int(m['layer']) + 1} times 1/a: "
                 f"the same function, training loss {m['train_loss'][0]:.4g}", fontsize=10)
    fig.tight_layout()
    return fig
