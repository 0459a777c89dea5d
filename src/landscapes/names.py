"""Names that cross files: model ids, run ids, artifact keys and table columns.

Rules, figures and claims build and parse these names here, and only here, so a name written
in one file is read back the same way in another.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class ResNetId:
    """A ResNet of the skips experiment: `resnet<depth>` with shortcuts, `plain<depth>` without."""

    depth: int
    shortcuts: bool

    def __str__(self) -> str:
        return f"{'resnet' if self.shortcuts else 'plain'}{self.depth}"

    @property
    def label(self) -> str:
        """As the paper writes it: ResNet-56, ResNet-56-noshort."""
        return f"ResNet-{self.depth}" + ("" if self.shortcuts else "-noshort")

    @classmethod
    def parse(cls, text: str) -> "ResNetId":
        match = re.fullmatch(r"(resnet|plain)(\d+)", str(text))
        if match is None:
            raise ValueError(f"not a skips model id: {text!r} (expected resnet<depth> or "
                             "plain<depth>)")
        return cls(int(match[2]), match[1] == "resnet")


def resnets(depths) -> list[ResNetId]:
    """Every skips model, depth by depth, the shortcut net before its plain twin."""
    return [ResNetId(int(d), s) for d in depths for s in (True, False)]


def artifact(kind: str, name) -> str:
    """The input key of one model's artifact of a kind: `surface_resnet20`."""
    return f"{kind}_{name}"


def number(value) -> str:
    """A float as it appears in paths and column names: 0, 0.0005, 1e-06."""
    return f"{float(value):g}"


def phi_key(space: str, eps: float) -> str:
    """One sharpness measure, space (full or subspace) and box size: `full_0.001`."""
    return f"{space}_{number(eps)}"


def parse_phi_key(key: str) -> tuple[str, float]:
    """(space, eps) of a `phi_key`."""
    space, _, eps = str(key).partition("_")
    if space not in ("full", "subspace") or not eps:
        raise ValueError(f"not a sharpness key: {key!r} (expected <full|subspace>_<eps>)")
    return space, float(eps)


def phi_column(space: str, eps: float, stat: str) -> str:
    """A column of the sharpness table: `phi_full_0.001_mean`."""
    return f"phi_{phi_key(space, eps)}_{stat}"


@dataclass(frozen=True)
class SharpRun:
    """One run of the sharp-minima experiment: `<net>/b<batch>_wd<weight decay>_s<seed>`."""

    net: str
    batch: int
    weight_decay: float
    seed: int

    def __str__(self) -> str:
        return f"{self.net}/b{self.batch}_wd{number(self.weight_decay)}_s{self.seed}"

    @property
    def slice_id(self) -> str:
        """Its filter-normalized slice: `<net>/slice_b<batch>_wd<wd>_s<seed>`."""
        return f"{self.net}/slice_b{self.batch}_wd{number(self.weight_decay)}_s{self.seed}"

    @property
    def plane_id(self) -> str:
        """Its filter-normalized 2D plane: `<net>/plane_b<batch>_wd<wd>_s<seed>`."""
        return f"{self.net}/plane_b{self.batch}_wd{number(self.weight_decay)}_s{self.seed}"

    @classmethod
    def parse(cls, text: str) -> "SharpRun":
        match = re.fullmatch(r"([A-Za-z0-9_]+)/b(\d+)_wd([0-9.e+-]+)_s(\d+)", str(text))
        if match is None:
            raise ValueError(f"not a sharpness run id: {text!r} "
                             "(expected <net>/b<batch>_wd<weight decay>_s<seed>)")
        return cls(match[1], int(match[2]), float(match[3]), int(match[4]))


def interp_id(net: str, weight_decay: float, seed: int) -> str:
    """The SB-LB interpolation of a network: `<net>/interp_wd<wd>_s<seed>`."""
    return f"{net}/interp_wd{number(weight_decay)}_s{seed}"
