"""Kendall's tau and its granulated form against cases worked by hand."""

import math

import numpy as np
import pytest
from scipy import stats

from landscapes.rank_correlation import granulated_tau, kendall_tau


def test_tau_of_orderings_worked_by_hand():
    assert kendall_tau([1, 2, 3, 4], [10, 20, 30, 40]) == 1.0
    assert kendall_tau([1, 2, 3, 4], [4, 3, 2, 1]) == -1.0
    # one discordant pair of six
    assert kendall_tau([1, 2, 3, 4], [1, 3, 2, 4]) == pytest.approx(4 / 6)
    # a tie in the measure counts as neither concordant nor discordant (tau-a)
    assert kendall_tau([1, 1, 2], [1, 2, 3]) == pytest.approx(2 / 3)


def test_tau_matches_scipy_without_ties():
    rng = np.random.default_rng(0)
    m, g = rng.normal(size=30), rng.normal(size=30)
    assert kendall_tau(m, g) == pytest.approx(stats.kendalltau(m, g).statistic, abs=1e-12)


def test_tau_of_broken_measurements_is_nan():
    assert math.isnan(kendall_tau([1.0, math.nan, 2.0], [1, 2, 3]))
    assert math.isnan(kendall_tau([1.0], [2.0]))
    with pytest.raises(ValueError, match="one length"):
        kendall_tau([1, 2], [1, 2, 3])


def test_granulated_tau_scores_a_measure_only_on_the_hyperparameter_it_tracks():
    # the gap grows with both a and b; the measure follows a only
    rows = [{"a": a, "b": b, "m": a, "gap": a + 10 * b} for a in (0, 1) for b in (0, 1, 2)]
    psi = granulated_tau(rows, "m", "gap", ["a", "b"])
    assert psi["a"] == 1.0  # within every b, the measure orders the nets as the gap does
    assert psi["b"] == 0.0  # within every a, the measure is constant: all ties
    assert psi["Psi"] == 0.5
    # overall it is weaker: of the 9 pairs that differ in a, the 3 with the a = 1 net at a
    # lower b are discordant, and the 6 pairs within one a are ties
    overall = kendall_tau([r["m"] for r in rows], [r["gap"] for r in rows])
    assert overall == pytest.approx((6 - 3) / 15)


def test_granulated_tau_skips_groups_with_one_value():
    rows = [{"a": 0, "b": 0, "m": 1.0, "gap": 1.0}, {"a": 1, "b": 1, "m": 2.0, "gap": 0.0}]
    psi = granulated_tau(rows, "m", "gap", ["a", "b"])
    assert math.isnan(psi["a"]) and math.isnan(psi["b"]) and math.isnan(psi["Psi"])
