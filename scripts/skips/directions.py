"""Directions of one trained model: two random and one slice direction, and the PCA plane of
its training trajectory (rule skips_directions)."""

from landscapes import directions, train
from landscapes.data import Dataset
from landscapes.params import Layout, vector
from landscapes.provenance import step
from landscapes.store import save_tensors
from landscapes.train import load_trajectory

with step(snakemake, __file__):
    p = snakemake.params
    data = Dataset.load(snakemake.input.data)
    model = train.load_trained(p.spec, data, p.seed, snakemake.input.model).eval()
    s = dict(p.settings)
    plane = directions.random_directions(model, p.seed, 2, **s)
    line = directions.random_direction(model, p.seed + 1, **s)  # its own seed: a new direction
    trajectory, epochs = load_trajectory(snakemake.input.trajectory)
    mask = ~Layout.of(model).bias_bn_mask() if s["ignore_bias_bn"] else None
    pca = directions.pca_directions(trajectory, vector(model), 2, mask)
    save_tensors(snakemake.output[0], {
        "random": plane, "slice": line, "pca": pca.directions,
        "pca_explained_variance_ratio": pca.explained_variance_ratio,
        "pca_coordinates": pca.coordinates, "trajectory_epochs": epochs,
    }, {"random_seed": p.seed, "slice_seed": p.seed + 1, **s})
