"""HumanEva-I in VideoPose3D's converted format (``docs/datasets.md`` § HumanEva-I).

* ``data_2d_humaneva15_gt.npz``: ``positions_2d[subject][action]`` = list over the 3 colour
  cameras (C1, C2, C3) of ``(T, 15, 2)`` float32 pixels (an entry may be ``None`` in detection
  files), plus ``metadata`` (``layout_name``, ``num_joints``, ``keypoints_symmetry``).
* ``data_3d_humaneva15.npz``: ``positions_3d[subject][action]`` = ``(T, 15, 3)`` float32
  metres.

Subjects are ``"Train/S1"`` ... ``"Validate/S3"`` (``Unlabeled/...`` in detection files),
actions ``"Walking 1 chunk0"`` etc. Joint order = ``posekit.skeletons.HUMANEVA15``. Pixel
coordinates are kept as stored; an all-NaN joint means "not labelled", any other non-finite
value (inf, a lone NaN, beyond float32) raises ``FormatError``.

The arrays are pickled Python dicts inside the ``.npz`` (``np.savez_compressed`` of a dict,
as VideoPose3D writes them). The readers never call ``np.load(allow_pickle=True)``, which would
run code embedded in a malicious file: they read the ``.npy`` members themselves and unpickle
them with a restricted unpickler that builds only dicts, lists, tuples, strings, numbers and
numpy arrays, scalars and dtypes (numpy's reconstruction functions, as written by numpy 1 and
2 with pickle protocols 2 to 5). A pickle naming any other global (``os.system``,
``builtins.eval``, ...) is refused with a ``FormatError`` naming the file and the global
before anything runs, so files from any source are safe to read.
"""

from __future__ import annotations

import os
import pickle
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from posekit.datasets.formats.errors import FormatError, check_file, labelled_rows

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


# ---------------------------------------------------------------------------------------------
# Restricted unpickling of the .npz members
# ---------------------------------------------------------------------------------------------


class _ForbiddenGlobal(pickle.UnpicklingError):
    """A pickle asked for something the restricted unpickler does not build."""

    def __init__(self, what: str):
        super().__init__(what)
        self.what = what


# The objects handed to the unpickler have no instance state (``__slots__ = ()``, no
# ``__dict__``): a pickle's BUILD opcode cannot alter them for later loads.


class _NdarrayToken:
    """Stands for ``numpy.ndarray`` in a pickle: only ``_reconstruct``'s first argument, so
    a pickle cannot call the constructor itself (e.g. with a huge shape)."""

    __slots__ = ()


_NDARRAY = _NdarrayToken()
# The installed numpy's own reconstruction functions, found without naming numpy.core (numpy 1)
# or numpy._core (numpy 2).
_NP_RECONSTRUCT = np.zeros(0).__reduce__()[0]
_NP_SCALAR = np.float32(0).__reduce__()[0]
_NP_FROMBUFFER = np.zeros(1).__reduce_ex__(5)[0]


class _Reconstruct:
    """``ndarray.__reduce__``'s ``_reconstruct(ndarray, (0,), b"b")``; the data follow in
    ``__setstate__``."""

    __slots__ = ()

    def __call__(self, subtype: Any, shape: Any, dtype: Any) -> np.ndarray:
        if subtype is not _NDARRAY or tuple(shape) != (0,):
            raise _ForbiddenGlobal("numpy _reconstruct of anything but an empty ndarray")
        return _NP_RECONSTRUCT(np.ndarray, shape, dtype)


class _Latin1Bytes:
    """``_codecs.encode(text, "latin1")``: how protocol 2 stores ``bytes`` (array data)."""

    __slots__ = ()

    def __call__(self, text: Any, encoding: Any) -> bytes:
        if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
            raise _ForbiddenGlobal(f"_codecs.encode({type(text).__name__}, {encoding!r})")
        return text.encode("latin1")


#: (module, name) a numpy-written pickle of dicts/lists/arrays refers to -> what it gets.
_ALLOWED_GLOBALS: dict[tuple[str, str], Any] = {
    **{
        (m, "_reconstruct"): _Reconstruct()
        for m in ("numpy.core.multiarray", "numpy._core.multiarray")
    },
    **{(m, "scalar"): _NP_SCALAR for m in ("numpy.core.multiarray", "numpy._core.multiarray")},
    **{(m, "_frombuffer"): _NP_FROMBUFFER for m in ("numpy.core.numeric", "numpy._core.numeric")},
    ("numpy", "ndarray"): _NDARRAY,
    ("numpy", "dtype"): np.dtype,
    ("_codecs", "encode"): _Latin1Bytes(),
}


class _RestrictedUnpickler(pickle.Unpickler):
    """Builds dicts, lists, tuples, strings, numbers and numpy arrays/scalars/dtypes only."""

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise _ForbiddenGlobal(f"{module}.{name}") from None


def _read_member(z: zipfile.ZipFile, member: str, p: Path, key: str) -> Any:
    """One ``.npy`` member; an object array is unpickled with ``_RestrictedUnpickler``."""
    with z.open(member) as f:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(f)
        elif version == (2, 0):
            shape, _, dtype = np.lib.format.read_array_header_2_0(f)
        else:
            raise FormatError(p, f"is a .npy of version {version}; expected 1.0 or 2.0", key)
        if not dtype.hasobject:
            raise FormatError(
                p, f"is a {dtype} array of shape {shape}; expected a pickled dict", key
            )
        return _RestrictedUnpickler(f, encoding="latin1").load()


def _load_member(p: Path, key: str) -> Any:
    try:
        with zipfile.ZipFile(p) as z:
            names = z.namelist()
            member = f"{key}.npy" if f"{key}.npy" in names else key
            if member not in names:
                found = [n.removesuffix(".npy") for n in names]
                raise FormatError(p, f"is missing; arrays in the file: {found}", key)
            return _read_member(z, member, p, key)
    except FormatError:
        raise
    except _ForbiddenGlobal as e:
        raise FormatError(
            p, f"holds a pickled reference to {e.what}, which a HumanEva file never needs; "
            "refused without running it", key,
        ) from None  # fmt: skip
    except Exception as e:  # zip, .npy header or pickle damage
        raise FormatError(p, f"is not a readable .npz file ({type(e).__name__}: {e})") from None


def _load_dict(path: str | os.PathLike, key: str) -> tuple[Path, dict[str, Any]]:
    """``{subject: {action: value}}`` stored under ``key``, with string keys."""
    p = check_file(path)
    if not zipfile.is_zipfile(p):
        raise FormatError(p, "is not a readable .npz file (not a zip archive)")
    obj = _load_member(p, key)
    if isinstance(obj, np.ndarray) and obj.dtype == object and obj.shape == ():
        obj = obj.item()
    if not isinstance(obj, dict):
        raise FormatError(p, f"is {type(obj).__name__}; expected a pickled dict", key)
    for subject, actions in obj.items():
        w = f"{key}[{subject!r}]"
        if not isinstance(subject, str):
            raise FormatError(p, f"is a {type(subject).__name__} key; expected a string", w)
        if not isinstance(actions, dict):
            raise FormatError(p, f"is {type(actions).__name__}; expected a dict", w)
        for action in actions:
            if not isinstance(action, str):
                raise FormatError(
                    p, f"is a {type(action).__name__} key; expected a string", f"{w}[{action!r}]"
                )
    return p, obj


def _as_pose_array(a: Any, dims: int, p: Path, where: str) -> np.ndarray:
    """``(T, 15, dims)`` float64; rows all NaN (unknown) or finite within float32."""
    try:
        arr = np.asarray(a)
    except (TypeError, ValueError) as e:  # ragged nested lists
        raise FormatError(p, f"is not an array ({e})", where) from None
    if arr.dtype.kind not in "biuf" or arr.ndim != 3 or arr.shape[1:] != (NUM_JOINTS, dims):
        raise FormatError(
            p, f"has shape {arr.shape} and dtype {arr.dtype}; expected (T, 15, {dims})", where
        )
    _, bad = labelled_rows(arr)
    if bad is not None:
        raise FormatError(
            p, f"has {arr[bad].tolist()} at frame {bad[0]}, joint {bad[1]}; expected finite "
            "values (float32), or all NaN for an unknown joint", where,
        )  # fmt: skip
    return arr.astype(np.float64)


def read_humaneva_2d(path: str | os.PathLike) -> dict[str, dict[str, list[np.ndarray | None]]]:
    """Read ``data_2d_humaneva15_gt.npz`` (VideoPose3D) as posekit keypoints.

    Returns ``{subject: {action: [cam0, cam1, cam2]}}`` with each camera a ``(T, 15, 3)``
    float32 ``(x, y, v)`` array, v = 2 (v = 0 and x = y = 0 for an all-NaN joint), or
    ``None`` where the file has none. Safe on untrusted files (see the module docstring).
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
                ok = ~np.isnan(xy).all(axis=-1)
                kp = np.zeros((*xy.shape[:2], 3), np.float32)
                kp[..., :2] = np.where(ok[..., None], xy, 0.0)
                kp[..., 2] = np.where(ok, 2.0, 0.0)
                seq.append(kp)
            out[subject][action] = seq
    return out


def read_humaneva_3d(path: str | os.PathLike) -> dict[str, dict[str, np.ndarray]]:
    """Read ``data_3d_humaneva15.npz``: ``{subject: {action: (T, 15, 3) float32 metres}}``
    (an unknown joint stays all NaN). Safe on untrusted files (see the module docstring)."""
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
