"""MPII Human Pose: the official ``mpii_human_pose_v1_u12_1.mat`` and HRNet's preprocessed
``{train,valid,test}.json`` + ``gt_valid.mat`` (``docs/datasets.md`` § MPII Human Pose).

All MPII files hold 1-based MATLAB pixel coordinates; posekit records are 0-based, so readers
subtract 1 from every coordinate (joints, head boxes, ``objpos``/``center``) and writers add 1.
Joint order is MPII's ids 0..15 = ``posekit.skeletons.MPII16``.

Visibility flags:

* official ``is_visible``: 1 -> v=2; 0 or empty -> v=1 (labelled, not visible: the point is
  present). Joints without a point -> v=0. ``is_visible`` may be numeric or a 1-char string.
  The writer writes numeric 1/0.
* HRNet ``joints_vis`` means *labelled*, not visible: 1 -> v=2 (visibility unknown, shown as
  visible), 0 -> v=0 with the joint ``[-1, -1]``. The writer writes ``joints_vis = v > 0``, so
  v=1 is exported as labelled and reads back as v=2 (the format cannot hold it).
* ``gt_valid.mat`` ``jnt_missing``: 1 -> v=0, 0 -> v=2.

Readers refuse (``FormatError`` naming the file, the record and the field) values no MPII file
holds: NaN/inf or beyond-float32 coordinates, flags other than 0/1, scales <= 0, head boxes
that are inverted or empty (not ``x1 < x2`` and ``y1 < y2``), half-given head boxes and centres,
fractional ids and indices, negative ``frame_sec``. Unknown values are absent (``[]``) in
the ``.mat`` files and ``-1`` in HRNet's JSON (a centre is unknown only as ``[-1, -1]``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from posekit.datasets.formats.errors import (
    FormatError,
    check_file,
    first_nonfinite32,
    is_finite32,
    json_floats,
    load_json,
    load_mat,
    mat_array,
    shortest_float,
)
from posekit.datasets.formats.record import ImageAnnotation
from posekit.skeletons import MPII16
from posekit.validate import is_json_number

NUM_JOINTS = 16
#: ``gt_valid.mat`` ``dataset_joints`` names in MPII id order (``head`` = head top).
MPII_JOINT_NAMES: tuple[str, ...] = MPII16.labels
#: Fields of ``RELEASE`` in the official file, in order.
RELEASE_FIELDS = ("annolist", "img_train", "version", "single_person", "act", "video_list")
TRAIN_RECT_FIELDS = ("x1", "y1", "x2", "y2", "annopoints", "scale", "objpos")
TEST_RECT_FIELDS = ("scale", "objpos")
POINT_FIELDS = ("x", "y", "id", "is_visible")
HEAD_FIELDS = ("x1", "y1", "x2", "y2")
#: Deepest cell-inside-cell nesting accepted (the real file nests 2 deep).
MAX_CELL_DEPTH = 32

# ---------------------------------------------------------------------------------------------
# MATLAB struct access that works for both scipy styles:
#   loadmat(f)                                          -> np.void / structured ndarrays, 2-D
#   loadmat(f, struct_as_record=False, squeeze_me=True)  -> mat_struct objects, squeezed
# ---------------------------------------------------------------------------------------------


def _mat_struct_type():
    try:
        from scipy.io.matlab import mat_struct
    except ImportError:  # scipy < 1.8
        from scipy.io.matlab.mio5_params import mat_struct
    return mat_struct


_MAT_STRUCT = _mat_struct_type()


def _is_struct(x: Any) -> bool:
    return isinstance(x, (np.void, _MAT_STRUCT))


def _field_names(x: Any) -> tuple[str, ...]:
    if isinstance(x, np.void):
        return tuple(x.dtype.names or ())
    return tuple(getattr(x, "_fieldnames", ()))


def _get(x: Any, name: str) -> Any:
    """Field ``name`` of one struct element, ``None`` when the struct has no such field."""
    if isinstance(x, np.void):
        return x[name] if name in (x.dtype.names or ()) else None
    if isinstance(x, _MAT_STRUCT):
        return getattr(x, name) if name in x._fieldnames else None
    return None


def _elems(x: Any, path: Path, where: str, depth: int = 0) -> list[Any]:
    """The elements of a struct array (MATLAB column-major order); ``[]`` when empty."""
    if depth > MAX_CELL_DEPTH:
        raise FormatError(path, f"nests cells more than {MAX_CELL_DEPTH} deep", where)
    if x is None:
        return []
    if _is_struct(x):
        return [x]
    if isinstance(x, np.ndarray):
        if x.size == 0:
            return []
        if x.dtype.names:
            return list(x.ravel(order="F"))
        if x.dtype == object:
            out: list[Any] = []
            for item in x.ravel(order="F"):
                out.extend(_elems(item, path, where, depth + 1))
            return out
    raise FormatError(path, f"is a {type(x).__name__} ({_describe(x)}); expected a struct", where)


def _describe(x: Any) -> str:
    if isinstance(x, np.ndarray):
        return f"dtype {x.dtype}, shape {x.shape}"
    return repr(x)[:40]


def _unwrap(x: Any) -> Any:
    while isinstance(x, np.ndarray) and x.dtype == object and x.size == 1:
        x = x.ravel()[0]
    return x


def _string(x: Any, path: Path, where: str) -> str:
    x = _unwrap(x)
    if x is None:
        return ""
    if isinstance(x, str):
        return x
    if isinstance(x, np.ndarray):
        if x.size == 0:
            return ""
        if x.dtype.kind == "U":
            return "".join(x.ravel().tolist())
    raise FormatError(path, f"is {_describe(x)}; expected a string", where)


def _number(x: Any, path: Path, where: str) -> float | None:
    """A MATLAB scalar (numeric, 1-char string or empty) as a finite float (float32 range);
    ``None`` when empty."""
    v = _any_number(x, path, where)
    if v is not None and not is_finite32(v):
        raise FormatError(path, f"is {v!r}; expected a finite number (float32 range)", where)
    return v


def _integer(x: Any, path: Path, where: str) -> int | None:
    """A MATLAB scalar that must be integral; ``None`` when empty."""
    v = _number(x, path, where)
    if v is not None and v != int(v):
        raise FormatError(path, f"is {v!r}; expected an integer", where)
    return None if v is None else int(v)


def _any_number(x: Any, path: Path, where: str) -> float | None:
    x = _unwrap(x)
    if x is None:
        return None
    if isinstance(x, np.ndarray):
        if x.size == 0:
            return None
        if x.dtype.kind == "U":
            x = "".join(x.ravel().tolist())
        elif x.size != 1 or x.dtype.kind not in "biuf":
            raise FormatError(path, f"is {_describe(x)}; expected a number", where)
        else:
            x = x.ravel()[0].item()
    if isinstance(x, str):
        s = x.strip()
        if not s:
            return None
        try:
            return float(s)
        except ValueError:
            raise FormatError(path, f"is the string {x!r}; expected a number", where) from None
    if isinstance(x, (bool, int, float, np.number)):
        return float(x)
    raise FormatError(path, f"is {_describe(x)}; expected a number", where)


def _numbers(x: Any, path: Path, where: str) -> list[float]:
    """A numeric MATLAB vector (any orientation, possibly squeezed to a scalar) as a list."""
    x = _unwrap(x)
    if x is None:
        return []
    arr = np.asarray(x)
    if arr.size == 0:
        return []
    if arr.dtype.kind not in "biuf":
        raise FormatError(path, f"is {_describe(arr)}; expected numbers", where)
    values = arr.ravel(order="F")
    bad = first_nonfinite32(values)
    if bad is not None:
        raise FormatError(
            path, f"has {values[bad].item()!r} at position {bad[0] + 1}; expected finite numbers",
            where,
        )  # fmt: skip
    return [float(v) for v in values]


def _integers(x: Any, path: Path, where: str) -> list[int]:
    values = _numbers(x, path, where)
    for k, v in enumerate(values):
        if v != int(v):
            raise FormatError(path, f"has {v!r} at position {k + 1}; expected integers", where)
    return [int(v) for v in values]


def _require_number(x: Any, path: Path, where: str) -> float:
    v = _number(x, path, where)
    if v is None:
        raise FormatError(path, "is empty; expected a number", where)
    return v


# ---------------------------------------------------------------------------------------------
# Official .mat: reader
# ---------------------------------------------------------------------------------------------


def read_mpii_mat(path: str | os.PathLike) -> list[ImageAnnotation]:
    """Read the official ``mpii_human_pose_v1_u12_1.mat`` (or a file with its structure).

    Returns one ``ImageAnnotation`` (joint set ``mpii16``) per ``annolist`` entry, in file
    order; person r is ``annorect(r)``, also for rects without ``annopoints`` (all v=0) and
    test rects (only ``scale``/``objpos``). Fields: ``keypoints`` (points looked up by ``id``),
    ``headboxes`` (``x1,y1,x2,y2``; NaN when absent), ``centers`` (``objpos``; NaN when absent),
    ``scales`` (NaN when absent); all 0-based. ``extra`` holds:

    * ``annolist_index`` (int, 0-based), ``img_train`` (bool, ``None`` if the file has none),
    * ``single_person``: 0-based person indices (``single_person{i}`` minus 1),
    * ``act``: ``{"act_name", "cat_name", "act_id"}`` or ``None``,
    * ``frame_sec`` (float or ``None``), ``video_index`` (0-based ``vididx - 1`` or ``None``),
      ``video_id`` (``video_list{vididx}`` or ``None``).

    Only ``RELEASE.annolist`` is required; the other ``RELEASE`` fields are optional.
    """
    p = check_file(path)
    data = load_mat(p)
    if "RELEASE" not in data:
        found = sorted(k for k in data if not k.startswith("__"))
        raise FormatError(p, f"is missing; variables in the file: {found}", "RELEASE")
    return parse_mpii_release(data["RELEASE"], p)


def parse_mpii_release(
    release: Any, path: str | os.PathLike = "<RELEASE>"
) -> list[ImageAnnotation]:
    """Parse an already-loaded ``RELEASE`` struct (either scipy access style; see
    ``read_mpii_mat``). ``path`` only labels error messages."""
    p = Path(path)
    rel = _elems(release, p, "RELEASE")
    if len(rel) != 1:
        raise FormatError(p, f"has {len(rel)} elements; expected a 1x1 struct", "RELEASE")
    rel = rel[0]
    if _get(rel, "annolist") is None:
        raise FormatError(
            p, f"is missing (RELEASE has {list(_field_names(rel))})", "RELEASE.annolist"
        )
    annolist = _elems(_get(rel, "annolist"), p, "RELEASE.annolist")
    n = len(annolist)

    img_train_raw = _get(rel, "img_train")
    img_train = None
    if img_train_raw is not None:
        img_train = _numbers(img_train_raw, p, "RELEASE.img_train")
        if len(img_train) != n:
            raise FormatError(
                p, f"has {len(img_train)} values for {n} annolist entries", "RELEASE.img_train"
            )
        for k, v in enumerate(img_train):
            if v not in (0.0, 1.0):
                raise FormatError(
                    p, f"has {v!r} at position {k + 1}; expected 0 or 1", "RELEASE.img_train"
                )

    single_person: list[list[int]] = [[] for _ in range(n)]
    sp_raw = _get(rel, "single_person")
    if sp_raw is not None:
        cells = _cells(sp_raw, n, p, "RELEASE.single_person")
        for i, c in enumerate(cells):
            ids = _integers(c, p, f"RELEASE.single_person{{{i + 1}}}")
            single_person[i] = [v - 1 for v in ids]

    acts: list[dict[str, Any] | None] = [None] * n
    act_raw = _get(rel, "act")
    if act_raw is not None:
        act_elems = _elems(act_raw, p, "RELEASE.act")
        if len(act_elems) != n:
            raise FormatError(p, f"has {len(act_elems)} elements for {n} images", "RELEASE.act")
        for i, a in enumerate(act_elems):
            w = f"RELEASE.act({i + 1})"
            act_id = _integer(_get(a, "act_id"), p, f"{w}.act_id")
            acts[i] = {
                "act_name": _string(_get(a, "act_name"), p, f"{w}.act_name"),
                "cat_name": _string(_get(a, "cat_name"), p, f"{w}.cat_name"),
                "act_id": -1 if act_id is None else act_id,
            }

    videos: list[str] = []
    vl_raw = _get(rel, "video_list")
    if vl_raw is not None:
        vl = vl_raw
        if isinstance(vl, str):
            videos = [vl]
        else:
            videos = [
                _string(v, p, f"RELEASE.video_list{{{k + 1}}}")
                for k, v in enumerate(np.asarray(vl, dtype=object).ravel(order="F"))
            ]

    records = []
    for i, anno in enumerate(annolist):
        records.append(
            _parse_image(anno, i, p, img_train, single_person[i], acts[i], videos, vl_raw)
        )
    return records


def _cells(x: Any, n: int, p: Path, where: str) -> list[Any]:
    """The n cells of a MATLAB cell array (object ndarray, or a squeezed single cell)."""
    if isinstance(x, np.ndarray) and x.dtype == object:
        cells = list(x.ravel(order="F"))
    elif n == 1:
        cells = [x]
    else:
        cells = list(np.asarray(x).ravel(order="F"))
    if len(cells) != n:
        raise FormatError(p, f"has {len(cells)} cells for {n} annolist entries", where)
    return cells


def _parse_image(
    anno: Any,
    i: int,
    p: Path,
    img_train: list[float] | None,
    single_person: list[int],
    act: dict[str, Any] | None,
    videos: list[str],
    video_list_raw: Any,
) -> ImageAnnotation:
    w = f"RELEASE.annolist({i + 1})"
    image = _elems(_get(anno, "image"), p, f"{w}.image")
    if len(image) != 1:
        raise FormatError(p, f"has {len(image)} elements; expected 1", f"{w}.image")
    name = _string(_get(image[0], "name"), p, f"{w}.image.name")
    if not name:
        raise FormatError(p, "is missing or empty", f"{w}.image.name")

    rects = _elems(_get(anno, "annorect"), p, f"{w}.annorect")
    n = len(rects)
    kps = np.zeros((n, NUM_JOINTS, 3), np.float32)
    heads = np.full((n, 2, 2), np.nan, np.float32)
    centers = np.full((n, 2), np.nan, np.float32)
    scales = np.full((n,), np.nan, np.float32)
    for r, rect in enumerate(rects):
        wr = f"{w}.annorect({r + 1})"
        heads[r] = _head_box(rect, p, wr)
        s = _number(_get(rect, "scale"), p, f"{wr}.scale")
        if s is not None and s <= 0:
            raise FormatError(p, f"is {s:g}; expected a scale > 0", f"{wr}.scale")
        scales[r] = np.nan if s is None else s
        centers[r] = _objpos(rect, p, wr)
        annopoints = _elems(_get(rect, "annopoints"), p, f"{wr}.annopoints")
        if annopoints:
            points = _elems(_get(annopoints[0], "point"), p, f"{wr}.annopoints.point")
            kps[r] = _points(points, p, f"{wr}.annopoints")

    frame_sec = _number(_get(anno, "frame_sec"), p, f"{w}.frame_sec")
    if frame_sec is not None and frame_sec < 0:
        raise FormatError(p, f"is {frame_sec:g}; expected seconds >= 0", f"{w}.frame_sec")
    vididx = _integer(_get(anno, "vididx"), p, f"{w}.vididx")
    if vididx is not None and vididx < 1:
        raise FormatError(p, f"is {vididx}; expected a 1-based index", f"{w}.vididx")
    video_index = None if vididx is None else vididx - 1
    video_id = None
    if video_index is not None and video_list_raw is not None:
        if not 0 <= video_index < len(videos):
            raise FormatError(
                p, f"is {video_index + 1}; video_list has {len(videos)} entries", f"{w}.vididx"
            )
        video_id = videos[video_index]
    for s in single_person:
        if not 0 <= s < n:
            raise FormatError(
                p, f"names rect {s + 1}, image has {n} rects", f"RELEASE.single_person{{{i + 1}}}"
            )
    extra = {
        "annolist_index": i,
        "img_train": None if img_train is None else bool(img_train[i]),
        "single_person": single_person,
        "act": act,
        "frame_sec": frame_sec,
        "video_index": video_index,
        "video_id": video_id,
    }
    return ImageAnnotation(
        file_name=name,
        keypoints=kps,
        skeleton="mpii16",
        headboxes=heads,
        centers=centers,
        scales=scales,
        extra=extra,
    )


def _head_box(rect: Any, p: Path, wr: str) -> np.ndarray:
    """``[[x1, y1], [x2, y2]]`` 0-based, NaN when the rect has none; all four or none."""
    box = [_number(_get(rect, k), p, f"{wr}.{k}") for k in HEAD_FIELDS]
    if all(v is None for v in box):
        return np.full((2, 2), np.nan)
    for k, v in zip(HEAD_FIELDS, box, strict=True):
        if v is None:
            raise FormatError(p, "is empty while other head-box corners are given", f"{wr}.{k}")
    x1, y1, x2, y2 = box
    for k, lo, hi in (("x2", x1, x2), ("y2", y1, y2)):
        if not hi > lo:
            raise FormatError(
                p, f"is {hi:g} <= {k[0]}1 = {lo:g}; a head box needs x1 < x2 and y1 < y2",
                f"{wr}.{k}",
            )  # fmt: skip
    return np.array(box, np.float64).reshape(2, 2) - 1.0


def _bad_head_box(x1: float, y1: float, x2: float, y2: float) -> bool:
    """Inverted or empty: PCKh needs ``x1 < x2`` and ``y1 < y2``."""
    return not (x2 > x1 and y2 > y1)


def _objpos(rect: Any, p: Path, wr: str) -> tuple[float, float]:
    """``objpos`` 0-based, NaN when absent; ``x`` and ``y`` both or neither."""
    objpos = _elems(_get(rect, "objpos"), p, f"{wr}.objpos")
    if not objpos:
        return (np.nan, np.nan)
    xy = [_number(_get(objpos[0], k), p, f"{wr}.objpos.{k}") for k in "xy"]
    if xy[0] is None and xy[1] is None:
        return (np.nan, np.nan)
    for k, v in zip("xy", xy, strict=True):
        if v is None:
            raise FormatError(p, "is empty while the other coordinate is given", f"{wr}.objpos.{k}")
    return (xy[0] - 1.0, xy[1] - 1.0)


def _points(points: list[Any], p: Path, wa: str) -> np.ndarray:
    """``annopoints.point`` as ``(16, 3)`` 0-based ``(x, y, v)``, looked up by ``id``."""
    kp = np.zeros((NUM_JOINTS, 3), np.float32)
    for k, pt in enumerate(points):
        wp = f"{wa}.point({k + 1})"
        jid = _require_number(_get(pt, "id"), p, f"{wp}.id")
        if jid != int(jid) or not 0 <= jid < NUM_JOINTS:
            raise FormatError(p, f"is {jid:g}; expected a joint id 0..15", f"{wp}.id")
        jid = int(jid)
        if kp[jid, 2] > 0:
            raise FormatError(p, f"repeats joint id {jid} within one person", f"{wp}.id")
        x = _require_number(_get(pt, "x"), p, f"{wp}.x")
        y = _require_number(_get(pt, "y"), p, f"{wp}.y")
        vis = _number(_get(pt, "is_visible"), p, f"{wp}.is_visible")
        if vis not in (None, 0.0, 1.0):
            raise FormatError(p, f"is {vis:g}; expected 0, 1 or empty", f"{wp}.is_visible")
        kp[jid] = (x - 1.0, y - 1.0, 2.0 if vis else 1.0)
    return kp


# ---------------------------------------------------------------------------------------------
# Official .mat: writer
# ---------------------------------------------------------------------------------------------


def _struct(fields: Sequence[str], shape: tuple[int, int] = (1, 1)) -> np.ndarray:
    """An empty MATLAB struct array: a numpy structured array of object fields."""
    arr = np.empty(shape, dtype=[(f, "O") for f in fields])
    for idx in np.ndindex(shape):
        for f in fields:
            arr[idx][f] = _empty()
    return arr


def _empty() -> np.ndarray:  # MATLAB's []
    return np.zeros((0, 0))


def _scalar(v: float | None) -> np.ndarray:
    return _empty() if v is None or not np.isfinite(v) else np.array([[float(v)]])


def _cell(values: Sequence[Any], shape: tuple[int, int]) -> np.ndarray:
    out = np.empty(shape, dtype=object)
    for k, v in enumerate(values):
        out.flat[k] = v  # shapes are (1, n) or (n, 1): flat order = MATLAB order
    return out


def _check_mpii(records: Sequence[ImageAnnotation], what: str) -> None:
    for i, r in enumerate(records):
        if not isinstance(r, ImageAnnotation):
            raise TypeError(f"{what}: records[{i}] is {type(r).__name__}, not ImageAnnotation")
        if r.skeleton != "mpii16":
            raise ValueError(
                f"{what}: records[{i}] has joint set {r.skeleton!r}; convert to 'mpii16' first "
                "(posekit.skeletons.convert)"
            )


def write_mpii_mat(
    path: str | os.PathLike,
    records: Sequence[ImageAnnotation],
    *,
    video_list: Sequence[str] | None = None,
    version: str = "12",
) -> Path:
    """Write records as ``mpii_human_pose_v1_u12_1.mat`` (``RELEASE`` struct, same layout).

    Per image: ``annolist(i).image.name``, ``annorect`` (``[]`` when N = 0), ``frame_sec``,
    ``vididx``. A rect gets ``x1, y1, x2, y2, annopoints, scale, objpos`` when its image has a
    head box or a labelled joint (train layout), else only ``scale, objpos`` (test layout);
    unknown values (NaN, ``None``) are ``[]``. Points are written for joints with v > 0, in id
    order, ``is_visible`` = 1 if v == 2 else 0. Coordinates get +1 (1-based).

    ``extra`` keys used (defaults): ``img_train`` (True), ``single_person`` ([]), ``act``
    (``act_name``/``cat_name`` '' and ``act_id`` -1), ``frame_sec``, ``video_index`` (None).
    ``video_list`` defaults to the ``video_id``s found in the records (by ``video_index``).
    ``width``/``height``/``bboxes``/``image_id`` are not part of the format and are dropped.
    """
    records = list(records)
    _check_mpii(records, "write_mpii_mat")
    n = len(records)
    if video_list is None:
        video_list = _collect_videos(records)
    video_list = list(video_list)

    annolist = _struct(("image", "annorect", "frame_sec", "vididx"), (1, n))
    act = _struct(("act_name", "cat_name", "act_id"), (n, 1))
    img_train = np.zeros((1, n))
    single_person = []
    for i, rec in enumerate(records):
        ex = rec.extra
        image = _struct(("name",))
        image[0, 0]["name"] = str(rec.file_name)
        el = annolist[0, i]
        el["image"] = image
        _check_rect_values(rec, f"write_mpii_mat: records[{i}]")
        el["annorect"] = _write_rects(rec)
        el["frame_sec"] = _scalar(ex.get("frame_sec"))
        vi = ex.get("video_index")
        if vi is not None and not 0 <= int(vi) < len(video_list):
            raise ValueError(
                f"write_mpii_mat: records[{i}].extra['video_index'] = {vi} outside video_list "
                f"(length {len(video_list)})"
            )
        el["vididx"] = _scalar(None if vi is None else int(vi) + 1)
        train = ex.get("img_train")
        img_train[0, i] = 1.0 if train is None else float(bool(train))
        sp = [int(s) for s in ex.get("single_person") or []]
        for s in sp:
            if not 0 <= s < rec.num_people:
                raise ValueError(f"write_mpii_mat: records[{i}] single_person {s} out of range")
        single_person.append(np.array(sp, dtype=np.float64).reshape(-1, 1) + 1 if sp else _empty())
        a = ex.get("act") or {}
        act[i, 0]["act_name"] = str(a.get("act_name", ""))
        act[i, 0]["cat_name"] = str(a.get("cat_name", ""))
        act[i, 0]["act_id"] = np.array([[float(a.get("act_id", -1))]])

    release = _struct(RELEASE_FIELDS)
    rel = release[0, 0]
    rel["annolist"] = annolist
    rel["img_train"] = img_train
    rel["version"] = str(version)
    rel["single_person"] = _cell(single_person, (n, 1))
    rel["act"] = act
    rel["video_list"] = _cell([str(v) for v in video_list], (1, len(video_list)))

    import scipy.io

    out = Path(path)
    scipy.io.savemat(out, {"RELEASE": release}, do_compression=True, oned_as="row")
    return out


def _check_rect_values(rec: ImageAnnotation, where: str) -> None:
    """Refuse what the reader would refuse: inverted/empty head boxes, scales <= 0."""
    if rec.headboxes is not None:
        for r, ((x1, y1), (x2, y2)) in enumerate(rec.headboxes.astype(np.float64)):
            if np.isfinite([x1, y1, x2, y2]).all() and _bad_head_box(x1, y1, x2, y2):
                raise ValueError(
                    f"{where}: head box {r} [[{x1:g}, {y1:g}], [{x2:g}, {y2:g}]] is inverted or "
                    "empty"
                )
    if rec.scales is not None and (rec.scales <= 0).any():
        raise ValueError(f"{where}: scales must be > 0 (NaN = unknown), got {rec.scales}")


def _collect_videos(records: Sequence[ImageAnnotation]) -> list[str]:
    found: dict[int, str] = {}
    for i, r in enumerate(records):
        vi = r.extra.get("video_index")
        if vi is None:
            continue
        vid = r.extra.get("video_id") or ""
        if found.get(int(vi), vid) != vid:
            raise ValueError(
                f"write_mpii_mat: records[{i}] gives video_index {vi} the id {vid!r}, another "
                f"record gave it {found[int(vi)]!r}"
            )
        found[int(vi)] = vid
    size = max(found) + 1 if found else 0
    return [found.get(k, "") for k in range(size)]


def _write_rects(rec: ImageAnnotation) -> np.ndarray:
    n = rec.num_people
    if n == 0:
        return _empty()
    heads = rec.headboxes if rec.headboxes is not None else np.full((n, 2, 2), np.nan)
    centers = rec.centers if rec.centers is not None else np.full((n, 2), np.nan)
    scales = rec.scales if rec.scales is not None else np.full((n,), np.nan)
    has_head = np.isfinite(heads).all(axis=(1, 2))
    train_layout = bool(has_head.any() or (rec.keypoints[:, :, 2] > 0).any())
    rects = _struct(TRAIN_RECT_FIELDS if train_layout else TEST_RECT_FIELDS, (1, n))
    for r in range(n):
        el = rects[0, r]
        if train_layout and has_head[r]:
            (x1, y1), (x2, y2) = heads[r].astype(np.float64) + 1.0
            for key, v in zip(("x1", "y1", "x2", "y2"), (x1, y1, x2, y2), strict=True):
                el[key] = np.array([[v]])
        el["scale"] = _scalar(float(scales[r]))
        if np.isfinite(centers[r]).all():
            objpos = _struct(("x", "y"))
            objpos[0, 0]["x"] = np.array([[float(centers[r, 0]) + 1.0]])
            objpos[0, 0]["y"] = np.array([[float(centers[r, 1]) + 1.0]])
            el["objpos"] = objpos
        if not train_layout:
            continue
        labelled = np.flatnonzero(rec.keypoints[r, :, 2] > 0)
        if labelled.size == 0:
            continue
        points = _struct(POINT_FIELDS, (1, labelled.size))
        for k, j in enumerate(labelled):
            x, y, v = rec.keypoints[r, j].astype(np.float64)
            pt = points[0, k]
            pt["x"] = np.array([[x + 1.0]])
            pt["y"] = np.array([[y + 1.0]])
            pt["id"] = np.array([[float(j)]])
            pt["is_visible"] = np.array([[1.0 if v >= 2 else 0.0]])
        annopoints = _struct(("point",))
        annopoints[0, 0]["point"] = points
        el["annopoints"] = annopoints
    return rects


# ---------------------------------------------------------------------------------------------
# HRNet / Simple Baselines JSON
# ---------------------------------------------------------------------------------------------

HRNET_KEYS = ("joints_vis", "joints", "image", "scale", "center")


def read_hrnet_mpii_json(path: str | os.PathLike) -> list[ImageAnnotation]:
    """Read HRNet's ``train.json``/``valid.json``/``trainval.json``/``test.json``.

    Returns one ``ImageAnnotation`` (``mpii16``, N = 1) per JSON entry, in file order (the
    order ``gt_valid.mat`` follows); ``posekit.datasets.formats.group_by_image`` merges them
    per image. ``centers`` = ``center`` - 1 (NaN when the file has ``-1``), ``scales`` =
    ``scale`` as stored (NaN for ``-1``; HRNet's loader-time ``c[1] += 15 s; s *= 1.25`` is
    *not* applied). ``joints_vis`` 1 -> v=2, 0 -> v=0 (see the module docstring).
    Entries without ``joints``/``joints_vis`` (``test.json``) get all v=0 and
    ``extra["has_joints"] = False``; other records have ``extra == {}``.
    """
    p = check_file(path)
    data = load_json(p)
    if not isinstance(data, list):
        raise FormatError(p, f"top level is a {type(data).__name__}; expected a list of people")
    return [_parse_hrnet_entry(e, i, p) for i, e in enumerate(data)]


def _parse_hrnet_entry(e: Any, i: int, p: Path) -> ImageAnnotation:
    w = f"[{i}]"
    if not isinstance(e, dict):
        raise FormatError(p, f"is a {type(e).__name__}; expected an object", w)
    for key in ("image", "center", "scale"):
        if key not in e:
            raise FormatError(p, f"is missing (entry has {sorted(e)})", f"{w}.{key}")
    if not isinstance(e["image"], str):
        raise FormatError(p, f"is {type(e['image']).__name__}; expected a string", f"{w}.image")
    center = _hrnet_center(e["center"], p, f"{w}.center")
    scale = _hrnet_scale(e["scale"], p, f"{w}.scale")
    kps = np.zeros((1, NUM_JOINTS, 3), np.float32)
    extra: dict[str, Any] = {}
    has_j, has_v = "joints" in e, "joints_vis" in e
    if has_j != has_v:
        missing = "joints_vis" if has_j else "joints"
        raise FormatError(p, "is missing (the entry has the other joint key)", f"{w}.{missing}")
    if has_j:
        joints, vis = e["joints"], e["joints_vis"]
        if not isinstance(joints, list) or len(joints) != NUM_JOINTS:
            n = len(joints) if isinstance(joints, list) else type(joints).__name__
            raise FormatError(p, f"has {n} rows; expected 16 [x, y]", f"{w}.joints")
        xys = [_finite_pair(xy, p, f"{w}.joints[{j}]") for j, xy in enumerate(joints)]
        if not isinstance(vis, list) or len(vis) != NUM_JOINTS:
            n = len(vis) if isinstance(vis, list) else type(vis).__name__
            raise FormatError(p, f"has {n} values; expected 16 flags", f"{w}.joints_vis")
        for j, v in enumerate(vis):
            if v not in (0, 1) or isinstance(v, bool):
                raise FormatError(p, f"is {v!r}; expected 0 or 1", f"{w}.joints_vis[{j}]")
        for j in range(NUM_JOINTS):
            if vis[j]:
                kps[0, j] = (xys[j][0] - 1.0, xys[j][1] - 1.0, 2.0)
    else:
        extra["has_joints"] = False
    return ImageAnnotation(
        file_name=e["image"],
        keypoints=kps,
        skeleton="mpii16",
        centers=center[None],
        scales=np.array([scale]),
        extra=extra,
    )


def _finite_pair(xy: Any, p: Path, field: str) -> np.ndarray:
    """A JSON ``[x, y]`` of finite numbers (float32 range) as float64."""
    if not (isinstance(xy, list) and len(xy) == 2 and all(is_json_number(v) for v in xy)):
        raise FormatError(p, f"is {xy!r:.60}; expected [x, y]", field)
    arr = json_floats(p, xy, field)
    if first_nonfinite32(arr) is not None:
        raise FormatError(p, f"is {xy!r:.60}; expected finite numbers (float32)", field)
    return arr


def _hrnet_center(c: Any, p: Path, field: str) -> np.ndarray:
    """0-based centre; ``[-1, -1]`` (HRNet's "unknown") -> NaN. One -1 coordinate alone is
    refused: HRNet's loader would read it as unknown and drop the other coordinate."""
    xy = _finite_pair(c, p, field)
    if (xy == -1).all():
        return np.full(2, np.nan)
    if (xy == -1).any():
        raise FormatError(
            p, f"is {c!r:.60}; [-1, -1] marks an unknown centre, a single -1 is ambiguous", field
        )
    return xy - 1.0


def _hrnet_scale(s: Any, p: Path, field: str) -> float:
    """Person height / 200 px; -1 (unknown) -> NaN; else finite and > 0."""
    if not is_json_number(s) or not (s == -1 or (is_finite32(s) and s > 0)):
        raise FormatError(p, f"is {s!r:.60}; expected a number > 0 (or -1: unknown)", field)
    return np.nan if s == -1 else float(s)


def write_hrnet_mpii_json(
    path: str | os.PathLike, records: Iterable[ImageAnnotation], *, indent: int | None = None
) -> Path:
    """Write HRNet-style MPII JSON: one entry per person of every record, in order.

    Keys (HRNet's order) ``joints_vis`` (16 ints, 1 = labelled), ``joints`` (16 ``[x, y]``,
    1-based, ``[-1.0, -1.0]`` when unlabelled), ``image``, ``scale``, ``center`` (1-based).
    A NaN/absent centre is written ``[-1.0, -1.0]``, a NaN/absent scale ``-1.0``.
    Records with ``extra["has_joints"] is False`` are written without joint keys (test.json).
    """
    records = list(records)
    _check_mpii(records, "write_hrnet_mpii_json")
    entries = []
    for rec in records:
        for r in range(rec.num_people):
            entries.append(_hrnet_entry(rec, r))
    out = Path(path)
    with open(out, "w", encoding="utf-8") as f:
        json.dump(entries, f, indent=indent, allow_nan=False)
    return out


def _f1(x: float) -> float:
    """0-based float32 coordinate -> 1-based JSON float that reads back to the same float32."""
    return float(shortest_float(x)) + 1.0


def _hrnet_entry(rec: ImageAnnotation, r: int) -> dict[str, Any]:
    c = rec.centers[r] if rec.centers is not None else np.full(2, np.nan)
    s = float(rec.scales[r]) if rec.scales is not None else np.nan
    entry: dict[str, Any] = {}
    if rec.extra.get("has_joints", True):
        kp = rec.keypoints[r]
        lab = kp[:, 2] > 0
        entry["joints_vis"] = [int(v) for v in lab]
        entry["joints"] = [
            [_f1(kp[j, 0]), _f1(kp[j, 1])] if lab[j] else [-1.0, -1.0] for j in range(NUM_JOINTS)
        ]
    entry["image"] = str(rec.file_name)
    entry["scale"] = float(shortest_float(s)) if np.isfinite(s) else -1.0
    entry["center"] = [_f1(c[0]), _f1(c[1])] if np.isfinite(c).all() else [-1.0, -1.0]
    return entry


# ---------------------------------------------------------------------------------------------
# gt_valid.mat
# ---------------------------------------------------------------------------------------------


class MPIIGroundTruth(NamedTuple):
    """Contents of HRNet's ``gt_valid.mat`` in posekit conventions.

    keypoints: ``(N, 16, 3)`` float32, 0-based; v = 2 where ``jnt_missing == 0``, else
        ``(0, 0, 0)``. headboxes: ``(N, 2, 2)`` float32 ``[[x1, y1], [x2, y2]]``, 0-based.
    joint_names: ``dataset_joints`` (``rank ... lwri``).
    """

    keypoints: np.ndarray
    headboxes: np.ndarray
    joint_names: tuple[str, ...]


def read_mpii_gt_valid(path: str | os.PathLike) -> MPIIGroundTruth:
    """Read ``gt_valid.mat``: ``dataset_joints`` (1, 16), ``jnt_missing`` (16, N),
    ``pos_gt_src`` (16, 2, N) 1-based, ``headboxes_src`` (2, 2, N) 1-based. Labelled joints
    and head boxes must be finite (the positions of missing joints are not read)."""
    p = check_file(path)
    data = load_mat(p)
    if "dataset_joints" not in data:
        raise FormatError(p, "is missing", "dataset_joints")
    names = tuple(
        _string(v, p, f"dataset_joints{{{k + 1}}}")
        for k, v in enumerate(np.asarray(data["dataset_joints"], dtype=object).ravel(order="F"))
    )
    if names != MPII_JOINT_NAMES:
        raise FormatError(
            p, f"is {list(names)}; expected {list(MPII_JOINT_NAMES)}", "dataset_joints"
        )
    missing = mat_array(p, data, "jnt_missing")
    pos = mat_array(p, data, "pos_gt_src")
    heads = mat_array(p, data, "headboxes_src")
    # MATLAB drops trailing singleton dimensions: N = 1 files are (16,), (16, 2), (2, 2).
    if missing.ndim == 1:
        missing = missing[:, None]
    if pos.ndim == 2:
        pos = pos[:, :, None]
    if heads.ndim == 2:
        heads = heads[:, :, None]
    if missing.ndim != 2 or missing.shape[0] != NUM_JOINTS:
        raise FormatError(p, f"has shape {missing.shape}; expected (16, N)", "jnt_missing")
    n = missing.shape[1]
    if pos.shape != (NUM_JOINTS, 2, n):
        raise FormatError(p, f"has shape {pos.shape}; expected (16, 2, {n})", "pos_gt_src")
    if heads.shape != (2, 2, n):
        raise FormatError(p, f"has shape {heads.shape}; expected (2, 2, {n})", "headboxes_src")
    bad = np.argwhere(~np.isin(missing, (0, 1)))
    if bad.size:
        j, k = bad[0]
        raise FormatError(
            p, f"is {missing[j, k].item()!r}; expected 0 or 1", f"jnt_missing({j + 1},{k + 1})"
        )
    labelled = missing.T == 0  # (N, 16)
    _check_finite_mat(p, "pos_gt_src", np.where(labelled.T[:, None, :], pos, 0.0))
    _check_head_boxes(p, heads)
    kps = np.zeros((n, NUM_JOINTS, 3), np.float32)
    xy = pos.transpose(2, 0, 1).astype(np.float64) - 1.0
    kps[..., :2] = np.where(labelled[..., None], xy, 0.0)
    kps[..., 2] = np.where(labelled, 2.0, 0.0)
    hb = (heads.transpose(2, 0, 1).astype(np.float64) - 1.0).astype(np.float32)
    return MPIIGroundTruth(kps, hb, names)


def _check_finite_mat(p: Path, name: str, arr: np.ndarray) -> None:
    """A ``FormatError`` naming the first NaN/inf/beyond-float32 element, 1-based."""
    bad = first_nonfinite32(arr)
    if bad is not None:
        index = ",".join(str(i + 1) for i in bad)
        raise FormatError(
            p, f"is {arr[bad].item()!r}; expected a finite number", f"{name}({index})"
        )


def _check_head_boxes(p: Path, heads: np.ndarray) -> None:
    """``headboxes_src`` (2, 2, N): rows (x1, y1) and (x2, y2); finite, not inverted, not
    empty."""
    _check_finite_mat(p, "headboxes_src", heads)
    for k in range(heads.shape[2]):
        (x1, y1), (x2, y2) = heads[:, :, k]
        if _bad_head_box(x1, y1, x2, y2):
            raise FormatError(
                p, f"is [[{x1:g}, {y1:g}], [{x2:g}, {y2:g}]]; expected x1 < x2 and y1 < y2 "
                "(PCKh divides by its size)", f"headboxes_src(:,:,{k + 1})",
            )  # fmt: skip


def write_mpii_gt_valid(
    path: str | os.PathLike, keypoints: np.ndarray, headboxes: np.ndarray
) -> Path:
    """Write ``gt_valid.mat`` from ``(N, 16, 3)`` keypoints and ``(N, 2, 2)`` head boxes
    (0-based). ``jnt_missing`` = (v == 0); missing joints are written as ``(-1, -1)`` (as in the
    JSON files); coordinates get +1. Arrays are stored as MATLAB doubles."""
    kp = np.asarray(keypoints, dtype=np.float32)
    hb = np.asarray(headboxes, dtype=np.float32)
    if kp.ndim != 3 or kp.shape[1:] != (NUM_JOINTS, 3):
        raise ValueError(f"write_mpii_gt_valid: keypoints must be (N, 16, 3), got {kp.shape}")
    if hb.shape != (kp.shape[0], 2, 2):
        raise ValueError(
            f"write_mpii_gt_valid: headboxes must be ({kp.shape[0]}, 2, 2), got {hb.shape}"
        )
    if not np.isfinite(hb).all():
        raise ValueError("write_mpii_gt_valid: headboxes must be finite (PCKh needs them)")
    for r, ((x1, y1), (x2, y2)) in enumerate(hb.astype(np.float64)):
        if _bad_head_box(x1, y1, x2, y2):
            raise ValueError(
                f"write_mpii_gt_valid: head box {r} {hb[r].tolist()} is inverted or empty"
            )
    missing = kp[..., 2] <= 0
    pos = np.where(missing[..., None], -1.0, kp[..., :2].astype(np.float64) + 1.0)
    names = np.empty((1, NUM_JOINTS), dtype=object)
    for k, name in enumerate(MPII_JOINT_NAMES):
        names[0, k] = name
    import scipy.io

    out = Path(path)
    scipy.io.savemat(
        out,
        {
            "dataset_joints": names,
            "jnt_missing": missing.T.astype(np.float64),
            "pos_gt_src": pos.transpose(1, 2, 0),
            "headboxes_src": (hb.astype(np.float64) + 1.0).transpose(1, 2, 0),
        },
    )
    return out
