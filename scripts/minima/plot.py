"""Draw one figure of the minima experiment from its gathered table (rule minima_plot)."""

from landscapes.figures import minima as figures
from landscapes.plotting import save_figure
from landscapes.provenance import step
from landscapes.store import load_csv

with step(snakemake, __file__) as s:  # noqa: F821
    draw = getattr(figures, snakemake.params.figure)  # noqa: F821
    fig = draw(load_csv(snakemake.input[0]))  # noqa: F821
    save_figure(fig, snakemake.output.png, snakemake.output.pdf, s.figure_metadata())  # noqa: F821
