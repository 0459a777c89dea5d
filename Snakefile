# landscapes: one DAG that regenerates the key figures of the loss-landscape papers.
# `snakemake --cores all` builds everything for config/default.yaml; pass
# `--configfile config/tiny.yaml` or `config/paper.yaml` (overlays merged over the default)
# for the other scales.
import os
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.utils import min_version

min_version("9.0")

sys.path.insert(0, os.path.join(workflow.basedir, "src"))
from landscapes.job_environment import export_to_jobs  # noqa: E402

# Jobs import the library from this checkout, whichever environment runs them.
export_to_jobs(workflow.basedir)
from landscapes.config import ConfigError, check_sources, fill_defaults, validate  # noqa: E402

DEFAULT_CONFIG = os.path.join(workflow.basedir, "config", "default.yaml")


# The complete default (this checkout's, also when run with --directory elsewhere); a
# --configfile overlay is merged over it, key by key.
configfile: DEFAULT_CONFIG


try:
    check_sources(DEFAULT_CONFIG, workflow.overwrite_configfiles, workflow.config_settings.config)
    fill_defaults(config, os.path.join(workflow.basedir, "workflow/schemas"))
    validate(config, os.path.join(workflow.basedir, "workflow/schemas"))
except ConfigError as e:
    raise WorkflowError(str(e)) from None


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"


# Every other rule file is one experiment: its rules and its `experiment(...)` declaration of
# figures and claims' inputs. Adding a paper adds a file here; nothing else to include.
# `experiments` in the config picks some (a run of one's own model, say); null runs every one.
EXPERIMENT_FILES = [
    p.stem
    for p in sorted(Path(workflow.basedir, "workflow/rules").glob("*.smk"))
    if p.stem not in ("common", "data", "experiments", "report")
]
_unknown = sorted(set(config["experiments"] or []) - set(EXPERIMENT_FILES))
if _unknown:
    raise WorkflowError(
        f"config key 'experiments': no experiment {', '.join(map(repr, _unknown))}; "
        f"allowed: {', '.join(EXPERIMENT_FILES)}"
    )
for _name in config["experiments"] or EXPERIMENT_FILES:

    include: f"workflow/rules/{_name}.smk"


# One figure rule and one claims rule serve them all.
include: "workflow/rules/experiments.smk"
include: "workflow/rules/report.smk"


rule all:
    input:
        FIGURES,
        out("claims.md"),
        out("claims.json"),
    default_target: True
