"""One tile of a user's model's non-convexity map: extreme Hessian eigenvalues on a coarse
grid over the plane of its surface (rule user_hessian_tile)."""

from landscapes import user
from landscapes.data import Dataset
from landscapes.provenance import step
from landscapes.store import load_tensors
from landscapes.surface import nonconvexity_tile, square_grid

with step(snakemake, __file__) as s:
    p = snakemake.params
    h = p.hessian
    data = Dataset.load(snakemake.input.data)
    model = user.load(p.spec, data, p.spec["where"]).to(s.device)
    d, _ = load_tensors(snakemake.input.directions)
    grid = square_grid(p.extent, h["points"])
    start, stop = grid.rows(p.tile, h["tiles"])
    surface = nonconvexity_tile(model, d["random"], grid, start, stop, data, h["n_samples"],
                                h["lanczos_steps"], p.seed,
                                name=f"user_hessian_tile {snakemake.wildcards.user_model} "
                                     f"seed {p.seed} tile {p.tile}")
    surface.save(snakemake.output[0])
