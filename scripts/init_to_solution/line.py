"""Train one net from its seed's initialization, then walk the line from the initialization
to the solution and the plane of its path (rule init_to_solution_line)."""

import numpy as np
import torch

from landscapes import init_to_solution, train
from landscapes.data import Dataset
from landscapes.provenance import step
from landscapes.store import save_npz

with step(snakemake, __file__) as s, train.divergence_hint(
        f"lower init_to_solution.nets.{snakemake.wildcards.net}.train.lr"):
    p = snakemake.params
    data = Dataset.load(snakemake.input.data)
    name = f"init_to_solution {snakemake.wildcards.net} seed {p.seed}"
    model = train.init_model(p.net["model"], data, p.seed)
    # the path: every epoch's parameters, the initialization first
    cfg = train.TrainConfig.from_config({**p.net["train"], "trajectory_every": 1})
    result = train.train(model, data, cfg, p.seed, name=name, device=s.device)
    trajectory = torch.stack(result.trajectory)  # its last row: where training stopped
    out = init_to_solution.line_and_plane(
        train.init_model(p.net["model"], data, p.seed).to(s.device), trajectory, data,
        np.linspace(p.alphas["low"], p.alphas["high"], p.alphas["points"]), p.plane["points"],
        p.plane["margin"], name=name)
    last = result.metrics[-1]
    save_npz(snakemake.output[0], **out, epochs=np.array(last["epoch"]),
             final_train_loss=np.array(last["train_loss"]),
             final_train_acc=np.array(last["train_acc"]),
             final_test_acc=np.array(last["test_acc"]),
             reached_target=np.array(cfg.reached_target(last["train_loss"])))
