"""Critical points of any index, and saddle-free Newton (Dauphin et al. 2014).

- `find_critical_point`: Levenberg-Marquardt on 1/2 |g|^2 (residual g, Jacobian H): steps
  -(H^2 + mu I)^-1 H g from the exact eigendecomposition, mu adapted so |g| falls. As mu -> 0
  this is Newton's step -H^+ g, attracted to critical points of every index, not only minima.
  It can also stall where H g = 0 with g != 0 (a gradient-flat point, not a critical point):
  only points under a stated gradient-norm cutoff count, and `gradient_curvature` tells the
  gradient-flat end points from searches that merely ran out of steps.
- `describe`: loss, error, gradient norm, full spectrum, index (fraction of eigenvalues
  below -tol) and gradient curvature of a point.
- `accepted`, `gradient_flat`, `spectrum_picks`: which end points of the searches count as
  critical points (gradient norm under the cutoff), which are gradient-flat instead, and the
  three critical points of low, middle and high error whose spectra are compared.
- `deep_linear_critical_values`: the closed-form critical losses of a two-layer linear net
  on whitened inputs (Baldi and Hornik 1989), to validate the finder.
- Second-order training: `newton_direction` (damped Newton -(H + d I)^-1 g, or saddle-free
  -(|H| + d I)^-1 g with |H| from the eigendecomposition), `krylov_sfn_direction` (|H| in
  the subspace of k Lanczos vectors started at g), and `second_order_run`, which picks the
  damping per step from a small set by the loss it reaches (the paper's line search).
- Fig. 3: `compare_optimizers` runs momentum SGD and the three second-order methods from one
  initialization for equally many epochs; `comparisons_by_size` and `lowest_error` read the
  per-hidden-size results.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
import torch

from landscapes.hessian import (
    exact_hessian,
    extreme_eigenvalues,
    gradient,
    hvp_fn,
    lanczos,
)
from landscapes.minres import minres
from landscapes.progress import Progress
from landscapes.train import check_finite
from landscapes.train import train as train_run

log = logging.getLogger(__name__)

METHODS = ("newton", "sfn", "sfn_krylov")


def index_of(eigenvalues: torch.Tensor, tol: float) -> float:
    """Fraction of eigenvalues below -tol (the index of a critical point, as a fraction)."""
    return float((eigenvalues < -tol).double().mean())


# ---------------------------------------------------------------- critical-point search


def checked_gradient(loss_fn, theta: torch.Tensor, what: str):
    """(loss, gradient) at theta; a non-finite loss or gradient norm raises DivergedError
    naming `what` (the search or run and where it was)."""
    loss, g = gradient(loss_fn, theta)
    check_finite(loss, what)
    check_finite(g.norm(), what, quantity="gradient norm")
    return loss, g


@dataclass
class Search:
    """Where a search ended and how it got there."""

    theta: torch.Tensor
    grad_norms: list[float]  # |g| after each accepted step, the start first
    iterations: int
    stop: str  # "converged" (|g| <= grad_tol), "max_iter", "stalled" or "gradient_flat"
    hvps: int = 0  # Hessian-vector products (an explicit dim x dim Hessian counts dim)
    gradients: int = 0  # gradient evaluations (start, line-search or damping trials)
    eighs: int = 0  # dense eigendecompositions


def find_critical_point(loss_fn, theta0: torch.Tensor, max_iter: int = 50,
                        grad_tol: float = 1e-10, mu: float = 1e-4, mu_max: float = 1e8,
                        max_step: float = math.inf, hessian_fn=exact_hessian,
                        name: str = "critical-point search") -> Search:
    """Levenberg-Marquardt on 1/2 |grad|^2 from theta0, with the exact Hessian each step.

    A step is accepted when it lowers |g|; then mu shrinks tenfold, otherwise it grows tenfold
    and the step is retried on the same eigendecomposition (one gradient per retry). Steps
    longer than `max_step` are shortened to it, keeping the search near its start. A trial
    point with a non-finite gradient is only rejected; a non-finite loss or gradient at the
    start or at an accepted point stops the search (DivergedError). Stops "converged" at
    |g| <= grad_tol, "stalled" when mu passes mu_max, else "max_iter".
    """
    theta = theta0.detach().clone()
    loss, g = checked_gradient(loss_fn, theta, f"{name} diverged at its start")
    norms = [g.norm().item()]
    it, eighs, grads = 0, 0, 1

    def done(stop):
        return Search(theta, norms, it, stop, eighs * theta.numel(), grads, eighs)

    while it < max_iter:
        if norms[-1] <= grad_tol:
            return done("converged")
        hess = hessian_fn(loss_fn, theta)
        check_finite(hess, f"{name} diverged at step {it}", quantity="Hessian")
        lam, vecs = torch.linalg.eigh(hess)
        eighs += 1
        gv = vecs.T @ g
        while True:
            step = -vecs @ (lam / (lam ** 2 + mu) * gv)
            if step.norm() > max_step:
                step = step * (max_step / step.norm())
            loss_new, g_new = gradient(loss_fn, theta + step)
            grads += 1
            if math.isfinite(g_new.norm().item()) and g_new.norm().item() < norms[-1]:
                check_finite(loss_new, f"{name} diverged at step {it + 1}")
                theta, g = theta + step, g_new
                norms.append(g.norm().item())
                mu = max(mu / 10, 1e-14)
                break
            mu *= 10
            if mu > mu_max:
                return done("stalled")
        it += 1
    return done("converged" if norms[-1] <= grad_tol else "max_iter")


def newton_mr(loss_fn, theta0: torch.Tensor, max_iter: int = 50, grad_tol: float = 1e-10,
              hvp: Callable | None = None, minres_tol: float = 1e-6,
              minres_max_iter: int | None = None, rho: float = 1e-4, shrink: float = 0.5,
              min_step: float = 1e-10, flat_tol: float = 1e-3,
              name: str = "critical-point search") -> Search:
    """Newton-MR (Roosta et al. 2018): Newton steps H p = -g solved by MINRES, with products
    `hvp(theta)(v) = H(theta) v` only (default: autodiff `hvp_fn`), never a dense Hessian.

    Each step p is MINRES's minimal-residual solution (to relative tolerance min(minres_tol,
    |g|), a forcing term that tightens as |g| falls; a least-squares solution where H is
    singular and -g has a part in its null space; or after `minres_max_iter` products); MINRES
    makes <p, H g> < 0, so p lowers |g|^2. The step size a
    is the first of 1, shrink, shrink^2, ... down to `min_step` meeting Armijo's condition on
    |g|^2: |g(theta + a p)|^2 <= |g|^2 + 2 rho a <p, H g> (a trial with a non-finite gradient
    fails it). Stopping rule:
    - "converged": |g| <= grad_tol;
    - no step size passes (the line search cannot lower |g|): "gradient_flat" when the
      gradient sees almost no curvature, |H g| < flat_tol |g| |H| (|H|: the largest |Ritz
      value| of this search's MINRES runs; H g = 0 with g != 0 makes |g|^2 stationary and no
      Newton-type step helps: MINRES' relative residual stays near 1 or its step is far too
      long), else "stalled";
    - "max_iter" after max_iter accepted steps.
    A non-finite loss, gradient or product at the start or at an accepted point stops the
    search (DivergedError naming `name` and the step).
    """
    hvp = hvp or (lambda t: hvp_fn(loss_fn, t))
    theta = theta0.detach().clone()
    loss, g = checked_gradient(loss_fn, theta, f"{name} diverged at its start")
    norms = [g.norm().item()]
    it, hvps, grads = 0, 0, 1
    h_norm = 0.0  # the largest |Ritz value| MINRES has seen: a lower bound on |H| on the path
    while it < max_iter:
        if norms[-1] <= grad_tol:
            return Search(theta, norms, it, "converged", hvps, grads)
        mv, at = hvp(theta), f"{name} diverged at step {it}"

        def product(v, mv=mv, at=at):
            hv = mv(v)
            check_finite(hv.norm(), at, quantity="Hessian-vector product")
            return hv

        # forcing term min(minres_tol, |g|): loose solves far away, tighter ones as |g| falls,
        # so the steps converge superlinearly (Dembo and Steihaug) without solving every system
        # to full accuracy
        sol = minres(product, -g, min(minres_tol, norms[-1]), minres_max_iter)
        hvps += sol.iterations
        h_norm = max(h_norm, sol.ritz_abs_max)
        p, hg = sol.x, -sol.a_b  # a_b = H (-g)
        slope = p.dot(hg).item()  # <p, H g>: the derivative of |g|^2 / 2 along p
        a, trial = 1.0, None
        while slope < 0 and a >= min_step:
            loss_t, g_t = gradient(loss_fn, theta + a * p)
            grads += 1
            n2 = g_t.dot(g_t).item()
            if math.isfinite(n2) and n2 <= norms[-1] ** 2 + 2 * rho * a * slope:
                trial = theta + a * p
                break
            a *= shrink
        if trial is None:
            curvature = hg.norm().item() / (norms[-1] * max(h_norm, 1e-300))
            log.debug("%s: no step lowers |g| at step %d (|g| %.3g, MINRES residual %.3g, "
                      "|Hg|/(|g||H|) %.2g)", name, it, norms[-1], sol.residual, curvature)
            stop = "gradient_flat" if curvature < flat_tol else "stalled"
            return Search(theta, norms, it, stop, hvps, grads)
        check_finite(loss_t, f"{name} diverged at step {it + 1}")
        log.debug("%s step %d: |g| %.3g, MINRES %s after %d products (residual %.3g), a %.3g",
                  name, it + 1, math.sqrt(n2), sol.stop, sol.iterations, sol.residual, a)
        theta, g = trial, g_t
        norms.append(g.norm().item())
        it += 1
    return Search(theta, norms, it, "converged" if norms[-1] <= grad_tol else "max_iter",
                  hvps, grads)


def gradient_curvature(hessian: torch.Tensor, g: torch.Tensor,
                       eigenvalues: torch.Tensor) -> float:
    """|H g| / (|g| max|lambda|): how much curvature the gradient sees, relative to the
    sharpest direction. Near 0 the gradient lies in near-null eigendirections: a
    gradient-flat point, where |grad|^2 is stationary (H g = 0) but grad is not 0, so no
    Newton-type finder can lower |grad| further. NaN where g or H vanishes."""
    scale = g.norm() * eigenvalues.abs().max()
    return (hessian @ g).norm().item() / scale.item() if scale > 0 else math.nan


def describe(loss_fn, error_fn: Callable[[torch.Tensor], float], theta: torch.Tensor,
             index_tol: float, hessian_fn=exact_hessian, name: str = "point") -> dict:
    """Loss, error, gradient norm, full Hessian spectrum (ascending), index and the
    gradient's curvature (`gradient_curvature`) at theta."""
    loss, g = checked_gradient(loss_fn, theta, name)
    hess = hessian_fn(loss_fn, theta)
    check_finite(hess, name, quantity="Hessian")
    eigs = torch.linalg.eigvalsh(hess)
    check_finite(eigs, name, quantity="Hessian eigenvalue")
    return {"loss": loss.item(), "error": float(error_fn(theta)), "grad_norm": g.norm().item(),
            "eigenvalues": eigs, "index": index_of(eigs, index_tol),
            "gradient_curvature": gradient_curvature(hess, g, eigs)}


# ---------------------------------------------------------------- deep linear validation


def deep_linear_critical_values(x: torch.Tensor, y: torch.Tensor, hidden: int) -> list[float]:
    """Critical losses of y ~ W2 W1 x under 1/(2n) |Y - X W^T|^2, inputs whitened (X^T X = nI).

    With Sigma = Y^T X / n = U S V^T, every critical point has W2 W1 = U_S S_S V_S^T for a
    set S of at most `hidden` singular modes (Baldi and Hornik 1989), with loss
    1/(2n) |Y|^2 - 1/2 sum_{i in S} s_i^2. Returned sorted, one per set.
    """
    n = x.shape[0]
    if not torch.allclose(x.T @ x / n, torch.eye(x.shape[1], dtype=x.dtype), atol=1e-8):
        raise ValueError("deep_linear_critical_values needs whitened inputs (X^T X / n = I)")
    s = torch.linalg.svdvals(y.T @ x / n).tolist()
    base = 0.5 * (y ** 2).sum().item() / n
    values = {round(base - 0.5 * sum(s[i] ** 2 for i in sub), 12)
              for k in range(min(hidden, len(s)) + 1) for sub in combinations(range(len(s)), k)}
    return sorted(values)


# ---------------------------------------------------------------- second-order training


def newton_direction(g: torch.Tensor, lam: torch.Tensor, vecs: torch.Tensor, damping: float,
                     method: str) -> torch.Tensor:
    """-(H + d I)^-1 g ("newton") or -(|H| + d I)^-1 g ("sfn") from H = V diag(lam) V^T.

    For damped Newton, eigen-directions with |lam + d| < 1e-12 are left out (pseudo-inverse).
    """
    if method == "sfn":
        scale = 1.0 / (lam.abs() + damping)
    elif method == "newton":
        denom = lam + damping
        safe = denom.abs() > 1e-12
        scale = torch.where(safe, 1.0 / torch.where(safe, denom, torch.ones_like(denom)),
                            torch.zeros_like(denom))
    else:
        raise ValueError(f"unknown Newton method '{method}'; allowed: newton, sfn")
    return -vecs @ (scale * (vecs.T @ g))


def krylov_sfn_directions(matvec, g: torch.Tensor, k: int,
                          dampings: list[float]) -> list[torch.Tensor]:
    """Saddle-free Newton in the Krylov subspace of k Lanczos vectors started at g, one step
    per damping (the subspace does not depend on the damping, so one basis serves them all).

    With Q (k x dim) orthonormal and T = Q H Q^T = U diag(t) U^T, the step is
    -Q^T U diag(1 / (|t| + d)) U^T Q g, and Q g = |g| e1 because Q's first row is g / |g|.
    """
    res = lanczos(matvec, g.numel(), k, dtype=g.dtype, v0=g, return_basis=True)
    t, u = res.ritz()
    qg = torch.zeros(res.steps, dtype=g.dtype)
    qg[0] = g.norm()
    ug = u.T @ qg
    return [-res.basis.T @ (u @ (ug / (t.abs() + d))) for d in dampings]


def krylov_sfn_direction(matvec, g: torch.Tensor, k: int, damping: float) -> torch.Tensor:
    """`krylov_sfn_directions` for one damping."""
    return krylov_sfn_directions(matvec, g, k, [damping])[0]


@dataclass
class RunHistory:
    rows: list[dict] = field(default_factory=list)  # epoch, loss, error, grad_norm, lambda_min

    def column(self, key: str) -> np.ndarray:
        return np.array([r[key] for r in self.rows])


def _exact_eigh(hessian_fn, loss_fn, theta: torch.Tensor, vectors: bool):
    """Eigenvalues (ascending) and, if asked, eigenvectors of the Hessian at theta; NaN
    eigenvalues where the Hessian is not finite (for the caller to reject with its context)."""
    hess = hessian_fn(loss_fn, theta)
    if not bool(torch.isfinite(hess).all()):
        return torch.full((theta.numel(),), math.nan, dtype=theta.dtype), None
    return torch.linalg.eigh(hess) if vectors else (torch.linalg.eigvalsh(hess), None)


def _record(loss_fn, error_fn, theta: torch.Tensor, epoch: int, eig_steps: int, name: str,
            hessian_fn, vectors: bool, extra: dict):
    at = f"{name} diverged at epoch {epoch}"
    loss, g = checked_gradient(loss_fn, theta, at)
    lam = vecs = None
    if hessian_fn is None:
        lmin, _ = extreme_eigenvalues(hvp_fn(loss_fn, theta), theta.numel(),
                                      steps=min(eig_steps, theta.numel()), tol=1e-6)
    else:
        lam, vecs = _exact_eigh(hessian_fn, loss_fn, theta, vectors)
        lmin = lam[0].item()
    check_finite(lmin, at, quantity="most negative Hessian eigenvalue")
    record = {"epoch": epoch, "loss": loss.item(), "error": float(error_fn(theta)),
              "grad_norm": g.norm().item(), "lambda_min": lmin, **extra}
    return record, loss, g, lam, vecs


def point_record(loss_fn, error_fn, theta: torch.Tensor, epoch: int, eig_steps: int = 200,
                 name: str = "run", hessian_fn=None, **extra) -> dict:
    """Loss, error, gradient norm and most negative Hessian eigenvalue at theta: by Lanczos
    (at most `eig_steps` products), or exactly from the Hessian `hessian_fn` gives.

    Any of them non-finite stops the run (DivergedError naming `name` and the epoch)."""
    return _record(loss_fn, error_fn, theta, epoch, eig_steps, name, hessian_fn, False,
                   extra)[0]


def second_order_run(loss_fn, error_fn, theta0: torch.Tensor, method: str, epochs: int,
                     dampings: list[float], krylov_dim: int = 20, name: str = "run",
                     first_epoch: int = 0, hessian_fn=exact_hessian, exact_records=True,
                     eig_steps: int = 200) -> tuple[RunHistory, torch.Tensor]:
    """`epochs` full-batch second-order steps (one step = one epoch: the whole dataset).

    Per step, each damping in `dampings` gives a candidate step; the one with the lowest loss
    is taken if it lowers the loss, else the point stays (the run has stalled there, and
    every later step would be the same: they are not computed again). A candidate with a
    non-finite loss is only passed over; a non-finite loss, gradient or eigenvalue at the
    point the run is at stops it (DivergedError naming `name`, the method and the epoch).

    The exact methods ("newton", "sfn") take one Hessian (`hessian_fn`) and one
    eigendecomposition per point, which give both its step and its record's most negative
    eigenvalue. "sfn_krylov" steps with Hessian-vector products only; its records' most
    negative eigenvalue is exact too (so every method's is measured alike) unless
    `exact_records` is False, then by Lanczos (at most `eig_steps` products).
    """
    if method not in METHODS:
        raise ValueError(f"unknown second-order method '{method}'; allowed: {', '.join(METHODS)}")
    theta = theta0.detach().clone()
    run = f"{name} {method}"
    krylov = method == "sfn_krylov"
    record_hessian = hessian_fn if (exact_records or not krylov) else None
    hist = RunHistory()
    progress = Progress(epochs, f"{name} {method} epochs")
    chosen = float("nan")
    last = first_epoch + epochs
    for epoch in range(first_epoch, last + 1):
        if epoch == first_epoch or not math.isnan(chosen):
            record, loss, g, lam, vecs = _record(loss_fn, error_fn, theta, epoch, eig_steps,
                                                 run, record_hessian, not krylov,
                                                 {"damping": chosen})
        else:  # the point stayed: same record, same candidates
            record = dict(record, epoch=epoch, damping=chosen)
        hist.rows.append(record)
        if epoch > first_epoch:
            log.info("%s %s epoch %d: loss %.6f error %.4f |g| %.3g lambda_min %.3g damping %s",
                     name, method, epoch, record["loss"], record["error"], record["grad_norm"],
                     record["lambda_min"], chosen)
            progress.step()
        if epoch == last:
            break
        if epoch > first_epoch and math.isnan(chosen):
            continue  # stalled: no candidate lowered the loss from this very point before
        if krylov:
            steps = krylov_sfn_directions(hvp_fn(loss_fn, theta), g, krylov_dim, dampings)
        else:
            steps = [newton_direction(g, lam, vecs, d, method) for d in dampings]
        with torch.no_grad():
            losses = [loss_fn(theta + s).item() for s in steps]
        losses = [v if math.isfinite(v) else math.inf for v in losses]
        best = int(np.argmin(losses))
        chosen = float("nan")
        if losses[best] < loss.item():
            theta, chosen = theta + steps[best], dampings[best]
    return hist, theta


def plateau_epoch(losses, window: int, rel_tol: float) -> int | None:
    """First epoch e >= window where the loss fell by less than rel_tol (relative) over the
    last `window` epochs; None if it never did. `losses[e]` is the loss after epoch e."""
    for e in range(window, len(losses)):
        if losses[e - window] - losses[e] < rel_tol * abs(losses[e - window]):
            return e
    return None


# ---------------------------------------------------------------- the experiment's problem


FINDERS = ("newton_mr", "lm")


@dataclass
class Problem:
    """A classifier's full-training-set loss (float64, eval mode, + wd/2 |theta|^2),
    its training error, its Hessian (closed form for MLPs, autodiff otherwise) and its
    Hessian-vector products `hvp_fn(theta) -> (v -> H v)` (autodiff unless given: the generic
    path, which never forms H)."""

    loss_fn: Callable
    error_fn: Callable
    hessian_fn: Callable
    dim: int
    hvp_fn: Callable | None = None

    def __post_init__(self):
        if self.hvp_fn is None:
            self.hvp_fn = lambda theta: hvp_fn(self.loss_fn, theta)


def mlp_problem(model, x: torch.Tensor, y: torch.Tensor, weight_decay: float) -> Problem:
    from landscapes.hessian import full_batch_loss, mlp_hessian_fn, mlp_hvp_fn
    from landscapes.models import MLP
    from landscapes.params import FlatModel

    flat = FlatModel(model.double(), mode="eval")
    xd = x.double().flatten(1)
    loss_fn = full_batch_loss(flat, xd, y, weight_decay=weight_decay)

    @torch.no_grad()
    def error_fn(theta):
        return (flat.logits(theta, xd).argmax(1) != y).double().mean().item()

    linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    acts = [type(m).__name__.lower() for m in model.modules()
            if isinstance(m, (torch.nn.Tanh, torch.nn.Sigmoid, torch.nn.ReLU, torch.nn.Identity))]
    if (isinstance(model, MLP) and len(linears) == 2 and all(m.bias is not None for m in linears)
            and len(acts) == 1):
        act = {"identity": "linear"}.get(acts[0], acts[0])
        sizes = (xd, y, linears[0].out_features, linears[1].out_features, act, weight_decay)
        # closed forms: the same matrix and products as autodiff's, several times faster
        return Problem(loss_fn, error_fn, mlp_hessian_fn(*sizes), flat.dim, mlp_hvp_fn(*sizes))
    return Problem(loss_fn, error_fn, exact_hessian, flat.dim)


def perturbed_starts(points: torch.Tensor, n_perturb: int, noise: float, seed: int):
    """Each point plus uniform noise in [-noise, noise] per coordinate, n_perturb times."""
    gen = torch.Generator().manual_seed(seed)
    starts = []
    for p in points:
        for _ in range(n_perturb):
            u = torch.rand(p.numel(), generator=gen, dtype=torch.float64)
            starts.append(p.double() + noise * (2 * u - 1))
    return starts


def search_critical_points(problem: Problem, starts, index_tol: float, max_iter: int,
                           grad_tol: float, labels=None, name: str = "critical-point search",
                           finder: str = "newton_mr", minres_tol: float = 1e-6,
                           minres_max_iter: int | None = None, flat_tol: float = 1e-3
                           ) -> dict[str, np.ndarray]:
    """Run the finder from every start; keep every end point's description (the cutoff is
    applied by whoever reads them, so rejected points stay visible).

    finder "newton_mr": `newton_mr` with the problem's Hessian-vector products (`minres_tol`,
    `minres_max_iter`, `flat_tol` are its options); "lm": `find_critical_point`, exact
    eigendecompositions. Each end point gets one exact eigendecomposition (`describe`) for
    its index and spectrum, and records its steps, products and stop reason (seconds go to
    the log only: the arrays stay byte-reproducible).
    """
    if finder not in FINDERS:
        raise ValueError(f"unknown critical-point finder '{finder}'; allowed: "
                         f"{', '.join(FINDERS)}")
    rows = []
    progress = Progress(len(starts), "critical-point searches")
    for k, theta0 in enumerate(starts):
        label = f"{name}, start {k + 1} of {len(starts)}" + (
            f" ({labels[k]})" if labels is not None else "")
        start = time.perf_counter()
        if finder == "newton_mr":
            s = newton_mr(problem.loss_fn, theta0, max_iter=max_iter, grad_tol=grad_tol,
                          hvp=problem.hvp_fn, minres_tol=minres_tol,
                          minres_max_iter=minres_max_iter, flat_tol=flat_tol, name=label)
        else:
            s = find_critical_point(problem.loss_fn, theta0, max_iter=max_iter,
                                    grad_tol=grad_tol, hessian_fn=problem.hessian_fn,
                                    name=label)
        seconds = time.perf_counter() - start
        d = describe(problem.loss_fn, problem.error_fn, s.theta, index_tol, problem.hessian_fn,
                     name=f"{label}, end point after {s.iterations} steps")
        d.update(iterations=s.iterations, stop=s.stop, hvps=s.hvps, gradients=s.gradients,
                 eighs=s.eighs, start_error=problem.error_fn(theta0),
                 theta=s.theta)
        rows.append(d)
        log.info("start %d/%d (%s): %s after %d steps (%d products, %.1f s), loss %.4f error "
                 "%.3f |g| %.2e index %.3f |Hg|/(|g||H|) %.1e", k + 1, len(starts),
                 labels[k] if labels is not None else k, s.stop, s.iterations, s.hvps, seconds,
                 d["loss"], d["error"], d["grad_norm"], d["index"], d["gradient_curvature"])
        progress.step()
    out = {key: np.array([r[key] for r in rows]) for key in
           ("loss", "error", "grad_norm", "index", "gradient_curvature", "iterations", "stop",
            "hvps", "gradients", "eighs", "start_error")}
    out["eigenvalues"] = np.stack([r["eigenvalues"].numpy() for r in rows])
    out["theta"] = np.stack([r["theta"].numpy() for r in rows])  # the end points themselves
    return out


def trajectory_history(problem: Problem, trajectory: torch.Tensor, epochs,
                       name: str = "trajectory", exact: bool = False) -> RunHistory:
    """The records (loss, error, |g|, lambda_min) of stored optimizer parameters; lambda_min
    by Lanczos, or from the problem's exact Hessian if `exact`."""
    hessian_fn = problem.hessian_fn if exact else None
    return RunHistory([point_record(problem.loss_fn, problem.error_fn, t.double(), int(e),
                                    name=name, hessian_fn=hessian_fn)
                       for t, e in zip(trajectory, epochs)])


def history_arrays(hist: RunHistory, prefix: str) -> dict[str, np.ndarray]:
    keys = ("epoch", "loss", "error", "grad_norm", "lambda_min")
    return {f"{prefix}_{k}": hist.column(k) for k in keys}


# ---------------------------------------------------------------- optimizers compared (Fig. 3)

OPTIMIZERS = ("msgd",) + METHODS  # momentum SGD, then the second-order methods


def compare_optimizers(model, data, weight_decay: float, sgd, seed: int, epochs: int,
                       dampings: list[float], krylov_dim: int, name: str = "compare"
                       ) -> dict[str, RunHistory]:
    """Paper Fig. 3 for one network: momentum SGD and damped Newton, saddle-free Newton
    (exact) and saddle-free Newton (Krylov), all from the model's initialization, each
    `epochs` epochs long, keyed as in `OPTIMIZERS`.

    SGD takes the `sgd` TrainConfig's minibatch settings (its epochs replaced by `epochs`) and
    the data order of `seed`. A second-order step sees the whole training set once, as an SGD
    epoch does, so equally many epochs means equally many passes over the data. Every record
    is of the float64 full-batch loss with wd/2 |theta|^2, the objective SGD descends too.
    The model itself is left untouched.
    """
    cfg = dataclasses.replace(sgd, epochs=epochs, trajectory_every=1, weight_decay=weight_decay)
    problem = mlp_problem(copy.deepcopy(model), data.x_train, data.y_train, weight_decay)
    clock = time.perf_counter()
    result = train_run(copy.deepcopy(model), data, cfg, seed, name=f"{name} momentum SGD")
    runs = {"msgd": trajectory_history(problem, torch.stack(result.trajectory),
                                       result.trajectory_epochs, f"{name} momentum SGD",
                                       exact=True)}
    log.info("%s momentum SGD: %.1f s", name, time.perf_counter() - clock)
    start = result.trajectory[0].double()  # the initialization every method starts from
    for method in METHODS:
        clock = time.perf_counter()
        runs[method], _ = second_order_run(problem.loss_fn, problem.error_fn, start, method,
                                           epochs, dampings, krylov_dim, name=name,
                                           hessian_fn=problem.hessian_fn)
        log.info("%s %s: %.1f s", name, method, time.perf_counter() - clock)
    return runs


def lowest_error(m: dict, method: str) -> float:
    """The lowest training error a method reached over its records (`history_arrays` keys);
    NaN if any record's error is NaN."""
    return float(np.min(np.asarray(m[f"{method}_error"], dtype=float)))


def comparisons_by_size(paths) -> list[dict]:
    """The per-size comparison files (`compare_optimizers` arrays with `hidden`), smallest
    hidden layer first; the equal epoch count of every method is checked."""
    from landscapes.store import load_npz

    found = sorted((load_npz(p) for p in ([paths] if isinstance(paths, str) else paths)),
                   key=lambda m: int(m["hidden"]))
    for m in found:
        last = {k: int(m[f"{k}_epoch"][-1]) for k in OPTIMIZERS}
        if len(set(last.values())) != 1:
            raise ValueError(f"hidden {int(m['hidden'])}: the methods ran unequal epochs {last}")
    return found


# ---------------------------------------------------------------- which end points count
# These read the arrays `search_critical_points` returns.


def accepted(m: dict, grad_cutoff: float) -> np.ndarray:
    """Points whose gradient norm is under the cutoff: the only ones that count as critical."""
    return np.asarray(m["grad_norm"]) < grad_cutoff


def gradient_flat(m: dict, grad_cutoff: float, flat_tol: float) -> np.ndarray:
    """End points over the cutoff whose gradient sees almost no curvature (|Hg| < flat_tol
    |g| max|eigenvalue|): gradient-flat points, where a Newton-type search cannot go on."""
    return ~accepted(m, grad_cutoff) & (np.asarray(m["gradient_curvature"]) < flat_tol)


def spectrum_picks(m: dict, grad_cutoff: float | None, targets=None) -> list[int]:
    """Indices of three distinct points of rising error, among those under the cutoff (all
    points when it is None): the points nearest the three target errors (ascending; each
    point used once), or the lowest, middle and highest error when `targets` is None.
    [] unless three distinct errors are there."""
    idx = np.arange(len(m["error"]))
    if grad_cutoff is not None:
        idx = np.flatnonzero(accepted(m, grad_cutoff))
    errors = np.round(np.asarray(m["error"])[idx], 9)
    levels = np.unique(errors)
    if len(levels) < 3:
        return []
    first = [int(idx[np.flatnonzero(errors == v)[0]]) for v in levels]  # one point per error
    if targets is None:
        return [first[0], first[len(first) // 2], first[-1]]
    if len(targets) != 3 or list(targets) != sorted(targets):
        raise ValueError(f"spectrum target errors must be three ascending values, got {targets}")
    picks: list[int] = []
    for t in targets:  # nearest unused error level; levels ascend, so picks stay ordered
        start = levels.searchsorted(float(m["error"][picks[-1]])) + 1 if picks else 0
        rest = levels[start:]
        if len(rest) < 3 - len(picks):
            return []
        near = int(np.argmin(np.abs(rest[:len(rest) - (2 - len(picks))] - t)))
        picks.append(first[start + near])
    return picks


def pool_end_points(tables: list[dict]) -> dict:
    """Several searches' end-point tables (one per replicate seed) as one."""
    if not tables:
        raise ValueError("no end-point tables to pool")
    keys = set.intersection(*(set(t) for t in tables))
    return {k: np.concatenate([np.atleast_1d(np.asarray(t[k])) for t in tables]) for k in keys}
