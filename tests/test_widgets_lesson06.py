"""SparsityExplorer (lesson 06): a representation (Canny edges or DVS events) and its threshold,
a sparse SPHP backbone → the input's active fraction, the backbone's MACs at the active sites
against the same layers run densely (posekit.sparse.count_macs), and a lazily measured, cached
sparse-vs-dense CPU time. No browser: the controls' values are set and ``result`` is read."""

from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from posekit import sensors, widgets  # noqa: E402
from posekit.models.sphp_sparse import sparse_sphp_model  # noqa: E402
from posekit.sparse import count_macs  # noqa: E402
from posekit.widgets import SparsityExplorer  # noqa: E402


def _clip(h=64, w=96, shift=3) -> np.ndarray:
    """Two RGB frames: a smooth grey background and discs of several contrasts that move."""
    rng = np.random.default_rng(0)
    background = cv2.GaussianBlur(rng.random((h, w)), (0, 0), 6)
    background = (60 + 80 * (background - background.min()) / np.ptp(background)).astype(np.uint8)
    frames = []
    for t in range(2):
        f = background.copy()
        for i, level in enumerate((90, 130, 180, 240)):
            cv2.circle(f, (12 + 22 * i + shift * t, 20 + 8 * i), 7, int(level), -1)
        frames.append(np.repeat(f[..., None], 3, axis=2))
    return np.stack(frames)


@pytest.fixture(scope="module")
def explorer():
    return SparsityExplorer(frames=_clip(), runs=1)


def test_threshold_up_active_fraction_down(explorer):
    fractions = []
    for high in (30, 100, 250, 400):
        explorer.controls["edge_threshold"].value = high
        fractions.append(explorer.result["active_fraction"])
        assert explorer.result["threshold"] == high
    assert all(a >= b for a, b in zip(fractions, fractions[1:], strict=False))
    assert fractions[0] > fractions[-1] > 0
    explorer.controls["representation"].value = "events"
    fractions = []
    for thr in (0.05, 0.3, 1.0):
        explorer.controls["event_threshold"].value = thr
        r = explorer.result
        assert r["representation"] == "events" and r["image"].dtype == np.int8
        fractions.append(r["active_fraction"])
    assert fractions[0] > fractions[1] > fractions[2]
    # fewer active pixels, fewer MACs; the dense count does not depend on the input
    active = []
    with explorer.hold():
        explorer.controls["representation"].value = "edges"
        explorer.controls["backbone"].value = "dhp19"
    for high in (30, 400):
        explorer.controls["edge_threshold"].value = high
        active.append((explorer.result["active_macs"], explorer.result["dense_macs"]))
    assert active[0][0] > active[1][0] and active[0][1] == active[1][1]


@pytest.mark.parametrize("backbone", ["dhp19", "unet_small", "unet_large"])
def test_macs_are_count_macs_on_the_same_input(explorer, backbone):
    with explorer.hold():
        explorer.controls["representation"].value = "edges"
        explorer.controls["edge_threshold"].value = 150
        explorer.controls["backbone"].value = backbone
    r = explorer.result
    frame = _clip()[-1]
    edges = sensors.edges(frame, 50, 150)
    np.testing.assert_array_equal(r["image"], edges)
    assert r["active_fraction"] == sensors.active_fraction(edges)
    assert r["sites"] == int((edges > 0).sum())
    model = sparse_sphp_model(backbone, "ed").eval()
    x = torch.from_numpy(edges.astype(np.float32) / 255)[None, None]
    with torch.inference_mode(), count_macs(model) as costs:
        model(x)
    assert (r["active_macs"], r["dense_macs"]) == (costs.active, costs.dense)
    assert r["layers"] == len(costs.rows) and r["saving"] == pytest.approx(costs.saving)
    assert r["size"] == (64, 96) and f"{r['active_macs'] / 1e6:,.1f} M MACs" in r["text"]


def test_event_macs_are_count_macs_too(explorer):
    with explorer.hold():
        explorer.controls["representation"].value = "events"
        explorer.controls["event_threshold"].value = 0.2
        explorer.controls["backbone"].value = "unet_small"
    r = explorer.result
    ev = sensors.events(_clip(), 0.2)[-1]
    np.testing.assert_array_equal(r["image"], ev)
    model = sparse_sphp_model("unet_small", "ed").eval()
    with torch.inference_mode(), count_macs(model) as costs:
        model(torch.from_numpy(ev.astype(np.float32))[None, None])
    assert (r["active_macs"], r["dense_macs"]) == (costs.active, costs.dense)
    assert "Events (DVS, threshold 0.2 log units ≈ 22 % change)" in r["text"]


def test_timing_is_lazy_and_cached():
    e = SparsityExplorer(frames=_clip(), backbone="dhp19", runs=1)
    r = e.result
    assert r["ms_sparse"] is None and r["speedup"] is None and not e._times and not e._dense
    assert "not measured" in r["text"]
    e.controls["timing"].value = True
    r = e.result
    assert r["ms_sparse"] > 0 and r["ms_dense"] > 0
    assert r["speedup"] == pytest.approx(r["ms_dense"] / r["ms_sparse"])
    assert "CPU time" in r["text"] and "median of 1" in r["text"]
    measured = dict(e._times)
    assert list(measured) == [("edges", 150.0, "dhp19")]
    e.controls["edge_threshold"].value = 200
    e.controls["edge_threshold"].value = 150
    assert e._times[("edges", 150.0, "dhp19")] == measured[("edges", 150.0, "dhp19")]
    assert len(e._times) == 2 and e.result["ms_sparse"] == r["ms_sparse"]


def test_zero_active_pixels_cost_nothing():
    still = np.repeat(_clip()[:1], 2, axis=0)  # no motion: no events
    e = SparsityExplorer(frames=still, representation="events", backbone="dhp19")
    r = e.result
    assert r["active_fraction"] == 0 and r["active_macs"] == 0 and r["dense_macs"] > 0
    assert r["saving"] == 1.0


def test_default_clip_is_a_rendered_synthpose_frame():
    e = SparsityExplorer(backbone="dhp19")
    r = e.result
    assert e.frames.shape == (2, 144, 192, 3) and r["size"] == (144, 192)
    assert 0.005 < r["active_fraction"] < 0.2
    assert "of the 144 × 192 pixels active" in r["text"] and "Sparse DHP19" in r["text"]


def test_figure_and_output(explorer, monkeypatch):
    with explorer.hold():
        explorer.controls["representation"].value = "edges"
        explorer.controls["backbone"].value = "dhp19"
    fig = explorer.figure(explorer.result)
    assert len(fig.axes) == 3
    assert any("not measured" in t.get_text() for t in fig.axes[2].texts)
    assert "DHP19" in fig.axes[1].get_title()
    shell = SimpleNamespace(
        display_formatter=SimpleNamespace(format=lambda fig: ({"text/plain": "<Figure>"}, {}))
    )
    monkeypatch.setattr(widgets, "get_ipython", lambda: shell)
    explorer.controls["representation"].value = "events"
    text, chart = explorer.output.outputs
    assert text["output_type"] == "stream" and "Events (DVS" in text["text"]
    assert chart["data"] == {"text/plain": "<Figure>"}
    assert isinstance(explorer.widget, widgets.widgets.VBox)


def test_bad_arguments_are_named():
    clip = _clip()
    for kwargs, word in (
        (dict(representation="rgb"), "representation"),
        (dict(backbone="resnet"), "backbone"),
        (dict(edge_threshold=5), "edge_threshold"),
        (dict(event_threshold=2.0), "event_threshold"),
        (dict(event_threshold=True), "event_threshold"),
        (dict(runs=0), "runs"),
    ):
        with pytest.raises(ValueError, match=word):
            SparsityExplorer(frames=clip, **kwargs)
    with pytest.raises(ValueError, match="frames"):
        SparsityExplorer(frames=clip[:1])
    with pytest.raises(ValueError, match="multiples of 8"):
        SparsityExplorer(frames=clip[:, :60])
    with pytest.raises(ValueError, match="size"):
        SparsityExplorer(size=(100, 192))
