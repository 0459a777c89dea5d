# Li et al. 2018: filter-normalized loss surfaces of ResNets with and without shortcuts, their
# Hessian non-convexity maps and the PCA plane of the training trajectory. Surfaces and maps
# are computed as tiles (blocks of grid rows), one job each, merged by a gather rule. One
# folder per replicate seed.
from landscapes.names import resnets

SKIPS = config["skips"]
SKIPS_DEPTHS = SKIPS["depths"]
SKIPS_MODELS = [str(m) for m in resnets(SKIPS_DEPTHS)]
SKIPS_TILES = {"random": SKIPS["surface"]["tiles"], "pca": SKIPS["trajectory"]["tiles"]}


if SKIPS["train"].get("trajectory_every", 0) < 1:
    raise WorkflowError("config key 'skips.train.trajectory_every' must be at least 1: the "
                        "PCA plane of the training trajectory needs its points")


wildcard_constraints:
    skips_model="|".join(SKIPS_MODELS),


localrules:
    skips_surface,
    skips_hessian,


SKIPS_OUT = partial(seed_path, "skips")
SKIPS_EACH = partial(per_model, models=SKIPS_MODELS)  # {<key>_<model>: path} for every model


# The ResNet of each model id, and its training settings (the shared ones, with the model's
# overrides).
SKIPS_SPECS = {
    str(m): {"name": "resnet", "depth": m.depth, "shortcuts": m.shortcuts, **SKIPS["model"]}
    for m in resnets(SKIPS_DEPTHS)
}
SKIPS_TRAIN = {m: {**SKIPS["train"], **SKIPS["train_overrides"].get(m, {})} for m in SKIPS_MODELS}


SKIPS_SEED = seeds_of("skips")[0]  # the figures draw the first replicate
SKIPS_RANDOM = SKIPS_EACH("surface", SKIPS_OUT("surfaces", "{m}/random.npz", SKIPS_SEED))
SKIPS_SETTINGS = {"depths": SKIPS_DEPTHS}
experiment(
    "skips",
    category="Skip connections (Li et al. 2018)",
    figures={
        "contours": Figure(SKIPS_RANDOM, SKIPS_SETTINGS),
        "surface3d": Figure(SKIPS_RANDOM, SKIPS_SETTINGS),
        "slices": Figure(
            SKIPS_EACH("slice", SKIPS_OUT("surfaces", "{m}/slice.npz", SKIPS_SEED)),
            SKIPS_SETTINGS),
        "nonconvexity": Figure(
            {**SKIPS_EACH("hessian", SKIPS_OUT("hessians", "{m}.npz", SKIPS_SEED)),
             **SKIPS_RANDOM},
            SKIPS_SETTINGS),
        "trajectory": Figure(
            {**SKIPS_EACH("pca", SKIPS_OUT("surfaces", "{m}/pca.npz", SKIPS_SEED)),
             **SKIPS_EACH("directions",
                          SKIPS_OUT("surfaces", "{m}/directions.safetensors", SKIPS_SEED))},
            SKIPS_SETTINGS),
    },
    claims=lambda seed: {
        **SKIPS_EACH("surface", SKIPS_OUT("surfaces", "{m}/random.npz", seed)),
        **SKIPS_EACH("hessian", SKIPS_OUT("hessians", "{m}.npz", seed)),
        **SKIPS_EACH("metrics", SKIPS_OUT("metrics", "{m}.csv", seed)),
    },
)


rule skips_train:
    input:
        data=dataset(SKIPS["dataset"]),
    output:
        model=SKIPS_OUT("models", "{skips_model}.safetensors"),
        trajectory=SKIPS_OUT("models", "{skips_model}_trajectory.safetensors"),
        metrics=SKIPS_OUT("metrics", "{skips_model}.csv"),
    params:
        spec=lambda w: SKIPS_SPECS[w.skips_model],
        train=lambda w: SKIPS_TRAIN[w.skips_model],
        seed=lambda w: int(w.seed),
    log:
        log_of("skips_train", "_seed{seed}_{skips_model}"),
    benchmark:
        out("benchmarks/skips_train_seed{seed}_{skips_model}.tsv")
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
        SKIPS_OUT("surfaces", "{skips_model}/directions.safetensors"),
    params:
        spec=lambda w: SKIPS_SPECS[w.skips_model],
        settings=SKIPS["directions"],
        seed=lambda w: int(w.seed),
    log:
        log_of("skips_directions", "_seed{seed}_{skips_model}"),
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
        SKIPS_OUT("surfaces", "{skips_model}/{plane}/tile{tile}.npz"),
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
        seed=lambda w: int(w.seed),
    log:
        log_of("skips_surface_tile", "_seed{seed}_{skips_model}_{plane}_{tile}"),
    benchmark:
        out("benchmarks/skips_surface_tile_seed{seed}_{skips_model}_{plane}_{tile}.tsv")
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
        lambda w: expand(SKIPS_OUT("surfaces", "{m}/{p}/tile{t}.npz", w.seed), m=w.skips_model,
                         p=w.plane, t=range(SKIPS_TILES[w.plane])),
    output:
        SKIPS_OUT("surfaces", "{skips_model}/{plane}.npz"),
    wildcard_constraints:
        plane="random|pca",
    log:
        log_of("skips_surface", "_seed{seed}_{skips_model}_{plane}"),
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
        SKIPS_OUT("surfaces", "{skips_model}/slice.npz"),
    params:
        spec=lambda w: SKIPS_SPECS[w.skips_model],
        slice=SKIPS["slice"],
        surface=SKIPS["surface"],
        over=SKIPS["directions"]["over"],
        bn_policy=SKIPS["bn_policy"],
        seed=lambda w: int(w.seed),
    log:
        log_of("skips_slice", "_seed{seed}_{skips_model}"),
    benchmark:
        out("benchmarks/skips_slice_seed{seed}_{skips_model}.tsv")
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
        SKIPS_OUT("hessians", "{skips_model}/tile{tile}.npz"),
    wildcard_constraints:
        tile=r"\d+",
    params:
        spec=lambda w: SKIPS_SPECS[w.skips_model],
        tile=lambda w: int(w.tile),
        hessian=SKIPS["hessian"],
        extent=SKIPS["surface"]["extent"],
        seed=lambda w: int(w.seed),
    log:
        log_of("skips_hessian_tile", "_seed{seed}_{skips_model}_{tile}"),
    benchmark:
        out("benchmarks/skips_hessian_tile_seed{seed}_{skips_model}_{tile}.tsv")
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
        lambda w: expand(SKIPS_OUT("hessians", "{m}/tile{t}.npz", w.seed), m=w.skips_model,
                         t=range(SKIPS["hessian"]["tiles"])),
    output:
        SKIPS_OUT("hessians", "{skips_model}.npz"),
    log:
        log_of("skips_hessian", "_seed{seed}_{skips_model}"),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        CONDA_ENV
    script:
        "../../scripts/skips/gather.py"


# Every 2D surface also for viewers: a VTK structured grid (ParaView) and an interactive page
# in the report.
rule skips_viewer:
    input:
        rules.skips_surface.output[0],
    output:
        vts=SKIPS_OUT("surfaces", "{skips_model}/{plane}.vts"),
        html=report(
            SKIPS_OUT("surfaces", "{skips_model}/{plane}.html"),
            caption="../report/viewers/skips.rst",
            category=EXPERIMENTS["skips"].category,
            subcategory="Interactive surfaces",
            labels={"model": "{skips_model}", "plane": "{plane}", "seed": "{seed}"},
        ),
    wildcard_constraints:
        plane="random|pca",
    log:
        log_of("skips_viewer", "_seed{seed}_{skips_model}_{plane}"),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        CONDA_ENV
    script:
        "../../scripts/skips/viewer.py"


FIGURES.extend(expand(SKIPS_OUT("surfaces", "{m}/{p}.{ext}", "{s}"), s=seeds_of("skips"),
                      m=SKIPS_MODELS, p=("random", "pca"), ext=("vts", "html")))
