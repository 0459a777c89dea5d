"""Every claim of Jastrzebski et al. 2017 on small synthetic tables of runs over an (eta, B)
grid: sharpness set by eta/B holds, sharpness set by B alone fails, and runs that did not fit
fail the regime claim."""

import math

import numpy as np
import pytest
from claims_support import section, verdicts

from landscapes.store import save_csv

LRS, BATCHES = [0.05, 0.1, 0.2, 0.4], [16, 32, 64, 128]


def params(**claims):
    return section("noise_scale", learning_rates=LRS, batch_sizes=BATCHES, claims=claims)


def runs(tmp_path, sharpness, train_acc=1.0, noise=0.01):
    """A table whose sharpness is sharpness(eta, B) times a small seeded noise."""
    rng = np.random.default_rng(0)
    rows = [{"learning_rate": lr, "batch_size": b, "seed": 0, "epochs": 200, "steps": 1,
             "reached_target": True, "train_loss": 0.01 * b / lr, "train_acc": train_acc,
             "test_loss": 0.1, "test_acc": 0.98, "gap": 0.02,
             "lambda_max": sharpness(lr, b) * math.exp(noise * rng.standard_normal()),
             "keskar": 2 * sharpness(lr, b) * math.exp(noise * rng.standard_normal())}
            for lr in LRS for b in BATCHES]
    save_csv(tmp_path / "runs.csv", rows)
    return {"runs": str(tmp_path / "runs.csv")}


def test_sharpness_set_by_the_ratio_holds(tmp_path):
    v = verdicts("noise_scale", runs(tmp_path, lambda lr, b: b / lr), params())
    for m in ("lambda_max", "keskar"):
        assert v[f"equal_ratio_similar_{m}"]["holds"], v[f"equal_ratio_similar_{m}"]
        assert v[f"{m}_falls_with_ratio"]["holds"]
        assert v[f"{m}_falls_with_ratio"]["measured"] < -0.95
    assert v["runs_fit"]["holds"]
    # the finding: training loss falls with eta/B here by construction
    assert v["loss_and_accuracy_with_ratio"]["details"]["spearman_train_loss"] == pytest.approx(-1)


def test_sharpness_set_by_the_batch_alone_fails(tmp_path):
    # equal eta/B runs differ (B sets it), and it rises with B, so falls with eta/B only in part
    v = verdicts("noise_scale", runs(tmp_path, lambda lr, b: float(b) ** 2), params())
    assert not v["equal_ratio_similar_lambda_max"]["holds"]
    assert v["equal_ratio_similar_lambda_max"]["measured"] < 2.0


def test_sharpness_rising_with_the_ratio_fails(tmp_path):
    v = verdicts("noise_scale", runs(tmp_path, lambda lr, b: lr / b), params())
    assert v["equal_ratio_similar_lambda_max"]["holds"]
    assert not v["lambda_max_falls_with_ratio"]["holds"]


def test_runs_that_did_not_fit_fail_the_regime_claim(tmp_path):
    v = verdicts("noise_scale", runs(tmp_path, lambda lr, b: b / lr, train_acc=0.9), params())
    assert not v["runs_fit"]["holds"] and v["runs_fit"]["measured"] == 0.9


def test_a_table_missing_a_run_raises(tmp_path):
    art = runs(tmp_path, lambda lr, b: b / lr)
    with pytest.raises(ValueError, match="the config asks for"):
        verdicts("noise_scale", art, section("noise_scale", learning_rates=LRS[:3],
                                             batch_sizes=BATCHES))


def test_a_non_finite_sharpness_fails(tmp_path):
    v = verdicts("noise_scale", runs(tmp_path, lambda lr, b: math.nan if lr == 0.1 else b / lr),
                 params())
    assert not v["equal_ratio_similar_lambda_max"]["holds"]
    assert not v["lambda_max_falls_with_ratio"]["holds"]
