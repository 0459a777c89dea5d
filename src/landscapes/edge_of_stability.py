"""Full-batch gradient descent and its sharpness (Cohen et al. 2021, the edge of stability).

- `mse_loss`: the paper's square loss, 1/2 the squared error summed over the outputs, averaged
  over the examples, on one-hot targets (`full_batch_mse`: that loss of a `params.FlatModel`
  over a whole dataset, as a function of the flat parameter vector).
- `SharpnessTracker`: the top Hessian eigenvalue by Lanczos (`landscapes.hessian`), each call
  warm-started from the previous call's top Ritz vector: along a GD path the top eigenvector
  turns slowly, so a few steps from it converge where a cold start needs many.
- `gradient_descent`: theta <- theta - eta grad L(theta) for a number of steps; the loss at
  every step, the sharpness every `every` steps, as table rows.
- Reading a run (the claims' measurements): `first_reach` (the first measurement at the edge
  2/eta, within a tolerance), `share_in_band` (the share of later measurements within a band
  around 2/eta), `rise_share` (the share of steps whose loss rose) and `window_median`.

GD on a quadratic with top curvature lambda is stable iff lambda < 2/eta: the edge of stability
is the sharpness 2/eta, whatever the network.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from landscapes.hessian import hvp_fn, lanczos
from landscapes.train import DivergedError, check_finite

LossFn = Callable[[torch.Tensor], torch.Tensor]


def mse_loss(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """1/n sum_i 1/2 |f(x_i) - y_i|^2: half the squared error summed over the outputs, averaged
    over the n examples (the paper's square loss)."""
    return 0.5 * (outputs - targets).pow(2).sum(1).mean()


def one_hot(y: torch.Tensor, n_classes: int, dtype=torch.float32) -> torch.Tensor:
    return F.one_hot(y, n_classes).to(dtype)


def full_batch_mse(flat, x: torch.Tensor, y: torch.Tensor, n_classes: int) -> LossFn:
    """theta -> `mse_loss` of a `params.FlatModel` over all of (x, y), on one-hot targets, in
    theta's dtype (x is cast to it)."""
    targets = {}

    def loss_fn(theta: torch.Tensor) -> torch.Tensor:
        if theta.dtype not in targets:
            targets[theta.dtype] = (x.to(theta.dtype), one_hot(y, n_classes, theta.dtype))
        xs, t = targets[theta.dtype]
        return mse_loss(flat.logits(theta, xs), t)

    return loss_fn


def quadratic_loss(curvatures) -> LossFn:
    """theta -> 1/2 sum_i c_i theta_i^2: a quadratic whose Hessian is diag(c) (tests, checks)."""
    c = torch.as_tensor(curvatures, dtype=torch.float64)
    return lambda theta: 0.5 * (c.to(theta) * theta * theta).sum()


@dataclass
class Sharpness:
    value: float  # the top Ritz value: the largest (not largest-magnitude) eigenvalue
    residual: float  # its Ritz residual bound |beta_m s_m|
    matvecs: int


class SharpnessTracker:
    """The top Hessian eigenvalue of `loss_fn`, warm-started: the first call runs `first_steps`
    Lanczos steps from a seeded Gaussian, each later call `steps` from the last top Ritz
    vector."""

    def __init__(self, loss_fn: LossFn, dim: int, steps: int = 10, first_steps: int = 30,
                 seed: int = 0):
        if steps < 2 or first_steps < 2:
            raise ValueError(f"the sharpness tracker needs at least 2 Lanczos steps a call, got "
                             f"steps={steps}, first_steps={first_steps}")
        self.loss_fn, self.dim = loss_fn, dim
        self.steps, self.first_steps, self.seed = steps, first_steps, seed
        self.vector: torch.Tensor | None = None

    def __call__(self, theta: torch.Tensor) -> Sharpness:
        matvec = hvp_fn(self.loss_fn, theta)
        steps = self.first_steps if self.vector is None else self.steps
        result = lanczos(matvec, self.dim, steps, seed=self.seed, dtype=theta.dtype,
                         return_basis=True, v0=self.vector, device=theta.device)
        vals, vecs = result.ritz()
        if not torch.isfinite(vals).all():
            return Sharpness(math.nan, math.nan, result.steps)
        self.vector = result.basis.T @ vecs[:, -1]
        residual = abs(result.last_beta * vecs[-1, -1].item())
        return Sharpness(vals[-1].item(), residual, result.steps)


def gradient_descent(loss_fn: LossFn, theta: torch.Tensor, eta: float, steps: int, every: int,
                     tracker: SharpnessTracker | None = None, name: str = "run"
                     ) -> tuple[list[dict], torch.Tensor]:
    """Full-batch GD for `steps` steps: (rows, final theta). Row t holds the loss at theta_t
    (t = 0 .. steps) and, every `every` steps and at the last, the sharpness there (NaN
    elsewhere). A non-finite loss raises DivergedError naming the run and the step."""
    if every < 1:
        raise ValueError(f"the sharpness is measured every k >= 1 steps, got {every}")
    theta = theta.detach().clone()
    rows = []
    for t in range(steps + 1):
        leaf = theta.requires_grad_(True)
        loss = loss_fn(leaf)
        (g,) = torch.autograd.grad(loss, leaf)
        theta = theta.detach()
        value = loss.item()
        check_finite(value, f"{name} diverged at step {t}")
        row = {"step": t, "train_loss": value, "grad_norm": g.norm().item(),
               "sharpness": math.nan, "residual": math.nan}
        if tracker is not None and (t % every == 0 or t == steps):
            s = tracker(theta)
            if not math.isfinite(s.value):
                raise DivergedError(f"{name}: the top Hessian eigenvalue is not finite at step "
                                    f"{t}")
            row.update(sharpness=s.value, residual=s.residual)
        rows.append(row)
        if t < steps:
            theta = theta - eta * g
    return rows, theta


# ---------------------------------------------------------------- reading a run


def first_reach(sharpness, eta: float, tolerance: float) -> int | None:
    """Index of the first measurement at least (1 - tolerance) 2/eta; None if none is."""
    hit = np.flatnonzero(np.asarray(sharpness, dtype=float) >= (1 - tolerance) * 2 / eta)
    return int(hit[0]) if hit.size else None


def share_in_band(sharpness, eta: float, band: float) -> float:
    """The share of measurements within [1 - band, 1 + band] 2/eta (NaN when there are none:
    no measurements is no evidence)."""
    s = np.asarray(sharpness, dtype=float) * eta / 2
    if s.size == 0:
        return math.nan
    return float(np.mean(np.abs(s - 1) <= band))


def rise_share(loss) -> float:
    """The share of steps whose loss is above the step before's (NaN under two losses)."""
    loss = np.asarray(loss, dtype=float)
    if loss.size < 2:
        return math.nan
    return float(np.mean(np.diff(loss) > 0))


def window_median(values, start: int, stop: int) -> float:
    """The median of values[start:stop] (NaN for an empty window)."""
    w = np.asarray(values, dtype=float)[max(start, 0):stop]
    return float(np.median(w)) if w.size else math.nan


def read_run(loss, sharp_steps, sharpness, eta: float, reach_tolerance: float, band: float
             ) -> dict:
    """What one run shows about the edge of stability. `loss[t]` is the loss at step t (every
    step from 0), `sharpness[j]` the sharpness measured at step `sharp_steps[j]`.

    reach_step: the first measurement at least (1 - reach_tolerance) 2/eta (None: never);
    peak_over_edge: the largest sharpness over 2/eta; sharpening: the sharpness there over the
    first measurement; rise_spearman: Spearman(step, sharpness) over the measurements up to
    and including it (NaN under 3); after: the measurements after it; share_in_band: their
    share within (1 +- band) 2/eta; edge_ratio: their median over 2/eta; loss_ratio: the
    median loss over the last tenth of the run over that over the tenth before reach_step;
    rises_after / rises_before: the share of steps whose loss rose, from reach_step on and
    before it. Quantities that need the edge reached are NaN when it was not."""
    from scipy import stats

    loss = np.asarray(loss, dtype=float)
    steps = np.asarray(sharp_steps, dtype=int)
    s = np.asarray(sharpness, dtype=float)
    if s.size == 0 or steps.size != s.size:
        raise ValueError(f"a run needs measurements, one step each: {steps.size} steps, "
                         f"{s.size} sharpness values")
    edge = 2.0 / eta
    out = {"eta": eta, "edge": edge, "initial_sharpness": float(s[0]),
           "peak_over_edge": float(s.max() / edge), "measurements": int(s.size),
           "reach_step": None, "sharpening": math.nan, "rise_spearman": math.nan, "after": 0,
           "share_in_band": math.nan, "edge_ratio": math.nan, "loss_ratio": math.nan,
           "rises_after": math.nan, "rises_before": math.nan}
    i = first_reach(s, eta, reach_tolerance)
    if i is None:
        return out
    reach = int(steps[i])
    after = s[i + 1:]
    last = len(loss) - 1
    window = max(1, last // 10)
    rho = (float(stats.spearmanr(steps[:i + 1], s[:i + 1]).statistic) if i >= 2
           else math.nan)
    out.update(reach_step=reach, sharpening=float(s[i] / s[0]) if s[0] > 0 else math.nan,
               rise_spearman=rho, after=int(after.size),
               share_in_band=share_in_band(after, eta, band),
               edge_ratio=float(np.median(after) / edge) if after.size else math.nan,
               loss_ratio=window_median(loss, last - window + 1, last + 1)
               / window_median(loss, reach - window, reach + 1),
               rises_after=rise_share(loss[reach:]), rises_before=rise_share(loss[:reach + 1]))
    return out


# ---------------------------------------------------------------- one architecture's runs


def runs(spec: dict, data, edges, steps: int, every: int, lanczos_steps: int,
         first_lanczos_steps: int, seed: int, dtype=torch.float32, name: str = "run",
         device: str | torch.device = "cpu") -> list[dict]:
    """One GD run per edge 2/eta (eta = 2/edge), each from the network `spec` initialized at
    `seed` (on the CPU, then moved to `device`), on the whole training set of `data`: every
    run's rows (`gradient_descent`) tagged with its edge and eta, in one list."""
    from landscapes.params import FlatModel
    from landscapes.train import init_model

    rows = []
    for edge in edges:
        eta = 2.0 / float(edge)
        model = init_model(spec, data, seed).to(device=device, dtype=dtype)
        flat = FlatModel(model, "train")  # the nets here have no BatchNorm or dropout
        loss_fn = full_batch_mse(flat, data.x_train.to(device), data.y_train.to(device),
                                 data.n_classes)
        tracker = SharpnessTracker(loss_fn, flat.dim, lanczos_steps, first_lanczos_steps, seed)
        run, _ = gradient_descent(loss_fn, flat.theta0, eta, steps, every, tracker,
                                  name=f"{name} 2/eta {float(edge):g}")
        rows += [{"edge": float(edge), "eta": eta, **r} for r in run]
    return rows
