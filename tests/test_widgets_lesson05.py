"""ScalingExplorer (lesson 05): EfficientNet-Bφ's params, MACs, input size and CPU latency
beside the EfficientPose variant of that size; moving the φ slider changes what it shows,
latency is measured once per φ and cached, the counts are posekit.bench's."""

import time
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from posekit import widgets  # noqa: E402
from posekit.bench import count_macs, count_params  # noqa: E402
from posekit.models.efficientnet import VARIANTS, efficientnet  # noqa: E402
from posekit.widgets import ScalingExplorer  # noqa: E402

TORCHVISION_PARAMS = (5288548, 7794184, 9109994, 12233232, 19341616, 30389784, 43040704,
                      66347960)  # fmt: skip


@pytest.fixture(scope="module")
def quiet():
    """An explorer that does not measure latency (params and MACs only)."""
    return ScalingExplorer(measure=False)


def test_defaults_show_b0_and_efficientpose_rt_with_measured_latency():
    e = ScalingExplorer(budget_s=0.05, runs=2)
    r = e.result
    assert (r["phi"], r["variant"], r["side"], r["size"]) == (0, "b0", 224, "own")
    assert r["params"] == TORCHVISION_PARAMS[0]
    assert r["gmacs"] == pytest.approx(0.386, abs=0.005) and r["measured_ratio"] == 1.0
    assert r["latency_ms"] > 0 and r["table"]["latency_ms"][0] == r["latency_ms"]
    pose = r["efficientpose"]
    assert pose["name"] == "EfficientPose RT" and pose["side"] == 224
    assert pose["published_params_m"] == 0.46 and pose["latency_ms"] > 0
    assert "EfficientNet-B0" in r["text"] and "EfficientPose RT" in r["text"]
    assert "ms" in r["text"] and "not measured" not in r["text"]


def test_moving_the_slider_changes_the_output_and_revisits_are_cached():
    e = ScalingExplorer(budget_s=0.05, runs=2, size="224")
    first = e.result
    e.controls["phi"].value = 1
    r = e.result
    assert r["variant"] == "b1" and r["text"] != first["text"]
    assert r["efficientpose"] is None and "no EfficientPose variant at φ = 1" in r["text"]
    assert r["params"] == TORCHVISION_PARAMS[1] and r["gmacs"] > first["gmacs"]
    measured = dict(e._latency)
    assert set(measured) == {("b0", "224"), ("rt", "224"), ("b1", "224")}
    # the chart keeps every latency measured so far
    lat = r["table"]["latency_ms"]
    assert np.isfinite(lat[:2]).all() and np.isnan(lat[2:]).all()
    # back to φ = 0 and on to 1 again: nothing is measured twice, and it answers at once
    e.controls["phi"].value = 0
    start = time.perf_counter()
    e.controls["phi"].value = 1
    e.figure(e.result)
    assert time.perf_counter() - start < 1.5
    assert e._latency == measured and e.result["latency_ms"] == r["latency_ms"]


def test_every_phi_has_efficientnets_params_and_the_right_efficientpose(quiet):
    t = quiet.result["table"]
    np.testing.assert_allclose(t["params_m"] * 1e6, TORCHVISION_PARAMS)
    assert (np.diff(t["gmacs"]) > 0).all()
    has_pose = ~np.isnan(t["ep_gmacs"])
    assert has_pose.tolist() == [True, False, True, False, True, True, False, True]
    assert np.isnan(t["latency_ms"]).all() and np.isnan(t["ep_latency_ms"]).all()
    names = {0: "RT", 2: "I", 4: "II", 5: "III", 7: "IV"}
    sides = {0: 224, 2: 256, 4: 368, 5: 480, 7: 600}
    for phi in range(8):
        quiet.controls["phi"].value = phi
        r = quiet.result
        assert r["side"] == VARIANTS[f"b{phi}"].resolution
        assert r["latency_ms"] is None and "not measured" in r["text"]
        if phi in names:
            assert r["efficientpose"]["name"] == f"EfficientPose {names[phi]}"
            assert r["efficientpose"]["side"] == sides[phi]
            assert f"EfficientPose {names[phi]} (B{phi} backbone)" in r["text"]
        else:
            assert r["efficientpose"] is None
    # B7: the measured MACs ratio is close to, but not, the calculator's (α·β²·γ²)^7
    assert r["side"] == 600 and r["gmacs"] == pytest.approx(37.7, rel=0.02)
    assert r["predicted_ratio"] == pytest.approx((1.2 * 1.1**2 * 1.15**2) ** 7)
    assert 80 < r["measured_ratio"] < 110 and abs(r["measured_ratio"] - r["predicted_ratio"]) > 1
    base = 1.2 * 1.1**2 * 1.15**2
    np.testing.assert_allclose(t["predicted_gmacs"], t["gmacs"][0] * base ** np.arange(8))


def test_at_224_px_only_width_and_depth_grow(quiet):
    with quiet.hold():
        quiet.controls["phi"].value = 7
        quiet.controls["size"].value = "224"
    r = quiet.result
    assert r["side"] == 224 and r["efficientpose"]["side"] == 224 and "all at 224 px" in r["text"]
    assert r["params"] == TORCHVISION_PARAMS[7]  # params do not depend on the input
    assert r["gmacs"] < 37.7 / 5  # (600 / 224)² ≈ 7.2 times fewer MACs
    assert r["predicted_ratio"] == pytest.approx((1.2 * 1.1**2) ** 7)
    assert "(α·β²)^φ at a fixed input" in r["text"]
    quiet.controls["size"].value = "own"
    assert quiet.result["side"] == 600


def test_counts_are_posekit_benchs_on_a_real_model(quiet):
    model = efficientnet("b0")
    assert widgets._scaling_cost("b0", None) == (count_params(model),
                                                  count_macs(model, (1, 3, 224, 224)))  # fmt: skip


def test_figure_and_output(quiet, monkeypatch):
    quiet.controls["phi"].value = 4
    fig = quiet.figure(quiet.result)
    assert len(fig.axes) == 3 and "B4" in fig._suptitle.get_text()
    bars = fig.axes[1].patches
    assert len(bars) == 16 and bars[4].get_facecolor() != bars[3].get_facecolor()
    assert any("not measured" in t.get_text() for t in fig.axes[2].texts)
    # in a notebook the Output holds the text, then the chart
    shell = SimpleNamespace(display_formatter=SimpleNamespace(
        format=lambda fig: ({"text/plain": "<Figure>"}, {})))  # fmt: skip
    monkeypatch.setattr(widgets, "get_ipython", lambda: shell)
    quiet.controls["phi"].value = 5
    text, chart = quiet.output.outputs
    assert text["output_type"] == "stream" and "EfficientNet-B5" in text["text"]
    assert "EfficientPose III" in text["text"] and chart["data"] == {"text/plain": "<Figure>"}


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="phi"):
        ScalingExplorer(phi=8, measure=False)
    with pytest.raises(ValueError, match="size"):
        ScalingExplorer(size="600", measure=False)
    with pytest.raises(ValueError, match="runs"):
        ScalingExplorer(runs=0, measure=False)
    with pytest.raises(ValueError, match="budget_s"):
        ScalingExplorer(budget_s=0, measure=False)
