"""Draw one saddle-point figure from its measurements (rules saddles_plot)."""

from landscapes.figures import saddles as figures
from landscapes.plotting import save_figure
from landscapes.provenance import step
from landscapes.store import load_npz

with step(snakemake, __file__) as s:  # noqa: F821
    p = snakemake.params  # noqa: F821
    draw = getattr(figures, p.figure)
    fig = draw(load_npz(snakemake.input[0]), **p.settings)  # noqa: F821
    save_figure(fig, snakemake.output.png, snakemake.output.pdf, s.figure_metadata())  # noqa: F821
