"""Train one network with one batch size, weight decay and seed (rule sharpness_train)."""

from landscapes import train
from landscapes.data import Dataset
from landscapes.params import Layout
from landscapes.provenance import step
from landscapes.sharpness import weight_norm
from landscapes.store import save_json

with step(snakemake, __file__) as s, train.divergence_hint(
        f"lower sharpness.networks.{snakemake.wildcards.net}.train.lr"):
    p, w = snakemake.params, snakemake.wildcards
    data = Dataset.load(snakemake.input.data)
    cfg = train.TrainConfig.from_config(dict(p.train))
    model = train.init_model(dict(p.model), data, p.seed)
    result = train.train(model, data, cfg, p.seed,
                         name=f"sharpness_train {w.net} batch {w.batch} wd {w.wd}",
                         device=s.device)
    layout = Layout.of(model)
    norms = [weight_norm(layout.split(theta)) for theta in result.trajectory]
    train.save_checkpoint(snakemake.output.model, model, {"model": dict(p.model)})
    save_json(snakemake.output.metrics, {
        "net": w.net, "batch_size": cfg.batch_size, "weight_decay": cfg.weight_decay,
        "seed": p.seed, "n_train": len(data.y_train), "target_loss": cfg.target_loss,
        "reached_target": cfg.reached_target(result.metrics[-1]["train_loss"]),
        "epochs": result.metrics,
        "final": result.metrics[-1], "norm_epochs": result.trajectory_epochs,
        "weight_norm": norms, "final_weight_norm": weight_norm(dict(model.named_parameters()))})
