"""Momentum SGD vs damped Newton vs saddle-free Newton (exact and Krylov) at one hidden size,
from one initialization, for equally many epochs (rule saddles_compare)."""

import numpy as np

from landscapes import critical, train
from landscapes.data import Dataset
from landscapes.provenance import step
from landscapes.store import save_npz

with step(snakemake, __file__), train.divergence_hint(
        "lower saddles.train.lr (momentum SGD) or raise saddles.compare.dampings (Newton)"):
    p = snakemake.params
    c = p.compare
    data = Dataset.load(snakemake.input.data)
    spec = {**p.model, "hidden": [p.hidden]}
    model = train.init_model(spec, data, p.seed)
    sgd = train.TrainConfig.from_config(p.train)
    runs = critical.compare_optimizers(
        model, data, p.weight_decay, sgd, p.seed, c["epochs"], c["dampings"], c["krylov_dim"],
        name=f"saddles_compare seed {p.seed} hidden {p.hidden}")
    arrays = {}
    for method, hist in runs.items():
        arrays.update(critical.history_arrays(hist, method))
    save_npz(snakemake.output[0], hidden=np.array(p.hidden),
             n_train=np.array(len(data.y_train)), **arrays)
