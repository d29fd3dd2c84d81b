"""Exercise checks for the posekit course.

A lesson's check module (``posekit.checks.lesson03``...) builds a few ``Case`` inputs and
calls ``check_function``; the notebook's check cell prints one status line (PASS / FAIL with
the smallest failing case, expected vs got and a diagnosed hint / TODO), and
``use(fn, name)`` then hands the rest of the lesson the student's function or posekit's
reference. ``POSEKIT_CHECK_MODE`` (``student`` | ``strict`` | ``expect-todo``) decides
whether a check raises; ``POSEKIT_CHECK_TIMEOUT`` (seconds, default 30) how long one call of
the student's function may run before TIMEOUT; see ``_core`` for the formats and ``diagnose``
for the hints.

The exercise is to write the function, so a check FAILs (in every mode, and ``require``
with it) when the student's function runs posekit's own implementation of that exercise:
the reference, or the posekit functions named by ``check_function(..., forbid=...)``. A
profile hook on the student's call alone compares code objects, so aliases do not help.

    from posekit.checks import Case, check_function

    def check_flip_keypoints(fn):
        cases = [Case((kp, 64, "coco17"), label="one person, 64 px wide"), ...]
        return check_function(fn, "flip_keypoints", cases, reference=flip_keypoints,
                              diagnoses=["xy_swapped", "half_pixel", "flip_without_swap"],
                              forbid=(transforms.flip_keypoints,), skeleton="coco17")
"""

from __future__ import annotations

import importlib
from typing import Any

from posekit.checks._core import (
    FAIL,
    PASS,
    TIMEOUT,
    TODO,
    Case,
    CheckResult,
    check_close,
    check_function,
    check_raises,
    get_result,
    reference_for,
    register_reference,
    require,
    reset,
    summary,
    use,
)
from posekit.checks.diagnose import DIAGNOSES, diagnose, register_diagnosis

__all__ = [
    "DIAGNOSES",
    "FAIL",
    "PASS",
    "TIMEOUT",
    "TODO",
    "Case",
    "CheckResult",
    "check_close",
    "check_function",
    "check_raises",
    "diagnose",
    "get_result",
    "reference_for",
    "register_diagnosis",
    "register_reference",
    "require",
    "reset",
    "summary",
    "use",
]


def __getattr__(name: str) -> Any:
    """``posekit.checks.lesson03`` works after a bare ``import posekit.checks``."""
    if name.startswith("lesson"):
        try:
            return importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as err:
            if err.name != f"{__name__}.{name}":
                raise
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
