"""Evaluate one experiment's claims from its artifacts (rules <experiment>_claims)."""

from landscapes import claims
from landscapes.provenance import step
from landscapes.store import save_json

with step(snakemake, __file__):  # noqa: F821
    artifacts = {k: v for k, v in snakemake.input.items()}  # noqa: F821
    records = claims.evaluate(snakemake.params.experiment, artifacts,  # noqa: F821
                              dict(snakemake.params.settings))  # noqa: F821
    save_json(snakemake.output[0], records)  # noqa: F821
