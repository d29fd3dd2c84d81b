"""Tests of posekit.datasets.transforms: geometry, flips, colour jitter, half-body, pipeline."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from posekit.datasets.transforms import (
    PIXEL_STD,
    TopDownAffine,
    affine_matrix,
    body_halves,
    box_to_center_scale,
    color_jitter,
    compose_affine,
    flip_center,
    flip_image,
    flip_keypoints,
    flip_matrix,
    half_body,
    in_bounds,
    inverse_keypoints,
    invert_affine,
    mpii_center_scale,
    transform_keypoints,
    warp_image,
)
from posekit.skeletons import COCO17, MPII16

FAST = settings(max_examples=40, deadline=None)
seeds = st.integers(0, 2**32 - 1)


def random_keypoints(rng, k=17, n=None, lo=0.0, hi=300.0, p_unlabelled=0.25):
    """(K, 3) or (N, K, 3) float32 keypoints; unlabelled joints are (0, 0, 0)."""
    shape = (k,) if n is None else (n, k)
    xy = rng.uniform(lo, hi, shape + (2,))
    v = rng.choice([1, 2], shape).astype(np.float64)
    v[rng.random(shape) < p_unlabelled] = 0
    kp = np.concatenate([xy, v[..., None]], axis=-1).astype(np.float32)
    kp[v == 0] = 0
    return kp


def blob_image(x, y, size=(200, 160), sigma=3.0):
    """uint8 RGB image with one Gaussian blob centred on pixel coordinates (x, y)."""
    w, h = size
    ys, xs = np.mgrid[:h, :w]
    g = np.exp(-((xs - x) ** 2 + (ys - y) ** 2) / (2 * sigma**2))
    return np.repeat(np.rint(255 * g).astype(np.uint8)[..., None], 3, axis=2)


def centroid(image):
    """Intensity centroid (x, y) of a 2D (or first channel of a 3D) image."""
    img = image[..., 0] if image.ndim == 3 else image
    img = img.astype(np.float64)
    ys, xs = np.mgrid[: img.shape[0], : img.shape[1]]
    return np.array([(img * xs).sum(), (img * ys).sum()]) / img.sum()


# --------------------------------------------------------------------------- boxes


def test_box_to_center_scale_pads_to_aspect_ratio_like_hrnet():
    center, scale = box_to_center_scale([10, 20, 30, 80], aspect_ratio=0.75)
    np.testing.assert_allclose(center, [25, 60])
    np.testing.assert_allclose(scale, np.array([60, 80]) / PIXEL_STD * 1.25)  # w grown to 0.75 h
    center, scale = box_to_center_scale([0, 0, 90, 30], aspect_ratio=0.75, padding=1.0)
    np.testing.assert_allclose(center, [45, 15])
    np.testing.assert_allclose(scale, np.array([90, 120]) / PIXEL_STD)  # h grown to w / 0.75
    assert center.dtype == scale.dtype == np.float32


def test_mpii_center_scale_moves_down_and_enlarges():
    center, scale = mpii_center_scale([100, 200], 2.0)
    np.testing.assert_allclose(center, [100, 230])
    np.testing.assert_allclose(scale, [2.5, 2.5])
    center, _ = mpii_center_scale([100, 200], 2.0, one_based=True)
    np.testing.assert_allclose(center, [99, 229])


# --------------------------------------------------------------------------- affine geometry


def test_hand_case_centre_and_corners():
    # box 200 px (scale 1) centred at (100, 50) into a 64×64 crop: zoom 64/200 = 0.32
    m = affine_matrix((100, 50), 1.0, 0, (64, 64))
    pts = np.array([[100, 50, 2], [0, -50, 2], [200, 150, 2], [110, 50, 2]], np.float32)
    out = transform_keypoints(pts, m)
    np.testing.assert_allclose(out[0, :2], [31.5, 31.5])  # centre -> ((w-1)/2, (h-1)/2)
    np.testing.assert_allclose(out[1, :2], [-0.5, -0.5])  # box corner -> crop's outer corner
    np.testing.assert_allclose(out[2, :2], [63.5, 63.5])
    np.testing.assert_allclose(out[3, :2], [31.5 + 3.2, 31.5])
    # the centre of crop pixel (0, 0) is half a crop pixel (100/64 px) inside the box corner
    back = transform_keypoints([[0, 0, 2]], affine_matrix((100, 50), 1.0, 0, (64, 64), True))
    np.testing.assert_allclose(back[0, :2], [100 / 64, -50 + 100 / 64], atol=1e-5)


def test_rotation_is_counter_clockwise_as_displayed():
    right_of_centre = np.array([[110, 50, 2]], np.float32)
    up = transform_keypoints(right_of_centre, affine_matrix((100, 50), 1.0, 90, (64, 64)))
    np.testing.assert_allclose(up[0, :2], [31.5, 31.5 - 3.2], atol=1e-5)  # y down: above
    down = transform_keypoints(right_of_centre, affine_matrix((100, 50), 1.0, -90, (64, 64)))
    np.testing.assert_allclose(down[0, :2], [31.5, 31.5 + 3.2], atol=1e-5)


@given(angle=st.floats(-360, 360), zoom=st.floats(0.1, 10))
@FAST
def test_rotation_matches_opencv_sign(angle, zoom):
    m = affine_matrix((0, 0), 64 / PIXEL_STD / zoom, angle, (64, 64))
    ref = cv2.getRotationMatrix2D((0.0, 0.0), angle, zoom)
    np.testing.assert_allclose(m[:, :2], ref[:, :2], atol=1e-9)


def test_shift_is_a_fraction_of_the_box():
    m = affine_matrix((100, 50), (1.0, 0.5), 0, (64, 32), shift=(0.1, -0.2))
    out = transform_keypoints([[120, 30, 2]], m)  # 0.1·200 right, 0.2·100 up
    np.testing.assert_allclose(out[0, :2], [31.5, 15.5])


@given(
    seed=seeds,
    cx=st.floats(-100, 1000),
    cy=st.floats(-100, 1000),
    sw=st.floats(0.2, 3),
    sh=st.floats(0.2, 3),
    rot=st.floats(-180, 180),
    w=st.integers(16, 384),
    h=st.integers(16, 384),
)
@FAST
def test_transform_then_inverse_is_identity(seed, cx, cy, sw, sh, rot, w, h):
    rng = np.random.default_rng(seed)
    half = np.array([sw, sh]) * PIXEL_STD
    kp = random_keypoints(rng, n=2)
    kp[..., :2] = np.where(kp[..., 2:] > 0, kp[..., :2] - 150 + (cx, cy), 0)
    kp[..., :2] *= np.where(kp[..., 2:] > 0, half / 300, 1)  # within about a box of the centre
    m = affine_matrix((cx, cy), (sw, sh), rot, (w, h))
    crop = transform_keypoints(kp, m)
    np.testing.assert_allclose(inverse_keypoints(crop, m), kp, atol=1e-3)
    inv = affine_matrix((cx, cy), (sw, sh), rot, (w, h), inverse=True)
    np.testing.assert_allclose(transform_keypoints(crop, inv), kp, atol=1e-3)
    np.testing.assert_allclose(compose_affine(inv, m), np.eye(3)[:2], atol=1e-9)


def test_invert_affine_of_flip_is_itself():
    np.testing.assert_allclose(invert_affine(flip_matrix(10)), flip_matrix(10))


# --------------------------------------------------------------------------- image ↔ keypoints


@given(
    k=st.sampled_from([1, 2, 4]),
    rot=st.sampled_from([0, 90, 180, 270, -90]),
    w=st.integers(12, 48),
    h=st.integers(12, 48),
    x0=st.integers(0, 49),
    y0=st.integers(0, 39),
    fx=st.floats(0.3, 0.7),
    fy=st.floats(0.3, 0.7),
)
@FAST
def test_one_hot_pixel_lands_where_transform_keypoints_says(k, rot, w, h, x0, y0, fx, fy):
    # integer zoom k, box chosen so that pixel (x0, y0) lands on the crop pixel (mx, my)
    mx, my = round(fx * (w - 1)), round(fy * (h - 1))
    d = np.array([mx - (w - 1) / 2, my - (h - 1) / 2]) / k  # crop offset in image pixels
    cos, sin = np.cos(np.deg2rad(rot)), np.sin(np.deg2rad(rot))
    d_img = np.array([[cos, -sin], [sin, cos]]) @ d  # R(rot)⁻¹ d
    center = np.array([x0, y0]) - d_img
    m = affine_matrix(center, (w / (k * PIXEL_STD), h / (k * PIXEL_STD)), rot, (w, h))
    image = np.zeros((40, 50), np.float32)
    image[y0, x0] = 1.0
    crop = warp_image(image, m, (w, h))
    kp = transform_keypoints([[x0, y0, 2]], m)
    np.testing.assert_allclose(kp[0, :2], [mx, my], atol=1e-4)
    assert np.unravel_index(crop.argmax(), crop.shape) == (my, mx)
    assert crop[my, mx] == pytest.approx(1.0)
    if min(mx, my, w - 1 - mx, h - 1 - my) >= k:  # the whole bilinear tent is in the crop
        np.testing.assert_allclose(centroid(crop), [mx, my], atol=1e-4)


@pytest.mark.parametrize("seed", range(6))
def test_blob_follows_its_keypoint_under_any_affine(seed):
    rng = np.random.default_rng(seed)
    x, y = rng.uniform(60, 140), rng.uniform(50, 110)
    image = blob_image(x, y, sigma=6.0)
    center = np.array([x, y]) + rng.uniform(-20, 20, 2)
    m = affine_matrix(center, rng.uniform(0.5, 1.0, 2), rng.uniform(-180, 180), (64, 48))
    crop = warp_image(image, m, (64, 48))
    expected = transform_keypoints([[x, y, 2]], m)[0, :2]
    np.testing.assert_allclose(centroid(crop), expected, atol=0.05)


def test_warp_image_shapes_dtypes_and_borders():
    image = np.full((10, 12, 3), 200, np.uint8)
    m = affine_matrix((5.5, 4.5), 24 / PIXEL_STD, 0, (24, 20))  # zoom out ×0.5: border visible
    out = warp_image(image, m, (24, 20))
    assert out.shape == (20, 24, 3) and out.dtype == np.uint8
    assert out[0, 0, 0] == 0 and out[10, 12, 0] == 200
    assert warp_image(image, m, (24, 20), border="replicate")[0, 0, 0] == 200
    assert warp_image(image, m, (24, 20), fill=7)[0, 0, 0] == 7
    gray = warp_image(np.ones((10, 12), np.float32), m, (24, 20))
    assert gray.shape == (20, 24) and gray.dtype == np.float32
    assert warp_image(np.ones((10, 12, 1), np.uint8), m, (24, 20)).shape == (20, 24, 1)


def test_in_bounds_uses_pixel_areas_and_labels():
    kp = np.array([[-0.5, 0, 2], [-0.51, 0, 2], [9.49, 4.49, 1], [9.5, 0, 2], [0, 0, 0]])
    np.testing.assert_array_equal(in_bounds(kp, (10, 5)), [True, False, True, False, False])
    assert in_bounds(kp[None], (10, 5)).shape == (1, 5)


# --------------------------------------------------------------------------- flips


@given(seed=seeds, h=st.integers(1, 20), w=st.integers(1, 20), c=st.sampled_from([1, 3]))
@FAST
def test_flip_twice_is_identity(seed, h, w, c):
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 256, (h, w, c), dtype=np.uint8)
    np.testing.assert_array_equal(flip_image(flip_image(image)), image)
    kp = random_keypoints(rng, n=3, hi=w)
    twice = flip_keypoints(flip_keypoints(kp, w, "coco17"), w, "coco17")
    np.testing.assert_allclose(twice, kp, atol=1e-5)  # float32 rounding of w - 1 - x
    center = rng.uniform(0, w, 2)
    np.testing.assert_allclose(flip_center(flip_center(center, w), w), center, atol=1e-4)


def test_flip_maps_column_x_to_w_minus_1_minus_x_and_swaps_sides():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (5, 7, 3), dtype=np.uint8)
    flipped = flip_image(image)
    for x in range(7):
        np.testing.assert_array_equal(flipped[:, 6 - x], image[:, x])
    assert flipped.flags.c_contiguous
    kp = np.zeros((17, 3), np.float32)
    ls, rs, nose = (COCO17.index(n) for n in ("left_shoulder", "right_shoulder", "nose"))
    kp[ls] = (1, 2, 2)
    kp[rs] = (5, 2, 1)
    kp[nose] = (3, 0, 2)
    out = flip_keypoints(kp, 7, "coco17")
    np.testing.assert_allclose(out[rs], (5, 2, 2))  # the left shoulder, mirrored: now right
    np.testing.assert_allclose(out[ls], (1, 2, 1))
    np.testing.assert_allclose(out[nose], (3, 0, 2))  # the middle column stays
    assert (out[kp[:, 2] == 0] == 0).all()  # unlabelled joints stay (0, 0, 0)
    np.testing.assert_allclose(flip_center((1.5, 4), 7), (4.5, 4))
    np.testing.assert_allclose(transform_keypoints(kp, flip_matrix(7))[ls], (5, 2, 2))


@given(seed=seeds, rot=st.floats(-90, 90))
@FAST
def test_flip_commutes_with_crop(seed, rot):
    # UDP's unbiasedness: crop of the flipped image = flipped crop of the image (rotation mirrored)
    rng = np.random.default_rng(seed)
    width, out = 120, (48, 64)
    kp = random_keypoints(rng, hi=width)
    center, scale = rng.uniform(40, 80, 2), rng.uniform(0.3, 0.6, 2)
    a = transform_keypoints(
        flip_keypoints(kp, width, "coco17"),
        affine_matrix(flip_center(center, width), scale, rot, out),
    )
    b = flip_keypoints(
        transform_keypoints(kp, affine_matrix(center, scale, -rot, out)), 48, "coco17"
    )
    np.testing.assert_allclose(a, b, atol=1e-3)


def test_flip_commutes_with_crop_on_images():
    rng = np.random.default_rng(1)
    ys, xs = np.mgrid[:90, :120]
    image = 127 + 60 * np.sin(xs / 7.0) * np.cos(ys / 9.0) + rng.uniform(0, 1, (90, 120))
    image = np.repeat(image.astype(np.uint8)[..., None], 3, axis=2)
    center, scale, rot, out = (50.3, 40.7), (0.3, 0.4), 25.0, (48, 64)
    a = warp_image(flip_image(image), affine_matrix(flip_center(center, 120), scale, rot, out), out)
    b = flip_image(warp_image(image, affine_matrix(center, scale, -rot, out), out))
    assert np.abs(a.astype(int) - b.astype(int)).max() <= 3  # cv2 quantises to 1/32 px


# --------------------------------------------------------------------------- unlabelled joints


def test_unlabelled_joints_are_never_moved():
    rng = np.random.default_rng(3)
    kp = random_keypoints(rng, n=2, p_unlabelled=0.5)
    unlabelled = kp[..., 2] == 0
    assert unlabelled.any()
    m = affine_matrix((150, 150), 1.2, 33, (64, 48))
    for out in (
        transform_keypoints(kp, m),
        inverse_keypoints(kp, m),
        flip_keypoints(kp, 300, "coco17")[:, COCO17.flip_permutation()],
    ):
        assert (out[unlabelled] == 0).all()
        assert out.dtype == np.float32 and out.shape == kp.shape
    res = TopDownAffine((48, 64))(
        np.zeros((300, 300, 3), np.uint8), kp[0], (150, 150), (1.2, 1.2), rng
    )
    perm = COCO17.flip_permutation() if res["flipped"] else np.arange(17)
    assert (res["keypoints"][unlabelled[0][perm]] == 0).all()


# --------------------------------------------------------------------------- colour


def test_color_jitter_dtype_shape_and_determinism():
    image = np.random.default_rng(0).integers(0, 256, (16, 20, 3), dtype=np.uint8)
    a = color_jitter(image, np.random.default_rng(5))
    b = color_jitter(image, np.random.default_rng(5))
    c = color_jitter(image, np.random.default_rng(6))
    assert a.dtype == np.uint8 and a.shape == image.shape
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(color_jitter(image, 5), a)  # an integer seed works too
    assert not np.array_equal(a, c)
    np.testing.assert_array_equal(color_jitter(image, np.random.default_rng(1), 0, 0, 0, 0), image)


def test_color_jitter_components():
    image = np.full((4, 4, 3), (100, 50, 25), np.uint8)
    rng = np.random.default_rng(2)
    bright = color_jitter(image, rng, brightness=0.5, contrast=0, saturation=0, hue=0)
    ratio = bright.astype(float) / image
    assert np.ptp(ratio) < 0.05 and 0.5 <= ratio.mean() <= 1.5  # one gain for all channels
    gray = color_jitter(image, rng, brightness=0, contrast=0, saturation=1, hue=0)
    assert gray.shape == image.shape  # saturation factor may reach 0 (grey)
    hue = color_jitter(image, rng, brightness=0, contrast=0, saturation=0, hue=0.5)
    assert abs(int(hue.max()) - 100) <= 1 and abs(int(hue.min()) - 25) <= 1  # hue keeps V, S


# --------------------------------------------------------------------------- half body


def test_body_halves_match_hrnet_lists():
    upper, lower = body_halves("coco17")
    np.testing.assert_array_equal(upper, range(0, 11))
    np.testing.assert_array_equal(lower, range(11, 17))
    upper, lower = body_halves(MPII16)
    np.testing.assert_array_equal(upper, range(7, 16))
    np.testing.assert_array_equal(lower, range(0, 7))


@given(seed=seeds)
@FAST
def test_half_body_box_covers_the_chosen_half(seed):
    rng = np.random.default_rng(seed)
    kp = random_keypoints(rng, p_unlabelled=0.2)
    result = half_body(kp, "coco17", rng, aspect_ratio=0.75)
    upper, lower = (ids[kp[ids, 2] > 0] for ids in body_halves("coco17"))
    if max(len(upper), len(lower)) < 2:
        assert result is None
        return
    center, scale = result
    half = scale * PIXEL_STD / 2
    assert scale[0] / scale[1] == pytest.approx(0.75, rel=1e-5)

    def covered(ids):
        pts = kp[ids, :2]
        return len(ids) >= 2 and bool(np.all(np.abs(pts - center) <= half + 1e-3))

    assert covered(upper) or covered(lower)


def test_half_body_none_with_too_few_joints():
    kp = np.zeros((17, 3), np.float32)
    kp[0] = (10, 10, 2)
    assert half_body(kp, "coco17", np.random.default_rng(0)) is None


# --------------------------------------------------------------------------- pipeline


def test_pipeline_is_deterministic_and_shaped():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (160, 200, 3), dtype=np.uint8)
    kp = random_keypoints(rng, lo=60, hi=140)
    pipe = TopDownAffine((48, 64))
    a = pipe(image, kp, (100, 80), (0.6, 0.8), np.random.default_rng(9))
    b = pipe(image, kp, (100, 80), (0.6, 0.8), np.random.default_rng(9))
    assert a["image"].shape == (64, 48, 3) and a["image"].dtype == np.uint8
    assert a["keypoints"].shape == (17, 3) and a["keypoints"].dtype == np.float32
    assert a["matrix"].shape == (2, 3)
    np.testing.assert_array_equal(a["image"], b["image"])
    np.testing.assert_array_equal(a["keypoints"], b["keypoints"])
    perm = COCO17.flip_permutation() if a["flipped"] else np.arange(17)
    np.testing.assert_array_equal(a["keypoints"][:, 2], kp[perm, 2])


@pytest.mark.parametrize("seed", range(8))
def test_pipeline_image_and_keypoints_agree(seed):
    # one blob per joint, same augmentation each time: the blob sits on the joint's crop keypoint
    kp = np.zeros((17, 3), np.float32)
    joints = [COCO17.index(n) for n in ("left_wrist", "right_knee", "nose")]
    kp[joints] = [(85, 70, 2), (115, 95, 2), (100, 60, 1)]
    pipe = TopDownAffine((48, 64), rotation=30, scale=(0.9, 1.1), half_body_prob=0, color=False)
    flips = []
    for j in joints:
        image = blob_image(*kp[j, :2], sigma=4.0)
        res = pipe(image, kp, (100, 80), (0.5, 0.6667), np.random.default_rng(seed))
        perm = COCO17.flip_permutation() if res["flipped"] else np.arange(17)
        crop_j = int(np.flatnonzero(perm == j)[0])  # where joint j went after the left/right swap
        np.testing.assert_allclose(centroid(res["image"]), res["keypoints"][crop_j, :2], atol=0.1)
        flips.append(res["flipped"])
    assert len(set(flips)) == 1


def test_pipeline_flips_some_samples_and_inverse_recovers_keypoints():
    rng = np.random.default_rng(4)
    image = rng.integers(0, 256, (160, 200, 3), dtype=np.uint8)
    kp = random_keypoints(rng, lo=60, hi=140)
    pipe = TopDownAffine((48, 64), half_body_prob=0.5)
    flipped = []
    for seed in range(12):
        res = pipe(image, kp, (100, 80), (0.6, 0.8), np.random.default_rng(seed))
        back = pipe.inverse_keypoints(res["keypoints"], res["matrix"], res["flipped"])
        np.testing.assert_allclose(back, kp, atol=1e-3)
        flipped.append(res["flipped"])
    assert any(flipped) and not all(flipped)


def test_for_eval_is_the_plain_crop():
    rng = np.random.default_rng(5)
    image = rng.integers(0, 256, (160, 200, 3), dtype=np.uint8)
    kp = random_keypoints(rng, lo=60, hi=140)
    center, scale = box_to_center_scale([60, 30, 80, 100])
    res = TopDownAffine.for_eval((48, 64))(image, kp, center, scale, rng)
    m = affine_matrix(center, scale, 0, (48, 64))
    np.testing.assert_allclose(res["matrix"], m)
    np.testing.assert_array_equal(res["image"], warp_image(image, m, (48, 64)))
    np.testing.assert_allclose(res["keypoints"], transform_keypoints(kp, m))
    assert not res["flipped"] and res["rotation"] == 0


# --------------------------------------------------------------------------- input checks


GOOD_IMAGE = np.zeros((10, 10, 3), np.uint8)
M = affine_matrix((5, 5), 0.05, 0, (8, 8))
RNG = np.random.default_rng(0)


@pytest.mark.parametrize(
    "call, arg",
    [
        (lambda: box_to_center_scale([0, 0, -1, 5]), "box_xywh"),
        (lambda: box_to_center_scale([0, 0, 1, 5], aspect_ratio=0), "aspect_ratio"),
        (lambda: mpii_center_scale([1, 2, 3], 1.0), "objpos"),
        (lambda: mpii_center_scale([1, 2], -1.0), "scale"),
        (lambda: affine_matrix((1, 2, 3), 1.0, 0, (8, 8)), "center"),
        (lambda: affine_matrix((1, 2), 0.0, 0, (8, 8)), "scale"),
        (lambda: affine_matrix((1, 2), 1.0, float("nan"), (8, 8)), "rotation_deg"),
        (lambda: affine_matrix((1, 2), 1.0, 0, (8, 0)), "output_size"),
        (lambda: affine_matrix((1, 2), 1.0, 0, (8.5, 8)), "output_size"),
        (lambda: affine_matrix((1, 2), 1.0, 0, (8, 8), shift=1), "shift"),
        (lambda: warp_image(GOOD_IMAGE.astype(np.int32), M, (8, 8)), "image"),
        (lambda: warp_image(np.zeros((10, 10, 5), np.uint8), M, (8, 8)), "image"),
        (lambda: warp_image(GOOD_IMAGE, np.eye(3), (8, 8)), "matrix"),
        (lambda: warp_image(GOOD_IMAGE, np.zeros((2, 3)), (8, 8)), "matrix"),
        (lambda: warp_image(GOOD_IMAGE, M, (8, 8), border="wrap"), "border"),
        (lambda: transform_keypoints(np.zeros((17, 2)), M), "keypoints"),
        (lambda: inverse_keypoints(np.zeros((17,)), M), "crop_keypoints"),
        (lambda: in_bounds(np.zeros((17, 3)), (0, 4)), "size"),
        (lambda: flip_image(np.zeros((0, 4, 3), np.uint8)), "image"),
        (lambda: flip_keypoints(np.zeros((17, 3)), 0, "coco17"), "width"),
        (lambda: flip_keypoints(np.zeros((16, 3)), 10, "coco17"), "keypoints"),
        (lambda: flip_center((1, 2), -3), "width"),
        (lambda: color_jitter(GOOD_IMAGE, 0.5), "rng"),
        (lambda: color_jitter(GOOD_IMAGE[..., 0], RNG), "image"),
        (lambda: color_jitter(GOOD_IMAGE, RNG, hue=0.7), "hue"),
        (lambda: color_jitter(GOOD_IMAGE, RNG, brightness=-1), "brightness"),
        (lambda: half_body(np.zeros((16, 3)), "coco17", RNG), "keypoints"),
        (lambda: TopDownAffine((8, 8), scale=(1.2, 0.8)), "scale"),
        (lambda: TopDownAffine((8, 8), flip_prob=2), "flip_prob"),
        (lambda: TopDownAffine((8, -8)), "output_size"),
        (lambda: TopDownAffine((8, 8))(GOOD_IMAGE, np.zeros((16, 3)), (5, 5), 1, RNG), "keypoints"),
        (lambda: TopDownAffine((8, 8))(GOOD_IMAGE, np.zeros((17, 3)), (5,), 1, RNG), "center"),
    ],
)
def test_errors_name_the_argument(call, arg):
    with pytest.raises(ValueError, match=arg):
        call()
