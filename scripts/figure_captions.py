"""Every figure's caption with the verdicts of its claims, as the one caption file the figure
rule's `report(caption=...)` names (rule figure_captions)."""

from pathlib import Path

from landscapes import report
from landscapes.provenance import atomic_path, step
from landscapes.store import load_json

with step(snakemake, __file__):
    # params.figures: [experiment, figure, PNG path], in the order of input.captions
    figures = {(e, f): (png, Path(text).read_text()) for (e, f, png), text in zip(
        snakemake.params.figures, snakemake.input.captions, strict=True)}
    claims = {p: load_json(p) for p in snakemake.input.claims}
    template = report.figure_captions(figures, claims)
    with atomic_path(snakemake.output[0]) as tmp:
        Path(tmp).write_text(template)
