"""Tests of posekit.metrics against hand-computed numbers and pycocotools itself."""

from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pytest
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from posekit import metrics as M

# ----------------------------------------------------------------------------- PCKh (MPII)


def _mpii_two_people():
    """2 people, MPII-16; errors along x only, so every distance is exact.

    Person A: head box 30 x 40 -> diagonal 50 -> headsize 30 -> 0.5 * 30 = 15 px (0.1: 3 px).
    Person B: head box 60 x 80 -> diagonal 100 -> headsize 60 -> 30 px (0.1: 6 px).
    """
    gt = np.zeros((2, 16, 3), np.float32)
    gt[:, :, 0] = np.arange(16) * 10.0 + 100.0
    gt[:, :, 1] = 200.0
    gt[:, :, 2] = 2
    gt[1, 15] = (0, 0, 0)  # B's left wrist is not labelled
    offset = np.zeros((2, 16))
    offset[0, [0, 5, 6, 7, 9]] = [10, 20, 100, 100, 2]  # A: ankle r ok, ankle l miss, pelv/thor
    offset[1, [0, 5, 9, 10, 15]] = [40, 25, 5, 31, 1000]  # B: r ankle miss, l ankle ok, r wrist
    pred = gt[..., :2].copy()
    pred[..., 0] += offset
    headboxes = np.array([[[0, 0], [30, 40]], [[10, 10], [70, 90]]], np.float64)
    return pred, gt, headboxes


def test_pckh_hand_computed():
    pred, gt, headboxes = _mpii_two_people()
    r = M.pckh(pred, gt, headboxes)
    expected = np.full(16, 100.0)
    expected[[0, 5, 6, 7, 10]] = 50.0  # one of two people wrong each
    np.testing.assert_allclose(r.per_joint, expected)
    counts = np.full(16, 2)
    counts[15] = 1  # the missing joint is not counted (not counted as wrong either)
    np.testing.assert_array_equal(r.counts, counts)
    assert r.groups == pytest.approx(
        {
            "Head": 100.0,
            "Shoulder": 100.0,
            "Elbow": 100.0,
            "Wrist": 75.0,  # 0.5 * (l wrist 100 + r wrist 50)
            "Hip": 100.0,
            "Knee": 100.0,
            "Ankle": 50.0,
        }
    )
    # 14 joints without pelvis/thorax: 2 * 14 - 1 missing = 27 labelled, 3 wrong.
    assert r.mean == pytest.approx(100.0 * 24 / 27)
    # alpha 0.1: A wrong at r ankle, l ankle (2); B wrong at r/l ankle and r wrist (3).
    assert r.mean_at_0_1 == pytest.approx(100.0 * 22 / 27)
    table = r.table()
    assert "| Head | Shoulder | Elbow | Wrist | Hip | Knee | Ankle | Mean | Mean@0.1 |" in table
    assert "88.889" in table and "81.481" in table
    assert "| mymodel " in r.table("mymodel")


def test_pckh_headboxes_as_x1y1x2y2_and_ignores_visible_false():
    pred, gt, headboxes = _mpii_two_people()
    r4 = M.pckh(pred, gt, headboxes.reshape(2, 4))
    assert r4.mean == pytest.approx(100.0 * 24 / 27)
    visible = np.ones((2, 16), bool)
    visible[1, 0] = False  # hide B's wrong right ankle: 26 evaluated, 2 wrong
    assert M.pckh(pred, gt, headboxes, visible=visible).mean == pytest.approx(100.0 * 24 / 26)


def test_pckh_perfect_is_100_and_curve_auc():
    _, gt, headboxes = _mpii_two_people()
    r = M.pckh(gt[..., :2], gt, headboxes)
    assert r.mean == 100.0 and r.mean_at_0_1 == 100.0
    t, v = M.pckh_curve(gt[..., :2], gt, headboxes)
    assert t.shape == (51,) and t[0] == 0.0 and t[-1] == pytest.approx(0.5)
    assert M.auc(t, v) == pytest.approx(100.0)


def test_pckh_curve_matches_pckh_at_each_threshold():
    pred, gt, headboxes = _mpii_two_people()
    t, v = M.pckh_curve(pred, gt, headboxes, thresholds=[0.1, 0.5])
    assert v[0] == pytest.approx(100.0 * 22 / 27) and v[1] == pytest.approx(100.0 * 24 / 27)


# ----------------------------------------------------------------------------- PCK / PCP


def _lsp_two_people():
    """LSP-14. Torso = L shoulder (9) to R hip (2): A 50 px (3-4-5), B 100 px."""
    gt = np.zeros((2, 14, 3), np.float32)
    gt[:, :, 0] = np.arange(14) * 7.0
    gt[:, :, 1] = 300.0
    gt[:, :, 2] = 2
    gt[0, 9, :2], gt[0, 2, :2] = (100, 100), (130, 140)
    gt[1, 9, :2], gt[1, 2, :2] = (0, 0), (0, 100)
    gt[1, 13] = (0, 0, 0)  # B's head top is not labelled
    pred = gt[..., :2].copy()
    pred[0, 0, 0] += 9  # <= 0.2 * 50 = 10: correct
    pred[0, 1, 1] += 11  # wrong
    pred[1, 0, 0] += 11  # <= 0.2 * 100 = 20: correct
    pred[1, 1, 1] -= 21  # wrong
    pred[1, 13] = (999, 999)  # unlabelled: ignored
    return pred, gt


def test_torso_norm_and_pck_hand_computed():
    pred, gt = _lsp_two_people()
    norm = M.torso_norm(gt, "lsp14")
    np.testing.assert_allclose(norm, [50.0, 100.0])
    r = M.pck(pred, gt, norm, alpha=0.2)
    assert r.per_joint[0] == 100.0 and r.per_joint[1] == 0.0
    assert r.counts.tolist() == [2] * 13 + [1]
    assert r.mean == pytest.approx(100.0 * 25 / 27)
    # A fixed 10 px normaliser makes B's 11 px error wrong: the per-sample norm matters.
    assert M.pck(pred, gt, [50.0, 50.0]).mean == pytest.approx(100.0 * 24 / 27)


def test_pck_curve_and_unlabelled_torso():
    pred, gt = _lsp_two_people()
    t, v = M.pck_curve(pred, gt, M.torso_norm(gt))
    assert t.shape == (21,) and t[-1] == pytest.approx(0.2)
    assert v[-1] == pytest.approx(100.0 * 25 / 27) and v[0] < v[-1]
    gt[1, 9, 2] = 0  # B's L shoulder unlabelled -> no torso -> clear error, not a silent NaN
    norm = M.torso_norm(gt)
    assert np.isnan(norm[1])
    with pytest.raises(ValueError, match="norm"):
        M.pck(pred, gt, norm)
    visible = np.ones((2, 14), bool)
    visible[1] = False  # excluding sample B explicitly is fine
    assert M.pck(pred, gt, norm, visible=visible).counts.sum() == 14


def test_pck_threshold_is_inclusive():
    gt = np.array([[[0, 0, 2], [0, 0, 2]]], np.float64)
    pred = np.array([[[10, 0], [10.001, 0]]])  # 10 / 50 == alpha exactly: correct
    assert M.pck(pred, gt, [50.0], alpha=0.2).per_joint.tolist() == [100.0, 0.0]


def test_bbox_norm_is_longer_side_of_labelled_joints():
    gt = np.zeros((2, 4, 3))
    gt[0] = [[10, 20, 2], [50, 100, 1], [30, 40, 2], [500, 500, 0]]
    gt[1, :, 2] = 0
    norm = M.bbox_norm(gt)
    assert norm[0] == 80.0 and np.isnan(norm[1])


def test_pcp_strict_hand_computed():
    gt = np.zeros((2, 3, 3))
    gt[:, :, 2] = 2
    gt[:, :, 1] = [0, 100, 160]  # limb (0,1): 100 px -> 50; limb (1,2): 60 px -> 30
    gt[1, 2, 2] = 0  # person 2: limb (1,2) not evaluated
    pred = gt[..., :2].copy()
    pred[0, :, 0] += [40, 35, 10]  # limb0 both ends ok; limb1: end 1 is 35 > 30 -> wrong
    r = M.pcp(pred, gt, [(0, 1), (1, 2)])
    np.testing.assert_allclose(r.per_limb, [100.0, 0.0])
    assert r.counts.tolist() == [2, 1]
    assert r.mean == pytest.approx(100.0 * 2 / 3)
    assert M.pcp(pred, gt, [(0, 1), (1, 2)], alpha=0.6).per_limb[1] == 100.0  # 35 <= 36


# ----------------------------------------------------------------------------- AUC


def test_auc_of_linear_and_constant_curves():
    t = np.linspace(0, 0.5, 51)
    assert M.auc(t, 200 * t) == pytest.approx(50.0)  # 0 -> 100 linearly: mean height 50
    assert M.auc([0.1, 0.2, 0.3], [0.1, 0.2, 0.3]) == pytest.approx(0.2)  # normalised by range
    assert M.auc([0, 1], [7, 7]) == pytest.approx(7.0)
    with pytest.raises(ValueError, match="thresholds"):
        M.auc([0.2, 0.1], [1, 2])
    with pytest.raises(ValueError, match="values"):
        M.auc([0.1, 0.2], [1, 2, 3])


# ----------------------------------------------------------------------------- MPJPE


def test_mpjpe_2d_hand_computed_uses_v():
    gt = np.array([[[10, 10, 2], [20, 20, 1], [30, 30, 0]]], np.float32)
    pred = np.array([[[13, 14], [20, 20], [900, 900]]], np.float32)  # errors 5, 0, (ignored)
    assert M.mpjpe(pred, gt, dims=2) == pytest.approx(2.5)
    e = M.joint_errors(pred, gt, dims=2)
    assert e[0, :2].tolist() == [5.0, 0.0] and np.isnan(e[0, 2])


def test_mpjpe_3d_hand_computed_and_root():
    gt = np.zeros((2, 3, 3))
    gt[:, :, 0] = [0.0, 0.1, 0.2]
    pred = gt.copy()
    pred[0, 1, 2] += 0.01  # 1 cm
    pred[1, 2, 2] += 0.03  # 3 cm
    assert M.mpjpe(pred, gt, dims=3) == pytest.approx(0.04 / 6)
    shifted = gt + np.array([0.3, 0.4, 0.0])  # 0.5 m everywhere
    assert M.mpjpe(shifted, gt, dims=3) == pytest.approx(0.5)
    assert M.mpjpe(shifted, gt, dims=3, align="root") == pytest.approx(0.0, abs=1e-12)
    visible = np.ones((2, 3), bool)
    visible[1, 2] = False
    assert M.mpjpe(pred, gt, dims=3, visible=visible) == pytest.approx(0.01 / 5)


def _rotation(rng) -> np.ndarray:
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    return q if np.linalg.det(q) > 0 else -q


def _p_mpjpe_reference(pred: np.ndarray, gt: np.ndarray) -> float:
    """Independent per-sample PA-MPJPE: normalise both, SVD, reflection fix (VideoPose3D)."""
    errs = []
    for p, g in zip(pred, gt, strict=True):
        p0, g0 = p - p.mean(0), g - g.mean(0)
        np_, ng = np.linalg.norm(p0), np.linalg.norm(g0)
        u, s, vt = np.linalg.svd((g0 / ng).T @ (p0 / np_))
        v = vt.T
        r = v @ u.T
        if np.linalg.det(r) < 0:
            v[:, -1] *= -1
            s[-1] *= -1
            r = v @ u.T
        a = s.sum() * ng / np_
        aligned = a * p0 @ r + g.mean(0)
        errs.append(np.linalg.norm(aligned - g, axis=-1))
    return float(np.mean(errs))


def test_pa_mpjpe_zero_for_similarity_copy_and_positive_otherwise():
    rng = np.random.default_rng(0)
    gt = rng.normal(size=(4, 15, 3))
    rot = np.stack([_rotation(rng) for _ in range(4)])
    scale = rng.uniform(0.5, 2.0, size=(4, 1, 1))
    pred = scale * gt @ rot.transpose(0, 2, 1) + rng.normal(size=(4, 1, 3))
    assert M.mpjpe(pred, gt, dims=3) > 0.1
    assert M.mpjpe(pred, gt, dims=3, align="procrustes") == pytest.approx(0.0, abs=1e-9)
    mirrored = gt * np.array([-1.0, 1.0, 1.0])  # a reflection is not a rotation
    assert M.mpjpe(mirrored, gt, dims=3, align="procrustes") > 0.1
    noisy = pred + 0.05 * rng.normal(size=pred.shape)
    pa = M.mpjpe(noisy, gt, dims=3, align="procrustes")
    assert pa > 0 and pa == pytest.approx(_p_mpjpe_reference(noisy, gt), rel=1e-9)


def test_pa_mpjpe_2d_and_masked_joints():
    rng = np.random.default_rng(1)
    gt = rng.uniform(0, 100, size=(3, 16, 3))
    gt[..., 2] = 2
    gt[0, 4, 2] = 0
    c, s = np.cos(0.3), np.sin(0.3)
    pred = 1.5 * gt[..., :2] @ np.array([[c, -s], [s, c]]).T + 7.0
    pred[0, 4] = (1e4, -1e4)  # unlabelled: neither fits nor counts
    assert M.mpjpe(pred, gt, dims=2, align="procrustes") == pytest.approx(0.0, abs=1e-8)


# ----------------------------------------------------------------------------- OKS


def _coco_oks(gt_kp, dt_kp, area, bbox) -> float:
    """pycocotools' own ``computeOks`` on one (gt, dt) pair."""
    ev = COCOeval(iouType="keypoints")
    gt = {"keypoints": gt_kp.ravel().tolist(), "area": area, "bbox": list(bbox)}
    ev._gts[1, 1] = [gt]
    ev._dts[1, 1] = [{"keypoints": dt_kp.ravel().tolist(), "score": 1.0}]
    return float(ev.computeOks(1, 1)[0, 0])


def test_oks_equals_pycocotools_compute_oks():
    rng = np.random.default_rng(0)
    n = 12
    gt = np.zeros((n, 17, 3))
    gt[..., :2] = rng.uniform(0, 300, size=(n, 17, 2))
    gt[..., 2] = rng.choice([0, 1, 2], size=(n, 17))
    gt[gt[..., 2] == 0, :2] = 0
    gt[0, :, :] = 0  # a gt with no labelled keypoint: pycocotools measures to the box
    pred = gt.copy()
    pred[..., :2] += rng.normal(0, 8, size=(n, 17, 2))
    pred[0, :, :2] = rng.uniform(-200, 500, size=(17, 2))
    area = rng.uniform(500, 40000, size=n)
    bbox = np.column_stack([rng.uniform(0, 100, (n, 2)), rng.uniform(20, 200, (n, 2))])
    ours = M.oks(pred, gt, area, bbox=bbox)
    theirs = [_coco_oks(gt[i], pred[i], area[i], bbox[i]) for i in range(n)]
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=0)
    assert 0 < ours.min() < ours.max() < 1
    assert M.oks(pred[3], gt[3], area[3]) == pytest.approx(theirs[3], rel=1e-12)
    with pytest.raises(ValueError, match="bbox"):
        M.oks(pred, gt, area)  # gt 0 has no labelled keypoint and no box


# ----------------------------------------------------------------------------- COCO AP


def _coco_fixture():
    """2 images x 2 people: one large and one medium person per image; one joint v=0."""
    rng = np.random.default_rng(42)
    kp = np.zeros((4, 17, 3))
    boxes = [(100, 50, 150, 300), (400, 100, 50, 80), (60, 40, 200, 350), (300, 300, 60, 70)]
    for i, (x, y, w, h) in enumerate(boxes):
        kp[i, :, 0] = x + rng.uniform(0, w, 17)
        kp[i, :, 1] = y + rng.uniform(0, h, 17)
        kp[i, :, 2] = rng.choice([1, 2], 17)
    kp[1, 3] = (123.0, 45.0, 0)  # person 1's left ear is not labelled (stray coordinates)
    gt = M.coco_gt_dict(kp, image_sizes=(480, 640), image_ids=[1, 1, 2, 2])
    return kp, gt


def _file_based_stats(gt: dict, results: list, tmp_path) -> dict:
    """The official pycocotools path: JSON files, ``COCO(path)``, ``loadRes(path)``."""
    gt_path, res_path = tmp_path / "gt.json", tmp_path / "res.json"
    gt_path.write_text(json.dumps(gt))
    res_path.write_text(json.dumps(results))
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO(str(gt_path))
        ev = COCOeval(coco, coco.loadRes(str(res_path)), iouType="keypoints")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return dict(zip(M.COCO_STAT_NAMES, map(float, ev.stats), strict=True))


def test_coco_gt_dict_layout():
    kp, gt = _coco_fixture()
    assert [img["id"] for img in gt["images"]] == [1, 2]
    assert gt["images"][0]["width"] == 640 and gt["images"][0]["height"] == 480
    anns = gt["annotations"]
    assert [a["id"] for a in anns] == [1, 2, 3, 4]
    assert [a["num_keypoints"] for a in anns] == [17, 16, 17, 17]
    assert anns[1]["keypoints"][9:12] == [0.0, 0.0, 0]  # COCO writes unlabelled as 0, 0, 0
    lab = np.delete(kp[1], 3, axis=0)  # the box ignores the unlabelled joint
    x0, y0 = lab[:, 0].min(), lab[:, 1].min()
    box = [x0, y0, lab[:, 0].max() - x0, lab[:, 1].max() - y0]
    np.testing.assert_allclose(anns[1]["bbox"], box)
    assert anns[1]["area"] == pytest.approx(box[2] * box[3])
    cat = gt["categories"][0]
    assert cat["keypoints"][0] == "nose" and len(cat["keypoints"]) == 17
    assert cat["skeleton"][0] == [16, 14] and len(cat["skeleton"]) == 19
    areas = [a["area"] for a in anns]
    assert areas[0] > 96**2 and 32**2 < areas[1] < 96**2  # large and medium people
    json.dumps(gt)  # plain Python numbers


def test_oks_ap_perfect_is_one(tmp_path):
    kp, gt = _coco_fixture()
    results = M.coco_results(kp, scores=[0.9, 0.8, 0.7, 0.6], image_ids=[1, 1, 2, 2])
    stats = M.oks_ap(gt, results)
    assert stats == {name: 1.0 for name in M.COCO_STAT_NAMES}


def test_oks_ap_perturbed_matches_pycocotools_file_path(tmp_path, capsys):
    kp, gt = _coco_fixture()
    rng = np.random.default_rng(7)
    pred = kp[..., :2] + rng.normal(0, 4, size=(4, 17, 2))
    results = M.coco_results(pred, scores=[0.9, 0.5, 0.7, 0.8], image_ids=[1, 1, 2, 2])
    stats = M.oks_ap(gt, results)
    assert stats == _file_based_stats(gt, results, tmp_path)  # exactly the same numbers
    assert 0 < stats["AP"] < 1
    assert capsys.readouterr().out == ""  # pycocotools' chatter is captured
    M.oks_ap(gt, results, verbose=True)
    assert "Average Precision" in capsys.readouterr().out
    # The unlabelled joint does not matter, wherever it is predicted.
    results[1]["keypoints"][9:11] = [5000.0, -5000.0]
    assert M.oks_ap(gt, results) == stats


def test_oks_ap_does_not_mutate_inputs():
    kp, gt = _coco_fixture()
    results = M.coco_results(kp, scores=[1, 1, 1, 1], image_ids=[1, 1, 2, 2])
    gt_before, res_before = json.dumps(gt), json.dumps(results)
    M.oks_ap(gt, results)
    assert json.dumps(gt) == gt_before and json.dumps(results) == res_before


# ----------------------------------------------------------------------------- bad input


def test_bad_shapes_name_the_argument():
    pred, gt, hb = _mpii_two_people()
    with pytest.raises(ValueError, match=r"gt: expected shape \(N, 16"):
        M.pckh(pred, gt[:, :15], hb)
    with pytest.raises(ValueError, match="pred"):
        M.pckh(pred[:1], gt, hb)
    with pytest.raises(ValueError, match="headboxes"):
        M.pckh(pred, gt, hb[:, 0])
    with pytest.raises(ValueError, match="visible"):
        M.pckh(pred, gt, hb, visible=np.ones((2, 15), bool))
    with pytest.raises(ValueError, match="norm"):
        M.pck(pred, gt, [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="gt"):
        M.pck(pred[0], gt[0], 1.0)
    with pytest.raises(ValueError, match="limbs"):
        M.pcp(pred, gt, [(0, 16)])
    with pytest.raises(ValueError, match="dims"):
        M.mpjpe(pred, gt, dims=4)
    with pytest.raises(ValueError, match="gt"):
        M.mpjpe(np.zeros((2, 5, 2)), np.zeros((2, 5, 2)), dims=3)
    with pytest.raises(ValueError, match="align"):
        M.mpjpe(pred, gt, dims=2, align="rigid")
    with pytest.raises(ValueError, match="sigmas"):
        M.oks(np.zeros((16, 2)), np.ones((16, 3)), 100.0)
    with pytest.raises(ValueError, match="area"):
        M.oks(np.zeros((2, 17, 2)), np.ones((2, 17, 3)), [1.0, 2.0, 3.0])


def test_bad_coco_inputs():
    kp, gt = _coco_fixture()
    with pytest.raises(ValueError, match="keypoints"):
        M.coco_results(kp[:, :16], scores=[1] * 4, image_ids=[1, 1, 2, 2])
    with pytest.raises(ValueError, match="scores"):
        M.coco_results(kp, scores=[1] * 3, image_ids=[1, 1, 2, 2])
    with pytest.raises(ValueError, match="image_sizes"):
        M.coco_gt_dict(kp, image_sizes=[(480, 640)] * 3 + [(1, 1)], image_ids=[1, 1, 2, 1])
    empty = kp.copy()
    empty[0, :, :] = 0
    with pytest.raises(ValueError, match="bboxes"):
        M.coco_gt_dict(empty, image_sizes=(480, 640))
    bad_v = kp.copy()
    bad_v[0, 0, 2] = 3
    with pytest.raises(ValueError, match="v must be"):
        M.coco_gt_dict(bad_v, image_sizes=(480, 640))
    results = M.coco_results(kp, scores=[1] * 4, image_ids=[1, 1, 2, 2])
    with pytest.raises(ValueError, match="results"):
        M.oks_ap(gt, [])
    short = [dict(results[0], keypoints=results[0]["keypoints"][:48])]
    with pytest.raises(ValueError, match=r"results\[0\]: expected 51"):
        M.oks_ap(gt, short)
    with pytest.raises(ValueError, match="image_id 99"):
        M.oks_ap(gt, [dict(results[0], image_id=99)])
