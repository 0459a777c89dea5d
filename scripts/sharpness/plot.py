"""Draw one sharpness figure from its artifacts (rule sharpness_plot)."""

from landscapes.figures import sharpness as figures
from landscapes.plotting import save_figure
from landscapes.provenance import step

with step(snakemake, __file__) as s:  # noqa: F821
    draw = getattr(figures, snakemake.params.figure)  # noqa: F821
    artifacts = {k: (list(v) if not isinstance(v, str) else v)
                 for k, v in snakemake.input.items()}  # noqa: F821
    fig = draw(artifacts)
    save_figure(fig, snakemake.output.png, snakemake.output.pdf, s.figure_metadata())  # noqa: F821
