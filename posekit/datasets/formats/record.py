"""The in-memory record every format reader returns and every writer takes."""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from posekit.skeletons import get_skeleton


def _float32(value: Any, name: str) -> np.ndarray:
    try:
        return np.array(value, dtype=np.float32, copy=True)
    except (TypeError, ValueError, OverflowError) as e:  # ragged lists, strings, huge ints
        raise ValueError(f"ImageAnnotation.{name}: not a float32 array ({e})") from None


def _opt_array(value: Any, shape: tuple[int, ...], name: str) -> np.ndarray | None:
    if value is None:
        return None
    arr = _float32(value, name)
    if arr.shape != shape:
        raise ValueError(f"ImageAnnotation.{name}: expected shape {shape}, got {arr.shape}")
    return arr


@dataclass(eq=False)
class ImageAnnotation:
    """The people annotated in one image (MPII-HRNet JSON: one person, i.e. one JSON entry).

    Coordinates follow posekit's convention: 0-based pixels, pixel centres at integer
    coordinates (MATLAB-based formats -- MPII, LSP -- are shifted by 1 on reading/writing).

    Attributes:
        file_name: image file name as stored in the annotation (``"015601864.jpg"``).
        keypoints: ``(N, K, 3)`` float32 ``(x, y, v)``; v: 0 not labelled (x = y = 0),
            1 labelled but occluded, 2 visible.
        skeleton: joint-set name (``"mpii16"``, ``"coco17"``, ...; see ``posekit.skeletons``).
        width, height: image size in pixels, when the format stores it (COCO), else ``None``.
        image_id: the format's image id (COCO ``id``), else ``None``.
        bboxes: ``(N, 4)`` float32 ``[x, y, w, h]`` as the format stores them (COCO), or ``None``.
        centers: ``(N, 2)`` float32 person centres (MPII ``objpos``), 0-based; NaN = unknown.
        scales: ``(N,)`` float32 person height / 200 px (MPII ``scale``); NaN = unknown.
        headboxes: ``(N, 2, 2)`` float32 ``[[x1, y1], [x2, y2]]`` head boxes, 0-based; NaN =
            unknown (MPII test rects).
        extra: format-specific values; per-person lists have length N. Each reader documents
            its keys; writers read the same keys back (missing keys get defaults).
    """

    file_name: str
    keypoints: np.ndarray
    skeleton: str
    width: int | None = None
    height: int | None = None
    image_id: int | None = None
    bboxes: np.ndarray | None = None
    centers: np.ndarray | None = None
    scales: np.ndarray | None = None
    headboxes: np.ndarray | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.file_name, str):
            raise TypeError(
                f"ImageAnnotation.file_name must be a str, got {type(self.file_name).__name__}"
            )
        for name in ("width", "height", "image_id"):
            v = getattr(self, name)
            if v is not None and (not isinstance(v, numbers.Integral) or isinstance(v, bool)):
                raise TypeError(f"ImageAnnotation.{name} must be an integer or None, got {v!r:.40}")
        for name in ("width", "height"):
            if getattr(self, name) is not None and getattr(self, name) <= 0:
                raise ValueError(f"ImageAnnotation.{name} must be > 0, got {getattr(self, name)}")
        sk = get_skeleton(self.skeleton)
        self.skeleton = sk.name
        kp = _float32(self.keypoints, "keypoints")
        if kp.ndim != 3 or kp.shape[1:] != (sk.num_joints, 3):
            raise ValueError(
                f"ImageAnnotation.keypoints: expected shape (N, {sk.num_joints}, 3) for "
                f"{sk.name}, got {kp.shape}"
            )
        self.keypoints = kp
        n = kp.shape[0]
        self.bboxes = _opt_array(self.bboxes, (n, 4), "bboxes")
        self.centers = _opt_array(self.centers, (n, 2), "centers")
        self.scales = _opt_array(self.scales, (n,), "scales")
        self.headboxes = _opt_array(self.headboxes, (n, 2, 2), "headboxes")

    @property
    def num_people(self) -> int:
        return int(self.keypoints.shape[0])

    def equals(self, other: ImageAnnotation) -> bool:
        """Exact equality of every field (NaN equals NaN, arrays compared element-wise)."""
        if not isinstance(other, ImageAnnotation):
            return False
        return all(
            values_equal(getattr(self, f), getattr(other, f))
            for f in (
                "file_name", "keypoints", "skeleton", "width", "height", "image_id",
                "bboxes", "centers", "scales", "headboxes", "extra",
            )
        )  # fmt: skip


def values_equal(a: Any, b: Any) -> bool:
    """Deep equality for nested dicts/lists/arrays; NaN equals NaN; scalar types must match."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)):
            return False
        if a.shape != b.shape or a.dtype.kind != b.dtype.kind:
            return False
        nan_ok = a.dtype.kind in "fc"
        return bool(np.array_equal(a, b, equal_nan=nan_ok))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(values_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(values_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float) and np.isnan(a) and np.isnan(b):
        return True
    return type(a) is type(b) and bool(a == b)


def group_by_image(records: Iterable[ImageAnnotation]) -> list[ImageAnnotation]:
    """Merge records of the same ``file_name`` (e.g. HRNet per-person entries) into one.

    Records keep first-appearance order; per-person arrays are concatenated (an array that
    only some records have is filled with NaN elsewhere). ``extra`` of a merged record is
    ``{"source_indices": [...]}``: the positions of its parts in ``records``.
    """
    records = list(records)
    groups: dict[str, list[int]] = {}
    for i, r in enumerate(records):
        groups.setdefault(r.file_name, []).append(i)
    out = []
    for name, idx in groups.items():
        parts = [records[i] for i in idx]
        sk = {p.skeleton for p in parts}
        if len(sk) != 1:
            raise ValueError(f"group_by_image: {name!r} has records with joint sets {sorted(sk)}")
        merged: dict[str, Any] = {}
        for attr, tail in (
            ("bboxes", (4,)),
            ("centers", (2,)),
            ("scales", ()),
            ("headboxes", (2, 2)),
        ):
            if all(getattr(p, attr) is None for p in parts):
                merged[attr] = None
                continue
            merged[attr] = np.concatenate(
                [
                    getattr(p, attr)
                    if getattr(p, attr) is not None
                    else np.full((p.num_people, *tail), np.nan, np.float32)
                    for p in parts
                ]
            )
        first = parts[0]
        out.append(
            ImageAnnotation(
                file_name=name,
                keypoints=np.concatenate([p.keypoints for p in parts]),
                skeleton=first.skeleton,
                width=first.width,
                height=first.height,
                image_id=first.image_id,
                extra={"source_indices": idx},
                **merged,
            )
        )
    return out
