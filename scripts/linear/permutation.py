"""Permute the trained MLP's hidden units and walk the line between (rule linear_permutation)."""

from landscapes import linear, train
from landscapes.data import Dataset
from landscapes.provenance import step
from landscapes.store import save_npz

with step(snakemake, __file__), train.divergence_hint("lower linear.permutation.train.lr"):
    p = snakemake.params
    data = Dataset.load(snakemake.input.data)
    model = train.load_trained(p.model, data, p.seed, snakemake.input.model)
    # float64 so that "the same loss" is tested well below float32 rounding
    model = model.double()
    x, y = data.x_train.double(), data.y_train
    save_npz(snakemake.output[0], **linear.permutation_experiment(
        model, x, y, p.n_alpha, p.seed, name=f"linear_permutation seed {p.seed}"))
