"""posekit: the companion package of the posekit pose-estimation course.

``import posekit; posekit.setup()`` seeds everything and sets threads;
``cfg = posekit.lesson_config(...)`` picks quick or full settings for a lesson.
"""

from posekit.config import data_path, data_root, is_quick, lesson_config, setup

__version__ = "0.1.0"

__all__ = ["__version__", "data_path", "data_root", "is_quick", "lesson_config", "setup"]
