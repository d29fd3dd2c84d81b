"""HeatmapNet: shapes and output stride, parameter counts, config round trip, training step."""

import pytest
import torch

from posekit import bench, engine
from posekit.codecs.heatmap import HeatmapCodec, decode_argmax, heatmap_mse_loss
from posekit.models.heatmap_net import HeatmapNet


@pytest.mark.parametrize(
    "stride,depth,size",
    [(4, 5, (128, 128)), (2, 5, (64, 96)), (8, 4, (64, 64)), (16, 4, (32, 48)), (4, 3, (24, 40))],
)
def test_output_shape_is_input_over_stride(stride, depth, size):
    h, w = size
    model = HeatmapNet(num_joints=7, width=8, depth=depth, stride=stride).eval()
    with torch.no_grad():
        out = model(torch.zeros(2, 3, h, w))
    assert out.shape == (2, 7, h // stride, w // stride)
    assert model.stride == stride


def test_grayscale_input():
    model = HeatmapNet(num_joints=13, width=8, depth=3, stride=2, in_channels=1).eval()
    with torch.no_grad():
        assert model(torch.zeros(1, 1, 32, 32)).shape == (1, 13, 16, 16)


def test_lesson_config_size_and_cost():
    """Lesson 02 trains HeatmapNet(16, width=16, depth=5, stride=4) at 128×128."""
    model = HeatmapNet(16, width=16, depth=5, stride=4)
    assert bench.count_params(model) == 629_184
    assert 0.05e9 < bench.count_macs(model, (1, 3, 128, 128)) < 0.1e9
    assert bench.count_params(HeatmapNet(16, width=24)) == 1_413_592
    assert bench.count_params(HeatmapNet()) == 2_511_216  # the defaults (width 32)
    assert HeatmapNet().channels == [32, 64, 128, 256, 256]


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(stride=3), "power of two"),
        (dict(stride=1), "power of two"),
        (dict(stride=64, depth=5), "power of two"),
        (dict(width=0), "width"),
        (dict(depth=0), "depth"),
        (dict(num_joints=2.5), "num_joints"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        HeatmapNet(**kwargs)


def test_bad_input_rank():
    with pytest.raises(ValueError, match=r"\(B, C, H, W\)"):
        HeatmapNet(width=4, depth=2, stride=2)(torch.zeros(3, 16, 16))


def test_fresh_model_predicts_flat_maps():
    model = HeatmapNet(16, width=8, depth=3).eval()
    with torch.no_grad():
        out = model(torch.randn(2, 3, 32, 32))
    assert out.abs().max() < 0.1


def test_config_holds_every_constructor_argument():
    model = HeatmapNet(num_joints=13, width=12, depth=4, stride=8, in_channels=1)
    assert model.config == dict(num_joints=13, width=12, depth=4, stride=8, in_channels=1)
    assert engine.get_model_config(model) == {"name": "HeatmapNet", "kwargs": model.config}


def test_checkpoint_round_trip(tmp_path):
    torch.manual_seed(0)
    model = HeatmapNet(num_joints=5, width=8, depth=3, stride=2, in_channels=3)
    with torch.no_grad():  # make the BatchNorm statistics non-trivial
        model.train()(torch.randn(4, 3, 32, 32))
    model.eval()
    path = engine.save_checkpoint(
        tmp_path / "hm.pt", model, model_config=engine.get_model_config(model)
    )
    loaded = engine.load_model(path, [HeatmapNet])
    assert isinstance(loaded, HeatmapNet) and not loaded.training
    assert loaded.config == model.config
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), model(x))


def test_a_few_steps_learn_a_fixed_batch():
    """Gradients reach every parameter and the loss drops on one memorised batch."""
    torch.manual_seed(0)
    model = HeatmapNet(num_joints=2, width=8, depth=3, stride=4)
    codec = HeatmapCodec((32, 32), stride=4, sigma=1.0)
    x = torch.randn(4, 3, 32, 32)
    kp = torch.tensor([[[10.0, 12.0, 2], [20.0, 5.0, 2]]]).repeat(4, 1, 1)
    targets = codec.encode({"keypoints": kp})
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(60):
        loss = heatmap_mse_loss(model(x), targets["heatmaps"], targets["target_weight"])
        opt.zero_grad()
        loss.backward()
        if not losses:
            assert all(p.grad is not None for p in model.parameters())
        opt.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < 0.3 * losses[0]
    model.eval()
    with torch.no_grad():
        pred = decode_argmax(model(x), 4)
    assert torch.allclose(pred[0, :, :2], kp[0, :, :2], atol=4.0)
