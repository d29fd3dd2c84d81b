"""Constructor-argument checks shared by the posekit models (clear errors naming the argument)."""

from __future__ import annotations


def check_int(name: str, value, minimum: int = 1) -> int:
    """``value`` if it is an ``int`` (not a bool) ``>= minimum``, else ``ValueError`` naming
    ``name``."""
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        expected = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise ValueError(f"{name}: expected {expected}, got {value!r}")
    return value


def check_positive_ints(**values) -> None:
    """``check_int(name, value)`` for every keyword argument, in order."""
    for name, value in values.items():
        check_int(name, value)
