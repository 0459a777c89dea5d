"""Seeded, deterministic training on resident tensors, checkpoints and trajectories.

The same config gives a bitwise-identical checkpoint on CPU: initialization and data order
come from the run's seed, batches are index slices of tensors held in memory, and kernels are
deterministic (`provenance.configure_runtime`).
"""

from __future__ import annotations

import contextlib
import logging
import math
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from landscapes import models
from landscapes.data import Dataset
from landscapes.params import evaluate, vector
from landscapes.progress import Progress
from landscapes.store import load_tensors, save_tensors

log = logging.getLogger(__name__)

OPTIMIZERS = ("sgd", "adam")
# The per-epoch metrics are measured in chunks of this many samples. The float32 chunk sums
# round with it, so a trained model measured with the same chunk matches its logged metrics.
METRICS_CHUNK = 2048


class DivergedError(RuntimeError):
    """A loss (or a Hessian eigenvalue) became NaN or infinite, or a training loss blew up
    past `TrainConfig.max_loss_ratio`. The message names the computation, the run or seed and
    the step; the script adds the config key to change (`divergence_hint`)."""


def check_finite(value, what: str, labels=None, quantity: str = "loss") -> None:
    """Raise DivergedError unless every entry of `value` (a number, array or tensor) is finite.

    `what` names the computation, the run and the step ("run 'x' (seed 0) diverged at epoch
    2"); the first non-finite entry of an array is named by `labels[i]` (a seed, a grid
    point; `labels` may be a function of the flat index) or by its flat index. It only reads
    `value`: no arithmetic, no random draws.
    """
    if isinstance(value, (int, float)) and math.isfinite(value):
        return
    if torch.is_tensor(value):
        if bool(torch.isfinite(value).all()):
            return
        value = value.detach().cpu().double().numpy()
    arr = np.asarray(value, dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(arr))
    if not bad.size:
        return
    if arr.ndim == 0:
        raise DivergedError(f"{what}: {quantity} is {arr.item()}")
    i = int(bad[0])
    label = (f"entry {i}" if labels is None else labels(i) if callable(labels)
             else labels[i])
    more = f" ({bad.size} of {arr.size} not finite)" if bad.size > 1 else ""
    raise DivergedError(f"{what}: {quantity} of {label} is {arr.flat[i]}{more}")


@contextlib.contextmanager
def divergence_hint(hint: str):
    """Append `hint` (the config key to change, e.g. "lower linear.saddle.lr") to the message
    of a DivergedError raised inside: scripts know the config, the library does not."""
    try:
        yield
    except DivergedError as e:
        e.args = (f"{e.args[0]}; {hint}" if e.args else hint, *e.args[1:])
        raise


def check_blowup(value: float, initial: float, ratio: float, what: str) -> None:
    """Raise DivergedError when an epoch's training loss exceeds `ratio` times the first
    batch's: a run whose loss stays finite but has blown up (Adam's steps are bounded by its
    learning rate, so at a huge one the loss ends near 1e10 at chance accuracy, never inf)."""
    if initial > 0 and value > ratio * initial:
        raise DivergedError(f"{what}: training loss {value:.4g} is above max_loss_ratio "
                            f"({ratio:g}) times the first batch's loss ({initial:.4g})")


@dataclass
class TrainConfig:
    """Optimizer, schedule and loop settings (the `train` mapping of an experiment's config)."""

    epochs: int = 10
    batch_size: int = 128
    optimizer: str = "sgd"
    lr: float = 0.1
    momentum: float = 0.0
    nesterov: bool = False
    weight_decay: float = 0.0
    milestones: list[int] = field(default_factory=list)  # epochs where lr *= gamma
    gamma: float = 0.1
    trajectory_every: int = 0  # keep the parameters every k epochs (0: none)
    max_loss_ratio: float = 100.0  # an epoch's mean batch loss above this times the first
    # batch's means the run blew up (`check_blowup`)
    target_loss: float | None = None  # stop after the first epoch whose full-training-set
    # loss is at or below this (`epochs` is then a cap): runs compared at a matched loss

    @classmethod
    def from_config(cls, mapping: dict) -> TrainConfig:
        unknown = set(mapping) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown training settings: {', '.join(sorted(unknown))}")
        return cls(**mapping)

    def reached_target(self, train_loss: float) -> bool:
        """Whether a full-training-set loss meets `target_loss` (never without one)."""
        return self.target_loss is not None and train_loss <= self.target_loss


@dataclass
class TrainResult:
    metrics: list[dict]  # one row per epoch
    trajectory: list[torch.Tensor]  # flat parameter vectors, epoch 0 first
    trajectory_epochs: list[int]


def init_model(spec: dict, data: Dataset, seed: int) -> nn.Module:
    """A freshly initialized model whose weights depend only on `spec` and `seed`."""
    torch.manual_seed(seed)
    return models.build(spec, data.input_shape, data.n_classes)


def make_optimizer(model: nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum,
                               nesterov=cfg.nesterov, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "adam":
        return torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    raise ValueError(f"unknown optimizer '{cfg.optimizer}'; allowed: {', '.join(OPTIMIZERS)}")


def device_of(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


def train(model: nn.Module, data: Dataset, cfg: TrainConfig, seed: int,
          name: str = "run", device: str | torch.device | None = None) -> TrainResult:
    """Minibatch training with cross-entropy; the data order is drawn from `seed`.

    The model and each batch move to `device` (default: where the model is) for the run; the
    model is back where it came from afterwards, and the data order is drawn on the CPU
    whatever the device. A non-finite loss (of a batch, or the last epoch's training or test
    loss), or an epoch's mean batch loss over `cfg.max_loss_ratio` times the first batch's,
    stops it with DivergedError naming the run, its seed and the epoch (and batch). An earlier
    epoch's non-finite eval-mode loss is logged and kept in the metrics: with finite batches,
    it is BatchNorm's running statistics lagging the weights, not the run diverging.
    """
    home = device_of(model)
    device = home if device is None else torch.device(device)
    model.to(device)
    try:
        return _train(model, data, cfg, seed, name, device)
    finally:
        model.to(home)


def _train(model: nn.Module, data: Dataset, cfg: TrainConfig, seed: int, name: str,
           device: torch.device) -> TrainResult:
    opt = make_optimizer(model, cfg)
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, cfg.milestones, cfg.gamma)
    gen = torch.Generator().manual_seed(seed)
    n = len(data.y_train)
    metrics, trajectory, traj_epochs = [], [], []
    if cfg.trajectory_every:
        trajectory.append(vector(model).cpu())  # on the CPU: a trajectory can outgrow a GPU
        traj_epochs.append(0)
    run = f"run '{name}' (seed {seed})"
    initial = None  # the first batch's loss, before any step
    progress = Progress(cfg.epochs, f"{name} epochs")
    for epoch in range(1, cfg.epochs + 1):
        model.train()
        perm = torch.randperm(n, generator=gen)
        running = 0.0
        for k, i in enumerate(range(0, n, cfg.batch_size), 1):
            idx = perm[i:i + cfg.batch_size]
            xb, yb = data.x_train[idx].to(device), data.y_train[idx].to(device)
            loss = F.cross_entropy(model(xb), yb)
            value = loss.item()
            at = f"{run} diverged at epoch {epoch}, batch {k}"
            check_finite(value, at)
            initial = value if initial is None else initial
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            running += value * len(idx)
        lr = opt.param_groups[0]["lr"]
        sched.step()
        train_loss, train_acc = evaluate(model, data.x_train, data.y_train, chunk=METRICS_CHUNK)
        test_loss, test_acc = evaluate(model, data.x_test, data.y_test, chunk=METRICS_CHUNK)
        at = f"{run} diverged at epoch {epoch}"
        # the loss the optimizer saw: an eval-mode loss can be far above it while BatchNorm's
        # running statistics lag the weights (deep BN nets after a few steps), with no blow-up
        batch_loss = running / n
        if epoch < cfg.epochs and not math.isfinite(train_loss + test_loss):
            # even overflow (a plain 110-layer net one step in); only the model the run ends
            # with must be finite in eval mode, for everything downstream evaluates it so
            log.warning("%s epoch %d: eval-mode loss not finite (training %s, test %s) while "
                        "the batches' mean loss is %.4f: BatchNorm's running statistics lag "
                        "the weights; training goes on", name, epoch, train_loss, test_loss,
                        batch_loss)
        else:
            check_finite(train_loss, at, quantity="training loss")
            check_finite(test_loss, at, quantity="test loss")
        check_blowup(batch_loss, initial, cfg.max_loss_ratio, at)
        metrics.append({"epoch": epoch, "lr": lr, "batch_loss": batch_loss,
                        "train_loss": train_loss, "train_acc": train_acc,
                        "test_loss": test_loss, "test_acc": test_acc})
        log.info("%s epoch %d/%d: train loss %.4f acc %.4f, test loss %.4f acc %.4f", name,
                 epoch, cfg.epochs, train_loss, train_acc, test_loss, test_acc)
        reached = cfg.reached_target(train_loss)
        if cfg.trajectory_every and (epoch % cfg.trajectory_every == 0 or reached):
            trajectory.append(vector(model).cpu())
            traj_epochs.append(epoch)
        progress.step()
        if reached:
            log.info("%s reached the target training loss %g at epoch %d", name,
                     cfg.target_loss, epoch)
            break
    return TrainResult(metrics, trajectory, traj_epochs)


def save_checkpoint(path, model: nn.Module, metadata: dict | None = None) -> None:
    """Parameters and buffers (BatchNorm statistics too) in safetensors."""
    save_tensors(path, dict(model.state_dict()), metadata)


def load_checkpoint(path, model: nn.Module) -> dict:
    """Load weights into `model` (built with the same spec); returns the stored metadata."""
    state, meta = load_tensors(path)
    model.load_state_dict(state)
    return meta


def load_trained(spec: dict, data: Dataset, seed: int, path) -> nn.Module:
    """The model `spec` with the weights stored at `path`, built as it was for training (the
    same seed, so the global random state afterwards is the same too)."""
    model = init_model(spec, data, seed)
    load_checkpoint(path, model)
    return model


def save_trajectory(path, result: TrainResult) -> None:
    save_tensors(path, {"params": torch.stack(result.trajectory),
                        "epochs": torch.tensor(result.trajectory_epochs)})


def load_trajectory(path) -> tuple[torch.Tensor, torch.Tensor]:
    t, _ = load_tensors(path)
    return t["params"], t["epochs"]
