"""Surface evaluation against a baseline in the style of the reference loss-landscape tool.

The baseline, for each grid point: writes the perturbed weights into the module, loops over a
DataLoader (batch 128) in eval mode and accumulates loss and accuracy, one point at a time.
`landscapes.surface.Evaluator` keeps the data resident in large chunks, precomputes the
directions, never touches the module, and batches several points into one `vmap` pass for
small nets. Both run in this process on the same points and must give the same numbers.

    .venv/bin/python benchmarks/bench_surface.py [--threads 2] [--repeats 3]

Prints seconds per grid point for each and the speed ratio; exits non-zero when the results
differ or a ratio is below its target (5x for an MLP, 1.5x for ResNet-20).
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from landscapes import directions as dirs
from landscapes.models import MLP, ResNet
from landscapes.params import Layout
from landscapes.provenance import configure_runtime
from landscapes.surface import Evaluator, Grid


@torch.no_grad()
def baseline(model, directions, coords, x, y, batch_size=128):
    """One point at a time: copy weights into the module, loop a DataLoader."""
    params = [p for p in model.parameters()]
    center = [p.detach().clone() for p in params]
    steps = [Layout.of(model).split(d) for d in directions]
    names = [n for n, _ in model.named_parameters()]
    loader = DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=False)
    model.eval()
    losses, accs = [], []
    for c in coords:
        for p, w, n in zip(params, center, names):
            p.data.copy_(w + sum(float(ck) * s[n] for ck, s in zip(c, steps)))
        total, correct = 0.0, 0
        for xb, yb in loader:
            out = model(xb)
            total += F.cross_entropy(out, yb, reduction="sum").item()
            correct += (out.argmax(1) == yb).sum().item()
        losses.append(total / len(y))
        accs.append(correct / len(y))
    for p, w in zip(params, center):  # put the model back
        p.data.copy_(w)
    return np.array(losses), np.array(accs)


def timed(fns, repeats):
    """Best CPU time of each function over `repeats` interleaved runs, and its last result.

    CPU time (not wall time) and interleaving keep the ratio fair on a machine shared with
    other jobs."""
    best, results = [float("inf")] * len(fns), [None] * len(fns)
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            t = time.process_time()
            results[i] = fn()
            best[i] = min(best[i], time.process_time() - t)
    return list(zip(best, results))


def case(name, model, x, y, grid, points_per_pass, chunk, target, repeats):
    torch.manual_seed(0)
    d = dirs.random_directions(model, seed=0, count=2)
    coords = grid.coordinates()
    ev = Evaluator(model, d, points_per_pass=points_per_pass, chunk=chunk)
    (t_base, (l_base, a_base)), (t_ours, (l_ours, a_ours)) = timed(
        [lambda: baseline(model, d, coords, x, y), lambda: ev.evaluate(coords, x, y)], repeats)
    same = np.allclose(l_base, l_ours, rtol=1e-4, atol=1e-5) and np.allclose(a_base, a_ours)
    ratio = t_base / t_ours
    n = len(coords)
    print(f"{name:10s} points {n:3d}  baseline {t_base / n * 1e3:8.2f} ms/pt  "
          f"evaluator {t_ours / n * 1e3:8.2f} ms/pt  ratio {ratio:5.2f}x (target {target}x)  "
          f"max |dloss| {np.abs(l_base - l_ours).max():.2e}  same: {same}")
    return same and ratio >= target


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    configure_runtime(args.threads, 0)
    gen = torch.Generator().manual_seed(0)
    ok = True
    # the MLP of the deep-linear/permutation example: mnist1d-shaped, 10000 x 40 features
    x, y = torch.randn(10000, 40, generator=gen), torch.randint(0, 10, (10000,), generator=gen)
    torch.manual_seed(0)
    ok &= case("mlp", MLP(40, [64], 10), x, y,
               Grid.linspace(alpha=(-1, 1, 4), beta=(-1, 1, 4)), 4, 16384, 5.0, args.repeats)
    # ResNet-20 on 1500 8x8 images (the digits)
    x = torch.randn(1500, 1, 8, 8, generator=gen)
    y = torch.randint(0, 10, (1500,), generator=gen)
    torch.manual_seed(0)
    ok &= case("resnet20", ResNet(20, 1, 10), x, y,
               Grid.linspace(alpha=(-1, 1, 2), beta=(-1, 1, 2)), 1, 512, 1.5, args.repeats)
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
