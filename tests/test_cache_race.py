"""SynthPose disk cache with several builders at once (issue 12 item 3).

Lessons 01-03 build the same val cache and ``make test`` runs notebooks two at a time, so
real processes (spawned, each with its own interpreter) build the same tiny cache at the same
moment, released together by a barrier, for several rounds, while another process keeps
reading it. Every builder must return without error, every reader must see either no cache
or a complete one, and the cache must equal a fresh render byte for byte.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import queue
import subprocess
import sys
import time
import traceback
from pathlib import Path

import numpy as np
import pytest

from posekit.datasets.synthpose import CachedDataset, SynthPoseTopDown, cache_dataset

BUILDERS = 2
ROUNDS = 8


def _dataset() -> SynthPoseTopDown:
    return SynthPoseTopDown("val", 6, input_size=(32, 32))


def _build(barrier, root: str, rounds: int, out) -> None:
    """Builder process: build ``root/r<k>`` for each round, all builders released at once."""
    ds = _dataset()
    ds._render([0])  # warm up (background bank) outside the race
    for k in range(rounds):
        barrier.wait(timeout=30)
        try:
            cache_dataset(ds, Path(root) / f"r{k}", progress=False, batch_size=2)
            out.put(("ok", k, ""))
        except Exception:  # noqa: BLE001 - report it to the parent, whatever it is
            out.put(("crash", k, traceback.format_exc()))


def _read(barrier, root: str, rounds: int, out) -> None:
    """Reader process: open each round's cache while it is being built; a cache it can open
    must be complete (its images are compared with a fresh render by the parent)."""
    fresh = np.stack([r["image"] for r in _dataset()._render(list(range(6)))])
    for k in range(rounds):
        barrier.wait(timeout=30)
        path = Path(root) / f"r{k}"
        for _ in range(200):
            try:
                cache = CachedDataset(path)
            except FileNotFoundError:
                time.sleep(0.005)
                continue  # no cache yet: fine
            except ValueError as err:
                if "rendered by SynthPose version" not in str(err):
                    out.put(("crash", k, traceback.format_exc()))
                    break
                time.sleep(0.005)
                continue  # the stale cache, not yet replaced: fine
            except Exception:  # noqa: BLE001
                out.put(("crash", k, traceback.format_exc()))
                break
            try:
                images = np.stack([cache.raw(i)["image"] for i in range(6)])
                same = images.shape == fresh.shape and bool((images == fresh).all())
                out.put(("ok" if same else "differs", k, ""))
            except Exception:  # noqa: BLE001 - a half-written cache
                out.put(("crash", k, traceback.format_exc()))
            break


def _make_stale(ds, path: Path) -> None:
    """A complete cache of ``ds`` at ``path`` as an older generator left it: builders rebuild."""
    cache_dataset(ds, path, progress=False)
    manifest = path / "manifest.json"
    old = json.loads(manifest.read_text())
    old["synth_version"] = -1
    manifest.write_text(json.dumps(old))
    (path / "images.npy").write_bytes(b"stale")


def _run(procs, barrier, out, deadline_s: float = 120) -> list[tuple]:
    """Start ``procs``, collect their results until all have exited; a process that dies
    (e.g. SIGBUS on a memory map truncated under it) aborts the barrier so the others stop."""
    for p in procs:
        p.start()
    results, deadline = [], time.monotonic() + deadline_s
    while any(p.is_alive() for p in procs) and time.monotonic() < deadline:
        try:
            results.append(out.get(timeout=0.2))
        except queue.Empty:
            pass
        if any(p.exitcode not in (None, 0) for p in procs):
            barrier.abort()
    for p in procs:
        p.join(timeout=5)
        if p.is_alive():
            p.kill()
    while True:
        try:
            results.append(out.get(timeout=0.5))
        except queue.Empty:
            break
    results += [("died", -1, f"{p.name}: exit code {p.exitcode}") for p in procs if p.exitcode]
    return results


def test_concurrent_builders_get_one_complete_cache(tmp_path):
    ctx = mp.get_context("spawn")
    ds = _dataset()
    for k in range(1, ROUNDS, 2):  # odd rounds start from a stale cache, even ones from nothing
        _make_stale(ds, tmp_path / f"r{k}")
    barrier = ctx.Barrier(BUILDERS + 1)
    out = ctx.Queue()
    procs = [ctx.Process(target=_build, args=(barrier, str(tmp_path), ROUNDS, out))
             for _ in range(BUILDERS)]  # fmt: skip
    procs.append(ctx.Process(target=_read, args=(barrier, str(tmp_path), ROUNDS, out)))
    results = _run(procs, barrier, out)
    bad = [r for r in results if r[0] != "ok"]
    assert not bad, "\n".join(f"round {k}: {what}\n{tb}" for what, k, tb in bad)
    assert sum(r[0] == "ok" for r in results) >= BUILDERS * ROUNDS

    fresh = np.stack([r["image"] for r in ds._render(list(range(len(ds))))])
    for k in range(ROUNDS):
        path = tmp_path / f"r{k}"
        images = np.load(path / "images.npy")
        assert images.tobytes() == fresh.tobytes(), f"round {k}: cache differs from a render"
        manifest = json.loads((path / "manifest.json").read_text())
        assert manifest["args"] == ds.generation_args()
        assert CachedDataset(path, expected=ds).manifest == manifest
    leftovers = sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("r"))
    assert leftovers == [], f"temporary folders left behind: {leftovers}"


# --------------------------------------------------------------------------------------------
# one process: what a builder leaves behind
# --------------------------------------------------------------------------------------------
def test_an_interrupted_build_leaves_nothing(tmp_path, monkeypatch):
    ds = _dataset()
    render = ds._render
    calls = []

    def interrupted(indices):
        calls.append(indices)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return render(indices)

    monkeypatch.setattr(ds, "_render", interrupted)
    with pytest.raises(KeyboardInterrupt):
        cache_dataset(ds, tmp_path / "c", progress=False, batch_size=2)
    assert list(tmp_path.iterdir()) == [], "no half cache, no temporary folder"


def test_a_folder_that_is_not_a_cache_is_not_deleted(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("precious")
    with pytest.raises(ValueError, match=r"mine is not a SynthPose cache \(it holds notes.txt\)"):
        cache_dataset(_dataset(), folder, progress=False)
    assert (folder / "notes.txt").read_text() == "precious"
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="file is a file, not a cache folder"):
        cache_dataset(_dataset(), tmp_path / "file", progress=False)


def test_orphans_of_dead_builders_are_removed_live_ones_kept(tmp_path):
    import posekit.datasets.synthpose as sp

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # a pid that no longer runs
    orphan = tmp_path / f".c.building-{sp._HOST}.{dead.pid}-abc"
    trash = tmp_path / f".c.old-{sp._HOST}.{dead.pid}-def"
    live = tmp_path / f".c.building-{sp._HOST}.{os.getppid()}-ghi"  # our parent still runs
    other_host = tmp_path / f".c.building-elsewhere.{dead.pid}-jkl"
    for folder in (orphan, trash, live, other_host):
        folder.mkdir()
        (folder / "images.npy").write_bytes(b"partial")
    cache_dataset(_dataset(), tmp_path / "c", progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["c", live.name, other_host.name])
