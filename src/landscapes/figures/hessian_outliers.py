"""Figures of the Hessian-outlier experiment (Sagun et al. 2016, 2017), drawn from the stored
spectra: the MLP's exact eigenvalues and the conv net's SLQ nodes and weights, per class count
k."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch

from landscapes import hessian_outliers as outliers
from landscapes.hessian import SpectralDensity
from landscapes.plotting import figure
from landscapes.store import load_npz

COUNT = {"window": 20}


def _count_settings(settings):
    return settings.get("count", COUNT)


def _paths(p):
    return [p] if isinstance(p, str) else list(p)


def mlp_spectra(artifacts: dict, settings: dict):
    """One histogram of the exact eigenvalues per k (symmetric-log axis: the bulk at zero, the
    outliers to the right), the outliers above the widest gap in red."""
    spectra = outliers.by_class_count(load_npz(artifacts["spectra"]), "k")
    found = outliers.counts({f"k{k}": v for k, v in spectra.items()}, "mlp",
                            _count_settings(settings))
    fig, axes = figure(1, len(spectra), figsize=(3.2 * len(spectra), 3.4), squeeze=False,
                       sharey=True)
    for ax, (k, v) in zip(axes[0], spectra.items()):
        top = v.max()
        linthresh = 1e-4 * top  # below it the axis is linear: the bulk's exact zeros
        low = min(v.min(), -linthresh)
        edges = np.concatenate([-np.geomspace(-low, linthresh, 20),
                                np.linspace(-linthresh, linthresh, 7)[1:-1],
                                np.geomspace(linthresh, 1.05 * top, 45)])
        cut = outliers.gap_value(v, found[k])
        ax.hist(v[v < cut], bins=edges, color="0.45", label="bulk")
        ax.hist(v[v >= cut], bins=edges, color="tab:red", label=f"{found[k]} outliers")
        ax.axvline(cut, color="tab:red", ls=":", lw=1)
        ax.set_xscale("symlog", linthresh=linthresh)
        decade = np.floor(np.log10(top))
        ticks = [0.0, 10 ** (decade - 3), 10 ** (decade - 1)]
        if -low >= 10 * linthresh:
            ticks.insert(0, -10 ** np.floor(np.log10(-low)))
        ax.set_xticks(ticks)
        ax.set_yscale("log")
        ax.set(title=f"k = {k} classes ({v.size} eigenvalues)", xlabel="eigenvalue")
        ax.legend(fontsize=7, loc="upper left")
    axes[0][0].set_ylabel("count")
    fig.suptitle("Exact Hessian spectrum of an MLP at the end of training, per class count k: "
                 "a bulk at zero and outliers (first seed)")
    return fig


def outlier_count(artifacts: dict, settings: dict):
    """The outlier count against k, each seed a point, for the MLP and the conv net, with the
    line count = k and the band |count - k| <= tolerance."""
    tol = settings.get("tolerance", 1)
    count = _count_settings(settings)
    fig, axes = figure(1, 2, figsize=(9.0, 3.8), sharey=True)
    for ax, (net, key, what) in zip(axes, (
            ("mlp", "mlp_spectra", "MLP, exact spectrum"),
            ("conv", "conv_densities", "conv net, Lanczos Ritz values"))):
        paths = _paths(artifacts[key])
        per_seed = [outliers.counts(load_npz(p), net, count) for p in paths]
        ks = np.array(sorted(per_seed[0]))
        for s, found in enumerate(per_seed):
            jitter = 0.12 * (s - (len(per_seed) - 1) / 2)
            ax.plot(ks + jitter, [found[k] for k in ks], "o", ms=5, alpha=0.8,
                    label=f"seed {s + 1}")
        span = np.array([ks.min() - 0.5, ks.max() + 0.5])
        ax.plot(span, span, "k--", lw=1, label="count = k")
        ax.fill_between(span, span - tol, span + tol, color="0.85", zorder=0,
                        label=f"|count - k| <= {tol}")
        ax.set(title=what, xlabel="classes k", xticks=ks)
        ax.legend(fontsize=7)
    axes[0].set_ylabel("outliers (above the widest ratio gap)")
    fig.suptitle(f"The number of Hessian outliers against the number of classes "
                 f"({len(_paths(artifacts['mlp_spectra']))} seeds)")
    return fig


def conv_densities(artifacts: dict, settings: dict):
    """The SLQ spectral density of the conv net per k (log density: the bulk's peak at zero
    and the outliers' small mass), the first probe's Ritz values above the gap marked."""
    arrays = load_npz(artifacts["densities"])
    nodes = outliers.by_class_count(arrays, "nodes_k")
    weights = outliers.by_class_count(arrays, "weights_k")
    found = outliers.counts(arrays, "conv", _count_settings(settings))
    fig, axes = figure(1, len(nodes), figsize=(3.4 * len(nodes), 3.4), squeeze=False)
    colors = plt.get_cmap("viridis")(np.linspace(0.0, 0.85, len(nodes)))
    for ax, k, c in zip(axes[0], nodes, colors):
        density = SpectralDensity(torch.as_tensor(nodes[k]), torch.as_tensor(weights[k]))
        grid, y = density.curve(bandwidth=0.005, points=800)
        ax.semilogy(grid, np.maximum(y, 1e-8), color=c)
        ritz = np.sort(nodes[k][0])[::-1]
        ax.plot(ritz[:found[k]], np.full(found[k], 1e-6), "v", color="tab:red", ms=6,
                label=f"{found[k]} outliers")
        ax.set(title=f"k = {k} classes", xlabel="eigenvalue", ylim=(1e-8, None))
        ax.legend(fontsize=7)
    axes[0][0].set_ylabel("SLQ density (smoothed)")
    fig.suptitle("SLQ spectral density of a conv net's Hessian at the end of training, per "
                 "class count k (first seed)")
    return fig
