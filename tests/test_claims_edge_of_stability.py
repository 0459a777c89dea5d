"""Every claim of Cohen et al. 2021 on small synthetic GD tables: runs that sharpen to 2/eta and
hover there while the loss falls in oscillation hold; runs that stop short of the edge, leave
it, or whose loss stalls or falls monotonically fail the claim they break."""

import math

import numpy as np
import pytest
from claims_support import section, verdicts

from landscapes.store import save_csv

EDGES = {"mlp": [30.0, 40.0, 50.0], "cnn": [10.0, 20.0, 30.0]}
STEPS, EVERY, REACH = 1000, 20, 300


def params(**claims):
    archs = {a: {"model": {"name": "mlp" if a == "mlp" else "cnn"}, "edges": e, "steps": STEPS,
                 "every": EVERY} for a, e in EDGES.items()}
    return section("edge_of_stability", architectures=archs, claims=claims)


def run_rows(arch, edge, sharp_at_edge=1.02, start=0.3, loss_end=0.1, wiggle=0.01,
             reach=REACH):
    """A run whose sharpness rises linearly from start*edge to the edge by step `reach`, then
    sits at sharp_at_edge*edge (alternating by 1%), and whose loss falls from 1 to `loss_end`,
    with a period-2 wiggle after `reach`."""
    rng = np.random.default_rng(int(edge))
    rows = []
    for t in range(STEPS + 1):
        loss = math.exp(math.log(loss_end) * t / STEPS)
        if t > reach and t % 2:
            loss += wiggle
        sharp = math.nan
        if t % EVERY == 0 or t == STEPS:
            s = (start + (1 - start) * t / reach if t <= reach
                 else sharp_at_edge * (1 + 0.01 * rng.choice([-1, 1])))
            sharp = s * edge
        rows.append({"arch": arch, "seed": 0, "edge": edge, "eta": 2 / edge, "step": t,
                     "train_loss": loss, "grad_norm": 1.0, "sharpness": sharp,
                     "residual": 0.0})
    return rows


def tables(tmp_path, **change):
    """One table per architecture; `change` alters the last cnn run."""
    out = {}
    for arch, edges in EDGES.items():
        rows = []
        for edge in edges:
            rows += run_rows(arch, edge, **(change if (arch, edge) == ("cnn", 30.0) else {}))
        save_csv(tmp_path / f"{arch}.csv", rows)
        out[f"runs_{arch}"] = str(tmp_path / f"{arch}.csv")
    return out


def test_runs_at_the_edge_of_stability_hold_every_claim(tmp_path):
    v = verdicts("edge_of_stability", tables(tmp_path), params())
    for name in ("progressive_sharpening", "sharpening_is_steady", "reaches_edge",
                 "stays_at_edge", "loss_falls_at_edge", "loss_halves_at_edge",
                 "loss_non_monotone"):
        assert v[name]["holds"], (name, v[name]["measured"], v[name]["details"])
    # first within 5% of the edge at step 280
    assert v["progressive_sharpening"]["measured"] == pytest.approx((0.3 + 0.7 * 280 / 300) / 0.3)
    assert v["stays_at_edge"]["measured"] == 1.0
    assert v["sharpness_at_edge"]["finding"] and v["sharpness_at_edge"]["holds"]
    assert v["sharpness_at_edge"]["details"]["mlp 2/eta=30"] == pytest.approx(1.02, abs=0.011)
    # the loss rises at every other step at the edge, never before it
    assert v["loss_non_monotone"]["measured"] == pytest.approx(0.5, abs=0.02)
    assert v["loss_non_monotone"]["details"]["cnn 2/eta=30 before the edge"] == 0.0


def test_a_run_short_of_the_edge_fails_every_edge_claim(tmp_path):
    # the sharpness of one run rises to 0.8 of 2/eta only: it never reaches the edge
    v = verdicts("edge_of_stability", tables(tmp_path, sharp_at_edge=0.8, reach=10**6),
                 params())
    assert not v["reaches_edge"]["holds"]
    assert v["reaches_edge"]["details"]["worst_run"] == "cnn 2/eta=30"
    for name in ("progressive_sharpening", "stays_at_edge", "loss_falls_at_edge",
                 "loss_non_monotone"):
        assert not v[name]["holds"] and v[name]["measured"] == "nan", name


def test_sharpness_that_overshoots_the_edge_fails_to_stay(tmp_path):
    v = verdicts("edge_of_stability", tables(tmp_path, sharp_at_edge=1.3), params())
    assert v["reaches_edge"]["holds"]
    assert not v["stays_at_edge"]["holds"] and v["stays_at_edge"]["measured"] < 0.1


def test_too_short_a_stretch_at_the_edge_is_no_evidence(tmp_path):
    v = verdicts("edge_of_stability", tables(tmp_path, reach=900), params())
    assert not v["stays_at_edge"]["holds"]  # reached near step 840: 8 measurements, under 10
    assert v["stays_at_edge"]["details"]["cnn 2/eta=30 measurements after"] == 8


def test_a_loss_that_stalls_at_the_edge_fails_both_forms(tmp_path):
    # a loss that falls only 5% in the whole run
    v = verdicts("edge_of_stability", tables(tmp_path, loss_end=0.95), params())
    assert not v["loss_falls_at_edge"]["holds"] and not v["loss_halves_at_edge"]["holds"]
    # and one that falls 30% after the edge holds the weak form, not the strong one
    v = verdicts("edge_of_stability", tables(tmp_path, loss_end=0.55), params())
    assert v["loss_falls_at_edge"]["holds"] and not v["loss_halves_at_edge"]["holds"]


def test_a_monotone_loss_fails_the_non_monotone_claim(tmp_path):
    v = verdicts("edge_of_stability", tables(tmp_path, wiggle=0.0), params())
    assert not v["loss_non_monotone"]["holds"] and v["loss_non_monotone"]["measured"] == 0.0


def test_a_sharpness_at_the_edge_from_the_start_is_not_progressive(tmp_path):
    # it starts above the edge's tolerance: the first measurement reaches it, nothing rises
    v = verdicts("edge_of_stability", tables(tmp_path, start=1.0), params())
    assert not v["progressive_sharpening"]["holds"]
    assert not v["sharpening_is_steady"]["holds"]  # one measurement before: no correlation


def test_tables_must_hold_the_configured_edges(tmp_path):
    arts = tables(tmp_path)
    p = params()
    p["architectures"]["mlp"]["edges"] = [30.0, 40.0]
    with pytest.raises(ValueError, match="config asks"):
        verdicts("edge_of_stability", arts, p)
