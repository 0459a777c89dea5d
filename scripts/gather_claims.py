"""Gather every experiment's claims into the run's claims table (rule gather_claims):
claims.json for machines, claims.md for the README, claims.html for the report."""

from pathlib import Path

from landscapes import claims, report
from landscapes.provenance import atomic_path, step
from landscapes.store import load_json, save_json

with step(snakemake, __file__):
    paths = list(snakemake.input)
    records = [r for path in paths for r in load_json(path)]
    made = report.stamp(paths)
    run = snakemake.params.run_name
    save_json(snakemake.output.json, records)
    with atomic_path(snakemake.output.md) as tmp:
        Path(tmp).write_text(f"# Claims: run `{run}`\n\n{made[0].upper()}{made[1:]}.\n\n"
                             + claims.markdown_table(records))
    with atomic_path(snakemake.output.html) as tmp:
        Path(tmp).write_text(report.claims_html(records, f"Claims: run {run}", made))
