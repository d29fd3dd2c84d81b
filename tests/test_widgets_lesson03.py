"""StackExplorer (lesson 03): each stack's heatmaps, decoded points and errors."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from posekit.codecs.heatmap import HeatmapCodec  # noqa: E402
from posekit.models import HourglassNet  # noqa: E402
from posekit.widgets import StackExplorer  # noqa: E402


@pytest.fixture
def setup():
    torch.manual_seed(0)
    net = HourglassNet(16, num_stacks=3, features=8, depth=2, stem_channels=(8, 8)).eval()
    images = torch.randn(2, 3, 32, 32)
    rng = np.random.default_rng(0)
    gt = np.concatenate([rng.uniform(2, 29, (2, 16, 2)), np.full((2, 16, 1), 2.0)], -1)
    gt[1, 5, 2] = 0  # an unlabelled joint
    codec = HeatmapCodec((32, 32), stride=4, decoder="argmax")
    return net, images, gt.astype(np.float32), codec


def test_each_stack_is_shown_and_decoded(setup):
    net, images, gt, codec = setup
    calls = []
    net.register_forward_hook(lambda *a: calls.append(1))
    explorer = StackExplorer(net, images, gt, codec, index=1)
    explorer.controls["joint"].value = "left_hip"
    r = explorer.result
    assert len(calls) == 1  # built once for image 1; the joint change only redraws
    with torch.no_grad():
        outs = net(images[1:2])
    j = list(explorer.skeleton.joints).index("left_hip")
    assert r["heatmaps"].shape == (3, 8, 8)
    for s in range(3):
        np.testing.assert_allclose(r["heatmaps"][s], outs[s][0, j].numpy(), atol=1e-6)
        point = codec.decode(outs[s])[0].keypoints[0, j]
        np.testing.assert_allclose(r["points"][s], point, atol=1e-5)
        assert r["errors"][s] == pytest.approx(np.linalg.norm(point[:2] - gt[1, j, :2]), abs=1e-4)


def test_unlabelled_joints_have_no_error(setup):
    net, images, gt, codec = setup
    explorer = StackExplorer(net, images, gt, codec, index=1)
    explorer.controls["joint"].value = explorer.skeleton.joints[5]
    assert np.isnan(explorer.result["errors"]).all()
    assert np.isfinite(explorer.result["stack_errors"]).all()


def test_bad_keypoints_shape_is_named(setup):
    net, images, gt, codec = setup
    with pytest.raises(ValueError, match="keypoints"):
        StackExplorer(net, images, gt[:, :10], codec)
