"""Tests of posekit.codecs: regression normalisation and losses, Gaussian heatmaps, decoders."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from posekit.codecs import (
    HeatmapCodec,
    RegressionCodec,
    decode_argmax,
    decode_dark,
    decode_heatmaps,
    decode_quarter_offset,
    from_box_frame,
    from_input_frame,
    gaussian_heatmaps,
    heatmap_mse_loss,
    heatmap_nms,
    heatmap_to_image,
    image_to_heatmap,
    integral_loss,
    integral_regression,
    l2_loss,
    smooth_l1_loss,
    soft_argmax,
    to_box_frame,
    to_input_frame,
)
from posekit.codecs.heatmap import blur_kernel_size
from posekit.codecs.instances import stack_keypoints


def random_peaks(rng, n, side, stride, margin):
    """(1, n, 3) keypoints in input pixels whose heatmap centres lie ``margin`` px inside."""
    uv = rng.uniform(margin, side - 1 - margin, size=(n, 2))
    xy = heatmap_to_image(uv, stride)
    return np.concatenate([xy, np.full((n, 1), 2.0)], axis=1)[None], xy


def errors_hm(decoded, xy, stride):
    """Euclidean errors in heatmap pixels."""
    return np.linalg.norm(np.asarray(decoded)[0, :, :2] - xy, axis=-1) / stride


# --------------------------------------------------------------------------- mapping


def test_mapping_hand_cases():
    # u = (x + 0.5) / s - 0.5 = (x - (s - 1) / 2) / s
    np.testing.assert_allclose(image_to_heatmap([6.0, 2.0], 4), [1.125, 0.125])
    np.testing.assert_allclose(image_to_heatmap([5.5, 9.5], 4), [1.0, 2.0])
    # heatmap pixel 0 covers input [-0.5, 3.5): its edges map to the heatmap pixel's edges
    np.testing.assert_allclose(image_to_heatmap([-0.5, 3.5], 4), [-0.5, 0.5])
    np.testing.assert_allclose(heatmap_to_image([1.125, 0.125], 4), [6.0, 2.0])
    np.testing.assert_allclose(image_to_heatmap([3.0, 7.0], 1), [3.0, 7.0])
    np.testing.assert_allclose(image_to_heatmap([6.0, 2.0], (4, 2)), [1.125, 0.75])
    t = torch.tensor([[6.0, 2.0]])
    assert torch.allclose(image_to_heatmap(t, 4), torch.tensor([[1.125, 0.125]]))
    assert torch.allclose(heatmap_to_image(image_to_heatmap(t, 4), 4), t)


def test_mapping_commutes_with_flip():
    big_w, s = 256, 4
    x = np.random.default_rng(0).uniform(-0.5, big_w - 0.5, size=50)
    u = image_to_heatmap(np.stack([x, x], -1), s)[:, 0]
    u_flipped = image_to_heatmap(np.stack([big_w - 1 - x, x], -1), s)[:, 0]
    np.testing.assert_allclose(u_flipped, big_w // s - 1 - u, atol=1e-12)


# --------------------------------------------------------------------------- encoding


def test_gaussian_peak_on_a_pixel_hand_case():
    # input (5.5, 9.5) at stride 4 is the centre of heatmap pixel (1, 2)
    maps, weight = gaussian_heatmaps(np.array([[5.5, 9.5, 2.0]]), (8, 8), 4, sigma=1.0)
    assert maps.shape == (1, 8, 8) and maps.dtype == np.float32 and weight.tolist() == [1.0]
    assert maps[0, 2, 1] == pytest.approx(1.0)
    assert np.unravel_index(maps[0].argmax(), (8, 8)) == (2, 1)
    assert maps[0, 2, 2] == pytest.approx(math.exp(-0.5))
    assert maps[0, 3, 2] == pytest.approx(math.exp(-1.0))


def test_gaussian_sub_pixel_centre_hand_case():
    # input (6, 2) at stride 4 → heatmap (1.125, 0.125); nearest pixel (1, 0)
    kp = np.array([[6.0, 2.0, 2.0]])
    unbiased, _ = gaussian_heatmaps(kp, (6, 4), 4, sigma=1.0, unbiased=True)
    classic, _ = gaussian_heatmaps(kp, (6, 4), 4, sigma=1.0, unbiased=False)
    d2 = 0.125**2 + 0.125**2
    assert unbiased[0, 0, 1] == pytest.approx(math.exp(-d2 / 2))
    assert unbiased[0, 0, 2] == pytest.approx(math.exp(-(0.875**2 + 0.125**2) / 2))
    assert unbiased.max() < 1.0
    assert classic[0, 0, 1] == pytest.approx(1.0)
    assert classic[0, 0, 2] == pytest.approx(classic[0, 0, 0]) == pytest.approx(math.exp(-0.5))


def test_gaussian_shapes_types_and_truncation():
    rng = np.random.default_rng(1)
    kp = np.concatenate([rng.uniform(0, 63, (2, 5, 2)), np.full((2, 5, 1), 2.0)], -1)
    maps, weight = gaussian_heatmaps(torch.tensor(kp, dtype=torch.float32), (16, 16), 4, 2.0)
    assert isinstance(maps, torch.Tensor) and maps.shape == (2, 5, 16, 16)
    assert maps.dtype == torch.float32 and weight.shape == (2, 5)
    maps_np, _ = gaussian_heatmaps(kp, (16, 16), 4, 2.0)
    np.testing.assert_allclose(maps_np, maps.numpy(), atol=1e-6)
    # 3σ window around the rounded centre (heatmap px (8, 8)): zero beyond 6 px, drawn within
    one, _ = gaussian_heatmaps(np.array([[33.5, 33.5, 2.0]]), (20, 20), 4, sigma=2.0)
    assert one[0, 8, 14] == pytest.approx(math.exp(-36 / 8)) and one[0, 8, 15] == 0.0
    full, _ = gaussian_heatmaps(np.array([[33.5, 33.5, 2.0]]), (20, 20), 4, 2.0, truncate=None)
    assert full[0, 8, 15] == pytest.approx(math.exp(-49 / 8))


def test_target_weight_unlabelled_and_off_map():
    # stride 1, σ = 2, r = 3σ = 6, map 16 wide: weight 0 iff round(u) - 6 ≥ 16 or round(u) + 7 < 0
    xs = [5.0, 5.0, 21.49, 21.5, -7.5, -7.51, 30.0]
    vs = [2.0, 0.0, 2.0, 2.0, 1.0, 2.0, 2.0]
    kp = np.array([[x, 8.0, v] for x, v in zip(xs, vs, strict=True)])
    maps, weight = gaussian_heatmaps(kp, (16, 16), 1, sigma=2.0)
    assert weight.tolist() == [1, 0, 1, 0, 1, 0, 0]
    assert maps[1].max() == 0 and maps[3].max() == 0 and maps[6].max() == 0
    assert maps[2].max() > 0  # its Gaussian's tail is still on the map
    # the codec also applies the batch's target_weight (e.g. the dataset's "inside the crop")
    codec = HeatmapCodec((64, 64), stride=4, sigma=2.0)
    batch = {
        "keypoints": torch.tensor([[[10.0, 10.0, 2.0], [20.0, 20.0, 2.0], [5.0, 5.0, 0.0]]]),
        "target_weight": torch.tensor([[1.0, 0.0, 1.0]]),
    }
    targets = codec.encode(batch)
    assert targets["target_weight"].tolist() == [[1.0, 0.0, 0.0]]
    assert targets["heatmaps"][0, 1].max() == 0 and targets["heatmaps"][0, 0].max() > 0.9


# --------------------------------------------------------------------------- decoders


@pytest.mark.parametrize("stride", [1, 4])
@pytest.mark.parametrize("sigma", [1.0, 2.0, 3.0])
def test_decoders_on_noise_free_gaussians(stride, sigma):
    rng = np.random.default_rng(int(10 * sigma) + stride)
    side = 32
    kp, xy = random_peaks(rng, 200, side, stride, margin=6)
    maps, weight = gaussian_heatmaps(kp, (side, side), stride, sigma)
    assert weight.min() == 1
    argmax = decode_argmax(maps, stride)
    e_arg = errors_hm(argmax, xy, stride)
    per_axis = np.abs(argmax[0, :, :2] - xy) / stride
    assert per_axis.max() <= 0.5 + 1e-5  # the nearest pixel centre
    assert 0.3 < e_arg.mean() < 0.46  # ≈ 0.3826 for uniform sub-pixel offsets
    np.testing.assert_allclose(argmax[0, :, 2], maps.reshape(200, -1).max(-1))
    e_quarter = errors_hm(decode_quarter_offset(maps, stride), xy, stride)
    assert e_quarter.mean() < 0.7 * e_arg.mean()
    e_dark = errors_hm(decode_dark(maps, stride, sigma=sigma), xy, stride)
    assert e_dark.max() < 0.05, f"DARK max error {e_dark.max():.4f} hm px"
    assert e_dark.max() * stride < 0.05 * stride  # in input pixels
    e_raw = errors_hm(decode_dark(maps, stride, sigma=sigma, blur=False), xy, stride)
    assert e_raw.max() < 1e-3  # the log of a Gaussian is exactly quadratic


def test_soft_argmax_accuracy():
    rng = np.random.default_rng(3)
    side, stride, sigma = 32, 4, 3.0
    kp, xy = random_peaks(rng, 100, side, stride, margin=10)
    maps, _ = gaussian_heatmaps(kp, (side, side), stride, sigma)
    # a sharp softmax of a wide, well-inside Gaussian: width σ/√β ≈ 0.55 px
    e = errors_hm(soft_argmax(maps, stride, beta=30.0), xy, stride)
    assert e.max() < 0.05, f"soft-argmax max error {e.max():.4f} hm px"
    # logits = log of a Gaussian (what integral regression learns): softmax is that Gaussian
    logits = np.log(
        np.maximum(gaussian_heatmaps(kp, (side, side), stride, 1.5, truncate=None)[0], 1e-30)
    )
    e = errors_hm(integral_regression(logits, stride, beta=1.0), xy, stride)
    assert e.max() < 1e-3
    # too small β: the e⁰ = 1 floor of the whole map pulls toward the centre
    assert errors_hm(soft_argmax(maps, stride, beta=3.0), xy, stride).mean() > 0.5


def test_soft_argmax_and_integral_loss_are_differentiable():
    torch.manual_seed(0)
    maps = torch.randn(1, 2, 3, 4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda m: soft_argmax(m, 4, beta=2.0)[..., :2], (maps,))
    kp = torch.tensor([[[3.0, 5.0, 2.0], [9.0, 2.0, 0.0]]], dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda m: integral_loss(m, kp, None, 4), (maps,))


def test_integral_loss_hand_case():
    # one-hot logits with huge β: soft-argmax = the hot pixel's centre, input (1.5, 5.5)
    logits = torch.full((1, 2, 4, 4), -1e4, dtype=torch.float64)
    logits[0, :, 1, 0] = 0.0
    kp = torch.tensor([[[3.5, 5.5, 2.0], [1.5, 9.5, 2.0]]], dtype=torch.float64)
    loss = integral_loss(logits, kp, torch.tensor([[1.0, 0.0]]), stride=4)
    # |1.5 - 3.5| / 16 for joint 0's x; joint 1 weighted out; mean over B·K·2 = 4 numbers
    assert loss.item() == pytest.approx((2.0 / 16) / 4)
    both = integral_loss([logits, logits], kp, torch.tensor([[1.0, 0.0]]), stride=4)
    assert both.item() == pytest.approx(2 * loss.item())


def test_dark_guards_and_borders():
    flat = torch.zeros(1, 2, 8, 8)
    out = decode_dark(flat, 4)
    assert torch.isfinite(out).all()
    np.testing.assert_allclose(out[0, 0, :2], heatmap_to_image(torch.zeros(2), 4))
    # a peak on the border: the Taylor step is skipped (argmax kept), nothing NaN
    maps, _ = gaussian_heatmaps(np.array([[0.2, 13.0, 2.0]]), (8, 8), 2, 1.0)
    edge = decode_dark(maps, 2, sigma=1.0)
    assert np.isfinite(edge).all()
    np.testing.assert_allclose(edge[0, :2], decode_argmax(maps, 2)[0, :2])
    # a saddle (not a maximum) is not "refined"
    saddle = torch.zeros(1, 9, 9)
    saddle[0, 4, :] = 1.0
    saddle[0, 4, 4] = 1.5
    np.testing.assert_allclose(
        decode_dark(saddle, 1, sigma=1.0, blur=False), decode_argmax(saddle, 1)
    )
    assert blur_kernel_size(2.0) == 13 and blur_kernel_size(1.0) == 7


def test_quarter_offset_hand_case_and_nms():
    m = torch.zeros(1, 1, 5, 5)
    m[0, 0, 2, 2], m[0, 0, 2, 3], m[0, 0, 1, 2], m[0, 0, 3, 2] = 1.0, 0.5, 0.3, 0.1
    out = decode_quarter_offset(m, 1)
    assert out[0, 0].tolist() == pytest.approx([2.25, 1.75, 1.0])
    assert decode_argmax(m, 1)[0, 0].tolist() == pytest.approx([2.0, 2.0, 1.0])
    m[0, 0, 0, 4] = 0.7  # a second local maximum
    kept = heatmap_nms(m)
    assert set(map(tuple, torch.nonzero(kept[0, 0]).tolist())) == {(2, 2), (0, 4)}


def test_decoders_accept_numpy_and_any_leading_shape():
    maps, _ = gaussian_heatmaps(np.array([[10.0, 20.0, 2.0]]), (16, 16), 2, 1.0)
    for name in ("argmax", "quarter", "dark", "integral"):
        out = decode_heatmaps(maps, 2, name, sigma=1.0, beta=20.0)
        assert isinstance(out, np.ndarray) and out.shape == (1, 3)
    with pytest.raises(ValueError, match="method"):
        decode_heatmaps(maps, 2, "median")


# --------------------------------------------------------------------------- heatmap codec


def _random_batch(rng, b, k, size, margin):
    w, h = size
    xy = rng.uniform(margin, [w - 1 - margin, h - 1 - margin], size=(b, k, 2))
    kp = np.concatenate([xy, np.full((b, k, 1), 2.0)], -1)
    return {
        "image": torch.zeros(b, 3, h, w),
        "keypoints": torch.tensor(kp, dtype=torch.float32),
        "target_weight": torch.ones(b, k),
    }


def test_heatmap_codec_round_trip_unbiased_vs_classic():
    rng = np.random.default_rng(5)
    batch = _random_batch(rng, 4, 16, (192, 256), margin=32)
    kp = batch["keypoints"][..., :2]
    codec = HeatmapCodec((192, 256), stride=4, sigma=2.0, decoder="dark")
    assert codec.heatmap_size == (48, 64) and codec.stride == (4.0, 4.0)
    targets = codec.encode(batch)
    assert targets["heatmaps"].shape == (4, 16, 64, 48)
    found = codec.decode(targets["heatmaps"])
    assert len(found) == 4 and all(p.keypoints.shape == (1, 16, 3) for p in found)
    decoded = torch.from_numpy(stack_keypoints(found))
    err = (decoded[..., :2] - kp).norm(dim=-1)
    assert err.max() < 0.05, f"round trip max error {err.max():.4f} input px"
    # the classic rounded centre: labels are off by up to half a heatmap pixel (2 input px)
    classic = HeatmapCodec((192, 256), stride=4, sigma=2.0, decoder="dark", unbiased=False)
    classic_kp = stack_keypoints(classic.decode(classic.encode(batch)["heatmaps"]))
    err_classic = (torch.from_numpy(classic_kp)[..., :2] - kp).norm(dim=-1)
    assert err_classic.mean() > 0.5 and err_classic.max() <= 2 * math.sqrt(2) + 1e-4
    # argmax decoding of unbiased targets: at most half a heatmap pixel (2 input px) per axis
    argmax = HeatmapCodec((192, 256), heatmap_size=(48, 64), sigma=2.0, decoder="argmax")
    per_axis = (torch.from_numpy(stack_keypoints(argmax.decode(targets["heatmaps"])))[..., :2]
                - kp).abs()  # fmt: skip
    assert per_axis.max() <= 2.0 + 1e-4


def test_heatmap_codec_lists_losses_and_arguments():
    rng = np.random.default_rng(6)
    batch = _random_batch(rng, 2, 3, (32, 32), margin=6)
    codec = HeatmapCodec((32, 32), stride=4, sigma=1.0, decoder="quarter")
    targets = codec.encode(batch)
    stacks = [torch.zeros_like(targets["heatmaps"]), targets["heatmaps"]]
    a, b = codec.decode(stacks), codec.decode(targets["heatmaps"])
    assert np.array_equal(stack_keypoints(a), stack_keypoints(b))
    assert codec.loss(targets["heatmaps"], targets, batch).item() == 0.0
    assert codec.loss(stacks, targets, batch).item() == pytest.approx(
        heatmap_mse_loss(stacks[0], targets["heatmaps"], targets["target_weight"]).item()
    )
    integral = HeatmapCodec((32, 32), stride=4, decoder="integral")
    logits = torch.zeros(2, 3, 8, 8, requires_grad=True)
    loss = integral.loss(logits, integral.encode(batch), batch)
    loss.backward()
    assert loss.item() > 0 and logits.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="multiple"):
        HeatmapCodec((30, 32), stride=4)
    with pytest.raises(ValueError, match="does not match"):
        HeatmapCodec((32, 32), heatmap_size=(8, 8), stride=2)
    with pytest.raises(ValueError, match="decoder"):
        HeatmapCodec((32, 32), decoder="median")


def test_heatmap_mse_loss_hand_case():
    pred = torch.zeros(1, 2, 2, 2)
    target = torch.zeros(1, 2, 2, 2)
    pred[0, 0, 0, 0] = 1.0  # joint 0: one pixel off by 1
    pred[0, 1] = 3.0  # joint 1: every pixel off by 3, but weighted out
    # HRNet: Σ_k 0.5 · mean_{b,pixels}((w·(p - t))²) / K = (0.5 · 1/4 + 0) / 2
    loss = heatmap_mse_loss(pred, target, torch.tensor([[1.0, 0.0]]))
    assert loss.item() == pytest.approx(0.0625)
    assert heatmap_mse_loss(pred, target, torch.tensor([[[1.0], [0.0]]])).item() == 0.0625
    unweighted = heatmap_mse_loss(pred, target)
    assert unweighted.item() == pytest.approx((0.5 * 0.25 + 0.5 * 9) / 2)
    stacked = heatmap_mse_loss([pred, 2 * pred], target, torch.tensor([[1.0, 0.0]]))
    assert stacked.item() == pytest.approx(0.0625 + 0.25)


# --------------------------------------------------------------------------- regression


def test_normalize_hand_cases():
    w, h = 192, 256
    corners = np.array([[-0.5, -0.5], [w - 0.5, h - 0.5], [(w - 1) / 2, (h - 1) / 2]])
    np.testing.assert_allclose(to_input_frame(corners, (w, h)), [[0, 0], [1, 1], [0.5, 0.5]])
    kp = np.array([[12.0, 16.0, 2.0]])
    out = to_box_frame(kp, center=(10.0, 20.0), size=(4.0, 8.0))
    np.testing.assert_allclose(out, [[0.5, -0.5, 2.0]])  # v passes through
    t = torch.tensor([[[12.0, 16.0]], [[10.0, 20.0]]])
    per_image = to_box_frame(t, torch.tensor([[[10.0, 20.0]], [[6.0, 12.0]]]), (4.0, 8.0))
    assert torch.allclose(per_image, torch.tensor([[[0.5, -0.5]], [[1.0, 1.0]]]))


@pytest.mark.parametrize("as_torch", [False, True])
def test_normalize_denormalize_identity(as_torch):
    rng = np.random.default_rng(7)
    kp = np.concatenate([rng.uniform(-20, 300, (3, 16, 2)), rng.integers(0, 3, (3, 16, 1))], -1)
    kp = torch.tensor(kp) if as_torch else kp
    back = from_input_frame(to_input_frame(kp, (192, 256)), (192, 256))
    np.testing.assert_allclose(np.asarray(back), np.asarray(kp), atol=1e-9)
    c, s = (100.0, 120.0), (150.0, 200.0)
    back = from_box_frame(to_box_frame(kp, c, s), c, s)
    np.testing.assert_allclose(np.asarray(back), np.asarray(kp), atol=1e-9)
    assert type(back) is type(kp)


def test_regression_codec_modes():
    rng = np.random.default_rng(8)
    batch = _random_batch(rng, 2, 5, (64, 96), margin=0)
    batch["keypoints"][0, 1, 2] = 0
    for mode in ("input", "box"):
        codec = RegressionCodec((64, 96), frame=mode)
        targets = codec.encode(batch)
        assert targets["keypoints"].shape == (2, 5, 2)
        found = codec.decode(targets["keypoints"].reshape(2, 10))
        assert [p.scores.tolist() for p in found] == [[1.0], [1.0]]
        decoded = torch.from_numpy(stack_keypoints(found))
        assert decoded.shape == (2, 5, 3) and torch.all(decoded[..., 2] == 1)
        assert torch.allclose(decoded[..., :2], batch["keypoints"][..., :2], atol=1e-4)
        assert codec.loss(targets["keypoints"].reshape(2, -1), targets, batch).item() == 0
    box = RegressionCodec((64, 96), "box").encode(batch)["keypoints"]
    inp = RegressionCodec((64, 96), "input").encode(batch)["keypoints"]
    assert torch.allclose(box, inp - 0.5, atol=1e-6)  # the crop is the box
    no_weight = RegressionCodec((64, 96)).encode({"keypoints": batch["keypoints"]})
    assert no_weight["target_weight"][0].tolist() == [1, 0, 1, 1, 1]
    with pytest.raises(ValueError, match="frame"):
        RegressionCodec((64, 96), frame="image")


def test_l2_and_smooth_l1_hand_cases():
    target = torch.tensor([[[0.1, 0.2], [0.3, 0.4]], [[0.5, 0.5], [0.0, 0.0]]])
    pred = target.clone()
    pred[0, 0] += torch.tensor([0.3, 0.4])  # ‖d‖² = 0.25
    pred[0, 1] += torch.tensor([1.0, 0.0])  # ‖d‖² = 1, weighted out
    pred[1, 1] += torch.tensor([0.0, 0.2])  # ‖d‖² = 0.04, weight 0.5
    weight = torch.tensor([[1.0, 0.0], [1.0, 0.5]])
    # (1/B) Σ w ‖d‖² = (0.25 + 0.5 · 0.04) / 2
    assert l2_loss(pred.reshape(2, 4), target, weight).item() == pytest.approx(0.135)
    assert l2_loss(pred, target).item() == pytest.approx((0.25 + 1 + 0.04) / 2)
    # mmpose SmoothL1 (β = 1): 0.5 d² below 1, |d| - 0.5 above, mean over B·K·2 = 8 numbers
    expected = (0.5 * 0.09 + 0.5 * 0.16 + 0.5 * (0.5 * 0.2) ** 2) / 8
    assert smooth_l1_loss(pred, target, weight).item() == pytest.approx(expected)
    assert smooth_l1_loss(pred, target).item() == pytest.approx(
        (0.5 * 0.09 + 0.5 * 0.16 + 0.5 + 0.5 * 0.04) / 8
    )


def test_regression_checkpoints_saved_with_mode_still_build_their_codec():
    from posekit import recipes

    codec = recipes.build_codec("RegressionCodec", {"input_size": (64, 96), "mode": "box"})
    assert codec.frame == "box" and codec.input_size == (64, 96)
