# The straight line from initialization to solution (Goodfellow, Vinyals and Saxe 2015): each
# net trains from its replicate seed's initialization, keeping its path every epoch; one job
# per net and seed trains it and walks the line and the plane of its path.

LINE = config["init_to_solution"]
LINE_OUT = partial(seed_path, "init_to_solution")
LINE_NETS = list(LINE["nets"])

for _net, _spec in LINE["nets"].items():
    if _spec["dataset"] not in config["datasets"]:
        raise WorkflowError(f"config key 'init_to_solution.nets.{_net}.dataset': "
                            f"'{_spec['dataset']}' is not under datasets")


experiment(
    "init_to_solution",
    category="The line from initialization to solution",
    figures={figure: Figure({artifact("line", n): [LINE_OUT("measurements", f"{n}.npz", s)
                                                   for s in seeds_of("init_to_solution")]
                             for n in LINE_NETS})
             for figure in ("line", "path")},
    claims=lambda seed: {artifact("line", n): LINE_OUT("measurements", f"{n}.npz", seed)
                         for n in LINE_NETS},
)


rule init_to_solution_line:
    input:
        data=lambda w: dataset(LINE["nets"][w.net]["dataset"]),
    output:
        LINE_OUT("measurements", "{net}.npz"),
    wildcard_constraints:
        net="|".join(LINE_NETS),
    params:
        net=lambda w: LINE["nets"][w.net],
        alphas=LINE["alphas"],
        plane=LINE["plane"],
        seed=lambda w: int(w.seed),
    log:
        log_of("init_to_solution_line", "_{net}_seed{seed}"),
    benchmark:
        out("benchmarks/init_to_solution_line_{net}_seed{seed}.tsv")
    threads: 1
    resources:
        mem_mb=8000 if LINE["gpu"] else 2000,
        runtime=600 if LINE["gpu"] else 30,
        gpu=LINE["gpu"],
    conda:
        CONDA_ENV
    script:
        "../../scripts/init_to_solution/line.py"
