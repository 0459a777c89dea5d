"""Full-batch GD on one architecture at each of its step sizes, the loss at every step and the
sharpness every k steps (rule edge_of_stability_train)."""

import torch

from landscapes import edge_of_stability, train
from landscapes.data import Dataset
from landscapes.provenance import step
from landscapes.store import save_csv

with step(snakemake, __file__) as s, train.divergence_hint(
        "raise edge_of_stability.architectures.<arch>.edges (smaller step sizes)"):
    p = snakemake.params
    data = Dataset.load(snakemake.input.data)
    rows = edge_of_stability.runs(
        p.arch["model"], data, p.arch["edges"], p.arch["steps"], p.arch["every"],
        p.sharpness["lanczos_steps"], p.sharpness.get("first_lanczos_steps", 30), p.seed,
        getattr(torch, p.dtype), f"edge_of_stability {snakemake.wildcards.arch} seed {p.seed}",
        s.device)
    save_csv(snakemake.output[0], [{"arch": snakemake.wildcards.arch, "seed": p.seed, **r}
                                   for r in rows])
