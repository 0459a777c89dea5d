# Runs of the sharp-minima experiment and the config checks they need, kept apart from
# sharpness.smk so that each file holds either functions or rules. A run is a
# names.SharpRun, <net>/b<batch>_wd<weight decay>_s<seed>; each replicate seed has its own.
from landscapes.names import SharpRun, interp_id

SHARP = config["sharpness"]
SHARP_NETS = SHARP["networks"]
SHARP_SEEDS = seeds_of("sharpness")

for _name in [*SHARP["keskar"], SHARP["sweep"]["network"], SHARP["li"]["network"],
              SHARP["reparam"]["network"]]:
    if _name not in SHARP_NETS:
        raise WorkflowError(f"config key 'sharpness': network '{_name}' is not under "
                            f"sharpness.networks ({', '.join(SHARP_NETS)})")
for _name, _net in SHARP_NETS.items():
    if _net["dataset"] not in config["datasets"]:
        raise WorkflowError(f"config key 'sharpness.networks.{_name}.dataset': "
                            f"'{_net['dataset']}' is not under datasets")


def sharp_path(kind, name):
    return out(f"{kind}/sharpness/{name}")


def sharp_sb(net):
    return SHARP_NETS[net]["train"]["batch_size"]


def sharp_lb(net):
    return SHARP_NETS[net]["large_batch"]


def sharp_wd(net, wd=None):
    """A run's weight decay: the given one, else the network's own (0 if it sets none)."""
    return SHARP_NETS[net]["train"].get("weight_decay", 0.0) if wd is None else wd


def sharp_run(net, batch, seed, wd=None):
    return SharpRun(net, int(batch), float(sharp_wd(net, wd)), int(seed))


def sharp_keskar_runs(seeds):
    return [sharp_run(net, b, seed) for net in SHARP["keskar"]
            for b in (sharp_sb(net), sharp_lb(net)) for seed in seeds]


def sharp_sweep_runs(seed):
    net = SHARP["sweep"]["network"]
    return [sharp_run(net, b, seed) for b in SHARP["sweep"]["batch_sizes"]]


def sharp_li_runs(seed):
    li = SHARP["li"]
    net = li["network"]
    return [sharp_run(net, b, seed, wd) for wd in li["weight_decays"]
            for b in (sharp_sb(net), sharp_lb(net))]


def sharp_measured_runs(seeds):
    """Keskar's runs and the sweep's, at every seed given."""
    return sorted(set(sharp_keskar_runs(seeds) + [r for seed in seeds
                                                  for r in sharp_sweep_runs(seed)]), key=str)


def sharp_interp(net, seed, wd=None):
    return sharp_path("measurements", f"{interp_id(net, sharp_wd(net, wd), seed)}.npz")


def sharp_train_config(w):
    cfg = dict(SHARP_NETS[w.net]["train"])
    cfg["batch_size"] = int(w.batch)
    cfg["weight_decay"] = float(w.wd)
    return cfg


def sharp_li_slices(seed):
    return [sharp_path("measurements", f"{r.slice_id}.npz") for r in sharp_li_runs(seed)]


def sharp_li_planes(seed):
    return [sharp_path("measurements", f"{r.plane_id}.npz") for r in sharp_li_runs(seed)]


def sharp_li_metrics(seeds):
    """The training records (final metrics, weight norms over training) of the weight-decay
    runs at every seed given."""
    return [sharp_path("metrics", f"{r}.json") for seed in seeds for r in sharp_li_runs(seed)]


def sharp_li_models(seed):
    return [sharp_path("models", f"{r}.safetensors") for r in sharp_li_runs(seed)]


def sharp_li_interps(seed):
    li = SHARP["li"]
    return [sharp_interp(li["network"], seed, wd) for wd in li["weight_decays"]]


def sharp_keskar_interps(seed):
    return [sharp_interp(net, seed) for net in SHARP["keskar"]]


def sharp_reparam_model(seed):
    net = SHARP["reparam"]["network"]
    return sharp_path("models", f"{sharp_run(net, sharp_sb(net), seed)}.safetensors")


def sharp_summary_inputs(seeds):
    """The measurements a summary over `seeds` reads: Keskar's runs and the sweep's."""
    return {
        "measures": [sharp_path("measurements", f"{r}.json") for r in sharp_measured_runs(seeds)],
    }
