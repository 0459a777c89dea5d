"""The skips experiment's GPU path against the CPU: one short script for a machine with a GPU.

On CIFAR-shaped synthetic data (no download), a ResNet-20 is trained for one epoch, then a
3 x 3 loss-surface tile and the extreme Hessian eigenvalues at one point are computed, once on
the CPU and once (twice, for repeatability) on `--device` (default: cuda). About 2 minutes on
2 CPU cores. Prints the time of each and the largest
differences; exits non-zero when a result differs by more than float32 tolerance allows, or
when the device run is not repeatable bit for bit.

    .venv/bin/python benchmarks/check_device.py [--device cuda] [--n 1024]

Without a GPU, `--device cpu` exercises the same code paths (and must match exactly).
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from landscapes import directions, train  # noqa: E402
from landscapes.data import Dataset  # noqa: E402
from landscapes.params import vector  # noqa: E402
from landscapes.provenance import configure_runtime  # noqa: E402
from landscapes.surface import Evaluator, Grid, evaluate_tile, extreme_eigenvalues_tile  # noqa: E402

SPEC = {"name": "resnet", "depth": 20, "width": 16, "shortcuts": True, "batchnorm": True}
CFG = {"epochs": 1, "batch_size": 128, "optimizer": "sgd", "lr": 0.1, "momentum": 0.9,
       "weight_decay": 5e-4}
# float32 kernels sum in another order on a GPU: small differences, growing a little over the
# epoch's steps. A misplaced tensor or BatchNorm mode gives differences of order one.
TOLERANCE = {"weights": 1e-2, "loss": 1e-2, "eigenvalues": 1e-2}


def synthetic(n: int) -> Dataset:
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(n + n // 4, 3, 32, 32, generator=gen)
    y = torch.randint(0, 10, (len(x),), generator=gen)
    return Dataset(x[:n], y[:n], x[n:], y[n:], "synthetic-cifar", 10)


def run(data: Dataset, device: torch.device) -> tuple[dict, dict]:
    times, out = {}, {}
    model = train.init_model(SPEC, data, 0)
    t = time.perf_counter()
    train.train(model, data, train.TrainConfig.from_config(CFG), 0, "check", device=device)
    times["train one epoch"] = time.perf_counter() - t
    out["weights"] = vector(model).cpu().numpy()
    plane = directions.random_directions(model, 0, 2)
    model = copy.deepcopy(model).eval().to(device)
    grid = Grid.linspace(alpha=(-1, 1, 3), beta=(-1, 1, 3))
    t = time.perf_counter()
    ev = Evaluator(model, plane, points_per_pass=1, chunk=1024)
    surface = evaluate_tile(ev, grid, 0, 3, (data.x_train, data.y_train))
    times["3 x 3 surface tile"] = time.perf_counter() - t
    out["loss"] = surface.metrics["train_loss"]
    t = time.perf_counter()
    eig = extreme_eigenvalues_tile(model, plane, grid, 1, 2, data.x_train[:64],
                                   data.y_train[:64], steps=10, seed=0)
    times["Hessian extremes, 3 points"] = time.perf_counter() - t
    out["eigenvalues"] = np.stack([eig.metrics["lambda_min"], eig.metrics["lambda_max"]])
    return times, out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--n", type=int, default=1024, help="training samples")
    args = parser.parse_args()
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        print("no CUDA device visible to torch; run with --device cpu to exercise the code")
        return 2
    configure_runtime(2)
    data = synthetic(args.n)
    cpu_times, cpu = run(data, torch.device("cpu"))
    dev_times, dev = run(data, device)
    _, again = run(data, device)
    failed = False
    print(f"{'step':30s} {'cpu':>9s} {device.type:>9s}")
    for step in cpu_times:
        print(f"{step:30s} {cpu_times[step]:8.2f}s {dev_times[step]:8.2f}s")
    for key, tol in TOLERANCE.items():
        diff = float(np.abs(cpu[key] - dev[key]).max() / max(np.abs(cpu[key]).max(), 1e-30))
        same = np.array_equal(dev[key], again[key])
        allowed = 0 if device.type == "cpu" else tol
        ok = diff <= allowed and same
        failed |= not ok
        print(f"{key:12s} max relative difference {diff:.1e} (allowed {allowed:g}); "
              f"repeatable: {same}  {'ok' if ok else 'FAILED'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
