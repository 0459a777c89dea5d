import torch
import torch.nn.functional as F

from landscapes import models
from landscapes.params import FlatModel, interpolate


def _net():
    torch.manual_seed(0)
    return models.build({"name": "resnet", "depth": 8, "width": 4}, (1, 8, 8), 10)


def test_loss_matches_module_and_leaves_it_untouched():
    net = _net().eval()
    x, y = torch.randn(50, 1, 8, 8), torch.randint(0, 10, (50,))
    before = {k: v.clone() for k, v in net.state_dict().items()}
    fm = FlatModel(net, mode="eval")
    expected = F.cross_entropy(net(x), y)
    assert torch.allclose(fm.loss(fm.theta0, x, y, chunk=7), expected, atol=1e-6)
    fm.loss(fm.theta0 + 0.1, x, y)  # a displaced point
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())


def test_gradient_matches_autograd_on_module():
    net = _net().eval()
    x, y = torch.randn(20, 1, 8, 8), torch.randint(0, 10, (20,))
    fm = FlatModel(net)
    _, g = fm.loss_and_grad(fm.theta0, x, y, chunk=6)
    F.cross_entropy(net(x), y).backward()
    expected = torch.cat([p.grad.reshape(-1) for p in net.parameters()])
    assert torch.allclose(g, expected, atol=1e-5)


def test_flatten_roundtrip_and_interpolation():
    fm = FlatModel(_net())
    assert torch.equal(fm.flatten(fm.unflatten(fm.theta0)), fm.theta0)
    a, b = torch.zeros(3), torch.ones(3)
    assert [p.tolist() for p in interpolate(a, b, [0, 0.5, 1])] == [[0] * 3, [0.5] * 3, [1] * 3]
