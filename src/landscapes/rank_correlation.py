"""Kendall's rank correlation of a measure with the generalization gap, overall and granulated
by hyperparameter (Jiang et al. 2020, eqs. 1-3).

tau is the paper's: the mean over ordered pairs of sign(dm) * sign(dg), so a tie in either
counts as neither concordant nor discordant (Kendall's tau-a). The granulated psi_h takes the
nets that differ only in hyperparameter h, computes tau within each such group and averages
over the groups; Psi is the mean of psi_h over the hyperparameters. A measure that merely
tracks one hyperparameter scores on that one only.
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np


def kendall_tau(measure, gap) -> float:
    """Kendall's tau-a of two equally long sequences (NaN for fewer than two entries or any
    non-finite value: a broken measurement correlates with nothing)."""
    m, g = np.asarray(measure, dtype=float), np.asarray(gap, dtype=float)
    if m.shape != g.shape or m.ndim != 1:
        raise ValueError(f"kendall_tau needs two 1D sequences of one length, got shapes "
                         f"{m.shape} and {g.shape}")
    n = m.size
    if n < 2 or not (np.isfinite(m).all() and np.isfinite(g).all()):
        return math.nan
    s = np.sign(m[:, None] - m[None, :]) * np.sign(g[:, None] - g[None, :])
    return float(s.sum() / (n * (n - 1)))


def granulated_tau(rows: list[dict], measure: str, gap: str,
                   hyperparameters: list[str]) -> dict[str, float]:
    """{h: psi_h} for each hyperparameter h, and "Psi": their mean.

    psi_h is the mean over groups of nets that agree on every other hyperparameter of the tau
    within the group; a group needs two nets (two values of h) to count."""
    out = {}
    for h in hyperparameters:
        others = [k for k in hyperparameters if k != h]
        groups = defaultdict(list)
        for r in rows:
            groups[tuple(r[k] for k in others)].append(r)
        taus = [kendall_tau([r[measure] for r in g], [r[gap] for r in g])
                for g in groups.values() if len({r[h] for r in g}) > 1]
        out[h] = float(np.mean(taus)) if taus else math.nan
    out["Psi"] = float(np.mean([out[h] for h in hyperparameters]))
    return out
