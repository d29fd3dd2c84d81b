"""Model cost: parameters, multiply-accumulates, and the table of published configurations.

**MAC convention** (``reference/models.md`` §8): posekit reports **GMACs** = multiply-
accumulates / 1e9, counted by ``torch.utils.flop_counter.FlopCounterMode`` on one forward
pass and halved (it counts 2 FLOPs per MAC). Only convolutions (transposed ones at their
*input* resolution, i.e. the true MAC count), linear layers and matrix products count;
biases, BatchNorm, activations, pooling, LRN, resampling and element-wise ops are ignored,
as in the reference's own counts. Papers' "GFLOPs" vary: SimpleBaseline/HRNet divide by
1024³ and count deconvs at their output size; EfficientPose's are real FLOPs (≈ 2 × MACs);
Lightweight OpenPose's are MACs. Quote papers with a footnote, measure with this counter.

``PUBLISHED`` lists the published configurations with their reference params / GMACs; later
lessons append to it. ``params_table()`` measures them all.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
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
    resnet50,
)


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
    import time

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
    """A published configuration: ``builder()`` makes it; references from ``models.md``."""

    name: str
    builder: Callable[[], nn.Module]
    input_shape: tuple[int, ...]
    reference_params: float  # millions
    reference_gmacs: float | None
    note: str = ""


PUBLISHED: list[Published] = [
    Published("DeepPose (AlexNet, K=14)", lambda: DeepPose(num_joints=14), (1, 3, 220, 220),
              58.4, 1.09, "mitmul/deeppose re-implementation [C]; the paper says ~40M [R]"),
    Published("DeepPose ResNet-50 (mmpose, K=16)", lambda: DeepPoseResNet(16, depth=50),
              (1, 3, 256, 256), 23.5, 5.34, "mmpose td-reg_res50 MPII 256x256 [C]"),
    Published("ResNet-50 classifier", resnet50, (1, 3, 224, 224), 25.557032, 4.1,
              "torchvision resnet50 (1000 classes)"),
    Published("Stacked Hourglass, 2 stacks (K=16)", lambda: HourglassNet(16, num_stacks=2),
              (1, 3, 256, 256), 6.57, 8.3, "princeton-vl/pytorch_stacked_hourglass [C]"),
    Published("Stacked Hourglass, 8 stacks (K=16)", lambda: HourglassNet(16, num_stacks=8),
              (1, 3, 256, 256), 25.43, 27.4, "Newell et al. 2016, the paper's network [C]"),
    Published("SimpleBaseline ResNet-50 (K=17)", lambda: SimpleBaseline(17, 50),
              (1, 3, 256, 192), 34.0, 5.43,
              "COCO 256x192; the paper's 8.9 GFLOPs = HRNet convention (MACs/1024^3, "
              "deconvs at output size)"),
    Published("SimpleBaseline ResNet-101 (K=17)", lambda: SimpleBaseline(17, 101),
              (1, 3, 256, 192), 53.0, None, "HRNet README (12.4 GFLOPs, HRNet convention)"),
    Published("SimpleBaseline ResNet-152 (K=17)", lambda: SimpleBaseline(17, 152),
              (1, 3, 256, 192), 68.6, None, "HRNet README (15.7 GFLOPs, HRNet convention)"),
    Published("OpenPose, 6 stages (COCO, 19 + 38 maps)", OpenPose, (1, 3, 368, 368), 52.3, 135.9,
              "CMU pose_deploy_linevec.prototxt [C]"),
    Published("OpenPose, 2 stages", lambda: OpenPose(num_stages=2), (1, 3, 368, 368), 17.2, 61.6,
              "first 2 stages, Lightweight OpenPose's baseline [C]"),
    Published("Lightweight OpenPose (1 refinement stage)", LightweightOpenPose, (1, 3, 368, 368),
              4.09, 8.88, "Osokin 2018 [C]; the paper's 9 GFLOPs are MACs"),
    Published("Lightweight OpenPose @256x456 (HxW)", LightweightOpenPose, (1, 3, 256, 456),
              4.09, 7.66, "same model at the demo/ONNX input size [C]"),
]  # fmt: skip
"""Published configurations measured by ``params_table``; lessons append theirs."""


def params_table(entries=None, macs: bool = True, tolerance: float = 0.01) -> list[dict]:
    """Measure every published configuration.

    Args:
        entries: ``Published`` items (default ``PUBLISHED``).
        macs: also count MACs (one forward pass each).
        tolerance: relative tolerance of the params check (1 %, ``DESIGN.md`` §5).
    Returns:
        one dict per entry: ``name``, ``params_m`` (measured, millions), ``ref_params_m``,
        ``ok`` ("✓" when within ``tolerance``, else "✗"), ``gmacs``, ``ref_gmacs``, ``note``.
    """
    rows = []
    for e in PUBLISHED if entries is None else entries:
        model = e.builder()
        n = count_params(model) / 1e6
        rows.append(
            dict(
                name=e.name,
                params_m=n,
                ref_params_m=e.reference_params,
                ok="✓" if abs(n - e.reference_params) <= tolerance * e.reference_params else "✗",
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


# --------------------------------------------------------------------------------------------
# Latency
# --------------------------------------------------------------------------------------------
LATENCY_MODELS: dict[str, tuple[Callable[[], nn.Module], tuple[int, int]]] = {
    "lightweight_openpose": (LightweightOpenPose, (256, 456)),
    "openpose": (OpenPose, (368, 368)),
    "hourglass": (lambda: HourglassNet(16, num_stacks=8), (256, 256)),
    "simple_baseline": (lambda: SimpleBaseline(17, 50), (256, 192)),
}
"""``posekit bench latency`` names → (published-config builder, default input (H, W))."""

LATENCY_GOAL = 1.3
"""Speed-up of ``optimize_for_inference`` over the eager model that the bench aims for."""


def _tensors(out) -> list[torch.Tensor]:
    if isinstance(out, torch.Tensor):
        return [out]
    if isinstance(out, (list, tuple)):
        return [t for o in out for t in _tensors(o)]
    raise TypeError(f"model output: expected tensors in lists/tuples, got {type(out).__name__}")


def latency(
    model: str | nn.Module = "lightweight_openpose",
    size: tuple[int, int] | None = None,
    runs: int = 20,
    warmup: int = 3,
    threads: int | None = None,
    seed: int = 0,
) -> dict:
    """Batch-1 latency of a model, eager vs ``optimize_for_inference``, measured together.

    Both versions run interleaved in one loop (the order alternates every repeat), so that
    load from other processes hits both alike; each figure is the median of ``runs`` timed
    calls after ``warmup`` untimed ones. The eager model runs in eval mode under
    ``torch.no_grad()``, the optimised one (BN folded, channels-last) under
    ``torch.inference_mode()``; both get the same NCHW input ``(1, C, H, W)`` ~ N(0, 1).

    Args:
        model: a ``LATENCY_MODELS`` name (the published configuration, randomly initialised
            with seeded random BatchNorm statistics so the folding is exercised) or a module.
        size: input ``(H, W)``; default the name's (256×456 for Lightweight OpenPose) — needed
            for a module.
        runs: timed calls per version (≥ 1; 20 for the bench).
        warmup: untimed calls per version first.
        threads: ``torch.set_num_threads`` during the measurement (default: torch's own).
        seed: seed of the input and of the model's initialisation.
    Returns:
        dict with ``model``, ``size`` (H, W), ``threads``, ``runs``, ``eager_ms``,
        ``optimized_ms``, ``eager_fps``, ``optimized_fps``, ``speedup`` (eager / optimised
        time), ``max_abs_diff`` (over every output tensor), ``output_scale`` (largest
        ``|output|``), ``outputs_equal`` (``max_abs_diff ≤ 1e-4``, relative to the scale when
        outputs exceed 1 — deep stacks reach |y| ≈ 100 with random weights), ``goal``
        (``LATENCY_GOAL``) and ``meets_goal``.
    """
    from posekit.models.optimize import optimize_for_inference, randomise_batchnorm

    if isinstance(model, str):
        if model not in LATENCY_MODELS:
            raise ValueError(f"model: expected one of {sorted(LATENCY_MODELS)}, got {model!r}")
        name, (builder, default_size) = model, LATENCY_MODELS[model]
        size = size or default_size
        torch.manual_seed(seed)
        net = randomise_batchnorm(builder(), seed)
    elif isinstance(model, nn.Module):
        if size is None:
            raise ValueError("size: needed (H, W) when model is a module")
        name, net = type(model).__name__, model
    else:
        raise ValueError(f"model: expected a name or an nn.Module, got {type(model).__name__}")
    if len(size) != 2 or any(not isinstance(v, int) or v < 1 for v in size):
        raise ValueError(f"size: expected (H, W) positive integers, got {size!r}")
    if not isinstance(runs, int) or runs < 1:
        raise ValueError(f"runs: expected a positive integer, got {runs!r}")
    if threads is not None and (not isinstance(threads, int) or threads < 1):
        raise ValueError(f"threads: expected a positive integer, got {threads!r}")
    previous_threads = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        net = net.eval()
        conv = next(m for m in net.modules() if isinstance(m, nn.Conv2d))
        x = torch.randn(1, conv.in_channels, *size, generator=torch.Generator().manual_seed(seed))
        fast = optimize_for_inference(net, example_input=x)
        with torch.no_grad():
            for _ in range(warmup):
                net(x)
            reference = _tensors(net(x))
        with torch.inference_mode():
            for _ in range(warmup):
                fast(x)
            optimised = _tensors(fast(x))
        diff = max((a - b).abs().max().item() for a, b in zip(reference, optimised, strict=True))
        scale = max(t.abs().max().item() for t in reference)
        times: dict[str, list[float]] = {"eager": [], "optimized": []}
        calls = {"eager": (torch.no_grad, net), "optimized": (torch.inference_mode, fast)}
        for i in range(runs):
            for key in ("eager", "optimized") if i % 2 == 0 else ("optimized", "eager"):
                context, fn = calls[key]
                with context():
                    start = time.perf_counter()
                    fn(x)
                    times[key].append(time.perf_counter() - start)
        used_threads = torch.get_num_threads()
    finally:
        torch.set_num_threads(previous_threads)
    eager_ms = statistics.median(times["eager"]) * 1e3
    optimized_ms = statistics.median(times["optimized"]) * 1e3
    speedup = eager_ms / optimized_ms
    return dict(
        model=name, size=tuple(size), threads=used_threads, runs=runs,
        eager_ms=eager_ms, optimized_ms=optimized_ms,
        eager_fps=1e3 / eager_ms, optimized_fps=1e3 / optimized_ms,
        speedup=speedup, max_abs_diff=diff, output_scale=scale,
        outputs_equal=diff <= 1e-4 * max(1.0, scale),
        goal=LATENCY_GOAL, meets_goal=speedup >= LATENCY_GOAL,
    )  # fmt: skip


def format_latency(result: dict) -> str:
    """The ``posekit bench latency`` report of a ``latency`` result."""
    h, w = result["size"]
    mark = "✓" if result["meets_goal"] else "✗"
    same = "✓" if result["outputs_equal"] else "✗"
    return "\n".join([
        f"{result['model']} at {h}×{w} (H×W), batch 1, {result['threads']} thread(s), "
        f"median of {result['runs']} interleaved runs",
        f"  eager (eval, no_grad)         {result['eager_ms']:8.1f} ms  "
        f"{result['eager_fps']:6.2f} fps",
        f"  optimize_for_inference        {result['optimized_ms']:8.1f} ms  "
        f"{result['optimized_fps']:6.2f} fps",
        f"  speed-up {result['speedup']:.2f}×  (goal ≥ {result['goal']:.1f}×) {mark}",
        f"  max |Δ output| {result['max_abs_diff']:.2e}  (≤ 1e-4 · max(1, max |output| = "
        f"{result['output_scale']:.3g})) {same}",
    ])  # fmt: skip


if __name__ == "__main__":
    print(format_params_table(params_table()))
