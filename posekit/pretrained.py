"""The authors' released EfficientPose models on real photos (lesson 05).

Groos, Ramampiaro & Ihlen, "EfficientPose: Scalable single-person pose estimation", Applied
Intelligence 51 (2021), released RT, I and their Lite versions as Keras ``.h5`` files trained
on MPII (16 joints). This module fetches them at a pinned commit, checks their sha256, turns
each into a posekit checkpoint (``posekit.models.efficientpose.load_keras_weights``: h5py, no
TensorFlow, no pickle) and wraps the model with the authors' pre-processing and decoding:

    photo (H, W, 3) uint8 RGB
      → resize the long side to R (scikit-image, anti-aliased, as the authors' ``utils``),
        zero-pad to R × R centred, ``uint8(255 · x)``                        ``letterbox``
      → ImageNet mean / std (Lite: ``u8 / 127.5 − 1``)                        ``normalize``
      → EfficientPose → ``upscaled_confs`` (16, R, R)
      → argmax (or any decoder of ``posekit.codecs.heatmap``) at stride 1
      → undo the padding and the scale: ``(16, 3)`` ``(x, y, score)`` in photo pixels.

* ``fetch(variants)``: download (or copy, ``source=DIR``), verify, convert; idempotent.
* ``efficientpose("rt")``: the ``Predictor`` of a converted model (``fetch`` first, or
  ``download=True``); ``predictor(photo)`` → ``(16, 3)``.
* ``sample_photo()``: the authors' demo photo (one full-body person), fetched with the models.

Coordinates: pixel centres at integer coordinates (``docs/conventions.md``); the authors'
decoding (argmax + 0.5 in pixel-corner coordinates) is the same point.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch

from posekit import engine
from posekit.codecs.efficientpose import RELEASED_CHANNELS
from posekit.codecs.heatmap import DECODERS, decode_heatmaps
from posekit.config import data_root
from posekit.download import Resource, file_sha256
from posekit.download import fetch as fetch_resources
from posekit.models.efficientpose import VARIANTS, load_keras_weights
from posekit.models.efficientpose import efficientpose as build

__all__ = [
    "COMMIT",
    "RELEASED",
    "Letterbox",
    "Predictor",
    "available",
    "checkpoint_path",
    "convert",
    "convert_all",
    "efficientpose",
    "fetch",
    "folder",
    "letterbox",
    "normalize",
    "resources",
    "sample_photo",
]

COMMIT = "78e4bd1913780dd565efe35db03a4aec75907e8c"
"""The authors' repository (``daniegr/EfficientPose``, Apache-2.0) at the commit we pin."""
BASE_URL = f"https://raw.githubusercontent.com/daniegr/EfficientPose/{COMMIT}/"
FOLDER = "efficientpose"
"""Folder under ``posekit.config.data_root()`` holding the files and the checkpoints."""

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

# variant → (released file, upstream path, sha256 of the file at COMMIT)
_FILES: dict[str, tuple[str, str, str]] = {
    "rt": ("EfficientPoseRT.h5", "models/keras/EfficientPoseRT.h5",
           "508943cfdeb1d102d69aff4280b805c023585b0d9ae530344fb4c4fad3a175f1"),
    "i": ("EfficientPoseI.h5", "models/keras/EfficientPoseI.h5",
          "003aea100c30c68103fb4c383fb8782f78adbea7a45451af85334327b79fc5bd"),
    "rt_lite": ("EfficientPoseRT_LITE.h5", "models/keras/EfficientPoseRT_LITE.h5",
                "ce0c91259b075180177d070d0be1e71ff8695d7c123745efb950743aa90699ae"),
    "i_lite": ("EfficientPoseI_LITE.h5", "models/keras/EfficientPoseI_LITE.h5",
               "3eb6eb2a595e47d3104590e6484533d64534e4b994397a9dd2bd3e5a11430516"),
}  # fmt: skip
RELEASED: tuple[str, ...] = tuple(_FILES)
"""Variants whose weights the authors' repository holds (II, III, IV: architecture only)."""

SAMPLE = Resource(
    name="mpii_sample.jpg",
    url=BASE_URL + "utils/MPII.jpg",
    sha256="5e11130ebb3694681f5074b443cc1035efb0fba58a4852b55137e11b43e425b2",
    extract=False,
    note="the authors' demo photo (one full-body person, 1024 × 1024)",
)


def _variant(variant: str) -> str:
    key = str(variant).lower().replace(" ", "_").replace("-", "_")
    if key not in _FILES:
        released = ", ".join(RELEASED)
        extra = " (architecture only: no released weights)" if key in VARIANTS else ""
        raise ValueError(f"variant: expected one of {released}, got {variant!r}{extra}")
    return key


def _variants(variants: str | Iterable[str] | None) -> list[str]:
    if variants is None:
        return list(RELEASED)
    if isinstance(variants, str):
        variants = [variants]
    return [_variant(v) for v in variants]


def resources(variants: str | Iterable[str] | None = None, sample: bool = True) -> list[Resource]:
    """The files to fetch: the ``.h5`` of each variant (all four by default) and the photo."""
    out = []
    for v in _variants(variants):
        name, path, sha = _FILES[v]
        note = f"EfficientPose {v.upper().replace('_', ' ')} (Keras 2.2.4, MPII-16)"
        out.append(Resource(name=name, url=BASE_URL + path, sha256=sha, extract=False, note=note))
    return out + ([SAMPLE] if sample else [])


def folder(root: str | os.PathLike | None = None) -> Path:
    """Where the files and checkpoints live: ``root`` or ``$POSEKIT_DATA/efficientpose``."""
    return Path(root).expanduser().absolute() if root else data_root(create=False) / FOLDER


def checkpoint_path(variant: str = "rt", root: str | os.PathLike | None = None) -> Path:
    """``<folder>/efficientpose_<variant>.pt``, the converted checkpoint."""
    return folder(root) / f"efficientpose_{_variant(variant)}.pt"


def convert(h5: str | os.PathLike, variant: str, out: str | os.PathLike) -> Path:
    """The released ``.h5`` of ``variant`` → a posekit checkpoint at ``out`` (strict: every
    array mapped). The checkpoint records the source file, its sha256 and the commit."""
    v, h5 = _variant(variant), Path(h5)
    model = load_keras_weights(build(v), h5)
    extra = {"variant": v, "source": h5.name, "sha256": file_sha256(h5),
             "upstream": f"daniegr/EfficientPose@{COMMIT}"}  # fmt: skip
    config = {"name": "efficientpose", "kwargs": {"variant": v}}
    return engine.save_checkpoint(out, model, model_config=config, extra=extra, rng=False)


def fetch(
    variants: str | Iterable[str] | None = None,
    root: str | os.PathLike | None = None,
    source: str | os.PathLike | None = None,
    progress: bool = True,
    log=print,
) -> dict[str, Path]:
    """Download (or copy from ``source``, a folder holding the same file names), verify the
    sha256 values and convert each variant once; return ``{variant: checkpoint path}``.

    A file already there and verified is not fetched again; a checkpoint newer than its
    ``.h5`` is not converted again. Offline and without ``source``: ``DownloadError`` saying
    what to do (``posekit.download``)."""
    chosen, where = _variants(variants), folder(root)
    if source is not None and not Path(source).expanduser().is_dir():
        raise FileNotFoundError(f"source: {source} is not a folder")
    fetch_resources(resources(chosen), where, url_base=source, progress=progress, log=log)
    return convert_all(chosen, where, log)


def convert_all(
    variants: str | Iterable[str] | None = None, root: str | os.PathLike | None = None, log=print
) -> dict[str, Path]:
    """Convert each fetched ``.h5`` under ``root`` whose checkpoint is missing or older;
    return ``{variant: checkpoint path}``. A missing ``.h5`` is a FileNotFoundError."""
    chosen, where = _variants(variants), folder(root)
    out = {}
    for v in chosen:
        if not (where / _FILES[v][0]).is_file():
            raise FileNotFoundError(f"{where / _FILES[v][0]} is missing: {_HOW_TO_FETCH}")
        h5, ckpt = where / _FILES[v][0], checkpoint_path(v, where)
        if not ckpt.exists() or ckpt.stat().st_mtime < h5.stat().st_mtime:
            log(f"{h5.name}: converting into {ckpt.name}")
            convert(h5, v, ckpt)
        out[v] = ckpt
    return out


def sample_photo(root: str | os.PathLike | None = None) -> np.ndarray:
    """The authors' demo photo (after ``fetch``) as ``(1024, 1024, 3)`` uint8 RGB."""
    import cv2

    path = folder(root) / SAMPLE.name
    image = cv2.imread(str(path), cv2.IMREAD_COLOR) if path.is_file() else None
    if image is None:
        raise FileNotFoundError(f"{path} is missing or unreadable: {_HOW_TO_FETCH}")
    return np.ascontiguousarray(image[..., ::-1])


# --------------------------------------------------------------------------------------------
# pre-processing
# --------------------------------------------------------------------------------------------
class Letterbox(NamedTuple):
    """How a photo sits in the square input: ``input = photo · scale + (pad_left, pad_top)``
    (pixel-area mapping: ``x_in = (x + 0.5) · scale − 0.5 + pad_left``)."""

    scale: float
    pad_top: int
    pad_left: int
    size: int

    def to_photo(self, xy: np.ndarray) -> np.ndarray:
        """``(..., 2)`` input pixels → photo pixels."""
        xy = np.asarray(xy, np.float64)
        pad = np.array([self.pad_left, self.pad_top], np.float64)
        return (xy - pad + 0.5) / self.scale - 0.5

    def to_input(self, xy: np.ndarray) -> np.ndarray:
        """``(..., 2)`` photo pixels → input pixels."""
        xy = np.asarray(xy, np.float64)
        pad = np.array([self.pad_left, self.pad_top], np.float64)
        return (xy + 0.5) * self.scale - 0.5 + pad


def _photo(image, arg: str = "image") -> np.ndarray:
    a = np.asarray(image)
    if a.ndim != 3 or a.shape[2] != 3 or min(a.shape[:2]) < 1:
        raise ValueError(f"{arg}: expected an (H, W, 3) RGB photo, got shape {a.shape}")
    if a.dtype != np.uint8:
        raise ValueError(f"{arg}: expected uint8 RGB (0-255), got dtype {a.dtype}")
    return a


def letterbox(image: np.ndarray, size: int) -> tuple[np.ndarray, Letterbox]:
    """Resize the long side to ``size`` and zero-pad to ``size × size``, centred, as the
    authors' ``utils/helpers.py`` (``skimage.transform.resize`` with anti-aliasing on [0, 1],
    then ``uint8(255 · x)``, truncating). ``image``: ``(H, W, 3)`` uint8 RGB. Returns the
    ``(size, size, 3)`` uint8 input and its ``Letterbox``."""
    import skimage.transform

    a = _photo(image)
    if not isinstance(size, (int, np.integer)) or size < 1:
        raise ValueError(f"size: expected a positive integer side, got {size!r}")
    h, w = a.shape[:2]
    scale = size / max(h, w)
    rh, rw = max(1, round(h * scale)), max(1, round(w * scale))
    resized = skimage.transform.resize(a, (rh, rw), anti_aliasing=scale < 1)
    resized = np.uint8(255 * resized)
    top, left = (size - rh) // 2, (size - rw) // 2
    out = np.zeros((size, size, 3), np.uint8)
    out[top : top + rh, left : left + rw] = resized
    return out, Letterbox(float(scale), int(top), int(left), int(size))


def normalize(square: np.ndarray, lite: bool = False) -> torch.Tensor:
    """``(R, R, 3)`` uint8 → ``(1, 3, R, R)`` float32: ImageNet mean / std (Keras' "torch"
    mode), or ``u8 / 127.5 − 1`` for the Lite models ("tf" mode)."""
    a = _photo(square, "square").astype(np.float32)
    if lite:
        x = a / 127.5 - 1
    else:
        x = (a / 255 - np.float32(IMAGENET_MEAN)) / np.float32(IMAGENET_STD)
    return torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)[None]))


# --------------------------------------------------------------------------------------------
# the predictor
# --------------------------------------------------------------------------------------------
class Predictor:
    """A released EfficientPose with its pre-processing and decoding.

    ``predictor(photo)`` → ``(16, 3)`` ``(x, y, score)`` in photo pixels, in posekit's MPII-16
    joint order (``posekit.skeletons.MPII16``; the released maps' channels are in the authors'
    order, ``posekit.codecs.efficientpose.RELEASED_CHANNELS``, and are reordered);
    ``score`` = the map's maximum. ``decoder``: one of
    ``posekit.codecs.heatmap.DECODERS`` on the full-resolution ``upscaled_confs`` (stride 1;
    ``"argmax"`` is the authors' real-time decoding). ``maps(photo)`` gives every head.
    """

    def __init__(self, model: torch.nn.Module, variant: str, decoder: str = "argmax"):
        v = _variant(variant)
        if decoder not in DECODERS:
            raise ValueError(f"decoder: expected one of {DECODERS}, got {decoder!r}")
        self.model, self.variant, self.decoder = model.eval(), v, decoder
        self.resolution, self.lite = VARIANTS[v].resolution, VARIANTS[v].lite

    def __repr__(self) -> str:
        return (f"Predictor(EfficientPose {self.variant}, input {self.resolution}², "
                f"decoder={self.decoder!r})")  # fmt: skip

    def inputs(self, image: np.ndarray) -> tuple[torch.Tensor, Letterbox]:
        """``(1, 3, R, R)`` network input of a photo, and its ``Letterbox``."""
        square, box = letterbox(image, self.resolution)
        return normalize(square, self.lite), box

    def maps(self, image: np.ndarray) -> tuple[dict[str, np.ndarray], Letterbox]:
        """Every head of the model on ``image``: ``{name: (C, h, w)}`` (``model.output_names``;
        ``upscaled_confs`` is ``(16, R, R)``, channels in the authors' joint order), and the
        ``Letterbox``."""
        x, box = self.inputs(image)
        with torch.inference_mode():
            out = self.model(x)
        names = self.model.output_names
        return {k: o[0].float().numpy() for k, o in zip(names, out, strict=True)}, box

    def __call__(self, image: np.ndarray, decoder: str | None = None, sigma: float = 2.0):
        maps, box = self.maps(image)
        method = self.decoder if decoder is None else decoder
        if method not in DECODERS:
            raise ValueError(f"decoder: expected one of {DECODERS}, got {method!r}")
        kp = np.asarray(decode_heatmaps(maps["upscaled_confs"], 1, method, sigma=sigma))
        kp = kp.astype(np.float64)
        kp[:, :2] = box.to_photo(kp[:, :2])
        out = np.empty_like(kp)
        out[list(RELEASED_CHANNELS)] = kp  # channel c holds MPII-16 joint RELEASED_CHANNELS[c]
        return out.astype(np.float32)


_HOW_TO_FETCH = (
    "run `python data_scripts/download_efficientpose.py` (or `--from DIR` with local copies "
    "of the authors' files), or call posekit.pretrained.fetch()"
)


def efficientpose(
    variant: str = "rt",
    root: str | os.PathLike | None = None,
    decoder: str = "argmax",
    download: bool = False,
) -> Predictor:
    """The released EfficientPose ``variant`` (``"rt"``, ``"i"``, ``"rt_lite"``,
    ``"i_lite"``) as a ``Predictor``, from its converted checkpoint. ``download=True`` fetches
    and converts it first when it is missing."""
    v = _variant(variant)
    path = checkpoint_path(v, root)
    if not path.exists():
        if not download:
            raise FileNotFoundError(f"{path} is missing: {_HOW_TO_FETCH}")
        fetch(v, root)
    model = engine.load_model(path, {"efficientpose": build})
    got = getattr(model, "config", {}).get("variant")
    if got != v:
        raise engine.CheckpointError(f"{path} holds EfficientPose {got!r}, not {v!r}")
    return Predictor(model, v, decoder)


def available(variants: Sequence[str] | str | None = None, root=None) -> bool:
    """Whether the checkpoints of ``variants`` (all released ones by default) are there."""
    return all(checkpoint_path(v, root).exists() for v in _variants(variants))
