"""Gather every experiment's claims into the run's claims table (rule gather_claims):
claims.json for machines, claims.md for the README, claims.html for the report."""

from pathlib import Path

from landscapes import claims, report
from landscapes.provenance import atomic_path, step
from landscapes.store import load_json, save_json

with step(snakemake, __file__):  # noqa: F821
    paths = list(snakemake.input)  # noqa: F821
    records = [r for path in paths for r in load_json(path)]
    made = report.stamp(paths)
    run = snakemake.params.run_name  # noqa: F821
    save_json(snakemake.output.json, records)  # noqa: F821
    with atomic_path(snakemake.output.md) as tmp:  # noqa: F821
        Path(tmp).write_text(f"# Claims: run `{run}`\n\n{made[0].upper()}{made[1:]}.\n\n"
                             + claims.markdown_table(records))
    with atomic_path(snakemake.output.html) as tmp:  # noqa: F821
        Path(tmp).write_text(report.claims_html(records, f"Claims: run {run}", made))
