"""Batched ensembles: many small MLPs of one architecture trained together as one computation.

Each net keeps what makes it an independent run: its own seed, hence its own initialization
(`train.init_model(spec, data, seed)`, the same weights it would get alone) and its own data
order (a generator seeded with the same seed draws a permutation per epoch, as `train.train`
does). The weights of all nets are stacked along a leading ensemble axis and every layer is
one batched matmul, so a step of E nets costs one kernel per layer instead of E.

Training is written out by hand rather than through autograd: the MLP's gradients in closed
form, each a batched matmul, the momentum buffer updated inside the weight gradient's matmul
(`baddbmm` with beta = momentum), and every intermediate in a reused buffer. The nets are
trained in blocks of a few at a time, each block through all its epochs before the next, so a
block's weights, buffers and activations stay in cache; nets are independent, so the order in
which blocks run changes nothing. Plain SGD (momentum, Nesterov, weight decay, step schedule)
follows `torch.optim.SGD`'s arithmetic, so each net follows the path it would follow alone,
up to float rounding (in float32 a pre-activation within rounding of zero can flip a ReLU and
move a net by about lr / batch size; in float64 they agree to 1e-12, tests/test_ensemble.py).

A net may stop at a minimum before the last epoch (`Convergence`): every few epochs the norm
of its gradient over the whole training set is measured, and a net below the tolerance stops
there, as it would have stopped alone; its generator then draws no more permutations.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import torch
from torch import nn

from landscapes.data import Dataset
from landscapes.params import loss_and_accuracy
from landscapes.progress import Progress
from landscapes.train import TrainConfig, check_blowup, check_finite, init_model

log = logging.getLogger(__name__)

ACTIVATIONS = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid,
               "linear": lambda h: h}
# Activations of a block's widest layer times its batch times its nets: a block this size keeps
# its weights, momentum and activations within a core's cache (measured, benchmarks/README.md).
BLOCK_ELEMENTS = 1 << 19


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


# ------------------------------------------------------------------ forward and backward


class _Buffers:
    """Flat tensors reused step after step, viewed at each step's shape (no allocation)."""

    def __init__(self, dtype: torch.dtype):
        self.dtype, self.flat = dtype, {}

    def get(self, key, *shape) -> torch.Tensor:
        n = math.prod(shape)
        t = self.flat.get(key)
        if t is None or t.numel() < n:
            t = self.flat[key] = torch.empty(n, dtype=self.dtype)
        return t[:n].view(shape)


def _activate_(name: str, z: torch.Tensor) -> None:
    if name == "relu":
        z.relu_()
    elif name == "tanh":
        z.tanh_()
    elif name == "sigmoid":
        z.sigmoid_()


def _activation_backward_(name: str, delta: torch.Tensor, a: torch.Tensor) -> None:
    """delta *= act'(z), written through the activation's output a = act(z)."""
    if name == "relu":  # relu(z) > 0 exactly where z > 0
        torch.ops.aten.threshold_backward.grad_input(delta, a, 0, grad_input=delta)
    elif name == "tanh":
        delta.mul_(1 - a * a)
    elif name == "sigmoid":
        delta.mul_(a * (1 - a))


def _forward(buf: _Buffers, weights, biases, activation: str, x: torch.Tensor):
    """Hidden activations [x, a1, ...] as (e, b, width) and the logits transposed, (e, C, b):
    the output layer is thin, and W @ a^T runs about twice as fast as a @ W^T (measured)."""
    e, b = x.shape[:2]
    acts, h = [x], x
    for i in range(len(weights) - 1):
        z = buf.get(("a", i), e, b, weights[i].shape[1])
        torch.baddbmm(biases[i].unsqueeze(1), h, weights[i].transpose(1, 2), out=z)
        _activate_(activation, z)
        acts.append(z)
        h = z
    zt = buf.get("logits", e, weights[-1].shape[1], b)
    torch.baddbmm(biases[-1].unsqueeze(2), weights[-1], h.transpose(1, 2), out=zt)
    return acts, zt


def _loss_and_delta_(zt: torch.Tensor, y: torch.Tensor, scale: float) -> torch.Tensor:
    """Each net's mean cross-entropy over its batch, (e,); zt (e, C, b) is overwritten with
    scale * dLoss_sum/dlogits = scale * (softmax - onehot)."""
    lse = torch.logsumexp(zt, dim=1, keepdim=True)
    y1 = y.unsqueeze(1)
    loss = (lse - zt.gather(1, y1)).mean(2).squeeze(1)
    zt.sub_(lse).exp_()
    zt.scatter_add_(1, y1, torch.full(y1.shape, -1.0, dtype=zt.dtype))
    zt.mul_(scale)
    return loss


def _backward(buf: _Buffers, weights, activation: str, acts, delta_t, sink) -> None:
    """Backpropagate delta_t (e, C, b) = dLoss/dlogits^T. `sink(i, lhs, rhs, db)` receives
    layer i's gradient as the factors of its weight gradient (lhs @ rhs, (e, out, in)) and its
    bias gradient db (e, out); it may consume them in place (momentum inside the matmul)."""
    last = len(weights) - 1
    e, _, b = delta_t.shape
    sink(last, delta_t, acts[last], delta_t.sum(2))
    d = None
    for i in range(last - 1, -1, -1):
        up = buf.get(("d", i), e, b, weights[i + 1].shape[2])
        if d is None:
            torch.bmm(delta_t.transpose(1, 2), weights[last], out=up)
        else:
            torch.bmm(d, weights[i + 1], out=up)
        _activation_backward_(activation, up, acts[i + 1])
        d = up
        sink(i, d.transpose(1, 2), acts[i], d.sum(1))


def full_gradient(weights, biases, activation: str, x: torch.Tensor, y: torch.Tensor,
                  chunk: int = 512) -> tuple[torch.Tensor, torch.Tensor]:
    """Each net's mean training loss over all of (x, y) and the norm of its gradient (two (e,)
    tensors), in chunks of samples; x (n, features) is shared by the nets."""
    e, n = len(weights[0]), len(y)
    buf = _Buffers(x.dtype)
    grads = [torch.zeros_like(t) for pair in zip(weights, biases) for t in pair]
    total = torch.zeros(e, dtype=torch.float64)

    def sink(i, lhs, rhs, db):
        grads[2 * i].baddbmm_(lhs, rhs)
        grads[2 * i + 1].add_(db)

    for lo in range(0, n, chunk):
        xb = x[lo:lo + chunk].expand(e, -1, -1)
        yb = y[lo:lo + chunk].expand(e, -1)
        acts, zt = _forward(buf, weights, biases, activation, xb)
        total += _loss_and_delta_(zt, yb, 1.0 / n).double() * len(yb[0])
        _backward(buf, weights, activation, acts, zt, sink)
    norm = torch.stack([g.flatten(1).double().pow(2).sum(1) for g in grads]).sum(0).sqrt()
    return total / n, norm


# ------------------------------------------------------------------ training


@dataclass(frozen=True)
class Convergence:
    """Stop a net at a minimum: once the norm of its gradient over the whole training set is
    below `grad_tol`, measured after every `every` epochs (and after the last)."""

    grad_tol: float
    every: int = 5

    def __post_init__(self):
        if not self.grad_tol > 0 or self.every < 1:
            raise ValueError(f"convergence needs grad_tol > 0 and every >= 1, got "
                             f"{self.grad_tol} and {self.every}")


@dataclass
class EnsembleRun:
    """What training did to each net: `history` has one row per epoch (its lr and each net's
    mean batch loss, NaN once a net has stopped); per net, the epochs it trained, whether it
    met the convergence rule, and its full-set training loss and gradient norm where it
    stopped (NaN without a rule)."""

    history: list[dict]
    epochs: torch.Tensor
    converged: torch.Tensor
    train_loss: torch.Tensor
    grad_norm: torch.Tensor


def block_size(ens: Ensemble, batch_size: int, elements: int = BLOCK_ELEMENTS) -> int:
    """Nets per block: as many as keep batch x (widths of all layers) x nets near `elements`."""
    width = sum(w.shape[1] for w in ens.weights)
    return max(1, min(ens.size, elements // (batch_size * width)))


def train_ensemble(ens: Ensemble, data: Dataset, cfg: TrainConfig, name: str = "ensemble",
                   convergence: Convergence | None = None,
                   block: int | None = None) -> EnsembleRun:
    """Minibatch SGD on cross-entropy for every net, for `cfg.epochs` epochs or until the net
    meets `convergence`; the ensemble's tensors are updated in place.

    Net i draws its data order from a generator seeded with `ens.seeds[i]`, exactly as
    `train.train(model, data, cfg, seed)` does, so the two give the same parameters. `block`
    nets are trained at a time (default `block_size`); it changes the speed, not the result.
    """
    if cfg.optimizer != "sgd":
        raise ValueError(f"ensembles train with optimizer 'sgd' only, got '{cfg.optimizer}'")
    x, y = data.x_train.flatten(1).contiguous(), data.y_train
    e = ens.size
    block = block or block_size(ens, cfg.batch_size)
    losses = torch.full((cfg.epochs, e), math.nan, dtype=torch.float64)
    epochs = torch.zeros(e, dtype=torch.int64)
    converged = torch.zeros(e, dtype=torch.bool)
    train_loss = torch.full((e,), math.nan, dtype=torch.float64)
    grad_norm = torch.full((e,), math.nan, dtype=torch.float64)
    progress = Progress(e, f"{name} nets")
    for lo in range(0, e, block):
        nets = slice(lo, min(e, lo + block))
        _train_block(ens, nets, x, y, cfg, name, convergence, losses, epochs, converged,
                     train_loss, grad_norm)
        progress.step(nets.stop - nets.start)
    history = [{"epoch": k + 1, "lr": lr_at(cfg, k + 1), "batch_loss": losses[k].tolist()}
               for k in range(int(epochs.max()))]
    done = int(converged.sum())
    log.info("%s: %d of %d nets trained; %s", name, e, e,
             f"{done} converged (|grad| < {convergence.grad_tol:g}), epochs "
             f"{int(epochs.min())} to {int(epochs.max())}" if convergence else
             f"{cfg.epochs} epochs each")
    return EnsembleRun(history, epochs, converged, train_loss, grad_norm)


def _train_block(ens, nets: slice, x, y, cfg, name, convergence, losses, epochs, converged,
                 train_loss, grad_norm) -> None:
    """Train nets[nets] through all their epochs; the per-net records are filled in place."""
    seeds = ens.seeds[nets]
    labels = [f"the net with seed {s}" for s in seeds]
    params = [t[nets] for t in ens.parameters()]  # views: updates land in the ensemble
    active = torch.arange(len(seeds))  # the block's nets still training, positions in `params`
    gens = [torch.Generator().manual_seed(s) for s in seeds]
    momentum = [torch.zeros_like(p) for p in params]
    n, bs = len(y), cfg.batch_size
    buf = _Buffers(x.dtype)
    ybuf = torch.empty(len(seeds) * bs, dtype=y.dtype)
    steps = math.ceil(n / bs)
    fused = not cfg.nesterov
    grads: list[torch.Tensor] = []
    initial = None  # each net's first batch loss, before any step
    for epoch in range(1, cfg.epochs + 1):
        lr = lr_at(cfg, epoch)
        p = params if len(active) == len(seeds) else None
        if p is None:  # some nets stopped: train compact copies of the rest
            p = [t[active] for t in params]
            mom = [t[active] for t in momentum]
        else:
            mom = momentum
        w, b = p[0::2], p[1::2]
        if not fused:
            grads = [torch.empty_like(t) for t in p]
        sink = _momentum_sink(mom, cfg.momentum) if fused else _grad_sink(grads)
        perms = torch.stack([torch.randperm(n, generator=gens[int(j)]) for j in active])
        batch = torch.empty(steps, len(active), dtype=x.dtype)
        for k, i in enumerate(range(0, n, bs)):
            idx = perms[:, i:i + bs]
            m, nb = idx.shape
            flat = idx.reshape(-1)
            xb = torch.index_select(x, 0, flat, out=buf.get("x", m * nb, x.shape[1]))
            yb = torch.index_select(y, 0, flat, out=ybuf[:m * nb])
            acts, zt = _forward(buf, w, b, ens.activation, xb.view(m, nb, -1))
            batch[k] = _loss_and_delta_(zt, yb.view(m, nb), 1.0 / nb)
            _backward(buf, w, ens.activation, acts, zt, sink)
            _sgd_step(p, mom, grads, cfg, lr, fused)
        _check(batch, epoch, name, [labels[int(j)] for j in active])
        if initial is None:
            initial = batch[0].clone()
        mean = (batch * _batch_sizes(steps, bs, n, batch.dtype)).sum(0) / n
        blown = (initial[active] > 0) & (mean > cfg.max_loss_ratio * initial[active])
        if blown.any():
            j = int(blown.nonzero()[0])
            check_blowup(mean[j].item(), initial[active][j].item(), cfg.max_loss_ratio,
                         f"{name}: {labels[int(active[j])]} diverged at epoch {epoch}")
        at = nets.start + active
        losses[epoch - 1, at] = mean.double()
        epochs[at] = epoch
        if p is not params:  # write the copies back
            for t, c in zip(params + momentum, p + mom):
                t[active] = c
        if convergence and (epoch % convergence.every == 0 or epoch == cfg.epochs):
            loss, norm = full_gradient(w, b, ens.activation, x, y)
            train_loss[at], grad_norm[at] = loss, norm
            done = norm < convergence.grad_tol
            converged[at[done]] = True
            active = active[~done]
            if len(active) == 0:
                break
        log.debug("%s nets %d-%d epoch %d: batch loss mean %.4g", name, nets.start,
                  nets.stop - 1, epoch, mean.mean().item())


def _batch_sizes(steps: int, bs: int, n: int, dtype) -> torch.Tensor:
    sizes = torch.full((steps, 1), float(bs), dtype=dtype)
    sizes[-1] = n - bs * (steps - 1)
    return sizes


def _check(batch, epoch, name, labels) -> None:
    """A non-finite batch loss stops training, naming the first batch and net it struck."""
    if bool(torch.isfinite(batch).all()):
        return
    k = int((~torch.isfinite(batch)).any(1).nonzero()[0])
    check_finite(batch[k], f"{name} diverged at epoch {epoch}, batch {k + 1}", labels)


def _momentum_sink(momentum, mu: float):
    """Gradients straight into the momentum buffers: buf <- mu * buf + grad (as SGD's first
    step, buf = grad, since the buffers start at zero)."""
    def sink(i, lhs, rhs, db):
        momentum[2 * i].baddbmm_(lhs, rhs, beta=mu)
        momentum[2 * i + 1].mul_(mu).add_(db)
    return sink


def _grad_sink(grads):
    def sink(i, lhs, rhs, db):
        torch.bmm(lhs, rhs, out=grads[2 * i])
        grads[2 * i + 1].copy_(db)
    return sink


def _sgd_step(params, momentum, grads, cfg: TrainConfig, lr: float, fused: bool) -> None:
    """`torch.optim.SGD`'s update. Fused: the buffers already hold mu * buf + grad, and weight
    decay joins them; otherwise (Nesterov) its steps one by one on the gradients."""
    wd, mu = cfg.weight_decay, cfg.momentum
    if fused:
        if wd:
            torch._foreach_add_(momentum, params, alpha=wd)
        torch._foreach_add_(params, momentum, alpha=-lr)
        return
    if wd:
        torch._foreach_add_(grads, params, alpha=wd)
    if mu:
        torch._foreach_mul_(momentum, mu)
        torch._foreach_add_(momentum, grads)
        torch._foreach_add_(grads, momentum, alpha=mu)  # Nesterov: grad + mu * buf
    torch._foreach_add_(params, grads, alpha=-lr)


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


def ensemble_table(ens: Ensemble, data: Dataset, hidden: int,
                   run: EnsembleRun | None = None) -> list[dict]:
    """One row per net: size, seed, train and test loss, train and test error; with the
    training `run`, also the epochs it trained, whether it converged and its gradient norm."""
    train_loss, train_acc = evaluate_ensemble(ens, data.x_train, data.y_train)
    test_loss, test_acc = evaluate_ensemble(ens, data.x_test, data.y_test)
    rows = []
    for i, seed in enumerate(ens.seeds):
        row = {"size": hidden, "seed": seed, "train_loss": train_loss[i].item(),
               "test_loss": test_loss[i].item(), "train_error": 1 - train_acc[i].item(),
               "test_error": 1 - test_acc[i].item()}
        if run is not None:
            row.update(epochs=int(run.epochs[i]), converged=bool(run.converged[i]),
                       grad_norm=run.grad_norm[i].item())
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
