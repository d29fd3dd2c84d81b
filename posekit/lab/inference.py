"""Eager vs ``optimize_for_inference``: batch-1 latency of the published networks, measured
together (``posekit bench latency``; lessons 01-04 and EfficientPose).

``latency(name_or_module)`` runs both versions interleaved and checks that their outputs
agree; ``format_latency`` prints the report. ``LATENCY_MODELS`` names the published
configurations it knows, with their default input (H, W).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import torch
from torch import nn

from posekit.models import HourglassNet, LightweightOpenPose, OpenPose, SimpleBaseline
from posekit.models.efficientpose import efficientpose
from posekit.models.optimize import optimize_for_inference, randomise_batchnorm

__all__ = ["LATENCY_GOAL", "LATENCY_MODELS", "format_latency", "latency"]

LATENCY_MODELS: dict[str, tuple[Callable[[], nn.Module], tuple[int, int]]] = {
    "lightweight_openpose": (LightweightOpenPose, (256, 456)),
    "openpose": (OpenPose, (368, 368)),
    "hourglass": (lambda: HourglassNet(16, num_stacks=8), (256, 256)),
    "simple_baseline": (lambda: SimpleBaseline(17, 50), (256, 192)),
    "efficientpose_rt": (lambda: efficientpose("rt"), (224, 224)),
}
"""``posekit bench latency`` names → (published-config builder, default input (H, W)).
``efficientpose_rt`` is the released RT graph (Groos et al. 2021) with all four outputs, as in
the authors' ``.h5`` / ``.tflite`` (the pass-1 PAF and pass-2 heads included)."""

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
        f"{result['model']} at {w}×{h} (W×H), batch 1, {result['threads']} thread(s), "
        f"median of {result['runs']} interleaved runs",
        f"  eager (eval, no_grad)         {result['eager_ms']:8.1f} ms  "
        f"{result['eager_fps']:6.2f} fps",
        f"  optimize_for_inference        {result['optimized_ms']:8.1f} ms  "
        f"{result['optimized_fps']:6.2f} fps",
        f"  speed-up {result['speedup']:.2f}×  (goal ≥ {result['goal']:.1f}×) {mark}",
        f"  max |Δ output| {result['max_abs_diff']:.2e}  (≤ 1e-4 · max(1, max |output| = "
        f"{result['output_scale']:.3g})) {same}",
    ])  # fmt: skip
