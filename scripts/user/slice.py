"""A 1D filter-normalized slice of a user's model: train and test loss and accuracy (rule
user_slice)."""

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
    e, n = p.slice["extent"], p.slice["points"]
    grid = Grid.linspace(alpha=(-e, e, n))
    ev = Evaluator(model, d["slice"], over=p.over, bn=p.bn_policy,
                   points_per_pass=p.surface["points_per_pass"], chunk=p.surface["chunk"],
                   bn_inputs=data.x_train)
    surface = evaluate_tile(ev, grid, 0, n, (data.x_train, data.y_train),
                            (data.x_test, data.y_test),
                            name=f"user_slice {snakemake.wildcards.user_model} seed "
                                 f"{snakemake.wildcards.seed}")
    surface.meta = {"over": p.over, "bn_policy": p.bn_policy}
    surface.save(snakemake.output[0])
