"""Top-down vs bottom-up on multi-person scenes (lesson 04).

A **top-down** method (Newell et al. 2016's Stacked Hourglass, Xiao et al. 2018's Simple
Baselines — lesson 03) first finds the people (a detector; here the ground-truth boxes),
crops each one with the affine crop it was trained on (``posekit.datasets.transforms``: the
box grown to the input's aspect ratio and padded 1.25×, HRNet's ``_xywh2cs``) and runs the
single-person network once per person. A **bottom-up** method (Cao et al. 2017's OpenPose,
Osokin 2018's Lightweight OpenPose) runs one network pass on the whole image and groups the
joints into people afterwards (``posekit.codecs.grouping``). So the top-down cost grows with the
number of people K (K crops through the network), the bottom-up cost mostly does not (one
pass; the grouping grows mildly with K); ``posekit.lab.people_scaling`` measures both.

* ``person_crops(image, boxes, input_size)``: the crops and their image → crop matrices.
* ``top_down_predict(model, codec, image, boxes, input_size)``: crop → model (one batch) →
  ``decode_crops`` (``codec.decode`` → inverse affine map → COCO-17 keypoints in image
  pixels).
* Scoring either method (COCO keypoint AP on the joints both joint sets have) is
  ``posekit.evaluation``'s ``scene_oks_ap`` / ``top_down_scene_ap``.

**Joint sets and OKS.** The top-down models of lesson 03 are trained on MPII-16; COCO-17 has
5 face joints (nose, eyes, ears) that MPII-16 lacks, MPII-16 has 4 joints COCO lacks (pelvis,
thorax, upper neck, head top). ``top_down_predict`` converts with
``posekit.skeletons.convert``: the 12 shared joints (shoulders, elbows, wrists, hips, knees,
ankles) are copied, the 5 face joints come out as ``(0, 0, 0)``. COCO results have no
visibility: pycocotools' OKS averages ``exp(-d²/2s²k²)`` over the joints the *ground truth*
labels, whatever the prediction says, so a labelled nose against a predicted ``(0, 0)``
counts as a miss (≈ 0) and a perfect MPII-16 model could not exceed OKS 12/17 ≈ 0.71 on a
fully labelled person. The comparison therefore evaluates both methods on the **12 shared
joints**: the ground truth's face joints are set to ``v = 0``
(``evaluation.shared_joint_ground_truth``)
and pycocotools ignores them — the COCO sigmas of the 12 joints are used unchanged.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import torch

from posekit.codecs.instances import stack_keypoints
from posekit.datasets.transforms import (
    affine_matrix,
    box_to_center_scale,
    invert_affine,
    warp_image,
)
from posekit.engine import model_device
from posekit.skeletons import COCO17, convert, get_skeleton
from posekit.validate import size2

__all__ = [
    "TopDownPrediction",
    "crop_size",
    "decode_crops",
    "person_crops",
    "top_down_predict",
]


# --------------------------------------------------------------------------- inputs


def _uint8_image(image) -> np.ndarray:
    """``H×W×3`` uint8 RGB from a numpy image or a normalised ``(3, H, W)`` tensor."""
    if isinstance(image, torch.Tensor):
        from posekit.datasets.synthpose import denormalize_image

        image = denormalize_image(image)
    img = np.asarray(image)
    if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
        raise ValueError(
            f"image: expected H×W×3 uint8 RGB or a normalised (3, H, W) tensor, got "
            f"{img.shape} {img.dtype}"
        )
    return img


def _boxes(boxes) -> np.ndarray:
    if isinstance(boxes, torch.Tensor):
        boxes = boxes.detach().cpu().numpy()
    b = np.asarray(boxes, np.float64).reshape(-1, 4) if np.size(boxes) else np.zeros((0, 4))
    if not np.isfinite(b).all() or (b[:, 2:] <= 0).any():
        raise ValueError(f"boxes: expected (N, 4) [x, y, w, h] with w, h > 0, got {b.tolist()}")
    return b


def crop_size(codec, input_size=None) -> tuple[int, int]:
    """The model's input ``(W, H)``: ``input_size`` (a side or ``(W, H)``), else
    ``codec.input_size``."""
    size = input_size if input_size is not None else getattr(codec, "input_size", None)
    if size is None:
        raise ValueError("input_size: give the model's input (W, H) (the codec has none)")
    return size2(size, "input_size", square=True)


# --------------------------------------------------------------------------- crops


def person_crops(
    image, boxes, input_size, padding: float = 1.25
) -> tuple[torch.Tensor, np.ndarray]:
    """Crop every person of an image for a top-down model (no augmentation).

    Each box ``[x, y, w, h]`` (input pixels) becomes ``(center, scale)`` with
    ``box_to_center_scale`` (grown to the crop's aspect ratio ``W/H``, times ``padding``; the
    recipe ``SynthPoseTopDown`` trains with), then ``affine_matrix(center, scale, 0,
    input_size)`` maps image pixels to crop pixels (the box centre lands on the crop's centre
    ``((W - 1)/2, (H - 1)/2)``) and ``warp_image`` cuts the crop.

    Args:
        image: ``H×W×3`` uint8 RGB, or a normalised ``(3, H, W)`` tensor.
        boxes: ``(N, 4)`` person boxes ``[x, y, w, h]`` in image pixels.
        input_size: crop ``(W, H)``.
        padding: box padding factor (1.25, HRNet / posekit's top-down data).
    Returns:
        ``(crops, matrices)``: normalised float32 tensor ``(N, 3, H, W)`` (ImageNet mean/std,
        ``datasets.synthpose.normalize_image``) and float64 ``(N, 2, 3)`` image → crop matrices.
    """
    from posekit.datasets.synthpose import normalize_image

    img = _uint8_image(image)
    b = _boxes(boxes)
    w, h = size2(input_size, "input_size", square=True)
    mats = np.zeros((len(b), 2, 3))
    crops = np.zeros((len(b), h, w, 3), np.uint8)
    for i, box in enumerate(b):
        center, scale = box_to_center_scale(box, w / h, padding)
        mats[i] = affine_matrix(center, scale, 0.0, (w, h))
        crops[i] = warp_image(img, mats[i], (w, h))
    tensor = normalize_image(crops) if len(b) else torch.zeros(0, 3, h, w)
    return tensor, mats


class TopDownPrediction(NamedTuple):
    """People predicted by a top-down model, in image pixels.

    Attributes:
        keypoints: ``(N, 17, 3)`` float32 COCO-17 ``(x, y, score)``; joints the model's joint
            set lacks (the face, for MPII-16) are ``(0, 0, 0)``.
        native: ``(N, K, 3)`` float32 ``(x, y, score)`` in the model's own joint set.
        scores: ``(N,)`` float32 person scores: the mean joint score (ranks detections for AP).
        matrices: ``(N, 2, 3)`` float64 image → crop matrices.
    """

    keypoints: np.ndarray
    native: np.ndarray
    scores: np.ndarray
    matrices: np.ndarray


def _to_image(crop_kp: np.ndarray, mats: np.ndarray) -> np.ndarray:
    """``(N, K, 3)`` crop ``(x, y, score)`` → image pixels with each crop's inverse matrix."""
    out = crop_kp.astype(np.float32).copy()
    for i, m in enumerate(mats):
        inv = invert_affine(m)
        out[i, :, :2] = crop_kp[i, :, :2].astype(np.float64) @ inv[:, :2].T + inv[:, 2]
    return out


def _native_to_coco(native: np.ndarray, joint_set) -> np.ndarray:
    """``(N, K, 3)`` ``(x, y, score)`` → COCO-17 with ``convert``; missing joints 0."""
    sk = get_skeleton(joint_set)
    if sk.name == COCO17.name:
        return native.astype(np.float32)
    labelled = native.copy()
    labelled[..., 2] = 2.0  # every predicted joint counts as labelled for the conversion
    coco = convert(labelled.reshape(-1, sk.num_joints, 3), sk, COCO17)
    index = {n: i for i, n in enumerate(sk.joints)}
    for j, name in enumerate(COCO17.joints):  # the copied joints keep their scores
        if name in index and coco.shape[0]:
            coco[:, j, 2] = native[:, index[name], 2]
    return coco.astype(np.float32)


def _decode_people(crop_kp, mats, joint_set) -> TopDownPrediction:
    native = _to_image(np.asarray(crop_kp, np.float32), mats)
    coco = _native_to_coco(native, joint_set)
    scores = np.clip(native[..., 2], 0, None).mean(axis=1) if len(native) else np.zeros(0)
    return TopDownPrediction(coco, native, scores.astype(np.float32), mats)


def _run(model, crops: torch.Tensor, device) -> Any:
    with torch.inference_mode():
        return model(crops.to(device))


def _decode(codec, outputs) -> np.ndarray:
    """``codec.decode`` → one ``Instances`` per crop → ``(N, K, 3)`` crop pixels."""
    return stack_keypoints(codec.decode(outputs))


def decode_crops(codec, outputs, matrices, joint_set: str = "mpii16") -> TopDownPrediction:
    """The model's ``outputs`` on the crops of ``matrices`` (``person_crops``) → people in
    image pixels: ``codec.decode``, each crop's inverse affine map, COCO-17 conversion."""
    sk = get_skeleton(joint_set)
    crop_kp = _decode(codec, outputs)
    if crop_kp.shape[:2] != (len(matrices), sk.num_joints):
        raise ValueError(
            f"joint_set: the codec decoded {crop_kp.shape[1]} joints per person, "
            f"{sk.name} has {sk.num_joints}"
        )
    return _decode_people(crop_kp, matrices, sk)


def top_down_predict(
    model,
    codec,
    image,
    boxes,
    input_size=None,
    joint_set: str = "mpii16",
    padding: float = 1.25,
    device=None,
) -> TopDownPrediction:
    """Top-down pose estimation of every person of one image, given their boxes.

    ``person_crops`` cuts one crop per box (the un-augmented crop of ``SynthPoseTopDown``),
    the model runs on all crops in **one batch** (eval mode, inference mode), ``codec.decode``
    gives one person ``(x, y, score)`` per crop, in crop pixels, and each person is mapped back to
    the image with the inverse of its crop matrix, then converted to COCO-17 (see the module
    docstring for the joints MPII-16 lacks).

    Args:
        model: a top-down heatmap model (``HourglassNet``, ``HeatmapNet``, ``SimpleBaseline``,
            ...) taking ``(N, 3, H, W)`` normalised crops.
        codec: its codec (``HeatmapCodec``): ``decode(outputs)`` → one ``Instances`` per
            crop, ``(1, K, 3)`` in crop pixels.
        image: ``H×W×3`` uint8 RGB or a normalised ``(3, H, W)`` tensor.
        boxes: ``(N, 4)`` ``[x, y, w, h]`` person boxes in image pixels (ground truth or a
            detector's).
        input_size: the model's input ``(W, H)``; default ``codec.input_size``.
        joint_set: the model's joint set (``"mpii16"``).
        padding: box padding (1.25).
        device: where to run; default the model's device.
    Returns:
        ``TopDownPrediction`` (``keypoints`` COCO-17 in image pixels, ``native``, ``scores``,
        ``matrices``). No box: empty arrays.
    """
    size = crop_size(codec, input_size)
    sk = get_skeleton(joint_set)
    crops, mats = person_crops(image, boxes, size, padding)
    if device is None:
        device = model_device(model)
    model.eval()
    if len(mats) == 0:
        empty = np.zeros((0, sk.num_joints, 3), np.float32)
        return _decode_people(empty, mats, sk)
    return decode_crops(codec, _run(model, crops, device), mats, sk)
