"""Nets of one shape trained side by side (`stacked_training`) against the same nets trained
one by one (`train.train`), on data of the generalization population's shape.

One group of the population: 12 nets, every combination of 3 learning rates, 2 weight decays
and 2 dropout rates, one width and batch size, for a fixed number of epochs (no target, so both
do the same steps). Prints the CPU seconds of both (the fastest of a few rounds for the stack),
their ratio, the stacked run's matmul GFLOP/s and its share of a large single matmul's GFLOP/s
measured in the same round (the higher of just before and just after).

    .venv/bin/python benchmarks/bench_stacked.py [--widths 128 256] [--batches 32 128]
        [--epochs 10] [--repeats 3] [--threads 1]
"""

from __future__ import annotations

import argparse
import itertools
import time

import torch
from bench_ensemble import cpu_seconds, matmul_peak

from landscapes.data import Dataset
from landscapes.models import MLP
from landscapes.provenance import configure_runtime
from landscapes.stacked_training import train_stacked
from landscapes.train import TrainConfig, train

GRID = list(itertools.product([0.01, 0.02, 0.04], [0.0, 5e-4], [0.0, 0.1]))


def _net(features, width, seed=0, dropout=0.0):
    torch.manual_seed(seed)
    return MLP(features, [width, width], 10, dropout=dropout)


def matmul_flops(features, width, n, batch, epochs, nets) -> float:
    """Matmul FLOPs of stacked training: forward and two backward products per batch, and
    one forward over the training set per epoch (the target check)."""
    macs = features * width + width * width + width * 10
    steps = epochs * -(-n // batch)
    return nets * macs * 2 * (3 * batch * steps + n * epochs)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--widths", type=int, nargs="+", default=[128, 256])
    ap.add_argument("--batches", type=int, nargs="+", default=[32, 128])
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--samples", type=int, default=1000)
    ap.add_argument("--features", type=int, default=40)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    configure_runtime(args.threads)
    g = torch.Generator().manual_seed(0)
    n = args.samples
    x = torch.randn(n + 500, args.features, generator=g)
    y = torch.randint(0, 10, (n + 500,), generator=g)
    data = Dataset(x[:n], y[:n], x[n:], y[n:], "bench", 10)
    print(f"{len(GRID)} nets a group, {n} samples x {args.features} features, two hidden "
          f"layers, {args.epochs} epochs, momentum 0.9, {args.threads} thread(s); CPU seconds")
    print(f"{'width':>5} {'batch':>5} {'one-by-one s':>13} {'stacked s':>10} {'ratio':>6} "
          f"{'GFLOP/s':>8} {'peak':>6} {'of peak':>8}")
    for width, batch in itertools.product(args.widths, args.batches):
        t0 = time.process_time()
        for lr, wd, p in GRID:
            train(_net(args.features, width, dropout=p), data,
                  TrainConfig(epochs=args.epochs, batch_size=batch, lr=lr, momentum=0.9,
                              weight_decay=wd), seed=0)
        alone = time.process_time() - t0
        rounds = []
        for _ in range(args.repeats):
            before = matmul_peak()
            t = cpu_seconds(lambda: train_stacked(
                _net(args.features, width), data, [c[0] for c in GRID], [c[1] for c in GRID],
                [c[2] for c in GRID], args.epochs, batch, 0.9, None, 0))
            rounds.append((t, max(before, matmul_peak())))
        t, peak = min(rounds)
        rate = matmul_flops(args.features, width, n, batch, args.epochs, len(GRID)) / t / 1e9
        print(f"{width:>5} {batch:>5} {alone:>13.2f} {t:>10.2f} {alone / t:>6.2f} "
              f"{rate:>8.1f} {peak:>6.1f} {rate / peak:>8.1%}")


if __name__ == "__main__":
    main()
