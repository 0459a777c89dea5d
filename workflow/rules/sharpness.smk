# Large-batch training and sharp minima (Keskar et al. 2017) and its critics: weight scale
# (Li et al. 2018, section 5) and reparametrization (Dinh et al. 2017).
#
# A run is {net}/b{batch}_wd{wd}_s{seed}: a network of `networks`, trained with batch size
# `batch`, weight decay `wd` and seed `seed`. SB is the network's train.batch_size, LB its
# large_batch.

include: "sharpness_runs.smk"


wildcard_constraints:
    net="|".join(SHARP_NETS),
    batch=r"\d+",
    wd=r"[0-9.e+-]+",
    seed=r"\d+",


localrules:
    sharpness_summary,
    sharpness_plot,
    sharpness_claims,


rule sharpness_train:
    input:
        data=lambda w: dataset(SHARP_NETS[w.net]["dataset"]),
    output:
        model=out("models/sharpness/{net}/b{batch}_wd{wd}_s{seed}.safetensors"),
        metrics=out("metrics/sharpness/{net}/b{batch}_wd{wd}_s{seed}.json"),
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
        out("measurements/sharpness/{net}/b{batch}_wd{wd}_s{seed}.json"),
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
    conda:
        CONDA_ENV
    script:
        "../../scripts/sharpness/measure.py"


rule sharpness_interpolate:
    input:
        data=lambda w: dataset(SHARP_NETS[w.net]["dataset"]),
        sb=lambda w: out(f"models/sharpness/{w.net}/b{sharp_sb(w.net)}_wd{w.wd}_s{w.seed}.safetensors"),
        lb=lambda w: out(f"models/sharpness/{w.net}/b{sharp_lb(w.net)}_wd{w.wd}_s{w.seed}.safetensors"),
    output:
        out("measurements/sharpness/{net}/interp_wd{wd}_s{seed}.npz"),
    params:
        model=lambda w: SHARP_NETS[w.net]["model"],
        alphas=SHARP["parametric"],
        seed=lambda w: int(w.seed),
    log:
        out("logs/sharpness_interpolate/{net}/wd{wd}_s{seed}.log"),
    threads: SHARP["threads"]
    resources:
        mem_mb=4000,
        runtime=30,
    conda:
        CONDA_ENV
    script:
        "../../scripts/sharpness/interpolate.py"


rule sharpness_slice:
    input:
        data=lambda w: dataset(SHARP_NETS[w.net]["dataset"]),
        model=rules.sharpness_train.output.model,
    output:
        out("measurements/sharpness/{net}/slice_b{batch}_wd{wd}_s{seed}.npz"),
    params:
        model=lambda w: SHARP_NETS[w.net]["model"],
        n_points=SHARP["li"]["n_points"],
        extent=SHARP["li"]["extent"],
        seed=lambda w: int(w.seed),
    log:
        out("logs/sharpness_slice/{net}/b{batch}_wd{wd}_s{seed}.log"),
    threads: SHARP["threads"]
    resources:
        mem_mb=4000,
        runtime=30,
    conda:
        CONDA_ENV
    script:
        "../../scripts/sharpness/slice.py"


rule sharpness_reparam:
    input:
        data=dataset(SHARP_NETS[SHARP["reparam"]["network"]]["dataset"]),
        model=out(f"models/sharpness/{sharp_run(SHARP['reparam']['network'], sharp_sb(SHARP['reparam']['network']), SHARP['reparam']['seed'])}.safetensors"),
    output:
        out("measurements/sharpness/reparam.npz"),
    params:
        model=SHARP_NETS[SHARP["reparam"]["network"]]["model"],
        settings=SHARP["reparam"],
        seed=SHARP["reparam"]["seed"],
    log:
        log_of("sharpness_reparam"),
    benchmark:
        out("benchmarks/sharpness_reparam.tsv")
    threads: SHARP["threads"]
    resources:
        mem_mb=4000,
        runtime=60,
    conda:
        CONDA_ENV
    script:
        "../../scripts/sharpness/reparam.py"


rule sharpness_summary:
    input:
        measures=[out(f"measurements/sharpness/{r}.json") for r in sharp_measured_runs()],
        li=[out(f"metrics/sharpness/{r}.json") for r in sharp_li_runs()],
    output:
        json=out("measurements/sharpness/summary.json"),
        csv=out("measurements/sharpness/table.csv"),
        md=out("measurements/sharpness/table.md"),
    params:
        keskar=SHARP["keskar"],
        eps=SHARP["metric"]["eps"],
        sweep=SHARP["sweep"],
        li=SHARP["li"],
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


SHARP_FIGURE_INPUTS = {
    "parametric": {"interps": sharp_keskar_interps()},
    "sharpness": {"summary": rules.sharpness_summary.output.json},
    "sweep": {"summary": rules.sharpness_summary.output.json},
    "weight_decay": {"summary": rules.sharpness_summary.output.json,
                     "interps": sharp_li_interps(), "slices": sharp_li_slices()},
    "reparam": {"reparam": rules.sharpness_reparam.output[0]},
}


rule sharpness_plot:
    input:
        unpack(lambda w: SHARP_FIGURE_INPUTS[w.figure]),
    output:
        png=report(
            out("figures/sharpness/{figure}.png"),
            caption="../report/sharpness/{figure}.rst",
            category="Sharp minima",
        ),
        pdf=out("figures/sharpness/{figure}.pdf"),
    wildcard_constraints:
        figure="|".join(SHARP_FIGURES),
    params:
        figure="{figure}",
    log:
        log_of("sharpness_plot", "_{figure}"),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        CONDA_ENV
    script:
        "../../scripts/sharpness/plot.py"


rule sharpness_claims:
    input:
        summary=rules.sharpness_summary.output.json,
        parametric=sharp_keskar_interps(),
        li_interps=sharp_li_interps(),
        li_slices=sharp_li_slices(),
        reparam=rules.sharpness_reparam.output[0],
    output:
        out("claims/sharpness.json"),
    params:
        experiment="sharpness",
        settings={"keskar": SHARP["keskar"], "eps": SHARP["metric"]["eps"],
                  "weight_decays": SHARP["li"]["weight_decays"], "li_network": SHARP["li"]["network"],
                  "radius": 0.25},
    log:
        log_of("sharpness_claims"),
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        CONDA_ENV
    script:
        "../../scripts/evaluate_claims.py"
