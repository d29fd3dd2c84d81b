"""Named training recipes behind ``posekit train NAME`` and ``posekit eval CKPT``.

A recipe = a model builder + a codec + SynthPose top-down data (MPII-16 joints). The
checkpoint stores the model's constructor arguments, the codec's and the data's, so
``evaluate_checkpoint`` rebuilds everything from the file alone (``weights_only=True``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from posekit import engine, metrics


@dataclass(frozen=True)
class Recipe:
    """How to build one trainable model: ``model(**model_kwargs)`` + ``codec(**codec_kwargs)``."""

    name: str
    model: str
    model_kwargs: dict[str, Any]
    codec: str
    codec_kwargs: dict[str, Any]
    lr: float


def _model_classes() -> dict[str, type]:
    from posekit.models.deeppose import DeepPose, DeepPoseResNet
    from posekit.models.heatmap_net import HeatmapNet
    from posekit.models.hourglass import HourglassNet
    from posekit.models.simple_baseline import SimpleBaseline

    return {
        "DeepPose": DeepPose, "DeepPoseResNet": DeepPoseResNet, "HeatmapNet": HeatmapNet,
        "HourglassNet": HourglassNet, "SimpleBaseline": SimpleBaseline,
    }  # fmt: skip


def _codec_classes() -> dict[str, type]:
    from posekit.codecs.heatmap import HeatmapCodec
    from posekit.codecs.regression import RegressionCodec

    return {"HeatmapCodec": HeatmapCodec, "RegressionCodec": RegressionCodec}


def recipe(name: str, input_size: int = 128, width: float | None = None) -> Recipe:
    """The scaled lesson configuration of ``deeppose`` (lesson 01), ``heatmap`` (lesson 02),
    ``hourglass`` or ``simple_baseline`` (lesson 03) at a square ``input_size``, with the
    lessons' settings (Adam, their learning rates, cosine schedule); ``width`` scales the
    network (DeepPose: ``width_mult``; HeatmapNet, SimpleBaseline: base channels; hourglass:
    ``features``)."""
    size = [input_size, input_size]
    if name == "deeppose":
        return Recipe(
            "deeppose", "DeepPose",
            dict(num_joints=16, input_size=input_size, width_mult=width or 0.25, dropout=0.3),
            "RegressionCodec", dict(input_size=size, mode="box"), lr=1e-3,
        )  # fmt: skip
    if name == "heatmap":
        return Recipe(
            "heatmap", "HeatmapNet", dict(num_joints=16, width=int(width or 16), stride=4),
            "HeatmapCodec", dict(input_size=size, stride=4, sigma=2.0, decoder="dark"), lr=2e-3,
        )  # fmt: skip
    if name == "hourglass":
        return Recipe(
            "hourglass", "HourglassNet",
            dict(num_joints=16, num_stacks=2, features=int(width or 64), depth=4,
                 stem_channels=[16, 32]),
            "HeatmapCodec", dict(input_size=size, stride=4, sigma=2.0, decoder="dark"), lr=2e-3,
        )  # fmt: skip
    if name == "simple_baseline":
        return Recipe(
            "simple_baseline", "SimpleBaseline",
            dict(num_joints=16, backbone_depth=18, width=int(width or 16), deconv_channels=64),
            "HeatmapCodec", dict(input_size=size, stride=4, sigma=2.0, decoder="dark"), lr=2e-3,
        )  # fmt: skip
    raise ValueError(f"recipe: unknown name {name!r}; choose one of {', '.join(RECIPES)}")


RECIPES = ("deeppose", "heatmap", "hourglass", "simple_baseline")
"""The names ``posekit train`` accepts."""


def build_model(name: str, kwargs: dict[str, Any]) -> torch.nn.Module:
    classes = _model_classes()
    if name not in classes:
        raise ValueError(f"model {name!r} is not available; known: {', '.join(classes)}")
    return classes[name](**kwargs)


def build_codec(name: str, kwargs: dict[str, Any]):
    classes = _codec_classes()
    if name not in classes:
        raise ValueError(f"codec {name!r} is not known; known: {', '.join(classes)}")
    return classes[name](**kwargs)


def synth_split(split: str, length: int, input_size: int, seed: int):
    """SynthPose top-down MPII-16 crops of ``input_size²`` (train split is augmented)."""
    from posekit.datasets.synthpose import SynthPoseTopDown

    return SynthPoseTopDown(
        split, length=length, input_size=(input_size, input_size), joint_set="mpii16", seed=seed
    )


def train_recipe(
    name: str,
    *,
    out: str | Path,
    epochs: int = 10,
    n_train: int = 4000,
    n_val: int = 500,
    input_size: int = 128,
    batch_size: int = 32,
    width: float | None = None,
    lr: float | None = None,
    seed: int = 0,
    resume: bool = False,
    progress: bool = True,
) -> tuple[torch.nn.Module, engine.History, Path]:
    """Train recipe ``name`` on SynthPose and write the checkpoint ``out`` after every epoch.

    Returns ``(model, history, checkpoint path)``; ``resume=True`` continues ``out``.
    """
    r = recipe(name, input_size, width)
    model = build_model(r.model, r.model_kwargs)
    codec = build_codec(r.codec, r.codec_kwargs)
    config = engine.TrainConfig(
        epochs=epochs, batch_size=batch_size, lr=lr or r.lr, optimizer="adam",
        scheduler="cosine", warmup_steps=100, grad_clip=5.0, seed=seed,
        checkpoint=str(out),
    )  # fmt: skip
    model_config = {"name": r.model, "kwargs": r.model_kwargs}
    history = engine.train(
        model, codec, codec.loss,
        synth_split("train", n_train, input_size, seed),
        synth_split("val", n_val, input_size, seed),
        config, resume=resume or None, progress=progress, model_config=model_config,
    )  # fmt: skip
    extra = {
        "recipe": name,
        "codec": {"name": r.codec, "kwargs": r.codec_kwargs},
        "data": {"input_size": input_size, "joint_set": "mpii16", "seed": seed, "n_val": n_val},
    }
    engine.save_checkpoint(
        out, model, epoch=epochs, history=history, model_config=model_config, extra=extra
    )
    return model, history, Path(out)


def evaluate_checkpoint(
    path: str | Path, n_val: int | None = None, batch_size: int = 64, progress: bool = True
) -> dict[str, Any]:
    """Rebuild a ``train_recipe`` checkpoint and evaluate it on SynthPose val.

    Returns ``{"pckh": PCKhResult@0.5, "pck@0.2": float (torso-normalised), "seconds",
    "n"}``; the PCKh table follows the MPII protocol on crop coordinates.
    """
    ckpt = engine.load_checkpoint(path)
    extra = ckpt.get("extra") or {}
    if "codec" not in extra or "data" not in extra:
        raise ValueError(f"{path}: not a `posekit train` checkpoint (no codec/data in 'extra')")
    model = engine.load_model(path, _model_classes())
    codec = build_codec(extra["codec"]["name"], extra["codec"]["kwargs"])
    data = extra["data"]
    dataset = synth_split("val", n_val or data["n_val"], data["input_size"], data["seed"])
    start = time.perf_counter()
    pred = engine.predict(model, codec, dataset, batch_size=batch_size, progress=progress)
    items = dataset.__getitems__(list(range(len(dataset))))
    gt = np.stack([it["keypoints"].numpy() for it in items])
    boxes = np.stack([it["head_box"].numpy() for it in items])
    pred_xy = pred.numpy()[..., :2]
    torso = metrics.torso_norm(gt, "mpii16")
    with_torso = gt.copy()
    with_torso[~np.isfinite(torso), :, 2] = 0  # PCK@0.2 only where the torso is labelled
    return {
        "pckh": metrics.pckh(pred_xy, gt, boxes),
        "pck@0.2": metrics.pck(pred_xy, with_torso, np.nan_to_num(torso, nan=1.0), 0.2).mean,
        "seconds": time.perf_counter() - start,
        "n": len(dataset),
        "recipe": extra.get("recipe"),
    }
