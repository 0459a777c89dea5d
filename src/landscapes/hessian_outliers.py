"""The outliers of a Hessian spectrum (Sagun, Bottou and LeCun 2016; Sagun et al. 2017): at the
end of training the spectrum is a bulk near zero plus a few large eigenvalues, about as many as
the classes.

- `restrict_classes`: a dataset cut to its first k classes (labels 0..k-1 stay as they are), so
  a net trained on it has k outputs.
- `gap_count`: the number of outliers as the position of the largest ratio gap among the top
  eigenvalues: the papers' picture is a bulk and outliers "separated by a gap" from it, and a
  ratio gap is free of the spectrum's scale, which shrinks as the training loss falls.
- `bulk_count`: the number of eigenvalues above a multiple of a quantile of the spectrum's
  magnitudes (the bulk's scale), a second reading of the same picture.
- `slq_mass_above`: how many eigenvalues a stochastic Lanczos quadrature puts above a value
  (dim times the quadrature weight there).
"""

from __future__ import annotations

import numpy as np
import torch

from landscapes.data import Dataset


def restrict_classes(data: Dataset, k: int) -> Dataset:
    """The samples of classes 0..k-1 (train and test), with n_classes = k."""
    if not 2 <= k <= data.n_classes:
        raise ValueError(f"restrict_classes: k must be in [2, {data.n_classes}] for "
                         f"'{data.name}', got {k}")
    train, test = data.y_train < k, data.y_test < k
    return Dataset(data.x_train[train], data.y_train[train], data.x_test[test],
                   data.y_test[test], f"{data.name}_k{k}", k)


def _descending(eigenvalues) -> np.ndarray:
    v = np.sort(np.asarray(eigenvalues, dtype=float).ravel())[::-1]
    if v.size == 0 or not np.isfinite(v).all():
        raise ValueError("an outlier count needs a non-empty, finite spectrum")
    return v


def ratio_gaps(eigenvalues, window: int, floor: float = 1e-6) -> np.ndarray:
    """lambda_i / lambda_{i+1} for i = 1..window (descending order), each eigenvalue floored
    at `floor` times the largest: past the positive part of the spectrum a ratio would be
    meaningless, and the floor turns it into a gap to (relative) zero."""
    v = _descending(eigenvalues)
    if v[0] <= 0:
        raise ValueError("an outlier count needs a positive top eigenvalue")
    v = np.maximum(v, floor * v[0])
    m = min(window, v.size - 1)
    if m < 1:
        raise ValueError("a ratio gap needs at least two eigenvalues")
    return v[:m] / v[1:m + 1]


def gap_count(eigenvalues, window: int, floor: float = 1e-6) -> int:
    """The number of outliers: the i (1..window) with the largest ratio lambda_i / lambda_{i+1}
    among the descending eigenvalues, i.e. the outliers are the eigenvalues above the widest
    relative gap in the top `window + 1` (see `ratio_gaps`)."""
    return int(np.argmax(ratio_gaps(eigenvalues, window, floor))) + 1


def bulk_count(eigenvalues, quantile: float = 0.9, factor: float = 10.0) -> int:
    """The eigenvalues above `factor` times the `quantile` of the spectrum's magnitudes (the
    bulk's scale: outliers are few, so a high quantile still lies in the bulk). Only for a
    whole spectrum (an exact Hessian), not for a few Ritz values."""
    v = _descending(eigenvalues)
    return int((v > factor * np.quantile(np.abs(v), quantile)).sum())


def slq_mass_above(nodes, weights, dim: int, value: float) -> float:
    """dim times the quadrature weight on nodes above `value`, averaged over probes (rows of
    `nodes` and `weights`, arrays or tensors): the number of eigenvalues above it that a
    stochastic Lanczos quadrature estimates."""
    nodes, weights = np.asarray(nodes, dtype=float), np.asarray(weights, dtype=float)
    return float(dim * np.where(nodes > value, weights, 0.0).sum(1).mean())


# ---------------------------------------------------------------- nets trained on k classes


def _fit(spec: dict, train_settings: dict, data: Dataset, k: int, seed: int, name: str):
    """A net trained on the first k classes, and its end point's record."""
    from landscapes import train as training
    from landscapes.hessian import full_batch_loss, gradient
    from landscapes.params import FlatModel

    sub = restrict_classes(data, k)
    net = training.init_model(spec, sub, seed)
    cfg = training.TrainConfig.from_config(dict(train_settings))
    result = training.train(net, sub, cfg, seed, name=f"{name} k {k}")
    flat = FlatModel(net, "eval")  # eval mode: BatchNorm's statistics and dropout fixed
    loss, grad = gradient(full_batch_loss(flat, sub.x_train, sub.y_train), flat.theta0.double())
    last = result.metrics[-1]
    row = {"k": k, "dim": flat.dim, "n_train": len(sub.y_train), "epochs": last["epoch"],
           "train_loss": float(loss), "train_acc": last["train_acc"],
           "test_acc": last["test_acc"], "grad_norm": float(grad.norm())}
    return sub, flat, row


def mlp_spectrum(spec: dict, train_settings: dict, data: Dataset, k: int, seed: int
                 ) -> tuple[dict, np.ndarray]:
    """(record, every eigenvalue ascending) of the exact float64 training-loss Hessian of a
    one-hidden-layer MLP trained on the first k classes (closed form, `mlp_hessian`)."""
    from landscapes.hessian import mlp_hessian

    if spec.get("name") != "mlp" or len(spec.get("hidden", [])) != 1 or not spec.get(
            "bias", True):
        raise ValueError("hessian_outliers: the exact spectrum is for one-hidden-layer MLPs "
                         f"with biases, got {spec}")
    sub, flat, row = _fit(spec, train_settings, data, k, seed, "hessian_outliers mlp")
    hess = mlp_hessian(flat.theta0.double(), sub.x_train.double(), sub.y_train,
                       spec["hidden"][0], k, spec.get("activation", "relu"))
    eigenvalues = torch.linalg.eigvalsh(hess).numpy()
    row["lambda_max"], row["lambda_min"] = float(eigenvalues[-1]), float(eigenvalues[0])
    return row, eigenvalues


def conv_density(spec: dict, train_settings: dict, data: Dataset, k: int, seed: int,
                 steps: int, n_probes: int):
    """(record, SpectralDensity) of the float64 training-loss Hessian (eval mode) of a net
    trained on the first k classes, by stochastic Lanczos quadrature."""
    from landscapes.hessian import full_batch_loss, hvp_fn, slq_density

    sub, flat, row = _fit(spec, train_settings, data, k, seed, "hessian_outliers conv")
    matvec = hvp_fn(full_batch_loss(flat, sub.x_train, sub.y_train), flat.theta0.double())
    density = slq_density(matvec, flat.dim, steps, n_probes, seed,
                          name=f"hessian_outliers conv k {k} seed {seed}")
    row["lambda_max"] = float(density.nodes.max())
    return row, density


# ---------------------------------------------------------------- reading the stored spectra


def by_class_count(arrays: dict, prefix: str) -> dict[int, np.ndarray]:
    """{k: array} from stored arrays named <prefix><k> (k0 before k1, ...), ascending k."""
    found = {int(name[len(prefix):]): a for name, a in arrays.items()
             if name.startswith(prefix) and name[len(prefix):].isdigit()}
    if not found:
        raise ValueError(f"no arrays named {prefix}<k> among {sorted(arrays)}")
    return dict(sorted(found.items()))


def counts(arrays: dict, net: str, count: dict) -> dict[int, int]:
    """{k: outlier count} of a stored mlp (every eigenvalue, arrays k<k>) or conv (SLQ nodes,
    arrays nodes_k<k>: the first probe's Ritz values) result, by `gap_count`."""
    window, floor = count["window"], count.get("floor", 1e-6)
    if net == "mlp":
        spectra = by_class_count(arrays, "k")
    elif net == "conv":
        spectra = {k: nodes[0] for k, nodes in by_class_count(arrays, "nodes_k").items()}
    else:
        raise ValueError(f"unknown net '{net}'; allowed: mlp, conv")
    return {k: gap_count(v, window, floor) for k, v in spectra.items()}


def gap_value(eigenvalues, n_outliers: int) -> float:
    """The geometric midpoint of the gap below the top n_outliers eigenvalues: a value that
    separates them from the rest (floored at 1e-12 of the top one)."""
    v = _descending(eigenvalues)
    below = max(v[n_outliers], 1e-12 * v[0]) if n_outliers < v.size else 1e-12 * v[0]
    return float(np.sqrt(v[n_outliers - 1] * below))
