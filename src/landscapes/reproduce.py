"""Re-run one recorded step outside Snakemake and compare what it writes, byte for byte.

The step's sidecar holds everything its script saw: the `job` record (input, output, log and
params as Snakemake's named lists laid them out, and the resources), the wildcards, threads
and rule. `reproduce_step` copies the recorded inputs (each checked against its recorded
sha256) and the script to the same relative paths in a scratch folder, rebuilds a stand-in
`snakemake` object from the record, runs the script in a fresh Python process there (as
Snakemake does, with the same thread settings and the checkout's `src/` on the path), and
compares every output with the recorded hash. Where bytes differ and both files hold arrays
(npz, safetensors), it reports the largest numeric difference.

The inputs' own sidecars are copied with them (a claims table is stamped with when its inputs
were made). Raw data outside the DAG (the `resources/` folder of downloaded datasets) is linked
in, not copied; nothing else of the workflow is visible to the script.
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

RAW_DATA_DIRS = ("resources",)
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


def reproduce_step(record: dict, root: str | os.PathLike, keep: bool = False) -> dict:
    """Re-run the step a sidecar records, in a scratch folder; compare its outputs' bytes."""
    root = Path(root).resolve()
    rule = record.get("rule")
    result = {"rule": rule, "identical": False, "outputs": [], "scratch": None,
              "seconds": None, "summary": ""}
    if "job" not in record:
        result["summary"] = (f"cannot re-run rule {rule}: its sidecar predates the job record; "
                             "rerun the step with the current library")
        return result
    scratch = Path(tempfile.mkdtemp(prefix=f"landscapes-reproduce-{rule}-")).resolve()
    try:
        problem = _stage(record, root, scratch)
        if problem:
            result["summary"] = problem
            return result
        start = time.perf_counter()
        proc = _run(record, root, scratch)
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


def _stage(record: dict, root: Path, scratch: Path) -> str | None:
    """Copy the recorded inputs (hash-checked) and the script; None when all is in place."""
    for entries in record.get("inputs", {}).values():
        for entry in entries:
            src = root / entry["path"]
            if not src.is_file():
                return f"cannot re-run rule {record['rule']}: input {entry['path']} is missing"
            if sha256_file(src) != entry["sha256"]:
                return (f"cannot re-run rule {record['rule']}: input {entry['path']} changed "
                        "since the step ran, so the recorded inputs are gone")
            dst = scratch / entry["path"]
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst)
            side = sidecar_path(src)  # a table's stamp reads when its inputs were made
            if side.is_file():
                shutil.copyfile(side, sidecar_path(dst))
    script = root / record["script"]
    if not script.is_file():
        return f"cannot re-run rule {record['rule']}: script {record['script']} is gone"
    (scratch / record["script"]).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(script, scratch / record["script"])
    for name in RAW_DATA_DIRS:
        if (root / name).is_dir():
            (scratch / name).symlink_to(root / name, target_is_directory=True)
    return None


def _run(record: dict, root: Path, scratch: Path) -> subprocess.CompletedProcess:
    tmpdir = scratch / ".tmp"
    tmpdir.mkdir()
    spec = scratch / ".job.json"
    spec.write_text(json.dumps({"script": str(scratch / record["script"]), "record": record,
                                "tmpdir": str(tmpdir)}))
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
