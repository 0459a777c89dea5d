"""A 1D filter-normalized slice: train and test loss and accuracy (rule skips_slice)."""

from landscapes import train
from landscapes.data import Dataset
from landscapes.provenance import step
from landscapes.store import load_tensors
from landscapes.surface import Grid, directions_tile

with step(snakemake, __file__) as s, train.divergence_hint("lower skips.slice.extent"):
    p = snakemake.params
    data = Dataset.load(snakemake.input.data)
    model = train.load_trained(p.spec, data, p.seed, snakemake.input.model)
    model = model.eval().to(s.device)
    d, _ = load_tensors(snakemake.input.directions)
    e, n = p.slice["extent"], p.slice["points"]
    surface = directions_tile(model, d["slice"], Grid.linspace(alpha=(-e, e, n)), 0, n, data,
                              p.over, p.bn_policy, p.surface["points_per_pass"],
                              p.surface["chunk"], test=True,
                              name=f"skips_slice {snakemake.wildcards.skips_model} seed {p.seed}")
    surface.save(snakemake.output[0])
