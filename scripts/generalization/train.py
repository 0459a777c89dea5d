"""Train and measure the nets of one width and batch size over the rest of the grid, side by
side where the architecture allows (rule generalization_train). The group's first net (the
grid's first value of every other hyperparameter) is also measured after Dinh et al.'s
rescaling."""

from landscapes import flatness, population, train
from landscapes.data import Dataset
from landscapes.provenance import step
from landscapes.store import save_csv

with step(snakemake, __file__), train.divergence_hint("lower generalization.grid.learning_rate"):
    p = snakemake.params
    data = Dataset.load(snakemake.input.data)
    w = snakemake.wildcards
    points = [q for q in population.grid_points(p.grid)
              if str(q["width"]) == w.width and str(q["batch_size"]) == w.batch]
    rows = population.train_and_measure_group(
        p.model, p.train, points, data, p.seed, p.measures, flatness.MEASURES, p.rescale,
        name=f"generalization width {w.width} B {w.batch} seed {p.seed}")
    save_csv(snakemake.output[0], rows)
