"""Loss surfaces f(theta + a d1 + b d2) on 1D or 2D grids, computed by tiles.

A `Grid` has named axes (`alpha`, `beta`, ...), each with its own values, so rectangular grids
are allowed; metric arrays are indexed `[i, j]` = (axis 0 value i, axis 1 value j). A tile is a
block of rows of axis 0; tiles are computed independently and merged by `merge_tiles`, which
checks that every row is covered exactly once.

`Evaluator` computes the mean cross-entropy and accuracy over the whole of a dataset at many
points without touching the module: the data stays resident, directions are stacked once, the
parameters of each point are built as one vector and passed to `torch.func.functional_call`,
and several points can go through one vectorized pass (`points_per_pass`, with `vmap`). The
sums over the data are `landscapes.params.loss_and_accuracy`'s, per sample in float64.

BatchNorm policy (`bn`):
- `eval`: eval mode with the center model's running statistics (Li et al. 2018). With
  directions over the full state the statistics move along the directions too.
- `recompute`: at each point the statistics are recomputed over the training inputs (one
  train-mode pass with a cumulative average), then the loss is measured in eval mode.
"""

from __future__ import annotations

import contextlib
import copy
import logging
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.utils.deterministic
from torch import fx, nn
from torch.func import functional_call, vmap

from landscapes.params import Layout, loss_and_accuracy, vector
from landscapes.progress import Progress
from landscapes.store import load_npz, save_npz
from landscapes.train import check_finite

log = logging.getLogger(__name__)

BN_POLICIES = ("eval", "recompute")
METRICS = ("train_loss", "train_acc", "test_loss", "test_acc")
_BN = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)
_FOLDABLE = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear)


@dataclass(frozen=True)
class Grid:
    """A rectangular grid with named axes; points in row-major order over the axes."""

    names: tuple[str, ...]
    values: tuple[np.ndarray, ...]

    def __post_init__(self):
        if not 1 <= len(self.names) <= 2 or len(self.names) != len(self.values):
            raise ValueError(f"a grid has one or two named axes, got names {self.names} "
                             f"with {len(self.values)} value arrays")
        if len(set(self.names)) != len(self.names):
            raise ValueError(f"grid axis names must differ, got {self.names}")
        for n, v in zip(self.names, self.values):
            if np.ndim(v) != 1 or len(v) < 1:
                raise ValueError(f"grid axis '{n}' needs a non-empty 1-D array of values")

    @classmethod
    def linspace(cls, **axes: tuple[float, float, int]) -> Grid:
        """`Grid.linspace(alpha=(-1, 1, 21), beta=(-1, 1, 11))`: evenly spaced named axes."""
        for name, spec in axes.items():
            if len(spec) != 3 or int(spec[2]) < 1:
                raise ValueError(f"grid axis '{name}' needs (start, stop, points >= 1), "
                                 f"got {spec}")
        return cls(tuple(axes), tuple(np.linspace(a, b, int(n)) for a, b, n in axes.values()))

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(v) for v in self.values)

    def rows(self, tile: int, n_tiles: int) -> tuple[int, int]:
        """Rows [start, stop) of axis 0 that tile `tile` of `n_tiles` covers."""
        if not 0 <= tile < n_tiles:
            raise ValueError(f"tile {tile} does not exist: tiles are 0..{n_tiles - 1}")
        if n_tiles > self.shape[0]:
            raise ValueError(f"{n_tiles} tiles for {self.shape[0]} rows along "
                             f"'{self.names[0]}': use at most one tile per row")
        bounds = np.linspace(0, self.shape[0], n_tiles + 1).round().astype(int)
        return int(bounds[tile]), int(bounds[tile + 1])

    def coordinates(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """(points, axes) coordinates of rows [start, stop), row-major."""
        first = self.values[0][start:stop]
        mesh = np.meshgrid(first, *self.values[1:], indexing="ij")
        return np.stack([m.reshape(-1) for m in mesh], axis=1)


@dataclass
class Surface:
    """Metrics on (part of) a grid: arrays of shape (stop - start, *grid.shape[1:])."""

    grid: Grid
    metrics: dict[str, np.ndarray]
    start: int = 0
    stop: int | None = None
    meta: dict = field(default_factory=dict)  # small scalars (seed, policy...) kept with it

    def save(self, path) -> None:
        arrays = {f"axis_{n}": v for n, v in zip(self.grid.names, self.grid.values)}
        arrays["axes"] = np.array(self.grid.names)
        arrays["rows"] = np.array([self.start, self.grid.shape[0] if self.stop is None
                                   else self.stop])
        arrays.update({f"metric_{k}": v for k, v in self.metrics.items()})
        arrays.update({f"meta_{k}": np.asarray(v) for k, v in self.meta.items()})
        save_npz(path, **arrays)

    @classmethod
    def load(cls, path) -> Surface:
        z = load_npz(path)
        names = tuple(str(n) for n in z["axes"])
        grid = Grid(names, tuple(z[f"axis_{n}"] for n in names))
        metrics = {k[7:]: v for k, v in z.items() if k.startswith("metric_")}
        meta = {k[5:]: v.item() if v.ndim == 0 else v for k, v in z.items()
                if k.startswith("meta_")}
        start, stop = (int(r) for r in z["rows"])
        return cls(grid, metrics, start, stop, meta)


def merge_tiles(tiles: list[Surface]) -> Surface:
    """One surface from tiles of the same grid; every row must be covered exactly once."""
    if not tiles:
        raise ValueError("no tiles to merge")
    grid = tiles[0].grid
    for t in tiles:
        if t.grid.names != grid.names or any(
                not np.array_equal(a, b) for a, b in zip(t.grid.values, grid.values)):
            raise ValueError("tiles come from different grids")
        if set(t.metrics) != set(tiles[0].metrics):
            raise ValueError("tiles carry different metrics")
    tiles = sorted(tiles, key=lambda t: t.start)
    covered = [r for t in tiles for r in range(t.start, t.stop)]
    if covered != list(range(grid.shape[0])):
        raise ValueError(f"tiles cover rows {covered}, not each of 0..{grid.shape[0] - 1} once")
    metrics = {k: np.concatenate([t.metrics[k] for t in tiles]) for k in tiles[0].metrics}
    return Surface(grid, metrics, 0, grid.shape[0], dict(tiles[0].meta))


@contextlib.contextmanager
def _no_nan_fill():
    """Skip deterministic mode's NaN fill of fresh tensors (a debugging aid that costs about a
    fifth of a small conv net's forward pass); every tensor here is written before it is read."""
    before = torch.utils.deterministic.fill_uninitialized_memory
    torch.utils.deterministic.fill_uninitialized_memory = False
    try:
        yield
    finally:
        torch.utils.deterministic.fill_uninitialized_memory = before


class FoldedBatchNorm:
    """An eval-mode copy of a model with each BatchNorm folded into the conv before it.

    In eval mode BatchNorm is a fixed per-channel affine map, so conv + BatchNorm equals one
    conv with weights W * s and bias beta + (b - mean) * s, s = gamma / sqrt(var + eps). `fold`
    computes those from any point's state (also under `vmap`), which saves the BatchNorm pass
    at every grid point. Only a BatchNorm whose sole input is a conv or linear layer used by
    nothing else is folded; the rest stay as they are.
    """

    def __init__(self, model: nn.Module):
        gm = fx.symbolic_trace(copy.deepcopy(model))
        modules = dict(gm.named_modules())
        self.pairs: list[tuple[str, str, float]] = []
        for node in list(gm.graph.nodes):
            bn = modules.get(node.target) if node.op == "call_module" else None
            if not isinstance(bn, _BN) or not (bn.affine and bn.track_running_stats):
                continue
            prev = node.args[0]
            if (isinstance(prev, fx.Node) and prev.op == "call_module"
                    and isinstance(modules[prev.target], _FOLDABLE) and len(prev.users) == 1):
                node.replace_all_uses_with(prev)
                gm.graph.erase_node(node)
                conv = modules[prev.target]
                if conv.bias is None:
                    w = conv.weight
                    conv.bias = nn.Parameter(w.new_zeros(w.shape[0]))
                self.pairs.append((prev.target, node.target, bn.eps))
        gm.graph.lint()
        gm.delete_all_unused_submodules()
        gm.recompile()
        self.module = gm.eval()

    def fold(self, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """The folded module's state from the original module's state at one point."""
        out = dict(state)
        for conv, bn, eps in self.pairs:
            w, b = state[f"{conv}.weight"], state.get(f"{conv}.bias")
            scale = state[f"{bn}.weight"] * torch.rsqrt(state[f"{bn}.running_var"] + eps)
            shift = (0.0 if b is None else b) - state[f"{bn}.running_mean"]
            out[f"{conv}.weight"] = w * scale.reshape(-1, *[1] * (w.dim() - 1))
            out[f"{conv}.bias"] = state[f"{bn}.bias"] + shift * scale
            for key in ("weight", "bias", "running_mean", "running_var", "num_batches_tracked"):
                out.pop(f"{bn}.{key}", None)
        return out


class Evaluator:
    """Loss and accuracy over whole datasets at points center + sum_k c_k d_k.

    The module is only read: its weights, buffers, train/eval flag and BatchNorm momentum are
    the same after every call as before.
    """

    def __init__(self, model: nn.Module, directions: torch.Tensor, over: str = "parameters",
                 bn: str = "eval", points_per_pass: int = 1, chunk: int = 4096,
                 bn_inputs: torch.Tensor | None = None, fold_bn: bool = True):
        if bn not in BN_POLICIES:
            raise ValueError(f"unknown BatchNorm policy '{bn}'; allowed: {', '.join(BN_POLICIES)}")
        if bn == "recompute" and bn_inputs is None:
            raise ValueError("BatchNorm policy 'recompute' needs the training inputs (bn_inputs)")
        if points_per_pass < 1 or chunk < 1:
            raise ValueError("points_per_pass and chunk must be at least 1")
        self.model = model
        self.layout = Layout.of(model, over)
        self.center = vector(model, over)
        self.directions = torch.atleast_2d(directions).to(self.center)  # dtype and device
        if self.directions.shape[1] != self.layout.dim:
            raise ValueError(f"directions have {self.directions.shape[1]} entries but the "
                             f"model's {over} have {self.layout.dim}")
        moving = set(self.layout.names)
        self.fixed = {n: b.detach() for n, b in model.named_buffers() if n not in moving}
        self.bn = bn
        self.bn_inputs = bn_inputs
        self.points_per_pass = 1 if bn == "recompute" else points_per_pass
        self.chunk = chunk
        self.folded = None
        if fold_bn:
            try:
                self.folded = FoldedBatchNorm(model)
            except (fx.proxy.TraceError, TypeError, NotImplementedError) as e:
                log.info("BatchNorm not folded (%s: %s); evaluating the model as it is",
                         type(e).__name__, e)
        self._batched = vmap(self._logits, in_dims=(0, None))

    def point(self, coords) -> torch.Tensor:
        """The flat vector (in the layout's order) at grid coordinates `coords`."""
        c = torch.as_tensor(np.asarray(coords), dtype=self.center.dtype, device=self.center.device)
        return self.center + c @ self.directions

    def _state(self, theta: torch.Tensor) -> dict[str, torch.Tensor]:
        return {**self.fixed, **self.layout.split(theta)}

    def _prepare(self, state: dict[str, torch.Tensor], channels_last: bool = False
                 ) -> dict[str, torch.Tensor]:
        """The state the forward module takes: BatchNorm folded, conv weights channels-last."""
        if self.folded is None:
            return state
        out = self.folded.fold(state)
        if channels_last:
            out = {n: t.contiguous(memory_format=torch.channels_last) if t.dim() == 4 else t
                   for n, t in out.items()}
        return out

    def _forward(self, prepared: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
        """Eval-mode logits at a prepared state."""
        module = self.model if self.folded is None else self.folded.module
        module.eval()
        return functional_call(module, prepared, (x,))

    def _logits(self, theta: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return self._forward(self._prepare(self._state(theta)), x)

    def _recomputed_state(self, theta: torch.Tensor) -> dict[str, torch.Tensor]:
        """The state at theta with BatchNorm statistics of the training inputs."""
        state = {n: t.clone() for n, t in self._state(theta).items()}
        for name, b in state.items():
            if name.endswith(("running_mean", "num_batches_tracked")):
                b.zero_()
            elif name.endswith("running_var"):
                b.fill_(1.0)
        bns = [m for m in self.model.modules() if isinstance(m, _BN)]
        momenta = [m.momentum for m in bns]
        try:
            for m in bns:
                m.momentum = None  # a cumulative average over the chunks
            self.model.train()
            for i in range(0, len(self.bn_inputs), self.chunk):  # updates `state` in place
                xb = self.bn_inputs[i:i + self.chunk].to(self.center.device)
                functional_call(self.model, state, (xb,))
        finally:
            for m, mom in zip(bns, momenta):
                m.momentum = mom
        return state

    @torch.no_grad()
    def evaluate(self, coords: np.ndarray, x: torch.Tensor, y: torch.Tensor
                 ) -> tuple[np.ndarray, np.ndarray]:
        """Mean cross-entropy and accuracy over all of (x, y) at each row of `coords`."""
        coords = np.atleast_2d(np.asarray(coords, dtype=np.float64))
        if coords.shape[1] != len(self.directions):
            raise ValueError(f"points have {coords.shape[1]} coordinates for "
                             f"{len(self.directions)} directions")
        was_training = self.model.training
        losses, accs = np.empty(len(coords)), np.empty(len(coords))
        progress = Progress(len(coords), "surface points")
        try:
            with _no_nan_fill():
                for s in range(0, len(coords), self.points_per_pass):
                    block = slice(s, s + self.points_per_pass)
                    losses[block], accs[block] = self._evaluate_block(coords[block], x, y)
                    progress.step(len(coords[block]))
        finally:
            self.model.train(was_training)
        return losses, accs

    def _evaluate_block(self, coords: np.ndarray, x, y):
        thetas = torch.stack([self.point(c) for c in coords])
        if len(thetas) > 1:
            def forward(xb):
                return self._batched(thetas, _channels_last(xb))
        else:
            state = (self._recomputed_state(thetas[0]) if self.bn == "recompute"
                     else self._state(thetas[0]))
            prepared = self._prepare(state, channels_last=True)  # once per point

            def forward(xb):
                return self._forward(prepared, _channels_last(xb)).unsqueeze(0)
        # the data stays on the CPU, a chunk at a time
        loss, acc = loss_and_accuracy(forward, x, y, self.chunk, self.center.device,
                                      sum_per_sample=True)
        return loss.cpu().numpy(), acc.cpu().numpy()


def _channels_last(x: torch.Tensor) -> torch.Tensor:
    """Image batches channels-last: faster convolutions on the CPU."""
    return x.contiguous(memory_format=torch.channels_last) if x.dim() == 4 else x


def point_label(grid: Grid, coords: np.ndarray, i: int) -> str:
    """'point (alpha = 0.1, beta = -0.3)': grid point i of `coords` by its axis values."""
    values = ", ".join(f"{n} = {v:.4g}" for n, v in zip(grid.names, coords[i]))
    return f"point ({values})"


def evaluate_tile(evaluator: Evaluator, grid: Grid, start: int, stop: int,
                  train: tuple[torch.Tensor, torch.Tensor],
                  test: tuple[torch.Tensor, torch.Tensor] | None = None,
                  name: str = "surface") -> Surface:
    """Metrics on rows [start, stop) of `grid` (train, and test when given). A non-finite
    loss stops it (DivergedError naming `name`, the rows and the grid point)."""
    coords = grid.coordinates(start, stop)
    shape = (stop - start, *grid.shape[1:])
    metrics = {}
    for split, data in (("train", train), ("test", test)):
        if data is None:
            continue
        loss, acc = evaluator.evaluate(coords, *data)
        check_finite(loss, f"{name}, rows {start}-{stop - 1} of {grid.names[0]}, diverged",
                     lambda i: point_label(grid, coords, i), quantity=f"{split} loss")
        metrics[f"{split}_loss"], metrics[f"{split}_acc"] = loss.reshape(shape), acc.reshape(shape)
        log.info("rows %d-%d: %s loss %.4g..%.4g", start, stop - 1, split, loss.min(), loss.max())
    return Surface(grid, metrics, start, stop)


def square_grid(extent: float, points) -> Grid:
    """The plane [-extent, extent]^2 with points = (alpha points, beta points): the grid of
    every filter-normalized surface and Hessian map."""
    na, nb = points
    return Grid.linspace(alpha=(-extent, extent, na), beta=(-extent, extent, nb))


def directions_tile(model: nn.Module, directions: torch.Tensor, grid: Grid, start: int,
                    stop: int, data, over: str, bn_policy: str, points_per_pass: int,
                    chunk: int, test: bool = False, name: str = "surface", **meta) -> Surface:
    """`evaluate_tile` of rows [start, stop) along `directions` on the training split of
    `data` (a `Dataset`), and its test split when `test`; `meta` (which plane, say), `over`
    and `bn_policy` are recorded in the surface's meta."""
    ev = Evaluator(model, directions, over=over, bn=bn_policy, points_per_pass=points_per_pass,
                   chunk=chunk, bn_inputs=data.x_train)
    surface = evaluate_tile(ev, grid, start, stop, (data.x_train, data.y_train),
                            (data.x_test, data.y_test) if test else None, name=name)
    surface.meta = {**meta, "over": over, "bn_policy": bn_policy}
    return surface


def nonconvexity_tile(model: nn.Module, directions: torch.Tensor, grid: Grid, start: int,
                      stop: int, data, n_samples: int | None, steps: int, seed: int,
                      name: str = "Hessian map") -> Surface:
    """`extreme_eigenvalues_tile` over the parameter part of `directions` (they may cover the
    BatchNorm state too), on the first `n_samples` training samples (all when None; the
    prepared split is shuffled, so a random subset); both settings recorded in its meta."""
    plane = directions[:, :Layout.of(model).dim]
    n = n_samples or len(data.y_train)
    surface = extreme_eigenvalues_tile(model, plane, grid, start, stop, data.x_train[:n],
                                       data.y_train[:n], steps, seed, name=name)
    surface.meta = {"n_samples": n, "lanczos_steps": steps}
    return surface


def grid_around(coords: np.ndarray, margin: float, points: tuple[int, int],
                names: tuple[str, str] = ("pc1", "pc2")) -> Grid:
    """A 2D grid covering the points `coords` (n, 2) and the origin, widened by `margin` of
    each axis' span (the PCA plane of a trajectory, Li et al. 2018 Fig. 9)."""
    coords = np.vstack([np.asarray(coords, dtype=np.float64).reshape(-1, 2), np.zeros((1, 2))])
    lo, hi = coords.min(0), coords.max(0)
    pad = margin * np.maximum(hi - lo, 1e-12)
    return Grid(tuple(names), tuple(np.linspace(a - p, b + p, int(n))
                                    for a, b, p, n in zip(lo, hi, pad, points)))


def local_minima(z: np.ndarray, tolerance: float = 0.0) -> int:
    """Interior points of a 2D grid lower than all 8 neighbours by more than `tolerance`."""
    z = np.asarray(z, dtype=np.float64)
    if z.ndim != 2 or min(z.shape) < 3:
        raise ValueError(f"local minima need a 2D grid of at least 3 x 3, got shape {z.shape}")
    center = z[1:-1, 1:-1]
    lower = np.ones_like(center, dtype=bool)
    for di in (-1, 0, 1):
        for dj in (-1, 0, 1):
            if di or dj:
                nb = z[1 + di:z.shape[0] - 1 + di, 1 + dj:z.shape[1] - 1 + dj]
                lower &= center < nb - tolerance
    return int(lower.sum())


def hessian_matvec(flat, theta: torch.Tensor, x: torch.Tensor, y: torch.Tensor,
                   chunk: int = 4096):
    """v -> H v for the mean cross-entropy over all of (x, y) at theta (eval mode).

    Data that fits one chunk keeps one graph for every product (fastest); larger data sums
    the chunks' products, each weighted by its share of the samples (an average, not a sum of
    per-batch Hessians), recomputing each chunk's graph per product so memory stays bounded.
    """
    from landscapes.hessian import full_batch_loss, hvp_fn

    if len(y) <= chunk:
        return hvp_fn(full_batch_loss(flat, x, y, dtype=torch.float32), theta)
    parts = [(len(y[i:i + chunk]) / len(y),
              hvp_fn(full_batch_loss(flat, x[i:i + chunk], y[i:i + chunk],
                                     dtype=torch.float32), theta, method="jvp"))
             for i in range(0, len(y), chunk)]
    return lambda v: sum(w * mv(v) for w, mv in parts)


def extreme_eigenvalues_tile(model: nn.Module, directions: torch.Tensor, grid: Grid,
                             start: int, stop: int, x: torch.Tensor, y: torch.Tensor,
                             steps: int, seed: int, chunk: int = 4096,
                             name: str = "Hessian map") -> Surface:
    """Most negative and most positive Hessian eigenvalue of the training loss at grid points.

    The Hessian is over all parameters at center + sum_k c_k d_k, of the mean cross-entropy
    over all of (x, y) with the model in eval mode (the center's BatchNorm statistics), from
    `steps` Lanczos iterations (`landscapes.hessian.extreme_eigenvalues`). Few steps give Ritz
    values inside the spectrum, so |lambda_min / lambda_max| is, if anything, underestimated.
    """
    from landscapes.hessian import extreme_eigenvalues
    from landscapes.params import FlatModel

    flat = FlatModel(model, mode="eval")
    device = flat.theta0.device  # the model's
    directions = torch.atleast_2d(directions).to(flat.theta0)
    x, y = x.to(device), y.to(device)
    coords = grid.coordinates(start, stop)
    lo, hi = np.empty(len(coords)), np.empty(len(coords))
    progress = Progress(len(coords), "Hessian points")
    for i, c in enumerate(coords):
        theta = flat.theta0 + torch.as_tensor(c).to(flat.theta0) @ directions
        matvec = hessian_matvec(flat, theta, x, y, chunk)
        lo[i], hi[i] = extreme_eigenvalues(matvec, flat.dim, steps, seed, device=device)
        check_finite([lo[i], hi[i]], f"{name}, rows {start}-{stop - 1} of {grid.names[0]}, "
                     f"diverged at {point_label(grid, coords, i)}",
                     ["lambda_min", "lambda_max"], quantity="Hessian eigenvalue")
        log.info("point %d/%d at %s: lambda_min %.4g, lambda_max %.4g", i + 1, len(coords),
                 np.round(c, 3).tolist(), lo[i], hi[i])
        progress.step()
    shape = (stop - start, *grid.shape[1:])
    return Surface(grid, {"lambda_min": lo.reshape(shape), "lambda_max": hi.reshape(shape)},
                   start, stop)
