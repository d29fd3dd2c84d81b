"""Tests of posekit.codecs.grouping: peaks, PAF line integral, matching, assembly, recovery of
whole people (on the perfect maps of ``posekit.lab.postprocess.synth_people``)."""

from __future__ import annotations

import functools
import itertools

import numpy as np
import pytest
from scipy.ndimage import map_coordinates

from posekit.codecs import grouping
from posekit.codecs.grouping import (
    Candidates,
    Peaks,
    assemble,
    find_peaks,
    group,
    match_limbs,
    score_limbs,
)
from posekit.evaluation import match_people
from posekit.lab.postprocess import synth_maps, synth_people
from posekit.skeletons import COCO17, OPENPOSE18, convert


def gaussian(w, h, cx, cy, sigma=0.875):
    x, y = np.meshgrid(np.arange(w), np.arange(h))
    return np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * sigma**2)).astype(np.float32)


def peaks_of(*points):
    """``Peaks`` from ``(joint, x, y)`` triples (score 1), sorted by joint."""
    pts = sorted(points)
    joint = np.array([p[0] for p in pts], np.int64)
    xy = np.array([p[1:] for p in pts], np.float64).reshape(-1, 2)
    k = int(joint.max()) + 1
    return Peaks(xy, np.ones(len(pts)), joint, np.bincount(joint, minlength=k))


# --------------------------------------------------------------------------- peaks


@pytest.mark.parametrize(("refine", "tol"), [("taylor", 1e-5), ("quarter", 0.26), ("none", 0.5)])
def test_find_peaks_sub_pixel(refine, tol):
    hm = np.stack([gaussian(20, 12, 6.3, 4.6), gaussian(20, 12, 13.8, 7.2)])
    p = find_peaks(hm, refine=refine)
    assert p.joint.tolist() == [0, 1] and p.counts.tolist() == [1, 1]
    np.testing.assert_allclose(p.xy, [[6.3, 4.6], [13.8, 7.2]], atol=tol)
    if refine == "quarter":
        np.testing.assert_allclose(p.xy, [[6.25, 4.75], [13.75, 7.25]])
    if refine == "none":
        np.testing.assert_array_equal(p.xy, [[6, 5], [14, 7]])
    np.testing.assert_allclose(p.score, [hm[0, 5, 6], hm[1, 7, 14]])


def test_find_peaks_on_the_border_uses_the_other_axis_curvature():
    # centres beyond the outermost pixel centres (x = 19.3, y = -0.2) are still located
    hm = gaussian(20, 12, 19.3, 5.4)[None]
    np.testing.assert_allclose(find_peaks(hm).xy, [[19.3, 5.4]], atol=1e-5)
    hm = gaussian(20, 12, 7.6, -0.2)[None]
    np.testing.assert_allclose(find_peaks(hm).xy, [[7.6, -0.2]], atol=1e-5)


def test_find_peaks_threshold_plateau_and_close_peaks():
    hm = np.zeros((3, 10, 12), np.float32)
    hm[0, 4, 5] = 0.09  # below the threshold
    hm[1, 4, 5] = hm[1, 4, 6] = 0.7  # a two-pixel plateau: one peak (the first)
    hm[2] = np.maximum(gaussian(12, 10, 3, 5), 0.9 * gaussian(12, 10, 6, 5))  # 3 px apart
    p = find_peaks(hm, refine="none")
    assert p.counts.tolist() == [0, 1, 2]
    np.testing.assert_array_equal(p.xy, [[5, 4], [3, 5], [6, 5]])
    far = find_peaks(hm, refine="none", min_distance=3.5)  # drops the lower one
    assert far.counts.tolist() == [0, 1, 1] and far.xy[1].tolist() == [3, 5]
    with pytest.raises(ValueError, match="refine"):
        find_peaks(hm, refine="dark")
    with pytest.raises(ValueError, match="heatmaps"):
        find_peaks(hm[0, 0])


# --------------------------------------------------------------------------- line integral


def test_line_integral_hand_cases():
    w, h = 20, 8
    paf = np.zeros((2, h, w), np.float32)
    paf[0, 3, 2:12] = 1.0  # field +x along row 3, x = 2..11
    # pair (2, 3) -> (11, 3): 10 samples on integer pixels, all 1
    c = score_limbs(paf, peaks_of((0, 2, 3), (1, 11, 3)), [(0, 1)])
    assert c.limb.tolist() == [0] and c.score[0] == pytest.approx(1.0)
    # reversed direction: dot products -1, no candidate
    assert score_limbs(paf, peaks_of((1, 2, 3), (0, 11, 3)), [(0, 1)]).limb.size == 0
    # field only on x = 2..9: samples at x = 2..11 -> 8 valid of 10, not > 80 %: rejected
    paf8 = paf.copy()
    paf8[0, 3, 10:] = 0
    assert score_limbs(paf8, peaks_of((0, 2, 3), (1, 11, 3)), [(0, 1)]).limb.size == 0
    # 9 valid of 10 with values 0.5 and 1: kept, score = mean of the valid samples
    paf9 = paf.copy()
    paf9[0, 3, 11] = 0.0
    paf9[0, 3, 2:6] = 0.5
    c = score_limbs(paf9, peaks_of((0, 2, 3), (1, 11, 3)), [(0, 1)])
    assert c.score[0] == pytest.approx((4 * 0.5 + 5 * 1.0) / 9)
    # distance prior (CMU): mean over all 10 + min(0.5 h / length - 1, 0)
    c = score_limbs(paf9, peaks_of((0, 2, 3), (1, 11, 3)), [(0, 1)], distance_prior=True)
    assert c.score[0] == pytest.approx(0.7 + (0.5 * 8 / 9 - 1))  # h = 8, length 9
    low = score_limbs(paf9[:, :4], peaks_of((0, 2, 3), (1, 11, 3)), [(0, 1)], distance_prior=True)
    assert low.limb.size == 0  # h = 4: 0.7 + (2/9 - 1) < 0
    short = score_limbs(paf9, peaks_of((0, 2, 3), (1, 4, 3)), [(0, 1)], distance_prior=True)
    assert short.score[0] == pytest.approx(0.5)  # length 2 < h / 2: no penalty


def _brute_scores(paf, peaks, limbs, s=10, min_paf=0.05, min_ratio=0.8):
    """Every pair, every sample, scipy's bilinear ``map_coordinates``; no shortcut."""
    h, w = paf.shape[1:]
    xy = np.clip(peaks.xy, 0, [w - 1, h - 1])
    out = {}
    for l, (ja, jb) in enumerate(limbs):
        for a, b in itertools.product(np.flatnonzero(peaks.joint == ja),
                                      np.flatnonzero(peaks.joint == jb)):  # fmt: skip
            d = xy[b] - xy[a]
            n = np.hypot(*d)
            if n < 1e-6:
                continue
            pts = xy[a] + np.linspace(0, 1, s)[:, None] * d
            vx = map_coordinates(paf[2 * l], pts[:, ::-1].T, order=1, mode="nearest")
            vy = map_coordinates(paf[2 * l + 1], pts[:, ::-1].T, order=1, mode="nearest")
            dots = (vx * d[0] + vy * d[1]) / n
            valid = dots > min_paf
            score = dots[valid].mean() if valid.any() else 0.0
            if valid.sum() > min_ratio * s and score > 0:
                out[(l, a, b)] = score
    return out


def test_line_integral_matches_a_brute_force_reference():
    scene = synth_people(3, seed=11, layout="scene")
    hm, paf = synth_maps(scene["keypoints"], noise=0.03, seed=1)
    peaks = find_peaks(hm[:18])
    got = score_limbs(paf, peaks)
    ref = _brute_scores(paf, peaks, OPENPOSE18.limbs)
    assert len(ref) > 30
    assert sorted(zip(got.limb.tolist(), got.a.tolist(), got.b.tolist(), strict=True)) == sorted(
        ref
    )
    for l, a, b, sc in zip(got.limb, got.a, got.b, got.score, strict=True):
        assert sc == pytest.approx(ref[(l, a, b)], abs=1e-5)
    # sorted by limb, then decreasing score
    order = np.lexsort((-got.score, got.limb))
    np.testing.assert_array_equal(order, np.arange(got.limb.size))


def test_nearest_interpolation_rounds_the_samples():
    paf = np.zeros((2, 6, 12), np.float32)
    paf[0, 2, 1:11] = 1.0  # row 2 only; the segment runs at y = 2.4 -> rounds to row 2
    c = score_limbs(paf, peaks_of((0, 1, 2.4), (1, 10, 2.4)), [(0, 1)], interpolation="nearest")
    assert c.score[0] == pytest.approx(1.0)
    c = score_limbs(paf, peaks_of((0, 1, 2.4), (1, 10, 2.4)), [(0, 1)])  # bilinear: 0.6 each
    assert c.score[0] == pytest.approx(0.6, rel=1e-5)


# --------------------------------------------------------------------------- matching


def test_greedy_and_hungarian_differ_on_a_hand_case():
    # scores a0-b0 0.9, a0-b1 0.8, a1-b0 0.7, a1-b1 0.1 (peak ids: a0 0, a1 1, b0 2, b1 3)
    c = Candidates(np.zeros(4, np.int64), np.array([0, 0, 1, 1]), np.array([2, 3, 2, 3]),
                   np.array([0.9, 0.8, 0.7, 0.1]))  # fmt: skip
    g = match_limbs(c, "greedy")
    assert sorted(zip(g.a.tolist(), g.b.tolist(), strict=True)) == [(0, 2), (1, 3)]  # 1.0
    hu = match_limbs(c, "hungarian")
    assert sorted(zip(hu.a.tolist(), hu.b.tolist(), strict=True)) == [(0, 3), (1, 2)]  # 1.5
    with pytest.raises(ValueError, match="method"):
        match_limbs(c, "munkres")


def test_hungarian_is_optimal_and_one_to_one_per_limb():
    rng = np.random.default_rng(0)
    rows = [(l, a, 10 + b) for l in range(2) for a in range(4) for b in range(3)
            if rng.random() < 0.7]  # fmt: skip
    limb, a, b = (np.array(v) for v in zip(*rows, strict=True))
    score = rng.random(limb.size) + 0.01
    order = np.lexsort((-score, limb))
    c = Candidates(limb[order], a[order], b[order], score[order])
    for method in ("greedy", "hungarian"):
        m = match_limbs(c, method)
        for l in range(2):
            sel = m.limb == l
            assert len(set(m.a[sel])) == sel.sum() and len(set(m.b[sel])) == sel.sum()
    hu = match_limbs(c, "hungarian")
    for l in range(2):  # brute force over all one-to-one subsets
        cand = [(x, y, s) for x, y, s, li in zip(c.a, c.b, c.score, c.limb, strict=True) if li == l]
        best = 0.0
        for k in range(len(cand) + 1):
            for sub in itertools.combinations(cand, k):
                if len({x for x, _, _ in sub}) == k and len({y for _, y, _ in sub}) == k:
                    best = max(best, sum(s for _, _, s in sub))
        assert hu.score[hu.limb == l].sum() == pytest.approx(best)


# --------------------------------------------------------------------------- assembly


def test_assemble_merges_disjoint_fragments_and_refuses_overlaps():
    # joints 0..3, limbs (0,1), (2,3), (1,2): two fragments joined by the third limb
    peaks = peaks_of((0, 0, 0), (1, 1, 0), (2, 2, 0), (3, 3, 0))
    limbs = [(0, 1), (2, 3), (1, 2)]
    conns = Candidates(np.array([0, 1, 2]), np.array([0, 2, 1]), np.array([1, 3, 2]),
                       np.array([0.5, 0.6, 0.7]))  # fmt: skip
    ids, score = assemble(peaks, conns, limbs, redundant=(), min_keypoints=1, min_score=0)
    assert ids.tolist() == [[0, 1, 2, 3]]
    assert score[0] == pytest.approx(4 * 1.0 + 0.5 + 0.6 + 0.7)
    # limbs (0,1), (1,2), (2,3); person A = {0, 1, 2 (id 2)}, person B = {2 (id 3), 3};
    # a connection 2 -> 4 would give A two joints of type 2: the people stay apart
    peaks = peaks_of((0, 0, 0), (1, 1, 0), (2, 2, 0), (2, 7, 7), (3, 8, 8))
    limbs = [(0, 1), (1, 2), (2, 3)]
    conns = Candidates(np.array([0, 1, 2, 2]), np.array([0, 1, 3, 2]), np.array([1, 2, 4, 4]),
                       np.array([0.5, 0.6, 0.9, 0.4]))  # fmt: skip
    ids, score = assemble(peaks, conns, limbs, redundant=(), min_keypoints=1, min_score=0)
    assert ids.tolist() == [[0, 1, 2, -1], [-1, -1, 3, 4]]
    assert score.tolist() == pytest.approx([3 + 0.5 + 0.6, 2 + 0.9])
    # min_keypoints drops the 2-joint person; min_score drops low means
    ids, _ = assemble(peaks, conns, limbs, redundant=(), min_keypoints=3, min_score=0)
    assert ids.tolist() == [[0, 1, 2, -1]]
    ids, _ = assemble(peaks, conns, limbs, redundant=(), min_keypoints=1, min_score=1.4)
    assert ids.tolist() == [[-1, -1, 3, 4]]  # 2.9 / 2 = 1.45 >= 1.4 > 4.1 / 3
    # a redundant limb extends people but never starts one: 3 -> 4 is skipped, 2 -> 4 joins A
    ids, _ = assemble(peaks, conns, limbs, redundant=(2,), min_keypoints=1, min_score=0)
    assert ids.tolist() == [[0, 1, 2, 4]]


# --------------------------------------------------------------------------- whole people


def _recovered(people, truth, tol):
    """Every true person matched, with every labelled joint found within ``tol`` px."""
    g, p, _ = match_people(people.keypoints, truth["keypoints"], truth["areas"])
    if len(people.scores) != len(truth["keypoints"]) or len(g) != len(truth["keypoints"]):
        return False
    lab = truth["keypoints"][g, :, 2] > 0
    found = people.keypoints[p, :, 2] > 0
    err = np.hypot(*(people.keypoints[p, :, :2] - truth["keypoints"][g, :, :2]).transpose(2, 0, 1))
    return bool((found[lab]).all() and (err[lab] < tol).all() and not found[~lab].any())


@functools.lru_cache(maxsize=16)
def _scene(num_people: int, seed: int):
    """A separated scene and its clean maps (shared by the greedy and Hungarian runs)."""
    truth = synth_people(num_people, seed=seed)
    return truth, synth_maps(truth["keypoints"])


@pytest.mark.parametrize("num_people", [1, 3, 10, 20])
@pytest.mark.parametrize("method", ["greedy", "hungarian"])
def test_grouping_recovers_every_person_on_clean_maps(num_people, method):
    """456×256 input, stride 8 (57×32 maps). The people are SynthPose poses placed so that
    perfect maps are unambiguous at this resolution (``synth_people(layout="separated")``:
    same-type joints ≥ 4 map px apart, same-limb fields of different people not touching);
    SynthPose's own scenes are not: there, people overlap and at stride 8 two people's joints
    of one type can fall on the same map pixel, which no grouping can split."""
    for seed in range(2):
        truth, (hm, paf) = _scene(num_people, 100 + seed)
        assert len(truth["keypoints"]) == num_people
        assert hm.shape == (19, 32, 57) and paf.shape == (38, 32, 57)
        people = group(hm, paf, stride=8, method=method)
        assert _recovered(people, truth, tol=0.5)


def test_grouping_output_layout_and_scores():
    truth = synth_people(3, seed=12)
    hm, paf = synth_maps(truth["keypoints"])
    people = group(hm, paf)
    assert people.keypoints.shape == (3, 17, 3) and people.keypoints.dtype == np.float32
    assert people.keypoints18.shape == (3, 18, 3)
    np.testing.assert_array_equal(
        people.keypoints, people.keypoints18[:, grouping.OPENPOSE18_TO_COCO17]
    )
    assert (np.diff(people.scores) <= 0).all()
    # person score = (Σ 18 peak scores + Σ 17 tree-limb scores) * (18 - 1): ≈ 35 * 17 on clean maps
    assert people.scores == pytest.approx(np.full(3, 35 * 17), rel=0.1)
    # neck = shoulders' midpoint
    neck = convert(truth["keypoints"], COCO17, OPENPOSE18)[:, 1, :2]
    got = people.keypoints18[:, 1, :2]
    assert np.sort(got[:, 0]) == pytest.approx(np.sort(neck[:, 0]), abs=1e-3)


def test_overlapping_scene_is_the_documented_limit():
    """On SynthPose's own crowded scenes most, not all, people come back from clean maps."""
    ok = total = 0
    for seed in range(3):
        truth = synth_people(10, seed=seed, layout="scene")
        people = group(*synth_maps(truth["keypoints"]))
        _, _, o = match_people(people.keypoints, truth["keypoints"], truth["areas"])
        ok += int((o >= 0.5).sum())
        total += len(truth["keypoints"])
    assert 0.7 * total <= ok <= total


def test_group_bad_input():
    hm, paf = np.zeros((19, 32, 57)), np.zeros((38, 32, 57))
    with pytest.raises(ValueError, match="map sizes"):
        group(hm, paf[:, :16])
    with pytest.raises(ValueError, match="channels"):
        group(hm[:10], paf)
    with pytest.raises(ValueError, match="pafs"):
        score_limbs(paf[:36], find_peaks(hm[:18]))
    with pytest.raises(ValueError, match="interpolation"):
        score_limbs(paf, find_peaks(hm[:18]), interpolation="cubic")
    with pytest.raises(ValueError, match="stride"):
        group(hm, paf, stride=0)
    empty = group(hm, paf)
    assert empty.keypoints.shape == (0, 17, 3) and empty.scores.shape == (0,)


def test_max_peaks_keeps_the_highest_of_each_channel():
    rng = np.random.default_rng(2)
    hm = rng.random((3, 30, 40)).astype(np.float32)  # noise: many local maxima
    every = find_peaks(hm, max_peaks=None)
    few = find_peaks(hm, max_peaks=5)
    assert every.counts.min() > 5 and few.counts.tolist() == [5, 5, 5]
    for k in range(3):
        top = np.sort(every.score[every.joint == k])[::-1][:5]
        np.testing.assert_array_equal(np.sort(few.score[few.joint == k])[::-1], top)
    with pytest.raises(ValueError, match="max_peaks"):
        find_peaks(hm, max_peaks=0)
