"""Regression codec: keypoints ↔ normalised coordinate vectors (DeepPose, lesson 01).

A regression model (DeepPose: a CNN ending in a fully connected layer) outputs ``2K``
numbers per image; the codec says what they mean. Two normalisations, defined in
``posekit.geometry`` and re-exported here:

* **box** (Toshev & Szegedy, CVPR 2014): ``N(x, y; b) = ((x - b_cx) / b_w, (y - b_cy) / b_h)``
  relative to a person box; the cascade's refiners use it with a box around the previous
  estimate of one joint.
* **input** (mmpose's ``RegressionLabel`` with integer pixel centres): ``((x + 0.5) / W,
  (y + 0.5) / H)`` of the model's ``(W, H)`` input, whose area maps onto ``[0, 1)²``.

Losses (``pred``: ``(B, 2K)`` or ``(B, K, 2)``, ``target``: ``(B, K, 2)`` normalised,
``weight``: ``(B, K)`` target weights, e.g. 1 for labelled joints inside the crop):

* ``l2_loss``: DeepPose's objective, the squared L2 distance summed over joints, averaged over
  images.
* ``smooth_l1_loss``: mmpose's DeepPose loss (``SmoothL1Loss`` with target weights).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from posekit.codecs.instances import Instances, per_crop
from posekit.geometry import (
    from_box_frame,
    from_input_frame,
    to_box_frame,
    to_input_frame,
)
from posekit.validate import size2

__all__ = [
    "RegressionCodec",
    "from_box_frame",
    "from_input_frame",
    "l2_loss",
    "to_box_frame",
    "to_input_frame",
    "smooth_l1_loss",
]

FRAMES = ("input", "box")


# --------------------------------------------------------------------------- helpers


# --------------------------------------------------------------------------- losses


def _pred_target_weight(pred, target, weight):
    pred = torch.as_tensor(pred)
    target = torch.as_tensor(target, dtype=pred.dtype, device=pred.device)
    if target.ndim != 3 or target.shape[-1] != 2:
        raise ValueError(f"target: expected (B, K, 2), got {tuple(target.shape)}")
    pred = pred.reshape(target.shape)
    if weight is None:
        weight = torch.ones(target.shape[:2], dtype=pred.dtype, device=pred.device)
    weight = torch.as_tensor(weight, dtype=pred.dtype, device=pred.device)
    weight = weight.reshape(target.shape[:2])
    return pred, target, weight


def l2_loss(pred, target, weight=None) -> torch.Tensor:
    """DeepPose's L2 loss on normalised coordinates, weighted per joint.

    ``(1 / B) Σ_b Σ_k w_bk ‖pred_bk - target_bk‖²``: the paper's objective (squared distance
    summed over joints) per image, with visibility weights so that unlabelled joints
    (``w = 0``) do not contribute.

    Args:
        pred: ``(B, 2K)`` (the network's output) or ``(B, K, 2)``.
        target: ``(B, K, 2)`` normalised targets (``RegressionCodec.encode``).
        weight: ``(B, K)`` or ``(B, K, 1)`` weights; None = all ones.
    Returns:
        Scalar tensor.
    """
    pred, target, weight = _pred_target_weight(pred, target, weight)
    return (weight * ((pred - target) ** 2).sum(-1)).sum() / target.shape[0]


def smooth_l1_loss(pred, target, weight=None, beta: float = 1.0) -> torch.Tensor:
    """mmpose's ``SmoothL1Loss(use_target_weight=True)`` for DeepPose.

    ``F.smooth_l1_loss(pred · w, target · w, beta)`` averaged over all ``B · K · 2`` numbers
    (the weight multiplies both sides, as mmpose). With ``beta = 1`` and normalised
    coordinates (errors below 1) it is ``0.5 · MSE``; it grows only linearly for large errors.

    Args: as ``l2_loss``; ``beta``: the L1/L2 switch point (torch's default 1).
    Returns:
        Scalar tensor.
    """
    pred, target, weight = _pred_target_weight(pred, target, weight)
    w = weight[..., None]
    return F.smooth_l1_loss(pred * w, target * w, beta=beta)


# --------------------------------------------------------------------------- codec


class RegressionCodec:
    """Encode keypoints as normalised regression targets; decode network outputs.

    Args:
        input_size: ``(W, H)`` of the model's input crop.
        frame: ``"input"`` (mmpose: ``((x + 0.5) / W, (y + 0.5) / H)``, in [0, 1)) or
            ``"box"`` (the paper: ``(x - b_cx) / b_w`` with the box = the whole input crop by
            default, centre ``((W - 1) / 2, (H - 1) / 2)``, size ``(W, H)``; in [-0.5, 0.5)).
            ``encode`` / ``decode`` take another box through ``center`` / ``size`` (the
            cascade's refiners).
        loss: ``"l2"`` (DeepPose) or ``"smooth_l1"`` (mmpose), used by ``loss``.

    Protocol (``posekit.engine``):
        ``encode(batch)`` with ``batch["keypoints"]`` ``(B, K, 3)`` in input pixels and
        optional ``batch["target_weight"]`` ``(B, K)`` → ``{"keypoints": (B, K, 2)``
        normalised, ``"target_weight": (B, K)}`` (the batch's weight, else ``v > 0``).
        ``decode(outputs)`` with ``outputs`` ``(B, 2K)`` or ``(B, K, 2)`` → B ``Instances``
        (``posekit.codecs.instances``) of one person ``(1, K, 3)`` ``(x, y, score)`` in input
        pixels; regression has no confidence, so score = 1 (as mmpose).
        ``loss(outputs, targets, batch)`` → scalar.
    """

    def __init__(self, input_size, frame: str = "input", loss: str = "l2") -> None:
        self.input_size = size2(input_size, "input_size")
        if frame not in FRAMES:
            raise ValueError(f"frame: expected one of {FRAMES}, got {frame!r}")
        if loss not in ("l2", "smooth_l1"):
            raise ValueError(f"loss: expected 'l2' or 'smooth_l1', got {loss!r}")
        self.frame, self.loss_name = frame, loss

    def __repr__(self) -> str:
        return (
            f"RegressionCodec(input_size={self.input_size}, frame={self.frame!r}, "
            f"loss={self.loss_name!r})"
        )

    def _box(self, center, size):
        w, h = self.input_size
        center = ((w - 1) / 2, (h - 1) / 2) if center is None else center
        size = (w, h) if size is None else size
        return center, size

    def to_frame(self, kp, center=None, size=None):
        """Input-pixel keypoints ``(..., 2|3)`` → normalised (this codec's frame)."""
        if self.frame == "input":
            return to_input_frame(kp, self.input_size)
        return to_box_frame(kp, *self._box(center, size))

    def from_frame(self, kp, center=None, size=None):
        """Normalised ``(..., 2|3)`` → input pixels (this codec's frame)."""
        if self.frame == "input":
            return from_input_frame(kp, self.input_size)
        return from_box_frame(kp, *self._box(center, size))

    def encode(self, batch: dict, center=None, size=None) -> dict:
        """``{"keypoints": (B, K, 2) normalised, "target_weight": (B, K)}`` (torch)."""
        kp = torch.as_tensor(batch["keypoints"])
        if not kp.is_floating_point():
            kp = kp.float()
        if kp.ndim != 3 or kp.shape[-1] != 3:
            raise ValueError(f"batch['keypoints']: expected (B, K, 3), got {tuple(kp.shape)}")
        weight = batch.get("target_weight")
        if weight is None:
            weight = (kp[..., 2] > 0).to(kp.dtype)
        else:
            weight = torch.as_tensor(weight, dtype=kp.dtype, device=kp.device).reshape(kp.shape[:2])
        target = self.to_frame(kp[..., :2], center, size)
        return {"keypoints": target, "target_weight": weight}

    def decode(self, outputs, center=None, size=None) -> list[Instances]:
        """Network output ``(B, 2K)`` or ``(B, K, 2)`` → B ``Instances`` of one person each,
        ``(1, K, 3)`` (x, y, 1) in input pixels (``decode_keypoints``: the ``(B, K, 3)``)."""
        return per_crop(self.decode_keypoints(outputs, center, size))

    def decode_keypoints(self, outputs, center=None, size=None) -> torch.Tensor:
        """Network output ``(B, 2K)`` or ``(B, K, 2)`` → ``(B, K, 3)`` (x, y, 1) input pixels."""
        out = torch.as_tensor(outputs)
        if out.ndim == 2:
            if out.shape[1] % 2:
                raise ValueError(f"outputs: expected (B, 2K), got {tuple(out.shape)}")
            out = out.reshape(out.shape[0], -1, 2)
        if out.ndim != 3 or out.shape[-1] != 2:
            raise ValueError(f"outputs: expected (B, 2K) or (B, K, 2), got {tuple(out.shape)}")
        xy = self.from_frame(out, center, size)
        return torch.cat([xy, torch.ones_like(xy[..., :1])], dim=-1)

    def loss(self, outputs, targets: dict, batch: dict | None = None) -> torch.Tensor:
        """The engine's loss: ``l2_loss`` or ``smooth_l1_loss`` on the normalised targets."""
        fn = l2_loss if self.loss_name == "l2" else smooth_l1_loss
        return fn(outputs, targets["keypoints"], targets["target_weight"])
