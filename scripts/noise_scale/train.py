"""Train and measure the runs of one batch size, one per learning rate (rule
noise_scale_train)."""

from landscapes import population, train
from landscapes.data import Dataset
from landscapes.provenance import step
from landscapes.store import save_csv

MEASURES = ("lambda_max", "keskar")

with step(snakemake, __file__), train.divergence_hint("lower noise_scale.learning_rates"):
    p = snakemake.params
    data = Dataset.load(snakemake.input.data)
    batch = int(snakemake.wildcards.batch)
    rows = [population.train_and_measure(
        p.model, p.train, {"learning_rate": lr, "batch_size": batch}, data, p.seed,
        p.measures, MEASURES, name=f"noise_scale lr {lr:g} B {batch} seed {p.seed}")
        for lr in p.learning_rates]
    save_csv(snakemake.output[0], rows)
