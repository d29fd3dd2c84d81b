"""ResNet-18/34/50/101/152 (He et al., CVPR 2016, "Deep Residual Learning for Image Recognition").

The torchvision flavour ("ResNet v1.5"): in a Bottleneck the stride sits in the 3×3 conv
(the paper and Caffe put it in the first 1×1), convolutions have no bias, every conv is
followed by BatchNorm, and a projection shortcut is ``conv1×1 (stride) + BN``.

Stem: conv 7×7 / 2 (64) + BN + ReLU + max-pool 3×3 / 2 → stride 4. Stages ``layer1..layer4``
at strides 4, 8, 16, 32 with widths 64, 128, 256, 512 (× 4 = expansion for Bottleneck).
Input 224×224 → 7×7 final map (256×256 → 8×8); then global average pooling and ``fc``.

Params with the 1000-class ``fc`` equal torchvision's exactly: ResNet-18 11,689,512;
ResNet-34 21,797,672; ResNet-50 25,557,032; ResNet-101 44,549,160; ResNet-152 60,192,808.
ResNet-50 costs 4.09 GMACs at 224².

**torchvision weights.** The state-dict keys are torchvision's (``conv1.weight``,
``bn1.running_mean``, ``layer1.0.conv1.weight``, ``layer2.0.downsample.0.weight``,
``layer2.0.downsample.1.weight``, ``fc.weight``...), so a user with internet can do::

    state = torch.hub.load_state_dict_from_url(
        "https://download.pytorch.org/models/resnet50-0676ba61.pth")
    model = resnet50()                     # include_top=True: keys match one to one
    model.load_state_dict(state)
    backbone = resnet50(include_top=False)
    backbone.load_state_dict(state, strict=False)   # drops fc.*

(no download happens in posekit; the course trains from scratch on SynthPose).
"""

from __future__ import annotations

import torch
from torch import nn


def conv3x3(cin: int, cout: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)


def conv1x1(cin: int, cout: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, 1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    """Two 3×3 convs (ResNet-18/34): ``relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))``."""

    expansion = 1

    def __init__(self, cin: int, width: int, stride: int = 1, downsample=None) -> None:
        super().__init__()
        self.conv1 = conv3x3(cin, width, stride)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = conv3x3(width, width)
        self.bn2 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    """1×1 (width) → 3×3 (width, stride here: v1.5) → 1×1 (4·width), plus the shortcut."""

    expansion = 4

    def __init__(self, cin: int, width: int, stride: int = 1, downsample=None) -> None:
        super().__init__()
        self.conv1 = conv1x1(cin, width)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = conv3x3(width, width, stride)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = conv1x1(width, width * self.expansion)
        self.bn3 = nn.BatchNorm2d(width * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


ARCHS: dict[int, tuple[type[nn.Module], tuple[int, int, int, int]]] = {
    18: (BasicBlock, (2, 2, 2, 2)),
    34: (BasicBlock, (3, 4, 6, 3)),
    50: (Bottleneck, (3, 4, 6, 3)),
    101: (Bottleneck, (3, 4, 23, 3)),
    152: (Bottleneck, (3, 8, 36, 3)),
}
"""depth → (block, blocks per stage)."""


class ResNet(nn.Module):
    """ResNet backbone / classifier with torchvision's layer names.

    Args:
        block: ``BasicBlock`` or ``Bottleneck``.
        layers: blocks in ``layer1..layer4``.
        num_classes: outputs of ``fc`` (1000 = ImageNet).
        include_top: add global average pooling + ``fc``; otherwise ``forward`` returns the
            stride-32 map (as ``forward_features``).
        zero_init_residual: zero the last BN γ of every block (each block starts as identity;
            Goyal et al. 2017), torchvision's option of the same name.
        width: channels of the stem and ``layer1`` (64); stages use width·(1, 2, 4, 8).
            Smaller widths give scaled configs (then the counts above no longer apply).
        in_channels: input channels.

    Shapes: ``(B, 3, H, W)`` → ``forward_features`` ``(B, 8·width·expansion, H/32, W/32)``
    (2048 × 7 × 7 for ResNet-50 at 224²); ``forward`` → ``(B, num_classes)`` with the top.
    Input normalised with the ImageNet mean/std when loading torchvision weights.
    """

    def __init__(
        self,
        block: type[nn.Module],
        layers: tuple[int, int, int, int],
        num_classes: int = 1000,
        include_top: bool = True,
        zero_init_residual: bool = False,
        width: int = 64,
        in_channels: int = 3,
    ) -> None:
        super().__init__()
        self.inplanes = width
        self.conv1 = nn.Conv2d(in_channels, width, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, width, layers[0])
        self.layer2 = self._make_layer(block, width * 2, layers[1], stride=2)
        self.layer3 = self._make_layer(block, width * 4, layers[2], stride=2)
        self.layer4 = self._make_layer(block, width * 8, layers[3], stride=2)
        self.stage_channels = tuple(width * m * block.expansion for m in (1, 2, 4, 8))
        self.stage_strides = (4, 8, 16, 32)
        self.out_channels = self.stage_channels[-1]
        self.include_top = include_top
        if include_top:
            self.avgpool = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(self.out_channels, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        if zero_init_residual:
            for m in self.modules():
                if isinstance(m, Bottleneck):
                    nn.init.zeros_(m.bn3.weight)
                elif isinstance(m, BasicBlock):
                    nn.init.zeros_(m.bn2.weight)

    def _make_layer(self, block, width: int, blocks: int, stride: int = 1) -> nn.Sequential:
        downsample = None
        if stride != 1 or self.inplanes != width * block.expansion:
            downsample = nn.Sequential(
                conv1x1(self.inplanes, width * block.expansion, stride),
                nn.BatchNorm2d(width * block.expansion),
            )
        layers = [block(self.inplanes, width, stride, downsample)]
        self.inplanes = width * block.expansion
        layers += [block(self.inplanes, width) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward_features(
        self, x: torch.Tensor, return_stages: bool = False
    ) -> torch.Tensor | list[torch.Tensor]:
        """The stride-32 map ``(B, C, H/32, W/32)``; with ``return_stages=True`` the list of
        ``layer1..layer4`` outputs at strides 4, 8, 16, 32 (``stage_channels``), for
        Simple Baselines / FPN-style heads."""
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        stages = []
        for layer in (self.layer1, self.layer2, self.layer3, self.layer4):
            x = layer(x)
            stages.append(x)
        return stages if return_stages else x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.forward_features(x)
        if not self.include_top:
            return x
        return self.fc(torch.flatten(self.avgpool(x), 1))


def resnet(depth: int, **kwargs) -> ResNet:
    """ResNet of ``depth`` in (18, 34, 50, 101, 152); kwargs go to ``ResNet``."""
    if depth not in ARCHS:
        raise ValueError(f"depth must be one of {sorted(ARCHS)}, got {depth!r}")
    block, layers = ARCHS[depth]
    return ResNet(block, layers, **kwargs)


def resnet18(**kwargs) -> ResNet:
    """ResNet-18 (BasicBlock, 2-2-2-2): 11,689,512 params with the 1000-class fc."""
    return resnet(18, **kwargs)


def resnet34(**kwargs) -> ResNet:
    """ResNet-34 (BasicBlock, 3-4-6-3): 21,797,672 params with the 1000-class fc."""
    return resnet(34, **kwargs)


def resnet50(**kwargs) -> ResNet:
    """ResNet-50 (Bottleneck, 3-4-6-3): 25,557,032 params, 4.09 GMACs at 224²."""
    return resnet(50, **kwargs)


def resnet101(**kwargs) -> ResNet:
    """ResNet-101 (Bottleneck, 3-4-23-3): 44,549,160 params with the 1000-class fc."""
    return resnet(101, **kwargs)


def resnet152(**kwargs) -> ResNet:
    """ResNet-152 (Bottleneck, 3-8-36-3): 60,192,808 params with the 1000-class fc."""
    return resnet(152, **kwargs)
