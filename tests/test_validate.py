"""posekit.validate: the argument checks every module shares."""

from __future__ import annotations

import numpy as np
import pytest

from posekit.validate import check_int, check_positive_ints, is_json_number, size2, stride2


def test_size2_takes_whole_positive_width_height():
    assert size2((64, 48), "size") == (64, 48)
    assert size2(np.array([64.0, 48.0]), "size") == (64, 48)
    assert size2(32, "input_size", square=True) == (32, 32)
    assert size2(np.int64(32), "input_size", square=True) == (32, 32)
    for bad in [(64.5, 48), (0, 4), (-1, 4), (1, 2, 3), "ab", 32, None, (float("inf"), 2)]:
        with pytest.raises(ValueError, match=r"^size: expected \(width, height\), positive"):
            size2(bad, "size")
    with pytest.raises(ValueError, match="input_size: expected a side or"):
        size2(0, "input_size", square=True)
    with pytest.raises(ValueError, match="up to 100"):
        size2((101, 4), "size", maximum=100)


def test_stride2_and_ints_and_json_numbers():
    assert stride2(4) == (4.0, 4.0) and stride2((2, 8)) == (2.0, 8.0)
    for bad in [0, -1, (1, 2, 3), float("nan")]:
        with pytest.raises(ValueError, match="stride: expected a positive number"):
            stride2(bad)
    assert check_int("n", 3) == 3
    with pytest.raises(ValueError, match="n: expected an integer >= 2, got 1"):
        check_int("n", 1, minimum=2)
    with pytest.raises(ValueError, match="b: expected a positive integer, got True"):
        check_positive_ints(a=1, b=True)
    assert is_json_number(1) and is_json_number(2.5)
    assert not is_json_number(True) and not is_json_number("1") and not is_json_number(None)
