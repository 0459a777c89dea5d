# The deep linear network example: convexity in effective weights, the saddle at the origin,
# the role of the activation, and permutation symmetry. One folder per replicate seed.

from landscapes.viewers import LINEAR_GRIDS

LINEAR = config["linear"]


LINEAR_OUT = partial(seed_path, "linear")
LINEAR_GRID_NAMES = [key for key, _, _ in LINEAR_GRIDS]  # the 2D loss grids of surfaces.npz


LINEAR_SEED = seeds_of("linear")[0]  # the figures draw the first replicate


experiment(
    "linear",
    category="Deep linear networks",
    figures={
        "convexity": Figure({"surfaces": LINEAR_OUT("surfaces", "surfaces.npz", LINEAR_SEED)}),
        "activations": Figure({"surfaces": LINEAR_OUT("surfaces", "surfaces.npz", LINEAR_SEED)}),
        "permutation": Figure(
            {"permutation": LINEAR_OUT("measurements", "permutation.npz", LINEAR_SEED)}),
        "saddle": Figure({"saddle": LINEAR_OUT("measurements", "saddle.npz", LINEAR_SEED)}),
    },
    claims=lambda seed: {
        "surfaces": LINEAR_OUT("surfaces", "surfaces.npz", seed),
        "permutation": LINEAR_OUT("measurements", "permutation.npz", seed),
        "saddle": LINEAR_OUT("measurements", "saddle.npz", seed),
    },
)


rule linear_surfaces:
    output:
        LINEAR_OUT("surfaces", "surfaces.npz"),
    params:
        settings=LINEAR["surfaces"],
        seed=lambda w: int(w.seed),
    log:
        log_of("linear_surfaces", "_seed{seed}"),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        CONDA_ENV
    script:
        "../../scripts/linear/surfaces.py"


# The loss grids also for viewers: VTK structured grids (ParaView) and one interactive page
# in the report.
rule linear_viewer:
    input:
        rules.linear_surfaces.output[0],
    output:
        vts=expand(LINEAR_OUT("surfaces", "surfaces_{grid}.vts"), grid=LINEAR_GRID_NAMES,
                   allow_missing=True),
        html=report(
            LINEAR_OUT("surfaces", "surfaces.html"),
            caption="../report/viewers/linear.rst",
            category=EXPERIMENTS["linear"].category,
            subcategory="Interactive surfaces",
            labels={"grids": "loss grids of (a) and (b)", "seed": "{seed}"},
        ),
    log:
        log_of("linear_viewer", "_seed{seed}"),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        CONDA_ENV
    script:
        "../../scripts/linear/viewer.py"


FIGURES.extend(expand(LINEAR_OUT("surfaces", "surfaces{part}", "{s}"), s=seeds_of("linear"),
                      part=[".html", *(f"_{g}.vts" for g in LINEAR_GRID_NAMES)]))


rule linear_train_mlp:
    input:
        data=dataset(LINEAR["permutation"]["dataset"]),
    output:
        model=LINEAR_OUT("models", "mlp.safetensors"),
        metrics=LINEAR_OUT("metrics", "mlp.csv"),
    params:
        model=LINEAR["permutation"]["model"],
        train=LINEAR["permutation"]["train"],
        seed=lambda w: int(w.seed),
    log:
        log_of("linear_train_mlp", "_seed{seed}"),
    benchmark:
        out("benchmarks/linear_train_mlp_seed{seed}.tsv")
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
        LINEAR_OUT("measurements", "permutation.npz"),
    params:
        model=LINEAR["permutation"]["model"],
        n_alpha=LINEAR["permutation"]["n_alpha"],
        seed=lambda w: int(w.seed),
    log:
        log_of("linear_permutation", "_seed{seed}"),
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
        LINEAR_OUT("measurements", "saddle.npz"),
    params:
        settings=LINEAR["saddle"],
        seed=lambda w: int(w.seed),
    log:
        log_of("linear_saddle", "_seed{seed}"),
    benchmark:
        out("benchmarks/linear_saddle_seed{seed}.tsv")
    threads: 1  # tiny matrices: more threads only add overhead
    resources:
        mem_mb=1000,
        runtime=20,
    conda:
        CONDA_ENV
    script:
        "../../scripts/linear/saddle.py"
