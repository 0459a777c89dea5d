"""One tile of a Hessian non-convexity map: extreme eigenvalues on a coarse grid over the
plane of the contour plot (rule skips_hessian_tile)."""

from landscapes import train
from landscapes.data import Dataset
from landscapes.params import Layout
from landscapes.provenance import step
from landscapes.store import load_tensors
from landscapes.surface import Grid, extreme_eigenvalues_tile

with step(snakemake, __file__) as s, train.divergence_hint("lower skips.surface.extent"):
    p = snakemake.params
    h = p.hessian
    data = Dataset.load(snakemake.input.data)
    model = train.load_trained(p.spec, data, p.seed, snakemake.input.model)
    model = model.eval().to(s.device)
    d, _ = load_tensors(snakemake.input.directions)
    plane = d["random"][:, :Layout.of(model).dim]  # the parameter part (directions may cover state)
    e, (na, nb) = p.extent, h["points"]
    grid = Grid.linspace(alpha=(-e, e, na), beta=(-e, e, nb))
    start, stop = grid.rows(p.tile, h["tiles"])
    n = h["n_samples"] or len(data.y_train)  # the split is already shuffled: a random subset
    surface = extreme_eigenvalues_tile(model, plane, grid, start, stop, data.x_train[:n],
                                       data.y_train[:n], h["lanczos_steps"], p.seed,
                                       name=f"skips_hessian_tile "
                                            f"{snakemake.wildcards.skips_model} seed {p.seed} "
                                            f"tile {p.tile}")
    surface.meta = {"n_samples": n, "lanczos_steps": h["lanczos_steps"]}
    surface.save(snakemake.output[0])
