"""Checks for lesson 00 "Keypoints, datasets and metrics".

Exercise 0.1 ``flip_keypoints``, 0.2 ``crop_keypoints``, 0.3 ``pckh_per_joint``. Each check
compares the student's function with posekit's reference on small cases first.
"""

from __future__ import annotations

import numpy as np

from posekit import metrics, skeletons
from posekit.checks import Case, check_function, register_reference
from posekit.checks.diagnose import close
from posekit.datasets import transforms


def _people(seed: int, n: int, k: int, width: int, height: int) -> np.ndarray:
    """``(n, k, 3)`` keypoints on a quarter-pixel grid with some v=0 and v=1 joints."""
    rng = np.random.default_rng(seed)
    kp = np.zeros((n, k, 3), np.float32)
    kp[..., 0] = rng.integers(0, 4 * width, (n, k)) / 4
    kp[..., 1] = rng.integers(0, 4 * height, (n, k)) / 4
    kp[..., 2] = rng.choice([0, 1, 2, 2, 2], (n, k))
    kp[kp[..., 2] == 0, :2] = 0
    return kp


# ----------------------------------------------------------------- Exercise 0.1


def reference_flip_keypoints(keypoints, width, skeleton):
    """Mirror ``(N, K, 3)`` keypoints in an image ``width`` px wide, swapping left/right."""
    return skeletons.flip_keypoints(keypoints, width, skeleton)


def check_flip_keypoints(fn):
    """Exercise 0.1: x -> width - 1 - x, left/right joints swapped, v=0 joints stay zero."""
    one = np.zeros((1, 17, 3), np.float32)
    one[0, 9] = (10, 20, 2)  # left wrist only
    cases = [
        Case((one, 64, "coco17"), label="one labelled left wrist, 64 px wide"),
        Case((_people(1, 1, 17, 64, 48), 64, "coco17"), label="one COCO person"),
        Case((_people(2, 3, 16, 100, 80), 100, "mpii16"), label="three MPII people"),
        Case((_people(3, 2, 13, 384, 288), 384, "sphp13"), label="two SPHP people"),
    ]
    return check_function(
        fn,
        "flip_keypoints",
        cases,
        reference=reference_flip_keypoints,
        forbid=(skeletons.flip_keypoints, transforms.flip_keypoints),
        diagnoses=["flip_without_swap", "off_by_one", "half_pixel", "unlabelled_moved"],
        atol=1e-4,
        skeleton="coco17",
    )


# ----------------------------------------------------------------- Exercise 0.2


def reference_crop_keypoints(keypoints, center, scale, size):
    """Map image keypoints into a ``size × size`` crop of the square box ``scale * 200`` px
    wide centred on ``center`` (MPII's scale convention, no rotation)."""
    matrix = transforms.affine_matrix(center, (scale, scale), 0.0, (size, size))
    return transforms.transform_keypoints(keypoints, matrix)


def check_crop_keypoints(fn):
    """Exercise 0.2: the affine crop of keypoints, pixel centres at integer coordinates."""
    centre_only = np.zeros((1, 17, 3), np.float32)
    centre_only[0, 0] = (100, 50, 2)
    cases = [
        Case((centre_only, (100.0, 50.0), 1.0, 64), label="a joint at the box centre"),
        Case((_people(4, 1, 17, 300, 300), (150.0, 140.0), 1.0, 64), label="one person"),
        Case((_people(5, 2, 16, 500, 400), (250.0, 200.0), 1.6, 128), label="zoom out"),
        Case((_people(6, 3, 17, 200, 200), (90.0, 110.0), 0.5, 256), label="zoom in"),
    ]
    return check_function(
        fn,
        "crop_keypoints",
        cases,
        reference=reference_crop_keypoints,
        forbid=(transforms.affine_matrix, transforms.transform_keypoints),
        diagnoses=["half_pixel", "xy_swapped", "unlabelled_moved", "off_by_one"],
        atol=1e-3,
    )


# ----------------------------------------------------------------- Exercise 0.3


def reference_pckh_per_joint(pred, gt, headboxes, alpha=0.5):
    """Per-joint PCKh@alpha in % (MPII protocol; NaN for a joint never labelled)."""
    return metrics.pckh(pred, gt, headboxes, alpha=alpha).per_joint


def _pckh_case(seed: int, n: int, noise: float, head: float):
    rng = np.random.default_rng(seed)
    gt = _people(seed, n, 16, 200, 200)
    gt[:, :, 2] = np.where(rng.random((n, 16)) < 0.15, 0, 2)
    gt[:, 0, 2] = 2  # every joint labelled at least once
    gt[gt[..., 2] == 0, :2] = 0
    pred = gt[..., :2] + rng.normal(0, noise, (n, 16, 2)).astype(np.float32)
    x1y1 = rng.uniform(20, 150, (n, 2))
    boxes = np.stack([x1y1, x1y1 + head], axis=1).astype(np.float32)
    return pred.astype(np.float32), gt, boxes


def _pckh_head_factor_hint(expected, got, inputs=None, **ctx):
    """Fires when the student's PCKh used the plain head-box diagonal (no 0.6 factor)."""
    if inputs is None:
        return None
    pred, gt, boxes, alpha = inputs
    diagonal = np.linalg.norm(boxes[:, 1] - boxes[:, 0], axis=-1)
    wrong = reference_pckh_per_joint(pred, gt, boxes, alpha=alpha / metrics.MPII_SC_BIAS)
    if np.allclose(got, wrong, equal_nan=True) and not np.allclose(expected, wrong, equal_nan=True):
        return (
            "Your threshold uses the whole head-box diagonal. MPII's head size is "
            f"0.6 x the diagonal (here about {0.6 * diagonal.mean():.1f} px, not "
            f"{diagonal.mean():.1f} px)."
        )
    return None


def _pckh_denominator_hint(expected, got, inputs=None, **ctx):
    """Fires when the student averaged over all N people, unlabelled joints included (whether
    or not those joints were also counted as hits)."""
    if inputs is None or got.shape != expected.shape:
        return None
    pred, gt, boxes, alpha = inputs
    labelled = (gt[..., 2] > 0).sum(0)
    n = gt.shape[0]
    every_joint = gt.copy()
    every_joint[..., 2] = 2  # the unlabelled (0, 0) positions judged like labelled joints
    mistakes = (
        np.nan_to_num(expected) * labelled / n,  # hits among labelled joints, divided by N
        reference_pckh_per_joint(pred, every_joint, boxes, alpha=alpha),  # a plain mean over N
    )
    for wrong in mistakes:
        if close(got, wrong, ctx) and not close(wrong, expected, ctx):
            return (
                "unlabelled joints (v = 0) counted in the denominator: average over labelled "
                "joints only (per joint: correct labelled joints / labelled joints)."
            )
    return None


def _unlabelled_case():
    """4 people; joints 3 and 7 unlabelled in two of them, predicted far from (0, 0) there."""
    pred, gt, boxes = _pckh_case(10, 4, 4.0, 40.0)
    gt[..., 2] = 2
    gt[1:3, [3, 7], :] = 0
    pred[1:3, [3, 7]] = (150.0, 150.0)
    return pred, gt, boxes


def _inputs(pred, gt, boxes, alpha=0.5):
    return {"inputs": (pred.copy(), gt.copy(), boxes.copy(), alpha)}


def check_pckh_per_joint(fn):
    """Exercise 0.3: PCKh per joint, only labelled joints counted, threshold on 0.6 x diag."""
    p1, g1, b1 = _pckh_case(7, 1, 10.0, 40.0)
    g1[0, :, 2] = 2
    p2, g2, b2 = _pckh_case(8, 8, 12.0, 40.0)
    p3, g3, b3 = _pckh_case(9, 20, 6.0, 30.0)
    p4, g4, b4 = _unlabelled_case()
    cases = [
        Case((p1, g1, b1), label="one person, all joints labelled", ctx=_inputs(p1, g1, b1)),
        Case(
            (p4, g4, b4),
            label="4 people, joints 3 and 7 unlabelled (v = 0) in two of them",
            ctx=_inputs(p4, g4, b4),
        ),
        Case((p2, g2, b2), label="8 people, some unlabelled", ctx=_inputs(p2, g2, b2)),
        Case(
            (p3, g3, b3), {"alpha": 0.1}, label="20 people, alpha 0.1", ctx=_inputs(p3, g3, b3, 0.1)
        ),
    ]
    return check_function(
        fn,
        "pckh_per_joint",
        cases,
        reference=reference_pckh_per_joint,
        forbid=(metrics.pckh, metrics.pckh_curve),
        diagnoses=[_pckh_head_factor_hint, _pckh_denominator_hint, "wrong_scale"],
        atol=1e-3,
    )


register_reference("flip_keypoints", reference_flip_keypoints)
register_reference("crop_keypoints", reference_crop_keypoints)
register_reference("pckh_per_joint", reference_pckh_per_joint)
