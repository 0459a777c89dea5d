"""Keskar's sharpness of one trained network on its training set (rule sharpness_measure)."""

import logging

from landscapes import train
from landscapes.data import Dataset
from landscapes.params import evaluate
from landscapes.progress import Progress
from landscapes.provenance import step
from landscapes.sharpness import model_sharpness
from landscapes.store import load_json, save_json

log = logging.getLogger(__name__)

with step(snakemake, __file__) as s, train.divergence_hint(
        f"lower sharpness.metric.eps (or sharpness.networks.{snakemake.wildcards.net}"
        ".train.lr)"):
    p, w = snakemake.params, snakemake.wildcards
    data = Dataset.load(snakemake.input.data)
    model = train.load_trained(dict(p.model), data, p.seed, snakemake.input.model)
    model = model.to(s.device)
    # the chunk of training's per-epoch metrics, so these match the logged final epoch
    train_loss, train_acc = evaluate(model, data.x_train, data.y_train,
                                     chunk=train.METRICS_CHUNK)
    test_loss, test_acc = evaluate(model, data.x_test, data.y_test, chunk=train.METRICS_CHUNK)
    results = []
    boxes = [(eps, dim) for eps in p.metric["eps"] for dim in (None, p.metric["subspace_dim"])]
    for eps, dim in Progress.over(boxes, "sharpness measurements"):
        r = model_sharpness(model, data.x_train, data.y_train, eps, dim, seed=p.seed,
                            maxiter=p.metric["maxiter"], start=p.metric["start"],
                            ftol=p.metric["ftol"],
                            name=f"sharpness_measure {w.net} batch {w.batch} wd {w.wd} "
                                 f"seed {w.seed}")
        log.info("eps %g %s: phi %.4g (%s)", eps, r.space, r.phi, r.message)
        results.append(r.as_dict())
    trained = load_json(snakemake.input.metrics)
    save_json(snakemake.output[0], {
        **dict(p.run), "seed": p.seed, "epochs": trained["final"]["epoch"],
        "target_loss": trained.get("target_loss"),
        "reached_target": trained.get("reached_target", False),
        "train_loss": train_loss, "train_acc": train_acc,
        "test_loss": test_loss, "test_acc": test_acc, "bn_mode": "eval (running statistics)",
        "sharpness": results})
