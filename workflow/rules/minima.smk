# Minima of multilayer nets and the spherical spin glass (Choromanska et al. 2015): many SGD
# runs per hidden size trained as batched ensembles in shards, spin-glass descents per N.

MINIMA = config["minima"]
# Each figure and the gathered table it is drawn from.
MINIMA_FIGURES = {
    "test_loss": out("metrics/minima/nets.csv"),
    "test_vs_train": out("metrics/minima/nets.csv"),
    "spinglass": out("measurements/minima/spinglass.csv"),
}
FIGURES += [out(f"figures/minima/{name}.png") for name in MINIMA_FIGURES]
CLAIMS.append(out("claims/minima.json"))


localrules:
    minima_gather,
    minima_spinglass_gather,
    minima_plot,
    minima_claims,


rule minima_train_shard:
    input:
        data=dataset(MINIMA["dataset"]),
    output:
        out("metrics/minima/shards/h{size}_shard{shard}.csv"),
    wildcard_constraints:
        size=r"\d+",
        shard=r"\d+",
    params:
        activation=MINIMA["activation"],
        train=MINIMA["train"],
        runs=MINIMA["runs"],
        shards=MINIMA["shards"],
        seed=MINIMA["seed"],
    log:
        log_of("minima_train_shard", "_h{size}_shard{shard}"),
    benchmark:
        out("benchmarks/minima_train_shard_h{size}_shard{shard}.tsv")
    threads: 2
    resources:
        mem_mb=4000,
        runtime=60,
    conda:
        CONDA_ENV
    script:
        "../../scripts/minima/train_shard.py"


rule minima_gather:
    input:
        expand(out("metrics/minima/shards/h{size}_shard{shard}.csv"), size=MINIMA["sizes"],
               shard=range(MINIMA["shards"])),
    output:
        MINIMA_FIGURES["test_loss"],
    params:
        key=["size", "seed"],
        expected=len(MINIMA["sizes"]) * MINIMA["runs"],
    log:
        log_of("minima_gather"),
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        CONDA_ENV
    script:
        "../../scripts/minima/gather.py"


rule minima_spinglass:
    output:
        out("measurements/minima/spinglass/n{n}.csv"),
    wildcard_constraints:
        n=r"\d+",
    params:
        settings=MINIMA["spinglass"],
        seed=MINIMA["seed"],
    log:
        log_of("minima_spinglass", "_n{n}"),
    benchmark:
        out("benchmarks/minima_spinglass_n{n}.tsv")
    threads: 2
    resources:
        # couplings, their copy while symmetrizing, and S(w, ., .) for every start (float64)
        mem_mb=lambda w: 1000 + 8 * (3 * int(w.n) ** 3
                                     + MINIMA["spinglass"]["starts"] * int(w.n) ** 2) // 2**20,
        runtime=60,
    conda:
        CONDA_ENV
    script:
        "../../scripts/minima/spinglass.py"


rule minima_spinglass_gather:
    input:
        expand(out("measurements/minima/spinglass/n{n}.csv"), n=MINIMA["spinglass"]["sizes"]),
    output:
        MINIMA_FIGURES["spinglass"],
    params:
        key=["n", "start"],
        expected=len(MINIMA["spinglass"]["sizes"]) * MINIMA["spinglass"]["starts"],
    log:
        log_of("minima_spinglass_gather"),
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        CONDA_ENV
    script:
        "../../scripts/minima/gather.py"


rule minima_plot:
    input:
        lambda w: MINIMA_FIGURES[w.figure],
    output:
        png=report(
            out("figures/minima/{figure}.png"),
            caption="../report/minima/{figure}.rst",
            category="Minima of multilayer nets",
        ),
        pdf=out("figures/minima/{figure}.pdf"),
    wildcard_constraints:
        figure="|".join(MINIMA_FIGURES),
    params:
        figure="{figure}",
    log:
        log_of("minima_plot", "_{figure}"),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        CONDA_ENV
    script:
        "../../scripts/minima/plot.py"


rule minima_claims:
    input:
        nets=rules.minima_gather.output[0],
        glass=rules.minima_spinglass_gather.output[0],
    output:
        out("claims/minima.json"),
    params:
        experiment="minima",
        settings={"sizes": MINIMA["sizes"], "runs": MINIMA["runs"],
                  "spinglass_sizes": MINIMA["spinglass"]["sizes"]},
    log:
        log_of("minima_claims"),
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        CONDA_ENV
    script:
        "../../scripts/evaluate_claims.py"
