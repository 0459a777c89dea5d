import copy
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from landscapes.config import ConfigError, validate

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = ROOT / "workflow" / "schemas"
CONFIGS = sorted((ROOT / "config").glob("*.yaml"))


def tiny():
    return yaml.safe_load((ROOT / "config" / "tiny.yaml").read_text())


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_shipped_configs_are_valid(path):
    validate(yaml.safe_load(path.read_text()), SCHEMAS)


def _set(cfg, dotted, value):
    *parents, last = dotted.split(".")
    node = cfg
    for p in parents:
        node = node[p]
    if value is DELETE:
        del node[last]
    else:
        node[last] = value


DELETE = object()
MALFORMED = [
    ("unknown top-level key", "colour", "blue", "'colour'"),
    ("wrong type", "linear.seed", "zero", "linear.seed"),
    ("out of range", "datasets.digits.n_train", 3, "datasets.digits.n_train"),
    ("not an allowed value", "datasets.digits.source", "imagenet", "datasets.digits.source"),
    ("missing section", "linear", DELETE, "linear"),
    ("unknown nested key", "linear.permutation.train.lrate", 0.1, "linear.permutation.train"),
    ("bad run name", "run_name", "a/b", "run_name"),
    ("undefined dataset", "linear.permutation.dataset", "imagenet", "linear.permutation.dataset"),
    ("bad optimizer", "linear.permutation.train.optimizer", "lion",
     "linear.permutation.train.optimizer"),
]


@pytest.mark.parametrize("what,key,value,named", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_config_names_the_key(what, key, value, named):
    cfg = copy.deepcopy(tiny())
    _set(cfg, key, value)
    with pytest.raises(ConfigError) as info:
        validate(cfg, SCHEMAS)
    assert named in str(info.value)


def test_snakemake_rejects_bad_config_before_any_job(tmp_path):
    cfg = tiny()
    cfg["linear"]["seed"] = -1
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(cfg))
    snakemake = Path(sys.executable).parent / "snakemake"
    proc = subprocess.run([str(snakemake), "-n", "--configfile", str(bad)], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode != 0
    assert "config key 'linear.seed'" in proc.stderr + proc.stdout
    assert "Traceback" not in proc.stderr + proc.stdout


def test_config_reference_is_up_to_date():
    from landscapes.config import markdown_reference

    expected = markdown_reference(SCHEMAS)
    assert (ROOT / "config" / "README.md").read_text() == expected, \
        "config/README.md is out of date: run `python -m landscapes.config`"
