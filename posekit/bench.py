"""Model cost: parameters, multiply-accumulates, and the table of published configurations.

**MAC convention** (``docs/conventions.md``): posekit reports **GMACs** = multiply-
accumulates / 1e9, counted by ``torch.utils.flop_counter.FlopCounterMode`` on one forward
pass and halved (it counts 2 FLOPs per MAC). Only convolutions (transposed ones at their
*input* resolution, i.e. the true MAC count), linear layers and matrix products count;
biases, BatchNorm, activations, pooling, LRN, resampling and element-wise ops are ignored,
as in the reference's own counts. Papers' "GFLOPs" vary: SimpleBaseline/HRNet divide by
1024³ and count deconvs at their output size; EfficientPose's are real FLOPs (≈ 2 × MACs);
Lightweight OpenPose's are MACs. Quote papers with a footnote, measure with this counter.

``PUBLISHED`` lists the published configurations with their reference params / GMACs; later
lessons append to it. ``params_table()`` measures them all. ``latency_ms`` times a call; the
lessons' latency experiments (eager vs ``optimize_for_inference``) are in
``posekit.lab.inference``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from typing import NamedTuple

import numpy as np
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from posekit.engine import model_device
from posekit.models import (
    DeepPose,
    DeepPoseResNet,
    HourglassNet,
    LightweightOpenPose,
    OpenPose,
    SimpleBaseline,
    efficientnet,
    resnet50,
)
from posekit.models.efficientnet import VARIANTS as EFFICIENTNET_VARIANTS
from posekit.models.efficientpose import VARIANTS as EFFICIENTPOSE_VARIANTS
from posekit.models.efficientpose import efficientpose, keras_count
from posekit.models.sphp import sphp_model


def count_params(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameters (all, or only those with ``requires_grad``); buffers such as
    BatchNorm running statistics are not parameters and do not count."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def count_macs(model: nn.Module, input_shape) -> int:
    """Multiply-accumulates of one forward pass on a zero input of ``input_shape``.

    Args:
        model: any module; run in eval mode under ``torch.no_grad`` (its mode is restored).
        input_shape: ``(B, C, H, W)``, or ``(C, H, W)`` for batch 1.
    Returns:
        MACs (int) = ``FlopCounterMode`` FLOPs / 2 (conv, linear, matmul only; see module doc).
    """
    shape = tuple(int(s) for s in input_shape)
    if len(shape) == 3:
        shape = (1, *shape)
    x = torch.zeros(shape, device=model_device(model))
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad(), FlopCounterMode(display=False) as fc:
            model(x)
    finally:
        model.train(was_training)
    return fc.get_total_flops() // 2


def latency_ms(fn: Callable[[], object], runs: int = 20, warmup: int = 1) -> float:
    """Median wall time of ``fn()`` in milliseconds, under ``torch.inference_mode()``.

    Args:
        fn: a zero-argument callable, e.g. ``lambda: model(x)``.
        runs: timed calls (the median is robust to a noisy, shared machine).
        warmup: untimed calls first (allocations, lazy initialisation).
    """

    if runs < 1 or warmup < 0:
        raise ValueError(f"runs >= 1 and warmup >= 0 expected, got runs={runs}, warmup={warmup}")
    times = []
    with torch.inference_mode():
        for _ in range(warmup):
            fn()
        for _ in range(runs):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
    return 1000.0 * float(np.median(times))


class Published(NamedTuple):
    """A published configuration: ``builder()`` makes it; its published params / GMACs
    (``docs/references.md``). ``counter`` counts its params the way the authors did (default
    ``count_params``); ``tolerance`` overrides ``params_table``'s for this row."""

    name: str
    builder: Callable[[], nn.Module]
    input_shape: tuple[int, ...]
    reference_params: float  # millions
    reference_gmacs: float | None
    note: str = ""
    counter: Callable[[nn.Module], int] | None = None
    tolerance: float | None = None


PUBLISHED: list[Published] = [
    Published("DeepPose (AlexNet, K=14)", lambda: DeepPose(num_joints=14), (1, 3, 220, 220),
              58.4, 1.09, "mitmul/deeppose re-implementation; the paper says about 40M"),
    Published("DeepPose ResNet-50 (mmpose, K=16)", lambda: DeepPoseResNet(16, depth=50),
              (1, 3, 256, 256), 23.5, 5.34, "mmpose td-reg_res50 MPII 256x256"),
    Published("ResNet-50 classifier", resnet50, (1, 3, 224, 224), 25.557032, 4.1,
              "torchvision resnet50 (1000 classes)"),
    Published("Stacked Hourglass, 2 stacks (K=16)", lambda: HourglassNet(16, num_stacks=2),
              (1, 3, 256, 256), 6.57, 8.3, "princeton-vl/pytorch_stacked_hourglass"),
    Published("Stacked Hourglass, 8 stacks (K=16)", lambda: HourglassNet(16, num_stacks=8),
              (1, 3, 256, 256), 25.43, 27.4, "Newell et al. 2016, the paper's network"),
    Published("SimpleBaseline ResNet-50 (K=17)", lambda: SimpleBaseline(17, 50),
              (1, 3, 256, 192), 34.0, 5.43,
              "COCO 256x192; the paper's 8.9 GFLOPs = HRNet convention (MACs/1024^3, "
              "deconvs at output size)"),
    Published("SimpleBaseline ResNet-101 (K=17)", lambda: SimpleBaseline(17, 101),
              (1, 3, 256, 192), 53.0, None, "HRNet README (12.4 GFLOPs, HRNet convention)"),
    Published("SimpleBaseline ResNet-152 (K=17)", lambda: SimpleBaseline(17, 152),
              (1, 3, 256, 192), 68.6, None, "HRNet README (15.7 GFLOPs, HRNet convention)"),
    Published("OpenPose, 6 stages (COCO, 19 + 38 maps)", OpenPose, (1, 3, 368, 368), 52.3, 135.9,
              "CMU pose_deploy_linevec.prototxt"),
    Published("OpenPose, 2 stages", lambda: OpenPose(num_stages=2), (1, 3, 368, 368), 17.2, 61.6,
              "first 2 stages, Lightweight OpenPose's baseline"),
    Published("Lightweight OpenPose (1 refinement stage)", LightweightOpenPose, (1, 3, 368, 368),
              4.09, 8.88, "Osokin 2018; the paper's 9 GFLOPs are MACs"),
    Published("Lightweight OpenPose @256x456 (HxW)", LightweightOpenPose, (1, 3, 256, 456),
              4.09, 7.66, "same model at the demo/ONNX input size"),
]  # fmt: skip
"""Published configurations measured by ``params_table``; lessons append theirs."""


def _on_meta(builder: Callable[[], nn.Module]) -> Callable[[], nn.Module]:
    """``builder`` run under ``torch.device("meta")``: shapes only, no memory or init time
    (params and MACs are counted the same)."""

    def build() -> nn.Module:
        with torch.device("meta"):
            return builder()

    return build


# EfficientNet B0 … B7 at their resolutions: torchvision's num_params (exact) and the paper's
# Table 2 "FLOPS", which are multiply-adds (Tan & Le 2019).
PUBLISHED += [
    Published(f"EfficientNet-{name.upper()} classifier", _on_meta(partial(efficientnet, name)),
              (1, 3, v.resolution, v.resolution), params, gmacs,
              "torchvision num_params; the paper's FLOPS are multiply-adds")
    for (name, v), params, gmacs in zip(
        EFFICIENTNET_VARIANTS.items(),
        (5.288548, 7.794184, 9.109994, 12.233232, 19.341616, 30.389784, 43.040704, 66.347960),
        (0.39, 0.70, 1.0, 1.8, 4.2, 9.9, 19.0, 37.0),
        strict=True,
    )
]  # fmt: skip


# EfficientPose RT … IV and Lite at their resolutions (Groos et al. 2021, the authors' README).
# Their params are Keras counts (BN moving mean/variance included) of the inference graph
# without the PAF and pass-2 training heads; their "FLOPs" are 2 × multiply-accumulates, so
# the reference GMACs here are the published GFLOPs / 2.
PUBLISHED += [
    Published(f"EfficientPose {name.upper().replace('_LITE', ' Lite')}",
              _on_meta(partial(efficientpose, name, intermediate_heads=False)),
              (1, 3, v.resolution, v.resolution), v.params_m, v.gflops / 2,
              f"Groos et al. 2021: {v.params_m} M, {v.gflops} GFLOPs = 2 x MACs; params = Keras "
              "count (BN moving stats) without the training heads"
              + ("; 0.4046 M, published to 2 decimals" if name == "rt_lite" else ""),
              keras_count, 0.0125 if name == "rt_lite" else None)
    for name, v in EFFICIENTPOSE_VARIANTS.items()
]  # fmt: skip


# SPHP's dense backbones at 288x384 (Lin, Hsieh et al. 2023): early fusion = one network on the
# 3 channels [EDG, MVV, MVH]; late fusion = three 1-channel networks, heatmaps averaged. The
# published params: 218K / 1.9M / 7.7M, late 655K / 5.8M / 23.1M; no reference GMACs (measured
# here: 3.54 / 15.60 / 62.12 early, about 3x that late).
PUBLISHED += [
    Published(f"SPHP {label}, {'late fusion (3 x 1 ch)' if late else 'early fusion (3 ch)'}",
              _on_meta(partial(sphp_model, name, "late" if late else "fs")), (1, 3, 288, 384),
              params, None,
              f"Lin, Hsieh et al. 2023 at 288x384 (HxW), {params} M published"
              + ("; published to 2 digits" if tol else ""), None, tol)
    for late, name, label, params, tol in [
        (False, "dhp19", "DHP19", 0.218, None),
        (False, "unet_small", "U-Net-Small", 1.9, 0.0265),  # 1.93 M: "1.9" is 1.85 .. 1.95
        (False, "unet_large", "U-Net-Large", 7.7, None),
        (True, "dhp19", "DHP19", 0.655, None),
        (True, "unet_small", "U-Net-Small", 5.8, None),
        (True, "unet_large", "U-Net-Large", 23.1, None),
    ]
]  # fmt: skip


def params_table(entries=None, macs: bool = True, tolerance: float = 0.01) -> list[dict]:
    """Measure every published configuration.

    Args:
        entries: ``Published`` items (default ``PUBLISHED``).
        macs: also count MACs (one forward pass each).
        tolerance: relative tolerance of the params check (1 %).
    Returns:
        one dict per entry: ``name``, ``params_m`` (measured, millions), ``ref_params_m``,
        ``ok`` ("✓" when within ``tolerance``, else "✗"), ``gmacs``, ``ref_gmacs``, ``note``.
    """
    rows = []
    for e in PUBLISHED if entries is None else entries:
        model = e.builder()
        n = (e.counter or count_params)(model) / 1e6
        tol = tolerance if e.tolerance is None else e.tolerance
        rows.append(
            dict(
                name=e.name,
                params_m=n,
                ref_params_m=e.reference_params,
                ok="✓" if abs(n - e.reference_params) <= tol * e.reference_params else "✗",
                gmacs=count_macs(model, e.input_shape) / 1e9 if macs else None,
                ref_gmacs=e.reference_gmacs,
                note=e.note,
            )
        )
        del model
    return rows


def format_params_table(rows: list[dict]) -> str:
    """Markdown table of ``params_table`` rows."""

    def num(v, fmt):
        return "—" if v is None else format(v, fmt)

    lines = [
        "| model | params (M) | ref (M) | within 1 % | GMACs | ref GMACs |",
        "|---|---:|---:|:-:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['name']} | {r['params_m']:.3f} | {r['ref_params_m']:.3f} | {r['ok']} "
            f"| {num(r['gmacs'], '.2f')} | {num(r['ref_gmacs'], '.2f')} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    print(format_params_table(params_table()))
