"""Settings for the claim tests: an experiment's config section as the claims rule passes it,
with the `claims:` thresholds filled from the schema's defaults, and every key the test gives
checked against the section's schema (so tests read the settings where the config has them)."""

from __future__ import annotations

import copy
from pathlib import Path

import jsonschema
import yaml

from landscapes import claims

SECTIONS = Path(__file__).resolve().parents[1] / "workflow" / "schemas" / "sections"


def schema(experiment: str) -> dict:
    return yaml.safe_load((SECTIONS / f"{experiment}.schema.yaml").read_text())


def claim_defaults(experiment: str) -> dict:
    return {k: v["default"] for k, v in schema(experiment)["properties"]["claims"]["properties"]
            .items()}


def _check_keys(settings: dict, node: dict, where: str) -> None:
    for key, value in settings.items():
        props = node.get("properties", {})
        assert key in props, f"'{where}{key}' is not a key of the config section"
        if isinstance(value, dict) and "properties" in props[key]:
            _check_keys(value, props[key], f"{where}{key}.")


def section(experiment: str, **settings) -> dict:
    """The section as claims see it: the given settings, and the claims' defaults overridden
    by `claims=` (validated against the schema, so a test cannot use an illegal value)."""
    sec = schema(experiment)
    _check_keys(settings, sec, f"{experiment}.")
    params = copy.deepcopy(settings)
    params["claims"] = {**claim_defaults(experiment), **settings.get("claims", {})}
    jsonschema.validate(params["claims"], sec["properties"]["claims"])
    return params


def verdicts(experiment: str, artifacts: dict, params: dict) -> dict[str, dict]:
    """{claim name: record} from `claims.evaluate`."""
    return {r["id"].split(".", 1)[1]: r for r in claims.evaluate(experiment, artifacts, params)}
