"""Tests of posekit.codecs.paf: PAF / heatmap targets, loss masks, PAFCodec; its OKS AP scoring."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from posekit.codecs.paf import (
    PAFCodec,
    keypoint_heatmaps,
    limb_support,
    loss_masks,
    paf_loss,
    paf_targets,
)
from posekit.datasets.synthpose import collate_bottom_up
from posekit.evaluation import evaluate_oks_ap
from posekit.lab.postprocess import synth_people
from posekit.skeletons import COCO17, OPENPOSE18, convert

ONE_LIMB = [(0, 1)]


def person(*xy, v=2.0):
    """One person ``(1, K, 3)`` with joints at the given (x, y)."""
    return np.array([[[x, y, v] for x, y in xy]], np.float64)


def on_map(u, v, stride=8):
    """Input pixel of map pixel (u, v): x = u·s + (s - 1)/2."""
    return u * stride + (stride - 1) / 2, v * stride + (stride - 1) / 2


# --------------------------------------------------------------------------- paf_targets


def test_horizontal_limb_exact_values_at_stride_1():
    kp = person((2, 3), (7, 3))
    paf = paf_targets(kp, (10, 8), stride=1, limbs=ONE_LIMB, limb_width=1.0)
    assert paf.shape == (2, 8, 10) and paf.dtype == np.float32
    expected = np.zeros((8, 10))
    expected[2:5, 2:8] = 1.0  # |y - 3| <= 1 and 0 <= x - 2 <= 5
    np.testing.assert_array_equal(paf[0], expected)
    np.testing.assert_array_equal(paf[1], 0.0)
    assert paf[0, 4, 4] == 1.0  # perpendicular distance exactly 1: inside
    assert paf[0, 5, 4] == 0.0 and paf[0, 3, 1] == 0.0 and paf[0, 3, 8] == 0.0


def test_end_margin_extends_beyond_the_joints():
    kp = person((2, 3), (7, 3))
    paf = paf_targets(kp, (10, 8), stride=1, limbs=ONE_LIMB, end_margin=1.0)
    expected = np.zeros((8, 10))
    expected[2:5, 1:9] = 1.0
    np.testing.assert_array_equal(paf[0], expected)


def test_stride_8_uses_the_pixel_centre_mapping():
    # joints on the centres of map pixels (2, 3) and (7, 3): the same field as at stride 1
    kp = person(on_map(2, 3), on_map(7, 3))
    paf = paf_targets(kp, (10, 8), stride=8, limbs=ONE_LIMB)
    expected = np.zeros((8, 10))
    expected[2:5, 2:8] = 1.0
    np.testing.assert_array_equal(paf[0], expected)


def test_diagonal_limb_hand_values():
    kp = person((0, 0), (4, 4))
    paf = paf_targets(kp, (6, 6), stride=1, limbs=ONE_LIMB)
    r = 1 / math.sqrt(2)
    # (1, 0): along 0.707, across 0.707 -> on; (2, 0): across 1.414 -> off
    np.testing.assert_allclose(paf[:, 0, 1], [r, r], rtol=1e-6)
    np.testing.assert_array_equal(paf[:, 0, 2], [0, 0])
    np.testing.assert_allclose(paf[:, 4, 4], [r, r], rtol=1e-6)  # the end b itself
    np.testing.assert_array_equal(paf[:, 5, 5], [0, 0])  # beyond b


def test_crossing_limbs_of_two_people_are_averaged():
    horizontal = person((1, 5), (9, 5))
    vertical = person((5, 1), (5, 9))
    kp = np.concatenate([horizontal, vertical])
    paf = paf_targets(kp, (11, 11), stride=1, limbs=ONE_LIMB)
    np.testing.assert_allclose(paf[:, 5, 5], [0.5, 0.5])  # both people: the mean
    np.testing.assert_allclose(paf[:, 6, 6], [0.5, 0.5])
    np.testing.assert_allclose(paf[:, 5, 2], [1.0, 0.0])  # only the horizontal one
    np.testing.assert_allclose(paf[:, 2, 5], [0.0, 1.0])  # only the vertical one
    # two identical people: the average is the unit vector, not twice it
    twice = paf_targets(np.concatenate([horizontal, horizontal]), (11, 11), 1, ONE_LIMB)
    np.testing.assert_array_equal(twice, paf_targets(horizontal, (11, 11), 1, ONE_LIMB))


def test_unlabelled_end_or_zero_length_limb_draws_nothing():
    kp = person((2, 3), (7, 3))
    kp[0, 1, 2] = 0
    assert not paf_targets(kp, (10, 8), 1, ONE_LIMB).any()
    assert not paf_targets(person((4, 4), (4, 4)), (10, 8), 1, ONE_LIMB).any()


def test_channels_follow_the_limbs_argument():
    kp = person((2, 2), (7, 2), (2, 6))  # 0 -> 1 horizontal, 0 -> 2 vertical
    paf = paf_targets(kp, (10, 8), 1, limbs=[(0, 2), (0, 1)])
    assert paf.shape == (4, 8, 10)
    assert paf[1, 4, 2] == 1.0 and paf[0, 4, 2] == 0.0  # limb 0 = (0, 2): y channel
    assert paf[2, 2, 5] == 1.0 and paf[3, 2, 5] == 0.0  # limb 1 = (0, 1): x channel


def test_default_limbs_are_openpose_limbseq_and_match_limb_support():
    kp = convert(synth_people(2, seed=1)["keypoints"], COCO17, OPENPOSE18)
    paf = paf_targets(kp, (57, 32), 8)
    assert paf.shape == (38, 32, 57)
    on, unit = limb_support(kp, (57, 32), 8, OPENPOSE18.limbs, 1.0, 0.0)
    # separated people do not overlap: the field is exactly one person's unit vector
    assert on.sum(axis=0).max() == 1
    expected = (on[..., None] * unit[:, :, None, None, :]).sum(axis=0)  # (L, h, w, 2)
    np.testing.assert_allclose(paf, expected.transpose(0, 3, 1, 2).reshape(38, 32, 57), atol=1e-6)


def test_batch_equals_single_images_and_empty_images_are_zero():
    a = synth_people(2, seed=3)["keypoints"]
    b = synth_people(1, seed=4)["keypoints"]
    empty = np.zeros((0, 17, 3))
    limbs = COCO17.limbs
    batch = paf_targets([a, empty, torch.from_numpy(b)], (57, 32), 8, limbs)
    assert batch.shape == (3, 38, 32, 57)
    np.testing.assert_array_equal(batch[0], paf_targets(a, (57, 32), 8, limbs))
    np.testing.assert_array_equal(batch[2], paf_targets(b, (57, 32), 8, limbs))
    assert not batch[1].any()


def test_paf_targets_bad_input():
    kp = person((2, 3), (7, 3))
    with pytest.raises(ValueError, match="keypoints"):
        paf_targets(kp[..., :2], (10, 8), 1, ONE_LIMB)
    with pytest.raises(ValueError, match="heatmap_size"):
        paf_targets(kp, (10, 0), 1, ONE_LIMB)
    with pytest.raises(ValueError, match="limbs"):
        paf_targets(kp, (10, 8), 1, [(0, 5)])
    with pytest.raises(ValueError, match="limb_width"):
        paf_targets(kp, (10, 8), 1, ONE_LIMB, limb_width=0)
    with pytest.raises(ValueError, match="end_margin"):
        paf_targets(kp, (10, 8), 1, ONE_LIMB, end_margin=-1)
    with pytest.raises(ValueError, match="stride"):
        paf_targets(kp, (10, 8), 0, ONE_LIMB)
    bad = kp.copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        paf_targets(bad, (10, 8), 1, ONE_LIMB)


# --------------------------------------------------------------------------- heatmaps


def test_heatmaps_merge_people_by_max_with_background():
    sigma = 1.5
    kp = np.concatenate([person((10, 5)), person((13, 5))])
    hm = keypoint_heatmaps(kp, (24, 12), stride=1, sigma=sigma)
    assert hm.shape == (2, 12, 24)  # K = 1 joint + background
    np.testing.assert_allclose(hm[0, 5, [10, 13]], [1.0, 1.0], rtol=1e-6)  # peaks stay 1
    # between them (1 px and 2 px away): the max of the two Gaussians, not their sum
    g = lambda d: math.exp(-(d**2) / (2 * sigma**2))  # noqa: E731
    np.testing.assert_allclose(hm[0, 5, 11], max(g(1), g(2)), rtol=1e-6)
    np.testing.assert_allclose(hm[0, 5, 12], max(g(2), g(1)), rtol=1e-6)
    np.testing.assert_allclose(hm[1], 1.0 - hm[0], rtol=1e-6)  # background = 1 - max
    assert hm[0].max() <= 1.0 + 1e-6


def test_heatmaps_unlabelled_joints_and_batches():
    kp = person((4, 4), (8, 4))
    kp[0, 1, 2] = 0
    hm = keypoint_heatmaps([kp, np.zeros((0, 2, 3))], (12, 8), stride=1, sigma=1.0)
    assert hm.shape == (2, 3, 8, 12)
    assert hm[0, 0].max() == pytest.approx(1.0) and not hm[0, 1].any()
    assert not hm[1, :2].any() and (hm[1, 2] == 1).all()
    no_bg = keypoint_heatmaps(kp, (12, 8), 1, 1.0, background=False)
    np.testing.assert_array_equal(no_bg, hm[0, :2])
    with pytest.raises(ValueError, match="sigma"):
        keypoint_heatmaps(kp, (12, 8), 1, sigma=0)
    with pytest.raises(ValueError, match="joint counts"):
        keypoint_heatmaps([kp, np.zeros((1, 3, 3))], (12, 8), 1)


# --------------------------------------------------------------------------- masks and loss


def test_loss_mask_box_hand_case():
    # box x in [16, 36), y in [8, 18): map pixel j covers [8j - 0.5, 8j + 7.5)
    mask = loss_masks((8, 4), 8, ignore=[np.array([[16.0, 8.0, 20.0, 10.0]])])
    expected = np.ones((1, 1, 4, 8), np.float32)
    expected[0, 0, 1:3, 2:5] = 0
    np.testing.assert_array_equal(mask, expected)
    assert (loss_masks((8, 4), 8, num_images=2) == 1).all()


def test_loss_mask_from_keypoints_grows_the_joint_box():
    kp = person((20.0, 20.0), (60.0, 40.0))  # box 40 x 20; pad 0.25 * 40 = 10 px
    mask = loss_masks((12, 8), 8, ignore=[kp], pad=0.25)
    # grown box x in [10, 70], y in [10, 50]: columns 1..8, rows 1..6
    expected = np.ones((1, 1, 8, 12), np.float32)
    expected[0, 0, 1:7, 1:9] = 0
    np.testing.assert_array_equal(mask, expected)
    with pytest.raises(ValueError, match=r"ignore\[0\]"):
        loss_masks((12, 8), 8, ignore=[np.zeros((2, 5))])
    with pytest.raises(ValueError, match="num_images"):
        loss_masks((12, 8), 8, ignore=[None], num_images=2)


def test_paf_loss_hand_values_and_mask():
    rng = np.random.default_rng(0)
    hm = torch.from_numpy(rng.random((2, 3, 4, 5), np.float32))
    paf = torch.from_numpy(rng.random((2, 4, 4, 5), np.float32))
    mask = torch.ones(2, 1, 4, 5)
    mask[1, 0, 0, 0] = 0
    stages = [(hm.clone(), paf.clone()) for _ in range(3)]
    assert paf_loss(stages, hm, paf, mask).item() == 0.0
    stages[1][0][0, 2, 1, 1] += 0.5  # heatmap error in stage 2
    stages[2][1][1, 3, 2, 4] -= 2.0  # PAF error in stage 3
    stages[0][1][1, 0, 0, 0] += 9.0  # masked pixel: ignored
    expected = (0.5**2 + 2.0**2) / 2 / 2  # Σ mask·err² / 2 / B
    assert paf_loss(stages, hm, paf, mask).item() == pytest.approx(expected, rel=1e-6)
    # heatmap_weight scales the heatmap error only: 3·0.5² + 2²
    weighted = (3 * 0.5**2 + 2.0**2) / 2 / 2
    assert paf_loss(stages, hm, paf, mask, 3.0).item() == pytest.approx(weighted, rel=1e-6)
    codec = PAFCodec(heatmap_weight=3.0)
    targets = {"heatmaps": hm, "pafs": paf, "mask": mask}
    assert codec.loss(stages, targets).item() == pytest.approx(weighted, rel=1e-6)
    with pytest.raises(ValueError, match="heatmap_weight"):
        paf_loss(stages, hm, paf, mask, 0.0)
    with pytest.raises(ValueError, match="heatmap_weight"):
        PAFCodec(heatmap_weight=-1)
    # one stage given as a bare (heatmaps, pafs) pair
    assert paf_loss((hm, paf), hm, paf).item() == 0.0
    out = [(hm.clone().requires_grad_(), paf.clone().requires_grad_())]
    (out[0][0].sum() * 0 + paf_loss(out, hm + 1, paf)).backward()
    np.testing.assert_allclose(out[0][0].grad.numpy(), -np.ones(hm.shape) / 2)  # d/dx (x-t)²/2/B
    with pytest.raises(ValueError, match="outputs"):
        paf_loss([(hm, paf[:, :2])], hm, paf)
    with pytest.raises(ValueError, match="outputs"):
        paf_loss([], hm, paf)


# --------------------------------------------------------------------------- codec


def _batch(scenes, size=(456, 256)):
    items = [
        {"image": torch.zeros(3, size[1], size[0]),
         "keypoints": torch.from_numpy(s["keypoints"]),
         "bboxes": torch.from_numpy(s["bboxes"]),
         "areas": torch.from_numpy(s["areas"]), "index": i}
        for i, s in enumerate(scenes)
    ]  # fmt: skip
    return items, collate_bottom_up(items)


def test_codec_encode_shapes_and_decode_round_trip():
    scenes = [synth_people(3, seed=5), synth_people(1, seed=6)]
    _, batch = _batch(scenes)
    codec = PAFCodec()
    t = codec.encode(batch)
    assert t["heatmaps"].shape == (2, 19, 32, 57) and t["pafs"].shape == (2, 38, 32, 57)
    assert t["mask"].shape == (2, 1, 32, 57) and (t["mask"] == 1).all()
    # the neck (OpenPose joint 1) is the shoulders' midpoint
    neck = convert(scenes[1]["keypoints"], COCO17, OPENPOSE18)[0, 1]
    u, v = (neck[:2] + 0.5) / 8 - 0.5
    assert t["heatmaps"][1, 1, int(round(v)), int(round(u))] > 0.5
    people = codec.decode([(t["heatmaps"] * 0, t["pafs"] * 0), (t["heatmaps"], t["pafs"])])
    for p, s in zip(people, scenes, strict=True):
        assert p.keypoints.shape == (len(s["keypoints"]), 17, 3) and p.scores.shape == (
            len(s["keypoints"]),
        )
        order = np.argsort(p.keypoints[:, 0, 0])
        truth = s["keypoints"][np.argsort(s["keypoints"][:, 0, 0])]
        np.testing.assert_allclose(p.keypoints[order, :, :2], truth[:, :, :2], atol=0.05)
    assert codec.loss([(t["heatmaps"], t["pafs"])], t, batch).item() == 0.0


def test_codec_masks_people_with_too_few_joints():
    scene = synth_people(2, seed=7)
    kp = scene["keypoints"].copy()
    kp[1, 2:, :] = 0  # person 1: only nose and left eye labelled
    scene = {**scene, "keypoints": kp}
    _, batch = _batch([scene])
    t = PAFCodec(min_keypoints=3).encode(batch)
    hm = t["heatmaps"][0]
    x, y = kp[1, 0, :2]
    u, v = int(round((x + 0.5) / 8 - 0.5)), int(round((y + 0.5) / 8 - 0.5))
    assert hm[0, v, u] < 0.5  # person 1's nose is not drawn...
    assert t["mask"][0, 0, v, u] == 0  # ...and its box is masked out of the loss
    box = scene["bboxes"][1]
    cols = (np.arange(57) * 8 + 7.5 > box[0]) & (np.arange(57) * 8 - 0.5 < box[0] + box[2])
    rows = (np.arange(32) * 8 + 7.5 > box[1]) & (np.arange(32) * 8 - 0.5 < box[1] + box[3])
    np.testing.assert_array_equal(t["mask"][0, 0].numpy() == 0, rows[:, None] & cols[None, :])
    x0, y0 = kp[0, 0, :2]
    u0, v0 = int(round((x0 + 0.5) / 8 - 0.5)), int(round((y0 + 0.5) / 8 - 0.5))
    assert hm[0, v0, u0] > 0.5  # person 0 is drawn


def test_codec_bad_input():
    codec = PAFCodec()
    with pytest.raises(ValueError, match="keypoints"):
        codec.encode({"image": torch.zeros(1, 3, 256, 456)})
    with pytest.raises(ValueError, match="image_size"):
        codec.encode({"image": torch.zeros(1, 3, 250, 456), "keypoints": [np.zeros((0, 17, 3))]})
    with pytest.raises(ValueError, match="entries"):
        codec.encode({"image": torch.zeros(2, 3, 256, 456), "keypoints": [np.zeros((0, 17, 3))]})
    with pytest.raises(ValueError, match="outputs"):
        codec.decode([(torch.zeros(1, 19, 32, 57), torch.zeros(1, 36, 32, 57))])
    with pytest.raises(ValueError, match="min_keypoints"):
        PAFCodec(min_keypoints=0)


class _Replay(torch.nn.Module):
    """A stand-in model that returns pre-computed outputs, batch after batch."""

    def __init__(self, outputs):
        super().__init__()
        self.outputs, self.calls = outputs, 0
        self.dummy = torch.nn.Parameter(torch.zeros(1))

    def forward(self, image):
        out = self.outputs[self.calls]
        self.calls += 1
        return out


def test_evaluate_oks_ap_perfect_and_missing_people():
    scenes = [synth_people(3, seed=8), synth_people(2, seed=9), synth_people(4, seed=10)]
    items, _ = _batch(scenes)
    codec = PAFCodec()
    outs = [codec.encode(collate_bottom_up(items[i : i + 2])) for i in (0, 2)]
    perfect = [[(o["heatmaps"], o["pafs"])] for o in outs]
    ap = evaluate_oks_ap(_Replay(perfect), codec, items, batch_size=2)
    assert ap["AP"] == pytest.approx(1.0) and ap["AR"] == pytest.approx(1.0)
    # drop every person of the last image: 5 of 9 people found, AR 5/9
    blank = [perfect[0], [(outs[1]["heatmaps"] * 0, outs[1]["pafs"] * 0)]]
    ap = evaluate_oks_ap(_Replay(blank), codec, items, batch_size=2)
    assert ap["AR"] == pytest.approx(5 / 9, abs=1e-6) and ap["AP"] < 0.6
    # nothing detected at all: zeros, not an error
    empty = [[(o["heatmaps"] * 0, o["pafs"] * 0)] for o in outs]
    assert evaluate_oks_ap(_Replay(empty), codec, items, batch_size=2)["AP"] == 0.0


def test_evaluate_oks_ap_counts_detections_on_empty_images():
    scene = synth_people(2, seed=16)
    empty = {
        "keypoints": np.zeros((0, 17, 3), np.float32),
        "bboxes": np.zeros((0, 4), np.float32),
        "areas": np.zeros(0, np.float32),
    }
    items, batch = _batch([scene, empty])
    codec = PAFCodec()
    t = codec.encode(collate_bottom_up(items[:1]))
    # the model "sees" the two people in both images: the second image's are false positives
    twice = [(t["heatmaps"].repeat(2, 1, 1, 1), t["pafs"].repeat(2, 1, 1, 1))]
    ap = evaluate_oks_ap(_Replay([twice]), codec, items, batch_size=2)
    assert ap["AR"] == pytest.approx(1.0) and 0.3 < ap["AP"] < 0.9
    once = [(t["heatmaps"].repeat(2, 1, 1, 1) * torch.tensor([1.0, 0.0])[:, None, None, None],
             t["pafs"].repeat(2, 1, 1, 1))]  # fmt: skip
    assert evaluate_oks_ap(_Replay([once]), codec, items, batch_size=2)["AP"] == pytest.approx(1)


def test_codec_trains_and_evaluates_lightweight_openpose_with_the_engine():
    from posekit.datasets.synthpose import SynthPoseBottomUp
    from posekit.engine import TrainConfig, train
    from posekit.models import LightweightOpenPose

    torch.manual_seed(0)
    model = LightweightOpenPose(channels=8, width_mult=0.125)
    codec = PAFCodec()
    data = SynthPoseBottomUp("train", 2, size=(64, 48), num_people=2)
    val = SynthPoseBottomUp("val", 2, size=(64, 48), num_people=1)
    config = TrainConfig(epochs=1, batch_size=2, device="cpu")
    hist = train(model, codec, codec.loss, data, val, config, evaluate=evaluate_oks_ap,
                 progress=False, collate_fn=collate_bottom_up)  # fmt: skip
    assert len(hist.step_loss) == 1 and math.isfinite(hist.step_loss[0])
    assert 0.0 <= hist.evals[-1]["AP"] <= 1.0 and "AR" in hist.evals[-1]
    # the loss is the masked L2 of every stage: 2 stages here
    batch = collate_bottom_up([data[0], data[1]])
    with torch.no_grad():
        out = model(batch["image"])
        t = codec.encode(batch)
    assert len(out) == 2 and out[0][0].shape == t["heatmaps"].shape
    expected = sum(((h - t["heatmaps"]) ** 2).sum() + ((p - t["pafs"]) ** 2).sum() for h, p in out)
    assert codec.loss(out, t).item() == pytest.approx(expected.item() / 2 / 2, rel=1e-5)
