"""`landscapes audit`: drift is named, unaudited files fail, and a re-run gives identical bytes.

The workflow tests build one tiny-config figure (linear_surfaces -> plot) once per
session in a committed git copy of the repository (so sidecars record a clean commit), then
each test tampers with its own copy of that, Snakemake's records in .snakemake/ included.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from landscapes import audit, cli, provenance, reproduce
from landscapes.store import save_npz

REPO = Path(__file__).resolve().parents[1]
FIGURE = "results/tiny/figures/linear/convexity.png"
SURFACES = "results/tiny/surfaces/linear/seed0/surfaces.npz"


def tracked_files(repo: Path) -> list[str]:
    out = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=repo,
                         capture_output=True, text=True, check=True).stdout
    return [line for line in out.splitlines() if (repo / line).is_file()]


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> Path:
    """A copy of the repository in which the tiny convexity figure has been built."""
    root = tmp_path_factory.mktemp("built") / "repo"
    for name in tracked_files(REPO):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, root / name)
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "checkout under test")
    proc = subprocess.run([sys.executable, "-m", "snakemake", "--configfile", "config/tiny.yaml",
                           "--cores", "2", "--quiet", "all", "--", FIGURE], cwd=root,
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return root


@pytest.fixture
def repo(built, tmp_path) -> Path:
    """A private copy of the built repository, for a test to tamper with."""
    root = tmp_path / "repo"
    shutil.copytree(built, root, symlinks=True, ignore=shutil.ignore_patterns("locks"))
    return root


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=tests", "-c", "user.email=tests@localhost",
                           *args], cwd=root, capture_output=True, text=True,
                          check=True).stdout


def kinds(result) -> set[tuple[str, str]]:
    return {(f.kind, f.path) for f in result.findings}


def run_cli(args: list[str], capsys) -> tuple[int, str]:
    code = cli.main(args)
    return code, capsys.readouterr().out


def rewrite_record(repo: Path, path: str, record: dict) -> None:
    """Write `path`'s sidecar and, so that only what a test means to show is found, the
    sidecar hash each step that read it recorded (the chain; a forger would do the same)."""
    side = repo / (path + ".prov.json")
    side.write_text(json.dumps(record))
    new = provenance.sha256_file(side)
    for reader in (repo / "results").rglob("*.prov.json"):
        text = reader.read_text()
        if f'"path": "{path}"' in text:
            doc = json.loads(text)
            for entries in doc["inputs"].values():
                for entry in entries:
                    if entry["path"] == path:
                        entry["sidecar_sha256"] = new
            reader.write_text(json.dumps(doc))


# ------------------------------------------------------------------ on the tiny workflow


@pytest.mark.workflow
def test_clean_figure_passes_and_tree_reaches_the_measurement(built, capsys):
    code, text = run_cli(["audit", str(built / FIGURE)], capsys)
    assert code == 0, text
    assert "PASS" in text and SURFACES in text and "rule linear_surfaces" in text
    assert "params compared with config/tiny.yaml" in text

    code, text = run_cli(["audit", str(built / FIGURE), "--json", "--no-config"], capsys)
    doc = json.loads(text)
    assert code == 0 and doc["ok"] and doc["findings"] == []
    child = doc["tree"]["inputs"][0]
    assert child["path"] == SURFACES and child["step"]["rule"] == "linear_surfaces"
    assert child["step"]["params"]["settings"]["grid"] == 31


@pytest.mark.workflow
def test_flipped_byte_in_intermediate_artifact_is_named(repo, capsys):
    path = repo / SURFACES
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))

    result = audit.audit(repo / FIGURE, check_config=False)
    assert not result.ok
    assert ("modified", SURFACES) in kinds(result)
    assert ("stale", SURFACES) in kinds(result)  # the figure was drawn from other bytes
    code, text = run_cli(["audit", str(repo / FIGURE), "--no-config"], capsys)
    assert code == 1 and f"modified: {SURFACES}" in text


@pytest.mark.workflow
def test_edited_config_param_is_named(repo):
    config = repo / "config/tiny.yaml"
    text = config.read_text()
    assert "grid: 31" in text
    config.write_text(text.replace("grid: 31", "grid: 33"))

    result = audit.audit(repo / FIGURE)
    assert [f.path for f in result.findings] == [SURFACES]  # the plot's own params are as run
    finding = result.findings[0]
    assert finding.kind == "params" and "rule linear_surfaces changed" in finding.message
    assert "config keys changed since config/tiny.yaml at commit" in finding.message
    assert "linear.surfaces.grid was 31, config now gives 33" in finding.message


@pytest.mark.workflow
def test_config_edited_in_an_uncommitted_run_is_caught_but_not_named(repo):
    side = repo / (SURFACES + ".prov.json")
    record = json.loads(side.read_text())
    record["git"]["dirty"] = True
    rewrite_record(repo, SURFACES, record)
    config = repo / "config/tiny.yaml"
    config.write_text(config.read_text().replace("grid: 31", "grid: 33"))

    (finding,) = audit.audit(repo / FIGURE).findings
    assert (finding.kind, finding.path) == ("params", SURFACES)
    assert "the changed key cannot be named: it ran with uncommitted changes" in finding.message


@pytest.mark.workflow
def test_edited_sidecar_param_is_named(repo):
    side = repo / (SURFACES + ".prov.json")
    record = json.loads(side.read_text())
    record["params"]["seed"] = 1
    rewrite_record(repo, SURFACES, record)

    result = audit.audit(repo / FIGURE, check_config=False)  # caught from the sidecar alone
    assert kinds(result) == {("params", SURFACES)}
    message = result.findings[0].message
    assert "disagrees with itself" in message and "seed is 1, its job record says 0" in message


@pytest.mark.workflow
def test_file_no_rule_makes_and_a_renamed_rule_are_named(repo):
    old = "results/tiny/surfaces/linear/old.npz"  # as if its rule had been removed
    shutil.copy2(repo / SURFACES, repo / old)
    record = json.loads((repo / (SURFACES + ".prov.json")).read_text())
    record["output"]["path"] = old
    (repo / (old + ".prov.json")).write_text(json.dumps(record))

    pdf = FIGURE.replace(".png", ".pdf")  # as if its rule had been renamed
    record = json.loads((repo / (pdf + ".prov.json")).read_text())
    record["rule"] = "linear_figure"
    (repo / (pdf + ".prov.json")).write_text(json.dumps(record))

    (unmade, renamed, clean) = audit.audit_many([repo / old, repo / pdf, repo / FIGURE])
    assert [(f.kind, f.path) for f in unmade.findings] == [("params", old)]
    assert "no rule of the current workflow makes it" in unmade.findings[0].message
    assert [(f.kind, f.path) for f in renamed.findings] == [("params", pdf)]
    assert "made by rule linear_figure, the workflow now makes it with rule plot" in (
        renamed.findings[0].message)
    assert clean.ok and clean.params_compared


@pytest.mark.workflow
def test_params_without_snakemakes_record_are_not_called_matching(repo, capsys):
    shutil.rmtree(repo / ".snakemake" / "metadata")  # results copied without it
    code, text = run_cli(["audit", str(repo / FIGURE)], capsys)
    assert code == 0, text
    assert f"params of {SURFACES} not compared: Snakemake keeps no record" in text
    assert ("PASS: every hash, script and library module matches, every sidecar is the one "
            "the steps after it read\n") in text


@pytest.mark.workflow
def test_figure_without_sidecar_is_unaudited(repo, capsys):
    Path(str(repo / FIGURE) + ".prov.json").unlink()
    code, text = run_cli(["audit", str(repo / FIGURE), "--no-config"], capsys)
    assert code == 1
    assert "UNAUDITED" in text and f"unaudited: {FIGURE}" in text


@pytest.mark.workflow
def test_changed_script_and_missing_input_are_named(repo):
    script = repo / "scripts/plot.py"
    script.write_text(script.read_text() + "\n# edited\n")
    (repo / SURFACES).unlink()

    result = audit.audit(repo / FIGURE, check_config=False)
    assert kinds(result) == {("code", FIGURE), ("missing", SURFACES)}
    assert "scripts/plot.py" in result.findings[0].message


@pytest.mark.workflow
def test_reproduce_figure_gives_identical_png_and_pdf(built):
    result = audit.audit(built / FIGURE, check_config=False, reproduce=True)
    assert result.ok, audit.format_audit(result)
    (rep,) = result.reproductions
    assert rep["rule"] == "plot" and rep["identical"]
    paths = {o["path"] for o in rep["outputs"]}
    assert paths == {FIGURE, FIGURE.replace(".png", ".pdf")}
    assert all(o["sha256"] == o["recorded_sha256"] for o in rep["outputs"])


@pytest.mark.workflow
def test_reproduce_refuses_a_modified_input(repo):
    path = repo / SURFACES
    path.write_bytes(path.read_bytes() + b"\0")
    result = audit.audit(repo / FIGURE, check_config=False, reproduce=True)
    (rep,) = result.reproductions
    assert not rep["identical"] and "changed since the step ran" in rep["summary"]
    assert ("reproduce", FIGURE) in kinds(result)


def figure_records(repo: Path):
    """(sidecar path, record) of the figure's PNG and PDF: one step wrote both."""
    for path in (FIGURE, FIGURE.replace(".png", ".pdf")):
        side = repo / (path + ".prov.json")
        yield side, json.loads(side.read_text())


@pytest.mark.workflow
def test_forged_upstream_artifact_and_record_are_caught_at_the_figure(repo, capsys):
    # The measurement rewritten with its record's output hash, and the figure's record of
    # that input hash too: every file hashes to what its record says.
    path, side = repo / SURFACES, repo / (SURFACES + ".prov.json")
    save_npz(path, forged=np.zeros(3))
    record = json.loads(side.read_text())
    record["output"]["sha256"] = provenance.sha256_file(path)
    side.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
    for fig_side, fig in figure_records(repo):
        for entries in fig["inputs"].values():
            for entry in entries:
                if entry["path"] == SURFACES:
                    entry["sha256"] = provenance.sha256_file(path)
        fig_side.write_text(json.dumps(fig, indent=1, sort_keys=True) + "\n")

    result = audit.audit(repo / FIGURE, check_config=False)
    assert kinds(result) == {("chain", SURFACES)}, audit.format_audit(result)
    assert "its sidecar is not the record a step that read it saw" in result.findings[0].message
    code, text = run_cli(["audit", str(repo / FIGURE), "--no-config"], capsys)
    assert code == 1 and f"chain: {SURFACES}" in text


@pytest.mark.workflow
def test_records_older_than_the_chain_are_read_and_said_unchecked(repo, capsys):
    for fig_side, fig in figure_records(repo):
        for entries in fig["inputs"].values():
            for entry in entries:
                del entry["sidecar_sha256"]
        fig_side.write_text(json.dumps(fig))
    # A format-2 record without the field had it taken out: a finding.
    result = audit.audit(repo / FIGURE, check_config=False)
    assert kinds(result) == {("chain", FIGURE)}
    assert f"records no sidecar hash for input {SURFACES}: edited" in result.findings[0].message

    for fig_side, fig in figure_records(repo):
        fig["format"] = 1  # as written before the chain
        fig_side.write_text(json.dumps(fig))
    code, text = run_cli(["audit", str(repo / FIGURE), "--no-config"], capsys)
    assert code == 0, text
    assert f"chain of sidecars not checked at 1 step(s) whose records predate it (format 1; " \
        f"rerun them to record it): {FIGURE}" in text
    assert "every sidecar is the one" not in text


@pytest.mark.workflow
def test_a_job_refuses_a_truncated_input_naming_it_and_its_rule(repo):
    path = repo / SURFACES
    path.write_bytes(path.read_bytes()[:100])
    proc = subprocess.run([sys.executable, "-m", "snakemake", "--configfile",
                           "config/tiny.yaml", "--cores", "1", "--forcerun", "plot", "--",
                           FIGURE], cwd=repo, capture_output=True, text=True, check=False)
    assert proc.returncode != 0
    (_, record), _ = figure_records(repo)
    log = (repo / record["log"][0]).read_text()
    expected = (f"input {SURFACES} (made by rule linear_surfaces) is not the file its rule "
                "wrote")
    assert expected in log and "InputCheckError: " + expected in proc.stdout + proc.stderr
    assert "BadZipFile" not in proc.stdout + proc.stderr  # stopped before loading


def test_missing_path_is_a_usage_error(tmp_path, capsys):
    assert cli.main(["audit", str(tmp_path / "nothing.png")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_a_file_that_is_no_pipeline_artifact_is_a_usage_error(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("not an artifact")
    for path in (REPO / "README.md", tmp_path / "notes.txt"):
        assert cli.main(["audit", str(path)]) == 2
        err = capsys.readouterr().err
        assert f"{path} is not a pipeline artifact: it has no provenance sidecar" in err


def test_a_folder_without_artifacts_is_a_usage_error(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert cli.main(["audit", str(empty)]) == 2
    assert f"{empty}: the folder has no artifacts (it holds no files)" in capsys.readouterr().err
    (empty / "notes.txt").write_text("not an artifact")
    assert cli.main(["audit", str(empty)]) == 2
    assert "none of its 1 file(s) has a provenance sidecar" in capsys.readouterr().err


# ------------------------------------------------------------------ pieces


def test_stand_in_lists_match_snakemakes_named_lists():
    from snakemake.iocontainers import InputFiles, Params

    files = InputFiles(["a", "b", "c", "d"])
    files._set_name("data", 0)
    files._set_name("shards", 1, end=3)
    params = Params([{"grid": 3}, [1, 2], 5])
    params._set_name("settings", 0)
    params._set_name("sizes", 1)

    standin = reproduce.named_list(provenance.layout(files), files=True)
    assert list(standin) == ["a", "b", "c", "d"]
    assert standin.data == "a" and list(standin.shards) == ["b", "c"]
    assert dict(standin.items()).keys() == dict(files.items()).keys()
    assert provenance.layout(standin) == provenance.layout(files)

    p = reproduce.named_list(provenance.layout(params, paths=False), files=False)
    assert p.settings == {"grid": 3} and p.sizes == [1, 2] and list(p)[2] == 5


def test_stand_in_refuses_config_reads():
    with pytest.raises(KeyError, match="through params"):
        reproduce._NoConfig()["linear"]


def test_largest_difference_of_array_files(tmp_path):
    a, b = tmp_path / "a.npz", tmp_path / "b.npz"
    save_npz(a, loss=np.array([1.0, 2.0, 3.0]), grid=np.arange(3))
    save_npz(b, loss=np.array([1.0, 2.5, 3.0]), grid=np.arange(3))
    assert reproduce.largest_difference(a, b) == (
        "largest difference max|a - b| = 0.5 (array loss)")
    assert reproduce.largest_difference(tmp_path / "x.png", tmp_path / "y.png") is None


def test_params_diff_names_nested_keys():
    diffs = audit.params_diff({"settings": {"grid": 31, "lr": 0.5}, "seed": 0},
                              {"settings": {"grid": 33, "lr": 0.5}, "seed": 0, "new": 1})
    assert diffs == ["new recorded nothing, config now gives 1",
                     "settings.grid recorded 31, config now gives 33"]


def test_sidecar_edited_in_one_place_disagrees_with_itself():
    record = {"params": {"settings": {"grid": 31}, "seed": 0}, "seed": 0,
              "job": {"params": [["settings", {"grid": 31}], ["seed", 0], [None, "unnamed"]]}}
    assert audit.check_record(record, "a.npz") == []
    record["params"]["settings"]["grid"] = 33
    (finding,) = audit.check_record(record, "a.npz")
    assert finding.kind == "params" and finding.path == "a.npz"
    assert "settings.grid is 33, its job record says 31" in finding.message
    record["params"]["settings"]["grid"], record["seed"] = 31, 1
    assert "seed is 1, params.seed 0" in audit.check_record(record, "a.npz")[0].message


def test_config_a_step_ran_with_is_read_from_its_clean_commit(tmp_path):
    config = tmp_path / "config" / "tiny.yaml"
    config.parent.mkdir()
    config.write_text("linear: {grid: 31}\n")
    (tmp_path / "config" / "default.yaml").write_text("linear: {grid: 81, seed: 0}\n")
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "config")
    commit = git(tmp_path, "rev-parse", "HEAD").strip()
    config.write_text("linear: {grid: 33}\n")

    then, source = audit.run_config(tmp_path, config, {"git": {"commit": commit, "dirty": False}})
    assert then == {"linear": {"grid": 31, "seed": 0}}  # the overlay over the default
    assert source == f"config/tiny.yaml at commit {commit[:12]}"
    for git_state, why in [({"commit": commit, "dirty": True}, "uncommitted changes"),
                           ({"commit": None, "dirty": None}, "records no git commit"),
                           ({"commit": "0" * 40, "dirty": False}, "not in this checkout")]:
        then, source = audit.run_config(tmp_path, config, {"git": git_state})
        assert then is None and why in source


def test_python_dash_m_runs_the_cli(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "landscapes", "audit", str(tmp_path / "x.png")],
                          cwd=REPO, capture_output=True, text=True, check=False,
                          env={**os.environ, "PYTHONPATH": str(REPO / "src")})
    assert proc.returncode == 2 and "no such file" in proc.stderr
