"""Prepare one dataset by name into tensors (rule prepare_data)."""

from landscapes import data
from landscapes.provenance import step

with step(snakemake, __file__):  # noqa: F821
    spec = dict(snakemake.params.spec)  # noqa: F821
    ds = data.prepare(root=snakemake.params.root, name=snakemake.wildcards.dataset, **spec)  # noqa: F821
    ds.save(snakemake.output[0])  # noqa: F821
