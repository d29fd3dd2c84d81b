"""The prediction contract: what every codec's ``decode`` returns, one ``Instances`` per image.

``Instances(keypoints, scores)``: the people found in one image,

* ``keypoints`` ``(N, K, 3)`` float32 ``(x, y, score)`` in pixels of the model's input
  (``docs/conventions.md``: x = column, pixel centres at integers); a joint not found is
  ``(0, 0, 0)``;
* ``scores`` ``(N,)`` float32 person scores, the ranking of detections for OKS AP.

A top-down codec decodes one person per crop: ``N = 1``, its score the mean of its joint
scores (clipped at 0). A bottom-up codec (``PAFCodec``) decodes ``N ≥ 0`` people per image,
sorted by decreasing score. ``stack_keypoints`` turns the top-down list back into the
``(B, K, 3)`` array the PCKh tables read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

__all__ = ["Instances", "per_crop", "stack_keypoints"]


def _numpy(x) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().float().cpu().numpy()
    return np.asarray(x, np.float32)


@dataclass(frozen=True, eq=False)
class Instances:
    """People of one image: ``keypoints`` ``(N, K, 3)`` ``(x, y, score)`` in input pixels and
    ``scores`` ``(N,)`` (float32 numpy; see the module docstring)."""

    keypoints: np.ndarray
    scores: np.ndarray

    def __post_init__(self) -> None:
        kp, sc = _numpy(self.keypoints), _numpy(self.scores).reshape(-1)
        if kp.ndim != 3 or kp.shape[-1] != 3:
            raise ValueError(f"keypoints: expected (N, K, 3) (x, y, score), got {kp.shape}")
        if sc.shape != (kp.shape[0],):
            raise ValueError(f"scores: expected ({kp.shape[0]},), one per person, got {sc.shape}")
        object.__setattr__(self, "keypoints", kp)
        object.__setattr__(self, "scores", sc)

    def __len__(self) -> int:
        return self.keypoints.shape[0]

    def __repr__(self) -> str:
        n, k = self.keypoints.shape[:2]
        return f"Instances({n} people, {k} joints)"


def per_crop(keypoints) -> list[Instances]:
    """Top-down ``(B, K, 3)`` ``(x, y, score)`` (torch or numpy) → B ``Instances`` of one
    person each, scored by the mean of its joint scores clipped at 0."""
    kp = _numpy(keypoints)
    if kp.ndim != 3 or kp.shape[-1] != 3:
        raise ValueError(f"keypoints: expected (B, K, 3) (x, y, score), got {kp.shape}")
    scores = np.clip(kp[..., 2], 0, None).mean(axis=1) if kp.shape[1] else np.zeros(len(kp))
    return [Instances(kp[i : i + 1], scores[i : i + 1]) for i in range(kp.shape[0])]


def stack_keypoints(instances: Sequence[Instances]) -> np.ndarray:
    """The one person of each top-down ``Instances`` → ``(B, K, 3)`` float32."""
    if any(len(p) != 1 for p in instances):
        counts = sorted({len(p) for p in instances})
        raise ValueError(f"stack_keypoints: expected one person per image, got {counts}")
    if not instances:
        raise ValueError("stack_keypoints: no images")
    return np.concatenate([p.keypoints for p in instances])
