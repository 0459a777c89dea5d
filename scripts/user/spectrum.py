"""The Hessian eigenvalue density of a user's model at its checkpoint, by stochastic Lanczos
quadrature, and the extreme Ritz values (rule user_spectrum)."""

import numpy as np

from landscapes import user
from landscapes.data import Dataset
from landscapes.hessian import slq_density
from landscapes.params import FlatModel
from landscapes.provenance import step
from landscapes.store import save_npz
from landscapes.surface import hessian_matvec

with step(snakemake, __file__) as s:
    p = snakemake.params
    c = p.spectrum
    data = Dataset.load(snakemake.input.data)
    model = user.load(p.spec, data, p.spec["where"]).to(s.device)
    n = c["n_samples"] or len(data.y_train)  # the prepared split is shuffled: a random subset
    flat = FlatModel(model, mode="eval")
    x, y = data.x_train[:n].to(s.device), data.y_train[:n].to(s.device)
    matvec = hessian_matvec(flat, flat.theta0, x, y)
    density = slq_density(matvec, flat.dim, c["lanczos_steps"], c["probes"], p.seed,
                          device=s.device, name=f"user_spectrum {snakemake.wildcards.user_model} "
                          f"seed {p.seed}: the Hessian spectrum at the checkpoint")
    grid, curve = density.curve(c["bandwidth"], c["points"])
    save_npz(snakemake.output[0], nodes=density.nodes.numpy(), weights=density.weights.numpy(),
             grid=grid, density=curve, lambda_min=np.float64(density.nodes.min()),
             lambda_max=np.float64(density.nodes.max()),
             trace=np.float64(flat.dim * density.moment(1)), dim=np.int64(flat.dim),
             n_samples=np.int64(n))
