"""Keskar et al. 2017's epsilon-sharpness (Metric 2.1) and the rescalings that fool it.

Metric 2.1: for a point x, a matrix A (n x p) and eps > 0, the box
    C_eps = {y in R^p : |y_i| <= eps (|(A+ x)_i| + 1)}
and the sharpness
    phi = (max_{y in C_eps} f(x + A y) - f(x)) / (1 + f(x)) * 100,
with f the mean cross-entropy over the whole TRAINING set. A = I gives the full space; a
random subspace uses p = 100 orthonormal Gaussian columns (the paper does not state the
distribution; orthonormal columns make A+ = A^T). The maximum is found with SciPy's L-BFGS-B
in float64, minimizing -f with its gradient -g (value and gradient of the same sign). The paper
stops after 10 iterations, started at y = 0; that rarely converges, and on a trained MLP it
reports half the converged phi. The experiment runs L-BFGS-B to its own convergence test (an
iteration that raises f by less than `ftol`), started at the box's corner in the gradient's
direction when that is higher than y = 0, and keeps the optimizer's termination flag with the
result.

Networks are evaluated in eval mode: dropout off, BatchNorm with the trained running
statistics (held fixed while the weights move).

Dinh et al. 2017: ReLU is non-negatively homogeneous, so multiplying one layer by a > 0 and
the next by 1/a leaves the function unchanged, while phi changes (the box scales with |x| + 1,
not with |x|) and so does the Hessian.
"""

from __future__ import annotations

import copy
import logging
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
import scipy.optimize
import scipy.stats
import torch
from torch import nn

from landscapes.models import MLP
from landscapes.names import phi_column, phi_key
from landscapes.params import FlatModel, evaluate, vector
from landscapes.train import METRICS_CHUNK, check_finite, device_of
from landscapes.progress import Progress

log = logging.getLogger(__name__)

ValueAndGrad = Callable[[np.ndarray], tuple[float, np.ndarray]]


@dataclass
class SharpnessResult:
    """One evaluation of Metric 2.1 and how its inner maximization ended."""

    phi: float  # (f_max - f0) / (1 + f0) * 100
    f0: float  # f(x)
    f_max: float  # the largest f(x + A y) found in the box
    eps: float
    space: str  # "full" or "subspace"
    dim: int  # p: the number of free coordinates y
    iterations: int  # L-BFGS-B iterations done
    evaluations: int  # loss-and-gradient evaluations
    converged: bool  # L-BFGS-B's own success flag (False when stopped by the iteration cap)
    status: int  # L-BFGS-B's status: 0 converged, 1 iteration/evaluation limit, 2 other
    message: str

    def as_dict(self) -> dict:
        return asdict(self)


def phi_from(f0: float, f_max: float) -> float:
    """Metric 2.1's normalization: (max f - f0) / (1 + f0) * 100."""
    return (f_max - f0) / (1.0 + f0) * 100.0


def orthonormal_subspace(n: int, p: int, seed: int) -> np.ndarray:
    """An n x p matrix with orthonormal columns: QR of a seeded standard Gaussian matrix."""
    if not 1 <= p <= n:
        raise ValueError(f"subspace dimension must be between 1 and {n}, got {p}")
    gen = np.random.default_rng(seed)
    q, r = np.linalg.qr(gen.standard_normal((n, p)))
    return q * np.sign(np.diag(r))  # a unique Q: the QR sign convention does not leak in


def keskar_sharpness(value_and_grad: ValueAndGrad, x: np.ndarray, eps: float,
                     subspace: np.ndarray | None = None, maxiter: int = 10,
                     orthonormal: bool = False, name: str = "sharpness",
                     start: str = "origin", ftol: float | None = None) -> SharpnessResult:
    """Metric 2.1 at `x` for a function given as float64 value and gradient.

    `subspace` is A (n x p); None means A = I. `orthonormal=True` promises A^T A = I, so that
    A+ = A^T (no SVD of a tall matrix). `value_and_grad(z)` returns f(z) and df/dz.
    `start="vertex"` starts at y = hw sign(A^T g) (hw the box's half-widths) when f is higher
    there than at y = 0: the maximum of f's linearization over the box. `ftol` is L-BFGS-B's
    stopping tolerance on the change of f per iteration (None: SciPy's default). A
    non-finite loss or gradient at x or inside the box stops it (DivergedError naming `name`,
    eps, the space and the evaluation).
    """
    if eps <= 0:
        raise ValueError(f"eps must be positive, got {eps}")
    x = np.asarray(x, dtype=np.float64)
    if subspace is None:
        half_width = eps * (np.abs(x) + 1.0)
        space = "full"

        def to_point(y):
            return x + y

        def pull_back(g):
            return g
    else:
        A = np.asarray(subspace, dtype=np.float64)
        if A.shape[0] != x.size:
            raise ValueError(f"subspace has {A.shape[0]} rows but the point has {x.size} entries")
        coords = A.T @ x if orthonormal else np.linalg.pinv(A) @ x
        half_width = eps * (np.abs(coords) + 1.0)
        space = "subspace"

        def to_point(y):
            return x + A @ y

        def pull_back(g):
            return A.T @ g

    what = f"{name}, eps {eps:g} in the {space} space,"
    f0, g0 = value_and_grad(x)
    f0 = float(f0)
    check_finite(f0, f"{what} diverged at the minimizer itself")
    check_finite(g0, f"{what} diverged at the minimizer itself", quantity="gradient")
    best = [f0]
    calls = [0]

    def negative(y):
        # L-BFGS-B minimizes: maximize f by minimizing -f, whose gradient is -df/dy.
        f, g = value_and_grad(to_point(y))
        f = float(f)
        calls[0] += 1
        at = f"{what} diverged inside the box at evaluation {calls[0]}"
        check_finite(f, at)
        check_finite(g, at, quantity="gradient")
        best[0] = max(best[0], f)
        return -f, -pull_back(np.asarray(g, dtype=np.float64))

    y0 = np.zeros_like(half_width)
    if start == "vertex":
        # the box's corner in the gradient's direction: the maximum of f's linearization
        corner = half_width * np.sign(pull_back(np.asarray(g0, dtype=np.float64)))
        if -negative(corner)[0] > f0:
            y0 = corner
    elif start != "origin":
        raise ValueError(f"start must be 'origin' or 'vertex', got {start!r}")
    res = scipy.optimize.minimize(negative, y0, jac=True, method="L-BFGS-B",
                                  bounds=scipy.optimize.Bounds(-half_width, half_width),
                                  options={"maxiter": maxiter,
                                           **({} if ftol is None else {"ftol": ftol})})
    # The last iterate is not always the best point a line search visited: keep the best.
    f_max = max(best[0], float(-res.fun))
    return SharpnessResult(phi=phi_from(f0, f_max), f0=f0, f_max=f_max, eps=float(eps),
                           space=space, dim=int(half_width.size), iterations=int(res.nit),
                           evaluations=int(res.nfev), converged=bool(res.success),
                           status=int(res.status), message=str(res.message))


class TrainingLoss:
    """The mean training cross-entropy of a model as a float64 function of its flat parameters.

    The model and the data are copied to float64 once and stay resident where the model is
    (its device); each call is one forward and backward pass over the whole set (in chunks),
    in eval mode. Points and gradients cross to and from the device as NumPy arrays.
    """

    def __init__(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, chunk: int = 8192):
        self.flat = FlatModel(copy.deepcopy(model).double(), mode="eval")
        self.device = self.flat.theta0.device
        self.x = x.to(self.device, torch.float64)
        self.y = y.to(self.device)
        self.chunk = chunk
        self.calls = 0

    @property
    def theta0(self) -> np.ndarray:
        return self.flat.theta0.cpu().numpy().copy()

    def __call__(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        self.calls += 1
        point = torch.from_numpy(np.ascontiguousarray(theta)).to(self.device)
        loss, grad = self.flat.loss_and_grad(point, self.x, self.y, self.chunk)
        return float(loss), grad.cpu().numpy()


def model_sharpness(model: nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float,
                    subspace_dim: int | None = None, seed: int = 0,
                    maxiter: int = 10, name: str = "sharpness", start: str = "origin",
                    ftol: float | None = None) -> SharpnessResult:
    """Metric 2.1 of a trained model on its training set (x, y): full space, or a seeded
    random subspace of `subspace_dim` dimensions (`keskar_sharpness` for the rest). The loss
    is computed where the model is; the ascent runs on the CPU."""
    f = TrainingLoss(model, x, y)
    theta = f.theta0
    A = None if subspace_dim is None else orthonormal_subspace(theta.size, subspace_dim, seed)
    return keskar_sharpness(f, theta, eps, A, maxiter, orthonormal=A is not None, name=name,
                            start=start, ftol=ftol)


def rise(alphas: np.ndarray, values: np.ndarray, center: float, radius: float) -> float:
    """Mean increase of a 1D loss curve within `radius` of `center` over its value there.

    Compares how steeply two curves (or two ends of one curve) rise around a minimizer.
    """
    alphas, values = np.asarray(alphas, dtype=float), np.asarray(values, dtype=float)
    i = int(np.argmin(np.abs(alphas - center)))
    if abs(alphas[i] - center) > 1e-9 * max(1.0, abs(center)):
        raise ValueError(f"center {center} is not on the grid of alphas")
    near = (np.abs(alphas - center) <= radius + 1e-12) & (np.arange(alphas.size) != i)
    if not near.any():
        raise ValueError(f"no grid point within {radius} of {center}")
    return float(values[near].mean() - values[i])


def relu_layers(model: nn.Module) -> list[nn.Linear]:
    """The Linear layers of a ReLU MLP, in order; refuses nets where a rescaling is not exact
    (dropout, a mask times its input, commutes with it)."""
    if not isinstance(model, MLP):
        raise TypeError(f"reparametrization needs a landscapes MLP, got {type(model).__name__}")
    mods = list(model.net)
    linears = [m for m in mods if isinstance(m, nn.Linear)]
    for m in mods:
        if not isinstance(m, (nn.Linear, nn.Flatten, nn.ReLU, nn.Dropout)):
            raise TypeError(f"reparametrization needs ReLU activations only, found "
                             f"{type(m).__name__}")
    return linears


@torch.no_grad()
def rescale_relu_layer(model: nn.Module, layer: int, a: float) -> nn.Module:
    """A copy of a ReLU MLP with Linear layer `layer` times a and layer `layer + 1` times 1/a.

    relu(a z) = a relu(z) for a > 0, so the copy computes the same function.
    """
    if not a > 0:
        raise ValueError(f"the rescaling factor must be positive (ReLU is only non-negatively "
                         f"homogeneous), got {a}")
    new = copy.deepcopy(model)
    linears = relu_layers(new)
    if not 0 <= layer < len(linears) - 1:
        raise ValueError(f"layer must be between 0 and {len(linears) - 2} (it and the next "
                         f"are rescaled), got {layer}")
    first, second = linears[layer], linears[layer + 1]
    first.weight.mul_(a)
    if first.bias is not None:
        first.bias.mul_(a)
    second.weight.div_(a)
    return new


def weight_norm(params: dict[str, torch.Tensor]) -> float:
    """L2 norm of the weight matrices and conv kernels (biases and BatchNorm left out)."""
    total = sum(float((t.detach().double() ** 2).sum()) for name, t in params.items()
                if name.endswith("weight") and t.ndim > 1)
    return math.sqrt(total)


def interpolate_state(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor],
                      alpha: float) -> dict[str, torch.Tensor]:
    """(1 - alpha) a + alpha b for every floating tensor of two state dicts.

    BatchNorm running statistics move with the weights: means linearly, variances
    geometrically (exp of the interpolated logs), so that extrapolating (alpha < 0 or > 1)
    never gives a negative variance. Integer counters are taken from `a`.
    """
    if a.keys() != b.keys():
        raise ValueError("the two models have different parameters")

    def mix(k):
        if not a[k].is_floating_point():
            return a[k]
        if k.endswith("running_var"):
            return torch.exp((1 - alpha) * a[k].log() + alpha * b[k].log())
        return (1 - alpha) * a[k] + alpha * b[k]

    return {k: mix(k) for k in a}


@torch.no_grad()
def interpolation_curve(model: nn.Module, state_a: dict[str, torch.Tensor],
                        state_b: dict[str, torch.Tensor], alphas, x_train: torch.Tensor,
                        y_train: torch.Tensor, x_test: torch.Tensor,
                        y_test: torch.Tensor, name: str = "interpolation"
                        ) -> dict[str, np.ndarray]:
    """Loss and accuracy along (1 - alpha) a + alpha b (Keskar et al.'s parametric plot).

    `model` is only a shell of the right architecture; it gets each point's state in turn and
    is evaluated in eval mode on the whole training and test sets.
    """
    model = copy.deepcopy(model)
    rows = []
    progress = Progress(len(alphas), "interpolation points")
    for alpha in alphas:
        model.load_state_dict(interpolate_state(state_a, state_b, float(alpha)))
        rows.append((*evaluate(model, x_train, y_train, chunk=METRICS_CHUNK),
                     *evaluate(model, x_test, y_test, chunk=METRICS_CHUNK)))
        check_finite([rows[-1][0], rows[-1][2]], f"{name} diverged at alpha = {alpha:.4g}",
                     ["the training set", "the test set"])
        progress.step()
    r = np.array(rows, dtype=np.float64)
    return {"alphas": np.asarray(alphas, dtype=np.float64), "train_loss": r[:, 0],
            "train_acc": r[:, 1], "test_loss": r[:, 2], "test_acc": r[:, 3]}


def _mean_std(values) -> tuple[float, float]:
    v = np.asarray(values, dtype=np.float64)
    return float(v.mean()), float(v.std(ddof=1)) if v.size > 1 else 0.0


def _phi(measure: dict, eps: float, space: str) -> dict:
    for r in measure["sharpness"]:
        if r["space"] == space and math.isclose(r["eps"], eps):
            return r
    raise KeyError(f"no sharpness at eps={eps} in the {space} space for {measure['net']}")


SPACES = ("full", "subspace")


def mean_interval(values, level: float = 0.95) -> dict:
    """Mean, sample std, standard error and the two-sided Student-t interval of the mean over
    replicate seeds (no interval from one seed)."""
    v = np.asarray(values, dtype=np.float64)
    mean, std = _mean_std(v)
    if v.size < 2 or not np.isfinite(v).all():
        return {"n": int(v.size), "mean": mean, "std": std, "se": math.nan,
                "ci": [math.nan, math.nan]}
    se = std / math.sqrt(v.size)
    half = float(scipy.stats.t.ppf(0.5 + level / 2, v.size - 1)) * se
    return {"n": int(v.size), "mean": mean, "std": std, "se": se, "ci": [mean - half, mean + half]}


def ratio_interval(lb, sb) -> dict:
    """LB / SB sharpness paired by seed: the per-seed ratios, their geometric mean and its
    95% interval (a t interval on the log ratios: ratios compose by multiplying). NaN where a
    ratio is not positive."""
    lb, sb = np.asarray(lb, dtype=np.float64), np.asarray(sb, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = np.where((sb > 0) & (lb > 0), lb / sb, np.nan)
    logs = mean_interval(np.log(ratios))
    return {"per_seed": ratios.tolist(), "geometric_mean": math.exp(logs["mean"]),
            "ci": [math.exp(c) for c in logs["ci"]], "n": logs["n"]}


def _by_seed(runs: list[dict], what: str) -> dict[int, dict]:
    out = {int(m["seed"]): m for m in runs}
    if len(out) != len(runs):
        raise ValueError(f"two measurements of {what} at one seed")
    return out


def summarize(measures: list[dict], keskar: list[str], eps: list[float], sb: dict, lb: dict,
              sweep: dict) -> dict:
    """Keskar's Tables 2-4 over the seeds of `measures` (mean and std), the LB/SB sharpness
    ratios and SB - LB test-accuracy gaps paired by seed (with intervals), and the batch-size
    sweep (Fig. 4) as mean and std over the seeds at each batch size."""
    table, per_run, ratios, gaps = [], {}, {}, {}
    for net in keskar:
        per_run[net] = {}
        for regime, batch in (("SB", sb[net]), ("LB", lb[net])):
            runs = [m for m in measures if m["net"] == net and m["batch"] == batch]
            if not runs:
                raise ValueError(f"no measurements for {net} with batch {batch}")
            per_run[net][regime] = sorted(runs, key=lambda m: m["seed"])
            row = {"network": net, "regime": regime, "batch": batch, "seeds": len(runs),
                   "reached_target": sum(bool(m.get("reached_target")) for m in runs)}
            for key in ("epochs", "train_loss", "train_acc", "test_acc"):
                row[f"{key}_mean"], row[f"{key}_std"] = _mean_std([m[key] for m in runs])
            for e in eps:
                for space in SPACES:
                    rs = [_phi(m, e, space) for m in runs]
                    mean, std = phi_column(space, e, "mean"), phi_column(space, e, "std")
                    row[mean], row[std] = _mean_std([r["phi"] for r in rs])
                    row[phi_column(space, e, "converged")] = sum(r["converged"] for r in rs)
            table.append(row)
        small = _by_seed(per_run[net]["SB"], f"{net} SB")
        large = _by_seed(per_run[net]["LB"], f"{net} LB")
        if small.keys() != large.keys():
            raise ValueError(f"{net}: SB has seeds {sorted(small)}, LB {sorted(large)}")
        seeds = sorted(small)
        ratios[net] = {phi_key(space, e): {"seeds": seeds, **ratio_interval(
            [_phi(large[k], e, space)["phi"] for k in seeds],
            [_phi(small[k], e, space)["phi"] for k in seeds])}
            for e in eps for space in SPACES}
        per_seed = [100 * (small[k]["test_acc"] - large[k]["test_acc"]) for k in seeds]
        gaps[net] = {"seeds": seeds, "per_seed": per_seed, **mean_interval(per_seed)}
    return {"table": table, "table_md": table_markdown(table, eps), "runs": per_run,
            "ratios": ratios, "test_acc_gap_points": gaps,
            "sweep": _sweep(measures, sweep["network"], sweep["batch_sizes"], eps)}


def _sweep(measures: list[dict], net: str, batch_sizes: list[int], eps: list[float]) -> dict:
    """Keskar's Fig. 4: test accuracy and sharpness at each batch size, mean and std over the
    seeds measured there (every batch size at the same seeds)."""
    at = {b: sorted((m for m in measures if m["net"] == net and m["batch"] == b),
                    key=lambda m: m["seed"]) for b in sorted(batch_sizes)}
    seeds = {b: [m["seed"] for m in runs] for b, runs in at.items()}
    if any(not v or v != seeds[min(at)] for v in seeds.values()):
        raise ValueError(f"the sweep of {net} needs every batch size at the same seeds, has "
                         f"{seeds}")
    out = {"network": net, "batch_size": list(at), "seeds": seeds[min(at)],
           "phi": {}, "phi_std": {}}
    for key in ("test_acc", "train_acc", "train_loss"):
        stats = [_mean_std([m[key] for m in runs]) for runs in at.values()]
        out[key], out[f"{key}_std"] = [m for m, _ in stats], [s for _, s in stats]
    for e in eps:
        for space in SPACES:
            stats = [_mean_std([_phi(m, e, space)["phi"] for m in runs]) for runs in at.values()]
            out["phi"][phi_key(space, e)] = [m for m, _ in stats]
            out["phi_std"][phi_key(space, e)] = [s for _, s in stats]
    return out


def table_markdown(table: list[dict], eps: list[float]) -> str:
    """Keskar's Tables 2, 3 and 4 side by side: training loss and accuracy, test accuracy and
    sharpness, mean +/- std over seeds, with the runs that reached the target training loss and
    the maximizations that converged."""
    cols = ["network", "regime", "batch", "seeds", "reached target", "epochs", "train loss",
            "train acc %", "test acc %"]
    cols += [f"phi {space} eps={e:g} (converged)" for e in eps for space in SPACES]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in table:
        cells = [r["network"], r["regime"], str(r["batch"]), str(r["seeds"]),
                 f"{r['reached_target']} of {r['seeds']}", f"{r['epochs_mean']:.0f}",
                 f"{r['train_loss_mean']:.3g} +/- {r['train_loss_std']:.2g}",
                 f"{100 * r['train_acc_mean']:.2f} +/- {100 * r['train_acc_std']:.2f}",
                 f"{100 * r['test_acc_mean']:.2f} +/- {100 * r['test_acc_std']:.2f}"]
        for e in eps:
            for space in SPACES:
                cells.append(f"{r[phi_column(space, e, 'mean')]:.3g} +/- "
                             f"{r[phi_column(space, e, 'std')]:.2g} "
                             f"({r[phi_column(space, e, 'converged')]} of {r['seeds']})")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


@torch.no_grad()
def filter_normalized_slice(model: nn.Module, seed: int, extent: float, n_points: int,
                            x_train: torch.Tensor, y_train: torch.Tensor, x_test: torch.Tensor,
                            y_test: torch.Tensor, name: str = "slice") -> dict[str, np.ndarray]:
    """Loss and accuracy along theta + a d, d a filter-normalized Gaussian direction
    (biases and BatchNorm parameters not moved), a in [-extent, extent] (Li et al. 2018).

    Eval mode: BatchNorm keeps the minimizer's running statistics along the slice.
    """
    from landscapes.directions import random_direction

    theta = vector(model)
    d = random_direction(model, seed, norm="filter")
    alphas = np.linspace(-extent, extent, n_points)
    rows = [(*evaluate(model, x_train, y_train, theta + float(a) * d),
             *evaluate(model, x_test, y_test, theta + float(a) * d))
            for a in Progress.over(alphas, "slice points")]
    r = np.array(rows, dtype=np.float64)
    for split, col in (("training", 0), ("test", 2)):
        check_finite(r[:, col], f"{name} diverged", [f"a = {a:.4g}" for a in alphas],
                     quantity=f"{split} loss")
    return {"alphas": alphas, "train_loss": r[:, 0], "train_acc": r[:, 1],
            "test_loss": r[:, 2], "test_acc": r[:, 3]}


def top_hessian_eigenvalue(model: nn.Module, x: torch.Tensor, y: torch.Tensor, steps: int,
                           seed: int = 0, name: str = "top Hessian eigenvalue") -> float:
    """The most positive eigenvalue of the training-loss Hessian (float64, eval mode, Lanczos),
    computed where the model is."""
    from landscapes.hessian import extreme_eigenvalues, full_batch_loss, hvp_fn

    flat = FlatModel(copy.deepcopy(model).double(), mode="eval")
    device = flat.theta0.device
    matvec = hvp_fn(full_batch_loss(flat, x.to(device), y.to(device)), flat.theta0)
    lam = float(extreme_eigenvalues(matvec, flat.dim, steps, seed, device=device)[1])
    check_finite(lam, f"{name} diverged", quantity="top Hessian eigenvalue")
    return lam


def reparametrization_sweep(model: nn.Module, x: torch.Tensor, y: torch.Tensor,
                            factors: list[float], layer: int, eps: float, lanczos_steps: int,
                            seed: int = 0, name: str = "reparametrization"
                            ) -> dict[str, np.ndarray]:
    """For each a: the rescaled net's largest output change, its training loss, its sharpness
    (full space) and its top Hessian eigenvalue (Dinh et al. 2017), computed where the model
    is."""
    device = device_of(model)
    x, y = x.to(device), y.to(device)
    with torch.no_grad():
        reference = model.eval()(x)
    rows = []
    progress = Progress(len(factors), "rescaled nets")
    for a in factors:
        scaled = rescale_relu_layer(model, layer, float(a)).eval()
        with torch.no_grad():
            out = scaled(x)
        at = f"{name} at a = {a:g}"
        r = model_sharpness(scaled, x, y, eps, seed=seed, name=at)
        lam = top_hessian_eigenvalue(scaled, x, y, lanczos_steps, seed, name=at)
        log.info("a = %g: max output change %.3g, loss %.6f, phi %.4g, lambda_max %.4g", a,
                 (out - reference).abs().max().item(), r.f0, r.phi, lam)
        rows.append(((out - reference).abs().max().item(), r.f0, r.phi, lam,
                     float(r.converged)))
        progress.step()
    v = np.array(rows, dtype=np.float64)
    return {"factors": np.asarray(factors, dtype=np.float64), "max_output_change": v[:, 0],
            "train_loss": v[:, 1], "phi": v[:, 2], "lambda_max": v[:, 3],
            "converged": v[:, 4], "eps": np.float64(eps), "layer": np.int64(layer)}


def filter_normalized_plane(model: nn.Module, seed: int, extent: float, points: int, data,
                            name: str = "plane"):
    """The training loss and accuracy on the plane theta + a d1 + b d2, (a, b) in
    [-extent, extent]^2 on a `points` x `points` grid, d1 and d2 filter-normalized Gaussian
    directions (biases and BatchNorm not moved) drawn from `seed`: Li et al. 2018's 2D
    contours (Fig. 3, bottom row). d1 is the direction of `filter_normalized_slice` with the
    same seed, so the plane's b = 0 row is that slice. Eval mode: BatchNorm keeps the
    minimizer's running statistics. `data` is a `Dataset`; returns a `surface.Surface`."""
    from landscapes.directions import random_directions
    from landscapes.surface import directions_tile, square_grid

    directions = random_directions(model, seed, 2, norm="filter")
    grid = square_grid(extent, (points, points))
    return directions_tile(model, directions, grid, 0, points, data, "parameters",
                           "eval", 1, METRICS_CHUNK, name=name)


def li_table(runs: list[dict], sb_batch: int) -> list[dict]:
    """Li et al.'s minimizers (Figs. 2-3) over replicate seeds: one row per weight decay and
    batch size (SB first), with the seeds' mean and std of the final training loss and
    accuracy, test error and weight norm. `runs` are rule sharpness_train's metrics records;
    the batch `sb_batch` is SB, any other LB."""
    groups: dict[tuple[float, int], list[dict]] = {}
    for r in runs:
        groups.setdefault((float(r["weight_decay"]), int(r["batch_size"])), []).append(r)
    rows = []
    for (wd, batch), rs in sorted(groups.items()):
        seeds = sorted(int(r["seed"]) for r in rs)
        if len(set(seeds)) != len(seeds):
            raise ValueError(f"two runs with weight decay {wd:g}, batch {batch} at one seed")
        row = {"weight_decay": wd, "regime": "SB" if batch == sb_batch else "LB",
               "batch": batch, "seeds": seeds}
        for key, values in (("train_loss", [r["final"]["train_loss"] for r in rs]),
                            ("train_acc", [r["final"]["train_acc"] for r in rs]),
                            ("test_error", [1.0 - r["final"]["test_acc"] for r in rs]),
                            ("weight_norm", [r["final_weight_norm"] for r in rs])):
            row[f"{key}_mean"], row[f"{key}_std"] = _mean_std(values)
        rows.append(row)
    return rows


def li_table_markdown(rows: list[dict]) -> str:
    """`li_table` as markdown: mean +/- std over the seeds."""
    cols = ["weight decay", "regime", "batch", "seeds", "train loss", "train acc %",
            "test error %", "weight norm"]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        lines.append("| " + " | ".join([
            f"{r['weight_decay']:g}", r["regime"], str(r["batch"]), str(len(r["seeds"])),
            f"{r['train_loss_mean']:.3g} +/- {r['train_loss_std']:.2g}",
            f"{100 * r['train_acc_mean']:.2f} +/- {100 * r['train_acc_std']:.2f}",
            f"{100 * r['test_error_mean']:.2f} +/- {100 * r['test_error_std']:.2f}",
            f"{r['weight_norm_mean']:.3f} +/- {r['weight_norm_std']:.2g}"]) + " |")
    return "\n".join(lines) + "\n"
