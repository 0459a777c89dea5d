# Flatness against generalization (Jiang et al. 2020, with Dinh et al. 2017's rescaling): a
# population of nets over a factorial grid of learning rate, batch size, width, weight decay
# and dropout, each trained to one training loss, then measured. One job per width and batch
# size trains the rest of the grid; a gather rule makes one table per replicate seed, which
# the claims rank by Kendall's tau with the generalization gap.

from landscapes import population

GEN = config["generalization"]
GEN_OUT = partial(seed_path, "generalization")
GEN_GRID = GEN["grid"]
GEN_SEEDS = seeds_of("generalization")

if GEN["dataset"] not in config["datasets"]:
    raise WorkflowError(f"config key 'generalization.dataset': '{GEN['dataset']}' is not under "
                        f"datasets")
for _key in ("width", "batch_size"):
    if _key not in GEN_GRID:
        raise WorkflowError(f"config key 'generalization.grid.{_key}' is missing: the jobs are "
                            f"one per width and batch size")


experiment(
    "generalization",
    category="Flatness against generalization",
    figures={
        "tau": Figure({"nets": [GEN_OUT("measurements", "nets.csv", s) for s in GEN_SEEDS]},
                      {"grid": list(GEN_GRID)}),
        "measures_vs_gap": Figure({"nets": GEN_OUT("measurements", "nets.csv", GEN_SEEDS[0])}),
    },
    claims=lambda seed: {"nets": GEN_OUT("measurements", "nets.csv", seed)},
)


localrules:
    generalization_gather,


rule generalization_train:
    input:
        data=dataset(GEN["dataset"]),
    output:
        GEN_OUT("measurements", "groups/w{width}_b{batch}.csv"),
    wildcard_constraints:
        width=r"[0-9.]+",
        batch=r"\d+",
    params:
        model=GEN["model"],
        train=GEN["train"],
        grid=GEN_GRID,
        measures=GEN["measures"],
        rescale=GEN["rescale"],
        seed=lambda w: int(w.seed),
    log:
        log_of("generalization_train", "_seed{seed}_w{width}_b{batch}"),
    benchmark:
        out("benchmarks/generalization_train_seed{seed}_w{width}_b{batch}.tsv")
    threads: 1
    resources:
        mem_mb=2000,
        runtime=60,
    conda:
        CONDA_ENV
    script:
        "../../scripts/generalization/train.py"


rule generalization_gather:
    input:
        expand(GEN_OUT("measurements", "groups/w{width}_b{batch}.csv"), width=GEN_GRID["width"],
               batch=GEN_GRID["batch_size"], allow_missing=True),
    output:
        GEN_OUT("measurements", "nets.csv"),
    params:
        key=list(GEN_GRID),
        expected=len(population.grid_points(GEN_GRID)),
    log:
        log_of("generalization_gather", "_seed{seed}"),
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        CONDA_ENV
    script:
        "../../scripts/gather_tables.py"
