"""Models built by name from config: MLP, deep linear, CIFAR ResNets, VGG-9, Keskar's C1, a
small BatchNorm-free conv net;
and the deep autoencoder (`autoencoder`: input -> code -> input, not a classifier).

`build(spec, input_shape, n_classes)` takes a config mapping such as
`{name: mlp, hidden: [100], activation: relu}` and the data's input shape.
"""

from __future__ import annotations

import math

import torch
from torch import nn

ACTIVATIONS = {"linear": nn.Identity, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "relu": nn.ReLU}


class MLP(nn.Module):
    """Fully connected net; flattens its input. `hidden` lists the hidden widths; `dropout`
    > 0 adds a dropout layer after each hidden activation (none at 0, so the layer indices,
    and checkpoints, are those of the net without it)."""

    def __init__(self, in_features: int, hidden: list[int], out_features: int,
                 activation: str = "relu", bias: bool = True, dropout: float = 0.0):
        super().__init__()
        if activation not in ACTIVATIONS:
            allowed = ", ".join(ACTIVATIONS)
            raise ValueError(f"unknown activation '{activation}'; allowed: {allowed}")
        widths = [in_features, *hidden, out_features]
        layers: list[nn.Module] = [nn.Flatten()]
        for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
            layers.append(nn.Linear(a, b, bias=bias))
            if i < len(widths) - 2:
                layers.append(ACTIVATIONS[activation]())
                if dropout > 0:
                    layers.append(nn.Dropout(dropout))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


def deep_linear(widths: list[int]) -> MLP:
    """W_L ... W_1 x: a product of matrices, no biases, no activations."""
    return MLP(widths[0], list(widths[1:-1]), widths[-1], activation="linear", bias=False)


def autoencoder(in_features: int, hidden: list[int], activation: str = "sigmoid") -> MLP:
    """An encoder-decoder MLP from the flattened input back to it; the narrowest of `hidden`
    (e.g. [32, 8, 32]) is the code. The output layer is linear (a squared-error fit)."""
    if not hidden:
        raise ValueError("an autoencoder needs at least one hidden layer (its code)")
    return MLP(in_features, list(hidden), in_features, activation)


def _norm(channels: int, batchnorm: bool) -> nn.Module:
    return nn.BatchNorm2d(channels) if batchnorm else nn.Identity()


class BasicBlock(nn.Module):
    """Two 3x3 convs; with `shortcut` the input is added back (projection where shapes change)."""

    def __init__(self, cin: int, cout: int, stride: int, shortcut: bool, batchnorm: bool):
        super().__init__()
        bias = not batchnorm
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=bias)
        self.bn1 = _norm(cout, batchnorm)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=bias)
        self.bn2 = _norm(cout, batchnorm)
        self.shortcut = shortcut
        self.project = None
        if shortcut and (stride != 1 or cin != cout):
            self.project = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=bias),
                                         _norm(cout, batchnorm))

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.shortcut:
            out = out + (x if self.project is None else self.project(x))
        return torch.relu(out)


class GlobalAvgPool(nn.Module):
    """The mean over the spatial dimensions, (N, C, H, W) -> (N, C, 1, 1): the same numbers as
    `nn.AdaptiveAvgPool2d(1)`, whose backward has no deterministic CUDA kernel (it raises once
    deterministic algorithms are on, as they are for every GPU job)."""

    def forward(self, x):
        return x.mean((2, 3), keepdim=True)


class ResNet(nn.Module):
    """The CIFAR ResNet family of He et al. 2016: depth 6n+2, three stages of n blocks.

    `shortcuts=False` gives the plain net of the same depth (Li et al. 2018's "no-short").
    """

    def __init__(self, depth: int, in_channels: int, n_classes: int, width: int = 16,
                 shortcuts: bool = True, batchnorm: bool = True):
        super().__init__()
        if depth < 8 or (depth - 2) % 6:
            raise ValueError(f"ResNet depth must be 6n+2 with n >= 1 (8, 14, 20, 56, 110), "
                             f"got {depth}")
        n = (depth - 2) // 6
        self.stem = nn.Sequential(nn.Conv2d(in_channels, width, 3, 1, 1, bias=not batchnorm),
                                  _norm(width, batchnorm), nn.ReLU())
        blocks, cin = [], width
        for stage, cout in enumerate((width, 2 * width, 4 * width)):
            for i in range(n):
                stride = 2 if stage > 0 and i == 0 else 1
                blocks.append(BasicBlock(cin, cout, stride, shortcuts, batchnorm))
                cin = cout
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Sequential(GlobalAvgPool(), nn.Flatten(), nn.Linear(cin, n_classes))

    def forward(self, x):
        return self.head(self.blocks(self.stem(x)))


class VGG9(nn.Module):
    """VGG-9 as in Li et al. 2018: 7 conv layers with BatchNorm and 2 linear layers."""

    CFG = (64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, "M")

    def __init__(self, in_channels: int, n_classes: int, width: float = 1.0,
                 batchnorm: bool = True):
        super().__init__()
        layers, cin = [], in_channels
        for v in self.CFG:
            if v == "M":
                layers.append(nn.MaxPool2d(2, ceil_mode=True))  # ceil: small images reach 1x1
            else:
                cout = max(1, int(v * width))
                layers += [nn.Conv2d(cin, cout, 3, padding=1, bias=not batchnorm),
                           _norm(cout, batchnorm), nn.ReLU()]
                cin = cout
        hidden = max(1, int(512 * width))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(GlobalAvgPool(), nn.Flatten(),
                                        nn.Linear(cin, hidden), nn.ReLU(),
                                        nn.Linear(hidden, n_classes))

    def forward(self, x):
        return self.classifier(self.features(x))


class C1(nn.Module):
    """Keskar et al. 2017's shallow conv net C1 (the AlexNet-like CIFAR net).

    conv 64 5x5 + BN + ReLU + maxpool 3x3/2, twice; FC 384 and FC 192, each with BN, ReLU and
    dropout 0.5; linear classifier. `width` scales every layer for small offline runs.
    """

    def __init__(self, input_shape: tuple[int, ...], n_classes: int, width: float = 1.0,
                 dropout: float = 0.5):
        super().__init__()
        c, h, w = input_shape
        ch, f1, f2 = (max(1, int(k * width)) for k in (64, 384, 192))
        self.features = nn.Sequential(
            nn.Conv2d(c, ch, 5, padding=2), nn.BatchNorm2d(ch), nn.ReLU(),
            nn.MaxPool2d(3, 2, padding=1),
            nn.Conv2d(ch, ch, 5, padding=2), nn.BatchNorm2d(ch), nn.ReLU(),
            nn.MaxPool2d(3, 2, padding=1), nn.Flatten())
        with torch.no_grad():
            flat = self.features(torch.zeros(2, c, h, w)).shape[1]
        self.classifier = nn.Sequential(
            nn.Linear(flat, f1), nn.BatchNorm1d(f1), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(f1, f2), nn.BatchNorm1d(f2), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(f2, n_classes))

    def forward(self, x):
        return self.classifier(self.features(x))


class ConvNet(nn.Module):
    """A plain conv net without BatchNorm (Cohen et al. 2021's CNNs use none): per entry of
    `channels` a 3x3 conv (padding 1) and the activation, halving the image either by a 2x2
    max pool after it (`downsample="pool"`) or by the conv's own stride 2 (`"stride"`: the same
    sizes, several times cheaper on a CPU); then a linear classifier on the flattened
    features."""

    DOWNSAMPLE = ("pool", "stride")

    def __init__(self, input_shape: tuple[int, ...], n_classes: int, channels: list[int],
                 activation: str = "relu", downsample: str = "pool"):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation '{activation}'; allowed: "
                             f"{', '.join(ACTIVATIONS)}")
        if downsample not in self.DOWNSAMPLE:
            raise ValueError(f"unknown downsampling '{downsample}'; allowed: "
                             f"{', '.join(self.DOWNSAMPLE)}")
        c, h, w = input_shape
        layers: list[nn.Module] = []
        for cout in channels:
            stride = 2 if downsample == "stride" else 1
            layers += [nn.Conv2d(c, cout, 3, stride, padding=1), ACTIVATIONS[activation]()]
            if downsample == "pool":
                layers.append(nn.MaxPool2d(2, ceil_mode=True))
            c, h, w = cout, -(-h // 2), -(-w // 2)
        self.features = nn.Sequential(*layers, nn.Flatten())
        self.classifier = nn.Linear(c * h * w, n_classes)

    def forward(self, x):
        return self.classifier(self.features(x))


NAMES = ("mlp", "deep_linear", "resnet", "vgg9", "c1", "cnn")


def build(spec: dict, input_shape: tuple[int, ...], n_classes: int) -> nn.Module:
    """A model from its config mapping; `name` picks the family, the rest are its settings."""
    spec = dict(spec)
    name = spec.pop("name", None)
    if name == "mlp":
        return MLP(math.prod(input_shape), list(spec.get("hidden", [])), n_classes,
                   spec.get("activation", "relu"), spec.get("bias", True),
                   spec.get("dropout", 0.0))
    if name == "deep_linear":
        return deep_linear([math.prod(input_shape), *spec.get("hidden", []), n_classes])
    if name == "resnet":
        return ResNet(spec["depth"], input_shape[0], n_classes, spec.get("width", 16),
                      spec.get("shortcuts", True), spec.get("batchnorm", True))
    if name == "vgg9":
        return VGG9(input_shape[0], n_classes, spec.get("width", 1.0), spec.get("batchnorm", True))
    if name == "c1":
        return C1(tuple(input_shape), n_classes, spec.get("width", 1.0), spec.get("dropout", 0.5))
    if name == "cnn":
        return ConvNet(tuple(input_shape), n_classes, list(spec.get("channels", [32, 32])),
                       spec.get("activation", "relu"), spec.get("downsample", "pool"))
    raise ValueError(f"unknown model '{name}'; allowed: {', '.join(NAMES)}")
