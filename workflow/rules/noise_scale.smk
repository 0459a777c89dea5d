# The eta/B ratio (Jastrzebski et al. 2017): a grid of learning rates and batch sizes, each run
# trained for the same epochs with plain SGD, then measured where it ended (the top Hessian
# eigenvalue, Keskar's sharpness). One job per batch size trains its learning rates; a gather
# rule makes one table per replicate seed.

NOISE = config["noise_scale"]
NOISE_OUT = partial(seed_path, "noise_scale")
NOISE_SEED = seeds_of("noise_scale")[0]  # the heat maps draw the first replicate

if NOISE["dataset"] not in config["datasets"]:
    raise WorkflowError(f"config key 'noise_scale.dataset': '{NOISE['dataset']}' is not under "
                        f"datasets")


experiment(
    "noise_scale",
    category="The eta/B ratio",
    figures={
        "sharpness_vs_ratio": Figure(
            {"runs": [NOISE_OUT("measurements", "runs.csv", s) for s in seeds_of("noise_scale")]}),
        "heatmap": Figure({"runs": NOISE_OUT("measurements", "runs.csv", NOISE_SEED)}),
    },
    claims=lambda seed: {"runs": NOISE_OUT("measurements", "runs.csv", seed)},
)


localrules:
    noise_scale_gather,


rule noise_scale_train:
    input:
        data=dataset(NOISE["dataset"]),
    output:
        NOISE_OUT("measurements", "batches/b{batch}.csv"),
    wildcard_constraints:
        batch=r"\d+",
    params:
        model=NOISE["model"],
        train=NOISE["train"],
        learning_rates=NOISE["learning_rates"],
        measures=NOISE["measures"],
        seed=lambda w: int(w.seed),
    log:
        log_of("noise_scale_train", "_seed{seed}_b{batch}"),
    benchmark:
        out("benchmarks/noise_scale_train_seed{seed}_b{batch}.tsv")
    threads: 1
    resources:
        mem_mb=2000,
        runtime=60,
    conda:
        CONDA_ENV
    script:
        "../../scripts/noise_scale/train.py"


rule noise_scale_gather:
    input:
        expand(NOISE_OUT("measurements", "batches/b{batch}.csv"), batch=NOISE["batch_sizes"],
               allow_missing=True),
    output:
        NOISE_OUT("measurements", "runs.csv"),
    params:
        key=["learning_rate", "batch_size"],
        expected=len(NOISE["learning_rates"]) * len(NOISE["batch_sizes"]),
    log:
        log_of("noise_scale_gather", "_seed{seed}"),
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        CONDA_ENV
    script:
        "../../scripts/gather_tables.py"
