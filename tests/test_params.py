import copy

import pytest
import torch
import torch.nn.functional as F

from landscapes import models
from landscapes.params import FlatModel, Layout, evaluate, interpolate, loss_and_accuracy, vector


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


def _naive(model, x, y):
    """One sample at a time, the loss summed in float64."""
    model = copy.deepcopy(model).eval()
    total, correct = 0.0, 0
    with torch.no_grad():
        for xi, yi in zip(x, y):
            out = model(xi[None])
            total += F.cross_entropy(out, yi[None]).item()
            correct += int(out.argmax(1).item() == yi.item())
    return total / len(y), correct / len(y)


def test_evaluate_agrees_with_a_per_sample_loop_and_leaves_the_model():
    net = _net()
    net.train()  # evaluation is in eval mode whatever the flag, which is left as it was
    before = {k: v.clone() for k, v in net.state_dict().items()}
    x, y = _data(53)
    ref = _naive(net, x, y)
    for chunk in (7, 53, 4096):  # the last chunk short, one chunk, fewer samples than a chunk
        loss, acc = evaluate(net, x, y, chunk=chunk)
        assert loss == pytest.approx(ref[0], rel=1e-6) and acc == ref[1]
    theta = vector(net) + 0.05 * torch.randn(Layout.of(net).dim,
                                             generator=torch.Generator().manual_seed(1))
    moved = copy.deepcopy(net)
    torch.nn.utils.vector_to_parameters(theta, moved.parameters())
    loss, acc = evaluate(net, x, y, theta, chunk=10)
    ref = _naive(moved, x, y)
    assert loss == pytest.approx(ref[0], rel=1e-6) and acc == ref[1]
    assert net.training
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())


def test_the_two_sums_are_the_same_mean_in_different_roundings():
    net = _net().eval()
    x, y = _data(64)

    def logits(xb):  # two points at once: the model and twice its logits
        out = net(xb)
        return torch.stack([out, 2 * out])

    chunked, acc = loss_and_accuracy(logits, x, y, chunk=9)
    per_sample, acc2 = loss_and_accuracy(logits, x, y, chunk=9, sum_per_sample=True)
    assert chunked.dtype == per_sample.dtype == torch.float64 and chunked.shape == (2,)
    assert torch.allclose(chunked, per_sample, rtol=1e-6) and torch.equal(acc, acc2)
    with torch.no_grad():
        out = net(x)
    assert chunked[1].item() == pytest.approx(F.cross_entropy(2 * out, y).item(), rel=1e-6)
    assert acc[0].item() == (out.argmax(1) == y).double().mean().item()
    # one chunk summed in float32 is exactly cross_entropy's own sum, in float64 exactly the
    # float64 sum of the per-sample losses
    one, _ = loss_and_accuracy(logits, x, y, chunk=64)
    assert one[0].item() == F.cross_entropy(out, y, reduction="sum").item() / 64
    each, _ = loss_and_accuracy(logits, x, y, chunk=64, sum_per_sample=True)
    assert each[0].item() == F.cross_entropy(out, y, reduction="none").double().sum().item() / 64
    with pytest.raises(ValueError, match="empty"):
        loss_and_accuracy(logits, x[:0], y[:0])


def test_interpolation():
    a, b = torch.zeros(3), torch.ones(3)
    assert [p.tolist() for p in interpolate(a, b, [0, 0.5, 1])] == [[0] * 3, [0.5] * 3, [1] * 3]
