"""MLPs of one shape that differ only in learning rate, weight decay and dropout rate, trained
side by side as one stacked computation.

Every net starts from the same initialization (`train.init_model(spec, data, seed)`) and sees
the same batches in the same order (the permutation `train.train` draws from `seed` each
epoch), so stacking changes what each net computes in one way only: its dropout masks come
from one shared generator. Layer l of E nets is one batched matmul of weights (E, out, in);
the loss is the sum of the nets' mean batch losses, whose gradient is each net's own. The
update is plain or momentum SGD with weight decay, `torch.optim.SGD`'s arithmetic with a
learning rate and a weight decay per net. A net whose full training-set loss (eval mode)
reaches the target at the end of an epoch stops there and leaves the stack.

A small MLP's step is mostly framework overhead, so E nets in one step cost little more
than one (benchmarks/README.md).
"""

from __future__ import annotations

import copy
import logging
import math

import torch
import torch.nn.functional as F
from torch import nn

from landscapes.data import Dataset
from landscapes.models import MLP
from landscapes.progress import Progress
from landscapes.train import DivergedError, check_finite

log = logging.getLogger(__name__)


def _linears(model: nn.Module) -> list[nn.Linear]:
    if not isinstance(model, MLP):
        raise TypeError(f"stacked training needs a landscapes MLP, got {type(model).__name__}")
    mods = [m for m in model.net if not isinstance(m, (nn.Flatten, nn.Dropout))]
    if any(not isinstance(m, (nn.Linear, nn.ReLU)) for m in mods):
        raise TypeError("stacked training needs a ReLU MLP")
    layers = [m for m in mods if isinstance(m, nn.Linear)]
    if any(m.bias is None for m in layers):
        raise TypeError("stacked training needs biases in every layer")
    return layers


def _logits(params, x, dropout=None, gen=None):
    """Outputs (E, B, classes) of the stacked nets on shared inputs x (B, features);
    `dropout` (E,) rates drop hidden units per net (training), None for eval mode."""
    h = x.flatten(1).unsqueeze(0).expand(params[0].shape[0], -1, -1)
    n = len(params) // 2
    for i in range(n):
        w, b = params[2 * i], params[2 * i + 1]
        h = torch.baddbmm(b.unsqueeze(1), h, w.transpose(1, 2))
        if i < n - 1:
            h = torch.relu(h)
            if dropout is not None:
                keep = (1 - dropout).view(-1, 1, 1)
                mask = torch.rand(h.shape, generator=gen) < keep
                h = h * mask / keep
    return h


def _losses(params, x, y, chunk=4096) -> torch.Tensor:
    """Each net's mean cross-entropy over all of (x, y), eval mode: (E,) float64."""
    total = torch.zeros(params[0].shape[0], dtype=torch.float64)
    with torch.no_grad():
        for i in range(0, len(y), chunk):
            out = _logits(params, x[i:i + chunk])
            ce = F.cross_entropy(out.flatten(0, 1), y[i:i + chunk].repeat(out.shape[0]),
                                 reduction="none")
            total += ce.view(out.shape[0], -1).double().sum(1)
    return total / len(y)


def train_stacked(model: nn.Module, data: Dataset, lrs: list[float], weight_decays: list[float],
                  dropouts: list[float], epochs: int, batch_size: int, momentum: float,
                  target_loss: float | None, seed: int, name: str = "stacked"
                  ) -> tuple[list[nn.Module], list[int], list[bool]]:
    """Train len(lrs) copies of `model` (an initialized ReLU MLP without dropout layers of
    its own), net e with learning rate lrs[e], weight decay weight_decays[e] and dropout
    dropouts[e]; returns each trained net (an MLP with its dropout rate, in eval mode), the
    epoch at which it stopped and whether it stopped at the target (not at the cap). A
    non-finite batch loss of a net still training stops the run with DivergedError naming
    the net."""
    layers = _linears(model)
    E = len(lrs)
    if not (len(weight_decays) == len(dropouts) == E) or E < 1:
        raise ValueError("one learning rate, weight decay and dropout rate per net")
    params = [t.detach().unsqueeze(0).repeat(E, *[1] * t.ndim).requires_grad_(True)
              for layer in layers for t in (layer.weight, layer.bias)]
    lr = torch.tensor(lrs, dtype=params[0].dtype)
    wd = torch.tensor(weight_decays, dtype=params[0].dtype)
    drop = torch.tensor(dropouts, dtype=params[0].dtype)
    buffers = [None] * len(params)
    order = torch.Generator().manual_seed(seed)  # the data order train.train draws
    masks = torch.Generator().manual_seed(seed + 1)
    n = len(data.y_train)
    stopped = [epochs] * E
    reached = [False] * E
    alive = list(range(E))  # the nets still training, in the stack's order
    final: dict[int, list[torch.Tensor]] = {}
    progress = Progress(epochs, f"{name} epochs")
    for epoch in range(1, epochs + 1):
        perm = torch.randperm(n, generator=order)
        for k, i in enumerate(range(0, n, batch_size), 1):
            idx = perm[i:i + batch_size]
            xb, yb = data.x_train[idx], data.y_train[idx]
            out = _logits(params, xb, drop, masks)
            losses = F.cross_entropy(out.flatten(0, 1), yb.repeat(len(alive)), reduction="none")
            losses = losses.view(len(alive), -1).mean(1)
            if not bool(torch.isfinite(losses).all()):
                e = alive[int((~torch.isfinite(losses)).nonzero()[0])]
                raise DivergedError(f"run '{name}' net {e} (lr {lrs[e]:g}, weight decay "
                                    f"{weight_decays[e]:g}, dropout {dropouts[e]:g}) diverged "
                                    f"at epoch {epoch}, batch {k}")
            grads = torch.autograd.grad(losses.sum(), params)
            with torch.no_grad():
                for j, (p, g) in enumerate(zip(params, grads)):
                    shape = (-1,) + (1,) * (p.ndim - 1)
                    g = g + wd.view(shape) * p
                    if momentum:
                        buffers[j] = g.clone() if buffers[j] is None else (
                            buffers[j].mul_(momentum).add_(g))
                        g = buffers[j]
                    p.sub_(lr.view(shape) * g)
        train_loss = _losses(params, data.x_train, data.y_train)
        check_finite(train_loss, f"run '{name}' diverged at epoch {epoch}",
                     [f"net {e}" for e in alive], quantity="training loss")
        done = (train_loss <= target_loss if target_loss is not None
                else torch.zeros(len(alive), dtype=torch.bool))
        for pos in done.nonzero().flatten().tolist():
            reached[alive[pos]] = True
        if epoch == epochs:
            done[:] = True
        progress.step()
        if epoch % 50 == 0 or bool(done.any()):
            log.info("%s epoch %d: %d of %d nets still training", name, epoch,
                     len(alive) - int(done.sum()), E)
        if bool(done.any()):
            # a net that stopped leaves the stack: the rest compute only what they need
            for pos in done.nonzero().flatten().tolist():
                final[alive[pos]] = [p[pos].detach().clone() for p in params]
                stopped[alive[pos]] = epoch
            keep = (~done).nonzero().flatten()
            alive = [alive[pos] for pos in keep.tolist()]
            if not alive:
                break
            params = [p.detach()[keep].requires_grad_(True) for p in params]
            buffers = [None if b is None else b[keep] for b in buffers]
            lr, wd, drop = lr[keep], wd[keep], drop[keep]
    nets = []
    for e in range(E):
        net = copy.deepcopy(model)
        if dropouts[e] > 0:
            net = _with_dropout(net, dropouts[e])
        with torch.no_grad():
            for layer, w, b in zip(_linears(net), final[e][0::2], final[e][1::2]):
                layer.weight.copy_(w)
                layer.bias.copy_(b)
        nets.append(net.eval())
    return nets, stopped, reached


def _with_dropout(model: MLP, rate: float) -> MLP:
    """The same MLP with a dropout layer after each hidden activation (models.MLP's layout)."""
    mods = []
    for m in model.net:
        mods.append(m)
        if isinstance(m, nn.ReLU):
            mods.append(nn.Dropout(rate))
    out = copy.deepcopy(model)
    out.net = nn.Sequential(*mods)
    return out


def steps(epochs: int, n: int, batch_size: int) -> int:
    return epochs * math.ceil(n / batch_size)
