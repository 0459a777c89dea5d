"""Train one shard of the nets of one hidden size to a minimum as a batched ensemble
(rule minima_train_shard)."""

from landscapes import ensemble, train
from landscapes.data import Dataset
from landscapes.provenance import step
from landscapes.store import save_csv
from landscapes.train import TrainConfig

with step(snakemake, __file__), train.divergence_hint("lower minima.train.lr"):
    p = snakemake.params
    size = int(snakemake.wildcards.size)
    data = Dataset.load(snakemake.input.data)
    # Replicate seed s trains runs s*runs ... (s+1)*runs - 1: populations that share no net.
    seeds = ensemble.shard_seeds(p.seed * p.runs, p.runs, p.shards,
                                 int(snakemake.wildcards.shard))
    spec = {"name": "mlp", "hidden": [size], "activation": p.activation}
    nets = ensemble.init_ensemble(spec, data, seeds)
    run = ensemble.train_ensemble(nets, data, TrainConfig.from_config(p.train),
                                  name=f"minima_train_shard size {size} shard "
                                       f"{snakemake.wildcards.shard} seed {p.seed}",
                                  convergence=ensemble.Convergence(**p.convergence))
    save_csv(snakemake.output[0], ensemble.ensemble_table(nets, data, size, run))
