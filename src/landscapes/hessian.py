"""Hessians of a scalar function of one flat parameter vector.

Everything here takes a `loss_fn(theta) -> scalar` (for a network: `full_batch_loss`, the mean
over the WHOLE dataset in an explicit train/eval mode, never one batch) and works in float64
unless told otherwise.

- `hvp_fn`: Hessian-vector products v -> H v (double backward through one retained graph, or
  forward-over-reverse `torch.func.jvp` of `torch.func.grad` that keeps no graph).
- `exact_hessian`: the dense dim x dim Hessian, built from batched Hessian-vector products with
  the identity (`vmap`), for small nets.
- `mlp_hessian`: the same matrix in closed form for one-hidden-layer MLPs (much faster).
- `lanczos`: Lanczos with full reorthogonalization: the tridiagonal T (alpha, beta), optionally
  the orthonormal basis Q, with Q H Q^T = T.
- `extreme_eigenvalues`: the most negative and the most positive eigenvalue (NOT the largest
  magnitude), from Lanczos' Ritz values, stopped when both residual bounds are under `tol`.
- `slq_density`: stochastic Lanczos quadrature: a Gauss quadrature (nodes, weights) per probe,
  and the smoothed spectral density they define (`SpectralDensity.curve` for a plot).
- `hutchinson_trace`: tr H from a fixed number of Rademacher probes, with its standard error.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch.func import grad, jvp, vmap

Matvec = Callable[[torch.Tensor], torch.Tensor]
LossFn = Callable[[torch.Tensor], torch.Tensor]


# ---------------------------------------------------------------- losses and products


def full_batch_loss(flat, x: torch.Tensor, y: torch.Tensor, dtype=torch.float64,
                    weight_decay: float = 0.0, chunk: int = 4096) -> LossFn:
    """theta -> mean cross-entropy of a `params.FlatModel` over all of (x, y), in `dtype`.

    The model's mode (train/eval) is the FlatModel's, chosen explicitly when it was built.
    `weight_decay` adds (wd / 2) |theta|^2, which adds wd to every Hessian eigenvalue.
    """
    flat = copy.copy(flat)  # cast buffers (BatchNorm statistics) without touching the original
    flat.buffers = {n: b.to(dtype) if b.is_floating_point() else b for n, b in flat.buffers.items()}
    x = x.to(dtype)

    def loss_fn(theta: torch.Tensor) -> torch.Tensor:
        loss = flat.loss(theta, x, y, chunk)
        if weight_decay:
            loss = loss + 0.5 * weight_decay * theta.dot(theta)
        return loss

    return loss_fn


def gradient(loss_fn: LossFn, theta: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(loss, gradient) at theta, both detached."""
    theta = theta.detach().requires_grad_(True)
    loss = loss_fn(theta)
    (g,) = torch.autograd.grad(loss, theta)
    return loss.detach(), g


def hvp_fn(loss_fn: LossFn, theta: torch.Tensor, method: str = "backward") -> Matvec:
    """A function v -> H(theta) v for the Hessian H of `loss_fn` at `theta`.

    method "backward": one forward and backward with `create_graph`, then each product is one
    more backward through the retained graph (fastest; memory grows with the dataset).
    method "jvp": forward-over-reverse (`jvp` of `grad`), no graph kept between products (each
    product recomputes the loss; use for large data). Products are in theta's dtype.
    """
    theta = theta.detach()
    if method == "jvp":
        g = grad(loss_fn)

        def matvec(v: torch.Tensor) -> torch.Tensor:
            return jvp(g, (theta,), (v.to(theta),))[1]

        return matvec
    if method != "backward":
        raise ValueError(f"unknown Hessian-vector product method '{method}'; "
                         "allowed: backward, jvp")
    leaf = theta.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(loss_fn(leaf), leaf, create_graph=True)

    def matvec(v: torch.Tensor) -> torch.Tensor:
        (hv,) = torch.autograd.grad(g, leaf, v.to(theta), retain_graph=True)
        return hv.detach()

    return matvec


def exact_hessian(loss_fn: LossFn, theta: torch.Tensor, block: int = 256) -> torch.Tensor:
    """The dense Hessian (dim x dim, theta's dtype), symmetrized.

    Forward-over-reverse products with the identity, `block` columns at a time under `vmap`
    (faster on CPU than batched double backward, and no graph is kept).
    """
    theta = theta.detach()
    g = grad(loss_fn)
    eye = torch.eye(theta.numel(), dtype=theta.dtype, device=theta.device)
    h = vmap(lambda v: jvp(g, (theta,), (v,))[1], chunk_size=block)(eye)
    return 0.5 * (h + h.T)


DERIVATIVES = {  # activation -> (u, u', u'') as functions of the pre-activation
    "tanh": lambda a: (torch.tanh(a), 1 - torch.tanh(a) ** 2,
                       -2 * torch.tanh(a) * (1 - torch.tanh(a) ** 2)),
    "sigmoid": lambda a: (torch.sigmoid(a), torch.sigmoid(a) * (1 - torch.sigmoid(a)),
                          torch.sigmoid(a) * (1 - torch.sigmoid(a)) * (1 - 2 * torch.sigmoid(a))),
    "linear": lambda a: (a, torch.ones_like(a), torch.zeros_like(a)),
    "relu": lambda a: (a.clamp_min(0), (a > 0).to(a), torch.zeros_like(a)),
}


def mlp_hessian(theta: torch.Tensor, x: torch.Tensor, y: torch.Tensor, hidden: int,
                n_classes: int, activation: str = "tanh", weight_decay: float = 0.0
                ) -> torch.Tensor:
    """Closed-form Hessian of the mean cross-entropy of a one-hidden-layer MLP with biases.

    The same matrix as `exact_hessian(full_batch_loss(...))` for `models.MLP(d, [hidden], C)`
    (flat order W1, b1, W2, b2), at a fraction of the cost: with x~ = [x; 1], u~ = [u; 1],
    p = softmax(z), S = diag(p) - p p^T and r = p - onehot(y), per sample
      W1~W1~: (diag(u') W2^T S W2 diag(u') + diag(u'' * W2^T r)) kron x~ x~^T
      W1~W2~: x~_m (u'_i (W2^T S)_ik u~_j + [i = j] u'_i r_k)
      W2~W2~: S kron u~ u~^T
    each a few matrix products summed over the dataset.
    """
    if activation not in DERIVATIVES:
        raise ValueError(f"mlp_hessian: unknown activation '{activation}'; "
                         f"allowed: {', '.join(DERIVATIVES)}")
    theta, x = theta.detach(), x.to(theta.dtype).flatten(1)
    n, d = x.shape
    h, c = hidden, n_classes
    if theta.numel() != h * d + h + c * h + c:
        raise ValueError(f"mlp_hessian: theta has {theta.numel()} entries, a {d}-{h}-{c} MLP "
                         f"with biases has {h * d + h + c * h + c}")
    w1, b1, w2, b2 = torch.split(theta, [h * d, h, c * h, c])
    w1, w2 = w1.view(h, d), w2.view(c, h)
    u, du, ddu = DERIVATIVES[activation](x @ w1.T + b1)
    p = torch.softmax(u @ w2.T + b2, dim=1)
    r = p - torch.nn.functional.one_hot(y, c).to(p)
    s = torch.diag_embed(p) - p[:, :, None] * p[:, None, :]  # (n, c, c)
    xt = torch.cat([x, x.new_ones(n, 1)], 1)  # (n, d+1)
    ut = torch.cat([u, u.new_ones(n, 1)], 1)  # (n, h+1)
    w2s = torch.einsum("ki,nkl->nil", w2, s)  # (n, h, c): W2^T S
    m = du[:, :, None] * torch.einsum("nil,lj->nij", w2s, w2) * du[:, None, :]
    m = m + torch.diag_embed(ddu * (r @ w2))  # (n, h, h)
    xx = xt[:, :, None] * xt[:, None, :]
    a11 = (m.reshape(n, -1).T @ xx.reshape(n, -1)).view(h, h, d + 1, d + 1)
    a11 = a11.permute(0, 2, 1, 3).reshape(h * (d + 1), h * (d + 1))
    cross = (du[:, :, None] * w2s)[:, :, :, None] * ut[:, None, None, :]  # (n, h, c, h+1)
    eye = torch.eye(h, h + 1, dtype=p.dtype)
    cross = cross + (du[:, :, None, None] * r[:, None, :, None]) * eye[None, :, None, :]
    a12 = torch.einsum("nm,nikj->imkj", xt, cross).reshape(h * (d + 1), c * (h + 1))
    uu = ut[:, :, None] * ut[:, None, :]
    a22 = (s.reshape(n, -1).T @ uu.reshape(n, -1)).view(c, c, h + 1, h + 1)
    a22 = a22.permute(0, 2, 1, 3).reshape(c * (h + 1), c * (h + 1))
    aug = torch.cat([torch.cat([a11, a12], 1), torch.cat([a12.T, a22], 1)], 0) / n
    # augmented order [W1 | b1] row by row, then [W2 | b2] row by row -> flat W1, b1, W2, b2
    i1 = torch.arange(h * (d + 1)).view(h, d + 1)
    i2 = h * (d + 1) + torch.arange(c * (h + 1)).view(c, h + 1)
    order = torch.cat([i1[:, :d].reshape(-1), i1[:, d], i2[:, :h].reshape(-1), i2[:, h]])
    hess = aug[order][:, order]
    if weight_decay:
        hess = hess + weight_decay * torch.eye(hess.shape[0], dtype=hess.dtype)
    return 0.5 * (hess + hess.T)


def mlp_hessian_fn(x: torch.Tensor, y: torch.Tensor, hidden: int, n_classes: int,
                   activation: str = "tanh", weight_decay: float = 0.0):
    """A `hessian_fn(loss_fn, theta)` computing `mlp_hessian` (ignores loss_fn: same loss)."""
    return lambda loss_fn, theta: mlp_hessian(theta, x, y, hidden, n_classes, activation,
                                              weight_decay)


def mlp_hvp_fn(x: torch.Tensor, y: torch.Tensor, hidden: int, n_classes: int,
               activation: str = "tanh", weight_decay: float = 0.0):
    """`theta -> (v -> H(theta) v)` for the loss of `mlp_hessian`, without forming H.

    One forward pass per theta keeps z1's activations and derivatives and the softmax; each
    product is then the forward and backward directional derivatives (the R-operator) in a few
    matrix products of the data's size, about as cheap as one gradient and several times
    cheaper than a double backward pass through autograd at these sizes. With a = u(z1),
    z2 = a W2^T + b2, p = softmax(z2), r = p - onehot(y), and a direction (V1, c1, V2, c2):
      Rz1 = x V1^T + c1, Ra = u' Rz1, Rz2 = Ra W2^T + a V2^T + c2, Rr = p Rz2 - p <p, Rz2>,
      H v = 1/n [Rr^T a + r^T Ra; sum Rr; Rd1^T x; sum Rd1] + wd v,
      where d1 = u' (r W2) and Rd1 = u' (Rr W2 + r V2) + u'' Rz1 (r W2).
    """
    if activation not in DERIVATIVES:
        raise ValueError(f"mlp_hvp_fn: unknown activation '{activation}'; "
                         f"allowed: {', '.join(DERIVATIVES)}")
    h, c = hidden, n_classes

    def at(theta: torch.Tensor) -> Matvec:
        theta = theta.detach()
        xs = x.to(theta.dtype).flatten(1)
        n, d = xs.shape
        if theta.numel() != h * d + h + c * h + c:
            raise ValueError(f"mlp_hvp_fn: theta has {theta.numel()} entries, a {d}-{h}-{c} "
                             f"MLP with biases has {h * d + h + c * h + c}")
        sizes = [h * d, h, c * h, c]
        w1, b1, w2, b2 = torch.split(theta, sizes)
        w1, w2 = w1.view(h, d), w2.view(c, h)
        a, da, dda = DERIVATIVES[activation](xs @ w1.T + b1)
        p = torch.softmax(a @ w2.T + b2, dim=1)
        r = p - torch.nn.functional.one_hot(y, c).to(p)
        rw2 = r @ w2  # (n, h): the backward signal at a

        def matvec(v: torch.Tensor) -> torch.Tensor:
            v1, c1, v2, c2 = torch.split(v.to(theta.dtype), sizes)
            v1, v2 = v1.view(h, d), v2.view(c, h)
            rz1 = xs @ v1.T + c1
            ra = da * rz1
            rz2 = ra @ w2.T + a @ v2.T + c2
            rr = p * rz2 - p * (p * rz2).sum(1, keepdim=True)
            rd1 = da * (rr @ w2 + r @ v2) + dda * rz1 * rw2
            out = torch.cat([(rd1.T @ xs).reshape(-1), rd1.sum(0),
                             (rr.T @ a + r.T @ ra).reshape(-1), rr.sum(0)]) / n
            return out + weight_decay * v if weight_decay else out
        return matvec
    return at


def matvec_of(matrix: torch.Tensor) -> Matvec:
    """v -> A v for an explicit symmetric matrix (quadratics, tests, benchmarks)."""
    return lambda v: matrix @ v.to(matrix)


# ---------------------------------------------------------------- Lanczos


@dataclass
class LanczosResult:
    """T = tridiag(beta, alpha, beta) with Q H Q^T = T (Q's rows orthonormal) when exact."""

    alpha: torch.Tensor  # (m,) diagonal
    beta: torch.Tensor  # (m - 1,) off-diagonal
    basis: torch.Tensor | None  # (m, dim) Lanczos vectors, when asked
    last_beta: float  # the residual norm after the last step (0: invariant subspace)

    @property
    def steps(self) -> int:
        return self.alpha.numel()

    def tridiagonal(self) -> torch.Tensor:
        return (torch.diag(self.alpha) + torch.diag(self.beta, 1) + torch.diag(self.beta, -1))

    def ritz(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Ritz values (ascending) and the eigenvectors of T (columns)."""
        return torch.linalg.eigh(self.tridiagonal())


def _lanczos_steps(matvec: Matvec, dim: int, steps: int, v0: torch.Tensor):
    """Yield (alpha, beta, Q) after each Lanczos step with full reorthogonalization.

    beta is the norm of the new residual; the iteration ends early at an invariant subspace.
    """
    dtype, device = v0.dtype, v0.device
    q = v0 / v0.norm()
    basis = torch.zeros(steps, dim, dtype=dtype, device=device)
    alpha = torch.zeros(steps, dtype=dtype, device=device)
    beta = torch.zeros(steps, dtype=dtype, device=device)
    scale = 0.0
    for j in range(steps):
        basis[j] = q
        w = matvec(q).to(dtype)
        alpha[j] = q.dot(w)
        w = w - alpha[j] * q - (beta[j - 1] * basis[j - 1] if j else 0.0)
        for _ in range(2):  # twice is enough (Kahan-Parlett): orthogonal to working precision
            w = w - basis[:j + 1].T @ (basis[:j + 1] @ w)
        beta[j] = w.norm()
        scale = max(scale, abs(alpha[j].item()), beta[j].item())
        yield alpha[:j + 1], beta[:j + 1], basis[:j + 1]
        if beta[j] <= 1e-12 * max(scale, 1e-300):
            return  # invariant subspace: T's eigenvalues are exact eigenvalues of H
        q = w / beta[j]


def _start_vector(dim: int, seed: int, dtype, device, kind: str = "gaussian") -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    if kind == "rademacher":
        v = torch.randint(0, 2, (dim,), generator=gen).to(dtype) * 2 - 1
    else:
        v = torch.randn(dim, generator=gen, dtype=dtype)
    return v.to(device)


def lanczos(matvec: Matvec, dim: int, steps: int, seed: int = 0, dtype=torch.float64,
            return_basis: bool = False, v0: torch.Tensor | None = None,
            device: str | torch.device = "cpu") -> LanczosResult:
    """`steps` Lanczos iterations (at most dim) from a seeded Gaussian start (or `v0`).

    Full reorthogonalization against every earlier vector keeps the basis orthonormal, so no
    spurious copies of converged eigenvalues appear. Stops early at an invariant subspace.
    """
    if steps < 1 or dim < 1:
        raise ValueError(f"lanczos needs steps >= 1 and dim >= 1, got steps={steps}, dim={dim}")
    v0 = _start_vector(dim, seed, dtype, device) if v0 is None else v0.to(dtype)
    result = None
    for result in _lanczos_steps(matvec, dim, min(steps, dim), v0):
        pass
    alpha, beta, basis = result
    m = alpha.numel()
    return LanczosResult(alpha.clone(), beta[:m - 1].clone(),
                         basis.clone() if return_basis else None, float(beta[m - 1]))


@dataclass
class ExtremeEigenvalues:
    lambda_min: float
    lambda_max: float
    matvecs: int  # Hessian-vector products used
    residual_min: float  # Ritz residual bounds |beta_m s_m| of the two extreme pairs
    residual_max: float
    converged: bool


def extreme_eigenvalues(matvec: Matvec, dim: int, steps: int = 100, seed: int = 0,
                        tol: float = 1e-6, dtype=torch.float64, return_info: bool = False,
                        device: str | torch.device = "cpu"):
    """(lambda_min, lambda_max): the most negative and most positive eigenvalue.

    Lanczos runs until the residual bounds of both extreme Ritz pairs are below
    `tol * max(|lambda_min|, |lambda_max|)` (the eigenvalue error is smaller still: about the
    residual squared over the gap), or `steps` products. `return_info=True` returns an
    `ExtremeEigenvalues` with the product count and whether it converged. A non-finite
    Hessian-vector product gives NaN for both (an eigendecomposition of a tridiagonal holding
    NaN returns finite, meaningless values), for the caller to reject with its context.
    """
    v0 = _start_vector(dim, seed, dtype, device)
    info = None
    for alpha, beta, _ in _lanczos_steps(matvec, dim, min(steps, dim), v0):
        m = alpha.numel()
        if not (math.isfinite(alpha[m - 1].item()) and math.isfinite(beta[m - 1].item())):
            nan = float("nan")
            info = ExtremeEigenvalues(nan, nan, m, nan, nan, False)
            break
        t = torch.diag(alpha) + torch.diag(beta[:m - 1], 1) + torch.diag(beta[:m - 1], -1)
        vals, vecs = torch.linalg.eigh(t)
        res = (beta[m - 1] * vecs[-1]).abs()
        scale = max(vals[0].abs().item(), vals[-1].abs().item(), 1e-300)
        converged = bool(res[0] <= tol * scale and res[-1] <= tol * scale)
        info = ExtremeEigenvalues(vals[0].item(), vals[-1].item(), m, res[0].item(),
                                  res[-1].item(), converged or m == dim)
        if converged:
            break
    return info if return_info else (info.lambda_min, info.lambda_max)


# ---------------------------------------------------------------- densities and traces


@dataclass
class SpectralDensity:
    """Stochastic Lanczos quadrature: per probe, Gauss nodes (Ritz values) and weights.

    For each probe v (|v| = 1), sum_i w_i p(node_i) = v^T p(H) v exactly for polynomials p of
    degree < 2 * steps; averaged over probes it estimates (1/dim) tr p(H).
    """

    nodes: torch.Tensor  # (n_probes, steps)
    weights: torch.Tensor  # (n_probes, steps), each row sums to 1

    def moment(self, k: int) -> float:
        """Estimate of (1/dim) tr H^k."""
        return (self.weights * self.nodes ** k).sum(1).mean().item()

    def on_grid(self, grid, sigma: float) -> np.ndarray:
        """The density smoothed by a Gaussian of width sigma, on `grid` (integrates to 1)."""
        grid = torch.as_tensor(np.asarray(grid), dtype=self.nodes.dtype)
        z = (grid[:, None, None] - self.nodes[None]) / sigma
        kernel = torch.exp(-0.5 * z ** 2) / (sigma * math.sqrt(2 * math.pi))
        return (kernel * self.weights[None]).sum(2).mean(1).numpy()

    def curve(self, bandwidth: float = 0.01, points: int = 400) -> tuple[np.ndarray, np.ndarray]:
        """(grid, density) over the nodes' range widened by 5 sigma each side, smoothed by a
        Gaussian of sigma = `bandwidth` times that range (a scale-free choice: spectra of
        different models span orders of magnitude)."""
        lo, hi = self.nodes.min().item(), self.nodes.max().item()
        sigma = bandwidth * max(hi - lo, 1e-12 * max(abs(lo), abs(hi), 1.0))
        grid = np.linspace(lo - 5 * sigma, hi + 5 * sigma, points)
        return grid, self.on_grid(grid, sigma)


def slq_density(matvec: Matvec, dim: int, steps: int = 80, n_probes: int = 4, seed: int = 0,
                dtype=torch.float64, device: str | torch.device = "cpu",
                name: str = "stochastic Lanczos quadrature") -> SpectralDensity:
    """Stochastic Lanczos quadrature with `n_probes` seeded Rademacher probes.

    A probe that hits an invariant subspace early has fewer nodes; its row is padded with
    zero-weight nodes so every row has `steps` entries. A non-finite Hessian-vector product
    stops it (DivergedError naming `name` and the probe): the eigenvalues of a tridiagonal
    matrix holding NaN come out finite and meaningless.
    """
    from landscapes.train import check_finite  # train imports the model code; import late

    steps = min(steps, dim)
    nodes = torch.zeros(n_probes, steps, dtype=dtype)
    weights = torch.zeros(n_probes, steps, dtype=dtype)
    for p in range(n_probes):
        v0 = _start_vector(dim, seed * 100_003 + p, dtype, device, kind="rademacher")
        res = lanczos(matvec, dim, steps, dtype=dtype, v0=v0, device=device)
        check_finite(torch.cat([res.alpha, res.beta]), f"{name}: probe {p + 1} of {n_probes}",
                     quantity="Lanczos coefficient")
        vals, vecs = res.ritz()
        m = vals.numel()
        nodes[p, :m] = vals.cpu()
        nodes[p, m:] = vals[-1].cpu()
        weights[p, :m] = (vecs[0] ** 2).cpu()
    return SpectralDensity(nodes, weights)


def hutchinson_trace(matvec: Matvec, dim: int, n_samples: int, seed: int = 0,
                     dtype=torch.float64, device: str | torch.device = "cpu"
                     ) -> tuple[float, float]:
    """tr H estimated as the mean of v^T H v over exactly `n_samples` Rademacher probes.

    Returns (estimate, standard error of the mean); the standard error is nan for one sample.
    """
    if n_samples < 1:
        raise ValueError(f"hutchinson_trace needs n_samples >= 1, got {n_samples}")
    gen = torch.Generator().manual_seed(seed)
    values = []
    for _ in range(n_samples):
        v = (torch.randint(0, 2, (dim,), generator=gen).to(dtype) * 2 - 1).to(device)
        values.append(v.dot(matvec(v).to(dtype)).item())
    values = np.array(values)
    stderr = values.std(ddof=1) / math.sqrt(n_samples) if n_samples > 1 else float("nan")
    return float(values.mean()), float(stderr)
