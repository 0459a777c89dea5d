"""Loss and accuracy on the line through the SB and LB minimizers (rule sharpness_interpolate)."""

import numpy as np

from landscapes import train
from landscapes.data import Dataset
from landscapes.provenance import step
from landscapes.sharpness import interpolation_curve
from landscapes.store import load_tensors, save_npz

with step(snakemake, __file__) as s, train.divergence_hint(
        "narrow sharpness.parametric.low and sharpness.parametric.high"):
    p, i, w = snakemake.params, snakemake.input, snakemake.wildcards
    data = Dataset.load(i.data)
    shell = train.init_model(dict(p.model), data, p.seed).to(s.device)
    sb, _ = load_tensors(i.sb)
    lb, _ = load_tensors(i.lb)
    alphas = np.linspace(p.alphas["low"], p.alphas["high"], p.alphas["n_alpha"])
    # alpha = 0 is the SB minimizer, alpha = 1 the LB one (Keskar et al.'s convention).
    curve = interpolation_curve(shell, sb, lb, alphas, data.x_train, data.y_train,
                                data.x_test, data.y_test,
                                name=f"sharpness_interpolate {w.net} wd {w.wd} seed {w.seed}")
    save_npz(snakemake.output[0], network=np.array(w.net), weight_decay=np.float64(w.wd),
             **curve)
