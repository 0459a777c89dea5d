"""Rescale a trained ReLU net's layer by a and the next by 1/a (Dinh et al.;
rule sharpness_reparam)."""

from landscapes import train
from landscapes.data import Dataset
from landscapes.provenance import step
from landscapes.sharpness import reparametrization_sweep
from landscapes.store import save_npz

with step(snakemake, __file__) as s, train.divergence_hint("narrow sharpness.reparam.factors"):
    p = snakemake.params
    settings = p.settings
    data = Dataset.load(snakemake.input.data)
    model = train.load_trained(dict(p.model), data, p.seed, snakemake.input.model)
    model = model.to(s.device)
    result = reparametrization_sweep(model, data.x_train, data.y_train,
                                     list(settings["factors"]), settings["layer"],
                                     settings["eps"], settings["lanczos_steps"], seed=p.seed,
                                     name=f"sharpness_reparam seed {p.seed}")
    save_npz(snakemake.output[0], **result)
