"""Evaluate one experiment's claims for one replicate seed from its artifacts (rule claims)."""

from landscapes import claims
from landscapes.experiment import as_inputs
from landscapes.provenance import step
from landscapes.store import save_json

with step(snakemake, __file__):
    p = snakemake.params
    records = claims.evaluate(p.experiment, as_inputs(snakemake.input), dict(p.settings))
    save_json(snakemake.output[0], records)
