"""PAFExplorer (lesson 04): one limb's peaks, scored candidate pairs and greedy matches agree
with posekit.codecs.grouping; grouping.pair_scores gives score_limbs' numbers for every pair."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from posekit.codecs import grouping  # noqa: E402
from posekit.lab.postprocess import synth_maps, synth_people  # noqa: E402
from posekit.skeletons import COCO17, OPENPOSE18, convert  # noqa: E402
from posekit.widgets import PAFExplorer  # noqa: E402

SIZE = (456, 256)


@pytest.fixture(scope="module")
def scene():
    people = synth_people(3, SIZE, seed=2)
    hm, paf = synth_maps(people["keypoints"], SIZE)
    image = np.full((SIZE[1], SIZE[0], 3), 200, np.uint8)
    return image, hm, paf, people["keypoints"]


def _grouping_view(hm, paf, limb, threshold=0.1, min_paf=0.05, min_ratio=0.8):
    """What posekit.codecs.grouping does with one limb: its candidates and connections, with peak
    ids made local to the limb's two joint types."""
    peaks = grouping.find_peaks(hm[:18], threshold)
    start = np.concatenate([[0], np.cumsum(peaks.counts)])
    ja, jb = OPENPOSE18.limbs[limb]
    cands = grouping.score_limbs(paf, peaks, min_paf=min_paf, min_ratio=min_ratio)
    conns = grouping.match_limbs(cands, "greedy")

    def local(c):
        sel = c.limb == limb
        return {(int(a - start[ja]), int(b - start[jb])): s
                for a, b, s in zip(c.a[sel], c.b[sel], c.score[sel], strict=True)}  # fmt: skip

    return peaks, local(cands), local(conns)


def test_every_limb_agrees_with_grouping_on_clean_targets(scene):
    image, hm, paf, gt = scene
    explorer = PAFExplorer(image, hm, paf)
    gt18 = convert(gt, COCO17, OPENPOSE18)
    for l_idx, name in enumerate(PAFExplorer.LIMB_NAMES):
        explorer.controls["limb"].value = name
        r = explorer.result
        peaks, cands, conns = _grouping_view(hm, paf, l_idx)
        ja, jb = OPENPOSE18.limbs[l_idx]
        assert r["limb_index"] == l_idx and r["joints"] == (OPENPOSE18.joints[ja],
                                                            OPENPOSE18.joints[jb])  # fmt: skip
        np.testing.assert_allclose(r["peaks_a"][:, :2], peaks.xy[peaks.joint == ja] * 8 + 3.5)
        assert len(r["pairs"]) == len(r["peaks_a"]) * len(r["peaks_b"])
        accepted = {
            tuple(p): s
            for p, s in zip(
                r["pairs"][r["accepted"]].tolist(), r["scores"][r["accepted"]], strict=True
            )
        }
        assert accepted.keys() == cands.keys()
        for key, s in cands.items():
            assert accepted[key] == pytest.approx(s, abs=1e-6)
        assert sorted(map(tuple, r["matches"].tolist())) == sorted(conns)
        assert r["matched"].sum() == len(r["matches"])
        # clean, well-separated people: each match joins the two joints of one true person
        for ia, ib in r["matches"]:
            pa, pb = r["peaks_a"][ia, :2], r["peaks_b"][ib, :2]
            near_a = np.argmin(np.hypot(*(gt18[:, ja, :2] - pa).T))
            near_b = np.argmin(np.hypot(*(gt18[:, jb, :2] - pb).T))
            assert near_a == near_b
        lab = (gt18[:, ja, 2] > 0) & (gt18[:, jb, 2] > 0)
        assert len(r["matches"]) == lab.sum()  # every labelled limb found, nothing else


def test_candidate_geometry_quiver_and_thresholds(scene):
    image, hm, paf, gt = scene
    explorer = PAFExplorer(image, hm, paf, limb="neck → right_hip", step=2)
    r = explorer.result
    assert r["limb"] == "neck → right_hip" and len(r["peaks_a"]) == 3 == len(r["peaks_b"])
    assert r["pairs"].shape == (9, 2) and r["segments"].shape == (9, 2, 2)
    np.testing.assert_allclose(r["segments"][:, 0], r["peaks_a"][r["pairs"][:, 0], :2])
    np.testing.assert_allclose(r["segments"][:, 1], r["peaks_b"][r["pairs"][:, 1], :2])
    # the wrong pairs cross other people's empty field: low valid fraction
    assert r["accepted"].sum() == 3 and (r["fractions"][~r["accepted"]] <= 0.8).all()
    # quiver: every 2nd map pixel where the limb's field is non-zero, at pixel centres
    l_idx = r["limb_index"]
    u_map = paf[2 * l_idx, ::2, ::2]
    assert len(r["quiver"]["u"]) == int((np.hypot(u_map, paf[2 * l_idx + 1, ::2, ::2])
                                         >= explorer.min_magnitude).sum())  # fmt: skip
    assert ((r["quiver"]["x"] - 3.5) % 16 == 0).all()
    # a stricter fraction can only remove candidates; min_fraction 0.95 with 10 samples
    # needs all 10 samples valid
    with explorer.hold():
        explorer.controls["min_fraction"].value = 0.95
    strict = explorer.result
    assert (strict["accepted"] <= r["accepted"]).all()
    assert (strict["fractions"][strict["accepted"]] == 1.0).all()
    # a higher peak threshold keeps only the peaks whose map value exceeds it
    explorer.controls["threshold"].value = 0.9
    high = explorer.result
    peaks = grouping.find_peaks(hm[:18], 0.9)
    n_a, n_b = (peaks.joint == 1).sum(), (peaks.joint == 8).sum()
    assert (len(high["peaks_a"]), len(high["peaks_b"])) == (n_a, n_b) and n_a * n_b < 9
    assert high["pairs"].shape == (n_a * n_b, 2) and (high["peaks_a"][:, 2] > 0.9).all()
    assert explorer.figure(explorer.result) is not None


def test_a_missing_field_is_rejected_and_tensors_are_accepted(scene):
    image, hm, paf, gt = scene
    l_idx = 2  # right_shoulder → right_elbow
    cut = paf.copy()
    cut[2 * l_idx : 2 * l_idx + 2] = 0
    explorer = PAFExplorer(torch.from_numpy(image).permute(2, 0, 1).float() * 0, torch.from_numpy(
        hm)[None], torch.from_numpy(cut)[None], limb=l_idx)  # fmt: skip
    r = explorer.result
    assert len(r["pairs"]) == 9 and not r["accepted"].any() and len(r["matches"]) == 0
    assert (r["scores"] == 0).all() and (r["fractions"] == 0).all()
    # from a network-style output: a list of (heatmaps, pafs) per stage, batched
    outs = [(torch.zeros(2, 19, 32, 57), torch.zeros(2, 38, 32, 57)),
            (torch.from_numpy(hm)[None].repeat(2, 1, 1, 1),
             torch.from_numpy(paf)[None].repeat(2, 1, 1, 1))]  # fmt: skip
    e2 = PAFExplorer.from_outputs(image, outs, index=1, limb=l_idx)
    assert e2.result["accepted"].sum() == 3


def test_bad_input_is_named(scene):
    image, hm, paf, _ = scene
    with pytest.raises(ValueError, match="pafs"):
        PAFExplorer(image, hm, paf[:36])
    with pytest.raises(ValueError, match="stride"):
        PAFExplorer(image[:250], hm, paf)
    with pytest.raises(ValueError, match="limb"):
        PAFExplorer(image, hm, paf, limb="nose → tail")


def test_pair_scores_are_score_limbs_numbers_on_noisy_maps(scene):
    _, hm, paf, _ = scene
    rng = np.random.default_rng(0)
    noisy_hm = hm + rng.normal(0, 0.15, hm.shape).astype(np.float32)
    noisy_paf = paf + rng.normal(0, 0.3, paf.shape).astype(np.float32)
    peaks = grouping.find_peaks(noisy_hm[:18], 0.3)
    start = np.concatenate([[0], np.cumsum(peaks.counts)])
    for interpolation in ("bilinear", "nearest"):
        cands = grouping.score_limbs(noisy_paf, peaks, min_ratio=0.5,
                                     interpolation=interpolation)  # fmt: skip
        kept = 0
        for l_idx, (ja, jb) in enumerate(OPENPOSE18.limbs):
            a_xy, b_xy = peaks.xy[peaks.joint == ja], peaks.xy[peaks.joint == jb]
            score, frac = grouping.pair_scores(noisy_paf, l_idx, a_xy, b_xy,
                                               interpolation=interpolation)  # fmt: skip
            ok = (frac > 0.5) & (score > 0)
            sel = cands.limb == l_idx
            ia, ib = cands.a[sel] - start[ja], cands.b[sel] - start[jb]
            assert ok.sum() == sel.sum()
            assert ok[ia, ib].all()
            np.testing.assert_allclose(score[ia, ib], cands.score[sel], atol=1e-9)
            kept += sel.sum()
        assert kept > 10
    # hand case: a uniform field (1, 0) and a horizontal pair scores 1 with all samples valid
    field = np.zeros((38, 4, 6), np.float32)
    field[0] = 1.0
    score, frac = grouping.pair_scores(field, 0, [[0, 1]], [[5, 1], [0, 1], [0, 3]])
    np.testing.assert_allclose(score, [[1.0, 0.0, 0.0]])  # a = b and a vertical pair: 0
    np.testing.assert_allclose(frac, [[1.0, 0.0, 0.0]])
    with pytest.raises(ValueError, match="limb"):
        grouping.pair_scores(field, 19, [[0, 1]], [[1, 1]])
    with pytest.raises(ValueError, match="a_xy"):
        grouping.pair_scores(field, 0, [[0, 1, 2]], [[1, 1]])
