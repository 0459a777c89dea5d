"""Train the MLPs whose trajectories seed the critical-point search (rule saddles_train)."""

import torch

from landscapes import train
from landscapes.data import Dataset
from landscapes.progress import Progress
from landscapes.provenance import step
from landscapes.store import save_csv, save_tensors

with step(snakemake, __file__), train.divergence_hint("lower saddles.train.lr"):
    p = snakemake.params
    data = Dataset.load(snakemake.input.data)
    cfg = train.TrainConfig.from_config({**p.train, "trajectory_every": 1,
                                         "weight_decay": p.weight_decay})
    params, rows = [], []
    for run in Progress.over(range(p.n_runs), "saddles training runs"):
        seed = p.seed * p.n_runs + run  # replicate seeds share no run
        model = train.init_model(p.model, data, seed)
        result = train.train(model, data, cfg, seed, name=f"saddles_train run {run}")
        params.append(torch.stack(result.trajectory))
        rows += [{"run": run, **r} for r in result.metrics]
    save_tensors(snakemake.output.trajectories, {
        "params": torch.stack(params), "epochs": torch.tensor(result.trajectory_epochs)})
    save_csv(snakemake.output.metrics, rows)
