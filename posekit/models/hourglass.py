"""Stacked Hourglass Networks (Newell, Yang & Deng, ECCV 2016).

Follows the authors' code: ``princeton-vl/pose-hg-train`` (Torch7: ``hg.lua``,
``Residual.lua``) and its PyTorch port ``princeton-vl/pytorch_stacked_hourglass``
(``models/posenet.py``, ``models/layers.py``).

Architecture (``f = features``, ``K = num_joints``)::

    Residual(a → b)  pre-activation bottleneck: BN-ReLU-conv1×1 (a → b/2), BN-ReLU-conv3×3
                     (b/2 → b/2), BN-ReLU-conv1×1 (b/2 → b); skip = identity, or conv1×1 when
                     a ≠ b. Every conv has a bias.
    stem             conv7×7/2 (in → 64) + BN + ReLU, Residual(64 → 128), maxpool 2,
                     Residual(128 → 128), Residual(128 → f)              stride 4
                     (64, 128 = ``stem_channels``, scaled down in the lessons)
    Hourglass(n)     up = Residual(f → f)
                     low = maxpool 2 → Residual → Hourglass(n-1) (or a Residual at n = 1)
                           → Residual → nearest ×2
                     return up + low                      (n = depth = 4: 64² → 4² → 64²)
    stack i          y = Hourglass(depth)(x); y = Residual(f → f)(y);
                     feat = conv1×1 + BN + ReLU (y); heatmaps_i = conv1×1 (feat → K)
                     x ← x + conv1×1(feat) + conv1×1(heatmaps_i)   (all stacks but the last)

Shapes: ``(B, in_channels, H, W)`` (``H``, ``W`` multiples of ``4 · 2^depth``) → a list of
``num_stacks`` heatmap tensors ``(B, K, H/4, W/4)``; every one is supervised (intermediate
supervision: ``heatmap_mse_loss`` sums the stacks), the last is the prediction.

Initialisation: PyTorch's defaults, except the heatmap heads (normal, std 1e-3, zero bias,
as Simple Baselines' final layer): a fresh network predicts flat maps. With the default head
init a small hourglass trained on CPU sat on the "all-zero heatmaps" plateau for hundreds of
steps (the failure users report in ``pytorch_stacked_hourglass`` issue #27).

Published configurations at 256×256, 16 joints (params tested within 1 %, GMACs by
``posekit.bench.count_macs``): 8 stacks × 256 features (the default, the paper's network)
25.43 M params and 27.4 GMACs; 2 stacks 6.57 M and 8.3 GMACs. Training in the paper: RMSProp
lr 2.5e-4, Gaussian targets σ = 1 heatmap pixel at 64×64, flip test at evaluation.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from posekit.validate import check_positive_ints

__all__ = ["Hourglass", "HourglassNet", "Residual"]


class Residual(nn.Module):
    """Newell's residual module: pre-activation bottleneck ``cin → cout/2 → cout/2 → cout``.

    Shapes: ``(B, cin, H, W)`` → ``(B, cout, H, W)``.
    """

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        mid = cout // 2
        self.branch = nn.Sequential(
            nn.BatchNorm2d(cin), nn.ReLU(inplace=False), nn.Conv2d(cin, mid, 1),
            nn.BatchNorm2d(mid), nn.ReLU(inplace=True), nn.Conv2d(mid, mid, 3, padding=1),
            nn.BatchNorm2d(mid), nn.ReLU(inplace=True), nn.Conv2d(mid, cout, 1),
        )  # fmt: skip
        self.skip = nn.Identity() if cin == cout else nn.Conv2d(cin, cout, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.skip(x) + self.branch(x)


class Hourglass(nn.Module):
    """One hourglass of ``depth`` levels (recursive): ``(B, f, H, W)`` → ``(B, f, H, W)``,
    with ``H`` and ``W`` divisible by ``2^depth``; the lowest resolution is ``H / 2^depth``."""

    def __init__(self, depth: int, features: int) -> None:
        super().__init__()
        self.up = Residual(features, features)
        self.down = Residual(features, features)
        inner = Hourglass(depth - 1, features) if depth > 1 else Residual(features, features)
        self.inner = inner
        self.out = Residual(features, features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        low = self.out(self.inner(self.down(F.max_pool2d(x, 2))))
        return self.up(x) + F.interpolate(low, scale_factor=2, mode="nearest")


def _conv_bn_relu(cin: int, cout: int, kernel: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, kernel, stride, kernel // 2), nn.BatchNorm2d(cout), nn.ReLU(True)
    )


class HourglassNet(nn.Module):
    """Stacked Hourglass network (see the module docstring for the layers).

    Args:
        num_joints: ``K`` heatmaps (16 for MPII).
        num_stacks: hourglasses in sequence, each supervised (8 in the paper; 2 the
            light published config).
        features: channels inside the hourglasses, the paper's "features" (256 published;
            lessons train 64–128).
        depth: levels of each hourglass (4: 64×64 down to 4×4 at a 256 input).
        in_channels: input channels (3 for RGB).
        stem_channels: ``(c1, c2)`` of the stem: conv7×7 → c1, Residual(c1 → c2), pool,
            Residual(c2 → c2), Residual(c2 → features). ``(64, 128)`` published; scaled
            configs shrink it — at stride 2 it is the most expensive part of a small network.

    Shapes:
        ``(B, in_channels, H, W)`` → list of ``num_stacks`` tensors ``(B, K, H/4, W/4)``;
        the last stack's maps are the prediction (``HeatmapCodec.decode`` takes the list).

    Attributes:
        config: every constructor argument (``engine.load_model`` rebuilds from it).
        stride: output stride, 4.
    """

    stride = 4

    def __init__(
        self,
        num_joints: int = 16,
        num_stacks: int = 8,
        features: int = 256,
        depth: int = 4,
        in_channels: int = 3,
        stem_channels: tuple[int, int] = (64, 128),
    ) -> None:
        super().__init__()
        check_positive_ints(
            num_joints=num_joints,
            num_stacks=num_stacks,
            features=features,
            depth=depth,
            in_channels=in_channels,
        )
        stem_channels = tuple(stem_channels)
        if len(stem_channels) != 2 or any(
            not isinstance(c, int) or c < 2 or c % 2 for c in stem_channels
        ):
            raise ValueError(
                f"stem_channels: expected two even positive integers, got {stem_channels!r}"
            )
        if features % 2:
            raise ValueError(f"features: expected an even number, got {features}")
        self.config = dict(
            num_joints=num_joints, num_stacks=num_stacks, features=features, depth=depth,
            in_channels=in_channels, stem_channels=list(stem_channels),
        )  # fmt: skip
        self.num_joints, self.num_stacks, self.depth = num_joints, num_stacks, depth
        f, (c1, c2) = features, stem_channels
        self.stem = nn.Sequential(
            _conv_bn_relu(in_channels, c1, 7, 2),
            Residual(c1, c2),
            nn.MaxPool2d(2, 2),
            Residual(c2, c2),
            Residual(c2, f),
        )
        self.hourglasses = nn.ModuleList(Hourglass(depth, f) for _ in range(num_stacks))
        self.features = nn.ModuleList(
            nn.Sequential(Residual(f, f), _conv_bn_relu(f, f, 1)) for _ in range(num_stacks)
        )
        self.heads = nn.ModuleList(nn.Conv2d(f, num_joints, 1) for _ in range(num_stacks))
        for head in self.heads:  # start from flat maps, as Simple Baselines' final layer
            nn.init.normal_(head.weight, std=1e-3)
            nn.init.zeros_(head.bias)
        self.merge_features = nn.ModuleList(nn.Conv2d(f, f, 1) for _ in range(num_stacks - 1))
        self.merge_heatmaps = nn.ModuleList(
            nn.Conv2d(num_joints, f, 1) for _ in range(num_stacks - 1)
        )

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """``(B, C, H, W)`` → list of ``num_stacks`` heatmaps ``(B, K, H/4, W/4)``."""
        if x.ndim != 4:
            raise ValueError(f"x: expected (B, C, H, W), got {tuple(x.shape)}")
        unit = 4 * 2**self.depth
        if x.shape[-1] % unit or x.shape[-2] % unit:
            raise ValueError(
                f"x: height and width must be multiples of 4·2^depth = {unit} "
                f"(depth {self.depth}), got {tuple(x.shape[-2:])}"
            )
        x = self.stem(x)
        outputs = []
        for i in range(self.num_stacks):
            feat = self.features[i](self.hourglasses[i](x))
            heatmaps = self.heads[i](feat)
            outputs.append(heatmaps)
            if i < self.num_stacks - 1:
                x = x + self.merge_features[i](feat) + self.merge_heatmaps[i](heatmaps)
        return outputs

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.config.items())
