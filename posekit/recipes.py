"""Named training recipes behind ``posekit train NAME`` and ``posekit eval CKPT``.

A recipe = a model builder + a codec + SynthPose data: top-down MPII-16 crops
(``SynthPoseTopDown``) for the single-person models of lessons 01-03 and EfficientPose
(``efficientpose``), whole multi-person
scenes (``SynthPoseBottomUp``, COCO-17 joints) for the bottom-up ``lightweight_openpose``
(lesson 04; ``PAFCodec`` targets, COCO OKS AP). The checkpoint stores the model's
constructor arguments, the codec's and the data's, so ``evaluate_checkpoint`` rebuilds
everything from the file alone (``weights_only=True``).
"""

from __future__ import annotations

import functools
import inspect
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from posekit import engine, evaluation
from posekit.validate import size2


@dataclass(frozen=True)
class Recipe:
    """How to build one trainable model: ``model(**model_kwargs)`` + ``codec(**codec_kwargs)``."""

    name: str
    model: str
    model_kwargs: dict[str, Any]
    codec: str
    codec_kwargs: dict[str, Any]
    lr: float
    kind: str = "top_down"
    batch_size: int = 32


def _model_classes() -> dict[str, type]:
    from posekit.models.deeppose import DeepPose, DeepPoseResNet
    from posekit.models.efficientpose import EfficientPose
    from posekit.models.heatmap_net import HeatmapNet
    from posekit.models.hourglass import HourglassNet
    from posekit.models.openpose import LightweightOpenPose
    from posekit.models.simple_baseline import SimpleBaseline

    return {
        "DeepPose": DeepPose, "DeepPoseResNet": DeepPoseResNet, "HeatmapNet": HeatmapNet,
        "HourglassNet": HourglassNet, "SimpleBaseline": SimpleBaseline,
        "LightweightOpenPose": LightweightOpenPose, "EfficientPose": EfficientPose,
        "sphp_model": _sphp_model, "sparse_sphp_model": _sparse_sphp_model,
    }  # fmt: skip


def _sphp_model(backbone: str = "dhp19", inputs: str = "fs"):
    from posekit.models.sphp import sphp_model

    return sphp_model(backbone, inputs)


def _sparse_sphp_model(
    backbone: str = "unet_small", inputs: str = "ed", backend: str = "posekit",
    dense_head: bool = False,
):  # fmt: skip
    from posekit.models.sphp_sparse import sparse_sphp_model

    return sparse_sphp_model(backbone, inputs, backend, dense_head)


def _codec_classes() -> dict[str, type]:
    from posekit.codecs.efficientpose import EfficientPoseCodec
    from posekit.codecs.heatmap import HeatmapCodec
    from posekit.codecs.paf import PAFCodec
    from posekit.codecs.regression import RegressionCodec
    from posekit.codecs.sphp import SPHPCodec

    return {"HeatmapCodec": HeatmapCodec, "RegressionCodec": RegressionCodec,
            "PAFCodec": PAFCodec, "EfficientPoseCodec": EfficientPoseCodec,
            "SPHPCodec": SPHPCodec}  # fmt: skip


BOTTOM_UP_SIZE = (256, 160)
"""Default scene ``(W, H)`` of the bottom-up recipe (maps 32×20 at stride 8)."""
BOTTOM_UP_PEOPLE = (1, 4)
"""People per training / validation scene of the bottom-up recipe."""
BOTTOM_UP_DEPTH = (3.0, 7.0)
"""Distance range (m) of the bottom-up recipe's people from the camera (``SynthConfig.
scene_depth``; the generator's default is 3-12 m): closer people span more map pixels."""


def _input_size(input_size, name: str) -> tuple[int, int]:
    """``input_size`` (a side or ``(W, H)``) as ``(W, H)``; None: recipe ``name``'s default."""
    if input_size is None:
        return BOTTOM_UP_SIZE if name == "lightweight_openpose" else (128, 128)
    return size2(input_size, "input_size", square=True)


def _width(width: float | None, default: float) -> float:
    """``width``, or the recipe's ``default`` when None (0 is not a default: it is refused)."""
    return default if width is None else width


def recipe(name: str, input_size=None, width: float | None = None) -> Recipe:
    """The scaled lesson configuration of ``deeppose`` (lesson 01), ``heatmap`` (lesson 02),
    ``hourglass`` or ``simple_baseline`` (lesson 03) or ``efficientpose`` at a square
    ``input_size`` (default 128), or of the bottom-up ``lightweight_openpose`` (lesson 04) at
    ``input_size`` = ``(W, H)`` (default ``BOTTOM_UP_SIZE``; multiples of 8), with the
    lessons' settings (Adam, their learning rates, cosine schedule); ``width`` scales the
    network (DeepPose: ``width_mult``; HeatmapNet, SimpleBaseline: base channels; hourglass:
    ``features``; Lightweight OpenPose: ``channels`` with the MobileNet ``width_mult = width /
    128``, default 32 — the published network is ``width=128``; EfficientPose has none: a
    ValueError).

    ``efficientpose`` is EfficientPose RT's architecture (Groos et al. 2021: EfficientNet-B0
    cut at stride 8, one Mobile DenseNet block per pass, no low-resolution branch; the same
    ``EfficientPose`` class as the released RT, 0.45 M parameters) at ``input_size`` instead of
    224, trained from scratch with ``EfficientPoseCodec`` (PAFs for pass 1, σ = 1 map pixel
    confidence maps at stride 8 for passes 2-3, σ = 8 px at full resolution for the upscaled
    output). RT is the smallest variant and the only one without the 2×-pooled low-resolution
    branch, whose EfficientNet cut at stride 4 of a 64×64 pooled crop would see little; the
    larger variants mainly raise the input resolution, which the 128×128 crops do not have.
    ``train_recipe`` passes the fresh network through ``prepare_efficientpose``; lr 1.6e-2,
    the best of 2e-3 … 1.6e-2 under lesson 03's budget (``posekit.lab.efficientpose_synth``'s
    ``SWEEP``)."""
    w, h = _input_size(input_size, name)
    if name == "lightweight_openpose":
        if w % 8 or h % 8 or w < 8 or h < 8:
            raise ValueError(f"input_size: expected (W, H) multiples of 8, got {(w, h)}")
        channels = int(_width(width, 32))
        return Recipe(
            "lightweight_openpose", "LightweightOpenPose",
            dict(num_refinement_stages=1, channels=channels, width_mult=channels / 128),
            "PAFCodec", dict(stride=8, sigma=0.875, limb_width=1.0, end_margin=1.0,
                             min_keypoints=3, joint_set="coco17", heatmap_weight=3.0),
            lr=4e-3, kind="bottom_up", batch_size=8,  # see lesson 04 for the sweep
        )  # fmt: skip
    if w != h:
        raise ValueError(f"input_size: the top-down recipe {name!r} takes a square input, got "
                         f"{(w, h)}")  # fmt: skip
    input_size = w
    size = [input_size, input_size]
    if name == "deeppose":
        return Recipe(
            "deeppose", "DeepPose",
            dict(num_joints=16, input_size=input_size, width_mult=_width(width, 0.25),
                 dropout=0.3),
            "RegressionCodec", dict(input_size=size, frame="box"), lr=1e-3,
        )  # fmt: skip
    if name == "heatmap":
        return Recipe(
            "heatmap", "HeatmapNet", dict(num_joints=16, width=int(_width(width, 16)), stride=4),
            "HeatmapCodec", dict(input_size=size, stride=4, sigma=2.0, decoder="dark"), lr=2e-3,
        )  # fmt: skip
    if name == "hourglass":
        return Recipe(
            "hourglass", "HourglassNet",
            dict(num_joints=16, num_stacks=2, features=int(_width(width, 96)), depth=4,
                 stem_channels=[16, 32]),
            "HeatmapCodec", dict(input_size=size, stride=4, sigma=2.0, decoder="dark"), lr=4e-3,
        )  # fmt: skip
    if name == "simple_baseline":
        return Recipe(
            "simple_baseline", "SimpleBaseline",
            dict(num_joints=16, backbone_depth=18, width=int(_width(width, 16)),
                 deconv_channels=64),
            "HeatmapCodec", dict(input_size=size, stride=4, sigma=2.0, decoder="dark"), lr=4e-3,
        )  # fmt: skip
    if name == "efficientpose":
        if width is not None:
            raise ValueError(
                f"--width / width={width!r}: efficientpose has no width setting (EfficientPose "
                "scales by variant: RT ... IV); leave it out"
            )
        return Recipe(
            "efficientpose", "EfficientPose",
            dict(backbone="b0", low_res_backbone=None, blocks_per_pass=1, resolution=input_size),
            "EfficientPoseCodec", dict(input_size=size, stride=8, sigma=1.0, limb_width=1.0,
                                       end_margin=1.0, pass_weights=[1.0, 1.0, 1.0, 1.0],
                                       decode_from="upscaled", decoder="argmax"),
            lr=1.6e-2,
        )  # fmt: skip
    raise ValueError(f"recipe: unknown name {name!r}; choose one of {', '.join(RECIPES)}")


RECIPES = (
    "deeppose", "heatmap", "hourglass", "simple_baseline", "lightweight_openpose",
    "efficientpose",
)  # fmt: skip
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
    if name == "RegressionCodec" and "mode" in kwargs:  # checkpoints saved before the rename
        kwargs = {("frame" if k == "mode" else k): v for k, v in kwargs.items()}
    return classes[name](**kwargs)


_RESNET_STRIDE = 32
"""Stride of SimpleBaseline's ResNet backbone: its input sides are multiples of 32."""


def _default(cls: type, kwargs: dict[str, Any], name: str) -> Any:
    """``kwargs[name]``, else the default of ``cls``'s constructor argument ``name``."""
    if name in kwargs:
        return kwargs[name]
    return inspect.signature(cls).parameters[name].default


@functools.cache
def _alexnet_minimum() -> int:
    """The smallest input side AlexNet (DeepPose's trunk) turns into a usable map."""
    from posekit.models.alexnet import feature_size

    for side in range(1, 1024):
        try:
            feature_size(side)
            return side
        except ValueError:
            continue
    raise AssertionError("AlexNet accepts no side below 1024")


def input_rule(r: Recipe | str) -> tuple[int, int]:
    """``(multiple, minimum)`` of the input sides recipe ``r`` can train on, read from its
    model: DeepPose (1, AlexNet's smallest side, 37); HeatmapNet (its codec's stride,
    ``2^depth``: the coarsest level keeps a pixel); hourglass (``4·2^depth`` twice);
    SimpleBaseline (32, 32: the ResNet stride); Lightweight OpenPose and EfficientPose (8, 8:
    their stride)."""
    r = recipe(r) if isinstance(r, str) else r
    cls, kw = _model_classes()[r.model], r.model_kwargs
    if r.model == "DeepPose":
        return 1, _alexnet_minimum()
    if r.model == "HeatmapNet":
        return r.codec_kwargs["stride"], 2 ** _default(cls, kw, "depth")
    if r.model == "HourglassNet":
        unit = cls.stride * 2 ** _default(cls, kw, "depth")
        return unit, unit
    if r.model == "SimpleBaseline":
        return _RESNET_STRIDE, _RESNET_STRIDE
    if r.model == "EfficientPose":
        return r.codec_kwargs["stride"], r.codec_kwargs["stride"]
    return cls.stride, cls.stride


def _fits(side: int, rule: tuple[int, int]) -> bool:
    return side >= rule[1] and side % rule[0] == 0


def _check_size(r: Recipe, size: tuple[int, int]) -> None:
    """Every side of ``size`` fits ``input_rule(r)``; else name the nearest sides that do."""
    rule = input_rule(r)
    bad = [side for side in size if not _fits(side, rule)]
    if not bad:
        return
    up = max(rule[1], math.ceil(bad[0] / rule[0]) * rule[0])
    down = next((v for v in range(up - rule[0], rule[1] - 1, -rule[0]) if _fits(v, rule)), None)
    near = f"{down} or {up}" if down else f"{up}"
    sides = f"multiples of {rule[0]} and at least" if rule[0] > 1 else "at least"
    raise ValueError(
        f"--size / input_size={bad[0]}: {r.name} needs sides {sides} {rule[1]} "
        f"(its {r.model}); try {near}"
    )


def _check_number(flag: str, value: Any, whole: bool = False) -> None:
    """``value`` is a finite number > 0 (and a whole number with ``whole``)."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not ok or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{flag}={value!r}: expected a finite number > 0")
    if whole and not float(value).is_integer():
        raise ValueError(f"{flag}={value!r}: expected a whole number")


def _check_model(r: Recipe, width: float | None) -> None:
    """The model's own constructor checks, run on the meta device (nothing allocated)."""
    try:
        with torch.device("meta"):
            _model_classes()[r.model](**r.model_kwargs)
    except (TypeError, ValueError) as err:
        where = f"--width / width={width!r}" if width is not None else r.name
        raise ValueError(f"{where}: {r.model} refuses it ({err})") from None


def check_train_args(
    name: str,
    input_size=None,
    width: float | None = None,
    lr: float | None = None,
    *,
    epochs: int = 1,
    batch_size: int | None = None,
    n_train: int = 1,
    n_val: int = 1,
    seed: int = 0,
) -> Recipe:
    """The recipe of ``train_recipe``'s arguments, once every one of them is usable: a
    ``ValueError`` naming the argument (``--size / input_size=...``) otherwise. Nothing is
    built: the size rule comes from ``input_rule``, the model's checks run on ``meta``."""
    if name not in RECIPES:
        raise ValueError(f"recipe: unknown name {name!r}; choose one of {', '.join(RECIPES)}")
    counts = {"--epochs / epochs": epochs, "--n-train / n_train": n_train,
              "--n-val / n_val": n_val, "--batch-size / batch_size": batch_size}  # fmt: skip
    for flag, value in counts.items():
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise ValueError(f"{flag}={value!r}: expected an integer >= 1")
        if value is not None:
            _check_number(flag, value)
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"--seed / seed={seed!r}: expected an integer >= 0")
    if lr is not None:
        _check_number("--lr / lr", lr)
    if width is not None:
        _check_number("--width / width", width, whole=name != "deeppose")
    r = recipe(name, input_size, width)
    _check_size(r, _input_size(input_size, name))
    _check_model(r, width)
    return r


def check_output(out: str | Path) -> Path:
    """``out`` as a Path once its folder exists and takes a file (a probe file is written
    and removed), so that an unwritable ``--out`` fails before training, not after an epoch."""
    out = Path(out)
    if out.is_dir():
        raise ValueError(f"--out {out}: is a folder; name the checkpoint file, e.g. {out}/run.pt")
    blocker = next((p for p in out.parents if p.exists() and not p.is_dir()), None)
    if blocker is not None:
        raise ValueError(f"--out {out}: {blocker} is a file, not a folder")
    probe = out.with_name(f".{out.name}.posekit-probe{os.getpid()}")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as err:
        raise ValueError(f"--out {out}: cannot write in {out.parent} ({err.strerror})") from None
    return out


def _differences(old: dict, new: dict) -> list[str]:
    """``"key old -> new"`` for every key whose value differs."""
    keys = sorted(set(old) | set(new))
    return [f"{k} {old.get(k)!r} -> {new.get(k)!r}" for k in keys if old.get(k) != new.get(k)]


def _check_resume(out: Path, r: Recipe) -> None:
    """``--resume`` of an existing ``out`` must find the model and codec ``r`` builds."""
    ckpt = engine.load_checkpoint(out)
    model = ckpt.get("model_config") or {}
    codec = (ckpt.get("extra") or {}).get("codec") or {}
    diff = _differences(
        {"model": model.get("name"), **(model.get("kwargs") or {}), "codec": codec.get("name"),
         **{f"codec.{k}": v for k, v in (codec.get("kwargs") or {}).items()}},
        {"model": r.model, **r.model_kwargs, "codec": r.codec,
         **{f"codec.{k}": v for k, v in r.codec_kwargs.items()}},
    )  # fmt: skip
    if diff:
        raise engine.CheckpointError(
            f"--resume: {out} holds another model ({'; '.join(diff)}): resume with the "
            "arguments it was trained with, or choose another --out"
        )


EFFICIENTPOSE_HEAD_STD = 1e-3
"""Std of the fresh EfficientPose heads' weights for training (``prepare_efficientpose``)."""
EFFICIENTPOSE_BN_MOMENTUM = 0.1
"""BatchNorm momentum of EfficientPose while training on SynthPose (``prepare_efficientpose``)."""


def prepare_efficientpose(
    model: torch.nn.Module,
    head_std: float = EFFICIENTPOSE_HEAD_STD,
    bn_momentum: float = EFFICIENTPOSE_BN_MOMENTUM,
) -> torch.nn.Module:
    """Make a fresh ``EfficientPose`` trainable from scratch in a short budget; returns it.

    * Its 1×1 pass heads (``pafs_head``, ``confs1_head``, ``confs2_head``, where present) get
      weights ~ N(0, ``head_std``) and zero biases, as the heads of HeatmapNet, the hourglass
      and SimpleBaseline (HRNet's initialisation). With EfficientPose's Kaiming heads the first
      outputs have |y| ≈ 3 and the loss starts near 20 instead of 0.02: under lesson 03's
      budget (250 Adam steps) such a network ended at PCKh@0.5 ≈ 0-3 %, with these heads at
      ≈ 71 % (``posekit.lab.efficientpose_synth``).
    * Every BatchNorm gets ``momentum = bn_momentum`` (PyTorch's default 0.1). The released
      graphs' Keras momentum 0.99 (0.01 in PyTorch terms) makes the running statistics trail a
      250-step run so far that the eval-mode network scored 0 % where the same weights with
      recomputed statistics scored 71 %. The statistics are buffers: a checkpoint restores them
      whatever the momentum.

    The transposed-convolution upscaling keeps its bilinear initialisation. Shapes unchanged.
    """
    if not (head_std > 0 and 0 < bn_momentum <= 1):
        raise ValueError(
            f"head_std > 0 and 0 < bn_momentum <= 1 expected, got {head_std!r}, {bn_momentum!r}"
        )
    heads = [getattr(model, n, None) for n in ("pafs_head", "confs1_head", "confs2_head")]
    if not any(isinstance(h, torch.nn.Conv2d) for h in heads):
        raise ValueError(f"model: expected an EfficientPose, got {type(model).__name__}")
    with torch.no_grad():
        for head in heads:
            if isinstance(head, torch.nn.Conv2d):
                torch.nn.init.normal_(head.weight, std=head_std)
                torch.nn.init.zeros_(head.bias)
    for m in model.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.momentum = bn_momentum
    return model


def synth_split(split: str, length: int, input_size: int, seed: int):
    """SynthPose top-down MPII-16 crops of ``input_size²`` (train split is augmented)."""
    from posekit.datasets.synthpose import SynthPoseTopDown

    return SynthPoseTopDown(
        split, length=length, input_size=(input_size, input_size), joint_set="mpii16", seed=seed
    )


def bottom_up_split(split: str, length: int, size, seed: int, num_people=(1, 6), scene_depth=None):
    """SynthPose multi-person scenes ``(W, H) = size`` with COCO-17 joints (no augmentation);
    ``scene_depth`` = ``(near, far)`` metres (None: the generator's default, 3-12 m)."""
    from posekit.datasets.synthpose import SynthPoseBottomUp
    from posekit.synth.scenes import SynthConfig

    config = None if scene_depth is None else SynthConfig(scene_depth=tuple(scene_depth))
    return SynthPoseBottomUp(
        split,
        length=length,
        size=tuple(size),
        num_people=tuple(num_people),
        seed=seed,
        config=config,
    )


def train_recipe(
    name: str,
    *,
    out: str | Path,
    epochs: int = 10,
    n_train: int = 4000,
    n_val: int = 500,
    input_size=None,
    batch_size: int | None = None,
    width: float | None = None,
    lr: float | None = None,
    seed: int = 0,
    resume: bool = False,
    progress: bool = True,
) -> tuple[torch.nn.Module, engine.History, Path]:
    """Train recipe ``name`` on SynthPose and write the checkpoint ``out`` after every epoch.

    Top-down recipes train on ``n_train`` MPII-16 crops of ``input_size²`` and log PCKh;
    ``lightweight_openpose`` trains on ``n_train`` scenes of ``input_size = (W, H)`` with
    ``PAFCodec`` (``collate_bottom_up``) and logs COCO OKS AP / AR
    (``evaluation.evaluate_oks_ap``).
    ``batch_size`` / ``lr`` None: the recipe's. Returns ``(model, history, checkpoint
    path)``; ``resume=True`` continues ``out`` (same model and codec; Adam and the schedule
    carry on, ``engine.train``). Every argument and ``out`` are checked before anything is
    built (``check_train_args``, ``check_output``); every checkpoint is complete.
    """
    r = check_train_args(name, input_size, width, lr, epochs=epochs, batch_size=batch_size,
                         n_train=n_train, n_val=n_val, seed=seed)  # fmt: skip
    out = check_output(out)
    if resume and out.exists():
        _check_resume(out, r)
    size = _input_size(input_size, name)
    model = build_model(r.model, r.model_kwargs)
    if r.model == "EfficientPose":
        prepare_efficientpose(model)
    codec = build_codec(r.codec, r.codec_kwargs)
    config = engine.TrainConfig(
        epochs=epochs, batch_size=batch_size or r.batch_size, lr=r.lr if lr is None else lr,
        optimizer="adam", scheduler="cosine", warmup_steps=100, grad_clip=5.0, seed=seed,
        channels_last=True, checkpoint=str(out),
    )  # fmt: skip
    model_config = {"name": r.model, "kwargs": r.model_kwargs}
    if r.kind == "bottom_up":
        from posekit.datasets.synthpose import cached, collate_bottom_up

        scenes = dict(num_people=BOTTOM_UP_PEOPLE, scene_depth=BOTTOM_UP_DEPTH)
        train_set = cached(bottom_up_split("train", n_train, size, seed, **scenes),
                           progress=progress)  # fmt: skip
        val_set = bottom_up_split("val", n_val, size, seed, **scenes)
        options = dict(evaluate=functools.partial(evaluation.evaluate_oks_ap, batch_size=16),
                       collate_fn=collate_bottom_up)  # fmt: skip
        data = {"kind": "bottom_up", "size": list(size), "num_people": list(BOTTOM_UP_PEOPLE),
                "scene_depth": list(BOTTOM_UP_DEPTH), "joint_set": "coco17", "seed": seed,
                "n_val": n_val}  # fmt: skip
    else:
        train_set = synth_split("train", n_train, size[0], seed)
        val_set = synth_split("val", n_val, size[0], seed)
        options = dict(evaluate=functools.partial(evaluation.evaluate_pckh,
                                                  batch_size=config.batch_size))  # fmt: skip
        data = {"kind": "top_down", "input_size": size[0], "joint_set": "mpii16",
                "seed": seed, "n_val": n_val}  # fmt: skip
    extra = {"recipe": name, "codec": {"name": r.codec, "kwargs": r.codec_kwargs}, "data": data}
    history = engine.train(
        model, codec, codec.loss, train_set, val_set, config, resume=resume or None,
        progress=progress, model_config=model_config, checkpoint_extra=extra, **options,
    )  # fmt: skip
    return model, history, out


SPHP_SIZE = (192, 144)
"""Input ``(W, H)`` of ``train_sphp``'s CPU configuration: half of SPHP's 384×288 (4 × fewer
pixels and MACs); MPJPE is still reported in pixels of the 384×288 image."""


SPHP_HEAD_STD = 1e-3
"""``train_sphp``'s U-Net heads: weights ~ N(0, this), zero biases (``_init_sphp_heads``)."""


def _init_sphp_heads(model: torch.nn.Module, std: float = SPHP_HEAD_STD) -> int:
    """Give every SPHP U-Net's final 1×1 conv (``UNet.head``, late-fusion branches included,
    ``SparseUNet.head``) and every sparse model's ``ContextHead`` output conv weights
    ~ N(0, ``std``) and zero biases; returns how many heads. DHP19 is left as is (its Xavier
    net ends in a ReLU and already starts at ≈ 0)."""
    from posekit.models.sphp import UNet
    from posekit.models.sphp_sparse import ContextHead, SparseUNet

    heads = [m.out for m in model.modules() if isinstance(m, ContextHead)]
    unets = [m for m in model.modules() if isinstance(m, UNet | SparseUNet)]
    heads += [m.head for m in unets if not isinstance(m.head, ContextHead)]
    with torch.no_grad():
        for head in heads:
            torch.nn.init.normal_(head.weight, std=std)
            if head.bias is not None:
                torch.nn.init.zeros_(head.bias)
    return len(heads)


def train_sphp(
    backbone: str = "dhp19",
    inputs: str = "fs",
    *,
    data: str | Path,
    out: str | Path,
    size=SPHP_SIZE,
    epochs: int = 2,
    batch_size: int = 8,
    lr: float = 1e-3,
    frame_step: int = 1,
    seed: int = 0,
    resume: bool = False,
    progress: bool = True,
    conv: str = "dense",
    dense_head: bool = False,
    backend: str = "posekit",
) -> tuple[torch.nn.Module, engine.History, Path]:
    """Train an SPHP network (``posekit.models.sphp.sphp_model(backbone, inputs)``, or with
    ``conv="sparse"`` ``posekit.models.sphp_sparse.sparse_sphp_model(backbone, inputs,
    backend, dense_head)``: submanifold layers on the input's nonzero pixels) on
    the SPHP-format folder ``data`` (the release, or ``posekit synth sphp``'s export) with
    SPHP's protocol (``posekit.codecs.sphp.SPHPCodec``: σ = 4 one-hot targets at the input
    resolution, per-pixel MSE; Lin, Hsieh et al. 2023) on the train subjects, scoring
    ``evaluation.evaluate_sphp`` (MPJPE per class, in 384×288 pixels) on the val subjects after
    every epoch; the checkpoint ``out`` is written after every epoch.

    The published runs use RMSprop (lr 3e-3, α 0.9, steps at epochs 9 and 14) for 100 epochs
    at 384×288; this CPU configuration keeps the targets, loss and metric and changes the
    budget: ``size`` (default ``SPHP_SIZE`` = 192×144; multiples of 8), Adam with a cosine
    schedule, ``epochs``, every ``frame_step``-th frame. ``inputs="late"`` reads the ``"fs"``
    stack into three one-channel branches.

    The U-Nets' final 1×1 conv starts at N(0, ``SPHP_HEAD_STD`` = 1e-3) with zero bias (the
    authors keep PyTorch's default; HRNet-style heatmap heads use this). With the default head
    a fresh U-Net-Small outputs |y| ≈ 0.4 after its BatchNorms and the loss starts at ≈ 1.3
    against ≈ 0.033 for all-zero maps (σ = 4 targets are sparse): under a CPU budget (240 Adam
    steps at 128×96) the first epoch only shrinks the outputs and the net ends at about the
    all-zero loss (0.035; ED test 81 px; lr 3e-3 the same); with this head it starts at ≈ 0.033
    and reaches 8.2 px in the same 240 steps (DHP19: 15.8). A resumed run keeps its
    checkpoint's weights. ``dense_head`` and ``backend`` apply to ``conv="sparse"`` only."""
    from posekit.codecs.sphp import SPHPCodec
    from posekit.datasets.sphp import SPHPFrames
    from posekit.models.sphp import BACKBONES, INPUTS
    from posekit.sparse import BACKENDS

    if backbone not in BACKBONES:
        raise ValueError(f"--backbone / backbone={backbone!r}: expected one of "
                         f"{', '.join(BACKBONES)}")  # fmt: skip
    if inputs not in INPUTS:
        raise ValueError(f"--input / inputs={inputs!r}: expected one of {', '.join(INPUTS)}")
    if conv not in ("dense", "sparse"):
        raise ValueError(f"--conv / conv={conv!r}: expected dense or sparse")
    if conv == "sparse" and inputs == "late":
        raise ValueError("--input / inputs='late': sparse models take ed, gr, mv or fs")
    if conv == "dense" and (dense_head or backend != "posekit"):
        raise ValueError("--dense-head / --backend apply to --conv sparse only")
    if backend not in BACKENDS:
        raise ValueError(f"--backend / backend={backend!r}: expected one of {BACKENDS}")
    w, h = size2(size, "size")
    if w % 8 or h % 8 or w * 3 != h * 4:
        raise ValueError(f"--size / size={(w, h)}: expected W×H in SPHP's 4:3 (384x288, "
                         "192x144, ...) and multiples of 8 (3 max-pools)")  # fmt: skip
    for flag, value in (("--epochs / epochs", epochs), ("--batch-size / batch_size", batch_size),
                        ("--frame-step / frame_step", frame_step)):  # fmt: skip
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{flag}={value!r}: expected an integer >= 1")
    _check_number("--lr / lr", lr)
    out = check_output(out)
    stack = "fs" if inputs == "late" else inputs
    train_set = SPHPFrames(data, "train", stack, (w, h), frame_step=frame_step)
    val_set = SPHPFrames(data, "val", stack, (w, h), frame_step=frame_step)
    if conv == "sparse":
        model_config = {
            "name": "sparse_sphp_model",
            "kwargs": {
                "backbone": backbone,
                "inputs": inputs,
                "backend": backend,
                "dense_head": dense_head,
            },
        }
    else:
        model_config = {"name": "sphp_model", "kwargs": {"backbone": backbone, "inputs": inputs}}
    model = _model_classes()[model_config["name"]](**model_config["kwargs"])
    if not resume:
        _init_sphp_heads(model)
    codec = SPHPCodec((w, h))
    config = engine.TrainConfig(
        epochs=epochs, batch_size=batch_size, lr=lr, optimizer="adam", scheduler="cosine",
        warmup_steps=min(50, max(1, len(train_set) // batch_size)), seed=seed,
        checkpoint=str(out),
    )  # fmt: skip
    extra = {"recipe": "sphp", "codec": {"name": "SPHPCodec", "kwargs": {"input_size": [w, h]}},
             "data": {"kind": "sphp", "root": str(Path(data).absolute()), "inputs": stack,
                      "size": [w, h], "frame_step": frame_step}}  # fmt: skip
    history = engine.train(
        model, codec, codec.loss, train_set, val_set, config, resume=resume or None,
        progress=progress, model_config=model_config, checkpoint_extra=extra,
        evaluate=functools.partial(evaluation.evaluate_sphp, batch_size=batch_size),
    )  # fmt: skip
    return model, history, out


SCENE_SIZE = (456, 256)
"""``(W, H)`` of the scenes on which ``posekit eval --coco`` scores top-down checkpoints."""

_DATA_FIELDS = {"top_down": ("input_size", "seed", "n_val"),
                "bottom_up": ("size", "num_people", "seed", "n_val"),
                "sphp": ("root", "inputs", "size", "frame_step")}  # fmt: skip


def _check_extra(path, extra: dict) -> None:
    """The ``extra`` of a ``posekit train`` checkpoint: codec and data to rebuild."""
    if "codec" not in extra or "data" not in extra:
        raise engine.CheckpointError(
            f"{path}: not a `posekit train` checkpoint (no codec/data in 'extra')"
        )
    codec, data = extra["codec"], extra["data"]
    if not isinstance(codec, dict) or not isinstance(codec.get("kwargs"), dict):
        raise engine.CheckpointError(f"{path}: extra 'codec' should be {{'name', 'kwargs'}}")
    kind = data.get("kind") if isinstance(data, dict) else None
    missing = [f for f in _DATA_FIELDS.get(kind, ("kind",)) if f not in data]
    if kind not in _DATA_FIELDS or missing:
        raise engine.CheckpointError(f"{path}: extra 'data' lacks {', '.join(missing)}")


def _load(path: str | Path) -> tuple[torch.nn.Module, Any, dict, dict]:
    ckpt = engine.load_checkpoint(path)
    extra = ckpt.get("extra") or {}
    _check_extra(path, extra)
    model = engine.load_model(path, _model_classes())
    try:
        codec = build_codec(extra["codec"].get("name"), extra["codec"]["kwargs"])
    except (TypeError, ValueError) as err:
        raise engine.CheckpointError(f"{path}: extra 'codec' fails: {err}") from None
    return model, codec, extra["data"], extra


def evaluate_checkpoint(
    path: str | Path,
    n_val: int | None = None,
    batch_size: int = 64,
    progress: bool = True,
    coco: bool = False,
) -> dict[str, Any]:
    """Rebuild a ``train_recipe`` checkpoint and evaluate it on SynthPose val.

    Top-down checkpoints: ``{"kind": "top_down", "pckh": PCKhResult@0.5, "pck@0.2": float
    (torso-normalised), "seconds", "n", "recipe"}``; the PCKh table follows the MPII
    protocol on crop coordinates. With ``coco`` also ``"coco"``: OKS AP / AR on ``n_val``
    SynthPose val *scenes* (456×256, 1-6 people), each person cropped from its ground-truth
    box (``posekit.topdown``), on the 12 joints MPII-16 shares with COCO-17.

    Bottom-up checkpoints (``lightweight_openpose``): ``{"kind": "bottom_up", "coco": the
    ``evaluation.evaluate_oks_ap`` dict (AP, AP50, AP75, APm, APl, AR... in [0, 1], all 17
    COCO joints, pycocotools), "seconds", "n", "recipe"}`` on the val scenes it was trained for.

    SPHP checkpoints (``train_sphp``): ``{"kind": "sphp", "mpjpe": evaluation.evaluate_sphp's
    dict (C1..C4, mean in px of 384×288, frames), "seconds", "n", "recipe"}`` on the test
    subjects of the SPHP-format folder it was trained on (``n_val`` and ``coco`` do not apply;
    a folder no longer there is a ``FileNotFoundError``).
    """
    model, codec, data, extra = _load(path)
    start = time.perf_counter()
    if data.get("kind") == "sphp":
        from posekit.datasets.sphp import SPHPFrames

        if not Path(data["root"]).is_dir():
            raise FileNotFoundError(f"{path}: its SPHP data folder {data['root']} is missing "
                                    "(the test subjects are read from there)")  # fmt: skip
        dataset = SPHPFrames(data["root"], "test", data["inputs"], data["size"],
                             frame_step=data["frame_step"])  # fmt: skip
        mpjpe = evaluation.evaluate_sphp(model, codec, dataset, batch_size=min(batch_size, 16),
                                         progress=progress)  # fmt: skip
        return {"kind": "sphp", "mpjpe": mpjpe, "seconds": time.perf_counter() - start,
                "n": len(dataset), "recipe": extra.get("recipe")}  # fmt: skip
    if data.get("kind") == "bottom_up":
        dataset = bottom_up_split("val", n_val or data["n_val"], data["size"], data["seed"],
                                  data["num_people"], data.get("scene_depth"))  # fmt: skip
        ap = evaluation.evaluate_oks_ap(model, codec, dataset, batch_size=min(batch_size, 16))
        return {"kind": "bottom_up", "coco": ap, "seconds": time.perf_counter() - start,
                "n": len(dataset), "recipe": extra.get("recipe")}  # fmt: skip
    dataset = synth_split("val", n_val or data["n_val"], data["input_size"], data["seed"])
    table = evaluation.pckh_table(model, codec, dataset, batch_size, progress)
    result = {
        "kind": "top_down",
        "pckh": table["pckh"],
        "pck@0.2": table["pck@0.2"],
        "seconds": time.perf_counter() - start,
        "n": len(dataset),
        "recipe": extra.get("recipe"),
    }
    if coco:
        scenes = bottom_up_split("val", n_val or data["n_val"], SCENE_SIZE, data["seed"])
        result["coco"] = evaluation.top_down_scene_ap(model, codec, scenes, "mpii16")
        result["seconds"] = time.perf_counter() - start
    return result
