# The deep linear network example: convexity in effective weights, the saddle at the origin,
# the role of the activation, and permutation symmetry.

LINEAR = config["linear"]
# Each figure and the measurement it is drawn from.
LINEAR_FIGURES = {
    "convexity": out("surfaces/linear/surfaces.npz"),
    "activations": out("surfaces/linear/surfaces.npz"),
    "permutation": out("measurements/linear/permutation.npz"),
    "saddle": out("measurements/linear/saddle.npz"),
}
FIGURES += [out(f"figures/linear/{name}.png") for name in LINEAR_FIGURES]
CLAIMS.append(out("claims/linear.json"))


localrules:
    linear_plot,
    linear_claims,


rule linear_surfaces:
    output:
        out("surfaces/linear/surfaces.npz"),
    params:
        settings=LINEAR["surfaces"],
        seed=LINEAR["seed"],
    log:
        log_of("linear_surfaces"),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        CONDA_ENV
    script:
        "../../scripts/linear/surfaces.py"


rule linear_train_mlp:
    input:
        data=dataset(LINEAR["permutation"]["dataset"]),
    output:
        model=out("models/linear/mlp.safetensors"),
        metrics=out("metrics/linear/mlp.csv"),
    params:
        model=LINEAR["permutation"]["model"],
        train=LINEAR["permutation"]["train"],
        seed=LINEAR["seed"],
    log:
        log_of("linear_train_mlp"),
    benchmark:
        out("benchmarks/linear_train_mlp.tsv")
    threads: 2
    resources:
        mem_mb=2000,
        runtime=30,
    conda:
        CONDA_ENV
    script:
        "../../scripts/linear/train_mlp.py"


rule linear_permutation:
    input:
        data=dataset(LINEAR["permutation"]["dataset"]),
        model=rules.linear_train_mlp.output.model,
    output:
        out("measurements/linear/permutation.npz"),
    params:
        model=LINEAR["permutation"]["model"],
        n_alpha=LINEAR["permutation"]["n_alpha"],
        seed=LINEAR["seed"],
    log:
        log_of("linear_permutation"),
    threads: 2
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        CONDA_ENV
    script:
        "../../scripts/linear/permutation.py"


rule linear_saddle:
    output:
        out("measurements/linear/saddle.npz"),
    params:
        settings=LINEAR["saddle"],
        seed=LINEAR["seed"],
    log:
        log_of("linear_saddle"),
    benchmark:
        out("benchmarks/linear_saddle.tsv")
    threads: 1  # tiny matrices: more threads only add overhead
    resources:
        mem_mb=1000,
        runtime=20,
    conda:
        CONDA_ENV
    script:
        "../../scripts/linear/saddle.py"


rule linear_plot:
    input:
        lambda w: LINEAR_FIGURES[w.figure],
    output:
        png=report(
            out("figures/linear/{figure}.png"),
            caption="../report/linear/{figure}.rst",
            category="Deep linear networks",
        ),
        pdf=out("figures/linear/{figure}.pdf"),
    wildcard_constraints:
        figure="|".join(LINEAR_FIGURES),
    params:
        figure="{figure}",
    log:
        log_of("linear_plot", "_{figure}"),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        CONDA_ENV
    script:
        "../../scripts/linear/plot.py"


rule linear_claims:
    input:
        surfaces=rules.linear_surfaces.output[0],
        permutation=rules.linear_permutation.output[0],
        saddle=rules.linear_saddle.output[0],
    output:
        out("claims/linear.json"),
    params:
        experiment="linear",
        settings={"n_inits": LINEAR["saddle"]["n_inits"]},
    log:
        log_of("linear_claims"),
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        CONDA_ENV
    script:
        "../../scripts/evaluate_claims.py"
