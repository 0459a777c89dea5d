"""Atomic writes, hashing and the provenance sidecar every artifact carries.

A pipeline script wraps its work in `step(snakemake)`. The step configures threads, seeds,
determinism and logging, and once the body succeeds it writes `<output>.prov.json` beside each
output: rule, script, params, seed, wildcards, the sha256 of every input and of the output, the
hashes of the code that ran, package versions, git commit and dirty flag, start and end time.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import glob
import hashlib
import importlib.metadata
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SIDECAR_SUFFIX = ".prov.json"
# 2: each input's entry records `sidecar_sha256`, the hash of the input's sidecar bytes (None
# for raw data). Format-1 records lack it; audit reads them and says the chain went unchecked.
FORMAT_VERSION = 2
RESULTS_DIR = "results"
LIBRARY_DIR = Path(__file__).resolve().parent
PACKAGES = ("landscapes", "torch", "numpy", "scipy", "matplotlib", "scikit-learn", "mnist1d",
            "safetensors", "plotly", "snakemake")

log = logging.getLogger("landscapes")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike):
    """Yield a temporary path beside `path`; rename it onto `path` only if the body succeeds.

    A job killed mid-write leaves no half-written file under the real name.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        # left by a job killed mid-write (kill -9 runs no cleanup); this job rewrites the file
        with contextlib.suppress(FileNotFoundError):
            stale.unlink()
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # the permissions of an ordinary new file, not mkstemp's 0600
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def sha256_file(path: str | os.PathLike) -> str:
    """The file's sha256; for a folder (an image-folder dataset), one hash over every file's
    relative path and bytes, in sorted order."""
    h = hashlib.sha256()
    if Path(path).is_dir():
        for file in sorted(p for p in Path(path).rglob("*") if p.is_file()):
            h.update(str(file.relative_to(path)).encode() + b"\0")
            h.update(sha256_file(file).encode())
        return h.hexdigest()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def library_sha256(library_dir: str | os.PathLike = LIBRARY_DIR) -> str:
    """One hash over the library's source files, so a changed library is visible in audit."""
    library_dir = Path(library_dir)
    h = hashlib.sha256()
    for path in sorted(library_dir.rglob("*.py")):
        h.update(str(path.relative_to(library_dir)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def library_files_used() -> dict[str, str]:
    """sha256 of each library source file this process imported, keyed by its path in the
    package: audit names the changed module instead of only saying "the library changed"."""
    used = {}
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None)
        if not path:
            continue
        path = Path(path).resolve()
        if path.suffix == ".py" and path.is_relative_to(LIBRARY_DIR):
            used[str(path.relative_to(LIBRARY_DIR))] = sha256_file(path)
    return dict(sorted(used.items()))


def package_versions() -> dict[str, str]:
    versions = {"python": sys.version.split()[0]}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def git_state(cwd: str | os.PathLike = LIBRARY_DIR) -> dict:
    """Commit and dirty flag of the checkout holding the library (wherever the job runs)."""
    def git(*args):
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                              check=True).stdout.strip()
    try:
        commit = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    except (subprocess.CalledProcessError, FileNotFoundError):
        return {"commit": None, "dirty": None}
    return {"commit": commit, "dirty": dirty}


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def to_jsonable(value):
    """Snakemake's named lists and config mappings as plain JSON values."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return str(value)


def named(namedlist) -> dict[str, list[str]]:
    """Snakemake's input/output Namedlist as {name: [paths]}; unnamed entries under '_'."""
    names = dict(namedlist.items())
    out = {k: [str(p) for p in (v if isinstance(v, list) else [v])] for k, v in names.items()}
    named_paths = {p for paths in out.values() for p in paths}
    rest = [str(p) for p in namedlist if str(p) not in named_paths]
    if rest:
        out["_"] = rest
    return out


def layout(namedlist, paths: bool = True) -> list[list]:
    """A Snakemake Namedlist as [[name or None, value], ...] in its own order, so a stand-in
    `snakemake` object can be rebuilt exactly (a named str stays a str, a named list a list)."""
    if hasattr(namedlist, "_allitems"):
        items = list(namedlist._allitems())
    else:  # a plain mapping
        items = list(namedlist.items())
    if paths:
        return [[name, [str(p) for p in value] if isinstance(value, list) else str(value)]
                for name, value in items]
    return [[name, to_jsonable(value)] for name, value in items]


def job_record(smk) -> dict:
    """What `landscapes audit --reproduce` needs to rebuild the script's `snakemake` object."""
    resources = {k: to_jsonable(v) for k, v in smk.resources.items()
                 if isinstance(k, str) and not k.startswith("_")}
    return {"input": layout(smk.input), "output": layout(smk.output), "log": layout(smk.log),
            "params": layout(smk.params, paths=False), "resources": resources}


def script_path(smk, caller_file: str) -> str:
    """The script's path in the repository (Snakemake runs a temporary copy of it)."""
    name = Path(caller_file).name
    if name.startswith("tmp") and name.count(".") >= 2:
        name = name.split(".", 1)[1]
    path = Path(smk.scriptdir) / name
    with contextlib.suppress(ValueError):
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    return str(path)


def sidecar_path(path: str | os.PathLike) -> Path:
    return Path(str(path) + SIDECAR_SUFFIX)


def read_sidecar(path: str | os.PathLike) -> dict | None:
    side = sidecar_path(path)
    if not side.exists():
        return None
    return json.loads(side.read_text())


def in_results(path: str | os.PathLike) -> bool:
    """Whether a job's input lies under results/ of the workflow root (the job's folder)."""
    p = Path(path)
    if p.is_absolute():
        with contextlib.suppress(ValueError):
            p = p.relative_to(Path.cwd())
    return p.parts[:1] == (RESULTS_DIR,)


class InputCheckError(RuntimeError):
    """An input a job refuses to load, naming the file and the rule its sidecar says made it."""

    def __init__(self, path: str, rule: str | None, problem: str):
        self.path, self.rule = str(path), rule
        made = f" (made by rule {rule})" if rule else ""
        fix = (f"rerun rule {rule} to remake it (snakemake --forcerun {rule} TARGET)" if rule
               else "rerun the rule that makes it (snakemake --forcerun RULE TARGET)")
        super().__init__(f"input {path}{made} {problem}; not loaded: {fix}")


def _input_sidecar(path: str) -> tuple[bytes | None, dict | None]:
    """The bytes of an input's sidecar and the record they hold; (None, None) without one."""
    side = sidecar_path(path)
    try:
        data = side.read_bytes()
    except FileNotFoundError:
        return None, None
    except OSError as e:
        raise InputCheckError(path, None, f"has a sidecar {side} that cannot be read "
                              f"({e.strerror or e})") from None
    try:
        record = json.loads(data)
        if not isinstance(record["output"]["sha256"], str):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        raise InputCheckError(path, None, f"has a sidecar {side} that is not a provenance "
                              "record (truncated or edited)") from None
    return data, record


def check_input(path: str) -> dict:
    """An input's record entry {path, sha256, sidecar_sha256}, once its bytes are known to be
    what its sidecar says its rule wrote. Raises `InputCheckError`."""
    try:
        sha = sha256_file(path)
    except OSError as e:
        try:  # name the rule to rerun if the sidecar says it
            rule = _input_sidecar(path)[1]["rule"]
        except (InputCheckError, TypeError, KeyError):
            rule = None
        raise InputCheckError(path, rule, f"cannot be read ({e.strerror or e})") from None
    return checked_entry(path, sha)


def checked_entry(path: str, sha: str) -> dict:
    """The check alone, for an input already hashed (`sha`): the job hashes every input for
    its record anyway, so checking costs only reading the input's (small) sidecar."""
    side_bytes, record = _input_sidecar(path)
    if record is None:
        if in_results(path):
            raise InputCheckError(path, None, f"has no provenance sidecar "
                                  f"({Path(path).name}{SIDECAR_SUFFIX}), so what made it "
                                  "cannot be checked")
        return {"path": path, "sha256": sha, "sidecar_sha256": None}  # raw data
    recorded = record["output"]["sha256"]
    if sha != recorded:
        raise InputCheckError(path, record.get("rule"), f"is not the file its rule wrote "
                              f"(sha256 now {sha[:12]}, its sidecar records {recorded[:12]}): "
                              "truncated, edited or overwritten since")
    return {"path": path, "sha256": sha,
            "sidecar_sha256": hashlib.sha256(side_bytes).hexdigest()}


class Step:
    """What a running job knows about itself; filled by `step`."""

    def __init__(self, smk, script: str):
        self.smk = smk
        self.rule = smk.rule
        self.script = script
        self.params = to_jsonable(dict(smk.params.items()))
        self.seed = self.params.get("seed")
        self.wildcards = to_jsonable(dict(smk.wildcards.items()))
        self.inputs = {name: [check_input(p) for p in paths]  # before the body loads any
                       for name, paths in named(smk.input).items()}
        self.outputs = named(smk.output)
        self.device = compute_device(int(dict(smk.resources.items()).get("gpu", 0) or 0))

    def figure_metadata(self) -> dict[str, str]:
        """Provenance fields embedded in figure files: no times, so bytes stay reproducible
        (nor the inputs' sidecar hashes, which hash their times)."""
        return {
            "rule": self.rule,
            "script": self.script,
            "params": json.dumps(self.params, sort_keys=True),
            "inputs": json.dumps({n: [i["sha256"] for i in v] for n, v in self.inputs.items()},
                                 sort_keys=True),
        }


def configure_runtime(threads: int, seed: int | None = None) -> None:
    """Thread count, seeds and deterministic kernels, the same in every job and test."""
    import numpy as np
    import torch

    torch.set_num_threads(max(1, int(threads)))
    if torch.cuda.is_available():  # CPU kernels are deterministic already; this import is slow
        # deterministic cuBLAS needs a fixed workspace, set before its first call
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True)
        torch.backends.cudnn.benchmark = False
    if seed is not None:
        torch.manual_seed(seed)
        np.random.seed(seed % 2**32)


def compute_device(gpus: int = 0):
    """Where a job computes: the first CUDA device when the job was given a GPU (its `gpu`
    resource) and torch sees one, else the CPU. A GPU granted but not visible is logged and the
    job goes on on the CPU (same results, slower)."""
    import torch

    if gpus and torch.cuda.is_available():
        return torch.device("cuda")
    if gpus:
        log.warning("this job was given %s GPU(s) but torch sees none: computing on the CPU",
                    gpus)
    return torch.device("cpu")


def _log_to(paths) -> logging.Handler | None:
    if not paths:
        return None
    Path(paths[0]).parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(paths[0], mode="w")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logging.getLogger().addHandler(handler)
    logging.getLogger().setLevel(logging.INFO)
    return handler


@contextlib.contextmanager
def step(smk, caller_file: str):
    """Run a pipeline script's body with provenance: `with step(snakemake, __file__) as s:`."""
    start = now()
    handler = _log_to(list(smk.log))
    try:
        s = Step(smk, script_path(smk, caller_file))  # checks the inputs
        configure_runtime(smk.threads, s.seed if isinstance(s.seed, int) else None)
        log.info("rule %s started: params %s", s.rule, json.dumps(s.params, sort_keys=True))
        yield s
        # the job's own CPU time: a benchmark file samples it every 30 s and misses the end
        log.info("rule %s finished: %.1f CPU seconds", s.rule, time.process_time())
    except InputCheckError as e:
        log.error("rule %s refused an input: %s", smk.rule, e)
        raise
    except Exception:
        log.exception("rule %s failed", smk.rule)
        raise
    finally:
        if handler:
            logging.getLogger().removeHandler(handler)
            handler.close()
    record = {
        "format": FORMAT_VERSION,
        "rule": s.rule,
        "script": s.script,
        "script_sha256": sha256_file(s.script) if Path(s.script).exists() else None,
        "library_sha256": library_sha256(),
        "params": s.params,
        "seed": s.seed,
        "wildcards": s.wildcards,
        "threads": int(smk.threads),
        "device": str(s.device),
        "inputs": s.inputs,
        "outputs": s.outputs,
        "log": [str(p) for p in smk.log],
        "job": job_record(smk),
        "library_files": library_files_used(),
        "versions": package_versions(),
        "git": git_state(),
        "start": start,
        "end": now(),
    }
    for paths in s.outputs.values():
        for path in paths:
            write_sidecar(path, record)


def write_sidecar(path: str | os.PathLike, record: dict) -> None:
    entry = dict(record, output={"path": str(path), "sha256": sha256_file(path)})
    with atomic_path(sidecar_path(path)) as tmp:
        tmp.write_text(json.dumps(entry, indent=1, sort_keys=True) + "\n")
