"""Shared test setup: sleeping OpenMP threads (as the Snakefile sets for jobs), and a copy of
the repository for tests that run the workflow."""

import os
import shutil
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

ROOT = Path(__file__).resolve().parents[1]
# What the workflow needs of a checkout (results and the venv stay behind).
TREE = ("Snakefile", "workflow", "profiles", "scripts", "src", "config", "envs", "pyproject.toml",
        "tests")


def copy_repository(dest: Path) -> Path:
    """The checkout's workflow, library, configs and tests copied into `dest`."""
    for name in TREE:
        src = ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, dest / name)
    return dest
