"""``posekit bench postprocess``: OpenPose post-processing, naive vs at map resolution.

Lightweight OpenPose's author (Osokin 2018) profiled the original OpenPose post-processing
on a 6-core i7: *resize feature maps* 10.5 fps, *extract keypoints* 1.81 fps,
*group keypoints* 454 fps, total 1.54 fps — the resizing of the maps to the image size and
the peak search on those big maps, not the grouping, were the bottleneck. They made it
~125–160 fps (parallel C++ peak extraction). This benchmark reproduces the comparison in
Python on one thread:

* **naive** (OpenPose / Lightweight OpenPose's ``demo.py`` order): upsample the 19 heatmaps
  and 38 PAFs ×``stride`` to the input size with ``cv2.INTER_CUBIC``, find peaks per
  channel at full resolution (threshold 0.1, strictly above the 4 neighbours, sorted by x,
  greedy 6-px suppression in a Python loop), then group at full resolution (PAF read at the
  rounded sample points);
* **optimised** (``posekit.codecs.grouping.group``): no resizing; peaks at map resolution with
  sub-pixel Taylor refinement, the line integral read bilinearly at the 10 sample points
  only, every step vectorised with numpy.

Both paths share the limb scoring, matching and assembly code, so the comparison isolates
where the maps are processed. The maps are *synthesised*, not predicted: SynthPose people
encoded with ``codecs.paf`` (clean targets, optional Gaussian noise), so the true people are
known and each path's recovery (OKS AP, people found, joint error) is printed beside its
speed.

Layouts (``synth_people``): ``"separated"`` places ``num_people`` SynthPose people (real
rendered poses, rescaled) at random positions so that the problem is well-posed at the map
resolution — same-type joints of different people ≥ ``min_gap`` map pixels apart and no two
people's fields of the same limb touching — so that perfect maps determine every person;
``"scene"`` takes a ``SynthPoseBottomUp`` scene as rendered (people overlap and are cut by
the border; some are ambiguous even on perfect maps at stride 8).
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable

import cv2
import numpy as np

from posekit.codecs import grouping
from posekit.codecs.paf import keypoint_heatmaps, limb_support, paf_targets
from posekit.evaluation import match_people
from posekit.skeletons import COCO17, OPENPOSE18, convert

LAYOUTS = ("separated", "scene")
STAGES = ("resize", "extract", "group", "total")
GOAL_MS = 4.0
"""Goal for the optimised path's total at 20 people, 456×256 (one thread)."""


# --------------------------------------------------------------------------- people


@functools.lru_cache(maxsize=8)
def _pose_pool(seed: int, size: tuple[int, int], count: int) -> tuple[np.ndarray, np.ndarray]:
    """``count`` fully labelled COCO-17 people ``(M, 17, 3)`` and their boxes ``(M, 4)``,
    from SynthPoseBottomUp val scenes (rendered once per process)."""
    from posekit.datasets.synthpose import SynthPoseBottomUp

    kps, boxes, i = [], [], 0
    ds = SynthPoseBottomUp("val", 10**6, size=size, num_people=(3, 6), seed=seed)
    while sum(len(k) for k in kps) < count:
        item = ds[i]
        kp, box = item["keypoints"].numpy(), item["bboxes"].numpy()
        full = (kp[..., 2] > 0).all(axis=1) & (box[:, 3] > 0)
        kps.append(kp[full])
        boxes.append(box[full])
        i += 1
    return np.concatenate(kps)[:count], np.concatenate(boxes)[:count]


def _fits(kp18, placed, cover, map_size, stride, min_gap, width, margin) -> np.ndarray | None:
    """The new person's dilated limb support ``(L, h, w)`` if it keeps the scene well-posed
    with the ``placed`` joints ``(N, 18, 2)`` (map px) and the union ``cover``; else None."""
    uv = (kp18[:, :2] + 0.5) / np.asarray(stride) - 0.5
    if placed.size:
        gap = np.hypot(*(placed - uv[None]).transpose(2, 0, 1))  # (N, 18)
        if (gap < min_gap).any():
            return None
    on, _ = limb_support(kp18[None], map_size, stride, OPENPOSE18.limbs, width, margin)
    if (on[0] & cover).any():
        return None
    return on[0]


def synth_people(
    num_people: int,
    size: tuple[int, int] = (456, 256),
    seed: int = 0,
    layout: str = "separated",
    stride: int = 8,
    min_gap: float = 4.0,
    height: tuple[float, float] = (0.25, 0.5),
    tries: int = 200,
) -> dict[str, np.ndarray]:
    """People for a synthetic scene: COCO-17 keypoints, boxes and OKS areas.

    ``"scene"``: item 0 of ``SynthPoseBottomUp("val", size=size, num_people=num_people,
    seed=seed)`` as rendered (people with no labelled joint are dropped by the dataset).

    ``"separated"``: fully labelled SynthPose people, each rescaled to a height (top of the
    box to its bottom) uniform in ``height`` × image height and dropped at a random place
    inside the image, its box ≥ 2 map pixels from the border. A place is accepted when, at
    map resolution (``stride``), every joint (OpenPose-18, neck included) lies ``≥ min_gap``
    map px from the same joint of every other person, and the person's limb supports grown
    by half a pixel (``limb_support`` with width 1.5, end margin 1.5) touch no other person's
    grown support of the same limb: then perfect maps hold each person's joints as separate
    peaks and each limb's field belongs to one person (no averaging). After ``tries`` failed
    places the height range shrinks by 10 %. Deterministic for a seed.

    Returns:
        ``{"keypoints": (N, 17, 3), "bboxes": (N, 4), "areas": (N,)}`` float32, input pixels.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"layout: expected one of {LAYOUTS}, got {layout!r}")
    if int(num_people) < 1:
        raise ValueError(f"num_people: expected an integer >= 1, got {num_people!r}")
    W, H = size
    if layout == "scene":
        from posekit.datasets.synthpose import SynthPoseBottomUp

        item = SynthPoseBottomUp("val", 1, size=size, num_people=int(num_people), seed=seed)[0]
        return {k: item[k].numpy().astype(np.float32) for k in ("keypoints", "bboxes", "areas")}
    pool_kp, pool_box = _pose_pool(seed, (456, 256), max(40, 2 * int(num_people)))
    rng = np.random.default_rng([seed, int(num_people), W, H])
    map_size = (W // stride, H // stride)
    cover = np.zeros((len(OPENPOSE18.limbs), map_size[1], map_size[0]), bool)
    placed = np.zeros((0, 18, 2))
    kps, boxes = [], []
    lo, hi = height
    edge = 2 * stride  # no Gaussian reaches the image border (see naive_path)
    while len(kps) < num_people:
        j = int(rng.integers(len(pool_kp)))
        kp, box = pool_kp[j].astype(np.float64), pool_box[j].astype(np.float64)
        for _ in range(tries):
            scale = rng.uniform(lo, hi) * H / box[3]
            bw, bh = box[2] * scale, box[3] * scale
            if bw >= W - 2 * edge or bh >= H - 2 * edge:
                continue
            x0 = rng.uniform(edge, W - edge - bw)
            y0 = rng.uniform(edge, H - edge - bh)
            new = kp.copy()
            new[:, :2] = (kp[:, :2] - box[:2]) * scale + (x0, y0)
            kp18 = convert(new.astype(np.float32), COCO17, OPENPOSE18).astype(np.float64)
            on = _fits(kp18, placed, cover, map_size, stride, min_gap, 1.5, 1.5)
            if on is not None:
                cover |= on
                uv = (kp18[None, :, :2] + 0.5) / stride - 0.5
                placed = np.concatenate([placed, uv])
                kps.append(new)
                boxes.append([x0, y0, bw, bh])
                break
        else:
            lo, hi = 0.9 * lo, 0.9 * hi
    kp = np.asarray(kps, np.float32)
    bb = np.asarray(boxes, np.float32)
    return {"keypoints": kp, "bboxes": bb, "areas": bb[:, 2] * bb[:, 3]}


def synth_maps(
    keypoints, size=(456, 256), stride: int = 8, noise: float = 0.0, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Network-like outputs for COCO-17 people: ``(19, h, w)`` heatmaps (with background)
    and ``(38, h, w)`` PAFs at ``stride`` (``keypoint_heatmaps`` σ = 7 input px,
    ``paf_targets`` width 1, end margin 1 as OpenPose's training code), plus i.i.d.
    ``N(0, noise²)`` when ``noise > 0``. float32."""
    W, H = size
    map_size = (W // stride, H // stride)
    op = convert(np.asarray(keypoints, np.float32), COCO17, OPENPOSE18).reshape(-1, 18, 3)
    hm = keypoint_heatmaps(op, map_size, stride, sigma=7.0 / stride)
    paf = paf_targets(op, map_size, stride, limb_width=1.0, end_margin=1.0)
    if noise > 0:
        rng = np.random.default_rng(seed)
        hm = hm + rng.normal(0, noise, hm.shape).astype(np.float32)
        paf = paf + rng.normal(0, noise, paf.shape).astype(np.float32)
    return hm, paf


# --------------------------------------------------------------------------- the two paths


def resize_maps(heatmaps, pafs, factor: int) -> tuple[np.ndarray, np.ndarray]:
    """Upsample ``(C, h, w)`` maps ×``factor`` with ``cv2.INTER_CUBIC`` (OpenPose's step 1).

    cv2's pixel-area convention is posekit's: upsampled pixel ``X`` is map coordinate
    ``(X + 0.5)/factor - 0.5``."""
    out = []
    for maps in (heatmaps, pafs):
        hwc = np.ascontiguousarray(np.transpose(maps, (1, 2, 0)))
        big = cv2.resize(hwc, None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC)
        out.append(np.ascontiguousarray(np.transpose(big, (2, 0, 1))))
    return out[0], out[1]


def naive_peaks(heatmaps, threshold: float = 0.1, min_distance: float = 6.0) -> grouping.Peaks:
    """Lightweight OpenPose's ``extract_keypoints`` behaviour (Osokin 2018, its code),
    channel by channel on full-resolution maps: zero values below ``threshold``, keep pixels
    strictly above their 4 neighbours, sort by x, drop (Python loop) any peak closer than
    ``min_distance`` px to an earlier kept one. Integer positions, no refinement."""
    xy, score, joint = [], [], []
    for k, hm in enumerate(heatmaps):
        m = np.where(hm < threshold, 0, hm)
        p = np.pad(m, 1)
        c = p[1:-1, 1:-1]
        peak = (c > p[1:-1, :-2]) & (c > p[1:-1, 2:]) & (c > p[:-2, 1:-1]) & (c > p[2:, 1:-1])
        ys, xs = np.nonzero(peak)
        order = np.argsort(xs, kind="stable")
        kept: list[tuple[int, int]] = []
        for x, y in zip(xs[order].tolist(), ys[order].tolist(), strict=True):
            if all((x - kx) ** 2 + (y - ky) ** 2 >= min_distance**2 for kx, ky in kept):
                kept.append((x, y))
        for x, y in kept:
            xy.append((x, y))
            score.append(float(hm[y, x]))
            joint.append(k)
    xy_a = np.asarray(xy, np.float64).reshape(-1, 2)
    joint_a = np.asarray(joint, np.int64)
    counts = np.bincount(joint_a, minlength=len(heatmaps))
    return grouping.Peaks(xy_a, np.asarray(score, np.float64), joint_a, counts)


def _group_peaks(pafs, peaks, stride, interpolation: str) -> grouping.People:
    cands = grouping.score_limbs(pafs, peaks, interpolation=interpolation)
    ids, totals = grouping.assemble(peaks, grouping.match_limbs(cands))
    return grouping._people(peaks, ids, totals, stride)


def naive_path(heatmaps, pafs, stride: int = 8, timer: Callable | None = None):
    """Resize ×stride (cubic) → ``naive_peaks`` → group at full resolution (nearest).

    A known artefact of this order: ``cv2.resize`` extrapolates beyond the outermost map
    pixel centres by reflection (``BORDER_REFLECT_101``), so a Gaussian tail that decreases
    toward the image edge rises again in the last half map pixel, and the edge pixel becomes
    a spurious peak; people within ~2 map pixels of the border then gain stray joints. The
    map-resolution path has no such pixels (its border peaks are refined, not extrapolated).
    """
    clock = timer or (lambda: None)
    big_hm, big_paf = resize_maps(heatmaps, pafs, stride)
    clock()
    peaks = naive_peaks(big_hm[: OPENPOSE18.num_joints])
    clock()
    people = _group_peaks(big_paf, peaks, 1, "nearest")
    clock()
    return people


def optimized_path(heatmaps, pafs, stride: int = 8, timer: Callable | None = None):
    """No resize → ``grouping.find_peaks`` (Taylor refinement) → group at map resolution."""
    clock = timer or (lambda: None)
    clock()
    peaks = grouping.find_peaks(heatmaps[: OPENPOSE18.num_joints])
    clock()
    people = _group_peaks(pafs, peaks, stride, "bilinear")
    clock()
    return people


# --------------------------------------------------------------------------- measuring


def _timed(path, hm, paf, stride) -> tuple[list[float], list[float], object]:
    """Wall and thread-CPU seconds of (resize, extract, group) for one run, and the result."""
    wall, cpu = [time.perf_counter()], [time.thread_time()]

    def tick():
        wall.append(time.perf_counter())
        cpu.append(time.thread_time())

    people = path(hm, paf, stride, tick)
    return list(np.diff(wall)), list(np.diff(cpu)), people


def _accuracy(results, scenes, size) -> dict:
    """OKS AP over all scenes; people found / matched (OKS ≥ 0.5); of the matched people's
    labelled joints, the % found and their mean error (input pixels); ``ids``: the set of
    matched ``(scene, true person)``."""
    from posekit.metrics import coco_gt_dict, coco_results, oks_ap

    gts = [s["keypoints"] for s in scenes]
    ids = np.repeat(np.arange(1, len(scenes) + 1), [len(g) for g in gts])
    gt = coco_gt_dict(
        np.concatenate(gts),
        (size[1], size[0]),
        np.concatenate([s["bboxes"] for s in scenes]),
        np.concatenate([s["areas"] for s in scenes]),
        ids,
    )
    kps, scs, det, matched, errs, n_lab, matched_ids = [], [], [], 0, [], 0, set()
    for i, (p, s) in enumerate(zip(results, scenes, strict=True)):
        kps.append(p.keypoints)
        scs.append(p.scores)
        det += [i + 1] * len(p.scores)
        g, q, o = match_people(p.keypoints, s["keypoints"], s["areas"])
        good = o >= 0.5
        matched += int(good.sum())
        matched_ids |= {(i, int(k)) for k in g[good]}
        for gi, qi in zip(g[good], q[good], strict=True):
            lab = s["keypoints"][gi, :, 2] > 0
            found = lab & (p.keypoints[qi, :, 2] > 0)
            d = p.keypoints[qi, found, :2] - s["keypoints"][gi, found, :2]
            errs.append(np.hypot(d[:, 0], d[:, 1]))
            n_lab += int(lab.sum())
    ap = float("nan")
    if det:
        ap = oks_ap(gt, coco_results(np.concatenate(kps), np.concatenate(scs), np.asarray(det)))[
            "AP"
        ]
    return {
        "AP": ap,
        "found": sum(len(p.scores) for p in results),
        "matched": matched,
        "true": len(gt["annotations"]),
        "ids": matched_ids,
        "joints": 100.0 * sum(e.size for e in errs) / max(n_lab, 1),
        "error": float(np.concatenate(errs).mean()) if n_lab else float("nan"),
    }


def bench_postprocess(
    people: int = 20,
    size: tuple[int, int] = (456, 256),
    stride: int = 8,
    runs: int = 50,
    scenes: int = 5,
    noise: float = 0.0,
    layout: str = "separated",
    seed: int = 0,
) -> dict:
    """Time both paths on ``scenes`` synthetic scenes (at most ``runs``), ``runs`` runs in all
    (round robin).

    OpenCV runs on one thread (restored afterwards), numpy is single-threaded for these
    sizes. Each run times the stages with ``time.perf_counter`` (wall) and
    ``time.thread_time`` (CPU of this thread: robust to other processes on a shared
    machine). The first pass over the scenes is a warm-up and is not timed.

    Returns:
        dict: ``naive`` / ``optimized`` → ``{"wall": {stage: median ms}, "cpu": {...},
        "accuracy": _accuracy(...)}`` with stages ``resize``, ``extract``, ``group``,
        ``total`` (medians of the per-run values; ``total`` is the per-run sum), and
        ``settings``: the arguments, the true people per scene, the CPU count and the
        1-minute load average after the run (other processes stretch wall times).
    """
    if stride < 1 or size[0] % stride or size[1] % stride:
        raise ValueError(f"size: {size} must be a multiple of the stride {stride}")
    if runs < 1 or scenes < 1:
        raise ValueError(f"runs and scenes must be >= 1, got {runs} and {scenes}")
    scenes = min(scenes, runs)  # every scene is timed at least once
    data = [synth_people(people, size, seed + i, layout, stride) for i in range(scenes)]
    maps = [synth_maps(d["keypoints"], size, stride, noise, seed + i) for i, d in enumerate(data)]
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    out = {}
    try:
        for name, path in (("naive", naive_path), ("optimized", optimized_path)):
            results = [path(hm, paf, stride) for hm, paf in maps]  # warm-up + accuracy
            wall, cpu = [], []
            for r in range(runs):
                hm, paf = maps[r % scenes]
                w_, c_, _ = _timed(path, hm, paf, stride)
                wall.append(w_ + [sum(w_)])
                cpu.append(c_ + [sum(c_)])
            out[name] = {
                "wall": dict(zip(STAGES, 1e3 * np.median(wall, axis=0), strict=True)),
                "cpu": dict(zip(STAGES, 1e3 * np.median(cpu, axis=0), strict=True)),
                "accuracy": _accuracy(results, data, size),
            }
    finally:
        cv2.setNumThreads(threads)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    out["settings"] = {
        "people": people,
        "size": tuple(size),
        "stride": stride,
        "runs": runs,
        "scenes": scenes,
        "noise": noise,
        "layout": layout,
        "true_people": [len(d["keypoints"]) for d in data],
        "load": load,
        "cpus": os.cpu_count(),
    }
    return out


def _fps(ms: float) -> str:
    return "∞" if ms <= 0 else f"{1e3 / ms:.0f}"


def format_report(result: dict) -> str:
    """The printed tables of ``bench_postprocess`` (ms and fps per stage, ✓/✗ vs 4 ms)."""
    st = result["settings"]
    w, h = st["size"]
    lines = [
        f"OpenPose post-processing, {st['people']} people at {w}×{h}, stride {st['stride']} "
        f"({w // st['stride']}×{h // st['stride']} maps: 19 heatmaps + 38 PAFs), layout "
        f"{st['layout']}, noise σ {st['noise']:g}; median of {st['runs']} runs over "
        f"{st['scenes']} scenes, one thread",
    ]
    head = ("path", "clock", "resize maps", "extract keypoints", "group keypoints", "total")
    rows = []
    for name in ("naive", "optimized"):
        for clock in ("wall", "cpu"):
            v = result[name][clock]
            cells = [f"{v[k]:.2f} ms ({_fps(v[k])} fps)" for k in STAGES]
            if name == "optimized":
                cells[0] = "— (none)"
            rows.append((name, clock, *cells))
    widths = [max(len(r[c]) for r in (head, *rows)) for c in range(len(head))]
    fmt = [" | ".join(v.ljust(wd) for v, wd in zip(r, widths, strict=True)).rstrip()
           for r in (head, *rows)]  # fmt: skip
    fmt.insert(1, "-|-".join("-" * wd for wd in widths))
    lines += fmt
    opt = result["optimized"]
    marks = {c: "✓" if opt[c]["total"] <= GOAL_MS else "✗" for c in ("wall", "cpu")}
    speed = result["naive"]["wall"]["total"] / max(opt["wall"]["total"], 1e-9)
    lines.append(
        f"optimized total vs goal ≤ {GOAL_MS:g} ms (20 people): wall {opt['wall']['total']:.2f} "
        f"ms {marks['wall']}, CPU {opt['cpu']['total']:.2f} ms {marks['cpu']}; speed-up "
        f"×{speed:.0f} over naive (wall)"
    )
    if st.get("load") is not None:
        lines.append(
            f"machine: {st['cpus']} CPUs, load average {st['load']:.1f} during the run (wall "
            "times include waiting for a CPU; the CPU clock counts this thread only)"
        )
    lines.append("recovery against the ground truth (people matched at OKS ≥ 0.5; their joints):")
    for name in ("naive", "optimized"):
        a = result[name]["accuracy"]
        lines.append(
            f"  {name:<9} OKS AP {a['AP']:.3f}, people found {a['found']}, matched "
            f"{a['matched']}/{a['true']}, joints found {a['joints']:.1f} %, mean error "
            f"{a['error']:.2f} px"
        )
    same = result["naive"]["accuracy"]["ids"] == result["optimized"]["accuracy"]["ids"]
    lines.append(f"both paths recover the same people: {'yes' if same else 'no'}")
    return "\n".join(lines)


def main(people: int = 20, size=(456, 256), runs: int = 50, noise: float = 0.0,
         layout: str = "separated") -> dict:  # fmt: skip
    """Run and print (what ``posekit bench postprocess`` calls)."""
    result = bench_postprocess(people=people, size=tuple(size), runs=runs, noise=noise,
                               layout=layout)  # fmt: skip
    print(format_report(result))
    return result


if __name__ == "__main__":
    main()
