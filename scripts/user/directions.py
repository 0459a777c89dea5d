"""Two random directions (the plane of the surface) and one for the slice, filter-normalized,
for a user's model (rule user_directions)."""

from landscapes import directions, user
from landscapes.data import Dataset
from landscapes.provenance import step
from landscapes.store import save_tensors

with step(snakemake, __file__):
    p = snakemake.params
    data = Dataset.load(snakemake.input.data)
    model = user.load(p.spec, data, p.spec["where"], p.settings["ignore_bias_bn"])
    s = dict(p.settings)
    plane = directions.random_directions(model, p.seed, 2, **s)
    line = directions.random_direction(model, p.seed + 1, **s)  # its own seed: a new direction
    save_tensors(snakemake.output[0], {"random": plane, "slice": line},
                 {"random_seed": p.seed, "slice_seed": p.seed + 1, **s})
