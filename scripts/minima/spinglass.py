"""Descend the spherical 3-spin glass of one size N from many starts (rule minima_spinglass)."""

from landscapes import spinglass, train
from landscapes.provenance import step
from landscapes.store import save_csv

with step(snakemake, __file__), train.divergence_hint("lower minima.spinglass.lr"):
    p = snakemake.params
    n = int(snakemake.wildcards.n)
    # Couplings and starts of replicate seed s draw from streams 2s and 2s + 1, so no two
    # replicates share a stream.
    s = spinglass.couplings(n, 2 * p.seed)
    starts = spinglass.random_sphere(p.settings["starts"], n, 2 * p.seed + 1)
    d = spinglass.descend(s, starts, p.settings["lr"], p.settings["tol"],
                          p.settings["max_steps"], name=f"minima_spinglass N={n} seed {p.seed}")
    save_csv(snakemake.output[0], [
        {"n": n, "start": i, "energy": d.energy[i].item(), "grad_norm": d.grad_norm[i].item(),
         "steps": int(d.steps[i]), "converged": bool(d.converged[i])}
        for i in range(len(d.energy))])
