"""MINRES: min |A x - b| over growing Krylov subspaces of a symmetric A, products only.

`minres(matvec, b)` builds the Lanczos basis Q of K_k(A, b) (with full reorthogonalization,
`hessian._lanczos_steps`) and tracks the residual of min_y |T_{k+1,k} y - |b| e1| with the
Paige-Saunders Givens recurrence (no extra products). A may be indefinite or singular; one
product A v per iteration. It stops at the first of:
- "residual": the relative residual |r| / |b| is at most `rtol`;
- "normal_residual": |A r| <= rtol |A b|, the normal equations A^2 x = A b solved to relative
  accuracy rtol. It holds at a least-squares solution of an inconsistent system (b has a part
  in A's null space that no x removes), and it is Newton-MR's inexactness condition;
- "invariant": the Krylov subspace is invariant (Lanczos' beta vanished);
- "max_iter".
x = Q^T y is then solved from the small projected problem with singular values of T under
`rcond` times the largest dropped (a truncated pseudo-inverse), so a singular A gives the
minimal-norm least-squares step in the subspace instead of one that grows along null
directions, as the short recurrence's iterates do in floating point (the reason for
MINRES-QLP; full reorthogonalization and the small dense solve do its job here, at the cost
of keeping k vectors). The iterates satisfy <x, A b> > 0, so for the Newton system H p = -g
the step lowers |g|^2 to first order (Newton-MR's descent property).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from landscapes.hessian import _lanczos_steps

Matvec = Callable[[torch.Tensor], torch.Tensor]


@dataclass
class MinresResult:
    x: torch.Tensor
    iterations: int  # products A v used
    stop: str  # "residual", "normal_residual", "invariant" or "max_iter"
    residual: float  # |A x - b| / |b|
    a_b: torch.Tensor  # A b, from the first Lanczos step (Newton-MR's line search needs H g)
    ritz_abs_max: float  # max |eigenvalue| of T_k: a lower bound on |A|_2


def minres(matvec: Matvec, b: torch.Tensor, rtol: float = 1e-6, max_iter: int | None = None,
           rcond: float = 1e-12) -> MinresResult:
    """Minimal-residual solution of A x = b for symmetric A (see the module docstring)."""
    n = b.numel()
    max_iter = n if max_iter is None else min(max_iter, n)
    beta1 = b.norm().item()
    if beta1 == 0 or max_iter < 1:
        return MinresResult(torch.zeros_like(b), 0, "residual" if beta1 == 0 else "max_iter",
                            0.0 if beta1 == 0 else 1.0, torch.zeros_like(b), 0.0)
    # Givens recurrence of the projected least-squares problem (Paige and Saunders 1975)
    cs, sn, dbar, phibar, tnorm2 = -1.0, 0.0, 0.0, beta1, 0.0
    stop, keep, ab_norm = "max_iter", 0, None
    for alpha, beta, basis in _lanczos_steps(matvec, n, max_iter, b):
        k = alpha.numel()
        a, bk = alpha[-1].item(), beta[-1].item()
        if not (math.isfinite(a) and math.isfinite(bk)):
            raise FloatingPointError("minres: a non-finite matrix-vector product")
        tnorm2 += a ** 2 + bk ** 2 + (beta[-2].item() ** 2 if k > 1 else 0.0)
        gbar, dbar_new = sn * dbar - cs * a, -cs * bk
        a_r = phibar * math.hypot(gbar, dbar_new)  # |A r_{k-1}|, before this rotation
        if ab_norm is None:
            ab_norm = a_r  # |A b| = |A r_0|
        if a_r <= rtol * ab_norm:
            stop, keep = "normal_residual", k - 1  # x_{k-1} already passes
            break
        gamma = math.hypot(gbar, bk)
        keep = k
        if gamma == 0:
            stop = "invariant"
            break
        cs, sn, dbar = gbar / gamma, bk / gamma, dbar_new
        phibar = sn * phibar
        if phibar <= rtol * beta1:
            stop = "residual"
            break
        if bk <= 1e-12 * math.sqrt(tnorm2):
            stop = "invariant"
            break
    if stop == "max_iter" and k < max_iter:
        stop = "invariant"  # Lanczos ended early: its beta vanished
    alpha, beta, basis = alpha.clone(), beta.clone(), basis.clone()
    a_b = beta1 * (alpha[0] * basis[0] + (beta[0] * basis[1] if k > 1 else 0.0))
    if k == n and stop == "max_iter":  # the whole space: the last residual is exactly 0
        beta[-1] = 0.0
    ritz = torch.linalg.eigvalsh(_tridiagonal(alpha, beta[:-1])).abs().max().item()
    if keep == 0:
        return MinresResult(torch.zeros_like(b), k, stop, 1.0, a_b, ritz)
    t = torch.zeros(keep + 1, keep, dtype=b.dtype, device=b.device)
    t[:keep] = _tridiagonal(alpha[:keep], beta[:keep - 1])
    t[keep, keep - 1] = beta[keep - 1]
    rhs = torch.zeros(keep + 1, dtype=b.dtype, device=b.device)
    rhs[0] = beta1
    u, s, vh = torch.linalg.svd(t, full_matrices=False)
    inv = torch.where(s > rcond * s[0], 1.0 / s, torch.zeros_like(s))
    y = vh.T @ (inv * (u.T @ rhs))
    residual = (t @ y - rhs).norm().item() / beta1
    return MinresResult(basis[:keep].T @ y, k, stop, residual, a_b, ritz)


def _tridiagonal(alpha: torch.Tensor, off: torch.Tensor) -> torch.Tensor:
    return torch.diag(alpha) + torch.diag(off, 1) + torch.diag(off, -1)
