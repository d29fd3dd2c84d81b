"""Simple Baselines for Human Pose Estimation (Xiao, Wu & Wei, ECCV 2018).

Follows ``microsoft/human-pose-estimation.pytorch`` (``lib/models/pose_resnet.py``): a ResNet
backbone (``posekit.models.resnet``, torchvision layer names, so ImageNet weights load where
they can be downloaded), then three deconvolution layers and a 1×1 head::

    ResNet-D (no pooling, no fc)                           stride 32, C = 2048 (R-50/101/152)
    3 × [ConvTranspose2d 4×4 / 2, padding 1, 256 ch, no bias → BN → ReLU]   stride 4
    conv 1×1 (256 → K)                                     K heatmaps

Shapes: ``(B, in_channels, H, W)`` (``H``, ``W`` multiples of 32) → ``(B, K, H/4, W/4)``.

Published configuration: ResNet-50 at 256×192, 17 COCO joints = 34.0 M params and 5.43 GMACs
counted as true multiply-accumulates (``posekit.bench``). The published "8.9 GFLOPs" is HRNet's
convention — MACs / 1024³ with each stride-2 deconvolution counted at its *output* size
(``docs/conventions.md`` § Cost: parameters and GMACs). ResNet-101: 53.0 M, ResNet-152:
68.6 M. Training in the paper: Adam lr 1e-3, Gaussian σ = 2 on 64×48, ``JointsMSELoss`` with
target weights, flip test with the flipped heatmaps shifted by one pixel (their ``x/s`` pixel
convention; posekit's needs no shift, see ``posekit.models.flip``).
"""

from __future__ import annotations

import torch
from torch import nn

from posekit.models.resnet import ARCHS, ResNet
from posekit.validate import check_positive_ints

__all__ = ["SimpleBaseline"]


class SimpleBaseline(nn.Module):
    """ResNet + deconvolution head (see the module docstring).

    Args:
        num_joints: ``K`` heatmaps (17 for COCO, 16 for MPII).
        backbone_depth: 18, 34, 50 (published default), 101 or 152.
        deconv_channels: channels of the three deconvolutions (256).
        num_deconv: number of stride-2 deconvolutions (3 → output stride 4).
        width: the ResNet's base width (64 published; smaller for scaled configs).
        in_channels: input channels.

    Shapes:
        ``(B, in_channels, H, W)`` → ``(B, K, H / stride, W / stride)``.

    Attributes:
        config: every constructor argument (``engine.load_model`` rebuilds from it).
        stride: output stride ``32 / 2^num_deconv``.
    """

    def __init__(
        self,
        num_joints: int = 17,
        backbone_depth: int = 50,
        deconv_channels: int = 256,
        num_deconv: int = 3,
        width: int = 64,
        in_channels: int = 3,
    ) -> None:
        super().__init__()
        if backbone_depth not in ARCHS:
            raise ValueError(
                f"backbone_depth: expected one of {sorted(ARCHS)}, got {backbone_depth!r}"
            )
        check_positive_ints(
            num_joints=num_joints,
            deconv_channels=deconv_channels,
            width=width,
            in_channels=in_channels,
        )
        if num_deconv not in range(0, 6):
            raise ValueError(f"num_deconv: expected 0..5, got {num_deconv!r}")
        self.config = dict(
            num_joints=num_joints, backbone_depth=backbone_depth,
            deconv_channels=deconv_channels, num_deconv=num_deconv, width=width,
            in_channels=in_channels,
        )  # fmt: skip
        block, layers = ARCHS[backbone_depth]
        self.backbone = ResNet(block, layers, include_top=False, width=width,
                               in_channels=in_channels)  # fmt: skip
        self.stride = 32 // 2**num_deconv
        deconvs, cin = [], self.backbone.out_channels
        for _ in range(num_deconv):
            deconvs += [
                nn.ConvTranspose2d(cin, deconv_channels, 4, 2, 1, bias=False),
                nn.BatchNorm2d(deconv_channels),
                nn.ReLU(inplace=True),
            ]
            cin = deconv_channels
        self.deconv = nn.Sequential(*deconvs)
        self.head = nn.Conv2d(cin, num_joints, 1)
        for m in self.deconv.modules():
            if isinstance(m, nn.ConvTranspose2d):
                nn.init.normal_(m.weight, std=1e-3)
        nn.init.normal_(self.head.weight, std=1e-3)
        nn.init.zeros_(self.head.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, C, H, W)`` → ``(B, K, H / stride, W / stride)`` heatmaps."""
        if x.ndim != 4:
            raise ValueError(f"x: expected (B, C, H, W), got {tuple(x.shape)}")
        if x.shape[-1] % 32 or x.shape[-2] % 32:
            raise ValueError(f"x: height and width must be multiples of 32, got "
                             f"{tuple(x.shape[-2:])}")  # fmt: skip
        return self.head(self.deconv(self.backbone.forward_features(x)))

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.config.items())
