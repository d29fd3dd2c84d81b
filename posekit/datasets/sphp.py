"""SPHP frames as a torch Dataset: the release, or posekit's synthetic SPHP-format export.

Lin, Hsieh et al., "Sparse and Privacy-enhanced Representation for Human Pose Estimation",
BMVC 2023. A folder ``root/{Master,Slave}/sXX/NN/{EDG,MVH,MVV,GRA,pose_change}/``
(``posekit.datasets.formats.sphp``; ``docs/datasets.md`` § SPHP) is read as SPHP's loader does:

* each modality PNG (640×480) resized to ``size`` (384×288) with ``INTER_AREA``; edges and
  greyscale ÷ 255, motion vectors ``(v − 128) / 128``;
* inputs ``"gr"`` = [GRA], ``"ed"`` = [EDG], ``"mv"`` = [MVV, MVH], ``"fs"`` (early fusion, also
  the input of late fusion) = [EDG, MVV, MVH], channels in that order;
* labels ``(x, y)`` at 640×480 scaled by ``size / (640, 480)`` (``x · 384 / 640``, as SPHP's
  loader; not the pixel-area mapping of ``docs/conventions.md`` — at most 0.2 px apart).

The release's frames are also undistorted with its ``calibrate.npy`` before resizing (bicubic
``cv2.remap`` onto ``cv2.getOptimalNewCameraMatrix(K, dist, (640, 480), 0)``, as SPHP's
loader; the labels are used as stored); pass it as ``calibration`` (a dict with ``K`` and
``dist``). The synthetic export has no distortion.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from posekit.datasets.formats.sphp import (
    SPHP_ACTIONS,
    SPHP_CAMERAS,
    SPHP_HEIGHT,
    SPHP_SPLITS,
    SPHP_WIDTH,
    read_sphp_sequence,
)
from posekit.validate import size2

__all__ = ["SPHP_INPUTS", "SPHPFrames"]

SPHP_INPUTS: dict[str, tuple[str, ...]] = {
    "gr": ("GRA",), "ed": ("EDG",), "mv": ("MVV", "MVH"), "fs": ("EDG", "MVV", "MVH"),
}  # fmt: skip
"""Input name → modality folders stacked as channels (SPHP's ``GRA``/``EDG``/``MV``/``FUS``)."""
CLASSES = ("C1", "C2", "C3", "C4")


def _normalise(modality: str, image: np.ndarray) -> np.ndarray:
    if modality in ("MVH", "MVV"):
        return (image.astype(np.float32) - 128.0) / 128.0
    return image.astype(np.float32) / 255.0


class SPHPFrames(Dataset):
    """Frames of the SPHP sequences of one split under ``root``.

    Args:
        root: the folder holding ``Master/`` and/or ``Slave/``.
        split: ``"train"``, ``"val"``, ``"test"`` (SPHP's subject split) or ``"all"``.
        inputs: ``"gr"``, ``"ed"``, ``"mv"`` or ``"fs"`` (``SPHP_INPUTS``).
        size: model input ``(W, H)``; 384×288 as SPHP (a CPU lesson may use 192×144).
        cameras: which camera folders to read.
        frame_step: every ``frame_step``-th frame of each sequence.
        calibration: ``{"K": (3, 3), "dist": (5,)}`` to undistort the release's frames.

    Item ``i``: ``image`` ``(C, H, W)`` float32, ``keypoints`` ``(13, 3)`` float32 ``(x, y, v)``
    in input pixels (DHP19 order, ``posekit.skeletons.SPHP13``), ``target_weight`` ``(13,)``,
    ``action`` (1..16), ``action_class`` (0..3 = C1..C4), ``subject`` (``"s09"``), ``camera``.
    """

    def __init__(
        self,
        root: str | os.PathLike,
        split: str = "train",
        inputs: str = "fs",
        size=(384, 288),
        cameras: Sequence[str] = SPHP_CAMERAS,
        frame_step: int = 1,
        calibration: dict | None = None,
    ) -> None:
        root = Path(root)
        if not root.is_dir():
            raise FileNotFoundError(f"root: {root} is not a folder (an SPHP-format dataset)")
        if split != "all" and split not in SPHP_SPLITS:
            raise ValueError(f"split: expected train, val, test or all, got {split!r}")
        if inputs not in SPHP_INPUTS:
            raise ValueError(f"inputs: expected one of {', '.join(SPHP_INPUTS)}, got {inputs!r}")
        if not isinstance(frame_step, int) or frame_step < 1:
            raise ValueError(f"frame_step: expected a positive integer, got {frame_step!r}")
        for cam in cameras:
            if cam not in SPHP_CAMERAS:
                raise ValueError(f"cameras: expected names in {SPHP_CAMERAS}, got {cam!r}")
        self.root, self.split, self.inputs = root, split, inputs
        self.size = size2(size, "size")
        self.modalities = SPHP_INPUTS[inputs]
        self._maps = None if calibration is None else _undistort_maps(calibration)
        subjects = None if split == "all" else set(SPHP_SPLITS[split])
        self.sequences, self.items = [], []
        for cam in cameras:
            for folder in sorted((root / cam).glob("s[0-9][0-9]/[0-9][0-9]")):
                if subjects is not None and folder.parent.name not in subjects:
                    continue
                seq = read_sphp_sequence(folder, modalities=self.modalities)
                s = len(self.sequences)
                self.sequences.append((seq, cam, folder.parent.name, int(folder.name)))
                self.items += [(s, t) for t in range(0, len(seq), frame_step)]
        if not self.items:
            raise ValueError(f"root: no {split} sequences of {', '.join(cameras)} in {root}")

    def __len__(self) -> int:
        return len(self.items)

    def __repr__(self) -> str:
        return (f"SPHPFrames({self.split}, inputs={self.inputs!r}, size={self.size}, "
                f"{len(self.sequences)} sequences, {len(self)} frames)")  # fmt: skip

    def _image(self, seq, t: int) -> np.ndarray:
        import cv2

        planes = []
        for m in self.modalities:
            img = seq.read_image(m, t)
            if self._maps is not None:
                img = cv2.remap(img, *self._maps, interpolation=cv2.INTER_CUBIC)  # as SPHP
            img = cv2.resize(img, self.size, interpolation=cv2.INTER_AREA)
            planes.append(_normalise(m, img))
        return np.stack(planes)

    def __getitem__(self, index: int) -> dict:
        s, t = self.items[index]
        seq, cam, subject, action = self.sequences[s]
        w, h = self.size
        kp = seq.keypoints[t].copy()
        kp[:, 0] *= w / SPHP_WIDTH
        kp[:, 1] *= h / SPHP_HEIGHT
        return {
            "image": torch.from_numpy(self._image(seq, t)),
            "keypoints": torch.from_numpy(kp),
            "target_weight": torch.from_numpy((kp[:, 2] > 0).astype(np.float32)),
            "action": action,
            "action_class": CLASSES.index(SPHP_ACTIONS[action][1]),
            "subject": subject,
            "camera": cam,
        }


def _undistort_maps(calibration: dict):
    import cv2

    try:
        k = np.asarray(calibration["K"], np.float64).reshape(3, 3)
        dist = np.asarray(calibration["dist"], np.float64).reshape(-1)
    except (KeyError, ValueError) as err:
        raise ValueError(f"calibration: expected {{'K': 3x3, 'dist': 5 values}} ({err})") from None
    size = (SPHP_WIDTH, SPHP_HEIGHT)
    new_k, _ = cv2.getOptimalNewCameraMatrix(k, dist, size, 0)
    return cv2.initUndistortRectifyMap(k, dist, None, new_k, size, cv2.CV_32FC1)
