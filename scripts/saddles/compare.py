"""Momentum SGD vs damped Newton vs saddle-free Newton, and SGD switched to SFN at its plateau
(rule saddles_compare)."""

import numpy as np

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
    # switch: SGD until its loss plateaus, then saddle-free Newton
    sw = c["switch"]
    losses = sgd.column("loss")
    last = len(losses) - 1 - sw["epochs"]
    if last < 1:
        raise ValueError(f"saddles.compare.switch.epochs ({sw['epochs']}) leaves no SGD epochs "
                         f"to switch from; raise saddles.train.epochs ({len(losses) - 1})")
    plateau = critical.plateau_epoch(losses[:last + 1], sw["window"], sw["rel_tol"])
    at = last if plateau is None else plateau
    hist, _ = critical.second_order_run(problem.loss_fn, problem.error_fn,
                                        params[at].double(), "sfn", sw["epochs"], c["dampings"],
                                        first_epoch=int(epochs[at]), name=f"{name} switch")
    arrays.update(critical.history_arrays(hist, "switch"))
    arrays["switch_at"] = np.array(int(epochs[at]))
    arrays["switch_plateau_found"] = np.array(plateau is not None)
    save_npz(snakemake.output[0], **arrays)
