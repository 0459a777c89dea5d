"""A 1D filter-normalized slice of a user's model: train and test loss and accuracy (rule
user_slice)."""

from landscapes import user
from landscapes.data import Dataset
from landscapes.provenance import step
from landscapes.store import load_tensors
from landscapes.surface import Grid, directions_tile

with step(snakemake, __file__) as s:
    p = snakemake.params
    data = Dataset.load(snakemake.input.data)
    model = user.load(p.spec, data, p.spec["where"]).to(s.device)
    d, _ = load_tensors(snakemake.input.directions)
    e, n = p.slice["extent"], p.slice["points"]
    surface = directions_tile(model, d["slice"], Grid.linspace(alpha=(-e, e, n)), 0, n, data,
                              p.over, p.bn_policy, p.surface["points_per_pass"],
                              p.surface["chunk"], test=True,
                              name=f"user_slice {snakemake.wildcards.user_model} seed "
                                   f"{snakemake.wildcards.seed}")
    surface.save(snakemake.output[0])
