"""Torch datasets on top of SynthPose: person crops, multi-person scenes, exercise clips.

Three datasets, one per task of the course, and a disk cache::

    SynthPoseTopDown(split, length, input_size=(128, 128), joint_set="mpii16", ...)
        person crops for top-down models (DeepPose, Hourglass, Simple Baselines, EfficientPose)
    SynthPoseBottomUp(split, length, size=(456, 256), num_people=(1, 6), joint_set="coco17")
        whole multi-person scenes (OpenPose); batch them with ``collate_bottom_up``
    SynthPoseSequences(split, length, n_frames, fps, size, actions=None, joint_set="sphp13")
        clips of the 16 SPHP exercises (sparse / privacy lesson)
    cache_dataset(dataset, path=None) -> Path;  CachedDataset(path, expected=None)

Conventions (``docs/conventions.md``)
-------------------------------------
* Image tensors are ``(3, H, W)`` float32, RGB, normalised with the ImageNet statistics
  ``IMAGENET_MEAN`` / ``IMAGENET_STD`` (``normalize_image`` / ``denormalize_image``): the
  mean/std every torchvision-style backbone of the course expects.
* Keypoints are float32 ``(K, 3)`` (or ``(N, K, 3)``, ``(T, K, 3)``) = ``(x, y, v)`` in pixels
  of the tensor they come with, pixel centres at integer coordinates, COCO visibility
  (0 unlabelled, 1 occluded, 2 visible). The joint set is chosen with ``joint_set`` (any of
  ``JOINT_SETS``) and taken out of SynthPose's 27 joints with ``synth_to``: every joint is
  rendered, nothing is approximated.

Determinism, splits and caching
-------------------------------
Item ``i`` is a pure function of ``(seed, split, i)``, plus the epoch for augmented training
crops (``SynthPoseTopDown.set_epoch``), so a ``DataLoader`` with any number of workers gives
the same batches as ``num_workers=0``. The three splits are disjoint streams (``split_seed``)
that share only the distribution; val and test draw from disjoint identity pools unless
``disjoint_identities=False``. How the generators are keyed and what the splits share:
``docs/conventions.md`` § Randomness and seeds.

``cache_dataset`` stores the *renders* (and ``SYNTH_VERSION``); ``CachedDataset`` applies the
same crop and augmentation code to them, so it returns identical items for every epoch
without rendering. Several processes may build the same cache at once (see
``cache_dataset``).
"""

from __future__ import annotations

import dataclasses
import errno
import hashlib
import json
import os
import re
import shutil
import socket
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from posekit.config import data_path
from posekit.datasets.transforms import (
    TopDownAffine,
    box_to_center_scale,
    in_bounds,
)
from posekit.files import process_alive
from posekit.geometry import IMAGENET_MEAN, IMAGENET_STD
from posekit.skeletons import get_skeleton
from posekit.synth import SYNTH_VERSION
from posekit.synth import scenes as _scenes
from posekit.synth.body import synth_to
from posekit.synth.scenes import SynthConfig, SynthPose, sample_rng, sample_scene, sample_sequence
from posekit.validate import size2

SPLITS = ("train", "val", "test")
JOINT_SETS = ("mpii16", "coco17", "lsp14", "sphp13", "openpose18", "humaneva15", "synth")

TOPDOWN_CONFIG = dataclasses.replace(_scenes.DEFAULT, fill=(0.6, 0.8))
"""SynthPose default for top-down renders: the person spans 60-80 % of the render (instead of
75-100 %), so that the padded 1.25x box of the crop mostly stays inside the rendered picture."""

_KIND_CODES = {"topdown": 1, "bottomup": 2, "sequences": 3}
_MHEAD = 0.6  # MPII's SC_BIAS: head size = 0.6 * head-box diagonal
CACHE_FORMAT = 1


# --------------------------------------------------------------------------------------------
# Normalisation
# --------------------------------------------------------------------------------------------
_LUT = (
    (np.arange(256)[None] / 255.0 - np.array(IMAGENET_MEAN)[:, None])
    / np.array(IMAGENET_STD)[:, None]
).astype(np.float32)  # (3, 256): normalised value of every uint8 level, per channel


def normalize_image(image) -> torch.Tensor:
    """uint8 RGB image(s) → normalised float32 tensor(s).

    Args:
        image: ``(H, W, 3)`` or ``(N, H, W, 3)`` uint8 numpy array or tensor.
    Returns:
        ``(3, H, W)`` or ``(N, 3, H, W)`` float32 ``(image / 255 - IMAGENET_MEAN) / IMAGENET_STD``
        (a per-channel lookup table, computed in float64 and rounded once).
    """
    arr = image.detach().cpu().numpy() if isinstance(image, torch.Tensor) else np.asarray(image)
    if arr.dtype != np.uint8 or arr.ndim not in (3, 4) or arr.shape[-1] != 3:
        raise ValueError(
            f"image: expected uint8 (H, W, 3) or (N, H, W, 3) RGB, got {arr.shape} {arr.dtype}"
        )
    out = np.empty(arr.shape[:-3] + (3,) + arr.shape[-3:-1], np.float32)
    for c in range(3):
        np.take(_LUT[c], arr[..., c], out=out[..., c, :, :])
    return torch.from_numpy(out)


def denormalize_image(tensor: torch.Tensor) -> np.ndarray:
    """Inverse of ``normalize_image``: ``(3, H, W)`` / ``(N, 3, H, W)`` float → uint8
    ``(H, W, 3)`` / ``(N, H, W, 3)`` numpy RGB (rounded and clipped to [0, 255]), for display."""
    t = torch.as_tensor(tensor).detach().float().cpu()
    if t.ndim not in (3, 4) or t.shape[-3] != 3:
        raise ValueError(f"tensor: expected (3, H, W) or (N, 3, H, W), got {tuple(t.shape)}")
    shape = (3, 1, 1) if t.ndim == 3 else (1, 3, 1, 1)
    mean = torch.tensor(IMAGENET_MEAN).view(shape)
    std = torch.tensor(IMAGENET_STD).view(shape)
    img = (t * std + mean).mul_(255.0).round_().clamp_(0, 255).to(torch.uint8)
    return img.movedim(-3, -1).numpy()


# --------------------------------------------------------------------------------------------
# Seeds, splits, arguments
# --------------------------------------------------------------------------------------------
def _split_code(split: str) -> int:
    if split not in SPLITS:
        raise ValueError(f"split: expected one of {SPLITS}, got {split!r}")
    return SPLITS.index(split)


def split_seed(seed: int, split: str, kind: str = "topdown") -> int:
    """The SynthPose stream seed of ``(seed, split, kind)``: a 32-bit integer from
    ``np.random.SeedSequence([seed, split id, kind id])``, different for every split and
    dataset kind (``"topdown"``, ``"bottomup"``, ``"sequences"``)."""
    ss = np.random.SeedSequence([int(seed), _split_code(split), _KIND_CODES[kind], 0x5EED])
    return int(ss.generate_state(1)[0])


def _split_config(config: SynthConfig, split: str, disjoint: bool) -> SynthConfig:
    """``config`` with a per-split identity pool when it uses one and ``disjoint``."""
    code = _split_code(split)
    if config.num_identities and disjoint and code > 0:
        return dataclasses.replace(config, identity_seed=config.identity_seed + 7919 * code)
    return config


def _jsonable(x):
    """Plain JSON types (tuples → lists, dataclasses → dicts, numpy scalars → python)."""
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return {f.name: _jsonable(getattr(x, f.name)) for f in dataclasses.fields(x)}
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.generic):
        return x.item()
    return x


def _tuples(x):
    return tuple(_tuples(v) for v in x) if isinstance(x, list) else x


def _config_from(d: dict | None) -> SynthConfig | None:
    return None if d is None else SynthConfig(**{k: _tuples(v) for k, v in d.items()})


def _augment_args(augment) -> dict | bool | None:
    if augment is None or augment is False:
        return augment
    d = _jsonable(augment)
    d["skeleton"] = augment.skeleton.name
    return d


def _joint_set(joint_set: str) -> str:
    try:
        name = get_skeleton(joint_set).name
    except KeyError:
        name = None
    if name not in JOINT_SETS:
        raise ValueError(f"joint_set: expected one of {JOINT_SETS}, got {joint_set!r}")
    return name


# --------------------------------------------------------------------------------------------
# Base class
# --------------------------------------------------------------------------------------------
class _SynthDataset(Dataset):
    """Shared machinery: ``_render(indices) -> raws`` (or read them from a cache) and
    ``_item(raw, index) -> dict``; ``args`` holds every generation argument (the cache key)."""

    kind = ""
    args: dict[str, Any]

    def __init__(self) -> None:
        self._cache: _CacheReader | None = None

    def __len__(self) -> int:
        return self.length

    def _check(self, index: int) -> int:
        i = int(index)
        if not 0 <= i < self.length:
            raise IndexError(f"index {index} out of range 0..{self.length - 1}")
        return i

    def _raws(self, indices: list[int]) -> list[dict]:
        indices = [self._check(i) for i in indices]
        if self._cache is not None:
            return self._cache.read(indices)
        return self._render(indices)

    def raw(self, index: int) -> dict:
        """The rendered picture of item ``index`` before cropping: ``image`` (uint8 RGB) and
        its annotations in the SYNTH joint set and image pixels (``keypoints``, ``bbox``...)."""
        return self._raws([index])[0]

    def __getitem__(self, index: int) -> dict:
        return self._item(self._raws([index])[0], self._check(index))

    def __getitems__(self, indices) -> list[dict]:
        """Items ``indices`` (equal to ``[self[i] for i in indices]``), the pictures rendered
        as one batch where SynthPose can (person crops: about twice as fast)."""
        indices = [int(i) for i in indices]
        return [self._item(r, i) for r, i in zip(self._raws(indices), indices, strict=True)]

    def generation_args(self) -> dict:
        """Every argument that determines the items, as plain JSON (the cache manifest)."""
        return json.loads(json.dumps({"class": type(self).__name__, **_jsonable(self.args)}))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.args.items() if k != "config")
        return f"{type(self).__name__}({args})"

    # subclasses
    def _render(self, indices: list[int]) -> list[dict]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _item(self, raw: dict, index: int) -> dict:  # pragma: no cover - abstract
        raise NotImplementedError


def _person_raw(s) -> dict:
    """The fields of a one-person ``Sample`` that the crops need (N = 1 axis dropped)."""
    return {
        "image": s.image,
        "keypoints": s.keypoints[0],
        "bbox": s.bbox[0],
        "head_box": s.head_box[0],
        "center": s.center[0],
        "scale": s.scale[0],
        "identity": s.identity[0],
    }


# --------------------------------------------------------------------------------------------
# Top-down person crops
# --------------------------------------------------------------------------------------------
class SynthPoseTopDown(_SynthDataset):
    """Single-person crops for top-down pose estimation (MPII / HRNet recipe).

    Item ``i``: SynthPose renders one person at ``render_size`` (``SynthPose(split_seed(seed,
    split), "person")[i]``); the person box is its amodal box (height ``scale · 200``, the
    MPII convention, width the box width) grown to the input aspect ratio and padded by
    ``padding`` = 1.25 (HRNet's MPII/COCO padding, ``box_to_center_scale``); the crop is
    ``TopDownAffine`` (train: half-body, scale, rotation, flip, colour; val/test: plain crop).

    Args:
        split: ``"train"``, ``"val"`` or ``"test"`` (disjoint streams, see the module doc).
        length: number of items.
        input_size: crop ``(width, height)``.
        joint_set: one of ``JOINT_SETS``.
        seed: dataset seed (with ``split``, selects the stream).
        augment: None = default for the split (``TopDownAffine(input_size, joint_set)`` for
            train, the plain crop for val/test); False = plain crop; or a ``TopDownAffine``
            with ``output_size == input_size`` and the same joint set.
        render_size: size of the SynthPose render; default 1.25 x ``input_size`` (the crop box
            then has about the render's resolution).
        config: ``SynthConfig``; default ``TOPDOWN_CONFIG`` (varied clutter, person 60-80 %).
        padding: box padding factor.
        disjoint_identities: separate identity pools for val/test (only with a pool).

    Item (dict):
        ``image`` (3, h, w) float32 normalised; ``keypoints`` (K, 3) float32 in crop pixels (v
        as rendered; left/right swapped if flipped); ``target_weight`` (K,) float32, 1 where
        ``v > 0`` and the joint lies inside the crop; ``matrix`` (2, 3) float64 original image
        → crop (flip included; ``inverse_keypoints(pred, matrix)`` maps predictions back,
        after undoing the joint swap when ``flipped``); ``flipped`` bool; ``rotation`` float
        (degrees); ``center`` (2,) / ``scale`` (2,) float32 the (augmented) box in the render,
        in pixels / units of 200 px; ``head_box`` (2, 2) float32 the two corners
        ``[[x1, y1], [x2, y2]]`` of the MPII head box mapped into the crop; ``head_size``
        float32 the PCKh normaliser in crop pixels, ``0.6 · ||corner2 - corner1||`` — the
        MPII head size of the original image times the crop zoom (an affine map with equal
        zoom on both axes and a rotation keeps the diagonal's length up to that zoom, so
        ``posekit.metrics.pckh(pred, gt, head_box)`` in crop pixels equals PCKh in image
        pixels); ``bbox`` (4,) float32 ``[x, y, w, h]`` in the crop: the axis-aligned hull of
        the mapped person box corners; ``index`` int.

    Epochs: ``set_epoch(e)`` makes augmented items functions of ``(seed, split, i, e)``: each
    epoch sees new augmentations of the same pictures. The DataLoader copies the dataset into
    its workers when an iterator starts, so call ``set_epoch`` before ``iter(loader)`` (with
    ``persistent_workers=True`` the workers would keep the old epoch). Un-augmented items do
    not depend on the epoch.
    """

    kind = "topdown"

    def __init__(
        self,
        split: str = "train",
        length: int = 10_000,
        input_size: tuple[int, int] = (128, 128),
        joint_set: str = "mpii16",
        seed: int = 0,
        augment: TopDownAffine | bool | None = None,
        render_size: tuple[int, int] | None = None,
        config: SynthConfig | None = None,
        padding: float = 1.25,
        disjoint_identities: bool = True,
    ) -> None:
        super().__init__()
        _split_code(split)
        self.split, self.length, self.seed = split, int(length), int(seed)
        self.input_size = size2(input_size, "input_size")
        self.joint_set = _joint_set(joint_set)
        w, h = self.input_size
        self.render_size = (
            size2(render_size, "render_size")
            if render_size is not None
            else (int(round(1.25 * w)), int(round(1.25 * h)))
        )
        self.config = config if config is not None else TOPDOWN_CONFIG
        self.padding = float(padding)
        if augment is None:
            augment = TopDownAffine(self.input_size, self.joint_set) if split == "train" else False
        if augment is True:
            augment = TopDownAffine(self.input_size, self.joint_set)
        if augment is not False:
            if not isinstance(augment, TopDownAffine):
                raise ValueError(f"augment: expected None, bool or TopDownAffine, got {augment!r}")
            if tuple(augment.output_size) != self.input_size:
                raise ValueError(
                    f"augment: output_size {augment.output_size} != input_size {self.input_size}"
                )
            if augment.skeleton.name != self.joint_set:
                raise ValueError(
                    f"augment: skeleton {augment.skeleton.name} != joint_set {self.joint_set}"
                )
        self.augment = augment
        self.transform = augment or TopDownAffine.for_eval(self.input_size, self.joint_set)
        self.epoch = 0
        self.stream_seed = split_seed(self.seed, split, self.kind)
        cfg = _split_config(self.config, split, disjoint_identities)
        self._synth = SynthPose(self.stream_seed, "person", self.length, self.render_size, cfg)
        self.args = dict(
            split=split, length=self.length, input_size=self.input_size,
            joint_set=self.joint_set, seed=self.seed, augment=_augment_args(augment),
            render_size=self.render_size, config=self.config, padding=self.padding,
            disjoint_identities=bool(disjoint_identities),
        )  # fmt: skip

    @classmethod
    def _from_args(cls, args: dict) -> SynthPoseTopDown:
        a = dict(args)
        if isinstance(a["augment"], dict):
            a["augment"] = TopDownAffine(**{k: _tuples(v) for k, v in a["augment"].items()})
        a["config"] = _config_from(a["config"])
        return cls(**a)

    def set_epoch(self, epoch: int) -> None:
        """Select the augmentations of ``epoch`` (see the class docstring)."""
        self.epoch = int(epoch)

    def augment_rng(self, index: int) -> np.random.Generator:
        """The augmentation generator of item ``index`` at the current epoch."""
        key = [self.seed, _split_code(self.split), int(index), self.epoch, 0xA6]
        return np.random.default_rng(key)

    def person_box(self, raw: dict) -> tuple[np.ndarray, np.ndarray]:
        """``(center (2,), scale (2,))`` of the un-augmented crop of a render (see above)."""
        height = float(raw["scale"]) * 200.0
        width = max(float(raw["bbox"][2]), 1e-3)
        cx, cy = (float(v) for v in raw["center"])
        box = [cx - width / 2, cy - height / 2, width, height]
        return box_to_center_scale(box, self.input_size[0] / self.input_size[1], self.padding)

    def _render(self, indices: list[int]) -> list[dict]:
        if len(indices) == 1:
            return [_person_raw(self._synth[indices[0]])]
        return [_person_raw(s) for s in self._synth.__getitems__(indices)]

    def _item(self, raw: dict, index: int) -> dict:
        kp = synth_to(self.joint_set, raw["keypoints"]).astype(np.float32)
        center, scale = self.person_box(raw)
        out = self.transform(raw["image"], kp, center, scale, self.augment_rng(index))
        m = out["matrix"]
        crop_kp = out["keypoints"]
        weight = in_bounds(crop_kp, self.input_size).astype(np.float32)
        hb = np.asarray(raw["head_box"], np.float64) @ m[:, :2].T + m[:, 2]
        x, y, bw, bh = (float(v) for v in raw["bbox"])
        corners = np.array([[x, y], [x + bw, y], [x, y + bh], [x + bw, y + bh]]) @ m[:, :2].T
        corners += m[:, 2]
        lo, hi = corners.min(0), corners.max(0)
        return {
            "image": normalize_image(out["image"]),
            "keypoints": torch.from_numpy(crop_kp.astype(np.float32)),
            "target_weight": torch.from_numpy(weight),
            "matrix": torch.from_numpy(np.asarray(m, np.float64)),
            "flipped": bool(out["flipped"]),
            "rotation": float(out["rotation"]),
            "center": torch.from_numpy(np.asarray(out["center"], np.float32)),
            "scale": torch.from_numpy(np.asarray(out["scale"], np.float32)),
            "head_box": torch.from_numpy(hb.astype(np.float32)),
            "head_size": float(_MHEAD * np.linalg.norm(hb[1] - hb[0])),
            "bbox": torch.tensor([lo[0], lo[1], hi[0] - lo[0], hi[1] - lo[1]], dtype=torch.float32),
            "index": int(index),
        }


# --------------------------------------------------------------------------------------------
# Bottom-up scenes
# --------------------------------------------------------------------------------------------
class SynthPoseBottomUp(_SynthDataset):
    """Whole multi-person scenes for bottom-up models (OpenPose / COCO style).

    Item ``i``: ``sample_scene`` drawn from ``sample_rng(split_seed(seed, split,
    "bottomup"), i)``; the number of people is drawn first from the same generator, uniform
    in ``num_people = (lo, hi)`` (inclusive; an int fixes it). People with fewer than
    ``min_keypoints`` labelled joints (fully occluded or outside) are dropped. No
    augmentation (later lessons add their own).

    Args:
        split, length, seed, config, disjoint_identities: as ``SynthPoseTopDown``
            (default config: ``posekit.synth`` defaults).
        size: image ``(width, height)``; default 456x256 (OpenPose's 16:9 input).
        num_people: ``(lo, hi)`` or an int.
        joint_set: one of ``JOINT_SETS`` (default COCO-17).
        min_keypoints: people with fewer labelled joints are left out.

    Item (dict): ``image`` (3, H, W) float32 normalised; ``keypoints`` (N, K, 3) float32;
    ``bboxes`` (N, 4) float32 ``[x, y, w, h]`` (amodal, clipped to the image); ``areas`` (N,)
    float32 box areas ``w · h`` (COCO uses the segment area; OKS only needs a scale);
    ``identity`` (N,) int64; ``index`` int. Batch with ``collate_bottom_up``.
    """

    kind = "bottomup"

    def __init__(
        self,
        split: str = "train",
        length: int = 1000,
        size: tuple[int, int] = (456, 256),
        num_people: int | tuple[int, int] = (1, 6),
        joint_set: str = "coco17",
        seed: int = 0,
        config: SynthConfig | None = None,
        min_keypoints: int = 1,
        disjoint_identities: bool = True,
    ) -> None:
        super().__init__()
        _split_code(split)
        self.split, self.length, self.seed = split, int(length), int(seed)
        self.size = size2(size, "size")
        lo, hi = (num_people, num_people) if np.ndim(num_people) == 0 else num_people
        lo, hi = int(lo), int(hi)
        if not 1 <= lo <= hi:
            raise ValueError(
                f"num_people: expected n >= 1 or (lo, hi) with 1 <= lo <= hi, got {num_people!r}"
            )
        self.num_people = (lo, hi)
        self.joint_set = _joint_set(joint_set)
        self.config = config if config is not None else _scenes.DEFAULT
        self.min_keypoints = int(min_keypoints)
        self.stream_seed = split_seed(self.seed, split, self.kind)
        self._cfg = _split_config(self.config, split, disjoint_identities)
        self.args = dict(
            split=split, length=self.length, size=self.size, num_people=self.num_people,
            joint_set=self.joint_set, seed=self.seed, config=self.config,
            min_keypoints=self.min_keypoints, disjoint_identities=bool(disjoint_identities),
        )  # fmt: skip

    @classmethod
    def _from_args(cls, args: dict) -> SynthPoseBottomUp:
        a = dict(args)
        a["config"] = _config_from(a["config"])
        return cls(**a)

    def _render(self, indices: list[int]) -> list[dict]:
        out = []
        for i in indices:
            rng = sample_rng(self.stream_seed, i)
            n = int(rng.integers(self.num_people[0], self.num_people[1] + 1))
            s = sample_scene(rng, self.size, n, self._cfg)
            out.append({"image": s.image, "keypoints": s.keypoints, "bbox": s.bbox,
                        "identity": s.identity})  # fmt: skip
        return out

    def _item(self, raw: dict, index: int) -> dict:
        kp = synth_to(self.joint_set, raw["keypoints"]).astype(np.float32)
        keep = (kp[..., 2] > 0).sum(-1) >= self.min_keypoints
        box = np.asarray(raw["bbox"], np.float32)[keep]
        return {
            "image": normalize_image(raw["image"]),
            "keypoints": torch.from_numpy(np.ascontiguousarray(kp[keep])),
            "bboxes": torch.from_numpy(np.ascontiguousarray(box)),
            "areas": torch.from_numpy(box[:, 2] * box[:, 3]),
            "identity": torch.from_numpy(np.asarray(raw["identity"], np.int64)[keep]),
            "index": int(index),
        }


def collate_bottom_up(items: list[dict]) -> dict:
    """Batch bottom-up items: ``image`` stacked to ``(B, 3, H, W)``, ``index`` to ``(B,)``;
    the per-image, variable-N fields (``keypoints``, ``bboxes``, ``areas``, ``identity``)
    stay lists of length B. Use as ``DataLoader(ds, collate_fn=collate_bottom_up)``."""
    if not items:
        raise ValueError("collate_bottom_up: empty batch")
    out: dict[str, Any] = {
        "image": torch.stack([it["image"] for it in items]),
        "index": torch.tensor([it["index"] for it in items], dtype=torch.int64),
    }
    for key in items[0]:
        if key not in out:
            out[key] = [it[key] for it in items]
    return out


# --------------------------------------------------------------------------------------------
# Exercise sequences
# --------------------------------------------------------------------------------------------
class SynthPoseSequences(_SynthDataset):
    """Clips of one person performing an SPHP exercise (fixed camera, light and background).

    Item ``i`` performs action ``actions[i % len(actions)]`` (all 16 SPHP actions by default,
    so classes stay balanced), drawn by ``sample_sequence`` from
    ``sample_rng(split_seed(seed, split, "sequences"), i)``.

    Args:
        split, length, seed, config, disjoint_identities: as ``SynthPoseTopDown`` (default
            config: ``posekit.synth`` defaults; pass one with ``num_identities`` for identity
            experiments).
        n_frames, fps: clip length and frame rate.
        size: frame ``(width, height)``; default 384x288 (SPHP's network input).
        actions: SPHP action ids (1..16) to cycle through; None = all.
        joint_set: one of ``JOINT_SETS`` (default ``sphp13``).
        frames: ``"float"`` — ``(T, 3, H, W)`` normalised float32; ``"uint8"`` — ``(T, H, W,
            3)`` uint8 RGB (e.g. for ``posekit.sensors``).

    Item (dict): ``frames`` as chosen; ``keypoints`` (T, K, 3) float32; ``bbox`` (T, 4)
    float32; ``action`` int (SPHP id 1..16); ``action_class`` int 0..3 (C1..C4);
    ``identity`` int (-1 for a one-off person); ``index`` int.
    """

    kind = "sequences"

    def __init__(
        self,
        split: str = "train",
        length: int = 160,
        n_frames: int = 30,
        fps: float = 30.0,
        size: tuple[int, int] = (384, 288),
        actions: list[int] | None = None,
        joint_set: str = "sphp13",
        seed: int = 0,
        config: SynthConfig | None = None,
        frames: str = "float",
        disjoint_identities: bool = True,
    ) -> None:
        super().__init__()
        _split_code(split)
        self.split, self.length, self.seed = split, int(length), int(seed)
        self.n_frames, self.fps = int(n_frames), float(fps)
        self.size = size2(size, "size")
        acts = list(range(1, 17)) if actions is None else [int(a) for a in actions]
        if not acts or not all(1 <= a <= 16 for a in acts):
            raise ValueError(f"actions: expected SPHP action ids in 1..16, got {actions!r}")
        self.actions = acts
        self.joint_set = _joint_set(joint_set)
        self.config = config if config is not None else _scenes.DEFAULT
        if frames not in ("float", "uint8"):
            raise ValueError(f"frames: expected 'float' or 'uint8', got {frames!r}")
        self.frames = frames
        self.stream_seed = split_seed(self.seed, split, self.kind)
        self._cfg = _split_config(self.config, split, disjoint_identities)
        self.args = dict(
            split=split, length=self.length, n_frames=self.n_frames, fps=self.fps,
            size=self.size, actions=acts, joint_set=self.joint_set, seed=self.seed,
            config=self.config, frames=frames, disjoint_identities=bool(disjoint_identities),
        )  # fmt: skip

    @classmethod
    def _from_args(cls, args: dict) -> SynthPoseSequences:
        a = dict(args)
        a["config"] = _config_from(a["config"])
        return cls(**a)

    def action_of(self, index: int) -> int:
        """SPHP action id of item ``index``."""
        return self.actions[int(index) % len(self.actions)]

    def _render(self, indices: list[int]) -> list[dict]:
        out = []
        for i in indices:
            s = sample_sequence(sample_rng(self.stream_seed, i), self.action_of(i),
                                self.n_frames, self.fps, self.size, self._cfg)  # fmt: skip
            out.append({
                "image": s.images, "keypoints": s.keypoints[:, 0], "bbox": s.bbox[:, 0],
                "identity": np.int64(s.identity[0]), "action": np.int64(s.action),
                "action_class": np.int64(int(s.action_class[1:]) - 1),
            })  # fmt: skip
        return out

    def _item(self, raw: dict, index: int) -> dict:
        kp = synth_to(self.joint_set, raw["keypoints"]).astype(np.float32)
        imgs = np.ascontiguousarray(raw["image"])
        frames = normalize_image(imgs) if self.frames == "float" else torch.from_numpy(imgs.copy())
        return {
            "frames": frames,
            "keypoints": torch.from_numpy(np.ascontiguousarray(kp)),
            "bbox": torch.from_numpy(np.asarray(raw["bbox"], np.float32).copy()),
            "action": int(raw["action"]),
            "action_class": int(raw["action_class"]),
            "identity": int(raw["identity"]),
            "index": int(index),
        }


_CLASSES = {c.__name__: c for c in (SynthPoseTopDown, SynthPoseBottomUp, SynthPoseSequences)}


# --------------------------------------------------------------------------------------------
# Disk cache
# --------------------------------------------------------------------------------------------
def _base(dataset) -> _SynthDataset:
    ds = dataset.dataset if isinstance(dataset, CachedDataset) else dataset
    if not isinstance(ds, _SynthDataset):
        raise TypeError(f"expected a SynthPose dataset, got {type(dataset).__name__}")
    return ds


def default_cache_path(dataset) -> Path:
    """``posekit.config.data_path("synthpose", "<class>-<split>-<12 hex of the arguments>")``:
    one folder per set of generation arguments and ``SYNTH_VERSION``."""
    args = _base(dataset).generation_args()
    key = json.dumps({"args": args, "synth_version": SYNTH_VERSION}, sort_keys=True)
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    return data_path("synthpose", f"{args['class']}-{args['split']}-{digest}")


def _manifest(path: Path) -> dict | None:
    """The cache's manifest, or None when it has none (or an unreadable one: incomplete)."""
    f = Path(path) / "manifest.json"
    try:
        manifest = json.loads(f.read_text())
    except (OSError, ValueError):  # missing, not a file, not JSON
        return None
    return manifest if isinstance(manifest, dict) else None


def _diff(a: dict, b: dict) -> list[str]:
    keys = sorted(set(a) | set(b))
    return [f"{k}: cache has {a.get(k, '<missing>')!r}, requested {b.get(k, '<missing>')!r}"
            for k in keys if a.get(k) != b.get(k)]  # fmt: skip


_CACHE_FILES = {"images.npy", "meta.npz", "manifest.json"}
_HOST = re.sub(r"[^A-Za-z0-9]", "", socket.gethostname())[:32] or "host"


def _current(manifest: dict | None, args: dict) -> bool:
    """``manifest`` is a complete cache of ``args`` by this generator version: reuse it."""
    return (
        manifest is not None
        and manifest.get("args") == args
        and manifest.get("format") == CACHE_FORMAT
        and manifest.get("synth_version") == SYNTH_VERSION
    )


def _check_replaceable(path: Path, manifest: dict | None, args: dict, overwrite: bool) -> None:
    """Raise a ValueError naming ``path`` when ``cache_dataset`` may not replace what is there.

    Nothing there, an incomplete cache (cache files without a manifest), a stale cache (same
    arguments, another ``SYNTH_VERSION``): yes. A cache of other arguments: only with
    ``overwrite``. A file, or a folder holding anything but cache files: never.
    """
    if not path.exists():
        return
    if not path.is_dir():
        raise ValueError(f"cache_dataset: {path} is a file, not a cache folder")
    if manifest is None:
        foreign = sorted(p.name for p in path.iterdir() if p.name not in _CACHE_FILES)
        if foreign:
            raise ValueError(
                f"cache_dataset: {path} is not a SynthPose cache (it holds {', '.join(foreign)}"
                "); choose another path"
            )
        return
    same = manifest.get("args") == args and manifest.get("format") == CACHE_FORMAT
    if same or overwrite:
        return
    raise ValueError(
        f"cache_dataset: {path} holds a cache made with other arguments:\n  "
        + "\n  ".join(_diff(manifest.get("args", {}), args))
        + "\npass overwrite=True to replace it, or another path"
    )


def _sibling(path: Path, kind: str) -> Path:
    """A fresh hidden folder beside ``path`` (same file system, so a rename moves it), named
    after this host and process so that ``_remove_orphans`` knows when it is abandoned."""
    prefix = f".{path.name}.{kind}-{_HOST}.{os.getpid()}-"
    tmp = Path(tempfile.mkdtemp(prefix=prefix, dir=path.parent))
    os.chmod(tmp, 0o755)  # mkdtemp makes it 0o700; it becomes the cache
    return tmp


def _remove_orphans(path: Path) -> None:
    """Delete the build / trash folders of ``path`` left by killed processes of this host
    (those of a process still running, or of another host, are left alone)."""
    pattern = re.compile(rf"\.{re.escape(path.name)}\.(building|old)-{_HOST}\.(\d+)-")
    for entry in path.parent.iterdir():
        match = pattern.match(entry.name)
        if match and int(match.group(2)) != os.getpid() and not process_alive(int(match.group(2))):
            shutil.rmtree(entry, ignore_errors=True)


def _render_into(ds: _SynthDataset, folder: Path, progress: bool, batch_size: int) -> None:
    """Render every item of ``ds`` into ``folder``: ``images.npy``, ``meta.npz``, then
    ``manifest.json`` (written last)."""
    from tqdm.auto import tqdm

    n = len(ds)
    images = None
    fields: dict[str, list[np.ndarray]] = {}
    bar = tqdm(total=n, desc=f"caching {type(ds).__name__}({ds.split})", disable=not progress,
               unit="item")  # fmt: skip
    try:
        for start in range(0, n, batch_size):
            idx = list(range(start, min(n, start + batch_size)))
            raws = ds._render(idx)
            for i, r in zip(idx, raws, strict=True):
                img = np.asarray(r["image"], np.uint8)
                if images is None:
                    images = np.lib.format.open_memmap(
                        folder / "images.npy", mode="w+", dtype=np.uint8, shape=(n, *img.shape)
                    )
                images[i] = img
                for k, v in r.items():
                    if k != "image":
                        fields.setdefault(k, []).append(np.asarray(v))
            bar.update(len(idx))
    finally:
        bar.close()
    if images is not None:
        images.flush()
        del images
    meta = {}
    for k, vals in fields.items():
        if all(v.shape == vals[0].shape for v in vals):
            meta[k] = np.stack(vals)
        else:
            meta[k] = np.concatenate(vals, axis=0)
            meta[f"{k}__offsets"] = np.cumsum([0] + [len(v) for v in vals]).astype(np.int64)
    np.savez(folder / "meta.npz", **meta)
    manifest = {"format": CACHE_FORMAT, "length": n, "args": ds.generation_args(),
                "synth_version": SYNTH_VERSION}  # fmt: skip
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True))


def _renamed(built: Path, path: Path) -> bool:
    """``os.rename(built, path)``; False when ``path`` is taken (a non-empty folder, a file)."""
    try:
        os.rename(built, path)
    except OSError as err:
        if err.errno in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR):
            return False
        raise
    return True


def _publish(built: Path, path: Path, args: dict, overwrite: bool, tries: int = 20) -> None:
    """Rename the complete cache ``built`` to ``path`` in one step.

    When ``path`` is taken: a current cache of the same arguments is another builder's win,
    kept as is (``built`` is left for the caller to delete); a replaceable one is moved aside
    into a trash sibling, the rename tried again, and the trash deleted afterwards.
    """
    trash = None
    try:
        for attempt in range(tries):
            if _renamed(built, path):
                return
            there = _manifest(path)
            if _current(there, args):
                return
            _check_replaceable(path, there, args, overwrite)
            trash = trash or _sibling(path, "old")
            try:
                os.rename(path, trash / str(attempt))
            except FileNotFoundError:  # another process moved it away meanwhile
                pass
        raise RuntimeError(f"cache_dataset: {path} kept changing ({tries} tries); run again")
    finally:
        if trash is not None:
            shutil.rmtree(trash, ignore_errors=True)


def cache_dataset(
    dataset, path: str | Path | None = None, progress: bool = True, batch_size: int = 64,
    overwrite: bool = False,
) -> Path:  # fmt: skip
    """Render a SynthPose dataset once and store it on disk.

    Layout of ``path``: ``images.npy`` — every render, uint8, one array ``(L, ...)`` written
    through a memory map; ``meta.npz`` — the annotations (fixed-shape fields stacked, a
    variable number of people concatenated with ``<field>__offsets``); ``manifest.json`` —
    the class, all generation arguments and ``SYNTH_VERSION`` (written last: a cache without
    it is incomplete).
    The renders are stored, not the crops, so ``CachedDataset`` applies the same augmentation
    as the original for any epoch.

    Safe with several builders at once: the cache is rendered into a hidden sibling folder and
    renamed into place when complete. If another process published the same cache first, that
    one is kept (its manifest checked) and this render discarded. Replacing a stale cache
    leaves ``path`` missing for an instant (between two renames), never half-written.

    Args:
        dataset: a ``SynthPoseTopDown`` / ``SynthPoseBottomUp`` / ``SynthPoseSequences``.
        path: folder; default ``default_cache_path(dataset)`` under ``posekit.config``.
        progress: show a tqdm bar.
        batch_size: renders per batch (person crops use SynthPose's batched path).
        overwrite: replace a cache made with other arguments (else a ValueError).
    Returns:
        the folder. An existing cache with the same manifest is reused as is; one of the same
        arguments made by another ``SYNTH_VERSION`` (stale renders) is rebuilt.
    """
    ds = _base(dataset)
    path = Path(path) if path is not None else default_cache_path(ds)
    args = ds.generation_args()
    old = _manifest(path)
    if _current(old, args):
        return path
    _check_replaceable(path, old, args, overwrite)  # before any rendering
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_orphans(path)
    built = _sibling(path, "building")
    try:
        _render_into(ds, built, progress, batch_size)
        _publish(built, path, args, overwrite)
    finally:
        if built.exists():  # failed, interrupted, or another builder won
            shutil.rmtree(built, ignore_errors=True)
    return path


class _CacheReader:
    """Lazy reader of a cache folder (opens the memory map in each process on first use)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._images = None
        self._meta: dict[str, np.ndarray] | None = None

    def __getstate__(self):
        return {"path": self.path, "_images": None, "_meta": None}

    def _open(self) -> None:
        if self._images is None:
            self._images = np.load(self.path / "images.npy", mmap_mode="r")
            with np.load(self.path / "meta.npz") as z:
                self._meta = {k: z[k] for k in z.files}

    def read(self, indices: list[int]) -> list[dict]:
        self._open()
        meta = self._meta
        out = []
        for i in indices:
            r = {"image": np.array(self._images[i])}
            for k, v in meta.items():
                if k.endswith("__offsets"):
                    continue
                off = meta.get(f"{k}__offsets")
                r[k] = v[off[i] : off[i + 1]] if off is not None else v[i]
            out.append(r)
        return out


class CachedDataset(Dataset):
    """A SynthPose dataset read back from ``cache_dataset``'s folder: the same items as the
    original (same class, same crop and augmentation code, same ``set_epoch``), no rendering.

    Args:
        path: the cache folder.
        expected: optional dataset (or dict of ``generation_args()``) that the cache must have
            been made from; a different manifest raises a ValueError naming every difference.
            A cache rendered by another ``posekit.synth.SYNTH_VERSION`` (stale) raises a
            ValueError naming its manifest (``cache_dataset`` / ``cached`` rebuild it).
    Attributes:
        dataset: the rebuilt dataset (reading renders from disk); ``manifest``: the manifest.
    """

    def __init__(self, path: str | Path, expected=None) -> None:
        self.path = Path(path)
        manifest = _manifest(self.path)
        if manifest is None or not (self.path / "meta.npz").exists():
            raise FileNotFoundError(
                f"{self.path} is not a complete SynthPose cache (no readable manifest.json); "
                "make it with posekit.datasets.synthpose.cache_dataset(dataset, path)"
            )
        if manifest.get("format") != CACHE_FORMAT:
            raise ValueError(
                f"{self.path}: cache format {manifest.get('format')} != {CACHE_FORMAT}; "
                "delete it and cache again"
            )
        version = manifest.get("synth_version")
        if version != SYNTH_VERSION:
            raise ValueError(
                f"{self.path / 'manifest.json'}: the cache was rendered by SynthPose version "
                f"{version if version is not None else '<unknown, before versions>'}, this is "
                f"version {SYNTH_VERSION} (posekit.synth.SYNTH_VERSION): its images and labels "
                "are stale; cache the dataset again with cache_dataset(dataset, path) (it "
                "rebuilds a stale cache) or cached(dataset)"
            )
        args = manifest["args"]
        if expected is not None:
            want = expected if isinstance(expected, dict) else _base(expected).generation_args()
            want = json.loads(json.dumps(_jsonable(want)))
            if want != args:
                raise ValueError(
                    f"cache {self.path} was made with other arguments than requested:\n  "
                    + "\n  ".join(_diff(args, want))
                    + "\ncache the requested dataset with cache_dataset(dataset) (default path "
                    "is per arguments) or pass overwrite=True for this path"
                )
        cls = _CLASSES[args["class"]]
        kwargs = {k: v for k, v in args.items() if k != "class"}
        self.dataset = cls._from_args(kwargs)
        self.dataset._cache = _CacheReader(self.path)
        self.manifest = manifest

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> dict:
        return self.dataset[index]

    def __getitems__(self, indices) -> list[dict]:
        return self.dataset.__getitems__(indices)

    def set_epoch(self, epoch: int) -> None:
        """See ``SynthPoseTopDown.set_epoch``."""
        if hasattr(self.dataset, "set_epoch"):
            self.dataset.set_epoch(epoch)

    def raw(self, index: int) -> dict:
        return self.dataset.raw(index)

    def __repr__(self) -> str:
        return f"CachedDataset({str(self.path)!r}: {self.dataset!r})"


def cached(dataset, path: str | Path | None = None, progress: bool = True) -> CachedDataset:
    """``CachedDataset`` of ``dataset``, rendering it to disk first if needed (default path
    per arguments under ``posekit.config.data_path("synthpose")``)."""
    p = cache_dataset(dataset, path, progress=progress)
    return CachedDataset(p, expected=dataset)


__all__ = [
    "IMAGENET_MEAN", "IMAGENET_STD", "JOINT_SETS", "SPLITS", "TOPDOWN_CONFIG", "CachedDataset",
    "SynthPoseBottomUp", "SynthPoseSequences", "SynthPoseTopDown", "cache_dataset", "cached",
    "collate_bottom_up", "default_cache_path", "denormalize_image", "normalize_image",
    "split_seed",
]  # fmt: skip
