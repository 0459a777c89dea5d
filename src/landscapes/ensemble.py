"""Batched ensembles: many small MLPs of one architecture trained together as one computation.

Each net keeps what makes it an independent run: its own seed, hence its own initialization
(`train.init_model(spec, data, seed)`, the same weights it would get alone) and its own data
order (a generator seeded with the same seed draws a permutation per epoch, as `train.train`
does). The weights of all nets are stacked along a leading ensemble axis and every layer is
one batched matmul (`torch.baddbmm`), so a step of E nets costs one kernel per layer instead of
E. Plain SGD (momentum, Nesterov, weight decay, step schedule) is applied with the same
arithmetic as `torch.optim.SGD`, so each net follows the path it would follow alone, up to
float rounding.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from landscapes.data import Dataset
from landscapes.params import loss_and_accuracy
from landscapes.train import TrainConfig, check_blowup, check_finite, init_model
from landscapes.progress import Progress

log = logging.getLogger(__name__)

ACTIVATIONS = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid,
               "linear": lambda h: h}


@dataclass
class Ensemble:
    """E MLPs of identical shape: layer l has weights (E, out, in) and biases (E, out)."""

    weights: list[torch.Tensor]
    biases: list[torch.Tensor]
    activation: str
    seeds: list[int]

    @property
    def size(self) -> int:
        return len(self.seeds)

    def to(self, dtype: torch.dtype) -> Ensemble:
        return Ensemble([w.to(dtype) for w in self.weights], [b.to(dtype) for b in self.biases],
                        self.activation, self.seeds)

    def parameters(self) -> list[torch.Tensor]:
        return [t for pair in zip(self.weights, self.biases) for t in pair]

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """Outputs (E, B, classes) for per-net inputs x of shape (E, B, features)."""
        act = ACTIVATIONS[self.activation]
        h = x
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            h = torch.baddbmm(b.unsqueeze(1), h, w.transpose(1, 2))
            if i < last:
                h = act(h)
        return h

    def net_parameters(self, i: int) -> list[torch.Tensor]:
        """Net i's parameters in the order of `model.parameters()` of the lone MLP."""
        return [t[i] for t in self.parameters()]

    def matmul_flops(self, n_samples: int) -> int:
        """Matmul flops of one training pass over n samples per net, all nets together.

        Forward 2*in*out per sample and layer; backward twice that, except the first layer,
        which needs no gradient for its input.
        """
        per_sample = 0
        for i, w in enumerate(self.weights):
            fan = 2 * w.shape[1] * w.shape[2]
            per_sample += fan * (2 if i == 0 else 3)
        return per_sample * n_samples * self.size


def _mlp_layers(model: nn.Module) -> list[nn.Linear]:
    layers = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if not layers or any(m.bias is None for m in layers):
        raise ValueError("ensembles need an MLP whose linear layers all have biases")
    return layers


def init_ensemble(spec: dict, data: Dataset, seeds: list[int]) -> Ensemble:
    """Stack the nets `train.init_model(spec, data, seed)` would build, one per seed."""
    if spec.get("name") != "mlp":
        raise ValueError(f"ensembles support model 'mlp' only, got '{spec.get('name')}'")
    if not seeds:
        raise ValueError("an ensemble needs at least one seed")
    if len(set(seeds)) != len(seeds):
        raise ValueError("ensemble seeds must be distinct: equal seeds would train the same net")
    activation = spec.get("activation", "relu")
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation '{activation}'; allowed: {', '.join(ACTIVATIONS)}")
    nets = [_mlp_layers(init_model(spec, data, s)) for s in seeds]
    weights = [torch.stack([net[i].weight.detach() for net in nets]).contiguous()
               for i in range(len(nets[0]))]
    biases = [torch.stack([net[i].bias.detach() for net in nets]).contiguous()
              for i in range(len(nets[0]))]
    return Ensemble(weights, biases, activation, list(seeds))


def lr_at(cfg: TrainConfig, epoch: int) -> float:
    """The learning rate of a 1-based epoch under MultiStepLR(milestones, gamma)."""
    return cfg.lr * cfg.gamma ** sum(m <= epoch - 1 for m in cfg.milestones)


class SGD:
    """`torch.optim.SGD`'s update, applied to stacked tensors (so to all nets at once)."""

    def __init__(self, params: list[torch.Tensor], cfg: TrainConfig):
        if cfg.optimizer != "sgd":
            raise ValueError(f"ensembles train with optimizer 'sgd' only, got '{cfg.optimizer}'")
        self.params, self.cfg = params, cfg
        self.buffers: list[torch.Tensor | None] = [None] * len(params)

    @torch.no_grad()
    def step(self, grads: list[torch.Tensor], lr: float) -> None:
        c = self.cfg
        for i, (p, g) in enumerate(zip(self.params, grads)):
            if c.weight_decay:
                g = g.add(p, alpha=c.weight_decay)
            if c.momentum:
                buf = self.buffers[i]
                if buf is None:
                    buf = self.buffers[i] = g.clone()
                else:
                    buf.mul_(c.momentum).add_(g)
                g = g.add(buf, alpha=c.momentum) if c.nesterov else buf
            p.add_(g, alpha=-lr)


def train_ensemble(ens: Ensemble, data: Dataset, cfg: TrainConfig,
                   name: str = "ensemble") -> list[dict]:
    """Minibatch SGD on cross-entropy for every net at once; returns per-epoch batch losses.

    Net i draws its data order from a generator seeded with `ens.seeds[i]`, exactly as
    `train.train(model, data, cfg, seed)` does, so the two give the same parameters.
    """
    params = [p.requires_grad_(True) for p in ens.parameters()]
    opt = SGD(params, cfg)
    gens = [torch.Generator().manual_seed(s) for s in ens.seeds]
    x, y = data.x_train.flatten(1), data.y_train
    n, e = len(y), ens.size
    history = []
    nets = [f"the net with seed {s}" for s in ens.seeds]
    initial = None  # each net's first batch loss, before any step
    progress = Progress(cfg.epochs, f"{name} epochs")
    for epoch in range(1, cfg.epochs + 1):
        lr = lr_at(cfg, epoch)
        perms = torch.stack([torch.randperm(n, generator=g) for g in gens])  # (E, n)
        running = torch.zeros(e)
        for k, i in enumerate(range(0, n, cfg.batch_size), 1):
            idx = perms[:, i:i + cfg.batch_size]  # (E, B)
            b = idx.shape[1]
            out = ens.logits(x[idx])  # (E, B, C)
            per_net = F.cross_entropy(out.reshape(e * b, -1), y[idx].reshape(-1),
                                      reduction="none").view(e, b).mean(1)
            # Net i's parameters receive only the gradient of net i's own mean loss.
            grads = torch.autograd.grad(per_net.sum(), params)
            per_net = per_net.detach()
            at = f"{name} diverged at epoch {epoch}, batch {k}"
            check_finite(per_net, at, nets)
            initial = per_net.clone() if initial is None else initial
            opt.step(grads, lr)
            running += per_net * b
        # the epoch's mean batch loss of each net: no extra pass over the data
        blown = (initial > 0) & (running / n > cfg.max_loss_ratio * initial)
        if blown.any():
            j = int(blown.nonzero()[0])
            check_blowup((running / n)[j].item(), initial[j].item(), cfg.max_loss_ratio,
                         f"{name}: {nets[j]} diverged at epoch {epoch}")
        history.append({"epoch": epoch, "lr": lr, "batch_loss": (running / n).tolist()})
        log.info("%s epoch %d/%d: batch loss mean %.4f (min %.4f, max %.4f)", name, epoch,
                 cfg.epochs, (running / n).mean().item(), (running / n).min().item(),
                 (running / n).max().item())
        progress.step()
    for p in params:
        p.requires_grad_(False)
    return history


@torch.no_grad()
def evaluate_ensemble(ens: Ensemble, x: torch.Tensor, y: torch.Tensor,
                      max_elements: int = 1 << 24) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean cross-entropy and accuracy of every net over the whole set: two (E,) tensors.

    The set is processed in chunks whose widest activation holds at most `max_elements`.
    """
    e = ens.size
    widest = max(w.shape[1] for w in ens.weights)
    chunk = max(1, min(len(y), max_elements // (e * widest)))
    return loss_and_accuracy(lambda xb: ens.logits(xb.expand(e, *xb.shape)), x.flatten(1), y,
                             chunk, sum_per_sample=True)


def ensemble_table(ens: Ensemble, data: Dataset, hidden: int) -> list[dict]:
    """One row per net: size, seed, train and test loss, train and test error."""
    train_loss, train_acc = evaluate_ensemble(ens, data.x_train, data.y_train)
    test_loss, test_acc = evaluate_ensemble(ens, data.x_test, data.y_test)
    rows = []
    for i, seed in enumerate(ens.seeds):
        row = {"size": hidden, "seed": seed, "train_loss": train_loss[i].item(),
               "test_loss": test_loss[i].item(), "train_error": 1 - train_acc[i].item(),
               "test_error": 1 - test_acc[i].item()}
        check_finite([row["train_loss"], row["test_loss"]],
                     f"net of size {hidden} with seed {seed} diverged by the end of training",
                     ["the training set", "the test set"])
        rows.append(row)
    return rows


def shard_seeds(base_seed: int, runs: int, shards: int, shard: int) -> list[int]:
    """The seeds of one shard: runs base_seed + k, split into `shards` contiguous blocks."""
    if not 0 <= shard < shards:
        raise ValueError(f"shard {shard} out of range: there are {shards} shards")
    if shards > runs:
        raise ValueError(f"{shards} shards for {runs} runs: each shard needs at least one run")
    lo, hi = shard * runs // shards, (shard + 1) * runs // shards
    return [base_seed + k for k in range(lo, hi)]
