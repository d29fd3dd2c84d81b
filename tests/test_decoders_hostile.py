"""Hostile inputs to the heatmap decoders and bottom-up grouping (issue 12, item 10).

The rule under test (documented in ``posekit.codecs.heatmap`` and ``posekit.codecs.grouping``): a
map with a NaN or ±inf value is a ValueError naming the argument and the first non-finite
index (C order), never a joint moved onto the NaN pixel or an infinite person score; wrong
batch or area counts are ValueErrors naming the argument and the expected shape."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from posekit.codecs import grouping
from posekit.codecs import heatmap as H
from posekit.codecs.instances import stack_keypoints
from posekit.codecs.paf import PAFCodec
from posekit.evaluation import match_people
from posekit.lab.postprocess import synth_maps, synth_people

NAN, INF = float("nan"), float("inf")


def _maps(b=2, k=3, h=16, w=20):
    """Gaussian maps (σ 2) with distinct sub-pixel peaks, float32 ``(b, k, h, w)``."""
    rng = np.random.default_rng(0)
    centres = rng.uniform(4, [w - 5, h - 5], size=(b, k, 2))
    x, y = np.arange(w), np.arange(h)[:, None]
    d2 = (x - centres[..., 0, None, None]) ** 2 + (y - centres[..., 1, None, None]) ** 2
    return np.exp(-d2 / 8.0).astype(np.float32)


DECODERS = {
    "argmax": lambda m: H.decode_argmax(m, 4),
    "quarter": lambda m: H.decode_quarter_offset(m, 4),
    "dark": lambda m: H.decode_dark(m, 4, sigma=2.0),
    "dark-noblur": lambda m: H.decode_dark(m, 4, blur=False),
    "soft_argmax": lambda m: H.soft_argmax(m, 4, beta=20.0),
    "decode_heatmaps-integral": lambda m: H.decode_heatmaps(m, 4, "integral", beta=20.0),
    "HeatmapCodec": lambda m: stack_keypoints(
        H.HeatmapCodec((80, 64), stride=4, decoder="quarter").decode([m])
    ),
}
READERS = {**DECODERS, "heatmap_nms": lambda m: H.heatmap_nms(m)}  # everything that reads maps


# ----------------------------------------------------------------------------- decoders


@pytest.mark.parametrize("name", sorted(READERS))
@pytest.mark.parametrize("value", [NAN, INF, -INF])
@pytest.mark.parametrize("as_torch", [False, True])
def test_non_finite_pixel_is_rejected_with_its_index(name, value, as_torch):
    maps = _maps()
    maps[1, 2, 3, 17] = value  # far from the peak: before the fix argmax jumped here
    maps[1, 2, 9, 1] = NAN  # a later one (C order) is not the one named
    m = torch.from_numpy(maps) if as_torch else maps
    with pytest.raises(ValueError, match=rf"heatmaps: {value} at index \(1, 2, 3, 17\)"):
        READERS[name](m)


@pytest.mark.parametrize("name", sorted(READERS))
def test_all_nan_half_precision_map_is_rejected(name):
    maps = torch.from_numpy(_maps(1, 2)).half()
    maps[0, 1] = NAN
    with pytest.raises(ValueError, match=r"heatmaps: nan at index \(0, 1, 0, 0\)"):
        READERS[name](maps)


@pytest.mark.parametrize("name", sorted(DECODERS))
def test_clean_maps_still_decode_to_the_peaks(name):
    maps = _maps()
    out = np.asarray(DECODERS[name](maps))
    ref = H.decode_argmax(maps, 4)  # independent of the refinement: within a heatmap pixel
    assert np.isfinite(out).all()
    np.testing.assert_allclose(out[..., :2], ref[..., :2], atol=4.0)
    np.testing.assert_allclose(out[..., 2], maps.reshape(2, 3, -1).max(-1), rtol=1e-6)


@pytest.mark.parametrize("name", sorted(READERS))
def test_non_numeric_maps_are_a_clear_error(name):
    with pytest.raises(ValueError, match=r"heatmaps: expected real numbers, got dtype <U1"):
        READERS[name](np.array([["a", "b"], ["c", "d"]]))


def test_decoder_parameters_are_checked():
    maps = _maps()
    for sigma in (NAN, -2.0, 0.0):
        with pytest.raises(ValueError, match="sigma"):
            H.decode_dark(maps, 4, sigma=sigma)
    with pytest.raises(ValueError, match="max_offset"):
        H.decode_dark(maps, 4, max_offset=NAN)
    for beta in (NAN, 0.0, -1.0, INF):
        with pytest.raises(ValueError, match="beta"):
            H.soft_argmax(maps, 4, beta=beta)
    with pytest.raises(ValueError, match="offset"):
        H.decode_quarter_offset(maps, 4, offset=NAN)


def test_integral_loss_leaves_nan_logits_to_the_engine():
    """The losses do not check: a NaN loss stops ``engine.train`` with its own message."""
    logits = torch.from_numpy(_maps())
    logits[0, 0, 5, 5] = NAN
    kp = torch.zeros(2, 3, 3)
    assert torch.isnan(H.integral_loss(logits, kp))


# ----------------------------------------------------------------------------- grouping


@pytest.fixture(scope="module")
def scene():
    people = synth_people(2, (128, 96), seed=1, stride=8)
    hm, paf = synth_maps(people["keypoints"], (128, 96), 8)
    return people, hm, paf


def _peak(hm, c):
    return np.unravel_index(np.argmax(hm[c]), hm[c].shape)


@pytest.mark.parametrize("value", [INF, NAN, -INF])
def test_group_rejects_non_finite_heatmaps(scene, value):
    _, hm, paf = scene
    bad = hm.copy()
    y, x = _peak(hm, 1)
    bad[1, y, x] = value  # before: an inf person score, or the joint silently lost
    with pytest.raises(ValueError, match=rf"heatmaps: {value} at index \(1, {y}, {x}\)"):
        grouping.group(bad, paf, 8)
    with pytest.raises(ValueError, match=rf"heatmaps: {value} at index \(1, {y}, {x}\)"):
        grouping.find_peaks(bad[:18])


def test_group_rejects_non_finite_pafs(scene):
    _, hm, paf = scene
    bad = paf.copy()
    y, x = np.unravel_index(np.argmax(np.abs(paf[4])), paf[4].shape)
    bad[4, y, x] = NAN
    match = rf"pafs: nan at index \(4, {y}, {x}\)"
    with pytest.raises(ValueError, match=match):
        grouping.group(hm, bad, 8)
    peaks = grouping.find_peaks(hm[:18])
    with pytest.raises(ValueError, match=match):
        grouping.score_limbs(bad, peaks)
    with pytest.raises(ValueError, match=match):
        grouping.pair_scores(bad, 2, peaks.xy[:2], peaks.xy[2:4])


def test_clean_scene_groups_with_finite_scores(scene):
    people, hm, paf = scene
    out = grouping.group(hm, paf, 8)
    assert len(out.scores) == 2 and np.isfinite(out.scores).all()
    _, _, sim = match_people(out.keypoints, people["keypoints"], people["areas"])
    assert (sim > 0.9).all()


@pytest.mark.parametrize("paf_batch", [1, 3])
def test_paf_codec_decode_checks_the_batch(scene, paf_batch):
    _, hm, paf = scene
    hms = torch.from_numpy(np.stack([hm, hm]))
    pafs = torch.from_numpy(np.stack([paf] * paf_batch))
    with pytest.raises(ValueError, match=r"pafs: expected \(2, 38, 12, 16\)"):
        PAFCodec().decode((hms, pafs))


def test_paf_codec_decode_rejects_nan_outputs_with_the_image(scene):
    _, hm, paf = scene
    hms = np.stack([hm, hm])
    hms[1, 3, 2, 2] = NAN
    with pytest.raises(ValueError, match=r"heatmaps: nan at index \(1, 3, 2, 2\)"):
        PAFCodec().decode((torch.from_numpy(hms), torch.from_numpy(np.stack([paf, paf]))))


def test_match_people_checks_counts_and_shapes(scene):
    people, hm, paf = scene
    pred = grouping.group(hm, paf, 8).keypoints
    gt, areas = people["keypoints"], people["areas"]
    for bad in (areas[:1], np.r_[areas, areas]):
        with pytest.raises(ValueError, match=r"areas: expected shape \(2,\)"):
            match_people(pred, gt, bad)
    with pytest.raises(ValueError, match=r"gt: expected shape \(G, 17, 3\)"):
        match_people(pred, gt[0], areas)
    with pytest.raises(ValueError, match=r"pred: expected shape \(P, 17, 2 or 3\)"):
        match_people(pred[:, :16], gt, areas)
    with pytest.raises(ValueError, match=r"area: sample 0 is 0.0"):
        match_people(pred, gt, np.zeros_like(areas))


def test_match_people_nan_prediction_is_a_miss(scene):
    people, hm, paf = scene
    pred = grouping.group(hm, paf, 8).keypoints.astype(np.float64)
    pred[0] = NAN  # a whole person NaN: OKS 0 with everyone, still matched by Hungarian
    gi, pi, sim = match_people(pred, people["keypoints"], people["areas"])
    assert sorted(pi.tolist()) == [0, 1]
    assert sim[pi == 0][0] == 0.0 and sim[pi == 1][0] > 0.9
