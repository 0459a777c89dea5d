"""Nets trained side by side follow the paths they would follow alone, and each stops where
it reaches the target."""

import pytest
import torch

from landscapes.data import Dataset
from landscapes.models import MLP
from landscapes.stacked_training import train_stacked
from landscapes.train import TrainConfig, train


def _data():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(30, 5, generator=gen, dtype=torch.float64)
    y = torch.randint(0, 3, (30,), generator=gen)
    return Dataset(x, y, x[:10], y[:10], "toy", 3)


def _net():
    torch.manual_seed(3)
    return MLP(5, [8, 8], 3).double()


def test_stacked_nets_follow_their_lone_runs():
    data = _data()
    lrs, wds = [0.05, 0.2], [0.0, 1e-2]
    nets, stopped, reached = train_stacked(_net(), data, lrs, wds, [0.0, 0.0], epochs=3,
                                           batch_size=7, momentum=0.9, target_loss=None,
                                           seed=11)
    assert stopped == [3, 3] and reached == [False, False]
    for net, lr, wd in zip(nets, lrs, wds):
        alone = _net()
        train(alone, data, TrainConfig(epochs=3, batch_size=7, lr=lr, momentum=0.9,
                                       weight_decay=wd), seed=11)
        for a, b in zip(net.parameters(), alone.parameters()):
            assert torch.allclose(a, b, atol=1e-10, rtol=0), (lr, wd)


def test_a_net_stops_at_the_target_and_the_rest_go_on():
    data = _data()
    # a net that does not move (lr ~ 0) never reaches a target below its initial loss
    nets, stopped, reached = train_stacked(_net(), data, [1e-12, 0.1], [0.0, 0.0], [0.0, 0.0],
                                  epochs=40, batch_size=10, momentum=0.9, target_loss=1.0,
                                  seed=0)
    assert stopped[0] == 40 and stopped[1] < 40 and reached == [False, True]
    still = _net()
    for a, b in zip(nets[0].parameters(), still.parameters()):
        assert torch.allclose(a, b, atol=1e-9)


def test_a_dropout_net_keeps_its_rate_and_layout():
    nets, _, _ = train_stacked(_net(), _data(), [0.1], [0.0], [0.3], epochs=1, batch_size=10,
                            momentum=0.0, target_loss=None, seed=0)
    reference = MLP(5, [8, 8], 3, dropout=0.3)
    assert list(nets[0].state_dict()) == list(reference.state_dict())
    assert [m.p for m in nets[0].modules() if isinstance(m, torch.nn.Dropout)] == [0.3, 0.3]


def test_unstackable_models_are_refused():
    with pytest.raises(TypeError, match="ReLU MLP"):
        train_stacked(MLP(5, [4], 3, activation="tanh"), _data(), [0.1], [0.0], [0.0], 1, 10,
                      0.0, None, 0)
