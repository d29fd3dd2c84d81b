"""posekit.evaluation against expectations computed without it.

The models here are ``nn.Identity`` and the codecs look their predictions up by the image
index written into pixel (0, 0) of channel 0, so every pipeline runs end to end
(``engine.predict_batches`` → ``Instances`` → metrics) on a few tiny images in milliseconds.
The expected values come from the definitions (PCKh by numpy, OKS by its formula) or from
pycocotools called directly.
"""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest
import torch
from torch import nn

from posekit import evaluation, metrics
from posekit.codecs.instances import Instances, per_crop

# pycocotools' COCO-17 OKS constants (cocoeval.Params.setKpParams), written out here
COCO_SIGMAS = np.array(
    [0.26, 0.25, 0.25, 0.35, 0.35, 0.79, 0.79, 0.72, 0.72, 0.62, 0.62, 1.07, 1.07, 0.87, 0.87,
     0.89, 0.89]
) / 10.0  # fmt: skip
SIZE = (48, 64)  # (H, W) of every test image


def _image(index: int) -> torch.Tensor:
    img = torch.zeros(3, *SIZE)
    img[0, 0, 0] = float(index)
    return img


class LookupCodec:
    """``decode``: per image, ``found[index]`` with the index read from pixel (0, 0)."""

    def __init__(self, found, joint_set: str = "coco17") -> None:
        self.found, self.joint_set = found, joint_set

    def decode(self, outputs) -> list[Instances]:
        idx = [int(round(float(v))) for v in outputs[:, 0, 0, 0]]
        if isinstance(self.found, np.ndarray):  # top-down: (N, K, 3) one person per crop
            return per_crop(torch.as_tensor(self.found[idx]))
        return [self.found[i] for i in idx]


# --------------------------------------------------------------------------- scenes (COCO-17)


def _person(rng, x0: float, y0: float) -> np.ndarray:
    """``(17, 3)`` COCO-17 person inside a 20 × 30 box at (x0, y0), a few joints unlabelled."""
    kp = np.zeros((17, 3), np.float32)
    kp[:, 0] = x0 + rng.uniform(0, 20, 17)
    kp[:, 1] = y0 + rng.uniform(0, 30, 17)
    kp[:, 2] = 2
    kp[rng.choice(17, 3, replace=False), :] = 0
    return kp


def _scenes() -> list[dict]:
    """Four images with 2, 1, 0 and 3 people (image 2 is empty)."""
    rng = np.random.default_rng(0)
    scenes = []
    for i, starts in enumerate([[(2, 3), (34, 10)], [(20, 15)], [], [(1, 1), (22, 8), (42, 16)]]):
        kp = np.stack([_person(rng, x, y) for x, y in starts]) if starts else np.zeros((0, 17, 3))
        boxes = np.array([[x, y, 20.0, 30.0] for x, y in starts]).reshape(-1, 4)
        scenes.append({
            "image": _image(i), "index": i, "keypoints": torch.as_tensor(kp, dtype=torch.float32),
            "bboxes": torch.as_tensor(boxes), "areas": torch.as_tensor(boxes[:, 2] * boxes[:, 3]),
        })  # fmt: skip
    return scenes


def _as_found(kp: np.ndarray, scores=None) -> Instances:
    """Predictions = the given ``(N, 17, 3)`` (x, y) with joint score 1."""
    kp = np.asarray(kp, np.float32).reshape(-1, 17, 3).copy()
    kp[..., 2] = 1.0
    scores = np.ones(len(kp), np.float32) if scores is None else np.asarray(scores, np.float32)
    return Instances(kp, scores)


def test_evaluate_oks_ap_is_one_on_the_ground_truth():
    scenes = _scenes()
    codec = LookupCodec([_as_found(s["keypoints"].numpy()) for s in scenes])
    out = evaluation.evaluate_oks_ap(nn.Identity(), codec, scenes, batch_size=3)
    assert out["AP"] == pytest.approx(1.0) and out["AP50"] == pytest.approx(1.0)
    assert out["AR"] == pytest.approx(1.0)


def test_evaluate_oks_ap_is_zero_when_every_joint_is_far():
    scenes = _scenes()
    far = [_as_found(s["keypoints"].numpy() + np.array([500.0, 500.0, 0.0])) for s in scenes]
    out = evaluation.evaluate_oks_ap(nn.Identity(), LookupCodec(far), scenes, batch_size=2)
    assert out["AP"] == pytest.approx(0.0, abs=1e-9) and out["AR"] == pytest.approx(0.0, abs=1e-9)


def test_evaluate_oks_ap_counts_detections_on_empty_images():
    """A confident detection on the empty image 2 ranks first and is a false positive."""
    scenes = _scenes()
    found = [_as_found(s["keypoints"].numpy(), np.full(len(s["keypoints"]), 0.5)) for s in scenes]
    found[2] = _as_found(scenes[0]["keypoints"].numpy()[:1], [0.9])
    out = evaluation.evaluate_oks_ap(nn.Identity(), LookupCodec(found), scenes, batch_size=4)
    assert out["AP"] < 0.99 and out["AR"] == pytest.approx(1.0)


def _pycocotools_ap(scenes, found, drop_joints=()) -> np.ndarray:
    """COCO keypoint stats of ``found`` with pycocotools, the ground truth built by hand."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    images, annotations, results = [], [], []
    for i, (s, f) in enumerate(zip(scenes, found, strict=True), start=1):
        images.append({"id": i, "height": SIZE[0], "width": SIZE[1]})
        kp = s["keypoints"].numpy().astype(np.float64).copy()
        kp[:, list(drop_joints)] = 0.0
        for k, box, area in zip(kp, s["bboxes"].numpy(), s["areas"].numpy(), strict=True):
            annotations.append({
                "id": len(annotations) + 1, "image_id": i, "category_id": 1, "iscrowd": 0,
                "keypoints": k.reshape(-1).tolist(), "num_keypoints": int((k[:, 2] > 0).sum()),
                "bbox": box.tolist(), "area": float(area),
            })  # fmt: skip
        for k, score in zip(f.keypoints, f.scores, strict=True):
            results.append({"image_id": i, "category_id": 1, "score": float(score),
                            "keypoints": k.astype(np.float64).reshape(-1).tolist()})  # fmt: skip
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO()
        gt.dataset = {"images": images, "annotations": annotations,
                      "categories": [{"id": 1, "name": "person"}]}  # fmt: skip
        gt.createIndex()
        ev = COCOeval(gt, gt.loadRes(results), iouType="keypoints")
        ev.params.kpt_oks_sigmas = COCO_SIGMAS
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return ev.stats


@pytest.mark.parametrize("joint_set, dropped", [(None, ()), ("mpii16", (0, 1, 2, 3, 4))])
def test_scene_oks_ap_equals_pycocotools(joint_set, dropped):
    """Noisy predictions, one false positive, one miss; MPII-16 drops the 5 face joints."""
    scenes = _scenes()
    rng = np.random.default_rng(1)
    found = []
    for s in scenes:
        kp = s["keypoints"].numpy().copy()
        kp[..., :2] += rng.normal(0, 1.5, kp[..., :2].shape)
        found.append(_as_found(kp, rng.uniform(0.2, 1.0, len(kp))))
    found[2] = _as_found(scenes[1]["keypoints"].numpy(), [0.6])  # on the empty image
    found[3] = Instances(found[3].keypoints[:2], found[3].scores[:2])  # one person missed
    gts = [{**s, "size": SIZE} for s in scenes]
    out = evaluation.scene_oks_ap(gts, found, joint_set)
    expected = _pycocotools_ap(scenes, found, dropped)
    np.testing.assert_allclose([out[k] for k in evaluation.AP_KEYS], expected, atol=1e-12)
    assert 0.0 < out["AP"] < 1.0


# --------------------------------------------------------------------------- top-down PCKh


def _crops(n: int = 12):
    """``n`` MPII-16 crops (all joints labelled but a few) with head boxes and predictions."""
    rng = np.random.default_rng(2)
    kp = np.zeros((n, 16, 3), np.float32)
    kp[..., 0] = rng.uniform(5, 59, (n, 16))
    kp[..., 1] = rng.uniform(5, 43, (n, 16))
    kp[..., 2] = 1
    kp[rng.random((n, 16)) < 0.1, 2] = 0
    kp[0, [2, 13], 2] = 1  # the torso of crop 0 (r_hip, l_shoulder) labelled
    kp[1, 13, 2] = 0  # crop 1 has no torso
    corner = rng.uniform(10, 30, (n, 2))
    head = np.stack([corner, corner + rng.uniform(6, 12, (n, 2))], 1).astype(np.float32)
    pred = kp.copy()
    pred[..., :2] += rng.normal(0, 3.0, (n, 16, 2))
    pred[..., 2] = 1.0
    items = [{"image": _image(i), "keypoints": torch.as_tensor(kp[i]),
              "head_box": torch.as_tensor(head[i]), "target_weight": torch.ones(16)}
             for i in range(n)]  # fmt: skip
    return items, kp, head, pred


def _pckh_by_hand(pred, kp, head, alpha):
    """Per-joint PCKh (%) and the count-weighted 14-joint mean, straight from the definition."""
    size = 0.6 * np.linalg.norm(head[:, 1] - head[:, 0], axis=-1)
    dist = np.linalg.norm(pred[..., :2] - kp[..., :2], axis=-1)
    labelled = kp[..., 2] > 0
    correct = (dist <= alpha * size[:, None]) & labelled
    per_joint = 100.0 * correct.sum(0) / labelled.sum(0)
    keep = np.ones(16, bool)
    keep[[6, 7]] = False  # pelvis, thorax
    mean = 100.0 * correct[:, keep].sum() / labelled[:, keep].sum()
    return per_joint, mean


def test_pckh_table_matches_pckh_by_hand():
    items, kp, head, pred = _crops()
    table = evaluation.pckh_table(nn.Identity(), LookupCodec(pred), items, batch_size=5)
    per_joint, mean = _pckh_by_hand(pred, kp, head, 0.5)
    np.testing.assert_allclose(table["pckh"].per_joint, per_joint, atol=1e-9)
    assert table["pckh"].mean == pytest.approx(mean, abs=1e-9)
    assert table["n"] == len(items)
    ref = metrics.pckh(pred[..., :2], kp, head)
    np.testing.assert_allclose(table["pckh"].per_joint, ref.per_joint, atol=1e-12)
    # torso PCK@0.2, by hand: l_shoulder (13) to r_hip (2), crops with a labelled torso only
    torso = np.linalg.norm(kp[:, 13, :2] - kp[:, 2, :2], axis=-1)
    has = (kp[:, 13, 2] > 0) & (kp[:, 2, 2] > 0)
    dist = np.linalg.norm(pred[..., :2] - kp[..., :2], axis=-1)
    lab = (kp[..., 2] > 0) & has[:, None]
    expected = 100.0 * ((dist <= 0.2 * torso[:, None]) & lab).sum() / lab.sum()
    assert table["pck@0.2"] == pytest.approx(expected, abs=1e-9)


def test_evaluate_pckh_matches_pckh_by_hand():
    items, kp, head, pred = _crops()
    out = evaluation.evaluate_pckh(nn.Identity(), LookupCodec(pred), items, batch_size=4)
    assert set(out) == {"PCKh@0.5", "PCKh@0.1"}
    for alpha in (0.5, 0.1):
        assert out[f"PCKh@{alpha:g}"] == pytest.approx(_pckh_by_hand(pred, kp, head, alpha)[1])


def test_evaluate_pckh_is_100_on_the_ground_truth():
    items, kp, _, _ = _crops()
    exact = kp.copy()
    exact[..., 2] = 1.0
    out = evaluation.evaluate_pckh(nn.Identity(), LookupCodec(exact), items, alpha=(0.1,))
    assert out == {"PCKh@0.1": pytest.approx(100.0)}


# --------------------------------------------------------------------------- matching


def _oks_by_hand(pred_xy, gt, area) -> float:
    """COCO's OKS: mean over labelled joints of exp(-d² / (2 · area · (2σ)²))."""
    d2 = ((pred_xy - gt[:, :2]) ** 2).sum(-1)
    e = np.exp(-d2 / (2 * area * (2 * COCO_SIGMAS) ** 2))
    return float(e[gt[:, 2] > 0].mean())


def test_match_people_pairs_by_oks():
    rng = np.random.default_rng(3)
    gt = np.stack([_person(rng, 2, 3), _person(rng, 34, 10)]).astype(np.float64)
    areas = np.array([600.0, 600.0])
    shifted = gt[1].copy()
    shifted[:, :2] += (3.0, 4.0)  # 5 px off on every joint
    junk = gt[0].copy()
    junk[:, :2] += 200.0
    pred = np.stack([shifted, junk, gt[0]])[..., :2]  # prediction 2 is person 0 exactly
    g, p, oks = evaluation.match_people(pred, gt, areas)
    assert g.tolist() == [0, 1] and p.tolist() == [2, 0]
    assert oks[0] == pytest.approx(1.0)
    assert oks[1] == pytest.approx(_oks_by_hand(shifted[:, :2], gt[1], 600.0), rel=1e-9)


def test_match_people_is_optimal_not_greedy():
    """Greedy (best pair first) would give prediction 0 to person 0 and leave person 1 a
    poor match; the optimal assignment maximises the total OKS."""
    rng = np.random.default_rng(4)
    base = _person(rng, 10, 10).astype(np.float64)
    base[:, 2] = 2
    gt = np.stack([base, base.copy()])
    gt[1, :, 0] += 6.0  # person 1 is person 0 moved 6 px right
    areas = np.array([400.0, 400.0])
    pred = np.stack([base.copy(), base.copy()])
    pred[0, :, 0] += 3.0  # halfway: about as good for both
    pred[1, :, 0] -= 3.0  # 3 px left of person 0, 9 px from person 1
    sim = np.array(
        [[_oks_by_hand(q[:, :2], t, a) for q in pred] for t, a in zip(gt, areas, strict=True)]
    )
    g, p, oks = evaluation.match_people(pred[..., :2], gt, areas)
    best = max(sim[0, 0] + sim[1, 1], sim[0, 1] + sim[1, 0])
    assert oks.sum() == pytest.approx(best, rel=1e-9)
    assert sorted(zip(g.tolist(), p.tolist(), strict=True)) == [(0, 1), (1, 0)]


def test_match_people_without_people():
    g, p, oks = evaluation.match_people(np.zeros((0, 17, 2)), np.zeros((1, 17, 3)), [100.0])
    assert g.size == p.size == oks.size == 0
    with pytest.raises(ValueError, match="areas"):
        evaluation.match_people(np.zeros((1, 17, 2)), np.zeros((2, 17, 3)), [100.0])
