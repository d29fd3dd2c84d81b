"""Lesson 00's checks pass student-style solutions, FAIL a stub that calls posekit's own
implementation, and catch the classic mistakes with the right hint."""

import numpy as np
import pytest
from test_checks import forbidden_call_tests

from posekit import checks, metrics, skeletons
from posekit.checks import lesson00 as L
from posekit.datasets import transforms


@pytest.fixture(autouse=True)
def student_mode(monkeypatch):
    monkeypatch.setenv("POSEKIT_CHECK_MODE", "student")
    checks.reset()


def _zero_unlabelled(kp, out):
    return np.where(np.asarray(kp)[..., 2:] > 0, out, 0).astype(np.float32)


def flip_without_swap(kp, width, skeleton):
    out = np.array(kp, np.float32)
    out[..., 0] = width - 1 - out[..., 0]
    return _zero_unlabelled(kp, out)


def flip_width_not_width_minus_one(kp, width, skeleton):
    out = np.array(kp, np.float32)
    out[..., 0] = width - out[..., 0]
    perm = skeletons.get_skeleton(skeleton).flip_permutation()
    return _zero_unlabelled(kp, out)[..., perm, :]


def crop_with_half_pixel_bias(kp, center, scale, size):
    out = np.array(kp, np.float32)
    out[..., :2] = (out[..., :2] - np.asarray(center)) * size / (scale * 200) + size / 2
    return _zero_unlabelled(kp, out)


def pckh_without_head_factor(pred, gt, boxes, alpha=0.5):
    dist = np.linalg.norm(pred - gt[..., :2], axis=-1)
    head = np.linalg.norm(boxes[:, 1] - boxes[:, 0], axis=-1)
    labelled = gt[..., 2] > 0
    return 100 * ((dist <= alpha * head[:, None]) & labelled).sum(0) / labelled.sum(0)


def _pckh_hits(pred, gt, boxes, alpha):
    dist = np.linalg.norm(pred - gt[..., :2], axis=-1)
    head = 0.6 * np.linalg.norm(boxes[:, 1] - boxes[:, 0], axis=-1)
    return dist <= alpha * head[:, None]


def pckh_over_all_joints(pred, gt, boxes, alpha=0.5):
    labelled = gt[..., 2] > 0
    return 100 * (_pckh_hits(pred, gt, boxes, alpha) & labelled).sum(0) / gt.shape[0]


def pckh_plain_mean(pred, gt, boxes, alpha=0.5):
    return 100 * _pckh_hits(pred, gt, boxes, alpha).mean(0)


# --------------------------------------------------------------- student-style solutions


def flip_keypoints(keypoints, width, skeleton):
    perm = skeletons.get_skeleton(skeleton).flip_permutation()  # an allowed posekit helper
    out = np.array(keypoints, dtype=np.float32, copy=True)
    labelled = out[..., 2:] > 0
    out[..., 0] = width - 1 - out[..., 0]
    return np.where(labelled, out, np.float32(0))[..., perm, :]


def crop_keypoints(keypoints, center, scale, size):
    out = np.array(keypoints, dtype=np.float32, copy=True)
    zoom = size / (200.0 * scale)
    mapped = (out[..., :2] - np.asarray(center, np.float32)) * zoom + (size - 1) / 2
    out[..., :2] = np.where(out[..., 2:] > 0, mapped, out[..., :2])
    return out


def pckh_per_joint(pred, gt, headboxes, alpha=0.5):
    gt = np.asarray(gt, np.float64)
    boxes = np.asarray(headboxes, np.float64)
    headsize = 0.6 * np.linalg.norm(boxes[:, 1] - boxes[:, 0], axis=-1)
    error = np.linalg.norm(np.asarray(pred, np.float64)[..., :2] - gt[..., :2], axis=-1)
    labelled = gt[..., 2] > 0
    correct = (error <= alpha * headsize[:, None]) & labelled
    with np.errstate(invalid="ignore", divide="ignore"):
        return 100.0 * correct.sum(axis=0) / labelled.sum(axis=0)


SOLUTIONS = {
    "flip_keypoints": flip_keypoints,
    "crop_keypoints": crop_keypoints,
    "pckh_per_joint": pckh_per_joint,
}


def test_student_style_solutions_pass():
    for name, solution in SOLUTIONS.items():
        assert getattr(L, f"check_{name}")(solution).status == "PASS", name


# --------------------------------------------------------- calling posekit's own implementation

POSEKIT_STUBS = [
    (
        "flip_keypoints",
        lambda kp, width, skeleton: skeletons.flip_keypoints(kp, width, skeleton),
        "posekit.skeletons.flip_keypoints",
    ),
    (
        "flip_keypoints",
        lambda kp, width, skeleton: transforms.flip_keypoints(kp, width, skeleton),
        "posekit.datasets.transforms.flip_keypoints",
    ),
    (
        "crop_keypoints",
        lambda kp, center, scale, size: transforms.transform_keypoints(
            kp, transforms.affine_matrix(center, (scale, scale), 0.0, (size, size))
        ),
        "posekit.geometry.affine_matrix",
    ),
    (
        "pckh_per_joint",
        lambda pred, gt, boxes, alpha=0.5: metrics.pckh(pred, gt, boxes, alpha=alpha).per_joint,
        "posekit.metrics.pckh",
    ),
]


(
    test_every_exercise_is_covered,
    test_a_stub_calling_the_reference_fails,
    test_a_stub_calling_posekits_function_fails,
) = forbidden_call_tests(L, SOLUTIONS, POSEKIT_STUBS)


@pytest.mark.parametrize(
    "check,wrong,hint",
    [
        (L.check_flip_keypoints, flip_without_swap, "not swapped"),
        (L.check_flip_keypoints, flip_width_not_width_minus_one, "W - 1 - x"),
        (L.check_crop_keypoints, crop_with_half_pixel_bias, "half a pixel"),
        (L.check_pckh_per_joint, pckh_without_head_factor, "0.6 x the diagonal"),
        (L.check_pckh_per_joint, pckh_over_all_joints, "counted in the denominator"),
        (L.check_pckh_per_joint, pckh_plain_mean, "average over labelled joints only"),
    ],
)
def test_classic_mistakes_fail_with_their_hint(check, wrong, hint, capsys):
    result = check(wrong)
    assert result.status == "FAIL"
    assert hint in capsys.readouterr().out


def test_a_handwritten_crop_matches_the_reference():
    kp = np.zeros((1, 17, 3), np.float32)
    kp[0, 0] = (100 + 100, 50, 2)  # the right edge of a 200-px box centred at (100, 50)
    out = L.reference_crop_keypoints(kp, (100.0, 50.0), 1.0, 64)
    # 100 px right of the centre = half the box = 32 crop px right of 31.5
    np.testing.assert_allclose(out[0, 0], [63.5, 31.5, 2])


def test_use_falls_back_to_the_reference_for_a_stub(capsys):
    def stub(*args):
        raise NotImplementedError

    assert L.check_flip_keypoints(stub).status == "TODO"
    assert checks.use(stub, "flip_keypoints") is L.reference_flip_keypoints
    assert "reference" in capsys.readouterr().out
