"""Top-down vs bottom-up as the number of people K grows: time and accuracy (lesson 04).

A top-down method runs its network once per person (``posekit.topdown``), a bottom-up one once
per image and then groups (``posekit.codecs.grouping``); ``people_scaling_benchmark`` times
both on the same SynthPose scenes, step by step, and scores them with
``evaluation.scene_oks_ap``. ``format_scaling_table`` prints the rows.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from posekit import recipes
from posekit.datasets.synthpose import SynthPoseBottomUp
from posekit.engine import model_device
from posekit.evaluation import scene_oks_ap
from posekit.topdown import crop_size, decode_crops, person_crops

__all__ = ["format_scaling_table", "people_scaling_benchmark"]


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
    td = recipes.recipe("hourglass")
    bu = recipes.recipe("lightweight_openpose", size)
    return (
        (recipes.build_model(td.model, td.model_kwargs).eval(),
         recipes.build_codec(td.codec, td.codec_kwargs)),
        (recipes.build_model(bu.model, bu.model_kwargs).eval(),
         recipes.build_codec(bu.codec, bu.codec_kwargs)),
    )  # fmt: skip


def _scenes(k: int, count: int, size, seed: int) -> list[dict]:
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
    size = crop_size(codec)
    dev = model_device(model)
    boxes = scene["bboxes"]
    crop_ms, (crops, mats) = _median_ms(lambda: person_crops(scene["image"], boxes, size), runs)
    model_ms, outputs = _median_ms(lambda: model(crops.to(dev)), runs)
    decode_ms, pred = _median_ms(lambda: decode_crops(codec, outputs, mats, joint_set), runs)
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
      matching, assembly: ``posekit.codecs.grouping``).

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
