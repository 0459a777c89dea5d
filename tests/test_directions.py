import pytest
import torch

from landscapes import directions as D
from landscapes.models import MLP, ResNet
from landscapes.params import Layout, vector


def small_resnet(shortcuts=True):
    torch.manual_seed(0)
    model = ResNet(8, 1, 10, width=4, shortcuts=shortcuts)
    with torch.no_grad():  # non-trivial BatchNorm state, as after training
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
                m.running_mean.uniform_(-1, 1)
                m.running_var.uniform_(0.5, 2)
    return model


def pieces(model, vec):
    return Layout.of(model).split(vec)


def test_directions_are_in_the_parameter_order():
    model = small_resnet()
    d = D.random_direction(model, seed=0)
    assert d.shape == (Layout.of(model).dim,)
    assert torch.equal(Layout.of(model).values(model), vector(model))


def test_raw_entries_are_gaussian_not_uniform():
    lay = Layout.of(MLP(64, [256], 10))
    g = D.gaussian(lay, torch.Generator().manual_seed(0))
    z = (g - g.mean()) / g.std()
    kurtosis = (z**4).mean().item()
    assert abs(g.mean().item()) < 0.02 and abs(g.std().item() - 1) < 0.02
    assert abs(kurtosis - 3.0) < 0.1  # a uniform distribution has 1.8


def test_seeded_and_recorded_by_seed():
    model = small_resnet()
    a, b = D.random_direction(model, 3), D.random_direction(model, 3)
    assert torch.equal(a, b)
    assert not torch.allclose(a, D.random_direction(model, 4))
    two = D.random_directions(model, 3, count=2)
    assert torch.equal(two[0], a) and not torch.allclose(two[0], two[1])


def test_filter_normalization_matches_each_filter_norm():
    model = small_resnet()
    d = pieces(model, D.random_direction(model, 0, norm="filter"))
    w = dict(model.named_parameters())
    n_checked = 0
    for name, t in d.items():
        if t.dim() > 1:  # conv filters (output channels) and linear rows
            dn = t.reshape(t.shape[0], -1).norm(dim=1)
            wn = w[name].detach().reshape(t.shape[0], -1).norm(dim=1)
            assert torch.allclose(dn, wn, rtol=1e-5, atol=1e-6)
            n_checked += 1
        else:
            assert torch.count_nonzero(t) == 0, f"{name} should have a zero direction"
    assert n_checked == 1 + 2 * 3 + 2 + 1  # stem, two convs per block, 2 projections, head


def test_layer_and_model_normalization():
    model = small_resnet()
    w = dict(model.named_parameters())
    d = pieces(model, D.random_direction(model, 0, norm="layer"))
    for name, t in d.items():
        if t.dim() > 1:
            assert t.norm().item() == pytest.approx(w[name].norm().item(), rel=1e-5)
    vec = D.random_direction(model, 0, norm="model")
    keep = ~Layout.of(model).bias_bn_mask()
    assert vec.norm().item() == pytest.approx(vector(model)[keep].norm().item(), rel=1e-5)
    assert torch.count_nonzero(vec[~keep]) == 0
    raw = D.random_direction(model, 0, norm="none", ignore_bias_bn=False)
    assert torch.equal(raw, D.gaussian(Layout.of(model), torch.Generator().manual_seed(0)))


def test_included_biases_are_scaled_once():
    model = MLP(5, [7], 3)
    with torch.no_grad():
        model.net[1].bias.fill_(0.5)
    d = pieces(model, D.random_direction(model, 0, ignore_bias_bn=False))
    bias = model.net[1].bias.detach()
    assert d["net.1.bias"].norm().item() == pytest.approx(bias.norm().item(), rel=1e-5)
    # the weights' part is unchanged by including the biases
    d0 = pieces(model, D.random_direction(model, 0))
    assert torch.equal(d0["net.1.weight"], d["net.1.weight"])
    assert torch.count_nonzero(d0["net.1.bias"]) == 0


def test_full_state_covers_batchnorm_statistics():
    model = small_resnet()
    params = D.random_direction(model, 1)
    state = D.random_direction(model, 1, over="state")
    lay = Layout.of(model, "state")
    assert lay.dim > params.numel()
    assert any(n.endswith("running_var") for n in lay.names)
    assert not any(n.endswith("num_batches_tracked") for n in lay.names)
    assert torch.equal(state[:params.numel()], params)
    assert torch.count_nonzero(state[params.numel():]) == 0  # statistics are 1-D: ignored
    moving = D.random_direction(model, 1, over="state", ignore_bias_bn=False)
    stats = lay.split(moving)
    ref = dict(model.named_buffers())
    for name in lay.names[lay.n_params:]:
        assert stats[name].norm().item() == pytest.approx(ref[name].norm().item(), rel=1e-5)


def test_bad_arguments_are_named():
    model = small_resnet()
    with pytest.raises(ValueError, match="normalization 'filters'"):
        D.random_direction(model, 0, norm="filters")
    with pytest.raises(ValueError, match="parameters or state"):
        D.random_direction(model, 0, over="buffers")
    with pytest.raises(ValueError, match="does not match"):
        Layout.of(model).split(torch.zeros(3))


def test_pca_recovers_the_plane_of_a_trajectory():
    gen = torch.Generator().manual_seed(0)
    dim, steps = 50, 30
    basis, _ = torch.linalg.qr(torch.randn(dim, 2, generator=gen, dtype=torch.float64))
    t = torch.linspace(0, 1, steps, dtype=torch.float64)
    coords = torch.stack([3 * (1 - t), 0.5 * torch.sin(6 * t)], 1)  # spiral into the end
    final = torch.randn(dim, generator=gen, dtype=torch.float64)
    traj = final + coords @ basis.T + 1e-4 * torch.randn(steps, dim, generator=gen,
                                                         dtype=torch.float64)
    traj[-1] = final
    pca = D.pca_directions(traj.float(), k=2)
    assert pca.directions.shape == (2, dim)
    assert torch.allclose(pca.directions @ pca.directions.T, torch.eye(2), atol=1e-5)
    # the directions span the plane the trajectory lies in
    proj = pca.directions.double() @ basis
    assert torch.linalg.svdvals(proj).min().item() > 0.999
    assert pca.explained_variance_ratio[0] > pca.explained_variance_ratio[1] > 0
    assert pca.explained_variance_ratio.sum().item() > 0.999
    assert torch.count_nonzero(pca.coordinates[-1]) == 0  # the final point is the origin
    assert pca.coordinates[0, 0] > 0


def test_pca_mask_and_short_trajectory():
    traj = torch.randn(6, 10, generator=torch.Generator().manual_seed(0))
    mask = torch.ones(10, dtype=torch.bool)
    mask[:3] = False
    pca = D.pca_directions(traj, mask=mask)
    assert torch.count_nonzero(pca.directions[:, :3]) == 0
    with pytest.raises(ValueError, match="trajectory_every"):
        D.pca_directions(traj[:2], k=2)
