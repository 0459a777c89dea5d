# Mode connectivity (Garipov et al. 2018; Draxler et al. 2018): two independently trained
# minima, the straight line between them, and a quadratic Bezier curve whose bend is trained to
# keep the loss low along it; the same between a net and its hidden-unit permutation (the deep
# linear example's permutation figure). Per replicate seed: one job trains both minima, one job
# per pair trains its curve and measures the paths and the plane through the three points.

include: "helpers/mode_connectivity_pairs.smk"

experiment(
    "mode_connectivity",
    category="Mode connectivity",
    figures={
        "paths": Figure({"independent": [modes_pair("independent", s)
                                         for s in seeds_of("mode_connectivity")]}),
        "plane": Figure({p: modes_pair(p, MODES_SEED) for p in MODES_PAIRS}),
        **({"permutation": Figure({"permuted": [modes_pair("permuted", s)
                                                for s in seeds_of("mode_connectivity")]})}
           if "permuted" in MODES_PAIRS else {}),
    },
    claims=lambda seed: {p: modes_pair(p, seed) for p in MODES_PAIRS},
)


rule mode_connectivity_endpoints:
    input:
        data=dataset(MODES["dataset"]),
    output:
        w1=MODES_OUT("models", "w1.safetensors"),
        w2=MODES_OUT("models", "w2.safetensors"),
        metrics=MODES_OUT("metrics", "endpoints.csv"),
    params:
        model=MODES["model"],
        train=MODES["train"],
        seed=lambda w: int(w.seed),
    log:
        log_of("mode_connectivity_endpoints", "_seed{seed}"),
    benchmark:
        out("benchmarks/mode_connectivity_endpoints_seed{seed}.tsv")
    threads: 1
    resources:
        mem_mb=2000,
        runtime=600 if MODES["gpu"] else 20,
        gpu=MODES["gpu"],
    conda:
        CONDA_ENV
    script:
        "../../scripts/mode_connectivity/endpoints.py"


rule mode_connectivity_curve:
    input:
        data=dataset(MODES["dataset"]),
        w1=rules.mode_connectivity_endpoints.output.w1,
        w2=rules.mode_connectivity_endpoints.output.w2,
    output:
        measurements=MODES_OUT("measurements", "{pair}.npz"),
        bend=MODES_OUT("models", "bend_{pair}.safetensors"),
    wildcard_constraints:
        pair="independent|permuted",
    params:
        model=MODES["model"],
        curve=MODES["curve"],
        measure=MODES["measure"],
        bn_policy=MODES["bn_policy"],
        seed=lambda w: int(w.seed),
    log:
        log_of("mode_connectivity_curve", "_seed{seed}_{pair}"),
    benchmark:
        out("benchmarks/mode_connectivity_curve_seed{seed}_{pair}.tsv")
    threads: 1
    resources:
        mem_mb=2000,
        runtime=600 if MODES["gpu"] else 20,
        gpu=MODES["gpu"],
    conda:
        CONDA_ENV
    script:
        "../../scripts/mode_connectivity/curve.py"
