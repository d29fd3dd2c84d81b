"""Heatmap codec: keypoints ↔ Gaussian heatmaps, and sub-pixel decoders (lesson 02).

A heatmap model (Stacked Hourglass, Simple Baselines, HRNet…) outputs one map per joint at
output stride ``s``: an input of ``W × H`` pixels gives ``(B, K, H/s, W/s)`` maps. Training
targets are 2-D Gaussians centred on the keypoints; at test time a decoder turns each map back
into ``(x, y, score)``.

Coordinates: the pixel-area mapping
-----------------------------------
posekit puts pixel centres at integer coordinates (``docs/conventions.md``): input pixel ``i``
covers ``[i - 0.5, i + 0.5)`` and an image ``W`` pixels wide spans ``[-0.5, W - 0.5)``.
Heatmap pixel ``j`` covers the ``s`` input pixels ``[j·s - 0.5, (j + 1)·s - 0.5)``; its centre
is input ``j·s + (s - 1)/2``. Between input ``x`` and heatmap ``u``::

    u = (x - (s - 1) / 2) / s  =  (x + 0.5) / s - 0.5          (image_to_heatmap)
    x = u · s + (s - 1) / 2    =  (u + 0.5) · s - 0.5          (heatmap_to_image)

(per axis; ``s`` may differ in x and y, and need not be an integer: ``s = W / w``). The
input's area ``[-0.5, W - 0.5)`` lands exactly on the heatmap's area ``[-0.5, w - 0.5)``. It
is the convention of ``posekit.datasets.transforms`` (the box's outer edges are the crop's
outer edges), of ``cv2.resize`` and of ``F.interpolate(align_corners=False)``, and the one
``posekit.widgets.GaussianExplorer`` uses. Example: input ``(6, 2)`` at stride 4 is heatmap
``(1.125, 0.125)``; input ``(5.5, 9.5)`` is exactly the centre of heatmap pixel ``(1, 2)``.
A horizontal flip commutes with it: ``x → W - 1 - x`` is ``u → w - 1 - u``.

Why this mapping and not the classic ``u = x / s`` or UDP's: ``docs/conventions.md`` §
"Heatmap mappings compared".

Decoders ``(…, h, w) → (…, 3)`` = ``(x, y, score)`` in input pixels (``score`` = the map's
maximum value): ``decode_argmax`` (error up to half a heatmap pixel, ``≈ 0.38·s`` px on
average), ``decode_quarter_offset`` (Newell / HRNet: ±0.25 px toward the higher neighbour),
``decode_dark`` (Zhang et al., CVPR 2020: blur, log, Newton step), ``soft_argmax`` /
``integral_regression`` (Sun et al., ECCV 2018: the differentiable expectation under a
softmax). Losses: ``heatmap_mse_loss`` (HRNet's ``JointsMSELoss``) and ``integral_loss`` (L1
on the soft-argmax coordinates). ``HeatmapCodec`` bundles an encoder, a decoder and a loss for
``posekit.engine``. Functions accept numpy arrays or torch tensors and return the input's type
(the losses return torch scalars).

Non-finite maps: the decoders and ``heatmap_nms`` raise a ValueError naming ``heatmaps``, the
first NaN / ±inf value and its index (C order) — a NaN is not a position and an inf is not a
score, and such maps mean the network diverged (to mask a logit, use a large negative finite
number, not ``-inf``). The losses do not check: a NaN loss stops ``posekit.engine.train``
with its own message.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from posekit.codecs.instances import Instances, per_crop
from posekit.validate import size2, stride2

__all__ = [
    "DECODERS",
    "HeatmapCodec",
    "blur_kernel_size",
    "decode_argmax",
    "decode_dark",
    "decode_heatmaps",
    "decode_quarter_offset",
    "gaussian_heatmaps",
    "heatmap_mse_loss",
    "heatmap_nms",
    "heatmap_to_image",
    "image_to_heatmap",
    "integral_loss",
    "integral_regression",
    "soft_argmax",
]

DECODERS = ("argmax", "quarter", "dark", "integral")


# --------------------------------------------------------------------------- helpers


def _to_tensor(x, arg: str) -> tuple[torch.Tensor, bool]:
    """``x`` as a floating tensor, and whether it came as numpy (to convert back)."""
    is_numpy = not isinstance(x, torch.Tensor)
    if is_numpy:
        x = np.asarray(x)
        if x.dtype.kind not in "biuf":
            raise ValueError(f"{arg}: expected real numbers, got dtype {x.dtype}")
    t = torch.as_tensor(x)
    if t.is_complex():
        raise ValueError(f"{arg}: expected real numbers, got dtype {t.dtype}")
    if not t.is_floating_point():
        t = t.float()
    return t, is_numpy


def _maps(heatmaps, arg: str = "heatmaps", finite: bool = True) -> tuple[torch.Tensor, tuple, bool]:
    """``(..., h, w)`` → ``(P, h, w)`` tensor, the leading shape, and numpy-ness; with
    ``finite`` a NaN / ±inf value is a ValueError (module docstring)."""
    t, is_numpy = _to_tensor(heatmaps, arg)
    if t.ndim < 2 or t.shape[-1] == 0 or t.shape[-2] == 0:
        raise ValueError(f"{arg}: expected (..., h, w), e.g. (B, K, h, w), got {tuple(t.shape)}")
    if finite:
        _check_finite(t, arg)
    lead = tuple(t.shape[:-2])
    return t.reshape(-1, *t.shape[-2:]), lead, is_numpy


def _check_finite(t: torch.Tensor, arg: str) -> None:
    """ValueError naming ``arg``, the first non-finite value and its index (C order)."""
    t = t.detach()
    if torch.isfinite(t.sum()):  # NaN and inf propagate: a fast test for the usual case
        return
    bad = ~torch.isfinite(t)  # or only an overflow of the sum
    if bad.any():
        index = tuple(int(i) for i in torch.nonzero(bad)[0])
        raise ValueError(
            f"{arg}: {t[index].item()} at index {index} of shape {tuple(t.shape)}; decoders "
            "need finite maps (NaN / inf outputs usually mean the network diverged)"
        )


def _finish(uv: torch.Tensor, score: torch.Tensor, lead, stride, is_numpy: bool):
    """Heatmap ``(P, 2)`` + score ``(P,)`` → ``(..., 3)`` in input pixels, in the input's type."""
    xy = heatmap_to_image(uv, stride)
    out = torch.cat([xy, score[:, None].to(xy.dtype)], dim=-1).reshape(*lead, 3)
    return out.detach().cpu().numpy() if is_numpy else out


def _gather(maps: torch.Tensor, px: torch.Tensor, py: torch.Tensor, dx: int, dy: int):
    """``maps[p, py + dy, px + dx]`` for every map ``p`` (indices clamped to the map)."""
    _, h, w = maps.shape
    rows = torch.arange(maps.shape[0], device=maps.device)
    return maps[rows, (py + dy).clamp(0, h - 1), (px + dx).clamp(0, w - 1)]


def _argmax(maps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Integer ``(px, py)`` of each ``(P, h, w)`` map's maximum (first one on ties), and it."""
    score, flat = maps.reshape(maps.shape[0], -1).max(dim=1)
    w = maps.shape[-1]
    return flat % w, flat // w, score


# --------------------------------------------------------------------------- mapping


def image_to_heatmap(xy, stride):
    """Input-pixel ``(..., 2)`` → heatmap coordinates: ``u = (x + 0.5) / s - 0.5``.

    The pixel-area mapping (module docstring): heatmap pixel ``j`` covers input pixels
    ``[j·s - 0.5, (j + 1)·s - 0.5)``. numpy or torch in, same type out.
    """
    sx, sy = stride2(stride)
    if isinstance(xy, torch.Tensor):
        s = torch.tensor([sx, sy], dtype=xy.dtype if xy.is_floating_point() else torch.float32)
        return (xy + 0.5) / s.to(xy.device) - 0.5
    return (np.asarray(xy, dtype=np.float64) + 0.5) / np.array([sx, sy]) - 0.5


def heatmap_to_image(uv, stride):
    """Heatmap ``(..., 2)`` → input pixels: ``x = (u + 0.5) · s - 0.5`` (inverse of the above)."""
    sx, sy = stride2(stride)
    if isinstance(uv, torch.Tensor):
        s = torch.tensor([sx, sy], dtype=uv.dtype if uv.is_floating_point() else torch.float32)
        return (uv + 0.5) * s.to(uv.device) - 0.5
    return (np.asarray(uv, dtype=np.float64) + 0.5) * np.array([sx, sy]) - 0.5


# --------------------------------------------------------------------------- encoding


def gaussian_heatmaps(
    keypoints,
    heatmap_size,
    stride=4,
    sigma: float = 2.0,
    unbiased: bool = True,
    truncate: float | None = 3.0,
):
    """Gaussian heatmap targets ``exp(-((i - u)² + (j - v)²) / (2σ_h²))`` (peak value 1).

    Each keypoint ``(x, y)`` (input pixels) is mapped to heatmap ``(u, v)`` with
    ``image_to_heatmap`` (``u = (x + 0.5) / s - 0.5``). With ``unbiased=True`` (UDP / DARK) the
    Gaussian is centred at that exact sub-pixel ``(u, v)``; with ``unbiased=False`` at the
    rounded integer pixel ``(round(u), round(v))``, as Newell's hourglass and HRNet /
    Simple Baselines did (its peak pixel is exactly 1; the label is off by up to half a
    heatmap pixel).

    Support and target weight, as mmpose's ``generate_(udp_)gaussian_heatmaps`` and HRNet: with
    ``m = floor(u + 0.5)`` the rounded centre and ``r = truncate · σ_h`` (3σ_h), the Gaussian is
    drawn in the square window ``|i - m_x| ≤ r, |j - m_y| ≤ r`` (zero outside), and the joint
    gets **weight 0** if ``v == 0`` (unlabelled) or the window misses the map entirely:
    ``m_x - r ≥ w`` or ``m_x + r + 1 < 0`` (same for y with ``h``). A joint slightly outside
    the map keeps weight 1 and its Gaussian's visible tail. Joints with weight 0 get an
    all-zero map. ``truncate=None`` draws the Gaussian on the whole map (the window rule then
    uses ``r = 3σ_h``).

    Vectorised: one separable outer product ``g_y ⊗ g_x`` per map, no loop over joints.

    Args:
        keypoints: ``(B, K, 3)`` or ``(K, 3)`` ``(x, y, v)`` in input pixels (numpy or torch).
        heatmap_size: ``(w, h)`` of the heatmap.
        stride: input pixels per heatmap pixel, a number or ``(sx, sy)`` (``W / w``).
        sigma: σ_h, the Gaussian's standard deviation in **heatmap** pixels (Newell: 1 at
            64×64; Simple Baselines / HRNet: 2 at 64×48).
        unbiased: sub-pixel centre (True) or rounded centre (False).
        truncate: window half-width in units of σ_h (3, as mmpose/HRNet), or None.
    Returns:
        ``(heatmaps, target_weight)``: ``(B, K, h, w)`` (or ``(K, h, w)``) float32 and
        ``(B, K)`` (or ``(K,)``) float32, numpy or torch like ``keypoints``.
    """
    kp, is_numpy = _to_tensor(keypoints, "keypoints")
    if kp.ndim not in (2, 3) or kp.shape[-1] != 3:
        raise ValueError(f"keypoints: expected (B, K, 3) or (K, 3), got {tuple(kp.shape)}")
    w, h = size2(heatmap_size, "heatmap_size")
    if not (np.isfinite(sigma) and sigma > 0):
        raise ValueError(f"sigma: expected a positive number, got {sigma!r}")
    if truncate is not None and not truncate > 0:
        raise ValueError(f"truncate: expected a positive number or None, got {truncate!r}")
    lead = kp.shape[:-1]
    flat = kp.reshape(-1, 3).to(torch.float64)
    uv = image_to_heatmap(flat[:, :2], stride)
    m = torch.floor(uv + 0.5)
    r = (3.0 if truncate is None else float(truncate)) * float(sigma)
    size = torch.tensor([w, h], dtype=torch.float64, device=kp.device)
    inside = ((m - r < size) & (m + r + 1 >= 0)).all(dim=1)
    weight = (flat[:, 2] > 0) & inside
    centre = uv if unbiased else m
    grids = []
    for axis, n in ((0, w), (1, h)):
        t = torch.arange(n, dtype=torch.float64, device=kp.device)
        g = torch.exp(-((t - centre[:, axis, None]) ** 2) / (2.0 * float(sigma) ** 2))
        if truncate is not None:
            g = g * ((t - m[:, axis, None]).abs() <= r)
        grids.append(g * weight[:, None])
    maps = (grids[1][:, :, None] * grids[0][:, None, :]).to(torch.float32)
    maps = maps.reshape(*lead, h, w)
    weight = weight.to(torch.float32).reshape(lead)
    if is_numpy:
        return maps.cpu().numpy(), weight.cpu().numpy()
    return maps, weight


# --------------------------------------------------------------------------- decoding


def heatmap_nms(heatmaps, kernel: int = 3):
    """Keep only local maxima: a 3×3 (``kernel``) max-pool NMS, others set to 0.

    Newell's test-time peak finder (``utils/group.py``), also used bottom-up (lesson 04). For
    one person per map the global argmax survives it, so the top-down decoders below need not
    call it. ``(..., h, w)`` in and out; non-finite maps are a ValueError.
    """
    maps, lead, is_numpy = _maps(heatmaps)
    pooled = F.max_pool2d(maps[:, None], kernel, stride=1, padding=kernel // 2)[:, 0]
    out = (maps * (pooled == maps)).reshape(*lead, *maps.shape[-2:])
    return out.cpu().numpy() if is_numpy else out


def decode_argmax(heatmaps, stride):
    """Integer argmax of each map → ``(..., 3)`` ``(x, y, max)`` in input pixels.

    The error is the distance from the true centre to the nearest heatmap pixel centre: up to
    half a heatmap pixel per axis, on average ``≈ 0.38`` heatmap px (``0.38·s`` input px).

    Args:
        heatmaps: ``(..., h, w)``, e.g. ``(B, K, h, w)`` (numpy or torch), finite (a NaN or
            inf value is a ValueError naming its index, as for every decoder here).
        stride: the output stride, a number or ``(sx, sy)``; 1 gives heatmap pixels.
    """
    maps, lead, is_numpy = _maps(heatmaps)
    px, py, score = _argmax(maps)
    uv = torch.stack([px, py], dim=-1).to(maps.dtype)
    return _finish(uv, score, lead, stride, is_numpy)


def decode_quarter_offset(heatmaps, stride, offset: float = 0.25):
    """Argmax moved ``offset`` (0.25) heatmap px toward the higher neighbour, per axis.

    Newell et al. (``utils/group.py``) and HRNet / Simple Baselines (``get_final_preds``): a
    cheap hedge that halves the worst case of the rounding. An axis is shifted only when both
    of its neighbours exist (HRNet requires ``1 < px < w - 1``, a known off-by-one that skips
    column 1) and not when they are equal.

    Args: as ``decode_argmax`` (finite maps), ``offset`` finite. Returns ``(..., 3)`` in
    input pixels.
    """
    if not np.isfinite(offset):
        raise ValueError(f"offset: expected a finite number of heatmap pixels, got {offset!r}")
    maps, lead, is_numpy = _maps(heatmaps)
    _, h, w = maps.shape
    px, py, score = _argmax(maps)
    dx = _gather(maps, px, py, 1, 0) - _gather(maps, px, py, -1, 0)
    dy = _gather(maps, px, py, 0, 1) - _gather(maps, px, py, 0, -1)
    ox = torch.sign(dx) * offset * ((px > 0) & (px < w - 1))
    oy = torch.sign(dy) * offset * ((py > 0) & (py < h - 1))
    uv = torch.stack([px + ox, py + oy], dim=-1).to(maps.dtype)
    return _finish(uv, score, lead, stride, is_numpy)


def blur_kernel_size(sigma: float) -> int:
    """DARK's blur kernel for a training σ_h: ``2·ceil(3σ_h) + 1`` (mmpose: 11 for σ_h = 2)."""
    return 2 * math.ceil(3 * float(sigma)) + 1


def _blur_valid(patch: torch.Tensor, sigma: float, r: int) -> torch.Tensor:
    """Separable Gaussian blur (radius ``r``, normalised) of ``(P, S, S)`` patches, keeping the
    ``(S - 2r)²`` fully covered centre: ``K @ patch @ Kᵀ`` with a banded ``(S - 2r, S)`` ``K``.
    """
    size = patch.shape[-1]
    t = torch.arange(-r, r + 1, dtype=patch.dtype, device=patch.device)
    k = torch.exp(-(t**2) / (2.0 * sigma**2))
    k = k / k.sum()
    band = torch.zeros(size - 2 * r, size, dtype=patch.dtype, device=patch.device)
    for i in range(size - 2 * r):
        band[i, i : i + 2 * r + 1] = k
    return band @ patch @ band.T


def decode_dark(
    heatmaps,
    stride,
    sigma: float = 2.0,
    blur: bool = True,
    kernel_size: int | None = None,
    max_offset: float | None = 1.0,
):
    """DARK decoding (Zhang et al., CVPR 2020, "Distribution-Aware Coordinate Representation").

    1. ``(px, py)`` = the integer argmax of the raw map (its value is the score).
    2. Distribution modulation: blur the map with a Gaussian of the *training* σ_h (kernel
       ``2·ceil(3σ_h) + 1``, zero padding) so that a network's multi-peaked output looks like the
       Gaussian it was trained to produce; clamp to ≥ 1e-10 and take the log. For a Gaussian
       target the log is a quadratic ``-((u - μ)² + …) / 2σ'²``, so step 3 is exact.
    3. Second-order Taylor expansion of the log map at ``(px, py)``: with finite differences
       ``g = (∂x, ∂y)`` (central, step 1) and Hessian ``H`` (central, step 2, as the authors'
       code), the maximum is at ``(px, py) - H⁻¹ g``.

    Guards: the step is taken only when the 5×5 neighbourhood lies inside the map
    (``2 ≤ px ≤ w - 3``, as DarkPose) and ``H`` is negative definite (``∂xx < 0`` and
    ``det H > 0``: a maximum; the paper only asks ``det H ≠ 0``); otherwise the argmax is kept.
    ``max_offset`` (not in the paper; None to disable) clips the step to ±1 heatmap px per
    axis, so a noisy network output cannot throw a point far from its peak. Near the border
    the zero padding of the blur cuts the Gaussian and biases the estimate (σ_h = 2, peak 2 / 3
    / 4 heatmap px from the border: up to ≈ 0.37 / 0.11 / 0.02 heatmap px; negligible from
    ≈ 3σ_h on); ``blur=False`` has no such bias on clean maps.

    Args:
        heatmaps: ``(..., h, w)`` (numpy or torch), finite.
        stride: output stride (number or ``(sx, sy)``).
        sigma: σ_h, the Gaussian std of the training targets, in heatmap pixels (> 0).
        blur: apply step 2 (False: Taylor step on the raw log map — exact for noise-free
            Gaussians, fragile on network outputs).
        kernel_size: blur kernel size (odd); default ``blur_kernel_size(sigma)``.
        max_offset: see above.
    Returns:
        ``(..., 3)`` ``(x, y, score)`` in input pixels.
    """
    if blur and not (np.isfinite(sigma) and sigma > 0):
        raise ValueError(f"sigma: expected a positive number of heatmap pixels, got {sigma!r}")
    if max_offset is not None and not (np.isfinite(max_offset) and max_offset >= 0):
        raise ValueError(f"max_offset: expected None or a number >= 0, got {max_offset!r}")
    maps, lead, is_numpy = _maps(heatmaps)
    n, h, w = maps.shape
    px, py, score = _argmax(maps)
    r = 0
    if blur:
        k = blur_kernel_size(sigma) if kernel_size is None else int(kernel_size)
        if k < 1 or k % 2 == 0:
            raise ValueError(f"kernel_size: expected a positive odd integer, got {kernel_size!r}")
        r = k // 2
    # Only the 5×5 neighbourhood of the argmax is needed: blur the (5 + 2r)² patch around it,
    # zero outside the map (identical to blurring the whole map with zero padding).
    big = r + 2
    off = torch.arange(-big, big + 1, device=maps.device)
    rows, cols = py[:, None] + off, px[:, None] + off
    inside = ((rows >= 0) & (rows < h))[:, :, None] & ((cols >= 0) & (cols < w))[:, None, :]
    index = torch.arange(n, device=maps.device)[:, None, None]
    patch = maps.detach()[index, rows.clamp(0, h - 1)[:, :, None], cols.clamp(0, w - 1)[:, None]]
    patch = patch * inside
    if r:
        patch = _blur_valid(patch, float(sigma), r)
    logm = torch.log(patch.to(torch.float64).clamp_min(1e-10))

    def at(dx: int, dy: int) -> torch.Tensor:
        return logm[:, 2 + dy, 2 + dx]

    c = at(0, 0)
    gx = 0.5 * (at(1, 0) - at(-1, 0))
    gy = 0.5 * (at(0, 1) - at(0, -1))
    hxx = 0.25 * (at(2, 0) - 2 * c + at(-2, 0))
    hyy = 0.25 * (at(0, 2) - 2 * c + at(0, -2))
    hxy = 0.25 * (at(1, 1) - at(1, -1) - at(-1, 1) + at(-1, -1))
    det = hxx * hyy - hxy**2
    ok = (px >= 2) & (px <= w - 3) & (py >= 2) & (py <= h - 3) & (hxx < 0) & (det > 1e-12)
    safe = torch.where(ok, det, torch.ones_like(det))
    ox = -(hyy * gx - hxy * gy) / safe
    oy = -(hxx * gy - hxy * gx) / safe
    if max_offset is not None:
        ox, oy = ox.clamp(-max_offset, max_offset), oy.clamp(-max_offset, max_offset)
    ox, oy = torch.where(ok, ox, 0.0), torch.where(ok, oy, 0.0)
    uv = torch.stack([px + ox, py + oy], dim=-1).to(maps.dtype)
    return _finish(uv, score, lead, stride, is_numpy)


def soft_argmax(heatmaps, stride, beta: float = 1.0):
    """Soft-argmax / integral pose regression (Sun et al., ECCV 2018): differentiable.

    ``p = softmax(β · H)`` over the ``h·w`` pixels of each map, then the expected coordinates
    ``u = Σ p(i, j) · j``, ``v = Σ p(i, j) · i``, mapped to input pixels. Gradients flow to
    every pixel, so a network can be trained end to end on coordinates (``integral_loss``);
    the result is continuous, with no quantisation.

    ``beta`` is a temperature (mmpose's ``IntegralRegressionHead`` / DSNT ``beta``). For logits
    trained with ``integral_loss`` use β = 1. To decode a Gaussian-like heatmap ``G ∈ [0, 1]``
    with it, β must be large: ``softmax(β·G)`` is a bump of width ``≈ σ / √β`` on a floor of
    ``e⁰ = 1`` per pixel, and the floor's ``h·w`` pixels pull the expectation toward the map's
    centre unless ``e^β · 2πσ²/β ≫ h·w``; but a bump narrower than ~0.5 px is again quantised
    toward the nearest pixel (β → ∞ is the argmax). The bias is smallest for wide targets
    with ``σ / √β ≈ 1``.

    Args:
        heatmaps: ``(..., h, w)`` logits (numpy or torch; torch keeps the graph), finite.
        stride: output stride (number or ``(sx, sy)``).
        beta: softmax temperature, finite and > 0.
    Returns:
        ``(..., 3)`` ``(x, y, score)`` in input pixels, score = the map's maximum value.
    """
    return _soft_argmax(heatmaps, stride, beta, finite=True)


def _soft_argmax(heatmaps, stride, beta: float, finite: bool):
    """``soft_argmax``; ``finite=False`` lets NaN logits through (for ``integral_loss``)."""
    if not (np.isfinite(beta) and beta > 0):
        raise ValueError(f"beta: expected a positive finite temperature, got {beta!r}")
    maps, lead, is_numpy = _maps(heatmaps, finite=finite)
    p_, h, w = maps.shape
    prob = torch.softmax(beta * maps.reshape(p_, -1), dim=-1).reshape(p_, h, w)
    cols = torch.arange(w, dtype=maps.dtype, device=maps.device)
    rows = torch.arange(h, dtype=maps.dtype, device=maps.device)
    u = (prob.sum(dim=1) * cols).sum(dim=-1)
    v = (prob.sum(dim=2) * rows).sum(dim=-1)
    score = maps.reshape(p_, -1).amax(dim=-1)
    return _finish(torch.stack([u, v], dim=-1), score, lead, stride, is_numpy)


integral_regression = soft_argmax
"""Alias of ``soft_argmax``: Sun et al.'s name for it ("integral pose regression")."""


def decode_heatmaps(heatmaps, stride, method: str = "dark", sigma: float = 2.0, beta=1.0):
    """Dispatch to a decoder by name: ``"argmax"``, ``"quarter"``, ``"dark"``, ``"integral"``.

    ``sigma`` is used by ``"dark"`` (the training σ_h), ``beta`` by ``"integral"``.
    """
    if method == "argmax":
        return decode_argmax(heatmaps, stride)
    if method == "quarter":
        return decode_quarter_offset(heatmaps, stride)
    if method == "dark":
        return decode_dark(heatmaps, stride, sigma=sigma)
    if method == "integral":
        return soft_argmax(heatmaps, stride, beta=beta)
    raise ValueError(f"method: expected one of {DECODERS}, got {method!r}")


# --------------------------------------------------------------------------- losses


def _weight(weight, shape, like: torch.Tensor) -> torch.Tensor:
    if weight is None:
        return torch.ones(shape, dtype=like.dtype, device=like.device)
    return torch.as_tensor(weight, dtype=like.dtype, device=like.device).reshape(shape)


def heatmap_mse_loss(pred, target, target_weight=None) -> torch.Tensor:
    """HRNet's / Simple Baselines' ``JointsMSELoss`` (``use_target_weight=True``).

    HRNet computes, per joint ``k``, ``0.5 · MSELoss(pred_k · w_k, target_k · w_k)`` with the
    mean over the batch and the ``h·w`` pixels, and averages over joints; that is::

        0.5 · mean_{b, k, i, j} (w_bk · (pred_bkij - target_bkij))²

    (the weight multiplies both maps, so it enters squared; weights are 0 or 1 in practice).
    A list/tuple of predictions (one per hourglass stack: intermediate supervision) is
    compared each with the same target and the losses are **summed**.

    Args:
        pred: ``(B, K, h, w)`` tensor, or a list of them.
        target: ``(B, K, h, w)`` targets (``gaussian_heatmaps``).
        target_weight: ``(B, K)`` or ``(B, K, 1)``; None = all ones.
    Returns:
        Scalar tensor.
    """
    if isinstance(pred, (list, tuple)):
        if not pred:
            raise ValueError("pred: expected a tensor or a non-empty list of tensors")
        return sum(heatmap_mse_loss(p, target, target_weight) for p in pred)
    pred = torch.as_tensor(pred)
    target = torch.as_tensor(target, dtype=pred.dtype, device=pred.device)
    if pred.shape != target.shape or pred.ndim != 4:
        raise ValueError(
            f"pred / target: expected equal shapes (B, K, h, w), got {tuple(pred.shape)} and "
            f"{tuple(target.shape)}"
        )
    w = _weight(target_weight, pred.shape[:2], pred)[..., None, None]
    return 0.5 * ((w * (pred - target)) ** 2).mean()


def integral_loss(heatmap_logits, keypoints, weight=None, stride=4, beta: float = 1.0):
    """Integral pose regression loss (Sun et al., ECCV 2018): L1 on soft-argmax coordinates.

    The paper found L1 better than L2 on the regressed joint coordinates, which it normalises
    by the input size. Here: ``mean_{b,k,axis} w_bk · |x̂ - x| / W`` (and ``/ H`` for y), with
    ``x̂`` from ``soft_argmax(heatmap_logits, stride, beta)`` and ``W = w·s``; i.e. an L1 loss
    on ``to_input_frame`` coordinates, averaged over all ``B·K·2`` numbers (mmpose's
    ``L1Loss`` with target weights). A list of logits (stacks) sums the losses.

    Args:
        heatmap_logits: ``(B, K, h, w)`` network output (or a list of them).
        keypoints: ``(B, K, 2|3)`` ground truth in input pixels.
        weight: ``(B, K)`` target weights; None = ``v > 0`` if ``keypoints`` has a v column,
            else ones.
        stride: output stride (number or ``(sx, sy)``).
        beta: softmax temperature.
    Returns:
        Scalar tensor, differentiable with respect to the logits.
    """
    if isinstance(heatmap_logits, (list, tuple)):
        return sum(integral_loss(h, keypoints, weight, stride, beta) for h in heatmap_logits)
    logits = torch.as_tensor(heatmap_logits)
    if logits.ndim != 4:
        raise ValueError(f"heatmap_logits: expected (B, K, h, w), got {tuple(logits.shape)}")
    kp = torch.as_tensor(keypoints, dtype=logits.dtype, device=logits.device)
    if kp.shape[:2] != logits.shape[:2] or kp.shape[-1] not in (2, 3):
        raise ValueError(f"keypoints: expected (B, K, 2|3) matching the maps, got {kp.shape}")
    if weight is None and kp.shape[-1] == 3:
        weight = (kp[..., 2] > 0).to(logits.dtype)
    w = _weight(weight, logits.shape[:2], logits)
    sx, sy = stride2(stride)
    size = torch.tensor(
        [logits.shape[-1] * sx, logits.shape[-2] * sy], dtype=logits.dtype, device=logits.device
    )
    pred = _soft_argmax(logits, (sx, sy), beta, finite=False)[..., :2]
    return (w[..., None] * (pred - kp[..., :2]).abs() / size).mean()


# --------------------------------------------------------------------------- codec


class HeatmapCodec:
    """Gaussian heatmap targets and a sub-pixel decoder, for ``posekit.engine``.

    Args:
        input_size: ``(W, H)`` of the model's input.
        heatmap_size: ``(w, h)`` of its output; or give ``stride`` (default 4): ``w = W / s``
            must then be an integer.
        sigma: σ_h, the target Gaussian's std in heatmap pixels (Newell 1 at 64×64, Simple
            Baselines 2 at 64×48).
        decoder: ``"argmax"``, ``"quarter"`` (Newell / HRNet), ``"dark"`` (default) or
            ``"integral"`` (soft-argmax; the model's maps are logits).
        unbiased: sub-pixel Gaussian centres (UDP / DARK) or the classic rounded centre.
        beta: soft-argmax temperature (``"integral"``).
        truncate: Gaussian window half-width in units of σ_h (``gaussian_heatmaps``).
        loss: ``"auto"`` (``integral_loss`` for the integral decoder, else
            ``heatmap_mse_loss``), ``"mse"`` or ``"integral"``.

    Protocol:
        ``encode(batch)``: ``batch["keypoints"]`` ``(B, K, 3)`` in input pixels, optional
        ``batch["target_weight"]`` ``(B, K)`` → ``{"heatmaps": (B, K, h, w), "target_weight":
        (B, K), "keypoints": (B, K, 3)}`` (the weight is the batch's times the codec's: 0 for
        unlabelled and off-map joints). ``decode(outputs)``: ``(B, K, h, w)`` or a list of them
        (hourglass stacks: the last is decoded) → B ``Instances`` (``posekit.codecs.instances``)
        of one person ``(1, K, 3)`` ``(x, y, score)`` in input pixels.
        ``loss(outputs, targets, batch=None)`` → scalar.
    """

    def __init__(
        self,
        input_size,
        heatmap_size=None,
        stride=None,
        sigma: float = 2.0,
        decoder: str = "dark",
        unbiased: bool = True,
        beta: float = 1.0,
        truncate: float | None = 3.0,
        loss: str = "auto",
    ) -> None:
        self.input_size = size2(input_size, "input_size")
        W, H = self.input_size
        if heatmap_size is None:
            sx, sy = stride2(4 if stride is None else stride)
            w, h = W / sx, H / sy
            if w != int(w) or h != int(h):
                raise ValueError(
                    f"stride: input_size {self.input_size} is not a multiple of {stride!r}"
                )
            self.heatmap_size = (int(w), int(h))
        else:
            self.heatmap_size = size2(heatmap_size, "heatmap_size")
            if stride is not None and stride2(stride) != (
                W / self.heatmap_size[0],
                H / self.heatmap_size[1],
            ):
                raise ValueError(
                    f"stride {stride!r} does not match input_size {self.input_size} and "
                    f"heatmap_size {self.heatmap_size}; give one of them"
                )
        self.stride = (W / self.heatmap_size[0], H / self.heatmap_size[1])
        if decoder not in DECODERS:
            raise ValueError(f"decoder: expected one of {DECODERS}, got {decoder!r}")
        if loss not in ("auto", "mse", "integral"):
            raise ValueError(f"loss: expected 'auto', 'mse' or 'integral', got {loss!r}")
        if not sigma > 0:
            raise ValueError(f"sigma: expected a positive number, got {sigma!r}")
        self.sigma, self.decoder, self.unbiased = float(sigma), decoder, bool(unbiased)
        self.beta, self.truncate = float(beta), truncate
        self.loss_name = (
            loss if loss != "auto" else ("integral" if decoder == "integral" else "mse")
        )

    def __repr__(self) -> str:
        return (
            f"HeatmapCodec(input_size={self.input_size}, heatmap_size={self.heatmap_size}, "
            f"sigma={self.sigma:g}, decoder={self.decoder!r}, unbiased={self.unbiased})"
        )

    def encode(self, batch: dict) -> dict:
        """Batch → ``{"heatmaps", "target_weight", "keypoints"}`` torch tensors."""
        kp = torch.as_tensor(batch["keypoints"])
        if not kp.is_floating_point():
            kp = kp.float()
        if kp.ndim != 3 or kp.shape[-1] != 3:
            raise ValueError(f"batch['keypoints']: expected (B, K, 3), got {tuple(kp.shape)}")
        maps, weight = gaussian_heatmaps(
            kp, self.heatmap_size, self.stride, self.sigma, self.unbiased, self.truncate
        )
        given = batch.get("target_weight")
        if given is not None:
            given = torch.as_tensor(given, dtype=weight.dtype, device=weight.device)
            weight = weight * given.reshape(weight.shape)
            maps = maps * (weight > 0)[..., None, None]
        return {"heatmaps": maps, "target_weight": weight, "keypoints": kp}

    def decode(self, outputs) -> list[Instances]:
        """``(B, K, h, w)`` (or a list: the last) → B ``Instances`` of one person each,
        ``(1, K, 3)`` in input pixels (``decode_heatmaps`` gives the ``(B, K, 3)`` array)."""
        if isinstance(outputs, (list, tuple)):
            outputs = outputs[-1]
        return per_crop(decode_heatmaps(outputs, self.stride, self.decoder, self.sigma, self.beta))

    def loss(self, outputs, targets: dict, batch: dict | None = None) -> torch.Tensor:
        """``heatmap_mse_loss`` or ``integral_loss`` (see ``loss`` in the constructor)."""
        if self.loss_name == "integral":
            return integral_loss(
                outputs, targets["keypoints"], targets["target_weight"], self.stride, self.beta
            )
        return heatmap_mse_loss(outputs, targets["heatmaps"], targets["target_weight"])
