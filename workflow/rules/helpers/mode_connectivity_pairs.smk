# The config of mode_connectivity.smk and the paths of the pairs' measurements, kept apart from
# the rule file so that each file holds either functions or rules.
MODES = config["mode_connectivity"]
MODES_OUT = partial(seed_path, "mode_connectivity")
MODES_SEED = seeds_of("mode_connectivity")[0]  # the plane figure draws the first replicate
MODES_PAIRS = MODES["pairs"]


def modes_pair(pair, seed):
    return MODES_OUT("measurements", f"{pair}.npz", seed)
