import numpy as np
import pytest
import torch
import torch.nn.functional as F

from landscapes import directions as D
from landscapes.models import MLP, ResNet
from landscapes.params import Layout, evaluate, vector
from landscapes.surface import (
    Evaluator,
    FoldedBatchNorm,
    Grid,
    Surface,
    evaluate_tile,
    grid_around,
    local_minima,
    merge_tiles,
)


def trained_like_resnet():
    torch.manual_seed(0)
    model = ResNet(8, 1, 10, width=4)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2)
    return model


def data(n=300, image=True, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 1, 8, 8, generator=g) if image else torch.randn(n, 6, generator=g)
    return x, torch.randint(0, 10 if image else 3, (n,), generator=g)


def reference_loss(model, theta, x, y):
    """Write theta into a copy of the module and evaluate in eval mode, batch by batch."""
    import copy
    m = copy.deepcopy(model)
    torch.nn.utils.vector_to_parameters(theta, m.parameters())
    return evaluate(m, x, y, chunk=37)


def test_grid_is_rectangular_with_named_axes():
    g = Grid.linspace(alpha=(-1, 1, 3), beta=(0, 2, 5))
    assert g.names == ("alpha", "beta") and g.shape == (3, 5)
    c = g.coordinates()
    assert c.shape == (15, 2)
    assert np.allclose(c[7], [0.0, 1.0])  # row-major: [i, j] is (alpha_i, beta_j)
    assert g.rows(0, 2) == (0, 2) and g.rows(1, 2) == (2, 3)
    assert np.array_equal(g.coordinates(2, 3), c[10:])
    with pytest.raises(ValueError, match="tile 2 does not exist"):
        g.rows(2, 2)
    with pytest.raises(ValueError, match="at most one tile per row"):
        g.rows(0, 4)
    with pytest.raises(ValueError, match="one or two named axes"):
        Grid(("a", "b", "c"), (np.zeros(1),) * 3)


def test_non_square_surface_is_indexed_by_axis_values():
    """A linear model's loss at (alpha_i, beta_j) lands in cell [i, j] of a 3 x 5 grid."""
    torch.manual_seed(0)
    model = MLP(6, [], 3)
    x, y = data(image=False)
    d = D.random_directions(model, 0, count=2, norm="none", ignore_bias_bn=False)
    grid = Grid.linspace(alpha=(-1, 1, 3), beta=(-0.5, 0.5, 5))
    surf = evaluate_tile(Evaluator(model, d, points_per_pass=4), grid, 0, 3, (x, y))
    assert surf.metrics["train_loss"].shape == (3, 5)
    theta0 = vector(model)
    for i, a in enumerate(grid.values[0]):
        for j, b in enumerate(grid.values[1]):
            loss, acc = reference_loss(model, theta0 + a * d[0] + b * d[1], x, y)
            assert surf.metrics["train_loss"][i, j] == pytest.approx(loss, rel=1e-5)
            assert surf.metrics["train_acc"][i, j] == pytest.approx(acc)


def test_whole_dataset_and_model_left_untouched():
    model = trained_like_resnet()
    model.train()  # the evaluator must use eval mode and leave the flag as it was
    before = {k: v.clone() for k, v in model.state_dict().items()}
    x, y = data()
    d = D.random_directions(model, 1)
    ev = Evaluator(model, d, chunk=64)  # several chunks: the mean is over all of them
    loss, acc = ev.evaluate(np.array([[0.0, 0.0], [0.5, -0.25]]), x, y)
    ref0 = reference_loss(model, vector(model), x, y)
    ref1 = reference_loss(model, vector(model) + 0.5 * d[0] - 0.25 * d[1], x, y)
    assert loss[0] == pytest.approx(ref0[0], rel=1e-5) and acc[0] == pytest.approx(ref0[1])
    assert loss[1] == pytest.approx(ref1[0], rel=1e-5) and acc[1] == pytest.approx(ref1[1])
    assert model.training
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k]), f"{k} was changed"


def test_folding_batchnorm_changes_nothing_but_speed():
    model = trained_like_resnet().eval()
    folded = FoldedBatchNorm(model)
    assert len(folded.pairs) == 1 + 2 * 3 + 2  # every conv + BatchNorm pair
    x, _ = data(50)
    state = {**dict(model.named_parameters()), **dict(model.named_buffers())}
    with torch.no_grad():
        a = model(x)
        b = torch.func.functional_call(folded.module, folded.fold(state), (x,))
    assert torch.allclose(a, b, atol=1e-5)
    d = D.random_directions(model, 2)
    coords = np.array([[0.3, 0.1]])
    xs, ys = data()
    l1, _ = Evaluator(model, d, fold_bn=True).evaluate(coords, xs, ys)
    l2, _ = Evaluator(model, d, fold_bn=False).evaluate(coords, xs, ys)
    assert l1[0] == pytest.approx(l2[0], rel=1e-5)


def test_batched_points_equal_one_at_a_time():
    model = trained_like_resnet()
    x, y = data()
    d = D.random_directions(model, 3)
    coords = Grid.linspace(a=(-0.5, 0.5, 2), b=(-0.5, 0.5, 2)).coordinates()
    one = Evaluator(model, d, points_per_pass=1).evaluate(coords, x, y)
    many = Evaluator(model, d, points_per_pass=3).evaluate(coords, x, y)
    assert np.allclose(one[0], many[0], rtol=1e-5) and np.allclose(one[1], many[1])


def test_batchnorm_policies():
    model = trained_like_resnet()
    x, y = data()
    d = D.random_directions(model, 4)
    origin = np.zeros((1, 2))
    center, _ = Evaluator(model, d, bn="eval").evaluate(origin, x, y)
    recomputed, _ = Evaluator(model, d, bn="recompute", bn_inputs=x).evaluate(origin, x, y)
    # recomputed statistics equal those of a train-mode pass over the same inputs
    import copy
    m = copy.deepcopy(model)
    for mod in m.modules():
        if isinstance(mod, torch.nn.BatchNorm2d):
            mod.reset_running_stats()
            mod.momentum = None
    m.train()
    with torch.no_grad():
        m(x)
    expected = evaluate(m, x, y)[0]
    assert recomputed[0] == pytest.approx(expected, rel=1e-5)
    assert abs(recomputed[0] - center[0]) > 1e-3  # the policy matters
    assert all(mod.momentum == 0.1 for mod in model.modules()
               if isinstance(mod, torch.nn.BatchNorm2d))
    with pytest.raises(ValueError, match="BatchNorm policy 'train'"):
        Evaluator(model, d, bn="train")
    with pytest.raises(ValueError, match="needs the training inputs"):
        Evaluator(model, d, bn="recompute")


def test_full_state_directions_move_the_statistics():
    model = trained_like_resnet()
    x, y = data()
    d = D.random_directions(model, 5, over="state", ignore_bias_bn=False)
    theta = vector(model, "state") + 0.2 * d[0]
    lay = Layout.of(model, "state")
    import copy
    m = copy.deepcopy(model)
    m.load_state_dict({**m.state_dict(), **lay.split(theta)})
    expected = evaluate(m, x, y)[0]
    loss, _ = Evaluator(model, d, over="state").evaluate(np.array([[0.2, 0.0]]), x, y)
    assert loss[0] == pytest.approx(expected, rel=1e-5)


def test_tiles_merge_into_the_whole_surface(tmp_path):
    torch.manual_seed(0)
    model = MLP(6, [5], 3)
    x, y = data(image=False)
    d = D.random_directions(model, 0)
    grid = Grid.linspace(alpha=(-1, 1, 5), beta=(-1, 1, 4))
    ev = Evaluator(model, d, points_per_pass=3)
    whole = evaluate_tile(ev, grid, 0, 5, (x, y), (x[:50], y[:50]))
    paths = []
    for t in range(3):
        start, stop = grid.rows(t, 3)
        paths.append(tmp_path / f"tile{t}.npz")
        evaluate_tile(ev, grid, start, stop, (x, y), (x[:50], y[:50])).save(paths[-1])
    merged = merge_tiles([Surface.load(p) for p in reversed(paths)])
    assert merged.grid.names == ("alpha", "beta")
    for k in ("train_loss", "train_acc", "test_loss", "test_acc"):
        assert np.allclose(merged.metrics[k], whole.metrics[k])
    with pytest.raises(ValueError, match="not each of"):
        merge_tiles([Surface.load(paths[0]), Surface.load(paths[2])])


def test_one_dimensional_slice():
    torch.manual_seed(0)
    model = MLP(6, [5], 3)
    x, y = data(image=False)
    d = D.random_direction(model, 0)
    grid = Grid.linspace(alpha=(-1, 1, 7))
    surf = evaluate_tile(Evaluator(model, d), grid, 0, 7, (x, y))
    assert surf.metrics["train_loss"].shape == (7,)
    assert surf.metrics["train_loss"][3] == pytest.approx(
        F.cross_entropy(model.eval()(x), y).item(), rel=1e-5)


def test_local_minima_of_a_grid():
    a, b = np.meshgrid(np.linspace(-1, 1, 9), np.linspace(-1, 1, 7), indexing="ij")
    bowl = a**2 + b**2
    assert local_minima(bowl) == 1
    wavy = bowl + 0.5 * np.cos(6 * a) * np.cos(6 * b)
    assert local_minima(wavy) > 1
    assert local_minima(np.ones((5, 5))) == 0  # a plateau has no strict minimum
    assert local_minima(bowl + 1e-6 * np.cos(40 * a), tolerance=1e-3) <= 1
    with pytest.raises(ValueError, match="at least 3 x 3"):
        local_minima(np.zeros((2, 5)))


def test_grid_around_a_trajectory_covers_it_and_the_origin():
    path = np.array([[3.0, 1.0], [2.0, -0.5], [0.0, 0.0]])
    g = grid_around(path, 0.1, (7, 5))
    assert g.names == ("pc1", "pc2") and g.shape == (7, 5)
    assert g.values[0][0] < 0 and g.values[0][-1] > 3
    assert g.values[1][0] < -0.5 and g.values[1][-1] > 1.0


def test_chunked_hessian_products_average_over_the_data():
    from landscapes.params import FlatModel
    from landscapes.surface import hessian_matvec

    torch.manual_seed(0)
    flat = FlatModel(MLP(6, [4], 3))
    x, y = data(50, image=False)
    v = torch.randn(flat.dim, generator=torch.Generator().manual_seed(1))
    whole = hessian_matvec(flat, flat.theta0, x, y, chunk=64)(v)
    chunked = hessian_matvec(flat, flat.theta0, x, y, chunk=16)(v)
    assert torch.allclose(whole, chunked, rtol=1e-4, atol=1e-6)


def test_a_directions_tile_is_the_evaluators_tile_with_its_settings():
    from landscapes.data import Dataset
    from landscapes.surface import directions_tile, square_grid

    torch.manual_seed(0)
    model = MLP(6, [5], 3)
    x, y = data(image=False)
    ds = Dataset(x, y, x[:50], y[:50], "t", 3)
    d = D.random_directions(model, 0)
    grid = square_grid(1.0, (5, 4))
    assert grid.shape == (5, 4) and grid.values[0][0] == -1.0 and grid.values[1][-1] == 1.0
    ref = evaluate_tile(Evaluator(model, d, points_per_pass=3), grid, 1, 3, (x, y),
                        (x[:50], y[:50]))
    tile = directions_tile(model, d, grid, 1, 3, ds, "parameters", "eval", 3, 4096,
                           test=True, plane="random")
    for k in ("train_loss", "train_acc", "test_loss", "test_acc"):
        assert np.array_equal(tile.metrics[k], ref.metrics[k])
    assert tile.meta == {"plane": "random", "over": "parameters", "bn_policy": "eval"}
    assert "test_loss" not in directions_tile(model, d, grid, 1, 3, ds, "parameters", "eval",
                                              3, 4096).metrics


def test_a_nonconvexity_tile_uses_the_parameter_part_and_a_subset():
    from landscapes.data import Dataset
    from landscapes.surface import extreme_eigenvalues_tile, nonconvexity_tile, square_grid

    torch.manual_seed(0)
    model = MLP(6, [4], 3)
    x, y = data(60, image=False)
    ds = Dataset(x, y, x[:10], y[:10], "t", 3)
    d = D.random_directions(model, 0)
    longer = torch.cat([d, torch.ones(2, 3)], 1)  # e.g. BatchNorm state beyond the parameters
    grid = square_grid(0.5, (2, 2))
    tile = nonconvexity_tile(model, longer, grid, 0, 2, ds, 20, 10, 0)
    ref = extreme_eigenvalues_tile(model, d, grid, 0, 2, x[:20], y[:20], 10, 0)
    assert np.array_equal(tile.metrics["lambda_min"], ref.metrics["lambda_min"])
    assert tile.meta == {"n_samples": 20, "lanczos_steps": 10}
    assert nonconvexity_tile(model, d, grid, 0, 1, ds, None, 10, 0).meta["n_samples"] == 60
