"""An experiment as one declarative unit: its figures and its claims' inputs.

Each experiment's rule file declares one `Experiment`; the workflow's single figure rule and
single claims rule read every experiment's declaration, so adding a paper adds no plot or
claims rule, and no plot script.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable


@dataclass(frozen=True)
class Figure:
    """A figure: the artifacts it draws (input name -> path or paths) and the settings its
    drawing function `landscapes.figures.<experiment>.<name>(artifacts, settings)` takes.
    Its caption is `workflow/report/<experiment>/<name>.rst`."""

    inputs: dict
    settings: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Experiment:
    """`claims(seed)` gives the artifacts (name -> path or paths) its claims read for one
    replicate seed; the claims get the experiment's whole config section as settings."""

    name: str
    category: str  # the report's heading for its figures
    figures: dict[str, Figure]
    claims: Callable[[int], dict]
    seeds: list[int]


def as_inputs(named) -> dict:
    """A job's named inputs (anything with `.items()`) as the plain mapping figures and
    claims take: a path, or a list of paths where the input is a list."""
    return {k: (v if isinstance(v, str) else list(v)) for k, v in named.items()}
