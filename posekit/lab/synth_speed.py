"""Throughput of SynthPose on one core (``posekit bench synth``): ``bench_synth() -> dict`` of
median images/s, ``bench_table(result)`` the report against the targets.

Settings (the course's requirements): 128x128 single-person crops (>= 500 images/s) and
456x256 scenes with 5 people (>= 100 scenes/s). Samples are generated as a data loader would,
sample i of stream ``seed`` from ``sample_rng(seed, i)``; crops are measured both one by one
(``SynthPose[i]``) and in batches of 64 (``SynthPose.__getitems__``, which a torch
``DataLoader`` uses automatically). Each setting runs ``repeats`` times on fresh indices; the
median rate is reported. Other processes on the machine slow it down: compare ratios.
"""

from __future__ import annotations

import time

import cv2
import numpy as np

from posekit.synth.backgrounds import texture_bank
from posekit.synth.scenes import sample_people, sample_person, sample_rng, sample_scene


def _rate(fn, n: int, repeats: int) -> tuple[float, list[float]]:
    rates = []
    for r in range(repeats):
        start = (r + 1) * 1_000_000  # fresh indices each repeat
        t0 = time.perf_counter()
        fn(start, n)
        rates.append(n / (time.perf_counter() - t0))
    return float(np.median(rates)), [round(x, 1) for x in rates]


def _crops(start: int, n: int) -> None:
    for i in range(start, start + n):
        sample_person(sample_rng(0, i))


def _crops_batched(start: int, n: int, batch: int = 64) -> None:
    for b in range(start, start + n, batch):
        sample_people([sample_rng(0, i) for i in range(b, min(b + batch, start + n))])


def _scenes(start: int, n: int) -> None:
    for i in range(start, start + n):
        sample_scene(sample_rng(0, i), size=(456, 256), num_people=5)


def bench_synth(n: int = 300, repeats: int = 5) -> dict:
    """Median images/s of SynthPose on one thread (torch and OpenCV set to 1 thread).

    Args:
        n: crops per repeat (scenes use ``n // 3``). repeats: timed repeats.
    Returns:
        dict with ``person_128`` (one-by-one crops/s), ``person_128_batched`` (batches of 64),
        ``scene_456x256_5p`` (scenes/s), the per-repeat rates under ``runs`` and the settings.
    """
    import torch

    threads = torch.get_num_threads(), cv2.getNumThreads()
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    try:
        texture_bank()  # built once per process; not part of the per-image cost
        _crops(0, 8)
        _crops_batched(0, 8)
        _scenes(0, 2)
        person, runs_p = _rate(_crops, n, repeats)
        batched, runs_b = _rate(_crops_batched, n, repeats)
        scene, runs_s = _rate(_scenes, max(1, n // 3), repeats)
    finally:
        torch.set_num_threads(threads[0])
        cv2.setNumThreads(threads[1])
    return {
        "person_128": round(person, 1),
        "person_128_batched": round(batched, 1),
        "scene_456x256_5p": round(scene, 1),
        "runs": {"person_128": runs_p, "person_128_batched": runs_b, "scene_456x256_5p": runs_s},
        "n": n,
        "repeats": repeats,
    }


BENCH_ROWS = (  # (bench_synth key, setting, target images/s)
    ("person_128", "128×128 person crops, one by one", 500),
    ("person_128_batched", "128×128 person crops, batched (as a DataLoader gets them)", 500),
    ("scene_456x256_5p", "456×256 scenes, 5 people", 100),
)


def bench_table(result: dict) -> str:
    """The ``posekit bench synth`` table of a ``bench_synth`` result."""
    head = ("setting", "images/s (median)", "target", "✓/✗")
    rows = [(name, f"{result[key]:.1f}", f"{target}", "✓" if result[key] >= target else "✗")
            for key, name, target in BENCH_ROWS]  # fmt: skip
    widths = [max(len(r[c]) for r in (head, *rows)) for c in range(4)]
    lines = [" | ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip()
             for r in (head, *rows)]  # fmt: skip
    lines.insert(1, "-|-".join("-" * w for w in widths))
    return "\n".join(lines)


if __name__ == "__main__":
    print(bench_table(bench_synth()))
