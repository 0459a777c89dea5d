"""The pipeline as a user runs it: plans for every scale, the tiny DAG end to end, lint."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from conftest import copy_repository
from landscapes import claims

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).parent / "snakemake")


def snakemake(*args, cwd=ROOT, check=True):
    proc = subprocess.run([SNAKEMAKE, *args], cwd=cwd, capture_output=True, text=True)
    if check and proc.returncode:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.mark.parametrize("config", ["tiny", "default", "paper"])
def test_dry_run_plans_every_scale(config, tmp_path):
    out = snakemake("-n", "--configfile", f"config/{config}.yaml", "--directory", str(tmp_path),
                    "--snakefile", str(ROOT / "Snakefile"))
    assert "gather_claims" in out.stdout


def test_lint_is_clean():
    out = snakemake("--lint", check=False)
    assert "Congratulations" in out.stdout + out.stderr, out.stdout + out.stderr


def test_python_is_lint_clean():
    ruff = Path(sys.executable).with_name("ruff")
    out = subprocess.run([str(ruff), "check", "src", "scripts", "tests", "benchmarks", "cluster"],
                         cwd=ROOT, capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stdout[-4000:]


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """The tiny config run once, end to end, in a copy of the repository."""
    work = copy_repository(tmp_path_factory.mktemp("tiny"))
    snakemake("--cores", "2", "--configfile", "config/tiny.yaml", cwd=work)
    return work


@pytest.mark.workflow
def test_every_declared_figure_exists_with_provenance(tiny_run):
    summary = snakemake("--summary", "--configfile", "config/tiny.yaml", cwd=tiny_run).stdout
    files = [line.split("\t")[0] for line in summary.splitlines()[1:] if line.strip()]
    figures = [f for f in files if "/figures/" in f]
    assert figures, "the DAG declares no figures"
    for f in figures:
        path = tiny_run / f
        assert path.stat().st_size > 0, f
        assert Path(f"{path}.prov.json").exists(), f"{f} has no provenance sidecar"
    assert all((tiny_run / f).exists() for f in files), "some declared outputs are missing"


@pytest.mark.workflow
def test_every_claim_was_evaluated(tiny_run):
    records = json.loads((tiny_run / "results/tiny/claims.json").read_text())
    experiments = {r["experiment"] for r in records}
    for exp in experiments:
        __import__(f"landscapes.claims.{exp}")
        expected = {fn.claim_info["id"] for fn in claims.REGISTRY[exp]}
        assert {r["id"] for r in records if r["experiment"] == exp} == expected
    modules = (tiny_run / "src/landscapes/claims").glob("*.py")
    # `user` is declared only when user.models names a model (tests/test_user.py runs it)
    assert {p.stem for p in modules if p.stem not in ("__init__", "user")} == experiments
    assert all(isinstance(r["holds"], bool) for r in records)
    # tiny runs the linear experiment at two replicate seeds: every claim is judged at each
    linear = [r for r in records if r["experiment"] == "linear"]
    assert linear and all(r["n"] == 2 and len(r["per_seed"]) == 2 for r in linear)
    assert all(r["held"] == sum(s["holds"] for s in r["per_seed"]) for r in linear)
    assert "claims hold" in (tiny_run / "results/tiny/claims.md").read_text()


@pytest.mark.workflow
def test_second_run_has_nothing_to_do(tiny_run):
    out = snakemake("-n", "--configfile", "config/tiny.yaml", cwd=tiny_run)
    assert "Nothing to be done" in out.stdout + out.stderr


KILL_TARGET = "results/tiny/figures/linear/permutation.png"


def _incomplete(work: Path) -> list[Path]:
    """Snakemake's markers of jobs that started and did not finish."""
    return [p for p in (work / ".snakemake" / "incomplete").glob("*") if p.is_file()]


@pytest.mark.workflow
def test_documented_recovery_after_a_kill_gives_the_same_bytes(tiny_run, tmp_path):
    """kill -9 of a run mid-job, then the README's recovery: `--unlock`, then the same
    command (the default profile reruns the incomplete job). The outputs are the clean run's
    bytes, and no half-written file is left under any name."""
    work = copy_repository(tmp_path)
    command = [SNAKEMAKE, "--cores", "2", KILL_TARGET, "--configfile", "config/tiny.yaml"]
    run = subprocess.Popen(command, cwd=work, start_new_session=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        while not _incomplete(work) or not (work / "results/tiny/data").exists():
            assert run.poll() is None, "the run ended before a job could be killed"
            assert time.monotonic() < deadline, "no job started within 5 minutes"
            time.sleep(0.2)
        time.sleep(1.0)  # well inside a job: imports and data loading take longer
    finally:
        os.killpg(run.pid, signal.SIGKILL)
        run.wait()
    assert _incomplete(work), "the kill did not land mid-job"
    locked = subprocess.run(command, cwd=work, capture_output=True, text=True)
    assert locked.returncode != 0 and "lock" in (locked.stdout + locked.stderr).lower()

    snakemake("--unlock", "--configfile", "config/tiny.yaml", cwd=work)
    snakemake(*command[1:], cwd=work)

    assert not _incomplete(work)
    made = [p for p in (work / "results/tiny").rglob("*") if p.is_file()]
    assert KILL_TARGET in {str(p.relative_to(work)) for p in made}
    for path in made:
        rel = path.relative_to(work)
        assert not path.name.endswith(".tmp"), f"{rel}: a half-written file was left"
        if rel.parts[2] in ("logs", "benchmarks") or path.name.endswith(".prov.json"):
            continue  # times differ between any two runs
        assert path.read_bytes() == (tiny_run / rel).read_bytes(), f"{rel} differs"


def test_plain_snakemake_uses_the_default_profile(tmp_path):
    """From the repository root, no --workflow-profile: Snakemake finds profiles/default."""
    out = snakemake("-n", "--configfile", "config/tiny.yaml")
    assert "Using workflow specific profile profiles/default" in out.stdout + out.stderr
    profile = yaml.safe_load((ROOT / "profiles/default/config.yaml").read_text())
    assert profile["rerun-incomplete"] is True  # what the README's recovery after a kill needs


DOCUTILS_PROBLEMS = ("(INFO/1)", "(WARNING/2)", "(ERROR/3)", "(SEVERE/4)", "system-message",
                     "System Message")


def test_docutils_problems_are_seen_where_the_report_shows_them():
    """The markers the report test looks for are what docutils writes for a broken caption."""
    import io

    from docutils.core import publish_parts

    stderr = io.StringIO()
    body = publish_parts("|undefined| substitution", writer_name="html",
                         settings_overrides={"warning_stream": stderr})["body"]
    assert any(m in body + stderr.getvalue() for m in DOCUTILS_PROBLEMS)


@pytest.mark.workflow
def test_the_tiny_report_builds_without_docutils_problems(tiny_run):
    report = "results/tiny/report.html"
    out = snakemake("--report", report, "--configfile", "config/tiny.yaml", cwd=tiny_run)
    html = (tiny_run / report).read_text(errors="replace")
    assert len(html) > 100_000
    for marker in DOCUTILS_PROBLEMS:
        assert marker not in out.stdout + out.stderr, f"docutils: {marker} in the report log"
        assert marker not in html, f"docutils: {marker} in the report"
