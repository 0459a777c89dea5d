# Saddle points (Dauphin et al. 2014): critical points found from perturbed trajectory points,
# their error against index and their spectra; damped Newton vs saddle-free Newton vs SGD; a
# deep autoencoder switched from SGD to saddle-free Newton at its plateau.
# One folder per replicate seed.

SADDLES = config["saddles"]
SADDLES_COMMON = {
    "model": SADDLES["model"],
    "weight_decay": SADDLES["weight_decay"],
    "seed": lambda w: int(w.seed),
}
SADDLES_SEARCH = SADDLES["search"]
SADDLES_COMPARE = SADDLES["compare"]
if SADDLES_COMPARE["curves_hidden"] not in SADDLES_COMPARE["hidden_sizes"]:
    raise WorkflowError(f"config key 'saddles.compare.curves_hidden' "
                        f"({SADDLES_COMPARE['curves_hidden']}) must be one of "
                        f"'saddles.compare.hidden_sizes' {SADDLES_COMPARE['hidden_sizes']}")


SADDLES_OUT = partial(seed_path, "saddles")


SADDLES_SEED = seeds_of("saddles")[0]  # the optimizer figures draw the first replicate
SADDLES_POINTS = {  # Fig. 1 draws every seed's search end points
    f"critical_points_{s}": SADDLES_OUT("measurements", "critical_points.npz", s)
    for s in seeds_of("saddles")}


# the optimizer comparisons of one replicate seed, one file per hidden size
saddles_optimizers = lambda seed: [SADDLES_OUT("measurements", f"optimizers_h{h}.npz", seed)
                                   for h in SADDLES_COMPARE["hidden_sizes"]]


experiment(
    "saddles",
    category="Saddle points",
    figures={
        "error_vs_index": Figure(SADDLES_POINTS, {
            k: SADDLES_SEARCH[k] for k in ("grad_cutoff", "index_tol", "flat_tol")}),
        "spectra": Figure(SADDLES_POINTS, {"grad_cutoff": SADDLES_SEARCH["grad_cutoff"],
                                           "spectrum_errors": SADDLES["spectrum_errors"]}),
        "optimizers": Figure({"optimizers": saddles_optimizers(SADDLES_SEED)},
                             {"curves_hidden": SADDLES_COMPARE["curves_hidden"]}),
        "autoencoder": Figure(
            {"autoencoder": SADDLES_OUT("measurements", "autoencoder.npz", SADDLES_SEED)},
            {k: SADDLES["autoencoder"]["switch"][k] for k in ("window", "rel_tol")}),
    },
    claims=lambda seed: {
        "critical_points": SADDLES_OUT("measurements", "critical_points.npz", seed),
        # every seed's end points too: each verdict reports the value pooled over seeds
        **{f"pooled_critical_points_{s}": SADDLES_OUT("measurements", "critical_points.npz", s)
           for s in seeds_of("saddles")},
        "optimizers": saddles_optimizers(seed),
        "autoencoder": SADDLES_OUT("measurements", "autoencoder.npz", seed),
    },
)


localrules:
    saddles_gather,


rule saddles_train:
    input:
        data=dataset(SADDLES["dataset"]),
    output:
        trajectories=SADDLES_OUT("models", "trajectories.safetensors"),
        metrics=SADDLES_OUT("metrics", "train.csv"),
    params:
        **SADDLES_COMMON,
        train=SADDLES["train"],
        n_runs=SADDLES["n_runs"],
    log:
        log_of("saddles_train", "_seed{seed}"),
    benchmark:
        out("benchmarks/saddles_train_seed{seed}.tsv")
    threads: 2
    resources:
        mem_mb=2000,
        runtime=30,
    conda:
        CONDA_ENV
    script:
        "../../scripts/saddles/train.py"


rule saddles_search:
    input:
        data=dataset(SADDLES["dataset"]),
        trajectories=rules.saddles_train.output.trajectories,
    output:
        SADDLES_OUT("hessians", "critical_points_{shard}.npz"),
    wildcard_constraints:
        shard=r"\d+",
    params:
        **SADDLES_COMMON,
        search=SADDLES_SEARCH,
        shard=lambda w: int(w.shard),
        n_shards=SADDLES_SEARCH["n_shards"],
    log:
        log_of("saddles_search", "_seed{seed}_{shard}"),
    benchmark:
        out("benchmarks/saddles_search_seed{seed}_{shard}.tsv")
    threads: 1  # shards run side by side; small matrices gain little from a second thread
    resources:
        mem_mb=4000,
        runtime=120,
    conda:
        CONDA_ENV
    script:
        "../../scripts/saddles/search.py"


rule saddles_gather:
    input:
        expand(SADDLES_OUT("hessians", "critical_points_{shard}.npz"),
               shard=range(SADDLES_SEARCH["n_shards"]), allow_missing=True),
    output:
        SADDLES_OUT("measurements", "critical_points.npz"),
    log:
        log_of("saddles_gather", "_seed{seed}"),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        CONDA_ENV
    script:
        "../../scripts/saddles/gather.py"


rule saddles_compare:
    input:
        data=dataset(SADDLES["dataset"]),
    output:
        SADDLES_OUT("measurements", "optimizers_h{hidden}.npz"),
    wildcard_constraints:
        hidden=r"\d+",
    params:
        **SADDLES_COMMON,
        hidden=lambda w: int(w.hidden),
        train=SADDLES["train"],
        compare=SADDLES_COMPARE,
    log:
        log_of("saddles_compare", "_seed{seed}_h{hidden}"),
    benchmark:
        out("benchmarks/saddles_compare_seed{seed}_h{hidden}.tsv")
    threads: 1  # sizes and seeds run side by side; small matrices gain little from a second thread
    resources:
        mem_mb=2000,
        runtime=30,
    conda:
        CONDA_ENV
    script:
        "../../scripts/saddles/compare.py"


rule saddles_autoencoder:
    input:
        data=dataset(SADDLES["autoencoder"]["dataset"]),
    output:
        SADDLES_OUT("measurements", "autoencoder.npz"),
    params:
        autoencoder=SADDLES["autoencoder"],
        seed=lambda w: int(w.seed),
    log:
        log_of("saddles_autoencoder", "_seed{seed}"),
    benchmark:
        out("benchmarks/saddles_autoencoder_seed{seed}.tsv")
    threads: 1  # small matrices: a second thread gains little
    resources:
        mem_mb=2000,
        runtime=30,
    conda:
        CONDA_ENV
    script:
        "../../scripts/saddles/autoencoder.py"
