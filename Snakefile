# landscapes: one DAG that regenerates the key figures of the loss-landscape papers.
# `snakemake --cores all` builds everything for config/default.yaml; pass
# `--configfile config/tiny.yaml` or `config/paper.yaml` for the other scales.
import os
import sys

from snakemake.exceptions import WorkflowError
from snakemake.utils import min_version

min_version("9.0")

sys.path.insert(0, os.path.join(workflow.basedir, "src"))
from landscapes.pipeline import job_environment  # noqa: E402

# Jobs import the library from this checkout, whichever environment runs them.
job_environment(workflow.basedir)
from landscapes.config import ConfigError, validate  # noqa: E402


configfile: "config/default.yaml"


try:
    validate(config, os.path.join(workflow.basedir, "workflow/schemas"))
except ConfigError as e:
    raise WorkflowError(str(e)) from None


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/linear.smk"
include: "workflow/rules/minima.smk"
include: "workflow/rules/saddles.smk"
include: "workflow/rules/skips.smk"
include: "workflow/rules/sharpness.smk"
include: "workflow/rules/report.smk"


rule all:
    input:
        FIGURES,
        out("claims.md"),
        out("claims.json"),
    default_target: True
