"""Every claim of Goodfellow et al. 2015 on walks set by hand: a line that falls all the way
holds, a barrier fails both forms, a small final rise passes the stated form and fails the
strong one, and a net short of its target fails the regime claim."""

import numpy as np
import pytest
from claims_support import section, verdicts

from landscapes.store import save_npz

ALPHAS = np.linspace(-0.5, 1.5, 81)


def walk(tmp_path, name, train_loss, reached=True):
    path = tmp_path / f"{name}.npz"
    save_npz(path, alphas=ALPHAS, train_loss=train_loss, test_loss=train_loss + 0.1,
             train_error=np.zeros_like(ALPHAS), test_error=np.zeros_like(ALPHAS),
             progress=np.linspace(0, 1, 5), distance=np.array([0, 0.2, 0.3, 0.1, 0]),
             final_train_loss=np.array(train_loss[60]), reached_target=np.array(reached))
    return str(path)


def falling():
    return 2.3 * np.exp(-4 * np.clip(ALPHAS, 0, None)) + 0.01


def test_a_line_that_falls_all_the_way_holds(tmp_path):
    art = {"line_mlp": walk(tmp_path, "mlp", falling()), "line_conv": walk(tmp_path, "conv",
                                                                           falling() * 0.5)}
    v = verdicts("init_to_solution", art, section("init_to_solution"))
    assert v["no_barrier"]["holds"] and v["monotone"]["holds"]
    assert v["solutions_reached"]["holds"]
    assert v["path_and_test_loss"]["details"]["distance_mlp"] == pytest.approx(0.3)


def test_a_barrier_fails_both_forms(tmp_path):
    bump = falling() + 0.5 * np.exp(-((ALPHAS - 0.5) / 0.05) ** 2)
    art = {"line_mlp": walk(tmp_path, "mlp", falling()), "line_conv": walk(tmp_path, "conv", bump)}
    v = verdicts("init_to_solution", art, section("init_to_solution"))
    assert not v["no_barrier"]["holds"] and not v["monotone"]["holds"]
    assert v["no_barrier"]["details"]["rise_over_fall_conv"] > 0.05


def test_a_small_rise_before_the_solution_passes_only_the_stated_form(tmp_path):
    z = falling()
    z[59] = z[60] - 0.002  # the line's minimum just before a = 1: a rise of 0.1% of the fall
    art = {"line_mlp": walk(tmp_path, "mlp", z)}
    v = verdicts("init_to_solution", art, section("init_to_solution"))
    assert v["no_barrier"]["holds"] and not v["monotone"]["holds"]
    assert v["monotone"]["measured"] == pytest.approx(0.002)
    strict = verdicts("init_to_solution", art,
                      section("init_to_solution", claims={"max_rise_fraction": 1e-4}))
    assert not strict["no_barrier"]["holds"]


def test_a_net_short_of_its_target_fails_the_regime_claim(tmp_path):
    art = {"line_mlp": walk(tmp_path, "mlp", falling(), reached=False),
           "line_conv": walk(tmp_path, "conv", falling())}
    v = verdicts("init_to_solution", art, section("init_to_solution"))
    assert not v["solutions_reached"]["holds"] and v["solutions_reached"]["measured"] == 0.5


def test_a_line_without_its_ends_raises(tmp_path):
    path = tmp_path / "odd.npz"
    save_npz(path, alphas=np.linspace(-0.5, 1.5, 10), train_loss=np.ones(10))
    with pytest.raises(ValueError, match="a = 0 and a = 1"):
        verdicts("init_to_solution", {"line_mlp": str(path)}, section("init_to_solution"))


def test_a_non_finite_loss_fails(tmp_path):
    z = falling()
    z[30] = np.nan
    v = verdicts("init_to_solution", {"line_mlp": walk(tmp_path, "mlp", z)},
                 section("init_to_solution"))
    assert not v["no_barrier"]["holds"] and not v["monotone"]["holds"]
