"""Scoring: predict → instances → metrics, for every model of the course.

Every pipeline here goes the same way: ``engine.predict`` / ``engine.predict_batches`` run the
model and the codec's ``decode`` gives one ``Instances`` per image (``posekit.codecs.instances``:
keypoints ``(N_i, K, 3)`` ``(x, y, score)`` in input pixels, person scores ``(N_i,)``); the
functions below compare them with the ground truth through ``posekit.metrics``.

* ``evaluate_pckh``: PCKh (%) of a top-down model on crops (MPII protocol, Andriluka et al.
  2014; the head size is ``0.6 ×`` the head-box diagonal) — ``engine.train``'s ``evaluate``
  for top-down models.
* ``pckh_table``: the per-joint PCKh@0.5 table and the torso PCK@0.2 of ``posekit eval``.
* ``evaluate_oks_ap``: COCO keypoint AP / AR (pycocotools, Lin et al. 2014) of a bottom-up
  model on scenes — ``engine.train``'s ``evaluate`` for ``PAFCodec``.
* ``shared_joint_ground_truth``, ``scene_oks_ap``, ``top_down_scene_ap``: COCO AP of either
  family on scenes, on the COCO-17 joints a joint set shares (a top-down model sees each
  person cropped from its true box, ``posekit.topdown``).
* ``match_people``: predictions paired with true people by OKS (optimal assignment).

Conventions: ``docs/conventions.md`` (coordinates, pixel centres) and ``docs/datasets.md``
(the evaluation protocols). PCK values are in %, AP / AR in [0, 1].
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment

from posekit import engine, metrics
from posekit.codecs.instances import Instances, stack_keypoints
from posekit.codecs.paf import keypoint_boxes
from posekit.skeletons import COCO17, convert, get_skeleton

__all__ = [
    "evaluate_oks_ap",
    "evaluate_pckh",
    "match_people",
    "pckh_table",
    "scene_oks_ap",
    "shared_joint_ground_truth",
    "top_down_scene_ap",
]

AP_KEYS = ("AP", "AP50", "AP75", "APm", "APl", "AR", "AR50", "AR75", "ARm", "ARl")


def _numpy(x) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


# --------------------------------------------------------------------------- top-down: PCKh


def _top_down(model, codec, dataset, batch_size, device, collate_fn, input_key, fields, progress):
    """Stacked ``(N, K, 3)`` predictions and the concatenated batch ``fields`` (numpy)."""
    preds, kept = [], {f: [] for f in fields}
    for batch, people in engine.predict_batches(
        model, codec, dataset, batch_size, device, collate_fn, input_key, progress
    ):
        preds.append(stack_keypoints(people))
        for f in fields:
            kept[f].append(_numpy(batch[f]))
    if not preds:
        raise ValueError("predict: the dataset is empty")
    return np.concatenate(preds), {f: np.concatenate(v) for f, v in kept.items()}


def evaluate_pckh(
    model,
    codec,
    dataset,
    batch_size: int = 32,
    alpha: Iterable[float] = (0.5, 0.1),
    device=None,
    inside_only: bool = True,
    input_key: str = "image",
    collate_fn: Callable | None = None,
) -> dict[str, float]:
    """PCKh (%) of a model on top-down crops, with each item's ``head_box`` (crop pixels).

    For MPII-16 joints the value is ``metrics.pckh``'s Mean (14 joints, pelvis and thorax
    out); for other joint sets ``metrics.pck`` over all evaluated joints with the head size
    ``metrics.mpii_headsize``. Evaluated joints: labelled (``v > 0``) and, with
    ``inside_only``, inside the crop (``target_weight > 0``).

    Returns:
        ``{"PCKh@0.5": ..., "PCKh@0.1": ...}`` (one key per ``alpha``), in %.
    """
    fields = ("keypoints", "head_box") + (("target_weight",) if inside_only else ())
    pred, gt = _top_down(
        model, codec, dataset, batch_size, device, collate_fn, input_key, fields, False
    )
    visible = gt["target_weight"] > 0 if inside_only else None
    kp, hb = gt["keypoints"], gt["head_box"]
    out = {}
    for a in alpha:
        if kp.shape[1] == 16:
            value = metrics.pckh(pred, kp, hb, visible=visible, alpha=a).mean
        else:
            value = metrics.pck(pred, kp, metrics.mpii_headsize(hb), alpha=a, visible=visible).mean
        out[f"PCKh@{a:g}"] = float(value)
    return out


def evaluate_sphp(
    model, codec, dataset, batch_size: int = 16, device=None, progress: bool = False
) -> dict[str, float]:
    """SPHP's 2-D MPJPE (Lin, Hsieh et al., BMVC 2023) in pixels of the **384×288** image, per
    action class C1–C4 and over all frames. A model at another input size (``codec.input_size``
    = ``(W, H)``, 4:3) is scored on its own grid and the errors scaled by ``384 / W``.

    As SPHP's evaluation: the prediction is ``codec.decode``'s point (``SPHPCodec``: the argmax
    pixel), the ground truth the integer pixel holding each joint
    (``posekit.codecs.sphp.integer_pixels``); an image's error is the mean over its labelled
    joints, a class's the mean over its images, ``"mean"`` the mean over every image (so the
    classes weigh by their frames, as the published tables). ``dataset`` items carry
    ``keypoints`` ``(13, 3)`` and ``action_class`` (0..3; ``posekit.datasets.sphp.SPHPFrames``).

    Returns:
        ``{"C1": px, "C2": px, "C3": px, "C4": px, "mean": px, "frames": n}`` (a class with no
        frame is left out).
    """
    from posekit.codecs.sphp import integer_pixels

    pred, gt = _top_down(model, codec, dataset, batch_size, device, None, "image",
                         ("keypoints", "action_class"), progress)  # fmt: skip
    kp = gt["keypoints"]
    truth = np.concatenate([integer_pixels(kp), kp[..., 2:3]], axis=-1)
    w, h = getattr(codec, "input_size", (384, 288))
    if w * 3 != h * 4:
        raise ValueError(f"codec: input_size {(w, h)} is not 4:3 like SPHP's 384×288")
    err = metrics.joint_errors(pred[..., :2], truth, dims=2) * (384 / w)
    counts = (~np.isnan(err)).sum(axis=1)
    per_image = np.where(counts > 0, np.nansum(err, axis=1) / np.maximum(counts, 1), np.nan)
    classes = gt["action_class"].astype(int).reshape(-1)

    def mean(values: np.ndarray) -> float:
        values = values[~np.isnan(values)]
        return float(values.mean()) if len(values) else float("nan")

    out = {f"C{c + 1}": mean(per_image[classes == c]) for c in range(4) if (classes == c).any()}
    out["mean"] = mean(per_image)
    out["frames"] = int(len(per_image))
    return out


def pckh_table(model, codec, dataset, batch_size: int = 64, progress: bool = False) -> dict:
    """``posekit eval``'s top-down numbers on MPII-16 crops (all labelled joints).

    Returns:
        ``{"pckh": metrics.PCKhResult`` at 0.5 (per joint), ``"pck@0.2"``: torso PCK (%)
        where the torso is labelled, ``"n"``: crops``}``.
    """
    pred, gt = _top_down(
        model, codec, dataset, batch_size, None, None, "image", ("keypoints", "head_box"), progress
    )
    kp, boxes, pred_xy = gt["keypoints"], gt["head_box"], pred[..., :2]
    torso = metrics.torso_norm(kp, "mpii16")
    with_torso = kp.copy()
    with_torso[~np.isfinite(torso), :, 2] = 0  # PCK@0.2 only where the torso is labelled
    return {
        "pckh": metrics.pckh(pred_xy, kp, boxes),
        "pck@0.2": metrics.pck(pred_xy, with_torso, np.nan_to_num(torso, nan=1.0), 0.2).mean,
        "n": len(kp),
    }


# --------------------------------------------------------------------------- COCO OKS AP


def _ground_truth(batch: dict, i: int, joint_set) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Image ``i`` of a collated batch: COCO-17 keypoints, boxes and OKS areas."""
    kp = np.asarray(batch["keypoints"][i], np.float32)
    kp = convert(kp.reshape(-1, *kp.shape[-2:]), joint_set, COCO17).reshape(-1, 17, 3)
    box = batch["bboxes"][i] if "bboxes" in batch else None
    box = keypoint_boxes(kp) if box is None else np.asarray(box, np.float64).reshape(-1, 4)
    area = batch["areas"][i] if "areas" in batch else None
    area = box[:, 2] * box[:, 3] if area is None else np.asarray(area, np.float64)
    return kp, box, area


def _add_empty_images(gt: dict, sizes: dict[int, tuple[int, int]]) -> None:
    """Add the images without any person to a ``coco_gt_dict`` (in place)."""
    known = {im["id"] for im in gt["images"]}
    for i, (h, w) in sorted(sizes.items()):
        if i not in known:
            gt["images"].append({"id": i, "file_name": f"{i:012d}.jpg", "height": h, "width": w})
    gt["images"].sort(key=lambda im: im["id"])


def _oks_ap(gt, sizes: dict[int, tuple[int, int]], found: Sequence[Instances]) -> dict:
    """pycocotools AP of ``found`` (one ``Instances`` per image id 1, 2, ...) against
    ``gt`` = per image ``(keypoints (G, 17, 3), boxes (G, 4), areas (G,))``."""
    gt_ids = np.repeat(np.arange(1, len(gt) + 1), [len(g[0]) for g in gt])
    gt_dict = metrics.coco_gt_dict(
        np.concatenate([g[0] for g in gt]).reshape(-1, 17, 3),
        np.array([sizes[i] for i in gt_ids]).reshape(-1, 2),
        bboxes=np.concatenate([g[1] for g in gt]).reshape(-1, 4),
        areas=np.concatenate([g[2] for g in gt]).reshape(-1),
        image_ids=gt_ids,
    )
    _add_empty_images(gt_dict, sizes)
    det_ids = np.repeat(np.arange(1, len(found) + 1), [len(p) for p in found])
    if det_ids.size == 0:
        return {k: 0.0 for k in AP_KEYS}
    kp = np.concatenate([p.keypoints for p in found])
    scores = np.concatenate([p.scores for p in found])
    return metrics.oks_ap(gt_dict, metrics.coco_results(kp, scores, det_ids))


def evaluate_oks_ap(
    model, codec, dataset, batch_size: int = 8, device=None, input_key: str = "image"
) -> dict[str, float]:
    """COCO keypoint AP of a bottom-up model on a ``SynthPoseBottomUp``-like dataset.

    ``engine.predict_batches`` (``collate_bottom_up``) gives every image's ``Instances``; all
    images are scored at once with pycocotools: ground truth in COCO-17 (converted from
    ``codec.joint_set``), the items' ``bboxes`` and ``areas`` as boxes and OKS scales
    (default: the box of the labelled joints). Images without people stay in the ground
    truth, so detections there count as false positives. Usable as ``engine.train``'s
    ``evaluate``.

    Args:
        dataset: a Dataset of bottom-up items (or a ready DataLoader yielding
            ``collate_bottom_up`` batches).
    Returns:
        ``{"AP", "AP50", "AP75", "APm", "APl", "AR", ...}`` in [0, 1] (-1: empty area range);
        all 0 when nothing is detected.
    """
    from posekit.datasets.synthpose import collate_bottom_up

    gt, found, sizes = [], [], {}  # per image: (kp, box, area) / Instances; {id: (H, W)}
    for batch, people in engine.predict_batches(
        model, codec, dataset, batch_size, device, collate_bottom_up, input_key
    ):
        for i, p in enumerate(people):
            sizes[len(sizes) + 1] = tuple(int(v) for v in batch[input_key].shape[-2:])
            gt.append(_ground_truth(batch, i, codec.joint_set))
            found.append(p)
    if not sizes:
        raise ValueError("dataset: empty")
    return _oks_ap(gt, sizes, found)


# --------------------------------------------------------------------------- scenes


def shared_joint_ground_truth(keypoints, joint_set: str = "mpii16") -> np.ndarray:
    """COCO-17 ground truth restricted to the joints ``joint_set`` also has.

    Joints of COCO-17 that ``joint_set`` lacks get ``v = 0``, so pycocotools' OKS ignores
    them (it averages over the ground truth's labelled joints only); with MPII-16 the 5 face
    joints go, the 12 limb joints stay.

    Args:
        keypoints: ``(N, 17, 3)`` COCO-17 ``(x, y, v)``.
    Returns:
        float32 ``(N, 17, 3)`` copy, the joints outside the shared set zeroed.
    """
    kp = np.array(keypoints, np.float32).reshape(-1, COCO17.num_joints, 3)
    names = set(get_skeleton(joint_set).joints)
    drop = [j for j, n in enumerate(COCO17.joints) if n not in names]
    kp[:, drop] = 0.0
    return kp


def _instances(p: Any) -> Instances:
    """``Instances``, anything with ``keypoints`` and ``scores`` (``TopDownPrediction``) or a
    ``(keypoints, scores)`` pair → ``Instances``."""
    if isinstance(p, Instances):
        return p
    kp, scores = (p.keypoints, p.scores) if hasattr(p, "keypoints") else p
    return Instances(np.asarray(kp, np.float32).reshape(-1, 17, 3), np.asarray(scores, np.float64))


def scene_oks_ap(
    ground_truth: Sequence[dict], predictions: Sequence[Any], joint_set: str | None = "mpii16"
) -> dict[str, float]:
    """COCO keypoint AP of predictions on scenes, on the joints shared with ``joint_set``.

    Args:
        ground_truth: per image a dict with ``keypoints`` ``(N, 17, 3)`` COCO-17, ``bboxes``
            ``(N, 4)``, ``areas`` ``(N,)`` (a ``SynthPoseBottomUp`` item, numpy or torch) and
            ``size`` ``(H, W)``.
        predictions: per image an ``Instances`` (COCO-17, image pixels), a
            ``topdown.TopDownPrediction`` or a ``(keypoints (P, 17, 3), scores (P,))`` pair.
        joint_set: evaluate on the COCO-17 joints this set has (``shared_joint_ground_truth``);
            None = all 17.
    Returns:
        ``metrics.oks_ap``'s dict (``AP``, ``AP50``, ``AP75``, ``AR``...); all 0 when nothing
        is predicted. People whose shared joints are all unlabelled are ignored by
        pycocotools (``num_keypoints = 0``).
    """
    if len(ground_truth) != len(predictions):
        raise ValueError(
            f"predictions: {len(predictions)} images for {len(ground_truth)} ground truths"
        )
    gt, sizes = [], {}
    for i, g in enumerate(ground_truth, start=1):
        kp = _numpy(g["keypoints"]).astype(np.float32).reshape(-1, 17, 3)
        kp = kp if joint_set is None else shared_joint_ground_truth(kp, joint_set)
        box = _numpy(g["bboxes"]).astype(np.float64).reshape(-1, 4)
        gt.append((kp, box, _numpy(g["areas"]).astype(np.float64).reshape(-1)))
        sizes[i] = tuple(int(v) for v in g["size"])
    return _oks_ap(gt, sizes, [_instances(p) for p in predictions])


def top_down_scene_ap(model, codec, scenes, joint_set: str = "mpii16") -> dict[str, float]:
    """OKS AP / AR of a top-down model on bottom-up ``scenes`` (``SynthPoseBottomUp``): every
    person cropped from its ground-truth box (``topdown.top_down_predict``), scored on the
    COCO-17 joints ``joint_set`` has (``scene_oks_ap``)."""
    from posekit.topdown import top_down_predict

    gts, preds = [], []
    for i in range(len(scenes)):
        it = scenes[i]
        p = top_down_predict(model, codec, it["image"], it["bboxes"], joint_set=joint_set)
        gts.append({**it, "size": tuple(it["image"].shape[-2:])})
        preds.append(p)
    return scene_oks_ap(gts, preds, joint_set)


# --------------------------------------------------------------------------- matching


def match_people(pred, gt, areas) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pair predicted with true people by OKS (optimal assignment, ``linear_sum_assignment``).

    Args:
        pred: ``(P, 17, 2|3)`` predictions in input pixels (COCO-17; an ``Instances``' own
            ``keypoints``); a NaN joint is a miss.
        gt: ``(G, 17, 3)`` ground truth ``(x, y, v)``.
        areas: ``(G,)`` OKS scales (box areas), finite and > 0.
    Returns:
        ``(gt_index, pred_index, oks)`` of the ``min(G, P)`` matched pairs.
    """
    pred, gt, areas = _people_arrays(pred, gt, areas)
    g, p = gt.shape[0], pred.shape[0]
    if g == 0 or p == 0:
        e = np.zeros(0, np.int64)
        return e, e, np.zeros(0)
    gi, pi = np.divmod(np.arange(g * p), p)
    sim = metrics.oks(pred[pi][..., :2], gt[gi], areas[gi]).reshape(g, p)
    r, c = linear_sum_assignment(sim, maximize=True)
    return r, c, sim[r, c]


def _people_arrays(pred, gt, areas) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``match_people``'s inputs as float64 arrays of the documented shapes, else ValueError."""
    pred, gt = np.asarray(pred, np.float64), np.asarray(gt, np.float64)
    areas = np.asarray(areas, np.float64)
    k = COCO17.num_joints
    if gt.ndim != 3 or gt.shape[1:] != (k, 3):
        raise ValueError(f"gt: expected shape (G, {k}, 3) (x, y, v), got {gt.shape}")
    if pred.ndim != 3 or pred.shape[1] != k or pred.shape[2] not in (2, 3):
        raise ValueError(f"pred: expected shape (P, {k}, 2 or 3), got {pred.shape}")
    if areas.shape != (gt.shape[0],):
        raise ValueError(f"areas: expected shape ({gt.shape[0]},), one per gt, got {areas.shape}")
    return pred, gt, areas
