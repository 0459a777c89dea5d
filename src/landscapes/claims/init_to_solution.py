"""Claims of Goodfellow, Vinyals and Saxe 2015, computed from one replicate's walks along the
straight line from each net's initialization to its solution: the training loss falls
monotonically along it, with no barrier to cross.

The strong form (the loss never rises between consecutive points from a = 0 to a = 1) stands
beside the stated one (no rise larger than a small fraction of the line's total fall), which
leaves room for the solution not being exactly the line's minimum: training stops at a target
loss, not at a stationary point.
"""

from __future__ import annotations

import numpy as np

from landscapes.claims import Verdict, claim, finite, ratio
from landscapes.init_to_solution import largest_rise
from landscapes.store import load_npz

EXP = "init_to_solution"
PAPER = "Goodfellow et al. 2015"


def nets(artifacts) -> dict[str, dict]:
    """{net: its walk}, from the artifacts `line_<net>`."""
    return {k.removeprefix("line_"): load_npz(v) for k, v in artifacts.items()
            if k.startswith("line_")}


def segment(walk: dict, key: str = "train_loss") -> np.ndarray:
    """A loss (`key`) from a = 0 to a = 1, both included."""
    a = walk["alphas"]
    ends = [np.flatnonzero(np.isclose(a, t, rtol=0, atol=1e-9)) for t in (0.0, 1.0)]
    if any(e.size != 1 for e in ends):
        raise ValueError(f"the line's points {a[0]:g} to {a[-1]:g} ({a.size}) do not hold "
                         f"a = 0 and a = 1; choose init_to_solution.alphas so that they do")
    return walk[key][ends[0][0]:ends[1][0] + 1]


@claim(EXP, "no_barrier", PAPER, "line", "interpolation plots",
       "on the straight line from the initialization to the solution the training loss falls "
       "with no barrier: the largest rise between consecutive points, from a = 0 to 1, is at "
       "most init_to_solution.claims.max_rise_fraction of its fall along the line (worst net)",
       "monotone decrease, no barrier")
def no_barrier(artifacts, params):
    bound = params["claims"]["max_rise_fraction"]
    per = {}
    for net, walk in nets(artifacts).items():
        z = segment(walk)
        per[net] = ratio(largest_rise(z), z[0] - z[-1])
    worst = max(per.values()) if finite(list(per.values())) else np.nan
    return Verdict(float(worst), f"largest rise / fall from a = 0 to 1 <= {bound:g}",
                   bool(worst <= bound), {f"rise_over_fall_{n}": float(v) for n, v in per.items()},
                   bound=float(bound), sense="<=")


@claim(EXP, "monotone", PAPER, "line", "interpolation plots",
       "the strong form: from a = 0 to 1 the training loss never rises between consecutive "
       "points (worst net's largest rise, in nats)", "monotone decrease")
def monotone(artifacts, params):
    per = {net: largest_rise(segment(w)) for net, w in nets(artifacts).items()}
    worst = max(per.values())
    return Verdict(float(worst), "largest rise from a = 0 to 1 <= 0", bool(worst <= 0),
                   {f"largest_rise_{n}": float(v) for n, v in per.items()}, bound=0.0,
                   sense="<=")


@claim(EXP, "solutions_reached", PAPER, "line", "",
       "every net reached its target training loss, so the line ends at a minimum the net "
       "trained to (the share of nets that did)", "nets trained to convergence")
def solutions_reached(artifacts, params):
    walks = nets(artifacts)
    reached = {n: bool(w["reached_target"]) for n, w in walks.items()}
    share = sum(reached.values()) / len(reached)
    return Verdict(share, "share of nets at their target training loss >= 1",
                   bool(share >= 1), {f"final_train_loss_{n}": float(w["final_train_loss"])
                                      for n, w in walks.items()}, bound=1.0, sense=">=")


@claim(EXP, "path_and_test_loss", PAPER, "path", "path projection",
       "how far the training path strays from the line (its largest distance, in units of "
       "the line's length), the test loss's largest rise from a = 0 to 1, and the training "
       "loss at the line's far end over that at the solution", "the path leaves the line",
       finding=True)
def path_and_test_loss(artifacts, params):
    details = {}
    for net, w in nets(artifacts).items():
        details[f"distance_{net}"] = float(w["distance"].max())
        details[f"test_rise_{net}"] = largest_rise(segment(w, "test_loss"))
        details[f"far_over_solution_{net}"] = float(w["train_loss"][-1] / segment(w)[-1])
    text = "; ".join(f"{n}: distance {details[f'distance_{n}']:.3f}, test rise "
                     f"{details[f'test_rise_{n}']:.3g}, loss(a_max)/loss(1) "
                     f"{details[f'far_over_solution_{n}']:.3g}" for n in nets(artifacts))
    return Verdict(text, "finding: per net", finite(list(details.values())), details)
