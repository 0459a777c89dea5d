import numpy as np
import pytest

from landscapes import claims


@pytest.fixture
def unit_claims():
    @claims.claim("unit", "positive", "Paper 2000", "Fig. 1", "x is positive", "> 0")
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
    table = claims.markdown_table(good + bad)
    assert "| holds |" in table and "| **fails** |" in table and "1 of 2 claims hold" in table


def test_non_boolean_verdict_is_an_error():
    @claims.claim("unit2", "sloppy", "P", "F", "s", "v")
    def sloppy(artifacts, params):
        return claims.Verdict(1.0, "> 0", np.bool_(True))

    try:
        with pytest.raises(TypeError, match="non-boolean"):
            claims.evaluate("unit2", {}, {})
    finally:
        claims.REGISTRY.pop("unit2")


def test_unknown_experiment_has_no_claims():
    with pytest.raises(ModuleNotFoundError):
        claims.evaluate("no_such_experiment", {}, {})
