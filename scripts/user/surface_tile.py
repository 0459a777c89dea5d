"""One tile (a block of grid rows) of a user's model's 2D loss surface (rule
user_surface_tile)."""

from landscapes import user
from landscapes.data import Dataset
from landscapes.provenance import step
from landscapes.store import load_tensors
from landscapes.surface import Evaluator, Grid, evaluate_tile

with step(snakemake, __file__) as s:
    p = snakemake.params
    data = Dataset.load(snakemake.input.data)
    model = user.load(p.spec, data, p.spec["where"]).to(s.device)
    d, _ = load_tensors(snakemake.input.directions)
    e, (na, nb) = p.surface["extent"], p.surface["points"]
    grid = Grid.linspace(alpha=(-e, e, na), beta=(-e, e, nb))
    start, stop = grid.rows(p.tile, p.surface["tiles"])
    ev = Evaluator(model, d["random"], over=p.over, bn=p.bn_policy,
                   points_per_pass=p.surface["points_per_pass"], chunk=p.surface["chunk"],
                   bn_inputs=data.x_train)
    surface = evaluate_tile(ev, grid, start, stop, (data.x_train, data.y_train),
                            name=f"user_surface_tile {snakemake.wildcards.user_model} seed "
                                 f"{snakemake.wildcards.seed} tile {p.tile}")
    surface.meta = {"over": p.over, "bn_policy": p.bn_policy}
    surface.save(snakemake.output[0])
