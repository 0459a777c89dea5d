"""Train one ResNet with or without shortcuts, keeping its trajectory (rule skips_train)."""

from landscapes import train
from landscapes.data import Dataset
from landscapes.provenance import step
from landscapes.store import save_csv

with step(snakemake, __file__) as s, train.divergence_hint(
        f"lower skips.train.lr (or set skips.train_overrides.{snakemake.wildcards.skips_model}"
        ".lr)"):
    p, out, m = snakemake.params, snakemake.output, snakemake.wildcards.skips_model
    data = Dataset.load(snakemake.input.data)
    model = train.init_model(p.spec, data, p.seed)
    result = train.train(model, data, train.TrainConfig.from_config(p.train), p.seed,
                         name=f"skips_train {m}", device=s.device)
    train.save_checkpoint(out.model, model, {"model": p.spec})
    train.save_trajectory(out.trajectory, result)
    save_csv(out.metrics, result.metrics)
