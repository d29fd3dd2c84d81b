"""Real photos and an off-the-shelf detector, for comparing with the course's own models.

Photos that ship with installed packages (no download): ``skimage.data.astronaut()``,
``skimage.data.camera()`` and matplotlib's ``grace_hopper.jpg``. Keypoints come from
mediapipe's BlazePose (Bazarevsky et al. 2020, "BlazePose: On-device Real-time Body Pose
tracking"), mapped from its 33 landmarks to COCO-17, when the ``real`` extra is installed.
"""

from __future__ import annotations

import os
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


def mediapipe_available() -> bool:
    """True when mediapipe imports (install: ``pip install --no-deps mediapipe==0.10.14``)."""
    try:
        _import_mediapipe()
    except ImportError:
        return False
    return True


def _import_mediapipe():
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
        ImportError with the install command when mediapipe is missing.
    """
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"image: expected H×W×3 uint8 RGB, got {image.shape} {image.dtype}")
    try:
        mp = _import_mediapipe()
    except ImportError as err:
        raise ImportError(
            "mediapipe is not installed: pip install --no-deps mediapipe==0.10.14 "
            "&& pip install -e '.[real]'"
        ) from err
    from posekit.doctor import quiet_native_stderr

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
