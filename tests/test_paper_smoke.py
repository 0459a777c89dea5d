"""The paper scale end to end on the CPU: config/paper.yaml's datasets, loaders, downsampling
and full-size architectures (ResNet-20/56/110 with and without shortcuts, VGG-9, Keskar's F1
and C1), on small fabricated MNIST and CIFAR-10 in torchvision's on-disk formats, with the size
knobs shrunk by tests/paper_smoke.yaml. Every rule of the paper DAG must run."""

import re
import time

import pytest

import paper_data
from conftest import copy_repository
from test_workflow import snakemake

CONFIG = ("--configfile", "config/paper.yaml", "tests/paper_smoke.yaml")
RESULTS = "results/paper_smoke"


def planned_jobs(work) -> dict[str, int]:
    """Jobs per rule that a dry run plans (its job-stats table)."""
    out = snakemake("-n", *CONFIG, cwd=work).stdout
    table = out[out.index("Job stats:"):].split("\n\n")[0]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.M)
            if m.group(1) != "total"}


@pytest.fixture(scope="module")
def paper_smoke(tmp_path_factory):
    """A copy of the repository with fabricated data in resources/, run once."""
    work = copy_repository(tmp_path_factory.mktemp("paper_smoke"))
    resources = work / "resources"
    paper_data.write_mnist(resources, train_per_class=30, test_per_class=10)
    paper_data.write_cifar10(resources, train_per_class=20, test_per_class=5)
    paper_data.write_checksums(resources, resources / "checksums.json")
    planned = planned_jobs(work)
    start = time.monotonic()
    snakemake("--cores", "2", *CONFIG, cwd=work)
    print(f"paper smoke run: {time.monotonic() - start:.0f} s wall")
    return work, planned


@pytest.mark.workflow
def test_every_rule_of_the_paper_dag_ran(paper_smoke):
    work, planned = paper_smoke
    summary = snakemake("--summary", *CONFIG, cwd=work).stdout.splitlines()
    header = summary[0].split("\t")
    rows = [dict(zip(header, line.split("\t"))) for line in summary[1:] if line.strip()]
    made = {r["rule"] for r in rows if (work / r["output_file"]).is_file()}
    missing = [r["output_file"] for r in rows if not (work / r["output_file"]).is_file()]
    assert not missing, f"outputs not made: {missing[:10]}"
    assert set(planned) - {"all"} == made
    # the paper DAG uses every rule the workflow defines but those of a model of your own
    # (README, "Your own model"), which run only when user.models names one
    defined = set(snakemake("--list-rules", *CONFIG, cwd=work).stdout.split())
    assert {r for r in defined - set(planned) if not r.startswith("user_")} == set()


@pytest.mark.workflow
def test_figures_and_claims_table_were_written(paper_smoke):
    work, planned = paper_smoke
    figures = sorted((work / RESULTS / "figures").rglob("*.png"))
    assert len(figures) == planned["plot"] and all(f.stat().st_size > 0 for f in figures)
    assert all(f.with_suffix(".pdf").is_file() for f in figures)
    table = (work / RESULTS / "claims.md").read_text()
    assert "claims hold" in table and (work / RESULTS / "claims.json").is_file()
    for name in ("mnist", "mnist10", "cifar10"):
        assert (work / RESULTS / f"data/{name}.safetensors.prov.json").is_file()
