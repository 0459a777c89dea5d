"""Every claim of Dauphin et al. 2014 on small synthetic artifacts in the pipeline's format
(`critical_points.npz` from the search, one `optimizers_h<hidden>.npz` per hidden size from
the comparison): one case that holds, one that fails, and the degenerate inputs that must fail
or raise."""

import numpy as np
import pytest
from claims_support import section, verdicts

from landscapes.claims import saddles as sc
from landscapes.store import save_npz

N, DIM = 8, 5
EPOCHS = np.arange(6)


def params(grad_cutoff=1e-6, **claims):
    return section("saddles", search={"grad_cutoff": grad_cutoff, "index_tol": 1e-5,
                                      "flat_tol": 1e-3}, claims=claims)


def critical_points(tmp_path, error=None, index=None, eigenvalues=None, grad=None):
    error = np.linspace(0.1, 0.8, N) if error is None else np.asarray(error)
    index = error / 4 if index is None else index  # perfectly monotone
    if eigenvalues is None:  # spectra shift left as the error grows
        eigenvalues = np.stack([np.linspace(-1, 2, DIM) + 0.5 - e for e in error])
    if grad is None:
        grad = np.full(N, 1e-9)
        grad[-1] = 1e-2  # one stalled point, rejected by the cutoff
    curvature = np.full(N, 0.1)
    curvature[-1] = 1e-6  # ... and gradient-flat
    save_npz(tmp_path / "cp.npz", error=error, index=index, eigenvalues=eigenvalues,
             grad_norm=grad, gradient_curvature=curvature)
    return str(tmp_path / "cp.npz")


SIZES = (2, 4, 8)
LOWEST = {"msgd": 0.10, "newton": 0.05, "sfn": 0.0, "sfn_krylov": 0.02}  # SFN lowest


def comparison(tmp_path, hidden, lowest=None, **over):
    """`optimizers_h<hidden>.npz`: each method's error falls from 0.9 to its `lowest`."""
    lowest = {**LOWEST, **(lowest or {})}
    opt = {"hidden": np.array(hidden), "n_train": np.array(1000)}
    for k, low in lowest.items():
        opt.update({f"{k}_epoch": EPOCHS, f"{k}_error": np.linspace(0.9, low, len(EPOCHS)),
                    f"{k}_loss": np.linspace(2.0, 2 * low + 0.01, len(EPOCHS)),
                    f"{k}_grad_norm": np.ones(len(EPOCHS)),
                    f"{k}_lambda_min": -np.ones(len(EPOCHS))})
    opt.update(over)
    path = tmp_path / f"opt_h{hidden}.npz"
    save_npz(path, **opt)
    return str(path)


def optimizers(tmp_path, at=None, **over):
    """One comparison per size of SIZES (largest first: the order must not matter); `over`
    applies to the size `at` only (default: every size)."""
    return [comparison(tmp_path, h, **(over if at in (None, h) else {}))
            for h in reversed(SIZES)]


def switch_run(tmp_path, **over):
    """The SGD-then-SFN arrays of the switch claim."""
    ep = EPOCHS
    opt = dict(msgd_epoch=ep, msgd_loss=np.array([2, 1.5, 1.2, 1.19, 1.185, 1.18]),
               switch_epoch=np.array([3, 4, 5]), switch_loss=np.array([1.19, 1.0, 0.9]),
               switch_at=np.array(3), switch_plateau_found=np.array(True))
    opt.update(over)
    save_npz(tmp_path / "switch.npz", **opt)
    return {"optimizers": str(tmp_path / "switch.npz")}


def artifacts(tmp_path, cp=None, opt=None):
    return {"critical_points": cp or critical_points(tmp_path),
            "optimizers": opt or optimizers(tmp_path)}


def test_every_claim_holds_and_states_its_cutoff(tmp_path):
    art = artifacts(tmp_path)
    records = {name: fn(art, params()) for name, fn in (
        ("error_index_correlation", sc.error_index_correlation),
        ("spectrum_shifts_right", sc.spectrum_shifts_right),
        ("sfn_lowest_loss", sc.sfn_lowest_loss))}
    records["switch_escapes_plateau"] = sc.switch_escapes_plateau(switch_run(tmp_path), params())
    assert all(r.holds for r in records.values())
    corr = records["error_index_correlation"]
    assert corr.details["accepted"] == N - 1 and corr.details["gradient_flat"] == 1
    assert "1e-06" in corr.threshold and "1e-06" in records["spectrum_shifts_right"].threshold
    switch = records["switch_escapes_plateau"].measured
    assert switch.startswith("SFN drop 0.244, SGD drop 0.008")


def test_error_index_correlation_fails_when_error_falls_with_index(tmp_path):
    error = np.linspace(0.1, 0.8, N)
    art = artifacts(tmp_path, cp=critical_points(tmp_path, error=error, index=1 - error))
    assert not sc.error_index_correlation(art, params()).holds
    # a weak correlation passes a weak threshold only
    index = error / 4
    index[[0, 3]] = index[[3, 0]]
    art = artifacts(tmp_path, cp=critical_points(tmp_path, error=error, index=index))
    rho = sc.error_index_correlation(art, params()).measured
    assert 0.6 < rho < 0.9
    assert not sc.error_index_correlation(art, params(min_spearman=0.9)).holds


def test_index_claims_fail_with_too_few_points_under_the_cutoff(tmp_path):
    # a stricter cutoff leaves no critical point: both index claims fail, never pass by default
    strict = params(grad_cutoff=1e-12)
    corr = sc.error_index_correlation(artifacts(tmp_path), strict)
    assert not corr.holds and corr.measured.startswith("n/a: 0 of 8")
    assert not sc.spectrum_shifts_right(artifacts(tmp_path), strict).holds
    # seven points under the cutoff, eight needed
    assert not sc.error_index_correlation(artifacts(tmp_path), params(min_points=8)).holds


def test_error_index_correlation_fails_on_nan(tmp_path):
    error = np.linspace(0.1, 0.8, N)
    error[2] = np.nan
    art = artifacts(tmp_path, cp=critical_points(tmp_path, error=error, index=np.arange(N)))
    assert not sc.error_index_correlation(art, params()).holds


def test_spectrum_shifts_right_fails_when_spectra_shift_the_other_way(tmp_path):
    error = np.linspace(0.1, 0.8, N)
    eig = np.stack([np.linspace(-1, 2, DIM) + e for e in error])  # right as error grows
    art = artifacts(tmp_path, cp=critical_points(tmp_path, eigenvalues=eig))
    assert not sc.spectrum_shifts_right(art, params()).holds


def test_spectrum_shifts_right_fails_without_three_errors_or_on_nan(tmp_path):
    two = artifacts(tmp_path, cp=critical_points(tmp_path, error=[0.1] * 4 + [0.5] * 4))
    assert not sc.spectrum_shifts_right(two, params()).holds
    eig = np.stack([np.linspace(-1, 2, DIM) + 0.5 - e for e in np.linspace(0.1, 0.8, N)])
    eig[0] = np.nan
    art = artifacts(tmp_path, cp=critical_points(tmp_path, eigenvalues=eig))
    assert not sc.spectrum_shifts_right(art, params()).holds


def test_sfn_lowest_loss_compares_the_lowest_error_at_every_size(tmp_path):
    v = sc.sfn_lowest_loss(artifacts(tmp_path), params())
    # SFN 0 against Newton's 5%: 5 %-points below at every size
    assert v.holds and v.measured == pytest.approx(-5.0)
    assert "(2, 4, 8)" in v.threshold and "after 5 epochs" in v.threshold
    assert v.details["sizes_held"] == "3 of 3"
    assert v.details["hidden 4"].startswith("lowest error (%) msgd 10.00, newton 5.00, sfn 0.00")
    # a tie at 0 errors is "at or below"
    tie = optimizers(tmp_path, lowest={"newton": 0.0, "msgd": 0.0})
    assert sc.sfn_lowest_loss(artifacts(tmp_path, opt=tie), params()).holds


def test_sfn_lowest_loss_fails_where_one_size_has_another_method_lower(tmp_path):
    for other in ("newton", "msgd"):
        opt = optimizers(tmp_path, at=4, lowest={"sfn": 0.03, other: 0.01})
        v = sc.sfn_lowest_loss(artifacts(tmp_path, opt=opt), params())
        assert not v.holds and v.measured == pytest.approx(2.0), other
        assert v.details["sizes_held"] == "2 of 3"
        # a tolerance of 2 %-points lets it pass, 1 does not
        assert sc.sfn_lowest_loss(artifacts(tmp_path, opt=opt), params(sfn_error_tol=0.02)).holds
        assert not sc.sfn_lowest_loss(artifacts(tmp_path, opt=opt),
                                      params(sfn_error_tol=0.01)).holds
    # the Krylov variant is not the claim's: it may end lower
    opt = optimizers(tmp_path, lowest={"sfn_krylov": 0.0, "sfn": 0.01})
    assert sc.sfn_lowest_loss(artifacts(tmp_path, opt=opt), params()).holds


def test_sfn_lowest_loss_fails_on_nan_and_raises_on_unequal_epochs(tmp_path):
    nan = np.linspace(0.9, 0.0, len(EPOCHS))
    nan[2] = np.nan
    for key in ("newton_error", "sfn_error", "msgd_error"):
        art = artifacts(tmp_path, opt=optimizers(tmp_path, at=8, **{key: nan}))
        v = sc.sfn_lowest_loss(art, params())
        assert not v.holds and v.details["sizes_held"] == "2 of 3", key
    short = optimizers(tmp_path, at=2, msgd_epoch=EPOCHS[:4] * 2)
    with pytest.raises(ValueError, match="hidden 2: the methods ran unequal epochs"):
        sc.sfn_lowest_loss(artifacts(tmp_path, opt=short), params())


def test_switch_escapes_plateau_fails_when_sgd_drops_too(tmp_path):
    art = switch_run(tmp_path, msgd_loss=np.array([2, 1.5, 1.2, 1.19, 1.0, 0.8]))
    assert not sc.switch_escapes_plateau(art, params()).holds
    # SFN's drop of 0.244 misses a margin of 0.3
    assert not sc.switch_escapes_plateau(switch_run(tmp_path), params(switch_margin=0.3)).holds


def test_switch_escapes_plateau_fails_on_a_zero_loss_at_the_switch(tmp_path):
    # drops relative to zero would be +inf for SFN and -inf for SGD, and the claim would hold
    zero = switch_run(tmp_path, msgd_loss=np.array([2, 1.5, 1.2, 0.0, 0.0, 0.01]),
                      switch_loss=np.array([0.0, -0.1, -0.2]))
    assert not sc.switch_escapes_plateau(zero, params()).holds
    nan = switch_run(tmp_path, switch_loss=np.array([1.19, 1.0, np.nan]))
    assert not sc.switch_escapes_plateau(nan, params()).holds


def test_a_missing_artifact_raises(tmp_path):
    with pytest.raises(KeyError):
        verdicts("saddles", {"critical_points": critical_points(tmp_path)}, params())


def test_optimizers_figure_draws_zero_errors_at_the_floor(tmp_path):
    from landscapes.figures import saddles as fs
    fig = fs.optimizers({"optimizers": optimizers(tmp_path)}, {"curves_hidden": 4})
    a_min, a_err, a_lam, a_grad = fig.axes
    assert a_min.get_yscale() == "log" and a_min.get_xlabel() == "hidden units"
    sfn = next(line for line in a_min.get_lines() if "exact" in line.get_label())
    # SFN's 0 errors at every size, drawn at half an example of 1000: 0.05%
    assert list(sfn.get_xdata()) == list(SIZES) and np.allclose(sfn.get_ydata(), 0.05)
    assert "4 hidden units" in a_err.get_title() and len(a_lam.get_lines()) == 4
