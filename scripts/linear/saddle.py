"""Hessians at the origin and gradient descent from small weights (rule linear_saddle)."""

from landscapes import linear
from landscapes.provenance import step
from landscapes.store import save_npz

with step(snakemake, __file__):
    p = snakemake.params
    save_npz(snakemake.output[0], **linear.saddle_experiment(seed=p.seed, **p.settings))
