"""An experiment is one declarative unit: the walk-through of workflow/README.md, run.

The test writes the files the walk-through lists (read from its code blocks) into a copy of
the repository and builds the new figure and claims through the generic rules."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import copy_repository

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).parent / "snakemake")
MAX_FILES = 8  # the bound, README row included


def walkthrough() -> dict[str, str]:
    """{path: text} of every '### N. `path`' section's first code block."""
    text = (ROOT / "workflow" / "README.md").read_text()
    files = {}
    for match in re.finditer(r"^### \d+\. `([^`]+)`\n(.*?)^```\w*\n(.*?)^```", text,
                             re.MULTILINE | re.DOTALL):
        files[match[1]] = match[3]
    return files


def test_walkthrough_touches_at_most_eight_files():
    files = walkthrough()
    assert len(files) + 1 <= MAX_FILES, sorted(files)  # + the README's row
    assert not any((ROOT / path).exists() for path in files), "the toy is already here"


def test_every_figure_function_takes_artifacts_and_settings():
    import importlib
    import inspect

    for module in sorted((ROOT / "src/landscapes/figures").glob("*.py")):
        if module.stem == "__init__":
            continue
        figures = importlib.import_module(f"landscapes.figures.{module.stem}")
        public = [f for name, f in inspect.getmembers(figures, inspect.isfunction)
                  if f.__module__ == figures.__name__ and not name.startswith("_")]
        drawn = [f for f in public if list(inspect.signature(f).parameters)[:1] == ["artifacts"]]
        assert drawn, module
        for f in drawn:
            assert list(inspect.signature(f).parameters) == ["artifacts", "settings"], f


@pytest.fixture(scope="module")
def toy_repo(tmp_path_factory):
    work = copy_repository(tmp_path_factory.mktemp("toy"))
    for path, text in walkthrough().items():
        (work / path).parent.mkdir(parents=True, exist_ok=True)
        (work / path).write_text(text)
    return work


@pytest.mark.workflow
def test_toy_experiment_runs_through_the_generic_rules(toy_repo):
    targets = ["results/tiny/figures/toy/curve.png", "results/tiny/claims/toy.json"]
    proc = subprocess.run([SNAKEMAKE, *targets, "--cores", "2", "--configfile",
                           "config/tiny.yaml"], cwd=toy_repo, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    png = toy_repo / targets[0]
    assert png.stat().st_size > 0 and Path(f"{png}.prov.json").is_file()
    assert json.loads(Path(f"{png}.prov.json").read_text())["rule"] == "plot"
    (record,) = json.loads((toy_repo / targets[1]).read_text())
    assert record["id"] == "toy.convex" and record["holds"] is True
    assert record["n"] == 2 and record["held"] == 2 and record["seeds"] == [0, 1]
    # its own test passes, and the whole DAG (claims table, report) plans with it
    test = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "tests/test_toy.py"], cwd=toy_repo, capture_output=True, text=True)
    assert test.returncode == 0, test.stdout[-3000:]
    plan = subprocess.run([SNAKEMAKE, "-n", "--configfile", "config/tiny.yaml"], cwd=toy_repo,
                          capture_output=True, text=True)
    assert plan.returncode == 0 and "results/tiny/claims/toy.json" in plan.stdout, plan.stderr
