"""One Keskar sharpness value of the default MLP: full space, 10 L-BFGS-B iterations, whole
training set (digits as in config/default.yaml).

Compares the library (float64 copies of model and data held resident, one loss-and-gradient
pass per evaluation) with a baseline that streams the training set through a DataLoader in
minibatches for every evaluation, as reference tools do. Both must give the same phi.
Run: .venv/bin/python benchmarks/bench_sharpness.py [--threads N]
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from landscapes import data, train  # noqa: E402
from landscapes.provenance import configure_runtime  # noqa: E402
from landscapes.sharpness import keskar_sharpness, model_sharpness  # noqa: E402

TARGET_S = 2.0


def dataloader_value_and_grad(model, x, y, batch_size=128):
    """Baseline: a DataLoader over the training set on every call, gradients summed by batch."""
    from torch.utils.data import DataLoader, TensorDataset

    model = copy.deepcopy(model).double().eval()
    params = list(model.parameters())
    loader = DataLoader(TensorDataset(x.double(), y), batch_size=batch_size, shuffle=False)

    def f(theta):
        torch.nn.utils.vector_to_parameters(torch.from_numpy(theta), params)
        model.zero_grad()
        total = 0.0
        for xb, yb in loader:
            loss = F.cross_entropy(model(xb), yb, reduction="sum") / len(y)
            loss.backward()
            total += loss.item()
        return total, torch.nn.utils.parameters_to_vector([p.grad for p in params]).numpy()

    theta0 = torch.nn.utils.parameters_to_vector(params).detach().numpy().copy()
    return f, theta0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    configure_runtime(args.threads, 0)
    cfg = yaml.safe_load((ROOT / "config/default.yaml").read_text())
    spec = cfg["sharpness"]["networks"]["mlp"]
    ds = data.prepare(**{k: v for k, v in cfg["datasets"][spec["dataset"]].items()},
                      name=spec["dataset"])
    model = train.init_model(spec["model"], ds, 0)
    # A few epochs, so the point is a partly trained net rather than the initialization.
    train.train(model, ds, train.TrainConfig(epochs=2, batch_size=32, optimizer="adam",
                                             lr=1e-3), 0)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"default MLP {spec['model']['hidden']}: {n_params} parameters, "
          f"{len(ds.y_train)} training samples, {args.threads} thread(s)")

    def best_of(fn):
        times, out = [], None
        for _ in range(args.repeats):
            t = time.perf_counter()
            out = fn()
            times.append(time.perf_counter() - t)
        return min(times), out

    t_lib, r_lib = best_of(lambda: model_sharpness(model, ds.x_train, ds.y_train, 1e-3))
    f_base, theta0 = dataloader_value_and_grad(model, ds.x_train, ds.y_train)
    t_base, r_base = best_of(lambda: keskar_sharpness(f_base, theta0, 1e-3))
    same = np.isclose(r_lib.phi, r_base.phi, rtol=1e-6)
    print(f"baseline (DataLoader per evaluation): {t_base:.3f} s, phi {r_base.phi:.6g}, "
          f"{r_base.evaluations} evaluations")
    print(f"library (resident float64 tensors):   {t_lib:.3f} s, phi {r_lib.phi:.6g}, "
          f"{r_lib.evaluations} evaluations, {r_lib.message}")
    print(f"speedup {t_base / t_lib:.2f}x; same phi: {same}; "
          f"under {TARGET_S:g} s: {t_lib < TARGET_S}")
    if not same:
        raise SystemExit("the two implementations disagree")


if __name__ == "__main__":
    main()
