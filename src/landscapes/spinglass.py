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


def energy_and_grad(s: torch.Tensor, w: torch.Tensor,
                    chunk: int = 16) -> tuple[torch.Tensor, torch.Tensor]:
    """H(w) and its Euclidean gradient for each row of w (n_points, N), from the full
    couplings in their dtype (the reference; `Packed` is the fast form), `chunk` points at
    a time (each needs S(w, ., .), N^2 numbers)."""
    n = w.shape[-1]
    energies, grads = [], []
    for lo in range(0, len(w), chunk):
        wc = w[lo:lo + chunk]
        sw = (wc @ s.view(n, n * n)).view(-1, n, n)  # S(w, ., .) per point
        sww = torch.bmm(sw, wc.unsqueeze(-1)).squeeze(-1)  # S(w, w, .)
        energies.append((sww * wc).sum(-1) / n)
        grads.append(3 * sww / n)
    return torch.cat(energies), torch.cat(grads)


class Packed:
    """The couplings packed for descent: S(w, w, .)_i = sum_{j<=k} c_jk S_ijk w_j w_k with
    c = 2 off the diagonal, so one matmul of the products w_j w_k (j <= k) with an
    (N(N+1)/2, N) matrix gives S(w, w, .) for many points at half the flops of the full
    contraction, in `dtype` (float32: twice as fast again; its rounding moves H/N by about
    1e-7 and the gradient norm by about 1e-4 of the tolerance, tests/test_spinglass.py)."""

    def __init__(self, s: torch.Tensor, dtype: torch.dtype = torch.float32):
        n = s.shape[0]
        self.n, self.dtype = n, dtype
        self.j, self.k = torch.triu_indices(n, n)  # row by row: (0, 0), (0, 1), ..., (1, 1)
        coef = torch.where(self.j == self.k, 1.0, 2.0).to(s.dtype)
        self.matrix = (s[:, self.j, self.k] * coef).T.to(dtype).contiguous()  # (T, N)
        self.rows = [(i, i * n - i * (i - 1) // 2) for i in range(n)]  # row i starts here

    def pairs(self, w: torch.Tensor) -> torch.Tensor:
        """w_j w_k for j <= k, (points, T). Many points: one product per row j (a gather
        over the pairs runs 7x slower there); few: the gather (no per-row overhead)."""
        if len(w) * len(self.j) < 1 << 20:
            return w.index_select(1, self.j).mul_(w.index_select(1, self.k))
        out = torch.empty(len(w), len(self.j), dtype=self.dtype)
        n = self.n
        for i, at in self.rows:
            torch.mul(w[:, i:i + 1], w[:, i:], out=out[:, at:at + n - i])
        return out

    def energy_and_grad(self, w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """H(w) and its gradient per row of w, in w's dtype (the matmul in `self.dtype`)."""
        sww = (self.pairs(w.to(self.dtype)) @ self.matrix).to(w.dtype)
        return (sww * w).sum(-1) / self.n, 3 * sww / self.n


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
            name: str = "spin glass", dtype: torch.dtype = torch.float32) -> Descent:
    """Projected gradient descent w <- proj(w - lr grad H(w)) from each row of w.

    A start stops once the norm of its tangential gradient falls below `tol` and is frozen
    from then on; the rest go on until `max_steps`. The steps use `Packed` couplings in
    `dtype`; the gradient norms at the end are recomputed from the full couplings in their
    own dtype, and a start whose norm there is not below `tol` (rounding put it just across)
    descends on with the full couplings until it is, within the same `max_steps`. A
    non-finite energy or gradient stops the descent (DivergedError naming the start and the
    step).
    """
    packed = Packed(s, dtype)
    w = w.clone()
    steps = torch.full((len(w),), max_steps, dtype=torch.int64)
    stopped = _descend(packed.energy_and_grad, w, torch.arange(len(w)), steps, 0, lr, tol,
                       max_steps, name)
    energy, g = energy_and_grad(s, w)
    grad_norm = tangent(g, w).norm(dim=-1)
    across = (stopped & (grad_norm >= tol)).nonzero().squeeze(1)
    if len(across):
        log.info("%s: %d starts met the tolerance in %s but not in %s; they descend on", name,
                 len(across), dtype, s.dtype)
        todo = across[steps[across] < max_steps]
        stopped[across] = False
        for i in todo.tolist():  # one at a time: each resumes at its own step
            stopped[i] = _descend(lambda v: energy_and_grad(s, v), w, torch.tensor([i]),
                                  steps, int(steps[i]), lr, tol, max_steps, name)[i]
        energy, g = energy_and_grad(s, w)
        grad_norm = tangent(g, w).norm(dim=-1)
    check_finite(energy, f"{name} diverged by its end", lambda j: f"start {j}",
                 quantity="energy")
    n = w.shape[-1]
    return Descent(energy / n, grad_norm, steps, stopped & (grad_norm < tol))


def _descend(energy_and_grad_fn, w, starts, steps, first, lr, tol, max_steps, name):
    """Descend w[starts] in place from step `first`; a start's step count goes to `steps`
    when it meets the tolerance. Returns which rows of w have stopped (starts only)."""
    active = torch.zeros(len(w), dtype=torch.bool)
    active[starts] = True
    stopped = torch.zeros(len(w), dtype=torch.bool)
    progress = Progress(max_steps - first, f"{name} steps (at most)")
    for t in range(first, max_steps + 1):
        idx = active.nonzero().squeeze(1)
        if len(idx) == 0:
            break
        energy, g = energy_and_grad_fn(w[idx])
        gnorm = tangent(g, w[idx]).norm(dim=-1)
        at = f"{name} diverged at step {t}"
        check_finite(energy, at, lambda j: f"start {int(idx[j])}", quantity="energy")
        check_finite(gnorm, at, lambda j: f"start {int(idx[j])}", quantity="gradient norm")
        done = gnorm < tol
        steps[idx[done]] = t
        active[idx[done]] = False
        stopped[idx[done]] = True
        if t == max_steps:
            break
        keep = idx[~done]
        w[keep] = project(w[keep] - lr * g[~done])
        progress.step()
        if t % 100 == 0 and len(starts) > 1:
            log.info("%s step %d: %d of %d starts still descending", name, t, len(keep),
                     len(starts))
    return stopped
