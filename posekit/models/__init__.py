"""posekit models: backbones and pose networks, one file per family (``DESIGN.md`` §3, §5).

Default constructor arguments are the published configuration (parameter counts tested
against ``reference/models.md``); smaller arguments give the scaled configs lessons train.

* ``alexnet``: ``AlexNet`` — DeepPose's AlexNet trunk (220×220, mitmul/deeppose).
* ``resnet``: ``ResNet``, ``resnet18`` … ``resnet152`` — torchvision-compatible ResNets.
* ``deeppose``: ``DeepPose``, ``DeepPoseResNet``, ``DeepPoseRefiner``, ``DeepPoseCascade``
  and the cascade helpers (``torso_diameter``, ``joint_crops``, ``fit_error_distribution``,
  ``simulate_displacements``, ``normalise``/``denormalise``).
* ``heatmap_net``: ``HeatmapNet`` — lesson 02's plain encoder-decoder heatmap network.
* ``hourglass``: ``HourglassNet``, ``Hourglass``, ``Residual`` — Newell et al. 2016.
* ``simple_baseline``: ``SimpleBaseline`` — Xiao et al. 2018 (ResNet + deconvolutions).
* ``flip_test``: ``FlipTest``, ``flip_heatmaps`` — flip-test averaging of heatmaps.
"""

from posekit.models.alexnet import AlexNet
from posekit.models.deeppose import (
    DeepPose,
    DeepPoseCascade,
    DeepPoseRefiner,
    DeepPoseResNet,
    denormalise,
    fit_error_distribution,
    joint_crops,
    normalise,
    simulate_displacements,
    torso_diameter,
)
from posekit.models.flip_test import FlipTest, flip_heatmaps
from posekit.models.heatmap_net import HeatmapNet
from posekit.models.hourglass import Hourglass, HourglassNet, Residual
from posekit.models.resnet import (
    BasicBlock,
    Bottleneck,
    ResNet,
    resnet,
    resnet18,
    resnet34,
    resnet50,
    resnet101,
    resnet152,
)
from posekit.models.simple_baseline import SimpleBaseline

__all__ = [
    "AlexNet",
    "BasicBlock",
    "Bottleneck",
    "DeepPose",
    "DeepPoseCascade",
    "DeepPoseRefiner",
    "DeepPoseResNet",
    "FlipTest",
    "HeatmapNet",
    "Hourglass",
    "HourglassNet",
    "ResNet",
    "Residual",
    "SimpleBaseline",
    "denormalise",
    "fit_error_distribution",
    "flip_heatmaps",
    "joint_crops",
    "normalise",
    "resnet",
    "resnet101",
    "resnet152",
    "resnet18",
    "resnet34",
    "resnet50",
    "simulate_displacements",
    "torso_diameter",
]
