"""Draw one figure of any experiment from its artifacts (rule plot)."""

import importlib

from landscapes.experiment import as_inputs
from landscapes.plotting import save_figure
from landscapes.provenance import step

with step(snakemake, __file__) as s:
    p = snakemake.params
    draw = getattr(importlib.import_module(f"landscapes.figures.{p.experiment}"), p.figure)
    fig = draw(as_inputs(snakemake.input), dict(p.settings))
    save_figure(fig, snakemake.output.png, snakemake.output.pdf, s.figure_metadata())
