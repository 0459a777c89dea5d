"""One tile of a Hessian non-convexity map: extreme eigenvalues on a coarse grid over the
plane of the contour plot (rule skips_hessian_tile)."""

from landscapes import train
from landscapes.data import Dataset
from landscapes.provenance import step
from landscapes.store import load_tensors
from landscapes.surface import nonconvexity_tile, square_grid

with step(snakemake, __file__) as s, train.divergence_hint("lower skips.surface.extent"):
    p = snakemake.params
    h = p.hessian
    data = Dataset.load(snakemake.input.data)
    model = train.load_trained(p.spec, data, p.seed, snakemake.input.model)
    model = model.eval().to(s.device)
    d, _ = load_tensors(snakemake.input.directions)
    grid = square_grid(p.extent, h["points"])
    start, stop = grid.rows(p.tile, h["tiles"])
    surface = nonconvexity_tile(model, d["random"], grid, start, stop, data, h["n_samples"],
                                h["lanczos_steps"], p.seed,
                                name=f"skips_hessian_tile {snakemake.wildcards.skips_model} "
                                     f"seed {p.seed} tile {p.tile}")
    surface.save(snakemake.output[0])
