"""Checks for lesson 06 "Sparse and privacy-enhanced representations".

SPHP (Lin, Hsieh et al. 2023, "Sparse and Privacy-enhanced Representation for Human Pose
Estimation") feeds pose networks with edges and motion vectors instead of RGB, and runs them
on submanifold sparse convolutions (Graham & van der Maaten 2017, "Submanifold Sparse
Convolutional Networks"), which compute only at the active pixels. The exercises:

* 6.1 ``block_motion_vectors`` — a video codec's motion search by block matching (Jain &
  Jain 1981, "Displacement measurement and its application in interframe image coding"):
  per macroblock, the integer displacement within ±``search`` px of minimum sum of absolute
  differences (SAD), ties to the shortest vector (``posekit.sensors.block_motion``); and
  ``encode_mv``, SPHP's uint8 motion code, 128 = no motion (``posekit.sensors.encode_motion``).
* 6.2 ``submanifold_rulebook`` — the rulebook of one 3×3 submanifold convolution: per kernel
  offset, the (input row, output row) pairs of active sites that meet
  (``posekit.sparse.submanifold_rules``).
* 6.3 ``layer_macs`` — the multiply-accumulates of one sparse conv layer, counted at the
  active sites, beside the same layer run densely (``posekit.sparse.count_macs``).

Each check compares the student's function with posekit's reference (the tests verify that
the references equal the package's functions) on small cases first, then recognises the
classic mistakes — vectors pointing from the current frame to the previous one, x and y
swapped, block units, ties not broken to the shortest vector, a search window off by one, a
uint8 subtraction wrapping around; a missing or doubled 128 offset, no clipping, truncation;
offsets transposed, flipped or uncentred, pairs swapped, the centre missing, inactive or
out-of-image neighbours paired, a flat index wrapping into the next row, rows renumbered;
the centre forgotten, FLOPs instead of MACs, a dense count without the kernel area, every
offset counted at every site — by recomputing the answer with that mistake.

Conventions: images are ``H×W`` (rows, columns), indexed ``[y, x]``; a motion vector is
``(dx, dy)``, x right and y down, the displacement of the content from the previous frame to
the current one: ``curr[y, x] ≈ prev[y − dy, x − dx]`` (``posekit.sensors``).
"""

from __future__ import annotations

import functools
import math
import numbers
from collections.abc import Callable

import cv2
import numpy as np
import torch

from posekit.checks import Case, check_function, register_reference
from posekit.checks._compare import format_array, format_value, is_tensor, shape_str, to_numpy
from posekit.checks._compare import type_name as _type_name
from posekit.checks.diagnose import mistake
from posekit.sensors import MV_GAIN, block_motion, encode_motion, motion_vectors
from posekit.sparse import SparseTensor, count_macs, submanifold_rules
from posekit.sparse.macs import record

__all__ = [
    "check_block_motion_vectors",
    "check_encode_mv",
    "check_layer_macs",
    "check_submanifold_rulebook",
    "reference_block_motion_vectors",
    "reference_encode_mv",
    "reference_layer_macs",
    "reference_submanifold_rulebook",
]

# ----------------------------------------------------------------- helpers


def _mistake(hint: str, wrong: Callable) -> Callable:
    """``diagnose.mistake`` for cases whose ``ctx["inputs"]`` holds ``(args, kwargs)``."""
    return mistake(hint, lambda args, kwargs: wrong(*args, **kwargs))


def _case(args: tuple, label: str, expected=None, **kwargs) -> Case:
    case = Case(args, kwargs, label=label, ctx={"inputs": (args, kwargs)})
    if expected is not None:
        case.expected = expected
    return case


def _int(value, arg: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        kind = "a positive" if minimum == 1 else "a non-negative"
        raise ValueError(f"{arg}: expected {kind} integer, got {value!r}")
    return int(value)


def _shape(shape) -> tuple[int, int]:
    if not isinstance(shape, (tuple, list)) or len(shape) != 2:
        raise ValueError(f"shape: expected (H, W), two positive integers, got {shape!r}")
    return _int(shape[0], "shape[0] (H)", 1), _int(shape[1], "shape[1] (W)", 1)


class _BadOutput:
    """What a wrapped student function returns when its output cannot be read (the reason
    is the FAIL line)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def __repr__(self) -> str:
        return f"_BadOutput({self.reason!r})"


def _reading(fn: Callable, convert: Callable, explain: Callable | None = None) -> Callable:
    """``fn`` whose output goes through ``convert(output, *args, **kwargs)`` (a numeric array
    the diagnoses can read, or a ``_BadOutput``); ``explain(err)`` may add a sentence to the
    message of an exception ``fn`` raised (the student's line stays in the traceback)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            out = fn(*args, **kwargs)
        except Exception as err:
            why = None
            if explain is not None:
                try:
                    why = explain(err)
                except Exception:
                    why = None
            if why:
                err.args = (f"{why} ({type(err).__name__}: {err})",)
            raise
        try:
            return convert(out, *args, **kwargs)
        except Exception as err:  # an output too odd to read: say so, never crash the check
            return _BadOutput(
                f"posekit could not read your output ({type(err).__name__}: "
                f"{err}); got {format_value(out)}"
            )

    return wrapper


def _wrapped(fn, convert, explain=None):
    return _reading(fn, convert, explain) if callable(fn) else fn


# ----------------------------------------------------------------- Exercise 6.1


def _frames(prev, curr) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(prev), np.asarray(curr)
    for name, f in (("prev", a), ("curr", b)):
        if f.ndim != 2 or f.dtype.kind not in "uif" or f.size == 0:
            raise ValueError(
                f"{name}: expected a non-empty H×W grey image (uint8 or float), "
                f"got {shape_str(f.shape)} {f.dtype}"
            )
    if a.shape != b.shape:
        raise ValueError(f"curr: shape {shape_str(b.shape)} differs from prev {shape_str(a.shape)}")
    return a, b


def _block_match(
    prev,
    curr,
    block=16,
    search=8,
    *,
    sign=1,
    order="shortest",
    window=None,
    wrap=False,
):
    """Block matching with the right recipe or one classic mistake.

    For each candidate ``(dx, dy)`` (in tie-break order) and every block at once: the SAD
    between the ``curr`` block and the ``prev`` block shifted by ``(-dx, -dy)`` (``sign=-1``:
    by ``(+dx, +dy)``), kept where it lies inside ``prev`` and beats the best so far.

    ``order``: ``"shortest"`` (candidates by ``dx² + dy²``, then dy, then dx; strict ``<``),
    ``"first"`` (raster order from ``(-s, -s)``, strict ``<``: the first minimum) or
    ``"last"`` (raster, ``<=``: the last minimum). ``window``: ``(lo, hi)`` candidate range
    (default ``(-search, search)``). ``wrap``: uint8 frames subtracted as uint8 (mod 256).
    """
    a, b = np.asarray(prev), np.asarray(curr)
    if not (wrap and a.dtype == np.uint8 and b.dtype == np.uint8):
        a, b = a.astype(np.float64), b.astype(np.float64)
    h, w = b.shape
    hb, wb = h // block, w // block
    lo, hi = window if window is not None else (-search, search)
    pad = max(abs(lo), abs(hi))
    ap = np.zeros((h + 2 * pad, w + 2 * pad), a.dtype)
    ap[pad : pad + h, pad : pad + w] = a
    candidates = [(dx, dy) for dy in range(lo, hi + 1) for dx in range(lo, hi + 1)]
    if order == "shortest":
        candidates.sort(key=lambda d: (d[0] ** 2 + d[1] ** 2, d[1], d[0]))
    ys, xs = np.arange(hb) * block, np.arange(wb) * block
    best = np.full((hb, wb), np.inf)
    out = np.zeros((hb, wb, 2), np.int64)
    for dx, dy in candidates:
        sx, sy = sign * dx, sign * dy
        shifted = ap[pad - sy : pad - sy + h, pad - sx : pad - sx + w]
        diff = (b - shifted) if wrap and b.dtype == np.uint8 else np.abs(b - shifted)
        sad = diff.astype(np.float64).reshape(hb, block, wb, block).sum(axis=(1, 3))
        inside = ((ys - sy >= 0) & (ys - sy + block <= h))[:, None] & (
            (xs - sx >= 0) & (xs - sx + block <= w)
        )[None, :]
        better = ((sad <= best) if order == "last" else (sad < best)) & inside
        best[better] = sad[better]
        out[better] = (dx, dy)
    return out


def reference_block_motion_vectors(prev, curr, block=16, search=8):
    """A video codec's motion search: per ``block × block`` macroblock, the integer
    displacement ``(dx, dy)`` within ±``search`` px of minimum sum of absolute differences
    (SAD), by exhaustive (full) search (Jain & Jain 1981; MPEG / H.264 encoders).

    Block ``(i, j)`` is ``curr[i*block:(i+1)*block, j*block:(j+1)*block]``; candidate
    ``(dx, dy)`` compares it with the ``prev`` block at rows ``i*block − dy …`` and columns
    ``j*block − dx …``, so ``(dx, dy)`` is the displacement of the content *from prev to
    curr* (x right, y down): ``curr[y, x] ≈ prev[y − dy, x − dx]``, and content moving right
    gives ``dx > 0``. ``SAD = Σ |curr block − prev block|`` over the block's pixels (in a
    signed type: uint8 differences wrap around). Rules:

    * candidates: every ``dx, dy`` in ``−search … +search`` (both ends: (2·search + 1)²),
      skipping those whose ``prev`` block leaves the frame;
    * ties (flat or repeating texture): the shortest vector (smallest ``dx² + dy²``), then
      the smaller dy, then the smaller dx — a static or textureless block gets ``(0, 0)``.

    Args:
        prev, curr: ``H×W`` grey frames (uint8 or float) of one shape; ``H`` and ``W``
            multiples of ``block``.
        block: macroblock side in px (16). search: search range in px (8).
    Returns:
        ``(H // block, W // block, 2)`` integer array: ``[..., 0]`` = dx, ``[..., 1]`` = dy,
        in pixels — ``np.stack(posekit.sensors.block_motion(prev, curr, block, search),
        axis=-1)`` for uint8 frames.
    """
    a, b = _frames(prev, curr)
    block, search = _int(block, "block", 1), _int(search, "search", 0)
    h, w = b.shape
    if h % block or w % block:
        raise ValueError(f"prev, curr: H and W must be multiples of block={block}, got {h}×{w}")
    return _block_match(a, b, block, search)


def _motion(**options) -> Callable:
    return lambda prev, curr, block=16, search=8: _block_match(prev, curr, block, search, **options)


def _window(shift: Callable) -> Callable:
    return lambda prev, curr, block=16, search=8: _block_match(
        prev, curr, block, search, window=shift(search)
    )


_WINDOW_HINT = (
    "Your search window is off by one: the candidates run from −search to +search, both "
    "ends included — range(-search, search + 1), (2·search + 1)² of them."
)

_MOTION_DIAGNOSES = [
    _mistake(
        "Your vectors point the opposite way: (dx, dy) is the displacement of the content "
        "from prev to curr, so block (i, j) of curr is compared with the prev block shifted "
        "by (−dx, −dy) — curr[y, x] ≈ prev[y − dy, x − dx]: content moving right gives "
        "dx > 0. (A codec stores the opposite vector, from the block to its reference.)",
        _motion(sign=-1),
    ),
    _mistake(
        "x and y are swapped: the last axis holds (dx, dy) — x (columns) first, as "
        "posekit's points and the order of block_motion's outputs.",
        lambda *args, **kwargs: _block_match(*args, **kwargs)[..., ::-1],
    ),
    _mistake(
        "Your vectors are in blocks, not pixels: return the displacement in pixels (do not "
        "divide by the block size).",
        lambda prev, curr, block=16, search=8: _block_match(prev, curr, block, search) / block,
    ),
    _mistake(
        "Your SAD wrapped around: the frames are uint8, so curr − prev is computed modulo 256 "
        "(3 − 5 = 254) and a near-perfect match looks terrible. Convert first: "
        "curr_block.astype(np.int32) − prev_block.",
        _motion(wrap=True),
    ),
    _mistake(
        "Ties are not broken toward the shortest vector: your loop keeps the first minimum it "
        "meets (from (−search, −search)). When several candidates give the same SAD (a flat "
        "or repeating block), take the one with the smallest dx² + dy², then the smaller dy, "
        "then dx — a flat block must get (0, 0). Visit the candidates in that order and "
        "update only on a strictly smaller SAD.",
        _motion(order="first"),
    ),
    _mistake(
        "Ties are not broken toward the shortest vector: with `<=` your loop keeps the last "
        "minimum it meets. When several candidates give the same SAD, take the smallest "
        "dx² + dy², then the smaller dy, then dx — a flat block must get (0, 0).",
        _motion(order="last"),
    ),
    _mistake(
        _WINDOW_HINT + " range(-search, search) misses +search.", _window(lambda s: (-s, s - 1))
    ),
    _mistake(_WINDOW_HINT + " You searched ±(search − 1).", _window(lambda s: (1 - s, s - 1))),
    _mistake(_WINDOW_HINT + " You searched ±(search + 1).", _window(lambda s: (-s - 1, s + 1))),
    _mistake(
        "Your (dx, dy) are on the first axis: return one (H // block, W // block, 2) array, "
        "np.stack([dx, dy], axis=-1).",
        lambda *args, **kwargs: np.moveaxis(_block_match(*args, **kwargs), -1, 0),
    ),
]


def _texture(rng: np.random.Generator, h: int, w: int, smooth: float = 0.0, lo=0, hi=255):
    """Random grey texture in ``lo … hi`` (uint8); ``smooth`` px of Gaussian blur."""
    t = rng.random((h, w))
    if smooth:
        t = cv2.GaussianBlur(t, (0, 0), smooth)
        t = (t - t.min()) / (t.max() - t.min())
    return np.rint(lo + t * (hi - lo)).astype(np.uint8)


def _translated(big: np.ndarray, h: int, w: int, dx: int, dy: int, pad: int = 12):
    """``(prev, curr)`` crops of ``big`` with ``curr[y, x] = prev[y − dy, x − dx]``."""
    prev = big[pad : pad + h, pad : pad + w]
    curr = big[pad - dy : pad - dy + h, pad - dx : pad - dx + w]
    return prev.copy(), curr.copy()


def _motion_cases() -> list[Case]:
    rng = np.random.default_rng(61)
    # 1: a textured square moves (2, 1) inside block (1, 1); everything else is flat black
    prev, curr = np.zeros((32, 48), np.uint8), np.zeros((32, 48), np.uint8)
    patch = rng.integers(1, 256, (8, 8)).astype(np.uint8)
    prev[19:27, 19:27], curr[20:28, 21:29] = patch, patch
    cases = [
        _case(
            (prev, curr),
            "a square moves 2 px right, 1 px down on black; 32×48, block 16, search 4",
            block=16,
            search=4,
        ),
    ]
    big = _texture(rng, 72, 88)
    cases.append(
        _case(
            _translated(big, 48, 64, 5, -3),
            "the whole frame moves 5 px right, 3 px up; 48×64, block 16, search 8",
        )
    )
    p, c = _translated(_texture(rng, 72, 72, 1.0, 20, 235), 48, 48, -3, 2)
    c = (c.astype(np.int16) + rng.integers(-6, 7, c.shape)).astype(np.uint8)
    cases.append(
        _case(
            (p, c),
            "3 px left, 2 px down with sensor noise; 48×48, block 16, search 4",
            block=16,
            search=4,
        )
    )
    cases.append(
        _case(
            _translated(_texture(rng, 56, 72), 32, 48, 8, 8),
            "8 px right and 8 px down, exactly ±search; 32×48, block 8, search 8",
            block=8,
            search=8,
        )
    )
    cases.append(
        _case(
            _translated(_texture(rng, 72, 88, 2.5), 48, 64, 9, 0),
            "9 px right, past the ±8 window; smooth texture, 48×64, block 16, search 8",
        )
    )
    stripes = np.array([30, 200, 120, 60], np.uint8)
    x = np.arange(32)
    prev, curr = np.tile(stripes[x % 4], (32, 1)), np.tile(stripes[(x - 1) % 4], (32, 1))
    cases.append(
        _case(
            (prev, curr),
            "vertical stripes of period 4 move 1 px right: many equal "
            "SADs; 32×32, block 16, search 4",
            block=16,
            search=4,
        )
    )
    p, c = _translated(_texture(rng, 48, 56), 24, 32, -2, 2)
    cases.append(
        _case(
            (p.astype(np.float32) / 256, c.astype(np.float32) / 256),
            "float frames in [0, 1): 2 px left, 2 px down; 24×32, block 8, search 3",
            block=8,
            search=3,
        )
    )
    return cases


def check_block_motion_vectors(fn):
    """Exercise 6.1a: ``fn(prev, curr, block=16, search=8)`` → ``(H // block, W // block, 2)``
    integer motion vectors ``[dx, dy]`` in pixels, as ``reference_block_motion_vectors``."""
    return check_function(
        fn,
        "block_motion_vectors",
        _motion_cases(),
        reference=reference_block_motion_vectors,
        forbid=(block_motion, motion_vectors),
        diagnoses=_MOTION_DIAGNOSES,
        dtype="any",
        atol=1e-6,
        rtol=0,
    )


def reference_encode_mv(d, gain=MV_GAIN):
    """SPHP's motion code: displacements in pixels → ``uint8``, 128 = no motion.

    ``code = clip(rint(128 + gain · d), 0, 255)`` as ``np.uint8``: ``gain`` code levels per
    pixel (4: a quarter pixel per level), rounded to the nearest level (``np.rint``), then
    saturated, so the code spans ``−128 / gain … 127 / gain`` px (−32 … +31.75 at 4) and
    larger motion gives 0 or 255 (clip *before* the cast: ``astype(np.uint8)`` would wrap
    256 to 0). SPHP's loader reads it back as ``(code − 128) / 128``
    (``posekit.sensors.decode_motion``); ``posekit.sensors.encode_motion``.

    Args:
        d: displacements in pixels, any shape (a block-motion field ``(…, 2)``, a flow
            image…), integers or floats.
        gain: code levels per pixel (> 0).
    Returns:
        ``np.uint8`` array of ``d``'s shape.
    """
    if isinstance(gain, bool) or not isinstance(gain, numbers.Real) or not gain > 0:
        raise ValueError(f"gain: expected a positive number of code levels per pixel, got {gain!r}")
    arr = np.asarray(to_numpy(d))
    if arr.dtype.kind not in "uif":
        raise ValueError(f"d: expected numbers (pixels), got {_type_name(d)} of {arr.dtype}")
    return encode_motion(arr, float(gain))


def _code(value) -> np.ndarray:
    """Float codes clipped to 0 … 255 (as uint8 would hold them)."""
    return np.clip(value, 0, 255)


def _d(d) -> np.ndarray:
    return np.asarray(d, np.float64)


_OFFSET_HINT = (
    "The 128 offset is missing: the code is 128 + gain · d, so that 128 means no motion, "
    "codes above 128 motion right / down and codes below it motion left / up."
)

_ENCODE_DIAGNOSES = [
    _mistake(_OFFSET_HINT, lambda d, gain=MV_GAIN: _code(np.rint(gain * _d(d)))),
    _mistake(
        _OFFSET_HINT + " (Your negative values also wrapped around through uint8.)",
        lambda d, gain=MV_GAIN: np.mod(np.rint(gain * _d(d)), 256),
    ),
    _mistake(
        "The 128 offset is added twice (256 + gain · d): add it once, 128 + gain · d.",
        lambda d, gain=MV_GAIN: _code(np.rint(256 + gain * _d(d))),
    ),
    _mistake(
        "The sign is flipped (128 − gain · d): motion right (d > 0) must give codes above 128.",
        lambda d, gain=MV_GAIN: _code(np.rint(128 - gain * _d(d))),
    ),
    _mistake(
        "The gain is missing: multiply the displacement by gain code levels per pixel, "
        "128 + gain · d.",
        lambda d, gain=MV_GAIN: _code(np.rint(128 + _d(d))),
    ),
    _mistake(
        "You divided by the gain: the code is 128 + gain · d (gain levels per pixel), not "
        "128 + d / gain.",
        lambda d, gain=MV_GAIN: _code(np.rint(128 + _d(d) / gain)),
    ),
    _mistake(
        "Large motion wrapped around instead of saturating: astype(np.uint8) takes 256 to 0 "
        "and −4 to 252. Clip to 0 … 255 first: np.clip(code, 0, 255).astype(np.uint8).",
        lambda d, gain=MV_GAIN: np.mod(np.rint(128 + gain * _d(d)), 256),
    ),
    _mistake(
        "Your codes are rounded down (astype truncates): round to the nearest level with "
        "np.rint before the cast.",
        lambda d, gain=MV_GAIN: _code(np.floor(128 + gain * _d(d))),
    ),
]


def _encode_cases() -> list[Case]:
    rng = np.random.default_rng(62)
    field = rng.integers(-8, 9, (2, 3, 2))
    flow = np.round(rng.uniform(-6, 6, (3, 4)), 2)
    flow[0, :3] = (0.2, -0.1, 1.45)  # round up, round to 128, round down
    return [
        _case((np.array([0, 1, -1, 5]),), "whole pixels 0, 1, −1, 5 (gain 4)"),
        _case((field,), "a (2, 3, 2) block-motion field of whole pixels in ±8"),
        _case((flow,), "sub-pixel flow, (3, 4) floats (gain 4)"),
        _case(
            (np.array([40.0, -40.0, 31.75, -32.0, 32.0, -33.0]),),
            "large motion saturates at 0 / 255",
        ),
        _case(
            (np.round(rng.uniform(-80, 80, (2, 5)), 2),),
            "gain 2, (2, 5) floats up to ±80 px",
            gain=2.0,
        ),
    ]


def check_encode_mv(fn):
    """Exercise 6.1b: ``fn(d, gain=4.0)`` → ``uint8`` codes ``clip(rint(128 + gain·d), 0,
    255)`` of ``d``'s shape, as ``reference_encode_mv``."""
    return check_function(
        fn,
        "encode_mv",
        _encode_cases(),
        reference=reference_encode_mv,
        forbid=(encode_motion,),
        diagnoses=_ENCODE_DIAGNOSES,
        dtype="exact",
        atol=0,
        rtol=0,
    )


# ----------------------------------------------------------------- Exercise 6.2


def _coords(coords, shape) -> tuple[np.ndarray, tuple[int, int]]:
    h, w = _shape(shape)
    c = np.asarray(to_numpy(coords))
    if c.ndim != 2 or c.shape[1] != 2 or (c.size and c.dtype.kind not in "iu"):
        raise ValueError(
            f"coords: expected an (N, 2) integer array of [y, x] rows, got "
            f"{shape_str(c.shape)} {c.dtype}"
        )
    c = c.astype(np.int64).reshape(-1, 2)
    if ((c < 0) | (c >= (h, w))).any():
        raise ValueError(f"coords: every [y, x] must lie inside the {h}×{w} image")
    if len(np.unique(c, axis=0)) != len(c):
        raise ValueError("coords: each site may appear only once")
    return c, (h, w)


def reference_submanifold_rulebook(coords, shape):
    """The rulebook of one 3×3 submanifold convolution (Graham & van der Maaten 2017) on one
    image's active sites.

    A submanifold conv computes an output only at the active sites (out sites = in sites),
    and only from active inputs: for kernel offset ``(ky, kx)``, ``k = ky · 3 + kx``
    (row-major, 0 … 8), the output at site ``(y, x)`` reads the input at
    ``(y + ky − 1, x + kx − 1)`` — if that pixel is an active site. Each such meeting is a
    *pair* ``(input row, output row)``, rows numbering the sites as ``coords`` lists them,
    and the layer does ``out[output row] += features[input row] @ W[k]`` per pair. The centre
    ``k = 4`` pairs every site with itself, ``(i, i)``; neighbours outside the image or not
    active give no pair.

    Args:
        coords: ``(N, 2)`` integer array of active sites, rows ``[y, x]``, in any order
            (site ``i`` is row ``i``), all inside the image, no repeats.
        shape: ``(H, W)`` of the image.
    Returns:
        a list of 9 ``(P_k, 2)`` ``int64`` arrays, one per offset ``k``, rows
        ``[input row, output row]`` (here sorted by output row; any order is accepted);
        ``(0, 2)`` where no pair exists. ``posekit.sparse.submanifold_rules(x).pairs`` holds
        the same pairs, as ``(in_rows, out_rows)`` tensors, with the centre stored as
        ``None`` (``Rules.identity = 4``).
    """
    c, (h, w) = _coords(coords, shape)
    n = len(c)
    rows = np.arange(n, dtype=np.int64)
    if n == 0:
        return [np.zeros((0, 2), np.int64) for _ in range(9)]
    sites = torch.from_numpy(np.concatenate([np.zeros((n, 1), np.int64), c], axis=1))
    rules = submanifold_rules(SparseTensor(torch.zeros(n, 1), sites, (h, w), 1), 3)
    out = []
    for pair in rules.pairs:
        if pair is None:  # the centre: every site onto itself
            out.append(np.stack([rows, rows], axis=1))
        else:
            out.append(np.stack([pair[0].numpy(), pair[1].numpy()], axis=1).astype(np.int64))
    return out


def _rules(
    coords,
    shape,
    *,
    order="row",
    sign=1,
    centre=True,
    centred=True,
    inactive=None,
    flat=False,
    renumber=False,
):
    """The rulebook as sorted ``(k, input row, output row)`` triples, with the right recipe or
    one classic mistake: ``order="col"`` (k = kx·3 + ky), ``sign=-1`` (output reads
    ``(y − (ky − 1), …)``: the same as swapping the columns), ``centre=False``, ``centred=False``
    (reads ``(y + ky, x + kx)``), ``inactive="image"`` / ``"all"`` (pairs ``(−1, out)`` for
    inactive neighbours inside the image / also outside it), ``flat`` (neighbours through the
    flat index ``y·W + x``, only ``0 <= index < H·W`` checked: x wraps into the next row),
    ``renumber`` (rows counted in row-major order of the sites, not as given)."""
    c, (h, w) = _coords(coords, shape)
    lookup = {(int(y), int(x)): i for i, (y, x) in enumerate(c)}
    triples = []
    for o, (y, x) in enumerate(c):
        for ky in range(3):
            for kx in range(3):
                k = ky * 3 + kx if order == "row" else kx * 3 + ky
                if k == 4 and not centre:
                    continue
                dy, dx = (ky - 1, kx - 1) if centred else (ky, kx)
                ny, nx = int(y) + sign * dy, int(x) + sign * dx
                if flat:
                    index = ny * w + nx
                    if not 0 <= index < h * w:
                        continue
                    ny, nx = divmod(index, w)
                if not (0 <= ny < h and 0 <= nx < w):
                    if inactive == "all":
                        triples.append((k, -1, o))
                    continue
                i = lookup.get((ny, nx))
                if i is None:
                    if inactive is not None:
                        triples.append((k, -1, o))
                    continue
                triples.append((k, i, o))
    t = np.array(triples, np.int64).reshape(-1, 3)
    if renumber and len(c):
        rank = np.empty(len(c), np.int64)
        rank[np.lexsort((c[:, 1], c[:, 0]))] = np.arange(len(c))
        t[:, 1] = np.where(t[:, 1] >= 0, rank[np.maximum(t[:, 1], 0)], t[:, 1])
        t[:, 2] = rank[t[:, 2]]
    return _sorted(t)


def _sorted(t: np.ndarray) -> np.ndarray:
    return t[np.lexsort((t[:, 2], t[:, 1], t[:, 0]))] if len(t) else t.reshape(0, 3)


def _triples_of(out, *args, **kwargs):
    """A rulebook in the exercise's format → sorted ``(k, input row, output row)`` triples,
    or a ``_BadOutput`` saying what is wrong with the format."""
    if out is None:
        return _BadOutput("your function returned None: did you forget the `return` line?")
    if not isinstance(out, (list, tuple)):
        return _BadOutput(
            f"expected a list of 9 arrays (one per kernel offset k = ky·3 + kx), "
            f"got {_type_name(out)}"
        )
    if len(out) != 9:
        return _BadOutput(
            f"expected a list of 9 arrays (one per kernel offset k = ky·3 + kx, "
            f"the centre k = 4 included), got {len(out)} items"
        )
    parts = []
    for k, item in enumerate(out):
        if (
            isinstance(item, (tuple, list))
            and len(item) == 2
            and all(is_tensor(v) or isinstance(v, np.ndarray) for v in item)
        ):
            a = np.asarray(to_numpy(item[0]))
            if a.ndim == 1 and len(a) != 2:
                return _BadOutput(
                    f"offset k = {k}: you returned two arrays (input rows, output rows), as "
                    "posekit's Rules.pairs stores them; this exercise wants one (P, 2) array "
                    "per offset: np.stack([in_rows, out_rows], axis=1)"
                )
        a = np.asarray(to_numpy(item) if is_tensor(item) else item)
        if a.size == 0:
            continue
        if a.ndim != 2 or a.shape[1] != 2:
            return _BadOutput(
                f"offset k = {k}: expected a (P, 2) array of [input row, output "
                f"row] pairs, got shape {shape_str(a.shape)}"
            )
        if a.dtype.kind not in "iu":
            return _BadOutput(
                f"offset k = {k}: expected integer row numbers, got {a.dtype} "
                "(np.array(pairs, dtype=np.int64))"
            )
        parts.append(np.concatenate([np.full((len(a), 1), k), a.astype(np.int64)], axis=1))
    if not parts:
        return np.zeros((0, 3), np.int64)
    return _sorted(np.concatenate(parts))


def _offset_text(k: int) -> str:
    ky, kx = divmod(k, 3)

    def shifted(name: str, d: int) -> str:
        return name if d == 0 else f"{name} {'+' if d > 0 else '−'} {abs(d)}"

    return (
        f"offset k = {k} (ky = {ky}, kx = {kx}: output (y, x) reads input "
        f"({shifted('y', ky - 1)}, {shifted('x', kx - 1)}))"
    )


def _pairs_text(t: np.ndarray) -> str:
    n = len(t)
    return f"{n} pair{'s' if n != 1 else ''}" + (f" {format_array(t)}" if n else "")


def _compare_rulebooks(expected, got) -> str | None:
    if isinstance(got, _BadOutput):
        return got.reason
    e, g = np.asarray(expected), np.asarray(got)
    for k in range(9):
        ek, gk = e[e[:, 0] == k][:, 1:], g[g[:, 0] == k][:, 1:]
        if ek.shape != gk.shape or not np.array_equal(ek, gk):
            return (
                f"{_offset_text(k)}: expected {_pairs_text(ek)}, got {_pairs_text(gk)} "
                "(pairs [input row, output row], shown sorted)"
            )
    return None


def _bad_rows(expected, got, inputs=None, **ctx):
    """Row numbers outside ``0 … N−1``: inactive or out-of-image neighbours paired."""
    if inputs is None or got.ndim != 2 or got.shape[1:] != (3,):
        return None
    (coords, _), _ = inputs
    n = len(np.asarray(coords))
    rows = got[:, 1:]
    if (rows < 0).any():
        return (
            "Some pairs have row −1: a neighbour that is not an active site (or lies outside "
            "the image) has no input row, so it makes no pair — skip it (a lookup table "
            "holding −1 for inactive pixels must be filtered, e.g. keep = rows >= 0)."
        )
    if (rows >= n).any():
        return f"Some row numbers are ≥ N = {n}: rows index coords, 0 … N − 1."
    return None


def _rule_mistake(hint: str, **options) -> Callable:
    return _mistake(hint, lambda coords, shape: _rules(coords, shape, **options))


_RULEBOOK_DIAGNOSES = [
    _bad_rows,
    _rule_mistake(
        "The centre offset k = 4 is missing: in a submanifold conv every site is its own "
        "neighbour at (ky, kx) = (1, 1), so k = 4 holds the pairs (i, i) for every site i. "
        "(posekit's Rules store it as identity = 4 with pairs[4] = None, but those N pairs are "
        "computed — and counted as MACs — all the same.)",
        centre=False,
    ),
    _rule_mistake(
        "Your offsets are transposed: k = ky·3 + kx (row-major: k = 1 is the pixel above, "
        "k = 3 the one to the left), not kx·3 + ky — or you read coords rows as [x, y]; they "
        "are [y, x].",
        order="col",
    ),
    _rule_mistake(
        "Offset k holds the pairs of offset 8 − k: either the direction is flipped (output "
        "(y, x) reads input (y + ky − 1, x + kx − 1), not y − (ky − 1)), or the two columns "
        "are swapped — each row is [input row, output row]. (Swapping the columns of a "
        "submanifold rulebook turns offset k into 8 − k: if site o reads site i at (dy, dx), "
        "site i reads site o at (−dy, −dx).)",
        sign=-1,
    ),
    _rule_mistake(
        "Your kernel is not centred: output (y, x) reads input (y + ky − 1, x + kx − 1) — the "
        "− 1 puts offset (1, 1) on the site itself, so the map does not shift.",
        centred=False,
    ),
    _rule_mistake(
        "x wrapped into the neighbouring row: with a flat index y·W + x, the pixel left of "
        "x = 0 is the last pixel of the row above. Check 0 <= x + kx − 1 < W (and y) on their "
        "own before looking a neighbour up.",
        flat=True,
    ),
    _rule_mistake(
        "Your row numbers follow the sites sorted row-major (as np.argwhere gives them): a "
        "row number is the site's index in coords as given — coords[i] is row i.",
        renumber=True,
    ),
]


def _explain_index_error(err: Exception) -> str | None:
    if isinstance(err, IndexError) and "out of bounds" in str(err):
        return (
            "a neighbour lies outside the image: skip it unless 0 <= y + ky − 1 < H and "
            "0 <= x + kx − 1 < W (index −1 silently reads the last row)"
        )
    return None


def _rulebook_case(coords, shape, label: str) -> Case:
    coords = np.asarray(coords, np.int64).reshape(-1, 2)
    expected = _triples_of(reference_submanifold_rulebook(coords, shape))
    return _case((coords, shape), label, expected=expected)


def _rulebook_cases() -> list[Case]:
    rng = np.random.default_rng(63)
    mask = rng.random((6, 7)) < 0.4
    scattered = np.argwhere(mask)[rng.permutation(int(mask.sum()))]
    figure = np.zeros((12, 16), np.uint8)
    cv2.line(figure, (2, 10), (7, 2), 1)
    cv2.circle(figure, (11, 5), 3, 1)
    return [
        _rulebook_case([[1, 1], [1, 2], [1, 3]], (3, 5), "3 sites in a row, 3×5 image"),
        _rulebook_case(
            [[2, 1], [0, 0], [1, 0], [2, 0]], (3, 3), "an L of 4 sites listed out of order, 3×3"
        ),
        _rulebook_case([[0, 0], [1, 1], [2, 2], [3, 3]], (4, 4), "a diagonal, 4×4"),
        _rulebook_case(
            [[0, 3], [1, 0], [0, 0], [1, 3], [2, 0]],
            (3, 4),
            "sites on the left and right borders, 3×4",
        ),
        _rulebook_case([[2, 3]], (4, 5), "a single site"),
        _rulebook_case(scattered, (6, 7), f"{len(scattered)} random sites of 6×7, shuffled"),
        _rulebook_case(np.argwhere(figure), (12, 16), "a line and a circle, 12×16"),
    ]


def check_submanifold_rulebook(fn):
    """Exercise 6.2: ``fn(coords, shape)`` → a list of 9 ``(P_k, 2)`` integer arrays of
    ``[input row, output row]`` pairs (offset ``k = ky·3 + kx``; output ``(y, x)`` reads
    input ``(y + ky − 1, x + kx − 1)``; the centre's ``(i, i)`` included), as
    ``reference_submanifold_rulebook``; the pairs of one offset may come in any order."""
    return check_function(
        _wrapped(fn, _triples_of, _explain_index_error),
        "submanifold_rulebook",
        _rulebook_cases(),
        reference=reference_submanifold_rulebook,  # registered for use(); cases carry expected
        forbid=(submanifold_rules,),
        diagnoses=_RULEBOOK_DIAGNOSES,
        compare=_compare_rulebooks,
    )


# ----------------------------------------------------------------- Exercise 6.3


def _count(pair) -> int:
    first = pair[0]
    n = len(first)
    if len(pair) != 2 or len(pair[1]) != n:
        raise ValueError("pairs: each offset must be None or (in_rows, out_rows) of one length")
    return n


def reference_layer_macs(pairs, num_sites, shape, cin, cout):
    """Multiply-accumulates of one submanifold sparse conv layer, at the active sites and
    run densely (what ``posekit.sparse.count_macs`` records for a ``SubMConv2d``).

    A sparse conv does ``out[o] += features[i] @ W[k]`` for every rulebook pair ``(i, o)``
    of every kernel offset ``k``: ``Cin × Cout`` MACs per pair. The same layer on the dense
    map computes every offset at every pixel: ``H · W · kh·kw · Cin · Cout`` (as
    ``torch.utils.flop_counter`` counts a dense ``conv2d``, one MAC per multiply-add, not
    two FLOPs). The ratio is the saving SPHP reports (Lin, Hsieh et al. 2023: 87-96 %).

    Args:
        pairs: ``posekit.sparse.submanifold_rules(x, kernel).pairs``: one entry per kernel
            offset (``kh·kw`` of them: 9 for 3×3, 25 for 5×5), each a pair
            ``(in_rows, out_rows)`` of equal-length index tensors, or ``None`` for the centre
            offset (the identity: every site onto itself, ``num_sites`` pairs).
        num_sites: ``N``, the active sites (``x.num_sites``).
        shape: ``(H, W)`` of the map.
        cin, cout: input and output channels.
    Returns:
        ``(active, dense)`` Python ints: ``active = (Σ_k P_k) · Cin · Cout`` with ``P_k`` the
        pairs of offset ``k`` (``N`` for the centre), ``dense = H · W · len(pairs) · Cin ·
        Cout``.
    """
    if not isinstance(pairs, (list, tuple)) or not pairs:
        raise ValueError(
            f"pairs: expected a non-empty list (one entry per kernel offset), got "
            f"{format_value(pairs)}"
        )
    n = _int(num_sites, "num_sites", 0)
    h, w = _shape(shape)
    cin, cout = _int(cin, "cin", 1), _int(cout, "cout", 1)
    total = sum(n if p is None else _count(p) for p in pairs)
    return total * cin * cout, h * w * len(pairs) * cin * cout


def _macs(
    pairs,
    num_sites,
    shape,
    cin,
    cout,
    *,
    centre=True,
    flops=(1, 1),
    dense_k=True,
    per_site=False,
    dense_sites=False,
    channels="both",
    len_tuple=False,
):
    """``(active, dense)`` with the right recipe or one classic mistake."""
    if per_site:
        total = num_sites * len(pairs)
    else:
        total = sum(
            (num_sites if centre else 0) if p is None else (2 if len_tuple else len(p[0]))
            for p in pairs
        )
    factor = {"both": cin * cout, "cin": cin, "cout": cout}[channels]
    h, w = shape
    dense = (num_sites if dense_sites else h * w) * (len(pairs) if dense_k else 1) * factor
    return np.array([total * factor * flops[0], dense * flops[1]], np.float64)


def _mac_mistake(hint: str, **options) -> Callable:
    return _mistake(hint, lambda *args: _macs(*args, **options))


_FLOPS_HINT = (
    "You counted FLOPs (2 per multiply-add): count MACs, one per multiply-accumulate — "
    "pairs · Cin · Cout and H · W · k² · Cin · Cout."
)

_MAC_DIAGNOSES = [
    _mac_mistake(
        "The centre offset is missing: pairs[k] is None for the centre of a submanifold conv "
        "(the identity, Rules.identity), but each site still multiplies its own features by "
        "W[centre]: count num_sites pairs for it.",
        centre=False,
    ),
    _mac_mistake(
        "len(pairs[k]) is 2: each entry is a tuple (in_rows, out_rows). Count the pairs of "
        "offset k with len(pairs[k][0]) (and num_sites for the None centre).",
        len_tuple=True,
    ),
    _mac_mistake(
        "len(pairs[k]) is 2: each entry is a tuple (in_rows, out_rows). Count the pairs with "
        "len(pairs[k][0]) — and num_sites for the centre, stored as None.",
        len_tuple=True,
        centre=False,
    ),
    _mac_mistake(_FLOPS_HINT, flops=(2, 2)),
    _mac_mistake(_FLOPS_HINT, flops=(2, 1)),
    _mac_mistake(_FLOPS_HINT, flops=(1, 2)),
    _mac_mistake(
        "Your active count is num_sites · k² · Cin · Cout: that computes every offset at every "
        "site, as if all neighbours were active. A sparse conv only multiplies the rulebook's "
        "pairs: Σ_k len(pairs[k][0]) (num_sites for the centre) · Cin · Cout.",
        per_site=True,
    ),
    _mac_mistake(
        "The dense count lacks the kernel area: a dense conv computes all k² offsets at every "
        "pixel, H · W · len(pairs) · Cin · Cout.",
        dense_k=False,
    ),
    _mac_mistake(
        "Your dense count only covers the active sites: the dense layer computes every pixel, "
        "H · W · k² · Cin · Cout.",
        dense_sites=True,
    ),
    _mac_mistake(
        "A channel factor is missing: each pair multiplies a Cin vector by a Cin × Cout matrix, "
        "Cin · Cout MACs (you have Cin only).",
        channels="cin",
    ),
    _mac_mistake(
        "A channel factor is missing: each pair multiplies a Cin vector by a Cin × Cout matrix, "
        "Cin · Cout MACs (you have Cout only).",
        channels="cout",
    ),
]


def _number(value) -> float:
    if is_tensor(value):
        if value.numel() != 1:
            raise ValueError(f"expected a number, got a tensor of shape {tuple(value.shape)}")
        value = value.item()
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ValueError(f"expected a number, got {_type_name(value)}")
    return float(value)


def _macs_of(out, *args, **kwargs):
    """``(active, dense)`` → a float array, or a ``_BadOutput``."""
    if out is None:
        return _BadOutput("your function returned None: did you forget the `return` line?")
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        return _BadOutput(
            f"expected a tuple (active, dense) of two integers, got {format_value(out)}"
        )
    try:
        return np.array([_number(v) for v in out], np.float64)
    except ValueError as err:
        return _BadOutput(f"expected a tuple (active, dense) of two integers: {err}")


def _fmt_count(v: float) -> str:
    return f"{int(v):,}" if float(v).is_integer() else f"{v:,.3f}"


def _compare_macs(expected, got) -> str | None:
    if isinstance(got, _BadOutput):
        return got.reason
    parts = []
    for name, e, g in zip(("active", "dense"), expected, got, strict=True):
        if not (math.isfinite(g) and g == e):
            ratio = f" ({g / e:.3g} ×)" if e and math.isfinite(g) else ""
            parts.append(
                f"{name} MACs: expected {_fmt_count(e)}, got {_fmt_count(g)}{ratio}"
                if math.isfinite(g)
                else f"{name} MACs: got {g}"
            )
    return "; ".join(parts) or None


def _layer_case(mask: np.ndarray, label: str, cin: int, cout: int, kernel: int = 3) -> Case:
    coords = np.argwhere(mask)
    n = len(coords)
    sites = torch.from_numpy(np.concatenate([np.zeros((n, 1), np.int64), coords], axis=1))
    x = SparseTensor(torch.zeros(n, 1), sites, mask.shape, 1)
    rules = submanifold_rules(x, kernel)
    args = (rules.pairs, n, tuple(mask.shape), cin, cout)
    expected = np.array(reference_layer_macs(*args), np.float64)
    return _case(args, label, expected=expected)


def _layer_cases() -> list[Case]:
    ell = np.zeros((5, 5), bool)
    ell[1:4, 1] = ell[3, 1:4] = True
    single = np.zeros((4, 6), bool)
    single[1, 4] = True
    figure = np.zeros((48, 64), np.uint8)
    for a, b in (
        ((32, 6), (32, 20)),
        ((32, 20), (24, 34)),
        ((32, 20), (40, 34)),
        ((24, 34), (26, 44)),
        ((40, 34), (38, 44)),
        ((32, 20), (22, 24)),
    ):
        cv2.line(figure, a, b, 1)
    cv2.circle(figure, (32, 8), 4, 1)
    rng = np.random.default_rng(64)
    return [
        _layer_case(ell, "an L of 5 sites in 5×5, 3×3 kernel, 1 → 16 channels", 1, 16),
        _layer_case(rng.random((6, 8)) < 0.3, "random 30 % of 6×8, 16 → 32 channels", 16, 32),
        _layer_case(single, "a single site: only the centre, 8 → 8", 8, 8),
        _layer_case(rng.random((7, 7)) < 0.4, "a 5×5 kernel (25 offsets), 4 → 12", 4, 12, 5),
        _layer_case(np.ones((4, 5), bool), "every pixel active, 4×5, 3 → 5", 3, 5),
        _layer_case(figure.astype(bool), "a stick figure's outline, 48×64, 64 → 64", 64, 64),
    ]


def check_layer_macs(fn):
    """Exercise 6.3: ``fn(pairs, num_sites, shape, cin, cout)`` → ``(active, dense)`` MACs of
    one submanifold conv layer, as ``reference_layer_macs``."""
    return check_function(
        _wrapped(fn, _macs_of),
        "layer_macs",
        _layer_cases(),
        reference=reference_layer_macs,  # registered for use(); cases carry their expected
        forbid=(count_macs, record),
        diagnoses=_MAC_DIAGNOSES,
        compare=_compare_macs,
    )


register_reference("block_motion_vectors", reference_block_motion_vectors)
register_reference("encode_mv", reference_encode_mv)
register_reference("submanifold_rulebook", reference_submanifold_rulebook)
register_reference("layer_macs", reference_layer_macs)
