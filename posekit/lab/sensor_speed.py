"""Throughput of the synthesised sensor inputs (``posekit.sensors``) at SPHP's 384×288:
``bench_sensors() -> dict`` of median frames/s, ``format_sensors(result)`` the table.

Measured on one SynthPose exercise clip (``SynthPoseSequences``, rendered once, not timed),
one process with OpenCV and torch on ``threads`` threads: each input is computed for every
frame of the clip, ``repeats`` times, and the median rate is reported. Motion inputs take the
previous frame too (``n_frames − 1`` pairs); events process the whole clip in one call. The
rates include the RGB → grey conversion and the SPHP encoding. Other processes on the machine
slow it down: compare ratios.
"""

from __future__ import annotations

import time

import cv2
import numpy as np

from posekit import sensors

ROWS = (  # (bench_sensors key, what it times)
    ("edges", "edges (Canny, 5×5 binomial blur)"),
    ("mv_block", "motion vectors, block matching 16 px ±8 (SAD, full search)"),
    ("mv_flow", "motion vectors, Farnebäck flow per 8 px block"),
    ("events", "DVS events (log-intensity threshold 0.2)"),
)

RESULTS = """\
bench_sensors() at 384×288 (SynthPose jumping-jack clip), 16 frames, one thread; three runs
(medians of 5, 5 and 7 repeats) on a 2-core machine shared with three other engineers' jobs
(load average 2-5), so the absolute rates moved up to 2.5× between runs; ratios are steadier:

setting                                                     | frames/s (median), 3 runs
------------------------------------------------------------|---------------------------
edges (Canny, 5×5 binomial blur)                            | 3206 / 1289 / 1661
motion vectors, block matching 16 px ±8 (SAD, full search)  | 75.5 / 35.8 / 53.3
motion vectors, Farnebäck flow per 8 px block               | 27.7 / 24.0 / 24.5
DVS events (log-intensity threshold 0.2)                    | 1044 / 1049 / 1045

Block matching (289 whole-image passes) runs at 1.5-2.7× the dense flow's rate; edges and
events cost about 1 ms a frame or less, so the motion vectors dominate making SPHP inputs.
"""


def _clip(n_frames: int, size: tuple[int, int], seed: int) -> np.ndarray:
    from posekit.datasets.synthpose import SynthPoseSequences

    ds = SynthPoseSequences("val", length=16, n_frames=n_frames, size=size, seed=seed,
                            actions=[13], frames="uint8")  # fmt: skip  # jumping jack, C4
    return ds[0]["frames"].numpy()


def _work(clip: np.ndarray) -> dict:
    pairs = list(zip(clip[:-1], clip[1:], strict=True))

    def block(p, c):
        return sensors.motion_vectors(p, c, block=16, method="block", search=8)

    return {
        "edges": (len(clip), lambda: [sensors.edges(f) for f in clip]),
        "mv_block": (len(pairs), lambda: [block(p, c) for p, c in pairs]),
        "mv_flow": (len(pairs), lambda: [sensors.motion_vectors(p, c) for p, c in pairs]),
        "events": (len(clip), lambda: sensors.events(clip)),
    }


def bench_sensors(
    n_frames: int = 16,
    repeats: int = 5,
    size: tuple[int, int] = (384, 288),
    threads: int = 1,
    seed: int = 0,
) -> dict:
    """Median frames/s of each synthesised sensor input on one SynthPose clip.

    Args:
        n_frames: clip length (>= 2). repeats: timed repeats (one untimed warm-up first).
        size: frame ``(width, height)``. threads: OpenCV / torch threads while timing.
    Returns:
        dict with ``edges``, ``mv_block``, ``mv_flow``, ``events`` (median frames/s), the
        per-repeat rates under ``runs`` and the settings (``n_frames``, ``repeats``, ``size``,
        ``threads``).
    """
    import torch

    from posekit.validate import check_int, size2

    check_int("n_frames", n_frames, minimum=2)
    check_int("repeats", repeats)
    check_int("threads", threads)
    size = size2(size, "size")
    clip = _clip(n_frames, size, seed)
    saved = torch.get_num_threads(), cv2.getNumThreads()
    torch.set_num_threads(threads)
    cv2.setNumThreads(threads)
    result: dict = {"runs": {}}
    try:
        for key, (n, fn) in _work(clip).items():
            fn()  # warm-up
            rates = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                fn()
                rates.append(n / (time.perf_counter() - t0))
            result[key] = round(float(np.median(rates)), 1)
            result["runs"][key] = [round(r, 1) for r in rates]
    finally:
        torch.set_num_threads(saved[0])
        cv2.setNumThreads(saved[1])
    result.update(n_frames=n_frames, repeats=repeats, size=list(size), threads=threads)
    return result


def format_sensors(result: dict) -> str:
    """The table of a ``bench_sensors`` result: one row per input, median frames/s."""
    head = ("setting", "frames/s (median)")
    rows = [(name, f"{result[key]:.1f}") for key, name in ROWS]
    widths = [max(len(r[c]) for r in (head, *rows)) for c in range(2)]
    lines = [" | ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip()
             for r in (head, *rows)]  # fmt: skip
    lines.insert(1, "-|-".join("-" * w for w in widths))
    w, h = result["size"]
    title = (f"{w}×{h}, {result['n_frames']} frames, median of {result['repeats']}, "
             f"{result['threads']} thread(s)")  # fmt: skip
    return title + "\n" + "\n".join(lines)


if __name__ == "__main__":
    print(format_sensors(bench_sensors()))
