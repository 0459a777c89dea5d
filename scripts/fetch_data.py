"""Download a torchvision source's raw files where missing and verify their checksums, writing
the receipt the preparation checks them against (rule fetch_data, on the submitting host)."""

from landscapes import data
from landscapes.provenance import step
from landscapes.store import save_json

with step(snakemake, __file__):
    p = snakemake.params
    receipt = data.fetch(p.source, p.root, snakemake.input.get("checksums"))
    save_json(snakemake.output[0], {"source": p.source, "root": p.root, "files": receipt})
