"""AlexNet trunk of DeepPose (Toshev & Szegedy, CVPR 2014), as re-implemented in mitmul/deeppose.

Krizhevsky et al.'s AlexNet (NIPS 2012) at DeepPose's 220×220 input, single-tower (no
grouped convolutions), layer for layer as the Chainer re-implementation ``mitmul/deeppose``
(``models/AlexNet.py``; ``docs/references.md`` § Reference implementations and software):

==========  ========================================  ===================
layer       operation                                 output at 220×220
==========  ========================================  ===================
conv1       conv 11×11 /4 pad 1, 96, ReLU             96 × 53 × 53
pool1/lrn1  max-pool 3×3 /2 (ceil), LRN               96 × 26 × 26
conv2       conv 5×5 pad 2, 256, ReLU                 256 × 26 × 26
pool2/lrn2  max-pool 3×3 /2 (ceil), LRN               256 × 13 × 13
conv3-5     conv 3×3 pad 1: 384, 384, 256, ReLU       256 × 13 × 13
pool5       max-pool 3×3 /2 (ceil)                    256 × 6 × 6 (9216)
fc6, fc7    linear 4096, ReLU, dropout 0.6            4096
fc8         linear ``num_outputs``                    ``num_outputs``
==========  ========================================  ===================

Two details reproduce the re-implementation exactly: Chainer's ``max_pooling_2d`` defaults to
``cover_all=True``, i.e. PyTorch's ``ceil_mode=True`` (without it the final map would be 5×5);
and the pooling comes *before* the LRN, as in the code (the paper's figure lists "LRN, P").
Chainer's LRN (n=5, k=2, α=1e-4, β=0.75) does not divide α by n, so PyTorch's
``LocalResponseNorm`` gets ``alpha = 5e-4``.

Params: 3,747,200 in the convolutions; with fc6/fc7 and a 28-way fc8 (DeepPose, K = 14) the
whole network has 58,396,060 (58.4M; the paper says "about 40 M", see ``docs/references.md``
§ Published figures quoted in the lessons). Cost 1.09 GMACs at 220×220.
Output stride of the trunk: 32 at 220 px (input 220 → 6×6 map, ceil pooling).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from posekit.validate import size2

CHANNELS = (96, 256, 384, 384, 256)
"""Output channels of conv1..conv5 at ``width_mult = 1``."""


def _pooled(size: int) -> int:
    """Output size of a 3×3 / 2 max-pool with ``ceil_mode=True`` (Chainer ``cover_all``)."""
    return math.ceil((size - 3) / 2) + 1


def feature_size(input_size: int) -> int:
    """Side of the trunk's final map for ``input_size`` (220 → 6, 128 → 3, 64 → 1; min 37).

    conv1 (11×11 / 4, pad 1) → pool → conv2 (same size) → pool → conv3-5 → pool.
    """
    s = _pooled(_pooled((input_size + 2 * 1 - 11) // 4 + 1))
    if s < 2:
        raise ValueError(f"input_size {input_size} is too small for AlexNet (needs >= 37 px)")
    return _pooled(s)


class AlexNet(nn.Module):
    """DeepPose's AlexNet: 5 conv layers + fc6/fc7 (+ fc8 unless ``features_only``).

    Args:
        num_outputs: size of fc8 (``2K`` for DeepPose; 1000 for an ImageNet classifier).
        input_size: square side or ``(width, height)`` of the input; fixes fc6's input size
            (``256 · h · w`` of the final map). Default 220 (DeepPose).
        dropout: dropout ratio after fc6 and fc7 (0.6 in mitmul/deeppose).
        width_mult: multiplies the conv channels (96, 256, 384, 384, 256); scaled configs.
        fc_dim: width of fc6/fc7; default ``round(4096 · width_mult)``.
        features_only: build the conv trunk only (no fc layers); ``forward`` returns the map.
        in_channels: input channels (3 for RGB).

    Shapes:
        input ``(B, in_channels, H, W)`` with ``(W, H) = input_size`` (normalised RGB);
        ``forward_features`` → ``(B, C5, h, w)`` (256 × 6 × 6 at 220²);
        ``forward`` → ``(B, num_outputs)`` (or the map when ``features_only``).
    """

    def __init__(
        self,
        num_outputs: int = 1000,
        input_size: int | tuple[int, int] = 220,
        dropout: float = 0.6,
        width_mult: float = 1.0,
        fc_dim: int | None = None,
        features_only: bool = False,
        in_channels: int = 3,
    ) -> None:
        super().__init__()
        c1, c2, c3, c4, c5 = (max(1, round(c * width_mult)) for c in CHANNELS)
        w, h = size2(input_size, "input_size", square=True)
        self.input_size = (w, h)
        self.feature_shape = (c5, feature_size(h), feature_size(w))
        self.out_channels = c5
        self.conv1 = nn.Conv2d(in_channels, c1, 11, stride=4, padding=1)
        self.conv2 = nn.Conv2d(c1, c2, 5, padding=2)
        self.conv3 = nn.Conv2d(c2, c3, 3, padding=1)
        self.conv4 = nn.Conv2d(c3, c4, 3, padding=1)
        self.conv5 = nn.Conv2d(c4, c5, 3, padding=1)
        self.pool = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.lrn = nn.LocalResponseNorm(5, alpha=5 * 1e-4, beta=0.75, k=2.0)
        self.relu = nn.ReLU(inplace=True)
        self.features_only = features_only
        if not features_only:
            fc = fc_dim if fc_dim is not None else max(1, round(4096 * width_mult))
            self.fc6 = nn.Linear(math.prod(self.feature_shape), fc)
            self.fc7 = nn.Linear(fc, fc)
            self.fc8 = nn.Linear(fc, num_outputs)
            self.dropout = nn.Dropout(dropout)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """He-normal (fan-in) weights and zero biases for the ReLU layers; fc8 starts small.

        (Chainer's default is LeCun-normal; He init trains faster from scratch.) fc8 has
        std 1e-3 so that a fresh regressor predicts ≈ 0, the centre of the normalised box.
        """
        for m in self.modules():
            if isinstance(m, nn.Conv2d | nn.Linear):
                nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
                nn.init.zeros_(m.bias)
        if not self.features_only:
            nn.init.normal_(self.fc8.weight, std=1e-3)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, 3, H, W)`` → ``(B, C5, h, w)``: the pool5 map (256 × 6 × 6 at 220²)."""
        x = self.lrn(self.pool(self.relu(self.conv1(x))))
        x = self.lrn(self.pool(self.relu(self.conv2(x))))
        x = self.relu(self.conv3(x))
        x = self.relu(self.conv4(x))
        return self.pool(self.relu(self.conv5(x)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.forward_features(x)
        if self.features_only:
            return x
        if x.shape[1:] != self.feature_shape:
            raise ValueError(
                f"AlexNet built for input {self.input_size} (map {self.feature_shape}) "
                f"got a map {tuple(x.shape[1:])}; pass input_size= to match the images"
            )
        x = self.dropout(self.relu(self.fc6(x.flatten(1))))
        x = self.dropout(self.relu(self.fc7(x)))
        return self.fc8(x)
