"""Batched ensembles train each net exactly as it would train alone; shards cover every run."""

import math

import pytest
import torch

from landscapes import ensemble
from landscapes.data import Dataset
from landscapes.params import evaluate
from landscapes.provenance import configure_runtime
from landscapes.train import DivergedError, TrainConfig, init_model, train

SPEC = {"name": "mlp", "hidden": [12], "activation": "relu"}


@pytest.fixture(scope="module")
def data():
    configure_runtime(1)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(250, 9, generator=g)
    y = (x[:, :3].argmax(1) + (x[:, 3] > 1).long()) % 4
    return Dataset(x[:200], y[:200], x[200:], y[200:], "synthetic", 4)


def test_matches_training_each_net_alone(data):
    # batch 32 leaves a partial last batch; the milestone checks the step schedule too
    cfg = TrainConfig(epochs=2, batch_size=32, lr=0.1, momentum=0.9, nesterov=True,
                      weight_decay=1e-3, milestones=[1], gamma=0.5)
    seeds = [5, 6, 17]
    nets = ensemble.init_ensemble(SPEC, data, seeds)
    run = ensemble.train_ensemble(nets, data, cfg)
    assert [h["lr"] for h in run.history] == [0.1, 0.05]
    for i, seed in enumerate(seeds):
        model = init_model(SPEC, data, seed)
        train(model, data, cfg, seed)
        for alone, batched in zip(model.parameters(), nets.net_parameters(i)):
            assert torch.allclose(alone, batched, atol=1e-5, rtol=0)


def test_one_epoch_of_plain_sgd_within_1e_4(data):
    cfg = TrainConfig(epochs=1, batch_size=16, lr=0.2, momentum=0.0)
    nets = ensemble.init_ensemble({**SPEC, "hidden": [40]}, data, [0, 1])
    ensemble.train_ensemble(nets, data, cfg)
    model = init_model({**SPEC, "hidden": [40]}, data, 1)
    train(model, data, cfg, 1)
    diff = max((a - b).abs().max().item()
               for a, b in zip(model.parameters(), nets.net_parameters(1)))
    assert diff < 1e-4


def test_float64_agrees_to_rounding(data):
    # In float32 a pre-activation within rounding of zero can flip a ReLU in one of the two
    # computations and move that net by about lr / batch; in float64 both agree to 1e-12.
    cfg = TrainConfig(epochs=2, batch_size=25, lr=0.1, momentum=0.9)
    d64 = Dataset(data.x_train.double(), data.y_train, data.x_test.double(), data.y_test,
                  "synthetic64", 4)
    nets = ensemble.init_ensemble(SPEC, d64, [0, 1, 2, 3]).to(torch.float64)
    ensemble.train_ensemble(nets, d64, cfg)
    for i in range(4):
        model = init_model(SPEC, d64, i).double()
        train(model, d64, cfg, i)
        for alone, batched in zip(model.parameters(), nets.net_parameters(i)):
            assert torch.allclose(alone, batched, atol=1e-12, rtol=0)


def test_nets_do_not_influence_each_other(data):
    cfg = TrainConfig(epochs=1, batch_size=20, lr=0.1, momentum=0.9)
    a = ensemble.init_ensemble(SPEC, data, [3, 4])
    b = ensemble.init_ensemble(SPEC, data, [3, 99, 100])
    ensemble.train_ensemble(a, data, cfg)
    ensemble.train_ensemble(b, data, cfg)
    for pa, pb in zip(a.net_parameters(0), b.net_parameters(0)):
        assert torch.allclose(pa, pb, atol=1e-6, rtol=0)
    # different seeds: different initializations and different results
    assert not torch.allclose(a.net_parameters(0)[0], a.net_parameters(1)[0])


def test_evaluation_matches_the_lone_model(data):
    seeds = [1, 2]
    nets = ensemble.init_ensemble(SPEC, data, seeds)
    loss, acc = ensemble.evaluate_ensemble(nets, data.x_test, data.y_test, max_elements=100)
    for i, seed in enumerate(seeds):
        ref_loss, ref_acc = evaluate(init_model(SPEC, data, seed), data.x_test, data.y_test)
        assert math.isclose(loss[i].item(), ref_loss, rel_tol=1e-5)
        assert acc[i].item() == ref_acc
    rows = ensemble.ensemble_table(nets, data, 12)
    assert [r["seed"] for r in rows] == seeds
    assert set(rows[0]) == {"size", "seed", "train_loss", "test_loss", "train_error",
                            "test_error"}
    assert math.isclose(rows[1]["test_error"], 1 - acc[1].item())


def test_divergence_names_the_net(data):
    cfg = TrainConfig(epochs=3, batch_size=50, lr=1e30, momentum=0.9)
    nets = ensemble.init_ensemble(SPEC, data, [7, 8])
    with pytest.raises(DivergedError, match=r"diverged at epoch 1, batch \d+: loss of the net "
                                            r"with seed [78] is (nan|inf)"):
        ensemble.train_ensemble(nets, data, cfg)


def test_bad_settings_are_rejected(data):
    with pytest.raises(ValueError, match="optimizer 'sgd' only"):
        ensemble.train_ensemble(ensemble.init_ensemble(SPEC, data, [0]), data,
                                TrainConfig(optimizer="adam"))
    with pytest.raises(ValueError, match="distinct"):
        ensemble.init_ensemble(SPEC, data, [1, 1])
    with pytest.raises(ValueError, match="'mlp' only"):
        ensemble.init_ensemble({"name": "resnet", "depth": 8}, data, [0])


def test_flop_count_of_one_hidden_layer(data):
    nets = ensemble.init_ensemble(SPEC, data, [0, 1, 2])
    # layer 1 (9 -> 12): forward + weight gradient; layer 2 (12 -> 4): also input gradient
    assert nets.matmul_flops(10) == 3 * 10 * (2 * 2 * 9 * 12 + 3 * 2 * 12 * 4)


def test_shards_cover_every_run_once():
    seeds = [s for k in range(3) for s in ensemble.shard_seeds(100, 10, 3, k)]
    assert seeds == list(range(100, 110))
    with pytest.raises(ValueError, match="out of range"):
        ensemble.shard_seeds(0, 10, 3, 3)
    with pytest.raises(ValueError, match="at least one run"):
        ensemble.shard_seeds(0, 2, 3, 0)



def test_blocks_change_the_speed_not_the_result(data):
    cfg = TrainConfig(epochs=2, batch_size=32, lr=0.1, momentum=0.9)
    a = ensemble.init_ensemble(SPEC, data, [0, 1, 2, 3, 4])
    b = ensemble.init_ensemble(SPEC, data, [0, 1, 2, 3, 4])
    ensemble.train_ensemble(a, data, cfg, block=5)
    ensemble.train_ensemble(b, data, cfg, block=2)  # blocks of 2, 2 and 1
    for pa, pb in zip(a.parameters(), b.parameters()):
        assert torch.equal(pa, pb)


def test_full_gradient_is_the_lone_models_gradient(data):
    nets = ensemble.init_ensemble(SPEC, data, [3, 4])
    x = data.x_train.flatten(1)
    loss, norm = ensemble.full_gradient(nets.weights, nets.biases, "relu", x, data.y_train,
                                        chunk=64)  # 200 samples: chunks of 64, 64, 64 and 8
    for i, seed in enumerate([3, 4]):
        model = init_model(SPEC, data, seed)
        ref = torch.nn.functional.cross_entropy(model(x), data.y_train)
        grads = torch.autograd.grad(ref, list(model.parameters()))
        ref_norm = torch.sqrt(sum((g ** 2).sum() for g in grads))
        assert math.isclose(loss[i].item(), ref.item(), rel_tol=1e-5)
        assert math.isclose(norm[i].item(), ref_norm.item(), rel_tol=1e-4)


def test_a_converged_net_stops_as_it_would_alone(data):
    # nets stop at different epochs; each ends where it ends when trained by itself
    cfg = TrainConfig(epochs=30, batch_size=25, lr=0.2, momentum=0.9)
    rule = ensemble.Convergence(grad_tol=0.05, every=3)
    seeds = [0, 1, 2, 3]
    nets = ensemble.init_ensemble(SPEC, data, seeds)
    run = ensemble.train_ensemble(nets, data, cfg, convergence=rule)
    assert run.converged.any() and len(set(run.epochs.tolist())) > 1, run.epochs
    assert all(e % 3 == 0 or e == 30 for e in run.epochs.tolist())
    assert (run.grad_norm[run.converged] < 0.05).all()
    assert (run.grad_norm[~run.converged] >= 0.05).all()
    assert (run.epochs[~run.converged] == 30).all()
    # a stopped net's batch losses end at its last epoch
    last = run.history[-1]["batch_loss"]
    assert all(math.isnan(v) == bool(e < 30) for v, e in zip(last, run.epochs.tolist()))
    for i, seed in enumerate(seeds):
        alone = ensemble.init_ensemble(SPEC, data, [seed])
        solo = ensemble.train_ensemble(alone, data, cfg, convergence=rule)
        assert solo.epochs[0] == run.epochs[i] and solo.converged[0] == run.converged[i]
        for pa, pb in zip(alone.net_parameters(0), nets.net_parameters(i)):
            assert torch.allclose(pa, pb, atol=1e-5, rtol=0)
    rows = ensemble.ensemble_table(nets, data, 12, run)
    assert [r["epochs"] for r in rows] == run.epochs.tolist()
    assert [r["converged"] for r in rows] == run.converged.tolist()


def test_convergence_settings_are_checked():
    with pytest.raises(ValueError, match="grad_tol > 0"):
        ensemble.Convergence(grad_tol=0.0)
    with pytest.raises(ValueError, match="every >= 1"):
        ensemble.Convergence(grad_tol=1e-3, every=0)
