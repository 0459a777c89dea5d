"""Combine one experiment's per-seed claims into "holds in k of n seeds" (rule
claims_over_seeds)."""

from landscapes import claims
from landscapes.provenance import step
from landscapes.store import load_json, save_json

with step(snakemake, __file__):
    per_seed = {int(seed): load_json(path)
                for seed, path in zip(snakemake.params.seeds, snakemake.input)}
    save_json(snakemake.output[0], claims.over_seeds(per_seed))
