"""Train the two minima of one replicate from independent seeds (rule
mode_connectivity_endpoints)."""

from landscapes import train
from landscapes.data import Dataset
from landscapes.mode_connectivity import endpoint_seeds
from landscapes.provenance import step
from landscapes.store import save_csv

with step(snakemake, __file__) as s, train.divergence_hint(
        "lower mode_connectivity.train.lr"):
    p, out = snakemake.params, snakemake.output
    data = Dataset.load(snakemake.input.data)
    cfg = train.TrainConfig.from_config(p.train)
    rows = []
    for end, seed in zip(("w1", "w2"), endpoint_seeds(p.seed)):
        model = train.init_model(p.model, data, seed)
        result = train.train(model, data, cfg, seed, name=f"mode_connectivity {end} seed {seed}",
                             device=s.device)
        train.save_checkpoint(out[end], model, {"model": p.model, "seed": seed})
        rows += [{"endpoint": end, "seed": seed, **r} for r in result.metrics]
    save_csv(out.metrics, rows)
