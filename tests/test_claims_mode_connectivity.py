"""Every claim of mode connectivity on small synthetic paths: a line with a high bump and a flat
curve hold; a curve with the line's bump, a low line, or endpoints that did not fit fail; a
pair left out of the config is reported as not run, and a NaN fails."""

import math

import numpy as np
from claims_support import section, verdicts

from landscapes.store import save_npz

T = np.linspace(0, 1, 21)
BUMP = np.sin(np.pi * T)  # 0 at both ends, 1 mid-path


def paths(line_peak=1.0, curve_peak=0.0001, end=0.002, end_error=0.0, line_error=0.6,
          curve_error=0.0, test_error=0.02):
    return {"t": T, "line_train_loss": end + line_peak * BUMP,
            "curve_train_loss": end + curve_peak * BUMP,
            "line_test_loss": 0.1 + line_peak * BUMP, "curve_test_loss": 0.1 + curve_peak * BUMP,
            "line_train_error": end_error + line_error * BUMP,
            "curve_train_error": end_error + curve_error * BUMP,
            "line_test_error": test_error + line_error * BUMP,
            "curve_test_error": test_error + curve_error * BUMP}


def artifacts(tmp_path, independent=None, permuted=None):
    out = {}
    for name, arrays in (("independent", independent), ("permuted", permuted)):
        if arrays is not None:
            save_npz(tmp_path / f"{name}.npz", **arrays)
            out[name] = str(tmp_path / f"{name}.npz")
    return out


def params(**claims):
    return section("mode_connectivity", claims=claims)


def test_a_high_line_and_a_flat_curve_hold(tmp_path):
    v = verdicts("mode_connectivity", artifacts(tmp_path, paths(), paths()), params())
    for name in ("endpoints_fit", "line_barrier", "line_error_barrier", "curve_removes_barrier",
                 "curve_loss_flat", "curve_train_error_flat", "curve_test_error_flat",
                 "permuted_line_barrier", "permuted_curve_removes_barrier"):
        assert v[name]["holds"], (name, v[name])
    assert math.isclose(v["curve_removes_barrier"]["measured"], 0.0001)
    assert math.isclose(v["line_barrier"]["measured"], (0.002 + 1.0) / 0.002)
    assert math.isclose(v["curve_loss_flat"]["measured"], 0.05)
    heights = v["barrier_heights"]["details"]
    assert math.isclose(heights["independent_line"], 1.0)
    assert math.isclose(heights["permuted_curve"], 0.0001)


def test_a_curve_with_the_lines_barrier_fails(tmp_path):
    bumpy = paths(curve_peak=0.5, curve_error=0.3)
    v = verdicts("mode_connectivity", artifacts(tmp_path, bumpy, bumpy), params())
    for name in ("curve_removes_barrier", "permuted_curve_removes_barrier", "curve_loss_flat",
                 "curve_train_error_flat", "curve_test_error_flat"):
        assert not v[name]["holds"], name
    assert v["curve_removes_barrier"]["measured"] == 0.5
    assert v["line_barrier"]["holds"]


def test_the_strong_form_fails_where_only_the_weak_one_holds(tmp_path):
    # the curve rises 5x above its ends (ends near zero loss) yet removes 99% of the barrier
    v = verdicts("mode_connectivity", artifacts(tmp_path, paths(curve_peak=0.01)), params())
    assert v["curve_removes_barrier"]["holds"]
    assert not v["curve_loss_flat"]["holds"]
    assert math.isclose(v["curve_loss_flat"]["measured"], 5.0)


def test_a_low_line_and_unfit_endpoints_fail(tmp_path):
    low = paths(line_peak=0.01, line_error=0.1, end_error=0.05)
    v = verdicts("mode_connectivity", artifacts(tmp_path, low), params())
    assert not v["line_barrier"]["holds"] and math.isclose(v["line_barrier"]["measured"], 6.0)
    assert not v["line_error_barrier"]["holds"]
    assert not v["endpoints_fit"]["holds"] and math.isclose(v["endpoints_fit"]["measured"], 0.05)


def test_a_pair_left_out_is_not_run_and_fails(tmp_path):
    v = verdicts("mode_connectivity", artifacts(tmp_path, paths()), params())
    for name in ("permuted_line_barrier", "permuted_curve_removes_barrier"):
        assert not v[name]["holds"] and "not run" in v[name]["measured"]
    assert set(v["barrier_heights"]["details"]) == {"independent_line", "independent_curve"}


def test_a_non_finite_loss_fails(tmp_path):
    broken = paths()
    broken["curve_train_loss"][5] = np.nan
    v = verdicts("mode_connectivity", artifacts(tmp_path, broken), params())
    assert not v["curve_removes_barrier"]["holds"]
    assert not v["curve_loss_flat"]["holds"]
    assert not v["barrier_heights"]["holds"]
