import importlib
import math
from pathlib import Path

import jsonschema
import numpy as np
import pytest
from claims_support import SECTIONS, schema

from landscapes import claims

ROOT = Path(__file__).resolve().parents[1]
EXPERIMENTS = ("linear", "minima", "saddles", "skips", "sharpness")


@pytest.fixture
def unit_claims():
    @claims.claim("unit", "positive", "Paper 2000", "panel", "Fig. 1", "x is positive", "> 0")
    def positive(artifacts, params):
        x = artifacts["x"]
        return claims.Verdict(np.float64(x), "> 0", bool(x > params["floor"]))

    yield
    claims.REGISTRY.pop("unit")


def test_evaluate_computes_verdicts_and_tables_them(unit_claims):
    good = claims.evaluate("unit", {"x": 1.0}, {"floor": 0})
    bad = claims.evaluate("unit", {"x": -1.0}, {"floor": 0})
    assert good[0]["id"] == "unit.positive" and good[0]["holds"] is True
    assert bad[0]["holds"] is False and isinstance(bad[0]["measured"], float)
    assert {k: good[0][k] for k in ("experiment", "figure", "paper_figure")} == \
        {"experiment": "unit", "figure": "panel", "paper_figure": "Fig. 1"}
    assert set(claims.FIELDS) <= set(good[0])
    table = claims.markdown_table(good + bad)
    assert "| holds |" in table and "| **fails** |" in table and "1 of 2 claims hold" in table
    assert "| unit/panel Fig. 1 |" in table


def test_a_finding_is_reported_beside_the_claims_and_not_counted():
    @claims.claim("unit4", "where", "P", "f", "", "where the searches end", "many flat",
                  finding=True)
    def where(artifacts, params):
        return claims.Verdict("flat 3 of 4", "|g| < 1e-6", True,
                              {"pooled": f"flat {artifacts['pooled']} of 8"})

    @claims.claim("unit4", "rho", "P", "f", "", "rho is positive", "> 0")
    def rho(artifacts, params):
        return claims.Verdict(artifacts["rho"], "> 0", artifacts["rho"] > 0,
                              {"pooled": artifacts["all"]})

    try:
        per_seed = {s: claims.evaluate("unit4", {"pooled": 5, "rho": r, "all": 0.25}, {})
                    for s, r in ((0, 0.5), (1, -0.1))}
        combined = claims.over_seeds(per_seed)
        table = claims.markdown_table(combined)
        assert "0 of 1 claims hold; 1 finding reported." in table
        assert "| finding, at 2 seeds |" in table
        assert "seed 0: flat 3 of 4; seed 1: flat 3 of 4; pooled over seeds: flat 5 of 8" in table
        assert "0.2 (median of 2 seeds; -0.1 to 0.5); pooled over seeds: 0.25" in table
        assert "**fails: holds in 1 of 2 seeds**" in table
        # seeds that disagree on the pooled value are a broken claims rule
        per_seed[1] = claims.evaluate("unit4", {"pooled": 6, "rho": 1, "all": 0.25}, {})
        with pytest.raises(ValueError, match="different pooled values"):
            claims.over_seeds(per_seed)
    finally:
        claims.REGISTRY.pop("unit4")


def test_figure_label_composes_experiment_figure_and_paper_label():
    assert claims.figure_label({"experiment": "linear", "figure": "convexity",
                                "paper_figure": "(a)"}) == "linear/convexity (a)"
    assert claims.figure_label({"experiment": "sharpness", "figure": "reparam",
                                "paper_figure": ""}) == "sharpness/reparam"


@pytest.mark.parametrize("figure", ["linear/convexity", "convexity (a)", ""])
def test_figure_must_be_a_file_name_not_prose(figure):
    with pytest.raises(ValueError, match="figure"):
        claims.claim("unit3", "x", "P", figure, "", "s", "v")


def test_non_boolean_verdict_is_an_error():
    @claims.claim("unit2", "sloppy", "P", "f", "", "s", "v")
    def sloppy(artifacts, params):
        return claims.Verdict(1.0, "> 0", np.bool_(True))

    try:
        with pytest.raises(TypeError, match="non-boolean"):
            claims.evaluate("unit2", {}, {})
    finally:
        claims.REGISTRY.pop("unit2")


def test_a_claim_holding_on_nan_is_an_error():
    @claims.claim("unit4", "careless", "P", "f", "", "s", "v")
    def careless(artifacts, params):
        return claims.Verdict(math.nan, "anything", True)

    try:
        with pytest.raises(ValueError, match="non-finite"):
            claims.evaluate("unit4", {}, {})
    finally:
        claims.REGISTRY.pop("unit4")


def test_unknown_experiment_has_no_claims():
    with pytest.raises(ModuleNotFoundError):
        claims.evaluate("no_such_experiment", {}, {})


def test_ratio_and_extremes_refuse_degenerate_values():
    assert claims.ratio(6.0, 3.0) == 2.0
    for num, den in [(1.0, 0.0), (1.0, -2.0), (math.nan, 1.0), (1.0, math.inf)]:
        assert math.isnan(claims.ratio(num, den))
    assert claims.least([3, 1, 2]) == 1 and claims.most([3, 1, 2]) == 3
    # Python's min([2, nan]) is 2 but min([nan, 2]) is nan: here both are nan
    assert math.isnan(claims.least([2.0, math.nan])) and math.isnan(claims.most([math.inf, 1]))
    with pytest.raises(ValueError, match="empty"):
        claims.least([])


def test_every_experiment_registers_its_claims_with_a_real_figure():
    ids = []
    for exp in EXPERIMENTS:
        importlib.import_module(f"landscapes.claims.{exp}")
        for fn in claims.REGISTRY[exp]:
            info = fn.claim_info
            ids.append(info["id"])
            assert info["experiment"] == exp
            # every figure has a caption: workflow/report/<exp>/<figure>.rst
            assert (ROOT / "workflow" / "report" / exp / f"{info['figure']}.rst").is_file(), \
                info["id"]
    assert len(ids) == len(set(ids)) == 42


@pytest.mark.parametrize("exp", EXPERIMENTS)
def test_every_threshold_is_a_described_schema_key_with_a_valid_default(exp):
    sec = schema(exp)
    block = sec["properties"]["claims"]
    assert "claims" not in sec.get("required", []) and "required" not in block
    assert block["default"] == {} and block["additionalProperties"] is False
    for key, spec in block["properties"].items():
        assert {"type", "description", "default"} <= set(spec), f"{exp}.claims.{key}"
        assert isinstance(spec["description"], str) and spec["description"], key
    defaults = {k: v["default"] for k, v in block["properties"].items()}
    jsonschema.validate(defaults, block)
    assert (SECTIONS / f"{exp}.schema.yaml").is_file()


def test_a_margin_over_seeds_says_whether_a_verdict_is_settled():
    @claims.claim("unit5", "big", "P", "f", "", "x exceeds 1", "> 1")
    def big(artifacts, params):
        x = artifacts["x"]
        return claims.Verdict(x, "> 1", bool(x > 1), bound=1.0, sense=">")

    try:
        def combined(*xs):
            return claims.over_seeds({s: claims.evaluate("unit5", {"x": x}, {})
                                      for s, x in enumerate(xs)})[0]
        # mean 3, sample sd 1: two sds above the bound, settled
        far = combined(2.0, 3.0, 4.0)
        assert far["holds"] and far["margin_sds"] == pytest.approx(2.0) and far["settled"]
        # every seed holds, but the bound lies inside the seeds' spread: unsettled
        near = combined(1.1, 1.5, 3.0)
        assert near["holds"] and not near["settled"] and 0 < near["margin_sds"] < 2
        assert "unsettled" in claims.markdown_table([near])
        # on the failing side the margin is negative; identical seeds off the bound are settled
        assert combined(0.0, 0.5)["margin_sds"] < 0
        assert combined(5.0, 5.0)["margin_sds"] == "inf"  # JSON keeps no infinities
        assert "margin_sds" not in combined(5.0)  # one seed has no spread
    finally:
        claims.REGISTRY.pop("unit5")


def test_a_verdict_holding_against_its_own_bound_is_refused():
    with pytest.raises(ValueError, match="bound and sense come together"):
        claims.Verdict(1.0, "> 0", True, bound=0.0)

    @claims.claim("unit6", "wrong", "P", "f", "", "x exceeds 1", "> 1")
    def wrong(artifacts, params):
        return claims.Verdict(0.5, "> 1", True, bound=1.0, sense=">")

    try:
        with pytest.raises(ValueError, match="is not > its bound"):
            claims.evaluate("unit6", {}, {})
    finally:
        claims.REGISTRY.pop("unit6")
