# One figure rule and one claims rule serve every experiment declared with `experiment(...)`:
# a figure is drawn by landscapes.figures.<experiment>.<figure>(artifacts, settings); the
# claims of landscapes.claims.<experiment> are evaluated once per replicate seed, then
# combined into "holds in k of n seeds".

CLAIMS = [out(f"claims/{name}.json") for name in EXPERIMENTS]


wildcard_constraints:
    experiment="|".join(EXPERIMENTS),


localrules:
    plot,
    claims,
    claims_over_seeds,


rule plot:
    input:
        unpack(lambda w: figure_of(w).inputs),
    output:
        png=report(
            out("figures/{experiment}/{figure}.png"),
            caption=os.path.abspath(FIGURE_CAPTION),
            category=lambda w: EXPERIMENTS[w.experiment].category,
            subcategory="Figures",
        ),
        pdf=out("figures/{experiment}/{figure}.pdf"),
    wildcard_constraints:
        figure="|".join(sorted({f for e in EXPERIMENTS.values() for f in e.figures})),
    params:
        experiment="{experiment}",
        figure="{figure}",
        settings=lambda w: figure_of(w).settings,
    log:
        log_of("plot", "_{experiment}_{figure}"),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        CONDA_ENV
    script:
        "../../scripts/plot.py"


rule claims:
    input:
        unpack(lambda w: EXPERIMENTS[w.experiment].claims(int(w.seed))),
    output:
        out("claims/{experiment}/seed{seed}.json"),
    wildcard_constraints:
        seed=r"\d+",
    params:
        experiment="{experiment}",
        settings=lambda w: config[w.experiment],
        seed=lambda w: int(w.seed),
    log:
        log_of("claims", "_{experiment}_seed{seed}"),
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        CONDA_ENV
    script:
        "../../scripts/evaluate_claims.py"


rule claims_over_seeds:
    input:
        lambda w: [out(f"claims/{w.experiment}/seed{s}.json")
                   for s in EXPERIMENTS[w.experiment].seeds],
    output:
        out("claims/{experiment}.json"),
    params:
        seeds=lambda w: EXPERIMENTS[w.experiment].seeds,
    log:
        log_of("claims_over_seeds", "_{experiment}"),
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        CONDA_ENV
    script:
        "../../scripts/claims_over_seeds.py"
