"""A scaled EfficientPose trained on SynthPose next to lesson 03's networks (issue 14).

EfficientPose RT's architecture (Groos, Ramampiaro & Ihlen 2021, "EfficientPose: Scalable
single-person pose estimation": EfficientNet-B0 cut at stride 8, one Mobile DenseNet block per
pass, three passes, ×8 upscaling; ``posekit.models.efficientpose.EfficientPose``) at lesson
03's 128×128 input, trained from scratch with its per-pass supervision
(``posekit.codecs.efficientpose.EfficientPoseCodec``), against HeatmapNet and the 2-stack
hourglass exactly as lesson 03 trains them: the same SynthPose MPII-16 crops (4000 train, 500
val, seed 0, cached), Adam, lr 4e-3, batch 32, cosine schedule with 100 warm-up steps, 2
epochs (250 steps), channels-last, no evaluation during training; then PCKh on the 500 val
crops (``evaluation.evaluate_pckh``), params and GMACs (``posekit.bench``) and the batch-1 CPU
latency per crop (eval mode, one thread, ``bench.latency_ms``).

EfficientPose gets the same data, budget, batch, warm-up and schedule, with two changes that
decide whether it learns at all in 250 steps from scratch (``SWEEP``): the fresh network goes
through ``recipes.prepare_efficientpose`` (pass heads ~ N(0, 1e-3), BatchNorm momentum 0.1),
and its learning rate is ``EP_LR`` = 1.6e-2 instead of 4e-3. Per-pass supervision (PAFs,
both confidence passes, the upscaled maps) helped slightly over supervising only pass 3 and
the upscaled maps (71.3 against 69.3 PCKh@0.5, one run each).

``python -m posekit.lab.efficientpose_synth [--quick] [--lr LR] [--nets efficientpose,...]``
(set ``OMP_WAIT_POLICY=PASSIVE`` on a shared machine). ``RESULTS`` holds the table measured when
this file was written.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import torch

from posekit import bench, engine, evaluation

__all__ = [
    "EP_LR", "LESSON03", "QUICK", "RESULTS", "SWEEP", "Budget", "compare", "format_table", "main",
    "networks",
]  # fmt: skip


@dataclass(frozen=True)
class Budget:
    """Lesson 03's training budget and data (its ``posekit.lesson_config``)."""

    n_train: int = 4000
    n_val: int = 500
    epochs: int = 2
    warmup_steps: int = 100
    batch_size: int = 32
    lr: float = 4e-3
    input_size: int = 128
    seed: int = 0
    latency_runs: int = 20


LESSON03 = Budget()
"""Full mode of lesson 03 (``solutions/03_stacked_hourglass.ipynb``)."""
QUICK = Budget(n_train=48, n_val=32, epochs=1, warmup_steps=1, latency_runs=1)
"""Lesson 03's quick mode (a smoke test: the numbers mean nothing)."""

EP_LR = 1.6e-2
"""EfficientPose's learning rate under lesson 03's budget: the best of 2e-3 … 1.6e-2
(``SWEEP``); the other networks keep lesson 03's 4e-3."""

SWEEP = """\
EfficientPose RT@128 under lesson 03's budget (4000 crops, 2 epochs = 250 steps of 32, Adam,
100 warm-up steps, cosine), one run each, val PCKh@0.5 / @0.1 (%) on 500 crops, decoded from
the upscaled maps (argmax) and from pass 3 (DARK). 2 shared CPU cores, two runs at a time, one
thread each: 345-424 s per 250-step run.

| heads | BN momentum | lr | passes supervised | upscaled argmax | pass-3 DARK |
|---|---|---|---|---|---|
| Kaiming (as built) | 0.01 (as built) | 4e-3 | all 4 | 0.1 / 0.0 | 0.3 / 0.0 |
| Kaiming | 0.1 | 4e-3 | all 4 | 2.9 / 0.2 | 2.5 / 0.1 |
| Kaiming | 0.1 | 1e-3 | all 4 | 2.5 / 0.1 | 2.1 / 0.1 |
| N(0, 1e-3) | 0.01 | 4e-3 | all 4 | 0.0 / 0.0 | 0.0 / 0.0 |
|   same weights, BN statistics recomputed on 21 train batches | | | | 71.3 / 10.4 | 71.3 / 10.1 |
| N(0, 1e-3) | 0.01, recomputed | 4e-3 | pass 3 + upscaled | 69.3 / 9.4 | 69.5 / 9.3 |
| N(0, 1e-3) | 0.1 | 2e-3 | all 4 | 66.9 / 8.5 | 66.8 / 7.7 |
| N(0, 1e-3) | 0.1 | 8e-3 | all 4 | 74.8 / 12.0 | 74.9 / 11.5 |
| N(0, 1e-3) | 0.1 | 1.6e-2 | all 4 | 76.9 / 13.3 | 77.2 / 13.8 |
| N(0, 1e-3) | 0.1 | 3.2e-2 (alone, 2 threads: 233 s) | all 4 | 76.0 / 14.8 | 77.1 / 15.2 |
| N(0, 1e-3) | 0.1 | 8e-3, 1 epoch (125 steps, 214 s) | all 4 | 62.5 / 7.1 | 63.3 / 6.9 |

With BN momentum 0.1 recomputing the statistics changes nothing (±0.1). PCKh@0.5 flattens
from 1.6e-2 to 3.2e-2 (EP_LR takes the smaller). The two decoders are within 1.1 points in
every run, pass-3 DARK ahead at lr ≥ 1.6e-2 and behind at PCKh@0.1 below: the codec keeps the
released pipeline's upscaled maps (argmax) by default.
"""

RESULTS = """\
Full mode, measured on 2 CPU cores shared with other engineers' jobs (load average 1.5-3.5;
torch 2.13 CPU, 2 threads, OMP_WAIT_POLICY=PASSIVE). Lesson 03's data and budget for all
three (4000 train / 500 val SynthPose MPII-16 crops at 128x128, seed 0, 2 epochs = 250 steps
of 32, Adam, cosine, 100 warm-up steps); HeatmapNet and Hourglass-2 at lr 4e-3, EfficientPose
at EP_LR = 1.6e-2 after recipes.prepare_efficientpose. PCKh on the 500 val crops (MPII Mean);
CPU ms = batch-1 eval forward, 1 thread, median of 20; GMACs at 128x128.

| network | PCKh@0.5 | PCKh@0.1 | params (M) | GMACs | CPU ms / crop | train s |
|---|---:|---:|---:|---:|---:|---:|
| EfficientPose RT@128 | 77.2 | 14.0 | 0.45 | 0.141 | 12.3 | 231 |
| HeatmapNet | 67.1 | 8.7 | 0.63 | 0.073 | 4.3 | 40 |
| Hourglass-2 | 70.8 | 10.4 | 0.93 | 0.275 | 15.2 | 149 |

EfficientPose decoded from its upscaled maps (argmax); from pass 3 with DARK: 77.2 / 14.3.
Final training losses: EfficientPose 0.0085 (sum of 4 outputs), HeatmapNet 0.0021,
Hourglass-2 0.0040 (sum of 2 stacks). The 3 trainings took 420 s in all.
"""


def networks(size: int = 128) -> dict[str, tuple[torch.nn.Module, object]]:
    """The three networks and their codecs, seeded with ``torch.manual_seed(0)`` first:
    ``{"EfficientPose RT@128": (EfficientPose, EfficientPoseCodec), "HeatmapNet": ...,
    "Hourglass-2": ...}`` (lesson 03's HeatmapNet width 16 and hourglass 2 stacks × 96
    features, stem (16, 32), built in lesson 03's order; ``HeatmapCodec`` stride 4, σ = 2,
    DARK). EfficientPose is ``efficientpose("rt", resolution=size)`` passed through
    ``recipes.prepare_efficientpose`` (small heads, BatchNorm momentum 0.1)."""
    from posekit.codecs.efficientpose import EfficientPoseCodec
    from posekit.codecs.heatmap import HeatmapCodec
    from posekit.models import HeatmapNet, HourglassNet
    from posekit.models.efficientpose import efficientpose
    from posekit.recipes import prepare_efficientpose

    torch.manual_seed(0)  # built in lesson 03's order: its hourglass and HeatmapNet weights
    hourglass = HourglassNet(16, num_stacks=2, features=96, stem_channels=(16, 32))
    heatmap_net = HeatmapNet(16, width=16)
    ep = prepare_efficientpose(efficientpose("rt", resolution=size))
    hm_codec = HeatmapCodec((size, size), stride=4, sigma=2.0, decoder="dark")
    return {
        "EfficientPose RT@128": (ep, EfficientPoseCodec((size, size))),
        "HeatmapNet": (heatmap_net, hm_codec),
        "Hourglass-2": (hourglass, hm_codec),
    }


def _data(budget: Budget, progress: bool):
    from posekit.datasets.synthpose import SynthPoseTopDown, cached

    s = (budget.input_size, budget.input_size)
    train = cached(SynthPoseTopDown("train", budget.n_train, s, "mpii16", seed=budget.seed),
                   progress=progress)  # fmt: skip
    val = cached(SynthPoseTopDown("val", budget.n_val, s, "mpii16", seed=budget.seed),
                 progress=progress)  # fmt: skip
    return train, val


def compare(
    budget: Budget = LESSON03,
    names: tuple[str, ...] | None = None,
    ep_lr: float = EP_LR,
    ep_warmup: int | None = None,
    pass_weights=None,
    threads: int | None = None,
    progress: bool = True,
) -> dict[str, dict]:
    """Train and measure the networks (``names``: keys of ``networks()``; default all three).

    Returns per network ``{"PCKh@0.5", "PCKh@0.1", "params", "gmacs", "cpu_ms",
    "train_seconds", "steps"}`` and for EfficientPose also ``"pass3"``: PCKh@0.5 / @0.1 of
    its stride-8 pass-3 maps decoded with DARK (the codec decodes the upscaled maps)."""
    from posekit.codecs.efficientpose import EfficientPoseCodec

    if threads is not None:
        torch.set_num_threads(threads)
    train, val = _data(budget, progress)
    size = budget.input_size
    results = {}
    for name, (net, codec) in networks(size).items():
        if names is not None and name not in names:
            continue
        is_ep = isinstance(codec, EfficientPoseCodec)
        if is_ep and pass_weights is not None:
            codec = EfficientPoseCodec((size, size), pass_weights=pass_weights)
        config = engine.TrainConfig(
            epochs=budget.epochs, batch_size=budget.batch_size,
            lr=ep_lr if is_ep else budget.lr, optimizer="adam", scheduler="cosine",
            warmup_steps=budget.warmup_steps if not (is_ep and ep_warmup) else ep_warmup,
            drop_last=True, seed=budget.seed, device="cpu", channels_last=True,
        )  # fmt: skip
        start = time.perf_counter()
        history = engine.train(net, codec, lambda out, tgt, b, c=codec: c.loss(out, tgt), train,
                               None, config, progress=progress)  # fmt: skip
        seconds = time.perf_counter() - start
        net = net.eval().to(memory_format=torch.contiguous_format)
        r = dict(evaluation.evaluate_pckh(net, codec, val))
        if is_ep:
            p3 = EfficientPoseCodec((size, size), decode_from="pass3")
            r["pass3"] = evaluation.evaluate_pckh(net, p3, val)
        previous = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            x = torch.zeros(1, 3, size, size)
            ms = bench.latency_ms(lambda n=net, x=x: n(x), runs=budget.latency_runs)
        finally:
            torch.set_num_threads(previous)
        last = history.step_loss[-10:]
        r.update(
            params=bench.count_params(net),
            cpu_ms=ms,
            train_seconds=seconds,
            gmacs=bench.count_macs(net, (1, 3, size, size)) / 1e9,
            steps=len(history.step_loss),
            final_loss=float(sum(last) / max(1, len(last))),
        )
        results[name] = r
    return results


def format_table(results: dict[str, dict]) -> str:
    """Markdown table of ``compare``'s results."""
    lines = [
        "| network | PCKh@0.5 | PCKh@0.1 | params (M) | GMACs | CPU ms / crop | train s |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in results.items():
        lines.append(
            f"| {name} | {r['PCKh@0.5']:.1f} | {r['PCKh@0.1']:.1f} | {r['params'] / 1e6:.2f} "
            f"| {r['gmacs']:.3f} | {r['cpu_ms']:.1f} | {r['train_seconds']:.0f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """``python -m posekit.lab.efficientpose_synth [--quick] [--lr LR] [--nets A,B]``."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="lesson 03's quick mode (smoke test)")
    p.add_argument("--lr", type=float, default=EP_LR, help="EfficientPose's learning rate")
    p.add_argument("--warmup", type=int, help="EfficientPose's warm-up steps (default 100)")
    p.add_argument("--pass-weights", help="EfficientPose's 4 loss weights, e.g. 1,1,1,1")
    p.add_argument("--nets", help="comma-separated subset of: " + ", ".join(networks()))
    p.add_argument("--threads", type=int, help="torch threads (default: torch's)")
    p.add_argument("--no-progress", action="store_true")
    a = p.parse_args(argv)
    names = tuple(n.strip() for n in a.nets.split(",")) if a.nets else None
    weights = tuple(float(v) for v in a.pass_weights.split(",")) if a.pass_weights else None
    results = compare(QUICK if a.quick else LESSON03, names, a.lr, a.warmup, weights,
                      a.threads, not a.no_progress)  # fmt: skip
    print(format_table(results))
    for name, r in results.items():
        extra = f"; pass-3 DARK {r['pass3']['PCKh@0.5']:.1f} / {r['pass3']['PCKh@0.1']:.1f}" \
            if "pass3" in r else ""  # fmt: skip
        print(f"{name}: {r['steps']} steps, final loss {r['final_loss']:.4g}{extra}")


if __name__ == "__main__":
    main()
