"""Hessian benchmarks: run with `.venv/bin/python benchmarks/bench_hessian.py [--quick]`.

1. The exact Hessian and its spectrum for a ~1,600-parameter one-hidden-layer tanh MLP over the
   whole default MNIST-1D training set (10,000 samples): closed form (`mlp_hessian`) against
   autodiff (`exact_hessian`, vmap over forward-over-reverse products) on the same net; both
   must agree. Target: closed form + eigh under 5 s on 2 cores.
2. Extreme eigenvalues (most negative and most positive) to 1e-3 relative: Lanczos against
   power iteration with deflation (the baseline, implemented here), counted in Hessian-vector
   products, on the same Hessian; both must agree with eigh. Target: >= 3x fewer products.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import torch

from landscapes import hessian as hs
from landscapes.models import MLP
from landscapes.params import FlatModel
from landscapes.provenance import configure_runtime

D = torch.float64


def power_extremes(matvec, dim: int, res_tol: float, seed: int, max_iter: int = 100_000):
    """Baseline: power iteration for the largest-magnitude eigenvalue, then power iteration
    on the shifted operator (H - big I) for the other end. Each stops on the same residual
    test as Lanczos: |H v - lam v| <= res_tol * |lam|. Counts products."""
    gen = torch.Generator().manual_seed(seed)

    def power(op):
        v = torch.randn(dim, generator=gen, dtype=D)
        v /= v.norm()
        n = 0
        while n < max_iter:
            w = op(v)
            n += 1
            lam = v.dot(w).item()
            if (w - lam * v).norm().item() <= res_tol * abs(lam):
                return lam, n
            v = w / w.norm()
        return lam, n

    big, n1 = power(matvec)  # largest magnitude: either end of the spectrum
    other, n2 = power(lambda v: matvec(v) - big * v)  # the far end of H - big I
    other += big
    return min(big, other), max(big, other), n1 + n2


def bench_exact(n: int, hidden: int, repeat: int) -> None:
    torch.manual_seed(0)
    x, y = torch.randn(n, 40, dtype=D), torch.randint(0, 10, (n,))
    model = MLP(40, [hidden], 10, "tanh").double()
    flat = FlatModel(model)
    theta = flat.theta0 + 0.3 * torch.randn(flat.dim, dtype=D)
    loss_fn = hs.full_batch_loss(flat, x, y, weight_decay=1e-4)

    def timed(fn):
        best = float("inf")
        for _ in range(repeat):
            t = time.perf_counter()
            out = fn()
            best = min(best, time.perf_counter() - t)
        return out, best

    fast, t_fast = timed(lambda: hs.mlp_hessian(theta, x, y, hidden, 10, "tanh", 1e-4))
    ref, t_ref = timed(lambda: hs.exact_hessian(loss_fn, theta))
    eigs, t_eigh = timed(lambda: torch.linalg.eigvalsh(fast))
    err = ((fast - ref).abs().max() / ref.abs().max()).item()
    print(f"exact Hessian, {flat.dim} parameters x {n} samples (best of {repeat}):")
    print(f"  autodiff (vmap jvp-of-grad)  {t_ref:7.2f} s")
    print(f"  closed form                  {t_fast:7.2f} s   speed-up x{t_ref / t_fast:.1f}")
    print(f"  eigh                         {t_eigh:7.2f} s")
    total = t_fast + t_eigh
    print(f"  closed form + spectrum       {total:7.2f} s   target < 5 s: "
          f"{'met' if total < 5 else 'NOT met'}")
    print(f"  max relative difference      {err:.1e}   {'same' if err < 1e-10 else 'DIFFERENT'}")
    bench_extremes(fast, eigs)


def bench_extremes(h: torch.Tensor, eigs: torch.Tensor, rel_tol: float = 1e-3) -> None:
    dim = h.shape[0]
    lo, hi = eigs[0].item(), eigs[-1].item()
    count = [0]

    def mv(v):
        count[0] += 1
        return h @ v

    info = hs.extreme_eigenvalues(mv, dim, steps=dim, tol=1e-4, seed=0, return_info=True)
    n_lanczos = count[0]
    p_lo, p_hi, n_power = power_extremes(lambda v: h @ v, dim, 1e-4, seed=0)

    def rel(a, b):
        return abs(a - b) / max(abs(lo), abs(hi))

    ok_l = rel(info.lambda_min, lo) < rel_tol and rel(info.lambda_max, hi) < rel_tol
    ok_p = rel(p_lo, lo) < rel_tol and rel(p_hi, hi) < rel_tol
    print(f"extreme eigenvalues (eigh: {lo:.6g}, {hi:.6g}), 1e-3 relative:")
    print(f"  Lanczos      {n_lanczos:6d} products  -> {info.lambda_min:.6g}, {info.lambda_max:.6g}"
          f"  {'ok' if ok_l else 'WRONG'}")
    print(f"  power+defl.  {n_power:6d} products  -> {p_lo:.6g}, {p_hi:.6g}"
          f"  {'ok' if ok_p else 'WRONG'}")
    ratio = n_power / n_lanczos
    print(f"  ratio x{ratio:.1f} fewer products with Lanczos   target >= 3x: "
          f"{'met' if ratio >= 3 else 'NOT met'}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small net and 2,000 samples")
    args = parser.parse_args()
    configure_runtime(2)
    if args.quick:
        bench_exact(2000, 16, repeat=1)
    else:
        bench_exact(10_000, 32, repeat=2)
