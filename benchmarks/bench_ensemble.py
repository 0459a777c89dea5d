"""Batched ensemble training against the autograd ensemble it replaced and against training
the same nets one by one with torch.optim.

For each hidden size: E nets, a few epochs of minibatch SGD with momentum on data of the
minima experiment's shape (digits: 1,500 samples, 64 features, 10 classes; each net its own
seeded data order). Prints the CPU time of the three (on a shared machine the wall clock also
counts the other processes; the fastest of a few rounds for the ensembles), the ratios, the
largest parameter difference from the nets trained one by one (they must agree), and the
batched run's matmul GFLOP/s as a share of a large single matmul's GFLOP/s measured just
before and after each round, at the same thread count (best and median round).

    .venv/bin/python benchmarks/bench_ensemble.py [--nets 64] [--sizes 25 100 500] [--threads 1]
        [--epochs 4] [--repeats 5]
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

AGREE = 1e-4  # largest parameter difference for a net to count as agreeing
# In float32 a pre-activation within rounding of zero can flip a ReLU in one computation and
# not the other, moving that one net by about lr / batch_size (float64 agrees to 1e-12, see
# tests/test_ensemble.py). Such nets are counted and shown; the check fails if they are more
# than this fraction of all nets, or if any net is off by more than FAR.
OUTLIER_FRACTION = 0.05
FAR = 1e-2


def matmul_peak(n: int = 2048, repeats: int = 3) -> float:
    """GFLOP/s (per CPU second) of the best of a few n x n float32 matmuls."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    best = min(cpu_seconds(lambda: a @ b) for _ in range(repeats))
    return 2 * n**3 / best / 1e9


def cpu_seconds(fn) -> float:
    """CPU seconds of fn(): on a shared machine the wall clock also counts other processes."""
    t = time.process_time()
    fn()
    return time.process_time() - t


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


def autograd_ensemble(ens: ensemble.Ensemble, data: Dataset, cfg: TrainConfig):
    """The ensemble as it was before the handwritten backward (kept here as the baseline):
    all nets in one batched computation per step, gradients by autograd, momentum SGD."""
    params = [p.requires_grad_(True) for p in ens.parameters()]
    bufs = [torch.zeros_like(p) for p in params]
    gens = [torch.Generator().manual_seed(s) for s in ens.seeds]
    x, y = data.x_train.flatten(1), data.y_train
    n, e = len(y), ens.size
    for epoch in range(1, cfg.epochs + 1):
        lr = ensemble.lr_at(cfg, epoch)
        perms = torch.stack([torch.randperm(n, generator=g) for g in gens])
        for i in range(0, n, cfg.batch_size):
            idx = perms[:, i:i + cfg.batch_size]
            b = idx.shape[1]
            out = ens.logits(x[idx])
            per_net = F.cross_entropy(out.reshape(e * b, -1), y[idx].reshape(-1),
                                      reduction="none").view(e, b).mean(1)
            grads = torch.autograd.grad(per_net.sum(), params)
            with torch.no_grad():
                for p, g, buf in zip(params, grads, bufs):
                    buf.mul_(cfg.momentum).add_(g)
                    p.add_(buf, alpha=-lr)
    for p in params:
        p.requires_grad_(False)
    return ens


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nets", type=int, default=64, help="nets per ensemble")
    ap.add_argument("--sizes", type=int, nargs="+", default=[25, 50, 100, 250, 500],
                    help="hidden sizes")
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--samples", type=int, default=1500)
    ap.add_argument("--features", type=int, default=64)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=5,
                    help="rounds of (peak, autograd, batched, peak) per size")
    args = ap.parse_args()
    configure_runtime(args.threads)
    g = torch.Generator().manual_seed(0)
    n = args.samples
    x = torch.randn(n + 300, args.features, generator=g)
    y = torch.randint(0, 10, (n + 300,), generator=g)
    data = Dataset(x[:n], y[:n], x[n:], y[n:], "bench", 10)
    cfg = TrainConfig(epochs=args.epochs, batch_size=100, lr=0.05, momentum=0.9)
    seeds = list(range(args.nets))
    print(f"{args.nets} nets, {n} samples x {args.features} features, {args.epochs} epochs, "
          f"batch {cfg.batch_size}, {args.threads} thread(s); CPU seconds, the fastest of "
          f"{args.repeats} rounds; each round's share is of the higher of the matmul peaks "
          f"(2048^3 float32) measured just before and just after it; best and median round")
    print(f"{'hidden':>6} {'one-by-one s':>13} {'autograd s':>11} {'batched s':>10} "
          f"{'vs 1-by-1':>10} {'vs autograd':>12} {'max |diff|':>11} {'>1e-4':>6} "
          f"{'GFLOP/s':>8} {'peak':>6} {'of peak':>8} {'median':>7}")
    failed = False
    totals = [0.0, 0.0, 0.0]
    for h in args.sizes:
        spec = {"name": "mlp", "hidden": [h], "activation": "relu"}
        t0 = time.process_time()
        alone = one_by_one(spec, data, cfg, seeds)
        t_alone = time.process_time() - t0
        rounds = []  # (autograd s, batched s, peak GFLOP/s)
        for _ in range(args.repeats):
            before = matmul_peak()
            # training only: building the nets is the same for both ensembles
            old = ensemble.init_ensemble(spec, data, seeds)
            t_old = cpu_seconds(lambda: autograd_ensemble(old, data, cfg))
            nets = ensemble.init_ensemble(spec, data, seeds)
            t_new = cpu_seconds(lambda: ensemble.train_ensemble(nets, data, cfg,
                                                                name=f"bench {h}"))
            rounds.append((t_old, t_new, max(before, matmul_peak())))
        diffs = [max((a - b).abs().max().item() for a, b in zip(ps, nets.net_parameters(i)))
                 for i, ps in enumerate(alone)]
        diff, off = max(diffs), sum(d > AGREE for d in diffs)
        failed |= off > OUTLIER_FRACTION * len(diffs) or diff > FAR
        flops = nets.matmul_flops(n * cfg.epochs)
        shares = sorted(flops / t / 1e9 / pk for _, t, pk in rounds)
        t_old, t_new = min(r[0] for r in rounds), min(r[1] for r in rounds)
        best = max(rounds, key=lambda r: flops / r[1] / r[2])
        totals = [a + b for a, b in zip(totals, (t_alone, t_old, t_new))]
        print(f"{h:>6} {t_alone:>13.2f} {t_old:>11.2f} {t_new:>10.2f} "
              f"{t_alone / t_new:>9.1f}x {t_old / t_new:>11.1f}x {diff:>11.2e} {off:>6} "
              f"{flops / best[1] / 1e9:>8.1f} {best[2]:>6.1f} {shares[-1]:>7.1%} "
              f"{shares[len(shares) // 2]:>7.1%}")
    print(f"{'all':>6} {totals[0]:>13.2f} {totals[1]:>11.2f} {totals[2]:>10.2f} "
          f"{totals[0] / totals[2]:>9.1f}x {totals[1] / totals[2]:>11.1f}x")
    if failed:
        raise SystemExit(f"batched and one-by-one parameters disagree: more than "
                         f"{OUTLIER_FRACTION:.0%} of nets beyond {AGREE:g}, or one beyond {FAR:g}")


if __name__ == "__main__":
    main()
