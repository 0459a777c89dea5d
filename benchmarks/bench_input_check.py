"""What checking a job's inputs against their sidecars costs (issue 19 item 4).

The job `skips_directions` of the default config (ResNet-20, width 8, digits, a 13-epoch
trajectory), run in this process from inputs made by stand-in steps, so each input has a real
sidecar. Interleaved over `repeats`, the median time of
- the check alone (`provenance.checked_entry`: read each input's sidecar, compare hashes),
- hashing the inputs (which the step did before the check existed, for its record),
- the whole job (step, body and sidecar), with the check in it,
and the check's ratio to each.

    .venv/bin/python benchmarks/bench_input_check.py [--repeats 15]
"""

from __future__ import annotations

import argparse
import os
import runpy
import statistics
import tempfile
import time
from pathlib import Path

import torch
import yaml

from landscapes import data, provenance, train
from landscapes.params import vector
from landscapes.reproduce import StandIn
from landscapes.store import save_tensors

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "skips" / "directions.py"
RUN = "results/default"
DATA = f"{RUN}/data/digits.safetensors"
MODEL = f"{RUN}/models/skips/seed0/resnet20/model.safetensors"
TRAJECTORY = f"{RUN}/models/skips/seed0/resnet20/trajectory.safetensors"
OUT = f"{RUN}/surfaces/skips/seed0/resnet20/directions.safetensors"


def stand_in(rule: str, inputs: dict, outputs: dict, params: dict) -> StandIn:
    record = {"rule": rule, "threads": 1, "wildcards": {},
              "job": {"input": [[k, v] for k, v in inputs.items()],
                      "output": [[k, v] for k, v in outputs.items()], "log": [],
                      "params": [[k, v] for k, v in params.items()], "resources": {}}}
    return StandIn(record, str(SCRIPT.parent), tempfile.gettempdir())


def make_inputs(cfg: dict, spec: dict) -> None:
    """The job's three inputs, each written inside a step so it has its sidecar."""
    smk = stand_in("prepare_data", {}, {"data": DATA}, {"seed": 0})
    with provenance.step(smk, "prepare_data.py"):
        ds = data.prepare(**cfg["datasets"]["digits"], name="digits")
        Path(DATA).parent.mkdir(parents=True, exist_ok=True)
        ds.save(DATA)
    smk = stand_in("skips_train", {"data": DATA}, {"model": MODEL, "trajectory": TRAJECTORY},
                   {"spec": spec, "seed": 0})
    with provenance.step(smk, "train.py"):
        model = train.init_model(spec, data.Dataset.load(DATA), 0)
        Path(MODEL).parent.mkdir(parents=True, exist_ok=True)
        train.save_checkpoint(MODEL, model, {"model": spec})
        w = vector(model).detach()
        epochs = cfg["skips"]["train"]["epochs"] + 1  # as trajectory_every: 1 keeps them
        steps = torch.stack([w + 0.01 * k * torch.randn_like(w) for k in range(epochs)])
        save_tensors(TRAJECTORY, {"params": steps, "epochs": torch.arange(epochs)})


def median_ms(times: list[float]) -> float:
    return 1e3 * statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=15)
    args = ap.parse_args()
    cfg = yaml.safe_load((ROOT / "config" / "default.yaml").read_text())
    skips = cfg["skips"]
    spec = {"name": "resnet", "depth": 20, "shortcuts": True, **skips["model"]}
    provenance.configure_runtime(1, 0)
    inputs = {"data": DATA, "model": MODEL, "trajectory": TRAJECTORY}
    params = {"spec": spec, "settings": skips["directions"], "seed": 0}
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        make_inputs(cfg, spec)
        sizes = ", ".join(f"{name} {Path(p).stat().st_size / 1e6:.2f} MB (sidecar "
                          f"{provenance.sidecar_path(p).stat().st_size / 1e3:.1f} kB)"
                          for name, p in inputs.items())
        print(f"skips_directions inputs: {sizes}")
        hashes = {p: provenance.sha256_file(p) for p in inputs.values()}
        check, hashing, job = [], [], []
        for _ in range(args.repeats):
            t = time.perf_counter()
            for p, sha in hashes.items():
                provenance.checked_entry(p, sha)
            check.append(time.perf_counter() - t)
            t = time.perf_counter()
            for p in hashes:
                provenance.sha256_file(p)
            hashing.append(time.perf_counter() - t)
            t = time.perf_counter()
            runpy.run_path(str(SCRIPT), init_globals={
                "snakemake": stand_in("skips_directions", inputs, {None: OUT}, params)})
            job.append(time.perf_counter() - t)
        c, h, j = median_ms(check), median_ms(hashing), median_ms(job)
        print(f"median over {args.repeats} interleaved runs, 1 thread:")
        print(f"  input check (3 sidecars read, hashes compared): {c:8.3f} ms")
        print(f"  hashing the 3 inputs (done anyway):             {h:8.3f} ms   check / hashing "
              f"= {c / h:.4f}")
        print(f"  the whole skips_directions job:                 {j:8.3f} ms   check / job     "
              f"= {c / j:.5f}")
        os.chdir(ROOT)


if __name__ == "__main__":
    main()
