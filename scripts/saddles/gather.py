"""Merge the critical-point shards into one table (rule saddles_gather)."""

import numpy as np

from landscapes.provenance import step
from landscapes.store import load_npz, save_npz

with step(snakemake, __file__):
    shards = [load_npz(path) for path in snakemake.input]
    save_npz(snakemake.output[0], **{k: np.concatenate([s[k] for s in shards])
                                     for k in shards[0]})
