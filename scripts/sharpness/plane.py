"""A 2D filter-normalized plane around one minimizer (Li et al. 2018 Fig. 3, bottom row;
rule sharpness_plane)."""

from landscapes import train
from landscapes.data import Dataset
from landscapes.provenance import step
from landscapes.sharpness import filter_normalized_plane

with step(snakemake, __file__) as s, train.divergence_hint("lower sharpness.li.extent"):
    p, w = snakemake.params, snakemake.wildcards
    data = Dataset.load(snakemake.input.data)
    model = train.load_trained(dict(p.model), data, p.seed, snakemake.input.model)
    model = model.to(s.device)
    surface = filter_normalized_plane(model, p.seed, p.extent, p.points, data,
                                      name=f"sharpness_plane {w.net} batch {w.batch} wd {w.wd} "
                                           f"seed {w.seed}")
    surface.meta.update(network=w.net, batch_size=int(w.batch), weight_decay=float(w.wd),
                        seed=p.seed)
    surface.save(snakemake.output[0])
