"""Dauphin et al. 2014, Fig. 4: a deep autoencoder trained with momentum SGD until its loss
plateaus, then switched to saddle-free Newton, beside momentum SGD continued.

- `reconstruction_problem`: the float64 full-batch loss of an autoencoder (mean squared
  reconstruction error over samples and input features, + wd/2 |theta|^2), its error (the
  reconstruction error alone) and its Hessian by autodiff, as a `critical.Problem`.
- `msgd_epochs`: minibatch momentum SGD on any `batch_loss(theta, rows)`, yielding the
  parameters after every epoch (the start first): MSGD as an iterator, so that it can be
  stopped at a plateau and continued from there.
- `switch_run`: MSGD until `critical.plateau_epoch` finds a plateau (the stated rule: the loss
  fell by less than `rel_tol`, relative, over the last `window` epochs), then each
  second-order method (`critical.second_order_run`) from that point for `epochs` steps, and
  MSGD continued from the same point (with its momentum) for as many epochs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import torch

from landscapes.critical import (
    METHODS,
    Problem,
    RunHistory,
    history_arrays,
    plateau_epoch,
    point_record,
    second_order_run,
)
from landscapes.hessian import exact_hessian
from landscapes.params import FlatModel
from landscapes.progress import Progress
from landscapes.train import check_finite

log = logging.getLogger(__name__)

@dataclass(kw_only=True)
class ReconstructionProblem(Problem):
    """`Problem` (loss with weight decay, reconstruction error, Hessian) plus what MSGD needs:
    the reconstruction error of any rows, their number and the model's initial parameters."""

    mse: Callable[..., torch.Tensor]  # (theta, rows=None) -> mean squared error of those rows
    n: int
    theta0: torch.Tensor


def reconstruction_problem(model: torch.nn.Module, x: torch.Tensor,
                           weight_decay: float) -> ReconstructionProblem:
    """The full-batch float64 loss of an autoencoder on inputs x (flattened): the mean over
    samples and features of (f(x) - x)^2, plus wd/2 |theta|^2. The error is the same mean
    without weight decay; Hessian-vector products and the dense Hessian come by autodiff."""
    flat = FlatModel(model.double(), mode="eval")
    xd = x.double().flatten(1)

    def mse(theta: torch.Tensor, rows: torch.Tensor | None = None) -> torch.Tensor:
        target = xd if rows is None else xd[rows]
        return ((flat.logits(theta, target) - target) ** 2).mean()

    def loss_fn(theta: torch.Tensor) -> torch.Tensor:
        return mse(theta) + 0.5 * weight_decay * theta.dot(theta)

    @torch.no_grad()
    def error_fn(theta: torch.Tensor) -> float:
        return mse(theta).item()

    return ReconstructionProblem(loss_fn=loss_fn, error_fn=error_fn, hessian_fn=exact_hessian,
                                 dim=flat.dim, mse=mse, n=len(xd), theta0=flat.theta0.clone())


def msgd_epochs(batch_loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], n: int,
                theta0: torch.Tensor, lr: float, momentum: float, batch_size: int,
                weight_decay: float = 0.0, seed: int = 0,
                name: str = "momentum SGD") -> Iterator[torch.Tensor]:
    """Momentum SGD (v <- m v + g + wd theta; theta <- theta - lr v, as torch.optim.SGD) on
    minibatches of `batch_size` of the n rows, in an order drawn from `seed` each epoch.

    Yields theta0, then the parameters after each epoch, without end. A non-finite batch loss
    stops it (DivergedError naming `name`, the epoch and the batch)."""
    gen = torch.Generator().manual_seed(seed)
    theta = theta0.detach().clone()
    velocity = torch.zeros_like(theta)
    yield theta.clone()
    epoch = 0
    while True:
        epoch += 1
        perm = torch.randperm(n, generator=gen)
        for k, i in enumerate(range(0, n, batch_size), 1):
            rows = perm[i:i + batch_size]
            leaf = theta.clone().requires_grad_(True)
            loss = batch_loss(leaf, rows)
            check_finite(loss.item(), f"{name} diverged at epoch {epoch}, batch {k}")
            (g,) = torch.autograd.grad(loss, leaf)
            velocity = momentum * velocity + g + weight_decay * theta
            theta = theta - lr * velocity
        yield theta.clone()


@dataclass
class Switch:
    """Momentum SGD until its plateau and continued past it, and each second-order method
    from the plateau point; every history has one record per epoch (loss, error, |grad|,
    most negative Hessian eigenvalue)."""

    msgd: RunHistory  # epochs 0 .. at + epochs
    switched: dict[str, RunHistory]  # method -> epochs at .. at + epochs
    at: int  # the epoch of the switch
    plateau_found: bool  # False: no plateau within max_epochs, switched at the last one


def switch_run(problem: Problem, msgd: Iterable[torch.Tensor], max_epochs: int, window: int,
               rel_tol: float, epochs: int, methods: list[str], dampings: list[float],
               krylov_dim: int = 20, name: str = "switch", lanczos_steps: int = 200) -> Switch:
    """Run `msgd` (the parameters after each epoch, the start first) until
    `plateau_epoch(losses, window, rel_tol)` finds a plateau, or for `max_epochs`; from the
    point reached, run each of `methods` for `epochs` second-order steps (one step = one
    epoch) and `msgd` itself for `epochs` more epochs. Each record's most negative Hessian
    eigenvalue takes at most `lanczos_steps` Lanczos products."""
    unknown = [m for m in methods if m not in METHODS]
    if unknown or not methods:
        raise ValueError(f"unknown or no second-order methods {unknown}; allowed: "
                         f"{', '.join(METHODS)}")
    steps = iter(msgd)
    sgd = f"{name} momentum SGD"

    def record(epoch: int) -> tuple[dict, torch.Tensor]:
        try:
            theta = next(steps)
        except StopIteration:
            raise ValueError(f"{sgd} ended at epoch {epoch - 1}, before the switch run "
                             "was done") from None
        return point_record(problem.loss_fn, problem.error_fn, theta, epoch, lanczos_steps,
                            name=sgd), theta

    row, start = record(0)
    rows, at = [row], None
    progress = Progress(max_epochs, f"{sgd} epochs until a plateau")
    for epoch in range(1, max_epochs + 1):
        row, start = record(epoch)  # only the latest point is kept: the switch starts there
        rows.append(row)
        progress.step()
        at = plateau_epoch([r["loss"] for r in rows], window, rel_tol)
        if at is not None:
            break
    found = at is not None
    at = len(rows) - 1 if at is None else at  # plateau_epoch returns the newest epoch here
    log.info("%s: %s at epoch %d, loss %.6f", name, "plateau" if found else "no plateau, "
             "switching at the last epoch", at, rows[at]["loss"])
    progress = Progress(epochs, f"{sgd} continued")
    for epoch in range(at + 1, at + epochs + 1):
        rows.append(record(epoch)[0])
        progress.step()
    # Krylov records by Lanczos, as MSGD's: an exact Hessian of the autoencoder per epoch
    # would cost thousands of products
    switched = {m: second_order_run(problem.loss_fn, problem.error_fn, start, m, epochs,
                                    dampings, krylov_dim, name=name, first_epoch=at,
                                    hessian_fn=problem.hessian_fn, exact_records=False,
                                    eig_steps=lanczos_steps)[0]
                for m in methods}
    return Switch(RunHistory(rows), switched, at, found)


def switch_arrays(s: Switch) -> dict[str, np.ndarray]:
    """The arrays of the artifact: msgd_* and <method>_* (epoch, loss, error, grad_norm,
    lambda_min), switch_at, plateau_found and methods (in the order run)."""
    out = history_arrays(s.msgd, "msgd")
    for method, hist in s.switched.items():
        out.update(history_arrays(hist, method))
    out.update(switch_at=np.array(s.at), plateau_found=np.array(s.plateau_found),
               methods=np.array(list(s.switched)))
    return out
