# Hessian outliers (Sagun, Bottou and LeCun 2016; Sagun et al. 2017): nets trained on the first
# k classes, for several k, and their training-loss Hessians at the end of training: the exact
# spectrum of a one-hidden-layer MLP and the stochastic Lanczos quadrature of a conv net. The
# outliers above the bulk should number about k. One job per net and replicate seed.

include: "helpers/hessian_outliers_artifacts.smk"

experiment(
    "hessian_outliers",
    category="Hessian outliers",
    figures={
        "mlp_spectra": Figure({"spectra": outliers_artifacts(OUTLIERS_SEEDS[0])["mlp_spectra"]},
                              OUTLIERS_READING),
        "outlier_count": Figure({"mlp_spectra": outliers_over_seeds("mlp_spectra"),
                                 "conv_densities": outliers_over_seeds("conv_densities")},
                                OUTLIERS_READING),
        "conv_densities": Figure(
            {"densities": outliers_artifacts(OUTLIERS_SEEDS[0])["conv_densities"]},
            OUTLIERS_READING),
    },
    claims=outliers_artifacts,
)


rule hessian_outliers_mlp:
    input:
        data=dataset(OUTLIERS["mlp"]["dataset"]),
    output:
        spectra=OUTLIERS_OUT("spectra", "mlp.npz"),
        nets=OUTLIERS_OUT("measurements", "mlp.csv"),
    params:
        model=OUTLIERS["mlp"]["model"],
        train=OUTLIERS["mlp"]["train"],
        classes=OUTLIERS["mlp"]["classes"],
        seed=lambda w: int(w.seed),
    log:
        log_of("hessian_outliers_mlp", "_seed{seed}"),
    benchmark:
        out("benchmarks/hessian_outliers_mlp_seed{seed}.tsv")
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    conda:
        CONDA_ENV
    script:
        "../../scripts/hessian_outliers/mlp.py"


rule hessian_outliers_conv:
    input:
        data=dataset(OUTLIERS["conv"]["dataset"]),
    output:
        densities=OUTLIERS_OUT("spectra", "conv.npz"),
        nets=OUTLIERS_OUT("measurements", "conv.csv"),
    params:
        model=OUTLIERS["conv"]["model"],
        train=OUTLIERS["conv"]["train"],
        classes=OUTLIERS["conv"]["classes"],
        slq=OUTLIERS["conv"]["slq"],
        seed=lambda w: int(w.seed),
    log:
        log_of("hessian_outliers_conv", "_seed{seed}"),
    benchmark:
        out("benchmarks/hessian_outliers_conv_seed{seed}.tsv")
    threads: 1
    resources:
        mem_mb=3000,
        runtime=60,
    conda:
        CONDA_ENV
    script:
        "../../scripts/hessian_outliers/conv.py"
