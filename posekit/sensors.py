"""Privacy-enhancing sensor images computed from RGB frames, in SPHP's encodings.

SPHP (Hsieh et al., BMVC 2023) records, instead of RGB, a greyscale image (``GRA``), an edge
image (``EDG``) and the horizontal / vertical motion vectors of a video codec (``MVH``,
``MVV``; uint8 with 128 = no motion). posekit synthesises them from rendered frames:
edges with Canny, motion vectors as dense optical flow (Farnebäck) averaged over codec-like
macroblocks. Lesson 06 builds on these.
"""

from __future__ import annotations

import cv2
import numpy as np

MV_ZERO = 128


def _check_rgb(image: np.ndarray, arg: str = "image") -> np.ndarray:
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"{arg}: expected H×W×3 uint8 RGB, got {image.shape} {image.dtype}")
    return image


def grayscale(image: np.ndarray) -> np.ndarray:
    """``H×W×3 uint8 RGB`` → ``H×W uint8`` luma (ITU-R BT.601, as OpenCV)."""
    return cv2.cvtColor(_check_rgb(image), cv2.COLOR_RGB2GRAY)


def edges(image: np.ndarray, low: int = 50, high: int = 150, blur: int = 3) -> np.ndarray:
    """Canny edge image ``H×W uint8`` in {0, 255} (SPHP's ``EDG``) of an RGB frame.

    ``blur``: side of a Gaussian pre-blur (odd; 0 or 1 for none) that removes texture edges.
    """
    gray = grayscale(image)
    if blur > 1:
        gray = cv2.GaussianBlur(gray, (blur, blur), 0)
    return cv2.Canny(gray, low, high)


def motion_vectors(
    previous: np.ndarray, current: np.ndarray, block: int = 8, gain: float = 4.0
) -> tuple[np.ndarray, np.ndarray]:
    """Codec-like motion vectors between two RGB frames, encoded as SPHP's ``MVH``/``MVV``.

    The flow from ``previous`` to ``current`` (Farnebäck) is averaged over ``block × block``
    macroblocks, then each block's value is spread over its pixels and encoded as
    ``uint8(clip(128 + gain * displacement_px, 0, 255))``: 128 = no motion, ``gain`` levels
    per pixel of motion (4 → ±32 px range).

    Returns:
        ``(mvh, mvv)``, each ``H×W uint8``: horizontal (x, right positive) and vertical
        (y, down positive) motion.
    """
    a, b = grayscale(_check_rgb(previous, "previous")), grayscale(_check_rgb(current, "current"))
    if a.shape != b.shape:
        raise ValueError(f"current: shape {b.shape} differs from previous {a.shape}")
    if block < 1:
        raise ValueError(f"block: must be >= 1, got {block}")
    flow = cv2.calcOpticalFlowFarneback(a, b, None, 0.5, 3, 15, 3, 5, 1.2, 0)
    h, w = a.shape
    hb, wb = -(-h // block), -(-w // block)
    padded = np.zeros((hb * block, wb * block, 2), np.float32)
    padded[:h, :w] = flow
    counts = np.zeros((hb * block, wb * block), np.float32)
    counts[:h, :w] = 1
    sums = padded.reshape(hb, block, wb, block, 2).sum(axis=(1, 3))
    n = counts.reshape(hb, block, wb, block).sum(axis=(1, 3))[..., None]
    mean = np.repeat(np.repeat(sums / n, block, axis=0), block, axis=1)[:h, :w]
    coded = np.clip(np.rint(MV_ZERO + gain * mean), 0, 255).astype(np.uint8)
    return coded[..., 0], coded[..., 1]


def decode_motion(mv: np.ndarray) -> np.ndarray:
    """SPHP's loader normalisation of an ``MVH``/``MVV`` image: ``(mv - 128) / 128`` float32."""
    return (np.asarray(mv, np.float32) - MV_ZERO) / MV_ZERO
