# The config of hessian_outliers.smk and the paths of the artifacts, kept apart from the rule
# file so that each file holds either functions or rules.
OUTLIERS = config["hessian_outliers"]
OUTLIERS_OUT = partial(seed_path, "hessian_outliers")
OUTLIERS_SEEDS = seeds_of("hessian_outliers")

for _net in ("mlp", "conv"):
    if OUTLIERS[_net]["dataset"] not in config["datasets"]:
        raise WorkflowError(f"config key 'hessian_outliers.{_net}.dataset': "
                            f"'{OUTLIERS[_net]['dataset']}' is not under datasets")


def outliers_artifacts(seed):
    return {"mlp_spectra": OUTLIERS_OUT("spectra", "mlp.npz", seed),
            "mlp_nets": OUTLIERS_OUT("measurements", "mlp.csv", seed),
            "conv_densities": OUTLIERS_OUT("spectra", "conv.npz", seed),
            "conv_nets": OUTLIERS_OUT("measurements", "conv.csv", seed)}


def outliers_over_seeds(name):
    return [outliers_artifacts(s)[name] for s in OUTLIERS_SEEDS]


# the figures read the outliers as the claims do
OUTLIERS_READING = {"count": OUTLIERS["count"], "tolerance": OUTLIERS["claims"]["tolerance"]}
