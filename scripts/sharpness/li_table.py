"""Li et al.'s minimizers over the replicate seeds: final training loss and accuracy, test
error and weight norm per weight decay and batch size (rule sharpness_li_table)."""

from pathlib import Path

from landscapes.provenance import atomic_path, step
from landscapes.sharpness import li_table, li_table_markdown
from landscapes.store import load_json, save_csv, save_json

with step(snakemake, __file__):
    p, o = snakemake.params, snakemake.output
    rows = li_table([load_json(path) for path in snakemake.input.runs], int(p.sb))
    save_json(o.json, {"network": p.network, "table": rows})
    save_csv(o.csv, [{k: v for k, v in r.items() if k != "seeds"} for r in rows])
    with atomic_path(o.md) as tmp:
        Path(tmp).write_text(li_table_markdown(rows))
