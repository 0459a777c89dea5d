"""Exact Hessian spectra of one-hidden-layer MLPs, one trained on each class count k (rule
hessian_outliers_mlp)."""

from landscapes import hessian_outliers, train
from landscapes.data import Dataset
from landscapes.provenance import step
from landscapes.store import save_csv, save_npz

with step(snakemake, __file__), train.divergence_hint("lower hessian_outliers.mlp.train.lr"):
    p = snakemake.params
    data = Dataset.load(snakemake.input.data)
    rows, spectra = [], {}
    for k in p.classes:
        row, eigenvalues = hessian_outliers.mlp_spectrum(p.model, p.train, data, k, p.seed)
        rows.append(row)
        spectra[f"k{k}"] = eigenvalues
    save_npz(snakemake.output.spectra, **spectra)
    save_csv(snakemake.output.nets, rows)
