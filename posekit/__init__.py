"""posekit: the companion package of the posekit pose-estimation course.

``import posekit; posekit.setup()`` seeds everything and sets threads;
``cfg = posekit.lesson_config(...)`` picks quick or full settings for a lesson.
Submodules load on first use: ``posekit.checks``, ``posekit.metrics``, ``posekit.viz`` ...
"""

import importlib

from posekit.config import data_path, data_root, is_quick, lesson_config, setup

__version__ = "0.1.0"

_SUBMODULES = {
    "bench", "checks", "cli", "codecs", "config", "course", "datasets", "doctor", "download",
    "engine", "metrics", "models", "real", "sensors", "skeletons", "synth", "viz", "widgets",
}  # fmt: skip

__all__ = ["__version__", "data_path", "data_root", "is_quick", "lesson_config", "setup"]


def __getattr__(name: str):
    if name in _SUBMODULES:
        return importlib.import_module(f"posekit.{name}")
    raise AttributeError(f"module 'posekit' has no attribute {name!r}")
