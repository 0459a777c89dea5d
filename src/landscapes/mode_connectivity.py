"""Mode connectivity (Garipov et al. 2018; Draxler et al. 2018): a low-loss curve between two
minima where the straight line between them crosses a barrier.

- The quadratic Bezier curve phi(t) = (1-t)^2 w1 + 2t(1-t) theta + t^2 w2 joins the endpoints
  w1 (t = 0) and w2 (t = 1); only its bend theta is trained, to minimize the loss averaged over
  t ~ U(0, 1): each minibatch draws one t and steps on the loss at phi(t) (Garipov et al.'s
  training). theta starts at the line's midpoint, where the curve is the straight line.
- The curve lies in the plane through w1, theta and w2: the orthonormal basis u = (w2 - w1)/|.|,
  v = the part of theta - w1 orthogonal to u (the paper's Fig. 1 and Fig. 2 planes) gives its
  points, the line's and the endpoints' exact plane coordinates, so one evaluator along two
  directions from w1 measures the paths and the plane's grid alike.
- Losses are the mean cross-entropy over a whole split (`landscapes.surface.Evaluator`); nets
  with BatchNorm have their statistics recomputed at each point (the paper does), the bend's
  training uses the batches' own statistics (train mode).
"""

from __future__ import annotations

import copy
import logging

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from landscapes.params import FlatModel, Layout
from landscapes.progress import Progress
from landscapes.surface import Evaluator, Grid, evaluate_tile
from landscapes.train import TrainConfig, check_blowup, check_finite, make_optimizer

log = logging.getLogger(__name__)


def bezier_coefficients(t) -> np.ndarray:
    """(len(t), 3) weights of (w1, theta, w2) at each t: (1-t)^2, 2t(1-t), t^2."""
    t = np.atleast_1d(np.asarray(t, dtype=np.float64))
    return np.stack([(1 - t) ** 2, 2 * t * (1 - t), t**2], axis=1)


def bezier_point(w1: torch.Tensor, theta: torch.Tensor, w2: torch.Tensor, t: float
                 ) -> torch.Tensor:
    """phi(t) = (1-t)^2 w1 + 2t(1-t) theta + t^2 w2 (differentiable in theta)."""
    t = float(t)
    return (1 - t) ** 2 * w1 + 2 * t * (1 - t) * theta + t**2 * w2


class _Bend(nn.Module):
    """The curve's one trainable point, as a module so the project's optimizers take it."""

    def __init__(self, theta: torch.Tensor):
        super().__init__()
        self.theta = nn.Parameter(theta.detach().clone())


def train_bend(model: nn.Module, w1: torch.Tensor, w2: torch.Tensor, x: torch.Tensor,
               y: torch.Tensor, cfg: TrainConfig, seed: int, theta0: torch.Tensor | None = None,
               name: str = "bend") -> tuple[torch.Tensor, list[dict]]:
    """The bend theta of the Bezier curve from w1 to w2 that minimizes the expected loss
    E_{t ~ U(0,1)} L(phi(t)), trained by minibatches of (x, y), one t drawn per batch.

    `model` gives the architecture (its own parameters are never touched; BatchNorm in train
    mode uses each batch's statistics; it computes where its parameters are, the data moving
    there a batch at a time). The optimizer, learning rate, momentum, weight decay
    (on theta) and schedule come from `cfg`; the data order and the t's from `seed`. Starts at
    `theta0` (default the line's midpoint). Returns theta and one row per epoch (the mean
    batch loss). A non-finite batch loss, or an epoch's mean above `cfg.max_loss_ratio` times
    the first epoch's, raises DivergedError naming the epoch (and batch).
    """
    flat = FlatModel(model, mode="train")
    w1, w2 = w1.detach().to(flat.theta0), w2.detach().to(flat.theta0)
    bend = _Bend((w1 + w2) / 2 if theta0 is None else theta0.to(flat.theta0))
    opt = make_optimizer(bend, cfg)
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, cfg.milestones, cfg.gamma)
    gen = torch.Generator().manual_seed(seed)
    n = len(y)
    rows, initial = [], None
    progress = Progress(cfg.epochs, f"{name} epochs")
    for epoch in range(1, cfg.epochs + 1):
        perm = torch.randperm(n, generator=gen)
        running = 0.0
        for k, i in enumerate(range(0, n, cfg.batch_size), 1):
            idx = perm[i:i + cfg.batch_size]
            t = float(torch.rand((), generator=gen, dtype=torch.float64))
            point = bezier_point(w1, bend.theta, w2, t)
            xb, yb = x[idx].to(w1.device), y[idx].to(w1.device)
            loss = F.cross_entropy(flat.logits(point, xb), yb)
            check_finite(loss.item(), f"{name} diverged at epoch {epoch}, batch {k} (t = {t:.3f})")
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            running += loss.item() * len(idx)
        rows.append({"epoch": epoch, "lr": opt.param_groups[0]["lr"], "batch_loss": running / n})
        # against the first epoch's mean: one batch's loss depends on its t (near an end it is
        # the minimum's, mid-line the barrier's), the mean over an epoch's t's does not
        initial = running / n if initial is None else initial
        check_blowup(running / n, initial, cfg.max_loss_ratio, f"{name} at epoch {epoch}")
        log.info("%s epoch %d/%d: mean batch loss along the curve %.4f", name, epoch,
                 cfg.epochs, running / n)
        sched.step()
        progress.step()
    return bend.theta.detach(), rows


def plane_basis(w1: torch.Tensor, w2: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """(2, dim) orthonormal rows u, v of the plane through w1, w2 and theta: u along w2 - w1,
    v along the part of theta - w1 orthogonal to u. Raises if the three points are (nearly)
    on one line, where the plane is undefined."""
    d, b = (w2 - w1).double(), (theta - w1).double()
    if not float(d.norm()) > 0:
        raise ValueError("the endpoints coincide: no line, no plane")
    u = d / d.norm()
    r = b - (b @ u) * u
    if not float(r.norm()) > 1e-9 * max(float(b.norm()), float(d.norm())):
        raise ValueError("theta lies on the line through w1 and w2: the plane is undefined")
    return torch.stack([u, r / r.norm()]).to(w1.dtype)


def plane_coordinates(points: torch.Tensor, origin: torch.Tensor, basis: torch.Tensor
                      ) -> np.ndarray:
    """(n, 2) coordinates of `points` (n, dim) in the plane through `origin` with orthonormal
    rows `basis` (their projection, exact for points in the plane)."""
    diff = (torch.atleast_2d(points) - origin).double()
    return (diff @ basis.double().T).cpu().numpy()


def curve_points(w1: torch.Tensor, theta: torch.Tensor, w2: torch.Tensor, ts) -> torch.Tensor:
    """(len(ts), dim) points phi(t) of the Bezier curve."""
    c = torch.as_tensor(bezier_coefficients(ts), dtype=w1.dtype)
    return c @ torch.stack([w1, theta, w2])


def line_points(w1: torch.Tensor, w2: torch.Tensor, ts) -> torch.Tensor:
    """(len(ts), dim) points (1 - t) w1 + t w2."""
    t = torch.as_tensor(np.asarray(ts, dtype=np.float64), dtype=w1.dtype)[:, None]
    return (1 - t) * w1 + t * w2


def model_at(model: nn.Module, theta: torch.Tensor) -> nn.Module:
    """A copy of `model` whose parameters are the flat vector `theta` (its buffers kept)."""
    out = copy.deepcopy(model)
    named = Layout.of(out).split(theta.detach())
    with torch.no_grad():
        for n, p in out.named_parameters():
            p.copy_(named[n])
    return out


def endpoint_seeds(seed: int) -> tuple[int, int]:
    """The seeds (initialization and data order) of replicate `seed`'s two minima: seed and
    seed + 1000, apart from every other replicate's."""
    return seed, seed + 1000


def evaluator(model: nn.Module, w1: torch.Tensor, basis: torch.Tensor, bn_inputs, bn: str,
              points_per_pass: int, chunk: int) -> Evaluator:
    """An evaluator of the points w1 + a u + b v (basis rows u, v) of `model`'s architecture:
    a copy of it holds w1, so the model is untouched."""
    center = model_at(model, w1)
    return Evaluator(center, basis, over="parameters", bn=bn, points_per_pass=points_per_pass,
                     chunk=chunk, bn_inputs=bn_inputs)


def measure(model: nn.Module, w1: torch.Tensor, w2: torch.Tensor, theta: torch.Tensor, data,
            n_points: int, plane_points: tuple[int, int], margin: float, bn: str = "eval",
            points_per_pass: int = 1, chunk: int = 4096, name: str = "mode connectivity"
            ) -> dict[str, np.ndarray]:
    """Training and test loss and error along the line and the curve from w1 to w2, and the
    training loss over the plane through w1, w2 and theta.

    `n_points` values of t in [0, 1] on each path; the plane's grid spans the three points and
    the curve, widened on every side by `margin` times the larger axis' span, with
    `plane_points` points per axis.
    BatchNorm statistics: `bn` "recompute" (at every point, over the training inputs) or
    "eval" (the stored ones, for nets without BatchNorm).
    """
    basis = plane_basis(w1, w2, theta)
    ev = evaluator(model, w1, basis, data.x_train, bn, points_per_pass, chunk)
    ts = np.linspace(0.0, 1.0, n_points)
    out: dict[str, np.ndarray] = {"t": ts}
    paths = {"line": line_points(w1, w2, ts), "curve": curve_points(w1, theta, w2, ts)}
    for path, pts in paths.items():
        coords = plane_coordinates(pts, w1, basis)
        out[f"{path}_xy"] = coords
        for split, (x, y) in (("train", (data.x_train, data.y_train)),
                              ("test", (data.x_test, data.y_test))):
            loss, acc = ev.evaluate(coords, x, y)
            check_finite(loss, f"{name}: {split} loss along the {path}",
                         [f"t = {t:.3g}" for t in ts])
            out[f"{path}_{split}_loss"], out[f"{path}_{split}_error"] = loss, 1.0 - acc
    corners = plane_coordinates(torch.stack([w1, w2, theta]), w1, basis)
    out["points_xy"] = corners  # w1, w2, theta
    span = np.vstack([corners, out["curve_xy"]])
    lo, hi = span.min(0), span.max(0)
    pad = np.full(2, margin * float((hi - lo).max()))  # one margin on both axes: a true picture
    grid = Grid.linspace(x=(lo[0] - pad[0], hi[0] + pad[0], plane_points[0]),
                         y=(lo[1] - pad[1], hi[1] + pad[1], plane_points[1]))
    surface = evaluate_tile(ev, grid, 0, grid.shape[0], (data.x_train, data.y_train),
                            name=f"{name}: the plane through w1, w2 and theta")
    out["plane_x"], out["plane_y"] = grid.values
    out["plane_train_loss"] = surface.metrics["train_loss"]
    out["plane_train_error"] = 1.0 - surface.metrics["train_acc"]
    out["distance"] = np.array(float((w2 - w1).double().norm()))
    return out

