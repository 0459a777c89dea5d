"""Prepare one dataset by name into tensors (rule prepare_data)."""

from landscapes import data
from landscapes.provenance import step
from landscapes.store import load_json

with step(snakemake, __file__):
    spec = dict(snakemake.params.spec)
    receipt = snakemake.input.get("receipt")
    receipt = load_json(receipt)["files"] if receipt else None
    ds = data.prepare(root=snakemake.params.root, name=snakemake.wildcards.dataset,
                      receipt=receipt, **spec)
    ds.save(snakemake.output[0])
