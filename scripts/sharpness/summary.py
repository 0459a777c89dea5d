"""Gather the sharpness measurements into the summary, table (Keskar Tables 2-4) and the
sweep record (rule sharpness_summary)."""

from pathlib import Path

from landscapes.provenance import atomic_path, step
from landscapes.sharpness import summarize
from landscapes.store import load_json, save_csv, save_json

with step(snakemake, __file__):
    p, i, o = snakemake.params, snakemake.input, snakemake.output
    measures = [load_json(path) for path in i.measures]
    summary = summarize(measures, list(p.keskar), list(p.eps), dict(p.sb), dict(p.lb),
                        dict(p.sweep))
    save_json(o.json, summary)
    save_csv(o.csv, summary["table"])
    with atomic_path(o.md) as tmp:
        Path(tmp).write_text(summary["table_md"])
