# Saddle points (Dauphin et al. 2014): critical points found from perturbed trajectory points,
# their error against index and their spectra; damped Newton vs saddle-free Newton vs SGD.

SADDLES = config["saddles"]
SADDLES_FIGURES = {  # figure -> measurement it draws
    "error_vs_index": "critical_points",
    "spectra": "critical_points",
    "optimizers": "optimizers",
}
FIGURES += [out(f"figures/saddles/{name}.png") for name in SADDLES_FIGURES]
CLAIMS.append(out("claims/saddles.json"))
SADDLES_COMMON = {
    "model": SADDLES["model"],
    "weight_decay": SADDLES["weight_decay"],
    "seed": SADDLES["seed"],
}
SADDLES_CUTOFFS = {
    "grad_cutoff": SADDLES["search"]["grad_cutoff"],
    "index_tol": SADDLES["search"]["index_tol"],
    "flat_tol": SADDLES["search"]["flat_tol"],
}
SADDLES_PLOT_SETTINGS = {  # figure -> the settings its drawing function takes
    "error_vs_index": SADDLES_CUTOFFS,
    "spectra": {"grad_cutoff": SADDLES_CUTOFFS["grad_cutoff"]},
    "optimizers": {},
}


localrules:
    saddles_gather,
    saddles_plot,
    saddles_claims,


rule saddles_train:
    input:
        data=dataset(SADDLES["dataset"]),
    output:
        trajectories=out("models/saddles/trajectories.safetensors"),
        metrics=out("metrics/saddles/train.csv"),
    params:
        **SADDLES_COMMON,
        train=SADDLES["train"],
        n_runs=SADDLES["n_runs"],
    log:
        log_of("saddles_train"),
    benchmark:
        out("benchmarks/saddles_train.tsv")
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
        out("hessians/saddles/critical_points_{shard}.npz"),
    wildcard_constraints:
        shard=r"\d+",
    params:
        **SADDLES_COMMON,
        search=SADDLES["search"],
        shard=lambda w: int(w.shard),
        n_shards=SADDLES["search"]["n_shards"],
    log:
        log_of("saddles_search", "_{shard}"),
    benchmark:
        out("benchmarks/saddles_search_{shard}.tsv")
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
        expand(out("hessians/saddles/critical_points_{shard}.npz"),
               shard=range(SADDLES["search"]["n_shards"])),
    output:
        out("measurements/saddles/critical_points.npz"),
    log:
        log_of("saddles_gather"),
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
        trajectories=rules.saddles_train.output.trajectories,
    output:
        out("measurements/saddles/optimizers.npz"),
    params:
        **SADDLES_COMMON,
        compare=SADDLES["compare"],
    log:
        log_of("saddles_compare"),
    benchmark:
        out("benchmarks/saddles_compare.tsv")
    threads: 2
    resources:
        mem_mb=4000,
        runtime=60,
    conda:
        CONDA_ENV
    script:
        "../../scripts/saddles/compare.py"


rule saddles_plot:
    input:
        lambda w: out(f"measurements/saddles/{SADDLES_FIGURES[w.figure]}.npz"),
    output:
        png=report(
            out("figures/saddles/{figure}.png"),
            caption="../report/saddles/{figure}.rst",
            category="Saddle points",
        ),
        pdf=out("figures/saddles/{figure}.pdf"),
    wildcard_constraints:
        figure="|".join(SADDLES_FIGURES),
    params:
        figure="{figure}",
        settings=lambda w: SADDLES_PLOT_SETTINGS[w.figure],
    log:
        log_of("saddles_plot", "_{figure}"),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        CONDA_ENV
    script:
        "../../scripts/saddles/plot.py"


rule saddles_claims:
    input:
        critical_points=rules.saddles_gather.output[0],
        optimizers=rules.saddles_compare.output[0],
    output:
        out("claims/saddles.json"),
    params:
        experiment="saddles",
        settings={**SADDLES_CUTOFFS, **SADDLES["claims"]},
    log:
        log_of("saddles_claims"),
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        CONDA_ENV
    script:
        "../../scripts/evaluate_claims.py"
