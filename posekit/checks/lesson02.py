"""Checks for lesson 02 "Heatmaps: encoding, decoding, sub-pixel accuracy".

Exercise 2.1 ``gaussian_heatmap`` (the Gaussian target of one keypoint at a sub-pixel
location), 2.2 ``argmax_decode`` (heatmaps → keypoints in input pixels), 2.3 ``dark_refine``
(DARK's Newton step on the log heatmap). Each check compares the student's function with
posekit's reference (``posekit.codecs.heatmap``) on small cases first, then recognises the
classic mistakes — x/y swapped, H×W transposed, the half-pixel mapping, the forgotten stride,
a rounded centre, σ_h in the wrong unit, the missing cross term — by recomputing the answer
with that mistake and comparing.

Conventions (``posekit.codecs.heatmap``): heatmap pixel ``j`` covers input pixels
``[j·s − 0.5, (j + 1)·s − 0.5)``, so ``u = (x − (s − 1)/2) / s`` and ``x = u·s + (s − 1)/2``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from posekit.checks import Case, check_function, register_reference
from posekit.checks.diagnose import close
from posekit.checks.diagnose import mistake as _mistake
from posekit.codecs import heatmap as hm

# ----------------------------------------------------------------- helpers


def _to_heatmap(x, s):
    return (np.asarray(x, np.float64) - (s - 1) / 2) / s


def _to_input(u, s):
    return np.asarray(u, np.float64) * s + (s - 1) / 2


def _gauss(u, v, size, sigma, denom=2.0):
    """``(h, w)`` float64 ``exp(-((j - u)² + (i - v)²) / (denom·σ_h²))`` over the whole map."""
    w, h = size
    j = np.arange(w)[None, :]
    i = np.arange(h)[:, None]
    return np.exp(-((j - u) ** 2 + (i - v) ** 2) / (denom * sigma**2))


def _case(args: tuple, label: str) -> Case:
    return Case(args, label=label, ctx={"inputs": args})


# ----------------------------------------------------------------- Exercise 2.1


def reference_gaussian_heatmap(x, y, heatmap_size, stride, sigma):
    """``(h, w)`` float32 Gaussian (peak value 1) of one keypoint ``(x, y)`` in input pixels,
    centred at its exact sub-pixel heatmap position ``u = (x − (s − 1)/2) / s``, drawn on the
    whole ``heatmap_size = (w, h)`` map; ``sigma`` in heatmap pixels."""
    kp = np.array([[x, y, 2.0]], np.float64)
    maps, _ = hm.gaussian_heatmaps(kp, heatmap_size, stride, sigma, unbiased=True, truncate=None)
    return maps[0]


def _target_with(centre: Callable, sigma_of: Callable = lambda s, sg: sg, denom: float = 2.0):
    """The target computed with a mistaken centre mapping / σ_h / denominator."""

    def wrong(x, y, size, s, sigma):
        u, v = centre(x, s), centre(y, s)
        return _gauss(u, v, size, sigma_of(s, sigma), denom).astype(np.float32)

    return wrong


_TARGET_DIAGNOSES = [
    _mistake(
        "It looks like x and y are swapped: the Gaussian sits at (y, x). x is the column "
        "(the w axis), y the row: the map is indexed [row, column] = [i, j], with "
        "u = (x − (s − 1)/2) / s along the columns.",
        lambda x, y, size, s, sigma: _target_with(lambda c, s: _to_heatmap(c, s))(
            y, x, size, s, sigma
        ),
    ),
    _mistake(
        "Your centre is u = x / s (the classic Hourglass / HRNet mapping). With pixel centres "
        "at integers, heatmap pixel 0 covers input pixels 0 … s − 1, whose centre is "
        "(s − 1)/2: use u = (x − (s − 1)/2) / s (= (x + 0.5)/s − 0.5).",
        _target_with(lambda c, s: np.asarray(c) / s),
    ),
    _mistake(
        "Your centre is half a heatmap pixel off: you used u = (x + 0.5) / s and forgot the "
        "final − 0.5 (the heatmap's pixel centres are at integers too): "
        "u = (x + 0.5) / s − 0.5.",
        _target_with(lambda c, s: (np.asarray(c) + 0.5) / s),
    ),
    _mistake(
        "Your Gaussian sits at the keypoint's *input* coordinates: you forgot the stride. "
        "The heatmap is s times smaller than the input: u = (x − (s − 1)/2) / s.",
        _target_with(lambda c, s: np.asarray(c, np.float64)),
    ),
    _mistake(
        "Your centre is rounded to a whole heatmap pixel (the classic biased target). Keep "
        "the exact sub-pixel u: that is what lets a decoder recover sub-pixel positions.",
        _target_with(lambda c, s: np.floor(_to_heatmap(c, s) + 0.5)),
    ),
    _mistake(
        "Your Gaussian is too narrow: sigma (σ_h) is given in *heatmap* pixels, not input pixels "
        "(do not divide it by the stride).",
        _target_with(lambda c, s: _to_heatmap(c, s), sigma_of=lambda s, sg: sg / s),
    ),
    _mistake(
        "Your Gaussian is too wide: sigma (σ_h) is already in heatmap pixels (do not multiply it "
        "by the stride).",
        _target_with(lambda c, s: _to_heatmap(c, s), sigma_of=lambda s, sg: sg * s),
    ),
    _mistake(
        "Your Gaussian has the wrong width: the exponent is −d² / (2σ_h²) — the factor 2 is "
        "missing.",
        _target_with(lambda c, s: _to_heatmap(c, s), denom=1.0),
    ),
]


def _normalized_hint(expected, got, **ctx):
    """The student normalised the Gaussian to sum 1 (a probability) or by 2πσ_h²."""
    if got.shape != expected.shape or not np.all(np.isfinite(got)) or got.max() <= 0:
        return None
    if close(got / got.max(), expected / expected.max(), ctx) and not close(got, expected, ctx):
        return (
            "Your map has the right shape and centre but the wrong scale: the target's peak "
            "is 1 (exp(0)), it is not normalised to a probability."
        )
    return None


def check_gaussian_heatmap(fn):
    """Exercise 2.1: the Gaussian target of one keypoint, unbiased sub-pixel centre."""
    cases = [
        _case((5.5, 9.5, (8, 6), 4, 1.0), "keypoint on a heatmap pixel centre, stride 4"),
        _case((13.3, 6.8, (12, 10), 4, 1.5), "sub-pixel keypoint, stride 4, 12 × 10 map"),
        _case((10.7, 15.2, (16, 12), 2, 2.0), "stride 2, sigma 2"),
        _case((3.25, 7.6, (10, 14), 1, 1.0), "stride 1: heatmap = image"),
        _case((50.2, 21.9, (16, 8), 8, 1.25), "stride 8, wide map"),
    ]
    return check_function(
        fn,
        "gaussian_heatmap",
        cases,
        reference=reference_gaussian_heatmap,
        forbid=(hm.gaussian_heatmaps,),
        diagnoses=[*_TARGET_DIAGNOSES, "hw_transposed", _normalized_hint],
        atol=1e-4,
    )


# ----------------------------------------------------------------- Exercise 2.2


def reference_argmax_decode(heatmaps, stride):
    """``(..., h, w)`` heatmaps → ``(..., 3)`` float32 ``(x, y, score)``: the integer argmax
    (first one on ties) mapped to input pixels ``x = u·s + (s − 1)/2``, score = the maximum."""
    return hm.decode_argmax(np.asarray(heatmaps, np.float32), stride)


def _argmax_uv(maps, w_axis_len=None):
    """Integer ``(u, v)`` and max of ``(..., h, w)`` maps (``w_axis_len`` replaces ``w`` in the
    divmod: the H×W mistake)."""
    maps = np.asarray(maps, np.float64)
    flat = maps.reshape(*maps.shape[:-2], -1)
    idx = flat.argmax(-1)
    n = maps.shape[-1] if w_axis_len is None else w_axis_len
    return idx % n, idx // n, flat.max(-1)


def _decoded_with(to_input: Callable, divisor: Callable | None = None):
    def wrong(maps, s):
        n = None if divisor is None else divisor(np.asarray(maps))
        u, v, score = _argmax_uv(maps, n)
        return np.stack([to_input(u, s), to_input(v, s), score], -1).astype(np.float32)

    return wrong


_MAPPING_HINTS = (
    "Your points are off by (s − 1)/2 input pixels: x = u·s puts heatmap pixel 0 at input "
    "0, but it covers input pixels 0 … s − 1, whose centre is (s − 1)/2. Use "
    "x = u·s + (s − 1)/2 (= (u + 0.5)·s − 0.5).",
    "Your points are half a pixel off: x = (u + 0.5)·s is the right edge of the mapping, "
    "subtract 0.5: x = (u + 0.5)·s − 0.5.",
    "Your points are in heatmap pixels: you forgot the stride. Map them back to the "
    "input with x = u·s + (s − 1)/2.",
)
_WRONG_MAPPINGS = (
    lambda u, s: np.asarray(u) * s,
    lambda u, s: (np.asarray(u) + 0.5) * s,
    lambda u, s: np.asarray(u, np.float64),
)
_MAPPING_DIAGNOSES = [
    _mistake(hint, _decoded_with(mapping))
    for hint, mapping in zip(_MAPPING_HINTS, _WRONG_MAPPINGS, strict=True)
]


def _hw_divmod_hint():
    return _mistake(
        "Your rows and columns are mixed up (H×W transposed): a (h, w) map flattened row by "
        "row has index = row·w + column, so column = index % w and row = index // w "
        "(np.unravel_index(index, (h, w)) returns (row, column)).",
        _decoded_with(_to_input, divisor=lambda maps: maps.shape[-2]),
    )


def _score_missing_hint(expected, got, **ctx):
    if got.shape == expected.shape[:-1] + (2,) and close(got, expected[..., :2], ctx):
        return (
            "You returned only (x, y): return (x, y, score) with the map's maximum value as "
            "the score (the joint's confidence)."
        )
    return None


def _smooth_maps(seed: int, shape: tuple[int, ...], sigma: float = 1.0) -> np.ndarray:
    """``shape = (B, K, h, w)`` random bumpy maps with a unique maximum each."""
    rng = np.random.default_rng(seed)
    b, k, h, w = shape
    out = rng.uniform(0, 0.2, shape)
    for i in range(b):
        for j in range(k):
            u, v = rng.uniform(0, w - 1), rng.uniform(0, h - 1)
            out[i, j] += _gauss(u, v, (w, h), sigma)
    return out.astype(np.float32)


def check_argmax_decode(fn):
    """Exercise 2.2: argmax of each map, mapped to input pixels, plus the score."""
    one = np.zeros((1, 1, 5, 7), np.float32)
    one[0, 0, 2, 5] = 1.0  # row 2, column 5
    cases = [
        _case((one, 4), "one map, its peak at row 2, column 5, stride 4"),
        _case((_smooth_maps(1, (2, 3, 6, 8)), 4), "2 × 3 bumpy 6 × 8 maps, stride 4"),
        _case((_smooth_maps(2, (1, 16, 12, 10)), 2), "16 maps of 12 × 10, stride 2"),
        _case((_smooth_maps(3, (3, 2, 9, 16), 2.0), 8), "3 × 2 maps of 9 × 16, stride 8"),
    ]
    return check_function(
        fn,
        "argmax_decode",
        cases,
        reference=reference_argmax_decode,
        forbid=(hm.decode_argmax,),
        diagnoses=[
            _score_missing_hint,
            "xy_swapped",
            _hw_divmod_hint(),
            *_MAPPING_DIAGNOSES,
            "half_pixel",
        ],
        atol=1e-4,
    )


# ----------------------------------------------------------------- Exercise 2.3


def reference_dark_refine(heatmaps, stride):
    """DARK's Taylor (Newton) step on the log of each raw map, no blur (clean targets):
    ``(..., h, w)`` → ``(..., 3)`` float32 ``(x, y, score)`` in input pixels. The argmax is
    kept when it lies within 2 px of the border (or the log map is not curved like a
    maximum)."""
    return hm.decode_dark(np.asarray(heatmaps, np.float32), stride, blur=False, max_offset=None)


def _newton(maps, s, cross=True, sign=-1.0, log=True, guard=True, to_input: Callable = _to_input):
    """A re-implementation of ``reference_dark_refine`` with a switchable mistake."""
    maps = np.asarray(maps, np.float64)
    lead, (h, w) = maps.shape[:-2], maps.shape[-2:]
    flat = maps.reshape(-1, h, w)
    out = np.zeros((flat.shape[0], 3))
    for n, m in enumerate(flat):
        py, px = np.unravel_index(int(m.argmax()), m.shape)
        u, v = float(px), float(py)
        inside = 2 <= px <= w - 3 and 2 <= py <= h - 3
        if inside or not guard:
            f = np.log(np.maximum(m, 1e-10)) if log else m

            def at(dx, dy, f=f, px=px, py=py):
                return f[np.clip(py + dy, 0, h - 1), np.clip(px + dx, 0, w - 1)]

            gx, gy = (at(1, 0) - at(-1, 0)) / 2, (at(0, 1) - at(0, -1)) / 2
            hxx = at(1, 0) - 2 * at(0, 0) + at(-1, 0)
            hyy = at(0, 1) - 2 * at(0, 0) + at(0, -1)
            hxy = (at(1, 1) - at(1, -1) - at(-1, 1) + at(-1, -1)) / 4 if cross else 0.0
            det = hxx * hyy - hxy**2
            if abs(det) > 1e-12:
                u += sign * (hyy * gx - hxy * gy) / det
                v += sign * (hxx * gy - hxy * gx) / det
        out[n] = (to_input(u, s), to_input(v, s), m.max())
    return out.reshape(*lead, 3).astype(np.float32)


_REFINE_DIAGNOSES = [
    _mistake(
        "Your result is the plain argmax: no sub-pixel step was taken. Compute the gradient "
        "and Hessian of the log map at the argmax and move by −H⁻¹·g (when the argmax is at "
        "least 2 px from the border).",
        lambda maps, s: reference_argmax_decode(maps, s),
    ),
    _mistake(
        "Your step ignores the cross derivative ∂²/∂x∂y: that is right only for round "
        "Gaussians. The Hessian is [[Lxx, Lxy], [Lxy, Lyy]] with "
        "Lxy = (L[y+1, x+1] − L[y+1, x−1] − L[y−1, x+1] + L[y−1, x−1]) / 4; invert the full "
        "2 × 2 matrix.",
        lambda maps, s: _newton(maps, s, cross=False),
    ),
    _mistake(
        "Your step goes the wrong way: the Newton step to the maximum is −H⁻¹·g (H is "
        "negative at a maximum, so −H⁻¹·g points up the slope).",
        lambda maps, s: _newton(maps, s, sign=1.0),
    ),
    _mistake(
        "You took the Newton step on the heatmap itself. Take the log first: the log of a "
        "Gaussian is a quadratic, so one Newton step on it lands exactly on the centre.",
        lambda maps, s: _newton(maps, s, log=False),
    ),
    _mistake(
        "Near the border the ±1 / ±2 neighbours do not all exist: when the argmax is within "
        "2 px of the border (unless 2 ≤ px ≤ w − 3 and 2 ≤ py ≤ h − 3), return the argmax "
        "unrefined.",
        lambda maps, s: _newton(maps, s, guard=False),
    ),
    "xy_swapped",
    *(
        _mistake(hint, lambda maps, s, m=mapping: _newton(maps, s, to_input=m))
        for hint, mapping in zip(_MAPPING_HINTS, _WRONG_MAPPINGS, strict=True)
    ),
    "half_pixel",
]


def _gaussian_maps(centres, size, sigma, cov=None) -> np.ndarray:
    """``(B, K, h, w)`` float32 clean Gaussians at heatmap ``centres`` ``(B, K, 2)``; ``cov``
    an optional 2 × 2 covariance (heatmap px²) instead of ``σ²·I``."""
    w, h = size
    centres = np.asarray(centres, np.float64)
    cov = np.eye(2) * sigma**2 if cov is None else np.asarray(cov, np.float64)
    inv = np.linalg.inv(cov)
    j, i = np.meshgrid(np.arange(w), np.arange(h))
    d = np.stack([j, i], -1)[None, None] - centres[:, :, None, None, :]
    q = np.einsum("...a,ab,...b->...", d, inv, d)
    return np.exp(-0.5 * q).astype(np.float32)


def check_dark_refine(fn):
    """Exercise 2.3: DARK's Newton step on the log map recovers sub-pixel centres."""
    rng = np.random.default_rng(23)
    iso = rng.uniform(3, [9, 7], (2, 4, 2))  # centres 3+ px from the border of 12 × 10
    border = np.array([[[1.3, 4.2]]])  # argmax at column 1: too close to the border
    cov = [[4.0, 2.2], [2.2, 2.5]]  # an elongated, tilted blob: the cross term matters
    cases = [
        _case((_gaussian_maps([[[4.3, 5.6]]], (11, 9), 1.5), 1), "one round Gaussian, stride 1"),
        _case((_gaussian_maps(iso, (12, 10), 2.0), 4), "2 × 4 round Gaussians, stride 4"),
        _case((_gaussian_maps([[[5.4, 6.3], [6.8, 4.1]]], (12, 12), 0, cov), 4), "tilted blobs"),
        _case((_gaussian_maps(border, (8, 8), 1.5), 2), "a peak next to the border, stride 2"),
    ]
    return check_function(
        fn,
        "dark_refine",
        cases,
        reference=reference_dark_refine,
        forbid=(hm.decode_dark,),
        diagnoses=_REFINE_DIAGNOSES,
        atol=2e-3,
    )


register_reference("gaussian_heatmap", reference_gaussian_heatmap)
register_reference("argmax_decode", reference_argmax_decode)
register_reference("dark_refine", reference_dark_refine)
