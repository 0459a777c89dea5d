"""Flat parameter vectors, a model as a pure function of one, and loss and accuracy over a dataset.

- `Layout`: the one map between a model's tensors and a flat vector: its parameters in
  `named_parameters()` order, or its full state (those, then the floating-point buffers, i.e.
  BatchNorm running statistics, in `named_buffers()` order). `vector(model)` is the model's
  current values in that order.
- `FlatModel(model)`: the module's parameters as one flat vector `theta0` plus its buffers,
  evaluated at any vector with `torch.func.functional_call` without touching the module: the
  model is never left displaced. Losses are means over the whole dataset, computed in chunks,
  in an explicitly chosen train/eval mode.
- `loss_and_accuracy`: mean cross-entropy and accuracy over a whole dataset, chunk by chunk,
  of one or several points at once; `evaluate` applies it to a model at its current
  parameters or at a flat vector.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

OVER = ("parameters", "state")


@dataclass(frozen=True)
class Layout:
    """Names and shapes of the tensors a flat vector covers, in order."""

    names: tuple[str, ...]
    shapes: tuple[torch.Size, ...]
    n_params: int  # the first n_params names are parameters, the rest buffers

    @classmethod
    def of(cls, model: nn.Module, over: str = "parameters") -> Layout:
        """The layout of the parameters only, or of the full state (parameters + float
        buffers)."""
        if over not in OVER:
            raise ValueError(f"flat vectors are over {' or '.join(OVER)}, got '{over}'")
        named = [(n, p.shape) for n, p in model.named_parameters()]
        n_params = len(named)
        if over == "state":  # integer buffers (BatchNorm's batch counter) cannot move
            named += [(n, b.shape) for n, b in model.named_buffers() if b.is_floating_point()]
        return cls(tuple(n for n, _ in named), tuple(s for _, s in named), n_params)

    @cached_property  # split runs at every evaluation: compute the sizes once
    def sizes(self) -> list[int]:
        return [math.prod(s) for s in self.shapes]

    @cached_property
    def dim(self) -> int:
        return sum(self.sizes)

    def values(self, model: nn.Module) -> torch.Tensor:
        """The model's current values in this order: a detached copy, in the model's dtype and
        on its device."""
        state = dict(model.named_parameters())
        state.update(dict(model.named_buffers()))
        return torch.cat([state[n].detach().reshape(-1) for n in self.names]).clone()

    def split(self, flat: torch.Tensor) -> dict[str, torch.Tensor]:
        """Named views of a flat vector (or of a batch of them, along the last axis)."""
        if flat.shape[-1] != self.dim:
            raise ValueError(f"vector of length {flat.shape[-1]} does not match the model's "
                             f"{self.dim} entries")
        chunks = torch.split(flat, self.sizes, dim=-1)
        return {n: c.reshape(*flat.shape[:-1], *s)
                for n, c, s in zip(self.names, chunks, self.shapes)}

    def flatten(self, tensors: dict[str, torch.Tensor]) -> torch.Tensor:
        """The flat vector of named tensors (the inverse of `split`)."""
        return torch.cat([tensors[n].reshape(-1) for n in self.names])

    def bias_bn_mask(self) -> torch.Tensor:
        """True on the entries of tensors with at most one dimension (biases, BatchNorm)."""
        return torch.cat([torch.full((k,), len(s) <= 1, dtype=torch.bool)
                          for k, s in zip(self.sizes, self.shapes)])


def vector(model: nn.Module, over: str = "parameters") -> torch.Tensor:
    """The model's current values as one flat vector in `Layout.of(model, over)` order."""
    return Layout.of(model, over).values(model)


class FlatModel:
    """Evaluate `model` at flat parameter vectors; the module itself is never modified."""

    def __init__(self, model: nn.Module, mode: str = "eval"):
        if mode not in ("eval", "train"):
            raise ValueError(f"mode must be 'eval' or 'train', got '{mode}'")
        self.model = model
        self.mode = mode
        self.layout = Layout.of(model)
        self.theta0 = self.layout.values(model)
        self.buffers = {n: b.detach().clone() for n, b in model.named_buffers()}

    @property
    def dim(self) -> int:
        return self.theta0.numel()

    def logits(self, theta: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        self.model.train(self.mode == "train")
        state = {**self.buffers, **self.layout.split(theta)}
        return functional_call(self.model, state, (x,))

    def loss(self, theta: torch.Tensor, x: torch.Tensor, y: torch.Tensor,
             chunk: int = 4096) -> torch.Tensor:
        """Mean cross-entropy over all of (x, y); differentiable in theta."""
        total = theta.new_zeros(())
        for i in range(0, len(y), chunk):
            out = self.logits(theta, x[i:i + chunk])
            total = total + F.cross_entropy(out, y[i:i + chunk], reduction="sum")
        return total / len(y)

    def loss_and_grad(self, theta: torch.Tensor, x: torch.Tensor, y: torch.Tensor,
                      chunk: int = 4096) -> tuple[torch.Tensor, torch.Tensor]:
        theta = theta.detach().requires_grad_(True)
        loss = self.loss(theta, x, y, chunk)
        (grad,) = torch.autograd.grad(loss, theta)
        return loss.detach(), grad


@torch.no_grad()
def loss_and_accuracy(logits: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor,
                      y: torch.Tensor, chunk: int = 4096, device: torch.device | None = None,
                      sum_per_sample: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean cross-entropy and accuracy over all of (x, y) of P points: two float64 (P,) tensors.

    `logits(xb)` maps a chunk of inputs (moved to `device` when given) to (P, batch, classes)
    logits. The loss is summed chunk by chunk in float64, each chunk's term being either the
    sum of its losses in the logits' dtype, brought to the CPU (`sum_per_sample=False`), or
    its per-sample losses, each in float64, summed where the logits are (`True`). The two
    round differently (and CUDA divides by a scalar through its reciprocal, so where the sums
    are matters too): each caller keeps the one its results were made with.
    """
    if not len(y):
        raise ValueError("loss and accuracy over an empty dataset are undefined")
    total = correct = None
    for i in range(0, len(y), chunk):
        xb, yb = x[i:i + chunk], y[i:i + chunk]
        if device is not None:
            xb, yb = xb.to(device), yb.to(device)
        out = logits(xb)
        if total is None:  # zeros first: the sums start at +0.0, as a plain loop's would
            home = out.device if sum_per_sample else torch.device("cpu")
            total = torch.zeros(len(out), dtype=torch.float64, device=home)
            correct = torch.zeros(len(out), dtype=torch.int64, device=home)
        if sum_per_sample:
            ce = F.cross_entropy(out.flatten(0, 1), yb.repeat(len(out)), reduction="none")
            total += ce.view(len(out), -1).double().sum(1)
        else:
            sums = torch.stack([F.cross_entropy(o, yb, reduction="sum") for o in out])
            total += sums.double().to(home)
        correct += (out.argmax(-1) == yb).sum(1).to(home)
    return total / len(y), correct.double() / len(y)


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor,
             theta: torch.Tensor | None = None, chunk: int = 4096) -> tuple[float, float]:
    """Mean cross-entropy and accuracy of `model` in eval mode over all of (x, y).

    At its current parameters (`theta` None: a plain forward pass), or at the flat parameter
    vector `theta` with its current buffers (`FlatModel`). Each chunk moves to the model's
    device (theta's). The module's weights, buffers and train/eval flag are as before.
    """
    was_training = model.training
    try:
        if theta is None:
            model.eval()
            device = next(model.parameters()).device

            def logits(xb):
                return model(xb).unsqueeze(0)
        else:
            flat, device = FlatModel(model, mode="eval"), theta.device

            def logits(xb):
                return flat.logits(theta, xb).unsqueeze(0)
        loss, acc = loss_and_accuracy(logits, x, y, chunk, device)
    finally:
        model.train(was_training)
    return loss.item(), acc.item()


def interpolate(a: torch.Tensor, b: torch.Tensor, alphas) -> list[torch.Tensor]:
    """Points (1 - alpha) a + alpha b along the line through two parameter vectors."""
    return [(1 - float(t)) * a + float(t) * b for t in alphas]
