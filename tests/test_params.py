import pytest
import torch
import torch.nn.functional as F

from landscapes import models
from landscapes.params import FlatModel, Layout, interpolate, vector


def _net():
    torch.manual_seed(0)
    net = models.build({"name": "resnet", "depth": 8, "width": 4}, (1, 8, 8), 10)
    with torch.no_grad():  # BatchNorm statistics away from their defaults, as after training
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2)
    return net


def _data(n=50, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 1, 8, 8, generator=g), torch.randint(0, 10, (n,), generator=g)


def test_loss_matches_module_and_leaves_it_untouched():
    net = _net().eval()
    x, y = _data()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    fm = FlatModel(net, mode="eval")
    expected = F.cross_entropy(net(x), y)
    assert torch.allclose(fm.loss(fm.theta0, x, y, chunk=7), expected, atol=1e-6)
    fm.loss(fm.theta0 + 0.1, x, y)  # a displaced point
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())


def test_gradient_matches_autograd_on_module():
    net = _net().eval()
    x, y = _data(20)
    fm = FlatModel(net)
    _, g = fm.loss_and_grad(fm.theta0, x, y, chunk=6)
    F.cross_entropy(net(x), y).backward()
    expected = torch.cat([p.grad.reshape(-1) for p in net.parameters()])
    assert torch.allclose(g, expected, atol=1e-5)


def test_layout_round_trips_parameters_and_state():
    net = _net()
    lay = Layout.of(net)
    theta = vector(net)
    assert torch.equal(theta, torch.nn.utils.parameters_to_vector(net.parameters()))
    assert torch.equal(lay.flatten(lay.split(theta)), theta)
    assert torch.equal(FlatModel(net).theta0, theta)
    pieces = lay.split(theta)
    for name, p in net.named_parameters():
        assert torch.equal(pieces[name], p)
    state = Layout.of(net, "state")
    full = vector(net, "state")
    assert state.n_params == len(lay.names) and torch.equal(full[:lay.dim], theta)
    buffers = dict(net.named_buffers())
    for name in state.names[state.n_params:]:
        assert torch.equal(state.split(full)[name], buffers[name])
    assert not any(n.endswith("num_batches_tracked") for n in state.names)
    # a batch of vectors splits along the last axis
    batch = torch.stack([theta, 2 * theta])
    assert torch.equal(lay.split(batch)[lay.names[0]][1], 2 * pieces[lay.names[0]])
    # a copy: changing the vector leaves the model alone
    theta += 1
    assert not torch.equal(theta, vector(net))
    with pytest.raises(ValueError, match="parameters or state"):
        Layout.of(net, "buffers")


def test_interpolation():
    a, b = torch.zeros(3), torch.ones(3)
    assert [p.tolist() for p in interpolate(a, b, [0, 0.5, 1])] == [[0] * 3, [0.5] * 3, [1] * 3]
