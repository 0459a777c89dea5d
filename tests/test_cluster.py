"""Cluster readiness: the executor profiles, the one-machine scheduler, and the tiny DAG run
through a cluster executor giving the same bytes as a local run.

The cluster-generic run submits every job through `cluster/local_cluster.py`, which runs it
as its own process in a sandbox holding only its declared inputs, so a rule that reads or
writes an undeclared file fails here. The slurm run needs a Slurm cluster on this machine
(`bash cluster/install_slurm.sh`, as root) and is skipped without one, except in CI, which
starts one (`.ci/run`) and sets LANDSCAPES_REQUIRE_SLURM=1.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).with_name("snakemake")
PROFILES = REPO / "profiles"
# A few targets so the runtime stays bounded as experiments are added: data preparation, a
# training run (checkpoint and metrics), measurements (arrays) and a figure.
TARGETS = [
    "results/tiny/surfaces/linear/seed0/surfaces.npz",
    "results/tiny/figures/linear/permutation.png",
]
# Jobs the cluster runs for these targets (the figure is a local rule).
REMOTE_RULES = {"prepare_data", "linear_surfaces", "linear_train_mlp", "linear_permutation"}
SIDECAR = ".prov.json"
# A stuck scheduler (a node down, a job pending forever) fails the test instead of hanging it.
RUN_TIMEOUT_S = 900
# Sidecar fields that differ between any two runs.
TIMES = ("start", "end")

spec = importlib.util.spec_from_file_location("local_cluster",
                                              REPO / "cluster" / "local_cluster.py")
local_cluster = importlib.util.module_from_spec(spec)
spec.loader.exec_module(local_cluster)


# ---- profiles ----------------------------------------------------------------------------

def profile(name: str) -> dict:
    return yaml.safe_load((PROFILES / name / "config.yaml").read_text())


def test_profiles_set_what_they_promise():
    default, slurm, generic = profile("default"), profile("slurm"), profile("cluster-generic")
    assert default["cores"] == "all" and default["rerun-incomplete"] and default["keep-going"]
    assert "mem_mb" in default["resources"] and default["resources"]["gpu"] == 1
    assert slurm["executor"] == "slurm" and slurm["jobs"] > 1
    # Account and partition belong to the user's global profile: a default-resources key
    # here would hide theirs.
    assert "default-resources" not in slurm
    assert not any("partition" in str(v) or "account" in str(v) for v in slurm.values())
    assert generic["executor"] == "cluster-generic"
    for key in ("submit", "status", "cancel"):
        script = PROFILES / "cluster-generic" / generic[f"cluster-generic-{key}-cmd"]
        assert script.resolve().is_file(), script


def dry_run(*args: str, cwd: Path = REPO) -> str:
    result = subprocess.run([str(SNAKEMAKE), "-n", "--snakefile", str(REPO / "Snakefile"), *args],
                            cwd=cwd, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout + result.stderr


def test_default_profile_caps_memory_below_this_machines(tmp_path):
    from snakemake.profiles import ProfileConfigFileParser

    with open(PROFILES / "default" / "config.yaml") as f:
        parsed = ProfileConfigFileParser().parse(f)
    limits = dict(item.split("=") for item in parsed["resources"])
    total_mb = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2**20
    assert 0.5 * total_mb < int(limits["mem_mb"]) < total_mb
    dry_run("--workflow-profile", str(PROFILES / "default"),
            "--configfile", str(REPO / "config/tiny.yaml"), cwd=tmp_path)


# The rules that train or measure a conv net at paper scale: each asks for a GPU there.
HEAVY_RULES = {"skips_train", "skips_surface_tile", "skips_slice", "skips_hessian_tile",
               "sharpness_train", "sharpness_measure", "sharpness_interpolate",
               "sharpness_slice", "sharpness_plane", "sharpness_reparam",
               "init_to_solution_line", "edge_of_stability_train", "mode_connectivity_endpoints",
               "mode_connectivity_curve"}


def test_slurm_profile_plans_the_paper_dag(tmp_path):
    """The paper DAG plans through the slurm profile, every cluster job with its resources."""
    text = dry_run("--workflow-profile", str(PROFILES / "slurm"),
                   "--configfile", str(REPO / "config/paper.yaml"), cwd=tmp_path)
    jobs = planned_jobs(text)
    remote = {rule: res for rule, local, res in jobs if not local}
    assert remote, "no job would go to the cluster"
    for rule, res in remote.items():
        assert "mem_mb" in res and "runtime" in res, f"{rule} lacks mem_mb or runtime: {res}"
    gpu = {rule: res for rule, res in remote.items() if re.search(r"\bgpu=[1-9]", res)}
    assert HEAVY_RULES <= gpu.keys(), f"heavy rules asking for no GPU: {HEAVY_RULES - gpu.keys()}"
    # Each GPU job also says how many CPUs feed its GPU (set-resources in the profile).
    lacking = sorted(rule for rule, res in gpu.items() if "cpus_per_gpu=" not in res)
    assert not lacking, f"GPU rules without cpus_per_gpu in the slurm profile: {lacking}"


def planned_jobs(text: str) -> list[tuple[str, bool, str]]:
    """(rule, is local, resources line) of every job with outputs in a dry run's printout."""
    jobs, current = [], None
    for line in text.splitlines():
        if line.startswith(("rule ", "localrule ")) and line.endswith(":"):
            current = {"rule": line.split()[1].rstrip(":"),
                       "local": line.startswith("localrule"), "resources": "", "output": False}
            jobs.append(current)
        elif current and line.strip().startswith("resources:"):
            current["resources"] = line.strip()
        elif current and line.strip().startswith("output:"):
            current["output"] = True
    return [(j["rule"], j["local"], j["resources"]) for j in jobs if j["output"]]


def test_every_rule_is_cluster_ready(monkeypatch):
    """Each rule declares mem_mb, runtime and a log; plots and claims run locally."""
    monkeypatch.chdir(REPO)
    from snakemake.api import SnakemakeApi
    from snakemake.settings.types import (
        ConfigSettings,
        OutputSettings,
        ResourceSettings,
        StorageSettings,
    )

    problems = []
    with SnakemakeApi(OutputSettings()) as api:
        workflow = api.workflow(
            resource_settings=ResourceSettings(), storage_settings=StorageSettings(),
            config_settings=ConfigSettings(configfiles=[REPO / "config/paper.yaml"]),
            snakefile=REPO / "Snakefile")._workflow
        for rule in workflow.rules:
            if not rule.output:  # target rules such as `all`
                continue
            missing = [r for r in ("mem_mb", "runtime") if r not in rule.resources]
            if not rule.log:
                missing.append("log")
            if missing:
                problems.append(f"{rule.name}: no {', '.join(missing)}")
            light = any(word in rule.name for word in ("plot", "claims", "table", "figure"))
            if light and rule.name not in workflow._localrules:
                problems.append(f"{rule.name}: a light rule not in localrules")
    assert not problems, "\n".join(problems)


# ---- the one-machine scheduler -----------------------------------------------------------

def jobscript(tmp_path: Path, workdir: Path, props: dict, command: str) -> Path:
    path = tmp_path / "job.sh"
    path.write_text("#!/bin/sh\n# properties = " + json.dumps(props) + "\n"
                    f"cd {workdir} && {command}\n")
    return path


def run_job(tmp_path: Path, props: dict, command: str,
            files: dict | None = None) -> tuple[str, Path, str]:
    """Submit one job through the scheduler and wait for it: (status, workdir, job output)."""
    workdir = tmp_path / "work"
    workdir.mkdir()
    (workdir / "in.txt").write_text("input\n")
    (workdir / "other.txt").write_text("not declared\n")
    for name, text in (files or {}).items():
        (workdir / name).write_text(text)
    script = jobscript(tmp_path, workdir, props, command)
    tool = REPO / "cluster" / "local_cluster.py"
    jobid = subprocess.run([sys.executable, str(tool), "submit", str(script)], cwd=workdir,
                           capture_output=True, text=True, check=True).stdout.strip()
    for _ in range(600):
        status = subprocess.run([sys.executable, str(tool), "status", jobid], cwd=workdir,
                                capture_output=True, text=True, check=True).stdout.strip()
        if status != "running":
            break
        subprocess.run(["sleep", "0.05"], check=True)
    out = (workdir / local_cluster.SPOOL / jobid / "job.out").read_text()
    return status, workdir, out


PROPS = {"type": "single", "rule": "copy", "input": ["in.txt"], "output": ["out/a.txt"],
         "log": ["logs/copy.log"]}


def test_job_sees_only_declared_inputs_and_returns_declared_outputs(tmp_path):
    status, workdir, out = run_job(
        tmp_path, PROPS,
        "test ! -e other.txt && mkdir -p out logs && cp in.txt out/a.txt"
        " && echo meta > out/a.txt.prov.json && echo done > logs/copy.log")
    assert status == "success", out
    assert (workdir / "out/a.txt").read_text() == "input\n"
    assert (workdir / "out/a.txt.prov.json").exists() and (workdir / "logs/copy.log").exists()


def test_inputs_sidecars_travel_with_them_and_are_not_taken_for_outputs(tmp_path):
    status, workdir, out = run_job(
        tmp_path, PROPS, "grep -q record in.txt.prov.json && mkdir -p out && cp in.txt out/a.txt",
        files={"in.txt.prov.json": "record\n"})
    assert status == "success", out
    assert (workdir / "in.txt.prov.json").read_text() == "record\n"


def test_reading_an_undeclared_file_fails(tmp_path):
    status, _, out = run_job(tmp_path, PROPS, "mkdir -p out && cp other.txt out/a.txt")
    assert status == "failed", out


def test_writing_an_undeclared_file_fails_naming_it(tmp_path):
    status, workdir, out = run_job(
        tmp_path, PROPS, "mkdir -p out && cp in.txt out/a.txt && echo x > stray.txt")
    assert status == "failed"
    assert "stray.txt" in out
    assert not (workdir / "out/a.txt").exists()


def test_failed_job_returns_its_log(tmp_path):
    status, workdir, _ = run_job(tmp_path, PROPS, "mkdir -p logs && echo why > logs/copy.log"
                                 " && exit 3")
    assert status == "failed"
    assert (workdir / "logs/copy.log").read_text() == "why\n"


def test_cancel_stops_a_running_job(tmp_path):
    workdir = tmp_path / "work"
    workdir.mkdir()
    (workdir / "in.txt").write_text("input\n")
    tool = [sys.executable, str(REPO / "cluster" / "local_cluster.py")]
    script = jobscript(tmp_path, workdir, PROPS, "sleep 60 && mkdir -p out && cp in.txt out/a.txt")
    jobid = subprocess.run([*tool, "submit", str(script)], cwd=workdir, capture_output=True,
                           text=True, check=True).stdout.strip()
    subprocess.run([*tool, "cancel", jobid], cwd=workdir, check=True)
    for _ in range(200):
        status = subprocess.run([*tool, "status", jobid], cwd=workdir, capture_output=True,
                                text=True, check=True).stdout.strip()
        if status != "running":
            break
        subprocess.run(["sleep", "0.05"], check=True)
    assert status == "failed"
    assert not (workdir / "out/a.txt").exists()


def test_declared_files_outside_the_workdir_are_refused():
    with pytest.raises(local_cluster.JobError, match="outside the working directory"):
        local_cluster.relative_inside("../secret.txt")
    with pytest.raises(local_cluster.JobError, match="outside the working directory"):
        local_cluster.relative_inside("/etc/passwd")


def test_a_jobscript_without_the_workdir_prefix_is_refused(tmp_path):
    with pytest.raises(local_cluster.JobError, match="cannot run it in a sandbox"):
        local_cluster.in_sandbox("cd /elsewhere && true\n", tmp_path, tmp_path / "s")


def test_unknown_job_ids_get_a_clear_error(tmp_path):
    result = subprocess.run([sys.executable, str(REPO / "cluster/local_cluster.py"), "status",
                             "nope"], cwd=tmp_path, capture_output=True, text=True, check=False)
    assert result.returncode == 1 and "no job 'nope'" in result.stderr


# ---- the tiny DAG through cluster executors -----------------------------------------------

def snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    workdir.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [str(SNAKEMAKE), "--snakefile", str(REPO / "Snakefile"), "--configfile",
         str(REPO / "config/tiny.yaml"), *args, *TARGETS],
        cwd=workdir, capture_output=True, text=True, check=False, timeout=RUN_TIMEOUT_S)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return result


@pytest.fixture(scope="module")
def local_run(tmp_path_factory) -> Path:
    workdir = tmp_path_factory.mktemp("local")
    snakemake(workdir, "--cores", "2", "--workflow-profile", "none")
    return workdir


def results(workdir: Path) -> dict[str, Path]:
    """Every file under results/, logs and benchmarks aside (they hold times)."""
    root = workdir / "results"
    return {str(p.relative_to(workdir)): p for p in sorted(root.rglob("*")) if p.is_file()
            and "logs" not in p.relative_to(root).parts
            and "benchmarks" not in p.relative_to(root).parts}


def assert_same_results(cluster: Path, local: Path) -> None:
    ours, theirs = results(cluster), results(local)
    assert sorted(ours) == sorted(theirs)
    assert any(name.endswith(".safetensors") for name in ours)
    for name, path in ours.items():
        if name.endswith(SIDECAR):
            # Same rule, params, threads, input and output hashes; only the times differ, and
            # the resources each executor fills in (remote ones add disk defaults).
            a, b = json.loads(path.read_text()), json.loads(theirs[name].read_text())
            for key in TIMES:
                a.pop(key), b.pop(key)
            for record in (a, b):  # each input's sidecar hash covers that sidecar's times
                for entries in record["inputs"].values():
                    for entry in entries:
                        entry.pop("sidecar_sha256")
            a["job"].pop("resources"), b["job"].pop("resources")
            assert a == b, name
        else:
            assert path.read_bytes() == theirs[name].read_bytes(), name


@pytest.mark.workflow
def test_cluster_generic_run_matches_local_run(local_run, tmp_path):
    workdir = tmp_path / "cluster"
    snakemake(workdir, "--workflow-profile", str(PROFILES / "cluster-generic"),
              "--seconds-between-status-checks", "1")
    assert_same_results(workdir, local_run)
    jobs = sorted((workdir / local_cluster.SPOOL).iterdir())
    ran = {local_cluster.job_properties(j / "jobscript.sh")["rule"] for j in jobs}
    assert ran == REMOTE_RULES
    assert all((j / "status").read_text().strip() == "success" for j in jobs)


def slurm_is_up() -> bool:
    if not (shutil.which("sbatch") and shutil.which("sinfo")):
        return False
    try:
        states = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True,
                                check=False, timeout=30)
    except subprocess.TimeoutExpired:  # installed, but no controller answers
        return False
    return states.returncode == 0 and any(
        s.strip("*~#") in ("idle", "mixed", "allocated") for s in states.stdout.split())


# CI starts the cluster (.ci/run) and sets this: there, a cluster that is not up fails the test
REQUIRE_SLURM = os.environ.get("LANDSCAPES_REQUIRE_SLURM") == "1"


@pytest.mark.workflow
@pytest.mark.skipif(not (slurm_is_up() or REQUIRE_SLURM), reason="no Slurm cluster here "
                    "(start one with `bash cluster/install_slurm.sh` as root)")
def test_slurm_run_matches_local_run(local_run, tmp_path):
    assert slurm_is_up(), "LANDSCAPES_REQUIRE_SLURM=1 but no Slurm cluster answers sinfo"
    workdir = tmp_path / "slurm"
    # A local cluster has no accounting database: status comes from squeue.
    run = snakemake(workdir, "--workflow-profile", str(PROFILES / "slurm"),
                    "--slurm-status-command", "squeue",
                    "--slurm-init-seconds-before-status-checks", "1",
                    "--seconds-between-status-checks", "2", "--latency-wait", "5")
    assert_same_results(workdir, local_run)
    # Every cluster job went through sbatch and finished as a completed Slurm job.
    ids = re.findall(r"submitted with SLURM jobid (\d+)", run.stdout + run.stderr)
    assert len(ids) == len(REMOTE_RULES)
    states = subprocess.run(["squeue", "-h", "--states=all", "-j", ",".join(ids), "-o", "%T"],
                            capture_output=True, text=True, check=True).stdout.split()
    assert states == ["COMPLETED"] * len(ids)
