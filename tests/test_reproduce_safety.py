"""`audit --reproduce` runs only the checkout's script of the recorded rule, and only when every
path a sidecar records stays in the audited artifact's results/<run_name>/.

Each test forges a sidecar in a small fake checkout. Both the checkout's script and the
forged one leave a marker file when run, so a refusal can be seen to have run nothing."""

import json
from pathlib import Path

import pytest

from landscapes import audit, cli, reproduce
from landscapes.provenance import sha256_file

REPO = Path(__file__).resolve().parents[1]
OUT = "results/tiny/made/out.txt"
IN = "results/tiny/data/in.txt"
LOG = "results/tiny/logs/make.log"

RULES = '''\
rule make:
    input:
        src="results/{run}/data/in.txt",
    output:
        out="results/{run}/made/out.txt",
    params:
        marker="",
    log:
        "results/{run}/logs/make.log",
    script:
        "../../scripts/make.py"


rule noscript:
    output:
        "results/{run}/made/out.txt",
    shell:
        "touch {output}"
'''
MAKE = '''\
from pathlib import Path

Path(snakemake.params.marker).write_text("the checkout's script ran")
Path(snakemake.output.out).parent.mkdir(parents=True, exist_ok=True)
Path(snakemake.output.out).write_bytes(Path(snakemake.input.src).read_bytes()[::-1])
'''
EVIL = 'from pathlib import Path\nPath(snakemake.params.marker + ".evil").write_text("ran")\n'


@pytest.fixture
def checkout(tmp_path) -> Path:
    """A checkout with one rule `make` (scripts/make.py) and its step already run."""
    root = tmp_path / "repo"
    (root / "workflow" / "rules").mkdir(parents=True)
    (root / "workflow" / "rules" / "make.smk").write_text(RULES)
    (root / "Snakefile").write_text('include: "workflow/rules/make.smk"\n')
    (root / "scripts").mkdir()
    (root / "scripts" / "make.py").write_text(MAKE)
    (root / "src").symlink_to(REPO / "src")  # the re-run imports this library
    for path, data in [(IN, b"recorded input"), (OUT, b"tupni dedrocer")]:
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(data)
    (root / "results" / "tiny" / "x").mkdir()
    (root / "results" / "tiny" / "x" / "evil.py").write_text(EVIL)
    forge(root, IN, inputs=[], outputs=[IN])  # audited like any artifact, not re-run here
    forge(root)
    return root


def marker(root: Path) -> Path:
    return root.parent / "marker"


def ran(root: Path) -> list[str]:
    """Which scripts left their marker."""
    return [p.name for p in sorted(root.parent.glob("marker*"))]


def forge(root: Path, output: str = OUT, **changes) -> dict:
    """Write the sidecar of `output` as step() writes it, with `changes` applied."""
    inputs, outputs = changes.pop("inputs", [IN]), changes.pop("outputs", [OUT])
    log = changes.pop("log", LOG)
    recorded_as = changes.pop("recorded_as", output)  # the sidecar's own output path
    script = root / changes.get("script", "scripts/make.py")
    record = {
        "rule": "make", "script": "scripts/make.py",
        "script_sha256": sha256_file(script) if script.is_file() else None,
        "params": {"marker": str(marker(root))}, "seed": None, "wildcards": {}, "threads": 1,
        "inputs": {"src": [{"path": p, "sha256": sha256_file(root / p)
                            if (root / p).is_file() else None} for p in inputs]},
        "outputs": {"out": outputs}, "log": [log], "library_files": {},
        "job": {"input": [["src", p] for p in inputs], "output": [["out", p] for p in outputs],
                "log": [[None, log]], "params": [["marker", str(marker(root))]],
                "resources": {}},
        "output": {"path": recorded_as, "sha256": sha256_file(root / output)},
    }
    record.update(changes)
    (root / (output + ".prov.json")).write_text(json.dumps(record))
    return record


def refusals(root: Path, target: str = OUT) -> list[str]:
    result = audit.audit(root / target, check_config=False, reproduce=True)
    (rep,) = result.reproductions
    assert not rep["identical"] and rep["outputs"] == [] and rep["seconds"] is None
    assert [f.message for f in result.findings if f.kind == "reproduce"] == rep["refused"]
    return rep["refused"]


def test_an_honest_step_is_re_run_with_the_checkouts_script(checkout):
    result = audit.audit(checkout / OUT, check_config=False, reproduce=True)
    assert result.ok, audit.format_audit(result)
    assert result.reproductions[0]["identical"] and ran(checkout) == ["marker"]


def test_a_recorded_script_outside_scripts_is_never_run(checkout):
    forge(checkout, script="results/tiny/x/evil.py")
    (why,) = refusals(checkout)
    assert why == ("refused to re-run rule make: its sidecar records script "
                   "'results/tiny/x/evil.py', but rule make of this workflow runs "
                   "scripts/make.py")
    assert ran(checkout) == []


def test_a_rule_the_workflow_does_not_define_is_never_run(checkout):
    forge(checkout, rule="evil", script="results/tiny/x/evil.py")
    (why,) = refusals(checkout)
    assert why.startswith("refused to re-run rule evil: the workflow defines no rule evil in "
                          "Snakefile, workflow/rules/*.smk")
    assert ran(checkout) == []


def test_a_rule_without_a_script_is_never_run(checkout):
    forge(checkout, rule="noscript")
    (why,) = refusals(checkout)
    assert "rule noscript (workflow/rules/make.smk:14) has no script: directive" in why
    assert ran(checkout) == []


@pytest.mark.parametrize("field, path, why", [
    ("inputs", "results/tiny/../../outside.txt", "has a '..' component"),
    ("log", "results/tiny/logs/../../../../escape.log", "has a '..' component"),
    ("outputs", "{outside}/abs.txt", "is absolute"),
    ("inputs", "elsewhere/in.txt", "is outside results/tiny/"),
    ("outputs", "results/default/made/out.txt", "is outside results/tiny/"),
])
def test_a_path_leaving_the_results_folder_is_refused(checkout, field, path, why):
    path = path.format(outside=checkout.parent)
    role = {"inputs": "input", "outputs": "output", "log": "log"}[field]
    forge(checkout, **{field: path if field == "log" else [path]})
    assert f"refused to re-run rule make: its {role} path {path!r} {why}" in refusals(checkout)
    assert ran(checkout) == []
    assert not (checkout.parent / "escape.log").exists()
    assert not (checkout.parent / "abs.txt").exists()


def test_the_sidecars_own_output_path_is_confined(checkout):
    forge(checkout, recorded_as="../x/out.txt")
    assert ("refused to re-run rule make: its sidecar output path '../x/out.txt' has a '..' "
            "component") in refusals(checkout)
    assert ran(checkout) == []


def test_a_symlink_out_of_the_results_folder_is_refused(checkout, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "in.txt").write_bytes(b"recorded input")
    (checkout / "results" / "tiny" / "linked").symlink_to(outside, target_is_directory=True)
    forge(checkout, inputs=["results/tiny/linked/in.txt"])
    (why,) = refusals(checkout)
    assert why == ("refused to re-run rule make: its input path 'results/tiny/linked/in.txt' "
                   f"resolves through a symlink to {outside.resolve()}/in.txt, outside "
                   "results/tiny/")
    assert ran(checkout) == []


def test_a_file_outside_results_is_not_re_run(checkout):
    (checkout / "made.txt").write_bytes((checkout / OUT).read_bytes())
    forge(checkout, output="made.txt")
    result = audit.audit(checkout / "made.txt", check_config=False, reproduce=True)
    assert "the audited file is not under results/<run_name>/" in result.reproductions[0][
        "summary"]
    assert ran(checkout) == []


def test_rule_files_carried_in_with_results_are_not_the_checkouts(checkout):
    """A sidecar's output path can make a folder under results/ look like the workflow root;
    a Snakefile, rule files and a script planted there are not this checkout's."""
    fake = checkout / "results" / "tiny" / "x"
    (fake / "workflow" / "rules").mkdir(parents=True)
    (fake / "workflow" / "rules" / "make.smk").write_text(RULES)
    (fake / "Snakefile").write_text("")
    (fake / "scripts").mkdir()
    (fake / "scripts" / "make.py").write_text(EVIL)
    for path in (IN, OUT):
        (fake / path).parent.mkdir(parents=True)
        (fake / path).write_bytes((checkout / path).read_bytes())
    forge(fake)
    (why,) = refusals(fake)
    assert why == (f"refused to re-run rule make: the workflow root {fake.resolve()} lies "
                   f"inside the results of the checkout {checkout.resolve()}, so its rule "
                   "files are not that checkout's")
    assert ran(checkout) == []


def test_the_command_line_names_the_refused_path_and_exits_1(checkout, capsys):
    forge(checkout, inputs=["/etc/hostname"])
    code = cli.main(["audit", "--reproduce", "--no-config", str(checkout / OUT)])
    text = capsys.readouterr().out
    assert code == 1
    assert (f"reproduce: {OUT}: refused to re-run rule make: its input path '/etc/hostname' "
            "is absolute") in text
    assert ran(checkout) == []


def test_reproduce_step_refuses_without_a_results_folder(checkout):
    record = json.loads((checkout / (OUT + ".prov.json")).read_text())
    rep = reproduce.reproduce_step(record, checkout, results_dir=None)
    assert rep["refused"] and rep["summary"].startswith("refused to re-run rule make")
    assert reproduce.results_dir_of(OUT) == "results/tiny"
    assert reproduce.results_dir_of("results/x.png") is None
    assert ran(checkout) == []


def test_only_inputs_may_be_checked_in_caption_texts(checkout):
    caption = "workflow/report/make/out.rst"  # what rule figure_captions reads
    (checkout / caption).parent.mkdir(parents=True)
    (checkout / caption).write_text("a caption")
    record = forge(checkout, inputs=[IN, caption])
    script, why = reproduce.refusals(record, checkout.resolve(), "results/tiny")
    assert why == [] and script == (checkout / "scripts" / "make.py").resolve()

    record = forge(checkout, inputs=["workflow/rules/make.smk"], log=caption)
    _, why = reproduce.refusals(record, checkout.resolve(), "results/tiny")
    assert why == ["refused to re-run rule make: its input path 'workflow/rules/make.smk' is "
                   "outside results/tiny/",
                   f"refused to re-run rule make: its log path '{caption}' is outside "
                   "results/tiny/"]
    assert ran(checkout) == []
