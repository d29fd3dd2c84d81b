"""Tests of the lab's post-processing experiments: ``posekit.lab.postprocess`` (the naive and
the map-resolution paths find the people; correctness only, not speed) and
``posekit.lab.grouping_noise``."""

from __future__ import annotations

import math

import numpy as np
import pytest
from test_grouping import _recovered

from posekit.codecs.paf import paf_targets
from posekit.evaluation import match_people
from posekit.lab.grouping_noise import noise_robustness
from posekit.lab.postprocess import (
    bench_postprocess,
    format_report,
    naive_path,
    naive_peaks,
    optimized_path,
    resize_maps,
    synth_maps,
    synth_people,
)
from posekit.skeletons import COCO17, OPENPOSE18, convert


def test_noise_robustness_degrades_from_perfect():
    rows = noise_robustness(noise=(0.0, 0.3), num_people=3, num_images=2)
    assert [r["noise"] for r in rows] == [0.0, 0.3]
    assert rows[0]["AP"] == pytest.approx(1.0) and rows[0]["recovered"] == 100.0
    assert rows[0]["error"] == pytest.approx(0.0, abs=1e-3) and rows[0]["joints"] == 100.0
    assert rows[1]["AP"] < rows[0]["AP"] and rows[1]["error"] > rows[0]["error"]


def test_naive_peaks_follow_lightweight_openpose():
    hm = np.zeros((1, 20, 30), np.float32)
    hm[0, 5, 10], hm[0, 5, 14] = 0.9, 0.8  # 4 px apart: the later one (in x) is dropped
    hm[0, 5, 20] = 0.5
    hm[0, 12, 3], hm[0, 12, 4] = 0.6, 0.6  # a plateau: neither is strictly above the other
    hm[0, 15, 25] = 0.05  # below 0.1
    p = naive_peaks(hm)
    np.testing.assert_array_equal(p.xy, [[10, 5], [20, 5]])
    np.testing.assert_allclose(p.score, [0.9, 0.5])


def test_resize_maps_is_cubic_and_keeps_the_pixel_centres():
    truth = synth_people(1, seed=13)
    hm, paf = synth_maps(truth["keypoints"])
    big_hm, big_paf = resize_maps(hm, paf, 8)
    assert big_hm.shape == (19, 256, 456) and big_paf.shape == (38, 256, 456)
    # a map pixel centre j lands on input pixel 8j + 3.5: between pixels 8j+3 and 8j+4
    centre = big_hm[:, 4 * 8 + 3 : 4 * 8 + 5, 10 * 8 + 3 : 10 * 8 + 5].mean((1, 2))
    np.testing.assert_allclose(centre, hm[:, 4, 10], atol=0.02)


@pytest.mark.parametrize("num_people", [3, 20])
def test_both_bench_paths_find_the_people(num_people):
    """The map-resolution path recovers every joint exactly; the naive path (cubic ×8
    upsampling, integer peaks) finds every person too (OKS ≥ 0.5), but not always every
    joint: cubic interpolation overshoots (PAF values up to ~1.2), so a wrong pair running
    along two stacked people's limbs can outscore the right one and split a person."""
    truth = synth_people(num_people, seed=14)
    hm, paf = synth_maps(truth["keypoints"])
    assert _recovered(optimized_path(hm, paf, 8), truth, tol=0.5)
    naive = naive_path(hm, paf, 8)
    _, _, o = match_people(naive.keypoints, truth["keypoints"], truth["areas"])
    assert len(o) == num_people and (o >= 0.5).all()


def test_bench_postprocess_reports_both_paths():
    result = bench_postprocess(people=3, runs=2, scenes=2)
    opt, naive = result["optimized"]["accuracy"], result["naive"]["accuracy"]
    assert opt["matched"] == opt["true"] == opt["found"] == 6 and opt["AP"] == pytest.approx(1)
    assert opt["error"] == pytest.approx(0, abs=1e-3)
    assert opt["joints"] == 100.0
    assert naive["matched"] == naive["true"] == 6 and naive["joints"] > 90 and naive["error"] > 0
    for name in ("naive", "optimized"):
        assert set(result[name]["wall"]) == {"resize", "extract", "group", "total"}
        assert all(v >= 0 and math.isfinite(v) for v in result[name]["cpu"].values())
    text = format_report(result)
    assert "naive" in text and "optimized" in text and "4 ms" in text
    assert text.count("✓") + text.count("✗") == 2  # wall and CPU against the goal
    with pytest.raises(ValueError, match="size"):
        bench_postprocess(people=1, size=(450, 256), runs=1, scenes=1)


def test_paf_targets_used_by_the_bench_are_the_codecs():
    truth = synth_people(2, seed=15)
    _, paf = synth_maps(truth["keypoints"])
    op = convert(truth["keypoints"], COCO17, OPENPOSE18)
    np.testing.assert_array_equal(paf, paf_targets(op, (57, 32), 8, end_margin=1.0))
