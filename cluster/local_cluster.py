#!/usr/bin/env python3
"""A one-machine scheduler for Snakemake's cluster-generic executor.

Each job runs as its own detached process in a fresh sandbox folder that holds only the
job's declared input files (with their provenance sidecars, which a job checks its inputs
against), so a rule that reads anything it did not declare fails here as it would on a
cluster node without the workflow's working directory. When the job succeeds,
its declared outputs, its logs, its benchmark file and the provenance sidecars of its
outputs (`<output>.prov.json`) move back into the working directory; any other file the job
wrote fails the job, naming the file.

    local_cluster.py submit JOBSCRIPT   start a job, print its id
    local_cluster.py status JOBID       print running, success or failed
    local_cluster.py cancel JOBID...    stop jobs
    local_cluster.py run JOBDIR WORKDIR (internal: the job's own process)

Jobs live in `.snakemake/local-cluster/<jobid>/` of the working directory: `job.out` holds
the job's output, `sandbox/` what a failed job left behind. Only the standard library is
used, so any Python 3 runs it.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

SPOOL = Path(".snakemake") / "local-cluster"
SIDECAR_SUFFIX = ".prov.json"
# Snakemake's bookkeeping inside the sandbox, not the job's output.
SANDBOX_BOOKKEEPING = (".snakemake",)


class JobError(Exception):
    """A job that broke the rules of the sandbox: the message says which file and why."""


def job_properties(jobscript: str | Path) -> dict:
    """The job's rule, inputs, outputs and logs, from the `# properties = {...}` line."""
    for line in Path(jobscript).read_text().splitlines():
        if line.startswith("# properties = "):
            return json.loads(line[len("# properties = "):])
    raise JobError(f"{jobscript}: no '# properties = ' line; is this a Snakemake jobscript?")


def relative_inside(path: str) -> Path:
    """A declared file as a path relative to the working directory, or a clear error."""
    p = Path(path)
    if p.is_absolute() or ".." in p.parts:
        raise JobError(f"'{path}' is outside the working directory; a sandboxed job can only "
                       "use files under it")
    return p


def copy_inputs(inputs: list[str], workdir: Path, sandbox: Path) -> None:
    for name in inputs:
        rel = relative_inside(name)
        src, dst = workdir / rel, sandbox / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst, copy_function=shutil.copy2)
        elif src.exists():
            shutil.copy2(src, dst)
        else:
            raise JobError(f"declared input '{name}' does not exist in {workdir}")
        side = sidecar_of(src)  # an artifact's record travels with it
        if src.is_file() and side.is_file():
            shutil.copy2(side, sidecar_of(dst))


def sidecar_of(path: Path) -> Path:
    return path.with_name(path.name + SIDECAR_SUFFIX)


def allowed_outputs(props: dict) -> set[Path]:
    """What a job may write: its outputs, their sidecars, its logs, its benchmark file."""
    outputs = [relative_inside(p) for p in props.get("output") or []]
    logs = [relative_inside(p) for p in props.get("log") or []]
    sidecars = [sidecar_of(p) for p in outputs]
    return set(outputs) | set(logs) | set(sidecars)


def is_benchmark(rel: Path, rule: str) -> bool:
    # The benchmark path is not in the jobscript's properties; the workflow's convention
    # names it benchmarks/<rule>*.tsv.
    return "benchmarks" in rel.parts[:-1] and rel.name.startswith(rule) and rel.suffix == ".tsv"


def written_files(sandbox: Path, inputs: set[Path]) -> list[Path]:
    """Every file in the sandbox that is not an input or Snakemake's bookkeeping."""
    found = []
    for root, dirs, files in os.walk(sandbox):
        rel_root = Path(root).relative_to(sandbox)
        if rel_root == Path("."):
            dirs[:] = [d for d in dirs if d not in SANDBOX_BOOKKEEPING]
        for name in files:
            rel = rel_root / name
            if not any(rel == i or i in rel.parents for i in inputs):
                found.append(rel)
    return sorted(found)


def collect(props: dict, sandbox: Path, workdir: Path, succeeded: bool) -> None:
    """Move the job's declared results back; fail on anything else it wrote."""
    inputs = {relative_inside(p) for p in props.get("input") or []}
    inputs |= {sidecar_of(p) for p in inputs}  # copied in with them, not written
    allowed = allowed_outputs(props)
    outputs = [relative_inside(p) for p in props.get("output") or []]
    rule = props.get("rule", "")
    written = written_files(sandbox, inputs)
    undeclared = [p for p in written
                  if p not in allowed and not any(o in p.parents for o in outputs)
                  and not is_benchmark(p, rule)]
    if succeeded and undeclared:
        raise JobError("rule " + rule + " wrote files it did not declare: "
                       + ", ".join(map(str, undeclared)))
    # Logs always come back, so a failed job can be read where Snakemake points.
    logs = {relative_inside(p) for p in props.get("log") or []}
    keep = [p for p in written if p not in undeclared and (succeeded or p in logs)
            and not any(o in p.parents for o in outputs)]
    if succeeded:  # directory() outputs move as a whole
        keep += [o for o in outputs if (sandbox / o).is_dir()]
    for rel in keep:
        dst = workdir / rel
        if dst.is_dir():
            shutil.rmtree(dst)
        dst.parent.mkdir(parents=True, exist_ok=True)
        os.replace(sandbox / rel, dst)


def in_sandbox(jobscript_text: str, workdir: Path, sandbox: Path) -> str:
    """The jobscript with its `cd <workdir>` pointed at the sandbox instead."""
    prefix = f"cd {shlex.quote(str(workdir))} && "
    if prefix not in jobscript_text:
        raise JobError(f"the jobscript does not start its command with '{prefix}'; cannot "
                       "run it in a sandbox")
    return jobscript_text.replace(prefix, f"cd {shlex.quote(str(sandbox))} && ", 1)


def write_status(jobdir: Path, status: str) -> None:
    tmp = jobdir / "status.tmp"
    tmp.write_text(status + "\n")
    os.replace(tmp, jobdir / "status")


def run(jobdir: Path, workdir: Path) -> int:
    """The job's own process: sandbox, run, collect, record the status."""
    status = "failed"
    try:
        jobscript = jobdir / "jobscript.sh"
        props = job_properties(jobscript)
        if props.get("type") != "single":
            raise JobError("group jobs are not supported by the local cluster")
        if props.get("input") is None or props.get("output") is None:
            raise JobError("the job has too many files for Snakemake to list them in the "
                           "jobscript; the local cluster cannot sandbox it")
        sandbox = jobdir / "sandbox"
        sandbox.mkdir()
        copy_inputs(props["input"], workdir, sandbox)
        script = jobdir / "sandboxed.sh"
        script.write_text(in_sandbox(jobscript.read_text(), workdir, sandbox))
        print(f"running rule {props['rule']} in {sandbox}", flush=True)
        rc = subprocess.run(["/bin/sh", str(script)], cwd=sandbox,
                            stdin=subprocess.DEVNULL, check=False).returncode
        collect(props, sandbox, workdir, succeeded=rc == 0)
        if rc == 0:
            shutil.rmtree(sandbox)
            status = "success"
        else:
            print(f"job exited with status {rc}; its files are left in {sandbox}", flush=True)
    except JobError as e:
        print(f"local-cluster: {e}", flush=True)
    finally:
        write_status(jobdir, status)
    return 0 if status == "success" else 1


def submit(jobscript: Path) -> str:
    props = job_properties(jobscript)
    SPOOL.mkdir(parents=True, exist_ok=True)
    jobdir = Path(tempfile.mkdtemp(prefix=f"{props.get('rule', 'group')}-", dir=SPOOL)).resolve()
    # Snakemake may delete its jobscript once the job is done: keep a copy with the job.
    shutil.copy(jobscript, jobdir / "jobscript.sh")
    with open(jobdir / "job.out", "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "run", str(jobdir),
             str(Path.cwd())],
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True)  # its own process group: cancel stops the whole job
    (jobdir / "pid").write_text(str(proc.pid))
    return jobdir.name


def _jobdir(jobid: str) -> Path:
    if not jobid or "/" in jobid or jobid.startswith("."):
        raise JobError(f"'{jobid}' is not a local-cluster job id")
    jobdir = SPOOL / jobid
    if not jobdir.is_dir():
        raise JobError(f"no job '{jobid}' in {SPOOL.resolve()}")
    return jobdir


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A finished child of nobody's is a zombie until reaped; count it as finished.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def status(jobid: str) -> str:
    jobdir = _jobdir(jobid)
    status_file = jobdir / "status"
    if status_file.exists():
        return status_file.read_text().strip()
    pid = int((jobdir / "pid").read_text())
    if _alive(pid):
        return "running"
    # It may have written its status between the two looks.
    return status_file.read_text().strip() if status_file.exists() else "failed"


def cancel(jobids: list[str]) -> None:
    for jobid in jobids:
        jobdir = _jobdir(jobid)
        if (jobdir / "status").exists():
            continue
        pid = int((jobdir / "pid").read_text())
        try:
            os.killpg(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass


USAGE = ("usage: local_cluster.py submit JOBSCRIPT | status JOBID | cancel JOBID... "
         "| run JOBDIR WORKDIR")


def main(argv: list[str]) -> int:
    if not argv:
        print(USAGE, file=sys.stderr)
        return 2
    command, args = argv[0], argv[1:]
    try:
        if command == "submit" and len(args) == 1:
            print(submit(Path(args[0])))
        elif command == "status" and len(args) == 1:
            print(status(args[0]))
        elif command == "cancel" and args:
            cancel(args)
        elif command == "run" and len(args) == 2:
            return run(Path(args[0]), Path(args[1]))
        else:
            print(USAGE, file=sys.stderr)
            return 2
    except JobError as e:
        print(f"local-cluster: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
