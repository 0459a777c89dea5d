# Li et al. 2018: filter-normalized loss surfaces of ResNets with and without shortcuts, their
# Hessian non-convexity maps and the PCA plane of the training trajectory. Surfaces and maps
# are computed as tiles (blocks of grid rows), one job each, merged by a gather rule.

SKIPS = config["skips"]
SKIPS_DEPTHS = SKIPS["depths"]
SKIPS_MODELS = [f"{kind}{d}" for d in SKIPS_DEPTHS for kind in ("resnet", "plain")]
SKIPS_DEEPEST = max(SKIPS_DEPTHS)
SKIPS_TILES = {"random": SKIPS["surface"]["tiles"], "pca": SKIPS["trajectory"]["tiles"]}
SKIPS_FIGURES = ("contours", "surface3d", "slices", "nonconvexity", "trajectory")
FIGURES += [out(f"figures/skips/{name}.png") for name in SKIPS_FIGURES]
CLAIMS.append(out("claims/skips.json"))


if SKIPS["train"].get("trajectory_every", 0) < 1:
    raise WorkflowError("config key 'skips.train.trajectory_every' must be at least 1: the "
                        "PCA plane of the training trajectory needs its points")


wildcard_constraints:
    skips_model="|".join(SKIPS_MODELS),


localrules:
    skips_surface,
    skips_hessian,
    skips_plot,
    skips_claims,


# The ResNet of each model name: resnet<depth> with shortcuts, plain<depth> without; and its
# training settings (the shared ones, with the model's overrides).
SKIPS_SPECS = {
    f"{kind}{d}": {"name": "resnet", "depth": d, "shortcuts": kind == "resnet", **SKIPS["model"]}
    for d in SKIPS_DEPTHS
    for kind in ("resnet", "plain")
}
SKIPS_TRAIN = {m: {**SKIPS["train"], **SKIPS["train_overrides"].get(m, {})} for m in SKIPS_MODELS}
SKIPS_RANDOM = {m: out(f"surfaces/skips/{m}/random.npz") for m in SKIPS_MODELS}
# What each figure is drawn from.
SKIPS_PLOT_INPUTS = {
    "contours": SKIPS_RANDOM,
    "surface3d": SKIPS_RANDOM,
    "slices": {m: out(f"surfaces/skips/{m}/slice.npz") for m in SKIPS_MODELS},
    "nonconvexity": {
        **{f"hessian_{m}": out(f"hessians/skips/{m}.npz") for m in SKIPS_MODELS},
        **SKIPS_RANDOM,
    },
    "trajectory": {
        **{m: out(f"surfaces/skips/{m}/pca.npz") for m in SKIPS_MODELS},
        **{f"directions_{m}": out(f"surfaces/skips/{m}/directions.safetensors") for m in SKIPS_MODELS},
    },
}


rule skips_train:
    input:
        data=dataset(SKIPS["dataset"]),
    output:
        model=out("models/skips/{skips_model}.safetensors"),
        trajectory=out("models/skips/{skips_model}_trajectory.safetensors"),
        metrics=out("metrics/skips/{skips_model}.csv"),
    params:
        spec=lambda w: SKIPS_SPECS[w.skips_model],
        train=lambda w: SKIPS_TRAIN[w.skips_model],
        seed=SKIPS["seed"],
    log:
        log_of("skips_train", "_{skips_model}"),
    benchmark:
        out("benchmarks/skips_train_{skips_model}.tsv")
    threads: 2
    resources:
        mem_mb=4000,
        runtime=600 if SKIPS["gpu"] else 30,
        gpu=SKIPS["gpu"],
    conda:
        CONDA_ENV
    script:
        "../../scripts/skips/train.py"


rule skips_directions:
    input:
        data=dataset(SKIPS["dataset"]),
        model=rules.skips_train.output.model,
        trajectory=rules.skips_train.output.trajectory,
    output:
        out("surfaces/skips/{skips_model}/directions.safetensors"),
    params:
        spec=lambda w: SKIPS_SPECS[w.skips_model],
        settings=SKIPS["directions"],
        seed=SKIPS["seed"],
    log:
        log_of("skips_directions", "_{skips_model}"),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        CONDA_ENV
    script:
        "../../scripts/skips/directions.py"


rule skips_surface_tile:
    input:
        data=dataset(SKIPS["dataset"]),
        model=rules.skips_train.output.model,
        directions=rules.skips_directions.output[0],
    output:
        out("surfaces/skips/{skips_model}/{plane}/tile{tile}.npz"),
    wildcard_constraints:
        plane="random|pca",
        tile=r"\d+",
    params:
        spec=lambda w: SKIPS_SPECS[w.skips_model],
        plane="{plane}",
        tile=lambda w: int(w.tile),
        n_tiles=lambda w: SKIPS_TILES[w.plane],
        surface=SKIPS["surface"],
        trajectory=SKIPS["trajectory"],
        over=SKIPS["directions"]["over"],
        bn_policy=SKIPS["bn_policy"],
        seed=SKIPS["seed"],
    log:
        log_of("skips_surface_tile", "_{skips_model}_{plane}_{tile}"),
    benchmark:
        out("benchmarks/skips_surface_tile_{skips_model}_{plane}_{tile}.tsv")
    threads: 1  # tiles are the parallel unit
    resources:
        mem_mb=4000,
        runtime=240 if SKIPS["gpu"] else 30,
        gpu=SKIPS["gpu"],
    conda:
        CONDA_ENV
    script:
        "../../scripts/skips/surface_tile.py"


rule skips_surface:
    input:
        lambda w: expand(out("surfaces/skips/{m}/{p}/tile{t}.npz"), m=w.skips_model,
                         p=w.plane, t=range(SKIPS_TILES[w.plane])),
    output:
        out("surfaces/skips/{skips_model}/{plane}.npz"),
    wildcard_constraints:
        plane="random|pca",
    log:
        log_of("skips_surface", "_{skips_model}_{plane}"),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        CONDA_ENV
    script:
        "../../scripts/skips/gather.py"


rule skips_slice:
    input:
        data=dataset(SKIPS["dataset"]),
        model=rules.skips_train.output.model,
        directions=rules.skips_directions.output[0],
    output:
        out("surfaces/skips/{skips_model}/slice.npz"),
    params:
        spec=lambda w: SKIPS_SPECS[w.skips_model],
        slice=SKIPS["slice"],
        surface=SKIPS["surface"],
        over=SKIPS["directions"]["over"],
        bn_policy=SKIPS["bn_policy"],
        seed=SKIPS["seed"],
    log:
        log_of("skips_slice", "_{skips_model}"),
    benchmark:
        out("benchmarks/skips_slice_{skips_model}.tsv")
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60 if SKIPS["gpu"] else 15,
        gpu=SKIPS["gpu"],
    conda:
        CONDA_ENV
    script:
        "../../scripts/skips/slice.py"


rule skips_hessian_tile:
    input:
        data=dataset(SKIPS["dataset"]),
        model=rules.skips_train.output.model,
        directions=rules.skips_directions.output[0],
    output:
        out("hessians/skips/{skips_model}/tile{tile}.npz"),
    wildcard_constraints:
        tile=r"\d+",
    params:
        spec=lambda w: SKIPS_SPECS[w.skips_model],
        tile=lambda w: int(w.tile),
        hessian=SKIPS["hessian"],
        extent=SKIPS["surface"]["extent"],
        seed=SKIPS["seed"],
    log:
        log_of("skips_hessian_tile", "_{skips_model}_{tile}"),
    benchmark:
        out("benchmarks/skips_hessian_tile_{skips_model}_{tile}.tsv")
    threads: 1
    resources:
        mem_mb=6000,
        runtime=600 if SKIPS["gpu"] else 30,
        gpu=SKIPS["gpu"],
    conda:
        CONDA_ENV
    script:
        "../../scripts/skips/hessian_tile.py"


rule skips_hessian:
    input:
        lambda w: expand(out("hessians/skips/{m}/tile{t}.npz"), m=w.skips_model,
                         t=range(SKIPS["hessian"]["tiles"])),
    output:
        out("hessians/skips/{skips_model}.npz"),
    log:
        log_of("skips_hessian", "_{skips_model}"),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        CONDA_ENV
    script:
        "../../scripts/skips/gather.py"


rule skips_plot:
    input:
        unpack(lambda w: SKIPS_PLOT_INPUTS[w.figure]),
    output:
        png=report(
            out("figures/skips/{figure}.png"),
            caption="../report/skips/{figure}.rst",
            category="Skip connections (Li et al. 2018)",
        ),
        pdf=out("figures/skips/{figure}.pdf"),
    wildcard_constraints:
        figure="|".join(SKIPS_FIGURES),
    params:
        figure="{figure}",
        depths=SKIPS_DEPTHS,
    log:
        log_of("skips_plot", "_{figure}"),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        CONDA_ENV
    script:
        "../../scripts/skips/plot.py"


rule skips_claims:
    input:
        **{f"surface_{m}": path for m, path in SKIPS_RANDOM.items()},
        **{f"hessian_{m}": out(f"hessians/skips/{m}.npz") for m in SKIPS_MODELS},
        **{f"metrics_{m}": out(f"metrics/skips/{m}.csv") for m in SKIPS_MODELS},
    output:
        out("claims/skips.json"),
    params:
        experiment="skips",
        settings={"depths": SKIPS_DEPTHS, **SKIPS["claims"]},
    log:
        log_of("skips_claims"),
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        CONDA_ENV
    script:
        "../../scripts/evaluate_claims.py"
