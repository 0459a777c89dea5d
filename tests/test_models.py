import pytest
import torch

from landscapes import models


@pytest.mark.parametrize("spec,shape", [
    ({"name": "mlp", "hidden": [7, 5], "activation": "tanh"}, (1, 8, 8)),
    ({"name": "deep_linear", "hidden": [4, 4]}, (40,)),
    ({"name": "resnet", "depth": 8, "width": 4}, (1, 8, 8)),
    ({"name": "resnet", "depth": 14, "width": 4, "shortcuts": False, "batchnorm": False},
     (3, 16, 16)),
    ({"name": "vgg9", "width": 0.125}, (1, 8, 8)),
    ({"name": "c1", "width": 0.125}, (3, 32, 32)),
])
def test_models_map_inputs_to_class_scores(spec, shape):
    torch.manual_seed(0)
    m = models.build(spec, shape, 10).eval()
    assert m(torch.randn(3, *shape)).shape == (3, 10)


def test_resnet_depth_and_shortcuts():
    plain = models.build({"name": "resnet", "depth": 20, "shortcuts": False}, (3, 32, 32), 10)
    res = models.build({"name": "resnet", "depth": 20, "shortcuts": True}, (3, 32, 32), 10)
    convs = sum(isinstance(m, torch.nn.Conv2d) and m.kernel_size == (3, 3) for m in plain.modules())
    assert convs == 19  # 6n + 1 convolutions plus the final linear layer: depth 20
    extra = sum(p.numel() for p in res.parameters()) - sum(p.numel() for p in plain.parameters())
    assert extra > 0  # the projection shortcuts where the width doubles
    with pytest.raises(ValueError, match="6n\\+2"):
        models.build({"name": "resnet", "depth": 21}, (3, 32, 32), 10)


def test_deep_linear_is_a_product_of_matrices():
    m = models.deep_linear([3, 4, 2])
    w1, w2 = (p for p in m.parameters())
    x = torch.randn(5, 3)
    assert all(not isinstance(b, torch.nn.Parameter) for b in m.buffers())
    assert torch.allclose(m(x), x @ (w2 @ w1).T, atol=1e-6)


def test_unknown_model_and_activation_named():
    with pytest.raises(ValueError, match="unknown model 'transformer'"):
        models.build({"name": "transformer"}, (4,), 2)
    with pytest.raises(ValueError, match="unknown activation 'gelu'"):
        models.build({"name": "mlp", "activation": "gelu"}, (4,), 2)


def test_global_average_pool_equals_adaptive_pooling_bit_for_bit():
    from landscapes.models import GlobalAvgPool

    x = torch.randn(5, 8, 7, 9, requires_grad=True)
    ours, ref = GlobalAvgPool()(x), torch.nn.AdaptiveAvgPool2d(1)(x)
    assert torch.equal(ours, ref)
    (g_ours,) = torch.autograd.grad(ours.square().sum(), x)
    (g_ref,) = torch.autograd.grad(ref.square().sum(), x)
    assert torch.equal(g_ours, g_ref)
