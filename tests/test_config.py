import copy
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from landscapes.config import (ConfigError, check_sources, fill_defaults, load, merge, read,
                               replicate_seeds, validate)

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


def _tiny_without(tmp_path, section):
    overlay = yaml.safe_load((ROOT / "config" / "tiny.yaml").read_text())
    del overlay[section]
    path = tmp_path / "overlay.yaml"
    path.write_text(yaml.safe_dump(overlay))
    return path, overlay


def test_an_overlay_missing_a_section_is_reported_by_name(tmp_path):
    path, _ = _tiny_without(tmp_path, "skips")
    with pytest.raises(ConfigError, match=r"overlay.yaml.*no section 'skips'"):
        check_sources(DEFAULT, [path], {})


def test_an_empty_section_runs_it_exactly_as_the_default(tmp_path):
    path, overlay = _tiny_without(tmp_path, "skips")
    path.write_text(yaml.safe_dump({**overlay, "skips": {}}))
    check_sources(DEFAULT, [path], {})
    cfg = load([DEFAULT, path], SCHEMAS)
    assert cfg["skips"] == load([DEFAULT], SCHEMAS)["skips"]
    assert cfg["run_name"] == "tiny"  # still its own outputs folder


def test_an_overlay_names_its_run_name(tmp_path):
    path, _ = _tiny_without(tmp_path, "run_name")
    with pytest.raises(ConfigError, match="sets no run_name"):
        check_sources(DEFAULT, [path], {})


def test_the_shipped_configs_pass_the_source_check():
    check_sources(DEFAULT, [DEFAULT, *OVERLAYS], {})


def test_command_line_values_are_refused():
    with pytest.raises(ConfigError, match="--config run_name"):
        check_sources(DEFAULT, [], {"run_name": "x"})


BROKEN_FILES = [
    ("syntax", "run_name: x\nlinear:\n  replicates: [1\n  seed: 2\n", "line 4, column 7"),
    ("tab", "run_name: x\nlinear:\n\tseed: 2\n", "line 3, column 1"),
    ("empty", "", "is empty"),
    ("only a comment", "# nothing\n", "is empty"),
    ("a list", "- run_name\n", "not a list"),
]


@pytest.mark.parametrize("what,text,says", BROKEN_FILES, ids=[b[0] for b in BROKEN_FILES])
def test_a_broken_config_file_is_named_with_line_and_column(tmp_path, what, text, says):
    path = tmp_path / "broken.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        read(path)
    assert str(path) in str(info.value) and says in str(info.value)


def test_a_missing_config_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match="nope.yaml: cannot read"):
        read(tmp_path / "nope.yaml")


def _cli(*args):
    return subprocess.run([str(Path(sys.executable).parent / "landscapes"), *args], cwd=ROOT,
                          capture_output=True, text=True)


def test_check_config_command_names_file_line_and_section(tmp_path):
    assert _cli("check-config", "config/tiny.yaml", "config/paper.yaml").returncode == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("run_name: x\nlinear: [1\n")
    proc = _cli("check-config", str(bad))
    assert proc.returncode == 2 and f"{bad}: not valid YAML at line" in proc.stderr
    path, _ = _tiny_without(tmp_path, "minima")
    proc = _cli("check-config", str(path))
    assert proc.returncode == 2 and "no section 'minima'" in proc.stderr


@pytest.mark.parametrize("extra", [[], ["--config", "run_name=x"]], ids=["section", "--config"])
def test_snakemake_refuses_a_partial_config_or_command_line_values(tmp_path, extra):
    path, _ = _tiny_without(tmp_path, "skips")
    if extra:
        path = ROOT / "config" / "tiny.yaml"
    proc = subprocess.run([str(Path(sys.executable).parent / "snakemake"), "-n",
                           "--configfile", str(path), *extra], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode != 0
    assert ("no section 'skips'" if not extra else "--config run_name") in proc.stdout + proc.stderr


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
    sections = {k: {} for k, v in yaml.safe_load(DEFAULT.read_text()).items()
                if isinstance(v, dict)}
    bad.write_text(yaml.safe_dump({**sections, "run_name": "bad", "linear": {"seed": -1}}))
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


def test_the_cifar10_saddles_overlay_stacks_on_the_paper_scale():
    paper, cifar = ROOT / "config" / "paper.yaml", ROOT / "config" / "paper_cifar10.yaml"
    cfg = load([DEFAULT, paper, cifar], SCHEMAS)
    assert cfg["run_name"] == "paper_cifar10" and cfg["experiments"] == ["saddles"]
    assert cfg["saddles"]["dataset"] == "cifar10_10"
    assert cfg["datasets"]["cifar10_10"]["size"] == 10
    assert cfg["saddles"]["n_runs"] == load([DEFAULT, paper], SCHEMAS)["saddles"]["n_runs"]
    assert _cli("check-config", "config/paper.yaml", "config/paper_cifar10.yaml").returncode == 0
