"""The linear experiment's loss grids as VTK structured grids and one interactive HTML page
(rule linear_viewer)."""

from pathlib import Path

from landscapes import viewers
from landscapes.provenance import step
from landscapes.store import load_npz

with step(snakemake, __file__):
    out = snakemake.output
    panels = viewers.linear_panels(load_npz(snakemake.input[0]))
    for (key, _, _), panel, path in zip(viewers.LINEAR_GRIDS, panels, out.vts, strict=True):
        if not Path(path).stem.endswith(key):
            raise ValueError(f"output {path} is not the grid '{key}'")
        viewers.write_vts(path, panel.surface, height="loss")
    viewers.write_html(out.html, panels, viewers.linear_title(int(snakemake.wildcards.seed)))
