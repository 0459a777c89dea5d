"""Claims of Cohen et al. 2021, computed from one replicate's GD runs (a table per
architecture, one run per step size eta): the sharpness rises during training (progressive
sharpening) until it reaches 2/eta, then hovers at 2/eta for the rest of training, while the
loss keeps falling over long spans and rises and falls from step to step.

Each claim is checked at every (architecture, eta) run and holds at a seed only where it holds
at every run: its measured value is the worst run's, and `details` holds every run's value
(keyed `<architecture> 2/eta=<edge>`). A run that never reaches the edge has no edge phase:
the claims that read it fail on NaN.
"""

from __future__ import annotations

import math

import numpy as np

from landscapes.claims import Verdict, claim, finite
from landscapes.edge_of_stability import read_run
from landscapes.names import artifact
from landscapes.store import load_csv

EXP = "edge_of_stability"
PAPER = "Cohen et al. 2021"
FIGURE = "loss_and_sharpness"


def load_runs(path) -> dict[float, dict]:
    """{edge: {"loss": per step, "steps", "sharpness": measured}} of one architecture's table."""
    by_edge: dict[float, list[dict]] = {}
    for r in load_csv(path):
        by_edge.setdefault(float(r["edge"]), []).append(r)
    out = {}
    for edge, rows in sorted(by_edge.items()):
        rows.sort(key=lambda r: int(r["step"]))
        if [int(r["step"]) for r in rows] != list(range(len(rows))):
            raise ValueError(f"{path}: the run at 2/eta = {edge:g} does not hold every step "
                             f"from 0")
        measured = [r for r in rows if math.isfinite(float(r["sharpness"]))]
        out[edge] = {"eta": float(rows[0]["eta"]),
                     "loss": np.array([float(r["train_loss"]) for r in rows]),
                     "steps": np.array([int(r["step"]) for r in measured]),
                     "sharpness": np.array([float(r["sharpness"]) for r in measured])}
    return out


def readings(artifacts, params) -> dict[str, dict]:
    """{"<arch> 2/eta=<edge>": read_run(...)} over every configured architecture and edge."""
    c = params["claims"]
    out = {}
    for arch, spec in params["architectures"].items():
        runs = load_runs(artifacts[artifact("runs", arch)])
        want = sorted(float(e) for e in spec["edges"])
        if sorted(runs) != want:
            raise ValueError(f"the {arch} table holds edges {sorted(runs)}; the config asks "
                             f"for {want}")
        for edge, run in runs.items():
            out[f"{arch} 2/eta={edge:g}"] = read_run(
                run["loss"], run["steps"], run["sharpness"], run["eta"], c["reach_tolerance"],
                c["band"])
    return out


def _worst(values: dict[str, float], sense: str) -> tuple[float, str]:
    """The worst run's value (NaN if any run's is NaN) and its name."""
    v = np.array(list(values.values()), dtype=float)
    if not finite(v):
        bad = [k for k, x in values.items() if not math.isfinite(x)]
        return math.nan, bad[0]
    i = int(v.argmin() if sense in (">", ">=") else v.argmax())
    return float(v[i]), list(values)[i]


def _verdict(values: dict[str, float], bound: float, sense: str, text: str,
             extra: dict | None = None) -> Verdict:
    worst, which = _worst(values, sense)
    holds = bool(worst >= bound) if sense == ">=" else bool(worst <= bound)
    details = {"worst_run": which, **{k: v for k, v in values.items()}, **(extra or {})}
    return Verdict(worst, text, holds and finite(worst), details, bound=float(bound),
                   sense=sense)


@claim(EXP, "progressive_sharpening", PAPER, FIGURE, "Fig. 1",
       "progressive sharpening: the sharpness where it first reaches 2/eta is at least "
       "edge_of_stability.claims.sharpening_factor times its value at initialization, at every "
       "(architecture, eta)", "the sharpness rises until it reaches 2/eta")
def progressive_sharpening(artifacts, params):
    factor = params["claims"]["sharpening_factor"]
    r = readings(artifacts, params)
    return _verdict({k: v["sharpening"] for k, v in r.items()}, factor, ">=",
                    f"worst run: sharpness at first reach / at init >= {factor:g}",
                    {f"{k} initial": v["initial_sharpness"] for k, v in r.items()})


@claim(EXP, "sharpening_is_steady", PAPER, FIGURE, "Fig. 1",
       "the sharpness rises steadily before the edge: Spearman(step, sharpness) over the "
       "measurements up to its first reach of 2/eta at least "
       "edge_of_stability.claims.min_rise_spearman, at every (architecture, eta)",
       "the sharpness continually rises while below 2/eta")
def sharpening_is_steady(artifacts, params):
    bound = params["claims"]["min_rise_spearman"]
    r = readings(artifacts, params)
    return _verdict({k: v["rise_spearman"] for k, v in r.items()}, bound, ">=",
                    f"worst run: Spearman(step, sharpness) before the edge >= {bound:g} "
                    f"(NaN under 3 measurements)")


@claim(EXP, "reaches_edge", PAPER, FIGURE, "Fig. 1",
       "the sharpness reaches 2/eta: its largest measurement at least "
       "(1 - edge_of_stability.claims.reach_tolerance) 2/eta, at every (architecture, eta)",
       "the sharpness rises to 2/eta")
def reaches_edge(artifacts, params):
    tol = params["claims"]["reach_tolerance"]
    r = readings(artifacts, params)
    return _verdict({k: v["peak_over_edge"] for k, v in r.items()}, 1 - tol, ">=",
                    f"worst run: largest sharpness / (2/eta) >= {1 - tol:g}",
                    {f"{k} reach_step": v["reach_step"] for k, v in r.items()})


@claim(EXP, "stays_at_edge", PAPER, FIGURE, "Fig. 1",
       "after first reaching 2/eta the sharpness hovers there: at least "
       "edge_of_stability.claims.min_share_in_band of the later measurements (at least "
       "min_measurements_at_edge of them) lie within (1 +- band) 2/eta, at every "
       "(architecture, eta)", "hovers right at, or just above, 2/eta")
def stays_at_edge(artifacts, params):
    c = params["claims"]
    r = readings(artifacts, params)
    shares = {k: (v["share_in_band"] if v["after"] >= c["min_measurements_at_edge"]
                  else math.nan) for k, v in r.items()}
    return _verdict(shares, c["min_share_in_band"], ">=",
                    f"worst run: share of later measurements within (1 +- {c['band']:g}) 2/eta "
                    f">= {c['min_share_in_band']:g}, over >= {c['min_measurements_at_edge']} "
                    f"measurements",
                    {f"{k} measurements after": v["after"] for k, v in r.items()})


@claim(EXP, "loss_falls_at_edge", PAPER, FIGURE, "Fig. 1",
       "at the edge the loss keeps falling over long spans: the median loss over the last tenth "
       "of the run is at most edge_of_stability.claims.max_loss_ratio times that over the "
       "tenth before the edge was reached, at every (architecture, eta)",
       "consistently decreases over long timescales")
def loss_falls_at_edge(artifacts, params):
    bound = params["claims"]["max_loss_ratio"]
    r = readings(artifacts, params)
    return _verdict({k: v["loss_ratio"] for k, v in r.items()}, bound, "<=",
                    f"worst run: median loss (last tenth) / median loss (tenth before the "
                    f"edge) <= {bound:g}")


@claim(EXP, "loss_halves_at_edge", PAPER, FIGURE, "Fig. 1",
       "the strong form: the loss at the end is well below where the edge was reached, the same "
       "ratio at most edge_of_stability.claims.strong_loss_ratio, at every (architecture, eta)",
       "consistently decreases over long timescales")
def loss_halves_at_edge(artifacts, params):
    bound = params["claims"]["strong_loss_ratio"]
    r = readings(artifacts, params)
    return _verdict({k: v["loss_ratio"] for k, v in r.items()}, bound, "<=",
                    f"worst run: median loss (last tenth) / median loss (tenth before the "
                    f"edge) <= {bound:g}")


@claim(EXP, "loss_non_monotone", PAPER, FIGURE, "Fig. 1",
       "at the edge the loss is non-monotone from step to step: at least "
       "edge_of_stability.claims.min_rise_share of the steps from the first reach of 2/eta on "
       "raise it, at every (architecture, eta)",
       "non-monotonically over short timescales")
def loss_non_monotone(artifacts, params):
    bound = params["claims"]["min_rise_share"]
    r = readings(artifacts, params)
    return _verdict({k: v["rises_after"] for k, v in r.items()}, bound, ">=",
                    f"worst run: share of steps at the edge whose loss rose >= {bound:g}",
                    {f"{k} before the edge": v["rises_before"] for k, v in r.items()})


@claim(EXP, "sharpness_at_edge", PAPER, FIGURE, "Fig. 1",
       "where the sharpness sits at the edge: the median of the measurements after the first "
       "reach over 2/eta, per run; and the share of steps whose loss rose before the edge "
       "(GD in the stable regime descends at every step)", "just above 2/eta", finding=True)
def sharpness_at_edge(artifacts, params):
    r = readings(artifacts, params)
    ratios = {k: v["edge_ratio"] for k, v in r.items()}
    before = {k: v["rises_before"] for k, v in r.items()}
    vals = [x for x in ratios.values() if math.isfinite(x)]
    rises = [x for x in before.values() if math.isfinite(x)]
    text = (f"median sharpness / (2/eta) {min(vals):.3f} to {max(vals):.3f}" if vals
            else "no run reached the edge")
    if rises:
        text += f"; loss rose at {max(rises):.3g} of the steps before the edge at most"
    return Verdict(text, "finding: median sharpness at the edge / (2/eta), per run; share of "
                         "steps before it whose loss rose", bool(vals),
                   {**ratios, **{f"{k} rises before": v for k, v in before.items()}})
