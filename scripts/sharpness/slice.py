"""A 1D filter-normalized slice around one minimizer (Li et al. 2018 Fig. 3;
rule sharpness_slice)."""

import numpy as np

from landscapes import train
from landscapes.data import Dataset
from landscapes.provenance import step
from landscapes.sharpness import filter_normalized_slice
from landscapes.store import save_npz

with step(snakemake, __file__) as s, train.divergence_hint("lower sharpness.li.extent"):
    p, w = snakemake.params, snakemake.wildcards
    data = Dataset.load(snakemake.input.data)
    model = train.load_trained(dict(p.model), data, p.seed, snakemake.input.model)
    model = model.to(s.device)
    curve = filter_normalized_slice(model, p.seed, p.extent, p.n_points, data.x_train,
                                    data.y_train, data.x_test, data.y_test,
                                    name=f"sharpness_slice {w.net} batch {w.batch} wd {w.wd} "
                                         f"seed {w.seed}")
    save_npz(snakemake.output[0], network=np.array(w.net), batch_size=np.int64(w.batch),
             weight_decay=np.float64(w.wd), seed=np.int64(p.seed), **curve)
