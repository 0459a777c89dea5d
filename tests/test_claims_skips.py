"""Every claim of Li et al. 2018 on skip connections, on small synthetic artifacts in the
pipeline's format (merged `Surface` grids, Hessian maps, training-metrics CSVs): one case that
holds, one that fails, and the degenerate inputs that must fail or raise."""

import math

import numpy as np
import pytest
from claims_support import section, verdicts

from landscapes.claims import skips as kc
from landscapes.names import ResNetId, artifact, resnets
from landscapes.store import save_csv
from landscapes.surface import Grid, Surface

DEPTHS = [8, 14]
GRID = Grid.linspace(alpha=(-1, 1, 9), beta=(-1, 1, 9))
COARSE = Grid.linspace(alpha=(-1, 1, 5), beta=(-1, 1, 5))
A, B = np.meshgrid(*GRID.values, indexing="ij")
BOWL = A**2 + B**2
CHAOTIC = np.min([(A - x) ** 2 + (B - y) ** 2 + 0.01 * k  # four basins
                  for k, (x, y) in enumerate([(-0.5, -0.5), (-0.5, 0.5), (0.5, -0.5), (0.5, 0.5)])],
                 axis=0)
PLAIN, SHORT = ResNetId(14, False), ResNetId(14, True)


def params(depths=DEPTHS, **claims):
    return section("skips", depths=depths, claims=claims)


def surface(path, z):
    Surface(GRID, {"train_loss": z, "train_acc": 1 - z / 10, "test_loss": z + 0.1,
                   "test_acc": 1 - z / 9}, meta={"bn": "eval", "seed": 0}).save(path)


def hessian(path, ratio):
    """A map whose |lambda_min / lambda_max| is `ratio` (an array over the coarse grid)."""
    hi = np.full(COARSE.shape, 10.0)
    Surface(COARSE, {"lambda_min": -ratio * hi, "lambda_max": hi},
            meta={"n_samples": 32, "lanczos_steps": 4}).save(path)


def metrics(path, final_loss):
    save_csv(path, [{"epoch": e, "lr": 0.1, "batch_loss": 2.0 / e, "train_loss": loss,
                     "train_acc": 0.5, "test_loss": loss + 0.1, "test_acc": 0.5}
                    for e, loss in ((1, 2.0), (2, final_loss))])


def artifacts(tmp_path, surfaces=None, ratios=None, losses=None):
    """The paper's shape, with some models' artifacts replaced."""
    surfaces = {SHORT: BOWL, ResNetId(8, True): BOWL, ResNetId(8, False): BOWL,
                PLAIN: CHAOTIC, **(surfaces or {})}
    half = np.where(np.arange(COARSE.shape[0])[:, None] < 2, 0.5, 0.01) * np.ones(COARSE.shape)
    ratios = {PLAIN: half, **(ratios or {})}
    losses = {ResNetId(8, True): 0.2, SHORT: 0.21, ResNetId(8, False): 0.2, PLAIN: 1.0,
              **(losses or {})}
    art = {}
    for m in resnets(DEPTHS):
        for kind, write, value in (("surface", surface, surfaces[m]),
                                   ("hessian", hessian, ratios.get(m, np.full(COARSE.shape,
                                                                              0.01))),
                                   ("metrics", metrics, losses[m])):
            path = tmp_path / f"{artifact(kind, m)}.{'csv' if kind == 'metrics' else 'npz'}"
            write(path, value)
            art[artifact(kind, m)] = str(path)
    return art


def test_every_claim_holds_on_artifacts_of_the_papers_shape(tmp_path):
    records = verdicts("skips", artifacts(tmp_path), params())
    assert len(records) == 4 and all(r["holds"] for r in records.values()), \
        {k: r["measured"] for k, r in records.items() if not r["holds"]}
    assert records["nonconvex_share"]["details"]["plain"] == pytest.approx(0.4)
    assert records["nonconvex_share"]["details"]["shortcuts"] == 0.0
    assert records["single_basin"]["details"] == {"resnet8": 1, "resnet14": 1}
    assert records["plain_more_minima"]["measured"] == 4


def test_nonconvex_share_fails_when_the_shortcut_net_is_as_nonconvex(tmp_path):
    half = np.where(np.arange(5)[:, None] < 2, 0.5, 0.01) * np.ones(COARSE.shape)
    art = artifacts(tmp_path, ratios={SHORT: half})
    assert not kc.nonconvex_share(art, params()).holds
    # above a ratio threshold of 0.6 neither net has a non-convex point
    assert not kc.nonconvex_share(artifacts(tmp_path), params(ratio_threshold=0.6)).holds


def test_nonconvex_share_fails_on_nan_or_a_non_positive_lambda_max(tmp_path):
    # NaN points would count as convex and make the shortcut net look smoother
    broken = np.full(COARSE.shape, 0.9)
    broken[:4] = np.nan  # share 0.2 if NaN counted as convex: below the plain net's 0.4
    art = artifacts(tmp_path, ratios={SHORT: broken})
    assert not kc.nonconvex_share(art, params()).holds
    art = artifacts(tmp_path)
    z = Surface.load(art[artifact("hessian", SHORT)])
    z.metrics["lambda_max"][0, 0] = 0.0
    z.save(art[artifact("hessian", SHORT)])
    assert not kc.nonconvex_share(art, params()).holds


def test_single_basin_fails_with_two_basins_at_any_depth(tmp_path):
    two = np.minimum((A - 0.5) ** 2 + B**2, (A + 0.5) ** 2 + B**2 + 0.01)
    art = artifacts(tmp_path, surfaces={ResNetId(8, True): two})
    r = kc.single_basin(art, params())
    assert not r.holds and r.measured == 2 and r.details["resnet8"] == 2


def test_single_basin_minima_tolerance_comes_from_the_config(tmp_path):
    shallow = BOWL.copy()
    shallow[6, 6] = 0.115  # a dip at (0.5, 0.5) 0.01 below its lowest neighbour
    art = artifacts(tmp_path, surfaces={SHORT: shallow})
    assert not kc.single_basin(art, params(minima_tolerance=0.0)).holds
    assert kc.single_basin(art, params(minima_tolerance=0.05)).holds


def test_single_basin_fails_when_a_nan_hides_a_basin(tmp_path):
    two = np.minimum((A - 0.5) ** 2 + B**2, (A + 0.5) ** 2 + B**2 + 0.01)
    i = int(np.argmin(np.abs(GRID.values[0] + 0.5)))
    two[i + 1, 4] = np.nan  # a NaN neighbour: the second minimum no longer counts
    art = artifacts(tmp_path, surfaces={SHORT: two})
    assert not kc.single_basin(art, params()).holds
    assert not kc.plain_more_minima(art, params()).holds


def test_single_basin_raises_on_no_depths_or_a_grid_too_small(tmp_path):
    with pytest.raises(ValueError, match="empty"):
        kc.single_basin(artifacts(tmp_path), params(depths=[]))
    art = artifacts(tmp_path)
    Surface(Grid.linspace(alpha=(-1, 1, 2), beta=(-1, 1, 2)),
            {"train_loss": np.zeros((2, 2))}).save(art[artifact("surface", SHORT)])
    with pytest.raises(ValueError, match="3 x 3"):
        kc.single_basin(art, params())


def test_plain_more_minima_fails_when_the_plain_net_has_one_basin(tmp_path):
    art = artifacts(tmp_path, surfaces={PLAIN: BOWL})
    r = kc.plain_more_minima(art, params())
    assert not r.holds and r.details == {"plain": 1, "shortcuts": 1, "depth": 14}


def test_depth_hurts_plain_fails_when_shortcuts_also_suffer_or_plain_does_not(tmp_path):
    art = artifacts(tmp_path, losses={SHORT: 0.5})
    assert not kc.depth_hurts_plain(art, params()).holds
    art = artifacts(tmp_path, losses={PLAIN: 0.22})
    assert not kc.depth_hurts_plain(art, params()).holds
    # a rise of 0.02 counts at a tolerance of 0.01: then the shortcut rise of 0.01 is no rise
    assert kc.depth_hurts_plain(art, params(loss_rise_tolerance=0.01)).holds
    assert not kc.depth_hurts_plain(art, params(loss_rise_tolerance=0.005)).holds


def test_depth_hurts_plain_fails_on_nan_or_a_single_depth(tmp_path):
    art = artifacts(tmp_path, losses={ResNetId(8, True): math.nan})
    assert not kc.depth_hurts_plain(art, params()).holds
    assert not kc.depth_hurts_plain(artifacts(tmp_path), params(depths=[14])).holds


def test_a_missing_artifact_raises(tmp_path):
    art = artifacts(tmp_path)
    del art[artifact("metrics", PLAIN)]
    with pytest.raises(KeyError):
        kc.depth_hurts_plain(art, params())
