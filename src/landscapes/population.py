"""Populations of nets over a grid of hyperparameters: one row per net, its training and the
flatness measures of where it ended (Jastrzebski et al. 2017's eta/B sweep, Jiang et al.
2020's population).

Every net of one replicate seed starts from that seed's initialization of its architecture and
draws that seed's data order, so two nets of a replicate differ only in their
hyperparameters. A grid's `width` replaces every hidden width of an MLP (the width factor of
a conv net) and its `dropout` sets the model's dropout rate.
"""

from __future__ import annotations

import itertools
import logging
import math

from landscapes import flatness
from landscapes.data import Dataset
from landscapes.train import TrainConfig, init_model, train

log = logging.getLogger(__name__)

# grid keys that are training settings, and the TrainConfig field each sets
TRAIN_KEYS = {"learning_rate": "lr", "batch_size": "batch_size", "weight_decay": "weight_decay"}
MODEL_KEYS = ("width", "dropout")


def grid_points(grid: dict[str, list]) -> list[dict]:
    """Every combination of the grid's values, as {key: value}, in the grid's key order."""
    keys = list(grid)
    return [dict(zip(keys, values)) for values in itertools.product(*(grid[k] for k in keys))]


def net_spec(model: dict, point: dict) -> dict:
    """The model spec of one grid point."""
    spec = dict(model)
    if "width" in point:
        if spec["name"] == "mlp":
            spec["hidden"] = [int(point["width"])] * len(spec.get("hidden", [1]))
        else:
            spec["width"] = point["width"]
    if "dropout" in point:
        spec["dropout"] = float(point["dropout"])
    return spec


def train_config(train_settings: dict, point: dict) -> TrainConfig:
    cfg = dict(train_settings)
    for key, field in TRAIN_KEYS.items():
        if key in point:
            cfg[field] = point[key]
    return TrainConfig.from_config(cfg)


def measure_row(net, point: dict, epochs: int, reached: bool, cfg: TrainConfig, data: Dataset,
                seed: int, measures: dict, which, rescale: dict | None = None) -> dict:
    """One net's row: the point's hyperparameters, its epochs and steps, whether it reached
    the training target (as its training loop judged it), its final training and test loss
    and accuracy, the gap (training minus test accuracy) and the measures named in `which`.
    With `rescale` ({layer, factor}) the row also holds every measure of the rescaled net
    (`rescaled_<measure>`) and the largest change of its outputs on the training set: Dinh
    et al.'s test of which measures see a change that leaves the function as it was."""
    row = {**point, "seed": seed, "epochs": epochs,
           "steps": epochs * math.ceil(len(data.y_train) / cfg.batch_size),
           "reached_target": bool(reached)}
    row.update(flatness.accuracy_and_loss(net, data))
    row.update(flatness.measure(net, data.x_train, data.y_train, measures, seed, which))
    if rescale is not None:
        from landscapes.sharpness import rescale_relu_layer

        scaled = rescale_relu_layer(net, rescale["layer"], rescale["factor"])
        row["rescaled_output_change"] = flatness.output_change(net, scaled, data.x_train)
        row.update({f"rescaled_{k}": v for k, v in flatness.measure(
            scaled, data.x_train, data.y_train, measures, seed, which).items()})
    return row


def train_and_measure(model: dict, train_settings: dict, point: dict, data: Dataset,
                      seed: int, measures: dict, which, rescale: dict | None = None,
                      name: str = "net") -> dict:
    """Train the net of one grid point alone (`train.train`) and measure it (`measure_row`)."""
    net = init_model(net_spec(model, point), data, seed)
    cfg = train_config(train_settings, point)
    result = train(net, data, cfg, seed, name=name)
    last = result.metrics[-1]
    reached = cfg.target_loss is None or cfg.reached_target(last["train_loss"])
    row = measure_row(net, point, last["epoch"], reached, cfg, data, seed, measures, which,
                      rescale)
    log.info("%s: %s", name, {k: row[k] for k in ("epochs", "train_loss", "gap")})
    return row


def stackable(model: dict, train_settings: dict) -> bool:
    """Whether nets of this model and training train side by side (`stacked_training`): a
    ReLU MLP under SGD without Nesterov momentum or a step schedule."""
    return (model["name"] == "mlp" and model.get("activation", "relu") == "relu"
            and model.get("bias", True) and train_settings["optimizer"] == "sgd"
            and not train_settings.get("nesterov") and not train_settings.get("milestones"))


def train_and_measure_group(model: dict, train_settings: dict, points: list[dict],
                            data: Dataset, seed: int, measures: dict, which,
                            rescale: dict | None = None, name: str = "group") -> list[dict]:
    """The rows of grid points that share width and batch size, the first one also rescaled.
    Stackable nets train side by side in one computation (their dropout masks then come from
    one generator); others train one by one."""
    if not points:
        return []
    if len({(q.get("width"), q["batch_size"]) for q in points}) != 1:
        raise ValueError("a group's points must share width and batch size")
    if not stackable(model, train_settings):
        return [train_and_measure(model, train_settings, q, data, seed, measures, which,
                                  rescale if i == 0 else None, f"{name} {q}")
                for i, q in enumerate(points)]
    from landscapes.stacked_training import train_stacked

    cfgs = [train_config(train_settings, q) for q in points]
    base = init_model(net_spec(model, {**points[0], "dropout": 0.0}), data, seed)
    nets, stopped, reached = train_stacked(
        base, data, [c.lr for c in cfgs], [c.weight_decay for c in cfgs],
        [float(q.get("dropout", model.get("dropout", 0.0))) for q in points], cfgs[0].epochs,
        cfgs[0].batch_size, cfgs[0].momentum, cfgs[0].target_loss, seed, name=name)
    rows = [measure_row(net, q, epochs, hit or cfgs[0].target_loss is None, c, data, seed,
                        measures, which, rescale if i == 0 else None)
            for i, (net, q, epochs, hit, c) in enumerate(zip(nets, points, stopped, reached,
                                                              cfgs))]
    for q, r in zip(points, rows):
        log.info("%s %s: %s", name, q, {k: r[k] for k in ("epochs", "train_loss", "gap")})
    return rows
