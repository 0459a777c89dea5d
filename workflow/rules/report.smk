# The claims table (claims.json, claims.md, claims.html) and the pieces of the HTML report:
# `snakemake --report results/<run_name>/report.html` shows every figure with its caption and
# the verdicts of its claims, grouped by experiment (its report category), with a page of that
# experiment's claims beside its figures, and the whole claims table under "Claims".
import os as _os


report: "../report/workflow.rst"


REPORT_CATEGORIES = {name: e.category for name, e in EXPERIMENTS.items()}
# Each figure as [experiment, figure, PNG] and its caption source, from the working directory
# (the checkout's own, also when the workflow runs elsewhere with --directory).
REPORT_FIGURES = [[name, f, out(f"figures/{name}/{f}.png")]
                  for name, e in EXPERIMENTS.items() for f in e.figures]
REPORT_CAPTION_TEXTS = [_os.path.relpath(_os.path.join(workflow.basedir, "workflow", "report",
                                                       e, f"{f}.rst"))
                        for e, f, _ in REPORT_FIGURES]
CLAIM_EXPERIMENTS = list(EXPERIMENTS)
# Built by the default target, so `--report` finds the captions and every claims page.
FIGURES += [FIGURE_CAPTION] + [out(f"report/claims/{e}.html") for e in CLAIM_EXPERIMENTS]


localrules:
    gather_claims,
    claims_page,
    figure_captions,


rule gather_claims:
    input:
        CLAIMS,
    output:
        json=out("claims.json"),
        md=out("claims.md"),
        html=report(out("claims.html"), caption="../report/claims_table.rst",
                    category="Claims"),
    params:
        run_name=RUN,
    log:
        log_of("gather_claims"),
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        CONDA_ENV
    script:
        "../../scripts/gather_claims.py"


rule claims_page:
    input:
        out("claims/{experiment}.json"),
    output:
        report(out("report/claims/{experiment}.html"), caption="../report/claims_page.rst",
               category=lambda w: REPORT_CATEGORIES.get(w.experiment, w.experiment),
               subcategory="Claims and verdicts"),
    wildcard_constraints:
        experiment="|".join(CLAIM_EXPERIMENTS) or "none",
    params:
        title=lambda w: f"Claims: {REPORT_CATEGORIES.get(w.experiment, w.experiment)}",
    log:
        log_of("claims_page", "_{experiment}"),
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        CONDA_ENV
    script:
        "../../scripts/claims_page.py"


rule figure_captions:
    input:
        claims=CLAIMS,
        captions=REPORT_CAPTION_TEXTS,
    output:
        FIGURE_CAPTION,
    params:
        figures=REPORT_FIGURES,
    log:
        log_of("figure_captions"),
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        CONDA_ENV
    script:
        "../../scripts/figure_captions.py"
