"""Directions in weight space for loss-surface plots: random (normalized) and PCA of a trajectory.

A direction is a flat vector in the order of `landscapes.params.Layout`: the model's
`named_parameters()`, or, over the full state, those followed by the floating-point buffers
(BatchNorm running statistics) in `named_buffers()` order.

Random directions follow Li et al. 2018: entries are Gaussian, drawn from a seeded generator,
then rescaled piece by piece so that each piece has the norm of the matching piece of the
weights:

- `filter`: each output filter of a conv (dim 0 of its weight) and each row of a linear layer;
- `layer`: each weight tensor as a whole;
- `model`: the whole direction at once;
- `none`: the raw Gaussian.

Tensors with at most one dimension (biases, BatchNorm weights and biases, running statistics)
get a zero direction by default (`ignore_bias_bn=True`). When they are included they are
rescaled once, each tensor to the norm of its weights (for `filter` and `layer` too: a bias
vector has no filters), or with the whole model for `model`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from landscapes.params import Layout, vector

NORMS = ("filter", "layer", "model", "none")
EPS = 1e-10  # guards a zero-norm direction piece


def gaussian(lay: Layout, generator: torch.Generator) -> torch.Tensor:
    """Standard normal entries, drawn tensor by tensor in layout order.

    Every tensor is drawn (even ones later zeroed), so with the same seed the parameter part of
    a full-state direction equals the parameter-only direction.
    """
    return torch.cat([torch.randn(k, generator=generator) for k in lay.sizes])


def normalize(direction: torch.Tensor, reference: torch.Tensor, lay: Layout,
              norm: str = "filter", ignore_bias_bn: bool = True) -> torch.Tensor:
    """Rescale a raw direction piece by piece to the norms of `reference` (see module doc)."""
    if norm not in NORMS:
        raise ValueError(f"unknown normalization '{norm}'; allowed: {', '.join(NORMS)}")
    d = lay.split(direction.clone())
    w = lay.split(reference)
    for n, s in zip(lay.names, lay.shapes):
        if len(s) <= 1 and ignore_bias_bn:
            d[n].zero_()
        elif len(s) > 1 and norm == "filter":
            df, wf = d[n].reshape(s[0], -1), w[n].reshape(s[0], -1)
            df.mul_((wf.norm(dim=1) / (df.norm(dim=1) + EPS)).unsqueeze(1))
        elif norm in ("filter", "layer"):  # a weight tensor (layer), or an included bias
            d[n].mul_(w[n].norm() / (d[n].norm() + EPS))
    out = lay.flatten(d)
    if norm == "model":
        keep = ~lay.bias_bn_mask() if ignore_bias_bn else torch.ones_like(out, dtype=torch.bool)
        out = out * (reference[keep].norm() / (out[keep].norm() + EPS))
    return out


def random_directions(model: nn.Module, seed: int, count: int = 2, norm: str = "filter",
                      ignore_bias_bn: bool = True, over: str = "parameters") -> torch.Tensor:
    """`count` normalized Gaussian directions (rows), drawn one after another from `seed`.

    Drawn and normalized on the CPU, then moved to the model's device: the same directions
    wherever the model computes."""
    if count < 1:
        raise ValueError(f"count must be at least 1, got {count}")
    lay = Layout.of(model, over)
    ref = vector(model, over)
    gen = torch.Generator().manual_seed(int(seed))
    rows = [normalize(gaussian(lay, gen), ref.cpu(), lay, norm, ignore_bias_bn)
            for _ in range(count)]
    return torch.stack(rows).to(ref.device)


def random_direction(model: nn.Module, seed: int, norm: str = "filter",
                     ignore_bias_bn: bool = True, over: str = "parameters") -> torch.Tensor:
    """One normalized Gaussian direction; the first row of `random_directions` with this seed."""
    return random_directions(model, seed, 1, norm, ignore_bias_bn, over)[0]


@dataclass
class PCA:
    """Principal directions of a trajectory around its final point."""

    directions: torch.Tensor  # (k, D), unit norm, orthogonal
    explained_variance_ratio: torch.Tensor  # (k,), share of the variance of each direction
    coordinates: torch.Tensor  # (T, k): each trajectory point minus the final one, projected


def pca_directions(trajectory: torch.Tensor, final: torch.Tensor | None = None, k: int = 2,
                   mask: torch.Tensor | None = None, center: bool = True) -> PCA:
    """PCA of the matrix [theta_i - theta_final] of a trajectory (Li et al. 2018, Sec. 7).

    `trajectory` is (T, D) with the epochs in order; `final` defaults to its last row. Entries
    where `mask` is False are left out (zero in the directions), e.g. biases and BatchNorm
    parameters with `mask=~Layout.of(model).bias_bn_mask()`. With `center`, the differences
    are centered before the decomposition (as a standard PCA does); the coordinates are always
    the plain projections of theta_i - theta_final, so the final point sits at the origin.
    """
    trajectory = trajectory.double()
    final = trajectory[-1] if final is None else final.double()
    diff = trajectory - final
    if mask is not None:
        diff = diff * mask.to(diff.dtype)
    rows = diff[(diff != 0).any(dim=1)]  # the final point itself adds nothing
    if len(rows) < k:
        raise ValueError(f"a trajectory of {len(rows)} distinct points cannot give {k} "
                         f"principal directions; save more points (train.trajectory_every)")
    m = rows - rows.mean(0) if center else rows
    _, s, vh = torch.linalg.svd(m, full_matrices=False)
    var = s**2
    ratio = var[:k] / var.sum()
    dirs = vh[:k]
    if mask is not None:  # exact zeros where rounding left a trace
        dirs = dirs * mask.to(dirs.dtype)
    # a fixed sign: the first trajectory point has non-negative coordinates
    signs = torch.sign(diff[0] @ dirs.T)
    signs[signs == 0] = 1
    dirs = dirs * signs.unsqueeze(1)
    return PCA(dirs.float(), ratio.float(), (diff @ dirs.T).float())
