"""Every claim of Jiang et al. 2020 and Dinh et al.'s rescaling finding on small synthetic
tables of nets: measures that track the gap hold, measures that run against it fail, nets
short of the target are left out of the correlations, and a rescaling that changed the
function raises."""

import itertools

import numpy as np
import pytest
from claims_support import section, verdicts

from landscapes.flatness import MEASURES
from landscapes.store import save_csv

GRID = {"learning_rate": [0.01, 0.02, 0.04], "batch_size": [32, 128], "width": [64, 256],
        "weight_decay": [0.0, 5e-4], "dropout": [0.0, 0.1]}


def params(**claims):
    return section("generalization", grid=GRID, claims=claims)


def nets(tmp_path, sign=1.0, short=0, rescaled=None):
    """One net per grid point; the gap is a seeded random number and every measure is
    sign * gap (plus a little noise); the first `short` nets did not reach the target and
    carry a gap against their measures. `rescaled` maps a measure to the factor by which
    the rescaled copy of each group's first net changed it."""
    rng = np.random.default_rng(1)
    rows = []
    for i, values in enumerate(itertools.product(*GRID.values())):
        gap = rng.uniform(0.3, 0.6)
        r = {**dict(zip(GRID, values)), "seed": 0, "epochs": 50, "steps": 100,
             "reached_target": i >= short, "train_loss": 0.01, "train_acc": 1.0,
             "test_loss": 2.0, "test_acc": 1 - gap, "gap": gap}
        for m in MEASURES:
            r[m] = np.exp(sign * 5 * gap + 0.01 * rng.standard_normal())
        if i < short:
            r["gap"] = 1.0 - gap
        r["rescaled_output_change"] = ""
        for m in MEASURES:
            r[f"rescaled_{m}"] = ""
        if rescaled is not None and values[2:] == (64, 0.0, 0.0):
            r["rescaled_output_change"] = 1e-15
            for m in MEASURES:
                r[f"rescaled_{m}"] = r[m] * rescaled.get(m, 1.0)
        rows.append(r)
    save_csv(tmp_path / "nets.csv", rows)
    return {"nets": str(tmp_path / "nets.csv")}


def test_measures_that_track_the_gap_hold(tmp_path):
    v = verdicts("generalization", nets(tmp_path), params())
    assert v["nets_reached_target"]["holds"]
    for m in ("lambda_max", "hessian_trace", "keskar", "filter_sharpness", "pacbayes_flatness",
              "pacbayes_mag_flatness"):
        assert v[f"tau_{m}"]["holds"] and v[f"tau_{m}"]["measured"] > 0.9, m
        assert v[f"tau_{m}"]["details"]["Psi"] > 0.9
    assert v["ranking"]["holds"] and v["ranking"]["finding"]


def test_measures_against_the_gap_fail(tmp_path):
    v = verdicts("generalization", nets(tmp_path, sign=-1.0), params())
    assert not v["tau_lambda_max"]["holds"] and v["tau_lambda_max"]["measured"] < -0.9


def test_nets_short_of_the_target_are_left_out(tmp_path):
    v = verdicts("generalization", nets(tmp_path, short=20), params())
    assert not v["nets_reached_target"]["holds"]
    assert v["nets_reached_target"]["measured"] == pytest.approx(28 / 48)
    # their gaps run against their measures, yet the tau of the rest is untouched
    assert v["tau_keskar"]["measured"] > 0.9


def test_the_rescaling_finding_names_the_measures_it_moves(tmp_path):
    art = nets(tmp_path, rescaled={"lambda_max": 0.01, "weight_norm": 7.0})
    v = verdicts("generalization", art, params())
    text = v["rescaling"]["measured"]
    assert text.startswith("changed: lambda_max, weight_norm; invariant: hessian_trace")
    assert v["rescaling"]["details"]["lambda_max"] == pytest.approx(0.99)


def test_the_rescaling_finding_without_a_rescaling_says_so(tmp_path):
    v = verdicts("generalization", nets(tmp_path), params())
    assert "not run" in v["rescaling"]["measured"]


def test_a_rescaling_that_changed_the_function_raises(tmp_path):
    art = nets(tmp_path, rescaled={})
    path = art["nets"]
    text = open(path).read().replace("1e-15", "0.5")
    open(path, "w").write(text)
    with pytest.raises(ValueError, match="not the same function"):
        verdicts("generalization", art, params())


def test_a_table_of_the_wrong_size_raises(tmp_path):
    art = nets(tmp_path)
    with pytest.raises(ValueError, match="grid has"):
        verdicts("generalization", art, section("generalization",
                                                grid={**GRID, "dropout": [0.0]}))
