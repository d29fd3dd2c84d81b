"""Frame maths shared by datasets, codecs and models: person boxes, affine crops, coordinate
normalisation, and the pixel statistics network inputs are normalised with.

Conventions (``docs/conventions.md``): ``x`` is the column, ``y`` the row, in pixels, with
pixel centres at integer coordinates (pixel (0, 0) covers [-0.5, 0.5)², an image of width W
spans [-0.5, W - 0.5)); sizes are ``(width, height)``.

* **Person boxes** are a ``center`` (2,) in pixels and a ``scale`` (2,) = box ``(width,
  height)`` in units of ``PIXEL_STD`` = 200 px (the MPII / Newell et al. 2016 / HRNet
  convention).
* **Crops**: ``affine_matrix`` is the 2×3 image → crop map, unbiased in the sense of UDP
  (Huang et al., CVPR 2020): the box centre lands on the crop's centre ``((w - 1) / 2,
  (h - 1) / 2)``, so flipping commutes with cropping.
* **Coordinate normalisation** (regression targets): ``to_box_frame`` is DeepPose's
  ``N(x, y; b) = ((x - b_cx) / b_w, (y - b_cy) / b_h)`` (Toshev & Szegedy, CVPR 2014): a
  point inside the box lands in ``[-0.5, 0.5)²``. ``to_input_frame`` is mmpose's
  ``RegressionLabel`` with integer pixel centres, ``((x + 0.5) / W, (y + 0.5) / H)``: the
  input's area maps exactly onto ``[0, 1)²`` — the box normalisation with the whole input as
  the box, plus 0.5. Both are affine; ``denormalize_*`` inverts them. They take numpy arrays
  or torch tensors (the result has the input's type), coordinates in the last axis: ``(..., 2)``
  = ``(x, y)`` or ``(..., 3)`` = ``(x, y, v)`` (``v`` passes through).
* **Pixel statistics**: ``IMAGENET_MEAN`` / ``IMAGENET_STD`` (RGB, in [0, 1]) normalise every
  network input of the course (``posekit.datasets.synthpose.normalize_image``).
"""

from __future__ import annotations

import numpy as np
import torch

from posekit.validate import affine2x3, point2, size2

PIXEL_STD = 200.0
"""Box sizes (``scale``) are in units of 200 px (MPII ``scale`` = person height / 200)."""

MAX_SIDE = 32767
"""Largest crop side in pixels (OpenCV's ``warpAffine`` limit)."""

IMAGENET_MEAN = (0.485, 0.456, 0.406)
"""RGB mean of ImageNet in [0, 1] (torchvision's normalisation)."""
IMAGENET_STD = (0.229, 0.224, 0.225)
"""RGB standard deviation of ImageNet in [0, 1]."""


# --------------------------------------------------------------------------- boxes and crops


def box_scale(value, arg: str = "scale") -> np.ndarray:
    """A box ``scale`` (one number or ``(w, h)`` in units of ``PIXEL_STD``) as 2 positive floats."""
    s = np.asarray(value, dtype=np.float64)
    if s.ndim == 0:
        s = np.array([s, s])
    if s.shape != (2,) or not np.all(np.isfinite(s)) or np.any(s <= 0):
        raise ValueError(
            f"{arg}: expected a positive number or 2 positive numbers (w, h) in units of "
            f"{PIXEL_STD:g} px, got {np.asarray(value)!r}"
        )
    return s


def _cos_sin(deg: float) -> tuple[float, float]:
    """cos and sin of ``deg`` degrees, exact for multiples of 90°."""
    if deg % 90 == 0:
        quarter = int(deg // 90) % 4
        return ((1.0, 0.0), (0.0, 1.0), (-1.0, 0.0), (0.0, -1.0))[quarter]
    rad = np.deg2rad(deg)
    return float(np.cos(rad)), float(np.sin(rad))


def _as3(matrix: np.ndarray) -> np.ndarray:
    return np.vstack([matrix, [0.0, 0.0, 1.0]])


def invert_affine(matrix) -> np.ndarray:
    """Inverse of a 2×3 affine matrix (float64 (2, 3))."""
    return np.linalg.inv(_as3(affine2x3(matrix)))[:2]


def compose_affine(outer, inner) -> np.ndarray:
    """The 2×3 matrix of ``outer ∘ inner`` (apply ``inner`` first)."""
    return (_as3(affine2x3(outer, "outer")) @ _as3(affine2x3(inner, "inner")))[:2]


def affine_matrix(
    center,
    scale,
    rotation_deg: float,
    output_size,
    inverse: bool = False,
    shift=(0.0, 0.0),
) -> np.ndarray:
    """2×3 matrix mapping image pixels to crop pixels (or back with ``inverse=True``).

    The box is ``scale · 200`` px (``(w_box, h_box)``) centred on ``center + shift · box``
    (``shift`` in units of the box size, as HRNet), rotated by ``rotation_deg`` (positive =
    counter-clockwise as displayed: a point right of the centre goes above it at +90°). It fills
    the ``output_size = (w, h)`` crop:

        crop = diag(w / w_box, h / h_box) · R(rotation) · (p - center) + ((w-1)/2, (h-1)/2)

    with ``R = [[cos, sin], [-sin, cos]]`` (= ``cv2.getRotationMatrix2D``'s rotation). So a
    keypoint at the box centre lands at ``((w-1)/2, (h-1)/2)``, the box's outer corners land on
    the crop's outer corners (-0.5, -0.5) and (w-0.5, h-0.5), and the crop's pixel centres sit at
    the centres of a w × h grid over the box: pixels are areas, both before and after.

    HRNet's ``get_affine_transform`` maps the centre to ``(w/2, h/2)`` instead: a half-pixel
    bias, which a flip mirrors into the opposite direction (hence HRNet's one-pixel
    ``shift_heatmap`` in flip testing); UDP removes it. UDP's own
    ``get_warp_matrix`` (mmpose) has the same centre as here but scales by ``(w-1)/w_box``,
    measuring sizes between first and last pixel centres; both are unbiased and differ only by
    the factor ``(w-1)/w`` in zoom.

    Args:
        center: (2,) box centre in image pixels.
        scale: (2,) or scalar, box ``(width, height)`` / 200.
        rotation_deg: rotation in degrees, counter-clockwise positive.
        output_size: crop ``(width, height)`` in pixels.
        inverse: return the crop → image matrix instead (for mapping predictions back).
        shift: (2,) box-centre offset as a fraction of the box size.
    Returns:
        (2, 3) float64 matrix ``M``; a point ``p`` maps to ``M @ [x, y, 1]``.
    """
    box = box_scale(scale) * PIXEL_STD
    c = point2(center, "center") + point2(shift, "shift") * box
    if not np.isfinite(rotation_deg):
        raise ValueError(f"rotation_deg: expected a finite angle, got {rotation_deg!r}")
    w, h = size2(output_size, "output_size", maximum=MAX_SIDE)
    cos, sin = _cos_sin(float(rotation_deg))
    linear = np.diag([w / box[0], h / box[1]]) @ np.array([[cos, sin], [-sin, cos]])
    offset = np.array([(w - 1) / 2, (h - 1) / 2]) - linear @ c
    m = np.hstack([linear, offset[:, None]])
    return invert_affine(m) if inverse else m


# --------------------------------------------------------------------------- normalisation


def _pair_like(value, ref, arg: str):
    """``value`` (a number, (2,) or broadcastable to ``ref[..., :2]``) with ``ref``'s type."""
    if isinstance(ref, torch.Tensor):
        v = torch.as_tensor(value, dtype=ref.dtype, device=ref.device)
        v = v.expand(2) if v.ndim == 0 else v
    else:
        v = np.asarray(value, dtype=ref.dtype)
        v = np.full(2, v, dtype=ref.dtype) if v.ndim == 0 else v
    if v.shape[-1] != 2:
        raise ValueError(f"{arg}: expected (2,) or (..., 2) of (x, y), got shape {tuple(v.shape)}")
    return v


def _coords(kp, arg: str = "keypoints"):
    if isinstance(kp, torch.Tensor):
        if not kp.is_floating_point():
            kp = kp.float()
    else:
        kp = np.asarray(kp)
        if kp.dtype.kind != "f":
            kp = kp.astype(np.float32)
    if kp.ndim < 1 or kp.shape[-1] not in (2, 3):
        raise ValueError(f"{arg}: expected (..., 2) or (..., 3) of (x, y[, v]), got {kp.shape}")
    return kp


def _with_xy(kp, xy):
    """``kp`` with its first two columns replaced by ``xy`` (v, if any, kept)."""
    if kp.shape[-1] == 2:
        return xy
    if isinstance(kp, torch.Tensor):
        return torch.cat([xy.to(kp.dtype), kp[..., 2:]], dim=-1)
    return np.concatenate([xy.astype(kp.dtype, copy=False), kp[..., 2:]], axis=-1)


def to_box_frame(kp, center, size):
    """DeepPose's box normalisation ``N(x, y; b) = ((x - b_cx) / b_w, (y - b_cy) / b_h)``.

    Args:
        kp: ``(..., 2)`` or ``(..., 3)`` keypoints in pixels (numpy or torch).
        center: box centre ``(b_cx, b_cy)`` in pixels, (2,) or broadcastable to
            ``kp[..., :2]`` (e.g. ``(B, 1, 2)`` for one box per image). For a box covering
            pixel columns ``x0..x1`` inclusive the centre is ``(x0 + x1) / 2``.
        size: box ``(b_w, b_h)`` in pixels (the covered area: ``x1 - x0 + 1``), same shapes.
    Returns:
        Same shape and type as ``kp``; points inside the box lie in ``[-0.5, 0.5)²``.
    """
    kp = _coords(kp)
    c, s = _pair_like(center, kp, "center"), _pair_like(size, kp, "size")
    return _with_xy(kp, (kp[..., :2] - c) / s)


def from_box_frame(kp, center, size):
    """Inverse of ``to_box_frame``: ``x = b_cx + u · b_w``, ``y = b_cy + v · b_h``."""
    kp = _coords(kp)
    c, s = _pair_like(center, kp, "center"), _pair_like(size, kp, "size")
    return _with_xy(kp, kp[..., :2] * s + c)


def to_input_frame(kp, input_size):
    """mmpose's input normalisation with integer pixel centres: ``((x + 0.5) / W, (y + 0.5) / H)``.

    The input image's area ``[-0.5, W - 0.5) × [-0.5, H - 0.5)`` maps onto ``[0, 1)²``
    (see the module docstring for why ``+ 0.5``).

    Args:
        kp: ``(..., 2)`` or ``(..., 3)`` keypoints in input pixels (numpy or torch).
        input_size: ``(W, H)`` of the model's input.
    Returns:
        Same shape and type as ``kp``.
    """
    w, h = size2(input_size, "input_size")
    return to_box_frame(kp, (-0.5, -0.5), (w, h))


def from_input_frame(kp, input_size):
    """Inverse of ``to_input_frame``: ``x = u · W - 0.5``, ``y = v · H - 0.5``."""
    w, h = size2(input_size, "input_size")
    return from_box_frame(kp, (-0.5, -0.5), (w, h))
