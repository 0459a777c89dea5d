"""Gather every experiment's claims into the run's claims table (rule gather_claims)."""

from pathlib import Path

from landscapes import claims
from landscapes.provenance import atomic_path, step
from landscapes.store import load_json, save_json

with step(snakemake, __file__):  # noqa: F821
    records = [r for path in snakemake.input for r in load_json(path)]  # noqa: F821
    save_json(snakemake.output.json, records)  # noqa: F821
    with atomic_path(snakemake.output.md) as tmp:  # noqa: F821
        Path(tmp).write_text(f"# Claims: run `{snakemake.params.run_name}`\n\n"  # noqa: F821
                             + claims.markdown_table(records))
