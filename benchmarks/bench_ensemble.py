"""Batched ensemble training against training the same nets one by one with torch.optim.

For each hidden size: E nets, one epoch of minibatch SGD with momentum on MNIST-1D-shaped data
(10,000 samples, 40 features, 10 classes). Prints the wall time of both, their ratio, the
largest parameter difference between the two (they must agree), and the batched run's achieved
matmul GFLOP/s as a fraction of a large single matmul's GFLOP/s measured in the same run.

    .venv/bin/python benchmarks/bench_ensemble.py [--nets 32] [--sizes 25 100 500] [--threads 2]
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F

from landscapes import ensemble
from landscapes.data import Dataset
from landscapes.provenance import configure_runtime
from landscapes.train import TrainConfig, init_model, make_optimizer

AGREE = 1e-4  # largest parameter difference after one epoch for a net to count as agreeing
# In float32 a pre-activation within rounding of zero can flip a ReLU in one computation and
# not the other, moving that one net by about lr / batch_size (float64 agrees to 1e-16, see
# tests/test_ensemble.py). Such nets are counted and shown; the check fails if they are more
# than this fraction of all nets, or if any net is off by more than FAR.
OUTLIER_FRACTION = 0.05
FAR = 1e-2


def matmul_peak(n: int = 2048, repeats: int = 5) -> float:
    """GFLOP/s of the best of a few n x n float32 matmuls."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    best = min(_timed(lambda: a @ b) for _ in range(repeats))
    return 2 * n**3 / best / 1e9


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def one_by_one(spec, data, cfg, seeds):
    """The baseline: each net built, trained and kept alone, with torch.optim.SGD."""
    nets = []
    for seed in seeds:
        model = init_model(spec, data, seed)
        opt = make_optimizer(model, cfg)
        gen = torch.Generator().manual_seed(seed)
        n = len(data.y_train)
        for _ in range(cfg.epochs):
            perm = torch.randperm(n, generator=gen)
            for i in range(0, n, cfg.batch_size):
                idx = perm[i:i + cfg.batch_size]
                loss = F.cross_entropy(model(data.x_train[idx]), data.y_train[idx])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
        nets.append([p.detach() for p in model.parameters()])
    return nets


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nets", type=int, default=32, help="nets per ensemble")
    ap.add_argument("--sizes", type=int, nargs="+", default=[25, 50, 100, 250, 500],
                    help="hidden sizes")
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    configure_runtime(args.threads)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(12000, 40, generator=g)
    y = torch.randint(0, 10, (12000,), generator=g)
    data = Dataset(x[:10000], y[:10000], x[10000:], y[10000:], "bench", 10)
    cfg = TrainConfig(epochs=args.epochs, batch_size=100, lr=0.05, momentum=0.9)
    seeds = list(range(args.nets))
    peak = matmul_peak()
    print(f"matmul peak (2048^3 float32, {args.threads} threads): {peak:.1f} GFLOP/s")
    print(f"{'hidden':>6} {'nets':>5} {'one-by-one s':>13} {'batched s':>10} {'speedup':>8} "
          f"{'max |diff|':>11} {'>1e-4':>6} {'GFLOP/s':>8} {'of peak':>8}")
    failed = False
    total_alone = total_batched = 0.0
    for h in args.sizes:
        spec = {"name": "mlp", "hidden": [h], "activation": "relu"}
        t0 = time.perf_counter()
        alone = one_by_one(spec, data, cfg, seeds)
        t_alone = time.perf_counter() - t0
        t0 = time.perf_counter()
        nets = ensemble.init_ensemble(spec, data, seeds)
        ensemble.train_ensemble(nets, data, cfg, name=f"bench {h}")
        t_batched = time.perf_counter() - t0
        diffs = [max((a - b).abs().max().item() for a, b in zip(ps, nets.net_parameters(i)))
                 for i, ps in enumerate(alone)]
        diff, off = max(diffs), sum(d > AGREE for d in diffs)
        gflops = nets.matmul_flops(len(data.y_train) * cfg.epochs) / t_batched / 1e9
        failed |= off > OUTLIER_FRACTION * len(diffs) or diff > FAR
        total_alone, total_batched = total_alone + t_alone, total_batched + t_batched
        print(f"{h:>6} {args.nets:>5} {t_alone:>13.2f} {t_batched:>10.2f} "
              f"{t_alone / t_batched:>7.1f}x {diff:>11.2e} {off:>6} {gflops:>8.2f} "
              f"{gflops / peak:>7.1%}")
    print(f"{'all':>6} {args.nets:>5} {total_alone:>13.2f} {total_batched:>10.2f} "
          f"{total_alone / total_batched:>7.1f}x")
    if failed:
        raise SystemExit(f"batched and one-by-one parameters disagree: more than "
                         f"{OUTLIER_FRACTION:.0%} of nets beyond {AGREE:g}, or one beyond {FAR:g}")


if __name__ == "__main__":
    main()
