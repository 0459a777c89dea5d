import copy
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from landscapes.config import ConfigError, fill_defaults, load, merge, replicate_seeds, validate

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = ROOT / "workflow" / "schemas"
DEFAULT = ROOT / "config" / "default.yaml"
OVERLAYS = [ROOT / "config" / "tiny.yaml", ROOT / "config" / "paper.yaml"]


def tiny():
    return load([DEFAULT, ROOT / "config" / "tiny.yaml"], SCHEMAS)


def test_default_is_complete_and_valid():
    validate(fill_defaults(yaml.safe_load(DEFAULT.read_text()), SCHEMAS), SCHEMAS)


@pytest.mark.parametrize("path", OVERLAYS, ids=lambda p: p.name)
def test_shipped_overlays_are_valid_and_only_hold_differences(path):
    default = yaml.safe_load(DEFAULT.read_text())
    overlay = yaml.safe_load(path.read_text())
    load([DEFAULT, path], SCHEMAS)

    def same(base, over, key):  # a value equal to the default's is dead weight
        if isinstance(over, dict) and isinstance(base, dict):
            for k, v in over.items():
                if k in base:
                    same(base[k], v, f"{key}.{k}")
        else:
            assert over != base, f"{path.name}: '{key}' repeats the default's value"

    for k, v in overlay.items():
        if k in default and k != "run_name":
            same(default[k], v, k)


def test_merge_is_by_key_for_mappings_and_whole_for_lists():
    base = {"a": {"x": 1, "y": [1, 2]}, "b": 2}
    merged = merge(base, {"a": {"y": [3]}, "c": None})
    assert merged == {"a": {"x": 1, "y": [3]}, "b": 2, "c": None}
    assert base == {"a": {"x": 1, "y": [1, 2]}, "b": 2}  # untouched


def test_merge_matches_snakemakes_own():
    from snakemake.utils import update_config

    default = yaml.safe_load(DEFAULT.read_text())
    for path in OVERLAYS:
        theirs = copy.deepcopy(default)
        update_config(theirs, yaml.safe_load(path.read_text()))
        assert merge(default, yaml.safe_load(path.read_text())) == theirs


def test_an_overlay_without_a_section_runs_it_as_the_default(tmp_path):
    overlay = yaml.safe_load((ROOT / "config" / "tiny.yaml").read_text())
    del overlay["skips"]
    path = tmp_path / "overlay.yaml"
    path.write_text(yaml.safe_dump(overlay))
    cfg = load([DEFAULT, path], SCHEMAS)
    assert cfg["skips"] == load([DEFAULT], SCHEMAS)["skips"]
    assert cfg["run_name"] == "tiny"  # still its own outputs folder


def test_schema_defaults_fill_left_out_keys():
    cfg = yaml.safe_load(DEFAULT.read_text())
    assert "replicates" not in cfg["minima"]
    fill_defaults(cfg, SCHEMAS)
    assert cfg["minima"]["replicates"] == 1


def test_replicate_seeds_count_up_from_the_seed():
    assert replicate_seeds({"seed": 3, "replicates": 2}) == [3, 4]
    assert replicate_seeds({"seed": 0, "replicates": 1}) == [0]


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
    ("missing section of the complete config", "linear", DELETE, "linear"),
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
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"run_name": "bad", "linear": {"seed": -1}}))
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
