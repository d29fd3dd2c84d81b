"""posekit models: backbones and pose networks, one file per family.

Default constructor arguments are the published configuration (parameter counts tested
against ``docs/references.md`` § posekit's own counts of the published networks); smaller
arguments give the scaled configs lessons train.

* ``alexnet``: ``AlexNet`` — DeepPose's AlexNet trunk (220×220, mitmul/deeppose).
* ``resnet``: ``ResNet``, ``resnet18`` … ``resnet152`` — torchvision-compatible ResNets.
* ``deeppose``: ``DeepPose``, ``DeepPoseResNet``, ``DeepPoseRefiner``, ``DeepPoseCascade``
  and the cascade helpers (``torso_diameter``, ``joint_crops``, ``fit_error_distribution``,
  ``simulate_displacements``, ``to_frame``/``from_frame``).
* ``heatmap_net``: ``HeatmapNet`` — lesson 02's plain encoder-decoder heatmap network.
* ``hourglass``: ``HourglassNet``, ``Hourglass``, ``Residual`` — Newell et al. 2016.
* ``simple_baseline``: ``SimpleBaseline`` — Xiao et al. 2018 (ResNet + deconvolutions).
* ``flip``: ``FlipTest``, ``flip_heatmaps`` — flip-test averaging of heatmaps.
* ``vgg``: ``VGG``, ``vgg16``, ``vgg19``, ``vgg19_openpose`` — torchvision-compatible VGGs.
* ``efficientnet``: ``EfficientNet``, ``efficientnet``, ``efficientnet_b0`` … ``efficientnet_b7``,
  ``MBConv`` — Tan & Le 2019, B0–B7 by compound scaling (optional TF "same" padding).
* ``efficientpose``: ``EfficientPose``, ``efficientpose`` — Groos et al. 2021, RT–IV and
  RT/I/II Lite as the released graphs (E-swish, Mobile DenseNet passes).
* ``mobilenet``: ``MobileNetV1``, ``mobilenet_v1`` — MobileNet v1 (and its dilated stride-8
  trunk).
* ``openpose``: ``OpenPose``, ``LightweightOpenPose``, ``reference_pafs_to_posekit`` — CMU
  OpenPose (VGG-19, 6 stages) and Osokin's Lightweight OpenPose.
* ``sphp``: ``DHP19``, ``UNet``, ``unet_small``, ``unet_large``, ``LateFusion``, ``sphp_model``
  — SPHP's dense backbones (Lin, Hsieh et al. 2023): stride-1 heatmaps from edge / motion-vector
  inputs, early or late fusion.
* ``optimize``: ``fold_batchnorm``, ``optimize_for_inference`` — inference copies of a model.
"""

from posekit.models.alexnet import AlexNet
from posekit.models.deeppose import (
    DeepPose,
    DeepPoseCascade,
    DeepPoseRefiner,
    DeepPoseResNet,
    fit_error_distribution,
    from_frame,
    joint_crops,
    simulate_displacements,
    to_frame,
    torso_diameter,
)
from posekit.models.efficientnet import (
    EfficientNet,
    MBConv,
    efficientnet,
    efficientnet_b0,
    efficientnet_b1,
    efficientnet_b2,
    efficientnet_b3,
    efficientnet_b4,
    efficientnet_b5,
    efficientnet_b6,
    efficientnet_b7,
)
from posekit.models.efficientpose import EfficientPose, efficientpose
from posekit.models.flip import FlipTest, flip_heatmaps
from posekit.models.heatmap_net import HeatmapNet
from posekit.models.hourglass import Hourglass, HourglassNet, Residual
from posekit.models.mobilenet import MobileNetV1, mobilenet_v1
from posekit.models.openpose import LightweightOpenPose, OpenPose, reference_pafs_to_posekit
from posekit.models.optimize import fold_batchnorm, optimize_for_inference
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
from posekit.models.sphp import DHP19, LateFusion, UNet, sphp_model, unet_large, unet_small
from posekit.models.vgg import VGG, vgg16, vgg19, vgg19_openpose

__all__ = [
    "AlexNet",
    "BasicBlock",
    "Bottleneck",
    "DHP19",
    "DeepPose",
    "DeepPoseCascade",
    "DeepPoseRefiner",
    "DeepPoseResNet",
    "EfficientNet",
    "EfficientPose",
    "FlipTest",
    "HeatmapNet",
    "Hourglass",
    "HourglassNet",
    "LateFusion",
    "LightweightOpenPose",
    "MBConv",
    "MobileNetV1",
    "OpenPose",
    "ResNet",
    "Residual",
    "SimpleBaseline",
    "UNet",
    "VGG",
    "efficientnet",
    "efficientpose",
    "efficientnet_b0",
    "efficientnet_b1",
    "efficientnet_b2",
    "efficientnet_b3",
    "efficientnet_b4",
    "efficientnet_b5",
    "efficientnet_b6",
    "efficientnet_b7",
    "from_frame",
    "fit_error_distribution",
    "flip_heatmaps",
    "fold_batchnorm",
    "joint_crops",
    "mobilenet_v1",
    "to_frame",
    "optimize_for_inference",
    "reference_pafs_to_posekit",
    "resnet",
    "resnet101",
    "resnet152",
    "resnet18",
    "resnet34",
    "resnet50",
    "simulate_displacements",
    "sphp_model",
    "torso_diameter",
    "unet_large",
    "unet_small",
    "vgg16",
    "vgg19",
    "vgg19_openpose",
]
