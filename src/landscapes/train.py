"""Seeded, deterministic training on resident tensors, checkpoints and trajectories.

The same config gives a bitwise-identical checkpoint on CPU: initialization and data order
come from the run's seed, batches are index slices of tensors held in memory, and kernels are
deterministic (`provenance.configure_runtime`).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

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
    """The loss became NaN or infinite."""


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

    @classmethod
    def from_config(cls, mapping: dict) -> TrainConfig:
        unknown = set(mapping) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown training settings: {', '.join(sorted(unknown))}")
        return cls(**mapping)


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
    whatever the device.
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
    progress = Progress(cfg.epochs, f"{name} epochs")
    for epoch in range(1, cfg.epochs + 1):
        model.train()
        perm = torch.randperm(n, generator=gen)
        running = 0.0
        for i in range(0, n, cfg.batch_size):
            idx = perm[i:i + cfg.batch_size]
            xb, yb = data.x_train[idx].to(device), data.y_train[idx].to(device)
            loss = F.cross_entropy(model(xb), yb)
            if not math.isfinite(loss.item()):
                raise DivergedError(
                    f"run '{name}' diverged at epoch {epoch}: loss is {loss.item()}")
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            running += loss.item() * len(idx)
        lr = opt.param_groups[0]["lr"]
        sched.step()
        train_loss, train_acc = evaluate(model, data.x_train, data.y_train, chunk=METRICS_CHUNK)
        test_loss, test_acc = evaluate(model, data.x_test, data.y_test, chunk=METRICS_CHUNK)
        if not math.isfinite(train_loss):
            raise DivergedError(f"run '{name}' diverged at epoch {epoch}: loss is {train_loss}")
        metrics.append({"epoch": epoch, "lr": lr, "batch_loss": running / n,
                        "train_loss": train_loss, "train_acc": train_acc,
                        "test_loss": test_loss, "test_acc": test_acc})
        log.info("%s epoch %d/%d: train loss %.4f acc %.4f, test loss %.4f acc %.4f", name,
                 epoch, cfg.epochs, train_loss, train_acc, test_loss, test_acc)
        if cfg.trajectory_every and epoch % cfg.trajectory_every == 0:
            trajectory.append(vector(model).cpu())
            traj_epochs.append(epoch)
        progress.step()
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
