"""Hessians at the origin and gradient descent from small weights (rule linear_saddle)."""

from landscapes import linear, train
from landscapes.provenance import step
from landscapes.store import save_npz

with step(snakemake, __file__), train.divergence_hint("lower linear.saddle.lr"):
    p = snakemake.params
    save_npz(snakemake.output[0], **linear.saddle_experiment(
        seed=p.seed, name=f"linear_saddle seed {p.seed}", **p.settings))
