"""Momentum SGD vs damped Newton vs saddle-free Newton (rule saddles_compare)."""

from landscapes import critical, train
from landscapes.data import Dataset
from landscapes.provenance import step
from landscapes.store import load_tensors, save_npz

with step(snakemake, __file__), train.divergence_hint(
        "lower saddles.train.lr (momentum SGD) or raise saddles.compare.dampings (Newton)"):
    p = snakemake.params
    c = p.compare
    data = Dataset.load(snakemake.input.data)
    traj, _ = load_tensors(snakemake.input.trajectories)
    model = train.init_model(p.model, data, p.seed)
    problem = critical.mlp_problem(model, data.x_train, data.y_train, p.weight_decay)
    params, epochs = traj["params"][0], traj["epochs"]  # run 0: the momentum-SGD run
    name = f"saddles_compare seed {p.seed}"
    arrays = {}
    sgd = critical.trajectory_history(problem, params, epochs, f"{name} momentum SGD")
    arrays.update(critical.history_arrays(sgd, "msgd"))
    start = params[0].double()  # every method starts from run 0's initialization
    for method in ("newton", "sfn", "sfn_krylov"):
        hist, _ = critical.second_order_run(problem.loss_fn, problem.error_fn, start, method,
                                            c["epochs"], c["dampings"], c["krylov_dim"],
                                            name=name)
        arrays.update(critical.history_arrays(hist, method))
    save_npz(snakemake.output[0], **arrays)
