# The claims table (claims.json, claims.md, claims.html) and the pieces of the HTML report:
# `snakemake --report results/<run_name>/report.html` shows every figure with its caption,
# grouped by paper (each experiment's report category), with that paper's claims and verdicts
# beside its figures, and the whole claims table under "Claims".
from landscapes import report as _report


report: "../report/workflow.rst"


# Each figure's caption gets its claims' verdicts (read from the claims files when the report
# is made); caption paths may name wildcards (`../report/<exp>/{figure}.rst`).
_report.annotate_captions(workflow, CLAIMS, RESULTS)
REPORT_CATEGORIES = {name: e.category for name, e in EXPERIMENTS.items()}
CLAIM_EXPERIMENTS = list(EXPERIMENTS)
# Built by `rule all`, so the report finds every experiment's claims page.
FIGURES += [out(f"report/claims/{e}.html") for e in CLAIM_EXPERIMENTS]


localrules:
    gather_claims,
    claims_page,


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
