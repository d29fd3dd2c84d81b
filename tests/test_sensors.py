"""posekit.sensors: grey, edges and motion vectors against hand-built frames."""

import numpy as np
import pytest

from posekit import sensors


def _square_frame(x0: int, y0: int, size=(64, 96)) -> np.ndarray:
    rng = np.random.default_rng(0)
    frame = np.full((*size, 3), 40, np.uint8)
    patch = rng.integers(80, 255, (20, 20, 3), dtype=np.uint8)  # textured, so flow is defined
    frame[y0 : y0 + 20, x0 : x0 + 20] = patch
    return frame


def test_grayscale_weights():
    image = np.zeros((1, 3, 3), np.uint8)
    image[0, 0, 0], image[0, 1, 1], image[0, 2, 2] = 255, 255, 255
    np.testing.assert_array_equal(sensors.grayscale(image)[0], [76, 150, 29])  # .299 .587 .114


def test_edges_outline_a_square_and_nothing_else():
    e = sensors.edges(_square_frame(30, 20), blur=0)
    assert set(np.unique(e)) <= {0, 255}
    assert e[:10].max() == 0 and e[:, :20].max() == 0  # flat regions: no edges
    assert e[20:40, 28:32].max() == 255  # the left side of the square


def test_motion_vectors_encode_a_known_shift():
    mvh, mvv = sensors.motion_vectors(_square_frame(30, 20), _square_frame(33, 21), block=4)
    dx = sensors.decode_motion(mvh)[24:36, 36:46].mean() * 128 / 4
    dy = sensors.decode_motion(mvv)[24:36, 36:46].mean() * 128 / 4
    assert abs(dx - 3) < 0.75 and abs(dy - 1) < 0.75
    assert abs(int(mvh[2, 2]) - 128) <= 1  # static background: no motion


def test_motion_vectors_are_constant_within_a_block():
    mvh, _ = sensors.motion_vectors(_square_frame(30, 20), _square_frame(34, 20), block=8)
    blocks = mvh[:64, :96].reshape(8, 8, 12, 8).transpose(0, 2, 1, 3).reshape(96, 64)
    assert (blocks.min(1) == blocks.max(1)).all()


def test_bad_input():
    with pytest.raises(ValueError, match="image"):
        sensors.edges(np.zeros((4, 4), np.uint8))
    with pytest.raises(ValueError, match="current"):
        sensors.motion_vectors(_square_frame(0, 0), _square_frame(0, 0, size=(32, 32)))
