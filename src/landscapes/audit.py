"""Audit an artifact: its provenance tree down to the raw data, every recorded hash checked.

Each artifact under `results/` has a sidecar `<file>.prov.json` written by the step that made
it (see `provenance`). Starting from one artifact, the audit follows the recorded inputs to
their own sidecars, recursively, and checks at every step:

- the file is there and its bytes hash to what its sidecar recorded (else *missing* or
  *modified*: edited or corrupted);
- every input still hashes to what the step read (else the input was changed or regenerated
  after the step ran: the step is *stale*);
- the script and the library modules the step imported hash to what is checked out now (else
  *code changed*);
- the sidecar agrees with itself: its params, its seed and the job record `--reproduce` re-runs
  with (else *params*: the sidecar was edited);
- every input's sidecar is the one the step that read it saw: each input entry records the
  sha256 of the input's sidecar bytes, so the records form a chain from the raw data to the
  audited file (else *chain*: an upstream record was rewritten, by hand or by re-running its
  step alone). Records older than the chain (format 1) are read, and the audit notes that the
  chain was not checked at them;
- the current workflow and config would make the file the same way, by Snakemake's detailed
  summary (its public API; nothing runs): some rule still makes it, the same rule, from the
  same set of inputs, with the params Snakemake recorded when it made the file (else
  *params*). Snakemake says that params changed, not which: the changed config keys are named
  by comparing the config with the same file at the git commit the sidecar recorded, which
  only a run from a clean checkout allows. Where Snakemake has no record of the run (results
  copied without `.snakemake/metadata`) or checks something else first (an input newer than
  the file), the params of that step are not compared, and the audit says so;
- an artifact under `results/` without a sidecar is *unaudited*, never taken as valid.

Inputs outside `results/` (downloaded raw data) have no step; their hash is still checked. A
file outside `results/` without a sidecar named on the command line is no pipeline artifact
and is refused (`AuditError`), as is a folder holding no artifact.

What this proves: that the records agree with the files, with each other and with the
checkout. The records are unsigned, so someone who rewrites an artifact and every record
downstream of it consistently passes; `reproduce` (`landscapes.reproduce`, `--reproduce`)
re-runs steps and compares their bytes, which is what proves a figure.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

from landscapes.config import merge
from landscapes.provenance import (RESULTS_DIR, SIDECAR_SUFFIX, library_sha256, sha256_file,
                                   sidecar_path)
from landscapes.reproduce import results_dir_of


class AuditError(RuntimeError):
    """A request the audit cannot answer (no such file, not an artifact, an empty folder)."""


@dataclass
class Finding:
    """One drifted item: what kind of drift, which file, and a sentence saying what differs."""

    kind: str  # missing, modified, stale, chain, code, params, unaudited, reproduce
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.path}: {self.message}"


@dataclass
class Node:
    """One artifact in the provenance tree, with the step that made it (if it has one)."""

    path: str
    role: str  # artifact (has a sidecar), raw (outside results/), unaudited
    sha256: str | None = None
    step: dict | None = None
    findings: list[Finding] = field(default_factory=list)
    inputs: list[Node] = field(default_factory=list)
    repeated: bool = False  # already shown earlier in the tree
    reproduction: dict | None = None
    sidecar_sha256: str | None = None  # of the sidecar's bytes, as the chain records it
    chain_unchecked: bool = False  # a format-1 record: no input sidecar hashes to compare

    def walk(self):
        yield self
        for child in self.inputs:
            yield from child.walk()


@dataclass
class Audit:
    root: str
    target: str
    tree: Node
    findings: list[Finding]
    notes: list[str]
    reproductions: list[dict] = field(default_factory=list)
    params_compared: bool = False  # every step's params, against a config
    chain_checked: bool = False  # every step's record of its inputs' sidecars
    deep: bool = False  # every step re-run, not only the last

    @property
    def ok(self) -> bool:
        return not self.findings

    def to_json(self) -> dict:
        return {"ok": self.ok, "root": self.root, "target": self.target,
                "findings": [asdict(f) for f in self.findings], "notes": self.notes,
                "reproductions": self.reproductions, "tree": _node_json(self.tree)}


def _node_json(node: Node) -> dict:
    out = {"path": node.path, "role": node.role, "sha256": node.sha256,
           "sidecar_sha256": node.sidecar_sha256,
           "findings": [asdict(f) for f in node.findings], "repeated": node.repeated}
    if node.step and not node.repeated:
        out["step"] = {k: node.step.get(k) for k in STEP_FIELDS}
    if node.reproduction:
        out["reproduction"] = node.reproduction
    out["inputs"] = [_node_json(c) for c in node.inputs]
    return out


STEP_FIELDS = ("rule", "script", "script_sha256", "params", "seed", "wildcards", "threads",
               "versions", "git", "start", "end", "inputs", "outputs")


# ------------------------------------------------------------------ locating the workflow


def workflow_root(path: Path, sidecar: dict | None, root: str | os.PathLike | None) -> Path:
    """The folder recorded paths are relative to: given, or read off the sidecar's own path."""
    if root is not None:
        return Path(root).resolve()
    path = path.resolve()
    if sidecar is not None:
        recorded = Path(sidecar["output"]["path"])
        if not recorded.is_absolute() and path.parts[-len(recorded.parts):] == recorded.parts:
            return Path(*path.parts[:-len(recorded.parts)])
    for parent in path.parents:  # no sidecar: the folder holding results/
        if parent.name == RESULTS_DIR:
            return parent.parent
    return Path.cwd().resolve()


def run_name_of(rel_path: str) -> str | None:
    """<run_name> of a path under results/<run_name>/, else None."""
    results = results_dir_of(rel_path)
    return Path(results).name if results else None


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root))
    except ValueError:
        return str(path)


def _in_results(rel_path: str) -> bool:
    return Path(rel_path).parts[:1] == (RESULTS_DIR,)


def load_sidecar(path: Path) -> tuple[bytes | None, dict | None, str | None]:
    """The bytes of `path`'s sidecar, the record they hold and, if they hold none, why."""
    side = sidecar_path(path)
    if not side.is_file():
        return None, None, None
    data = side.read_bytes()
    try:
        record = json.loads(data)
    except ValueError as e:
        return data, None, f"its sidecar {side.name} is not JSON ({e}): truncated or edited"
    if not isinstance(record, dict):
        return data, None, f"its sidecar {side.name} is not a provenance record"
    return data, record, None


# ------------------------------------------------------------------ the tree and its checks


def build_tree(rel_path: str, root: Path, expected_sha: str | None = None,
               seen: dict[str, Node] | None = None,
               expected_sidecar: str | None = None) -> Node:
    """The provenance tree of one file, each node carrying the drift found at it.
    `expected_sha` and `expected_sidecar`: the hashes of the file and of its sidecar as the
    step reading it recorded them."""
    seen = {} if seen is None else seen
    if rel_path in seen:
        first = seen[rel_path]
        node = Node(rel_path, first.role, first.sha256, repeated=True,
                    sidecar_sha256=first.sidecar_sha256)
        if expected_sha is not None and node.sha256 not in (None, expected_sha):
            node.findings.append(_stale(rel_path, node.sha256, expected_sha))
        if expected_sidecar is not None and node.sidecar_sha256 != expected_sidecar:
            node.findings.append(_rewritten(rel_path, node.sidecar_sha256, expected_sidecar,
                                            (first.step or {}).get("rule")))
        return node
    file = root / rel_path
    side_bytes, sidecar, problem = load_sidecar(file)
    in_results = _in_results(rel_path)
    has_sidecar = side_bytes is not None
    node = Node(rel_path, "artifact" if has_sidecar else ("unaudited" if in_results else "raw"))
    seen[rel_path] = node
    node.sha256 = sha256_file(file) if file.exists() else None  # a folder too
    if has_sidecar:
        node.sidecar_sha256 = hashlib.sha256(side_bytes).hexdigest()

    if node.sha256 is None:
        node.findings.append(Finding("missing", rel_path, "file not found"))
    elif expected_sha is not None and node.sha256 != expected_sha:
        node.findings.append(_stale(rel_path, node.sha256, expected_sha))
    if expected_sidecar is not None and node.sidecar_sha256 != expected_sidecar:
        node.findings.append(_rewritten(rel_path, node.sidecar_sha256, expected_sidecar,
                                        (sidecar or {}).get("rule")))
    if problem:
        node.findings.append(Finding("modified", rel_path, problem))
    if sidecar is None:
        if in_results and not has_sidecar:
            node.findings.append(Finding("unaudited", rel_path,
                                         f"no provenance sidecar ({Path(rel_path).name}"
                                         f"{SIDECAR_SUFFIX}): its origin cannot be checked"))
        return node

    node.step = sidecar
    recorded = sidecar.get("output", {}).get("sha256")
    if node.sha256 is not None and node.sha256 != recorded:
        node.findings.append(Finding(
            "modified", rel_path, f"bytes differ from what rule {sidecar.get('rule')} wrote "
            f"(sha256 now {node.sha256[:12]}, recorded {str(recorded)[:12]}): edited or "
            "corrupted"))
    node.findings += check_record(sidecar, rel_path)
    node.findings += check_code(sidecar, rel_path, root)
    version = sidecar.get("format")
    chained = isinstance(version, int) and version >= 2  # records its inputs' sidecars
    for entries in sidecar.get("inputs", {}).values():
        for entry in entries:
            if "sidecar_sha256" not in entry:
                if chained:  # the field was taken out: that hides a rewritten input record
                    node.findings.append(Finding(
                        "chain", rel_path, f"its sidecar (format {version}) records no "
                        f"sidecar hash for input {entry['path']}: edited"))
                else:
                    node.chain_unchecked = True
            child = build_tree(entry["path"], root, entry["sha256"], seen,
                               entry.get("sidecar_sha256"))
            node.inputs.append(child)
    return node


def _stale(rel_path: str, now: str, read_as: str) -> Finding:
    return Finding("stale", rel_path, f"changed since a step that read it ran (sha256 now "
                   f"{now[:12]}, read as {read_as[:12]})")


def _rewritten(rel_path: str, now: str | None, read_as: str, rule: str | None) -> Finding:
    if now is None:
        return Finding("chain", rel_path, "its sidecar is gone, though a step that read it "
                       f"recorded one (sidecar sha256 {read_as[:12]})")
    return Finding("chain", rel_path, f"its sidecar is not the record a step that read it saw "
                   f"(sidecar sha256 now {now[:12]}, read as {read_as[:12]}): rewritten since, "
                   f"by hand or by re-running rule {rule} without the steps that read it")


def check_code(sidecar: dict, rel_path: str, root: Path) -> list[Finding]:
    """The step's script and library modules against the checkout under `root`."""
    findings = []
    rule = sidecar.get("rule")
    script = sidecar.get("script")
    if script:
        path = root / script
        if not path.is_file():
            findings.append(Finding("code", rel_path, f"script {script} of rule {rule} is gone"))
        elif sha256_file(path) != sidecar.get("script_sha256"):
            findings.append(Finding("code", rel_path,
                                    f"script {script} of rule {rule} changed since it ran"))
    library = root / "src" / "landscapes"
    used = sidecar.get("library_files")
    if used is not None:
        for name, sha in used.items():
            path = library / name
            now = sha256_file(path) if path.is_file() else None
            if now != sha:
                what = "is gone" if now is None else "changed since it ran"
                findings.append(Finding("code", rel_path,
                                        f"library module src/landscapes/{name} used by rule "
                                        f"{rule} {what}"))
    elif library.is_dir() and library_sha256(library) != sidecar.get("library_sha256"):
        findings.append(Finding("code", rel_path,
                                f"the library src/landscapes changed since rule {rule} ran"))
    return findings


# ------------------------------------------------------------------ params against the config


def flatten(value, prefix: str = "") -> dict:
    """Nested params as {'a.b': leaf}, so a difference names the exact key."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out or {prefix: {}}
    return {prefix: value}


_ABSENT = object()


def params_diff(old: dict, new: dict, old_as: str = "recorded",
                new_as: str = "config now gives") -> list[str]:
    """Each key whose value differs: '<key> <old_as> <old value>, <new_as> <new value>'."""
    o, n = flatten(json_normal(old)), flatten(json_normal(new))

    def show(values, key):
        return repr(values[key]) if key in values else "nothing"

    return [f"{key} {old_as} {show(o, key)}, {new_as} {show(n, key)}"
            for key in sorted(set(o) | set(n)) if o.get(key, _ABSENT) != n.get(key, _ABSENT)]


def json_normal(value):
    return json.loads(json.dumps(value, sort_keys=True, default=str))


def check_record(sidecar: dict, rel_path: str) -> list[Finding]:
    """The sidecar's params against the job record written beside them (the record
    `--reproduce` re-runs with): a sidecar edited in one place disagrees with itself."""
    job = {name: value for name, value in (sidecar.get("job") or {}).get("params", [])
           if name is not None}
    params = sidecar.get("params", {})
    diffs = params_diff(params, job, "is", "its job record says") if "job" in sidecar else []
    if isinstance(params, dict) and sidecar.get("seed") != params.get("seed"):
        diffs.append(f"seed is {sidecar.get('seed')!r}, params.seed {params.get('seed')!r}")
    if not diffs:
        return []
    return [Finding("params", rel_path, "the sidecar disagrees with itself (edited?): "
                    + "; ".join(diffs))]


# Snakemake's detailed summary (`snakemake --detailed-summary FILES`, here through its API):
# for each file the workflow would make, the rule that makes it now, what Snakemake recorded of
# the run that made it ('-' for nothing) and a status comparing that record with the current
# workflow and config ("params changed", ...). A file no rule makes stops the planning; it is
# set aside and the rest planned again.
_PLAN_PROGRAM = r"""
import contextlib, io, json, re, sys
from pathlib import Path
from snakemake.api import SnakemakeApi
from snakemake.settings.types import (ConfigSettings, DAGSettings, OutputSettings, Quietness,
                                      ResourceSettings)

root, configfile, targets = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3:]
unmade, text = [], io.StringIO()
with SnakemakeApi(OutputSettings(quiet={Quietness.ALL})) as api:
    wf = api.workflow(resource_settings=ResourceSettings(cores=1),
                      config_settings=ConfigSettings(configfiles=[configfile]),
                      snakefile=root / "Snakefile", workdir=root)
    while targets:
        text = io.StringIO()
        try:
            with contextlib.redirect_stdout(text):
                wf.dag(DAGSettings(targets=set(targets))).summary(detailed=True)
            break
        except Exception as e:
            m = re.search(r"No rule to produce (.+?) \(if you use input", str(e))
            if m is None or m[1] not in targets:
                raise
            unmade.append(m[1])
            targets.remove(m[1])
files = {}
for line in text.getvalue().splitlines()[1:]:
    cells = line.split("\t")  # file, date, rule, logs, inputs, shellcmd..., status, plan
    if len(cells) >= 8:
        files[cells[0]] = {"rule": cells[2], "recorded": cells[4] != "-", "status": cells[-2]}
print("PLAN-JSON " + json.dumps({"files": files, "unmade": unmade}, sort_keys=True))
"""


def snakemake_plan(root: Path, configfile: Path, targets: list[str]) -> dict:
    """{"files": {path: {rule, recorded, status}}, "unmade": [paths no rule makes]}: Snakemake's
    detailed summary of `targets` under the current workflow and config (nothing runs). Runs in
    a child process so that Snakemake's working directory and logging stay out of this one."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        p for p in [str(root / "src"), os.environ.get("PYTHONPATH", "")] if p))
    proc = subprocess.run([sys.executable, "-c", _PLAN_PROGRAM, str(root), str(configfile),
                           *targets], check=False, capture_output=True, text=True, cwd=root,
                          env=env)
    for line in proc.stdout.splitlines():
        if line.startswith("PLAN-JSON "):
            return json.loads(line.removeprefix("PLAN-JSON "))
    tail = (proc.stderr.strip() or proc.stdout.strip()).splitlines()[-5:]
    raise AuditError("Snakemake could not plan these files with "
                     f"{_rel(configfile, root)}:\n  " + "\n  ".join(tail))


# The complete config every run starts from; the run's own file is an overlay over it.
DEFAULT_CONFIG = "config/default.yaml"


def run_config(root: Path, configfile: Path, sidecar: dict,
               cache: dict | None = None) -> tuple[dict | None, str]:
    """The config as it was when the step ran (the default with the run's overlay merged over
    it), read from git at the commit its sidecar recorded (only a clean checkout says what the
    files held), and how it was found or why not."""
    git = sidecar.get("git") or {}
    commit, rel = git.get("commit"), _rel(configfile, root)
    if not commit:
        return None, "its sidecar records no git commit"
    if git.get("dirty"):
        return None, f"it ran with uncommitted changes on commit {commit[:12]}"
    cache = {} if cache is None else cache
    merged: dict = {}
    for name in dict.fromkeys([DEFAULT_CONFIG, rel]):  # the default, then the overlay over it
        if (commit, name) not in cache:
            proc = subprocess.run(["git", "show", f"{commit}:{name}"], cwd=root,
                                  capture_output=True, text=True, check=False)
            cache[commit, name] = yaml.safe_load(proc.stdout) if proc.returncode == 0 else None
        if cache[commit, name] is None:
            return None, f"{name} at commit {commit[:12]} is not in this checkout's git history"
        merged = merge(merged, cache[commit, name])
    return merged, f"{rel} at commit {commit[:12]}"


def _steps(tree: Node) -> list[Node]:
    return [n for n in tree.walk() if n.step is not None and not n.repeated]


def check_params(tree: Node, root: Path, configfile: Path,
                 plan: dict | None = None) -> list[str]:
    """Each step's record against the current workflow and config, by Snakemake's summary
    (`plan`: from `snakemake_plan`, if already made). Adds the findings to the tree's nodes and
    returns notes naming the steps whose params could not be compared."""
    steps = _steps(tree)
    if not steps:
        return []
    if plan is None:
        plan = snakemake_plan(root, configfile, [n.path for n in steps])
    configs: dict = {}
    unchecked = []
    for node in steps:
        now = plan["files"].get(node.path)
        rule = node.step.get("rule")
        if node.path in plan["unmade"] or now is None:
            finding = Finding("params", node.path,
                              f"no rule of the current workflow makes it with {configfile.name}")
        elif now["rule"] != rule:
            finding = Finding("params", node.path, f"made by rule {rule}, the workflow now "
                              f"makes it with rule {now['rule']}")
        elif not now["recorded"]:
            unchecked.append(f"params of {node.path} not compared: Snakemake keeps no record "
                             "of the run that made it (results copied, or .snakemake/metadata "
                             "cleaned)")
            continue
        elif now["status"] == "missing":
            continue  # a finding of its own already
        elif now["status"] == "updated input files":  # Snakemake's summary says only this
            unchecked.append(f"params of {node.path} not compared: an input is newer than "
                             "it, which Snakemake's summary reports instead")
            continue
        elif now["status"] == "set of input files changed":
            finding = Finding("params", node.path, f"rule {rule} now reads other inputs than "
                              "it ran with (Snakemake: set of input files changed)")
        elif now["status"] == "rule implementation changed":
            finding = Finding("code", node.path, f"the code of rule {rule} changed since it "
                              "ran (Snakemake: rule implementation changed)")
        elif now["status"] == "params changed":
            finding = Finding("params", node.path, _params_message(node, root, configfile,
                                                                   configs))
        else:
            continue
        node.findings.append(finding)
    return unchecked


def _params_message(node: Node, root: Path, configfile: Path, cache: dict) -> str:
    rule = node.step.get("rule")
    text = (f"params of rule {rule} changed since it ran (Snakemake's summary with "
            f"{configfile.name})")
    then, source = run_config(root, configfile, node.step, cache)
    if then is None:
        return text + f"; the changed key cannot be named: {source}"
    now = merge(_load_yaml(root / DEFAULT_CONFIG), _load_yaml(configfile))
    diffs = params_diff(then, now, "was", "config now gives")
    if not diffs:
        return text + (f"; {source} is the config it ran with and no key changed, so the rule's "
                       "params: changed, or the run overrode the config")
    return text + f"; config keys changed since {source}: " + "; ".join(diffs)


def _load_yaml(path: Path):
    return yaml.safe_load(Path(path).read_text())


def default_configfile(root: Path, rel_target: str) -> Path | None:
    """config/<run_name>.yaml: the run names tiny, default and paper are the config names."""
    run = run_name_of(rel_target)
    path = root / "config" / f"{run}.yaml"
    return path if run and path.is_file() else None


# ------------------------------------------------------------------ the whole audit


def audit(target: str | os.PathLike, **options) -> Audit:
    """Audit one artifact; with `reproduce`, re-run its step (`deep`: every step) too."""
    return audit_many([target], **options)[0]


def audit_many(targets, root: str | os.PathLike | None = None,
               configfile: str | os.PathLike | None = None, check_config: bool = True,
               reproduce: bool = False, deep: bool = False, keep: bool = False) -> list[Audit]:
    """Audit artifacts; the params of all their steps are planned in one Snakemake run."""
    results, configs = [], []
    for target in targets:
        path = Path(target)
        if path.name.endswith(SIDECAR_SUFFIX):  # a sidecar stands for the file it describes
            path = path.with_name(path.name.removesuffix(SIDECAR_SUFFIX))
        has_sidecar = sidecar_path(path).is_file()
        if not path.exists() and not has_sidecar:
            raise AuditError(f"no such file: {target}")
        root_dir = workflow_root(path, load_sidecar(path)[1], root)
        rel = _rel(path, root_dir)
        if not has_sidecar and not _in_results(rel):
            raise AuditError(f"{target} is not a pipeline artifact: it has no provenance "
                             f"sidecar ({path.name}{SIDECAR_SUFFIX}) and is not under "
                             f"{RESULTS_DIR}/ of the workflow root {root_dir}")
        result = Audit(str(root_dir), rel, build_tree(rel, root_dir), [], [])
        unchained = [n.path for n in _steps(result.tree) if n.chain_unchecked]
        result.chain_checked = not unchained
        if unchained:
            shown = ", ".join(unchained[:3]) + (", ..." if len(unchained) > 3 else "")
            result.notes.append(f"chain of sidecars not checked at {len(unchained)} step(s) "
                                f"whose records predate it (format 1; rerun them to record "
                                f"it): {shown}")
        config = None
        if check_config:
            config = (Path(configfile).resolve() if configfile
                      else default_configfile(root_dir, rel))
            if config is None:
                result.notes.append("params not compared with a config: no "
                                    "config/<run_name>.yaml for this path; pass --configfile")
            elif not (root_dir / "Snakefile").is_file():
                result.notes.append(f"params not compared with a config: no Snakefile in "
                                    f"{root_dir}")
                config = None
        results.append(result)
        configs.append(config)

    plans = {}
    for result, config in zip(results, configs):
        if config is None:
            continue
        key = (result.root, config)
        if key not in plans:
            paths = sorted({n.path for r, c in zip(results, configs) if (r.root, c) == key
                            for n in _steps(r.tree)})
            plans[key] = (snakemake_plan(Path(result.root), config, paths) if paths
                          else {"files": {}, "unmade": []})
        unchecked = check_params(result.tree, Path(result.root), config, plans[key])
        result.notes.append(f"params compared with {_rel(config, Path(result.root))}")
        result.notes += unchecked
        result.params_compared = not unchecked

    done = {}  # a step is re-run once, however many of its outputs are audited
    for result in results:
        if reproduce:
            reproduce_tree(result, deep=deep, keep=keep, done=done)
        result.findings = [f for n in result.tree.walk() for f in n.findings]
    return results


def reproduce_tree(result: Audit, deep: bool, keep: bool, done: dict | None = None) -> None:
    """Re-run the step that made the target (`deep`: every step of its tree). Every path the
    sidecars record must stay in the target's results/<run_name>/ (see `reproduce`)."""
    from landscapes.reproduce import reproduce_step

    done = {} if done is None else done
    result.deep = deep
    results_dir = results_dir_of(result.target)
    nodes = _steps(result.tree)
    for node in nodes if deep else nodes[:1]:
        key = json.dumps([result.root, results_dir, node.step.get("rule"),  # forged: any type
                          node.step.get("start"), node.step.get("outputs")], sort_keys=True,
                         default=str)
        if key not in done:
            done[key] = reproduce_step(node.step, Path(result.root), keep=keep,
                                       results_dir=results_dir)
        elif node.reproduction is not None or done[key] in result.reproductions:
            continue  # another output of a step already re-run in this tree
        rep = done[key]
        node.reproduction = rep
        result.reproductions.append(rep)
        for why in rep.get("refused") or []:  # one finding per refused path or rule
            node.findings.append(Finding("reproduce", node.path, why))
        if not rep["identical"] and not rep.get("refused"):
            node.findings.append(Finding("reproduce", node.path, rep["summary"]))


def expand_paths(paths, root: str | os.PathLike | None = None) -> list[str]:
    """Files named, and every artifact inside folders named (not sidecars, logs, benchmarks):
    each file with a sidecar or under results/ (where one without a sidecar is unaudited). A
    folder with none is an `AuditError`."""
    out = []
    for path in map(Path, paths):
        if not path.is_dir():
            out.append(str(path))
            continue
        files = [file for file in sorted(path.rglob("*")) if file.is_file()
                 and not {"logs", "benchmarks"} & set(file.relative_to(path).parts)
                 and not file.name.endswith(SIDECAR_SUFFIX) and not file.name.startswith(".")]
        found = [str(file) for file in files if sidecar_path(file).is_file()
                 or _in_results(_rel(file, workflow_root(file, None, root)))]
        if not found:
            what = (f"none of its {len(files)} file(s) has a provenance sidecar or lies under "
                    f"{RESULTS_DIR}/" if files else "it holds no files")
            raise AuditError(f"{path}: the folder has no artifacts ({what})")
        out += found
    return out


# ------------------------------------------------------------------ printing


def _short_params(params: dict) -> str:
    text = json.dumps(params, sort_keys=True)
    return text if len(text) <= 400 else text[:397] + "..."


def format_tree(node: Node, indent: str = "", last: bool = True, top: bool = True) -> list[str]:
    branch = "" if top else ("`-- " if last else "|-- ")
    status = "ok" if not node.findings else "DRIFT"
    sha = f"sha256 {node.sha256[:12]}" if node.sha256 else "absent"
    if node.repeated:
        pad = indent + ("" if top else ("    " if last else "|   "))
        return [f"{indent}{branch}{node.path}  (shown above)"] + [
            f"{pad}  ! {f.kind}: {f.message}" for f in node.findings]
    label = {"artifact": "", "raw": "  [raw data]", "unaudited": "  [UNAUDITED]"}[node.role]
    lines = [f"{indent}{branch}{node.path}  {sha}  {status}{label}"]
    pad = indent + ("" if top else ("    " if last else "|   "))
    if node.step:
        s = node.step
        git = s.get("git") or {}
        commit = (git.get("commit") or "no git")[:12]
        dirty = " (uncommitted changes)" if git.get("dirty") else ""
        versions = ", ".join(f"{k} {v}" for k, v in sorted((s.get("versions") or {}).items()))
        lines += [
            (f"{pad}  rule {s.get('rule')}  script {s.get('script')}  seed {s.get('seed')}"
             f"  threads {s.get('threads')}"),
            f"{pad}  params {_short_params(s.get('params', {}))}",
            f"{pad}  ran {s.get('start')} .. {s.get('end')}  commit {commit}{dirty}",
            f"{pad}  versions {versions}",
        ]
        if not node.inputs:
            lines.append(f"{pad}  no inputs: made from its params alone (raw data)")
    for f in node.findings:
        if f.kind != "reproduce":  # the reproduction line below says it
            lines.append(f"{pad}  ! {f.kind}: {f.message}")
    if node.reproduction:
        lines.append(f"{pad}  reproduce: {node.reproduction['summary']}")
        if node.reproduction.get("scratch"):
            lines.append(f"{pad}  scratch folder kept: {node.reproduction['scratch']}")
    for i, child in enumerate(node.inputs):
        lines += format_tree(child, pad, i == len(node.inputs) - 1, top=False)
    return lines


def format_audit(result: Audit) -> str:
    lines = [f"audit of {result.target} (workflow root {result.root})", ""]
    lines += format_tree(result.tree)
    lines.append("")
    lines += [f"note: {n}" for n in result.notes]
    if result.ok:
        checked = "every hash, script and library module matches"
        if result.chain_checked:
            checked += ", every sidecar is the one the steps after it read"
        if result.params_compared:
            checked += ", and Snakemake finds no param changed"
        if result.reproductions:
            checked += (", and re-running " + ("every step" if result.deep else "its step")
                        + " gave identical bytes")
        lines.append(f"PASS: {checked}")
        if not result.reproductions:  # what a consistent forgery would still pass
            lines.append("  (the records are unsigned: this shows they agree, not that the "
                         "file was made as they say; --reproduce re-runs the step)")
    else:
        lines.append(f"FAIL: {len(result.findings)} drifted item(s):")
        lines += [f"  {f}" for f in result.findings]
    return "\n".join(lines)
