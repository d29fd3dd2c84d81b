"""Lesson 02's checks pass student-style solutions, FAIL a stub that calls posekit's own
implementation, and catch the classic heatmap mistakes with the right hint."""

import numpy as np
import pytest
import torch
from test_checks import forbidden_call_tests

from posekit import checks
from posekit.checks import lesson02 as L
from posekit.codecs import heatmap as hm
from posekit.lab.quantization import quantization_error_curve


@pytest.fixture(autouse=True)
def student_mode(monkeypatch):
    monkeypatch.setenv("POSEKIT_CHECK_MODE", "student")
    checks.reset()


# --------------------------------------------------------------- student-style solutions


def gaussian_heatmap(x, y, heatmap_size, stride, sigma):
    w, h = heatmap_size
    u = (x - (stride - 1) / 2) / stride
    v = (y - (stride - 1) / 2) / stride
    d2 = (np.arange(w)[None, :] - u) ** 2 + (np.arange(h)[:, None] - v) ** 2
    return np.exp(-d2 / (2 * sigma**2)).astype(np.float32)


def argmax_decode(heatmaps, stride):
    heatmaps = np.asarray(heatmaps)
    h, w = heatmaps.shape[-2:]
    flat = heatmaps.reshape(*heatmaps.shape[:-2], h * w)
    index, score = flat.argmax(-1), flat.max(-1)
    x = (index % w) * stride + (stride - 1) / 2
    y = (index // w) * stride + (stride - 1) / 2
    return np.stack([x, y, score], -1).astype(np.float32)


def dark_refine(heatmaps, stride, cross=True, sign=-1.0, use_log=True, guard=True):
    """Step-1 finite differences on a 3×3 patch (the reference uses DARK's step-2 Hessian:
    both are exact on clean Gaussians)."""
    heatmaps = np.asarray(heatmaps, np.float64)
    h, w = heatmaps.shape[-2:]
    maps = heatmaps.reshape(-1, h, w)
    out = np.zeros((len(maps), 3))
    for n, m in enumerate(maps):
        py, px = np.unravel_index(m.argmax(), (h, w))
        u, v = float(px), float(py)
        if (2 <= px <= w - 3 and 2 <= py <= h - 3) or not guard:
            patch = m[py - 1 : py + 2, px - 1 : px + 2]
            f = np.log(np.maximum(patch, 1e-10)) if use_log else patch
            gx, gy = (f[1, 2] - f[1, 0]) / 2, (f[2, 1] - f[0, 1]) / 2
            hxx = f[1, 2] - 2 * f[1, 1] + f[1, 0]
            hyy = f[2, 1] - 2 * f[1, 1] + f[0, 1]
            hxy = (f[2, 2] - f[2, 0] - f[0, 2] + f[0, 0]) / 4 if cross else 0.0
            du, dv = sign * np.linalg.solve([[hxx, hxy], [hxy, hyy]], [gx, gy])
            u, v = u + du, v + dv
        out[n] = (u * stride + (stride - 1) / 2, v * stride + (stride - 1) / 2, m.max())
    return out.reshape(*heatmaps.shape[:-2], 3).astype(np.float32)


def test_student_style_solutions_pass():
    assert L.check_gaussian_heatmap(gaussian_heatmap).status == "PASS"
    assert L.check_argmax_decode(argmax_decode).status == "PASS"
    assert L.check_dark_refine(dark_refine).status == "PASS"


SOLUTIONS = {
    "gaussian_heatmap": gaussian_heatmap,
    "argmax_decode": argmax_decode,
    "dark_refine": dark_refine,
}


# --------------------------------------------------------- calling posekit's own implementation

POSEKIT_STUBS = [
    (
        "gaussian_heatmap",
        lambda x, y, size, stride, sigma: hm.gaussian_heatmaps(
            np.array([[x, y, 2.0]]), size, stride, sigma, unbiased=True, truncate=None
        )[0][0],
        "posekit.codecs.heatmap.gaussian_heatmaps",
    ),
    (
        "argmax_decode",
        lambda heatmaps, stride: hm.decode_argmax(heatmaps, stride),
        "posekit.codecs.heatmap.decode_argmax",
    ),
    (
        "dark_refine",
        lambda heatmaps, stride: hm.decode_dark(heatmaps, stride, blur=False, max_offset=None),
        "posekit.codecs.heatmap.decode_dark",
    ),
]


(
    test_every_exercise_is_covered,
    test_a_stub_calling_the_reference_fails,
    test_a_stub_calling_posekits_function_fails,
) = forbidden_call_tests(L, SOLUTIONS, POSEKIT_STUBS)


def test_a_tensor_instead_of_an_array_is_explained(capsys):
    def decode_torch(heatmaps, stride):
        return torch.from_numpy(argmax_decode(heatmaps, stride))

    assert L.check_argmax_decode(decode_torch).status == "FAIL"
    assert ".numpy()" in capsys.readouterr().out


# --------------------------------------------------------------- classic mistakes, 2.1


def _target(centre, sigma_scale=None, denom=2.0):
    def fn(x, y, heatmap_size, stride, sigma):
        w, h = heatmap_size
        u, v = centre(x, stride), centre(y, stride)
        s = sigma if sigma_scale is None else sigma_scale(sigma, stride)
        d2 = (np.arange(w)[None, :] - u) ** 2 + (np.arange(h)[:, None] - v) ** 2
        return np.exp(-d2 / (denom * s**2)).astype(np.float32)

    return fn


def _unbiased(c, s):
    return (c - (s - 1) / 2) / s


def target_xy_swapped(x, y, heatmap_size, stride, sigma):
    return gaussian_heatmap(y, x, heatmap_size, stride, sigma)


def target_hw_transposed(x, y, heatmap_size, stride, sigma):
    return gaussian_heatmap(x, y, heatmap_size, stride, sigma).T


def target_sum_one(x, y, heatmap_size, stride, sigma):
    g = gaussian_heatmap(x, y, heatmap_size, stride, sigma)
    return g / g.sum()


@pytest.mark.parametrize(
    "wrong,hint",
    [
        (target_xy_swapped, "x and y are swapped"),
        (target_hw_transposed, "H×W transpose"),
        (_target(lambda c, s: c / s), "(s − 1)/2"),
        (_target(lambda c, s: (c + 0.5) / s), "half a heatmap pixel"),
        (_target(lambda c, s: c), "forgot the stride"),
        (_target(lambda c, s: np.round(_unbiased(c, s))), "rounded"),
        (_target(_unbiased, sigma_scale=lambda sg, s: sg / s), "heatmap* pixels"),
        (_target(_unbiased, sigma_scale=lambda sg, s: sg * s), "already in heatmap pixels"),
        (_target(_unbiased, denom=1.0), "factor 2"),
        (target_sum_one, "peak"),
    ],
)
def test_target_mistakes_fail_with_their_hint(wrong, hint, capsys):
    result = L.check_gaussian_heatmap(wrong)
    assert result.status == "FAIL"
    assert hint in capsys.readouterr().out


# --------------------------------------------------------------- classic mistakes, 2.2


def _decode(to_input, divisor=None, score=True):
    def fn(heatmaps, stride):
        heatmaps = np.asarray(heatmaps)
        h, w = heatmaps.shape[-2:]
        n = w if divisor is None else h
        flat = heatmaps.reshape(*heatmaps.shape[:-2], h * w)
        index = flat.argmax(-1)
        cols = [to_input(index % n, stride), to_input(index // n, stride)]
        if score:
            cols.append(flat.max(-1))
        return np.stack(cols, -1).astype(np.float32)

    return fn


def _right(u, s):
    return u * s + (s - 1) / 2


def decode_xy_swapped(heatmaps, stride):
    return argmax_decode(heatmaps, stride)[..., [1, 0, 2]]


@pytest.mark.parametrize(
    "wrong,hint",
    [
        (decode_xy_swapped, "x and y are swapped"),
        (_decode(_right, divisor="h"), "H×W transposed"),
        (_decode(lambda u, s: u * s), "(s − 1)/2"),
        (_decode(lambda u, s: (u + 0.5) * s), "half a pixel"),
        (_decode(lambda u, s: u.astype(float)), "forgot the stride"),
        (_decode(_right, score=False), "(x, y, score)"),
    ],
)
def test_decode_mistakes_fail_with_their_hint(wrong, hint, capsys):
    result = L.check_argmax_decode(wrong)
    assert result.status == "FAIL"
    assert hint in capsys.readouterr().out


# --------------------------------------------------------------- classic mistakes, 2.3


def refine_xy_swapped(heatmaps, stride):
    return dark_refine(heatmaps, stride)[..., [1, 0, 2]]


def refine_classic_mapping(heatmaps, stride):
    out = dark_refine(heatmaps, stride)
    out[..., :2] -= (stride - 1) / 2
    return out


@pytest.mark.parametrize(
    "wrong,hint",
    [
        (lambda m, s: dark_refine(m, s, cross=False), "cross derivative"),
        (lambda m, s: dark_refine(m, s, sign=1.0), "wrong way"),
        (lambda m, s: dark_refine(m, s, use_log=False), "Take the log first"),
        (lambda m, s: dark_refine(m, s, guard=False), "border"),
        (refine_xy_swapped, "x and y are swapped"),
        (refine_classic_mapping, "(s − 1)/2"),
    ],
)
def test_refine_mistakes_fail_with_their_hint(wrong, hint, capsys):
    result = L.check_dark_refine(wrong)
    assert result.status == "FAIL"
    assert hint in capsys.readouterr().out


def test_plain_argmax_is_not_a_refinement(capsys):
    assert L.check_dark_refine(argmax_decode).status == "FAIL"
    assert "plain argmax" in capsys.readouterr().out


# --------------------------------------------------------------- facts the lesson relies on


def test_reference_refine_is_exact_on_clean_targets():
    errors = quantization_error_curve((1, 2, 4, 8), L.reference_dark_refine, num_samples=64)
    assert np.all(errors < 1e-3)
    errors = quantization_error_curve((1, 2, 4, 8), dark_refine, num_samples=64)
    assert np.all(errors < 1e-3)


def test_argmax_error_grows_with_the_stride():
    errors = quantization_error_curve((1, 2, 4, 8), L.reference_argmax_decode, num_samples=400)
    np.testing.assert_allclose(errors / np.array([1, 2, 4, 8]), 0.38, atol=0.03)


def test_reference_target_matches_the_codec():
    kp = np.array([[[13.3, 6.8, 2.0]]])
    maps, weight = hm.gaussian_heatmaps(kp, (12, 10), 4, 1.5)
    ours = L.reference_gaussian_heatmap(13.3, 6.8, (12, 10), 4, 1.5)
    window = maps[0, 0] > 0
    np.testing.assert_allclose(ours[window], maps[0, 0][window], atol=1e-6)
    assert weight[0, 0] == 1
    peak = np.unravel_index(ours.argmax(), ours.shape)
    assert peak == (1, 3)  # v = (6.8 - 1.5) / 4 = 1.325, u = (13.3 - 1.5) / 4 = 2.95


@pytest.mark.parametrize("name", ["gaussian_heatmap", "argmax_decode", "dark_refine"])
def test_use_falls_back_to_the_reference_for_a_stub(name, capsys):
    def stub(*args):
        raise NotImplementedError

    check = getattr(L, f"check_{name}")
    assert check(stub).status == "TODO"
    assert checks.use(stub, name) is getattr(L, f"reference_{name}")
    assert "reference" in capsys.readouterr().out
