"""OpenPose (Cao et al., CVPR 2017, "Realtime Multi-Person 2D Pose Estimation using Part
Affinity Fields") and Lightweight OpenPose (Osokin, ICPRAM 2019, "Real-time 2D Multi-Person
Pose Estimation on CPU: Lightweight OpenPose"); the reference code is listed in
``docs/references.md`` § Reference implementations and software.

Both are bottom-up: one pass predicts, for the whole image at output stride 8, confidence maps
of every body part and Part Affinity Fields (PAFs) — per limb, a 2-D unit vector field along
the limb — and ``posekit.codecs.grouping`` assembles people from peaks + PAFs. A sequence of stages
refines the maps; **every stage is supervised** (intermediate supervision), so ``forward``
returns one ``(heatmaps, pafs)`` tuple per stage, heatmaps first::

    [(heatmaps_1, pafs_1), ..., (heatmaps_T, pafs_T)]      heatmaps (B, 19, H/8, W/8)
                                                           pafs     (B, 38, H/8, W/8)

The last tuple is the prediction. Input: normalised tensors ``(B, in_channels, H, W)`` with H
and W multiples of 8 (the references feed BGR, ``(img − 128) / 256``); output pixel ``j`` is
centred at input ``x = 8·j + 3.5`` (``posekit.codecs.heatmap.heatmap_to_image``).

**Channel order (posekit's).** Heatmap channels 0..17 are the ``posekit.skeletons.OPENPOSE18``
joints (nose, neck, r_sho, …), channel 18 the background. PAF channels ``(2l, 2l+1)`` hold the
(x, y) components of limb ``l`` of ``OPENPOSE18.limbs`` (the CMU demo's ``limbSeq``). The
trained CMU and Lightweight OpenPose checkpoints store their PAFs in a different, model-specific
order (Osokin's ``BODY_PARTS_PAF_IDS``, ``REFERENCE_PAF_IDS`` below); that matters only when
loading their weights — ``reference_pafs_to_posekit`` reorders such outputs.

Published configurations (params tested within 1 %, GMACs within 2 % by
``posekit.bench.count_macs``; MACs = multiply-accumulates):

* ``OpenPose()`` — CMU ``models/pose/coco/pose_deploy_linevec.prototxt``, 6 stages:
  52.31 M params, 135.9 GMACs at 368×368; ``OpenPose(num_stages=2)`` 17.2 M, 61.6 GMACs.
* ``LightweightOpenPose()`` — ``models/with_mobilenet.py`` of
  ``Daniil-Osokin/lightweight-human-pose-estimation.pytorch``, 1 refinement stage: 4.09 M
  params, 8.88 GMACs at 368×368, 7.66 GMACs at 256×456 (the paper's "9 GFLOPs" are MACs).
"""

from __future__ import annotations

import torch
from torch import nn

from posekit.models.mobilenet import MobileNetV1, depthwise_separable
from posekit.models.vgg import vgg19_openpose
from posekit.validate import check_int, check_positive_ints

__all__ = [
    "REFERENCE_PAF_IDS",
    "LightweightOpenPose",
    "OpenPose",
    "reference_pafs_to_posekit",
]

REFERENCE_PAF_IDS: tuple[tuple[int, int], ...] = (
    (12, 13), (20, 21), (14, 15), (16, 17), (22, 23), (24, 25), (0, 1), (2, 3), (4, 5),
    (6, 7), (8, 9), (10, 11), (28, 29), (30, 31), (34, 35), (32, 33), (36, 37), (18, 19),
    (26, 27),
)  # fmt: skip
"""PAF channels ``(x, y)`` of limb ``l`` (``OPENPOSE18.limbs`` order) in the trained
Lightweight OpenPose checkpoint (``BODY_PARTS_PAF_IDS`` of ``modules/keypoints.py`` in
``Daniil-Osokin/lightweight-human-pose-estimation.pytorch``). The CMU COCO model's demo
``mapIdx`` (minus the 19 heatmap channels) is recalled to be the same order — not verified
here."""


def reference_pafs_to_posekit(pafs: torch.Tensor) -> torch.Tensor:
    """Reorder PAFs from a trained reference checkpoint's channel order to posekit's.

    Args:
        pafs: ``(B, 38, h, w)`` in ``REFERENCE_PAF_IDS`` order.
    Returns:
        ``(B, 38, h, w)`` with limb ``l`` of ``OPENPOSE18.limbs`` in channels ``(2l, 2l+1)``.
    """
    if pafs.ndim != 4 or pafs.shape[1] != 2 * len(REFERENCE_PAF_IDS):
        raise ValueError(f"pafs: expected (B, 38, h, w), got {tuple(pafs.shape)}")
    index = [c for pair in REFERENCE_PAF_IDS for c in pair]
    return pafs[:, index]


def conv(
    cin: int, cout: int, kernel: int = 3, dilation: int = 1, relu: bool = True,
    batch_norm: bool = False,
) -> nn.Sequential:  # fmt: skip
    """Conv ``kernel×kernel`` (bias, stride 1, "same" padding) [+ BN] [+ ReLU].

    The ``nn.Sequential(conv, [BN], [ReLU])`` layout of Osokin's ``modules/conv.py`` so that
    parameter names (``….0.weight``, ``….1.running_mean``) match the reference checkpoints.
    Shapes: ``(B, cin, H, W)`` → ``(B, cout, H, W)``.
    """
    layers: list[nn.Module] = [
        nn.Conv2d(cin, cout, kernel, padding=dilation * (kernel // 2), dilation=dilation)
    ]
    if batch_norm:
        layers.append(nn.BatchNorm2d(cout))
    if relu:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


def _check_input(x: torch.Tensor, in_channels: int) -> None:
    if not isinstance(x, torch.Tensor) or x.ndim != 4:
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"x: expected a (B, C, H, W) tensor, got {shape}")
    if x.shape[1] != in_channels:
        raise ValueError(f"x: expected {in_channels} channels, got {x.shape[1]}")
    if x.shape[-2] % 8 or x.shape[-1] % 8:
        raise ValueError(f"x: height and width must be multiples of the stride 8, got "
                         f"{tuple(x.shape[-2:])}")  # fmt: skip


# --------------------------------------------------------------------------------------------
# OpenPose (CMU, VGG-19, 6 stages)
# --------------------------------------------------------------------------------------------
class OpenPoseStage(nn.Module):
    """One stage of CMU OpenPose: two branches, L1 → PAFs and L2 → heatmaps.

    Stage 1 (``first``): each branch is 3× conv3×3 (``channels``) + ReLU, conv1×1
    (``4·channels`` = 512) + ReLU, conv1×1 → outputs. Stages ≥ 2: 5× conv7×7 (``channels``)
    + ReLU, conv1×1 (``channels``) + ReLU, conv1×1 → outputs.

    Shapes: ``(B, cin, h, w)`` → ``(heatmaps (B, num_heatmaps, h, w), pafs (B, num_pafs, h, w))``.
    """

    def __init__(
        self, cin: int, channels: int, num_heatmaps: int, num_pafs: int, first: bool
    ) -> None:
        super().__init__()

        def branch(cout: int) -> nn.Sequential:
            if first:
                body = [conv(cin, channels), conv(channels, channels), conv(channels, channels),
                        conv(channels, 4 * channels, 1)]  # fmt: skip
                inner = 4 * channels
            else:
                body = [conv(cin, channels, 7)] + [conv(channels, channels, 7) for _ in range(4)]
                body.append(conv(channels, channels, 1))
                inner = channels
            return nn.Sequential(*body, conv(inner, cout, 1, relu=False))

        self.pafs = branch(num_pafs)  # CMU's "L1" branch
        self.heatmaps = branch(num_heatmaps)  # "L2"

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.heatmaps(x), self.pafs(x)


class OpenPose(nn.Module):
    """CMU OpenPose COCO model (Cao et al. 2017; ``pose_deploy_linevec.prototxt``).

    Layers::

        backbone  VGG-19 conv1_1 … conv4_2 + ReLU (three 2×2 pools, stride 8)   512 ch
        cpm       conv4_3_CPM 3×3 (2·channels = 256) + ReLU, conv4_4_CPM 3×3 (channels) + ReLU
        stage 1   OpenPoseStage(first) on the features F
        stage t   OpenPoseStage on concat(PAFs_{t−1}, heatmaps_{t−1}, F)   (38 + 19 + 128 = 185)

    Args:
        num_stages: stages (6 published; 2 is the baseline Lightweight OpenPose compares to).
        num_heatmaps: confidence maps (19 = 18 ``OPENPOSE18`` parts + background).
        num_pafs: PAF channels (38 = 2 × 19 limbs).
        channels: width of the CPM output and of the stages (128); stage 1's heads use
            ``4·channels`` and conv4_3_CPM ``2·channels``.
        backbone_width: VGG block-1 width (64; the backbone has 8× that at conv4_2).
        in_channels: input channels.

    Shapes: ``(B, in_channels, H, W)``, H and W multiples of 8 → list of ``num_stages``
    tuples ``(heatmaps (B, num_heatmaps, H/8, W/8), pafs (B, num_pafs, H/8, W/8))``.

    Published: 6 stages 52.31 M params, 135.9 GMACs at 368×368; 2 stages 17.2 M, 61.6 GMACs.

    Attributes:
        config: every constructor argument (``engine.load_model`` rebuilds from it).
        stride: output stride, 8.
    """

    stride = 8

    def __init__(
        self,
        num_stages: int = 6,
        num_heatmaps: int = 19,
        num_pafs: int = 38,
        channels: int = 128,
        backbone_width: int = 64,
        in_channels: int = 3,
    ) -> None:
        super().__init__()
        check_positive_ints(
            num_stages=num_stages,
            num_heatmaps=num_heatmaps,
            num_pafs=num_pafs,
            channels=channels,
            backbone_width=backbone_width,
            in_channels=in_channels,
        )
        self.config = dict(num_stages=num_stages, num_heatmaps=num_heatmaps, num_pafs=num_pafs,
                           channels=channels, backbone_width=backbone_width,
                           in_channels=in_channels)  # fmt: skip
        self.in_channels = in_channels
        self.backbone = vgg19_openpose(backbone_width, in_channels)
        self.cpm = nn.Sequential(
            conv(self.backbone.out_channels, 2 * channels), conv(2 * channels, channels)
        )
        refined = channels + num_heatmaps + num_pafs
        self.stages = nn.ModuleList(
            OpenPoseStage(channels if t == 0 else refined, channels, num_heatmaps, num_pafs,
                          first=t == 0)
            for t in range(num_stages)
        )  # fmt: skip
        for m in [*self.cpm.modules(), *self.stages.modules()]:
            if isinstance(m, nn.Conv2d):  # CMU's training prototxt: gaussian std 0.01
                nn.init.normal_(m.weight, std=0.01)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """``(B, C, H, W)`` → ``[(heatmaps, pafs)]`` per stage (see the class docstring)."""
        _check_input(x, self.in_channels)
        features = self.cpm(self.backbone(x))
        heatmaps, pafs = self.stages[0](features)
        outputs = [(heatmaps, pafs)]
        for stage in self.stages[1:]:
            heatmaps, pafs = stage(torch.cat([pafs, heatmaps, features], dim=1))
            outputs.append((heatmaps, pafs))
        return outputs

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.config.items())


# --------------------------------------------------------------------------------------------
# Lightweight OpenPose (Osokin 2018, dilated MobileNet v1, 1 refinement stage)
# --------------------------------------------------------------------------------------------
class Cpm(nn.Module):
    """Lightweight OpenPose's feature adapter: ``align`` = conv1×1 (cin → c) + ReLU; ``trunk`` =
    3× [dw3×3 + ELU + pw1×1 + ELU] (no BN), added residually; ``conv`` = conv3×3 + ReLU.

    Shapes: ``(B, cin, h, w)`` → ``(B, c, h, w)``.
    """

    def __init__(self, cin: int, channels: int) -> None:
        super().__init__()
        self.align = conv(cin, channels, 1)
        self.trunk = nn.Sequential(*(
            depthwise_separable(channels, channels, batch_norm=False, activation=nn.ELU)
            for _ in range(3)
        ))  # fmt: skip
        self.conv = conv(channels, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.align(x)
        return self.conv(x + self.trunk(x))


class InitialStage(nn.Module):
    """``trunk`` = 3× conv3×3 (c) + ReLU; heads ``heatmaps`` / ``pafs`` = conv1×1 (c → 4c = 512)
    + ReLU, conv1×1 → outputs. Shapes: ``(B, c, h, w)`` → ``(heatmaps, pafs)``."""

    def __init__(self, channels: int, num_heatmaps: int, num_pafs: int) -> None:
        super().__init__()
        c = channels
        self.trunk = nn.Sequential(conv(c, c), conv(c, c), conv(c, c))
        self.heatmaps = nn.Sequential(conv(c, 4 * c, 1), conv(4 * c, num_heatmaps, 1, relu=False))
        self.pafs = nn.Sequential(conv(c, 4 * c, 1), conv(4 * c, num_pafs, 1, relu=False))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.trunk(x)
        return self.heatmaps(x), self.pafs(x)


class RefinementStageBlock(nn.Module):
    """``y = initial(x)`` (conv1×1 → c + ReLU); ``y + trunk(y)`` with ``trunk`` = conv3×3 + BN +
    ReLU, conv3×3 dilation 2 + BN + ReLU (a 7×7 receptive field for two 3×3 costs).
    Shapes: ``(B, cin, h, w)`` → ``(B, c, h, w)``."""

    def __init__(self, cin: int, channels: int) -> None:
        super().__init__()
        c = channels
        self.initial = conv(cin, c, 1)
        self.trunk = nn.Sequential(
            conv(c, c, batch_norm=True), conv(c, c, dilation=2, batch_norm=True)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.initial(x)
        return x + self.trunk(x)


class RefinementStage(nn.Module):
    """5 ``RefinementStageBlock``s; heads conv1×1 (c → c) + ReLU, conv1×1 → outputs.
    Shapes: ``(B, cin, h, w)`` → ``(heatmaps, pafs)``."""

    def __init__(self, cin: int, channels: int, num_heatmaps: int, num_pafs: int) -> None:
        super().__init__()
        c = channels
        self.trunk = nn.Sequential(
            RefinementStageBlock(cin, c), *(RefinementStageBlock(c, c) for _ in range(4))
        )
        self.heatmaps = nn.Sequential(conv(c, c, 1), conv(c, num_heatmaps, 1, relu=False))
        self.pafs = nn.Sequential(conv(c, c, 1), conv(c, num_pafs, 1, relu=False))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.trunk(x)
        return self.heatmaps(x), self.pafs(x)


class LightweightOpenPose(nn.Module):
    """Lightweight OpenPose (Osokin 2018; ``models/with_mobilenet.py`` of the reference code).

    Layers::

        model              dilated MobileNet v1, conv1 … conv5_5 (stride 8, 512·α ch)
        cpm                Cpm(512·α → channels)                            features F
        initial_stage      InitialStage(F) → (heatmaps_1, pafs_1)
        refinement_stages  RefinementStage(concat(F, heatmaps_{t−1}, pafs_{t−1}))  (185 ch)

    Args:
        num_refinement_stages: refinement stages after the initial one (1 published; the
            reference trains with 3 in its last step and keeps 1).
        channels: width of the CPM output and of the stages (128; the reference code's
            ``num_channels``, named ``channels`` here as in ``OpenPose``); the initial stage's
            heads use ``4·channels`` (512).
        num_heatmaps: confidence maps (19 = 18 ``OPENPOSE18`` parts + background).
        num_pafs: PAF channels (38 = 2 × 19 limbs).
        width_mult: MobileNet width multiplier α (1.0); with ``channels`` it gives the
            scaled configurations lessons train.
        in_channels: input channels.

    Shapes: ``(B, in_channels, H, W)``, H and W multiples of 8 → list of
    ``1 + num_refinement_stages`` tuples ``(heatmaps (B, 19, H/8, W/8), pafs (B, 38, H/8, W/8))``.

    Published (default): 4.09 M params; 8.88 GMACs at 368×368, 7.66 GMACs at 256×456 (H×W,
    the ONNX/demo size). Module names match the reference, so its checkpoint
    (``checkpoint_iter_370000.pth``) would load with ``load_state_dict`` (not tested here:
    no downloads) — remember its PAF order (``reference_pafs_to_posekit``).

    Attributes:
        config: every constructor argument (``engine.load_model`` rebuilds from it).
        stride: output stride, 8.
    """

    stride = 8

    def __init__(
        self,
        num_refinement_stages: int = 1,
        channels: int = 128,
        num_heatmaps: int = 19,
        num_pafs: int = 38,
        width_mult: float = 1.0,
        in_channels: int = 3,
    ) -> None:
        super().__init__()
        check_int("num_refinement_stages", num_refinement_stages, minimum=0)
        check_positive_ints(
            channels=channels,
            num_heatmaps=num_heatmaps,
            num_pafs=num_pafs,
            in_channels=in_channels,
        )
        self.config = dict(num_refinement_stages=num_refinement_stages,
                           channels=channels, num_heatmaps=num_heatmaps,
                           num_pafs=num_pafs, width_mult=width_mult,
                           in_channels=in_channels)  # fmt: skip
        self.in_channels = in_channels
        backbone = MobileNetV1(width_mult, include_top=False, dilated=True, in_channels=in_channels)
        self.model = backbone.model
        self.cpm = Cpm(backbone.out_channels, channels)
        self.initial_stage = InitialStage(channels, num_heatmaps, num_pafs)
        refined = channels + num_heatmaps + num_pafs
        self.refinement_stages = nn.ModuleList(
            RefinementStage(refined, channels, num_heatmaps, num_pafs)
            for _ in range(num_refinement_stages)
        )

    def forward(self, x: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """``(B, C, H, W)`` → ``[(heatmaps, pafs)]`` per stage (see the class docstring)."""
        _check_input(x, self.in_channels)
        features = self.cpm(self.model(x))
        heatmaps, pafs = self.initial_stage(features)
        outputs = [(heatmaps, pafs)]
        for stage in self.refinement_stages:
            heatmaps, pafs = stage(torch.cat([features, heatmaps, pafs], dim=1))
            outputs.append((heatmaps, pafs))
        return outputs

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.config.items())
