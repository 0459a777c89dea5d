"""Every claim of the deep linear example on small synthetic artifacts in the pipeline's format
(`linear.surfaces`, `permutation_experiment`, `saddle_experiment`): one case that holds, one
that fails, and the degenerate inputs that must fail or raise."""

import math

import numpy as np
import pytest
from claims_support import section, verdicts

from landscapes.claims import linear as lc
from landscapes.store import save_npz

AXIS = np.linspace(-2, 2, 21)
A, B = np.meshgrid(AXIS, AXIS, indexing="ij")
CONVEX = (A - 1) ** 2 + 0.5 * (B + 0.5) ** 2 + 0.3 * A * B
BUMPY = np.cos(2 * A) + np.cos(2 * B) + 0.1 * A**2  # sigmoid-like: curvature of both signs


def params(**claims):
    return section("linear", saddle={"n_inits": 20}, claims=claims)


def surfaces(tmp_path, **over):
    s = 1.0
    arrays = {"axis": AXIS, "teacher": np.array([1.0, -0.5]), "target": np.array(s),
              "bowl": CONVEX, "chain": 0.5 * (s - A * B) ** 2, "slice_linear": CONVEX,
              "slice_sigmoid": BUMPY, "fit_loss_linear": np.array(0.1),
              "fit_loss_sigmoid": np.array(0.1), "center_linear": np.zeros(2),
              "center_sigmoid": np.zeros(2)}
    arrays.update(over)
    save_npz(tmp_path / "surfaces.npz", **arrays)
    return str(tmp_path / "surfaces.npz")


def permutation(tmp_path, loss=(0.30, 0.9, 1.5, 0.9, 0.30), original=0.3, permuted=0.3,
                moved=0.75):
    loss = np.asarray(loss, dtype=float)
    save_npz(tmp_path / "permutation.npz", perm=np.array([1, 0, 3, 2]),
             alphas=np.linspace(0, 1, len(loss)), loss=loss, accuracy=np.full(len(loss), 0.9),
             loss_original=np.array(original), loss_permuted=np.array(permuted),
             accuracy_original=np.array(0.9), accuracy_permuted=np.array(0.9),
             moved_fraction=np.array(moved))
    return str(tmp_path / "permutation.npz")


SIGMA = np.array([3.0, 2.0, 1.0])
STEPS = np.arange(0, 200, 10)


def strengths(times, n_inits=20):
    """Per init and step, each mode's strength: 0 until its time, then its singular value."""
    s = np.stack([np.where(STEPS[:, None] >= np.asarray(times)[None, :], SIGMA, 0.0)] * n_inits)
    return s  # (inits, steps, modes)


def saddle(tmp_path, n_inits=20, final_gap=1e-9, opt=0.5, eig_error=1e-9, eig3=1e-14,
           times=(20, 50, 120), n_modes=3, **over):
    predicted = np.sort(np.concatenate([-SIGMA, SIGMA, np.zeros(6)]))
    losses = np.linspace(2.0, opt * (1 + final_gap), len(STEPS))[None, :].repeat(n_inits, 0)
    arrays = {"sigma": SIGMA, "eig_depth2": predicted[::-1] + eig_error,
              "eig_depth3": np.full(12, eig3), "predicted_depth2": predicted, "steps": STEPS,
              "losses": losses, "strengths": strengths(times, n_inits),
              "optimal_loss": np.array(opt), "hidden": np.array(3), "n_modes": np.array(n_modes)}
    arrays.update(over)
    save_npz(tmp_path / "saddle.npz", **arrays)
    return str(tmp_path / "saddle.npz")


def artifacts(tmp_path, s=None, p=None, d=None):
    return {"surfaces": s or surfaces(tmp_path), "permutation": p or permutation(tmp_path),
            "saddle": d or saddle(tmp_path)}


def test_every_claim_holds_on_artifacts_of_the_papers_shape(tmp_path):
    records = verdicts("linear", artifacts(tmp_path), params())
    assert len(records) == 9
    assert all(r["holds"] for r in records.values()), \
        {k: (r["measured"], r["threshold"]) for k, r in records.items() if not r["holds"]}
    assert records["gd_reaches_optimum"]["details"]["n_inits"] == 20
    assert records["chain_saddle"]["measured"] == "-1, 1"


# ---------------------------------------------------------------- surfaces: (a) and (b)


def test_bowl_convex_fails_on_a_saddle_surface(tmp_path):
    art = artifacts(tmp_path, s=surfaces(tmp_path, bowl=A**2 - B**2))
    assert not lc.bowl_convex(art, params()).holds


def test_bowl_convex_fails_on_a_flat_or_broken_grid(tmp_path):
    flat = np.ones_like(A)  # zero largest curvature: no ratio
    assert not lc.bowl_convex(artifacts(tmp_path, s=surfaces(tmp_path, bowl=flat)),
                              params()).holds
    nan = CONVEX.copy()
    nan[3, 4] = np.nan
    assert not lc.bowl_convex(artifacts(tmp_path, s=surfaces(tmp_path, bowl=nan)),
                              params()).holds


def test_bowl_convex_tolerance_comes_from_the_config(tmp_path):
    # a bowl with a dent as deep as 1% of its largest curvature: convex only to 2%
    dented = B**2 - 0.01 * A**2  # curvature 2 along the second axis, -0.02 along the first
    art = artifacts(tmp_path, s=surfaces(tmp_path, bowl=dented))
    r = lc.bowl_convex(art, params())
    assert not r.holds and -0.02 < r.measured < -1e-6
    assert lc.bowl_convex(art, params(convex_tol=0.02)).holds


def test_chain_saddle_fails_when_the_curvature_is_not_plus_minus_s(tmp_path):
    wrong = artifacts(tmp_path, s=surfaces(tmp_path, chain=0.5 * (2.0 - A * B) ** 2))
    assert not lc.chain_saddle(wrong, params()).holds  # eigenvalues -2, 2, target 1
    bowl = artifacts(tmp_path, s=surfaces(tmp_path, chain=0.5 * (A**2 + B**2)))
    assert not lc.chain_saddle(bowl, params()).holds


def test_chain_saddle_with_zero_target_is_no_saddle(tmp_path):
    # s = 0: both eigenvalues 0, "within tol of -0 and +0", but the origin is no saddle
    art = artifacts(tmp_path, s=surfaces(tmp_path, target=np.array(0.0),
                                         chain=0.5 * (A * B) ** 2))
    assert not lc.chain_saddle(art, params()).holds


def test_chain_saddle_refuses_a_grid_without_the_origin(tmp_path):
    axis = np.linspace(-2, 2, 20)
    a, b = np.meshgrid(axis, axis, indexing="ij")
    art = artifacts(tmp_path, s=surfaces(tmp_path, axis=axis, chain=0.5 * (1 - a * b) ** 2))
    with pytest.raises(ValueError, match="origin"):
        lc.chain_saddle(art, params())


def test_activation_nonconvex_fails_when_the_sigmoid_slice_is_convex_too(tmp_path):
    art = artifacts(tmp_path, s=surfaces(tmp_path, slice_sigmoid=CONVEX))
    assert not lc.activation_nonconvex(art, params()).holds
    art = artifacts(tmp_path, s=surfaces(tmp_path, slice_linear=BUMPY))
    assert not lc.activation_nonconvex(art, params()).holds


def test_activation_nonconvex_fails_on_a_zero_denominator(tmp_path):
    # constant along the second axis (max |z_xx| = 0 exactly) with lambda_min = -2: the ratio
    # would be -inf and "non-convex" would hold over a zero denominator
    art = artifacts(tmp_path, s=surfaces(tmp_path, slice_sigmoid=-(A**2)))
    assert not lc.activation_nonconvex(art, params()).holds


# ---------------------------------------------------------------- permutation: (c)


def test_permutation_invariance_fails_when_the_loss_changes(tmp_path):
    art = artifacts(tmp_path, p=permutation(tmp_path, permuted=0.3 + 1e-4))
    r = lc.permutation_invariance(art, params())
    assert not r.holds and r.measured == pytest.approx(1e-4)
    assert lc.permutation_invariance(art, params(permutation_tol=1e-3)).holds


def test_permutation_invariance_fails_on_the_identity_or_nan(tmp_path):
    assert not lc.permutation_invariance(
        artifacts(tmp_path, p=permutation(tmp_path, moved=0.0)), params()).holds
    assert not lc.permutation_invariance(
        artifacts(tmp_path, p=permutation(tmp_path, permuted=math.nan)), params()).holds


def test_permutation_barrier_fails_on_a_path_without_a_bump(tmp_path):
    art = artifacts(tmp_path, p=permutation(tmp_path, loss=(0.3, 0.3, 0.3, 0.3, 0.3)))
    assert not lc.permutation_barrier(art, params()).holds
    art = artifacts(tmp_path, p=permutation(tmp_path, loss=(0.3, 0.2, 0.1, 0.2, 0.3)))
    assert not lc.permutation_barrier(art, params()).holds


def test_permutation_barrier_fails_on_nan(tmp_path):
    art = artifacts(tmp_path, p=permutation(tmp_path, loss=(0.3, 0.9, np.nan, 0.9, 0.3)))
    assert not lc.permutation_barrier(art, params()).holds


# ---------------------------------------------------------------- deep linear saddle: (d)


def test_gd_reaches_optimum_fails_when_it_stops_short(tmp_path):
    art = artifacts(tmp_path, d=saddle(tmp_path, final_gap=1e-3))
    r = lc.gd_reaches_optimum(art, params())
    assert not r.holds and r.measured == pytest.approx(1e-3)
    assert lc.gd_reaches_optimum(art, params(optimum_tol=1e-2)).holds


def test_gd_reaches_optimum_needs_the_configured_inits(tmp_path):
    few = artifacts(tmp_path, d=saddle(tmp_path, n_inits=10))
    assert not lc.gd_reaches_optimum(few, params()).holds  # 10 of 20 configured
    assert not lc.gd_reaches_optimum(few, section("linear", saddle={"n_inits": 10})).holds
    assert lc.gd_reaches_optimum(few, section("linear", saddle={"n_inits": 10},
                                              claims={"min_inits": 10})).holds


def test_gd_reaches_optimum_fails_on_degenerate_losses(tmp_path):
    assert not lc.gd_reaches_optimum(artifacts(tmp_path, d=saddle(tmp_path, opt=0.0)),
                                     params()).holds  # a relative gap over zero
    below = artifacts(tmp_path, d=saddle(tmp_path, final_gap=-0.5))  # under the optimum
    assert not lc.gd_reaches_optimum(below, params()).holds
    nan = np.full((20, len(STEPS)), np.nan)
    assert not lc.gd_reaches_optimum(artifacts(tmp_path, d=saddle(tmp_path, losses=nan)),
                                     params()).holds
    none = np.zeros((0, len(STEPS)))
    assert not lc.gd_reaches_optimum(artifacts(tmp_path, d=saddle(tmp_path, losses=none)),
                                     params()).holds


def test_hessian_origin_depth2_fails_off_the_prediction(tmp_path):
    art = artifacts(tmp_path, d=saddle(tmp_path, eig_error=1e-3))
    assert not lc.hessian_origin_depth2(art, params()).holds
    assert lc.hessian_origin_depth2(art, params(spectrum_tol=1e-2)).holds


def test_hessian_origin_depth2_fails_on_nan_and_raises_on_nothing(tmp_path):
    art = artifacts(tmp_path, d=saddle(tmp_path, eig_error=np.nan))
    assert not lc.hessian_origin_depth2(art, params()).holds
    empty = artifacts(tmp_path, d=saddle(tmp_path, eig_depth2=np.zeros(0),
                                         predicted_depth2=np.zeros(0)))
    with pytest.raises(ValueError):
        lc.hessian_origin_depth2(empty, params())


def test_hessian_origin_depth3_fails_when_not_zero(tmp_path):
    art = artifacts(tmp_path, d=saddle(tmp_path, eig3=1e-6))
    assert not lc.hessian_origin_depth3(art, params()).holds
    assert not lc.hessian_origin_depth3(artifacts(tmp_path, d=saddle(tmp_path, eig3=np.nan)),
                                        params()).holds


def test_modes_in_order_fails_when_a_weaker_mode_comes_first(tmp_path):
    art = artifacts(tmp_path, d=saddle(tmp_path, times=(20, 120, 50)))
    assert lc.modes_in_order(art, params()).measured == 0.0
    assert not lc.modes_in_order(art, params()).holds
    never = artifacts(tmp_path, d=saddle(tmp_path, times=(20, 50, 10**6)))  # never learned
    assert not lc.modes_in_order(never, params()).holds


def test_modes_in_order_share_comes_from_the_config(tmp_path):
    # mode 3 reaches 40% of sigma_3 early and its full value last: learned before mode 2 at a
    # 0.3 share, after it at the default 0.5
    s = strengths((20, 50, 120))
    s[:, (STEPS >= 30) & (STEPS < 120), 2] = 0.4 * SIGMA[2]
    art = artifacts(tmp_path, d=saddle(tmp_path, strengths=s))
    assert lc.modes_in_order(art, params()).holds
    assert not lc.modes_in_order(art, params(learned_share=0.3)).holds


def test_modes_in_order_fails_without_two_modes_or_any_init(tmp_path):
    one = artifacts(tmp_path, d=saddle(tmp_path, n_modes=1))  # one mode is always "in order"
    assert not lc.modes_in_order(one, params()).holds
    none = artifacts(tmp_path, d=saddle(tmp_path, strengths=np.zeros((0, len(STEPS), 3))))
    assert not lc.modes_in_order(none, params()).holds


def test_a_missing_artifact_raises(tmp_path):
    art = artifacts(tmp_path)
    del art["saddle"]
    with pytest.raises(KeyError):
        verdicts("linear", art, params())
