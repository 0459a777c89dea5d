import pytest
import torch

from landscapes import data, train
from landscapes.params import vector
from landscapes.provenance import sha256_file


@pytest.fixture(scope="module")
def digits():
    return data.prepare("digits", n_train=200, n_test=100, seed=0)


CFG = {"epochs": 2, "batch_size": 32, "optimizer": "sgd", "lr": 0.05, "momentum": 0.9,
       "trajectory_every": 1}
SPEC = {"name": "mlp", "hidden": [16]}


def _run(digits, seed, path):
    model = train.init_model(SPEC, digits, seed)
    result = train.train(model, digits, train.TrainConfig.from_config(CFG), seed)
    train.save_checkpoint(path, model)
    return result


def test_same_seed_gives_bitwise_identical_checkpoint(digits, tmp_path):
    _run(digits, 1, tmp_path / "a.safetensors")
    _run(digits, 1, tmp_path / "b.safetensors")
    _run(digits, 2, tmp_path / "c.safetensors")
    assert sha256_file(tmp_path / "a.safetensors") == sha256_file(tmp_path / "b.safetensors")
    assert sha256_file(tmp_path / "a.safetensors") != sha256_file(tmp_path / "c.safetensors")


def test_training_learns_and_records(digits, tmp_path):
    result = _run(digits, 0, tmp_path / "m.safetensors")
    assert [r["epoch"] for r in result.metrics] == [1, 2]
    assert result.metrics[-1]["train_acc"] > 0.5
    assert result.trajectory_epochs == [0, 1, 2] and len(result.trajectory) == 3
    model = train.init_model(SPEC, digits, 99)
    train.load_checkpoint(tmp_path / "m.safetensors", model)
    assert torch.equal(vector(model), result.trajectory[-1])
    # load_trained builds the model as training did and leaves the same random state behind
    loaded = train.load_trained(SPEC, digits, 0, tmp_path / "m.safetensors")
    after = torch.rand(3)
    train.init_model(SPEC, digits, 0)
    assert torch.equal(vector(loaded), result.trajectory[-1])
    assert torch.equal(after, torch.rand(3))


def test_adam_weight_decay_and_schedule(digits):
    cfg = train.TrainConfig(epochs=3, batch_size=50, optimizer="adam", lr=1e-2,
                            weight_decay=5e-4, milestones=[2], gamma=0.1)
    result = train.train(train.init_model(SPEC, digits, 0), digits, cfg, 0)
    # milestone 2: two epochs at the initial rate, then decayed
    assert [r["lr"] for r in result.metrics] == pytest.approx([1e-2, 1e-2, 1e-3])


def test_target_loss_stops_at_the_first_epoch_that_reaches_it(digits):
    base = dict(CFG, epochs=6)
    full = train.train(train.init_model(SPEC, digits, 0), digits,
                       train.TrainConfig.from_config(base), 0)
    losses = [r["train_loss"] for r in full.metrics]
    target = losses[3]  # reached at the fourth epoch (or earlier, if the loss fell faster)
    first = next(k for k, v in enumerate(losses) if v <= target)
    stopped = train.train(train.init_model(SPEC, digits, 0), digits,
                          train.TrainConfig.from_config(dict(base, target_loss=target)), 0)
    assert len(stopped.metrics) == first + 1 and stopped.metrics == full.metrics[:first + 1]
    assert stopped.trajectory_epochs[-1] == first + 1  # the stopping point is kept
    never = train.train(train.init_model(SPEC, digits, 0), digits,
                        train.TrainConfig.from_config(dict(base, target_loss=1e-12)), 0)
    assert len(never.metrics) == 6  # epochs caps a run that never reaches its target


def test_divergence_names_run_and_epoch(digits):
    poisoned = data.Dataset(digits.x_train.clone(), digits.y_train, digits.x_test,
                            digits.y_test, "poisoned", 10)
    poisoned.x_train[0, 0, 0, 0] = float("nan")
    cfg = train.TrainConfig(epochs=3, batch_size=200, optimizer="sgd", lr=0.1)
    with pytest.raises(train.DivergedError,
                       match=r"run 'boom' \(seed 0\) diverged at epoch 1, batch 1: loss is nan"):
        train.train(train.init_model(SPEC, poisoned, 0), poisoned, cfg, 0, name="boom")


def test_unknown_setting_rejected():
    with pytest.raises(ValueError, match="unknown training settings: lrate"):
        train.TrainConfig.from_config({"lrate": 1})


def test_training_on_a_named_device_leaves_the_model_where_it_was(digits):
    cfg = train.TrainConfig.from_config(CFG)
    a = train.init_model(SPEC, digits, 3)
    b = train.init_model(SPEC, digits, 3)
    ra = train.train(a, digits, cfg, 3)
    rb = train.train(b, digits, cfg, 3, device="cpu")
    assert train.device_of(b).type == "cpu"
    assert torch.equal(vector(a), vector(b))
    assert ra.metrics == rb.metrics
