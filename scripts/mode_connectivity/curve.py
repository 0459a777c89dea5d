"""Train the Bezier curve's bend between one pair of minima, then measure the line, the curve
and the plane through them (rule mode_connectivity_curve). The pair `independent` joins the two
trained minima; `permuted` joins the first and its hidden-unit permutation."""

from landscapes import mode_connectivity as mc
from landscapes import linear, train
from landscapes.data import Dataset
from landscapes.params import vector
from landscapes.provenance import step
from landscapes.store import save_npz

with step(snakemake, __file__) as s, train.divergence_hint(
        "lower mode_connectivity.curve.lr"):
    p, out, pair = snakemake.params, snakemake.output, snakemake.wildcards.pair
    data = Dataset.load(snakemake.input.data)
    seed1, seed2 = mc.endpoint_seeds(p.seed)
    model = train.load_trained(p.model, data, seed1, snakemake.input.w1).to(s.device)
    w1 = vector(model)
    extra = {}
    if pair == "independent":
        w2 = vector(train.load_trained(p.model, data, seed2, snakemake.input.w2)).to(s.device)
    else:
        perm, w2 = linear.permuted_copy(model, p.seed)
        extra = {"perm": perm.numpy()}
    name = f"mode_connectivity {pair} seed {p.seed}"
    theta, rows = mc.train_bend(model, w1, w2, data.x_train, data.y_train,
                                train.TrainConfig.from_config(p.curve), p.seed, name=name)
    m = p.measure
    result = mc.measure(model, w1, w2, theta, data, m["n_points"], tuple(m["plane_points"]),
                        m["margin"], bn=p.bn_policy, points_per_pass=m["points_per_pass"],
                        chunk=m["chunk"], name=name)
    save_npz(out.measurements, **result, **extra,
             bend_batch_loss=[r["batch_loss"] for r in rows])
    train.save_checkpoint(out.bend, mc.model_at(model, theta).cpu(),
                          {"model": p.model, "pair": pair})
