"""The GPU path against the CPU, and the rates that project the paper scale: one short script
for a machine with a GPU.

On CIFAR-shaped synthetic data (no download):

1. **Agreement.** A ResNet-20 is trained for one epoch, then a 3 x 3 loss-surface tile, the
   extreme Hessian eigenvalues at one point and Keskar's sharpness (a random subspace) are
   computed, once on the CPU and twice on `--device` (repeatability).
2. **Rates.** On `--device` alone: training images per second of each paper-scale network
   (ResNet-20/56/110 at width 16, VGG-9, Keskar's C1 and F1), evaluation images per second
   of a full-width ResNet-56 loss surface (the surfaces' own evaluator), and images per
   second through Hessian-vector products in float32 and float64.
3. **Projection.** From those rates and `config/paper.yaml`, the paper scale's time per
   experiment part (see `project`).

Writes `<out>/device_check.json` and `<out>/device_check.md` and prints the table. Exits
non-zero when a result differs by more than float32 tolerance allows, or when the device run
is not repeatable bit for bit (on `--device cpu` the results must be identical).

    .venv/bin/python benchmarks/check_device.py [--device cuda] [--out DIR]

Without a GPU, `--device cpu` exercises the same code paths; its rates project the paper
scale on this machine's CPU. 3m03s on 2 idle CPU cores (`--quick`: about 30 s, for the test
suite).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from landscapes import config as configs  # noqa: E402
from landscapes import directions, train  # noqa: E402
from landscapes.data import Dataset  # noqa: E402
from landscapes.hessian import full_batch_loss, hvp_fn  # noqa: E402
from landscapes.params import FlatModel, vector  # noqa: E402
from landscapes.provenance import configure_runtime  # noqa: E402
from landscapes.sharpness import model_sharpness  # noqa: E402
from landscapes.surface import Evaluator, Grid, evaluate_tile, extreme_eigenvalues_tile  # noqa: E402

RESNET = {"name": "resnet", "width": 16, "shortcuts": True, "batchnorm": True}
CFG = {"epochs": 1, "batch_size": 128, "optimizer": "sgd", "lr": 0.1, "momentum": 0.9,
       "weight_decay": 5e-4}
# float32 kernels sum in another order on a GPU: small differences, growing a little over the
# epoch's steps. A misplaced tensor or BatchNorm mode gives differences of order one.
TOLERANCE = {"weights": 1e-2, "loss": 1e-2, "eigenvalues": 1e-2, "sharpness": 1e-2}
# The paper's training and test set sizes (config/paper.yaml takes the whole sets).
SET_SIZES = {"cifar10": (50000, 10000), "mnist": (60000, 10000)}


def synthetic(n: int, shape=(3, 32, 32)) -> Dataset:
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(n + n // 4, *shape, generator=gen)
    y = torch.randint(0, 10, (len(x),), generator=gen)
    return Dataset(x[:n], y[:n], x[n:], y[n:], "synthetic", 10)


def agreement_run(data: Dataset, device: torch.device, quick: bool) -> tuple[dict, dict]:
    """The results compared across devices, and the time of each step."""
    hessian_n, steps, sharp_n, maxiter = (16, 3, 64, 2) if quick else (64, 10, 256, 5)
    times, out = {}, {}
    model = train.init_model({**RESNET, "depth": 20}, data, 0)
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
    eig = extreme_eigenvalues_tile(model, plane, grid, 1, 2, data.x_train[:hessian_n],
                                   data.y_train[:hessian_n], steps=steps, seed=0)
    times["Hessian extremes, 3 points"] = time.perf_counter() - t
    out["eigenvalues"] = np.stack([eig.metrics["lambda_min"], eig.metrics["lambda_max"]])
    t = time.perf_counter()
    r = model_sharpness(model, data.x_train[:sharp_n], data.y_train[:sharp_n], 1e-3,
                        subspace_dim=10, seed=0, maxiter=maxiter, start="vertex")
    times["sharpness, 10-dim subspace"] = time.perf_counter() - t
    out["sharpness"] = np.array([r.f0, r.f_max])
    return times, out


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def _timed(fn, device: torch.device, repeats: int) -> float:
    """Seconds per call of `fn` (after one warm-up call), the median of `repeats`."""
    fn()
    times = []
    for _ in range(repeats):
        _sync(device)
        t = time.perf_counter()
        fn()
        _sync(device)
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def train_rate(spec: dict, shape, device, batch: int, repeats: int) -> float:
    """Training images per second: SGD steps with momentum on one batch, in train mode."""
    data = synthetic(batch, shape)
    model = train.init_model(spec, data, 0).to(device).train()
    opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    x, y = data.x_train.to(device), data.y_train.to(device)

    def step():
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()
        opt.step()
    return batch / _timed(step, device, repeats)


def eval_rate(spec: dict, shape, device, n: int, points: int, repeats: int) -> float:
    """Evaluation images per second of a loss surface: the surfaces' evaluator over a row of
    `points` grid points, each on `n` images, in eval mode."""
    data = synthetic(n, shape)
    model = train.init_model(spec, data, 0)
    plane = directions.random_directions(model, 0, 2)
    model = model.eval().to(device)
    ev = Evaluator(model, plane, points_per_pass=1, chunk=min(n, 2048))
    grid = Grid.linspace(alpha=(-1, 1, points), beta=(0, 0, 1))
    return points * n / _timed(lambda: evaluate_tile(ev, grid, 0, points,
                                                     (data.x_train, data.y_train)),
                               device, repeats)


def hvp_rate(spec: dict, shape, device, n: int, repeats: int, dtype) -> float:
    """Images per second through a Hessian-vector product in eval mode: in float32 as the
    skips Hessian maps take them, in float64 as Keskar's sharpness takes its loss and
    gradient (a pass that costs about as much)."""
    data = synthetic(n, shape)
    flat = FlatModel(train.init_model(spec, data, 0).to(device, dtype), mode="eval")
    loss = full_batch_loss(flat, data.x_train.to(device), data.y_train.to(device), dtype)
    matvec = hvp_fn(loss, flat.theta0)
    v = torch.randn(flat.dim, dtype=dtype, generator=torch.Generator().manual_seed(0))
    v = v.to(device)
    return n / _timed(lambda: matvec(v), device, repeats)


def sharpness_runs(sh: dict) -> dict[str, set]:
    """(batch size, weight decay) of each network's training runs, as the sharpness rules ask
    for them (workflow/rules/helpers/sharpness_runs.smk, which a script cannot import):
    Keskar's SB and LB and the sweep's batch sizes at the network's own weight decay, Li et
    al.'s weight decays."""
    def own(name):
        return sh["networks"][name]["train"].get("weight_decay", 0.0)

    runs: dict[str, set] = {}
    for name in sh["keskar"]:
        net = sh["networks"][name]
        runs.setdefault(name, set()).update({(net["train"]["batch_size"], own(name)),
                                             (net["large_batch"], own(name))})
    sweep = sh["sweep"]["network"]
    runs.setdefault(sweep, set()).update((b, own(sweep)) for b in sh["sweep"]["batch_sizes"])
    li = sh["networks"][sh["li"]["network"]]
    runs.setdefault(sh["li"]["network"], set()).update(
        (b, wd) for b in (li["train"]["batch_size"], li["large_batch"])
        for wd in sh["li"]["weight_decays"])
    return runs


def networks(paper: dict) -> dict[str, tuple[dict, tuple]]:
    """The paper-scale networks whose rates are measured: model spec and input shape."""
    nets = {f"resnet{d}": ({**RESNET, **paper["skips"]["model"], "depth": d}, (3, 32, 32))
            for d in paper["skips"]["depths"]}
    for name in sharpness_runs(paper["sharpness"]):
        net = paper["sharpness"]["networks"][name]
        source = paper["datasets"][net["dataset"]]["source"]
        nets[name] = (dict(net["model"]), (3, 32, 32) if source == "cifar10" else (1, 28, 28))
    return nets


def measure_rates(paper: dict, device: torch.device, quick: bool) -> dict:
    # medians of 3 timed calls after a warm-up; a rate per image changes little past these
    batch, n, points, hvp_n, repeats = (4, 8, 2, 4, 1) if quick else (128, 256, 2, 32, 3)
    rates = {}
    for name, (spec, shape) in networks(paper).items():
        t = time.perf_counter()
        rates[name] = {"train_images_per_s": train_rate(spec, shape, device, batch, repeats),
                       "eval_images_per_s": eval_rate(spec, shape, device, n, points, repeats),
                       "hvp32_images_per_s": hvp_rate(spec, shape, device, hvp_n, repeats,
                                                      torch.float32),
                       "hvp64_images_per_s": hvp_rate(spec, shape, device, hvp_n, repeats,
                                                      torch.float64)}
        print(f"rates {name:10s} train {rates[name]['train_images_per_s']:9.0f} img/s, "
              f"surface {rates[name]['eval_images_per_s']:9.0f} img/s, "
              f"Hessian-vector {rates[name]['hvp32_images_per_s']:7.0f} (float32) "
              f"{rates[name]['hvp64_images_per_s']:7.0f} (float64) img/s "
              f"({time.perf_counter() - t:.1f} s)", flush=True)
    return rates


def _points(p) -> int:
    return int(np.prod(p)) if isinstance(p, list) else int(p)


def project(paper: dict, rates: dict) -> list[dict]:
    """Hours of each paper-scale part at the measured rates, on one device, one job at a time.

    Training: every epoch's steps over the training set plus its evaluation of the training
    and test sets (the most epochs: a run that reaches its target loss stops sooner).
    Surfaces: one evaluation of the training set per grid point (slices also the test set).
    Hessian maps: `lanczos_steps` float32 products per point. Keskar's sharpness: per 100 float64
    loss-and-gradient passes over the training set per box (L-BFGS-B takes as many as it
    needs, up to `maxiter`; a pass is counted as a Hessian-vector product, which costs about
    as much). SciPy's own work and job start-up are left out."""
    rows = []
    sk = paper["skips"]
    n_tr, n_te = SET_SIZES[paper["datasets"][sk["dataset"]]["source"]]
    seeds = len(configs.replicate_seeds(sk))
    for d in sk["depths"]:
        r = rates[f"resnet{d}"]
        epochs = sk["train"]["epochs"]
        rows.append({"part": f"skips: train ResNet-{d} and -{d}-noshort",
                     "runs": 2 * seeds,
                     "hours": 2 * seeds * epochs * (n_tr / r["train_images_per_s"]
                                                    + (n_tr + n_te) / r["eval_images_per_s"])
                     / 3600})
        images = (_points(sk["surface"]["points"]) + _points(sk["trajectory"]["points"])) * n_tr \
            + _points(sk["slice"]["points"]) * (n_tr + n_te)
        rows.append({"part": f"skips: surfaces, trajectory plane and slice, depth {d}",
                     "runs": 2 * seeds,
                     "hours": 2 * seeds * images / r["eval_images_per_s"] / 3600})
        hvp = _points(sk["hessian"]["points"]) * sk["hessian"]["lanczos_steps"] \
            * (sk["hessian"]["n_samples"] or n_tr)
        rows.append({"part": f"skips: Hessian maps, depth {d}", "runs": 2 * seeds,
                     "hours": 2 * seeds * hvp / r["hvp32_images_per_s"] / 3600})
    sh = paper["sharpness"]
    seeds = len(configs.replicate_seeds(sh))
    measured = {*sh["keskar"], sh["sweep"]["network"]}
    for name, runs in sharpness_runs(sh).items():
        net, r = sh["networks"][name], rates[name]
        n_tr, n_te = SET_SIZES[paper["datasets"][net["dataset"]]["source"]]
        epochs = net["train"]["epochs"]
        rows.append({"part": f"sharpness: train {name} (at most {epochs} epochs)",
                     "runs": len(runs) * seeds,
                     "hours": len(runs) * seeds * epochs
                     * (n_tr / r["train_images_per_s"] + (n_tr + n_te) / r["eval_images_per_s"])
                     / 3600})
        if name in measured:
            boxes = len(sh["metric"]["eps"]) * 2  # the full space and the random subspace
            rows.append({"part": f"sharpness: Keskar's metric on {name}, per 100 passes a box",
                         "runs": len(runs) * seeds,
                         "hours": len(runs) * seeds * boxes * 100 * n_tr
                         / r["hvp64_images_per_s"] / 3600})
    return rows


def markdown(report: dict) -> str:
    lines = [f"# Device check on {report['device']} ({report['device_name']})", "",
             "| step | cpu (s) | device (s) |", "|---|---|---|"]
    lines += [f"| {k} | {report['cpu_seconds'][k]:.2f} | {report['device_seconds'][k]:.2f} |"
              for k in report["cpu_seconds"]]
    lines += ["", "| result | max relative difference | allowed | repeatable | ok |",
              "|---|---|---|---|---|"]
    lines += [f"| {k} | {v['difference']:.1e} | {v['allowed']:g} | {v['repeatable']} | "
              f"{'ok' if v['ok'] else 'FAILED'} |" for k, v in report["agreement"].items()]
    lines += ["", "| network | training img/s | surface img/s | Hessian-vector img/s, "
              "float32 | float64 |", "|---|---|---|---|---|"]
    lines += [f"| {k} | {v['train_images_per_s']:.0f} | {v['eval_images_per_s']:.0f} | "
              f"{v['hvp32_images_per_s']:.0f} | {v['hvp64_images_per_s']:.0f} |"
              for k, v in report["rates"].items()]
    lines += ["", "| paper-scale part | runs | projected hours |", "|---|---|---|"]
    lines += [f"| {r['part']} | {r['runs']} | {r['hours']:.1f} |" for r in report["projection"]]
    lines += [""]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--n", type=int, default=1024, help="training samples of the agreement run")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads")
    parser.add_argument("--quick", action="store_true", help="tiny rates and agreement run")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "device"))
    args = parser.parse_args()
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        print("no CUDA device visible to torch; run with --device cpu to exercise the code")
        return 2
    configure_runtime(args.threads)
    paper = configs.load([ROOT / "config/default.yaml", ROOT / "config/paper.yaml"],
                         ROOT / "workflow/schemas")
    data = synthetic(128 if args.quick else args.n)
    cpu_times, cpu = agreement_run(data, torch.device("cpu"), args.quick)
    dev_times, dev = agreement_run(data, device, args.quick)
    _, again = agreement_run(data, device, args.quick)
    agreement = {}
    for key, tol in TOLERANCE.items():
        diff = float(np.abs(cpu[key] - dev[key]).max() / max(np.abs(cpu[key]).max(), 1e-30))
        same = bool(np.array_equal(dev[key], again[key]))
        allowed = 0 if device.type == "cpu" else tol
        agreement[key] = {"difference": diff, "allowed": allowed, "repeatable": same,
                          "ok": diff <= allowed and same}
    rates = measure_rates(paper, device, args.quick)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor()
    report = {"device": device.type, "device_name": name or platform.machine(),
              "threads": args.threads, "torch": torch.__version__, "quick": args.quick,
              "cpu_seconds": cpu_times, "device_seconds": dev_times, "agreement": agreement,
              "rates": rates, "projection": project(paper, rates)}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "device_check.json").write_text(json.dumps(report, indent=1) + "\n")
    (out / "device_check.md").write_text(markdown(report))
    print(markdown(report))
    return 0 if all(a["ok"] for a in agreement.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
