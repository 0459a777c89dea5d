"""One experiment's claims as a report page, shown beside its figures (rule claims_page)."""

from pathlib import Path

from landscapes import report
from landscapes.provenance import atomic_path, step
from landscapes.store import load_json

with step(snakemake, __file__):
    path = snakemake.input[0]
    page = report.claims_html(load_json(path), snakemake.params.title,
                              report.stamp([path]))
    with atomic_path(snakemake.output[0]) as tmp:
        Path(tmp).write_text(page)
