"""EfficientNet B0–B7 (Tan & Le, ICML 2019, "EfficientNet: Rethinking Model Scaling for
Convolutional Neural Networks"), built from the B0 table by compound scaling.

Compound scaling: depth ``d = α^φ``, width ``w = β^φ``, resolution ``r = γ^φ`` with
``α = 1.2, β = 1.1, γ = 1.15`` (the paper's grid search on B0, under ``α·β²·γ² ≈ 2``, so
FLOPs grow by about ``2^φ``). The released B1–B7 use the authors' rounded multipliers in
``VARIANTS``, not ``α^φ`` computed exactly.

B0 (``STAGES``; stage ``k`` = Keras ``block{k}``, paper Table 1 stage ``k + 1``)::

    stage  op                       ch   repeats  stride  out stride
    0      conv3×3/2 + BN + swish   32   1        2       2
    1      MBConv1, k3×3            16   1        1       2
    2      MBConv6, k3×3            24   2        2       4
    3      MBConv6, k5×5            40   2        2       8
    4      MBConv6, k3×3            80   3        2       16
    5      MBConv6, k5×5            112  3        1       16
    6      MBConv6, k5×5            192  4        2       32
    7      MBConv6, k3×3            320  1        1       32
    8      conv1×1 + BN + swish     1280 1        1       32
    top    global avg pool, dropout, Linear → num_classes

Scaling: channels ``round_filters(c, w)`` (nearest multiple of 8, never more than 10 % down),
repeats ``ceil(n · d)``. MBConv: 1×1 expand (× ratio) + BN + swish, depthwise k×k (stride)
+ BN + swish, squeeze-and-excitation (squeeze to ``max(1, cin // 4)``, swish, excite,
sigmoid), 1×1 project + BN; residual + drop-connect when stride 1 and ``cin == cout``.
Drop-connect (stochastic depth, per sample, training only) rises linearly over the blocks:
block ``i`` of ``N`` drops with ``0.2 · i / N``. BN: eps 1e-3, momentum 0.01 (TF's 0.99).

Padding: by default symmetric ``(k - 1) // 2`` (torchvision's layout — the published
configuration here). ``tf_padding=True`` pads like TensorFlow's "same": output
``ceil(in / stride)``, the odd pixel of padding at the bottom/right; the authors' Keras
weights (and EfficientPose's released models) need it. Both give the same parameters and
state-dict keys.

Params with the 1000-class top equal torchvision's: B0 5,288,548; B1 7,794,184;
B2 9,109,994; B3 12,233,232; B4 19,341,616; B5 30,389,784; B6 43,040,704; B7 66,347,960.
State-dict keys are torchvision's (``features.k…``, ``classifier.1``). Input: RGB at the
variant's ``resolution`` (224 … 600), ImageNet mean/std.

EfficientNet-Lite (``lite=True``; Google's ``efficientnet-lite`` builder, the backbones of
EfficientPose's Lite models): no SE, ReLU6 instead of swish, the stem (32) and head (1280)
channels and the first and last stages' repeats not scaled. ``LITE_VARIANTS`` lite0 … lite4;
``efficientnet("lite2")``.

As a backbone: ``forward_features(x, upto_stage=k)`` is the map after stage ``k``;
``forward_stages(x, (1, 2, 3, 5, 7))`` the maps at strides 2, 4, 8, 16, 32. EfficientPose
(Groos et al. 2021) cuts its high-resolution backbone after stage 3 and its low-resolution one
after stage 2: ``efficientnet("b2", last_stage=3, include_top=False)`` builds only that much.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "ALPHA",
    "BETA",
    "GAMMA",
    "STAGES",
    "VARIANTS",
    "Conv2dSame",
    "EfficientNet",
    "LITE_VARIANTS",
    "MBConv",
    "SqueezeExcitation",
    "drop_connect",
    "efficientnet",
    "efficientnet_b0",
    "efficientnet_b1",
    "efficientnet_b2",
    "efficientnet_b3",
    "efficientnet_b4",
    "efficientnet_b5",
    "efficientnet_b6",
    "efficientnet_b7",
    "round_filters",
    "round_repeats",
    "tf_same_padding",
]

ALPHA, BETA, GAMMA = 1.2, 1.1, 1.15
"""Compound-scaling bases for depth, width and resolution (Tan & Le 2019, §3.3)."""

BN_EPS, BN_MOMENTUM = 1e-3, 0.01  # TF: epsilon 1e-3, momentum 0.99 (= 1 - 0.01 in PyTorch)
STEM_CHANNELS, HEAD_CHANNELS = 32, 1280
DROP_CONNECT_RATE = 0.2


class Stage(NamedTuple):
    """One MBConv stage of B0: expand ratio, kernel, stride of its first block, input and
    output channels, repeats."""

    expand: int
    kernel: int
    stride: int
    cin: int
    cout: int
    repeats: int


STAGES: tuple[Stage, ...] = (
    Stage(1, 3, 1, 32, 16, 1),
    Stage(6, 3, 2, 16, 24, 2),
    Stage(6, 5, 2, 24, 40, 2),
    Stage(6, 3, 2, 40, 80, 3),
    Stage(6, 5, 1, 80, 112, 3),
    Stage(6, 5, 2, 112, 192, 4),
    Stage(6, 3, 1, 192, 320, 1),
)
"""EfficientNet-B0's seven MBConv stages (paper Table 1, stages 2–8)."""


class Variant(NamedTuple):
    width: float
    depth: float
    resolution: int
    dropout: float


VARIANTS: dict[str, Variant] = {
    "b0": Variant(1.0, 1.0, 224, 0.2),
    "b1": Variant(1.0, 1.1, 240, 0.2),
    "b2": Variant(1.1, 1.2, 260, 0.3),
    "b3": Variant(1.2, 1.4, 300, 0.3),
    "b4": Variant(1.4, 1.8, 380, 0.4),
    "b5": Variant(1.6, 2.2, 456, 0.4),
    "b6": Variant(1.8, 2.6, 528, 0.5),
    "b7": Variant(2.0, 3.1, 600, 0.5),
}
"""name → (width multiplier, depth multiplier, input resolution, classifier dropout)."""

LITE_VARIANTS: dict[str, Variant] = {
    "lite0": Variant(1.0, 1.0, 224, 0.2),
    "lite1": Variant(1.0, 1.1, 240, 0.2),
    "lite2": Variant(1.1, 1.2, 260, 0.3),
    "lite3": Variant(1.2, 1.4, 280, 0.3),
    "lite4": Variant(1.4, 1.8, 300, 0.3),
}
"""EfficientNet-Lite: name → (width, depth, resolution, dropout); built with ``lite=True``."""

ACTIVATIONS = ("swish", "relu6")


def _activation(name: str) -> nn.Module:
    """``"swish"`` → ``nn.SiLU``, ``"relu6"`` → ``nn.ReLU6`` (in place)."""
    if name == "swish":
        return nn.SiLU(inplace=True)
    if name == "relu6":
        return nn.ReLU6(inplace=True)
    raise ValueError(f"activation: expected one of {', '.join(ACTIVATIONS)}, got {name!r}")


def round_filters(channels: int, width_mult: float, divisor: int = 8) -> int:
    """``channels · width_mult`` rounded to the nearest multiple of ``divisor`` (at least
    ``divisor``), plus one ``divisor`` if that rounding went down by more than 10 %
    (TF's ``round_filters``, torchvision's ``_make_divisible``). ``round_filters(40, 1.1)``
    = 48."""
    filters = channels * width_mult
    new = max(divisor, int(filters + divisor / 2) // divisor * divisor)
    if new < 0.9 * filters:
        new += divisor
    return int(new)


def round_repeats(repeats: int, depth_mult: float) -> int:
    """``ceil(repeats · depth_mult)``: blocks in a scaled stage."""
    return int(math.ceil(repeats * depth_mult))


def tf_same_padding(
    size: tuple[int, int], kernel: tuple[int, int], stride: tuple[int, int],
    dilation: tuple[int, int] = (1, 1),
) -> tuple[int, int, int, int]:  # fmt: skip
    """TensorFlow "same" padding of an ``(H, W)`` input as ``F.pad``'s
    ``(left, right, top, bottom)``: total ``max((ceil(n/s) - 1)·s + (k - 1)·d + 1 - n, 0)``
    per axis, the larger half after (bottom/right)."""
    pads = []
    for n, k, s, d in zip(size, kernel, stride, dilation, strict=True):
        total = max((math.ceil(n / s) - 1) * s + (k - 1) * d + 1 - n, 0)
        pads.append((total // 2, total - total // 2))
    (top, bottom), (left, right) = pads
    return left, right, top, bottom


class Conv2dSame(nn.Conv2d):
    """``nn.Conv2d`` with TensorFlow "same" padding computed from each input's size
    (``tf_same_padding``): ``(B, C, H, W)`` → ``(B, cout, ceil(H/s), ceil(W/s))``. Build it
    with ``padding=0``; parameters and keys are those of ``nn.Conv2d``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pad = tf_same_padding(x.shape[-2:], self.kernel_size, self.stride, self.dilation)
        return super().forward(F.pad(x, pad))


def _conv_bn(
    cin: int, cout: int, kernel: int = 1, stride: int = 1, groups: int = 1,
    act: bool = True, tf_padding: bool = False, activation: str = "swish",
) -> nn.Sequential:  # fmt: skip
    """conv k×k (no bias) + BN (eps 1e-3, momentum 0.01) [+ SiLU or ReLU6]; keys ``0`` conv,
    ``1`` BN."""
    if tf_padding and (kernel > 1 or stride > 1):
        conv = Conv2dSame(cin, cout, kernel, stride, 0, groups=groups, bias=False)
    else:
        conv = nn.Conv2d(cin, cout, kernel, stride, (kernel - 1) // 2, groups=groups, bias=False)
    layers = [conv, nn.BatchNorm2d(cout, eps=BN_EPS, momentum=BN_MOMENTUM)]
    if act:
        layers.append(_activation(activation))
    return nn.Sequential(*layers)


def drop_connect(x: torch.Tensor, rate: float, training: bool) -> torch.Tensor:
    """Stochastic depth on a residual branch: in training, each sample's ``x`` is zeroed with
    probability ``rate`` and otherwise scaled by ``1 / (1 - rate)``; the identity otherwise."""
    if not training or rate == 0.0:
        return x
    keep = 1.0 - rate
    mask = torch.empty((x.shape[0],) + (1,) * (x.ndim - 1), dtype=x.dtype, device=x.device)
    return x * mask.bernoulli_(keep) / keep


class DropConnect(nn.Module):
    """``drop_connect`` as a module (active in ``train()`` mode only)."""

    def __init__(self, rate: float = 0.0) -> None:
        super().__init__()
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"rate: expected 0 <= rate < 1, got {rate!r}")
        self.rate = float(rate)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return drop_connect(x, self.rate, self.training)

    def extra_repr(self) -> str:
        return f"rate={self.rate:g}"


class SqueezeExcitation(nn.Module):
    """``x · sigmoid(fc2(swish(fc1(avgpool(x)))))``; ``fc1``/``fc2`` are 1×1 convs with bias
    (``channels → squeeze → channels``). Shapes: ``(B, C, H, W)`` → same."""

    def __init__(self, channels: int, squeeze: int) -> None:
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, squeeze, 1)
        self.fc2 = nn.Conv2d(squeeze, channels, 1)
        self.activation = nn.SiLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = self.fc2(self.activation(self.fc1(self.avgpool(x))))
        return x * torch.sigmoid(scale)


class MBConv(nn.Module):
    """Mobile inverted bottleneck with squeeze-and-excitation (EfficientNet's block).

    ``block`` = [1×1 expand + BN + swish (only if ``expand != 1``)], depthwise k×k/stride
    + BN + swish, SE (squeeze ``max(1, int(cin · se_ratio))``; none when ``se_ratio`` is 0),
    1×1 project + BN; ``activation="relu6"`` for EfficientNet-Lite.
    ``forward`` = ``drop_connect(block(x)) + x`` when ``stride == 1`` and ``cin == cout``,
    else ``block(x)``. Shapes: ``(B, cin, H, W)`` → ``(B, cout, H/stride, W/stride)``
    (``ceil`` with ``tf_padding``).
    """

    def __init__(
        self, cin: int, cout: int, kernel: int, stride: int, expand: int,
        se_ratio: float = 0.25, drop_connect_rate: float = 0.0, tf_padding: bool = False,
        activation: str = "swish",
    ) -> None:  # fmt: skip
        super().__init__()
        hidden = round_filters(cin, expand) if expand != 1 else cin
        layers: list[nn.Module] = []
        if expand != 1:
            layers.append(_conv_bn(cin, hidden, activation=activation))
        layers.append(_conv_bn(hidden, hidden, kernel, stride, groups=hidden,
                               tf_padding=tf_padding, activation=activation))  # fmt: skip
        if se_ratio > 0:
            layers.append(SqueezeExcitation(hidden, max(1, int(cin * se_ratio))))
        layers.append(_conv_bn(hidden, cout, act=False))
        self.block = nn.Sequential(*layers)
        self.use_residual = stride == 1 and cin == cout
        self.drop_connect = DropConnect(drop_connect_rate if self.use_residual else 0.0)
        self.cin, self.cout, self.stride = cin, cout, stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.block(x)
        if self.use_residual:
            out = self.drop_connect(out) + x
        return out


class EfficientNet(nn.Module):
    """EfficientNet classifier / backbone (layers in the module docstring).

    Args:
        width_mult, depth_mult: compound-scaling multipliers (``VARIANTS``).
        dropout: dropout before the classifier's Linear.
        num_classes: outputs of the Linear (1000 = ImageNet).
        include_top: global pool + dropout + Linear (needs ``last_stage=8``).
        last_stage: build stages ``0 … last_stage`` only (0 stem, 1–7 MBConv stages, 8 the
            1×1 head conv); EfficientPose uses 3 and 2.
        tf_padding: TensorFlow "same" padding (asymmetric) instead of symmetric.
        drop_connect_rate: the last block's rate bound (0.2; block ``i`` of ``N``: rate·i/N,
            counted over the whole network even when ``last_stage`` cuts it).
        se_ratio: SE squeeze = ``se_ratio`` × the block's input channels.
        lite: EfficientNet-Lite (no SE, ReLU6, stem/head and first/last stage repeats fixed).
        resolution: the input side the variant was designed for (metadata; any size runs).
        in_channels: input channels.

    Attributes: ``stage_channels`` / ``stage_strides`` / ``stage_blocks`` for the built
    stages (index = stage), ``out_channels``, ``stride``.

    Shapes: ``(B, 3, H, W)`` → ``forward`` ``(B, num_classes)`` with the top, else the last
    built stage's map ``(B, stage_channels[-1], H/stride, W/stride)``.
    """

    def __init__(
        self,
        width_mult: float = 1.0,
        depth_mult: float = 1.0,
        dropout: float = 0.2,
        num_classes: int = 1000,
        include_top: bool = True,
        last_stage: int = 8,
        tf_padding: bool = False,
        drop_connect_rate: float = DROP_CONNECT_RATE,
        se_ratio: float = 0.25,
        resolution: int = 224,
        in_channels: int = 3,
        lite: bool = False,
    ) -> None:
        super().__init__()
        for name, v in (("width_mult", width_mult), ("depth_mult", depth_mult)):
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0:
                raise ValueError(f"{name}: expected a positive number, got {v!r}")
        if isinstance(last_stage, bool) or last_stage not in range(9):
            raise ValueError(f"last_stage: expected an integer 0…8, got {last_stage!r}")
        if include_top and last_stage != 8:
            raise ValueError(f"include_top: the classifier needs the whole network; pass "
                             f"include_top=False with last_stage={last_stage}")  # fmt: skip
        if not 0.0 <= drop_connect_rate < 1.0:
            raise ValueError(f"drop_connect_rate: expected 0 <= rate < 1, "
                             f"got {drop_connect_rate!r}")  # fmt: skip
        if not isinstance(in_channels, int) or in_channels < 1:
            raise ValueError(f"in_channels: expected a positive integer, got {in_channels!r}")
        self.config = dict(width_mult=width_mult, depth_mult=depth_mult, dropout=dropout,
                           num_classes=num_classes, include_top=include_top,
                           last_stage=last_stage, tf_padding=tf_padding,
                           drop_connect_rate=drop_connect_rate, se_ratio=se_ratio,
                           resolution=resolution, in_channels=in_channels,
                           lite=lite)  # fmt: skip
        self.resolution, self.lite = resolution, bool(lite)
        act = "relu6" if lite else "swish"
        if lite:
            se_ratio = 0.0
        stem = STEM_CHANNELS if lite else round_filters(STEM_CHANNELS, width_mult)
        layers: list[nn.Module] = [
            _conv_bn(in_channels, stem, 3, 2, tf_padding=tf_padding, activation=act)
        ]
        channels, strides, blocks = [stem], [2], [1]
        fixed = (0, len(STAGES) - 1) if lite else ()  # Lite: first/last stage not scaled
        repeats = [
            s.repeats if k in fixed else round_repeats(s.repeats, depth_mult)
            for k, s in enumerate(STAGES)
        ]
        total, index = sum(repeats), 0
        for k, (stage, n) in enumerate(zip(STAGES, repeats, strict=True), start=1):
            if k > last_stage:
                break
            cin, cout = channels[-1], round_filters(stage.cout, width_mult)  # stem fixed in Lite
            stage_blocks = []
            for i in range(n):
                rate = drop_connect_rate * index / total
                first = i == 0
                block = MBConv(cin if first else cout, cout, stage.kernel,
                               stage.stride if first else 1, stage.expand, se_ratio, rate,
                               tf_padding, act)  # fmt: skip
                stage_blocks.append(block)
                index += 1
            layers.append(nn.Sequential(*stage_blocks))
            channels.append(cout)
            strides.append(strides[-1] * stage.stride)
            blocks.append(n)
        if last_stage == 8:
            head = HEAD_CHANNELS if lite else round_filters(HEAD_CHANNELS, width_mult)
            layers.append(_conv_bn(channels[-1], head, activation=act))
            channels.append(head)
            strides.append(strides[-1])
            blocks.append(1)
        self.features = nn.Sequential(*layers)
        self.stage_channels, self.stage_strides = tuple(channels), tuple(strides)
        self.stage_blocks = tuple(blocks)
        self.out_channels, self.stride = channels[-1], strides[-1]
        self.include_top = include_top
        if include_top:
            self.avgpool = nn.AdaptiveAvgPool2d(1)
            self.classifier = nn.Sequential(
                nn.Dropout(dropout, inplace=True), nn.Linear(channels[-1], num_classes)
            )
        for m in self.modules():  # torchvision's initialisation
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                bound = 1.0 / math.sqrt(m.out_features)
                nn.init.uniform_(m.weight, -bound, bound)
                nn.init.zeros_(m.bias)

    def _check_stage(self, k: int) -> int:
        last = len(self.features) - 1
        if isinstance(k, bool) or not isinstance(k, int) or not 0 <= k <= last:
            raise ValueError(f"stage: expected an integer 0…{last} (built stages), got {k!r}")
        return k

    def forward_features(self, x: torch.Tensor, upto_stage: int | None = None) -> torch.Tensor:
        """The map after stage ``upto_stage`` (default: the last built):
        ``(B, stage_channels[k], H/stage_strides[k], W/stage_strides[k])``."""
        k = len(self.features) - 1 if upto_stage is None else self._check_stage(upto_stage)
        for layer in self.features[: k + 1]:
            x = layer(x)
        return x

    def forward_stages(
        self, x: torch.Tensor, stages: tuple[int, ...] = (1, 2, 3, 5, 7)
    ) -> list[torch.Tensor]:
        """The maps after each of ``stages`` (ascending), in one pass; the default gives
        strides 2, 4, 8, 16, 32 (channels 16, 24, 40, 112, 320 for B0)."""
        wanted = [self._check_stage(k) for k in stages]
        if wanted != sorted(set(wanted)):
            raise ValueError(f"stages: expected ascending distinct stages, got {stages!r}")
        out = []
        for k, layer in enumerate(self.features[: wanted[-1] + 1] if wanted else []):
            x = layer(x)
            if k in wanted:
                out.append(x)
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        if not self.include_top:
            return x
        return self.classifier(torch.flatten(self.avgpool(x), 1))


def efficientnet(variant: str, **kwargs) -> EfficientNet:
    """EfficientNet-``variant`` (``"b0"`` … ``"b7"``, or ``"lite0"`` … ``"lite4"`` for
    EfficientNet-Lite) with its published width, depth, dropout and resolution (``VARIANTS``,
    ``LITE_VARIANTS``); kwargs go to ``EfficientNet``."""
    table = {**VARIANTS, **LITE_VARIANTS}
    if variant not in table:
        raise ValueError(f"variant: expected one of {', '.join(table)}, got {variant!r}")
    v = table[variant]
    if variant in LITE_VARIANTS:
        kwargs["lite"] = True
    kwargs.setdefault("dropout", v.dropout)
    kwargs.setdefault("resolution", v.resolution)
    model = EfficientNet(v.width, v.depth, **kwargs)
    model.config["variant"] = variant
    return model


def efficientnet_b0(**kwargs) -> EfficientNet:
    """B0 (w 1.0, d 1.0, 224², dropout 0.2): 5,288,548 params with the 1000-class top."""
    return efficientnet("b0", **kwargs)


def efficientnet_b1(**kwargs) -> EfficientNet:
    """B1 (w 1.0, d 1.1, 240², dropout 0.2): 7,794,184 params with the 1000-class top."""
    return efficientnet("b1", **kwargs)


def efficientnet_b2(**kwargs) -> EfficientNet:
    """B2 (w 1.1, d 1.2, 260², dropout 0.3): 9,109,994 params with the 1000-class top."""
    return efficientnet("b2", **kwargs)


def efficientnet_b3(**kwargs) -> EfficientNet:
    """B3 (w 1.2, d 1.4, 300², dropout 0.3): 12,233,232 params with the 1000-class top."""
    return efficientnet("b3", **kwargs)


def efficientnet_b4(**kwargs) -> EfficientNet:
    """B4 (w 1.4, d 1.8, 380², dropout 0.4): 19,341,616 params with the 1000-class top."""
    return efficientnet("b4", **kwargs)


def efficientnet_b5(**kwargs) -> EfficientNet:
    """B5 (w 1.6, d 2.2, 456², dropout 0.4): 30,389,784 params with the 1000-class top."""
    return efficientnet("b5", **kwargs)


def efficientnet_b6(**kwargs) -> EfficientNet:
    """B6 (w 1.8, d 2.6, 528², dropout 0.5): 43,040,704 params with the 1000-class top."""
    return efficientnet("b6", **kwargs)


def efficientnet_b7(**kwargs) -> EfficientNet:
    """B7 (w 2.0, d 3.1, 600², dropout 0.5): 66,347,960 params with the 1000-class top."""
    return efficientnet("b7", **kwargs)
