# Helpers shared by every experiment's rules.

RUN = config["run_name"]
RESULTS = f"results/{RUN}"
CONDA_ENV = "../../envs/conda.yaml"

# Each experiment's rule file adds its figures (built by `rule all`) and its claims file.
FIGURES = []
CLAIMS = []


def out(path):
    """A path under this run's results folder."""
    return f"{RESULTS}/{path}"


def dataset(name):
    """The prepared tensors of a dataset named in config['datasets']."""
    return out(f"data/{name}.safetensors")


def figure(experiment, name):
    """PNG and PDF paths of one figure, as named outputs `png` and `pdf`."""
    base = out(f"figures/{experiment}/{name}")
    return {"png": f"{base}.png", "pdf": f"{base}.pdf"}


def log_of(rule_name, suffix=""):
    return out(f"logs/{rule_name}{suffix}.log")
