"""VGG-11/13/16/19 (Simonyan & Zisserman, ICLR 2015, "Very Deep Convolutional Networks for
Large-Scale Image Recognition"), and the VGG-19 trunk OpenPose uses.

Configurations D (VGG-16) and E (VGG-19): blocks of 3×3 convolutions (stride 1, pad 1, with
bias) + ReLU, separated by 2×2 / 2 max-pools; widths 64, 128, 256, 512, 512. The classifier
(torchvision's flavour) is adaptive average pooling to 7×7, then FC 25088 → 4096, ReLU,
dropout, FC 4096 → 4096, ReLU, dropout, FC 4096 → ``num_classes``.

Layer names follow torchvision: ``features.N`` counts every conv, (BN,) ReLU and pool in
order (VGG-19 without BN: ``conv1_1`` = ``features.0``, ``conv4_2`` = ``features.21``), then
``classifier.0/3/6``; a user with internet can load torchvision's ``vgg19-dcbb9e9d.pth``
into ``vgg19()`` one to one (no download happens in posekit).

Params (1000-class classifier, no BN): VGG-16 138,357,544; VGG-19 143,667,240 (= torchvision).
The trunk up to ``conv4_2`` (``last_layer="conv4_2"``, OpenPose's backbone:
conv1_1 … conv4_2, three pools, output stride 8) has 5,865,536 params.
"""

from __future__ import annotations

import torch
from torch import nn

from posekit.validate import check_positive_ints

__all__ = ["VGG", "vgg16", "vgg19", "vgg19_openpose"]

CONFIGS: dict[int, tuple[int, ...]] = {
    11: (1, 1, 2, 2, 2),
    13: (2, 2, 2, 2, 2),
    16: (2, 2, 3, 3, 3),
    19: (2, 2, 4, 4, 4),
}
"""depth → convolutions in each of the five blocks (configurations A, B, D, E)."""


def _layer_names(depth: int) -> list[str]:
    """``["conv1_1", "conv1_2", "pool1", "conv2_1", ...]`` in forward order."""
    names = []
    for block, n in enumerate(CONFIGS[depth], start=1):
        names += [f"conv{block}_{i}" for i in range(1, n + 1)] + [f"pool{block}"]
    return names


class VGG(nn.Module):
    """VGG feature trunk / classifier with torchvision's layer names.

    Args:
        depth: 11, 13, 16 or 19.
        num_classes: outputs of the last FC layer (1000 = ImageNet).
        include_top: add the 7×7 pooling + three-layer classifier (needs the full trunk).
        last_layer: stop the trunk after this layer (and its ReLU), e.g. ``"conv4_2"`` for
            OpenPose's backbone or ``"pool5"`` (the default, ``None``, keeps all of it).
        batch_norm: BatchNorm after every conv (torchvision's ``vgg19_bn`` layout).
        width: channels of block 1 (64); blocks use width·(1, 2, 4, 8, 8). Smaller widths
            give scaled configs (then the counts above no longer apply).
        in_channels: input channels.
        dropout: dropout probability of the classifier.

    Shapes: ``(B, in_channels, H, W)`` → ``forward_features`` ``(B, C, H/s, W/s)`` with ``s``
    = 2^(pools so far) (``out_channels``, ``stride``): 512 × H/32 × W/32 for the full trunk,
    512 × H/8 × W/8 up to ``conv4_2``; ``forward`` → ``(B, num_classes)`` with the top.
    Inputs normalised with the ImageNet mean/std when loading torchvision weights.
    """

    def __init__(
        self,
        depth: int = 19,
        num_classes: int = 1000,
        include_top: bool = True,
        last_layer: str | None = None,
        batch_norm: bool = False,
        width: int = 64,
        in_channels: int = 3,
        dropout: float = 0.5,
    ) -> None:
        super().__init__()
        if depth not in CONFIGS:
            raise ValueError(f"depth: expected one of {sorted(CONFIGS)}, got {depth!r}")
        names = _layer_names(depth)
        if last_layer is not None and last_layer not in names:
            raise ValueError(f"last_layer: expected one of {names}, got {last_layer!r}")
        if include_top and last_layer not in (None, names[-1]):
            raise ValueError("last_layer: the classifier (include_top=True) needs the full "
                             f"trunk; got last_layer={last_layer!r}")  # fmt: skip
        check_positive_ints(width=width, in_channels=in_channels)
        self.config = dict(depth=depth, num_classes=num_classes, include_top=include_top,
                           last_layer=last_layer, batch_norm=batch_norm, width=width,
                           in_channels=in_channels, dropout=dropout)  # fmt: skip
        layers: list[nn.Module] = []
        self.layer_index: dict[str, int] = {}  # layer name → index of its last module
        cin, stride = in_channels, 1
        for name in names[: names.index(last_layer or names[-1]) + 1]:
            block = int(name[4])  # "conv4_2" / "pool4" → 4
            if name.startswith("pool"):
                layers.append(nn.MaxPool2d(2, 2))
                stride *= 2
            else:
                cout = width * min(2 ** (block - 1), 8)
                layers.append(nn.Conv2d(cin, cout, 3, padding=1))
                if batch_norm:
                    layers.append(nn.BatchNorm2d(cout))
                layers.append(nn.ReLU(inplace=True))
                cin = cout
            self.layer_index[name] = len(layers) - 1
        self.features = nn.Sequential(*layers)
        self.out_channels, self.stride = cin, stride
        self.include_top = include_top
        if include_top:
            self.avgpool = nn.AdaptiveAvgPool2d(7)
            self.classifier = nn.Sequential(
                nn.Linear(cin * 49, 4096), nn.ReLU(True), nn.Dropout(dropout),
                nn.Linear(4096, 4096), nn.ReLU(True), nn.Dropout(dropout),
                nn.Linear(4096, num_classes),
            )  # fmt: skip
        for m in self.modules():  # torchvision's initialisation
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.zeros_(m.bias)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """The trunk: ``(B, C, H, W)`` → ``(B, out_channels, H/stride, W/stride)``."""
        return self.features(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        if not self.include_top:
            return x
        return self.classifier(torch.flatten(self.avgpool(x), 1))


def vgg16(**kwargs) -> VGG:
    """VGG-16 (configuration D): 138,357,544 params with the 1000-class classifier."""
    return VGG(16, **kwargs)


def vgg19(**kwargs) -> VGG:
    """VGG-19 (configuration E): 143,667,240 params with the 1000-class classifier."""
    return VGG(19, **kwargs)


def vgg19_openpose(width: int = 64, in_channels: int = 3) -> VGG:
    """OpenPose's backbone: VGG-19 conv1_1 … conv4_2 (+ ReLU), three pools, stride 8,
    ``8·width`` output channels (5,865,536 params at ``width=64``)."""
    return VGG(19, include_top=False, last_layer="conv4_2", width=width, in_channels=in_channels)
