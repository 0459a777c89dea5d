# Minima of multilayer nets and the spherical spin glass (Choromanska et al. 2015): many SGD
# runs per hidden size trained to a minimum (gradient norm below minima.convergence.grad_tol)
# as batched ensembles in shards, spin-glass descents per N. One folder per replicate seed;
# each replicate is a population of its own. Every job runs on one thread: the ensembles'
# matmuls are small, and two one-thread jobs side by side use two cores better than one job
# on two (benchmarks/README.md).

MINIMA = config["minima"]


MINIMA_OUT = partial(seed_path, "minima")


MINIMA_SEED = seeds_of("minima")[0]  # the figures draw the first replicate
experiment(
    "minima",
    category="Minima of multilayer nets",
    figures={
        "test_loss": Figure({"nets": MINIMA_OUT("metrics", "nets.csv", MINIMA_SEED)},
                            MINIMA["convergence"]),
        "test_vs_train": Figure({"nets": MINIMA_OUT("metrics", "nets.csv", MINIMA_SEED)},
                                MINIMA["convergence"]),
        "spinglass": Figure({"glass": MINIMA_OUT("measurements", "spinglass.csv", MINIMA_SEED)},
                            MINIMA["spinglass"]),
    },
    claims=lambda seed: {
        "nets": MINIMA_OUT("metrics", "nets.csv", seed),
        "glass": MINIMA_OUT("measurements", "spinglass.csv", seed),
    },
)


localrules:
    minima_gather,
    minima_spinglass_gather,


rule minima_train_shard:
    input:
        data=dataset(MINIMA["dataset"]),
    output:
        MINIMA_OUT("metrics", "shards/h{size}_shard{shard}.csv"),
    wildcard_constraints:
        size=r"\d+",
        shard=r"\d+",
    params:
        activation=MINIMA["activation"],
        train=MINIMA["train"],
        convergence=MINIMA["convergence"],
        runs=MINIMA["runs"],
        shards=MINIMA["shards"],
        seed=lambda w: int(w.seed),
    log:
        log_of("minima_train_shard", "_seed{seed}_h{size}_shard{shard}"),
    benchmark:
        out("benchmarks/minima_train_shard_seed{seed}_h{size}_shard{shard}.tsv")
    threads: 1
    resources:
        mem_mb=1500,
        runtime=60,
    conda:
        CONDA_ENV
    script:
        "../../scripts/minima/train_shard.py"


rule minima_gather:
    input:
        expand(MINIMA_OUT("metrics", "shards/h{size}_shard{shard}.csv"), size=MINIMA["sizes"],
               shard=range(MINIMA["shards"]), allow_missing=True),
    output:
        MINIMA_OUT("metrics", "nets.csv"),
    params:
        key=["size", "seed"],
        expected=len(MINIMA["sizes"]) * MINIMA["runs"],
    log:
        log_of("minima_gather", "_seed{seed}"),
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        CONDA_ENV
    script:
        "../../scripts/gather_tables.py"


rule minima_spinglass:
    output:
        MINIMA_OUT("measurements", "spinglass/n{n}.csv"),
    wildcard_constraints:
        n=r"\d+",
    params:
        settings=MINIMA["spinglass"],
        seed=lambda w: int(w.seed),
    log:
        log_of("minima_spinglass", "_seed{seed}_n{n}"),
    benchmark:
        out("benchmarks/minima_spinglass_seed{seed}_n{n}.tsv")
    threads: 1
    resources:
        # float64 couplings and their copy while symmetrizing, then their packing (N^3 / 2
        # gathered, scaled and transposed); float32 pair products of every start (N^2 / 2)
        mem_mb=lambda w: 1000 + (8 * 3 * int(w.n) ** 3
                                 + 4 * MINIMA["spinglass"]["starts"] * int(w.n) ** 2) // 2**20,
        runtime=60,
    conda:
        CONDA_ENV
    script:
        "../../scripts/minima/spinglass.py"


rule minima_spinglass_gather:
    input:
        expand(MINIMA_OUT("measurements", "spinglass/n{n}.csv"), n=MINIMA["spinglass"]["sizes"],
               allow_missing=True),
    output:
        MINIMA_OUT("measurements", "spinglass.csv"),
    params:
        key=["n", "start"],
        expected=len(MINIMA["spinglass"]["sizes"]) * MINIMA["spinglass"]["starts"],
    log:
        log_of("minima_spinglass_gather", "_seed{seed}"),
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        CONDA_ENV
    script:
        "../../scripts/gather_tables.py"
