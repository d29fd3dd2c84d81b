"""Codecs: encode keypoints into training targets, decode network outputs into keypoints.

As in mmpose, codecs are separate from models: a model maps images to tensors, a codec maps
tensors to keypoints and back. Every codec follows the protocol of ``posekit.engine``:

* ``encode(batch) -> dict`` of targets, from a batch of ``SynthPoseTopDown`` items
  (``keypoints`` ``(B, K, 3)`` in input pixels, ``target_weight`` ``(B, K)``);
* ``decode(outputs) -> list[Instances]``, one per image (``posekit.codecs.instances``):
  keypoints ``(N_i, K, 3)`` ``(x, y, score)`` in input pixels and person scores ``(N_i,)``;
  top-down codecs decode one person per crop (``N_i = 1``);
* ``loss(outputs, targets, batch) -> scalar`` (the loss functions themselves are plain
  functions in each module).

Modules: ``instances`` (the prediction contract), ``regression`` (DeepPose, lesson 01),
``heatmap`` (Gaussian heatmaps and the argmax / quarter-offset / DARK / integral decoders,
lesson 02), ``paf`` (OpenPose's heatmaps and part affinity fields, lesson 04),
``grouping`` (peaks + PAFs → people: the second half of ``PAFCodec.decode``) and
``efficientpose`` (EfficientPose's per-pass PAF + confidence-map supervision,
``EfficientPoseCodec``).
"""

from posekit.codecs.efficientpose import EfficientPoseCodec
from posekit.codecs.heatmap import (
    HeatmapCodec,
    decode_argmax,
    decode_dark,
    decode_heatmaps,
    decode_quarter_offset,
    gaussian_heatmaps,
    heatmap_mse_loss,
    heatmap_nms,
    heatmap_to_image,
    image_to_heatmap,
    integral_loss,
    integral_regression,
    soft_argmax,
)
from posekit.codecs.instances import Instances, per_crop, stack_keypoints
from posekit.codecs.regression import (
    RegressionCodec,
    from_box_frame,
    from_input_frame,
    l2_loss,
    smooth_l1_loss,
    to_box_frame,
    to_input_frame,
)

__all__ = [
    "EfficientPoseCodec",
    "HeatmapCodec",
    "Instances",
    "RegressionCodec",
    "decode_argmax",
    "decode_dark",
    "decode_heatmaps",
    "decode_quarter_offset",
    "from_box_frame",
    "from_input_frame",
    "gaussian_heatmaps",
    "heatmap_mse_loss",
    "heatmap_nms",
    "heatmap_to_image",
    "image_to_heatmap",
    "integral_loss",
    "integral_regression",
    "l2_loss",
    "to_box_frame",
    "to_input_frame",
    "per_crop",
    "smooth_l1_loss",
    "soft_argmax",
    "stack_keypoints",
]
