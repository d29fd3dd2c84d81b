"""posekit.lab.people_scaling: top-down vs bottom-up time and accuracy as K grows (lesson 04)."""

import numpy as np
import pytest
import torch

from posekit.codecs.heatmap import HeatmapCodec
from posekit.codecs.paf import PAFCodec
from posekit.lab.people_scaling import format_scaling_table, people_scaling_benchmark
from posekit.models import HeatmapNet, LightweightOpenPose


def _tiny_models():
    torch.manual_seed(0)
    td = HeatmapNet(16, width=4, stride=4).eval(), HeatmapCodec((32, 32), stride=4)
    bu = LightweightOpenPose(channels=8, width_mult=0.125).eval(), PAFCodec()
    return td, bu


def test_people_scaling_benchmark_structure():
    td, bu = _tiny_models()
    rows = people_scaling_benchmark((1, 2), td, bu, size=(456, 256), scenes=1, runs=1,
                                    group_on="oracle")  # fmt: skip
    assert [r["people"] for r in rows] == [1, 2]
    keys = {"people", "mean_people", "top_down_ms", "top_down_crop_ms", "top_down_model_ms",
            "top_down_decode_ms", "bottom_up_ms", "bottom_up_model_ms", "bottom_up_group_ms",
            "top_down_AP", "top_down_AP50", "bottom_up_AP", "bottom_up_AP50"}  # fmt: skip
    for r in rows:
        assert set(r) == keys and 0 < r["mean_people"] <= r["people"]
        assert r["top_down_ms"] == pytest.approx(
            r["top_down_crop_ms"] + r["top_down_model_ms"] + r["top_down_decode_ms"]
        )
        assert r["bottom_up_ms"] == pytest.approx(r["bottom_up_model_ms"]
                                                  + r["bottom_up_group_ms"])  # fmt: skip
        assert all(r[k] > 0 for k in keys if k.endswith("_ms"))
        assert 0 <= r["top_down_AP"] <= 1 and 0 <= r["bottom_up_AP"] <= 1
    # grouped from perfect (oracle) maps, the two well-visible people of the K = 2 scene are
    # found (the K = 1 scene's person is truncated to 9 joints and comes out in fragments)
    assert rows[1]["bottom_up_AP"] > 0.9
    table = format_scaling_table(rows)
    assert "top-down ms" in table and len(table.splitlines()) == 4
    with pytest.raises(ValueError, match="people"):
        people_scaling_benchmark((0,), td, bu)
    with pytest.raises(ValueError, match="group_on"):
        people_scaling_benchmark((1,), td, bu, group_on="magic")


def test_people_scaling_benchmark_without_models_times_only(monkeypatch):
    from posekit.lab import people_scaling

    monkeypatch.setattr(people_scaling, "_default_models", lambda size: _tiny_models())
    rows = people_scaling_benchmark((2,), size=(128, 64), scenes=1, runs=1)
    assert np.isnan(rows[0]["top_down_AP"]) and np.isnan(rows[0]["bottom_up_AP"])
    assert rows[0]["top_down_ms"] > 0 and "-" in format_scaling_table(rows)
