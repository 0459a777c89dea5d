import numpy as np
import torch

from landscapes import linear, models


def test_231_net_collapses_to_two_effective_weights():
    torch.manual_seed(0)
    net = linear.Net231("linear").double()
    x = torch.randn(10, 2, dtype=torch.float64)
    ab = linear.net_231_effective(net.w.weight, net.v.weight)
    assert ab.shape == (2,)
    assert torch.allclose(net(x)[:, 0], x @ ab)


def test_hessian_at_origin_is_plus_minus_sigma_then_zero():
    teacher = np.array([[3.0, 0, 0, 0], [0, 1.0, 0, 0]])
    x, y = linear.regression_data(100, 4, teacher, 0.1, 0, whiten=True)
    sigma = linear.correlation_singular_values(x, y)
    z2 = [torch.zeros(3, 4, dtype=torch.float64), torch.zeros(2, 3, dtype=torch.float64)]
    eig = np.linalg.eigvalsh(linear.hessian_at(z2, x, y))
    assert np.allclose(eig, linear.predicted_origin_spectrum(sigma, 3, 18), atol=1e-10)
    z3 = [z2[0], torch.zeros(3, 3, dtype=torch.float64), z2[1]]
    assert np.abs(linear.hessian_at(z3, x, y)).max() == 0


def test_whitened_inputs_are_white():
    x, _ = linear.regression_data(50, 3, np.ones((1, 3)), 0.0, 1, whiten=True)
    assert torch.allclose(x.T @ x / 50, torch.eye(3, dtype=torch.float64), atol=1e-12)


def test_permuting_hidden_units_keeps_the_function():
    torch.manual_seed(0)
    net = models.build({"name": "mlp", "hidden": [6]}, (5,), 3).double()
    perm = torch.tensor([2, 0, 1, 5, 4, 3])
    params = linear.permute_hidden(net, perm)
    x = torch.randn(7, 5, dtype=torch.float64)
    out = torch.func.functional_call(net, params, (x,))
    assert torch.allclose(out, net(x), atol=1e-12)
    assert not torch.equal(params["net.1.weight"], net.net[1].weight)


def test_barrier_and_convexity_helpers():
    assert linear.barrier(np.array([1.0, 3.0, 1.5])) == 1.5
    axis = np.linspace(-1, 1, 21)
    X, Y = np.meshgrid(axis, axis)
    assert linear.min_hessian_eigenvalue_grid(X**2 + Y**2, 0.1).min() > 1.9
    assert linear.min_hessian_eigenvalue_grid(X * Y, 0.1).min() < -0.9


def test_batched_gradient_descent_reaches_least_squares():
    x, y = linear.regression_data(60, 3, np.array([[2.0, 0, 0], [0, 1.0, 0]]), 0.1, 0, True)
    inits = [linear.deep_linear_weights([3, 2, 2], 1e-2, s) for s in range(3)]
    stacked = [torch.stack(layer) for layer in zip(*inits)]
    _, losses, _ = linear.gradient_descent(stacked, x, y, 0.1, 2000, 100)
    assert losses.shape == (3, 21)
    assert np.allclose(losses[:, -1], linear.optimal_loss(x, y), rtol=1e-8)
