"""One experiment's claims as a report page, shown beside its figures (rule claims_page)."""

from pathlib import Path

from landscapes import report
from landscapes.provenance import atomic_path, step
from landscapes.store import load_json

with step(snakemake, __file__):  # noqa: F821
    path = snakemake.input[0]  # noqa: F821
    page = report.claims_html(load_json(path), snakemake.params.title,  # noqa: F821
                              report.stamp([path]))
    with atomic_path(snakemake.output[0]) as tmp:  # noqa: F821
        Path(tmp).write_text(page)
