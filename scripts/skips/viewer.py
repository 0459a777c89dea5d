"""One 2D surface as a VTK structured grid and an interactive HTML page (rule skips_viewer)."""

from landscapes import viewers
from landscapes.provenance import step
from landscapes.surface import Surface

with step(snakemake, __file__):
    w, out = snakemake.wildcards, snakemake.output
    surface = Surface.load(snakemake.input[0])
    title = viewers.skips_title(w.skips_model, w.plane, int(w.seed))
    viewers.write_vts(out.vts, surface, height="train_loss")
    viewers.write_html(out.html, [viewers.Panel(title, surface, "train_loss")], title)
