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
- the recorded params equal what the current config gives: Snakemake evaluates the rules'
  `params:` for those files (the dry-run DAG, nothing is run), so an edited config and an
  edited sidecar are both caught (else *params changed*, naming each key);
- an artifact under `results/` without a sidecar is *unaudited*, never taken as valid.

Inputs outside `results/` (downloaded raw data) have no step; their hash is still checked.
`reproduce` (`landscapes.reproduce`) re-runs steps and compares their bytes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

from landscapes.provenance import SIDECAR_SUFFIX, library_sha256, read_sidecar, sha256_file

RESULTS_DIR = "results"


class AuditError(RuntimeError):
    """A request the audit cannot answer (no such file, no workflow root)."""


@dataclass
class Finding:
    """One drifted item: what kind of drift, which file, and a sentence saying what differs."""

    kind: str  # missing, modified, stale, code, params, unaudited, reproduce
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

    @property
    def ok(self) -> bool:
        return not self.findings

    def to_json(self) -> dict:
        return {"ok": self.ok, "root": self.root, "target": self.target,
                "findings": [asdict(f) for f in self.findings], "notes": self.notes,
                "reproductions": self.reproductions, "tree": _node_json(self.tree)}


def _node_json(node: Node) -> dict:
    out = {"path": node.path, "role": node.role, "sha256": node.sha256,
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
    parts = Path(rel_path).parts
    return parts[1] if len(parts) > 2 and parts[0] == RESULTS_DIR else None


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root))
    except ValueError:
        return str(path)


# ------------------------------------------------------------------ the tree and its checks


def build_tree(rel_path: str, root: Path, expected_sha: str | None = None,
               seen: dict[str, Node] | None = None) -> Node:
    """The provenance tree of one file, each node carrying the drift found at it."""
    seen = {} if seen is None else seen
    if rel_path in seen:
        node = Node(rel_path, seen[rel_path].role, seen[rel_path].sha256, repeated=True)
        if expected_sha is not None and node.sha256 not in (None, expected_sha):
            node.findings.append(_stale(rel_path, node.sha256, expected_sha))
        return node
    file = root / rel_path
    sidecar = read_sidecar(file)
    in_results = Path(rel_path).parts[:1] == (RESULTS_DIR,)
    node = Node(rel_path, "artifact" if sidecar else ("unaudited" if in_results else "raw"))
    seen[rel_path] = node
    node.sha256 = sha256_file(file) if file.is_file() else None

    if node.sha256 is None:
        node.findings.append(Finding("missing", rel_path, "file not found"))
    elif expected_sha is not None and node.sha256 != expected_sha:
        node.findings.append(_stale(rel_path, node.sha256, expected_sha))
    if sidecar is None:
        if in_results:
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
    node.findings += check_code(sidecar, rel_path, root)
    for entries in sidecar.get("inputs", {}).values():
        for entry in entries:
            child = build_tree(entry["path"], root, entry["sha256"], seen)
            node.inputs.append(child)
    return node


def _stale(rel_path: str, now: str, read_as: str) -> Finding:
    return Finding("stale", rel_path, f"changed since a step that read it ran (sha256 now "
                   f"{now[:12]}, read as {read_as[:12]})")


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


def params_diff(recorded: dict, current: dict) -> list[str]:
    rec, cur = flatten(json_normal(recorded)), flatten(json_normal(current))
    diffs = []
    for key in sorted(set(rec) | set(cur)):
        if key not in cur:
            diffs.append(f"{key} recorded {rec[key]!r}, no longer a param")
        elif key not in rec:
            diffs.append(f"{key} not recorded, config now gives {cur[key]!r}")
        elif rec[key] != cur[key]:
            diffs.append(f"{key} recorded {rec[key]!r}, config now gives {cur[key]!r}")
    return diffs


def json_normal(value):
    return json.loads(json.dumps(value, sort_keys=True, default=str))


_PARAMS_PROGRAM = r"""
import json, sys
from pathlib import Path
from snakemake.api import SnakemakeApi
from snakemake.settings.types import (ConfigSettings, DAGSettings, OutputSettings, Quietness,
                                      ResourceSettings)
from landscapes.provenance import to_jsonable

root, configfile, targets = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3:]
with SnakemakeApi(OutputSettings(quiet={Quietness.ALL})) as api:
    wf = api.workflow(resource_settings=ResourceSettings(cores=1),
                      config_settings=ConfigSettings(configfiles=[configfile]),
                      snakefile=root / "Snakefile", workdir=root)
    wf.dag(DAGSettings(targets=set(targets)))
    workflow = wf._workflow
    workflow._prepare_dag(forceall=False, ignore_incomplete=True, lock_warn_only=True,
                          nolock=True)
    workflow._build_dag()
    jobs = {str(f): {"rule": job.rule.name, "params": to_jsonable(dict(job.params.items()))}
            for job in workflow.dag.jobs for f in job.output}
print("PARAMS-JSON " + json.dumps(jobs, sort_keys=True))
"""


def current_params(root: Path, configfile: Path, targets: list[str]) -> dict[str, dict]:
    """{path: {rule, params}} as the current workflow and config would run them (dry: the
    DAG is built, nothing runs). Runs Snakemake in a child process so that its working
    directory and logging stay out of this one."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        p for p in [str(root / "src"), os.environ.get("PYTHONPATH", "")] if p))
    proc = subprocess.run([sys.executable, "-c", _PARAMS_PROGRAM, str(root), str(configfile),
                           *targets], check=False, capture_output=True, text=True, cwd=root,
                          env=env)
    for line in proc.stdout.splitlines():
        if line.startswith("PARAMS-JSON "):
            return json.loads(line.removeprefix("PARAMS-JSON "))
    tail = (proc.stderr.strip() or proc.stdout.strip()).splitlines()[-5:]
    raise AuditError("Snakemake could not plan these files with "
                     f"{_rel(configfile, root)}:\n  " + "\n  ".join(tail))


def _steps(tree: Node) -> list[Node]:
    return [n for n in tree.walk() if n.step is not None and not n.repeated]


def check_params(tree: Node, root: Path, configfile: Path,
                 plan: dict | None = None) -> list[Finding]:
    """Recorded params against the config's (`plan`: from `current_params`, if already made)."""
    steps = _steps(tree)
    if not steps:
        return []
    if plan is None:
        plan = current_params(root, configfile, [n.path for n in steps])
    findings = []
    for node in steps:
        now = plan.get(node.path)
        if now is None:
            finding = Finding("params", node.path,
                              f"no rule of the current workflow makes it with {configfile.name}")
        elif now["rule"] != node.step.get("rule"):
            finding = Finding("params", node.path, f"made by rule {node.step.get('rule')}, "
                              f"the workflow now makes it with rule {now['rule']}")
        else:
            diffs = params_diff(node.step.get("params", {}), now["params"])
            if not diffs:
                continue
            finding = Finding("params", node.path, f"params of rule {now['rule']} changed "
                              f"({configfile.name}): " + "; ".join(diffs))
        node.findings.append(finding)
        findings.append(finding)
    return findings


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
        if not path.exists() and not Path(str(path) + SIDECAR_SUFFIX).exists():
            raise AuditError(f"no such file: {target}")
        root_dir = workflow_root(path, read_sidecar(path), root)
        rel = _rel(path, root_dir)
        result = Audit(str(root_dir), rel, build_tree(rel, root_dir), [], [])
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
            plans[key] = current_params(Path(result.root), config, paths) if paths else {}
        check_params(result.tree, Path(result.root), config, plans[key])
        result.notes.append(f"params compared with {_rel(config, Path(result.root))}")

    done = {}  # a step is re-run once, however many of its outputs are audited
    for result in results:
        if reproduce:
            reproduce_tree(result, deep=deep, keep=keep, done=done)
        result.findings = [f for n in result.tree.walk() for f in n.findings]
    return results


def reproduce_tree(result: Audit, deep: bool, keep: bool, done: dict | None = None) -> None:
    """Re-run the step that made the target (`deep`: every step of its tree)."""
    from landscapes.reproduce import reproduce_step

    done = {} if done is None else done
    nodes = _steps(result.tree)
    for node in nodes if deep else nodes[:1]:
        key = (result.root, node.step.get("rule"), node.step.get("start"),
               json.dumps(node.step.get("outputs"), sort_keys=True))
        if key not in done:
            done[key] = reproduce_step(node.step, Path(result.root), keep=keep)
        elif node.reproduction is not None or done[key] in result.reproductions:
            continue  # another output of a step already re-run in this tree
        rep = done[key]
        node.reproduction = rep
        result.reproductions.append(rep)
        if not rep["identical"]:
            node.findings.append(Finding("reproduce", node.path, rep["summary"]))


def expand_paths(paths) -> list[str]:
    """Files named, and every artifact inside folders named (not sidecars, logs, benchmarks)."""
    out = []
    for path in map(Path, paths):
        if not path.is_dir():
            out.append(str(path))
            continue
        for file in sorted(path.rglob("*")):
            skip = {"logs", "benchmarks"} & set(file.relative_to(path).parts)
            if file.is_file() and not skip and not file.name.endswith(SIDECAR_SUFFIX) \
                    and not file.name.startswith("."):
                out.append(str(file))
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
        lines.append("PASS: every hash, script, library module and param matches"
                     + (", and re-running gave identical bytes" if result.reproductions else ""))
    else:
        lines.append(f"FAIL: {len(result.findings)} drifted item(s):")
        lines += [f"  {f}" for f in result.findings]
    return "\n".join(lines)
