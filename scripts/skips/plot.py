"""Draw one skips figure from its surfaces and maps (rule skips_plot)."""

from landscapes.figures import skips as figures
from landscapes.plotting import save_figure
from landscapes.provenance import step

with step(snakemake, __file__) as s:  # noqa: F821
    draw = getattr(figures, snakemake.params.figure)  # noqa: F821
    fig = draw(dict(snakemake.input.items()), list(snakemake.params.depths))  # noqa: F821
    save_figure(fig, snakemake.output.png, snakemake.output.pdf, s.figure_metadata())  # noqa: F821
