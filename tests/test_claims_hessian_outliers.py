"""Every claim of Sagun et al. 2016, 2017 on small synthetic spectra: planted outliers that
number k hold, a count fixed whatever k fails, a bulk away from zero fails, and nets that did
not fit fail the regime claim."""

import numpy as np
from claims_support import section, verdicts

from landscapes.store import save_csv, save_npz

CLASSES = [2, 4, 6]


def params(**claims):
    return section("hessian_outliers", mlp={"classes": CLASSES}, conv={"classes": CLASSES},
                   count={"window": 12}, claims=claims)


def spectrum(n_outliers, dim=300, bulk=1e-4, seed=0):
    rng = np.random.default_rng(seed)
    return np.concatenate([bulk * rng.standard_normal(dim - n_outliers),
                           np.geomspace(0.5, 5.0, n_outliers)])


def artifacts(tmp_path, outliers_of=lambda k: k, bulk=1e-4, train_acc=1.0):
    """Stored results whose spectra hold outliers_of(k) outliers above a bulk of width bulk."""
    mlp = {f"k{k}": spectrum(outliers_of(k), bulk=bulk, seed=k) for k in CLASSES}
    conv = {}
    for k in CLASSES:
        nodes = np.stack([np.sort(spectrum(outliers_of(k), 20, bulk, k + p)) for p in range(2)])
        conv[f"nodes_k{k}"] = nodes
        weights = np.full_like(nodes, 0.9 / (20 - outliers_of(k)))
        weights[:, -outliers_of(k):] = 0.1 / outliers_of(k)
        conv[f"weights_k{k}"] = weights
    rows = [{"k": k, "dim": 300, "n_train": 100, "epochs": 10, "train_loss": 0.01,
             "train_acc": train_acc, "test_acc": 0.95, "grad_norm": 1e-3, "lambda_max": 5.0}
            for k in CLASSES]
    paths = {"mlp_spectra": tmp_path / "mlp.npz", "conv_densities": tmp_path / "conv.npz",
             "mlp_nets": tmp_path / "mlp.csv", "conv_nets": tmp_path / "conv.csv"}
    save_npz(paths["mlp_spectra"], **mlp)
    save_npz(paths["conv_densities"], **conv)
    save_csv(paths["mlp_nets"], rows)
    save_csv(paths["conv_nets"], rows)
    return {name: str(p) for name, p in paths.items()}


def test_k_outliers_hold(tmp_path):
    v = verdicts("hessian_outliers", artifacts(tmp_path), params())
    for net in ("mlp", "conv"):
        assert v[f"{net}_count_tracks_k"]["holds"], v[f"{net}_count_tracks_k"]
        assert v[f"{net}_count_tracks_k"]["measured"] == 0
        assert v[f"{net}_count_grows_with_k"]["holds"]
    assert v["bulk_near_zero"]["holds"] and v["nets_fit"]["holds"]
    finding = v["other_readings"]["details"]
    assert finding["mlp_bulk_count"] == {"2": 2, "4": 4, "6": 6}
    assert finding["conv_slq_mass"]["4"] == 30.0  # dim 300 times the weight 0.1 above the gap


def test_k_minus_one_outliers_hold_within_the_tolerance(tmp_path):
    v = verdicts("hessian_outliers", artifacts(tmp_path, lambda k: k - 1), params())
    assert v["mlp_count_tracks_k"]["holds"] and v["mlp_count_tracks_k"]["measured"] == 1
    v = verdicts("hessian_outliers", artifacts(tmp_path, lambda k: k - 1), params(tolerance=0))
    assert not v["mlp_count_tracks_k"]["holds"]


def test_a_count_fixed_whatever_k_fails(tmp_path):
    v = verdicts("hessian_outliers", artifacts(tmp_path, lambda k: 3), params())
    for net in ("mlp", "conv"):
        assert not v[f"{net}_count_tracks_k"]["holds"]
        assert v[f"{net}_count_tracks_k"]["measured"] == 3
        assert not v[f"{net}_count_grows_with_k"]["holds"]  # a constant count: NaN, fails


def test_a_count_growing_too_fast_fails_the_strong_form_only(tmp_path):
    v = verdicts("hessian_outliers", artifacts(tmp_path, lambda k: 2 * k - 2), params())
    assert not v["mlp_count_tracks_k"]["holds"]
    assert v["mlp_count_grows_with_k"]["holds"]


def test_a_wide_bulk_fails(tmp_path):
    v = verdicts("hessian_outliers", artifacts(tmp_path, bulk=0.2), params())
    assert not v["bulk_near_zero"]["holds"]


def test_nets_that_did_not_fit_fail_the_regime_claim(tmp_path):
    v = verdicts("hessian_outliers", artifacts(tmp_path, train_acc=0.8), params())
    assert not v["nets_fit"]["holds"] and v["nets_fit"]["measured"] == 0.8
