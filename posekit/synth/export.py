"""Export SynthPose in the real datasets' on-disk formats, so that the loaders written for
MPII, COCO and SPHP (posekit's readers and third-party code) read synthetic data unchanged.

    export(kind="single" | "multi" | "sequence", n, size=(w, h), seed, format="coco" | "mpii"
           | "sphp", out_dir, progress=True, **options) -> Path of out_dir/manifest.json

Sample ``i`` is generated from ``sample_rng(seed, i)`` for ``i`` in ``start .. start + n - 1``:
``single`` is ``SynthPose(seed, "person")[i]``, ``multi`` is ``SynthPose(seed, "scene",
num_people=people)[i]``; ``sequence`` is ``synth_sequence(seed, i, ...)`` (below). The same
arguments give the same bytes. Layouts (``docs/datasets.md``):

* ``coco`` (single, multi)::

      images/{image_id:012d}.jpg             image_id = i + 1 (COCO ids start at 1)
      annotations/person_keypoints_synth.json

  COCO-17 keypoints (``synth_to("coco17")``, flags 0/1/2 as rendered), ``bbox`` = the
  sample's amodal box (same pixel frame as the keypoints), ``area`` = bbox w * h (SynthPose
  has no per-person mask; COCO's mask areas are about 0.5-0.6 of that), ``iscrowd`` 0,
  annotation id = ``image_id * 1000 + person``. People whose box is empty (entirely outside
  the image) are left out.
* ``mpii`` (single, multi)::

      images/{i + 1:09d}.jpg
      mpii_human_pose_v1_u12_2/mpii_human_pose_v1_u12_1.mat   official RELEASE struct
      annot/train.json, annot/valid.json, annot/trainval.json  HRNet layout
      annot/gt_valid.mat                                       valid.json's people, in order

  MPII-16 joints (``synth_to("mpii16")``), head boxes from ``head_box``, ``objpos``/``scale``
  from ``center``/``scale``, ``is_visible`` = (v == 2); every image is ``img_train = 1``
  (all are labelled; HRNet's valid split is a subset of those, as in the real data).
  ``single_person`` lists people whose box overlaps nobody else's. People without a labelled
  joint are left out. Split rule: the **last** ``round(n * val_fraction)`` images (at least
  one when ``val_fraction > 0``) go to ``valid.json``, the others to ``train.json``.
* ``sphp`` (sequence)::

      {camera}/sXX/NN/{EDG,MVH,MVV,GRA}/000.png ...  uint8, ``size`` (default 640x480)
      {camera}/sXX/NN/pose_change/000.npy ...        (13, 2) float64 (x, y) pixels

  Sequence ``i`` performs action ``actions[i % len(actions)]`` (default 1..16) by subject
  ``subject_start + i // len(actions)``, whose identity is ``identity_from_id(subject - 1,
  seed)`` (a subject looks the same in all its actions). ``GRA``/``EDG`` are
  ``posekit.sensors.grayscale``/``edges`` of the rendered RGB frame, ``MVH``/``MVV`` are
  ``motion_vectors(frame t-1, frame t)`` (frame 0: 128 = no motion). Labels are the SPHP-13
  projections of every joint (``synth_to("sphp13", joints2d)``): like the release's
  mocap-derived labels they have no visibility flag and are never NaN; on the labelled
  joints they equal the rendered keypoints.

Every export writes ``manifest.json``: the generation arguments, the resolved options, the
``SynthConfig``, the posekit version, counts and the files written.

A whole SPHP-style dataset, both cameras (``docs/datasets.md`` § Synthetic SPHP)::

    export_sphp_dataset(out, subjects=8, frames=300, seed=0, size=(640, 480), actions=None,
                        fps=30.0, overwrite=False, progress=True) -> Path of manifest.json

writes ``{Master,Slave}/sXX/NN/...`` as above for every subject and action: one recording
(``posekit.synth.scenes.sample_sequence_views``) seen by a Master camera and a Slave camera
45 degrees around the person, who faces ``sphp_facing_deg(subject, action)`` (0, 15, 30 or
45 degrees from the Master towards the Slave). ``subjects`` is a count, taken from SPHP's
train / val / test subjects in proportion (``sphp_subjects``), or a list of ids.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import cv2
import numpy as np

KINDS = ("single", "multi", "sequence")
#: format -> kinds it can hold.
FORMATS: dict[str, tuple[str, ...]] = {
    "coco": ("single", "multi"),
    "mpii": ("single", "multi"),
    "sphp": ("sequence",),
}
#: ``size=None`` default per kind (sequences: SPHP's native 640x480).
DEFAULT_SIZES = {"single": (128, 128), "multi": (456, 256), "sequence": (640, 480)}
COCO_ANNOTATION_FILE = "annotations/person_keypoints_synth.json"
MPII_MAT_FILE = "mpii_human_pose_v1_u12_2/mpii_human_pose_v1_u12_1.mat"
MANIFEST = "manifest.json"
BATCH = 64  # single-person crops are rendered in vectorised batches of this size

_COMMON = {"start": 0, "config": None, "overwrite": False}
_IMAGES = {"image_format": "jpg", "jpeg_quality": 95}
#: Options each format accepts, with their defaults (``people`` only for ``multi``).
OPTIONS: dict[str, dict[str, Any]] = {
    "coco": {**_COMMON, **_IMAGES, "people": 5},
    "mpii": {**_COMMON, **_IMAGES, "people": 5, "val_fraction": 0.1},
    "sphp": {**_COMMON, "n_frames": 300, "fps": 30.0, "actions": None, "camera": "Master",
             "subject_start": 1},
}  # fmt: skip


# --------------------------------------------------------------------------------------------
# Arguments
# --------------------------------------------------------------------------------------------
def parse_size(text: str | Iterable[int]) -> tuple[int, int]:
    """``"640x480"`` (or ``(640, 480)``) -> ``(640, 480)``; ``ValueError`` saying what is
    expected otherwise."""
    if isinstance(text, str):
        m = re.fullmatch(r"\s*(\d+)\s*[xX×]\s*(\d+)\s*", text)
        if not m:
            raise ValueError(f"size must be WIDTHxHEIGHT in pixels, e.g. 640x480; got {text!r}")
        w, h = int(m.group(1)), int(m.group(2))
    else:
        vals = list(text)
        if len(vals) != 2 or not all(isinstance(v, (int, np.integer)) for v in vals):
            raise ValueError(f"size must be (width, height) integers, got {text!r}")
        w, h = int(vals[0]), int(vals[1])
    if w < 8 or h < 8:
        raise ValueError(f"size must be at least 8x8 pixels, got {w}x{h}")
    return w, h


def default_out_dir(kind: str, format: str, seed: int) -> Path:
    """``data_path("synthpose", f"{format}_{kind}_seed{seed}")``."""
    from posekit.config import data_path

    return data_path("synthpose", f"{format}_{kind}_seed{int(seed)}")


def _resolve(kind: str, format: str, n: int, seed: int, options: dict[str, Any]) -> dict:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    if format not in FORMATS:
        raise ValueError(f"format must be one of {tuple(FORMATS)}, got {format!r}")
    if kind not in FORMATS[format]:
        holds = " or ".join(FORMATS[format])
        fits = [f for f, kinds in FORMATS.items() if kind in kinds]
        raise ValueError(
            f"format {format!r} holds {holds} data, not {kind!r}; "
            f"export {kind!r} as {' or '.join(fits)}"
        )
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed must be an integer, got {seed!r}")
    known = OPTIONS[format]
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise ValueError(
            f"option(s) {unknown} do not apply to format {format!r}; it takes {sorted(known)}"
        )
    if "people" in options and kind != "multi":
        raise ValueError("option 'people' applies to kind 'multi' only")
    opts = {**known, **options}
    if kind != "multi":
        opts.pop("people", None)
    if int(opts["start"]) < 0:
        raise ValueError(f"start must be >= 0, got {opts['start']!r}")
    if "image_format" in opts and opts["image_format"] not in ("jpg", "png"):
        raise ValueError(f"image_format must be 'jpg' or 'png', got {opts['image_format']!r}")
    if kind == "multi" and (opts["people"] is not None and int(opts["people"]) < 0):
        raise ValueError(f"people must be >= 1 (0 or None: random 1..10), got {opts['people']}")
    if format == "mpii" and not 0.0 <= float(opts["val_fraction"]) <= 1.0:
        raise ValueError(f"val_fraction must be in [0, 1], got {opts['val_fraction']!r}")
    if format == "sphp":
        _check_sphp(opts, n)
    return opts


def _check_sphp(opts: dict[str, Any], n: int) -> None:
    from posekit.datasets.formats.sphp import SPHP_ACTIONS, SPHP_CAMERAS

    if int(opts["n_frames"]) < 1:
        raise ValueError(f"n_frames must be >= 1, got {opts['n_frames']!r}")
    if float(opts["fps"]) <= 0:
        raise ValueError(f"fps must be > 0, got {opts['fps']!r}")
    if opts["camera"] not in SPHP_CAMERAS:
        raise ValueError(f"camera must be one of {SPHP_CAMERAS}, got {opts['camera']!r}")
    actions = _actions(opts["actions"])
    bad = [a for a in actions if a not in SPHP_ACTIONS]
    if bad or not actions:
        raise ValueError(f"actions must be SPHP action ids 1..16, got {opts['actions']!r}")
    last = int(opts["subject_start"]) + (int(opts["start"]) + n - 1) // len(actions)
    if int(opts["subject_start"]) < 1 or last > 40:
        raise ValueError(
            f"SPHP has subjects s01..s40: {n} sequences of {len(actions)} action(s) from "
            f"subject {opts['subject_start']} (start {opts['start']}) would need s{last:02d}"
        )


def _actions(actions: Any) -> tuple[int, ...]:
    if actions is None:
        return tuple(range(1, 17))
    if isinstance(actions, (int, np.integer)):
        return (int(actions),)
    return tuple(int(a) for a in actions)


# --------------------------------------------------------------------------------------------
# Public entry point
# --------------------------------------------------------------------------------------------
def export(
    kind: str = "single",
    n: int = 100,
    size: tuple[int, int] | str | None = None,
    seed: int = 0,
    format: str = "coco",
    out_dir: str | Path | None = None,
    progress: bool = True,
    **options: Any,
) -> Path:
    """Generate ``n`` SynthPose samples and write them in ``format``'s real layout.

    Args:
        kind: ``"single"`` (person crops), ``"multi"`` (scenes) or ``"sequence"`` (SPHP clips).
        n: number of images (coco/mpii) or sequences (sphp).
        size: ``(width, height)`` or ``"WxH"``; default 128x128 / 456x256 / 640x480.
        seed: SynthPose stream seed. format: ``"coco"``, ``"mpii"`` or ``"sphp"``.
        out_dir: output folder (default ``default_out_dir(kind, format, seed)``); must be
            empty or absent unless ``overwrite``.
        progress: show a tqdm bar.
        options: ``start`` (first sample index, 0), ``config`` (``SynthConfig``),
            ``overwrite`` (False: refuse a non-empty ``out_dir``; True: replace the files this
            export writes, keep others);
            coco/mpii: ``image_format`` (``"jpg"``/``"png"``), ``jpeg_quality`` (95),
            ``people`` (multi: people per scene, 5; 0 or None = random 1..10);
            mpii: ``val_fraction`` (0.1; see the split rule above);
            sphp: ``n_frames`` (300, as the official loader requires), ``fps`` (30),
            ``actions`` (ids to cycle through, default 1..16), ``camera`` (``"Master"`` or
            ``"Slave"``: the folder name), ``subject_start`` (1).
    Returns:
        the path of ``out_dir/manifest.json``.
    Raises:
        ValueError: a kind the format cannot hold, a bad size or option.
        FileExistsError: ``out_dir`` is not empty and ``overwrite`` is False.
    """
    opts = _resolve(kind, format, n, seed, options)
    size = parse_size(size) if size is not None else DEFAULT_SIZES[kind]
    from posekit.synth.scenes import DEFAULT

    if opts["config"] is None:
        opts["config"] = DEFAULT
    out = Path(out_dir) if out_dir is not None else default_out_dir(kind, format, seed)
    _prepare(out, bool(opts["overwrite"]))
    writer = {"coco": _export_coco, "mpii": _export_mpii, "sphp": _export_sphp}[format]
    bar = _bar(n * (int(opts["n_frames"]) if format == "sphp" else 1), kind, format, progress)
    try:
        result = writer(out, kind, int(n), size, int(seed), opts, bar)
    finally:
        bar.close()
    return _write_manifest(out, kind, format, int(n), size, int(seed), opts, result)


def _prepare(out: Path, overwrite: bool) -> None:
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"{out} exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise FileExistsError(
            f"{out} is not empty; choose another folder or pass overwrite=True (--overwrite)"
        )
    out.mkdir(parents=True, exist_ok=True)


def _bar(total: int, kind: str, format: str, progress: bool):
    from tqdm.auto import tqdm

    unit = "frame" if format == "sphp" else "img"
    return tqdm(total=total, desc=f"SynthPose {kind} -> {format}", unit=unit,
                disable=not progress)  # fmt: skip


def _write_manifest(out, kind, format, n, size, seed, opts, result) -> Path:
    import posekit

    options = {k: v for k, v in opts.items() if k != "config"}
    if "actions" in options:
        options["actions"] = list(_actions(options["actions"]))
    manifest = {
        "generator": "posekit.synth.export.export",
        "posekit_version": posekit.__version__,
        "kind": kind,
        "format": format,
        "n": n,
        "size": list(size),
        "seed": seed,
        "options": options,
        "config": _jsonable(asdict(opts["config"])),
        **result,
    }
    path = out / MANIFEST
    path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return path


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.generic):
        return x.item()
    return x


# --------------------------------------------------------------------------------------------
# Samples
# --------------------------------------------------------------------------------------------
def synth_samples(kind: str, seed: int, indices: Iterable[int], size: tuple[int, int],
                  people: int | None = 5, config=None) -> Iterator[tuple[int, Any]]:  # fmt: skip
    """``(index, Sample)`` for each index: ``SynthPose(seed, "person")[i]`` for ``"single"``
    (rendered in batches of 64), ``SynthPose(seed, "scene", num_people=people)[i]`` for
    ``"multi"`` (``people`` 0 or None: random 1..10)."""
    from posekit.synth.scenes import SynthPose

    indices = [int(i) for i in indices]
    length = max(indices, default=0) + 1
    if kind == "single":
        ds = SynthPose(seed, "person", length=length, size=size, config=config)
        for b in range(0, len(indices), BATCH):
            chunk = indices[b : b + BATCH]
            yield from zip(chunk, ds.__getitems__(chunk), strict=True)
        return
    num = int(people) if people else None
    ds = SynthPose(seed, "scene", length=length, size=size, config=config, num_people=num)
    for i in indices:
        yield i, ds[i]


def synth_sequence(seed: int, index: int, size: tuple[int, int] = (640, 480),
                   n_frames: int = 300, fps: float = 30.0, actions=None, subject_start: int = 1,
                   config=None):  # fmt: skip
    """Sequence ``index`` of an SPHP export: ``(Sequence, subject, action)``.

    Action ``actions[index % len(actions)]`` (default 1..16), subject ``subject_start +
    index // len(actions)`` with identity ``identity_from_id(subject - 1, seed)``, drawn from
    ``sample_rng(seed, index)`` by ``sample_sequence``.
    """
    from posekit.synth.body import identity_from_id
    from posekit.synth.scenes import DEFAULT, sample_rng, sample_sequence

    acts = _actions(actions)
    action = acts[index % len(acts)]
    subject = int(subject_start) + index // len(acts)
    cfg = config or DEFAULT
    ident = identity_from_id(subject - 1, seed, cfg.child_prob)
    seq = sample_sequence(sample_rng(seed, index), action, int(n_frames), float(fps), size, cfg,
                          identity=ident)  # fmt: skip
    return seq, subject, action


def _write_image(path: Path, rgb: np.ndarray, opts: dict[str, Any]) -> None:
    params = []
    if opts["image_format"] == "jpg":
        params = [cv2.IMWRITE_JPEG_QUALITY, int(opts["jpeg_quality"])]
    if not cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), params):
        raise OSError(f"cv2.imwrite failed for {path}")


def _indices(n: int, opts: dict[str, Any]) -> range:
    start = int(opts["start"])
    return range(start, start + n)


# --------------------------------------------------------------------------------------------
# COCO
# --------------------------------------------------------------------------------------------
def coco_record(sample, image_id: int, file_name: str):
    """The COCO ``ImageAnnotation`` of a ``Sample`` (people with an empty box left out)."""
    from posekit.datasets.formats import ImageAnnotation
    from posekit.synth.body import synth_to

    keep = np.flatnonzero((sample.bbox[:, 2] > 0) & (sample.bbox[:, 3] > 0))
    boxes = sample.bbox[keep].astype(np.float32)
    h, w = sample.image.shape[:2]
    return ImageAnnotation(
        file_name=file_name,
        keypoints=synth_to("coco17", sample.keypoints[keep]),
        skeleton="coco17",
        width=w,
        height=h,
        image_id=image_id,
        bboxes=boxes,
        extra={
            "ann_ids": [image_id * 1000 + r for r in range(len(keep))],
            "iscrowd": [0] * len(keep),
            "area": [float(b[2]) * float(b[3]) for b in boxes],
        },
    )


def _export_coco(out, kind, n, size, seed, opts, bar) -> dict:
    from posekit.datasets.formats import write_coco_keypoints

    (out / "images").mkdir(exist_ok=True)
    (out / "annotations").mkdir(exist_ok=True)
    records = []
    for i, sample in synth_samples(kind, seed, _indices(n, opts), size, opts.get("people"),
                                   opts["config"]):  # fmt: skip
        image_id = i + 1
        name = f"{image_id:012d}.{opts['image_format']}"
        _write_image(out / "images" / name, sample.image, opts)
        records.append(coco_record(sample, image_id, name))
        bar.update(1)
    import posekit

    info = {"description": f"SynthPose {kind}, seed {seed}", "version": posekit.__version__,
            "contributor": "posekit.synth.export", "url": ""}  # fmt: skip
    write_coco_keypoints(out / COCO_ANNOTATION_FILE, records, info=info)
    return {
        "files": {"images": "images/", "annotations": COCO_ANNOTATION_FILE},
        "counts": {"images": len(records), "people": sum(r.num_people for r in records)},
    }


# --------------------------------------------------------------------------------------------
# MPII
# --------------------------------------------------------------------------------------------
def mpii_record(sample, file_name: str):
    """The MPII ``ImageAnnotation`` of a ``Sample`` (people without a labelled joint left
    out); ``extra["single_person"]``: people whose box overlaps no other person's."""
    from posekit.datasets.formats import ImageAnnotation
    from posekit.synth.body import synth_to

    kp = synth_to("mpii16", sample.keypoints)
    keep = np.flatnonzero((kp[:, :, 2] > 0).any(axis=1))
    return ImageAnnotation(
        file_name=file_name,
        keypoints=kp[keep],
        skeleton="mpii16",
        headboxes=sample.head_box[keep],
        centers=sample.center[keep],
        scales=sample.scale[keep],
        extra={"img_train": True, "single_person": _separated(sample.bbox[keep])},
    )


def _separated(boxes: np.ndarray) -> list[int]:
    x0, y0 = boxes[:, 0], boxes[:, 1]
    x1, y1 = x0 + boxes[:, 2], y0 + boxes[:, 3]
    ow = np.minimum(x1[:, None], x1[None]) - np.maximum(x0[:, None], x0[None])
    oh = np.minimum(y1[:, None], y1[None]) - np.maximum(y0[:, None], y0[None])
    overlap = (ow > 0) & (oh > 0)
    np.fill_diagonal(overlap, False)
    return [int(r) for r in np.flatnonzero(~overlap.any(axis=1))]


def mpii_num_valid(n: int, val_fraction: float) -> int:
    """Images in HRNet's ``valid.json``: the last ``round(n * val_fraction)`` (at least one
    when ``val_fraction > 0``)."""
    k = int(round(n * float(val_fraction)))
    return min(n, max(k, 1)) if val_fraction > 0 else 0


def _export_mpii(out, kind, n, size, seed, opts, bar) -> dict:
    from posekit.datasets.formats import (
        write_hrnet_mpii_json,
        write_mpii_gt_valid,
        write_mpii_mat,
    )

    (out / "images").mkdir(exist_ok=True)
    (out / "annot").mkdir(exist_ok=True)
    (out / MPII_MAT_FILE).parent.mkdir(exist_ok=True)
    records = []
    for i, sample in synth_samples(kind, seed, _indices(n, opts), size, opts.get("people"),
                                   opts["config"]):  # fmt: skip
        name = f"{i + 1:09d}.{opts['image_format']}"
        _write_image(out / "images" / name, sample.image, opts)
        records.append(mpii_record(sample, name))
        bar.update(1)
    n_valid = mpii_num_valid(len(records), opts["val_fraction"])
    train, valid = records[: len(records) - n_valid], records[len(records) - n_valid :]
    write_mpii_mat(out / MPII_MAT_FILE, records)
    _fix_mat_header(out / MPII_MAT_FILE)
    write_hrnet_mpii_json(out / "annot/train.json", train)
    write_hrnet_mpii_json(out / "annot/valid.json", valid)
    write_hrnet_mpii_json(out / "annot/trainval.json", records)
    files = {"images": "images/", "mat": MPII_MAT_FILE, "train": "annot/train.json",
             "valid": "annot/valid.json", "trainval": "annot/trainval.json"}  # fmt: skip
    people = [r for r in valid if r.num_people]
    if people:
        kps = np.concatenate([r.keypoints for r in people])
        heads = np.concatenate([r.headboxes for r in people])
        write_mpii_gt_valid(out / "annot/gt_valid.mat", kps, heads)
        _fix_mat_header(out / "annot/gt_valid.mat")
        files["gt_valid"] = "annot/gt_valid.mat"
    return {
        "files": files,
        "split_rule": "valid = the last round(n * val_fraction) images (>= 1 if "
        "val_fraction > 0), train = the others; all images have img_train = 1",
        "counts": {
            "images": len(records),
            "people": sum(r.num_people for r in records),
            "train_images": len(train),
            "valid_images": len(valid),
            "valid_people": sum(r.num_people for r in valid),
        },
    }


def _fix_mat_header(path: Path) -> None:
    """Replace the creation date scipy writes into a MAT-file's 116-byte text header with a
    fixed text, so that the same export gives the same bytes."""
    text = b"MATLAB 5.0 MAT-file, Platform: posix, Created by: posekit.synth.export"
    with open(path, "r+b") as f:
        head = f.read(116)
        if not head.startswith(b"MATLAB 5.0 MAT-file"):
            return
        f.seek(0)
        f.write(text.ljust(116, b" "))


# --------------------------------------------------------------------------------------------
# SPHP
# --------------------------------------------------------------------------------------------
def sphp_frames(images: np.ndarray, on_frame=None) -> dict[str, np.ndarray]:
    """SPHP modalities of ``(T, H, W, 3)`` RGB frames: ``GRA``, ``EDG`` and ``MVH``/``MVV``
    (motion from frame t-1 to t; 128 on frame 0), each ``(T, H, W)`` uint8."""
    from posekit.sensors import MV_ZERO, edges, grayscale, motion_vectors

    t_len, h, w = images.shape[:3]
    out = {m: np.empty((t_len, h, w), np.uint8) for m in ("EDG", "MVH", "MVV", "GRA")}
    for t in range(t_len):
        out["GRA"][t] = grayscale(images[t])
        out["EDG"][t] = edges(images[t])
        if t == 0:
            out["MVH"][t] = MV_ZERO
            out["MVV"][t] = MV_ZERO
        else:
            out["MVH"][t], out["MVV"][t] = motion_vectors(images[t - 1], images[t])
        if on_frame is not None:
            on_frame()
    return out


def _export_sphp(out, kind, n, size, seed, opts, bar) -> dict:
    from posekit.datasets.formats import sphp_sequence_dir, write_sphp_sequence
    from posekit.synth.body import synth_to
    from posekit.synth.motions import ACTIONS

    sequences = []
    for i in _indices(n, opts):
        seq, subject, action = synth_sequence(
            seed, i, size, opts["n_frames"], opts["fps"], opts["actions"],
            opts["subject_start"], opts["config"],
        )  # fmt: skip
        folder = sphp_sequence_dir(out, opts["camera"], subject, action)
        frames = sphp_frames(seq.images, lambda: bar.update(1))
        labels = synth_to("sphp13", seq.joints2d[:, 0]).astype(np.float64)
        write_sphp_sequence(folder, frames, labels, overwrite=bool(opts["overwrite"]))
        cam = seq.camera
        sequences.append({
            "folder": folder.relative_to(out).as_posix(),
            "index": i,
            "subject": f"s{subject:02d}",
            "identity": int(seq.identity[0]),
            "action": action,
            "action_name": ACTIONS[action][0],
            "action_class": seq.action_class,
            "frames": len(seq),
            "fps": float(seq.fps),
            "camera_fx_fy_cx_cy": [round(float(v), 4) for v in (cam.fx, cam.fy, cam.cx, cam.cy)],
        })  # fmt: skip
    return {
        "files": {"sequences": "{camera}/sXX/NN/{EDG,MVH,MVV,GRA,pose_change}/"},
        "counts": {"sequences": len(sequences), "frames": sum(s["frames"] for s in sequences)},
        "sequences": sequences,
    }


# --------------------------------------------------------------------------------------------
# A whole SPHP-style dataset: both cameras, SPHP's subjects and splits
# --------------------------------------------------------------------------------------------
#: Facing directions of SPHP's subjects, degrees from the Master camera towards the Slave.
SPHP_FACINGS_DEG = (0.0, 15.0, 30.0, 45.0)
#: Camera folder -> azimuth in degrees around the person (the Slave 45 degrees from the Master,
#: on the side the subjects turn to: facing 45 degrees is facing the Slave).
SPHP_CAMERA_AZIMUTHS_DEG = {"Master": 0.0, "Slave": 45.0}


def sphp_subjects(subjects: int | Iterable[int | str]) -> tuple[int, ...]:
    """SPHP subject numbers (sorted) for ``subjects``: a count 1..40 or ids (``7``, ``"s07"``).

    A count ``n`` splits into train / val / test in SPHP's proportions 20 : 12 : 8 (largest
    remainders, ties to the earlier split) and takes the first subjects of each split in
    SPHP's numbering: 1 -> s01; 3 -> s01, s06, s09 (all three splits from 3 on);
    8 -> s01-s04 (train), s06-s07 (val), s09-s10 (test); 40 -> s01..s40.
    """
    from posekit.datasets.formats.sphp import SPHP_SPLITS, _subject_id

    if isinstance(subjects, (int, np.integer)) and not isinstance(subjects, bool):
        n = int(subjects)
        if not 1 <= n <= 40:
            raise ValueError(
                f"subjects must be a count 1..40 or SPHP subject ids s01..s40, got {subjects!r}"
            )
        sizes = {k: len(v) for k, v in SPHP_SPLITS.items()}
        quota = {k: n * v / 40 for k, v in sizes.items()}
        counts = {k: int(q) for k, q in quota.items()}
        order = sorted(quota, key=lambda k: -(quota[k] - counts[k]))  # stable: ties keep order
        for k in order[: n - sum(counts.values())]:
            counts[k] += 1
        ids = [s for k, v in SPHP_SPLITS.items() for s in v[: counts[k]]]
        return tuple(sorted(int(s[1:]) for s in ids))
    if isinstance(subjects, (str, bytes)) or not isinstance(subjects, Iterable):
        raise ValueError(
            f"subjects must be a count 1..40 or a list of SPHP subject ids, got {subjects!r}"
        )
    items = list(subjects)
    try:
        ids = [int(_subject_id(s)[1:]) for s in items]
    except ValueError:
        raise ValueError(
            f"subjects must be SPHP subject ids s01..s40 (or 1..40), got {items!r}"
        ) from None
    if not ids:
        raise ValueError("subjects must name at least one SPHP subject, got an empty list")
    if len(set(ids)) != len(ids):
        raise ValueError(f"subjects lists a subject twice: {items!r}")
    return tuple(sorted(ids))


def sphp_facing_deg(subject: int, action: int) -> float:
    """Facing direction (degrees from the Master camera towards the Slave) of ``subject``
    performing ``action``: ``SPHP_FACINGS_DEG[(subject + action - 2) % 4]``, so that every
    subject faces each of 0 / 15 / 30 / 45 degrees in 4 of its 16 actions and every action is
    seen at all four angles over 4 consecutive subjects."""
    return SPHP_FACINGS_DEG[(int(subject) + int(action) - 2) % len(SPHP_FACINGS_DEG)]


def sphp_recording(seed: int, subject: int, action: int, size: tuple[int, int] = (640, 480),
                   n_frames: int = 300, fps: float = 30.0, config=None):  # fmt: skip
    """The two views ``{"Master": Sequence, "Slave": Sequence}`` of ``subject`` performing
    ``action`` in ``export_sphp_dataset(seed=seed)``: drawn from ``sample_rng(seed, (subject
    - 1) * 16 + action - 1)`` (a function of the subject and action alone, whatever else is
    exported), identity ``identity_from_id(subject - 1, seed)``, facing
    ``sphp_facing_deg(subject, action)``."""
    from posekit.synth.body import identity_from_id
    from posekit.synth.scenes import DEFAULT, sample_rng, sample_sequence_views

    cfg = config or DEFAULT
    ident = identity_from_id(int(subject) - 1, seed, cfg.child_prob)
    views = sample_sequence_views(
        sample_rng(seed, (int(subject) - 1) * 16 + int(action) - 1), int(action), int(n_frames),
        float(fps), size, cfg, identity=ident, yaw_deg=sphp_facing_deg(subject, action),
        azimuths_deg=tuple(SPHP_CAMERA_AZIMUTHS_DEG.values()),
    )  # fmt: skip
    return dict(zip(SPHP_CAMERA_AZIMUTHS_DEG, views, strict=True))


def export_sphp_dataset(
    out: str | Path | None = None,
    subjects: int | Iterable[int | str] = 8,
    frames: int = 300,
    seed: int = 0,
    size: tuple[int, int] | str = (640, 480),
    actions: Iterable[int] | int | None = None,
    fps: float = 30.0,
    config=None,
    overwrite: bool = False,
    progress: bool = True,
) -> Path:
    """Write a synthetic SPHP dataset: every subject performs every action once, filmed by
    the Master and the Slave camera (``sphp_recording``), in SPHP's folders.

    Args:
        out: output folder (default ``default_out_dir("dataset", "sphp", seed)``); must be
            empty or absent unless ``overwrite``.
        subjects: a count 1..40 (``sphp_subjects``: SPHP's train / val / test subjects in
            proportion) or a list of subject ids (``[1, 6, 9]`` or ``["s01", "s06"]``).
        frames: frames per sequence (SPHP: 300, which the official loader asserts).
        seed: generation seed; the same arguments give the same bytes.
        size: ``(width, height)`` or ``"WxH"``; SPHP's 640x480 by default.
        actions: SPHP action ids (default all 16, ``posekit.synth.motions.ACTIONS``).
        fps: frame rate of the motions. config: ``SynthConfig`` (default ``DEFAULT``).
        overwrite: write into a non-empty ``out`` (replacing the files this export writes).
        progress: a tqdm bar over the frames written (both cameras).
    Returns:
        the path of ``out/manifest.json`` (per sequence: subject, split, action, facing, and
        both cameras' folder, intrinsics ``K`` and world-to-camera ``R``, ``t``).
    Raises:
        ValueError: bad ``subjects``, ``frames``, ``fps``, ``size`` or ``actions`` (the
            message names the argument), before anything is written.
        FileExistsError: ``out`` is not empty and ``overwrite`` is False.
    """
    from posekit.datasets.formats.sphp import SPHP_ACTIONS, sphp_split
    from posekit.synth.scenes import DEFAULT

    ids = sphp_subjects(subjects)
    if isinstance(frames, bool) or not isinstance(frames, (int, np.integer)) or frames < 1:
        raise ValueError(f"frames must be a positive integer, got {frames!r}")
    if not float(fps) > 0 or not np.isfinite(float(fps)):
        raise ValueError(f"fps must be a finite number > 0, got {fps!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed must be an integer, got {seed!r}")
    size = parse_size(size)
    try:
        acts = _actions(actions)
    except (TypeError, ValueError):
        acts = ()
    if not acts or any(a not in SPHP_ACTIONS for a in acts) or len(set(acts)) != len(acts):
        raise ValueError(f"actions must be distinct SPHP action ids 1..16, got {actions!r}")
    acts = tuple(sorted(acts))
    cfg = config or DEFAULT
    out = Path(out) if out is not None else default_out_dir("dataset", "sphp", seed)
    _prepare(out, bool(overwrite))
    total = len(ids) * len(acts) * len(SPHP_CAMERA_AZIMUTHS_DEG) * int(frames)
    bar = _bar(total, "dataset", "sphp", progress)
    try:
        sequences = [
            _write_recording(out, seed, s, a, size, int(frames), float(fps), cfg, overwrite, bar)
            for s in ids
            for a in acts
        ]
    finally:
        bar.close()
    splits = {k: [f"s{s:02d}" for s in ids if sphp_split(s) == k] for k in ("train", "val", "test")}
    import posekit

    manifest = {
        "generator": "posekit.synth.export.export_sphp_dataset",
        "posekit_version": posekit.__version__,
        "kind": "dataset",
        "format": "sphp",
        "size": list(size),
        "seed": int(seed),
        "options": {
            "subjects": [f"s{s:02d}" for s in ids],
            "frames": int(frames),
            "fps": float(fps),
            "actions": list(acts),
        },
        "cameras": {
            "azimuth_deg": SPHP_CAMERA_AZIMUTHS_DEG,
            "facings_deg": list(SPHP_FACINGS_DEG),
            "facing_rule": "SPHP_FACINGS_DEG[(subject + action - 2) % 4], degrees "
            "from the Master towards the Slave",
        },
        "config": _jsonable(asdict(cfg)),
        "files": {"sequences": "{Master,Slave}/sXX/NN/{EDG,MVH,MVV,GRA,pose_change}/"},
        "splits": splits,
        "counts": {
            "subjects": len(ids),
            "sequences": len(sequences) * len(SPHP_CAMERA_AZIMUTHS_DEG),
            "recordings": len(sequences),
            "frames": total,
            **{f"{k}_subjects": len(v) for k, v in splits.items()},
        },
        "sequences": sequences,
    }
    path = out / MANIFEST
    path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return path


def _write_recording(out, seed, subject, action, size, n_frames, fps, cfg, overwrite, bar):
    from posekit.datasets.formats import sphp_sequence_dir, write_sphp_sequence
    from posekit.datasets.formats.sphp import sphp_split
    from posekit.synth.body import synth_to
    from posekit.synth.motions import ACTIONS

    views = sphp_recording(seed, subject, action, size, n_frames, fps, cfg)
    cameras = {}
    for camera, seq in views.items():
        folder = sphp_sequence_dir(out, camera, subject, action)
        frames = sphp_frames(seq.images, lambda: bar.update(1))
        labels = synth_to("sphp13", seq.joints2d[:, 0]).astype(np.float64)
        write_sphp_sequence(folder, frames, labels, overwrite=bool(overwrite))
        cam = seq.camera
        cameras[camera] = {
            "folder": folder.relative_to(out).as_posix(),
            "azimuth_deg": SPHP_CAMERA_AZIMUTHS_DEG[camera],
            "K": cam.K.tolist(),
            "R": np.asarray(cam.R, np.float64).tolist(),
            "t": np.asarray(cam.t, np.float64).tolist(),
        }
    seq = views["Master"]
    return {
        "subject": f"s{subject:02d}",
        "split": sphp_split(subject),
        "identity": int(seq.identity[0]),
        "action": int(action),
        "action_name": ACTIONS[action][0],
        "action_class": seq.action_class,
        "facing_deg": sphp_facing_deg(subject, action),
        "frames": len(seq),
        "fps": float(seq.fps),
        "cameras": cameras,
    }
