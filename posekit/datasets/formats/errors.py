"""Errors raised by the format readers, and the checked file loaders they share."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np


class FormatError(ValueError):
    """A dataset file that does not have the structure its format prescribes.

    ``str(err)`` starts with the file's path; ``err.path`` is that path and ``err.field`` the
    offending field inside the file (``"joints"``, ``"annotations[3].keypoints"``,
    ``"RELEASE.annolist(2).annorect(1).annopoints.point(4).id"``, ...) or ``None`` when the
    problem concerns the whole file.
    """

    def __init__(self, path: str | os.PathLike, message: str, field: str | None = None):
        self.path = str(path)
        self.field = field
        self.message = message
        text = f"field '{field}' {message}" if field is not None else message
        super().__init__(f"{self.path}: {text}")

    def __reduce__(self):  # keep pickling (multiprocessing) working with the custom __init__
        return (type(self), (self.path, self.message, self.field))


class FormatFileNotFoundError(FormatError, FileNotFoundError):
    """The file (or folder) to read does not exist. Also a ``FileNotFoundError``."""

    def __init__(self, path: str | os.PathLike, message: str = "no such file", field=None):
        super().__init__(path, message, field)
        self.filename = str(path)

    def __str__(self) -> str:  # OSError would otherwise format its own message
        return ValueError.__str__(self)


def check_file(path: str | os.PathLike, what: str = "file") -> Path:
    """``Path(path)`` if it is an existing regular file, else ``FormatFileNotFoundError``."""
    p = Path(path)
    if not p.exists():
        raise FormatFileNotFoundError(p, f"no such {what}")
    if not p.is_file():
        raise FormatFileNotFoundError(p, f"is not a {what} (a folder?)")
    return p


def check_dir(path: str | os.PathLike, what: str = "folder") -> Path:
    """``Path(path)`` if it is an existing folder, else ``FormatFileNotFoundError``."""
    p = Path(path)
    if not p.is_dir():
        raise FormatFileNotFoundError(p, f"no such {what}")
    return p


def load_json(path: str | os.PathLike) -> Any:
    """Parse a JSON file; a missing file or invalid JSON raises a ``FormatError``."""
    p = check_file(path)
    try:
        with open(p, encoding="utf-8") as f:
            return json.load(f)
    except json.JSONDecodeError as e:
        raise FormatError(p, f"is not valid JSON: {e}") from None
    except UnicodeDecodeError as e:
        raise FormatError(p, f"is not UTF-8 text (JSON expected): {e}") from None
    except RecursionError:
        raise FormatError(p, "nests arrays/objects too deeply to be an annotation file") from None
    except ValueError as e:  # e.g. an integer literal longer than Python's digit limit
        raise FormatError(p, f"is not readable JSON ({e})") from None


def load_mat(path: str | os.PathLike, **kwargs: Any) -> dict[str, Any]:
    """``scipy.io.loadmat`` with a ``FormatError`` for a missing or unreadable file."""
    import scipy.io

    p = check_file(path)
    try:
        return scipy.io.loadmat(p, **kwargs)
    except NotImplementedError as e:  # MATLAB v7.3 (HDF5) files
        raise FormatError(p, f"cannot be read by scipy.io.loadmat ({e}); re-save as -v7") from None
    except Exception as e:  # scipy raises ValueError/TypeError/... on garbage
        raise FormatError(
            p, f"is not a readable MATLAB .mat file ({type(e).__name__}: {e})"
        ) from None


def mat_array(path: Path, data: dict[str, Any], key: str) -> np.ndarray:
    """Variable ``key`` of a loaded .mat file as a numeric array, or a ``FormatError``."""
    if key not in data:
        found = sorted(k for k in data if not k.startswith("__"))
        raise FormatError(path, f"is missing; variables in the file: {found}", key)
    arr = np.asarray(data[key])
    if arr.dtype.kind not in "biuf":
        raise FormatError(path, f"has dtype {arr.dtype}; expected a numeric array", key)
    return arr


#: Largest finite float32: every coordinate, size and score ends up in a float32 array.
FLOAT32_MAX = float(np.finfo(np.float32).max)
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def is_finite32(x: Any) -> bool:
    """``x`` is a finite number that a float32 holds (not NaN/inf, ``|x| <= 3.4e38``)."""
    try:
        x = float(x)
    except (OverflowError, TypeError, ValueError):
        return False
    return math.isfinite(x) and abs(x) <= FLOAT32_MAX


def first_nonfinite32(values: Any) -> tuple[int, ...] | None:
    """Index of the first element that is NaN, inf or beyond float32's range, else ``None``."""
    a = np.asarray(values, dtype=np.float64)
    bad = ~(np.abs(a) <= FLOAT32_MAX)  # NaN compares False
    return tuple(int(i) for i in np.argwhere(bad)[0]) if bad.any() else None


def labelled_rows(points: Any) -> tuple[np.ndarray, tuple[int, ...] | None]:
    """Coordinate rows ``(..., D)`` read where an all-NaN row means "not labelled".

    Returns ``(labelled, bad)``: ``labelled`` ``(...)`` bool, False for all-NaN rows; ``bad``
    the index ``(...)`` of the first other row holding a NaN, an inf or a value beyond
    float32, else ``None``.
    """
    a = np.asarray(points, dtype=np.float64)
    unlabelled = np.isnan(a).all(axis=-1)
    bad = first_nonfinite32(np.where(unlabelled[..., None], 0.0, a))
    return ~unlabelled, None if bad is None else bad[:-1]


def json_floats(path: Path, values: list[Any], field: str) -> np.ndarray:
    """A JSON list of numbers as float64; an integer too large for a float is a FormatError."""
    try:
        return np.array(values, dtype=np.float64)
    except OverflowError:
        raise FormatError(path, "holds an integer too large for a float", field) from None


def shortest_float(x: float) -> float | int:
    """A float32 value as the shortest decimal that reads back to the same float32.

    Integral values come back as ``int`` (COCO stores integral pixel coordinates as ints).
    """
    f32 = np.float32(x)
    if not np.isfinite(f32):
        raise ValueError(f"cannot write non-finite value {x!r} to JSON")
    value = float(np.format_float_positional(f32, unique=True, trim="-"))
    return int(value) if value.is_integer() and abs(value) < 2**53 else value
