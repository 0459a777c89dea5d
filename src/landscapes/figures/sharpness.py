"""Figures of the sharp-minima experiment; each takes its artifacts (name -> path or paths)."""

from __future__ import annotations

import numpy as np

from landscapes.names import number, parse_phi_key, phi_column
from landscapes.plotting import figure
from landscapes.store import load_json, load_npz

SB_COLOR, LB_COLOR = "tab:blue", "tab:red"
LOSS_COLOR, ACC_COLOR = "tab:blue", "tab:red"


def _paths(value) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _curve(ax, m: dict, title: str, marks=(("SB", 0.0), ("LB", 1.0)), xlabel="alpha"):
    """Cross-entropy on the left axis, accuracy on the right; train solid, test dashed."""
    a = m["alphas"]
    ax.plot(a, m["train_loss"], "-", color=LOSS_COLOR, label="train loss")
    ax.plot(a, m["test_loss"], "--", color=LOSS_COLOR, label="test loss")
    ax.set(xlabel=xlabel)
    ax.set_title(title, pad=14)
    ax.set_ylabel("cross-entropy", color=LOSS_COLOR)
    ax.set_yscale("log")
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
    """Keskar et al. Fig. 4: test accuracy and sharpness against batch size."""
    s = load_json(artifacts["summary"])["sweep"]
    b = np.asarray(s["batch_size"])
    fig, ax = figure(figsize=(5.6, 3.8))
    ax.plot(b, 100 * np.asarray(s["test_acc"]), "o-", color=ACC_COLOR, label="test accuracy")
    ax.set_xscale("log")
    ax.set_xticks(b, [str(v) for v in b])
    ax.minorticks_off()
    ax.set(xlabel="batch size", title=f"{s['network']}: accuracy and sharpness vs batch size")
    ax.set_ylabel("test accuracy (%)", color=ACC_COLOR)
    right = ax.twinx()
    right.spines["right"].set_visible(True)
    for key, style in zip(s["phi"], ("s-", "s:", "^-", "^:")):
        space, eps = parse_phi_key(key)
        right.plot(b, s["phi"][key], style, color=LOSS_COLOR, ms=4,
                   label=f"sharpness {space} eps={number(eps)}")
    right.set_yscale("log")
    right.set_ylabel("sharpness phi", color=LOSS_COLOR)
    _legend(ax, right)
    fig.tight_layout()
    return fig


def weight_decay(artifacts: dict, settings: dict):
    """Li et al. Figs. 2-3: the raw SB-LB interpolation flips with weight decay; weight norms
    explain it; filter-normalized slices rank the minimizers by test error in every setting."""
    li = load_json(artifacts["summary"])["li"]
    interps = sorted((load_npz(p) for p in _paths(artifacts["interps"])),
                     key=lambda m: float(m["weight_decay"]))
    slices = [load_npz(p) for p in _paths(artifacts["slices"])]
    wds = [float(m["weight_decay"]) for m in interps]
    fig, axes = figure(2, len(wds) + 1, figsize=(4.6 * (len(wds) + 1), 7.6))
    for j, (wd, m) in enumerate(zip(wds, interps)):
        acc = _curve(axes[0, j], m, f"{m['network']}, weight decay {wd:g}: linear interpolation")
        if j == 0:
            _legend(axes[0, j], acc)
        ax = axes[1, j]
        for s in sorted((s for s in slices if float(s["weight_decay"]) == wd),
                        key=lambda s: int(s["batch_size"])):
            run = next(r for r in li if r["batch_size"] == int(s["batch_size"])
                       and r["weight_decay"] == wd)
            color = SB_COLOR if run["regime"] == "SB" else LB_COLOR
            err = 100 * (1 - run["test_acc"])
            ax.plot(s["alphas"], s["train_loss"], "-", color=color,
                    label=f"{run['regime']} (batch {run['batch_size']}), test error {err:.1f}%")
            ax.plot(s["alphas"], s["test_loss"], "--", color=color, lw=0.8)
        ax.set_yscale("log")
        ax.set(xlabel="a (filter-normalized direction)", ylabel="cross-entropy",
               title=f"weight decay {wd:g}: 1D filter-normalized slices")
        ax.legend(fontsize=7, title="train solid, test dashed", title_fontsize=7)
    ax = axes[0, -1]
    for run in li:
        color = SB_COLOR if run["regime"] == "SB" else LB_COLOR
        style = "-" if run["weight_decay"] == 0 else "--"
        ax.plot(run["norm_epochs"], run["weight_norm"], style, color=color,
                label=f"{run['regime']}, wd {run['weight_decay']:g}")
    ax.set(xlabel="epoch", ylabel="L2 norm of the weights", title="Weight norm during training")
    ax.legend(fontsize=7)
    ax = axes[1, -1]
    labels = [f"{r['regime']}\nwd {r['weight_decay']:g}" for r in li]
    ax.bar(range(len(li)), [100 * (1 - r["test_acc"]) for r in li],
           color=[SB_COLOR if r["regime"] == "SB" else LB_COLOR for r in li])
    ax.set_xticks(range(len(li)), labels, fontsize=7)
    ax.set(ylabel="test error (%)", title="Test error of the four minimizers")
    fig.tight_layout()
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
