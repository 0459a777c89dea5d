"""Flatness and complexity measures of a trained classifier, each oriented so that a larger
value should mean a larger generalization gap (Jiang et al. 2020's convention).

All are computed on the training set in eval mode (dropout off, BatchNorm on its running
statistics), in float64:
- `lambda_max`: the top eigenvalue of the training-loss Hessian (Lanczos);
- `hessian_trace`: its trace (Hutchinson, Rademacher probes);
- `keskar`: Keskar et al.'s metric 2.1 (`sharpness.model_sharpness`);
- `filter_sharpness`: the mean rise of the training loss at distance `radius` along
  filter-normalized random directions, both signs (Li et al. 2018's normalization: each
  filter, here each neuron's row of weights, scaled to its own norm; biases not moved);
- `pacbayes_flatness` and `pacbayes_mag_flatness`: 1/sigma^2 for the largest sigma whose
  Gaussian perturbation raises the mean training loss by at most `rise` (`largest_sigma`),
  isotropic, or with each parameter's noise scaled by its own magnitude;
- `weight_norm`: the Euclidean norm of the weight matrices;
- `inverse_margin`: 1/gamma^2, gamma the `margin_quantile` quantile of the training samples'
  output margin (true logit minus the largest other), the baseline that is not about
  sharpness.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import torch
from torch import nn

from landscapes.params import FlatModel, evaluate

MEASURES = ("lambda_max", "hessian_trace", "keskar", "filter_sharpness", "pacbayes_flatness",
            "pacbayes_mag_flatness", "weight_norm", "inverse_margin")


def largest_sigma(loss, theta: torch.Tensor, scale: torch.Tensor, rise: float, draws: int,
                  seed: int, start: float = 0.01, iters: int = 10) -> float:
    """The largest sigma with mean_k loss(theta + sigma * scale * u_k) - loss(theta) <= rise,
    u_1 .. u_draws standard Gaussian vectors drawn once from `seed` (common random numbers:
    every sigma is tried on the same draws, so the estimated rise grows smoothly with sigma).

    From `start`, sigma doubles or halves (at most 60 times) until a bracket [s, 2s] holds the
    crossing, then `iters` bisections of log sigma narrow it to a factor 2^(2^-iters); returns
    the bracket's geometric middle. `loss` maps a flat parameter vector to a float."""
    if not rise > 0:
        raise ValueError(f"the allowed rise must be positive, got {rise}")
    gen = torch.Generator().manual_seed(int(seed))
    noise = [torch.randn(theta.numel(), generator=gen, dtype=theta.dtype).to(theta.device)
             * scale for _ in range(draws)]
    base = loss(theta)

    def under(sigma):
        return float(np.mean([loss(theta + sigma * u) for u in noise])) - base <= rise

    lo = hi = float(start)
    if under(lo):
        for _ in range(60):
            hi = 2 * lo
            if not under(hi):
                break
            lo = hi
        else:
            raise ValueError(f"the training loss rises by less than {rise} even at sigma {hi:g}")
    else:
        for _ in range(60):
            lo = hi / 2
            if under(lo):
                break
            hi = lo
        else:
            raise ValueError(f"the training loss rises by more than {rise} even at sigma {lo:g}")
    for _ in range(iters):
        mid = math.sqrt(lo * hi)
        lo, hi = (mid, hi) if under(mid) else (lo, mid)
    return math.sqrt(lo * hi)


def training_loss_fn(model: nn.Module, x: torch.Tensor, y: torch.Tensor):
    """The float64 mean training cross-entropy as a function of flat parameters (eval mode),
    and the model's own flat parameters."""
    flat = FlatModel(copy.deepcopy(model).double(), mode="eval")
    xd = x.to(flat.theta0.device, torch.float64)
    yd = y.to(flat.theta0.device)

    @torch.no_grad()
    def loss(theta):
        return float(flat.loss(theta, xd, yd))

    return loss, flat


def filter_sharpness(model: nn.Module, x: torch.Tensor, y: torch.Tensor, radius: float,
                     directions: int, seed: int) -> float:
    """Mean training-loss rise at theta +- radius * d over `directions` filter-normalized
    Gaussian directions d drawn from `seed` (biases not moved)."""
    from landscapes.directions import random_directions

    loss, flat = training_loss_fn(model, x, y)
    d = random_directions(flat.model, seed, directions, norm="filter").to(torch.float64)
    base = loss(flat.theta0)
    return float(np.mean([loss(flat.theta0 + s * radius * di) - base
                          for di in d for s in (1.0, -1.0)]))


@torch.no_grad()
def margin(model: nn.Module, x: torch.Tensor, y: torch.Tensor, quantile: float) -> float:
    """The `quantile` quantile over training samples of the true logit minus the largest
    other (eval mode); negative where that share of samples is misclassified."""
    model = copy.deepcopy(model).eval()
    out = model(x).double()
    true = out.gather(1, y[:, None]).squeeze(1)
    other = out.scatter(1, y[:, None], -math.inf).max(1).values
    return float(torch.quantile(true - other, quantile))


def measure(model: nn.Module, x: torch.Tensor, y: torch.Tensor, settings: dict, seed: int,
            which=MEASURES) -> dict[str, float]:
    """The named measures of `model` on the training set (x, y); `settings` is the config's
    `measures` mapping (see the section's schema)."""
    from landscapes.hessian import full_batch_loss, hutchinson_trace, hvp_fn
    from landscapes.sharpness import model_sharpness, top_hessian_eigenvalue, weight_norm

    s = settings
    out = {}
    if "lambda_max" in which:
        out["lambda_max"] = top_hessian_eigenvalue(model, x, y, s["lanczos_steps"], seed)
    if "hessian_trace" in which:
        flat = FlatModel(copy.deepcopy(model).double(), mode="eval")
        matvec = hvp_fn(full_batch_loss(flat, x, y), flat.theta0)
        out["hessian_trace"] = hutchinson_trace(matvec, flat.dim, s["trace_probes"], seed)[0]
    if "keskar" in which:
        k = s["keskar"]
        out["keskar"] = model_sharpness(model, x, y, k["eps"], k.get("subspace_dim"), seed,
                                        k["maxiter"], start=k.get("start", "origin")).phi
    if "filter_sharpness" in which:
        f = s["filter"]
        out["filter_sharpness"] = filter_sharpness(model, x, y, f["radius"], f["directions"],
                                                   seed)
    if "pacbayes_flatness" in which or "pacbayes_mag_flatness" in which:
        p = s["pacbayes"]
        loss, flat = training_loss_fn(model, x, y)
        theta = flat.theta0
        for name, scale in (("pacbayes_flatness", torch.ones_like(theta)),
                            ("pacbayes_mag_flatness", theta.abs())):
            if name in which:
                sigma = largest_sigma(loss, theta, scale, p["rise"], p["draws"], seed)
                out[name] = 1.0 / sigma ** 2
    if "weight_norm" in which:
        out["weight_norm"] = weight_norm(dict(model.named_parameters()))
    if "inverse_margin" in which:
        gamma = margin(model, x, y, s["margin_quantile"])
        out["inverse_margin"] = 1.0 / gamma ** 2 if gamma > 0 else math.inf
    return out


def accuracy_and_loss(model: nn.Module, data) -> dict[str, float]:
    """Training and test loss and accuracy in eval mode, and the gap in error (test error
    minus training error, Jiang et al.'s generalization gap)."""
    train_loss, train_acc = evaluate(model, data.x_train, data.y_train)
    test_loss, test_acc = evaluate(model, data.x_test, data.y_test)
    return {"train_loss": train_loss, "train_acc": train_acc, "test_loss": test_loss,
            "test_acc": test_acc, "gap": train_acc - test_acc}



@torch.no_grad()
def output_change(model: nn.Module, other: nn.Module, x: torch.Tensor) -> float:
    """The largest absolute difference of two nets' outputs (eval mode) over inputs x,
    relative to the largest output of the first: 0 where they compute one function."""
    a = copy.deepcopy(model).eval()(x).double()
    b = copy.deepcopy(other).eval()(x).double()
    return float((a - b).abs().max() / a.abs().max())
