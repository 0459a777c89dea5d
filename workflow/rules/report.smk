# The claims table: every experiment's claims gathered into claims.json and claims.md.


localrules:
    gather_claims,


rule gather_claims:
    input:
        CLAIMS,
    output:
        json=out("claims.json"),
        md=out("claims.md"),
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
