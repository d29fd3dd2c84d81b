"""COCO person keypoints (``person_keypoints_{train,val}2017.json``) and keypoint results
files (``docs/datasets.md`` § COCO keypoints).

COCO keypoints are pixel indices (pixel centres at integers, as in posekit) and are read and
written unchanged; flags are COCO's own (0 not labelled with x = y = 0, 1 labelled but not
visible, 2 visible). Boxes ``[x, y, w, h]`` and ``area`` are kept as the file stores them.

Readers refuse (``FormatError`` naming the file and the field) what no COCO file holds: a
NaN/inf keypoint, box, area or score (Python's ``json`` writes them as ``NaN``/``Infinity``) or
one beyond float32, a negative box size or area, a non-positive image size, ids that are not
64-bit integers.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from posekit.datasets.formats.errors import (
    INT64_MAX,
    INT64_MIN,
    FormatError,
    check_file,
    first_nonfinite32,
    is_finite32,
    json_floats,
    load_json,
    shortest_float,
)
from posekit.datasets.formats.record import ImageAnnotation
from posekit.skeletons import COCO17
from posekit.validate import is_json_number

NUM_JOINTS = 17
PERSON_CATEGORY_ID = 1
#: The ``categories`` entry of the COCO keypoint files (names and 1-based skeleton).
COCO_PERSON_CATEGORY: dict[str, Any] = {
    "supercategory": "person",
    "id": PERSON_CATEGORY_ID,
    "name": "person",
    "keypoints": list(COCO17.labels),
    "skeleton": [[a + 1, b + 1] for a, b in COCO17.limbs],
}
IMAGE_KEYS = ("id", "file_name", "width", "height")


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_id(v: Any) -> bool:
    """A JSON integer that fits the int64 ids of COCO tools."""
    return _is_int(v) and INT64_MIN <= v <= INT64_MAX


def _check_id(p: Path, v: Any, field: str) -> None:
    if not _is_id(v):
        raise FormatError(p, f"is {v!r:.40}; expected an integer id (64-bit)", field)


def _keypoint_values(p: Path, k: Any, field: str) -> np.ndarray:
    """51 finite JSON numbers as a ``(17, 3)`` float64 array, else a ``FormatError``."""
    if not isinstance(k, list) or not all(is_json_number(v) for v in k):
        raise FormatError(p, "is not a list of numbers", field)
    if len(k) != 3 * NUM_JOINTS:
        raise FormatError(p, f"has {len(k)} values, expected {3 * NUM_JOINTS}", field)
    arr = json_floats(p, k, field).reshape(NUM_JOINTS, 3)
    bad = first_nonfinite32(arr)
    if bad is not None:
        j, c = bad
        raise FormatError(
            p, f"has {'xyv'[c]} = {k[3 * j + c]!r:.30} for joint {j} ({COCO17.labels[j]}); "
            "expected a finite number (float32)", field,
        )  # fmt: skip
    return arr


def _bbox(p: Path, bbox: Any, field: str) -> list[float]:
    """``[x, y, w, h]``: 4 finite numbers, ``w, h >= 0``."""
    if not (isinstance(bbox, list) and len(bbox) == 4 and all(is_json_number(b) for b in bbox)):
        raise FormatError(p, f"is {bbox!r:.60}; expected [x, y, w, h]", field)
    box = json_floats(p, bbox, field)
    if first_nonfinite32(box) is not None:
        raise FormatError(p, f"is {bbox!r:.60}; expected finite numbers (float32)", field)
    if box[2] < 0 or box[3] < 0:
        raise FormatError(p, f"is {bbox!r:.60}; width and height must be >= 0", field)
    return box.tolist()


def read_coco_keypoints(path: str | os.PathLike, *, strict: bool = True) -> list[ImageAnnotation]:
    """Read a COCO person-keypoints JSON, grouping annotations per image.

    Returns one ``ImageAnnotation`` (``coco17``) per entry of ``images``, in file order, with
    ``image_id``, ``width``, ``height``, ``keypoints`` (flags as stored; v = 0 joints are set
    to ``(0, 0, 0)``), ``bboxes`` (as stored) and ``extra``:

    * ``ann_ids``, ``iscrowd`` (ints), ``area`` (floats), ``segmentation`` (as stored): one
      per person, annotation order of the file;
    * ``image_info``: the image's other keys (``license``, ``coco_url``, ...).

    Only annotations of the ``person`` category are read (others are skipped). Crowd
    annotations (``iscrowd = 1``, no keypoints) are kept as people with all v = 0.
    With ``strict`` (default), ``num_keypoints`` must equal the count of v > 0, flags must be
    0/1/2 and the category's keypoint names must be COCO's 17.
    """
    p = check_file(path)
    data = load_json(p)
    if not isinstance(data, dict):
        raise FormatError(p, f"top level is a {type(data).__name__}; expected an object")
    for key in ("images", "annotations", "categories"):
        if key not in data:
            raise FormatError(p, f"is missing (top-level keys: {sorted(data)})", key)
        if not isinstance(data[key], list):
            raise FormatError(p, f"is a {type(data[key]).__name__}; expected a list", key)

    person_ids = set()
    for c, cat in enumerate(data["categories"]):
        if not isinstance(cat, dict) or "id" not in cat:
            raise FormatError(p, "is not an object with an 'id'", f"categories[{c}]")
        _check_id(p, cat["id"], f"categories[{c}].id")
        if cat.get("name") == "person" or (
            cat.get("id") == PERSON_CATEGORY_ID and "name" not in cat
        ):
            person_ids.add(cat["id"])
            names = cat.get("keypoints")
            if strict and names is not None and names != list(COCO17.labels):
                raise FormatError(
                    p, f"is {names!r:.80}; expected COCO's 17 names", f"categories[{c}].keypoints"
                )
    if not person_ids:
        raise FormatError(p, "has no 'person' category", "categories")

    records: list[ImageAnnotation] = []
    by_id: dict[int, int] = {}
    people: list[list[tuple[int, dict[str, Any]]]] = []
    for i, img in enumerate(data["images"]):
        w = f"images[{i}]"
        if not isinstance(img, dict):
            raise FormatError(p, f"is a {type(img).__name__}; expected an object", w)
        for key in IMAGE_KEYS:
            if key not in img:
                raise FormatError(p, f"is missing (image has {sorted(img)})", f"{w}.{key}")
        _check_id(p, img["id"], f"{w}.id")
        for key in ("width", "height"):
            if not _is_int(img[key]) or img[key] <= 0:
                raise FormatError(
                    p, f"is {img[key]!r:.40}; expected a positive integer", f"{w}.{key}"
                )
        if not isinstance(img["file_name"], str):
            raise FormatError(
                p, f"is {img['file_name']!r:.40}; expected a string", f"{w}.file_name"
            )
        if img["id"] in by_id:
            raise FormatError(p, f"repeats image id {img['id']}", f"{w}.id")
        by_id[img["id"]] = i
        people.append([])

    for a, ann in enumerate(data["annotations"]):
        w = f"annotations[{a}]"
        if not isinstance(ann, dict):
            raise FormatError(p, f"is a {type(ann).__name__}; expected an object", w)
        if "category_id" not in ann:
            raise FormatError(p, "is missing", f"{w}.category_id")
        _check_id(p, ann["category_id"], f"{w}.category_id")
        if ann["category_id"] not in person_ids:
            continue
        for key in ("id", "image_id", "keypoints"):
            if key not in ann:
                raise FormatError(p, f"is missing (annotation has {sorted(ann)})", f"{w}.{key}")
        _check_id(p, ann["image_id"], f"{w}.image_id")
        if ann["image_id"] not in by_id:
            raise FormatError(p, f"is {ann['image_id']!r}, not an id in 'images'", f"{w}.image_id")
        people[by_id[ann["image_id"]]].append((a, ann))

    for i, img in enumerate(data["images"]):
        records.append(_image_record(img, people[i], p, strict))
    return records


def _image_record(
    img: dict[str, Any], anns: list[tuple[int, dict[str, Any]]], p: Path, strict: bool
) -> ImageAnnotation:
    n = len(anns)
    kps = np.zeros((n, NUM_JOINTS, 3), np.float32)
    boxes = np.zeros((n, 4), np.float32)
    extra: dict[str, Any] = {"ann_ids": [], "iscrowd": [], "area": [], "segmentation": []}
    for r, (a, ann) in enumerate(anns):
        w = f"annotations[{a}]"
        arr = _keypoint_values(p, ann["keypoints"], f"{w}.keypoints")
        v = arr[:, 2]
        if strict and not np.isin(v, (0, 1, 2)).all():
            raise FormatError(
                p, f"has flags {sorted(set(v.tolist()))}; expected 0/1/2", f"{w}.keypoints"
            )
        lab = v > 0
        kps[r, :, :2] = np.where(lab[:, None], arr[:, :2], 0.0)
        kps[r, :, 2] = np.where(lab, v, 0.0)
        if "num_keypoints" in ann:
            nk = ann["num_keypoints"]
            if not _is_int(nk):
                raise FormatError(p, f"is {nk!r:.30}; expected an integer", f"{w}.num_keypoints")
            if strict and nk != int(lab.sum()):
                raise FormatError(
                    p, f"is {nk} but keypoints has {int(lab.sum())} labelled (v > 0)",
                    f"{w}.num_keypoints",
                )  # fmt: skip
        elif strict:
            raise FormatError(p, "is missing", f"{w}.num_keypoints")
        bbox = ann.get("bbox")
        if bbox is None:
            if strict:
                raise FormatError(p, "is missing", f"{w}.bbox")
            bbox = [0.0, 0.0, 0.0, 0.0]
        boxes[r] = bbox = _bbox(p, bbox, f"{w}.bbox")
        area = ann.get("area", bbox[2] * bbox[3])
        if not is_json_number(area) or not is_finite32(area) or area < 0:
            raise FormatError(p, f"is {area!r:.30}; expected a finite number >= 0", f"{w}.area")
        crowd = ann.get("iscrowd", 0)
        if crowd not in (0, 1) or isinstance(crowd, bool):
            raise FormatError(p, f"is {crowd!r:.30}; expected 0 or 1", f"{w}.iscrowd")
        _check_id(p, ann["id"], f"{w}.id")
        extra["ann_ids"].append(ann["id"])
        extra["iscrowd"].append(int(crowd))
        extra["area"].append(float(area))
        extra["segmentation"].append(ann.get("segmentation", []))
    extra["image_info"] = {k: v for k, v in img.items() if k not in IMAGE_KEYS}
    return ImageAnnotation(
        file_name=img["file_name"],
        keypoints=kps,
        skeleton="coco17",
        width=img["width"],
        height=img["height"],
        image_id=img["id"],
        bboxes=boxes,
        extra=extra,
    )


def keypoint_bbox(keypoints: np.ndarray) -> np.ndarray:
    """Tight ``[x, y, w, h]`` around the labelled joints of one ``(K, 3)`` pose (zeros when
    none is labelled)."""
    kp = np.asarray(keypoints, np.float32)
    lab = kp[:, 2] > 0
    if not lab.any():
        return np.zeros(4, np.float32)
    lo = kp[lab, :2].min(axis=0)
    hi = kp[lab, :2].max(axis=0)
    return np.array([lo[0], lo[1], hi[0] - lo[0], hi[1] - lo[1]], np.float32)


def write_coco_keypoints(
    path: str | os.PathLike,
    records: Iterable[ImageAnnotation],
    *,
    info: dict[str, Any] | None = None,
    licenses: list[Any] | None = None,
    indent: int | None = None,
) -> Path:
    """Write records (``coco17``) as a COCO person-keypoints JSON that ``pycocotools`` loads.

    * ``images``: ``id`` = ``record.image_id`` (else its 1-based position), ``file_name``,
      ``width``, ``height`` (required), plus ``extra["image_info"]``.
    * ``annotations``: one per person; ``keypoints`` 51 values (v = 0 joints as 0, 0, 0),
      ``num_keypoints`` = count of v > 0, ``bbox`` = ``record.bboxes`` (else the tight box of
      the labelled joints), ``area`` = ``extra["area"]`` (else bbox w * h), ``iscrowd`` =
      ``extra["iscrowd"]`` (else 0), ``segmentation`` = ``extra["segmentation"]`` (else the
      bbox as one polygon), ``id`` = ``extra["ann_ids"]`` (else the next free id), category 1.
    * ``categories``: ``[COCO_PERSON_CATEGORY]``; ``info`` and ``licenses``.

    Floats are written as the shortest decimal that reads back to the same float32, and
    integral values as ints, so ``write -> read`` is exact.
    """
    records = list(records)
    images, annotations = [], []
    used_img: set[int] = set()
    used_ann = {a for r in records for a in (r.extra.get("ann_ids") or [])}
    next_ann = max(used_ann, default=0) + 1
    for i, rec in enumerate(records):
        where = f"write_coco_keypoints: records[{i}]"
        if rec.skeleton != "coco17":
            raise ValueError(f"{where} has joint set {rec.skeleton!r}; convert to 'coco17' first")
        if rec.width is None or rec.height is None:
            raise ValueError(f"{where} ({rec.file_name}) has no width/height; COCO needs them")
        img_id = int(rec.image_id) if rec.image_id is not None else i + 1
        if img_id in used_img:
            raise ValueError(f"{where}: image id {img_id} is used twice")
        used_img.add(img_id)
        image = {"id": img_id, "file_name": str(rec.file_name), "width": int(rec.width),
                 "height": int(rec.height)}  # fmt: skip
        image.update(rec.extra.get("image_info") or {})
        images.append(image)
        ex = rec.extra
        n = rec.num_people
        for key in ("ann_ids", "iscrowd", "area", "segmentation"):
            if ex.get(key) is not None and len(ex[key]) != n:
                raise ValueError(
                    f"{where}: extra[{key!r}] has {len(ex[key])} values for {n} people"
                )
        for r in range(n):
            kp = rec.keypoints[r]
            v = kp[:, 2]
            if not np.isin(v, (0, 1, 2)).all():
                raise ValueError(f"{where}: person {r} has flags other than 0/1/2: {v.tolist()}")
            flat: list[float | int] = []
            for j in range(NUM_JOINTS):
                if v[j] > 0:
                    flat += [shortest_float(kp[j, 0]), shortest_float(kp[j, 1]), int(v[j])]
                else:
                    flat += [0, 0, 0]
            if rec.bboxes is not None and np.isfinite(rec.bboxes[r]).all():
                box = rec.bboxes[r]
            else:
                box = keypoint_bbox(kp)
            bbox = [shortest_float(b) for b in box]
            if ex.get("ann_ids") is not None:
                ann_id = int(ex["ann_ids"][r])
            else:
                ann_id = next_ann
                next_ann += 1
            area = ex["area"][r] if ex.get("area") is not None else float(box[2]) * float(box[3])
            if ex.get("segmentation") is not None:
                seg = ex["segmentation"][r]
            elif box[2] > 0 and box[3] > 0:
                x, y, w, h = bbox
                seg = [[x, y, x + w, y, x + w, y + h, x, y + h]]
            else:
                seg = []
            annotations.append(
                {
                    "id": ann_id,
                    "image_id": img_id,
                    "category_id": PERSON_CATEGORY_ID,
                    "iscrowd": int(ex["iscrowd"][r]) if ex.get("iscrowd") is not None else 0,
                    "bbox": bbox,
                    "area": float(area),
                    "segmentation": seg,
                    "num_keypoints": int((v > 0).sum()),
                    "keypoints": flat,
                }
            )
    ids = [a["id"] for a in annotations]
    if len(set(ids)) != len(ids):
        raise ValueError("write_coco_keypoints: annotation ids are not unique")
    data = {
        "info": info if info is not None else {"description": "written by posekit"},
        "licenses": licenses if licenses is not None else [],
        "images": images,
        "annotations": annotations,
        "categories": [COCO_PERSON_CATEGORY],
    }
    out = Path(path)
    with open(out, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=indent, allow_nan=False)
    return out


def write_coco_results(
    path: str | os.PathLike,
    image_ids: Sequence[int],
    keypoints: np.ndarray,
    scores: Sequence[float],
) -> Path:
    """Write a COCO keypoint results file ``[{"image_id", "category_id": 1, "keypoints": [51],
    "score"}]`` (for ``COCO.loadRes``).

    ``keypoints`` is ``(N, 17, 3)`` (the third value -- e.g. a per-joint confidence -- is
    written as is; COCOeval ignores it) or ``(N, 17, 2)`` (written with 1).
    """
    kp = np.asarray(keypoints, np.float32)
    if kp.ndim != 3 or kp.shape[1] != NUM_JOINTS or kp.shape[2] not in (2, 3):
        raise ValueError(f"write_coco_results: keypoints must be (N, 17, 3|2), got {kp.shape}")
    if kp.shape[2] == 2:
        kp = np.concatenate([kp, np.ones((*kp.shape[:2], 1), np.float32)], axis=2)
    ids = [int(i) for i in image_ids]
    sc = [float(s) for s in scores]
    if not (len(ids) == len(sc) == len(kp)):
        raise ValueError(
            f"write_coco_results: {len(ids)} image ids, {len(sc)} scores, {len(kp)} poses"
        )
    results = [
        {
            "image_id": ids[n],
            "category_id": PERSON_CATEGORY_ID,
            "keypoints": [shortest_float(v) for v in kp[n].ravel()],
            "score": shortest_float(sc[n]),
        }
        for n in range(len(kp))
    ]
    out = Path(path)
    with open(out, "w", encoding="utf-8") as f:
        json.dump(results, f, allow_nan=False)
    return out


def read_coco_results(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Read a keypoint results file: ``(image_ids (N,) int64, keypoints (N, 17, 3) float32,
    scores (N,) float32)``; the third keypoint value is returned as stored. Every value must
    be finite (a NaN prediction is a ``FormatError`` naming the result and field)."""
    p = check_file(path)
    data = load_json(p)
    if not isinstance(data, list):
        raise FormatError(p, f"top level is a {type(data).__name__}; expected a list of results")
    ids = np.zeros(len(data), np.int64)
    kps = np.zeros((len(data), NUM_JOINTS, 3), np.float32)
    scores = np.zeros(len(data), np.float32)
    for n, res in enumerate(data):
        w = f"[{n}]"
        if not isinstance(res, dict):
            raise FormatError(p, f"is a {type(res).__name__}; expected an object", w)
        for key in ("image_id", "keypoints", "score"):
            if key not in res:
                raise FormatError(p, f"is missing (result has {sorted(res)})", f"{w}.{key}")
        kps[n] = _keypoint_values(p, res["keypoints"], f"{w}.keypoints")
        _check_id(p, res["image_id"], f"{w}.image_id")
        score = res["score"]
        if not is_json_number(score) or not is_finite32(score):
            raise FormatError(p, f"is {score!r:.30}; expected a finite number", f"{w}.score")
        ids[n] = res["image_id"]
        scores[n] = score
    return ids, kps, scores
