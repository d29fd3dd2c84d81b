"""Argument checks shared across posekit: each returns the clean value or raises one
``ValueError`` that names the argument and shows what it got.

Sizes are ``(width, height)`` in pixels, strides ``(sx, sy)`` input pixels per map pixel
(``docs/conventions.md``). This module imports no other posekit module.
"""

from __future__ import annotations

import numpy as np


def check_int(name: str, value, minimum: int = 1) -> int:
    """``value`` if it is an ``int`` (not a bool) ``>= minimum``, else ``ValueError`` naming
    ``name``."""
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        expected = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise ValueError(f"{name}: expected {expected}, got {value!r}")
    return value


def check_positive_ints(**values) -> None:
    """``check_int(name, value)`` for every keyword argument, in order."""
    for name, value in values.items():
        check_int(name, value)


def size2(value, name: str, *, square: bool = False, maximum: int | None = None):
    """``value`` = ``(width, height)`` of whole positive numbers (``3.0`` is 3, ``3.5`` is
    refused) as two ints; with ``square``, one number ``s`` also means ``(s, s)``;
    ``maximum`` caps both sides."""
    try:
        pair = (value, value) if square and np.ndim(value) == 0 else tuple(value)
        w, h = (int(v) for v in pair)
        ok = all(float(v) == int(v) for v in pair) and w > 0 and h > 0
        ok = ok and (maximum is None or max(w, h) <= maximum)
    except (TypeError, ValueError, OverflowError):
        ok = False
    if not ok:
        what = "a side or (width, height)" if square else "(width, height)"
        cap = f" up to {maximum}" if maximum is not None else ""
        raise ValueError(f"{name}: expected {what}, positive integers{cap}, got {value!r}")
    return w, h


def stride2(stride, name: str = "stride") -> tuple[float, float]:
    """``stride`` (a number or ``(sx, sy)``) as two positive floats."""
    s = np.asarray(stride, dtype=np.float64).reshape(-1)
    if s.size == 1:
        s = np.repeat(s, 2)
    if s.size != 2 or not np.all(np.isfinite(s)) or np.any(s <= 0):
        raise ValueError(f"{name}: expected a positive number or (sx, sy), got {stride!r}")
    return float(s[0]), float(s[1])


def point2(value, arg: str) -> np.ndarray:
    """``value`` as 2 finite float64 numbers ``(x, y)``."""
    v = np.asarray(value, dtype=np.float64)
    if v.shape != (2,) or not np.all(np.isfinite(v)):
        raise ValueError(f"{arg}: expected 2 finite numbers (x, y), got {np.asarray(value)!r}")
    return v


def affine2x3(matrix, arg: str = "matrix") -> np.ndarray:
    """``matrix`` as a finite, invertible 2×3 float64 affine matrix."""
    m = np.asarray(matrix, dtype=np.float64)
    if m.shape != (2, 3) or not np.all(np.isfinite(m)):
        raise ValueError(f"{arg}: expected a finite 2×3 affine matrix, got shape {m.shape}")
    if abs(np.linalg.det(m[:, :2])) < 1e-12:
        raise ValueError(f"{arg}: the affine matrix is singular")
    return m


def is_json_number(value) -> bool:
    """A JSON number as ``json.load`` gives it: an ``int`` or ``float``, not a bool."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)
