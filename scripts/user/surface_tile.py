"""One tile (a block of grid rows) of a user's model's 2D loss surface (rule
user_surface_tile)."""

from landscapes import user
from landscapes.data import Dataset
from landscapes.provenance import step
from landscapes.store import load_tensors
from landscapes.surface import directions_tile, square_grid

with step(snakemake, __file__) as s:
    p = snakemake.params
    data = Dataset.load(snakemake.input.data)
    model = user.load(p.spec, data, p.spec["where"]).to(s.device)
    d, _ = load_tensors(snakemake.input.directions)
    grid = square_grid(p.surface["extent"], p.surface["points"])
    start, stop = grid.rows(p.tile, p.surface["tiles"])
    surface = directions_tile(model, d["random"], grid, start, stop, data, p.over, p.bn_policy,
                              p.surface["points_per_pass"], p.surface["chunk"],
                              name=f"user_surface_tile {snakemake.wildcards.user_model} seed "
                                   f"{snakemake.wildcards.seed} tile {p.tile}")
    surface.save(snakemake.output[0])
