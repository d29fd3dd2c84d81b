"""Checks for lesson 04 "Multi-person: part affinity fields" (bottom-up OpenPose).

Exercise 4.1 ``paf_limb_target`` (the PAF training target of one limb, Cao et al. 2017
eq. 8), 4.2 ``line_integral_score`` (the sampled PAF line integral that scores a candidate
connection, eq. 10, as Lightweight OpenPose computes it) and 4.3 ``greedy_match`` (one-to-one
connections taken by decreasing score, Lightweight OpenPose's ``connections_nms``). Each
check compares the student's function with posekit's reference on small cases first
(``posekit.codecs.paf.paf_targets`` for 4.1; 4.2 and 4.3 agree with ``posekit.codecs.grouping``'s
``score_limbs(interpolation="nearest")`` and ``match_limbs(method="greedy")``, which the tests
verify), then recognises the classic mistakes — x/y swapped, the vector not normalised, the
direction reversed, a missing segment-end test, rows and columns transposed, the map read as
``paf[x, y]``, the mean over all samples, the ends left out, the Hungarian matching instead of
the greedy one, ascending order — by recomputing the answer with that mistake.

Conventions: points are ``(x, y)`` in **map pixels** (x = column, y = row; pixel centres at
integer coordinates); maps are indexed ``[row, column]`` = ``[y, x]``; a PAF target is
``(2, h, w)`` with channel 0 = x, channel 1 = y.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np
from scipy.optimize import linear_sum_assignment

from posekit.checks import Case, check_function, register_reference
from posekit.checks._compare import format_value
from posekit.checks.diagnose import close, explains, mistake
from posekit.codecs.grouping import match_limbs, pair_scores, score_limbs
from posekit.codecs.paf import limb_support, paf_targets

# ----------------------------------------------------------------- helpers


def _point(p, arg: str) -> np.ndarray:
    a = np.asarray(p, np.float64)
    if a.shape != (2,) or not np.isfinite(a).all():
        raise ValueError(f"{arg}: expected a finite point (x, y), got {p!r}")
    return a


def _mistake(hint: str, wrong: Callable) -> Callable:
    """``diagnose.mistake`` for cases whose ``ctx["inputs"]`` holds ``(args, kwargs)``."""
    return mistake(hint, lambda args, kwargs: wrong(*args, **kwargs))


def _case(args: tuple, label: str, **kwargs) -> Case:
    return Case(args, kwargs, label=label, ctx={"inputs": (args, kwargs)})


# ----------------------------------------------------------------- Exercise 4.1


def reference_paf_limb_target(a, b, map_size, limb_width):
    """PAF target of one limb from ``a`` to ``b`` (Cao et al. 2017, eq. 8).

    Args:
        a, b: ``(x, y)`` of the limb's two joints in map pixels (x = column, y = row).
        map_size: ``(w, h)`` of the map.
        limb_width: half-width of the limb in map pixels.
    Returns:
        float32 ``(2, h, w)``: channel 0 = x, channel 1 = y. Map pixel ``(x, y)`` (its centre)
        holds the unit vector ``u = (b − a)/|b − a|`` when its projection on the limb lies in
        ``[0, |b − a|]`` (``0 ≤ u·(p − a) ≤ |b − a|``) and its perpendicular distance
        ``|u⊥·(p − a)|`` is at most ``limb_width``; 0 elsewhere. A limb of zero length
        (``a == b``) writes nothing. This is ``posekit.codecs.paf.paf_targets`` for one person
        at stride 1 with ``end_margin=0`` (the paper's rectangle).
    """
    a, b = _point(a, "a"), _point(b, "b")
    kp = np.array([[[a[0], a[1], 2.0], [b[0], b[1], 2.0]]])
    return paf_targets(kp, map_size, stride=1, limbs=[(0, 1)], limb_width=limb_width)


def _limb_field(a, b, map_size, width, *, ends="segment", unit=True, sign=1.0, half=False):
    """``(2, h, w)`` float32 field of one limb, optionally with one of the classic mistakes:
    ``ends`` = ``"segment"`` (right), ``"none"`` (no end test: an infinite band), ``"start"``
    (only ``along ≥ 0``), ``"capsule"`` (distance to the segment: round caps); ``unit=False``
    writes ``b − a``; ``sign=-1`` the reversed direction; ``half`` uses ``width / 2``."""
    w, h = map_size
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    d = b - a
    length = float(np.hypot(*d))
    out = np.zeros((2, h, w), np.float32)
    if length == 0:
        return out
    u = d / length
    px = np.arange(w, dtype=np.float64)[None, :] - a[0]
    py = np.arange(h, dtype=np.float64)[:, None] - a[1]
    along = px * u[0] + py * u[1]
    across = np.abs(px * u[1] - py * u[0])
    lim = width / 2 if half else width
    if ends == "capsule":
        t = np.clip(along, 0, length)
        on = np.hypot(px - t * u[0], py - t * u[1]) <= lim
    else:
        on = across <= lim
        if ends in ("segment", "start"):
            on &= along >= 0
        if ends == "segment":
            on &= along <= length
    vec = sign * (u if unit else d)
    out[0][on], out[1][on] = vec[0], vec[1]
    return out


def _variant(**options) -> Callable:
    return lambda a, b, size, width: _limb_field(a, b, size, width, **options)


def _zero_length(expected, got, inputs=None, **ctx):
    """NaN output for ``a == b``: the student divided by the zero length."""
    if inputs is None or expected.shape != got.shape or not np.isnan(got).any():
        return None
    (a, b, *_), _ = inputs
    if np.hypot(*(np.asarray(b, np.float64) - np.asarray(a, np.float64))) > 0:
        return None
    return (
        "a == b: the limb has zero length, so (b − a) / |b − a| divides by 0. Return the "
        "all-zero field for such a limb (there is no direction to encode)."
    )


_PAF_TARGET_DIAGNOSES = [
    _zero_length,
    _mistake(
        "Channels x and y are swapped: channel 0 holds the x component of the unit vector "
        "(along the columns), channel 1 the y component (along the rows).",
        lambda a, b, s, wd: reference_paf_limb_target(a, b, s, wd)[::-1],
    ),
    _mistake(
        "The vector is not normalised: write the unit vector u = (b − a) / |b − a|, not b − a "
        "(the PAF encodes the limb's direction only, its length is 1).",
        _variant(unit=False),
    ),
    _mistake(
        "The direction is reversed: the limb goes from a to b, so u = (b − a) / |b − a|.",
        _variant(sign=-1.0),
    ),
    _mistake(
        "The segment-end test is missing: a pixel belongs to the limb only if its projection "
        "u·(p − a) lies in [0, |b − a|], besides its perpendicular distance being ≤ limb_width "
        "(otherwise the field runs on past the joints along the whole line).",
        _variant(ends="none"),
    ),
    _mistake(
        "Only one end is tested: the projection u·(p − a) must be ≥ 0 *and* ≤ |b − a|.",
        _variant(ends="start"),
    ),
    _mistake(
        "You used the distance to the segment (a capsule with round ends): the paper's region "
        "is a rectangle — projection in [0, |b − a|] and perpendicular distance ≤ limb_width, "
        "tested separately.",
        _variant(ends="capsule"),
    ),
    _mistake(
        "Rows and columns are transposed: the map is indexed [row, column] = [y, x], so the "
        "output has shape (2, h, w) and pixel (x, y) is out[:, y, x] (np.meshgrid's default "
        "indexing='xy' gives (h, w) grids; indexing='ij' gives (w, h)).",
        lambda a, b, s, wd: reference_paf_limb_target(a, b, s, wd).transpose(0, 2, 1),
    ),
    _mistake(
        "The band is too narrow: limb_width is the half-width (the largest perpendicular "
        "distance from the limb), not the full width.",
        _variant(half=True),
    ),
]


def _paf_target_cases() -> list[Case]:
    return [
        _case(((1.6, 1.3), (4.4, 1.3), (7, 4), 1.0), "horizontal limb on a 7 × 4 map"),
        _case(((1.2, 0.7), (4.3, 4.6), (6, 6), 1.0), "diagonal limb, 6 × 6 map"),
        _case(((5.5, 3.8), (1.3, 0.9), (7, 5), 1.5), "pointing up and left, width 1.5"),
        _case(((2.2, 6.4), (3.6, 0.3), (9, 7), 0.8), "steep limb, 9 × 7 map, width 0.8"),
        _case(((2.0, 2.0), (2.0, 2.0), (4, 3), 1.0), "a == b: zero length, no field"),
    ]


def check_paf_limb_target(fn):
    """Exercise 4.1: the PAF target of one limb (unit vectors on a rectangle around it)."""
    return check_function(
        fn,
        "paf_limb_target",
        _paf_target_cases(),
        reference=reference_paf_limb_target,
        forbid=(paf_targets, limb_support),
        diagnoses=_PAF_TARGET_DIAGNOSES,
        atol=1e-5,
    )


# ----------------------------------------------------------------- Exercise 4.2


def _samples(a, b, num_samples, ends="both"):
    """Sample points ``(S, 2)`` from a to b: both ends included (right), or a variant."""
    if ends == "both":
        t = np.linspace(0.0, 1.0, num_samples)
    elif ends == "inner":
        t = np.linspace(0.0, 1.0, num_samples + 2)[1:-1]
    else:  # "start": endpoint=False, b left out
        t = np.linspace(0.0, 1.0, num_samples, endpoint=False)
    return a[None, :] + t[:, None] * (b - a)[None, :]


def _line_integral(
    paf_x, paf_y, a, b, num_samples=10, threshold=0.05, *, unit=True, ends="both",
    read="yx", rounding="nearest", average="valid",
):  # fmt: skip
    """``(score, fraction)`` with the right recipe or one of the classic mistakes."""
    paf_x, paf_y = np.asarray(paf_x, np.float64), np.asarray(paf_y, np.float64)
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    d = b - a
    length = float(np.hypot(*d))
    if length == 0:
        return 0.0, 0.0
    u = d / length if unit else d
    pts = _samples(a, b, int(num_samples), ends)
    if rounding == "nearest":
        idx = np.floor(pts + 0.5).astype(np.int64)
    else:  # truncation toward zero: int()
        idx = np.trunc(pts).astype(np.int64)
    cols, rows = idx[:, 0], idx[:, 1]
    if read == "xy":  # paf[x, y]: rows and columns swapped
        rows, cols = cols, rows
    vx, vy = paf_x[rows, cols], paf_y[rows, cols]
    if read == "channels":  # (vy, vx) dotted with (ux, uy)
        vx, vy = vy, vx
    dots = vx * u[0] + vy * u[1]
    valid = dots > threshold
    if average == "all":
        score = float(dots.mean())
    else:
        score = float(dots[valid].mean()) if valid.any() else 0.0
    return score, float(valid.mean())


def reference_line_integral_score(paf_x, paf_y, a, b, num_samples=10, threshold=0.05):
    """Score of a candidate connection a → b by the PAF line integral (Cao et al. 2017
    eq. 10, sampled as Lightweight OpenPose's ``group_keypoints``).

    ``num_samples`` points ``p_i = a + t_i (b − a)``, ``t_i = linspace(0, 1, num_samples)``
    (both ends included), are rounded to the nearest pixel (``floor(p + 0.5)``; the check's
    cases never fall on a tie), the field is read there as ``(paf_x[y, x], paf_y[y, x])`` and
    dotted with the unit vector ``u = (b − a)/|b − a|``. A sample is *valid* when its dot
    product exceeds ``threshold``.

    Args:
        paf_x, paf_y: ``(h, w)`` x and y components of one limb's field.
        a, b: ``(x, y)`` of the candidate's two joints in map pixels, inside the map.
        num_samples: points on the segment (≥ 2).
        threshold: minimum dot product of a valid sample.
    Returns:
        ``(score, fraction)`` floats: the mean dot product over the valid samples (0.0 when
        none is valid) and the share of valid samples. ``a == b`` gives ``(0.0, 0.0)``.
        ``posekit.codecs.grouping.score_limbs(..., interpolation="nearest")`` keeps a candidate when
        ``fraction > 0.8`` and ``score > 0``.
    """
    px, py = np.asarray(paf_x), np.asarray(paf_y)
    if px.ndim != 2 or px.shape != py.shape or px.size == 0:
        raise ValueError(
            f"paf_x, paf_y: expected two (h, w) maps of the same shape, got {px.shape} and "
            f"{py.shape}"
        )
    if int(num_samples) < 2:
        raise ValueError(f"num_samples: expected an integer >= 2, got {num_samples!r}")
    h, w = px.shape
    for name, p in (("a", a), ("b", b)):
        x, y = _point(p, name)
        if not (-0.5 <= x < w - 0.5 and -0.5 <= y < h - 0.5):
            raise ValueError(f"{name}: {tuple(p)} lies outside the {w} × {h} map")
    return _line_integral(px, py, a, b, int(num_samples), float(threshold))


def _first_difference(ref: tuple, mis: tuple, ctx: dict) -> int | None:
    for i, (r, m) in enumerate(zip(ref, mis, strict=True)):
        if not close(np.asarray(r, np.float64), np.asarray(m, np.float64), ctx):
            return i
    return None


def _tuple_mistake(hint: str, **options) -> Callable:
    """A diagnosis for a ``(score, fraction)`` output: the checker compares the first item
    that differs, so the hint fires when that item equals the mistaken version's."""

    def diagnosis(expected, got, inputs=None, **ctx):
        if inputs is None:
            return None
        args, kwargs = inputs
        ref = _line_integral(*args, **kwargs)
        mis = _line_integral(*args, **kwargs, **options)
        i = _first_difference(ref, mis, ctx)
        if i is None:
            return None
        e, m = np.asarray(ref[i], np.float64), np.asarray(mis[i], np.float64)
        return hint if close(expected, e, ctx) and close(got, m, ctx) else None

    return diagnosis


_ENDS_HINT = (
    "The ends are left out: the samples run from a to b *inclusive*, "
    "t = np.linspace(0, 1, num_samples) (the joints themselves are sampled too)."
)

_LINE_INTEGRAL_DIAGNOSES = [
    _tuple_mistake(
        "The direction is not normalised: dot the field with the unit vector "
        "u = (b − a) / |b − a|, not with b − a (otherwise long limbs score higher).",
        unit=False,
    ),
    _tuple_mistake(
        "You read the map as paf[x, y]: maps are indexed [row, column] = [y, x], so the "
        "sample at (x, y) is paf_x[y, x], paf_y[y, x].",
        read="xy",
    ),
    _tuple_mistake(
        "You dotted (vy, vx) with (ux, uy): paf_x pairs with u_x and paf_y with u_y.",
        read="channels",
    ),
    _tuple_mistake(
        "The score averages all samples: Lightweight OpenPose averages only the valid ones "
        "(dot product > threshold), and gives 0 when none is valid. (The paper's integral, "
        "and CMU's code, average all samples; posekit follows Lightweight OpenPose.)",
        average="all",
    ),
    _tuple_mistake(_ENDS_HINT, ends="inner"),
    _tuple_mistake(_ENDS_HINT + " np.linspace(..., endpoint=False) leaves b out.", ends="start"),
    _tuple_mistake(
        "The sample points are truncated (int(x)) instead of rounded to the nearest pixel: "
        "use np.round / floor(x + 0.5), since pixel centres sit at integer coordinates.",
        rounding="trunc",
    ),
]


def _limb_map(a, b, size, width, noise, seed) -> tuple[np.ndarray, np.ndarray]:
    """x and y maps of one limb's field plus uniform noise in ±noise (float32)."""
    field = _limb_field(a, b, size, width)
    rng = np.random.default_rng(seed)
    field = field + rng.uniform(-noise, noise, field.shape).astype(np.float32)
    return field[0], field[1]


def _line_cases() -> list[Case]:
    x1, y1 = _limb_map((0.3, 2.2), (3.8, 2.4), (5, 5), 1.0, 0.3, 40)
    x2, y2 = _limb_map((1.2, 1.1), (6.4, 5.8), (8, 8), 1.0, 0.3, 41)
    x3, y3 = _limb_map((5.6, 1.4), (1.3, 5.2), (8, 8), 1.2, 0.2, 46)
    x4, y4 = _limb_map((1.4, 5.3), (10.2, 1.6), (12, 7), 1.0, 0.35, 43)
    x5, y5 = _limb_map((1.3, 1.2), (9.6, 1.5), (11, 9), 1.0, 0.15, 44)
    return [
        _case((x1, y1, (0, 2), (4, 2)), "5 × 5 map, 3 samples along the limb", num_samples=3),
        _case((x2, y2, (1, 1), (6, 6)), "8 × 8 map, diagonal, 10 samples"),
        _case((x3, y3, (1, 5), (6, 1)), "8 × 8: the field points the other way (score 0)"),
        _case(
            (x4, y4, (1, 5), (10, 2)),
            "12 × 7 map, 6 samples, threshold 0.2",
            num_samples=6,
            threshold=0.2,
        ),  # fmt: skip
        _case((x5, y5, (1, 1), (9, 7)), "11 × 9: a false pair, half on the limb"),
    ]


def check_line_integral_score(fn):
    """Exercise 4.2: score a candidate connection by the sampled PAF line integral."""
    return check_function(
        fn,
        "line_integral_score",
        _line_cases(),
        reference=reference_line_integral_score,
        forbid=(pair_scores, score_limbs),
        diagnoses=_LINE_INTEGRAL_DIAGNOSES,
        atol=1e-5,
    )


# ----------------------------------------------------------------- Exercise 4.3


def _candidates(scores) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows, columns and scores of the candidates (not NaN, not −inf), by decreasing score
    (ties: row-major order)."""
    s = np.asarray(scores, np.float64)
    i, j = np.nonzero(~np.isnan(s) & (s > -np.inf))
    order = np.argsort(-s[i, j], kind="stable")
    return i[order], j[order], s[i, j][order]


def reference_greedy_match(scores):
    """One-to-one connections taken greedily by decreasing score (Lightweight OpenPose's
    ``connections_nms``; ``posekit.codecs.grouping.match_limbs(method="greedy")``).

    Args:
        scores: ``(n_a, n_b)`` candidate scores between the peaks of a limb's first joint type
            (rows ``i``) and of its second (columns ``j``); ``-inf`` or NaN = no candidate.
    Returns:
        list of ``(i, j)`` pairs in the order taken (decreasing score): each candidate is
        kept unless its ``i`` or its ``j`` was already used. Ties keep row-major order.
    """
    s = np.asarray(scores, np.float64)
    if s.ndim != 2:
        raise ValueError(f"scores: expected an (n_a, n_b) matrix, got shape {s.shape}")
    used_i: set[int] = set()
    used_j: set[int] = set()
    pairs = []
    for i, j, _ in zip(*_candidates(s), strict=True):
        if i not in used_i and j not in used_j:
            used_i.add(int(i))
            used_j.add(int(j))
            pairs.append((int(i), int(j)))
    return pairs


def _as_pairs(out):
    """A matching as a sorted ``(M, 2)`` int64 array (any order, lists / tuples / arrays of
    integer pairs accepted), or ``out`` itself when it is not a list of pairs."""
    if isinstance(out, (str, bytes, dict)) or out is None:
        return out
    try:
        a = np.asarray(out, dtype=np.float64)
    except (TypeError, ValueError):
        return out
    if a.size == 0:
        return np.zeros((0, 2), np.int64)
    if a.ndim != 2 or a.shape[1] != 2 or not np.isfinite(a).all() or (a != np.round(a)).any():
        return out
    a = a.astype(np.int64)
    return a[np.lexsort((a[:, 1], a[:, 0]))]


def _show_pairs(a: np.ndarray) -> str:
    return "[" + ", ".join(f"({i}, {j})" for i, j in a.tolist()) + "]"


def _compare_pairs(expected, got) -> str | None:
    if got is None:
        return "your function returned None: did you forget the `return` line?"
    if not isinstance(got, np.ndarray):
        return f"expected a list of (i, j) pairs, got {format_value(got)}"
    if got.shape == expected.shape and (got == expected).all():
        return None
    return f"expected the pairs {_show_pairs(expected)}, got {_show_pairs(got)} (in any order)"


def _normalized(fn: Callable) -> Callable:
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return _as_pairs(fn(*args, **kwargs))

    return wrapper


def _match_mistake(hint: str, wrong: Callable) -> Callable:
    def diagnosis(expected, got, inputs=None, **ctx):
        if inputs is None:
            return None
        args, kwargs = inputs
        mistaken = _as_pairs(wrong(*args, **kwargs)).astype(np.float64)
        if expected.ndim != 2 or got.ndim != 2:
            return None
        return hint if explains(mistaken, expected, got, ctx) else None

    return diagnosis


def _argmax_rows(scores):
    s = np.asarray(scores, np.float64)
    pairs = []
    for i in range(s.shape[0]):
        row = np.where(np.isnan(s[i]), -np.inf, s[i])
        if row.size and row.max() > -np.inf:
            pairs.append((i, int(np.argmax(row))))
    return pairs


def _argmax_cols(scores):
    return [(i, j) for j, i in _argmax_rows(np.asarray(scores, np.float64).T)]


def _hungarian(scores, missing: float = 0.0):
    """Maximum-total-score matching; non-candidates weigh ``missing`` and are dropped."""
    s = np.asarray(scores, np.float64)
    if s.size == 0:
        return []
    cand = ~np.isnan(s) & (s > -np.inf)
    r, c = linear_sum_assignment(np.where(cand, s, missing), maximize=True)
    return [(int(i), int(j)) for i, j in zip(r, c, strict=True) if cand[i, j]]


def _ascending(scores):
    s = np.asarray(scores, np.float64)
    i, j, _ = _candidates(s)
    used_i, used_j, pairs = set(), set(), []
    for a, b in zip(i[::-1], j[::-1], strict=True):
        if a not in used_i and b not in used_j:
            used_i.add(a)
            used_j.add(b)
            pairs.append((int(a), int(b)))
    return pairs


def _with_non_candidates(scores):
    """Greedy over every entry, −inf and NaN included (sorted last)."""
    s = np.asarray(scores, np.float64)
    flat = np.where(np.isnan(s), -np.inf, s).ravel()
    order = np.argsort(-flat, kind="stable")
    used_i, used_j, pairs = set(), set(), []
    for k in order:
        a, b = divmod(int(k), s.shape[1])
        if a not in used_i and b not in used_j:
            used_i.add(a)
            used_j.add(b)
            pairs.append((a, b))
    return pairs


_HUNGARIAN_HINT = (
    "This is the optimal (Hungarian) matching, which maximises the *total* score: on "
    "[[0.9, 0.8], [0.7, -inf]] it keeps (0, 1) + (1, 0) = 1.5. The exercise is Lightweight "
    "OpenPose's greedy matching: take the best remaining candidate first, (0, 0) = 0.9, and "
    "drop every candidate that reuses its i or its j — cheaper, and as good on real PAFs."
)

_MATCH_DIAGNOSES = [
    _match_mistake(
        "Each j was matched more than once: taking the best j of every row (argmax per row) "
        "lets two i's share one j. Take candidates by decreasing score and skip those whose "
        "i *or* j is already used.",
        _argmax_rows,
    ),
    _match_mistake(
        "Each i was matched more than once: skip a candidate whose i *or* j is already used.",
        _argmax_cols,
    ),
    _match_mistake(_HUNGARIAN_HINT, _hungarian),
    _match_mistake(_HUNGARIAN_HINT, functools.partial(_hungarian, missing=-1e9)),
    _match_mistake(
        "The candidates were taken in ascending order: greedy matching takes the *highest* "
        "score first (sort by -score, or reverse=True).",
        _ascending,
    ),
    _match_mistake(
        "A pair with score -inf or NaN is not a candidate: leave those entries out before "
        "matching (np.isfinite, or score > -inf and not NaN).",
        _with_non_candidates,
    ),
]


def _match_inputs() -> list[tuple[np.ndarray, str]]:
    ninf, nan = -np.inf, np.nan
    rng = np.random.default_rng(45)
    big = rng.uniform(0.1, 1.0, (4, 5)).round(3)
    big[rng.uniform(size=(4, 5)) < 0.3] = ninf
    return [
        (np.array([[0.3, 0.7]]), "one a, two b's"),
        (np.array([[0.9, 0.8], [0.7, ninf]]), "2 × 2 where greedy ≠ Hungarian"),
        (np.array([[0.2, nan, 0.6], [0.5, 0.4, ninf], [nan, 0.3, 0.1]]), "3 × 3, NaN and -inf"),
        (big, "4 × 5 random scores, some -inf"),
        (np.zeros((0, 3)), "no peak of the first joint type (0 × 3)"),
    ]


def check_greedy_match(fn):
    """Exercise 4.3: greedy one-to-one matching of limb candidates by decreasing score.

    The pairs may come in any order (they are compared as a set)."""
    cases = [
        Case((s,), label=label, expected=_as_pairs(reference_greedy_match(s)),
             ctx={"inputs": ((s,), {})})
        for s, label in _match_inputs()
    ]  # fmt: skip
    return check_function(
        _normalized(fn) if callable(fn) else fn,
        "greedy_match",
        cases,
        reference=reference_greedy_match,  # registered for use(); cases carry their expected
        forbid=(match_limbs,),
        diagnoses=_MATCH_DIAGNOSES,
        compare=_compare_pairs,
    )


register_reference("paf_limb_target", reference_paf_limb_target)
register_reference("line_integral_score", reference_line_integral_score)
register_reference("greedy_match", reference_greedy_match)
