"""MobileNet v1 (Howard et al. 2017, "MobileNets: Efficient Convolutional Neural Networks for
Mobile Vision Applications") and the dilated stride-8 trunk of Lightweight OpenPose.

Layers (paper Table 1; ``α`` = width multiplier, channels ``max(8, int(c·α))`` as in
TF-slim's ``mobilenet_v1``)::

    conv1      conv3×3/2 (in → 32) + BN + ReLU                          stride 2
    conv2_1    dw-separable 32 → 64
    conv2_2    dw-separable 64 → 128, /2                                stride 4
    conv3_1    dw-separable 128 → 128
    conv3_2    dw-separable 128 → 256, /2                               stride 8
    conv4_1    dw-separable 256 → 256
    conv4_2    dw-separable 256 → 512, /2                               stride 16
    conv5_1…5  dw-separable 512 → 512 (five)
    conv5_6    dw-separable 512 → 1024, /2                              stride 32
    conv6      dw-separable 1024 → 1024
    top        global average pool, FC 1024 → num_classes

A depthwise-separable block is dw3×3 (groups = channels, stride, dilation) + BN + ReLU, then
pw1×1 + BN + ReLU; convolutions have no bias. ImageNet classifier (α = 1, 1000 classes):
4,231,976 params, 0.57 GMACs at 224².

**Dilated variant** (``dilated=True``; Osokin 2018, ``models/with_mobilenet.py`` of
``Daniil-Osokin/lightweight-human-pose-estimation.pytorch``):
conv4_2 keeps stride 1, conv5_1's depthwise conv has dilation 2 (padding 2), and the trunk
stops at conv5_5: output stride 8, 512·α channels, 1.7 M params at α = 1.

Layer names: ``model.N`` with each layer an ``nn.Sequential`` (``model.0`` = conv/BN/ReLU;
``model.i`` = dw conv, BN, ReLU, pw conv, BN, ReLU) and ``fc`` — the keys of the PyTorch
MobileNet v1 ImageNet checkpoint Lightweight OpenPose starts from
(``mobilenet_sgd_68.848.pth.tar``) and of Lightweight OpenPose's own ``model.*`` trunk.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["LAYERS", "MobileNetV1", "conv_bn_relu", "depthwise_separable", "mobilenet_v1"]

LAYERS: tuple[tuple[str, int, int], ...] = (
    ("conv1", 32, 2),
    ("conv2_1", 64, 1),
    ("conv2_2", 128, 2),
    ("conv3_1", 128, 1),
    ("conv3_2", 256, 2),
    ("conv4_1", 256, 1),
    ("conv4_2", 512, 2),
    ("conv5_1", 512, 1),
    ("conv5_2", 512, 1),
    ("conv5_3", 512, 1),
    ("conv5_4", 512, 1),
    ("conv5_5", 512, 1),
    ("conv5_6", 1024, 2),
    ("conv6", 1024, 1),
)
"""MobileNet v1 layers: (name, output channels at α = 1, stride)."""


def conv_bn_relu(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    """Full 3×3 conv (no bias) + BN + ReLU: ``(B, cin, H, W)`` → ``(B, cout, H/s, W/s)``."""
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(True)
    )


def depthwise_separable(
    cin: int, cout: int, stride: int = 1, dilation: int = 1, batch_norm: bool = True,
    activation: type[nn.Module] = nn.ReLU,
) -> nn.Sequential:  # fmt: skip
    """Depthwise 3×3 (``groups=cin``, ``stride``, ``dilation``, "same" padding) + BN + act,
    then pointwise 1×1 (``cin → cout``) + BN + act; no conv biases.

    ``batch_norm=False`` drops both BNs (Lightweight OpenPose's CPM uses that with ELU).
    Shapes: ``(B, cin, H, W)`` → ``(B, cout, H/stride, W/stride)``.
    """
    dw = nn.Conv2d(cin, cin, 3, stride, dilation, dilation=dilation, groups=cin, bias=False)
    pw = nn.Conv2d(cin, cout, 1, bias=False)
    act = {"inplace": True} if activation in (nn.ReLU, nn.ELU) else {}
    layers: list[nn.Module] = [dw]
    if batch_norm:
        layers.append(nn.BatchNorm2d(cin))
    layers += [activation(**act), pw]
    if batch_norm:
        layers.append(nn.BatchNorm2d(cout))
    layers.append(activation(**act))
    return nn.Sequential(*layers)


def _channels(c: int, width_mult: float) -> int:
    return max(8, int(c * width_mult))


class MobileNetV1(nn.Module):
    """MobileNet v1 classifier / trunk (see the module docstring for the layers).

    Args:
        width_mult: the width multiplier α (1.0, 0.75, 0.5, 0.25 in the paper).
        num_classes: outputs of ``fc`` (1000 = ImageNet).
        include_top: global average pooling + ``fc`` (not with ``dilated``).
        dilated: Lightweight OpenPose's stride-8 trunk (conv1 … conv5_5, conv4_2 without its
            stride, conv5_1 dilated 2).
        in_channels: input channels.

    Shapes: ``(B, in_channels, H, W)`` → ``forward_features`` ``(B, out_channels, H/s, W/s)``
    with ``s = stride`` (32, or 8 when dilated); ``forward`` → ``(B, num_classes)`` with the
    top, else the feature map.
    """

    def __init__(
        self,
        width_mult: float = 1.0,
        num_classes: int = 1000,
        include_top: bool = True,
        dilated: bool = False,
        in_channels: int = 3,
    ) -> None:
        super().__init__()
        if not isinstance(width_mult, (int, float)) or not width_mult > 0:
            raise ValueError(f"width_mult: expected a positive number, got {width_mult!r}")
        if not isinstance(in_channels, int) or in_channels < 1:
            raise ValueError(f"in_channels: expected a positive integer, got {in_channels!r}")
        if dilated and include_top:
            raise ValueError("include_top: the dilated trunk has no classifier; pass "
                             "include_top=False with dilated=True")  # fmt: skip
        self.config = dict(width_mult=width_mult, num_classes=num_classes,
                           include_top=include_top, dilated=dilated,
                           in_channels=in_channels)  # fmt: skip
        layers = LAYERS[:12] if dilated else LAYERS
        cin, stride, blocks = in_channels, 1, []
        for name, c, s in layers:
            cout = _channels(c, width_mult)
            dilation = 1
            if dilated and name == "conv4_2":
                s = 1
            if dilated and name == "conv5_1":
                dilation = 2
            if name == "conv1":
                blocks.append(conv_bn_relu(cin, cout, s))
            else:
                blocks.append(depthwise_separable(cin, cout, s, dilation))
            cin, stride = cout, stride * s
        self.layer_names = tuple(name for name, _, _ in layers)
        self.model = nn.Sequential(*blocks)
        self.out_channels, self.stride = cin, stride
        self.include_top = include_top
        if include_top:
            self.avgpool = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(cin, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, C, H, W)`` → ``(B, out_channels, H/stride, W/stride)``."""
        return self.model(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.model(x)
        if not self.include_top:
            return x
        return self.fc(torch.flatten(self.avgpool(x), 1))


def mobilenet_v1(width_mult: float = 1.0, **kwargs) -> MobileNetV1:
    """MobileNet v1 (α = ``width_mult``); 4,231,976 params at α = 1 with 1000 classes."""
    return MobileNetV1(width_mult, **kwargs)
