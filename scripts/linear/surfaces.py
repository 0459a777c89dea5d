"""Grids of the 2-3-1 bowl, the 1-1-1 chain and the weight slices (rule linear_surfaces)."""

from landscapes import linear, train
from landscapes.provenance import step
from landscapes.store import save_npz

with step(snakemake, __file__), train.divergence_hint("lower linear.surfaces.fit_lr"):
    p = snakemake.params
    save_npz(snakemake.output[0], **linear.surfaces(
        seed=p.seed, name=f"linear_surfaces seed {p.seed}", **p.settings))
