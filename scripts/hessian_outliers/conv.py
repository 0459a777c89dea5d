"""Stochastic Lanczos quadrature of conv nets' Hessians, one net trained on each class count k
(rule hessian_outliers_conv)."""

from landscapes import hessian_outliers, train
from landscapes.data import Dataset
from landscapes.provenance import step
from landscapes.store import save_csv, save_npz

with step(snakemake, __file__), train.divergence_hint("lower hessian_outliers.conv.train.lr"):
    p = snakemake.params
    data = Dataset.load(snakemake.input.data)
    rows, arrays = [], {}
    for k in p.classes:
        row, density = hessian_outliers.conv_density(p.model, p.train, data, k, p.seed,
                                                     p.slq["steps"], p.slq["n_probes"])
        rows.append(row)
        arrays[f"nodes_k{k}"] = density.nodes.numpy()
        arrays[f"weights_k{k}"] = density.weights.numpy()
    save_npz(snakemake.output.densities, **arrays)
    save_csv(snakemake.output.nets, rows)
