"""Flat parameter vectors, and a model as a pure function of one, evaluated over whole datasets.

- `Layout`: the one map between a model's tensors and a flat vector: its parameters in
  `named_parameters()` order, or its full state (those, then the floating-point buffers, i.e.
  BatchNorm running statistics, in `named_buffers()` order). `vector(model)` is the model's
  current values in that order.
- `FlatModel(model)`: the module's parameters as one flat vector `theta0` plus its buffers,
  evaluated at any vector with `torch.func.functional_call` without touching the module: the
  model is never left displaced. Losses are means over the whole dataset, computed in chunks,
  in an explicitly chosen train/eval mode.
"""

from __future__ import annotations

import math
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

    @torch.no_grad()
    def loss_and_accuracy(self, theta: torch.Tensor, x: torch.Tensor, y: torch.Tensor,
                          chunk: int = 4096) -> tuple[float, float]:
        total, correct = 0.0, 0
        for i in range(0, len(y), chunk):
            out = self.logits(theta, x[i:i + chunk])
            total += F.cross_entropy(out, y[i:i + chunk], reduction="sum").item()
            correct += (out.argmax(1) == y[i:i + chunk]).sum().item()
        return total / len(y), correct / len(y)

    def loss_and_grad(self, theta: torch.Tensor, x: torch.Tensor, y: torch.Tensor,
                      chunk: int = 4096) -> tuple[torch.Tensor, torch.Tensor]:
        theta = theta.detach().requires_grad_(True)
        loss = self.loss(theta, x, y, chunk)
        (grad,) = torch.autograd.grad(loss, theta)
        return loss.detach(), grad


def interpolate(a: torch.Tensor, b: torch.Tensor, alphas) -> list[torch.Tensor]:
    """Points (1 - alpha) a + alpha b along the line through two parameter vectors."""
    return [(1 - float(t)) * a + float(t) * b for t in alphas]
