# Runs of the sharp-minima experiment and the config checks they need (helpers of
# sharpness.smk; kept apart so that rule files hold rules).

SHARP = config["sharpness"]
SHARP_NETS = SHARP["networks"]
SHARP_FIGURES = ["parametric", "sharpness", "sweep", "weight_decay", "reparam"]
FIGURES += [out(f"figures/sharpness/{name}.png") for name in SHARP_FIGURES]
CLAIMS.append(out("claims/sharpness.json"))

for _name in [*SHARP["keskar"], SHARP["sweep"]["network"], SHARP["li"]["network"],
              SHARP["reparam"]["network"]]:
    if _name not in SHARP_NETS:
        raise WorkflowError(f"config key 'sharpness': network '{_name}' is not under "
                            f"sharpness.networks ({', '.join(SHARP_NETS)})")
for _name, _net in SHARP_NETS.items():
    if _net["dataset"] not in config["datasets"]:
        raise WorkflowError(f"config key 'sharpness.networks.{_name}.dataset': "
                            f"'{_net['dataset']}' is not under datasets")


def sharp_wd(value):
    """Weight decay as it appears in paths: 0, 0.0005."""
    return f"{float(value):g}"


def sharp_run(net, batch, seed, wd=None):
    wd = SHARP_NETS[net]["train"].get("weight_decay", 0.0) if wd is None else wd
    return f"{net}/b{batch}_wd{sharp_wd(wd)}_s{seed}"


def sharp_sb(net):
    return SHARP_NETS[net]["train"]["batch_size"]


def sharp_lb(net):
    return SHARP_NETS[net]["large_batch"]


def sharp_keskar_runs():
    return [sharp_run(net, b, seed) for net in SHARP["keskar"]
            for b in (sharp_sb(net), sharp_lb(net)) for seed in SHARP["seeds"]]


def sharp_sweep_runs():
    net = SHARP["sweep"]["network"]
    return [sharp_run(net, b, SHARP["sweep"]["seed"]) for b in SHARP["sweep"]["batch_sizes"]]


def sharp_li_runs():
    li = SHARP["li"]
    net = li["network"]
    return [sharp_run(net, b, li["seed"], wd) for wd in li["weight_decays"]
            for b in (sharp_sb(net), sharp_lb(net))]


def sharp_measured_runs():
    return sorted(set(sharp_keskar_runs() + sharp_sweep_runs()))


def sharp_interp(net, seed, wd=None):
    wd = SHARP_NETS[net]["train"].get("weight_decay", 0.0) if wd is None else wd
    return out(f"measurements/sharpness/{net}/interp_wd{sharp_wd(wd)}_s{seed}.npz")


def sharp_train_config(w):
    cfg = dict(SHARP_NETS[w.net]["train"])
    cfg["batch_size"] = int(w.batch)
    cfg["weight_decay"] = float(w.wd)
    return cfg


def sharp_li_slices():
    # a run "net/b32_wd0_s0" has its slice at "net/slice_b32_wd0_s0"
    return [out("measurements/sharpness/{}/slice_{}.npz".format(*r.split("/", 1)))
            for r in sharp_li_runs()]


def sharp_li_interps():
    li = SHARP["li"]
    return [sharp_interp(li["network"], li["seed"], wd) for wd in li["weight_decays"]]


def sharp_keskar_interps():
    return [sharp_interp(net, SHARP["seeds"][0]) for net in SHARP["keskar"]]
