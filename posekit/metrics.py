"""Evaluation metrics of the pose benchmarks (``docs/datasets.md`` § Evaluation protocols).

* PCK@alpha with a per-sample normaliser (``bbox_norm``, LSP ``torso_norm``) and PCP (LSP).
* PCKh, the MPII protocol of ``evalMPII`` / HRNet's ``MPIIDataset.evaluate``, with
  ``pckh_curve`` and ``auc``.
* MPJPE, root-aligned and Procrustes-aligned (PA-MPJPE), HumanEva / VideoPose3D.
* COCO OKS and keypoint AP through ``pycocotools``.

Conventions: keypoints are ``(N, K, 3)`` = ``(x, y, v)`` in pixels, x = column, y = row,
v = 0 not labelled, 1 labelled but occluded, 2 visible. A joint is *evaluated* when its ground
truth is labelled (``v > 0``) and, if given, ``visible`` is True for it. PCK-family results
are percentages (0-100) as the papers print them. Distances are Euclidean; a joint is correct
when ``distance <= alpha * normaliser`` (MPII uses ``<=``). A NaN prediction counts as a miss.
"""

from __future__ import annotations

import contextlib
import copy
import io
from dataclasses import dataclass

import numpy as np

from posekit.skeletons import COCO17, Skeleton, get_skeleton

# pycocotools' default sigmas (``Params.setKpParams``), COCO-17 order, computed the same way.
# The OKS constant of joint k is κ_k = 2 · COCO_SIGMAS[k] (docs/conventions.md § Notation).
COCO_SIGMAS = (
    np.array([0.26, 0.25, 0.25, 0.35, 0.35, 0.79, 0.79, 0.72, 0.72, 0.62, 0.62, 1.07, 1.07,
              0.87, 0.87, 0.89, 0.89])
    / 10.0
)  # fmt: skip
COCO_SIGMAS.setflags(write=False)

COCO_STAT_NAMES = ("AP", "AP50", "AP75", "APm", "APl", "AR", "AR50", "AR75", "ARm", "ARl")

# MPII-16 ids: (group, [ids averaged]) in the order HRNet prints them.
MPII_GROUPS = (
    ("Head", (9,)),
    ("Shoulder", (13, 12)),
    ("Elbow", (14, 11)),
    ("Wrist", (15, 10)),
    ("Hip", (3, 2)),
    ("Knee", (4, 1)),
    ("Ankle", (5, 0)),
)
MPII_MEAN_EXCLUDED = (6, 7)  # pelvis and thorax are masked out of the MPII Mean
MPII_SC_BIAS = 0.6  # headsize = 0.6 * head-box diagonal (evalMPII, HRNet)


# ----------------------------------------------------------------------------- input checks


def _keypoints(x, name: str, columns=(2, 3), num_joints: int | None = None) -> np.ndarray:
    """``x`` as float64 ``(N, K, C)`` with ``C`` in ``columns``, else a ValueError."""
    arr = np.asarray(x, dtype=np.float64)
    k = "K" if num_joints is None else str(num_joints)
    cols = " or ".join(str(c) for c in columns)
    if arr.ndim != 3 or arr.shape[2] not in columns or (num_joints and arr.shape[1] != num_joints):
        raise ValueError(
            f"{name}: expected shape (N, {k}, {cols}), got {arr.shape}"
            + (" (for one pose use x[None])" if arr.ndim == 2 else "")
        )
    return arr


def _same_people(pred: np.ndarray, gt: np.ndarray) -> None:
    if pred.shape[:2] != gt.shape[:2]:
        raise ValueError(
            f"pred: expected shape ({gt.shape[0]}, {gt.shape[1]}, ...) like gt, got {pred.shape}"
        )


def _per_sample(x, name: str, n: int) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.shape != (n,):
        raise ValueError(f"{name}: expected shape ({n},) (one value per sample), got {arr.shape}")
    return arr


def _evaluated(gt: np.ndarray, visible) -> np.ndarray:
    """(N, K) bool: labelled in ``gt`` (``v > 0`` when gt has a v column) and ``visible``."""
    if gt.shape[2] == 3 and not np.isfinite(gt[..., 2]).all():
        n, k = np.argwhere(~np.isfinite(gt[..., 2]))[0]
        raise ValueError(f"gt: joint {k} of sample {n} has visibility v = {gt[n, k, 2]}")
    mask = gt[..., 2] > 0 if gt.shape[2] == 3 else np.ones(gt.shape[:2], dtype=bool)
    if visible is not None:
        vis = np.asarray(visible)
        if vis.shape != gt.shape[:2]:
            raise ValueError(f"visible: expected shape {gt.shape[:2]} (N, K), got {vis.shape}")
        mask = mask & vis.astype(bool)
    bad = mask & ~np.isfinite(gt[..., :2]).all(axis=-1)
    if bad.any():
        n, k = np.argwhere(bad)[0]
        raise ValueError(f"gt: labelled joint {k} of sample {n} has non-finite coordinates")
    return mask


def _check_norm(norm: np.ndarray, mask: np.ndarray, name: str) -> None:
    """Every sample that has evaluated joints needs a finite, positive normaliser."""
    bad = mask.any(axis=1) & ~(np.isfinite(norm) & (norm > 0))
    if bad.any():
        ids = np.flatnonzero(bad)
        raise ValueError(
            f"{name}: samples {ids[:10].tolist()} have evaluated joints but a normaliser "
            f"{norm[ids[:10]].tolist()} (need finite and > 0); drop those samples or mask "
            "their joints out with visible="
        )


def _distances(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """(N, K) Euclidean distance between the (x, y) of ``pred`` and ``gt``."""
    return np.linalg.norm(pred[..., :2] - gt[..., :2], axis=-1)


def _rate(correct: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-joint percentage of correct among evaluated (NaN where none) and the counts."""
    counts = mask.sum(axis=0)
    hits = (correct & mask).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_joint = np.where(counts > 0, 100.0 * hits / counts, np.nan)
    return per_joint, counts


# ----------------------------------------------------------------------------- PCK


@dataclass(frozen=True)
class PCKResult:
    """PCK@alpha. ``per_joint`` (K,) in % (NaN for a joint never evaluated), ``counts`` (K,)
    evaluated joints, ``mean`` in % over all evaluated joints (count weighted)."""

    per_joint: np.ndarray
    counts: np.ndarray
    mean: float
    alpha: float


def bbox_norm(gt) -> np.ndarray:
    """Per-sample PCK normaliser: the longer side of the tight box of the labelled joints.

    ``max(x_max - x_min, y_max - y_min)`` over joints with ``v > 0``, as mmpose's
    ``norm_item='bbox'`` (``max`` of the box width and height). We use the longer side, not
    ``sqrt(area)``, because it does not collapse for a person lying along one axis.

    Args:
        gt: ``(N, K, 3)`` ground-truth ``(x, y, v)``.
    Returns:
        ``(N,)`` float64; NaN for a sample with no labelled joint.
    """
    gt = _keypoints(gt, "gt", columns=(3,))
    lab = gt[..., 2] > 0
    x = np.where(lab, gt[..., 0], np.nan)
    y = np.where(lab, gt[..., 1], np.nan)
    out = np.full(gt.shape[0], np.nan)
    some = lab.any(axis=1)
    w = np.nanmax(x[some], axis=1) - np.nanmin(x[some], axis=1)
    h = np.nanmax(y[some], axis=1) - np.nanmin(y[some], axis=1)
    out[some] = np.maximum(w, h)
    return out


def torso_norm(gt, skeleton: str | Skeleton = "lsp14") -> np.ndarray:
    """Per-sample PCK normaliser of LSP: the torso diameter, left shoulder to right hip.

    ``docs/datasets.md`` § LSP and LSP-extended: ``||gt(:,10) - gt(:,3)||`` (1-based LSP ids =
    L shoulder, R hip). Works for
    any joint set with ``left_shoulder`` and ``right_hip`` (LSP-14, MPII-16, COCO-17...).

    Args:
        gt: ``(N, K, 3)`` ``(x, y, v)`` or ``(N, K, 2)`` ``(x, y)`` (all joints labelled).
        skeleton: the joint set of ``gt`` (name or ``Skeleton``), default ``"lsp14"``.
    Returns:
        ``(N,)`` float64; NaN where either joint is unlabelled.
    """
    sk = get_skeleton(skeleton)
    gt = _keypoints(gt, "gt", num_joints=sk.num_joints)
    a, b = sk.index("left_shoulder"), sk.index("right_hip")
    d = np.linalg.norm(gt[:, a, :2] - gt[:, b, :2], axis=-1)
    if gt.shape[2] == 3:
        d = np.where((gt[:, a, 2] > 0) & (gt[:, b, 2] > 0), d, np.nan)
    return d


def _normalized_errors(pred, gt, norm, visible) -> tuple[np.ndarray, np.ndarray]:
    gt = _keypoints(gt, "gt")
    pred = _keypoints(pred, "pred")
    _same_people(pred, gt)
    norm = _per_sample(norm, "norm", gt.shape[0])
    mask = _evaluated(gt, visible)
    _check_norm(norm, mask, "norm")
    with np.errstate(invalid="ignore", divide="ignore"):
        err = _distances(pred, gt) / norm[:, None]
    return err, mask


def pck(pred, gt, norm, alpha: float = 0.2, visible=None) -> PCKResult:
    """Percentage of Correct Keypoints, PCK@alpha (Yang & Ramanan 2013; LSP protocol 3.3).

    A joint is correct when ``||pred - gt|| <= alpha * norm[n]``.

    Args:
        pred: ``(N, K, 2|3)`` predicted ``(x, y[, score])``; only x, y are used.
        gt: ``(N, K, 3)`` ``(x, y, v)``, or ``(N, K, 2)`` when every joint is labelled.
        norm: ``(N,)`` per-sample normaliser in pixels, e.g. ``torso_norm(gt)`` (LSP, alpha
            0.2) or ``bbox_norm(gt)`` (mmpose).
        alpha: threshold as a fraction of ``norm``.
        visible: optional ``(N, K)`` bool, AND-ed with "labelled" to choose evaluated joints.
    Returns:
        ``PCKResult`` (per-joint %, counts, count-weighted mean %, alpha).
    """
    err, mask = _normalized_errors(pred, gt, norm, visible)
    return _pck_result(err, mask, alpha)


def _pck_result(err: np.ndarray, mask: np.ndarray, alpha: float) -> PCKResult:
    if not mask.any():
        raise ValueError("gt: no labelled joint to evaluate (all v == 0 or masked by visible)")
    correct = err <= alpha
    per_joint, counts = _rate(correct, mask)
    mean = 100.0 * (correct & mask).sum() / mask.sum()
    return PCKResult(per_joint, counts, float(mean), float(alpha))


def _thresholds(thresholds, default_max: float) -> np.ndarray:
    if thresholds is None:
        return np.linspace(0.0, default_max, int(round(default_max / 0.01)) + 1)
    t = np.asarray(thresholds, dtype=np.float64)
    if t.ndim != 1 or t.size < 1:
        raise ValueError(f"thresholds: expected a 1-D array of alphas, got shape {t.shape}")
    return t


def pck_curve(pred, gt, norm, thresholds=None, visible=None) -> tuple[np.ndarray, np.ndarray]:
    """Mean PCK (%) at each threshold, for a PCK curve and its ``auc``.

    Same arguments as ``pck``; ``thresholds`` defaults to LSP's range 0:0.01:0.2.
    Returns ``(thresholds, values)``, both ``(T,)``: ``plt.plot(*pck_curve(...))``.
    """
    t = _thresholds(thresholds, 0.2)
    err, mask = _normalized_errors(pred, gt, norm, visible)
    return t, np.array([_pck_result(err, mask, a).mean for a in t])


def auc(thresholds, values) -> float:
    """Area under a PCK curve, normalised by the threshold range (trapezoid rule).

    ``sum(diff(t) * (v[1:] + v[:-1]) / 2) / (t[-1] - t[0])``: the mean height of the curve,
    in the units of ``values`` (a curve in % gives an AUC in %). A constant curve ``c`` has
    AUC ``c``.

    Args:
        thresholds: ``(T,)`` strictly increasing, ``T >= 2``.
        values: ``(T,)`` finite PCK values at those thresholds.
    """
    t = np.asarray(thresholds, dtype=np.float64)
    v = np.asarray(values, dtype=np.float64)
    if t.ndim != 1 or t.size < 2:
        raise ValueError(f"thresholds: expected shape (T,) with T >= 2, got {t.shape}")
    if v.shape != t.shape:
        raise ValueError(f"values: expected shape {t.shape} like thresholds, got {v.shape}")
    if not (np.diff(t) > 0).all():
        raise ValueError("thresholds: must be strictly increasing")
    if not np.isfinite(v).all():
        raise ValueError("values: contains NaN or inf")
    area = np.sum(np.diff(t) * (v[1:] + v[:-1]) / 2.0)
    return float(area / (t[-1] - t[0]))


# ----------------------------------------------------------------------------- PCKh (MPII)


@dataclass(frozen=True)
class PCKhResult:
    """MPII PCKh@alpha (``docs/datasets.md`` § Evaluation protocols).

    Attributes:
        per_joint: ``(16,)`` PCKh in %, MPII-16 order (NaN for a joint never labelled).
        counts: ``(16,)`` number of labelled (evaluated) joints.
        groups: ``{"Head", "Shoulder", "Elbow", "Wrist", "Hip", "Knee", "Ankle"}`` in %.
        mean: count-weighted mean over the 14 joints without pelvis and thorax, in %.
        mean_at_0_1: the same mean at alpha = 0.1.
        alpha: the threshold of ``per_joint``, ``groups`` and ``mean``.
    """

    per_joint: np.ndarray
    counts: np.ndarray
    groups: dict[str, float]
    mean: float
    mean_at_0_1: float
    alpha: float

    def table(self, name: str | None = None) -> str:
        """The HRNet log table: ``| Head | Shoulder | ... | Mean | Mean@0.1 |``, 3 decimals."""
        names = [*self.groups, "Mean", "Mean@0.1"]
        values = [*self.groups.values(), self.mean, self.mean_at_0_1]
        head = ["Arch"] if name is not None else []
        row = [name] if name is not None else []
        lines = [
            "| " + " | ".join(head + names) + " |",
            "|---" * (len(names) + len(head)) + "|",
            "| " + " | ".join(row + [f"{v:.3f}" for v in values]) + " |",
        ]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()


def _headboxes(headboxes, n: int | None = None) -> np.ndarray:
    """Head boxes as ``(N, 2, 2)`` = ``[[x1, y1], [x2, y2]]`` from ``(N, 2, 2)`` or ``(N, 4)``."""
    hb = np.asarray(headboxes, dtype=np.float64)
    want = "N" if n is None else n
    n = (hb.shape[0] if hb.ndim in (2, 3) else -1) if n is None else n
    if hb.shape == (n, 4):
        hb = hb.reshape(n, 2, 2)
    if hb.shape != (n, 2, 2):
        raise ValueError(
            f"headboxes: expected shape ({want}, 2, 2) [[x1, y1], [x2, y2]] or ({want}, 4), got "
            f"{hb.shape} (gt_valid.mat's headboxes_src (2, 2, N) needs .transpose(2, 0, 1))"
        )
    return hb


def mpii_headsize(headboxes) -> np.ndarray:
    """MPII's PCKh normaliser: ``0.6 * ||(x2, y2) - (x1, y1)||`` (evalMPII ``SC_BIAS``).

    Args:
        headboxes: ``(N, 2, 2)`` ``[[x1, y1], [x2, y2]]`` or ``(N, 4)`` ``[x1, y1, x2, y2]``.
    Returns:
        ``(N,)`` float64 head sizes in pixels.
    """
    hb = _headboxes(headboxes)
    return MPII_SC_BIAS * np.linalg.norm(hb[:, 1] - hb[:, 0], axis=-1)


def _pckh_errors(pred, gt, headboxes, visible) -> tuple[np.ndarray, np.ndarray]:
    gt = _keypoints(gt, "gt", num_joints=16)
    pred = _keypoints(pred, "pred", num_joints=16)
    _same_people(pred, gt)
    size = mpii_headsize(_headboxes(headboxes, gt.shape[0]))
    mask = _evaluated(gt, visible)
    _check_norm(size, mask, "headboxes")
    with np.errstate(invalid="ignore", divide="ignore"):
        err = _distances(pred, gt) / size[:, None]
    return err, mask


def _mpii_mean(err: np.ndarray, mask: np.ndarray, alpha: float) -> float:
    """Count-weighted mean over the 14 joints (pelvis, thorax masked): correct / labelled."""
    keep = mask.copy()
    keep[:, list(MPII_MEAN_EXCLUDED)] = False
    if not keep.any():
        raise ValueError("gt: no labelled joint outside pelvis/thorax to evaluate")
    return float(100.0 * ((err <= alpha) & keep).sum() / keep.sum())


def _mpii_groups(per_joint: np.ndarray) -> dict[str, float]:
    """Left/right plain average as HRNet's ``0.5 * (L + R)``; one side if the other is NaN."""
    groups = {}
    for name, ids in MPII_GROUPS:
        vals = per_joint[list(ids)]
        groups[name] = float(np.nan) if np.isnan(vals).all() else float(np.nanmean(vals))
    return groups


def pckh(pred, gt, headboxes, visible=None, alpha: float = 0.5) -> PCKhResult:
    """MPII PCKh@alpha, exactly the protocol of ``evalMPII`` / HRNet (``docs/datasets.md``).

    ``headsize = 0.6 * head-box diagonal``; a joint counts only if labelled and is correct when
    ``||pred - gt|| / headsize <= alpha``; per-joint PCKh = 100 * correct / labelled. Groups
    are the plain L/R average ``0.5 * (L + R)`` as HRNet prints them (the one side if the other
    was never labelled). **Mean** is weighted by joint counts over the 14 joints with pelvis
    (6) and thorax (7) masked out; the upper neck (8) is in the Mean but in no group.
    **Mean@0.1** uses alpha = 0.1 exactly (HRNet's code takes ``rng[11]`` of
    ``arange(0, 0.51, 0.01)``, i.e. 0.11; we follow the name, as ``docs/datasets.md`` does).

    Coordinates may be 0- or 1-based as long as ``pred``, ``gt`` and ``headboxes`` agree (only
    differences enter).

    Args:
        pred: ``(N, 16, 2|3)`` predictions, MPII-16 order (``skeletons.MPII16``).
        gt: ``(N, 16, 3)`` ``(x, y, v)``, v > 0 = labelled (HRNet ``joints_vis``), or
            ``(N, 16, 2)`` with ``visible = 1 - jnt_missing.T``.
        headboxes: ``(N, 2, 2)`` ``[[x1, y1], [x2, y2]]`` or ``(N, 4)``.
        visible: optional ``(N, 16)`` bool, AND-ed with "labelled".
        alpha: threshold as a fraction of the head size.
    Returns:
        ``PCKhResult``; ``print(result.table())`` prints the HRNet table.
    """
    err, mask = _pckh_errors(pred, gt, headboxes, visible)
    per_joint, counts = _rate(err <= alpha, mask)
    return PCKhResult(
        per_joint=per_joint,
        counts=counts,
        groups=_mpii_groups(per_joint),
        mean=_mpii_mean(err, mask, alpha),
        mean_at_0_1=_mpii_mean(err, mask, 0.1),
        alpha=float(alpha),
    )


def pckh_curve(pred, gt, headboxes, thresholds=None, visible=None) -> tuple[np.ndarray, np.ndarray]:
    """MPII Mean PCKh (%, 14 joints, count weighted) at each threshold (``docs/datasets.md``).

    Same arguments as ``pckh``; ``thresholds`` defaults to evalMPII's 0:0.01:0.5.
    Returns ``(thresholds, values)``, both ``(T,)``; ``auc(*pckh_curve(...))`` is the AUC.
    """
    t = _thresholds(thresholds, 0.5)
    err, mask = _pckh_errors(pred, gt, headboxes, visible)
    return t, np.array([_mpii_mean(err, mask, a) for a in t])


# ----------------------------------------------------------------------------- PCP


@dataclass(frozen=True)
class PCPResult:
    """Strict PCP. ``per_limb`` (L,) in % (NaN if never evaluated), ``counts`` (L,),
    ``mean`` in % over all evaluated limbs (count weighted), ``limbs`` the (i, j) pairs."""

    per_limb: np.ndarray
    counts: np.ndarray
    mean: float
    limbs: tuple[tuple[int, int], ...]
    alpha: float


def _limb_pairs(limbs, k: int) -> tuple[tuple[int, int], ...]:
    if isinstance(limbs, (str, Skeleton)):
        limbs = get_skeleton(limbs).limbs
    arr = np.asarray(limbs)
    if arr.ndim != 2 or arr.shape[1] != 2 or arr.shape[0] < 1:
        raise ValueError(f"limbs: expected (L, 2) joint-index pairs, got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.integer) or arr.min() < 0 or arr.max() >= k:
        raise ValueError(f"limbs: expected integer joint indices in 0..{k - 1}, got {arr.tolist()}")
    return tuple((int(i), int(j)) for i, j in arr)


def pcp(pred, gt, limbs, alpha: float = 0.5) -> PCPResult:
    """Strict Percentage of Correct Parts (Ferrari et al. 2008; LSP protocol, ``docs/datasets.md``).

    A limb (i, j) is correct when *both* endpoints are within ``alpha * ||gt_i - gt_j||`` of
    their ground truth. A limb is evaluated only when both gt endpoints are labelled.

    Args:
        pred: ``(N, K, 2|3)`` predictions; only x, y are used.
        gt: ``(N, K, 3)`` ``(x, y, v)`` or ``(N, K, 2)`` (all labelled).
        limbs: ``(L, 2)`` 0-based joint-index pairs, or a joint-set name / ``Skeleton``
            (uses its ``limbs``).
        alpha: fraction of the GT limb length.
    Returns:
        ``PCPResult`` (per-limb %, counts, count-weighted mean %).
    """
    gt = _keypoints(gt, "gt")
    pred = _keypoints(pred, "pred")
    _same_people(pred, gt)
    pairs = _limb_pairs(limbs, gt.shape[1])
    i, j = np.array(pairs).T
    lab = _evaluated(gt, None)
    mask = lab[:, i] & lab[:, j]
    if not mask.any():
        raise ValueError("gt: no limb has both endpoints labelled")
    length = np.linalg.norm(gt[:, i, :2] - gt[:, j, :2], axis=-1)
    d = _distances(pred, gt)
    correct = (d[:, i] <= alpha * length) & (d[:, j] <= alpha * length)
    per_limb, counts = _rate(correct, mask)
    mean = 100.0 * (correct & mask).sum() / mask.sum()
    return PCPResult(per_limb, counts, float(mean), pairs, float(alpha))


# ----------------------------------------------------------------------------- MPJPE


def procrustes_align(pred, gt, mask=None) -> np.ndarray:
    """Similarity Procrustes: ``s * R @ x + t`` of each ``pred`` closest to its ``gt``.

    Closed form of Umeyama (1991) via the SVD of the cross-covariance, with the reflection fix
    ``det(R) = +1``; the alignment used by PA-MPJPE (HumanEva, VideoPose3D ``p_mpjpe``).
    Solved per sample on the joints of ``mask``; the transform is applied to every joint.

    Args:
        pred, gt: ``(N, K, D)`` points, D = 2 or 3 (no v column).
        mask: optional ``(N, K)`` bool, joints used to fit (default all).
    Returns:
        ``(N, K, D)`` float64 aligned ``pred``.
    """
    pred = np.asarray(pred, dtype=np.float64)
    gt = np.asarray(gt, dtype=np.float64)
    if gt.ndim != 3 or gt.shape[2] not in (2, 3):
        raise ValueError(f"gt: expected shape (N, K, 2 or 3) points, got {gt.shape}")
    if pred.shape != gt.shape:
        raise ValueError(f"pred: expected shape {gt.shape} like gt, got {pred.shape}")
    w = np.ones(gt.shape[:2]) if mask is None else np.asarray(mask, dtype=bool).astype(float)
    if w.shape != gt.shape[:2]:
        raise ValueError(f"mask: expected shape {gt.shape[:2]} (N, K), got {w.shape}")
    use = w[..., None] > 0
    pred_in, gt_in = np.where(use, pred, 0.0), np.where(use, gt, 0.0)  # masked NaNs stay out
    n = np.maximum(w.sum(axis=1), 1.0)[:, None, None]
    mu_p = pred_in.sum(axis=1, keepdims=True) / n
    mu_g = gt_in.sum(axis=1, keepdims=True) / n
    x = np.where(use, pred_in - mu_p, 0.0)
    y = np.where(use, gt_in - mu_g, 0.0)
    var_x = (x**2).sum(axis=(1, 2))
    u, s, vt = np.linalg.svd(np.einsum("nki,nkj->nij", y, x))
    d = np.ones_like(s)
    d[:, -1] = np.sign(np.linalg.det(u @ vt))
    rot = u @ (d[:, :, None] * vt)
    # All pred joints at one point (or a single joint): the best fit is s = 0, i.e. gt's centroid.
    scale = np.where(var_x > 0, (s * d).sum(axis=1) / np.where(var_x > 0, var_x, 1.0), 0.0)
    return scale[:, None, None] * (pred - mu_p) @ rot.transpose(0, 2, 1) + mu_g


def _points(pred, gt, dims: int, visible) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(pred points, gt points, evaluated mask) for ``dims`` = 2 (x, y[, v]) or 3 (x, y, z)."""
    if dims == 2:
        gt = _keypoints(gt, "gt", columns=(2, 3))
        pred = _keypoints(pred, "pred", columns=(2, 3))
        _same_people(pred, gt)
        return pred[..., :2], gt[..., :2], _evaluated(gt, visible)
    if dims == 3:
        gt = _keypoints(gt, "gt", columns=(3,))
        pred = _keypoints(pred, "pred", columns=(3,))
        _same_people(pred, gt)
        mask = _evaluated(gt[..., :2], visible)  # no v column in 3D: all joints, or visible
        if not np.isfinite(gt[mask]).all():
            raise ValueError("gt: evaluated 3D joints contain NaN or inf; mask them via visible")
        return pred, gt, mask
    raise ValueError(f"dims: expected 2 (x, y[, v] pixels) or 3 (x, y, z), got {dims!r}")


def _root_relative(pred, gt, mask, root: int) -> tuple[np.ndarray, np.ndarray]:
    if not 0 <= root < gt.shape[1]:
        raise ValueError(f"root: expected a joint index in 0..{gt.shape[1] - 1}, got {root}")
    missing = mask.any(axis=1) & ~mask[:, root]
    if missing.any():
        raise ValueError(
            f"root: joint {root} is not evaluated in samples {np.flatnonzero(missing)[:10]}"
        )
    return pred - pred[:, root : root + 1], gt - gt[:, root : root + 1]


def joint_errors(
    pred, gt, *, dims: int, visible=None, align: str | None = None, root: int = 0
) -> np.ndarray:
    """Per-joint Euclidean error ``||pred - gt||``, NaN where a joint is not evaluated.

    ``dims`` says what the last column means, so it is never guessed:

    * ``dims=2``: 2D keypoints in pixels. ``gt`` is ``(N, K, 3)`` ``(x, y, v)`` (v > 0 =
      evaluated) or ``(N, K, 2)``; ``pred`` is ``(N, K, 2|3)``, its third column ignored.
    * ``dims=3``: 3D joints ``(N, K, 3)`` = ``(x, y, z)`` (metres or mm); every joint is
      evaluated unless ``visible`` says otherwise.

    Args:
        visible: optional ``(N, K)`` bool, AND-ed with "labelled".
        align: ``None``; ``"root"`` subtracts joint ``root`` from pred and gt (its own error
            becomes 0 and stays in the mean, as VideoPose3D); ``"procrustes"`` applies
            ``procrustes_align`` per sample (PA-MPJPE).
        root: the root joint index for ``align="root"`` (HumanEva-15 / H36M: 0 = pelvis).
    Returns:
        ``(N, K)`` float64 errors in the input units. ``np.nanmean(e)`` = MPJPE; SPHP's
        per-image-then-images mean is ``np.nanmean(np.nanmean(e, axis=1))``.
    """
    p, g, mask = _points(pred, gt, dims, visible)
    if not np.isfinite(p[mask]).all():
        raise ValueError("pred: evaluated joints contain NaN or inf")
    if align == "root":
        p, g = _root_relative(p, g, mask, root)
    elif align == "procrustes":
        p = procrustes_align(p, g, mask)
    elif align is not None:
        raise ValueError(f"align: expected None, 'root' or 'procrustes', got {align!r}")
    err = np.linalg.norm(p - g, axis=-1)
    return np.where(mask, err, np.nan)


def mpjpe(pred, gt, *, dims: int, visible=None, align: str | None = None, root: int = 0) -> float:
    """Mean Per-Joint Position Error (HumanEva, Human3.6M, SPHP; ``docs/datasets.md``).

    The mean of ``||pred - gt||`` over all evaluated joints of all samples, in the input units
    (pixels for ``dims=2``, metres or mm for ``dims=3``). ``align="procrustes"`` gives
    PA-MPJPE (similarity Procrustes per sample), ``align="root"`` root-relative MPJPE.
    See ``joint_errors`` for the shapes and for what ``dims`` means; ``dims`` is required
    because an ``(N, K, 3)`` array is ``(x, y, v)`` in 2D but ``(x, y, z)`` in 3D.

    Example: ``mpjpe(pred3d, gt3d, dims=3, align="procrustes") * 1000`` = PA-MPJPE in mm.
    """
    err = joint_errors(pred, gt, dims=dims, visible=visible, align=align, root=root)
    if np.isnan(err).all():
        raise ValueError("gt: no joint to evaluate (all unlabelled or masked by visible)")
    return float(np.nanmean(err))


# ----------------------------------------------------------------------------- COCO OKS


def _sigmas(sigmas, k: int | None = None) -> np.ndarray:
    s = np.asarray(sigmas, dtype=np.float64)
    if s.ndim != 1 or (k is not None and s.size != k):
        want = "(K,)" if k is None else f"({k},)"
        raise ValueError(f"sigmas: expected shape {want}, one per joint, got {s.shape}")
    bad = np.flatnonzero(~(np.isfinite(s) & (s > 0)))
    if bad.size:
        raise ValueError(f"sigmas: joint {bad[0]} is {s[bad[0]]} (need finite and > 0)")
    return s


def _areas(area, n: int, name: str = "area") -> np.ndarray:
    """``area`` (scalar or ``(n,)``) as float64 ``(n,)``, each finite and > 0 (the OKS area A)."""
    try:
        a = np.asarray(area, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected a number or ({n},) numbers, got {area!r}") from None
    a = np.full(n, float(a)) if a.ndim == 0 else _per_sample(a, name, n)
    bad = np.flatnonzero(~(np.isfinite(a) & (a > 0)))
    if bad.size:
        raise ValueError(
            f"{name}: sample {bad[0]} is {a[bad[0]]} (the OKS area A must be finite and > 0)"
        )
    return a


def oks(pred, gt, area, sigmas=COCO_SIGMAS, bbox=None) -> np.ndarray | float:
    """Object Keypoint Similarity of each (pred, gt) pair, as pycocotools ``computeOks``.

    ``e = d^2 / (2 sigma)^2 / (area + eps) / 2``, i.e. ``d² / (2 A κ²)`` with ``A`` = area and
    ``κ = 2 · sigma`` per joint; OKS = mean of ``exp(-e)`` over gt joints with
    ``v > 0`` (COCO keypoint evaluation, ``docs/datasets.md``). For a gt with no labelled joint,
    pycocotools measures each predicted joint's distance to the box ``[x - w, x + 2w] x
    [y - h, y + 2h]`` around ``bbox``; pass ``bbox`` for that case, otherwise such a gt is a
    ValueError (COCOeval ignores those gts anyway). A predicted joint with a NaN coordinate is
    a miss (its term is 0, as a joint infinitely far away); labelled gt joints must be finite.

    Args:
        pred: ``(N, K, 2|3)`` or ``(K, 2|3)``; only x, y are used.
        gt: ``(N, K, 3)`` or ``(K, 3)`` ``(x, y, v)``.
        area: ``(N,)`` or scalar, the gt object area A (COCO: segmentation area); finite
            and > 0.
        sigmas: ``(K,)`` per-joint constants σ_k = κ_k / 2, default COCO-17's.
        bbox: optional ``(N, 4)`` or ``(4,)`` gt boxes ``[x, y, w, h]``.
    Returns:
        ``(N,)`` float64, or a float for a single pair.
    """
    single = np.ndim(gt) == 2
    gt = _keypoints(np.asarray(gt)[None] if single else gt, "gt", columns=(3,))
    pred = _keypoints(np.asarray(pred)[None] if single else pred, "pred")
    _same_people(pred, gt)
    n, k = gt.shape[:2]
    sig = _sigmas(sigmas, k)
    area = _areas(area, n)
    lab = _evaluated(gt, None)  # labelled joints must be finite
    dx, dy = _oks_offsets(pred, gt, bbox, single)
    var = (sig * 2) ** 2
    with np.errstate(invalid="ignore", over="ignore"):
        e = (dx**2 + dy**2) / var / (area[:, None] + np.spacing(1)) / 2
    e = np.where(np.isnan(e), np.inf, e)  # a NaN prediction is a miss: exp(-inf) = 0
    use = np.where(lab.any(axis=1)[:, None], lab, True)
    out = np.where(use, np.exp(-e), 0.0).sum(axis=1) / use.sum(axis=1)
    return float(out[0]) if single else out


def _oks_offsets(pred, gt, bbox, single: bool) -> tuple[np.ndarray, np.ndarray]:
    """dx, dy to the gt joints, or (no labelled joint) to pycocotools' doubled gt box."""
    dx, dy = pred[..., 0] - gt[..., 0], pred[..., 1] - gt[..., 1]
    empty = ~(gt[..., 2] > 0).any(axis=1)
    if not empty.any():
        return dx, dy
    if bbox is None:
        raise ValueError(
            f"gt: samples {np.flatnonzero(empty)[:10].tolist()} have no labelled keypoint; "
            "pass bbox= ([x, y, w, h]) to measure to the box as pycocotools does"
        )
    bb = np.asarray(bbox, dtype=np.float64)
    bb = bb[None] if single and bb.shape == (4,) else bb
    if bb.shape != (gt.shape[0], 4):
        raise ValueError(f"bbox: expected shape ({gt.shape[0]}, 4) [x, y, w, h], got {bb.shape}")
    _check_boxes(bb[empty], "bbox", np.flatnonzero(empty))
    x0, x1 = bb[:, :1] - bb[:, 2:3], bb[:, :1] + 2 * bb[:, 2:3]
    y0, y1 = bb[:, 1:2] - bb[:, 3:4], bb[:, 1:2] + 2 * bb[:, 3:4]
    px, py = pred[..., 0], pred[..., 1]
    bx = np.maximum(0, x0 - px) + np.maximum(0, px - x1)
    by = np.maximum(0, y0 - py) + np.maximum(0, py - y1)
    return np.where(empty[:, None], bx, dx), np.where(empty[:, None], by, dy)


def _check_boxes(boxes: np.ndarray, name: str, ids: np.ndarray, who: str = "sample") -> None:
    """Boxes ``[x, y, w, h]`` must be finite with ``w, h >= 0``; ``ids`` label the rows."""
    bad = ~np.isfinite(boxes).all(axis=1) | (boxes[:, 2:] < 0).any(axis=1)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(
            f"{name}: {who} {ids[i]} has box {boxes[i].tolist()} (need finite, w and h >= 0)"
        )


def _tight_boxes(kp: np.ndarray) -> np.ndarray:
    """(N, 4) ``[x, y, w, h]`` of the labelled joints; NaN rows for people with none."""
    lab = kp[..., 2] > 0
    x = np.where(lab, kp[..., 0], np.nan)
    y = np.where(lab, kp[..., 1], np.nan)
    out = np.full((kp.shape[0], 4), np.nan)
    some = lab.any(axis=1)
    x0, y0 = np.nanmin(x[some], axis=1), np.nanmin(y[some], axis=1)
    x1, y1 = np.nanmax(x[some], axis=1), np.nanmax(y[some], axis=1)
    out[some] = np.stack([x0, y0, x1 - x0, y1 - y0], axis=1)
    return out


def _image_table(image_ids, image_sizes, n: int) -> tuple[np.ndarray, dict[int, tuple]]:
    """Per-person image ids and ``{image_id: (height, width)}``, checked for consistency."""
    ids = np.arange(1, n + 1) if image_ids is None else np.asarray(image_ids)
    if ids.shape != (n,) or (n and not np.issubdtype(ids.dtype, np.integer)):
        raise ValueError(f"image_ids: expected ({n},) integers, got {ids.shape} {ids.dtype}")
    sizes = np.asarray(image_sizes)
    sizes = np.broadcast_to(sizes, (n, 2)) if sizes.shape == (2,) else sizes
    if sizes.shape != (n, 2):
        raise ValueError(
            f"image_sizes: expected ({n}, 2) or (2,) (height, width), got {sizes.shape}"
        )
    table: dict[int, tuple] = {}
    for i, hw in zip(ids.tolist(), sizes.tolist(), strict=True):
        if table.setdefault(i, tuple(hw)) != tuple(hw):
            raise ValueError(f"image_sizes: image {i} given sizes {table[i]} and {tuple(hw)}")
    return ids, table


def _coco_keypoints(keypoints) -> np.ndarray:
    kp = _keypoints(keypoints, "keypoints", columns=(3,), num_joints=COCO17.num_joints)
    if not np.isin(kp[..., 2], (0, 1, 2)).all():
        raise ValueError("keypoints: v must be 0, 1 or 2 (COCO visibility flags)")
    if not np.isfinite(kp[kp[..., 2] > 0]).all():
        raise ValueError("keypoints: labelled joints (v > 0) contain NaN or inf")
    return np.where(kp[..., 2:] > 0, kp, 0.0)  # COCO stores unlabelled joints as (0, 0, 0)


def _boxes_and_areas(kp, bboxes, areas) -> tuple[np.ndarray, np.ndarray]:
    n = kp.shape[0]
    if bboxes is None:
        boxes = _tight_boxes(kp)
        empty = np.flatnonzero(np.isnan(boxes).any(axis=1))
        if empty.size:
            raise ValueError(
                f"keypoints: people {empty[:10].tolist()} have no labelled joint; pass bboxes="
            )
    else:
        boxes = np.asarray(bboxes, dtype=np.float64)
        if boxes.shape != (n, 4):
            raise ValueError(f"bboxes: expected shape ({n}, 4) [x, y, w, h], got {boxes.shape}")
        _check_boxes(boxes, "bboxes", np.arange(n), "person")
    area = boxes[:, 2] * boxes[:, 3] if areas is None else _per_sample(areas, "areas", n)
    bad = np.flatnonzero(~(np.isfinite(area) & (area > 0)))
    if bad.size:
        src = "the box w * h" if areas is None else "given"
        raise ValueError(
            f"areas: person {bad[0]} has area {area[bad[0]]} ({src}); the OKS area A must be "
            "finite and > 0"
        )
    return boxes, area


def coco_categories() -> list[dict]:
    """The COCO person category: 17 keypoint names, 1-based skeleton (``docs/datasets.md``)."""
    skeleton = [[i + 1, j + 1] for i, j in COCO17.limbs]
    return [
        {
            "id": 1,
            "name": "person",
            "supercategory": "person",
            "keypoints": list(COCO17.labels),
            "skeleton": skeleton,
        }
    ]


def coco_gt_dict(keypoints, image_sizes, bboxes=None, areas=None, image_ids=None) -> dict:
    """An in-memory COCO person-keypoints ground truth (the ``person_keypoints_*.json`` layout).

    Args:
        keypoints: ``(N, 17, 3)`` ``(x, y, v)`` of N people, COCO-17 order, v in {0, 1, 2}.
        image_sizes: ``(N, 2)`` per person, or ``(2,)`` for all: ``(height, width)`` =
            ``image.shape[:2]`` (written to COCO's ``width``/``height``).
        bboxes: ``(N, 4)`` ``[x, y, w, h]``; default the tight box of the labelled joints.
        areas: ``(N,)`` the OKS area A; default ``w * h`` of the box. Real COCO uses the
            segmentation area, typically about half the box area, so pass it when you have it.
        image_ids: ``(N,)`` integer image of each person; default one image per person, 1..N.
    Returns:
        dict with ``images``, ``annotations`` (ids 1..N, ``num_keypoints`` = count of v > 0,
        iscrowd 0) and ``categories``; JSON-serialisable (plain Python numbers).
    """
    kp = _coco_keypoints(keypoints)
    ids, table = _image_table(image_ids, image_sizes, kp.shape[0])
    boxes, area = _boxes_and_areas(kp, bboxes, areas)
    images = [
        {"id": i, "file_name": f"{i:012d}.jpg", "height": int(h), "width": int(w)}
        for i, (h, w) in sorted(table.items())
    ]
    annotations = [
        {
            "id": n + 1,
            "image_id": int(ids[n]),
            "category_id": 1,
            "iscrowd": 0,
            "bbox": [float(b) for b in boxes[n]],
            "area": float(area[n]),
            "num_keypoints": int((kp[n, :, 2] > 0).sum()),
            "keypoints": [
                float(v) if c < 2 else int(v) for row in kp[n] for c, v in enumerate(row)
            ],
            "segmentation": [],
        }
        for n in range(kp.shape[0])
    ]
    return {"images": images, "annotations": annotations, "categories": coco_categories()}


def coco_results(keypoints, scores, image_ids) -> list[dict]:
    """A COCO keypoint results list ``[{"image_id", "category_id": 1, "keypoints", "score"}]``.

    Args:
        keypoints: ``(N, 17, 3)`` ``(x, y, confidence)`` or ``(N, 17, 2)`` (the third value
            is then 1; COCOeval does not use it).
        scores: ``(N,)`` person scores (they rank the detections for AP).
        image_ids: ``(N,)`` integer image id of each detection.
    Returns:
        list of N dicts with plain Python numbers (``json.dump`` writes it as a results file).
    """
    kp = _keypoints(keypoints, "keypoints", num_joints=COCO17.num_joints)
    n = kp.shape[0]
    if kp.shape[2] == 2:
        kp = np.concatenate([kp, np.ones((n, kp.shape[1], 1))], axis=2)
    if not np.isfinite(kp).all():
        raise ValueError("keypoints: contains NaN or inf (COCO results must be finite)")
    sc = _per_sample(scores, "scores", n)
    bad = np.flatnonzero(~np.isfinite(sc))
    if bad.size:
        raise ValueError(f"scores: detection {bad[0]} has score {sc[bad[0]]} (need finite)")
    ids = np.asarray(image_ids)
    if ids.shape != (n,) or (n and not np.issubdtype(ids.dtype, np.integer)):
        raise ValueError(f"image_ids: expected ({n},) integers, got {ids.shape} {ids.dtype}")
    return [
        {
            "image_id": int(ids[i]),
            "category_id": 1,
            "keypoints": [float(v) for v in kp[i].ravel()],
            "score": float(sc[i]),
        }
        for i in range(n)
    ]


def _numbers(value, record: str, field: str = "keypoints", size: int | None = None):
    """``value`` as a 1-D float64 array of real numbers (``size`` of them), else a ValueError
    naming ``record`` and ``field``; the first non-finite entry is named too (as
    ``keypoints[i]``, joint ``i // 3``, x/y/v)."""
    arr = np.asarray(value) if isinstance(value, (list, tuple, np.ndarray)) else None
    if arr is None or arr.dtype.kind not in "iuf" or arr.ndim != 1:
        raise ValueError(f"{record}: {field}: expected a flat list of numbers, got {_brief(value)}")
    if size is not None and arr.size != size:
        raise ValueError(
            f"{record}: expected {size} {field} values (x, y, v) * {size // 3}, got {arr.size}"
        )
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"{record}: {field}[{i}] (joint {i // 3} {'xyv'[i % 3]}) is {arr[i]}; "
                         "keypoints must be finite (a NaN is not a position)")  # fmt: skip
    return arr.astype(np.float64)


def _brief(value) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 60 else text[:57] + '...'}"


def _real(value, where: str) -> float:
    """One finite real number (a score, an area, a box value), else a ValueError."""
    arr = np.asarray(None if isinstance(value, (str, bytes)) else value)
    if arr.ndim != 0 or arr.dtype.kind not in "iuf" or not np.isfinite(arr):
        raise ValueError(f"{where}: expected a finite number, got {_brief(value)}")
    return float(arr)


def _check_gt(gt: dict, k: int) -> tuple[set, set]:
    """Checks a COCO keypoint ground truth; returns its image ids and category ids."""
    if not isinstance(gt, dict):
        raise ValueError(f"gt_dict: expected a dict (coco_gt_dict), got {_brief(gt)}")
    for key in ("images", "annotations", "categories"):
        if key not in gt:
            raise ValueError(f"gt_dict: missing key {key!r} (build it with coco_gt_dict)")
    need = {"id", "image_id", "category_id", "keypoints", "num_keypoints", "area", "bbox"}
    for n, ann in enumerate(gt["annotations"]):
        where = f"gt_dict['annotations'][{n}]"
        if not isinstance(ann, dict):
            raise ValueError(f"{where}: expected a dict, got {_brief(ann)}")
        where += f" (id {ann.get('id')!r})"
        missing = need - set(ann)
        if missing:
            raise ValueError(f"{where}: missing keys {sorted(missing)}")
        _check_annotation(ann, where, k)
    ids = [[x.get("id") if isinstance(x, dict) else None for x in gt[key]]
           for key in ("images", "categories")]  # fmt: skip
    return set(ids[0]), set(ids[1])


def _check_annotation(ann: dict, where: str, k: int) -> None:
    """3K finite keypoint values (COCO writes unlabelled joints as 0, 0, 0), a finite
    positive area (the OKS area A) and a finite box."""
    _numbers(ann["keypoints"], where, size=3 * k)
    area = _real(ann["area"], f"{where}: area")
    if area <= 0:
        raise ValueError(f"{where}: area {area} (the OKS area A must be > 0)")
    box = ann["bbox"]
    if not isinstance(box, (list, tuple, np.ndarray)) or len(box) != 4:
        raise ValueError(f"{where}: bbox: expected [x, y, w, h], got {_brief(box)}")
    for i, v in enumerate(box):
        _real(v, f"{where}: bbox[{i}]")


def _check_results(results, images: set, categories: set, k: int) -> None:
    """Every detection: a dict with a known image and category, 3K finite keypoint values
    and a finite score."""
    if not isinstance(results, list) or len(results) == 0:
        raise ValueError("results: expected a non-empty list of detections (coco_results)")
    for n, r in enumerate(results):
        if not isinstance(r, dict):
            raise ValueError(f"results[{n}]: expected a dict {{image_id, category_id, keypoints,"
                             f" score}}, got {_brief(r)}")  # fmt: skip
        missing = {"image_id", "category_id", "keypoints", "score"} - set(r)
        if missing:
            raise ValueError(f"results[{n}]: missing keys {sorted(missing)}")
        _numbers(r["keypoints"], f"results[{n}]", size=3 * k)
        _real(r["score"], f"results[{n}]: score")
        _known(r, "image_id", images, f"results[{n}]")
        _known(r, "category_id", categories, f"results[{n}]")


def _known(r: dict, key: str, ids: set, where: str) -> None:
    try:
        ok = r[key] in ids
    except TypeError:  # unhashable
        ok = False
    if not ok:
        raise ValueError(f"{where}: {key} {r[key]!r} is not in gt_dict's "
                         f"{'images' if key == 'image_id' else 'categories'} "
                         f"(known ids: {sorted(ids, key=repr)[:10]}...)")  # fmt: skip


def oks_ap(gt_dict: dict, results: list[dict], sigmas=COCO_SIGMAS, verbose: bool = False) -> dict:
    """COCO keypoint AP/AR with ``pycocotools`` on in-memory data (``docs/datasets.md``).

    Builds ``COCO()`` from ``gt_dict`` (``coco.dataset = gt; coco.createIndex()``),
    ``loadRes(results)``, and runs ``COCOeval(iouType="keypoints")`` evaluate / accumulate /
    summarize: OKS thresholds .50:.05:.95, 20 detections per image, area ranges all / medium /
    large; gts with ``num_keypoints == 0`` are ignored. Same numbers as the official
    file-based path. Inputs are copied (pycocotools adds keys to the dicts it is given).

    Inputs are checked first, since pycocotools accepts a NaN detection as a perfect match and
    a zero area as a scale: every result needs ``image_id`` and ``category_id`` known to
    ``gt_dict``, 3K finite keypoint values and a finite ``score``; every annotation 3K finite
    keypoint values, a finite ``bbox`` and a finite ``area > 0``. A violation is a ValueError
    naming ``results[i]`` / ``gt_dict['annotations'][i]`` and the field (for results read with
    ``json.load``, where Python writes NaN as ``NaN``, too).

    Args:
        gt_dict: from ``coco_gt_dict`` (or a loaded ``person_keypoints_*.json``).
        results: from ``coco_results`` (or a loaded results file).
        sigmas: ``(K,)`` OKS constants σ_k = κ_k / 2, default COCO-17's.
        verbose: print pycocotools' output (the 10-line summary); captured otherwise.
    Returns:
        ``{"AP", "AP50", "AP75", "APm", "APl", "AR", "AR50", "AR75", "ARm", "ARl"}``, floats in
        [0, 1]; -1 where no gt falls in that area range (pycocotools' convention).
    """
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    sig = _sigmas(sigmas)
    _check_results(results, *_check_gt(gt_dict, sig.size), sig.size)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        coco_gt = COCO()
        coco_gt.dataset = copy.deepcopy(gt_dict)
        coco_gt.createIndex()
        coco_dt = coco_gt.loadRes(copy.deepcopy(results))
        ev = COCOeval(coco_gt, coco_dt, iouType="keypoints")
        ev.params.kpt_oks_sigmas = sig
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    if verbose:
        print(out.getvalue(), end="")
    return {name: float(v) for name, v in zip(COCO_STAT_NAMES, ev.stats, strict=True)}


__all__ = [
    "COCO_SIGMAS",
    "PCKResult",
    "PCKhResult",
    "PCPResult",
    "auc",
    "bbox_norm",
    "coco_categories",
    "coco_gt_dict",
    "coco_results",
    "joint_errors",
    "mpii_headsize",
    "mpjpe",
    "oks",
    "oks_ap",
    "pck",
    "pck_curve",
    "pckh",
    "pckh_curve",
    "pcp",
    "procrustes_align",
    "torso_norm",
]
