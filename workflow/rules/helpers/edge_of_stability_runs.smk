# The config of edge_of_stability.smk and the paths of the runs' tables, kept apart from the
# rule file so that each file holds either functions or rules.
EOS = config["edge_of_stability"]
EOS_OUT = partial(seed_path, "edge_of_stability")
EOS_ARCHS = list(EOS["architectures"])
EOS_SEED = seeds_of("edge_of_stability")[0]  # the paper's Fig. 1 draws the first replicate

if EOS["dataset"] not in config["datasets"]:
    raise WorkflowError(f"config key 'edge_of_stability.dataset': '{EOS['dataset']}' is not "
                        f"under datasets")


def eos_runs(seed):
    return per_model("runs", EOS_OUT("measurements", "runs/{m}.csv", seed), EOS_ARCHS)


EOS_LABELS = {a: spec.get("label", a) for a, spec in EOS["architectures"].items()}
