"""Search critical points from perturbed trajectory points, one shard (rule saddles_search)."""

from landscapes import critical, train
from landscapes.data import Dataset
from landscapes.provenance import step
from landscapes.store import load_tensors, save_npz

with step(snakemake, __file__), train.divergence_hint(
        "lower saddles.search.noise (or saddles.train.lr)"):
    p = snakemake.params
    s = p.search
    data = Dataset.load(snakemake.input.data)
    traj, _ = load_tensors(snakemake.input.trajectories)
    model = train.init_model(p.model, data, p.seed)
    problem = critical.mlp_problem(model, data.x_train, data.y_train, p.weight_decay)
    epochs = traj["epochs"].tolist()
    missing = [e for e in s["start_epochs"] if e not in epochs]
    if missing:
        raise ValueError(f"saddles.search.start_epochs {missing} are not in the trajectory "
                         f"(epochs 0..{epochs[-1]}); raise saddles.train.epochs or drop them")
    # every (run, epoch) pair, dealt round-robin over the shards
    pairs = [(r, e) for r in range(traj["params"].shape[0]) for e in s["start_epochs"]]
    mine = pairs[p.shard::p.n_shards]
    points = [traj["params"][r, epochs.index(e)] for r, e in mine]
    starts = critical.perturbed_starts(points, s["n_perturb"], s["noise"], p.seed + 1000 * p.shard)
    labels = [f"run {r} epoch {e}" for r, e in mine for _ in range(s["n_perturb"])]
    found = critical.search_critical_points(
        problem, starts, s["index_tol"], s["max_iter"], s["grad_tol"], labels,
        f"saddles_search seed {p.seed} shard {p.shard}", finder=s["finder"],
        minres_tol=s["minres_tol"], minres_max_iter=s["minres_max_iter"],
        flat_tol=s["flat_tol"])
    found["run"] = [r for r, _ in mine for _ in range(s["n_perturb"])]
    found["start_epoch"] = [e for _, e in mine for _ in range(s["n_perturb"])]
    save_npz(snakemake.output[0], **found)
