# Large-batch training and sharp minima (Keskar et al. 2017) and its critics: weight scale
# (Li et al. 2018, section 5) and reparametrization (Dinh et al. 2017).
#
# A run is {net}/b{batch}_wd{wd}_s{seed} (names.SharpRun): a network of `networks`, trained
# with batch size `batch`, weight decay `wd` and replicate seed `seed`. SB is the network's
# train.batch_size, LB its large_batch. Claims are evaluated per seed; the figures draw
# Keskar's runs, the sweep and the weight norms over every seed and the rest at the first.

include: "helpers/sharpness_runs.smk"


wildcard_constraints:
    net="|".join(SHARP_NETS),
    batch=r"\d+",
    wd=r"[0-9.e+-]+",
    seed=r"\d+",


localrules:
    sharpness_summary,
    sharpness_seed_summary,
    sharpness_li_table,


rule sharpness_train:
    input:
        data=lambda w: dataset(SHARP_NETS[w.net]["dataset"]),
    output:
        model=sharp_path("models", "{net}/b{batch}_wd{wd}_s{seed}.safetensors"),
        metrics=sharp_path("metrics", "{net}/b{batch}_wd{wd}_s{seed}.json"),
    params:
        model=lambda w: SHARP_NETS[w.net]["model"],
        train=sharp_train_config,
        seed=lambda w: int(w.seed),
    log:
        out("logs/sharpness_train/{net}/b{batch}_wd{wd}_s{seed}.log"),
    benchmark:
        out("benchmarks/sharpness_train/{net}/b{batch}_wd{wd}_s{seed}.tsv")
    threads: SHARP["threads"]
    resources:
        mem_mb=4000,
        runtime=120,
        gpu=SHARP["gpu"],
    conda:
        CONDA_ENV
    script:
        "../../scripts/sharpness/train.py"


rule sharpness_measure:
    input:
        data=lambda w: dataset(SHARP_NETS[w.net]["dataset"]),
        model=rules.sharpness_train.output.model,
        metrics=rules.sharpness_train.output.metrics,
    output:
        sharp_path("measurements", "{net}/b{batch}_wd{wd}_s{seed}.json"),
    params:
        model=lambda w: SHARP_NETS[w.net]["model"],
        metric=SHARP["metric"],
        seed=lambda w: int(w.seed),
        run=lambda w: {"net": w.net, "batch": int(w.batch), "weight_decay": float(w.wd),
                       "sb": w.batch == str(sharp_sb(w.net)),
                       "lb": w.batch == str(sharp_lb(w.net))},
    log:
        out("logs/sharpness_measure/{net}/b{batch}_wd{wd}_s{seed}.log"),
    benchmark:
        out("benchmarks/sharpness_measure/{net}/b{batch}_wd{wd}_s{seed}.tsv")
    threads: SHARP["threads"]
    resources:
        mem_mb=8000,
        runtime=60,
        gpu=SHARP["gpu"],
    conda:
        CONDA_ENV
    script:
        "../../scripts/sharpness/measure.py"


rule sharpness_interpolate:
    input:
        data=lambda w: dataset(SHARP_NETS[w.net]["dataset"]),
        sb=lambda w: sharp_path("models", f"{sharp_run(w.net, sharp_sb(w.net), w.seed, w.wd)}.safetensors"),
        lb=lambda w: sharp_path("models", f"{sharp_run(w.net, sharp_lb(w.net), w.seed, w.wd)}.safetensors"),
    output:
        sharp_path("measurements", "{net}/interp_wd{wd}_s{seed}.npz"),
    params:
        model=lambda w: SHARP_NETS[w.net]["model"],
        alphas=SHARP["parametric"],
        seed=lambda w: int(w.seed),
    log:
        out("logs/sharpness_interpolate/{net}/wd{wd}_s{seed}.log"),
    benchmark:
        out("benchmarks/sharpness_interpolate/{net}/wd{wd}_s{seed}.tsv")
    threads: SHARP["threads"]
    resources:
        mem_mb=4000,
        runtime=30,
        gpu=SHARP["gpu"],
    conda:
        CONDA_ENV
    script:
        "../../scripts/sharpness/interpolate.py"


rule sharpness_slice:
    input:
        data=lambda w: dataset(SHARP_NETS[w.net]["dataset"]),
        model=rules.sharpness_train.output.model,
    output:
        sharp_path("measurements", "{net}/slice_b{batch}_wd{wd}_s{seed}.npz"),
    params:
        model=lambda w: SHARP_NETS[w.net]["model"],
        n_points=SHARP["li"]["n_points"],
        extent=SHARP["li"]["extent"],
        seed=lambda w: int(w.seed),
    log:
        out("logs/sharpness_slice/{net}/b{batch}_wd{wd}_s{seed}.log"),
    benchmark:
        out("benchmarks/sharpness_slice/{net}/b{batch}_wd{wd}_s{seed}.tsv")
    threads: SHARP["threads"]
    resources:
        mem_mb=4000,
        runtime=30,
        gpu=SHARP["gpu"],
    conda:
        CONDA_ENV
    script:
        "../../scripts/sharpness/slice.py"


# Li et al. Fig. 3, bottom row: the training loss on a plane of two filter-normalized
# directions around one weight-decay minimizer (the first of them is its slice's direction).
# The figure draws the first seed's planes; no claim reads them, so the other seeds have none.
rule sharpness_plane:
    input:
        data=lambda w: dataset(SHARP_NETS[w.net]["dataset"]),
        model=rules.sharpness_train.output.model,
    output:
        sharp_path("measurements", "{net}/plane_b{batch}_wd{wd}_s{seed}.npz"),
    params:
        model=lambda w: SHARP_NETS[w.net]["model"],
        points=SHARP["li"]["plane_points"],
        extent=SHARP["li"]["extent"],
        seed=lambda w: int(w.seed),
    log:
        out("logs/sharpness_plane/{net}/b{batch}_wd{wd}_s{seed}.log"),
    benchmark:
        out("benchmarks/sharpness_plane/{net}/b{batch}_wd{wd}_s{seed}.tsv")
    threads: SHARP["threads"]
    resources:
        mem_mb=4000,
        runtime=30,
        gpu=SHARP["gpu"],
    conda:
        CONDA_ENV
    script:
        "../../scripts/sharpness/plane.py"


# Li et al.'s four minimizers over every replicate seed: final losses, test error and weight
# norms (mean and std), for the figures and the README.
rule sharpness_li_table:
    input:
        runs=sharp_li_metrics(SHARP_SEEDS),
    output:
        json=sharp_path("measurements", "li_table.json"),
        csv=sharp_path("measurements", "li_table.csv"),
        md=sharp_path("measurements", "li_table.md"),
    params:
        network=SHARP["li"]["network"],
        sb=sharp_sb(SHARP["li"]["network"]),
    log:
        log_of("sharpness_li_table"),
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        CONDA_ENV
    script:
        "../../scripts/sharpness/li_table.py"


rule sharpness_reparam:
    input:
        data=dataset(SHARP_NETS[SHARP["reparam"]["network"]]["dataset"]),
        model=lambda w: sharp_reparam_model(int(w.seed)),
    output:
        sharp_path("measurements", "reparam_s{seed}.npz"),
    params:
        model=SHARP_NETS[SHARP["reparam"]["network"]]["model"],
        settings=SHARP["reparam"],
        seed=lambda w: int(w.seed),
    log:
        log_of("sharpness_reparam", "_s{seed}"),
    benchmark:
        out("benchmarks/sharpness_reparam_s{seed}.tsv")
    threads: SHARP["threads"]
    resources:
        mem_mb=4000,
        runtime=60,
        gpu=SHARP["gpu"],
    conda:
        CONDA_ENV
    script:
        "../../scripts/sharpness/reparam.py"


# Keskar's Tables 2-4 and the sweep over every replicate seed (mean and std, LB/SB ratios
# with intervals), for the figures and the claims that pool the seeds.
rule sharpness_summary:
    input:
        **sharp_summary_inputs(SHARP_SEEDS),
    output:
        json=sharp_path("measurements", "summary.json"),
        csv=sharp_path("measurements", "table.csv"),
        md=sharp_path("measurements", "table.md"),
    params:
        keskar=SHARP["keskar"],
        eps=SHARP["metric"]["eps"],
        sweep=SHARP["sweep"],
        sb={net: sharp_sb(net) for net in SHARP_NETS},
        lb={net: sharp_lb(net) for net in SHARP_NETS},
    log:
        log_of("sharpness_summary"),
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        CONDA_ENV
    script:
        "../../scripts/sharpness/summary.py"


# The same tables at one replicate seed, for that seed's claims.
use rule sharpness_summary as sharpness_seed_summary with:
    input:
        unpack(lambda w: sharp_summary_inputs([int(w.seed)])),
    output:
        json=sharp_path("measurements", "seed{seed}/summary.json"),
        csv=sharp_path("measurements", "seed{seed}/table.csv"),
        md=sharp_path("measurements", "seed{seed}/table.md"),
    params:
        keskar=SHARP["keskar"],
        eps=SHARP["metric"]["eps"],
        sweep=SHARP["sweep"],
        sb={net: sharp_sb(net) for net in SHARP_NETS},
        lb={net: sharp_lb(net) for net in SHARP_NETS},
    log:
        log_of("sharpness_seed_summary", "_s{seed}"),


SHARP_SEED = SHARP_SEEDS[0]
SHARP_SUMMARY = rules.sharpness_summary.output.json
experiment(
    "sharpness",
    category="Sharp minima",
    figures={
        "parametric": Figure({"interps": sharp_keskar_interps(SHARP_SEED)}),
        "sharpness": Figure({"summary": SHARP_SUMMARY}),
        "sweep": Figure({"summary": SHARP_SUMMARY}),
        "weight_decay": Figure({"interps": sharp_li_interps(SHARP_SEED),
                                "runs": sharp_li_metrics(SHARP_SEEDS),
                                "models": sharp_li_models(SHARP_SEED),
                                "table": rules.sharpness_li_table.output.json}),
        "filter_normalized": Figure({"slices": sharp_li_slices(SHARP_SEED),
                                     "planes": sharp_li_planes(SHARP_SEED),
                                     "runs": sharp_li_metrics([SHARP_SEED])}),
        "reparam": Figure({"reparam": sharp_path("measurements", f"reparam_s{SHARP_SEED}.npz")}),
    },
    claims=lambda seed: {
        "summary": sharp_path("measurements", f"seed{seed}/summary.json"),
        "summary_all": SHARP_SUMMARY,
        "parametric": sharp_keskar_interps(seed),
        "li_interps": sharp_li_interps(seed),
        "li_slices": sharp_li_slices(seed),
        "li_runs": sharp_li_metrics([seed]),
        "li_slices_all": [p for s in SHARP_SEEDS for p in sharp_li_slices(s)],
        "li_runs_all": sharp_li_metrics(SHARP_SEEDS),
        "reparam": sharp_path("measurements", f"reparam_s{seed}.npz"),
    },
)
