"""posekit: the companion package of the posekit pose-estimation course.

``import posekit; posekit.setup()`` seeds everything and sets threads;
``cfg = posekit.lesson_config(...)`` picks quick or full settings for a lesson.
Every submodule loads on first use: ``posekit.checks``, ``posekit.metrics``, ``posekit.viz`` ...
(the list is read from the package folder, so a new module is reachable without an edit here).
"""

import importlib
import pkgutil

from posekit.config import data_path, data_root, is_quick, lesson_config, setup

__version__ = "0.1.0"

_SUBMODULES = frozenset(
    m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")
)

__all__ = ["__version__", "data_path", "data_root", "is_quick", "lesson_config", "setup"]


def __getattr__(name: str):
    if name in _SUBMODULES:
        return importlib.import_module(f"posekit.{name}")
    raise AttributeError(f"module 'posekit' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _SUBMODULES)
