"""Sanity experiments for SynthPose: can a small heatmap network overfit it, and is it hard?

The issue asks for two facts about the dataset before lessons build on it:

1. **Sanity**: a network of 2-stack-hourglass size or smaller can overfit 512 SynthPose crops
   (training PCKh@0.5 near 100 %). If it cannot, crops and targets disagree somewhere.
2. **Difficulty**: a quick CPU baseline reaches a clearly non-trivial but far from perfect
   validation PCKh (a dataset solved in minutes would teach nothing).

The setup is deliberately small and fixed — a ~1 M parameter encoder-decoder
(``TinyHeatmapNet``), untruncated Gaussian targets with their own weight rule and a plain
weighted MSE — so that ``RESULTS`` stays reproducible; decoding is the codec's quarter-offset
argmax (``posekit.codecs.heatmap.decode_quarter_offset``).

Run ``OMP_WAIT_POLICY=PASSIVE python -m posekit.lab.synth_baseline [--overfit] [--baseline]
[--minutes M]``; with no flag both run. Sleeping (not spinning) OpenMP workers matter on 2
shared cores: torch's default spin-waiting made training 5x slower (13 vs 66 images/s). The
numbers measured when this file was written are in ``RESULTS``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from posekit.bench import count_params
from posekit.codecs.heatmap import decode_quarter_offset
from posekit.datasets.synthpose import SynthPoseTopDown
from posekit.metrics import pckh

STRIDE = 4
SIGMA = 2.0

RESULTS = """\
Measured on 2 CPU cores shared with other jobs (torch 2.13 CPU, 2 threads,
OMP_WAIT_POLICY=PASSIVE), TinyHeatmapNet 0.99 M params, 128x128 crops, MPII-16, stride 4:

| run      | data                         | steps x 32 | min | train @0.5 | @0.1 | val @0.5 | @0.1 |
|---|---|---|---|---|---|---|---|
| overfit  | 512 fixed crops, no augment  | 1000       | 4.8 | 99.9       | 41.5 | -        | -    |
| baseline | 8000 crops, TopDownAffine    | 917 (3.7 ep) | 9.1 | 63.7     | 6.3  | 62.7     | 6.1  |

Baseline val per group (PCKh@0.5): head 77.6, shoulder 70.9, elbow 41.7, wrist 34.6,
hip 72.9, knee 68.3, ankle 67.1. Train (un-augmented crops) = val: the quick run underfits;
it does not memorise. PCKh@0.1 is bounded by argmax decoding at stride 4 (a 128 crop's
head size is ~11 px, so 0.1 is ~1.1 px while the heatmap grid is 4 px): even the
memorised training set only reaches 41.5 % at 0.1.
"""


# --------------------------------------------------------------------------------------------
# Network
# --------------------------------------------------------------------------------------------
def _conv(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)
    )


class TinyHeatmapNet(nn.Module):
    """A small fully-convolutional encoder-decoder predicting K heatmaps at stride 4.

    Encoder: a stride-2 stem and four stages of two 3x3 conv-BN-ReLU (the first strided),
    down to stride 32 (widths ``widths``). Decoder: FPN-like top-down path — upsample x2
    (nearest), add a 1x1 lateral projection of the encoder stage, 3x3 conv — back to stride 4,
    then a 1x1 conv to ``num_joints`` heatmaps. With the defaults: 0.99 M parameters,
    0.11 GMACs for a 128x128 input (heatmaps 32x32).

    Input ``(B, 3, H, W)`` normalised images (H, W multiples of 32); output ``(B, K, H/4, W/4)``.
    """

    def __init__(
        self, num_joints: int = 16, widths: tuple[int, ...] = (32, 64, 128, 192),
        stem: int = 24, decoder: int = 64,
    ) -> None:  # fmt: skip
        super().__init__()
        self.stem = _conv(3, stem, 2)
        stages, cin = [], stem
        for w in widths:
            stages.append(nn.Sequential(_conv(cin, w, 2), _conv(w, w)))
            cin = w
        self.stages = nn.ModuleList(stages)
        self.laterals = nn.ModuleList(nn.Conv2d(w, decoder, 1) for w in widths)
        self.smooth = nn.ModuleList(_conv(decoder, decoder) for _ in widths[:-1])
        self.head = nn.Conv2d(decoder, num_joints, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feats = []
        x = self.stem(x)
        for stage in self.stages:
            x = stage(x)
            feats.append(x)
        y = self.laterals[-1](feats[-1])
        for i in range(len(feats) - 2, -1, -1):
            y = F.interpolate(y, scale_factor=2, mode="nearest") + self.laterals[i](feats[i])
            y = self.smooth[i](y)
        return self.head(y)


# --------------------------------------------------------------------------------------------
# Targets and loss (fixed for this experiment: see the module docstring)
# --------------------------------------------------------------------------------------------
def heatmap_targets(
    keypoints: torch.Tensor, weight: torch.Tensor, size: tuple[int, int], stride: int = STRIDE,
    sigma: float = SIGMA,
) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
    """Gaussian heatmaps ``(B, K, h, w)`` (peak 1) of crop keypoints ``(B, K, 3)``.

    Heatmap pixel ``j`` covers crop pixels ``[s·j - 0.5, s·j + s - 0.5)``, its centre is at crop
    coordinate ``s·j + (s - 1) / 2``; so a keypoint ``x`` sits at heatmap ``(x - (s-1)/2) / s``.
    ``sigma`` is in heatmap pixels. Returns the targets and the weights ``(B, K)`` (the
    dataset's ``target_weight``; zero also where the Gaussian centre is off the heatmap).
    """
    w, h = size
    c = (keypoints[..., :2] - (stride - 1) / 2) / stride
    xs = torch.arange(w, dtype=torch.float32)
    ys = torch.arange(h, dtype=torch.float32)
    gx = torch.exp(-((xs - c[..., 0:1]) ** 2) / (2 * sigma**2))  # (B, K, w)
    gy = torch.exp(-((ys - c[..., 1:2]) ** 2) / (2 * sigma**2))  # (B, K, h)
    target = gy[..., :, None] * gx[..., None, :]
    inside = (c[..., 0] > -0.5) & (c[..., 0] < w - 0.5) & (c[..., 1] > -0.5) & (c[..., 1] < h - 0.5)
    return target, weight * inside.float()


def weighted_mse(pred: torch.Tensor, target: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Mean squared heatmap error with per-joint weights ``(B, K)`` (HRNet's JointsMSELoss
    without its factor 0.5)."""
    return ((pred - target) ** 2 * weight[..., None, None]).mean()


# --------------------------------------------------------------------------------------------
# Training and evaluation
# --------------------------------------------------------------------------------------------
def _batches(dataset, order, batch_size):
    for s in range(0, len(order), batch_size):
        items = dataset.__getitems__([int(i) for i in order[s : s + batch_size]])
        yield {
            "image": torch.stack([it["image"] for it in items]),
            "keypoints": torch.stack([it["keypoints"] for it in items]),
            "target_weight": torch.stack([it["target_weight"] for it in items]),
            "head_box": torch.stack([it["head_box"] for it in items]),
        }


def _materialise(dataset, batch_size: int = 64) -> list[dict]:
    return list(_batches(dataset, np.arange(len(dataset)), batch_size))


def train_step(model, opt, batch, hm_size) -> float:
    model.train()
    target, w = heatmap_targets(batch["keypoints"], batch["target_weight"], hm_size)
    loss = weighted_mse(model(batch["image"]), target, w)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return float(loss.detach())


@torch.no_grad()
def evaluate(model, batches: list[dict]) -> dict:
    """PCKh (MPII Mean, %) at 0.5 and 0.1 in crop pixels, head boxes mapped into the crop;
    evaluated joints: labelled and inside the crop (``target_weight > 0``)."""
    model.eval()
    preds, gts, hbs, vis = [], [], [], []
    for b in batches:
        preds.append(decode_quarter_offset(model(b["image"]), STRIDE).numpy())
        gts.append(b["keypoints"].numpy())
        hbs.append(b["head_box"].numpy())
        vis.append(b["target_weight"].numpy() > 0)
    res = pckh(np.concatenate(preds), np.concatenate(gts), np.concatenate(hbs),
               visible=np.concatenate(vis))  # fmt: skip
    return {"pckh_05": res.mean, "pckh_01": res.mean_at_0_1, "result": res}


def _progress(total, desc, enable):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, disable=not enable, leave=False)


def overfit(
    n: int = 512, steps: int = 1500, input_size: tuple[int, int] = (128, 128),
    batch_size: int = 32, lr: float = 2e-3, seed: int = 0, progress: bool = True,
    eval_every: int = 250, target: float | None = 99.0,
) -> dict:  # fmt: skip
    """Train ``TinyHeatmapNet`` on ``n`` fixed (un-augmented) training crops and report how
    well it fits them: ``train_pckh_05`` / ``train_pckh_01`` (%), ``final_loss``, ``steps``,
    ``seconds``, ``params``. Stops early once training PCKh@0.5 reaches ``target``."""
    torch.manual_seed(seed)
    ds = SynthPoseTopDown("train", n, input_size, "mpii16", seed=seed, augment=False)
    t0 = time.time()
    batches = _materialise(ds)
    data = {k: torch.cat([b[k] for b in batches]) for k in batches[0]}
    model = TinyHeatmapNet(16)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, lr, total_steps=steps, pct_start=0.1)
    hm_size = (input_size[0] // STRIDE, input_size[1] // STRIDE)
    rng = np.random.default_rng(seed)
    bar = _progress(steps, "overfit", progress)
    losses, history, step = [], [], 0
    ev = {"pckh_05": float("nan"), "pckh_01": float("nan")}
    while step < steps:
        for idx in np.array_split(rng.permutation(n), max(1, n // batch_size)):
            batch = {k: v[torch.from_numpy(idx)] for k, v in data.items()}
            losses.append(train_step(model, opt, batch, hm_size))
            sched.step()
            step += 1
            bar.update(1)
            bar.set_postfix(loss=f"{np.mean(losses[-20:]):.2e}")
            if step % eval_every == 0 or step == steps:
                ev = evaluate(model, batches)
                history.append((step, ev["pckh_05"], ev["pckh_01"]))
                bar.set_postfix(loss=f"{np.mean(losses[-20:]):.2e}", pckh=f"{ev['pckh_05']:.1f}")
            if step >= steps or (target is not None and history and history[-1][0] == step
                                 and ev["pckh_05"] >= target):  # fmt: skip
                break
        if target is not None and history and ev["pckh_05"] >= target:
            break
    bar.close()
    if not history or history[-1][0] != step:
        ev = evaluate(model, batches)
        history.append((step, ev["pckh_05"], ev["pckh_01"]))
    return {
        "train_pckh_05": ev["pckh_05"], "train_pckh_01": ev["pckh_01"],
        "final_loss": float(np.mean(losses[-20:])), "first_loss": float(np.mean(losses[:5])),
        "steps": step, "seconds": time.time() - t0, "params": count_params(model), "n": n,
        "history": history,
    }  # fmt: skip


def _lr_factor(progress: float, warmup: float = 0.03) -> float:
    """Linear warm-up over the first ``warmup`` of training, then cosine decay to 0."""
    if progress < warmup:
        return (progress + 1e-3) / warmup
    return 0.5 * (1 + np.cos(np.pi * min(1.0, (progress - warmup) / (1 - warmup))))


def quick_baseline(
    n_train: int = 8000, n_val: int = 1000, epochs: int = 6, minutes: float | None = None,
    input_size: tuple[int, int] = (128, 128), batch_size: int = 32, lr: float = 2e-3,
    seed: int = 0, progress: bool = True,
) -> dict:  # fmt: skip
    """Train ``TinyHeatmapNet`` on ``n_train`` augmented training crops (new augmentations every
    epoch via ``set_epoch``) and evaluate on ``n_val`` validation crops.

    The learning rate warms up, then follows a cosine to zero over the run, whose end is
    ``epochs`` epochs or ``minutes`` of training, whichever comes first (the schedule follows
    the larger of the two progress fractions, so a time-capped run is still annealed).
    Returns ``val_pckh_05`` (MPII Mean PCKh@0.5, %), ``val_pckh_01``, ``train_pckh_05`` /
    ``train_pckh_01`` (on 512 un-augmented training crops), ``epochs`` (completed,
    fractional), ``steps``, ``seconds`` (training), ``params``, ``history`` (per epoch: step,
    val PCKh@0.5, @0.1) and ``val_result`` (the ``PCKhResult``, per joint group)."""
    torch.manual_seed(seed)
    train = SynthPoseTopDown("train", n_train, input_size, "mpii16", seed=seed)
    train_eval = SynthPoseTopDown("train", min(512, n_train), input_size, "mpii16", seed=seed,
                                  augment=False)  # fmt: skip
    val = SynthPoseTopDown("val", n_val, input_size, "mpii16", seed=seed)
    val_batches = _materialise(val)
    train_batches = _materialise(train_eval)
    model = TinyHeatmapNet(16)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    steps_per_epoch = n_train // batch_size
    total = steps_per_epoch * epochs
    hm_size = (input_size[0] // STRIDE, input_size[1] // STRIDE)
    rng = np.random.default_rng(seed)
    bar = _progress(total, "baseline", progress)
    losses, step, history = [], 0, []
    budget = None if minutes is None else 60.0 * minutes
    t0 = time.time()

    def fraction() -> float:
        f = step / total
        return f if budget is None else max(f, (time.time() - t0) / budget)

    for epoch in range(epochs):
        train.set_epoch(epoch)
        order = rng.permutation(n_train)[: steps_per_epoch * batch_size]
        for batch in _batches(train, order, batch_size):
            for group in opt.param_groups:
                group["lr"] = lr * _lr_factor(fraction())
            losses.append(train_step(model, opt, batch, hm_size))
            step += 1
            bar.update(1)
            bar.set_postfix(epoch=epoch, loss=f"{np.mean(losses[-50:]):.2e}")
            if fraction() >= 1:
                break
        ev = evaluate(model, val_batches)
        history.append((step, ev["pckh_05"], ev["pckh_01"]))
        bar.set_postfix(
            epoch=epoch, loss=f"{np.mean(losses[-50:]):.2e}", val=f"{ev['pckh_05']:.1f}"
        )
        if fraction() >= 1:
            break
    bar.close()
    train_seconds = time.time() - t0
    ev_val = evaluate(model, val_batches)
    ev_train = evaluate(model, train_batches)
    return {
        "val_pckh_05": ev_val["pckh_05"], "val_pckh_01": ev_val["pckh_01"],
        "train_pckh_05": ev_train["pckh_05"], "train_pckh_01": ev_train["pckh_01"],
        "epochs": step / steps_per_epoch, "steps": step, "seconds": train_seconds,
        "params": count_params(model), "n_train": n_train, "n_val": n_val,
        "final_loss": float(np.mean(losses[-50:])), "history": history,
        "val_result": ev_val["result"],
    }  # fmt: skip


def _row(name: str, r: dict, train_only: bool = False) -> str:
    val = "" if train_only else f"{r['val_pckh_05']:6.1f} | {r['val_pckh_01']:6.1f} |"
    if train_only:
        val = "     - |      - |"
    return (f"| {name:<9} | {r['params'] / 1e6:5.2f} M | {r['steps']:5d} | "
            f"{r['seconds'] / 60:5.1f} | {r['train_pckh_05']:6.1f} | {r['train_pckh_01']:6.1f} | "
            f"{val}")  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    """``python -m posekit.lab.synth_baseline [--overfit] [--baseline] [--minutes M]``."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--overfit", action="store_true", help="overfit 512 training crops")
    p.add_argument("--baseline", action="store_true", help="quick train/val baseline")
    p.add_argument("--minutes", type=float, default=9.0, help="time cap of the baseline")
    p.add_argument("--steps", type=int, default=1500, help="steps of the overfit run")
    p.add_argument("--epochs", type=int, default=6, help="epochs planned for the baseline")
    p.add_argument("--n-train", type=int, default=8000)
    p.add_argument("--n-val", type=int, default=1000)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--no-progress", action="store_true")
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    both = not (a.overfit or a.baseline)
    rows = []
    if a.overfit or both:
        r = overfit(steps=a.steps, progress=not a.no_progress)
        print(f"overfit history (step, train PCKh@0.5, @0.1): {r['history']}")
        print(f"loss {r['first_loss']:.3g} -> {r['final_loss']:.3g}")
        rows.append(_row("overfit", r, train_only=True))
    if a.baseline or both:
        r = quick_baseline(n_train=a.n_train, n_val=a.n_val, epochs=a.epochs, minutes=a.minutes,
                           progress=not a.no_progress)  # fmt: skip
        print(f"baseline history (step, val PCKh@0.5, @0.1): {r['history']}")
        print(r["val_result"].table("val"))
        rows.append(_row("baseline", r))
    print("| run       | params  | steps |   min | tr@0.5 | tr@0.1 | va@0.5 | va@0.1 |")
    print("|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
