"""A deep autoencoder trained with momentum SGD until its loss plateaus, then switched to
saddle-free Newton, beside momentum SGD continued (rule saddles_autoencoder; paper Fig. 4)."""

import math

import torch

from landscapes import autoencoder, models, train
from landscapes.data import Dataset
from landscapes.provenance import step
from landscapes.store import save_npz

with step(snakemake, __file__), train.divergence_hint(
        "lower saddles.autoencoder.train.lr (momentum SGD) or raise "
        "saddles.autoencoder.switch.dampings (saddle-free Newton)"):
    p = snakemake.params
    a, t, sw = p.autoencoder, p.autoencoder["train"], p.autoencoder["switch"]
    data = Dataset.load(snakemake.input.data)
    torch.manual_seed(p.seed)  # the initialization; the data order is drawn from the seed too
    model = models.autoencoder(math.prod(data.input_shape), a["model"]["hidden"],
                               a["model"]["activation"])
    problem = autoencoder.reconstruction_problem(model, data.x_train, a["weight_decay"])
    name = f"saddles_autoencoder seed {p.seed}"
    msgd = autoencoder.msgd_epochs(problem.mse, problem.n, problem.theta0, t["lr"],
                                   t["momentum"], t["batch_size"], a["weight_decay"], p.seed,
                                   name=f"{name} momentum SGD")
    result = autoencoder.switch_run(problem, msgd, t["epochs"], sw["window"], sw["rel_tol"],
                                    sw["epochs"], sw["methods"], sw["dampings"],
                                    sw["krylov_dim"], name=name,
                                    lanczos_steps=sw["lanczos_steps"])
    save_npz(snakemake.output[0], **autoencoder.switch_arrays(result))
