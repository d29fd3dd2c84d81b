"""Top-down data transforms: person boxes, affine crops, flips, colour jitter, half-body.

Conventions (``docs/conventions.md``; box and crop maths in ``posekit.geometry``):

* Images are numpy ``H×W×3`` uint8 RGB (``H×W`` and ``H×W×C`` with C ≤ 4, uint8 or float32,
  are accepted where noted).
* Keypoints are float32 ``(N, K, 3)`` or ``(K, 3)`` = ``(x, y, v)``; x is the column, y the
  row, in pixels, with **pixel centres at integer coordinates** (pixel (0, 0) covers
  [-0.5, 0.5)², an image of width W spans [-0.5, W - 0.5)). ``v`` = 0 not labelled, 1 occluded,
  2 visible. Joints with ``v == 0`` are never moved: they keep their ``(0, 0, 0)``.
* Sizes are ``(width, height)``.
* A person box is ``center`` (2,) in pixels and ``scale`` (2,) = box ``(width, height)`` in
  units of ``PIXEL_STD`` = 200 px (the MPII / Newell / HRNet convention).
* Rotation angles are in degrees, **positive = counter-clockwise as displayed** (y points
  down), as in HRNet's ``get_affine_transform`` and ``cv2.getRotationMatrix2D``.

The crop geometry is unbiased in the sense of UDP (Huang et al., CVPR 2020): the box centre
maps to the crop's centre ``((w - 1) / 2, (h - 1) / 2)`` (``geometry.affine_matrix``) and a
horizontal flip maps column x to ``W - 1 - x``, so flipping commutes with cropping. Image and
keypoints go through the
*same* 2×3 matrix (``cv2.warpAffine`` samples output pixel ``p`` at image point
``M⁻¹ p``), so a keypoint on a pixel lands exactly on that pixel's copy in the crop.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from posekit.geometry import (
    MAX_SIDE,
    PIXEL_STD,
    affine_matrix,
    box_scale,
    compose_affine,
    invert_affine,
)
from posekit.skeletons import Skeleton, get_skeleton
from posekit.skeletons import flip_keypoints as _flip_keypoints_sk
from posekit.validate import affine2x3, point2, size2

LOWER_BODY = frozenset(
    ("pelvis", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle")
)
"""Canonical joints of the lower half (HRNet: MPII ids 0–6, COCO ids 11–16); the rest is upper."""

_BORDERS = {
    "constant": cv2.BORDER_CONSTANT,
    "replicate": cv2.BORDER_REPLICATE,
    "reflect": cv2.BORDER_REFLECT_101,
}


# --------------------------------------------------------------------------- validation


def _width(value, arg: str = "width") -> int:
    try:
        ok = not isinstance(value, bool) and int(value) == value and value > 0
    except (TypeError, ValueError, OverflowError):
        ok = False
    if not ok:
        raise ValueError(f"{arg}: expected a positive integer image width, got {value!r}")
    return int(value)


def _image(image, arg: str = "image", dtypes=(np.uint8, np.float32)) -> np.ndarray:
    if not isinstance(image, np.ndarray):
        raise ValueError(f"{arg}: expected a numpy array H×W×3, got {type(image).__name__}")
    ok_shape = image.ndim == 2 or (image.ndim == 3 and 1 <= image.shape[2] <= 4)
    if not ok_shape or image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError(f"{arg}: expected shape H×W or H×W×C (C ≤ 4), got {image.shape}")
    if image.dtype not in dtypes:
        names = " or ".join(np.dtype(d).name for d in dtypes)
        raise ValueError(f"{arg}: expected dtype {names}, got {image.dtype}")
    return image


def _keypoints(keypoints, arg: str = "keypoints", ndims=(2, 3)) -> np.ndarray:
    kp = np.asarray(keypoints, dtype=np.float32)
    if kp.ndim not in ndims or kp.shape[-1] != 3:
        shapes = " or ".join({2: "(K, 3)", 3: "(N, K, 3)"}[n] for n in ndims)
        raise ValueError(f"{arg}: expected shape {shapes} of (x, y, v), got {kp.shape}")
    return kp


def _rng(rng, arg: str = "rng") -> np.random.Generator:
    """A Generator, or a new one seeded with an integer seed.

    Every random function takes a seed or a Generator (``docs/conventions.md`` § Randomness
    and seeds).
    """
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        return np.random.default_rng(rng)
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"{arg}: expected an integer seed or a numpy Generator, got {rng!r}")
    return rng


# --------------------------------------------------------------------------- person boxes


def box_to_center_scale(
    box_xywh, aspect_ratio: float = 192 / 256, padding: float = 1.25
) -> tuple[np.ndarray, np.ndarray]:
    """Person box ``[x, y, w, h]`` → ``(center, scale)``, as HRNet's COCO loader (``_xywh2cs``).

    The centre is the box centre ``(x + w/2, y + h/2)``; the box is grown along one axis to the
    crop's ``aspect_ratio`` (width / height, 192/256 for HRNet's COCO input) and multiplied by
    ``padding``. (COCO boxes count pixel corners from 0; the half-pixel offset from posekit's
    pixel-centre frame is ignored, as in HRNet and mmpose.)

    Returns:
        center (2,) float32 in pixels; scale (2,) float32 = padded box ``(w, h) / 200``.
    """
    box = np.asarray(box_xywh, dtype=np.float64)
    if box.shape != (4,) or not np.all(np.isfinite(box)) or box[2] <= 0 or box[3] <= 0:
        raise ValueError(f"box_xywh: expected [x, y, w, h] with w, h > 0, got {box_xywh!r}")
    if not (np.isfinite(aspect_ratio) and aspect_ratio > 0):
        raise ValueError(f"aspect_ratio: expected a positive width/height, got {aspect_ratio!r}")
    if not (np.isfinite(padding) and padding > 0):
        raise ValueError(f"padding: expected a positive factor, got {padding!r}")
    x, y, w, h = box
    center = np.array([x + w / 2, y + h / 2])
    w, h = max(w, h * aspect_ratio), max(h, w / aspect_ratio)
    scale = np.array([w, h]) / PIXEL_STD * padding
    return center.astype(np.float32), scale.astype(np.float32)


def mpii_center_scale(
    objpos, scale: float, one_based: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """MPII ``objpos`` / ``scale`` (person height / 200) → ``(center, scale)`` for cropping.

    HRNet's (and Newell's) adjustment: move the centre down by 15·scale px
    (``objpos`` sits near the chest) and enlarge the box by 1.25, giving a square box of
    ``250 · scale`` px. With ``one_based=True`` ``objpos`` is the raw 1-based MATLAB value and
    1 is subtracted (HRNet's ``c -= 1``); otherwise it is already 0-based like the keypoints.

    Returns:
        center (2,) float32 in pixels; scale (2,) float32 = ``(1.25·s, 1.25·s)``.
    """
    c = point2(objpos, "objpos").copy()
    if np.ndim(scale) != 0:
        raise ValueError(f"scale: expected one positive number (MPII scale), got {scale!r}")
    s = float(box_scale(scale)[0])
    c[1] += 15 * s
    if one_based:
        c -= 1
    return c.astype(np.float32), np.full(2, 1.25 * s, dtype=np.float32)


# --------------------------------------------------------------------------- affine maps


def flip_matrix(width: int) -> np.ndarray:
    """2×3 matrix of the horizontal flip of an image ``width`` px wide: x → width - 1 - x."""
    w = _width(width)
    return np.array([[-1.0, 0.0, w - 1.0], [0.0, 1.0, 0.0]])


# --------------------------------------------------------------------------- apply maps


def warp_image(
    image: np.ndarray, matrix, output_size, border: str = "constant", fill: float = 0
) -> np.ndarray:
    """Warp ``image`` by the image → crop ``matrix`` with ``cv2.warpAffine`` (INTER_LINEAR).

    Output pixel ``p`` (integer coordinates = pixel centres) is the bilinear sample of
    ``image`` at ``M⁻¹ p``, the same geometry ``transform_keypoints`` applies to keypoints.

    Args:
        image: ``H×W×3`` uint8 RGB (also ``H×W`` / ``H×W×C``, C ≤ 4, uint8 or float32).
        matrix: (2, 3) image → crop matrix, e.g. from ``affine_matrix``.
        output_size: crop ``(width, height)``.
        border: outside the image: ``"constant"`` (``fill``), ``"replicate"`` or ``"reflect"``.
        fill: value of every channel outside the image when ``border="constant"``.
    Returns:
        ``(height, width, C)`` (or ``(height, width)``) array of ``image``'s dtype.
    """
    img = _image(image)
    m = affine2x3(matrix)
    w, h = size2(output_size, "output_size", maximum=MAX_SIDE)
    if border not in _BORDERS:
        raise ValueError(f"border: expected one of {sorted(_BORDERS)}, got {border!r}")
    out = cv2.warpAffine(
        np.ascontiguousarray(img),
        m,
        (w, h),
        flags=cv2.INTER_LINEAR,
        borderMode=_BORDERS[border],
        borderValue=(float(fill),) * 4,
    )
    return out.reshape((h, w) + img.shape[2:])


def transform_keypoints(keypoints, matrix) -> np.ndarray:
    """Apply a 2×3 affine ``matrix`` to the (x, y) of the labelled joints.

    ``v`` is kept unchanged, also for joints that leave the crop: as mmpose, the visibility
    says what was annotated; whether a joint is inside the crop is ``in_bounds``'s question
    (the heatmap codec gives such joints target weight 0). Joints with ``v == 0`` are
    returned untouched.

    Args:
        keypoints: ``(K, 3)`` or ``(N, K, 3)`` of ``(x, y, v)``.
        matrix: (2, 3) affine matrix.
    Returns:
        float32 array of the same shape.
    """
    kp = _keypoints(keypoints)
    m = affine2x3(matrix)
    xy = kp[..., :2].astype(np.float64) @ m[:, :2].T + m[:, 2]
    out = kp.copy()
    labelled = kp[..., 2] > 0
    out[..., :2] = np.where(labelled[..., None], xy, kp[..., :2])
    return out


def inverse_keypoints(crop_keypoints, matrix) -> np.ndarray:
    """Map crop keypoints (e.g. predictions) back to the image, given the image → crop matrix.

    Equivalent to ``transform_keypoints(kp, affine_matrix(..., inverse=True))``; the test-time
    path. Shapes as ``transform_keypoints``; joints with ``v == 0`` are untouched.
    """
    return transform_keypoints(_keypoints(crop_keypoints, "crop_keypoints"), invert_affine(matrix))


def in_bounds(keypoints, size) -> np.ndarray:
    """Mask of labelled joints inside an image of ``size = (width, height)``.

    Inside means within the image's area ``[-0.5, w - 0.5) × [-0.5, h - 0.5)``.

    Returns:
        bool array of shape ``keypoints.shape[:-1]``.
    """
    kp = _keypoints(keypoints)
    w, h = size2(size, "size", maximum=MAX_SIDE)
    x, y = kp[..., 0], kp[..., 1]
    inside = (x >= -0.5) & (x < w - 0.5) & (y >= -0.5) & (y < h - 0.5)
    return inside & (kp[..., 2] > 0)


# --------------------------------------------------------------------------- flips


def flip_image(image: np.ndarray) -> np.ndarray:
    """Mirror an image left-right: column x goes to ``W - 1 - x`` (contiguous copy)."""
    return np.ascontiguousarray(_image(image)[:, ::-1])


def flip_keypoints(keypoints, width: int, skeleton: str | Skeleton) -> np.ndarray:
    """Mirror keypoints in an image ``width`` px wide (x → width - 1 - x), swap left/right.

    ``posekit.skeletons.flip_keypoints`` with argument checks; v=0 joints stay ``(0, 0, 0)``.
    Shape ``(K, 3)`` or ``(N, K, 3)`` in and out.
    """
    return _flip_keypoints_sk(_keypoints(keypoints), _width(width), skeleton)


def flip_center(center, width: int) -> np.ndarray:
    """Mirror a box centre in an image ``width`` px wide: ``(width - 1 - x, y)``, float32 (2,)."""
    c = point2(center, "center")
    return np.array([_width(width) - 1 - c[0], c[1]], dtype=np.float32)


# --------------------------------------------------------------------------- photometric


def _gray(img: np.ndarray) -> np.ndarray:
    """ITU-R 601 luma of float RGB ``(H, W, 3)`` → ``(H, W, 1)`` (torchvision's weights)."""
    return (img @ np.array([0.299, 0.587, 0.114], dtype=np.float32))[..., None]


def _shift_hue(img: np.ndarray, turns: float) -> np.ndarray:
    """Rotate the hue of float RGB in [0, 255] by ``turns`` of the colour wheel."""
    hsv = cv2.cvtColor(img / 255.0, cv2.COLOR_RGB2HSV)  # float32: H in degrees [0, 360)
    hsv[..., 0] = np.mod(hsv[..., 0] + 360.0 * turns, 360.0)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB) * 255.0


def color_jitter(
    image: np.ndarray,
    rng: np.random.Generator,
    brightness: float = 0.2,
    contrast: float = 0.2,
    saturation: float = 0.2,
    hue: float = 0.05,
) -> np.ndarray:
    """Random brightness, contrast, saturation and hue of a uint8 RGB image (torchvision-like).

    Factors are drawn uniformly from ``[max(0, 1 - a), 1 + a]`` for brightness (scale),
    contrast (blend with the mean grey) and saturation (blend with the per-pixel grey); the hue
    is rotated by a uniform fraction of a turn in ``[-hue, hue]``. Applied in that fixed order
    (torchvision shuffles it), clipping to [0, 255] after each step. Four numbers are always
    drawn from ``rng``, so the same seed or generator state gives the same bytes.

    Args:
        image: ``H×W×3`` uint8 RGB.
        rng: numpy Generator or integer seed.
    Returns:
        ``H×W×3`` uint8 RGB.
    """
    img = _image(image, dtypes=(np.uint8,))
    if img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f"image: expected H×W×3 RGB, got {img.shape}")
    rng = _rng(rng)
    for name, value, top in (
        ("brightness", brightness, np.inf),
        ("contrast", contrast, np.inf),
        ("saturation", saturation, np.inf),
        ("hue", hue, 0.5),
    ):
        if not (0 <= value <= top):
            raise ValueError(f"{name}: expected a value in [0, {top}], got {value!r}")
    b, c, s = (rng.uniform(max(0.0, 1 - a), 1 + a) for a in (brightness, contrast, saturation))
    h = rng.uniform(-hue, hue)
    out = np.clip(img.astype(np.float32) * np.float32(b), 0, 255)
    out = np.clip(c * out + (1 - c) * _gray(out).mean(), 0, 255)
    out = np.clip(s * out + (1 - s) * _gray(out), 0, 255)
    if hue > 0:
        out = np.clip(_shift_hue(out.astype(np.float32), h), 0, 255)
    return np.rint(out).astype(np.uint8)


# --------------------------------------------------------------------------- half body


def body_halves(skeleton: str | Skeleton) -> tuple[np.ndarray, np.ndarray]:
    """Joint indices ``(upper, lower)`` of a joint set, by canonical name (``LOWER_BODY``).

    Gives HRNet's lists: MPII upper 7–15 / lower 0–6, COCO upper 0–10 / lower 11–16.
    """
    sk = get_skeleton(skeleton)
    lower = np.array([j in LOWER_BODY for j in sk.joints])
    return np.flatnonzero(~lower), np.flatnonzero(lower)


def half_body(
    keypoints,
    skeleton: str | Skeleton,
    rng: np.random.Generator,
    aspect_ratio: float = 192 / 256,
    padding: float = 1.5,
) -> tuple[np.ndarray, np.ndarray] | None:
    """Half-body box (HRNet ``half_body_transform`` / mmpose ``RandomHalfBody``).

    Keeps the labelled upper-body joints with probability 1/2 if there are more than two,
    else the lower-body ones if more than two, else the upper ones; returns None if fewer than
    two joints are kept. The box is their bounding box, grown to ``aspect_ratio`` (w/h) and
    multiplied by ``padding``. It is centred on the box centre; HRNet centres on the joints'
    mean, which can leave a joint outside the box (HRNet also draws ``randn() < 0.5``, p≈0.69).

    Args:
        keypoints: ``(K, 3)`` of one person.
        skeleton: its joint set.
        rng: numpy Generator or integer seed.
    Returns:
        ``(center (2,), scale (2,))`` float32, or None.
    """
    sk = get_skeleton(skeleton)
    kp = _keypoints(keypoints, ndims=(2,))
    if kp.shape[0] != sk.num_joints:
        raise ValueError(f"keypoints: expected ({sk.num_joints}, 3) for {sk.name}, got {kp.shape}")
    rng = _rng(rng)
    labelled = kp[:, 2] > 0
    upper, lower = (ids[labelled[ids]] for ids in body_halves(sk))
    if rng.random() < 0.5 and len(upper) > 2:
        chosen = upper
    else:
        chosen = lower if len(lower) > 2 else upper
    if len(chosen) < 2:
        return None
    lo, hi = kp[chosen, :2].min(axis=0), kp[chosen, :2].max(axis=0)
    w, h = np.maximum(hi - lo, 1e-3)
    return box_to_center_scale([lo[0], lo[1], w, h], aspect_ratio, padding)


# --------------------------------------------------------------------------- pipeline


@dataclass
class TopDownAffine:
    """Training-time top-down crop: half-body, scale, rotation, flip, affine warp, colour.

    The HRNet / Simple Baselines recipe (mmpose ``RandomHalfBody``, ``RandomBBoxTransform``,
    ``RandomFlip``, ``TopdownAffine``, ``PhotometricDistortion``) with one unbiased matrix:

    1. with probability ``half_body_prob``, if more than ``half_body_min_joints`` joints are
       labelled, replace the box by ``half_body``'s;
    2. multiply ``scale`` by a factor uniform in ``scale``;
    3. with probability ``rotation_prob``, rotate by an angle uniform in ±``rotation`` degrees;
    4. with probability ``flip_prob``, flip (folded into the matrix: the crop equals HRNet's
       crop of the flipped image around the flipped centre, left/right joints swapped);
    5. warp image and keypoints with the same matrix; colour-jitter the crop if ``color``.

    Factors and angles are uniform; HRNet draws clipped normals instead (COCO: scale
    ``clip(1 + 0.35·N, 0.65, 1.35)``, angle ``clip(45·N, ±90)`` with probability 0.6).
    ``half_body_min_joints`` = 8 is HRNet's ``num_joints_half_body``.
    ``TopDownAffine.for_eval(output_size, skeleton)`` crops without any augmentation.
    """

    output_size: tuple[int, int]
    skeleton: str | Skeleton = "coco17"
    rotation: float = 40.0
    rotation_prob: float = 0.6
    scale: tuple[float, float] = (0.75, 1.25)
    flip_prob: float = 0.5
    half_body_prob: float = 0.3
    half_body_min_joints: int = 8
    color: bool = True

    def __post_init__(self) -> None:
        self.output_size = size2(self.output_size, "output_size", maximum=MAX_SIDE)
        self.skeleton = get_skeleton(self.skeleton)
        lo, hi = (float(v) for v in self.scale)
        if not 0 < lo <= hi:
            raise ValueError(f"scale: expected (low, high) with 0 < low <= high, got {self.scale}")
        self.scale = (lo, hi)
        if not (np.isfinite(self.rotation) and self.rotation >= 0):
            raise ValueError(f"rotation: expected a non-negative angle, got {self.rotation!r}")
        for name in ("rotation_prob", "flip_prob", "half_body_prob"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name}: expected a probability, got {getattr(self, name)!r}")

    @classmethod
    def for_eval(cls, output_size, skeleton: str | Skeleton = "coco17") -> TopDownAffine:
        """The deterministic test-time crop (no half-body, scale, rotation, flip or colour)."""
        return cls(output_size, skeleton, 0.0, 0.0, (1.0, 1.0), 0.0, 0.0, color=False)

    def _box(self, keypoints, center, scale, rng) -> tuple[np.ndarray, np.ndarray]:
        """Steps 1–2: the (possibly half-body) box, rescaled."""
        enough = (keypoints[:, 2] > 0).sum() > self.half_body_min_joints
        if enough and rng.random() < self.half_body_prob:
            box = half_body(
                keypoints, self.skeleton, rng, self.output_size[0] / self.output_size[1]
            )
            if box is not None:
                center, scale = box
        return center, scale * rng.uniform(*self.scale)

    def __call__(
        self, image: np.ndarray, keypoints, center, scale, rng: np.random.Generator
    ) -> dict:
        """Augment and crop one person.

        Args:
            image: ``H×W×3`` uint8 RGB.
            keypoints: ``(K, 3)`` of the person, in image pixels.
            center: (2,) box centre; scale: (2,) box size / 200 (e.g. ``box_to_center_scale``).
            rng: numpy Generator or integer seed (same state, same output).
        Returns:
            dict with ``image`` (h×w×3 uint8 crop), ``keypoints`` ((K, 3) float32 in crop pixels,
            v unchanged, left/right swapped if flipped), ``matrix`` ((2, 3) original image →
            crop, flip included), ``flipped`` (bool), ``center`` / ``scale`` (the augmented box
            in the original image, float32 (2,)), ``rotation`` (degrees, applied after the flip).
        """
        img = _image(image, dtypes=(np.uint8,))
        kp = _keypoints(keypoints, ndims=(2,))
        if kp.shape[0] != self.skeleton.num_joints:
            k = self.skeleton.num_joints
            raise ValueError(
                f"keypoints: expected ({k}, 3) for {self.skeleton.name}, got {kp.shape}"
            )
        center, scale = point2(center, "center"), box_scale(scale)
        rng = _rng(rng)
        center, scale = self._box(kp, center, scale, rng)
        rotation = 0.0
        if rng.random() < self.rotation_prob:
            rotation = float(rng.uniform(-self.rotation, self.rotation))
        flipped = bool(rng.random() < self.flip_prob)
        width = img.shape[1]
        if flipped:
            crop_center = flip_center(center, width)
            matrix = affine_matrix(crop_center, scale, rotation, self.output_size)
            matrix = compose_affine(matrix, flip_matrix(width))
        else:
            matrix = affine_matrix(center, scale, rotation, self.output_size)
        crop = warp_image(img, matrix, self.output_size)
        crop_kp = transform_keypoints(kp, matrix)
        if flipped:
            crop_kp = crop_kp[self.skeleton.flip_permutation()]
        if self.color and crop.ndim == 3 and crop.shape[2] == 3:
            crop = color_jitter(crop, rng)
        return {
            "image": crop,
            "keypoints": crop_kp,
            "matrix": matrix,
            "flipped": flipped,
            "center": np.asarray(center, dtype=np.float32),
            "scale": np.asarray(scale, dtype=np.float32),
            "rotation": rotation,
        }

    def inverse_keypoints(self, crop_keypoints, matrix, flipped: bool = False) -> np.ndarray:
        """Map crop keypoints back to the original image (undoing the joint swap if flipped).

        ``(K, 3)`` or ``(N, K, 3)``; v=0 joints untouched.
        """
        kp = _keypoints(crop_keypoints, "crop_keypoints")
        if flipped:
            kp = kp[..., self.skeleton.flip_permutation(), :]
        return inverse_keypoints(kp, matrix)
