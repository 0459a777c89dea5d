# The edge of stability (Cohen et al. 2021): full-batch GD at several step sizes eta per
# architecture; the loss at every step and the top Hessian eigenvalue every few steps, against
# 2/eta. One job per (architecture, replicate seed) runs its step sizes.

include: "helpers/edge_of_stability_runs.smk"

experiment(
    "edge_of_stability",
    category="The edge of stability",
    figures={
        "loss_and_sharpness": Figure(eos_runs(EOS_SEED), {"labels": EOS_LABELS}),
        "sharpness_over_seeds": Figure(
            {artifact("runs", a): [EOS_OUT("measurements", f"runs/{a}.csv", s)
                                   for s in seeds_of("edge_of_stability")] for a in EOS_ARCHS},
            {"labels": EOS_LABELS, "band": EOS["claims"]["band"]}),
    },
    claims=eos_runs,
)


rule edge_of_stability_train:
    input:
        data=dataset(EOS["dataset"]),
    output:
        EOS_OUT("measurements", "runs/{arch}.csv"),
    wildcard_constraints:
        arch="|".join(EOS_ARCHS),
    params:
        arch=lambda w: EOS["architectures"][w.arch],
        sharpness=EOS["sharpness"],
        dtype=EOS.get("dtype", "float32"),
        seed=lambda w: int(w.seed),
    log:
        log_of("edge_of_stability_train", "_seed{seed}_{arch}"),
    benchmark:
        out("benchmarks/edge_of_stability_train_seed{seed}_{arch}.tsv")
    threads: 1
    resources:
        mem_mb=2000,
        runtime=600 if EOS["gpu"] else 30,
        gpu=EOS["gpu"],
    conda:
        CONDA_ENV
    script:
        "../../scripts/edge_of_stability/train.py"
