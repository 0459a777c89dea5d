"""The deep linear network example: where non-convexity comes from, and the saddle at zero.

- A 2-3-1 linear net computes x . (v W): the loss is a convex bowl in the two effective
  weights, but the 1-1-1 chain L(w1, w2) = 1/2 (s - w2 w1)^2 already has a saddle at the
  origin and a hyperbola of global minima.
- Slices through two first-layer weights of a 2-3-1 net are convex with linear activations and
  non-convex with sigmoids.
- Permuting hidden units leaves the function unchanged, so minima come in symmetric copies with
  barriers between them.
- Deep linear nets on whitened inputs (Saxe et al. 2014; Kawaguchi 2016): the Hessian at zero
  has eigenvalues +/- sigma_i of the input-output correlation for two weight matrices and is
  zero for three or more; gradient descent from small weights plateaus, then learns the modes
  in order of decreasing sigma_i.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, hessian

from landscapes.train import check_finite
from landscapes.progress import Progress

# ---------------------------------------------------------------- data


def regression_data(n: int, d_in: int, weights: np.ndarray, noise: float, seed: int,
                    whiten: bool = False):
    """Inputs X (n, d_in) and targets Y = X A^T + noise, float64; whitened: X^T X / n = I."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d_in))
    if whiten:
        q, _ = np.linalg.qr(x - x.mean(0))
        x = q * math.sqrt(n)
    a = np.atleast_2d(weights)
    y = x @ a.T + noise * rng.standard_normal((n, a.shape[0]))
    return torch.tensor(x), torch.tensor(y)


def mse(pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """1/(2n) sum of squared errors: the deep-linear literature's loss."""
    return 0.5 * ((pred - y) ** 2).sum() / y.shape[0]


# ---------------------------------------------------------------- (a) bowl vs chain


def effective_loss_grid(x: torch.Tensor, y: torch.Tensor, a: np.ndarray, b: np.ndarray):
    """Loss of the 2-3-1 linear net as a function of its effective weights (a, b)."""
    A, B = np.meshgrid(a, b, indexing="xy")
    w = torch.tensor(np.stack([A.ravel(), B.ravel()], 1))
    pred = x @ w.T  # (n, points)
    return (0.5 * ((pred - y) ** 2).mean(0)).reshape(A.shape).numpy()


def chain_loss_grid(s: float, w1: np.ndarray, w2: np.ndarray) -> np.ndarray:
    W1, W2 = np.meshgrid(w1, w2, indexing="xy")
    return 0.5 * (s - W2 * W1) ** 2


def net_231_effective(w: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """(a, b) = v W: each a sum of products of the 9 weights."""
    return (v @ w).reshape(-1)


# ---------------------------------------------------------------- (b) slices


class Net231(nn.Module):
    """The 2-3-1 network of the example, no biases, with a chosen activation."""

    def __init__(self, activation: str):
        super().__init__()
        self.w = nn.Linear(2, 3, bias=False)
        self.v = nn.Linear(3, 1, bias=False)
        self.act = {"linear": nn.Identity(), "sigmoid": nn.Sigmoid()}[activation]

    def forward(self, x):
        return self.v(self.act(self.w(x)))


def fit(model: nn.Module, x: torch.Tensor, y: torch.Tensor, steps: int, lr: float,
        name: str = "fit") -> float:
    """Full-batch gradient descent on the 1/(2n) squared error; returns the final loss."""
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    for t in range(steps):
        opt.zero_grad()
        loss = mse(model(x), y)
        check_finite(loss, f"{name} diverged at step {t}")
        loss.backward()
        opt.step()
    with torch.no_grad():
        final = mse(model(x), y).item()
    check_finite(final, f"{name} diverged at step {steps}")
    return final


def weight_slice_grid(model: Net231, x, y, u: np.ndarray, w: np.ndarray,
                      coords=((0, 0), (1, 0))):
    """Loss over two first-layer weights W[coords[0]] = u_i, W[coords[1]] = w_j, rest fixed.

    Evaluated functionally: the model keeps its weights.
    """
    params = {k: p.detach() for k, p in model.named_parameters()}
    U, Wg = np.meshgrid(u, w, indexing="xy")
    out = np.empty(U.shape)
    progress = Progress(out.size, "weight-slice points")
    for idx in np.ndindex(U.shape):
        wt = params["w.weight"].clone()
        wt[coords[0]] = U[idx]
        wt[coords[1]] = Wg[idx]
        pred = functional_call(model, {**params, "w.weight": wt}, (x,))
        out[idx] = mse(pred, y).item()
        progress.step()
    return out


def min_hessian_eigenvalue_grid(z: np.ndarray, h: float) -> np.ndarray:
    """Smallest eigenvalue of the finite-difference 2x2 Hessian at interior grid points."""
    zxx = (z[1:-1, 2:] - 2 * z[1:-1, 1:-1] + z[1:-1, :-2]) / h**2
    zyy = (z[2:, 1:-1] - 2 * z[1:-1, 1:-1] + z[:-2, 1:-1]) / h**2
    zxy = (z[2:, 2:] - z[2:, :-2] - z[:-2, 2:] + z[:-2, :-2]) / (4 * h**2)
    mean, diff = (zxx + zyy) / 2, np.sqrt(((zxx - zyy) / 2) ** 2 + zxy**2)
    return mean - diff


# ---------------------------------------------------------------- (c) permutation symmetry


def permute_hidden(model: nn.Module, perm: torch.Tensor) -> dict[str, torch.Tensor]:
    """Parameters of an MLP with one hidden layer whose hidden units are reordered by `perm`."""
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if len(linears) != 2:
        raise ValueError("permute_hidden needs an MLP with exactly one hidden layer")
    names = {id(p): n for n, p in model.named_parameters()}
    first, second = linears
    out = {n: p.detach().clone() for n, p in model.named_parameters()}
    out[names[id(first.weight)]] = first.weight.detach()[perm]
    if first.bias is not None:
        out[names[id(first.bias)]] = first.bias.detach()[perm]
    out[names[id(second.weight)]] = second.weight.detach()[:, perm]
    return out


def permuted_copy(model: nn.Module, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(a permutation of the first hidden layer's units drawn from `seed`, the flat
    parameters of `model` with its hidden units reordered by it): the same function at another
    point."""
    from landscapes.params import Layout

    hidden = next(m for m in model.modules() if isinstance(m, nn.Linear)).out_features
    perm = torch.randperm(hidden, generator=torch.Generator().manual_seed(seed))
    return perm, Layout.of(model).flatten(permute_hidden(model, perm))


def barrier(losses: np.ndarray) -> float:
    """Height of the loss along a path above the higher of its two ends."""
    return float(np.max(losses) - max(losses[0], losses[-1]))


# ---------------------------------------------------------------- (d) deep linear saddles


def deep_linear_weights(widths: list[int], scale: float, seed: int) -> list[torch.Tensor]:
    """Weights W_1 (widths[1] x widths[0]) ... W_L, Gaussian with std `scale`, float64."""
    g = torch.Generator().manual_seed(seed)
    return [scale * torch.randn(b, a, generator=g, dtype=torch.float64)
            for a, b in zip(widths[:-1], widths[1:])]


def deep_linear_loss(weights: list[torch.Tensor], x: torch.Tensor, y: torch.Tensor):
    out = x
    for w in weights:
        out = out @ w.T
    return mse(out, y)


def hessian_at(weights: list[torch.Tensor], x, y) -> np.ndarray:
    """The exact Hessian of the loss in all weights (flattened, layer by layer)."""
    sizes = [w.numel() for w in weights]
    shapes = [w.shape for w in weights]

    def f(theta):
        ws = [c.view(s) for c, s in zip(torch.split(theta, sizes), shapes)]
        return deep_linear_loss(ws, x, y)

    theta = torch.cat([w.reshape(-1) for w in weights])
    return hessian(f)(theta).numpy()


def correlation_singular_values(x, y) -> np.ndarray:
    """Singular values sigma_i of the input-output correlation Sigma_yx = Y^T X / n."""
    return np.linalg.svd((y.T @ x / x.shape[0]).numpy(), compute_uv=False)


def predicted_origin_spectrum(sigma: np.ndarray, hidden: int, n_params: int) -> np.ndarray:
    """Eigenvalues at W = 0 for two weight matrices: +/- sigma_i, each `hidden` times; zeros."""
    eig = np.concatenate([np.repeat(sigma, hidden), np.repeat(-sigma, hidden)])
    return np.sort(np.concatenate([eig, np.zeros(n_params - eig.size)]))


def optimal_loss(x, y) -> float:
    """The least-squares optimum, which a deep linear net of full rank can reach."""
    sol = torch.linalg.lstsq(x, y).solution
    return mse(x @ sol, y).item()


def gradient_descent(weights: list[torch.Tensor], x, y, lr: float, steps: int, record_every: int,
                     modes: tuple[np.ndarray, np.ndarray] | None = None,
                     name: str = "gradient descent", labels=None):
    """Full-batch gradient descent for a stack of nets trained side by side.

    `weights` holds each layer's weights for all nets, shape (nets, out, in); the nets are
    independent (the summed loss has block-diagonal gradients). Returns the recording steps,
    the loss of each net (nets, records) and the mode strengths u_i^T W v_i (nets, records,
    modes), with `modes` = (U, V) the singular vectors of Sigma_yx as columns. A non-finite
    loss stops it, naming the net (`labels[i]`, default "net i") and the step.
    """
    ws = [w.clone().requires_grad_(True) for w in weights]
    labels = labels or [f"net {i}" for i in range(len(ws[0]))]
    losses, strengths, at = [], [], []
    progress = Progress(steps, "gradient descent steps")
    for t in range(steps + 1):
        total = ws[0]
        for w in ws[1:]:
            total = w @ total  # (nets, out, in)
        per_net = 0.5 * ((torch.einsum("bij,nj->bni", total, x) - y) ** 2).sum((1, 2)) / len(y)
        check_finite(per_net.detach(), f"{name} diverged at step {t}", labels)
        if t % record_every == 0 or t == steps:
            at.append(t)
            losses.append(per_net.detach().numpy())
            if modes is not None:
                u, v = modes
                strengths.append(np.einsum("ji,bjk,ki->bi", u, total.detach().numpy(), v))
        if t == steps:
            break
        grads = torch.autograd.grad(per_net.sum(), ws)
        with torch.no_grad():
            for w, g in zip(ws, grads):
                w -= lr * g
        progress.step()
    strengths = np.stack(strengths, 1) if strengths else np.zeros((len(per_net), 0, 0))
    return np.array(at), np.stack(losses, 1), strengths


# ---------------------------------------------------------------- experiment drivers


def surfaces(n_samples: int, noise: float, target: float, grid: int, extent: float,
             fit_steps: int, fit_lr: float, seed: int, name: str = "linear surfaces"
             ) -> dict[str, np.ndarray]:
    """The grids of figures (a) and (b): bowl, chain, and weight slices of fitted 2-3-1 nets."""
    teacher = np.array([[1.0, -0.5]])
    x, y = regression_data(n_samples, 2, teacher, noise, seed)
    axis = np.linspace(-extent, extent, grid)
    out = {"axis": axis, "teacher": teacher[0], "target": np.array(target),
           "bowl": effective_loss_grid(x, y, axis, axis),
           "chain": chain_loss_grid(target, axis, axis)}
    for activation in ("linear", "sigmoid"):
        torch.manual_seed(seed)
        net = Net231(activation).double()
        out[f"fit_loss_{activation}"] = np.array(
            fit(net, x, y, fit_steps, fit_lr, f"{name}: fit of the {activation} 2-3-1 net"))
        w0 = net.w.weight.detach()
        u, w = w0[0, 0].item() + axis, w0[1, 0].item() + axis
        out[f"slice_{activation}"] = weight_slice_grid(net, x, y, u, w)
        check_finite(out[f"slice_{activation}"], f"{name}: {activation} weight slice",
                     lambda i: f"point W[0,0] = {u[i % grid]:.4g}, W[1,0] = {w[i // grid]:.4g}")
        out[f"center_{activation}"] = np.array([w0[0, 0].item(), w0[1, 0].item()])
    return out


def saddle_experiment(n_samples: int, in_dim: int, out_dim: int, hidden: int,
                      singular_values: list[float], noise: float, init_scale: float, lr: float,
                      steps: int, record_every: int, n_inits: int, seed: int,
                      name: str = "linear saddle"):
    """Hessians at the origin (depth 2 and 3) and gradient descent from small weights."""
    r = len(singular_values)
    if r > min(in_dim, out_dim):
        raise ValueError(f"{r} singular values need min(in_dim, out_dim) >= {r}")
    rng = np.random.default_rng(seed)
    u, _ = np.linalg.qr(rng.standard_normal((out_dim, r)))
    v, _ = np.linalg.qr(rng.standard_normal((in_dim, r)))
    teacher = u @ np.diag(singular_values) @ v.T
    x, y = regression_data(n_samples, in_dim, teacher, noise, seed, whiten=True)
    sigma = correlation_singular_values(x, y)
    cu, _, cvt = np.linalg.svd((y.T @ x / n_samples).numpy())
    k = min(in_dim, out_dim)
    modes = (cu[:, :k], cvt[:k].T)
    zeros2 = [torch.zeros(hidden, in_dim, dtype=torch.float64),
              torch.zeros(out_dim, hidden, dtype=torch.float64)]
    zeros3 = [zeros2[0], torch.zeros(hidden, hidden, dtype=torch.float64), zeros2[1]]
    h2, h3 = hessian_at(zeros2, x, y), hessian_at(zeros3, x, y)
    # eigvalsh of a matrix holding NaN returns finite values: check the matrix itself
    check_finite(h2, f"{name}: Hessian at W = 0, two layers", quantity="Hessian entry")
    check_finite(h3, f"{name}: Hessian at W = 0, three layers", quantity="Hessian entry")
    eig2, eig3 = np.linalg.eigvalsh(h2), np.linalg.eigvalsh(h3)
    n2 = sum(w.numel() for w in zeros2)
    init_seeds = [seed * 1000 + i for i in range(n_inits)]
    inits = [deep_linear_weights([in_dim, hidden, out_dim], init_scale, s) for s in init_seeds]
    stacked = [torch.stack(layer) for layer in zip(*inits)]
    at, losses, strengths = gradient_descent(
        stacked, x, y, lr, steps, record_every, modes,
        f"{name}: gradient descent from small weights",
        [f"init {i} (seed {s})" for i, s in enumerate(init_seeds)])
    return {"sigma": sigma, "eig_depth2": eig2, "eig_depth3": eig3,
            "predicted_depth2": predicted_origin_spectrum(sigma, hidden, n2),
            "steps": at, "losses": losses, "strengths": strengths,
            "optimal_loss": np.array(optimal_loss(x, y)), "hidden": np.array(hidden),
            "n_modes": np.array(r)}


def permutation_experiment(model: nn.Module, x: torch.Tensor, y: torch.Tensor, n_alpha: int,
                           seed: int, name: str = "permutation") -> dict[str, np.ndarray]:
    """Loss of a trained net, of its hidden-unit permutation, and along the line between."""
    from landscapes.params import Layout, evaluate, interpolate

    theta = Layout.of(model).values(model)
    perm, permuted = permuted_copy(model, seed)
    hidden = len(perm)
    alphas = np.linspace(0.0, 1.0, n_alpha)
    path = [evaluate(model, x, y, t) for t in interpolate(theta, permuted, alphas)]
    original = evaluate(model, x, y, theta)
    swapped = evaluate(model, x, y, permuted)
    check_finite([original[0], swapped[0]], name, ["the trained net", "its permuted copy"])
    check_finite([p[0] for p in path], f"{name}: the line between the two",
                 [f"alpha = {a:.3g}" for a in alphas])
    return {"perm": perm.numpy(), "alphas": alphas, "loss": np.array([p[0] for p in path]),
            "accuracy": np.array([p[1] for p in path]), "loss_original": np.array(original[0]),
            "loss_permuted": np.array(swapped[0]), "accuracy_original": np.array(original[1]),
            "accuracy_permuted": np.array(swapped[1]),
            "moved_fraction": np.array((perm != torch.arange(hidden)).float().mean().item())}
