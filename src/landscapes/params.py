"""A model as a pure function of one flat parameter vector, evaluated over whole datasets.

`FlatModel(model)` splits the module into its parameters (as one flat vector `theta0`) and its
buffers, and evaluates `torch.func.functional_call` at any vector without touching the module:
the model is never left displaced. Losses are means over the whole dataset, computed in
chunks, in an explicitly chosen train/eval mode.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call


class FlatModel:
    """Evaluate `model` at flat parameter vectors; the module itself is never modified."""

    def __init__(self, model: nn.Module, mode: str = "eval"):
        if mode not in ("eval", "train"):
            raise ValueError(f"mode must be 'eval' or 'train', got '{mode}'")
        self.model = model
        self.mode = mode
        self.names = [n for n, _ in model.named_parameters()]
        self.shapes = [p.shape for _, p in model.named_parameters()]
        self.sizes = [p.numel() for _, p in model.named_parameters()]
        self.theta0 = torch.cat([p.detach().reshape(-1) for p in model.parameters()]).clone()
        self.buffers = {n: b.detach().clone() for n, b in model.named_buffers()}

    @property
    def dim(self) -> int:
        return self.theta0.numel()

    def unflatten(self, theta: torch.Tensor) -> dict[str, torch.Tensor]:
        chunks = torch.split(theta, self.sizes)
        return {n: c.view(s) for n, c, s in zip(self.names, chunks, self.shapes)}

    def flatten(self, tensors: dict[str, torch.Tensor]) -> torch.Tensor:
        return torch.cat([tensors[n].reshape(-1) for n in self.names])

    def logits(self, theta: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        self.model.train(self.mode == "train")
        state = {**self.buffers, **self.unflatten(theta)}
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
