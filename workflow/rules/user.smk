# Your own models (config section `user`, README "Your own model") through the measurements
# of the papers: 2D filter-normalized surfaces in tiles and 1D slices (Li et al. 2018),
# Hessian extremes and |lambda_min / lambda_max| maps, the Hessian spectrum by stochastic
# Lanczos quadrature, and Keskar et al. 2017's sharpness. Declared only when a model is named,
# so the default DAG is unchanged. One folder per replicate seed and model.

include: "helpers/user_models.smk"


wildcard_constraints:
    user_model="|".join(USER_MODELS) or "no_user_model",


localrules:
    user_surface,
    user_hessian,


if USER_MODELS:
    USER_SEED = USER_SEEDS[0]  # the figures draw the first replicate
    USER_SURFACES = user_each("surface", "surfaces", "random.npz", USER_SEED)
    USER_SETTINGS = {"models": list(USER_MODELS)}
    experiment(
        "user",
        category="Your own models",
        figures={
            "contours": Figure(USER_SURFACES, USER_SETTINGS),
            "surface3d": Figure(USER_SURFACES, USER_SETTINGS),
            "slices": Figure(
                user_each("slice", "surfaces", "slice.npz", USER_SEED), USER_SETTINGS),
            "nonconvexity": Figure(
                {**user_each("hessian", "hessians", "hessian.npz", USER_SEED), **USER_SURFACES},
                USER_SETTINGS),
            "spectrum": Figure(
                user_each("spectrum", "hessians", "spectrum.npz", USER_SEED), USER_SETTINGS),
            "sharpness": Figure(
                user_each("sharpness", "measurements", "sharpness.json", USER_SEED),
                USER_SETTINGS),
        },
        claims=lambda seed: {
            **{artifact("check", m): user_check_path().format(user_model=m) for m in USER_MODELS},
            **user_each("surface", "surfaces", "random.npz", seed),
            **user_each("slice", "surfaces", "slice.npz", seed),
            **user_each("spectrum", "hessians", "spectrum.npz", seed),
        },
    )


rule user_check:
    input:
        unpack(user_inputs),
    output:
        user_check_path(),
    params:
        spec=user_spec,
        ignore_bias_bn=USER["directions"]["ignore_bias_bn"],
    log:
        log_of("user_check", "_{user_model}"),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    conda:
        CONDA_ENV
    script:
        "../../scripts/user/check.py"


rule user_directions:
    input:
        unpack(user_measure_inputs),
    output:
        user_path("surfaces", "directions.safetensors"),
    params:
        spec=user_spec,
        settings=USER["directions"],
        seed=lambda w: int(w.seed),
    log:
        log_of("user_directions", "_seed{seed}_{user_model}"),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    conda:
        CONDA_ENV
    script:
        "../../scripts/user/directions.py"


rule user_surface_tile:
    input:
        unpack(user_measure_inputs),
        directions=rules.user_directions.output[0],
    output:
        user_path("surfaces", "random/tile{tile}.npz"),
    wildcard_constraints:
        tile=r"\d+",
    params:
        spec=user_spec,
        tile=lambda w: int(w.tile),
        surface=USER["surface"],
        over=USER["directions"]["over"],
        bn_policy=USER["bn_policy"],
        seed=lambda w: int(w.seed),
    log:
        log_of("user_surface_tile", "_seed{seed}_{user_model}_{tile}"),
    benchmark:
        out("benchmarks/user_surface_tile_seed{seed}_{user_model}_{tile}.tsv")
    threads: 1  # tiles are the parallel unit
    resources:
        mem_mb=4000,
        runtime=240 if USER["gpu"] else 60,
        gpu=USER["gpu"],
    conda:
        CONDA_ENV
    script:
        "../../scripts/user/surface_tile.py"


rule user_surface:
    input:
        lambda w: expand(user_path("surfaces", "random/tile{t}.npz", w.seed),
                         user_model=w.user_model, t=range(USER["surface"]["tiles"])),
    output:
        user_path("surfaces", "random.npz"),
    log:
        log_of("user_surface", "_seed{seed}_{user_model}"),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        CONDA_ENV
    script:
        "../../scripts/user/gather.py"


rule user_slice:
    input:
        unpack(user_measure_inputs),
        directions=rules.user_directions.output[0],
    output:
        user_path("surfaces", "slice.npz"),
    params:
        spec=user_spec,
        slice=USER["slice"],
        surface=USER["surface"],
        over=USER["directions"]["over"],
        bn_policy=USER["bn_policy"],
        seed=lambda w: int(w.seed),
    log:
        log_of("user_slice", "_seed{seed}_{user_model}"),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60 if USER["gpu"] else 30,
        gpu=USER["gpu"],
    conda:
        CONDA_ENV
    script:
        "../../scripts/user/slice.py"


rule user_hessian_tile:
    input:
        unpack(user_measure_inputs),
        directions=rules.user_directions.output[0],
    output:
        user_path("hessians", "tile{tile}.npz"),
    wildcard_constraints:
        tile=r"\d+",
    params:
        spec=user_spec,
        tile=lambda w: int(w.tile),
        hessian=USER["hessian"],
        extent=USER["surface"]["extent"],
        seed=lambda w: int(w.seed),
    log:
        log_of("user_hessian_tile", "_seed{seed}_{user_model}_{tile}"),
    benchmark:
        out("benchmarks/user_hessian_tile_seed{seed}_{user_model}_{tile}.tsv")
    threads: 1
    resources:
        mem_mb=8000,
        runtime=600 if USER["gpu"] else 60,
        gpu=USER["gpu"],
    conda:
        CONDA_ENV
    script:
        "../../scripts/user/hessian_tile.py"


rule user_hessian:
    input:
        lambda w: expand(user_path("hessians", "tile{t}.npz", w.seed),
                         user_model=w.user_model, t=range(USER["hessian"]["tiles"])),
    output:
        user_path("hessians", "hessian.npz"),
    log:
        log_of("user_hessian", "_seed{seed}_{user_model}"),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        CONDA_ENV
    script:
        "../../scripts/user/gather.py"


rule user_spectrum:
    input:
        unpack(user_measure_inputs),
    output:
        user_path("hessians", "spectrum.npz"),
    params:
        spec=user_spec,
        spectrum=USER["spectrum"],
        seed=lambda w: int(w.seed),
    log:
        log_of("user_spectrum", "_seed{seed}_{user_model}"),
    benchmark:
        out("benchmarks/user_spectrum_seed{seed}_{user_model}.tsv")
    threads: 1
    resources:
        mem_mb=8000,
        runtime=240 if USER["gpu"] else 60,
        gpu=USER["gpu"],
    conda:
        CONDA_ENV
    script:
        "../../scripts/user/spectrum.py"


rule user_sharpness:
    input:
        unpack(user_measure_inputs),
    output:
        user_path("measurements", "sharpness.json"),
    params:
        spec=user_spec,
        sharpness=USER["sharpness"],
        seed=lambda w: int(w.seed),
    log:
        log_of("user_sharpness", "_seed{seed}_{user_model}"),
    benchmark:
        out("benchmarks/user_sharpness_seed{seed}_{user_model}.tsv")
    threads: 1
    resources:
        mem_mb=8000,
        runtime=120,
    conda:
        CONDA_ENV
    script:
        "../../scripts/user/sharpness.py"
