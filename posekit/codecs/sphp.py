"""SPHP's heatmap codec: one-hot targets blurred with σ = 4, per-pixel MSE, argmax at stride 1.

Lin, Hsieh et al., "Sparse and Privacy-enhanced Representation for Human Pose Estimation",
BMVC 2023 (SPHP), train their networks on the DHP19 protocol (Calabrese et al., "DHP19:
Dynamic Vision Sensor 3D Human Pose Dataset", CVPRW 2019): the heatmaps have the input's
resolution (stride 1), and the target of a joint is

    1 at the integer pixel (row, col) = (int(y), int(x)),  0 elsewhere
    → Gaussian blur with σ = 4 pixels (``cv2.GaussianBlur(m, (0, 0), σ)``: OpenCV sizes the
      kernel from σ, 33 taps for σ = 4)
    → divided by its maximum (the peak is 1)

so the peak sits on the pixel that *contains* the joint (truncation, not rounding: up to one
pixel of bias toward the top-left, which the protocol also applies to the ground truth it
scores against). The blur uses OpenCV's default border (reflect 101), as SPHP's
``decay_heatmap``: within about 2σ of the map's edge the mirrored copy can move the maximum one
pixel toward the edge — kept, because the published numbers were trained that way.
The loss is the mean squared error over joints and pixels, **summed over the
batch** (SPHP's ``loss = mse(...).mean((1, 2, 3)).sum()``); decoding is the argmax of each
map, no sub-pixel refinement, and MPJPE compares it with the same integer ground truth
(``posekit.evaluation.evaluate_sphp``).

Coordinates are ``(x, y)`` in pixels of the model's input (384×288 for SPHP), pixel centres
at integer coordinates (``docs/conventions.md``).
"""

from __future__ import annotations

import numpy as np
import torch

from posekit.codecs.heatmap import decode_argmax
from posekit.codecs.instances import Instances, per_crop
from posekit.validate import size2

__all__ = ["SPHP_SIGMA", "SPHPCodec", "integer_pixels", "sphp_heatmaps", "sphp_loss"]

SPHP_SIGMA = 4.0
"""σ of SPHP's target blur, in pixels of the 384×288 input."""


def integer_pixels(keypoints) -> np.ndarray:
    """``(..., K, 2|3)`` ``(x, y, …)`` → ``(..., K, 2)`` float64 ``(int(x), int(y))``: the pixel
    holding each joint, SPHP's label grid (``int`` truncates toward 0)."""
    kp = np.asarray(keypoints.detach().cpu() if isinstance(keypoints, torch.Tensor) else keypoints,
                    np.float64)  # fmt: skip
    if kp.ndim < 2 or kp.shape[-1] not in (2, 3):
        raise ValueError(f"keypoints: expected (..., K, 2|3) (x, y[, v]), got {kp.shape}")
    return np.trunc(kp[..., :2])


def _one_map(x: float, y: float, w: int, h: int, sigma: float) -> np.ndarray | None:
    """Blurred one-hot map of the pixel ``(int(x), int(y))``; None if outside the map."""
    import cv2

    col, row = int(x), int(y)
    if not (0 <= col < w and 0 <= row < h) or x < 0 or y < 0:
        return None
    m = np.zeros((h, w), np.float32)
    m[row, col] = 1.0
    m = cv2.GaussianBlur(m, (0, 0), sigma)  # kernel from σ, default border (reflect 101): SPHP
    return m / m.max()


def sphp_heatmaps(keypoints, size, sigma: float = SPHP_SIGMA) -> tuple[np.ndarray, np.ndarray]:
    """SPHP targets of ``(B, K, 3)`` ``(x, y, v)`` keypoints on a ``size = (W, H)`` grid.

    Returns ``(heatmaps (B, K, H, W) float32, weight (B, K) float32)``: weight 1 for a joint
    with ``v > 0`` whose pixel lies on the grid, else 0 and an all-zero map."""
    w, h = size2(size, "size")
    if not (np.isfinite(sigma) and sigma > 0):
        raise ValueError(f"sigma: expected a positive number of pixels, got {sigma!r}")
    kp = np.asarray(keypoints.detach().cpu() if isinstance(keypoints, torch.Tensor) else keypoints,
                    np.float64)  # fmt: skip
    if kp.ndim != 3 or kp.shape[-1] != 3:
        raise ValueError(f"keypoints: expected (B, K, 3) (x, y, v), got {kp.shape}")
    b, k = kp.shape[:2]
    maps = np.zeros((b, k, h, w), np.float32)
    weight = np.zeros((b, k), np.float32)
    for i in range(b):
        for j in range(k):
            x, y, v = kp[i, j]
            if v > 0 and np.isfinite(x) and np.isfinite(y):
                m = _one_map(x, y, w, h, sigma)
                if m is not None:
                    maps[i, j], weight[i, j] = m, 1.0
    return maps, weight


def sphp_loss(pred: torch.Tensor, target: torch.Tensor, weight: torch.Tensor | None = None):
    """Per-pixel MSE, mean over joints and pixels, **summed over the batch** (SPHP).

    ``pred``, ``target``: ``(B, K, H, W)``; ``weight``: ``(B, K)`` (a joint with weight 0
    contributes 0, the mean still divides by K·H·W as SPHP's all-ones mask does)."""
    if pred.shape != target.shape:
        raise ValueError(f"pred: shape {tuple(pred.shape)} differs from target's "
                         f"{tuple(target.shape)}")  # fmt: skip
    err = (pred - target) ** 2
    if weight is not None:
        err = err * weight.to(err.dtype)[..., None, None]
    return err.mean(dim=(1, 2, 3)).sum()


class SPHPCodec:
    """Encode / loss / decode of SPHP's protocol for ``posekit.engine`` and ``evaluation``.

    Args:
        input_size: ``(W, H)`` of the model's input and output (stride 1), 384×288 in SPHP.
        sigma: the target blur in pixels (4).

    ``encode(batch)``: ``batch["keypoints"]`` ``(B, K, 3)`` in input pixels → ``{"heatmaps":
    (B, K, H, W), "target_weight": (B, K)}`` float32 tensors. ``loss(outputs, targets)``:
    ``sphp_loss``. ``decode(outputs)``: ``(B, K, H, W)`` (or a list whose last item is) →
    B ``Instances`` of one person, ``(x, y, score)`` = the argmax pixel and the map's maximum.
    """

    def __init__(self, input_size=(384, 288), sigma: float = SPHP_SIGMA) -> None:
        self.input_size = size2(input_size, "input_size")
        if not (np.isfinite(sigma) and sigma > 0):
            raise ValueError(f"sigma: expected a positive number of pixels, got {sigma!r}")
        self.sigma = float(sigma)

    def __repr__(self) -> str:
        return f"SPHPCodec(input_size={self.input_size}, sigma={self.sigma:g})"

    def encode(self, batch: dict) -> dict:
        kp = batch["keypoints"]
        maps, weight = sphp_heatmaps(kp, self.input_size, self.sigma)
        device = kp.device if isinstance(kp, torch.Tensor) else "cpu"
        return {"heatmaps": torch.from_numpy(maps).to(device),
                "target_weight": torch.from_numpy(weight).to(device)}  # fmt: skip

    def loss(self, outputs, targets: dict, batch: dict | None = None) -> torch.Tensor:
        pred = outputs[-1] if isinstance(outputs, (list, tuple)) else outputs
        return sphp_loss(pred, targets["heatmaps"], targets["target_weight"])

    def decode(self, outputs) -> list[Instances]:
        pred = outputs[-1] if isinstance(outputs, (list, tuple)) else outputs
        if not isinstance(pred, torch.Tensor) or pred.ndim != 4:
            raise ValueError("outputs: expected (B, K, H, W) heatmaps")
        w, h = self.input_size
        if tuple(pred.shape[-2:]) != (h, w):
            raise ValueError(f"outputs: maps of {tuple(pred.shape[-2:])} (H, W), expected "
                             f"{(h, w)} at stride 1")  # fmt: skip
        return per_crop(decode_argmax(pred.detach().float(), 1))
