"""Hostile inputs to the COCO metrics (issue 12, item 2): non-finite detections, JSON-read
results, impossible areas. pycocotools is the independent reference for the OKS values."""

from __future__ import annotations

import json

import numpy as np
import pytest
from pycocotools.cocoeval import COCOeval

from posekit import metrics as M

NAN, INF = float("nan"), float("inf")


def _fixture():
    """2 images x 2 fully labelled people, their COCO gt dict and perfect results."""
    rng = np.random.default_rng(3)
    kp = np.zeros((4, 17, 3))
    boxes = [(100, 50, 150, 300), (400, 100, 50, 80), (60, 40, 200, 350), (300, 300, 60, 70)]
    for i, (x, y, w, h) in enumerate(boxes):
        kp[i, :, 0] = x + rng.uniform(0, w, 17)
        kp[i, :, 1] = y + rng.uniform(0, h, 17)
        kp[i, :, 2] = 2
    gt = M.coco_gt_dict(kp, image_sizes=(480, 640), image_ids=[1, 1, 2, 2])
    results = M.coco_results(kp, scores=[0.9, 0.8, 0.7, 0.6], image_ids=[1, 1, 2, 2])
    return kp, gt, results


def _json_copy(x):
    """A round trip through a results/annotation file: Python writes NaN and Infinity."""
    return json.loads(json.dumps(x))


def _pycocotools_oks(gt, dt, area):
    """pycocotools' ``computeOks`` of one (gt, dt) pair, ``(17, 3)`` arrays."""
    ev = COCOeval(iouType="keypoints")
    ev._gts[1, 1] = [{"keypoints": gt.ravel().tolist(), "area": area, "bbox": [0, 0, 1, 1]}]
    ev._dts[1, 1] = [{"keypoints": dt.ravel().tolist(), "score": 1.0}]
    return float(ev.computeOks(1, 1)[0, 0])


# ----------------------------------------------------------------------------- oks_ap: results


def test_all_nan_detections_are_rejected_not_scored_perfect():
    _, gt, results = _fixture()
    nan_results = [dict(r, keypoints=[NAN] * 51) for r in results]
    with pytest.raises(ValueError, match=r"results\[0\]: keypoints\[0\] \(joint 0 x\) is nan"):
        M.oks_ap(gt, nan_results)


@pytest.mark.parametrize(
    ("index", "value", "where"),
    [
        (3, NAN, r"keypoints\[3\] \(joint 1 x\) is nan"),
        (7, INF, r"keypoints\[7\] \(joint 2 y\) is inf"),
        (48, -INF, r"keypoints\[48\] \(joint 16 x\) is -inf"),
        (50, NAN, r"keypoints\[50\] \(joint 16 v\) is nan"),
    ],
)
@pytest.mark.parametrize("via_json", [False, True])
def test_one_non_finite_keypoint_names_result_index_and_field(index, value, where, via_json):
    _, gt, results = _fixture()
    results[2]["keypoints"][index] = value
    if via_json:  # a results file written by json.dump holds NaN / Infinity literally
        text = json.dumps(results)
        assert "NaN" in text or "Infinity" in text
        results = json.loads(text)
    with pytest.raises(ValueError, match=r"results\[2\]: " + where):
        M.oks_ap(gt, results)


@pytest.mark.parametrize("score", [NAN, INF, -INF, None, "0.9", [0.9]])
def test_bad_score_names_result_index_and_field(score):
    _, gt, results = _fixture()
    results = _json_copy(results)
    results[1]["score"] = score
    with pytest.raises(ValueError, match=r"results\[1\]: score"):
        M.oks_ap(gt, results)


@pytest.mark.parametrize(
    "keypoints",
    [None, "1 2 3", [None] * 51, ["1.0"] * 51, np.zeros((17, 3)).tolist(), [True] * 51],
)
def test_non_numeric_keypoints_are_a_clear_error(keypoints):
    _, gt, results = _fixture()
    results[0] = dict(results[0], keypoints=keypoints)
    with pytest.raises(ValueError, match=r"results\[0\]: keypoints"):
        M.oks_ap(gt, results)


def test_malformed_result_entries_are_clear_errors():
    _, gt, results = _fixture()
    with pytest.raises(ValueError, match=r"results\[1\]: expected a dict"):
        M.oks_ap(gt, [results[0], list(results[1].values())])
    with pytest.raises(ValueError, match=r"results\[0\]: image_id"):
        M.oks_ap(gt, [dict(results[0], image_id=[1])])
    no_cat = [{k: v for k, v in r.items() if k != "category_id"} for r in results]
    with pytest.raises(ValueError, match=r"results\[0\]: missing keys \['category_id'\]"):
        M.oks_ap(gt, no_cat)
    # pycocotools silently drops a detection of a category the gt does not have.
    with pytest.raises(ValueError, match=r"results\[3\]: category_id 2"):
        M.oks_ap(gt, [*results[:3], dict(results[3], category_id=2)])


def test_valid_numpy_values_in_results_are_accepted():
    _, gt, results = _fixture()
    as_numpy = [dict(r, keypoints=np.asarray(r["keypoints"]), score=np.float32(r["score"]),
                     image_id=np.int64(r["image_id"])) for r in results]  # fmt: skip
    assert M.oks_ap(gt, as_numpy) == {name: 1.0 for name in M.COCO_STAT_NAMES}


# ----------------------------------------------------------------------------- oks_ap: gt


@pytest.mark.parametrize("area", [0.0, -50.0, NAN, INF, None, "big"])
def test_gt_annotation_area_must_be_finite_and_positive(area):
    _, gt, results = _fixture()
    gt = _json_copy(gt)
    gt["annotations"][1]["area"] = area
    with pytest.raises(ValueError, match=r"gt_dict\['annotations'\]\[1\] \(id 2\): area"):
        M.oks_ap(gt, results)


def test_gt_annotation_missing_field_or_nan_keypoint_is_named():
    _, gt, results = _fixture()
    missing = _json_copy(gt)
    del missing["annotations"][3]["area"]
    with pytest.raises(ValueError, match=r"\['annotations'\]\[3\] \(id 4\): missing keys \['area'"):
        M.oks_ap(missing, results)
    bad = _json_copy(gt)
    bad["annotations"][2]["keypoints"][4] = NAN
    with pytest.raises(ValueError, match=r"\[2\] \(id 3\): keypoints\[4\] \(joint 1 y\) is nan"):
        M.oks_ap(_json_copy(bad), results)


@pytest.mark.parametrize("sigmas", [np.zeros(17), -M.COCO_SIGMAS, np.full(17, NAN)])
def test_sigmas_must_be_finite_and_positive(sigmas):
    _, gt, results = _fixture()
    with pytest.raises(ValueError, match="sigmas"):
        M.oks_ap(gt, results, sigmas=sigmas)


# ----------------------------------------------------------------------------- oks()


def test_oks_nan_prediction_is_a_miss_as_pycocotools_scores_a_far_one():
    kp, _, _ = _fixture()
    gt, area = kp[0], 30000.0
    pred = gt.copy()
    pred[:, :2] += np.random.default_rng(0).normal(0, 6, size=(17, 2))
    nan_pred, far_pred = pred.copy(), pred.copy()
    nan_pred[[4, 9], 0] = NAN  # joint 4: x only; joint 9: x and y
    nan_pred[9, 1] = NAN
    far_pred[[4, 9], :2] = 1e9  # what a miss scores in pycocotools: exp(-huge) = 0
    expected = _pycocotools_oks(gt, far_pred, area)
    assert 0 < expected < _pycocotools_oks(gt, pred, area)
    assert M.oks(nan_pred, gt, area) == pytest.approx(expected, rel=1e-12)
    # the hand-computed form: the mean over 17 joints with two terms zero
    e = ((pred[:, :2] - gt[:, :2]) ** 2).sum(1) / (2 * M.COCO_SIGMAS) ** 2 / area / 2
    hand = np.where(np.isin(np.arange(17), [4, 9]), 0.0, np.exp(-e)).sum() / 17
    assert M.oks(nan_pred, gt, area) == pytest.approx(hand, rel=1e-9)
    both = M.oks(np.stack([np.full((17, 2), NAN), pred[:, :2]]), np.stack([gt, gt]), area)
    assert both[0] == 0.0 and both[1] == pytest.approx(_pycocotools_oks(gt, pred, area))


def test_oks_nan_prediction_for_a_gt_without_labels_is_a_miss():
    pred = np.full((17, 2), 5.0)
    pred[0] = NAN
    out = M.oks(pred, np.zeros((17, 3)), 400.0, bbox=[0, 0, 10, 10])
    assert out == pytest.approx(16 / 17)  # 16 joints inside the doubled box, one miss


@pytest.mark.parametrize("area", [0.0, -100.0, NAN, INF, "big"])
def test_oks_area_must_be_finite_and_positive(area):
    kp, _, _ = _fixture()
    with pytest.raises(ValueError, match=r"area"):
        M.oks(kp[0], kp[0], area)
    where = "expected a number" if isinstance(area, str) else "sample 1"
    with pytest.raises(ValueError, match=rf"area: {where}"):
        M.oks(kp[:2], kp[:2], [100.0, area])


def test_oks_labelled_gt_must_be_finite():
    kp, _, _ = _fixture()
    gt = kp[:2].copy()
    gt[1, 5, 1] = NAN
    with pytest.raises(ValueError, match="gt: labelled joint 5 of sample 1"):
        M.oks(kp[:2], gt, 1000.0)
    gt[1, 5] = NAN  # a NaN visibility is not "unlabelled"
    with pytest.raises(ValueError, match="gt: joint 5 of sample 1 has visibility v = nan"):
        M.oks(kp[:2], gt, 1000.0)


def test_coco_builders_reject_impossible_areas_scores_and_boxes():
    kp, _, _ = _fixture()
    for areas in ([1.0, 0.0, 1.0, 1.0], [1.0, 1.0, -5.0, 1.0], [NAN, 1.0, 1.0, 1.0]):
        with pytest.raises(ValueError, match=r"areas: person \d"):
            M.coco_gt_dict(kp, (480, 640), areas=areas)
    with pytest.raises(ValueError, match=r"bboxes: person 0"):
        M.coco_gt_dict(kp, (480, 640), bboxes=np.full((4, 4), NAN))
    with pytest.raises(ValueError, match=r"scores: detection 2"):
        M.coco_results(kp, [1.0, 1.0, NAN, 1.0], [1, 1, 2, 2])
