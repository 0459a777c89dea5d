# Helpers shared by every experiment's rules.
from functools import partial

from landscapes.config import replicate_seeds
from landscapes.experiment import Experiment, Figure
from landscapes.names import artifact

RUN = config["run_name"]
RESULTS = f"results/{RUN}"
CONDA_ENV = "../../envs/conda.yaml"

# Each experiment's rule file declares itself here with `experiment(...)`.
EXPERIMENTS = {}
# The targets of the default target: every figure, and what report.smk adds.
FIGURES = []


def out(path):
    """A path under this run's results folder."""
    return f"{RESULTS}/{path}"


# Every figure's caption with its claims' verdicts, one file (report.smk makes it) that each
# figure's `report(caption=...)` names: absolute, since Snakemake reads a relative caption
# path from the rule file's folder, not from the working directory.
FIGURE_CAPTION = out("report/figure_captions.rst")


def dataset(name):
    """The prepared tensors of a dataset named in config['datasets']."""
    return out(f"data/{name}.safetensors")


def log_of(rule_name, suffix=""):
    return out(f"logs/{rule_name}{suffix}.log")


def seed_path(experiment, kind, name, seed="{seed}"):
    """An experiment's artifact of one replicate seed: <kind>/<experiment>/seed<seed>/<name>
    (`seed` left as the wildcard by default)."""
    return out(f"{kind}/{experiment}/seed{seed}/{name}")


def per_model(key, path, models):
    """{<key>_<model>: path} for every model; `path` names the model as {m}."""
    return {artifact(key, m): path.replace("{m}", str(m)) for m in models}


def figure_of(wildcards):
    """The declared Figure a plot job draws."""
    return EXPERIMENTS[wildcards.experiment].figures[wildcards.figure]


def seeds_of(name):
    """The replicate seeds of an experiment (its section's `seed` and `replicates`)."""
    return replicate_seeds(config[name])


def experiment(name, category, figures, claims):
    """Declare an experiment: its report category, its figures {name: Figure(inputs,
    settings)} and `claims(seed)`, the artifacts its claims read for one replicate seed."""
    EXPERIMENTS[name] = Experiment(name, category, figures, claims, seeds_of(name))
    FIGURES.extend(out(f"figures/{name}/{figure}.png") for figure in figures)
