"""The straight line from a net's initialization to its solution (Goodfellow, Vinyals and
Saxe 2015): the loss along theta(a) = (1 - a) theta_init + a theta_final, and where the
training path lies relative to that line.

The path is drawn in the paper's two coordinates: its progress along the line (the projection
of theta_t - theta_init onto the line's direction, in units of the line's length, so that the
solution sits at 1) and its distance from the line (the norm of the rest, in the same units).
The plane through the initialization, the solution and the path point farthest from the line
holds the line and that farthest departure; its loss surface shows what the path went around.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from landscapes.data import Dataset
from landscapes.surface import Evaluator
from landscapes.train import check_finite


def largest_rise(losses) -> float:
    """The largest increase between consecutive values: <= 0 exactly when they never rise."""
    losses = np.asarray(losses, dtype=np.float64)
    if losses.size < 2:
        raise ValueError("a rise needs at least two losses along the line")
    return float(np.diff(losses).max())


def path_coordinates(trajectory: torch.Tensor, init: torch.Tensor, final: torch.Tensor
                     ) -> tuple[np.ndarray, np.ndarray]:
    """(progress, distance) of each row of `trajectory` (T, dim): the projection onto the
    line from `init` to `final` and the norm of the part orthogonal to it, both in units of
    the line's length (init at (0, 0), final at (1, 0))."""
    line = (final - init).double()
    length2 = float(line @ line)
    if length2 == 0.0:
        raise ValueError("the solution equals the initialization: there is no line")
    rel = trajectory.double() - init.double()
    progress = rel @ line / length2
    rest = rel - progress[:, None] * line
    return progress.numpy(), (rest.norm(dim=1) / length2 ** 0.5).numpy()


def plane_directions(trajectory: torch.Tensor, init: torch.Tensor, final: torch.Tensor
                     ) -> torch.Tensor:
    """(2, dim): the line (final - init) and, orthogonal to it and as long, the direction of
    the path point farthest from the line; zero if the path never leaves the line. Plane
    coordinates (a, b) are then init + a line + b side, with the path at (progress, distance)
    of its farthest point. A path within rounding (1e-6 of the line's length) of the line
    counts as on it."""
    line = (final - init).double()
    rel = trajectory.double() - init.double()
    rest = rel - (rel @ line / (line @ line))[:, None] * line
    far = rest[int(rest.norm(dim=1).argmax())]
    side = (far / far.norm() * line.norm() if far.norm() > 1e-6 * line.norm()
            else torch.zeros_like(line))
    return torch.stack([line, side]).to(final.dtype)


def in_plane(trajectory: torch.Tensor, init: torch.Tensor, directions: torch.Tensor
             ) -> np.ndarray:
    """(T, 2) coordinates of the path's orthogonal projection onto the plane of
    `plane_directions` (which are orthogonal and of one length)."""
    d = directions.double()
    return ((trajectory.double() - init.double()) @ d.T / (d * d).sum(1)).numpy()


def line_and_plane(model_init: nn.Module, trajectory: torch.Tensor, data: Dataset,
                   alphas: np.ndarray, plane_points: tuple[int, int], margin: float,
                   name: str = "line") -> dict[str, np.ndarray]:
    """Everything the figure and the claims read, for one net: `model_init` holds the
    initialization, `trajectory` (T, dim) the training path (first row the initialization,
    last the solution). Training and test loss and error along the line at `alphas`; the
    path's coordinates; the training loss over a `plane_points` grid of the plane, along the
    line over the range of `alphas`, across it from -margin to the path's farthest distance
    plus margin (in units of the line's length)."""
    init, final = trajectory[0], trajectory[-1]
    line_dir = (final - init)[None]
    ev = Evaluator(model_init, line_dir)
    if not torch.equal(ev.center, init.to(ev.center)):
        raise ValueError(f"{name}: the model does not hold the path's first point")
    out = {"alphas": np.asarray(alphas, dtype=np.float64)}
    for split, (x, y) in (("train", (data.x_train, data.y_train)),
                          ("test", (data.x_test, data.y_test))):
        loss, acc = ev.evaluate(out["alphas"][:, None], x, y)
        check_finite(loss, f"{name}: the {split} loss along the line",
                     [f"alpha = {a:.3g}" for a in out["alphas"]])
        out[f"{split}_loss"], out[f"{split}_error"] = loss, 1.0 - acc
    out["progress"], out["distance"] = path_coordinates(trajectory, init, final)
    directions = plane_directions(trajectory, init, final)
    out["plane_path"] = in_plane(trajectory, init, directions)
    plane_a = np.linspace(out["alphas"][0], out["alphas"][-1], plane_points[0])
    plane_b = np.linspace(-margin, out["distance"].max() + margin, plane_points[1])
    grid = np.array([(a, b) for a in plane_a for b in plane_b], dtype=np.float64)
    loss, _ = Evaluator(model_init, directions).evaluate(grid, data.x_train, data.y_train)
    out["plane_a"], out["plane_b"] = plane_a, plane_b
    out["plane_loss"] = loss.reshape(len(plane_a), len(plane_b))
    out["line_length"] = np.array(float((final - init).double().norm()))
    return out
