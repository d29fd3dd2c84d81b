"""Bottom-up grouping: keypoint peaks + part affinity fields → people (lesson 04).

Follows Cao et al., CVPR 2017 ("Realtime Multi-Person 2D Pose Estimation using Part
Affinity Fields", §2.3–2.4) and the post-processing of Lightweight OpenPose (Osokin 2018,
its ``modules/keypoints.py``), re-written to run at the **map
resolution** with vectorised numpy instead of on maps upsampled ×8 to the image size:

1. ``find_peaks``: per channel, values above ``threshold`` (0.1) that are the maximum of their
   3×3 neighbourhood (a max-pool NMS, as Newell's and ``heatmap.heatmap_nms``; Lightweight
   OpenPose compares 4 neighbours on the upsampled map), refined to sub-pixel positions by a
   Taylor step on the log-map (exact for a Gaussian) or the quarter offset; optionally a
   minimum distance between peaks of one channel.
2. ``score_limbs``: every (a, b) pair of peaks of each limb's joint types is scored by the
   PAF line integral (paper eq. 10), approximated by ``num_samples`` (10) points from a to b,
   ends included: ``E = mean(L(p_i) · u)``, ``u = (b - a)/|b - a|``. A pair is a candidate
   when more than ``min_ratio`` (0.8) of the samples exceed ``min_paf`` (0.05) and ``E > 0``;
   ``E`` is the mean over those samples (Lightweight OpenPose) or, with ``distance_prior``,
   the mean over all samples plus CMU's ``min(0.5·h/|b - a| - 1, 0)``. The integral is
   computed for all pairs of all limbs at once; pairs that already fail the ratio test on a
   few samples are dropped before the others are read (an exact shortcut).
3. ``match_limbs``: per limb a one-to-one matching, greedy by score (Lightweight OpenPose's
   ``connections_nms``) or optimal (Hungarian, ``scipy.optimize.linear_sum_assignment``; the
   paper's bipartite matching, eq. 13–14).
4. ``assemble``: connections are taken limb by limb along the tree (``OPENPOSE18.limbs`` is
   rooted at the neck); a connection extends the person that owns one end, or starts a new
   one, or — Cao et al. / CMU — **merges** the two partial people that own its ends when they
   share no joint type. The last two limbs (shoulder → ear) are redundant and only extend or
   merge people. People with fewer than ``min_keypoints`` (3) joints or a mean score below
   ``min_score`` (0.2) are dropped (Lightweight OpenPose's rules).
5. ``group`` chains the four and returns ``People``: COCO-17 ``(x, y, score)`` in input
   pixels (map → image with ``heatmap_to_image``: map pixel ``j`` is centred at input
   ``j·s + (s - 1)/2``) and person scores ``Σscores · max(0, n - 1)`` (Lightweight OpenPose's
   ``val.py`` ranking; ``n`` = number of joints).

This is the second half of the PAF decoder (``posekit.codecs.paf.PAFCodec.decode``); how it
degrades on noisy maps is a lesson experiment, ``posekit.lab.grouping_noise``.

Non-finite maps: every function here that reads heatmaps or PAFs raises a ValueError naming
the argument, the first NaN / ±inf value and its index (C order), as the decoders of
``posekit.codecs.heatmap`` do; an inf peak would otherwise give an infinite person score and a
NaN pixel would silently hide the peak beside it.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from scipy.optimize import linear_sum_assignment

from posekit.codecs.heatmap import heatmap_to_image
from posekit.skeletons import COCO17, OPENPOSE18
from posekit.validate import stride2

__all__ = [
    "OPENPOSE18_TO_COCO17",
    "Candidates",
    "People",
    "Peaks",
    "assemble",
    "find_peaks",
    "group",
    "match_limbs",
    "pair_scores",
    "score_limbs",
]

OPENPOSE18_TO_COCO17 = np.array([OPENPOSE18.index(n) for n in COCO17.joints], np.int64)
"""For each COCO-17 joint its OpenPose-18 index (the neck has no COCO counterpart)."""

REFINES = ("taylor", "quarter", "none")
METHODS = ("greedy", "hungarian")


class Peaks(NamedTuple):
    """Peaks of one image's heatmaps, sorted by channel (global peak id = row).

    Attributes:
        xy: ``(P, 2)`` float64 sub-pixel ``(x, y)`` in map pixels.
        score: ``(P,)`` map value at the integer peak.
        joint: ``(P,)`` int64 channel (joint type), ascending.
        counts: ``(K,)`` int64 peaks per channel.
    """

    xy: np.ndarray
    score: np.ndarray
    joint: np.ndarray
    counts: np.ndarray


class Candidates(NamedTuple):
    """Scored limb candidates (or, after ``match_limbs``, connections).

    Attributes:
        limb: ``(C,)`` int64 limb index; a, b: ``(C,)`` int64 peak ids of the two ends;
        score: ``(C,)`` float64 PAF score (> 0).
    """

    limb: np.ndarray
    a: np.ndarray
    b: np.ndarray
    score: np.ndarray


class People(NamedTuple):
    """Grouped people of one image, sorted by decreasing score.

    Attributes:
        keypoints: ``(N, 17, 3)`` float32 COCO-17 ``(x, y, score)`` in input pixels; joints
            not found are ``(0, 0, 0)``.
        scores: ``(N,)`` float32 person scores (``Σ scores · max(0, n - 1)``).
        keypoints18: ``(N, 18, 3)`` the same in OpenPose-18 order (with the neck).
    """

    keypoints: np.ndarray
    scores: np.ndarray
    keypoints18: np.ndarray


# --------------------------------------------------------------------------- 1. peaks


def _maps(x, arg: str, ndim: int = 3) -> np.ndarray:
    """``(C, h, w)`` (or ``(h, w)``) finite float32 maps, else a ValueError naming ``arg``."""
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    a = np.asarray(x)
    if a.dtype.kind not in "biuf":
        raise ValueError(f"{arg}: expected real numbers, got dtype {a.dtype}")
    a = a.astype(np.float32, copy=False)
    if a.ndim != ndim or min(a.shape) == 0:
        raise ValueError(
            f"{arg}: expected a ({'C, ' if ndim == 3 else ''}h, w) array, got {a.shape}"
        )
    _check_finite(a, arg)
    return a


def _check_finite(maps: np.ndarray, arg: str) -> None:
    """ValueError naming ``arg``, the first NaN / ±inf value and its index (C order)."""
    if np.isfinite(maps).all():
        return
    index = tuple(int(i) for i in np.argwhere(~np.isfinite(maps))[0])
    raise ValueError(
        f"{arg}: {maps[index]} at index {index} of shape {maps.shape}; grouping needs finite "
        "maps (NaN / inf outputs usually mean the network diverged)"
    )


def _local_maxima(hm: np.ndarray, threshold: float):
    """Integer peaks: above ``threshold`` and the maximum of their 3×3 window.

    Sparse: only the pixels above the threshold are compared with their 8 neighbours
    (gathers on a ``-inf``-padded copy). Ties on a plateau keep its first pixel in raster
    order (strict ``>`` against the four neighbours that come earlier, ``≥`` against the four
    later ones), so a flat top gives one peak.

    Returns:
        ``(idx, padded)``: the peaks' indices into ``padded``, the raveled
        ``(K, h + 2, w + 2)`` padded maps.
    """
    k, h, w = hm.shape
    p = np.full((k, h + 2, w + 2), -np.inf, np.float32)
    p[:, 1:-1, 1:-1] = hm
    flat = p.ravel()
    idx = np.flatnonzero(flat > threshold)  # the -inf border never passes
    c = flat[idx]
    keep = np.ones(idx.size, bool)
    for off in (w + 3, w + 2, w + 1, 1):  # up-left, up, up-right, left: strictly above
        keep &= c > flat[idx - off]
    for off in (1, w + 1, w + 2, w + 3):  # right, down-left, down, down-right: at least
        keep &= c >= flat[idx + off]
    return idx[keep], flat


def _refine(padded, idx, x, y, w: int, h: int, how: str) -> np.ndarray:
    """Sub-pixel offsets ``(P, 2)`` of integer peaks, within ±0.5 px per axis.

    ``padded``/``idx`` as returned by ``_local_maxima``; ``x``, ``y`` the peaks' pixels.
    ``"taylor"``: per axis a Newton step ``-f'/f''`` on ``log f`` with central differences;
    exact for a Gaussian ``exp(-|p - c|²/2σ_h²)`` (its log is a quadratic). On the map's border
    (no neighbour on one side) ``f'`` is taken one-sided with ``f''`` of the other axis (a
    round Gaussian has the same curvature in x and y), so joints in the outer half-pixel of
    the map are still located; at a corner the peak stays on the pixel centre.
    ``"quarter"``: ±0.25 toward the higher neighbour (interior pixels only)."""
    off = np.zeros((idx.size, 2))
    if how == "none" or idx.size == 0:
        return off
    # centre, then (before, after) along x and along y
    f = padded[idx[:, None] + np.array([0, -1, 1, -(w + 2), w + 2])].astype(np.float64)
    has = [(x > 0, x < w - 1), (y > 0, y < h - 1)]
    if how == "quarter":  # Newell et al.: a quarter pixel toward the higher neighbour
        for axis, (lo, hi) in enumerate(has):
            off[:, axis] = np.where(
                lo & hi, 0.25 * np.sign(f[:, 2 + 2 * axis] - f[:, 1 + 2 * axis]), 0
            )
        return off
    lf = np.log(np.maximum(f, 1e-10))  # outside the map: -inf → 1e-10, masked below
    l0 = lf[:, 0]
    curv = [np.where(lo & hi, lf[:, 1 + 2 * a] + lf[:, 2 + 2 * a] - 2 * l0, np.nan)
            for a, (lo, hi) in enumerate(has)]  # fmt: skip
    for axis, (lo, hi) in enumerate(has):
        lm, lp = lf[:, 1 + 2 * axis], lf[:, 2 + 2 * axis]
        d2 = np.where(np.isnan(curv[axis]), curv[1 - axis], curv[axis])
        d1 = np.where(
            lo & hi, 0.5 * (lp - lm), np.where(lo, l0 - lm + 0.5 * d2, lp - l0 - 0.5 * d2)
        )
        ok = (d2 < 0) & (lo | hi)
        off[:, axis] = np.where(ok, np.clip(-d1 / np.where(ok, d2, -1.0), -0.5, 0.5), 0.0)
    return off


def _suppress_close(xy, score, joint, min_distance: float) -> np.ndarray:
    """Keep mask: drop a peak if a higher one (ties: lower id) of its channel is closer than
    ``min_distance`` (all pairs at once; a suppressed peak still suppresses others)."""
    d = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    ids = np.arange(score.size)
    higher = (score[None, :] > score[:, None]) | (
        (score[None, :] == score[:, None]) & (ids[None, :] < ids[:, None])
    )
    close = (d < min_distance) & (joint[:, None] == joint[None, :]) & higher
    return ~close.any(axis=1)


def _top_per_channel(score, joint, max_peaks: int) -> np.ndarray:
    """Keep mask: the ``max_peaks`` highest peaks of each channel."""
    order = np.lexsort((-score, joint))
    start = np.searchsorted(joint[order], joint[order])  # first row of each channel
    keep = np.zeros(score.size, bool)
    keep[order[np.arange(score.size) - start < max_peaks]] = True
    return keep


def find_peaks(
    heatmaps,
    threshold: float = 0.1,
    refine: str = "taylor",
    min_distance: float = 0.0,
    max_peaks: int | None = 100,
) -> Peaks:
    """Peaks of every channel of one image's heatmaps (vectorised over all channels).

    Args:
        heatmaps: ``(K, h, w)`` joint maps (without the background channel), finite.
        threshold: minimum value of a peak (OpenPose: 0.1).
        refine: ``"taylor"`` (Newton step on the log-map, per axis; exact on a Gaussian),
            ``"quarter"`` (±0.25 px toward the higher neighbour, Newell et al.) or
            ``"none"``. Offsets are clipped to ±0.5 px. Taylor also refines peaks on the
            map's border (see ``_refine``), the quarter offset does not.
        min_distance: also drop peaks closer than this (map pixels) to a higher peak of the
            same channel; the 3×3 maximum already keeps peaks ≥ 2 px apart (Chebyshev), so
            only values above 2 have an effect (Lightweight OpenPose: 6 px of the ×8 map).
        max_peaks: keep at most this many peaks per channel, the highest (None: all). The
            line integral scores all pairs, so an untrained network whose maps are noise
            above the threshold everywhere would otherwise cost ``O(peaks²)`` per limb.
    Returns:
        ``Peaks`` (map pixel coordinates).
    """
    hm = _maps(heatmaps, "heatmaps")
    if refine not in REFINES:
        raise ValueError(f"refine: expected one of {REFINES}, got {refine!r}")
    if not np.isfinite(threshold):
        raise ValueError(f"threshold: expected a finite number, got {threshold!r}")
    if not (np.isfinite(min_distance) and min_distance >= 0):
        raise ValueError(f"min_distance: expected a number >= 0, got {min_distance!r}")
    if max_peaks is not None and int(max_peaks) < 1:
        raise ValueError(f"max_peaks: expected None or an integer >= 1, got {max_peaks!r}")
    idx, padded = _local_maxima(hm, float(threshold))
    _, h, w = hm.shape
    k, rest = np.divmod(idx, (h + 2) * (w + 2))
    y, x = np.divmod(rest, w + 2)
    x, y = x - 1, y - 1
    xy = np.stack([x, y], axis=1).astype(np.float64) + _refine(padded, idx, x, y, w, h, refine)
    score = padded[idx].astype(np.float64)
    if min_distance > 0 and k.size > 1:
        keep = _suppress_close(xy, score, k, float(min_distance))
        xy, score, k = xy[keep], score[keep], k[keep]
    if max_peaks is not None and k.size and np.bincount(k).max() > max_peaks:
        keep = _top_per_channel(score, k, int(max_peaks))
        xy, score, k = xy[keep], score[keep], k[keep]
    return Peaks(xy, score, k.astype(np.int64), np.bincount(k, minlength=hm.shape[0]))


# --------------------------------------------------------------------------- 2. limb scores


def _limbs(limbs, num_joints: int, num_pafs: int) -> np.ndarray:
    lm = np.asarray(limbs, dtype=np.int64)
    if lm.ndim != 2 or lm.shape[1] != 2:
        raise ValueError(f"limbs: expected (L, 2) joint index pairs, got shape {lm.shape}")
    if lm.size and (lm.min() < 0 or lm.max() >= num_joints):
        raise ValueError(f"limbs: joint indices must lie in 0..{num_joints - 1}")
    if num_pafs != 2 * lm.shape[0]:
        raise ValueError(f"pafs: expected {2 * lm.shape[0]} channels (2 per limb), got {num_pafs}")
    return lm


def _ranges(starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """``concatenate([arange(a, a + n) for a, n in zip(starts, sizes)])``, vectorised."""
    offsets = np.cumsum(sizes) - sizes
    return np.repeat(starts - offsets, sizes) + np.arange(int(sizes.sum()))


def _pairs(peaks: Peaks, lm: np.ndarray):
    """All (a, b) pairs of every limb at once, as rows of two *end tables*.

    End table A lists, limb by limb, the peaks of the limb's first joint type (``ta_limb``,
    ``ta_peak``), table B those of its second. Pair ``m`` joins row ``ka[m]`` of A and
    ``kb[m]`` of B (limb ``limb[m]``); its peaks are ``ta_peak[ka]`` and ``tb_peak[kb]``.
    Pairs are ordered by limb, then a, then b.
    """
    start = np.concatenate([[0], np.cumsum(peaks.counts)])
    limbs = np.arange(lm.shape[0])
    na, nb = peaks.counts[lm[:, 0]], peaks.counts[lm[:, 1]]
    ta_limb, ta_peak = np.repeat(limbs, na), _ranges(start[lm[:, 0]], na)
    tb_limb, tb_peak = np.repeat(limbs, nb), _ranges(start[lm[:, 1]], nb)
    per_a = nb[ta_limb]  # pairs of each row of table A
    ka = np.repeat(np.arange(ta_limb.size), per_a)
    kb = _ranges((np.cumsum(nb) - nb)[ta_limb], per_a)
    return ta_limb[ka], ka, kb, (ta_limb, ta_peak), (tb_limb, tb_peak)


def _padded(paf: np.ndarray) -> np.ndarray:
    """``(2L, h, w)`` → raveled complex64 ``(L, h + 1, w + 1)``: pixel ``(x, y)`` of limb
    ``l`` holds ``vx + i·vy``, so one gather reads both components; a zero last row and
    column let bilinear reads at ``x0 + 1``, ``y0 + 1`` go without bounds checks."""
    n, h, w = paf.shape
    out = np.zeros((n // 2, h + 1, w + 1), np.complex64)
    out.real[:, :h, :w] = paf[0::2]
    out.imag[:, :h, :w] = paf[1::2]
    return out.ravel()


def _read(flat, shape, limb, x, y, interpolation: str):
    """PAF vectors ``vx + i·vy`` (complex64) of limb ``limb`` at points ``(x, y)`` (arrays
    broadcasting together; points inside ``[0, w - 1] × [0, h - 1]``). ``flat`` is
    ``_padded(pafs)``, ``shape`` the unpadded ``(h, w)``. ``"nearest"`` rounds the point to
    a pixel (Lightweight OpenPose on its upsampled map); ``"bilinear"`` interpolates the 4
    pixels around it (what an upsampled map would hold there, computed only at the
    samples)."""
    h, w = shape
    w1 = w + 1
    base = ((h + 1) * w1) * limb
    if interpolation == "nearest":
        return flat[base + (y + 0.5).astype(np.intp) * w1 + (x + 0.5).astype(np.intp)]
    x0, y0 = np.floor(x), np.floor(y)
    fx, fy = x - x0, y - y0
    i = base + y0.astype(np.intp) * w1 + x0.astype(np.intp)
    c00, c01, c10, c11 = flat[i], flat[i + 1], flat[i + w1], flat[i + (w1 + 1)]
    top = c00 + fx * (c01 - c00)
    bottom = c10 + fx * (c11 - c10)
    return top + fy * (bottom - top)


def _dot(v: np.ndarray, ux, uy) -> np.ndarray:
    """``vx·ux + vy·uy`` of complex vectors ``v = vx + i·vy``."""
    return v.real * ux + v.imag * uy


@functools.lru_cache(maxsize=16)
def _stages(s: int, spare: int, staged: bool) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """Sample positions ``t`` ``(s, 1)`` float32 and the interior sample indices ``1..s-2``
    in reading stages: ``spare + 1`` spread probes first (a pair whose probes are all
    invalid cannot pass), then the rest; one stage when not ``staged``. Cached: read-only."""
    t = np.linspace(0.0, 1.0, s).astype(np.float32)[:, None]
    inner = np.arange(1, s - 1)
    first = np.unique(np.rint(np.linspace(0, s - 1, spare + 3)[1:-1]).astype(np.int64))
    if not staged or first.size != spare + 1 or first.size >= inner.size or first.min() < 1:
        return t, (inner,) if inner.size else ()
    return t, (first, np.setdiff1d(inner, first))


def score_limbs(
    pafs,
    peaks: Peaks,
    limbs: Sequence = OPENPOSE18.limbs,
    num_samples: int = 10,
    min_paf: float = 0.05,
    min_ratio: float = 0.8,
    distance_prior: bool = False,
    interpolation: str = "bilinear",
) -> Candidates:
    """Limb candidates scored by the PAF line integral (Cao et al. eq. 10), all limbs at once.

    For every limb ``l = (ja, jb)`` and every pair of peaks ``a`` of type ``ja`` and ``b``
    of type ``jb``, the PAF channels ``(2l, 2l + 1)`` are read at ``num_samples`` points
    ``a + t (b - a)``, ``t = linspace(0, 1)`` (ends included), and dotted with
    ``u = (b - a)/|b - a|``. A sample is valid when its dot product exceeds ``min_paf``.
    The pair is kept when the valid fraction exceeds ``min_ratio`` and the score is > 0;
    the score is the mean of the valid samples (Lightweight OpenPose) or, with
    ``distance_prior`` (CMU demo), the mean of all samples + ``min(0.5·h/|b - a| - 1, 0)``
    (``h`` = map height; a limb longer than half the image is penalised).

    Args:
        pafs: ``(2L, h, w)`` fields (channel ``2l`` = x, ``2l + 1`` = y), finite.
        peaks: from ``find_peaks`` on the same map grid.
        limbs: ``(L, 2)`` joint pairs, default ``OPENPOSE18.limbs``.
        num_samples: points per pair (≥ 2).
        interpolation: ``"bilinear"`` (map resolution, default) or ``"nearest"``.
    Returns:
        ``Candidates`` sorted by limb, then by decreasing score.
    """
    paf = _maps(pafs, "pafs")
    n_pafs, h, w = paf.shape
    lm = _limbs(limbs, len(peaks.counts), n_pafs)
    if int(num_samples) < 2:
        raise ValueError(f"num_samples: expected an integer >= 2, got {num_samples!r}")
    if interpolation not in ("bilinear", "nearest"):
        raise ValueError(f"interpolation: expected 'bilinear' or 'nearest', got {interpolation!r}")
    if not 0 <= min_ratio < 1:
        raise ValueError(f"min_ratio: expected a number in [0, 1), got {min_ratio!r}")
    s = int(num_samples)
    _, ka, kb, (ta_limb, ta_peak), (tb_limb, tb_peak) = _pairs(peaks, lm)
    px, py = np.clip(peaks.xy, 0, [w - 1, h - 1]).astype(np.float32).T  # border peaks ±0.5
    ta_x, ta_y, tb_x, tb_y = px[ta_peak], py[ta_peak], px[tb_peak], py[tb_peak]
    flat = _padded(paf)
    # The end samples (t = 0, 1) are the peaks themselves: read once per (limb, peak).
    va = _read(flat, (h, w), ta_limb, ta_x, ta_y, interpolation)
    vb = _read(flat, (h, w), tb_limb, tb_x, tb_y, interpolation)

    def geometry(ka, kb):
        ax, ay = ta_x[ka], ta_y[ka]
        dx, dy = tb_x[kb] - ax, tb_y[kb] - ay
        length = np.sqrt(dx * dx + dy * dy)
        inv = np.where(length > 1e-6, 1 / np.maximum(length, 1e-6), 0).astype(np.float32)
        return ax, ay, dx, dy, dx * inv, dy * inv, length

    ax, ay, dx, dy, ux, uy, length = geometry(ka, kb)
    rows = [_dot(va[ka], ux, uy), _dot(vb[kb], ux, uy)]  # t = 0, 1
    bad = (rows[0] <= min_paf).astype(np.int64) + (rows[1] <= min_paf)
    # Exact shortcut: the ratio test tolerates at most `spare` invalid samples, so the
    # samples are read in stages (ends, a few spread probes, the rest) and a pair is dropped
    # once it has more invalid ones; the survivors end with all s samples read.
    spare = s - (math.floor(min_ratio * s + 1e-9) + 1)
    t, stages = _stages(s, spare, ka.size * s > 2000)  # staging pays off for many pairs
    for stage in [*stages, None]:
        if (bad > spare).any():
            ok = np.flatnonzero(bad <= spare)
            ka, kb, bad = ka[ok], kb[ok], bad[ok]
            rows = [r[..., ok] for r in rows]
            ax, ay, dx, dy, ux, uy, length = geometry(ka, kb)
        if stage is None:
            break
        x, y = ax + t[stage] * dx, ay + t[stage] * dy
        rows.append(_dot(_read(flat, (h, w), ta_limb[ka], x, y, interpolation), ux, uy))
        bad += (rows[-1] <= min_paf).sum(axis=0)
    limb = ta_limb[ka]
    dots = np.vstack(rows).astype(np.float64)  # (s, M), samples in read order
    ia, ib = ta_peak[ka], tb_peak[kb]
    valid = dots > min_paf
    n_valid = valid.sum(axis=0)
    if distance_prior:
        score = dots.mean(axis=0) + np.minimum(0.5 * h / np.maximum(length, 1e-6) - 1, 0)
    else:
        score = (dots * valid).sum(axis=0) / np.maximum(n_valid, 1)
    keep = (n_valid > min_ratio * s) & (score > 0) & (length > 1e-6)
    limb, ia, ib, score = limb[keep], ia[keep], ib[keep], score[keep]
    order = np.lexsort((-score, limb))
    return Candidates(limb[order], ia[order], ib[order], score[order])


def pair_scores(
    pafs,
    limb: int,
    a_xy,
    b_xy,
    num_samples: int = 10,
    min_paf: float = 0.05,
    interpolation: str = "bilinear",
) -> tuple[np.ndarray, np.ndarray]:
    """Line-integral score and valid fraction of *every* (a, b) pair of one limb.

    The numbers ``score_limbs`` computes before it keeps or drops a pair (same sampling,
    float32 arithmetic and interpolation; no distance prior), for showing rejected candidates
    too (``posekit.widgets.PAFExplorer``): ``score_limbs`` keeps exactly the pairs with
    ``fraction > min_ratio``, ``score > 0`` and ``a ≠ b``.

    Args:
        pafs: ``(2L, h, w)`` fields, channels ``(2l, 2l + 1)`` = limb ``l``'s ``(x, y)``.
        limb: the limb index ``l``.
        a_xy, b_xy: ``(Pa, 2)`` and ``(Pb, 2)`` peaks ``(x, y)`` in map pixels of the limb's
            first and second joint type (e.g. ``Peaks.xy`` rows).
        num_samples, min_paf, interpolation: as ``score_limbs``.
    Returns:
        ``(score, fraction)``: float64 ``(Pa, Pb)`` — the mean of the valid samples' dot
        products (0 when none is valid or ``a = b``) and the share of valid samples.
    """
    paf = _maps(pafs, "pafs")
    n_pafs, h, w = paf.shape
    if not 0 <= int(limb) < n_pafs // 2:
        raise ValueError(f"limb: expected an index in 0..{n_pafs // 2 - 1}, got {limb!r}")
    if int(num_samples) < 2:
        raise ValueError(f"num_samples: expected an integer >= 2, got {num_samples!r}")
    if interpolation not in ("bilinear", "nearest"):
        raise ValueError(f"interpolation: expected 'bilinear' or 'nearest', got {interpolation!r}")
    pts = []
    for name, xy in (("a_xy", a_xy), ("b_xy", b_xy)):
        p = np.asarray(xy, np.float64).reshape(-1, 2) if np.size(xy) == 0 else np.asarray(xy)
        if p.ndim != 2 or p.shape[1] != 2 or not np.isfinite(p).all():
            raise ValueError(f"{name}: expected (P, 2) finite (x, y) map pixels, got {p.shape}")
        pts.append(np.clip(p, 0, [w - 1, h - 1]).astype(np.float32))
    (pa, pb), s = pts, int(num_samples)
    score = np.zeros((len(pa), len(pb)))
    fraction = np.zeros((len(pa), len(pb)))
    if score.size == 0:
        return score, fraction
    flat = _padded(paf)
    l = int(limb)
    ax, ay = pa[:, 0, None], pa[:, 1, None]  # (Pa, 1) against (Pb,)
    dx, dy = pb[None, :, 0] - ax, pb[None, :, 1] - ay
    length = np.sqrt(dx * dx + dy * dy)
    inv = np.where(length > 1e-6, 1 / np.maximum(length, 1e-6), 0).astype(np.float32)
    ux, uy = dx * inv, dy * inv
    t = np.linspace(0.0, 1.0, s).astype(np.float32)
    rows = [
        _dot(_read(flat, (h, w), l, ax, ay, interpolation), ux, uy),  # the ends: the peaks
        _dot(_read(flat, (h, w), l, pb[None, :, 0], pb[None, :, 1], interpolation), ux, uy),
    ]
    for k in range(1, s - 1):
        rows.append(_dot(_read(flat, (h, w), l, ax + t[k] * dx, ay + t[k] * dy, interpolation),
                         ux, uy))  # fmt: skip
    dots = np.stack(rows).astype(np.float64)  # (s, Pa, Pb)
    valid = dots > min_paf
    n_valid = valid.sum(axis=0)
    score = (dots * valid).sum(axis=0) / np.maximum(n_valid, 1)
    zero = length <= 1e-6
    return np.where(zero, 0.0, score), np.where(zero, 0.0, n_valid / s)


# --------------------------------------------------------------------------- 3. matching


def match_limbs(candidates: Candidates, method: str = "greedy") -> Candidates:
    """One-to-one connections per limb: each peak is used at most once per limb.

    ``"greedy"``: take candidates by decreasing score, skipping those whose a or b is
    taken (Lightweight OpenPose's ``connections_nms``). ``"hungarian"``: the maximum-weight
    matching per limb (``linear_sum_assignment`` on the score matrix; non-candidates weigh
    0, so they are never preferred). Returns the kept rows, still sorted by limb then score.
    """
    if method not in METHODS:
        raise ValueError(f"method: expected one of {METHODS}, got {method!r}")
    n = candidates.limb.size
    if n == 0:
        return candidates
    keep = np.zeros(n, bool)
    if method == "greedy":
        used: set[int] = set()
        span = int(max(candidates.a.max(), candidates.b.max())) + 1
        key_a = (candidates.limb * span + candidates.a).tolist()
        key_b = (candidates.limb * span + candidates.b).tolist()
        for i, (ka, kb) in enumerate(zip(key_a, key_b, strict=True)):  # by limb, then score
            if ka not in used and kb not in used:
                used.add(ka)
                used.add(kb)
                keep[i] = True
        return Candidates(*(f[keep] for f in candidates))
    bounds = np.flatnonzero(np.diff(candidates.limb)) + 1
    for rows in np.split(np.arange(n), bounds):
        ua, ra = np.unique(candidates.a[rows], return_inverse=True)
        ub, rb = np.unique(candidates.b[rows], return_inverse=True)
        weight = np.zeros((ua.size, ub.size))
        index = np.full((ua.size, ub.size), -1)
        weight[ra, rb] = candidates.score[rows]
        index[ra, rb] = rows
        r, c = linear_sum_assignment(weight, maximize=True)
        chosen = index[r, c]
        keep[chosen[chosen >= 0]] = True
    return Candidates(*(f[keep] for f in candidates))


# --------------------------------------------------------------------------- 4. assembly


def assemble(
    peaks: Peaks,
    connections: Candidates,
    limbs: Sequence = OPENPOSE18.limbs,
    redundant: Sequence[int] = (17, 18),
    min_keypoints: int = 3,
    min_score: float = 0.2,
) -> tuple[np.ndarray, np.ndarray]:
    """People from connections, limb by limb (Cao et al. §2.4; CMU's subset building).

    A connection ``(a, b)`` of limb ``(ja, jb)``: if neither peak belongs to a person, it
    starts one (not for ``redundant`` limbs); if one end's person has no joint of the other
    end's type, the other peak joins it; if the ends belong to two people with no joint type
    in common, they merge. Otherwise (a conflict) it is ignored. A person's score sums its
    peaks' scores and its connections' scores. People with fewer than ``min_keypoints``
    joints or ``score / joints < min_score`` are dropped.

    Returns:
        ``(ids, scores)``: ``(N, K)`` int64 peak ids per joint (-1 = missing), ``(N,)``
        float64 total scores.
    """
    k = len(peaks.counts)
    lm = np.asarray(limbs, dtype=np.int64).tolist()
    skip = {int(r) for r in redundant}
    owner = [-1] * len(peaks.score)
    people: list[list] = []  # [joint ids (list of K), total score, joint count]
    pscore = peaks.score.tolist()
    rows = zip(
        connections.limb.tolist(),
        connections.a.tolist(),
        connections.b.tolist(),
        connections.score.tolist(),
        strict=True,
    )
    for l, a, b, s in rows:
        ja, jb = lm[l]
        pa, pb = owner[a], owner[b]
        if pa < 0 and pb < 0:
            if l in skip:
                continue
            ids = [-1] * k
            ids[ja], ids[jb] = a, b
            owner[a] = owner[b] = len(people)
            people.append([ids, pscore[a] + pscore[b] + s, 2])
        elif pb < 0 or pa < 0:
            p, j, new = (pa, jb, b) if pb < 0 else (pb, ja, a)
            person = people[p]
            if person[0][j] < 0:
                person[0][j] = new
                person[1] += pscore[new] + s
                person[2] += 1
                owner[new] = p
        elif pa != pb:
            first, second = people[pa], people[pb]
            if all(x < 0 or y < 0 for x, y in zip(first[0], second[0], strict=True)):
                for j, x in enumerate(second[0]):
                    if x >= 0:
                        first[0][j] = x
                        owner[x] = pa
                first[1] += second[1] + s
                first[2] += second[2]
                second[2] = 0  # merged away
    kept = [p for p in people if p[2] >= max(min_keypoints, 1) and p[1] / p[2] >= min_score]
    if not kept:
        return np.zeros((0, k), np.int64), np.zeros(0)
    return np.array([p[0] for p in kept], np.int64), np.array([p[1] for p in kept])


# --------------------------------------------------------------------------- 5. group


def _people(peaks: Peaks, ids: np.ndarray, totals: np.ndarray, stride) -> People:
    """Peak ids ``(N, 18)`` → ``People`` in input pixels, sorted by score."""
    n = ids.shape[0]
    kp18 = np.zeros((n, ids.shape[1], 3), np.float32)
    found = ids >= 0
    if n:
        xy = heatmap_to_image(peaks.xy[ids[found]], stride)
        kp18[found] = np.concatenate([xy, peaks.score[ids[found], None]], axis=1)
    count = found.sum(axis=1)
    scores = (totals * np.maximum(count - 1, 0)).astype(np.float32)
    order = np.argsort(-scores, kind="stable")
    kp18, scores = kp18[order], scores[order]
    coco = kp18[:, OPENPOSE18_TO_COCO17] if ids.shape[1] == 18 else kp18
    return People(np.ascontiguousarray(coco), scores, kp18)


def group(
    heatmaps,
    pafs,
    stride=8,
    *,
    threshold: float = 0.1,
    refine: str = "taylor",
    min_distance: float = 0.0,
    max_peaks: int | None = 100,
    num_samples: int = 10,
    min_paf: float = 0.05,
    min_ratio: float = 0.8,
    distance_prior: bool = False,
    interpolation: str = "bilinear",
    method: str = "greedy",
    min_keypoints: int = 3,
    min_score: float = 0.2,
    limbs: Sequence = OPENPOSE18.limbs,
    redundant: Sequence[int] = (17, 18),
) -> People:
    """One image's maps → people: ``find_peaks`` → ``score_limbs`` → ``match_limbs`` →
    ``assemble`` (see the module docstring and each step for the options).

    Args:
        heatmaps: ``(18, h, w)`` OpenPose-18 joint maps (a 19th background channel, if
            present, is ignored), or ``(K, h, w)`` with matching ``limbs``; finite.
        pafs: ``(2L, h, w)``, channels ``(2l, 2l + 1)`` = limb ``l``'s ``(x, y)``; finite.
        stride: input pixels per map pixel (8), number or ``(sx, sy)``; 1 for maps already
            upsampled to the image.
    Returns:
        ``People``: COCO-17 ``(N, 17, 3)`` ``(x, y, score)`` in input pixels when the maps
        are OpenPose-18 (otherwise the maps' own joint order), ``(N,)`` scores.
    """
    hm = _maps(heatmaps, "heatmaps")
    paf = _maps(pafs, "pafs")
    if hm.shape[1:] != paf.shape[1:]:
        raise ValueError(f"heatmaps {hm.shape} and pafs {paf.shape}: map sizes differ")
    stride = stride2(stride)
    n_limbs = paf.shape[0] // 2
    k = int(np.max(limbs)) + 1
    if hm.shape[0] == k + 1:  # drop the background channel
        hm = hm[:k]
    if hm.shape[0] != k or len(limbs) != n_limbs:
        raise ValueError(
            f"heatmaps / pafs: expected {k} (+1 background) and {2 * len(limbs)} channels for "
            f"{len(limbs)} limbs, got {hm.shape[0]} and {paf.shape[0]}"
        )
    peaks = find_peaks(hm, threshold, refine, min_distance, max_peaks)
    cands = score_limbs(
        paf, peaks, limbs, num_samples, min_paf, min_ratio, distance_prior, interpolation
    )
    conns = match_limbs(cands, method)
    ids, totals = assemble(peaks, conns, limbs, redundant, min_keypoints, min_score)
    return _people(peaks, ids, totals, stride)
