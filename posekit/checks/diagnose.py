"""Diagnoses: recognise a known mistake in a wrong answer and say it to the student.

A diagnosis is a small pure function ``(expected, got, **ctx) -> hint | None``, registered
by name with ``@register_diagnosis("name")``. ``expected`` and ``got`` arrive as numpy arrays
(tensors and numbers are converted; they may differ in shape). ``ctx`` holds ``atol`` and
``rtol`` of the check plus whatever the check passed (``skeleton="coco17"``,
``flip_permutation=perm``, ``coord_dims=2``, ``scale_factors=(4,)``...). A diagnosis fires
only when ``got`` matches the mistaken version of ``expected`` and that version really
differs from ``expected``, so it never fires on an unrelated wrong answer.

Built in: ``xy_swapped``, ``hw_transposed``, ``half_pixel``, ``off_by_one``,
``flip_without_swap``, ``degrees_radians``, ``sign_flipped``, ``visibility_dropped``,
``unlabelled_moved``, ``wrong_scale``, ``rounded``, ``batch_dim`` (always on).
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from posekit.checks._compare import is_numeric, shape_str, to_numpy

Diagnosis = Callable[..., "str | None"]
DIAGNOSES: dict[str, Diagnosis] = {}
DEFAULT_DIAGNOSES = ("batch_dim",)  # run by every check, after the ones it names


def register_diagnosis(name: str) -> Callable[[Diagnosis], Diagnosis]:
    """Decorator registering ``fn(expected, got, **ctx) -> hint | None`` under ``name``
    (re-registering replaces, so module reloads work)."""

    def add(fn: Diagnosis) -> Diagnosis:
        DIAGNOSES[name] = fn
        return fn

    return add


def resolve_diagnoses(names: Iterable[str | Diagnosis]) -> list[Diagnosis]:
    """Diagnosis functions for names (or functions, passed through); unknown name: KeyError."""
    resolved = []
    for item in names:
        if callable(item):
            resolved.append(item)
        elif item in DIAGNOSES:
            resolved.append(DIAGNOSES[item])
        else:
            known = ", ".join(sorted(DIAGNOSES))
            raise KeyError(f"unknown diagnosis {item!r}; known: {known}")
    return resolved


def diagnose(
    expected: Any, got: Any, diagnoses: Iterable[str | Diagnosis] = (), **ctx: Any
) -> str | None:
    """The first hint among ``diagnoses`` (names or functions) that explains ``got``.

    ``expected``/``got``: arrays, tensors or numbers. A diagnosis that raises is skipped: a
    hint is a bonus and must never break a check.
    """
    if not (is_numeric(expected) and is_numeric(got)):
        return None
    e = to_numpy(expected).astype(np.float64)
    g = to_numpy(got).astype(np.float64)
    ctx.setdefault("atol", 1e-4)
    ctx.setdefault("rtol", 1e-4)
    for fn in resolve_diagnoses(diagnoses):
        try:
            with np.errstate(all="ignore"):
                hint = fn(e, g, **ctx)
        except Exception:
            continue
        if hint:
            return hint
    return None


# ---------------------------------------------------------------------------------- helpers


def close(a: np.ndarray, b: np.ndarray, ctx: dict) -> bool:
    """Same shape and ``np.allclose`` with the check's tolerances (NaN equals NaN)."""
    if a.shape != b.shape:
        return False
    return bool(np.allclose(a, b, atol=ctx["atol"], rtol=ctx["rtol"], equal_nan=True))


def explains(mistaken: np.ndarray, expected: np.ndarray, got: np.ndarray, ctx: dict) -> bool:
    """``got`` equals the mistaken version of ``expected``, and that version differs."""
    return close(got, mistaken, ctx) and not close(mistaken, expected, ctx)


def mistake(hint: str, wrong: Callable) -> Diagnosis:
    """A diagnosis that fires when ``got`` equals ``wrong(*inputs)`` — the answer recomputed
    with one classic mistake — and that differs from the right answer. ``inputs`` comes from
    the case's ``ctx`` (``Case(..., ctx={"inputs": args})``); tensors are computed without
    gradients and compared as numpy arrays."""

    def diagnosis(expected, got, inputs=None, **ctx):
        if inputs is None:
            return None
        torch = sys.modules.get("torch")
        with torch.no_grad() if torch is not None else contextlib.nullcontext():
            mistaken = np.asarray(to_numpy(wrong(*inputs)), np.float64)
        return hint if explains(mistaken, expected, got, ctx) else None

    return diagnosis


def coord_columns(expected: np.ndarray, ctx: dict) -> int | None:
    """How many leading entries of the last axis are coordinates: ``ctx['coord_dims']``, else
    2 for ``(..., 3)`` arrays (x, y, v), else all of them (``None``)."""
    if "coord_dims" in ctx:
        return ctx["coord_dims"]
    if expected.ndim >= 1 and expected.shape[-1] == 3:
        return 2
    return None


def split_coords(a: np.ndarray, n: int | None) -> tuple[np.ndarray, np.ndarray]:
    """``(coordinates, rest)`` along the last axis (rest is empty when ``n`` is None)."""
    if n is None or a.ndim == 0:
        return a, np.zeros(0)
    return a[..., :n], a[..., n:]


def _coords_explained(
    expected: np.ndarray, got: np.ndarray, ctx: dict, mistake: Callable[[np.ndarray], np.ndarray]
) -> bool:
    """``mistake`` applied to the coordinates only (other columns unchanged) explains ``got``."""
    if expected.shape != got.shape:
        return False
    n = coord_columns(expected, ctx)
    e_xy, e_rest = split_coords(expected, n)
    g_xy, g_rest = split_coords(got, n)
    return close(g_rest, e_rest, ctx) and explains(mistake(e_xy), e_xy, g_xy, ctx)


def _constant_offset(expected: np.ndarray, got: np.ndarray, offset: float, ctx: dict) -> bool:
    """Every coordinate that is wrong is off by exactly ``offset`` (either sign), the rest of
    the values match, and at least one coordinate is off."""
    if expected.shape != got.shape:
        return False
    n = coord_columns(expected, ctx)
    e_xy, e_rest = split_coords(expected, n)
    g_xy, g_rest = split_coords(got, n)
    if not close(g_rest, e_rest, ctx):
        return False
    diff = np.abs(g_xy - e_xy)
    wrong = ~np.isclose(g_xy, e_xy, atol=ctx["atol"], rtol=ctx["rtol"])
    return bool(wrong.any()) and bool(np.allclose(diff[wrong], offset, atol=ctx["atol"]))


# -------------------------------------------------------------------------------- diagnoses


@register_diagnosis("xy_swapped")
def xy_swapped(expected: np.ndarray, got: np.ndarray, **ctx: Any) -> str | None:
    """``got[..., [1, 0]]`` matches ``expected[..., :2]``."""
    if expected.ndim == 0 or expected.shape[-1] < 2 or got.shape != expected.shape:
        return None
    if explains(expected[..., [1, 0]], expected[..., :2], got[..., :2], ctx):
        return (
            "It looks like x and y are swapped: x is the column, y the row. An image is "
            "indexed image[y, x], but points are written (x, y)."
        )
    return None


@register_diagnosis("hw_transposed")
def hw_transposed(expected: np.ndarray, got: np.ndarray, **ctx: Any) -> str | None:
    """``got`` is ``expected`` with its last two axes (H, W) swapped (or, for a channels-last
    image ``(..., H, W, C)`` with C in 1/3/4, the two axes before C)."""
    candidates = []
    if expected.ndim >= 2:
        candidates.append(np.swapaxes(expected, -1, -2))
    if expected.ndim >= 3 and expected.shape[-1] in (1, 3, 4):
        candidates.append(np.swapaxes(expected, -3, -2))
    if any(explains(c, expected, got, ctx) for c in candidates):
        return (
            "Your result is the H×W transpose of the expected one: height and width are "
            "swapped. Arrays are (rows, columns) = (H, W), indexed [y, x]."
        )
    return None


@register_diagnosis("half_pixel")
def half_pixel(expected: np.ndarray, got: np.ndarray, **ctx: Any) -> str | None:
    """Coordinates off by exactly ±0.5."""
    if _constant_offset(expected, got, 0.5, ctx):
        return (
            "Your coordinates are off by half a pixel. In posekit pixel centres sit at integer "
            "coordinates: the first pixel's centre is x = 0 and it spans [-0.5, 0.5]. Check "
            "where you add or drop a 0.5."
        )
    return None


@register_diagnosis("off_by_one")
def off_by_one(expected: np.ndarray, got: np.ndarray, **ctx: Any) -> str | None:
    """Coordinates (or values) off by exactly ±1."""
    if _constant_offset(expected, got, 1.0, ctx):
        return (
            "Your result is off by exactly 1. Indices run from 0 to W - 1, so the last column "
            "is x = W - 1 (a horizontal flip maps x to W - 1 - x, not W - x)."
        )
    return None


def _flip_permutation(ctx: dict) -> np.ndarray | None:
    if ctx.get("flip_permutation") is not None:
        return np.asarray(ctx["flip_permutation"])
    if ctx.get("skeleton") is not None:
        from posekit.skeletons import get_skeleton

        return get_skeleton(ctx["skeleton"]).flip_permutation()
    return None


@register_diagnosis("flip_without_swap")
def flip_without_swap(expected: np.ndarray, got: np.ndarray, **ctx: Any) -> str | None:
    """``got`` equals ``expected`` with left/right joints not swapped: ``expected[..., perm, :]``
    for keypoints ``(..., K, 3)`` or ``expected[..., perm, :, :]`` for heatmaps ``(..., K, h, w)``.
    Needs ``skeleton=`` or ``flip_permutation=`` in the context."""
    perm = _flip_permutation(ctx)
    if perm is None:
        return None
    for axis in (-2, -3):
        if expected.ndim >= -axis and expected.shape[axis] == len(perm):
            if explains(np.take(expected, perm, axis=axis), expected, got, ctx):
                return (
                    "Your points are mirrored, but left and right joints were not swapped: "
                    "after a horizontal flip the left wrist becomes the right wrist. Reorder "
                    "the joints with skeleton.flip_permutation()."
                )
    return None


@register_diagnosis("degrees_radians")
def degrees_radians(expected: np.ndarray, got: np.ndarray, **ctx: Any) -> str | None:
    """``got`` is ``deg2rad(expected)`` or ``rad2deg(expected)``."""
    if explains(np.deg2rad(expected), expected, got, ctx):
        return (
            "Your angles look like radians, but degrees are expected here: convert with "
            "np.degrees(...)."
        )
    if explains(np.rad2deg(expected), expected, got, ctx):
        return (
            "Your angles look like degrees, but radians are expected here: convert with "
            "np.radians(...) (np.sin, np.cos and np.arctan2 work in radians)."
        )
    return None


@register_diagnosis("sign_flipped")
def sign_flipped(expected: np.ndarray, got: np.ndarray, **ctx: Any) -> str | None:
    """``got`` is ``-expected``."""
    if explains(-expected, expected, got, ctx):
        return (
            "Your result has the opposite sign: check the order of a subtraction (b - a versus "
            "a - b), or the direction of the y axis (it points down in images)."
        )
    return None


@register_diagnosis("visibility_dropped")
def visibility_dropped(expected: np.ndarray, got: np.ndarray, **ctx: Any) -> str | None:
    """Keypoints ``(..., 3)``: x and y right but the v column wrong, or v missing altogether
    (``got`` is ``(..., 2)``)."""
    if expected.ndim == 0 or expected.shape[-1] != 3:
        return None
    if got.shape == expected.shape[:-1] + (2,) and close(got, expected[..., :2], ctx):
        return (
            "You returned only (x, y): keep the visibility flag v as the third value of each "
            "keypoint, (x, y, v)."
        )
    if (
        got.shape == expected.shape
        and close(got[..., :2], expected[..., :2], ctx)
        and not close(got[..., 2], expected[..., 2], ctx)
    ):
        return (
            "Your x and y are right but the visibility column v is not: carry v through "
            "unchanged (0 = not labelled, 1 = occluded, 2 = visible)."
        )
    return None


@register_diagnosis("unlabelled_moved")
def unlabelled_moved(expected: np.ndarray, got: np.ndarray, **ctx: Any) -> str | None:
    """Keypoints ``(..., 3)``: labelled joints (v > 0) right, unlabelled ones (v = 0) not."""
    if expected.ndim == 0 or expected.shape[-1] != 3 or got.shape != expected.shape:
        return None
    unlabelled = expected[..., 2] == 0
    if not unlabelled.any():
        return None
    if close(got[~unlabelled], expected[~unlabelled], ctx) and not close(
        got[unlabelled], expected[unlabelled], ctx
    ):
        return (
            "Your labelled joints are right, but joints with v = 0 (not labelled) must stay "
            "(0, 0, 0). Mask them, e.g. np.where(v > 0, new_x, 0)."
        )
    return None


@register_diagnosis("wrong_scale")
def wrong_scale(expected: np.ndarray, got: np.ndarray, **ctx: Any) -> str | None:
    """Coordinates ``factor`` times too large or too small, for ``factor`` in
    ``ctx['scale_factors']`` (default 2, 4, 8: the usual heatmap strides)."""
    for factor in ctx.get("scale_factors", (2, 4, 8)):
        for mistaken, word in ((factor, "larger"), (1 / factor, "smaller")):
            if _coords_explained(expected, got, ctx, lambda xy, m=mistaken: xy * m):
                return (
                    f"Your coordinates are {factor:g} times {word} than expected: a scale "
                    "factor is missing or applied twice (e.g. the stride between heatmap and "
                    "image coordinates)."
                )
    return None


@register_diagnosis("rounded")
def rounded(expected: np.ndarray, got: np.ndarray, **ctx: Any) -> str | None:
    """``got`` is ``expected`` rounded, floored or truncated to whole numbers."""
    for mistake in (np.round, np.floor, np.trunc):
        if explains(mistake(expected), expected, got, ctx):
            return (
                "Your values look rounded to whole numbers: keep them as floats (avoid int(...), "
                "//, .astype(int) and round())."
            )
    return None


@register_diagnosis("batch_dim")
def batch_dim(expected: np.ndarray, got: np.ndarray, **ctx: Any) -> str | None:
    """Shapes differ only by a leading axis of size 1 (dropped or added)."""
    want, have = expected.shape, got.shape
    if want == have:
        return None
    if want[:1] == (1,) and have == want[1:]:
        return (
            f"You dropped the leading batch axis: expected {shape_str(want)}, got "
            f"{shape_str(have)}. Keep the N (or B) axis even when it is 1 (no .squeeze() or [0])."
        )
    if have[:1] == (1,) and want == have[1:]:
        return (
            f"Your result has an extra leading axis of size 1: expected {shape_str(want)}, got "
            f"{shape_str(have)}."
        )
    return None
