"""Re-run one recorded step outside Snakemake and compare what it writes, byte for byte.

The step's sidecar holds everything its script saw: the `job` record (input, output, log and
params as Snakemake's named lists laid them out, and the resources), the wildcards, threads
and rule. `reproduce_step` copies the recorded inputs (each checked against its recorded
sha256) and the script to the same relative paths in a scratch folder, rebuilds a stand-in
`snakemake` object from the record, runs the script in a fresh Python process there (as
Snakemake does, with the same thread settings and the checkout's `src/` on the path), and
compares every output with the recorded hash. Where bytes differ and both files hold arrays
(npz, safetensors), it reports the largest numeric difference.

The inputs' own sidecars are copied with them: the step checks each input against its sidecar
before loading it, and a claims table is stamped with when its inputs were made. Raw data
outside the DAG (the `resources/` folder of downloaded datasets) is linked in, not copied;
nothing else of the workflow is visible to the script.

A sidecar is a file anyone can edit, so nothing it names is run or written as it stands: the
script is the one the recorded rule has in the workflow's own rule files (`rule_files`), and
every recorded path must lie in the results folder of the audited artifact
(`results/<run_name>/`). A step that fails either check is refused before anything is staged.
"""

from __future__ import annotations

import json
import os
import runpy
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from landscapes.provenance import sha256_file, sidecar_path
from landscapes.rule_files import RuleError, rule_script

RAW_DATA_DIRS = ("resources",)
# Checked-in sources a step may read besides results (rule figure_captions reads the caption
# texts); they are copied like any input, never run.
SOURCE_INPUT_DIRS = ("workflow/report",)
THREAD_VARIABLES = ("OMP_NUM_THREADS", "GOTO_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                    "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")


# ------------------------------------------------------------------ the stand-in object


class NamedList(list):
    """Snakemake's named lists as its script API shows them: a list whose entries may also be
    reached by name (`snakemake.output.png`) and listed with `items()`."""

    def __init__(self, items=()):
        super().__init__(items)
        self._names: dict = {}
        self._layout = list(self)

    def _name(self, name: str, value) -> None:
        self._names[name] = value
        setattr(self, name, value)

    def items(self):
        return list(self._names.items())

    def keys(self):
        return list(self._names)

    def get(self, name, default=None):
        return self._names.get(name, default)

    def _allitems(self):  # what provenance.layout reads, as on Snakemake's own lists
        named = {id(v): k for k, v in self._names.items()}
        return [(named.get(id(v)), v) for v in self._layout]


def named_list(layout: list, files: bool) -> NamedList:
    """Rebuild a named list from its recorded layout; file lists are flattened as Snakemake
    does (`input: data=[a, b]` gives two entries, `input.data` both), params are not."""
    out = NamedList()
    out._layout = []
    for name, value in layout:
        if files and isinstance(value, list):
            value = NamedList(value)
            out.extend(value)
        else:
            out.append(value)
        out._layout.append(value)
        if name is not None:
            out._name(name, value)
    return out


class _NoConfig(dict):
    """Scripts take config through params; reading snakemake.config cannot be reproduced."""

    def __getitem__(self, key):
        raise KeyError(f"the script read snakemake.config[{key!r}]: config must reach scripts "
                       "through params: (workflow/README.md), which the sidecar records")

    def get(self, key, default=None):
        return self[key]


class StandIn:
    """The `snakemake` object a script sees, rebuilt from a sidecar's record."""

    def __init__(self, record: dict, scriptdir: str, tmpdir: str):
        job = record["job"]
        self.input = named_list(job["input"], files=True)
        self.output = named_list(job["output"], files=True)
        self.log = named_list(job["log"], files=True)
        self.params = named_list(job["params"], files=False)
        self.wildcards = named_list(list(record.get("wildcards", {}).items()), files=False)
        resources = dict(job.get("resources", {}), tmpdir=tmpdir)
        self.resources = named_list(list(resources.items()), files=False)
        self.threads = int(record["threads"])
        self.rule = record["rule"]
        self.config = _NoConfig()
        self.bench_iteration = None
        self.scriptdir = scriptdir


def run_job(spec_path: str) -> None:
    """Child-process entry: run the script of a recorded step with a stand-in `snakemake`."""
    spec = json.loads(Path(spec_path).read_text())
    script = Path(spec["script"]).resolve()
    smk = StandIn(spec["record"], str(script.parent), spec["tmpdir"])
    sys.path.append(str(script.parent))
    sys.argv = [str(script)]
    runpy.run_path(str(script), init_globals={"snakemake": smk}, run_name="__main__")


# ------------------------------------------------------------------ comparing outputs


def _arrays(path: Path) -> dict:
    import numpy as np

    if path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    from safetensors.numpy import load_file

    try:
        return load_file(str(path))
    except (TypeError, ValueError):  # bfloat16 and other dtypes numpy lacks
        from safetensors.torch import load_file as load_torch

        return {k: v.double().numpy() for k, v in load_torch(str(path)).items()}


def largest_difference(a: Path, b: Path) -> str | None:
    """'max |a - b| = ... in <array>' for two array files; None for other kinds of file."""
    import numpy as np

    if a.suffix not in (".npz", ".safetensors"):
        return None
    try:
        x, y = _arrays(a), _arrays(b)
    except (OSError, ValueError, KeyError) as e:  # unreadable: say so rather than guess
        return f"arrays could not be compared ({e})"
    if set(x) != set(y):
        return f"array names differ: {sorted(set(x) ^ set(y))}"
    worst, where = 0.0, None
    for name in sorted(x):
        if x[name].shape != y[name].shape:
            return f"array {name} has shape {y[name].shape}, recorded {x[name].shape}"
        if x[name].dtype.kind not in "biuf":
            if not np.array_equal(x[name], y[name]):
                return f"array {name} ({x[name].dtype}) differs"
            continue
        diff = np.abs(x[name].astype(np.float64) - y[name].astype(np.float64))
        d = float(np.nanmax(diff)) if diff.size else 0.0
        if not np.array_equal(np.isnan(x[name].astype(np.float64)),
                              np.isnan(y[name].astype(np.float64))):
            d = float("inf")
        if d > worst or where is None:
            worst, where = d, name
    return f"largest difference max|a - b| = {worst:.3g} (array {where})"


# ------------------------------------------------------------------ re-running a step


def _flat(layout: list) -> list[str]:
    return [p for _, v in layout for p in (v if isinstance(v, list) else [v])]


def _recorded_sha(root: Path, path: str) -> str | None:
    side = root / (path + ".prov.json")
    if side.is_file():
        return json.loads(side.read_text()).get("output", {}).get("sha256")
    return None


def results_dir_of(rel_path: str) -> str | None:
    """results/<run_name> of a path relative to the workflow root, else None."""
    parts = Path(rel_path).parts
    if len(parts) > 2 and parts[0] == "results" and ".." not in parts[:2]:
        return "/".join(parts[:2])
    return None


def _layout_paths(layout) -> list:
    """The paths of a recorded named list, whatever shape a forged record gives it."""
    out = []
    for item in layout if isinstance(layout, list) else [layout]:
        value = item[1] if isinstance(item, list) and len(item) == 2 else item
        out += value if isinstance(value, list) else [value]
    return out


def _values(mapping) -> list:
    return [v for value in (mapping.values() if isinstance(mapping, dict) else [mapping])
            for v in (value if isinstance(value, list) else [value])]


def _recorded_paths(record: dict) -> list[tuple[str, object]]:
    """(role, path) of every path the sidecar records, in its summary and its job record."""
    job = record.get("job") if isinstance(record.get("job"), dict) else {}
    found = [("input", e.get("path") if isinstance(e, dict) else None)
             for e in _values(record.get("inputs") or {})]
    found += [("input", p) for p in _layout_paths(job.get("input", []))]
    found += [("output", p) for p in _values(record.get("outputs") or {})]
    found += [("output", p) for p in _layout_paths(job.get("output", []))]
    found += [("log", p) for p in _layout_paths(record.get("log") or [])]
    found += [("log", p) for p in _layout_paths(job.get("log", []))]
    output = record.get("output")
    found.append(("sidecar output", output.get("path") if isinstance(output, dict) else None))
    unique = []
    for item in found:
        if item not in unique:
            unique.append(item)
    return unique


def _outside(path, bases: list[str], root: Path) -> str | None:
    """Why `path` is not a file inside one of `bases` (relative to `root`), or None."""
    if not isinstance(path, str) or not path:
        return "is not a path"
    p = Path(path)
    if p.is_absolute():
        return "is absolute"
    if ".." in p.parts:
        return "has a '..' component"
    for base in bases:
        base_parts = Path(base).parts
        if p.parts[:len(base_parts)] != base_parts or len(p.parts) == len(base_parts):
            continue
        try:  # a symlink inside the folder may still lead out of it
            real, real_base = (root / p).resolve(), (root / base).resolve()
        except (OSError, ValueError, RuntimeError) as e:
            return f"cannot be resolved ({e})"
        if real.is_relative_to(real_base):
            return None
        return f"resolves through a symlink to {real}, outside {base}/"
    return f"is outside {bases[0]}/"


def _foreign_root(root: Path) -> Path | None:
    """The checkout whose results/ holds `root`, if any: rule files there came with results."""
    for parent in root.parents:
        if (parent / "Snakefile").is_file() and root.is_relative_to(parent / "results"):
            return parent
    return None


def refusals(record: dict, root: Path, results_dir: str | None) -> tuple[Path | None, list[str]]:
    """The checkout's script for the recorded rule and, if the step must not be re-run, why:
    each recorded path that leaves `results_dir`, and a rule with no script of this checkout."""
    rule = record.get("rule")
    why = []
    if results_dir is None:
        why.append("the audited file is not under results/<run_name>/, so no results folder "
                   "confines the paths its sidecar records")
    else:
        for role, path in _recorded_paths(record):
            bases = [results_dir, *SOURCE_INPUT_DIRS] if role == "input" else [results_dir]
            problem = _outside(path, bases, root)
            if problem:
                why.append(f"its {role} path {path!r} {problem}")
    script = None
    if (checkout := _foreign_root(root)) is not None:
        why.append(f"the workflow root {root} lies inside the results of the checkout "
                   f"{checkout}, so its rule files are not that checkout's")
    elif not isinstance(rule, str):
        why.append(f"its sidecar names no rule ({rule!r})")
    else:
        try:
            script = rule_script(root, rule)
        except RuleError as e:
            why.append(str(e))
    recorded = record.get("script")
    if script is not None:
        try:
            same = isinstance(recorded, str) and (root / recorded).resolve() == script
        except (OSError, ValueError, RuntimeError):
            same = False
        if not same:  # the record disagrees with the checkout: what would a re-run show?
            why.append(f"its sidecar records script {recorded!r}, but rule {rule} of this "
                       f"workflow runs {script.relative_to(root)}")
    return (None if why else script), [f"refused to re-run rule {rule}: {w}" for w in why]


def reproduce_step(record: dict, root: str | os.PathLike, keep: bool = False, *,
                   results_dir: str | None) -> dict:
    """Re-run the step a sidecar records, in a scratch folder; compare its outputs' bytes.
    `results_dir` (results/<run_name>, from the audited artifact's path) confines every path
    the record names; a step that leaves it, or whose rule has no script in this checkout's
    rule files, is refused (`refused`: why) and nothing runs."""
    root = Path(root).resolve()
    rule = record.get("rule")
    result = {"rule": rule, "identical": False, "outputs": [], "scratch": None,
              "seconds": None, "summary": "", "refused": []}
    if "job" not in record:
        result["summary"] = (f"cannot re-run rule {rule}: its sidecar predates the job record; "
                             "rerun the step with the current library")
        return result
    script, refused = refusals(record, root, results_dir)
    if refused:
        result["refused"] = refused
        result["summary"] = "; ".join(refused)
        return result
    # the rule name is one the rule files define (a word), so it is safe in a folder name
    scratch = Path(tempfile.mkdtemp(prefix=f"landscapes-reproduce-{rule}-")).resolve()
    try:
        problem = _stage(record, root, scratch, script)
        if problem:
            result["summary"] = problem
            return result
        start = time.perf_counter()
        proc = _run(record, root, scratch, script)
        result["seconds"] = round(time.perf_counter() - start, 2)
        if proc.returncode != 0:
            tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-8:])
            result["summary"] = f"re-running rule {rule} failed:\n{tail}"
            return result
        result["outputs"] = [_compare(path, root, scratch) for path in
                             _flat(record["job"]["output"])]
        result["identical"] = all(o["identical"] for o in result["outputs"])
        if result["identical"]:
            result["summary"] = (f"rule {rule} re-run in {result['seconds']} s: "
                                 f"{len(result['outputs'])} output(s) bit-identical")
        else:
            result["summary"] = f"rule {rule} re-run gave different bytes: " + "; ".join(
                f"{o['path']}: {o['difference']}" for o in result["outputs"]
                if not o["identical"])
        return result
    finally:
        if keep:
            result["scratch"] = str(scratch)
        else:
            shutil.rmtree(scratch, ignore_errors=True)


def _stage(record: dict, root: Path, scratch: Path, script: Path) -> str | None:
    """Copy the recorded inputs (hash-checked) and the rule's script; None when all is in
    place. The paths were confined by `refusals`."""
    for entries in record.get("inputs", {}).values():
        for entry in entries:
            src = root / entry["path"]
            if not src.is_file():
                return f"cannot re-run rule {record['rule']}: input {entry['path']} is missing"
            if sha256_file(src) != entry.get("sha256"):
                return (f"cannot re-run rule {record['rule']}: input {entry['path']} changed "
                        "since the step ran, so the recorded inputs are gone")
            dst = scratch / entry["path"]
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst)
            side = sidecar_path(src)  # the step checks its inputs against them
            if side.is_file():
                shutil.copyfile(side, sidecar_path(dst))
    dst = scratch / script.relative_to(root)
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(script, dst)
    for name in RAW_DATA_DIRS:
        if (root / name).is_dir():
            (scratch / name).symlink_to(root / name, target_is_directory=True)
    return None


def _run(record: dict, root: Path, scratch: Path, script: Path) -> subprocess.CompletedProcess:
    tmpdir = scratch / ".tmp"
    tmpdir.mkdir()
    spec = scratch / ".job.json"
    spec.write_text(json.dumps({"script": str(scratch / script.relative_to(root)),
                                "record": record, "tmpdir": str(tmpdir)}))
    threads = str(record.get("threads", 1))
    env = dict(os.environ, TMPDIR=str(tmpdir), TMP=str(tmpdir),
               PYTHONPATH=os.pathsep.join(
                   p for p in [str(root / "src"), os.environ.get("PYTHONPATH", "")] if p))
    env.update({name: threads for name in THREAD_VARIABLES})
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as the Snakefile sets for every job
    program = "import sys; from landscapes.reproduce import run_job; run_job(sys.argv[1])"
    return subprocess.run([sys.executable, "-c", program, str(spec)], cwd=scratch, env=env,
                          check=False, capture_output=True, text=True)


def _compare(path: str, root: Path, scratch: Path) -> dict:
    new = scratch / path
    out = {"path": path, "identical": False, "sha256": None, "recorded_sha256": None,
           "difference": None}
    if not new.is_file():
        out["difference"] = "the re-run did not write it"
        return out
    out["sha256"] = sha256_file(new)
    old = root / path
    recorded = _recorded_sha(root, path) or (sha256_file(old) if old.is_file() else None)
    out["recorded_sha256"] = recorded
    out["identical"] = out["sha256"] == recorded
    if not out["identical"]:
        if old.is_file() and sha256_file(old) == recorded:
            out["difference"] = largest_difference(old, new) or "bytes differ"
        else:
            out["difference"] = "bytes differ (the file on disk no longer matches its record)"
    return out
