"""A verdict rests on the measurement, not on float rounding: the same cheap claim computed
from scratch under one and two threads (which sum in other orders) reaches the same verdict.
The linear permutation claims: a net is trained, its hidden units permuted, and the line
between the two is walked."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

COMPUTE = textwrap.dedent("""
    import json, sys
    import numpy as np, torch
    torch.set_num_threads(int(sys.argv[1]))
    from landscapes import data, linear, train
    from landscapes.claims import linear as claims
    from landscapes.store import save_npz
    from landscapes.train import TrainConfig

    ds = data.prepare("digits", 1000, 200, seed=0)
    ds.x_train, ds.x_test = ds.x_train.flatten(1), ds.x_test.flatten(1)
    model = train.init_model({"name": "mlp", "hidden": [512], "activation": "relu"}, ds, 0)
    cfg = TrainConfig.from_config({"epochs": 3, "batch_size": 500, "optimizer": "sgd",
                                   "lr": 0.05, "momentum": 0.9})
    train.train(model, ds, cfg, seed=0)
    model = model.double()
    out = sys.argv[2]
    save_npz(out, **linear.permutation_experiment(model, ds.x_train.double(), ds.y_train, 11, 0))
    params = {"claims": {"permutation_tol": 1e-9}}
    verdicts = {fn.__name__: fn({"permutation": out}, params)
                for fn in (claims.permutation_barrier, claims.permutation_invariance)}
    print(json.dumps({k: {"measured": float(v.measured), "holds": v.holds}
                      for k, v in verdicts.items()}))
""")


def _verdicts(threads: int, tmp_path) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    done = subprocess.run([sys.executable, "-c", COMPUTE, str(threads),
                           str(tmp_path / f"permutation_{threads}.npz")],
                          capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="needs two cores to run two threads")
def test_the_permutation_verdicts_agree_under_one_and_two_threads(tmp_path):
    one, two = _verdicts(1, tmp_path), _verdicts(2, tmp_path)
    for name in one:
        print(f"{name}: {one[name]['measured']!r} (1 thread), {two[name]['measured']!r} (2)")
        assert one[name]["holds"] == two[name]["holds"], name
    # the verdicts above are real ones: the barrier holds on a trained net
    assert one["permutation_barrier"]["holds"]
