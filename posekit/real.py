"""Real photos and an off-the-shelf detector, for comparing with the course's own models.

Photos that ship with installed packages (no download): ``skimage.data.astronaut()``,
``skimage.data.camera()`` and matplotlib's ``grace_hopper.jpg``. Keypoints come from
mediapipe's BlazePose (Bazarevsky et al. 2020, "BlazePose: On-device Real-time Body Pose
tracking"), mapped from its 33 landmarks to COCO-17, when the ``real`` extra is installed.
"""

from __future__ import annotations

import contextlib
import os
import sys
import warnings

import numpy as np

# BlazePose landmark index of each COCO-17 joint, in COCO order.
BLAZEPOSE_TO_COCO17 = (0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28)
PHOTOS = ("astronaut", "camera", "grace_hopper")


def photo(name: str = "astronaut") -> np.ndarray:
    """A real photo as ``H×W×3 uint8 RGB``: ``astronaut`` (512×512), ``camera`` (512×512,
    grey made RGB) or ``grace_hopper`` (600×512)."""
    if name == "astronaut":
        import skimage.data

        return skimage.data.astronaut()
    if name == "camera":
        import skimage.data

        return np.repeat(skimage.data.camera()[..., None], 3, axis=2)
    if name == "grace_hopper":
        import matplotlib.cbook

        with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as f:
            import matplotlib.image

            return np.asarray(matplotlib.image.imread(f, format="jpg"))[..., :3].copy()
    raise ValueError(f"photo: unknown name {name!r}; choose one of {', '.join(PHOTOS)}")


@contextlib.contextmanager
def quiet_native_stderr():
    """Silence C++ libraries (mediapipe/TFLite) that write straight to file descriptor 2."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


# mediapipe 0.10.14 ships wheels for CPython 3.9-3.12 only (none for 3.13 or later).
MEDIAPIPE_NEWEST_PYTHON = (3, 12)
MEDIAPIPE_INSTALL = "pip install --no-deps mediapipe==0.10.14 && pip install -e '.[real]'"


def mediapipe_unavailable() -> str | None:
    """Why mediapipe cannot be used here, as one line starting ``skipped:``; ``None`` when it
    imports. On Python 3.13 or later the reason is that no wheel exists for it."""
    try:
        import_mediapipe()
    except ImportError:
        version = _python_version()
        if version > MEDIAPIPE_NEWEST_PYTHON:
            newest = ".".join(map(str, MEDIAPIPE_NEWEST_PYTHON))
            return (
                f"skipped: mediapipe needs Python ≤ {newest} "
                f"(this is Python {version[0]}.{version[1]})"
            )
        return f"skipped: mediapipe is not installed ({MEDIAPIPE_INSTALL})"
    return None


def mediapipe_available() -> bool:
    """True when mediapipe imports (install: ``pip install --no-deps mediapipe==0.10.14``)."""
    return mediapipe_unavailable() is None


def _python_version() -> tuple[int, int]:
    return sys.version_info[:2]


def import_mediapipe():
    """Import mediapipe with its C++ logging and Python warnings quieted."""
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import mediapipe

    return mediapipe


def blazepose_coco17(image: np.ndarray, min_visibility: float = 0.5) -> np.ndarray | None:
    """Detect one person with BlazePose (model_complexity=1) and return COCO-17 keypoints.

    Args:
        image: ``H×W×3 uint8 RGB``.
        min_visibility: BlazePose visibility score above which a joint gets ``v=2``; below
            it the joint is kept as ``v=1`` (predicted but probably occluded).
    Returns:
        ``(17, 3)`` float32 ``(x, y, v)`` in pixels (pixel centres at integer coordinates),
        or ``None`` when no person is found.
    Raises:
        ImportError saying why (the install command, or the Python version) when mediapipe
        cannot be used; check ``mediapipe_unavailable()`` first.
    """
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"image: expected H×W×3 uint8 RGB, got {image.shape} {image.dtype}")
    why_not = mediapipe_unavailable()
    if why_not:
        raise ImportError(f"blazepose_coco17: {why_not}")
    mp = import_mediapipe()
    with (
        warnings.catch_warnings(),
        quiet_native_stderr(),
        mp.solutions.pose.Pose(static_image_mode=True, model_complexity=1) as pose,
    ):
        warnings.simplefilter("ignore")
        result = pose.process(np.ascontiguousarray(image))
    if result.pose_landmarks is None:
        return None
    h, w = image.shape[:2]
    marks = result.pose_landmarks.landmark
    out = np.zeros((17, 3), np.float32)
    for j, m in enumerate(BLAZEPOSE_TO_COCO17):
        lm = marks[m]
        # mediapipe normalises by the image size with pixel edges at 0 and 1.
        out[j] = (lm.x * w - 0.5, lm.y * h - 0.5, 2 if lm.visibility >= min_visibility else 1)
    return out
