"""One tile (a block of grid rows) of a 2D loss surface (rule skips_surface_tile)."""

from landscapes import train
from landscapes.data import Dataset
from landscapes.provenance import step
from landscapes.store import load_tensors
from landscapes.surface import directions_tile, grid_around, square_grid

with step(snakemake, __file__) as s, train.divergence_hint(
        "lower skips.surface.extent" if snakemake.params.plane == "random"
        else "lower skips.trajectory.margin"):
    p = snakemake.params
    data = Dataset.load(snakemake.input.data)
    model = train.load_trained(p.spec, data, p.seed, snakemake.input.model)
    model = model.eval().to(s.device)
    d, _ = load_tensors(snakemake.input.directions)
    if p.plane == "random":
        grid, over = square_grid(p.surface["extent"], p.surface["points"]), p.over
    else:  # the trajectory's PCA plane; trajectories hold parameters only
        grid = grid_around(d["pca_coordinates"].numpy(), p.trajectory["margin"],
                           p.trajectory["points"])
        over = "parameters"
    start, stop = grid.rows(p.tile, p.n_tiles)
    surface = directions_tile(model, d[p.plane], grid, start, stop, data, over, p.bn_policy,
                              p.surface["points_per_pass"], p.surface["chunk"],
                              name=f"skips_surface_tile {snakemake.wildcards.skips_model} "
                                   f"{p.plane} seed {p.seed} tile {p.tile}",
                              plane=p.plane)
    surface.save(snakemake.output[0])
