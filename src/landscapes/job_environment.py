"""The environment every job of the workflow inherits (set by the Snakefile at parse time)."""

from __future__ import annotations

import os


def export_to_jobs(basedir: str) -> None:
    """Environment every job inherits: this checkout's library first, sleeping OpenMP threads.

    Idle OpenMP threads that spin starve parallel jobs on a small machine (a 50x slowdown
    measured with two 2-thread jobs on 2 cores), so they sleep instead.
    """
    src = os.path.join(basedir, "src")
    paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p and p != src]
    os.environ["PYTHONPATH"] = os.pathsep.join([src, *paths])
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
