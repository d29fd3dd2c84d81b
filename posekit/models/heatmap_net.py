"""HeatmapNet: a small fully-convolutional encoder-decoder that predicts one heatmap per joint.

Lesson 02's model (and ``posekit train heatmap``): the simplest network of the *detection*
family (Tompson et al. 2014, Newell et al. 2016, Xiao et al. 2018) — an image goes down a
strided convolutional encoder to a coarse, wide-context map, comes back up a decoder with
skip connections, and ends in ``K`` heatmaps at output stride ``s``. It is deliberately plain
(no residuals, no stacking, no pretrained backbone) so that lesson 02 compares *the target
representation* — heatmaps vs DeepPose's coordinate regression — and not an architecture;
the Stacked Hourglass and Simple Baselines of lesson 03 are its grown-up versions.

Architecture (``width = w``, ``depth = D``, output stride ``s``)::

    encoder  level i = 0..D-1 (stride 2^(i+1), c_i = min(w·2^i, 8w) channels):
             conv3×3/2 (c_{i-1} → c_i) + BN + ReLU, conv3×3 (c_i → c_i) + BN + ReLU
             (c_{-1} = in_channels)
    decoder  from stride 2^D up to s, d = 2w channels:
             y = 1×1 lateral(level D-1)
             repeat: y = upsample×2(y, nearest) + 1×1 lateral(encoder level at that stride)
                     y = conv3×3 (d → d) + BN + ReLU
    head     conv1×1 (d → K), bias initialised to 0 (a fresh net predicts flat maps)

Shapes: input ``(B, in_channels, H, W)`` (normalised images; ``H`` and ``W`` multiples of
``2^D`` so that every level halves exactly) → output ``(B, K, H/s, W/s)``: raw heatmaps, one
per joint, trained with ``posekit.codecs.heatmap.heatmap_mse_loss`` against Gaussian targets
(or read as logits by ``integral_loss``). Heatmap pixel ``j`` covers input pixels
``[j·s − 0.5, (j + 1)·s − 0.5)`` (``posekit.codecs.heatmap`` module docstring).

Sizes for 16 joints at 128×128 (``posekit.bench``; depth 5, stride 4): width 16 — lesson 02's
configuration — 629,184 params and 0.073 GMACs; width 24: 1.41 M, 0.16 GMACs; width 32 (the
default): 2.51 M, 0.29 GMACs. ``self.config`` holds every constructor argument, so
``posekit.engine.load_model(path, [HeatmapNet])`` rebuilds a saved model.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from posekit.validate import check_positive_ints

__all__ = ["HeatmapNet"]


def _conv_bn_relu(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    """3×3 convolution (padding 1, no bias) + BatchNorm + ReLU."""
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride, 1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class HeatmapNet(nn.Module):
    """Encoder-decoder heatmap network (see the module docstring for the layers).

    Args:
        num_joints: ``K``, the number of heatmaps (16 for MPII).
        width: channels of the first encoder level; level ``i`` has ``min(width·2^i,
            8·width)``, the decoder ``2·width``.
        depth: number of stride-2 encoder levels; the coarsest map is at stride ``2^depth``
            (5 → 4×4 for a 128×128 input: context of the whole crop).
        stride: output stride, a power of two with ``2 ≤ stride ≤ 2^depth`` (4 as Hourglass
            and Simple Baselines; 2 doubles the heatmap resolution, at a cost).
        in_channels: input channels (3 for RGB; 1 for grayscale or event frames).

    Shapes:
        ``(B, in_channels, H, W)`` → ``(B, num_joints, H / stride, W / stride)``.

    Attributes:
        config: dict of all constructor arguments (``engine.load_model`` rebuilds from it).
        stride: the output stride.
        channels: the encoder levels' channels.
    """

    def __init__(
        self,
        num_joints: int = 16,
        width: int = 32,
        depth: int = 5,
        stride: int = 4,
        in_channels: int = 3,
    ) -> None:
        super().__init__()
        check_positive_ints(
            num_joints=num_joints, width=width, depth=depth, in_channels=in_channels
        )
        valid = [2**k for k in range(1, depth + 1)]
        if stride not in valid:
            raise ValueError(
                f"stride: expected a power of two between 2 and 2**depth = {2**depth}, "
                f"i.e. one of {valid}, got {stride!r}"
            )
        self.config = dict(
            num_joints=num_joints, width=width, depth=depth, stride=stride,
            in_channels=in_channels,
        )  # fmt: skip
        self.num_joints, self.stride, self.depth = num_joints, int(stride), depth
        self.channels = [min(width * 2**i, 8 * width) for i in range(depth)]
        decoder = 2 * width

        levels, cin = [], in_channels
        for c in self.channels:
            levels.append(nn.Sequential(_conv_bn_relu(cin, c, 2), _conv_bn_relu(c, c)))
            cin = c
        self.encoder = nn.ModuleList(levels)
        # decoder levels: the encoder level at stride 2^(i+1) for i = depth-1 (the top of
        # the decoder) down to log2(stride) - 1 (its output)
        first = int(stride).bit_length() - 2  # encoder index at the output stride
        self._first = first
        self.laterals = nn.ModuleList(
            nn.Conv2d(self.channels[i], decoder, 1) for i in range(first, depth)
        )
        self.smooth = nn.ModuleList(
            _conv_bn_relu(decoder, decoder) for _ in range(first, depth - 1)
        )
        self.head = nn.Conv2d(decoder, num_joints, 1)
        nn.init.normal_(self.head.weight, std=1e-3)
        nn.init.zeros_(self.head.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, C, H, W)`` images → ``(B, K, H / stride, W / stride)`` heatmaps."""
        if x.ndim != 4:
            raise ValueError(f"x: expected (B, C, H, W), got {tuple(x.shape)}")
        feats = []
        for level in self.encoder:
            x = level(x)
            feats.append(x)
        n = len(self.laterals)  # decoder levels: encoder indices first .. depth-1
        y = self.laterals[n - 1](feats[-1])
        for j in range(n - 2, -1, -1):
            skip = feats[self._first + j]
            y = F.interpolate(y, size=skip.shape[-2:], mode="nearest") + self.laterals[j](skip)
            y = self.smooth[j](y)
        return self.head(y)

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.config.items())
