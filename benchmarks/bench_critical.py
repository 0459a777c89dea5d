"""Critical-point finders: run with `.venv/bin/python benchmarks/bench_critical.py`.

On the saddles default net (digits, 64-16-10 tanh MLP, 1497 samples, weight decay 1e-4,
float64 full-batch loss), from the same perturbed trajectory points (momentum SGD with the
default saddles training config, `critical.perturbed_starts`): Newton-MR (MINRES on
Hessian-vector products) against Levenberg-Marquardt with one exact eigendecomposition per
step (the baseline), each run until |grad| < cutoff or `max_iter` steps. Reports per method
the share of starts that reach the cutoff, the median seconds and Hessian-vector products
(one dense Hessian counts as dim products) over all starts, and their ratio. Also the cost of
one Newton-MR step's products by autodiff against forming the closed-form Hessian once per
step and multiplying by it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import torch

from landscapes import critical, data, hessian, train
from landscapes.provenance import configure_runtime

MODEL = {"name": "mlp", "hidden": [16], "activation": "tanh"}
TRAIN = {"batch_size": 64, "optimizer": "sgd", "lr": 0.005, "momentum": 0.9}
WEIGHT_DECAY = 1e-4


def starts_of(args):
    ds = data.prepare("digits", n_train=1497, n_test=300, seed=0)
    points = []
    for seed in range(args.seeds):
        cfg = train.TrainConfig.from_config({**TRAIN, "epochs": max(args.epochs),
                                             "trajectory_every": 1,
                                             "weight_decay": WEIGHT_DECAY})
        result = train.train(train.init_model(MODEL, ds, seed), ds, cfg, seed,
                             name=f"bench run {seed}")
        points += [result.trajectory[result.trajectory_epochs.index(e)] for e in args.epochs]
    problem = critical.mlp_problem(train.init_model(MODEL, ds, 0), ds.x_train, ds.y_train,
                                   WEIGHT_DECAY)
    return problem, critical.perturbed_starts(points, 1, args.noise, seed=0)


def run(problem, theta0, method, args):
    start = time.perf_counter()
    if method == "newton_mr":
        s = critical.newton_mr(problem.loss_fn, theta0, args.max_iter, args.cutoff,
                               hvp=problem.hvp_fn, minres_tol=args.minres_tol,
                               minres_max_iter=args.minres_max_iter)
    else:
        s = critical.find_critical_point(problem.loss_fn, theta0, args.max_iter, args.cutoff,
                                         hessian_fn=problem.hessian_fn)
    return s, time.perf_counter() - start


def product_cost(problem, theta, repeat: int = 20):
    """(setup, per product) seconds of autodiff products and of the closed-form Hessian."""
    v = torch.randn(problem.dim, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    out = {}
    for name, make in (("autodiff", lambda t: hessian.hvp_fn(problem.loss_fn, t)),
                       ("closed form", lambda t: hessian.matvec_of(
                           problem.hessian_fn(problem.loss_fn, t)))):
        t0 = time.perf_counter()
        mv = make(theta)
        t1 = time.perf_counter()
        for _ in range(repeat):
            hv = mv(v)
        out[name] = (t1 - t0, (time.perf_counter() - t1) / repeat, hv)
    diff = (out["autodiff"][2] - out["closed form"][2]).norm() / out["autodiff"][2].norm()
    return {k: v[:2] for k, v in out.items()}, diff.item()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--epochs", type=int, nargs="+", default=[2, 40])
    ap.add_argument("--noise", type=float, default=0.05)
    ap.add_argument("--max-iter", type=int, default=25)
    ap.add_argument("--cutoff", type=float, default=1e-6)
    ap.add_argument("--minres-tol", type=float, default=1e-6)
    ap.add_argument("--minres-max-iter", type=int, default=300)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    configure_runtime(args.threads)
    problem, starts = starts_of(args)
    print(f"{len(starts)} starts (seeds 0..{args.seeds - 1}, epochs {args.epochs}, noise "
          f"{args.noise}), |grad| < {args.cutoff} within {args.max_iter} steps")
    rows = {m: [] for m in ("newton_mr", "lm")}
    for k, theta0 in enumerate(starts):
        for method in rows:  # interleaved, so the machine's load hits both alike
            s, sec = run(problem, theta0, method, args)
            rows[method].append((s, sec))
            print(f"start {k}: {method:9s} {s.stop:13s} {s.iterations:3d} steps "
                  f"|g| {s.grad_norms[-1]:.1e} {sec:6.1f} s {s.hvps:7d} products "
                  f"{s.eighs:3d} eigh, error {problem.error_fn(s.theta):.3f}", flush=True)
    print("\n| method | reach cutoff | median s | median products | median eigh | "
          "median steps |\n|---|---|---|---|---|---|")
    med = {}
    for method, rs in rows.items():
        med[method] = (statistics.median(sec for _, sec in rs),
                       statistics.median(s.hvps for s, _ in rs))
        reached = sum(s.grad_norms[-1] < args.cutoff for s, _ in rs)
        print(f"| {method} | {reached} of {len(rs)} | {med[method][0]:.1f} | "
              f"{med[method][1]:.0f} | {statistics.median(s.eighs for s, _ in rs):.0f} | "
              f"{statistics.median(s.iterations for s, _ in rs):.0f} |")
    both = [k for k in range(len(starts)) if all(
        rows[m][k][0].grad_norms[-1] < args.cutoff for m in rows)]
    print(f"\nratio LM / Newton-MR, median seconds over all starts: "
          f"{med['lm'][0] / med['newton_mr'][0]:.2f}x; products: "
          f"{med['lm'][1] / max(med['newton_mr'][1], 1):.2f}x")
    if both:
        sec = {m: statistics.median(rows[m][k][1] for k in both) for m in rows}
        print(f"over the {len(both)} starts both reach: LM {sec['lm']:.1f} s, Newton-MR "
              f"{sec['newton_mr']:.1f} s, ratio {sec['lm'] / sec['newton_mr']:.2f}x")
    cost, diff = product_cost(problem, starts[0])
    per_step = statistics.median(s.hvps / max(s.iterations, 1) for s, _ in rows["newton_mr"])
    print(f"\nproducts per Newton-MR step (median): {per_step:.0f}; relative difference of "
          f"the two products {diff:.1e}")
    for name, (setup, each) in cost.items():
        print(f"  {name}: setup {1e3 * setup:.1f} ms + {1e3 * each:.2f} ms per product -> "
              f"{setup + per_step * each:.2f} s per step")


if __name__ == "__main__":
    main()
