"""One tile of a user's model's non-convexity map: extreme Hessian eigenvalues on a coarse
grid over the plane of its surface (rule user_hessian_tile)."""

from landscapes import user
from landscapes.data import Dataset
from landscapes.params import Layout
from landscapes.provenance import step
from landscapes.store import load_tensors
from landscapes.surface import Grid, extreme_eigenvalues_tile

with step(snakemake, __file__) as s:
    p = snakemake.params
    h = p.hessian
    data = Dataset.load(snakemake.input.data)
    model = user.load(p.spec, data, p.spec["where"]).to(s.device)
    d, _ = load_tensors(snakemake.input.directions)
    plane = d["random"][:, :Layout.of(model).dim]  # the parameter part (directions may cover state)
    e, (na, nb) = p.extent, h["points"]
    grid = Grid.linspace(alpha=(-e, e, na), beta=(-e, e, nb))
    start, stop = grid.rows(p.tile, h["tiles"])
    n = h["n_samples"] or len(data.y_train)  # the prepared split is shuffled: a random subset
    surface = extreme_eigenvalues_tile(model, plane, grid, start, stop, data.x_train[:n],
                                       data.y_train[:n], h["lanczos_steps"], p.seed,
                                       name=f"user_hessian_tile {snakemake.wildcards.user_model}"
                                            f" seed {p.seed} tile {p.tile}")
    surface.meta = {"n_samples": n, "lanczos_steps": h["lanczos_steps"]}
    surface.save(snakemake.output[0])
