"""Stacked Hourglass, Simple Baselines and the flip test (issue 5): published parameter
counts, layer-by-layer equivalence with hand-written forward passes, flip-test geometry."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from posekit.bench import count_macs, count_params
from posekit.codecs.heatmap import decode_argmax, gaussian_heatmaps, heatmap_mse_loss
from posekit.models import (
    FlipTest,
    Hourglass,
    HourglassNet,
    Residual,
    SimpleBaseline,
    flip_heatmaps,
)
from posekit.models.optimize import randomise_batchnorm
from posekit.skeletons import MPII16, flip_keypoints


def _close(a, b, rel=0.01):
    return abs(a - b) <= rel * b


@pytest.mark.parametrize("stacks, params_m, gmacs", [(2, 6.57, 8.3), (8, 25.43, 27.4)])
def test_hourglass_published_params_and_macs(stacks, params_m, gmacs):
    model = HourglassNet(16, num_stacks=stacks)
    assert _close(count_params(model) / 1e6, params_m)
    assert _close(count_macs(model, (1, 3, 256, 256)) / 1e9, gmacs, rel=0.02)


@pytest.mark.parametrize(
    "depth, k, size, params_m, gmacs",
    [(50, 17, (256, 192), 34.0, 5.43), (101, 17, None, 53.0, None), (152, 17, None, 68.6, None)],
)
def test_simple_baseline_published_params(depth, k, size, params_m, gmacs):
    model = SimpleBaseline(k, depth)
    assert _close(count_params(model) / 1e6, params_m)
    if size:
        assert _close(count_macs(model, (1, 3, *size)) / 1e9, gmacs, rel=0.01)


def _bn(x, bn):
    return F.batch_norm(x, bn.running_mean, bn.running_var, bn.weight, bn.bias, False, 0, bn.eps)


@pytest.mark.parametrize("cin, cout", [(8, 8), (6, 10)])
def test_residual_is_a_preactivation_bottleneck(cin, cout):
    torch.manual_seed(0)
    res = Residual(cin, cout).eval()
    randomise_batchnorm(res)
    x = torch.randn(2, cin, 5, 7)
    bn1, _, c1, bn2, _, c2, bn3, _, c3 = res.branch
    assert (c1.out_channels, c2.out_channels, c3.out_channels) == (cout // 2, cout // 2, cout)
    assert c2.kernel_size == (3, 3) and c1.kernel_size == c3.kernel_size == (1, 1)
    y = F.conv2d(F.relu(_bn(x, bn1)), c1.weight, c1.bias)
    y = F.conv2d(F.relu(_bn(y, bn2)), c2.weight, c2.bias, padding=1)
    y = F.conv2d(F.relu(_bn(y, bn3)), c3.weight, c3.bias)
    skip = x if cin == cout else F.conv2d(x, res.skip.weight, res.skip.bias)
    with torch.no_grad():
        torch.testing.assert_close(res(x), skip + y)


def test_hourglass_recursion_matches_the_hand_written_forward():
    torch.manual_seed(1)
    hg = Hourglass(2, 8).eval()
    randomise_batchnorm(hg)
    x = torch.randn(1, 8, 8, 8)

    def manual(level, h):
        down = level.down(F.max_pool2d(h, 2))
        mid = level.inner(down) if isinstance(level.inner, Residual) else manual(level.inner, down)
        low = level.out(mid)
        return level.up(h) + low.repeat_interleave(2, -1).repeat_interleave(2, -2)

    with torch.no_grad():
        torch.testing.assert_close(hg(x), manual(hg, x))
    assert isinstance(hg.inner, Hourglass) and isinstance(hg.inner.inner, Residual)


def test_stacks_reinject_features_and_heatmaps():
    torch.manual_seed(2)
    net = HourglassNet(5, num_stacks=2, features=16, depth=2).eval()
    randomise_batchnorm(net)
    x = torch.randn(2, 3, 32, 48)
    seen = {}
    net.hourglasses[1].register_forward_hook(lambda m, inp, out: seen.update(inp=inp[0]))
    with torch.no_grad():
        outs = net(x)
        stem = net.stem(x)
        feat = net.features[0](net.hourglasses[0](stem))
        heat = net.heads[0](feat)
        expected = stem + net.merge_features[0](feat) + net.merge_heatmaps[0](heat)
    assert [tuple(o.shape) for o in outs] == [(2, 5, 8, 12)] * 2
    torch.testing.assert_close(outs[0], heat)
    torch.testing.assert_close(seen["inp"], expected)


def test_every_stack_is_supervised():
    net = HourglassNet(4, num_stacks=3, features=8, depth=1)
    outs = net(torch.randn(1, 3, 16, 16))
    target = torch.rand_like(outs[0])
    loss = heatmap_mse_loss(outs, target)
    torch.testing.assert_close(loss, sum(heatmap_mse_loss(o, target) for o in outs))
    loss.backward()
    for head in net.heads:  # every head receives a gradient from its own loss term
        assert head.weight.grad is not None and head.weight.grad.abs().sum() > 0


def test_simple_baseline_shapes_and_torchvision_keys():
    net = SimpleBaseline(16, 18, deconv_channels=32, width=16)
    out = net(torch.randn(2, 3, 128, 96))
    assert tuple(out.shape) == (2, 16, 32, 24) and net.stride == 4
    keys = net.backbone.state_dict().keys()
    assert {"conv1.weight", "bn1.running_mean", "layer4.1.conv2.weight"} <= set(keys)
    deconvs = [m for m in net.deconv if isinstance(m, torch.nn.ConvTranspose2d)]
    assert [(d.kernel_size, d.stride, d.padding, d.bias) for d in deconvs] == [
        ((4, 4), (2, 2), (1, 1), None)
    ] * 3


@pytest.mark.parametrize(
    "build, shape, message",
    [
        (lambda: HourglassNet(16, 2, 64, depth=4), (1, 3, 100, 128), r"multiples of 4·2\^depth"),
        (lambda: SimpleBaseline(16, 18, width=8), (1, 3, 100, 96), "multiples of 32"),
    ],
)
def test_bad_input_sizes_name_the_rule(build, shape, message):
    with pytest.raises(ValueError, match=message):
        build()(torch.zeros(shape))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(num_stacks=0), "num_stacks"),
        (dict(features=63), "features"),
    ],
)
def test_hourglass_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        HourglassNet(16, **kwargs)


def test_simple_baseline_bad_depth():
    with pytest.raises(ValueError, match="backbone_depth"):
        SimpleBaseline(17, 42)


def _mpii_keypoints(rng, n, size):
    kp = np.zeros((n, 16, 3), np.float32)
    kp[..., :2] = rng.uniform(4, size - 5, (n, 16, 2))
    kp[..., 2] = 2
    return kp


def test_flip_heatmaps_undoes_a_mirrored_image_without_shift():
    """Targets of the mirrored keypoints, flipped back, are the targets of the originals."""
    rng = np.random.default_rng(0)
    size, stride = 64, 4
    kp = _mpii_keypoints(rng, 3, size)
    maps, _ = gaussian_heatmaps(torch.as_tensor(kp), (16, 16), stride, 1.5)
    mirrored, _ = gaussian_heatmaps(
        torch.as_tensor(flip_keypoints(kp, size, "mpii16")), (16, 16), stride, 1.5
    )
    torch.testing.assert_close(flip_heatmaps(mirrored, "mpii16"), maps, atol=1e-5, rtol=0)
    shifted = flip_heatmaps(mirrored, MPII16.flip_permutation(), shift=1)
    uv = decode_argmax(shifted, 1)[..., :2] - decode_argmax(maps, 1)[..., :2]
    inside = (kp[..., 0] < size - 2 * stride).reshape(-1)  # the shift is clipped at the edge
    assert np.allclose(uv.reshape(-1, 2)[inside].numpy(), [1, 0])


def test_flip_test_averages_plain_and_mirrored_passes():
    torch.manual_seed(3)
    net = HourglassNet(16, num_stacks=2, features=8, depth=1).eval()
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        got = FlipTest(net, "mpii16")(x)
        plain = net(x)[-1]
        mirror = net(x.flip(-1))[-1].flip(-1)[:, MPII16.flip_permutation()]
    torch.testing.assert_close(got, (plain + mirror) / 2)


def test_flip_index_errors():
    with pytest.raises(ValueError, match="flip_index"):
        flip_heatmaps(torch.zeros(1, 3, 4, 4), [0, 0, 1])
    with pytest.raises(ValueError, match="K = 3"):
        flip_heatmaps(torch.zeros(1, 3, 4, 4), "mpii16")


def test_latency_ms_is_the_median_of_the_timed_runs(monkeypatch):
    import time

    from posekit import bench

    clock = iter([0.0, 1.0, 10.0, 12.0, 20.0, 20.5])  # runs of 1, 2 and 0.5 s
    monkeypatch.setattr(time, "perf_counter", lambda: next(clock))
    calls = []
    assert bench.latency_ms(lambda: calls.append(torch.is_inference_mode_enabled()), 3, 2) == 1000
    assert calls == [True] * 5  # 2 warm-up + 3 timed, all under inference_mode
    with pytest.raises(ValueError, match="runs"):
        bench.latency_ms(lambda: None, runs=0)


def test_hourglass_stem_channels_scale_the_stem_only():
    small = HourglassNet(16, num_stacks=1, features=32, stem_channels=(16, 32))
    assert small.stem[0][0].out_channels == 16 and small.stem[1].branch[-1].out_channels == 32
    assert small.config["stem_channels"] == [16, 32]
    with pytest.raises(ValueError, match="stem_channels"):
        HourglassNet(16, stem_channels=(15, 32))


@pytest.mark.parametrize("value", [0, -3, 2.0, True, "8"])
def test_model_arguments_share_one_clear_check(value):
    from posekit.models import HeatmapNet, LightweightOpenPose

    builders = [
        (lambda v: HourglassNet(16, num_stacks=v), "num_stacks"),
        (lambda v: SimpleBaseline(17, width=v), "width"),
        (lambda v: HeatmapNet(16, width=v), "width"),
        (lambda v: LightweightOpenPose(channels=v), "channels"),
    ]
    for build, name in builders:
        with pytest.raises(ValueError, match=f"{name}: expected a positive integer"):
            build(value)
