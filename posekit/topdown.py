"""Top-down vs bottom-up on multi-person scenes (lesson 04).

A **top-down** method (Newell et al. 2016's Stacked Hourglass, Xiao et al. 2018's Simple
Baselines — lesson 03) first finds the people (a detector; here the ground-truth boxes),
crops each one with the affine crop it was trained on (``posekit.datasets.transforms``: the
box grown to the input's aspect ratio and padded 1.25×, HRNet's ``_xywh2cs``) and runs the
single-person network once per person. A **bottom-up** method (Cao et al. 2017's OpenPose,
Osokin 2018's Lightweight OpenPose) runs one network pass on the whole image and groups the
joints into people afterwards (``posekit.grouping``). So the top-down cost grows with the
number of people K (K crops through the network), the bottom-up cost mostly does not (one
pass; the grouping grows mildly with K). ``people_scaling_benchmark`` measures both.

* ``person_crops(image, boxes, input_size)``: the crops and their image → crop matrices.
* ``top_down_predict(model, codec, image, boxes, input_size)``: crop → model (one batch) →
  ``codec.decode`` → inverse affine map → COCO-17 keypoints in image pixels.
* ``shared_joint_ground_truth`` / ``scene_oks_ap``: COCO keypoint AP of either method on the
  joints both joint sets have.
* ``people_scaling_benchmark(...)``: time (and accuracy) against K; ``format_scaling_table``.

**Joint sets and OKS.** The top-down models of lesson 03 are trained on MPII-16; COCO-17 has
5 face joints (nose, eyes, ears) that MPII-16 lacks, MPII-16 has 4 joints COCO lacks (pelvis,
thorax, upper neck, head top). ``top_down_predict`` converts with
``posekit.skeletons.convert``: the 12 shared joints (shoulders, elbows, wrists, hips, knees,
ankles) are copied, the 5 face joints come out as ``(0, 0, 0)``. COCO results have no
visibility: pycocotools' OKS averages ``exp(-d²/2s²k²)`` over the joints the *ground truth*
labels, whatever the prediction says, so a labelled nose against a predicted ``(0, 0)``
counts as a miss (≈ 0) and a perfect MPII-16 model could not exceed OKS 12/17 ≈ 0.71 on a
fully labelled person. The comparison therefore evaluates both methods on the **12 shared
joints**: the ground truth's face joints are set to ``v = 0`` (``shared_joint_ground_truth``)
and pycocotools ignores them — the COCO sigmas of the 12 joints are used unchanged.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np
import torch

from posekit.datasets.transforms import (
    affine_matrix,
    box_to_center_scale,
    invert_affine,
    warp_image,
)
from posekit.engine import model_device
from posekit.skeletons import COCO17, convert, get_skeleton

__all__ = [
    "TopDownPrediction",
    "format_scaling_table",
    "people_scaling_benchmark",
    "person_crops",
    "scene_oks_ap",
    "shared_joint_ground_truth",
    "top_down_predict",
]


# --------------------------------------------------------------------------- inputs


def _uint8_image(image) -> np.ndarray:
    """``H×W×3`` uint8 RGB from a numpy image or a normalised ``(3, H, W)`` tensor."""
    if isinstance(image, torch.Tensor):
        from posekit.datasets.synthpose import denormalize

        image = denormalize(image)
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


def _input_size(input_size, codec) -> tuple[int, int]:
    size = input_size if input_size is not None else getattr(codec, "input_size", None)
    if size is None:
        raise ValueError("input_size: give the model's input (W, H) (the codec has none)")
    w, h = (int(size), int(size)) if np.ndim(size) == 0 else (int(size[0]), int(size[1]))
    if w < 1 or h < 1:
        raise ValueError(f"input_size: expected (W, H) > 0, got {size!r}")
    return w, h


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
        ``datasets.synthpose.normalize``) and float64 ``(N, 2, 3)`` image → crop matrices.
    """
    from posekit.datasets.synthpose import normalize

    img = _uint8_image(image)
    b = _boxes(boxes)
    w, h = _input_size(input_size, None)
    mats = np.zeros((len(b), 2, 3))
    crops = np.zeros((len(b), h, w, 3), np.uint8)
    for i, box in enumerate(b):
        center, scale = box_to_center_scale(box, w / h, padding)
        mats[i] = affine_matrix(center, scale, 0.0, (w, h))
        crops[i] = warp_image(img, mats[i], (w, h))
    tensor = normalize(crops) if len(b) else torch.zeros(0, 3, h, w)
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
    kp = codec.decode(outputs)
    kp = kp.detach().float().cpu().numpy() if isinstance(kp, torch.Tensor) else np.asarray(kp)
    if kp.ndim != 3 or kp.shape[-1] != 3:
        raise ValueError(f"codec.decode: expected (N, K, 3) keypoints, got {kp.shape}")
    return kp


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
    gives ``(N, K, 3)`` ``(x, y, score)`` in crop pixels, and each person is mapped back to
    the image with the inverse of its crop matrix, then converted to COCO-17 (see the module
    docstring for the joints MPII-16 lacks).

    Args:
        model: a top-down heatmap model (``HourglassNet``, ``HeatmapNet``, ``SimpleBaseline``,
            ...) taking ``(N, 3, H, W)`` normalised crops.
        codec: its codec (``HeatmapCodec``): ``decode(outputs) -> (N, K, 3)`` crop pixels.
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
    size = _input_size(input_size, codec)
    sk = get_skeleton(joint_set)
    crops, mats = person_crops(image, boxes, size, padding)
    if device is None:
        device = model_device(model)
    model.eval()
    if len(mats) == 0:
        empty = np.zeros((0, sk.num_joints, 3), np.float32)
        return _decode_people(empty, mats, sk)
    crop_kp = _decode(codec, _run(model, crops, device))
    if crop_kp.shape[:2] != (len(mats), sk.num_joints):
        raise ValueError(
            f"joint_set: the codec decoded {crop_kp.shape[1]} joints per person, "
            f"{sk.name} has {sk.num_joints}"
        )
    return _decode_people(crop_kp, mats, sk)


# --------------------------------------------------------------------------- accuracy


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


def scene_oks_ap(
    ground_truth: Sequence[dict],
    predictions: Sequence[tuple[np.ndarray, np.ndarray]],
    joint_set: str | None = "mpii16",
) -> dict[str, float]:
    """COCO keypoint AP of predictions on scenes, on the joints shared with ``joint_set``.

    Args:
        ground_truth: per image a dict with ``keypoints`` ``(N, 17, 3)`` COCO-17, ``bboxes``
            ``(N, 4)``, ``areas`` ``(N,)`` (a ``SynthPoseBottomUp`` item, numpy or torch) and
            ``size`` ``(H, W)``.
        predictions: per image ``(keypoints (P, 17, 3), scores (P,))`` in image pixels.
        joint_set: evaluate on the COCO-17 joints this set has (``shared_joint_ground_truth``);
            None = all 17.
    Returns:
        ``metrics.oks_ap``'s dict (``AP``, ``AP50``, ``AP75``, ``AR``...); all 0 when nothing
        is predicted. People whose shared joints are all unlabelled are ignored by
        pycocotools (``num_keypoints = 0``).
    """
    from posekit.codecs.paf import _add_empty_images
    from posekit.metrics import coco_gt_dict, coco_results, oks_ap

    if len(ground_truth) != len(predictions):
        raise ValueError(
            f"predictions: {len(predictions)} images for {len(ground_truth)} ground truths"
        )

    def numpy(x):
        return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)

    kps, boxes, areas, ids, sizes = [], [], [], [], {}
    for i, g in enumerate(ground_truth, start=1):
        kp = numpy(g["keypoints"]).astype(np.float32).reshape(-1, 17, 3)
        kps.append(kp if joint_set is None else shared_joint_ground_truth(kp, joint_set))
        boxes.append(numpy(g["bboxes"]).astype(np.float64).reshape(-1, 4))
        areas.append(numpy(g["areas"]).astype(np.float64).reshape(-1))
        ids += [i] * len(kp)
        sizes[i] = tuple(int(v) for v in g["size"])
    gt = coco_gt_dict(
        np.concatenate(kps), np.array([sizes[i] for i in ids]).reshape(-1, 2),
        bboxes=np.concatenate(boxes), areas=np.concatenate(areas),
        image_ids=np.asarray(ids, np.int64),
    )  # fmt: skip
    _add_empty_images(gt, sizes)
    det_kp = [np.asarray(k, np.float32).reshape(-1, 17, 3) for k, _ in predictions]
    det_ids = np.repeat(np.arange(1, len(det_kp) + 1), [len(k) for k in det_kp])
    if det_ids.size == 0:
        keys = ("AP", "AP50", "AP75", "APm", "APl", "AR", "AR50", "AR75", "ARm", "ARl")
        return {k: 0.0 for k in keys}
    scores = np.concatenate([np.asarray(s, np.float64).reshape(-1) for _, s in predictions])
    return oks_ap(gt, coco_results(np.concatenate(det_kp), scores, det_ids))


# --------------------------------------------------------------------------- benchmark


def _median_ms(fn: Callable[[], Any], runs: int) -> tuple[float, Any]:
    """Median wall time of ``fn()`` over ``runs`` calls (after one untimed call) in ms,
    under ``torch.inference_mode()``, and the last result."""
    with torch.inference_mode():
        out = fn()
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            out = fn()
            times.append(time.perf_counter() - start)
    return 1000.0 * float(np.median(times)), out


def _default_models(size: tuple[int, int]):
    """The lessons' scaled recipes, untrained: hourglass (lesson 03, 128²) and lightweight
    OpenPose at ``size`` (timing only)."""
    from posekit import recipes

    td = recipes.recipe("hourglass")
    bu = recipes.recipe("lightweight_openpose", size)
    return (
        (recipes.build_model(td.model, td.model_kwargs).eval(),
         recipes.build_codec(td.codec, td.codec_kwargs)),
        (recipes.build_model(bu.model, bu.model_kwargs).eval(),
         recipes.build_codec(bu.codec, bu.codec_kwargs)),
    )  # fmt: skip


def _scenes(k: int, count: int, size, seed: int) -> list[dict]:
    from posekit.datasets.synthpose import SynthPoseBottomUp

    ds = SynthPoseBottomUp("val", count, size=size, num_people=k, seed=seed)
    items = []
    for i in range(count):
        it = ds[i]
        items.append({
            "image": it["image"], "keypoints": it["keypoints"].numpy(),
            "bboxes": it["bboxes"].numpy(), "areas": it["areas"].numpy(),
            "size": (int(size[1]), int(size[0])),
        })  # fmt: skip
    return items


def _oracle_maps(codec, keypoints: np.ndarray, size) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The codec's targets for one image: perfect network outputs (one stage)."""
    t = codec.targets([keypoints], size)
    return [(torch.from_numpy(t["heatmaps"]), torch.from_numpy(t["pafs"]))]


def _time_top_down(model, codec, joint_set, scene, runs):
    size = _input_size(None, codec)
    dev = model_device(model)
    boxes = scene["bboxes"]
    crop_ms, (crops, mats) = _median_ms(lambda: person_crops(scene["image"], boxes, size), runs)
    model_ms, outputs = _median_ms(lambda: model(crops.to(dev)), runs)
    sk = get_skeleton(joint_set)
    decode_ms, pred = _median_ms(lambda: _decode_people(_decode(codec, outputs), mats, sk), runs)
    return crop_ms, model_ms, decode_ms, pred


def _time_bottom_up(model, codec, scene, runs, group_on: str):
    dev = model_device(model)
    x = scene["image"][None].to(dev)
    model_ms, outputs = _median_ms(lambda: model(x), runs)
    if group_on == "oracle":
        H, W = scene["size"]
        outputs = _oracle_maps(codec, scene["keypoints"], (W, H))
    group_ms, people = _median_ms(lambda: codec.decode(outputs)[0], runs)
    return model_ms, group_ms, people


def people_scaling_benchmark(
    people: Sequence[int] = (1, 2, 5, 10, 20),
    top_down=None,
    bottom_up=None,
    size: tuple[int, int] = (456, 256),
    scenes: int = 2,
    runs: int = 3,
    seed: int = 0,
    joint_set: str = "mpii16",
    group_on: str | None = None,
    progress: bool = False,
) -> list[dict[str, float]]:
    """Time (and accuracy) of top-down vs bottom-up as the number of people K grows.

    For each K, ``scenes`` ``SynthPoseBottomUp("val", size=size, num_people=K)`` scenes are
    rendered (people without any labelled joint are dropped, so a scene may hold fewer than
    K). Per scene, the median over ``runs`` calls (after one untimed call) of:

    * top-down: ``person_crops`` on the ground-truth boxes (a perfect, free detector — a real
      one adds its own time), the model on the K crops in one batch, ``codec.decode`` + the
      inverse affine maps + the COCO-17 conversion;
    * bottom-up: one network pass on the image, then ``codec.decode`` (peaks, line integral,
      matching, assembly: ``posekit.grouping``).

    Args:
        people: the values of K.
        top_down: ``(model, codec)`` of a top-down model (``codec.input_size`` is its crop
            size; joints in ``joint_set``), or None for lesson 03's hourglass recipe,
            untrained (timing only).
        bottom_up: ``(model, codec)`` with a ``PAFCodec``, or None for the
            ``lightweight_openpose`` recipe at ``size``, untrained (timing only).
        size: scene ``(W, H)`` (a multiple of the bottom-up stride).
        scenes, runs: scenes per K and timed calls per step.
        joint_set: the top-down model's joints; accuracy is measured on the COCO-17 joints
            this set has (``scene_oks_ap``), for both methods.
        group_on: ``"model"`` groups the bottom-up network's maps, ``"oracle"`` the codec's
            targets of the scene (what a perfect network gives: an untrained network's maps
            are noise and would time an unrealistic grouping). Default: ``"model"`` when
            ``bottom_up`` is given, else ``"oracle"``.
        progress: print one line per K.
    Returns:
        one dict per K: ``people`` (K), ``mean_people`` (people per scene actually present),
        ``top_down_ms`` = ``top_down_crop_ms + top_down_model_ms + top_down_decode_ms``,
        ``bottom_up_ms`` = ``bottom_up_model_ms + bottom_up_group_ms`` (means over the
        scenes), ``top_down_AP`` / ``top_down_AP50`` / ``bottom_up_AP`` / ``bottom_up_AP50``
        (OKS AP in [0, 1] over the K's scenes; NaN for a method whose model was not given).
    """
    if group_on not in (None, "model", "oracle"):
        raise ValueError(f"group_on: expected None, 'model' or 'oracle', got {group_on!r}")
    ks = [int(k) for k in people]
    if not ks or min(ks) < 1:
        raise ValueError(f"people: expected positive numbers of people, got {people!r}")
    if int(scenes) < 1 or int(runs) < 1:
        raise ValueError(f"scenes, runs: expected >= 1, got {scenes!r}, {runs!r}")
    defaults = _default_models(size) if top_down is None or bottom_up is None else None
    td_given, bu_given = top_down is not None, bottom_up is not None
    td_model, td_codec = top_down if td_given else defaults[0]
    bu_model, bu_codec = bottom_up if bu_given else defaults[1]
    group_on = group_on or ("model" if bu_given else "oracle")
    td_model.eval()
    bu_model.eval()
    rows = []
    for k in ks:
        items = _scenes(k, int(scenes), size, seed)
        times = {key: [] for key in ("tc", "tm", "td", "bm", "bg")}
        td_pred, bu_pred = [], []
        for scene in items:
            tc, tm, td, pred = _time_top_down(td_model, td_codec, joint_set, scene, runs)
            bm, bg, ppl = _time_bottom_up(bu_model, bu_codec, scene, runs, group_on)
            for key, v in zip(times, (tc, tm, td, bm, bg), strict=True):
                times[key].append(v)
            td_pred.append((pred.keypoints, pred.scores))
            bu_pred.append((ppl.keypoints, ppl.scores))
        mean = {key: float(np.mean(v)) for key, v in times.items()}
        nan = float("nan")
        td_ap = scene_oks_ap(items, td_pred, joint_set) if td_given else {"AP": nan, "AP50": nan}
        bu_ap = scene_oks_ap(items, bu_pred, joint_set) if bu_given else {"AP": nan, "AP50": nan}
        row = {
            "people": k,
            "mean_people": float(np.mean([len(s["keypoints"]) for s in items])),
            "top_down_ms": mean["tc"] + mean["tm"] + mean["td"],
            "top_down_crop_ms": mean["tc"], "top_down_model_ms": mean["tm"],
            "top_down_decode_ms": mean["td"],
            "bottom_up_ms": mean["bm"] + mean["bg"],
            "bottom_up_model_ms": mean["bm"], "bottom_up_group_ms": mean["bg"],
            "top_down_AP": td_ap["AP"], "top_down_AP50": td_ap["AP50"],
            "bottom_up_AP": bu_ap["AP"], "bottom_up_AP50": bu_ap["AP50"],
        }  # fmt: skip
        rows.append(row)
        if progress:
            print(f"K={k}: top-down {row['top_down_ms']:.1f} ms, "
                  f"bottom-up {row['bottom_up_ms']:.1f} ms")  # fmt: skip
    return rows


def format_scaling_table(rows: Sequence[dict]) -> str:
    """A text table of ``people_scaling_benchmark`` rows (times in ms, AP in %)."""

    def ap(v: float) -> str:
        return "-" if v != v else f"{100 * v:.1f}"

    head = ("K", "people", "top-down ms", "(crop/model/decode)", "bottom-up ms",
            "(model/group)", "AP top-down", "AP bottom-up")  # fmt: skip
    body = [
        (str(r["people"]), f"{r['mean_people']:.1f}", f"{r['top_down_ms']:.1f}",
         f"{r['top_down_crop_ms']:.1f}/{r['top_down_model_ms']:.1f}/"
         f"{r['top_down_decode_ms']:.1f}", f"{r['bottom_up_ms']:.1f}",
         f"{r['bottom_up_model_ms']:.1f}/{r['bottom_up_group_ms']:.1f}",
         ap(r["top_down_AP"]), ap(r["bottom_up_AP"]))
        for r in rows
    ]  # fmt: skip
    widths = [max(len(x[c]) for x in (head, *body)) for c in range(len(head))]
    lines = [" | ".join(v.rjust(w) for v, w in zip(r, widths, strict=True)) for r in (head, *body)]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)
