"""Train the one-hidden-layer MLP whose hidden units get permuted (rule linear_train_mlp)."""

from landscapes import train
from landscapes.data import Dataset
from landscapes.provenance import step
from landscapes.store import save_csv

with step(snakemake, __file__):  # noqa: F821
    p = snakemake.params  # noqa: F821
    data = Dataset.load(snakemake.input.data)  # noqa: F821
    model = train.init_model(p.model, data, p.seed)
    result = train.train(model, data, train.TrainConfig.from_config(p.train), p.seed,
                         name="linear permutation MLP")
    train.save_checkpoint(snakemake.output.model, model, {"model": p.model})  # noqa: F821
    save_csv(snakemake.output.metrics, result.metrics)  # noqa: F821
