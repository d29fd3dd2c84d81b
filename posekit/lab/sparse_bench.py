"""What sparse convolution buys SPHP's backbones on a CPU: dense vs submanifold sparse networks
(posekit's own sparse layers and spconv, the same weights) at 288×384, batch 1.

SPHP (Lin, Hsieh et al., "Sparse and Privacy-enhanced Representation for Human Pose
Estimation", BMVC 2023) runs its DHP19 and U-Net backbones on submanifold sparse convolutions
(Graham & van der Maaten, "Submanifold Sparse Convolutional Networks", 2017; SparseConvNet) and
reports, on an Intel Core i9-7940 CPU, 87-96 % fewer GFLOPs and 1.5× / 3× / 13× more frames per
second than the dense networks (``SPHP_TABLE``). This benchmark measures the same comparison
here, on two kinds of input ``(1, C, H, W)`` float32 (zeros = inactive pixels):

* **measured**: the sensor inputs of one SynthPose exercise frame (``posekit.sensors``; the
  clip of median edge density among ``clips`` clips, one per action, rendered once and not
  timed): ``"ed"`` edges ÷ 255 (1 channel, {0, 1}), ``"mv"`` Farnebäck motion vectors per 8 px
  block in SPHP's encoding centred on 0, ``(v − 128) / 128`` (2 channels [MVV, MVH]; 0 = no
  motion), ``"fs"`` early fusion [EDG, MVV, MVH] (3 channels);
* **sweep**: seeded synthetic patterns at ``densities`` (percent of active pixels):
  ``"edge"`` random 1-px line segments (1 channel, ``edge_pattern``) and ``"mv"`` codec-like
  motion blocks on the 8×8 macroblock grid (2 channels, ``block_pattern``).

For every backbone (``dhp19``, ``unet_small``, ``unet_large``) and input: the dense
``sphp_model`` (eval, under ``torch.inference_mode``, in the faster of channels_last and NCHW,
probed once per backbone), and ``sparse_sphp_model`` on each backend in ``backends``
(``"posekit"``: posekit's pure-torch layers; ``"spconv"``: the spconv library, skipped with a
note when it cannot run here), which share one set of weights (the spconv model loads the own
model's ``state_dict``) and whose outputs are compared at every point. On each input the
contestants take turns call by call (the order rotating each round), so a burst of load from
other processes slows them alike. Reported: the median milliseconds of ``runs`` rounds after
``warmup`` untimed ones (a sparse call includes making the active-site list and the rulebooks:
each frame has new sites), frames/s, speed-up against dense, dense GMACs
(``posekit.bench.count_macs`` on the dense model) against the MACs done at the active sites
(``posekit.sparse.count_macs``), the achieved GFLOP/s (2 · MACs / time) beside the machine's
dense peak (a 3×3 conv 256→256 at 72×96, channels_last, its fastest call), and per backbone and
pattern the *crossover density* where sparse stops being faster (``crossover_density``). The
dense model's time does not depend on the input's values, but it is timed at every point beside
the sparse calls all the same, so that each speed-up is a ratio of calls made under the same
load.

``run()`` measures and returns a dict; ``format_report(result)`` prints the Markdown tables
(``format_measured``, ``format_sweep``, ``format_crossovers``, ``format_sphp``,
``format_goals``); ``python -m posekit.lab.sparse_bench`` does both (``--help``; ``--quick``
for a seconds-long smoke run). Other processes on the machine slow every number down: compare
the rows of one run. ``RESULTS`` holds a full run measured when this file was written.
"""

from __future__ import annotations

import argparse
import copy
import math
import os
import time

import numpy as np
import torch

from posekit import sensors
from posekit.bench import count_macs
from posekit.models.sphp import sphp_model
from posekit.models.sphp_sparse import sparse_sphp_model
from posekit.sparse import count_macs as sparse_macs
from posekit.sparse import spconv_available

__all__ = [
    "BACKBONE_NAMES", "DENSITIES", "INPUT_CHANNELS", "PATTERNS", "QUICK", "RESULTS",
    "SPHP_TABLE", "block_pattern", "crossover_density", "dense_peak_gflops", "edge_pattern",
    "format_crossover", "format_crossovers", "format_goals", "format_measured", "format_report",
    "format_sphp", "format_sweep", "main", "measured_inputs", "own_vs_spconv", "run",
]  # fmt: skip

BACKBONE_NAMES = {"dhp19": "DHP19", "unet_small": "U-Net-Small", "unet_large": "U-Net-Large"}
INPUT_CHANNELS = {"ed": 1, "mv": 2, "fs": 3}
"""Measured inputs: ``"ed"`` [EDG], ``"mv"`` [MVV, MVH], ``"fs"`` [EDG, MVV, MVH]."""
PATTERNS = {"edge": "ed", "mv": "mv"}
"""Sweep pattern → the model input it feeds (``"edge"``: 1 channel, ``"mv"``: 2)."""
DENSITIES = (1, 2, 5, 10, 20, 40)
"""The sweep's target densities, percent of active pixels."""
BACKENDS = ("posekit", "spconv")
QUICK = dict(size=(72, 96), runs=1, warmup=1, densities=(5, 20), clips=4, peak_channels=64)
"""``run(quick=True)``: a smoke run of a few seconds (its numbers mean little)."""

SPHP_TABLE = {
    "dhp19": dict(params="218K", dense_gflops=275.45, dense_fps=26.89, sparse_gflops=33.25,
                  saving=87, sparse_fps=38.88, speedup=1.5),
    "unet_small": dict(params="1.9M", dense_gflops=1135.0, dense_fps=11.82, sparse_gflops=46.74,
                       saving=96, sparse_fps=36.13, speedup=3.0),
    "unet_large": dict(params="7.7M", dense_gflops=4510.0, dense_fps=1.07, sparse_gflops=186.80,
                       saving=96, sparse_fps=13.89, speedup=13.0),
}  # fmt: skip
"""SPHP's computation-efficiency table (Lin, Hsieh et al. 2023; Intel Core i9-7940 3.1 GHz,
SparseConvNet) as published: GFLOPs and frames/s of the dense and sparse networks, the GFLOPs
saving (percent) and the speed-up. Their GFLOPs are about 73× posekit's per-frame dense MAC
count of the same networks (3.5 / 15.6 / 62.1 GMACs at 288×384): only the percentages and the
speed-ups compare."""


# ------------------------------------------------------------------------------- inputs
def _check_density(density: float) -> float:
    if not (isinstance(density, int | float) and 0 < density <= 100):
        raise ValueError(f"density: expected a percentage in (0, 100], got {density!r}")
    return float(density)


def _check_size(size) -> tuple[int, int]:
    try:
        h, w = (int(v) for v in size)
        ok = h > 0 and w > 0 and all(float(v) == int(v) for v in size)
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(f"size: expected (height, width), positive integers, got {size!r}")
    return h, w


def edge_pattern(
    density: float, size: tuple[int, int] = (288, 384), seed: int = 0, length=(8, 32)
) -> torch.Tensor:
    """Edge-like input: random straight 1-px line segments, ``(1, 1, H, W)`` float32 in {0, 1}.

    Segments start at random integer pixels with uniform direction and a length uniform in
    ``length`` px, and are drawn as digital lines (one pixel per step along the major axis,
    8-connected, as Bresenham's). Segments are added in their random order until ``density``
    percent of the pixels are active; the last one is cut at the pixel that reaches the target,
    so the count is exact: ``round(density / 100 · H · W)`` pixels (at least 1). Lines clip at
    the border. Vectorised: each pixel's first covering segment by one ``scatter_reduce``.

    Args:
        density: percent of active pixels, in (0, 100). size: ``(H, W)``. seed: the pattern.
        length: ``(min, max)`` segment length in pixels.
    """
    density, (h, w) = _check_density(density), _check_size(size)
    target = max(1, round(density / 100 * h * w))
    lo, hi = length
    if not 1 <= lo <= hi:
        raise ValueError(f"length: expected 1 <= min <= max pixels, got {length!r}")
    if density >= 100:
        return torch.ones(1, 1, h, w)
    gen = torch.Generator().manual_seed(seed)
    mean_len = (lo + hi) / 2
    lam = -math.log(1 - density / 100)  # Poisson coverage: pixels drawn / area to reach it
    n_seg = int(2 * lam * h * w / mean_len) + 16
    while True:
        y0 = torch.randint(0, h, (n_seg,), generator=gen)
        x0 = torch.randint(0, w, (n_seg,), generator=gen)
        angle = torch.rand(n_seg, generator=gen) * math.pi * 2
        lengths = lo + torch.rand(n_seg, generator=gen) * (hi - lo)
        y1 = (y0 + lengths * torch.sin(angle)).round().long()
        x1 = (x0 + lengths * torch.cos(angle)).round().long()
        steps = torch.maximum((y1 - y0).abs(), (x1 - x0).abs()).clamp(min=1)
        t = torch.arange(int(steps.max()) + 1)
        on = t[None, :] <= steps[:, None]  # (S, T): point t of segment s exists
        frac = t[None, :] / steps[:, None]
        ys = (y0[:, None] + frac * (y1 - y0)[:, None]).round().long()
        xs = (x0[:, None] + frac * (x1 - x0)[:, None]).round().long()
        on &= (ys >= 0) & (ys < h) & (xs >= 0) & (xs < w)
        seg = torch.arange(n_seg)[:, None].expand_as(on)[on]
        pix = (ys * w + xs)[on]
        first = torch.full((h * w,), n_seg, dtype=torch.long)
        first.scatter_reduce_(0, pix, seg, "amin")
        covered = torch.cumsum(torch.bincount(first[first < n_seg], minlength=n_seg), 0)
        if covered[-1] >= target:
            break
        n_seg *= 2
    last = int(torch.searchsorted(covered, target))  # the segment that reaches the target
    active = first < last
    need = target - (int(covered[last - 1]) if last else 0)
    row = pix[seg == last]  # the last segment's pixels in line order (distinct: one per step)
    active[row[first[row] == last][:need]] = True
    return active.view(1, 1, h, w).float()


def block_pattern(
    density: float,
    size: tuple[int, int] = (288, 384),
    seed: int = 0,
    block: int = 8,
    channels: int = 2,
) -> torch.Tensor:
    """Motion-vector-like input: ``(1, channels, H, W)`` float32, active in whole blocks.

    ``round(density / 100 · cells)`` (at least 1) random cells of the ``block × block`` grid
    (aligned at multiples of ``block``, as a codec's macroblocks; ``posekit.sensors`` uses 8)
    carry one vector each: every channel an SPHP-encoded displacement ``(v − 128) / 128`` with
    ``v − 128`` a random nonzero integer in ±[1, 32] (±8 px at the sensors' gain of 4), constant
    over the block; every other pixel is 0 (no motion). With ``H`` and ``W`` multiples of
    ``block`` the density is exact to one block.
    """
    density, (h, w) = _check_density(density), _check_size(size)
    if not (isinstance(block, int) and block >= 1 and isinstance(channels, int) and channels >= 1):
        raise ValueError(f"block, channels: expected positive integers, got {block!r}, "
                         f"{channels!r}")  # fmt: skip
    gen = torch.Generator().manual_seed(seed)
    hb, wb = -(-h // block), -(-w // block)
    n = min(hb * wb, max(1, round(density / 100 * hb * wb)))
    cells = torch.randperm(hb * wb, generator=gen)[:n]
    code = torch.randint(1, 33, (channels, n), generator=gen)
    sign = torch.randint(0, 2, (channels, n), generator=gen) * 2 - 1
    grid = torch.zeros(channels, hb * wb)
    grid[:, cells] = (code * sign).float() / 128
    grid = grid.view(1, channels, hb, wb)
    return grid.repeat_interleave(block, 2).repeat_interleave(block, 3)[..., :h, :w].contiguous()


def measured_inputs(size: tuple[int, int] = (288, 384), clips: int = 16, seed: int = 0) -> dict:
    """The sensor inputs of one SynthPose exercise frame, as the models take them.

    ``clips`` two-frame clips of ``posekit.datasets.synthpose.SynthPoseSequences`` (validation
    split, the actions in turn: 16 = one per SPHP action) are rendered at ``size``; each gets
    ``sensors.edges`` of its second frame and ``sensors.motion_vectors`` (Farnebäck, 8 px
    blocks) between its two frames. The clip of median edge density is the measured input.

    Returns:
        ``"ed"`` ``(1, 1, H, W)`` edges ÷ 255 in {0, 1}; ``"mv"`` ``(1, 2, H, W)``
        [MVV, MVH] as ``(v − 128) / 128`` (``sensors.decode_motion``: exactly 0 where the code
        is 128, no motion); ``"fs"`` ``(1, 3, H, W)`` = [ed, mv] stacked; ``"density"``
        (fraction of active pixels per input), ``"clip"`` (its index), ``"action"`` /
        ``"action_class"`` (0..3 for C1..C4) of the chosen clip, ``"edge_densities"`` /
        ``"mv_densities"`` of all clips.
    """
    from posekit.datasets.synthpose import SynthPoseSequences

    h, w = _check_size(size)
    if not (isinstance(clips, int) and clips >= 1):
        raise ValueError(f"clips: expected a positive integer, got {clips!r}")
    ds = SynthPoseSequences("val", length=clips, n_frames=2, size=(w, h), seed=seed,
                            frames="uint8")  # fmt: skip
    found = []
    for i in range(clips):
        item = ds[i]
        a, b = item["frames"].numpy()
        edg = sensors.edges(b)
        mvh, mvv = sensors.motion_vectors(a, b)
        found.append((sensors.active_fraction(edg), edg, mvv, mvh, item))
    order = sorted(range(clips), key=lambda i: found[i][0])
    e_frac, edg, mvv, mvh, item = found[order[(clips - 1) // 2]]
    ed = torch.from_numpy(edg.astype(np.float32) / 255.0)[None, None]
    mv = torch.from_numpy(np.stack([sensors.decode_motion(mvv), sensors.decode_motion(mvh)]))
    mv = mv[None]
    fs = torch.cat((ed, mv), 1)
    return {
        "ed": ed, "mv": mv, "fs": fs,
        "density": {k: float((v != 0).any(1).float().mean()) for k, v in
                    (("ed", ed), ("mv", mv), ("fs", fs))},
        "clip": order[(clips - 1) // 2],
        "action": item["action"], "action_class": item["action_class"],
        "edge_densities": [f[0] for f in found],
        "mv_densities": [sensors.active_fraction((f[2], f[3]), sensors.MV_ZERO) for f in found],
    }  # fmt: skip


# ------------------------------------------------------------------------------- measures
def crossover_density(densities, speedups) -> tuple[str, float]:
    """Where the sparse speed-up falls through 1: ``("=", d)``, ``(">", max)`` or ``("<", min)``.

    The points are sorted by density; at the first one with speed-up < 1, ``log speed-up`` is
    interpolated linearly in ``log density`` from the point before it (speed-ups 4, 2, 0.5 at
    5, 10, 20 % → √(10 · 20) = 14.1 %). ``(">", max)`` when sparse is never slower; ``("<",
    min)`` when it is slower already at the lowest density.
    """
    pts = sorted(zip(densities, speedups, strict=True))
    if not pts or any(d <= 0 or s <= 0 for d, s in pts):
        raise ValueError(f"expected positive densities and speed-ups, got {pts!r}")
    for i, (d, s) in enumerate(pts):
        if s < 1:
            if i == 0:
                return ("<", d)
            d0, s0 = pts[i - 1]
            f = math.log(s0) / (math.log(s0) - math.log(s))
            return ("=", math.exp(math.log(d0) + f * (math.log(d) - math.log(d0))))
    return (">", pts[-1][0])


def _crossover(points) -> tuple[str, float] | None:
    return crossover_density(*zip(*points, strict=True)) if points else None


def format_crossover(crossover: tuple[str, float] | None) -> str:
    """``("=", 14.14)`` → ``"14.1 %"``, ``(">", 40)`` → ``"> 40 %"``; ``None`` → ``"—"``."""
    if crossover is None:
        return "—"
    kind, d = crossover
    return f"{d:.1f} %" if kind == "=" else f"{kind} {round(d, 1):g} %"


def _interleaved(fns: dict, runs: int, warmup: int) -> dict[str, list[float]]:
    """Seconds of each ``fns[name]()`` call, the callables taking turns (the order rotating
    each round) for ``warmup`` untimed and ``runs`` timed rounds, under ``inference_mode``:
    a burst of load from other processes then slows every contestant alike."""
    names = list(fns)
    times: dict[str, list[float]] = {k: [] for k in names}
    with torch.inference_mode():
        for i in range(warmup + runs):
            shift = i % len(names)
            for k in names[shift:] + names[:shift]:
                t0 = time.perf_counter()
                fns[k]()
                if i >= warmup:
                    times[k].append(time.perf_counter() - t0)
    return times


def _median_ms(seconds: list[float]) -> float:
    return 1000.0 * float(np.median(seconds))


def dense_peak_gflops(
    runs: int = 7, warmup: int = 3, channels: int = 256, size: tuple[int, int] = (72, 96)
) -> float:
    """GFLOP/s of one dense 3×3 conv ``channels → channels`` at ``size``, channels_last, batch
    1, at the current torch threads, from its fastest of ``runs`` calls: about the best a dense
    convolution does on this machine."""
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(channels, channels, 3, padding=1, bias=False).eval()
    conv = conv.to(memory_format=torch.channels_last)
    x = torch.randn(1, channels, *size).contiguous(memory_format=torch.channels_last)
    best = min(_interleaved({"conv": lambda: conv(x)}, runs, warmup)["conv"])
    return 2 * size[0] * size[1] * 9 * channels * channels / (best * 1e9)


def _gflops(macs: float, ms: float | None) -> float | None:
    return None if ms is None else 2 * macs / (ms * 1e6)


_FORMATS = {"channels_last": torch.channels_last, "nchw": torch.contiguous_format}


class _Bench:
    """Timing of one ``run``: at each point the dense model and the sparse backends take
    turns; the backends' outputs are compared, failures noted."""

    def __init__(self, runs, warmup, layouts, backends, bar) -> None:
        self.runs, self.warmup, self.layouts, self.backends = runs, warmup, layouts, backends
        self.bar = bar
        self.macs: dict = {}  # (backbone, channels) -> dense MACs
        self.layout: dict = {}  # backbone -> the faster layout
        self.agree: dict = {}  # backbone -> [max |diff|, max |out|, comparisons]
        self.notes: list[str] = []

    def _layout(self, backbone: str, model, x: torch.Tensor) -> str:
        """The faster dense layout, by each layout's fastest of 3 interleaved calls."""
        if backbone not in self.layout:
            if len(self.layouts) == 1:
                self.layout[backbone] = self.layouts[0]
            else:
                copies = {k: copy.deepcopy(model).to(memory_format=_FORMATS[k])
                          for k in self.layouts}  # fmt: skip
                inputs = {k: x.contiguous(memory_format=_FORMATS[k]) for k in self.layouts}
                probe = _interleaved({k: (lambda k=k: copies[k](inputs[k])) for k in self.layouts},
                                     min(3, self.runs), self.warmup)  # fmt: skip
                self.layout[backbone] = min(probe, key=lambda k: min(probe[k]))
        return self.layout[backbone]

    def point(self, backbone: str, dense_model, models: dict, x: torch.Tensor) -> dict:
        """One input: MACs (``posekit.sparse.count_macs``), median ms per contestant."""
        own = models["posekit"]
        with torch.inference_mode(), sparse_macs(own) as costs:  # the first warm-up call
            ref = own(x)
        out = dict(active=costs.active, layer_dense=costs.dense, saving=costs.saving)
        fns = {"posekit": lambda: own(x)}
        for name in self.backends[1:]:
            model = models.get(name)
            try:
                if model is not None:
                    with torch.inference_mode():
                        y = model(x)
                    self._compare(backbone, ref, y)
                    fns[name] = lambda m=model: m(x)
            except Exception as err:  # report and go on: the other columns still mean something
                self.notes.append(f"{name} failed on {backbone} {tuple(x.shape)}: "
                                  f"{type(err).__name__}: {err}")  # fmt: skip
                models[name] = None
        layout = self._layout(backbone, dense_model, x)
        dense_model.to(memory_format=_FORMATS[layout])
        xd = x.contiguous(memory_format=_FORMATS[layout])
        fns["dense"] = lambda: dense_model(xd)
        key = (backbone, x.shape[1])
        if key not in self.macs:
            self.macs[key] = count_macs(dense_model, x.shape)
        times = _interleaved(fns, self.runs, max(0, self.warmup - 1))
        for name in self.backends:
            out[name] = _median_ms(times[name]) if name in times else None
        out["dense"] = (_median_ms(times["dense"]), layout, self.macs[key])
        self.bar.update(1)
        return out

    def _compare(self, backbone: str, ref: torch.Tensor, y: torch.Tensor) -> None:
        a = self.agree.setdefault(backbone, [0.0, 0.0, 0])
        a[0] = max(a[0], float((y - ref).abs().max()))
        a[1] = max(a[1], float(ref.abs().max()))
        a[2] += 1


def _row(base: dict, sparse: dict, backends) -> dict:
    ms_dense, layout, macs = sparse["dense"]
    row = dict(base, dense_macs=macs, active_macs=sparse["active"],
               layer_dense_macs=sparse["layer_dense"], saving=sparse["saving"],
               ms={"dense": ms_dense}, layout=layout)  # fmt: skip
    for b in backends:
        row["ms"][b] = sparse.get(b)
    row["fps"] = {k: (None if v is None else 1000.0 / v) for k, v in row["ms"].items()}
    row["speedup"] = {k: (None if v is None else ms_dense / v) for k, v in row["ms"].items()}
    row["gflops"] = {k: _gflops(macs if k == "dense" else sparse["active"], v)
                     for k, v in row["ms"].items()}  # fmt: skip
    return row


def run(
    backbones=tuple(BACKBONE_NAMES),
    inputs=tuple(INPUT_CHANNELS),
    densities=None,
    patterns=tuple(PATTERNS),
    backends=BACKENDS,
    size: tuple[int, int] | None = None,
    threads: int = 2,
    runs: int | None = None,
    warmup: int | None = None,
    clips: int | None = None,
    layouts=("channels_last", "nchw"),
    quick: bool = False,
    progress: bool = True,
    seed: int = 0,
) -> dict:
    """Measure dense vs sparse SPHP backbones (see the module doc).

    Args:
        backbones: of ``BACKBONE_NAMES``. inputs: measured inputs, of ``INPUT_CHANNELS``.
        densities: sweep densities in percent (``DENSITIES``; ``()`` for no sweep).
        patterns: sweep patterns, of ``PATTERNS``. backends: sparse backends, ``"posekit"``
            first (the speed-ups and agreement are against it); ``"spconv"`` is dropped with a
            note when it cannot run here.
        size: ``(H, W)``, multiples of 8 (default 288×384, SPHP's). threads: torch threads
            while measuring (restored afterwards). runs, warmup: timed and untimed rounds per
            input (7 and 3; the contestants take turns). clips: SynthPose clips the measured
            frame is chosen from (16). layouts: dense memory layouts to try (the faster is
            timed).
        quick: ``QUICK``'s settings for whatever is left ``None``. progress: a tqdm bar.
    Returns:
        dict: ``"measured"`` and ``"sweep"`` rows (``backbone``, ``input`` or ``pattern``,
        ``density`` (fraction), ``dense_macs``, ``active_macs``, ``layer_dense_macs`` (the
        sparse layers' dense-equivalent count), ``saving`` (``1 − active / layer_dense``),
        ``ms`` / ``fps`` / ``speedup`` / ``gflops`` per ``"dense"`` and backend (``None`` when
        not run), ``layout``), ``"crossovers"``, ``"agreement"`` per backbone (max abs diff,
        max abs output, comparisons), ``"peak_gflops"``, ``"inputs"`` (the measured frame's
        description), ``"notes"``, ``"settings"``, ``"seconds"``, ``"load"`` (1-minute load
        average at the start and the end: other processes' share of the machine).
    """
    from tqdm.auto import tqdm

    q = QUICK if quick else {}
    size = _check_size(size if size is not None else q.get("size", (288, 384)))
    runs = runs if runs is not None else q.get("runs", 7)
    warmup = warmup if warmup is not None else q.get("warmup", 3)
    clips = clips if clips is not None else q.get("clips", 16)
    densities = tuple(densities if densities is not None else q.get("densities", DENSITIES))
    for name, value, known in (("backbones", backbones, BACKBONE_NAMES),
                               ("inputs", inputs, INPUT_CHANNELS), ("patterns", patterns, PATTERNS),
                               ("backends", backends, BACKENDS),
                               ("layouts", layouts, ("channels_last", "nchw"))):  # fmt: skip
        bad = [v for v in value if v not in known]
        if bad or (name in ("backbones", "backends", "layouts") and not value):
            raise ValueError(f"{name}: expected some of {', '.join(known)}, got {list(value)!r}")
    if backends[0] != "posekit":
        raise ValueError(f"backends: 'posekit' must come first, got {list(backends)!r}")
    for name, value, low in (("threads", threads, 1), ("runs", runs, 1), ("warmup", warmup, 0)):
        if not isinstance(value, int) or isinstance(value, bool) or value < low:
            raise ValueError(f"{name}: expected an integer >= {low}, got {value!r}")
    for d in densities:
        _check_density(d)
    if size[0] % 8 or size[1] % 8:
        raise ValueError(f"size: height and width must be multiples of 8, got {size}")
    notes = []
    backends = tuple(backends)
    if "spconv" in backends:
        ok, why = spconv_available()
        if not ok:
            notes.append(f"spconv column skipped: {why}")
            backends = tuple(b for b in backends if b != "spconv")
    start, load = time.perf_counter(), os.getloadavg()[0]
    meas = None
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    sweep_inputs = tuple(PATTERNS[p] for p in patterns) if densities else ()
    needed = [i for i in INPUT_CHANNELS if i in inputs or i in sweep_inputs]
    per_backbone = len(inputs) + len(sweep_inputs) * len(densities)
    result: dict = dict(measured=[], sweep=[], crossovers=[], notes=notes)
    try:
        with tqdm(total=1 + len(backbones) * per_backbone, desc="sparse bench",
                  disable=not progress, leave=False) as bar:  # fmt: skip
            meas = measured_inputs(size, clips, seed) if inputs else None
            peak_ch = q.get("peak_channels", 256)
            result["peak_gflops"] = dense_peak_gflops(runs, warmup, peak_ch)
            result["peak_conv"] = f"3×3 conv {peak_ch}→{peak_ch} at 72×96, channels_last"
            bar.update(1)
            bench = _Bench(runs, warmup, layouts, backends, bar)
            patterns_in = {(p, d): (edge_pattern(d, size, seed) if p == "edge"
                                    else block_pattern(d, size, seed))
                           for p in patterns for d in densities}  # fmt: skip
            for backbone in backbones:
                for inp in needed:
                    _measure_model(result, bench, backbone, inp, meas if inp in inputs else None,
                                   {p: [(d, patterns_in[p, d]) for d in densities]
                                    for p in patterns if PATTERNS[p] == inp})  # fmt: skip
            notes += bench.notes
            result["agreement"] = {k: tuple(v) for k, v in bench.agree.items()}
            result["layouts"] = dict(bench.layout)
    finally:
        torch.set_num_threads(before)
    if meas is not None:
        result["inputs"] = {k: meas[k] for k in ("density", "clip", "action", "action_class",
                                                 "edge_densities", "mv_densities")}  # fmt: skip
    result["settings"] = dict(size=list(size), threads=threads, runs=runs, warmup=warmup,
                              clips=clips, densities=list(densities), backbones=list(backbones),
                              inputs=list(inputs), patterns=list(patterns),
                              backends=list(backends), quick=quick)  # fmt: skip
    result["seconds"] = time.perf_counter() - start
    result["load"] = (load, os.getloadavg()[0])
    return result


def _measure_model(result, bench, backbone, inp, meas, sweeps) -> None:
    """One backbone on one input kind: its measured row (``meas``) and its ``sweeps``
    (``{pattern: [(target %, x), ...]}``); the models are built here, once, seeded."""
    torch.manual_seed(0)
    dense = sphp_model(backbone, inp).eval()
    models = {"posekit": sparse_sphp_model(backbone, inp).eval()}
    if "spconv" in bench.backends:  # the same weights on the other backend
        models["spconv"] = sparse_sphp_model(backbone, inp, backend="spconv")
        models["spconv"].load_state_dict(models["posekit"].state_dict())
        models["spconv"].eval()

    def row(base, x):
        return _row(base, bench.point(backbone, dense, models, x), bench.backends)

    if meas is not None:
        x = meas[inp]
        result["measured"].append(row(dict(backbone=backbone, input=inp,
                                           density=meas["density"][inp]), x))  # fmt: skip
    for pattern, points in sweeps.items():
        rows = [row(dict(backbone=backbone, pattern=pattern, target=d,
                         density=float((x != 0).any(1).float().mean())), x)
                for d, x in points]  # fmt: skip
        result["sweep"] += rows
        if rows:
            dense_ms = _median([r["ms"]["dense"] for r in rows])  # the same work at each point
            cross = dict(backbone=backbone, pattern=pattern, dense_ms=dense_ms)
            for b in bench.backends:
                cross[b] = _crossover([(100 * r["density"], r["speedup"][b]) for r in rows
                                       if r["speedup"][b] is not None])  # fmt: skip
            result["crossovers"].append(cross)


# ------------------------------------------------------------------------------- tables
def _num(v, fmt: str) -> str:
    return "—" if v is None else format(v, fmt)


def _ms_cell(row: dict, key: str) -> str:
    ms = row["ms"].get(key)
    if ms is None:
        return "—"
    cell = f"{ms:.1f} ({row['fps'][key]:.1f} FPS"
    return cell + (")" if key == "dense" else f", {row['speedup'][key]:.2f}×)")


def _gmacs(row: dict) -> str:
    return (f"{row['dense_macs'] / 1e9:.2f} / {row['active_macs'] / 1e9:.3f} "
            f"(−{100 * row['saving']:.1f} %)")  # fmt: skip


def _rates(row: dict, keys) -> str:
    return " / ".join(_num(row["gflops"].get(k), ".0f") for k in keys)


def _backends(result: dict) -> tuple[str, ...]:
    return tuple(result["settings"]["backends"])


def format_measured(result: dict) -> str:
    """Table 1: the measured inputs, per backbone × input."""
    bk = _backends(result)
    spc = "spconv" in bk
    head = ("| backbone | input | active | GMACs dense / active (saving) | dense ms (FPS) "
            "| own ms (FPS, speed-up) | spconv ms (FPS, speed-up) "
            f"| GFLOP/s dense / own{' / spconv' if spc else ''} |")  # fmt: skip
    lines = [head, "|---|---|---:|---:|---:|---:|---:|---:|"]
    for r in result["measured"]:
        lines.append(
            f"| {BACKBONE_NAMES[r['backbone']]} | {r['input']} | {100 * r['density']:.2f} % "
            f"| {_gmacs(r)} | {_ms_cell(r, 'dense')} | {_ms_cell(r, 'posekit')} "
            f"| {_ms_cell(r, 'spconv')} | {_rates(r, ('dense', *bk))} |"
        )
    return "\n".join(lines)


def format_sweep(result: dict) -> str:
    """Table 2: the density sweep, per backbone × pattern × density."""
    bk = _backends(result)
    spc = "spconv" in bk
    lines = [
        "| backbone | pattern | active | active GMACs (saving) | dense ms | own ms (speed-up) "
        "| spconv ms (speed-up) | spconv / own | GFLOP/s own"
        f"{' / spconv' if spc else ''} |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in result["sweep"]:
        ms = r["ms"]

        def cell(k, r=r, ms=ms):
            return "—" if ms.get(k) is None else f"{ms[k]:.1f} ({r['speedup'][k]:.2f}×)"

        ratio = _num(ms["spconv"] / ms["posekit"] if ms.get("spconv") else None, ".2f")
        lines.append(
            f"| {BACKBONE_NAMES[r['backbone']]} | {r['pattern']} | {100 * r['density']:.2f} % "
            f"| {r['active_macs'] / 1e9:.3f} (−{100 * r['saving']:.1f} %) | {ms['dense']:.1f} "
            f"| {cell('posekit')} | {cell('spconv')} | {ratio} | {_rates(r, bk)} |"
        )
    return "\n".join(lines)


def format_crossovers(result: dict) -> str:
    """Table: the density where sparse stops being faster than dense (``crossover_density``)."""
    lines = ["| backbone | pattern | dense ms (median) | crossover own | crossover spconv |",
             "|---|---|---:|---:|---:|"]  # fmt: skip
    for c in result["crossovers"]:
        lines.append(
            f"| {BACKBONE_NAMES[c['backbone']]} | {c['pattern']} | {c['dense_ms']:.1f} "
            f"| {format_crossover(c.get('posekit'))} | {format_crossover(c.get('spconv'))} |"
        )
    return "\n".join(lines)


def format_sphp(result: dict) -> str:
    """Table 3: SPHP's published efficiency table beside this run's measured inputs."""
    lines = [
        "| backbone | SPHP params | SPHP GFLOPs dense → sparse (saving) | SPHP FPS dense → "
        "sparse (speed-up) | our input | our GMACs dense → active (saving) | our FPS dense → "
        "own sparse (speed-up) |",
        "|---|---:|---:|---:|---|---:|---:|",
    ]
    for backbone, p in SPHP_TABLE.items():
        rows = [r for r in result["measured"] if r["backbone"] == backbone] or [None]
        for i, r in enumerate(rows):
            sphp = ("| | | |" if i else
                    f"| {p['params']} | {p['dense_gflops']:g} → {p['sparse_gflops']:g} "
                    f"(−{p['saving']} %) | {p['dense_fps']:g} → {p['sparse_fps']:g} "
                    f"({p['speedup']:g}×) |")  # fmt: skip
            ours = "| — | — | — |" if r is None else (
                f"| {r['input']} ({100 * r['density']:.1f} %) | {r['dense_macs'] / 1e9:.2f} → "
                f"{r['active_macs'] / 1e9:.3f} (−{100 * r['saving']:.1f} %) "
                f"| {r['fps']['dense']:.2f} → {r['fps']['posekit']:.2f} "
                f"({r['speedup']['posekit']:.2f}×) |")  # fmt: skip
            lines.append(f"| {'' if i else BACKBONE_NAMES[backbone]} {sphp} {ours[2:]}")
    lines.append(
        "\nSPHP: Intel Core i9-7940 3.1 GHz, SparseConvNet, as published. Their GFLOPs are "
        "about 73× our per-frame dense MAC count of the same networks: only the savings (%) "
        "and the speed-ups compare."
    )
    return "\n".join(lines)


def _median(values):
    return float(np.median(values)) if values else None


def own_vs_spconv(result: dict) -> tuple[float, float, float, int] | None:
    """``spconv ms / own ms`` over the sweep points: (median, min, max, count); > 1 = own faster."""
    ratios = [r["ms"]["spconv"] / r["ms"]["posekit"] for r in result["sweep"]
              if r["ms"].get("spconv") and r["ms"].get("posekit")]  # fmt: skip
    if not ratios:
        return None
    return _median(ratios), min(ratios), max(ratios), len(ratios)


def format_goals(result: dict) -> str:
    """The summary lines against the goals (SPHP's 13× for U-Net-Large; own ≥ spconv)."""
    lines = []
    ul = [r for r in result["measured"] if r["backbone"] == "unet_large" and r["input"] == "ed"]
    if ul:
        r = ul[0]
        s = r["speedup"]["posekit"]
        lines.append(
            f"- U-Net-Large, own sparse backend, measured edge input ({100 * r['density']:.2f} % "
            f"active): {r['ms']['dense']:.0f} → {r['ms']['posekit']:.0f} ms, speed-up {s:.2f}× "
            f"against SPHP's 13× ({'met' if s >= 13 else 'not met'}; MACs −"
            f"{100 * r['saving']:.1f} % against SPHP's −96 %)."
        )
    else:
        lines.append("- U-Net-Large on the measured edge input: not measured in this run.")
    ratio = own_vs_spconv(result)
    if ratio is None:
        lines.append("- own vs spconv: spconv not measured in this run.")
    else:
        med, lo, hi, n = ratio
        lines.append(
            f"- own vs spconv: spconv ms / own ms, median {med:.2f} over {n} sweep points "
            f"(range {lo:.2f}–{hi:.2f}; > 1 = own faster); goal: own at least as fast as spconv "
            f"({'met' if med >= 1 else 'not met'})."
        )
    for backbone, (diff, scale, n) in result.get("agreement", {}).items():
        lines.append(
            f"- {BACKBONE_NAMES[backbone]}: own vs spconv outputs, max |diff| {diff:.2e} "
            f"(max |output| {scale:.2e}) over {n} inputs: the same computation timed."
        )
    return "\n".join(lines)


def format_report(result: dict) -> str:
    """Every table of a ``run`` result, with the settings and the measured frame."""
    s = result["settings"]
    h, w = s["size"]
    out = [
        f"Sparse vs dense SPHP backbones at {h}×{w} (H×W), batch 1, {s['threads']} thread(s), "
        f"median of {s['runs']} rounds after {s['warmup']} warm-up round(s), the contestants "
        f"taking turns; run took {result['seconds']:.0f} s; load average (1 min) "
        f"{result['load'][0]:.1f} at the start, {result['load'][1]:.1f} at the end.",
        f"Dense peak ({result['peak_conv']}): {result['peak_gflops']:.0f} GFLOP/s. Dense "
        "layout per backbone (the faster): "
        + ", ".join(f"{BACKBONE_NAMES[k]} {v}" for k, v in result.get("layouts", {}).items())
        + ".",
    ]
    if "inputs" in result:
        i = result["inputs"]
        e = 100 * np.asarray(i["edge_densities"])
        m = 100 * np.asarray(i["mv_densities"])
        out.append(
            f"Measured input: SynthPose action {i['action']} (class C{i['action_class'] + 1}), "
            f"the median edge density of {len(e)} clips (edges {e.min():.1f}–{e.max():.1f} %, "
            f"motion vectors {m.min():.1f}–{m.max():.1f} % over the clips)."
        )
    out += [f"Note: {n}" for n in result["notes"]]
    if result["measured"]:
        out += ["", "Measured inputs (own = posekit.sparse):", "", format_measured(result)]
    if result["sweep"]:
        out += ["", "Density sweep (edge: 1-px line segments, 1 ch; mv: 8×8 blocks, 2 ch):", "",
                format_sweep(result), "", "Crossover density (sparse = dense; log-log "
                "interpolated):", "", format_crossovers(result)]  # fmt: skip
    out += ["", "SPHP's table beside ours:", "", format_sphp(result), "", "Goals:", "",
            format_goals(result)]  # fmt: skip
    out.append(
        "\nGMACs dense: the dense model (posekit.bench.count_macs); active: the sparse model's "
        "MACs at its active sites; saving against the same layers run densely "
        "(posekit.sparse.count_macs). GFLOP/s = 2 × MACs / time."
    )
    return "\n".join(out)


RESULTS = """\
Measured 2026-12-05 with the defaults (python -m posekit.lab.sparse_bench: 288x384, 2 threads,
7 rounds after 3 warm-ups), nothing else running on the 2-core CPU machine, torch 2.13 CPU,
spconv 2.3.8, im2col only for layers of <= 64 input channels. (The same run on the loaded
machine, load average 2.6-4.0: U-Net-Large 6.3x on edges, own/spconv median 1.27.)

Sparse vs dense SPHP backbones at 288×384 (H×W), batch 1, 2 thread(s), median of 7 rounds after 3 warm-up round(s), the contestants taking turns; run took 216 s; load average (1 min) 0.0 at the start, 2.0 at the end.
Dense peak (3×3 conv 256→256 at 72×96, channels_last): 228 GFLOP/s. Dense layout per backbone (the faster): DHP19 channels_last, U-Net-Small channels_last, U-Net-Large channels_last.
Measured input: SynthPose action 15 (class C4), the median edge density of 16 clips (edges 0.9–7.7 %, motion vectors 8.6–20.5 % over the clips).

Measured inputs (own = posekit.sparse):

| backbone | input | active | GMACs dense / active (saving) | dense ms (FPS) | own ms (FPS, speed-up) | spconv ms (FPS, speed-up) | GFLOP/s dense / own / spconv |
|---|---|---:|---:|---:|---:|---:|---:|
| DHP19 | ed | 3.35 % | 3.50 / 0.440 (−87.6 %) | 35.6 (28.1 FPS) | 23.2 (43.1 FPS, 1.53×) | 38.0 (26.3 FPS, 0.94×) | 197 / 38 / 23 |
| DHP19 | mv | 14.18 % | 3.52 / 0.502 (−86.0 %) | 35.2 (28.4 FPS) | 23.4 (42.7 FPS, 1.50×) | 36.8 (27.2 FPS, 0.95×) | 200 / 43 / 27 |
| DHP19 | fs | 15.97 % | 3.54 / 0.752 (−79.1 %) | 35.7 (28.0 FPS) | 35.6 (28.1 FPS, 1.00×) | 53.3 (18.8 FPS, 0.67×) | 198 / 42 / 28 |
| U-Net-Small | ed | 3.35 % | 15.54 / 0.882 (−94.3 %) | 162.5 (6.2 FPS) | 23.0 (43.4 FPS, 7.05×) | 29.3 (34.1 FPS, 5.55×) | 191 / 76 / 60 |
| U-Net-Small | mv | 14.18 % | 15.57 / 2.088 (−86.6 %) | 162.0 (6.2 FPS) | 49.5 (20.2 FPS, 3.28×) | 53.4 (18.7 FPS, 3.04×) | 192 / 84 / 78 |
| U-Net-Small | fs | 15.97 % | 15.60 / 2.566 (−83.5 %) | 160.6 (6.2 FPS) | 67.8 (14.7 FPS, 2.37×) | 83.1 (12.0 FPS, 1.93×) | 194 / 76 / 62 |
| U-Net-Large | ed | 3.35 % | 61.99 / 3.522 (−94.3 %) | 597.6 (1.7 FPS) | 67.2 (14.9 FPS, 8.89×) | 81.5 (12.3 FPS, 7.34×) | 207 / 105 / 86 |
| U-Net-Large | mv | 14.18 % | 62.05 / 8.320 (−86.6 %) | 599.7 (1.7 FPS) | 136.6 (7.3 FPS, 4.39×) | 151.4 (6.6 FPS, 3.96×) | 207 / 122 / 110 |
| U-Net-Large | fs | 15.97 % | 62.12 / 10.222 (−83.5 %) | 605.6 (1.7 FPS) | 169.1 (5.9 FPS, 3.58×) | 183.3 (5.5 FPS, 3.30×) | 205 / 121 / 112 |

Density sweep (edge: 1-px line segments, 1 ch; mv: 8×8 blocks, 2 ch):

| backbone | pattern | active | active GMACs (saving) | dense ms | own ms (speed-up) | spconv ms (speed-up) | spconv / own | GFLOP/s own / spconv |
|---|---|---:|---:|---:|---:|---:|---:|---:|
| DHP19 | edge | 1.00 % | 0.189 (−94.7 %) | 35.6 | 14.6 (2.44×) | 23.8 (1.50×) | 1.63 | 26 / 16 |
| DHP19 | edge | 2.00 % | 0.349 (−90.2 %) | 75.4 | 45.2 (1.67×) | 109.5 (0.69×) | 2.42 | 15 / 6 |
| DHP19 | edge | 5.00 % | 0.836 (−76.5 %) | 35.6 | 52.9 (0.67×) | 62.7 (0.57×) | 1.18 | 32 / 27 |
| DHP19 | edge | 10.00 % | 1.456 (−59.1 %) | 35.7 | 116.2 (0.31×) | 103.2 (0.35×) | 0.89 | 25 / 28 |
| DHP19 | edge | 20.00 % | 2.344 (−34.2 %) | 36.1 | 167.4 (0.22×) | 151.1 (0.24×) | 0.90 | 28 / 31 |
| DHP19 | edge | 40.00 % | 3.117 (−12.5 %) | 35.8 | 215.6 (0.17×) | 179.4 (0.20×) | 0.83 | 29 / 35 |
| DHP19 | mv | 0.98 % | 0.035 (−99.0 %) | 35.2 | 7.5 (4.66×) | 13.2 (2.66×) | 1.75 | 9 / 5 |
| DHP19 | mv | 2.03 % | 0.072 (−98.0 %) | 35.3 | 9.2 (3.83×) | 16.3 (2.16×) | 1.77 | 16 / 9 |
| DHP19 | mv | 4.98 % | 0.178 (−95.0 %) | 35.5 | 14.3 (2.48×) | 24.0 (1.48×) | 1.68 | 25 / 15 |
| DHP19 | mv | 10.01 % | 0.358 (−90.0 %) | 35.0 | 21.8 (1.61×) | 34.7 (1.01×) | 1.59 | 33 / 21 |
| DHP19 | mv | 20.02 % | 0.711 (−80.1 %) | 35.7 | 42.6 (0.84×) | 55.4 (0.64×) | 1.30 | 33 / 26 |
| DHP19 | mv | 39.99 % | 1.415 (−60.5 %) | 35.3 | 107.5 (0.33×) | 91.2 (0.39×) | 0.85 | 26 / 31 |
| U-Net-Small | edge | 1.00 % | 0.267 (−98.3 %) | 161.9 | 13.1 (12.35×) | 17.1 (9.46×) | 1.31 | 41 / 31 |
| U-Net-Small | edge | 2.00 % | 0.535 (−96.6 %) | 158.8 | 16.9 (9.41×) | 21.8 (7.29×) | 1.29 | 63 / 49 |
| U-Net-Small | edge | 5.00 % | 1.479 (−90.5 %) | 169.4 | 33.2 (5.10×) | 39.9 (4.25×) | 1.20 | 89 / 74 |
| U-Net-Small | edge | 10.00 % | 3.080 (−80.2 %) | 166.2 | 58.2 (2.86×) | 66.9 (2.48×) | 1.15 | 106 / 92 |
| U-Net-Small | edge | 20.00 % | 5.927 (−61.9 %) | 170.1 | 120.1 (1.42×) | 118.6 (1.43×) | 0.99 | 99 / 100 |
| U-Net-Small | edge | 40.00 % | 9.621 (−38.1 %) | 166.3 | 209.9 (0.79×) | 192.4 (0.86×) | 0.92 | 92 / 100 |
| U-Net-Small | mv | 0.98 % | 0.094 (−99.4 %) | 162.1 | 8.6 (18.83×) | 13.9 (11.69×) | 1.61 | 22 / 14 |
| U-Net-Small | mv | 2.03 % | 0.198 (−98.7 %) | 169.6 | 11.2 (15.09×) | 17.5 (9.70×) | 1.56 | 35 / 23 |
| U-Net-Small | mv | 4.98 % | 0.495 (−96.8 %) | 174.3 | 18.9 (9.22×) | 25.2 (6.91×) | 1.33 | 52 / 39 |
| U-Net-Small | mv | 10.01 % | 1.023 (−93.4 %) | 166.6 | 37.7 (4.42×) | 49.7 (3.35×) | 1.32 | 54 / 41 |
| U-Net-Small | mv | 20.02 % | 2.167 (−86.1 %) | 165.1 | 85.3 (1.94×) | 88.8 (1.86×) | 1.04 | 51 / 49 |
| U-Net-Small | mv | 39.99 % | 4.758 (−69.4 %) | 160.8 | 163.7 (0.98×) | 155.3 (1.04×) | 0.95 | 58 / 61 |
| U-Net-Large | edge | 1.00 % | 1.066 (−98.3 %) | 615.6 | 33.8 (18.19×) | 39.4 (15.63×) | 1.16 | 63 / 54 |
| U-Net-Large | edge | 2.00 % | 2.138 (−96.6 %) | 602.1 | 48.2 (12.49×) | 58.0 (10.39×) | 1.20 | 89 / 74 |
| U-Net-Large | edge | 5.00 % | 5.912 (−90.5 %) | 596.4 | 94.9 (6.29×) | 117.5 (5.07×) | 1.24 | 125 / 101 |
| U-Net-Large | edge | 10.00 % | 12.310 (−80.1 %) | 600.3 | 189.4 (3.17×) | 221.3 (2.71×) | 1.17 | 130 / 111 |
| U-Net-Large | edge | 20.00 % | 23.682 (−61.8 %) | 599.9 | 359.3 (1.67×) | 407.7 (1.47×) | 1.13 | 132 / 116 |
| U-Net-Large | edge | 40.00 % | 38.433 (−38.0 %) | 596.4 | 609.3 (0.98×) | 695.6 (0.86×) | 1.14 | 126 / 111 |
| U-Net-Large | mv | 0.98 % | 0.376 (−99.4 %) | 597.3 | 18.0 (33.23×) | 23.6 (25.31×) | 1.31 | 42 / 32 |
| U-Net-Large | mv | 2.03 % | 0.787 (−98.7 %) | 605.6 | 26.6 (22.73×) | 34.0 (17.81×) | 1.28 | 59 / 46 |
| U-Net-Large | mv | 4.98 % | 1.970 (−96.8 %) | 600.3 | 46.8 (12.84×) | 57.7 (10.41×) | 1.23 | 84 / 68 |
| U-Net-Large | mv | 10.01 % | 4.073 (−93.4 %) | 597.9 | 81.8 (7.31×) | 98.3 (6.08×) | 1.20 | 100 / 83 |
| U-Net-Large | mv | 20.02 % | 8.625 (−86.1 %) | 598.8 | 162.9 (3.68×) | 179.6 (3.33×) | 1.10 | 106 / 96 |
| U-Net-Large | mv | 39.99 % | 18.950 (−69.5 %) | 601.6 | 399.3 (1.51×) | 361.7 (1.66×) | 0.91 | 95 / 105 |

Crossover density (sparse = dense; log-log interpolated):

| backbone | pattern | dense ms (median) | crossover own | crossover spconv |
|---|---|---:|---:|---:|
| DHP19 | edge | 35.7 | 3.4 % | 1.4 % |
| DHP19 | mv | 35.3 | 16.6 % | 10.2 % |
| U-Net-Small | edge | 166.3 | 30.3 % | 32.8 % |
| U-Net-Small | mv | 165.9 | 39.3 % | > 40 % |
| U-Net-Large | edge | 600.1 | 38.9 % | 32.8 % |
| U-Net-Large | mv | 599.5 | > 40 % | > 40 % |

SPHP's table beside ours:

| backbone | SPHP params | SPHP GFLOPs dense → sparse (saving) | SPHP FPS dense → sparse (speed-up) | our input | our GMACs dense → active (saving) | our FPS dense → own sparse (speed-up) |
|---|---:|---:|---:|---|---:|---:|
| DHP19 | 218K | 275.45 → 33.25 (−87 %) | 26.89 → 38.88 (1.5×) | ed (3.4 %) | 3.50 → 0.440 (−87.6 %) | 28.12 → 43.14 (1.53×) |
|  | | | | mv (14.2 %) | 3.52 → 0.502 (−86.0 %) | 28.44 → 42.71 (1.50×) |
|  | | | | fs (16.0 %) | 3.54 → 0.752 (−79.1 %) | 28.04 → 28.10 (1.00×) |
| U-Net-Small | 1.9M | 1135 → 46.74 (−96 %) | 11.82 → 36.13 (3×) | ed (3.4 %) | 15.54 → 0.882 (−94.3 %) | 6.15 → 43.39 (7.05×) |
|  | | | | mv (14.2 %) | 15.57 → 2.088 (−86.6 %) | 6.17 → 20.22 (3.28×) |
|  | | | | fs (16.0 %) | 15.60 → 2.566 (−83.5 %) | 6.23 → 14.75 (2.37×) |
| U-Net-Large | 7.7M | 4510 → 186.8 (−96 %) | 1.07 → 13.89 (13×) | ed (3.4 %) | 61.99 → 3.522 (−94.3 %) | 1.67 → 14.88 (8.89×) |
|  | | | | mv (14.2 %) | 62.05 → 8.320 (−86.6 %) | 1.67 → 7.32 (4.39×) |
|  | | | | fs (16.0 %) | 62.12 → 10.222 (−83.5 %) | 1.65 → 5.91 (3.58×) |

SPHP: Intel Core i9-7940 3.1 GHz, SparseConvNet, as published. Their GFLOPs are about 73× our per-frame dense MAC count of the same networks: only the savings (%) and the speed-ups compare.

Goals:

- U-Net-Large, own sparse backend, measured edge input (3.35 % active): 598 → 67 ms, speed-up 8.89× against SPHP's 13× (not met; MACs −94.3 % against SPHP's −96 %).
- own vs spconv: spconv ms / own ms, median 1.20 over 36 sweep points (range 0.83–2.42; > 1 = own faster); goal: own at least as fast as spconv (met).
- DHP19: own vs spconv outputs, max |diff| 1.98e-09 (max |output| 1.61e-03) over 15 inputs: the same computation timed.
- U-Net-Small: own vs spconv outputs, max |diff| 1.12e-08 (max |output| 4.45e-02) over 15 inputs: the same computation timed.
- U-Net-Large: own vs spconv outputs, max |diff| 1.21e-08 (max |output| 3.14e-02) over 15 inputs: the same computation timed.

GMACs dense: the dense model (posekit.bench.count_macs); active: the sparse model's MACs at its active sites; saving against the same layers run densely (posekit.sparse.count_macs). GFLOP/s = 2 × MACs / time.
"""  # noqa: E501 (the tables' rows, as printed)


def _parse_size(text: str) -> tuple[int, int]:
    try:
        h, w = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected HxW, e.g. 288x384, got {text!r}") from None
    return h, w


def _names(text: str) -> tuple[str, ...]:
    return tuple(v for v in text.split(",") if v)


def main(argv: list[str] | None = None) -> int:
    """``python -m posekit.lab.sparse_bench``: measure, print the tables; 0 on success."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--backbones",
        type=_names,
        default=tuple(BACKBONE_NAMES),
        help="comma-separated: dhp19,unet_small,unet_large (all)",
    )
    p.add_argument(
        "--inputs",
        type=_names,
        default=tuple(INPUT_CHANNELS),
        help="measured inputs, comma-separated: ed,mv,fs (all); '' for none",
    )
    p.add_argument(
        "--densities",
        default=None,
        help="sweep densities in percent, comma-separated (1,2,5,10,20,40); '' for none",
    )
    p.add_argument(
        "--patterns", type=_names, default=tuple(PATTERNS), help="sweep patterns: edge,mv (both)"
    )
    p.add_argument(
        "--backends",
        type=_names,
        default=BACKENDS,
        help="sparse backends: posekit,spconv (both; posekit first)",
    )
    p.add_argument("--runs", type=int, default=None, help="timed calls per measurement (7)")
    p.add_argument("--warmup", type=int, default=None, help="untimed calls first (3)")
    p.add_argument("--threads", type=int, default=2, help="torch threads (2)")
    p.add_argument("--size", type=_parse_size, default=None, help="input HxW (288x384)")
    p.add_argument("--quick", action="store_true", help="a smoke run: 72x96, 1 run, 2 densities")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    a = p.parse_args(argv)
    densities = None
    if a.densities is not None:
        try:
            densities = tuple(float(v) for v in a.densities.split(",") if v)
        except ValueError:
            p.error(f"--densities: expected numbers in percent, got {a.densities!r}")
    try:
        result = run(a.backbones, a.inputs, densities, a.patterns, a.backends, a.size,
                     a.threads, a.runs, a.warmup, quick=a.quick,
                     progress=not a.no_progress)  # fmt: skip
    except ValueError as err:
        p.error(str(err))
    print(format_report(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
