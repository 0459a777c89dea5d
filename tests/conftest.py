"""Shared test setup: sleeping OpenMP threads (as the Snakefile sets for jobs)."""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
