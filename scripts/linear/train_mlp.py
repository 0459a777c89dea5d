"""Train the one-hidden-layer MLP whose hidden units get permuted (rule linear_train_mlp)."""

from landscapes import train
from landscapes.data import Dataset
from landscapes.provenance import step
from landscapes.store import save_csv

with step(snakemake, __file__), train.divergence_hint("lower linear.permutation.train.lr"):
    p = snakemake.params
    data = Dataset.load(snakemake.input.data)
    model = train.init_model(p.model, data, p.seed)
    result = train.train(model, data, train.TrainConfig.from_config(p.train), p.seed,
                         name="linear_train_mlp")
    train.save_checkpoint(snakemake.output.model, model, {"model": p.model})
    save_csv(snakemake.output.metrics, result.metrics)
