"""``posekit doctor``: what is installed, what works, and what to do when something does not."""

from __future__ import annotations

import importlib
import importlib.metadata as md
import logging
import platform
import sys
import time
import warnings
from dataclasses import dataclass

from posekit import config

CORE_PACKAGES = (
    "torch", "numpy", "scipy", "matplotlib", "opencv-python", "ipywidgets", "jupyterlab",
    "nbval", "pycocotools", "tqdm", "scikit-image",
)  # fmt: skip


@dataclass
class Probe:
    """Outcome of one capability probe: ``ok``, or a failure with a ``fix``, or ``skipped``
    (the capability does not exist on this platform or Python; never a failure)."""

    name: str
    ok: bool
    detail: str
    fix: str = ""
    skipped: bool = False


# spconv 2.3.8 / cumm 0.7.11 publish CPU wheels for Linux x86_64 only (CPython 3.10-3.13).
SPCONV_PLATFORMS = (("linux", "x86_64"),)


def package_version(dist: str) -> str | None:
    try:
        return md.version(dist)
    except md.PackageNotFoundError:
        return None


def probe_spconv() -> Probe:
    """Run one sparse submanifold convolution on the CPU with spconv."""
    fix = "pip install 'spconv==2.3.8' 'cumm==0.7.11'  (or: make setup)"
    if (sys.platform, platform.machine()) not in SPCONV_PLATFORMS:
        return Probe(
            "spconv",
            True,
            f"skipped: spconv has no wheel for {sys.platform} "
            f"{platform.machine()}; lesson 06 uses posekit's own sparse layers",
            skipped=True,
        )
    try:
        import torch

        logging.getLogger("torch.fx._symbolic_trace").setLevel(logging.ERROR)
        from spconv import pytorch as spconv
    except Exception as err:  # ImportError, or a broken binary wheel
        return Probe("spconv", False, f"cannot import spconv.pytorch: {err}", fix)
    try:
        indices = torch.tensor([[0, 1, 1], [0, 2, 3]], dtype=torch.int32).contiguous()
        features = torch.ones(2, 4)
        x = spconv.SparseConvTensor(features, indices, [6, 6], batch_size=1)
        conv = spconv.SubMConv2d(4, 8, 3, padding=1, bias=False)
        with torch.no_grad():
            out = conv(x)
        shape = tuple(out.features.shape)
    except Exception as err:
        return Probe(
            "spconv", False, f"spconv {package_version('spconv')} imports but fails: {err}"
        )
    return Probe("spconv", True, f"spconv {package_version('spconv')}: SubMConv2d ran, {shape}")


def probe_mediapipe() -> Probe:
    """Run mediapipe's BlazePose (complexity 1, ships with the wheel) on a photo."""
    from posekit import real

    why_not = real.mediapipe_unavailable()
    if why_not and "needs Python" in why_not:
        return Probe(
            "mediapipe", True, f"{why_not}; lessons use hand-placed keypoints", skipped=True
        )
    if why_not:
        return Probe("mediapipe", False, why_not.removeprefix("skipped: "), real.MEDIAPIPE_INSTALL)
    mp = real.import_mediapipe()
    fix = real.MEDIAPIPE_INSTALL
    try:
        import skimage.data

        image = skimage.data.astronaut()
        start = time.perf_counter()
        with (
            warnings.catch_warnings(),
            real.quiet_native_stderr(),
            mp.solutions.pose.Pose(static_image_mode=True, model_complexity=1) as pose,
        ):
            warnings.simplefilter("ignore")
            result = pose.process(image)
        found = result.pose_landmarks is not None
        ms = 1000 * (time.perf_counter() - start)
    except Exception as err:
        return Probe("mediapipe", False, f"mediapipe imports but BlazePose fails: {err}", fix)
    if not found:
        return Probe("mediapipe", False, "BlazePose ran but found no person on astronaut()")
    return Probe(
        "mediapipe", True, f"mediapipe {mp.__version__}: BlazePose found a person ({ms:.0f} ms)"
    )


def probe_jax_absent() -> Probe:
    """The `real` extra must not pull jax (mediapipe declares it but never needs it here)."""
    version = package_version("jax")
    if version is None:
        return Probe("no jax", True, "jax not installed (mediapipe runs without it)")
    return Probe("no jax", False, f"jax {version} is installed; posekit does not need it")


def report(strict: bool = False) -> int:
    """Print the doctor report; return the exit status (1 when ``strict`` and a probe failed)."""
    import torch

    version = importlib.import_module("posekit").__version__
    print(f"posekit {version}  python {sys.version.split()[0]}  {platform.machine()}")
    for dist in CORE_PACKAGES:
        print(f"  {dist:<14} {package_version(dist) or 'MISSING'}")
    print(f"threads: torch {torch.get_num_threads()}, posekit default {config.default_threads()}")
    print(f"quick mode: {'on' if config.is_quick() else 'off'} (POSEKIT_QUICK)")
    print(f"check mode: {config.check_mode()} (POSEKIT_CHECK_MODE)")
    print(f"data root: {config.data_root()} (POSEKIT_DATA)")
    print(
        f"device: {'cuda ' + torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'cpu'}"
    )
    root = config.repo_root()
    print(f"course checkout: {root if root else 'none (posekit installed without the course)'}")
    failed = 0
    for probe in (probe_spconv(), probe_mediapipe(), probe_jax_absent()):
        mark = "--" if probe.skipped else "ok" if probe.ok else "!!"
        print(f"[{mark}] {probe.name}: {probe.detail}")
        if not probe.ok:
            failed += 1
            if probe.fix:
                print(f"     fix: {probe.fix}")
    missing = [d for d in CORE_PACKAGES if package_version(d) is None]
    if missing:
        print(f"[!!] missing packages: {', '.join(missing)} — run `make setup`")
        failed += 1
    print("all good" if not failed else f"{failed} problem(s) found")
    return 1 if (strict and failed) else 0
