"""Keskar et al. 2017's sharpness (Metric 2.1) of a user's model on its training set, full
space and a random subspace, for each box size (rule user_sharpness)."""

import logging

from landscapes import user
from landscapes.data import Dataset
from landscapes.provenance import step
from landscapes.sharpness import model_sharpness
from landscapes.store import save_json

log = logging.getLogger(__name__)

with step(snakemake, __file__):
    p = snakemake.params
    c = p.sharpness
    data = Dataset.load(snakemake.input.data)
    model = user.load(p.spec, data, p.spec["where"])  # on the CPU: L-BFGS-B runs in NumPy
    n = c["n_samples"] or len(data.y_train)
    results = []
    for eps in c["eps"]:
        for dim in [None if space == "full" else c["subspace_dim"] for space in c["spaces"]]:
            r = model_sharpness(model, data.x_train[:n], data.y_train[:n], eps, dim,
                                seed=p.seed, maxiter=c["maxiter"],
                                name=f"user_sharpness {snakemake.wildcards.user_model} "
                                     f"seed {p.seed}")
            log.info("eps %g %s: phi %.4g (%s)", eps, r.space, r.phi, r.message)
            results.append(r.as_dict())
    save_json(snakemake.output[0], {"model": snakemake.wildcards.user_model, "seed": p.seed,
                                    "n_samples": n, "bn_mode": "eval (running statistics)",
                                    "sharpness": results})
