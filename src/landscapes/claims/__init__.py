"""Named claims: each paper's statement as a function of the pipeline's artifacts.

A claim function is registered with `@claim(...)`, which records the paper, the figure (its
name within the experiment, as in `figures/<experiment>/<figure>.png`, and the paper's label for
it), the statement and the paper's value. It receives the artifacts (a mapping name -> path,
from the rule's inputs) and the experiment's config section as params: thresholds under
`params["claims"]` (each a key with its default in the section's schema), other settings from
the section itself. It returns a `Verdict` it computed: the measured value, the threshold it
was compared with, and whether the claim holds. A broken measurement (NaN, an empty selection,
a zero denominator) fails or raises, never holds. Claims live in one module per experiment
(`landscapes.claims.<experiment>`); `evaluate` runs all claims of one experiment.
"""

from __future__ import annotations

import importlib
import math
import operator
import statistics
from dataclasses import asdict, dataclass, field
from typing import Callable

import numpy as np

REGISTRY: dict[str, list[Callable]] = {}
FIELDS = ("experiment", "paper", "figure", "paper_figure", "claim", "paper_value", "measured",
          "threshold", "holds")


SENSES = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}
# A verdict over seeds is settled when the seeds' mean lies this many standard deviations
# (of the seed values) from the bound. Training is chaotic: another machine's rounding moves a
# run as much as a new seed does, so a margin inside the seed spread can flip elsewhere.
SETTLED_SDS = 2.0


@dataclass
class Verdict:
    """What a claim measured, against what, and whether it holds. A claim that compares one
    number with one bound also gives `bound` and `sense` (holds = measured <sense> bound), so
    that its margin over seeds can be stated (see `over_seeds`)."""

    measured: float | str
    threshold: str
    holds: bool
    details: dict = field(default_factory=dict)
    bound: float | None = None
    sense: str | None = None

    def __post_init__(self):
        if (self.bound is None) != (self.sense is None) or (
                self.sense is not None and self.sense not in SENSES):
            raise ValueError(f"a verdict's bound and sense come together, sense one of "
                             f"{list(SENSES)}: got bound {self.bound}, sense {self.sense!r}")


def claim(experiment: str, name: str, paper: str, figure: str, paper_figure: str,
          statement: str, paper_value: str, finding: bool = False):
    """Register a claim function under an experiment (the rule file's name). `figure` is the
    figure's name within the experiment (`figures/<experiment>/<figure>.png`), `paper_figure`
    the paper's label for what it reproduces ("Fig. 5", "Table 3", "(a)", or "").

    A `finding` is a measurement reported beside the claims (how many searches ended where,
    say) with no threshold to pass: its verdict reads "finding", it is left out of the count
    of claims that hold, and its function returns holds=True once it has measured."""
    if not figure or "/" in figure or " " in figure:
        raise ValueError(f"claim {experiment}.{name}: figure must be a figure's file name "
                         f"within its experiment, got {figure!r}")

    def register(fn: Callable) -> Callable:
        fn.claim_info = {"id": f"{experiment}.{name}", "experiment": experiment, "paper": paper,
                         "figure": figure, "paper_figure": paper_figure, "claim": statement,
                         "paper_value": paper_value, "finding": finding}
        REGISTRY.setdefault(experiment, []).append(fn)
        return fn
    return register


def figure_label(record: dict) -> str:
    """'linear/convexity (a)': the figure file within its experiment, then the paper's label."""
    label = f"{record['experiment']}/{record['figure']}"
    return f"{label} {record['paper_figure']}" if record.get("paper_figure") else label


def finite(*values) -> bool:
    """Whether every value (numbers or arrays) is a finite number: a NaN or infinity is a broken
    measurement, and no comparison may turn it into a verdict."""
    return all(np.isfinite(np.asarray(v, dtype=float)).all() for v in values)


def ratio(numerator, denominator) -> float:
    """numerator / denominator, NaN (which fails every threshold) unless both are finite and
    the denominator is positive: "x times sharper" means nothing over zero or a negative."""
    if not finite(numerator, denominator) or not float(denominator) > 0:
        return math.nan
    return float(numerator) / float(denominator)


def least(values) -> float:
    """The smallest value, NaN if any is not finite (Python's min lets a NaN through or not
    by where it stands); an empty selection raises."""
    v = np.asarray(list(values), dtype=float)
    if v.size == 0:
        raise ValueError("no values to compare: the selection is empty")
    return float(v.min()) if finite(v) else math.nan


def most(values) -> float:
    """The largest value, NaN if any is not finite; an empty selection raises."""
    return -least(-np.asarray(list(values), dtype=float))


def _clean(value):
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if hasattr(value, "item"):
        return _clean(value.item())
    return value


def evaluate(experiment: str, artifacts: dict, params: dict) -> list[dict]:
    """Run every claim of an experiment; each record says what was measured and if it holds."""
    if experiment not in REGISTRY:
        importlib.import_module(f"landscapes.claims.{experiment}")
    records = []
    for fn in REGISTRY.get(experiment, []):
        verdict = fn(artifacts, params)
        if not isinstance(verdict.holds, bool):
            raise TypeError(f"claim {fn.claim_info['id']} returned a non-boolean verdict")
        if verdict.holds and isinstance(verdict.measured, float) and not finite(verdict.measured):
            raise ValueError(f"claim {fn.claim_info['id']} holds on a non-finite measurement "
                             f"({verdict.measured})")
        if (verdict.holds and verdict.bound is not None
                and not SENSES[verdict.sense](float(verdict.measured), float(verdict.bound))):
            raise ValueError(f"claim {fn.claim_info['id']} holds, yet its measured value "
                             f"{verdict.measured} is not {verdict.sense} its bound {verdict.bound}")
        record = dict(fn.claim_info, **asdict(verdict))
        record["measured"] = _clean(record["measured"])
        record["bound"] = _clean(record["bound"])
        record["details"] = {k: _clean(v) for k, v in record["details"].items()}
        records.append(record)
    if not records:
        raise ValueError(f"no claims registered for experiment '{experiment}'")
    return records


def _numeric(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def over_seeds(per_seed: dict[int, list[dict]]) -> list[dict]:
    """One record per claim from its records at each replicate seed. It holds only if it
    holds at every seed (the strong form); `held` of `n` says how often it did, `per_seed`
    keeps each seed's value and verdict, `spread` the range of the numeric values, and
    `measured` is their median (the one value when there is one seed)."""
    if not per_seed:
        raise ValueError("no replicate seeds to combine")
    seeds = sorted(per_seed)
    ids = [r["id"] for r in per_seed[seeds[0]]]
    for seed in seeds:
        if [r["id"] for r in per_seed[seed]] != ids:
            raise ValueError(f"seed {seed} evaluated other claims than seed {seeds[0]}")
    combined = []
    for i in range(len(ids)):
        records = [per_seed[seed][i] for seed in seeds]
        values = [r["measured"] for r in records]
        held = sum(bool(r["holds"]) for r in records)
        record = dict(records[0], seeds=seeds, n=len(seeds), held=held,
                      holds=held == len(seeds),
                      per_seed=[{"seed": seed, "measured": r["measured"], "holds": r["holds"],
                                 "threshold": r["threshold"], "details": r["details"]}
                                for seed, r in zip(seeds, records)])
        pooled = [r["details"].get("pooled") for r in records if "pooled" in r["details"]]
        if pooled:
            if any(p != pooled[0] for p in pooled) or len(pooled) != len(records):
                raise ValueError(f"claim {ids[i]}: the seeds report different pooled values")
            record["pooled"] = pooled[0]
        if len(seeds) > 1 and all(_numeric(v) for v in values):
            record["measured"] = float(statistics.median(values))
            record["spread"] = {"min": float(min(values)), "max": float(max(values)),
                                "std": float(statistics.pstdev(values))}
            margin = margin_over_seeds(values, [r.get("bound") for r in records],
                                       records[0].get("sense"))
            if margin is not None:
                record["settled"] = bool(abs(margin) >= SETTLED_SDS)  # False on NaN
                record["margin_sds"] = _clean(margin)
        elif len(seeds) > 1:
            record["measured"] = "; ".join(f"seed {s}: {fmt(v)}" for s, v in zip(seeds, values))
        combined.append(record)
    return combined


def margin_over_seeds(values: list[float], bounds: list[float | None],
                      sense: str | None) -> float | None:
    """How far the seeds lie on the holding side of their bounds: the mean of the gaps
    (value - bound, signed so that holding is positive) in standard deviations of the gaps over
    seeds (sample std). Negative on the failing side, infinite when every seed has the same gap
    off the bound. None without a bound at every seed or with fewer than 2 seeds."""
    if len(values) < 2 or sense is None or any(b is None for b in bounds):
        return None
    side = 1.0 if sense in (">", ">=") else -1.0
    gaps = [side * (float(v) - float(b)) for v, b in zip(values, bounds)]
    mean, sd = statistics.fmean(gaps), statistics.stdev(gaps)
    if sd == 0:
        return math.copysign(math.inf, mean) if mean else 0.0
    return mean / sd


def verdict_text(record: dict) -> str:
    """'holds' or 'fails'; over several seeds 'holds in n of n seeds', or 'fails: holds in k
    of n seeds' (a claim holds only where it holds at every seed); 'finding' for a finding."""
    n = record.get("n", 1)
    if record.get("finding"):
        return "finding" if n == 1 else f"finding, at {n} seeds"
    if n == 1:
        return "holds" if record["holds"] else "fails"
    counted = f"holds in {record['held']} of {n} seeds"
    return counted if record["holds"] else f"fails: {counted}"


def measured_text(record: dict) -> str:
    """The measured value; over several seeds their median with the range; then the value
    pooled over the seeds' measurements where the claim computes one."""
    spread = record.get("spread")
    text = fmt(record["measured"])
    if spread is not None:
        text = (f"{text} (median of {record['n']} seeds; "
                f"{fmt(spread['min'])} to {fmt(spread['max'])})")
    if "pooled" in record:
        text += f"; pooled over seeds: {fmt(record['pooled'])}"
    if "margin_sds" in record:
        text += (f"; mean {fmt(record['margin_sds'])} sd from the bound"
                 + ("" if record["settled"] else ", unsettled"))
    return text


def tally(records: list[dict]) -> str:
    """'k of n claims hold', and how many findings are reported beside them."""
    judged = [r for r in records if not r.get("finding")]
    text = f"{sum(bool(r['holds']) for r in judged)} of {len(judged)} claims hold"
    found = len(records) - len(judged)
    return text + (f"; {found} finding{'s' if found > 1 else ''} reported" if found else "")


def fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def markdown_table(records: list[dict]) -> str:
    """The claims table: paper, figure, claim, paper's value, measured, threshold, verdict."""
    head = "| paper | figure | claim | paper's value | measured | threshold | verdict |"
    rows = [head, "|" + "---|" * 7]
    for r in records:
        verdict = (verdict_text(r) if r["holds"] or r.get("finding")
                   else f"**{verdict_text(r)}**")
        cells = [r["paper"], figure_label(r), r["claim"], r["paper_value"], measured_text(r),
                 r["threshold"], verdict]
        rows.append("| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |")
    rows.append("")
    rows.append(f"{tally(records)}.")
    return "\n".join(rows) + "\n"
