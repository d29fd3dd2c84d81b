"""HumanEva-I in VideoPose3D's converted format (``reference/formats.md`` §3.5).

* ``data_2d_humaneva15_gt.npz``: ``positions_2d[subject][action]`` = list over the 3 colour
  cameras (C1, C2, C3) of ``(T, 15, 2)`` float32 pixels (an entry may be ``None`` in detection
  files), plus ``metadata`` (``layout_name``, ``num_joints``, ``keypoints_symmetry``).
* ``data_3d_humaneva15.npz``: ``positions_3d[subject][action]`` = ``(T, 15, 3)`` float32
  metres.

Subjects are ``"Train/S1"`` ... ``"Validate/S3"`` (``Unlabeled/...`` in detection files),
actions ``"Walking 1 chunk0"`` etc. Joint order = ``posekit.skeletons.HUMANEVA15``. Pixel
coordinates are kept as stored.

The arrays are pickled Python dicts inside the ``.npz`` (``np.savez_compressed`` of a dict,
as VideoPose3D writes them), so reading needs ``np.load(..., allow_pickle=True)``, which can
execute code embedded in a malicious file: **only read files you chose and trust** (your own
exports, or the files VideoPose3D's script produced on your machine).
"""

from __future__ import annotations

import os
import pickle
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from posekit.datasets.formats.errors import FormatError, check_file

NUM_JOINTS = 15
HUMANEVA_SUBJECTS = (
    "Train/S1",
    "Train/S2",
    "Train/S3",
    "Validate/S1",
    "Validate/S2",
    "Validate/S3",
)
HUMANEVA_CAMERAS = ("C1", "C2", "C3")
#: VideoPose3D's ``humaneva15_metadata``.
HUMANEVA15_METADATA: dict[str, Any] = {
    "layout_name": "humaneva15",
    "num_joints": 15,
    "keypoints_symmetry": [[2, 3, 4, 8, 9, 10], [5, 6, 7, 11, 12, 13]],
}


def _load_dict(path: str | os.PathLike, key: str) -> tuple[Path, dict[str, Any]]:
    p = check_file(path)
    if not zipfile.is_zipfile(p):  # never let np.load fall back to unpickling a bare file
        raise FormatError(p, "is not a readable .npz file (not a zip archive)")
    try:
        # allow_pickle: the dicts are pickled objects; see the module docstring.
        with np.load(p, allow_pickle=True) as npz:
            if key not in npz.files:
                raise FormatError(p, f"is missing; arrays in the file: {npz.files}", key)
            obj = npz[key]
    except FormatError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError, pickle.UnpicklingError) as e:
        raise FormatError(p, f"is not a readable .npz file ({type(e).__name__}: {e})") from None
    if isinstance(obj, np.ndarray) and obj.dtype == object and obj.shape == ():
        obj = obj.item()
    if not isinstance(obj, dict):
        raise FormatError(p, f"is {type(obj).__name__}; expected a pickled dict", key)
    for subject, actions in obj.items():
        if not isinstance(actions, dict):
            raise FormatError(
                p, f"is {type(actions).__name__}; expected a dict", f"{key}[{subject!r}]"
            )
    return p, obj


def _as_pose_array(a: Any, dims: int, p: Path, where: str) -> np.ndarray:
    arr = np.asarray(a)
    if arr.dtype.kind not in "biuf" or arr.ndim != 3 or arr.shape[1:] != (NUM_JOINTS, dims):
        raise FormatError(
            p, f"has shape {arr.shape} and dtype {arr.dtype}; expected (T, 15, {dims})", where
        )
    return arr


def read_humaneva_2d(path: str | os.PathLike) -> dict[str, dict[str, list[np.ndarray | None]]]:
    """Read ``data_2d_humaneva15_gt.npz`` (VideoPose3D) as posekit keypoints.

    Returns ``{subject: {action: [cam0, cam1, cam2]}}`` with each camera a ``(T, 15, 3)``
    float32 ``(x, y, v)`` array, v = 2 (v = 0 and x = y = 0 for non-finite values), or
    ``None`` where the file has none. Uses ``allow_pickle=True``: read trusted files only.
    """
    p, data = _load_dict(path, "positions_2d")
    out: dict[str, dict[str, list[np.ndarray | None]]] = {}
    for subject, actions in data.items():
        out[subject] = {}
        for action, cams in actions.items():
            w = f"positions_2d[{subject!r}][{action!r}]"
            if not isinstance(cams, (list, tuple)):
                raise FormatError(p, f"is {type(cams).__name__}; expected a list of cameras", w)
            seq: list[np.ndarray | None] = []
            for c, cam in enumerate(cams):
                if cam is None:
                    seq.append(None)
                    continue
                xy = _as_pose_array(cam, 2, p, f"{w}[{c}]").astype(np.float32)
                ok = np.isfinite(xy).all(axis=-1)
                kp = np.zeros((*xy.shape[:2], 3), np.float32)
                kp[..., :2] = np.where(ok[..., None], xy, 0.0)
                kp[..., 2] = np.where(ok, 2.0, 0.0)
                seq.append(kp)
            out[subject][action] = seq
    return out


def read_humaneva_3d(path: str | os.PathLike) -> dict[str, dict[str, np.ndarray]]:
    """Read ``data_3d_humaneva15.npz``: ``{subject: {action: (T, 15, 3) float32 metres}}``.
    Uses ``allow_pickle=True``: read trusted files only."""
    p, data = _load_dict(path, "positions_3d")
    return {
        subject: {
            action: _as_pose_array(a, 3, p, f"positions_3d[{subject!r}][{action!r}]").astype(
                np.float32
            )
            for action, a in actions.items()
        }
        for subject, actions in data.items()
    }


def write_humaneva_2d(
    path: str | os.PathLike,
    positions: Mapping[str, Mapping[str, Sequence[np.ndarray | None]]],
    *,
    metadata: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``{subject: {action: [per camera (T, 15, 2|3)]}}`` as VideoPose3D's 2D ``.npz``.

    Cameras are stored as ``(T, 15, 2)`` float32; given ``(T, 15, 3)`` keypoints, joints with
    v = 0 are stored as NaN (the format has no flags, so v = 1 reads back as 2). ``metadata``
    defaults to ``HUMANEVA15_METADATA``. Written with ``np.savez_compressed`` (a ``.npz``
    suffix is added when missing, as numpy does); returns the path written.
    """
    out: dict[str, dict[str, list[np.ndarray | None]]] = {}
    for subject, actions in positions.items():
        out[str(subject)] = {}
        for action, cams in actions.items():
            seq: list[np.ndarray | None] = []
            for c, cam in enumerate(cams):
                if cam is None:
                    seq.append(None)
                    continue
                a = np.asarray(cam, np.float32)
                if a.ndim != 3 or a.shape[1] != NUM_JOINTS or a.shape[2] not in (2, 3):
                    raise ValueError(
                        f"write_humaneva_2d: [{subject!r}][{action!r}][{c}] must be (T, 15, 2|3), "
                        f"got {a.shape}"
                    )
                if a.shape[2] == 3:
                    a = np.where(a[..., 2:] > 0, a[..., :2], np.float32(np.nan))
                seq.append(np.ascontiguousarray(a, np.float32))
            out[str(subject)][str(action)] = seq
    meta = dict(HUMANEVA15_METADATA if metadata is None else metadata)
    return _save(path, positions_2d=out, metadata=meta)


def write_humaneva_3d(
    path: str | os.PathLike, positions: Mapping[str, Mapping[str, np.ndarray]]
) -> Path:
    """Write ``{subject: {action: (T, 15, 3) metres}}`` as VideoPose3D's 3D ``.npz``
    (``positions_3d``, float32, ``np.savez_compressed``)."""
    out: dict[str, dict[str, np.ndarray]] = {}
    for subject, actions in positions.items():
        out[str(subject)] = {}
        for action, a in actions.items():
            arr = np.asarray(a, np.float32)
            if arr.ndim != 3 or arr.shape[1:] != (NUM_JOINTS, 3):
                raise ValueError(
                    f"write_humaneva_3d: [{subject!r}][{action!r}] must be (T, 15, 3), got "
                    f"{arr.shape}"
                )
            out[str(subject)][str(action)] = np.ascontiguousarray(arr)
    return _save(path, positions_3d=out)


def _save(path: str | os.PathLike, **arrays: Any) -> Path:
    p = Path(path)
    if p.suffix != ".npz":
        p = p.with_name(p.name + ".npz")
    np.savez_compressed(p, **arrays)
    return p


def humaneva_split(subject: str) -> str:
    """``"train"``, ``"validate"`` or ``"unlabeled"`` for a subject key like ``"Train/S1"``."""
    head = str(subject).split("/", 1)[0].lower()
    if head in ("train", "validate", "unlabeled"):
        return head
    raise ValueError(
        f"HumanEva subject key must start with Train/, Validate/ or Unlabeled/: {subject!r}"
    )
