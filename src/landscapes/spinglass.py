"""The spherical 3-spin glass of Choromanska et al. 2015 and its projected gradient descent.

H(w) = N^-1 sum_{i,j,k} J_ijk w_i w_j w_k, J_ijk ~ N(0, 1) independent, on the sphere
||w||^2 = N. H has variance N at every point, so the energies of its minima scale with N:
the ground state is near -E0 N with E0 ~ 1.657, and almost all local minima lie just above
the threshold -E_inf N, E_inf = 2 sqrt(2/3) ~ 1.633 (Auffinger, Ben Arous and Cerny 2013).
Descent runs many random starts at once: every contraction is one matmul over all of them.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import torch

from landscapes.train import check_finite
from landscapes.progress import Progress

log = logging.getLogger(__name__)

GROUND_STATE = -1.657  # H/N of the ground state, p = 3
THRESHOLD = -2 * math.sqrt(2 / 3)  # H/N where minima of index 0 become exponentially many


def couplings(n: int, seed: int, dtype=torch.float64) -> torch.Tensor:
    """The symmetrized couplings (n, n, n): the cubic form of J is the cubic form of its
    symmetric part, and the gradient of a symmetric form is 3 S(w, w, .)."""
    if n < 2:
        raise ValueError(f"spin glass size N must be at least 2, got {n}")
    g = torch.Generator().manual_seed(seed)
    j = torch.randn(n, n, n, generator=g, dtype=dtype)
    s = j.clone()
    for perm in ((0, 2, 1), (1, 0, 2), (1, 2, 0), (2, 0, 1), (2, 1, 0)):
        s += j.permute(perm)
    return s.div_(6)


def random_sphere(n_points: int, n: int, seed: int, dtype=torch.float64) -> torch.Tensor:
    """Points uniform on the sphere of radius sqrt(n): (n_points, n)."""
    g = torch.Generator().manual_seed(seed)
    return project(torch.randn(n_points, n, generator=g, dtype=dtype))


def project(w: torch.Tensor) -> torch.Tensor:
    """Rescale each row onto the sphere ||w||^2 = N."""
    return w * (math.sqrt(w.shape[-1]) / w.norm(dim=-1, keepdim=True))


def energy_and_grad(s: torch.Tensor, w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """H(w) and its Euclidean gradient for each row of w (n_points, N)."""
    n = w.shape[-1]
    sw = (w @ s.view(n, n * n)).view(-1, n, n)  # S(w, ., .) per point
    sww = torch.bmm(sw, w.unsqueeze(-1)).squeeze(-1)  # S(w, w, .)
    return (sww * w).sum(-1) / n, 3 * sww / n


def tangent(g: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """The gradient's component along the sphere (the radial part only rescales w)."""
    return g - (g * w).sum(-1, keepdim=True) / w.shape[-1] * w


@dataclass
class Descent:
    energy: torch.Tensor  # H/N at the end, per start
    grad_norm: torch.Tensor  # norm of the tangential gradient at the end
    steps: torch.Tensor  # steps each start took (max_steps if it never met the tolerance)
    converged: torch.Tensor  # bool: met the tolerance


def descend(s: torch.Tensor, w: torch.Tensor, lr: float, tol: float, max_steps: int,
            name: str = "spin glass") -> Descent:
    """Projected gradient descent w <- proj(w - lr grad H(w)) from each row of w.

    A start stops once the norm of its tangential gradient falls below `tol` and is frozen
    from then on; the rest go on until `max_steps`. A non-finite energy or gradient stops the
    descent (DivergedError naming the start and the step).
    """
    w = w.clone()
    active = torch.ones(len(w), dtype=torch.bool)
    steps = torch.full((len(w),), max_steps, dtype=torch.int64)
    progress = Progress(max_steps, f"{name} steps (at most)")
    for t in range(max_steps + 1):
        idx = active.nonzero().squeeze(1)
        if len(idx) == 0:
            break
        energy, g = energy_and_grad(s, w[idx])
        gnorm = tangent(g, w[idx]).norm(dim=-1)
        at = f"{name} diverged at step {t}"
        check_finite(energy, at, lambda j: f"start {int(idx[j])}", quantity="energy")
        check_finite(gnorm, at, lambda j: f"start {int(idx[j])}", quantity="gradient norm")
        done = gnorm < tol
        steps[idx[done]] = t
        active[idx[done]] = False
        if t == max_steps:
            break
        keep = idx[~done]
        w[keep] = project(w[keep] - lr * g[~done])
        progress.step()
        if t % 100 == 0:
            log.info("%s step %d: %d of %d starts still descending", name, t, len(keep), len(w))
    energy, g = energy_and_grad(s, w)
    check_finite(energy, f"{name} diverged by its end", lambda j: f"start {j}",
                 quantity="energy")
    n = w.shape[-1]
    return Descent(energy / n, tangent(g, w).norm(dim=-1), steps, ~active)
