"""posekit.lab.sensor_speed: a smoke test (tiny clip, one repeat); the numbers are not tested."""

import pytest

from posekit.lab import sensor_speed


def test_bench_sensors_smoke():
    result = sensor_speed.bench_sensors(n_frames=2, repeats=1, size=(64, 48))
    keys = [key for key, _ in sensor_speed.ROWS]
    assert all(result[k] > 0 and len(result["runs"][k]) == 1 for k in keys)
    assert result["size"] == [64, 48] and result["threads"] == 1
    table = sensor_speed.format_sensors(result)
    assert "64×48" in table and all(name in table for _, name in sensor_speed.ROWS)
    assert all(name in sensor_speed.RESULTS for _, name in sensor_speed.ROWS)


def test_bench_sensors_bad_arguments():
    with pytest.raises(ValueError, match="n_frames"):
        sensor_speed.bench_sensors(n_frames=1)
