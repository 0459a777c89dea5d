"""Gather shard tables into one table, checking that no run is missing or repeated
(the gather rules of minima, noise_scale and generalization)."""

from landscapes.provenance import step
from landscapes.store import load_csv, save_csv

with step(snakemake, __file__):
    rows = [r for path in snakemake.input for r in load_csv(path)]
    keys = [tuple(r[k] for k in snakemake.params.key) for r in rows]
    if len(set(keys)) != len(keys):
        raise ValueError(f"shards overlap: repeated {snakemake.params.key} in the gathered rows")
    if len(rows) != snakemake.params.expected:
        raise ValueError(f"gathered {len(rows)} rows, expected {snakemake.params.expected}")
    save_csv(snakemake.output[0], rows)
