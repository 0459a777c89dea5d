"""Prepare one dataset by name into tensors (rule prepare_data)."""

from landscapes import data
from landscapes.provenance import step

with step(snakemake, __file__):
    spec = dict(snakemake.params.spec)
    ds = data.prepare(root=snakemake.params.root, name=snakemake.wildcards.dataset, **spec)
    ds.save(snakemake.output[0])
