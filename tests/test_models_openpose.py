"""OpenPose and Lightweight OpenPose (issue 6): published params/MACs, the stage wiring against
hand-written functional forward passes, channel orders; BN folding and the inference-optimised
copy against the original; the latency bench (correctness only, no speed assertions)."""

import copy
import time

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from posekit import bench
from posekit.bench import count_macs, count_params
from posekit.engine import get_model_config
from posekit.models import (
    HourglassNet,
    LightweightOpenPose,
    OpenPose,
    Residual,
    fold_batchnorm,
    optimize_for_inference,
    reference_pafs_to_posekit,
    resnet18,
)
from posekit.models.openpose import REFERENCE_PAF_IDS
from posekit.models.optimize import (
    MkldnnConv2d,
    fold_conv_bn,
    mkldnn_available,
    randomise_batchnorm,
)
from posekit.skeletons import OPENPOSE18


def _close(a, b, rel):
    return abs(a - b) <= rel * b


def _flat(outputs):
    return [t for stage in outputs for t in stage]


def _assert_outputs_close(a, b, rtol, atol=0.0):
    for x, y in zip(_flat(a), _flat(b), strict=True):
        scale = y.abs().max().item()
        assert (x - y).abs().max().item() <= rtol * scale + atol


# ---------------------------------------------------------------------------- published counts
def _openpose_params_by_hand(stages):
    conv = lambda cin, cout, k: cin * cout * k * k + cout  # noqa: E731
    vgg = 5_865_536  # conv1_1 … conv4_2 (tests/test_models_backbones.py)
    cpm = conv(512, 256, 3) + conv(256, 128, 3)
    first = sum(3 * conv(128, 128, 3) + conv(128, 512, 1) + conv(512, out, 1) for out in (38, 19))
    later = sum(conv(185, 128, 7) + 4 * conv(128, 128, 7) + conv(128, 128, 1) + conv(128, out, 1)
                for out in (38, 19))  # fmt: skip
    return vgg + cpm + first + (stages - 1) * later


@pytest.mark.parametrize("stages, params_m, gmacs", [(6, 52.3, 135.9), (2, 17.2, 61.6)])
def test_openpose_published_params_and_macs(stages, params_m, gmacs):
    with torch.device("meta"):  # shapes only: the 136-GMAC forward costs nothing
        model = OpenPose(num_stages=stages)
    n = count_params(model)
    assert n == _openpose_params_by_hand(stages)
    assert _close(n / 1e6, params_m, 0.01)
    assert _close(count_macs(model, (1, 3, 368, 368)) / 1e9, gmacs, 0.02)


def _lwop_params_by_hand(refinement=1, c=128):
    conv = lambda cin, cout, k, bias=True: cin * cout * k * k + (cout if bias else 0)  # noqa: E731
    chans = [32, 64, 128, 128, 256, 256, 512, 512, 512, 512, 512, 512]
    backbone = conv(3, 32, 3, False) + 64  # conv1 + BN
    for cin, cout in zip(chans, chans[1:], strict=False):
        backbone += cin * 9 + 2 * cin + cin * cout + 2 * cout
    cpm = conv(512, c, 1) + 3 * (c * 9 + c * c) + conv(c, c, 3)
    initial = 3 * conv(c, c, 3) + sum(conv(c, 512, 1) + conv(512, out, 1) for out in (19, 38))
    block = lambda cin: conv(cin, c, 1) + 2 * (conv(c, c, 3) + 2 * c)  # noqa: E731
    refine = block(c + 57) + 4 * block(c) + sum(conv(c, c, 1) + conv(c, o, 1) for o in (19, 38))
    return backbone + cpm + initial + refinement * refine


def test_lightweight_openpose_published_params_and_macs():
    model = LightweightOpenPose()
    n = count_params(model)
    assert n == _lwop_params_by_hand()
    assert _close(n / 1e6, 4.09, 0.01)
    with torch.device("meta"):
        meta = LightweightOpenPose()
    assert _close(count_macs(meta, (1, 3, 368, 368)) / 1e9, 8.88, 0.02)
    assert _close(count_macs(meta, (1, 3, 256, 456)) / 1e9, 7.66, 0.02)
    assert count_params(LightweightOpenPose(num_refinement_stages=3)) == _lwop_params_by_hand(3)


def test_published_entries_and_default_config():
    names = {p.name: p for p in bench.PUBLISHED}
    assert names["OpenPose, 6 stages (COCO, 19 + 38 maps)"].reference_gmacs == 135.9
    assert names["OpenPose, 2 stages"].reference_params == 17.2
    lw = [p for p in bench.PUBLISHED if p.name.startswith("Lightweight OpenPose")]
    assert {p.input_shape for p in lw} == {(1, 3, 368, 368), (1, 3, 256, 456)}
    with torch.device("meta"):
        assert OpenPose().config["num_stages"] == 6
        assert LightweightOpenPose().config["num_refinement_stages"] == 1


# ------------------------------------------------------------------------------- forward wiring
@pytest.mark.parametrize(
    "model, stages",
    [(LightweightOpenPose(num_refinement_stages=2, channels=16, width_mult=0.25), 3),
     (OpenPose(num_stages=3, channels=8, backbone_width=4), 3)],
)  # fmt: skip
def test_forward_returns_one_heatmap_paf_tuple_per_stage(model, stages):
    out = model.eval()(torch.randn(2, 3, 48, 64))
    assert isinstance(out, list) and len(out) == stages
    for heatmaps, pafs in out:
        assert heatmaps.shape == (2, 19, 6, 8) and pafs.shape == (2, 38, 6, 8)
    assert model.stride == 8


def test_published_models_output_shapes_on_meta():
    with torch.device("meta"):
        out = OpenPose()(torch.empty(1, 3, 368, 368))
        lw = LightweightOpenPose()(torch.empty(1, 3, 256, 456))
    assert [tuple(h.shape) for h, _ in out] == [(1, 19, 46, 46)] * 6
    assert [tuple(p.shape) for _, p in lw] == [(1, 38, 32, 57)] * 2


def _conv(x, seq, relu=True, bn=False, dilation=1):
    """Osokin's ``conv()`` block written out: Sequential(Conv2d, [BN], [ReLU])."""
    c = seq[0]
    pad = dilation * (c.kernel_size[0] // 2)
    x = F.conv2d(x, c.weight, c.bias, padding=pad, dilation=dilation)
    if bn:
        b = seq[1]
        x = F.batch_norm(x, b.running_mean, b.running_var, b.weight, b.bias, False, 0, b.eps)
    return F.relu(x) if relu else x


def _lwop_functional(model, x):
    """Lightweight OpenPose's forward pass re-written from ``models/with_mobilenet.py``'s
    description (Osokin 2018): trunk, CPM residual with ELU, stages on concat(F, H, P)."""
    feat = model.model(x)  # the trunk is tested in test_models_backbones.py
    cpm = model.cpm
    a = _conv(feat, cpm.align)
    t = a
    for dw_sep in cpm.trunk:
        t = F.elu(F.conv2d(t, dw_sep[0].weight, padding=1, groups=t.shape[1]))
        t = F.elu(F.conv2d(t, dw_sep[2].weight))
    f = _conv(a + t, cpm.conv)
    s = model.initial_stage
    y = f
    for layer in s.trunk:
        y = _conv(y, layer)
    outs = [(_conv(_conv(y, s.heatmaps[0]), s.heatmaps[1], relu=False),
             _conv(_conv(y, s.pafs[0]), s.pafs[1], relu=False))]  # fmt: skip
    for stage in model.refinement_stages:
        y = torch.cat([f, *outs[-1]], dim=1)
        for block in stage.trunk:
            y = _conv(y, block.initial)
            z = _conv(y, block.trunk[0], bn=True)
            y = y + _conv(z, block.trunk[1], bn=True, dilation=2)
        outs.append((_conv(_conv(y, stage.heatmaps[0]), stage.heatmaps[1], relu=False),
                     _conv(_conv(y, stage.pafs[0]), stage.pafs[1], relu=False)))  # fmt: skip
    return outs


def test_lightweight_openpose_matches_functional_forward():
    torch.manual_seed(0)
    model = LightweightOpenPose(num_refinement_stages=2, channels=24, width_mult=0.25)
    randomise_batchnorm(model).eval()
    x = torch.randn(1, 3, 40, 56)
    with torch.no_grad():
        _assert_outputs_close(model(x), _lwop_functional(model, x), rtol=1e-5, atol=1e-6)


def test_openpose_stage_inputs_are_pafs_heatmaps_features():
    torch.manual_seed(0)
    model = OpenPose(num_stages=3, channels=8, backbone_width=4).eval()
    seen = {}
    model.cpm.register_forward_hook(lambda m, i, o: seen.__setitem__("features", o))
    for t, stage in enumerate(model.stages):
        stage.register_forward_pre_hook(lambda m, i, t=t: seen.__setitem__(t, i[0]))
    x = torch.randn(1, 3, 32, 40)
    with torch.no_grad():
        out = model(x)
        feat = _conv(_conv(model.backbone(x), model.cpm[0]), model.cpm[1])
    torch.testing.assert_close(seen["features"], feat)
    assert seen[1].shape[1] == 8 + 19 + 38
    for t in (1, 2):  # CMU: concat_stage{t+1} = [L1 (PAFs), L2 (heatmaps), conv4_4_CPM]
        heatmaps, pafs = out[t - 1]
        torch.testing.assert_close(seen[t], torch.cat([pafs, heatmaps, feat], dim=1))
    # stage ≥ 2 branches: 5 conv7×7, then two 1×1; stage 1: 3 conv3×3, then two 1×1
    kernels = [s[0].kernel_size[0] for s in model.stages[1].pafs]
    assert kernels == [7] * 5 + [1, 1]
    assert [s[0].kernel_size[0] for s in model.stages[0].heatmaps] == [3, 3, 3, 1, 1]


def test_lightweight_openpose_state_dict_uses_the_reference_names():
    keys = set(LightweightOpenPose().state_dict())
    for key in ("model.0.0.weight", "model.0.1.running_mean", "model.7.0.weight",
                "model.11.3.weight", "cpm.align.0.bias", "cpm.trunk.2.2.weight",
                "cpm.conv.0.weight", "initial_stage.trunk.2.0.bias",
                "initial_stage.heatmaps.1.0.weight", "initial_stage.pafs.0.0.weight",
                "refinement_stages.0.trunk.0.initial.0.weight",
                "refinement_stages.0.trunk.4.trunk.1.1.running_var",
                "refinement_stages.0.pafs.1.0.bias"):  # fmt: skip
        assert key in keys, key
    assert LightweightOpenPose().model[7][0].dilation == (2, 2)


def test_config_rebuilds_the_same_model():
    for model in (LightweightOpenPose(2, 32, 7, 12, 0.5, 1), OpenPose(2, 5, 8, 16, 8, 1)):
        spec = get_model_config(model)
        rebuilt = type(model)(**spec["kwargs"])
        rebuilt.load_state_dict(model.state_dict())  # same keys and shapes
        out = rebuilt.eval()(torch.randn(1, 1, 16, 24))
        assert out[-1][0].shape[1] == model.config["num_heatmaps"]
        assert out[-1][1].shape[1] == model.config["num_pafs"]


@pytest.mark.parametrize("cls", [LightweightOpenPose, OpenPose])
@pytest.mark.parametrize(
    "shape, message",
    [((1, 3, 36, 40), "multiples of the stride 8"), ((1, 2, 32, 32), "3 channels"),
     ((3, 32, 32), "(B, C, H, W)")],
)  # fmt: skip
def test_bad_input_raises_value_error(cls, shape, message):
    with torch.device("meta"), pytest.raises(ValueError) as err:
        cls()(torch.empty(shape))
    assert str(err.value).startswith("x: ") and message in str(err.value)


@pytest.mark.parametrize(
    "cls, kwargs, field",
    [(OpenPose, dict(num_stages=0), "num_stages"), (OpenPose, dict(channels=2.5), "channels"),
     (LightweightOpenPose, dict(num_refinement_stages=-1), "num_refinement_stages"),
     (LightweightOpenPose, dict(num_pafs=0), "num_pafs"),
     (LightweightOpenPose, dict(width_mult=0), "width_mult")],
)  # fmt: skip
def test_bad_constructor_arguments(cls, kwargs, field):
    with pytest.raises(ValueError, match=field):
        cls(**kwargs)


def test_paf_channel_orders():
    # posekit's limb order is the CMU limbSeq = Osokin's BODY_PARTS_KPT_IDS (modules/keypoints.py)
    kpt_ids = [[1, 2], [1, 5], [2, 3], [3, 4], [5, 6], [6, 7], [1, 8], [8, 9], [9, 10], [1, 11],
               [11, 12], [12, 13], [1, 0], [0, 14], [14, 16], [0, 15], [15, 17], [2, 16],
               [5, 17]]  # fmt: skip
    assert [list(limb) for limb in OPENPOSE18.limbs] == kpt_ids
    assert sorted(c for pair in REFERENCE_PAF_IDS for c in pair) == list(range(38))
    ref = torch.arange(38.0).view(1, 38, 1, 1).expand(2, 38, 3, 4)
    ours = reference_pafs_to_posekit(ref)
    assert ours[0, :4, 0, 0].tolist() == [12, 13, 20, 21]  # limb 0 (neck→r_sho), limb 1
    assert ours[0, 36:, 2, 3].tolist() == [26, 27]  # limb 18 (l_sho→l_ear)
    with pytest.raises(ValueError, match="pafs"):
        reference_pafs_to_posekit(torch.zeros(1, 19, 2, 2))


# ------------------------------------------------------------------------------- BN folding
class _ConvBNNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
            nn.Conv2d(8, 8, 3, padding=1, groups=4, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
            nn.ConvTranspose2d(8, 6, 4, 2, 1, bias=False), nn.BatchNorm2d(6),
        )  # fmt: skip
        self.conv = nn.Conv2d(6, 5, 1, bias=False)  # attribute pair: needs example_input
        self.bn = nn.BatchNorm2d(5)

    def forward(self, x):
        return self.bn(self.conv(self.body(x)))


def _num_bn(model):
    return sum(isinstance(m, nn.BatchNorm2d) for m in model.modules())


def test_fold_batchnorm_small_net_equals_original():
    torch.manual_seed(0)
    net = randomise_batchnorm(_ConvBNNet()).train()
    x = torch.randn(2, 3, 10, 12)
    structural = fold_batchnorm(net)
    traced = fold_batchnorm(net, example_input=x)
    assert net.training and _num_bn(net) == 4  # the original is untouched
    assert _num_bn(structural) == 1 and _num_bn(traced) == 0
    assert not traced.training
    with torch.no_grad():
        ref = net.eval()(x)
        for folded in (structural, traced):
            out = folded(x)
            assert (out - ref).abs().max() <= 1e-5 * ref.abs().max()


def test_fold_conv_bn_formula_by_hand():
    conv = nn.Conv2d(1, 1, 1)
    bn = nn.BatchNorm2d(1, eps=0.0)
    with torch.no_grad():
        conv.weight.fill_(2.0), conv.bias.fill_(1.0)
        bn.running_mean.fill_(3.0), bn.running_var.fill_(4.0)
        bn.weight.fill_(5.0), bn.bias.fill_(6.0)
    fold_conv_bn(conv, bn.eval())
    # y = 5·(2x + 1 − 3)/2 + 6 = 5x + 1
    assert conv.weight.item() == 5.0 and conv.bias.item() == 1.0


class _Shared(nn.Module):  # the conv output is also used elsewhere: must not be folded
    def __init__(self, inplace=False):
        super().__init__()
        self.conv, self.bn, self.inplace = nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), inplace

    def forward(self, x):
        y = self.conv(x)
        if self.inplace:  # modified in place before the BN: not a conv → BN pair either
            return self.bn(y.mul_(2))
        return self.bn(y) + y


@pytest.mark.parametrize("inplace", [False, True])
def test_fold_batchnorm_leaves_non_pairs(inplace):
    net = randomise_batchnorm(_Shared(inplace)).eval()
    x = torch.randn(1, 3, 8, 8)
    folded = fold_batchnorm(net, example_input=x)
    assert _num_bn(folded) == 1
    with torch.no_grad():
        torch.testing.assert_close(folded(x), net(x))


def test_fold_batchnorm_on_resnet_and_preactivation_hourglass():
    torch.manual_seed(0)
    x = torch.randn(1, 3, 64, 64)
    res = randomise_batchnorm(resnet18(include_top=False)).eval()
    assert _num_bn(fold_batchnorm(res)) == 20 - 3  # only the downsample Sequentials
    folded = fold_batchnorm(res, example_input=x)
    assert _num_bn(folded) == 0
    hg = randomise_batchnorm(HourglassNet(4, num_stacks=1, features=16, depth=1)).eval()
    hg_folded = fold_batchnorm(hg, example_input=x)
    # pre-activation Residuals: every BN but the first of each follows a conv in a Sequential
    residuals = sum(isinstance(m, Residual) for m in hg.modules())
    assert _num_bn(hg_folded) == residuals == 8
    with torch.no_grad():
        ref = res(x)
        assert (folded(x) - ref).abs().max() <= 1e-5 * ref.abs().max()
        torch.testing.assert_close(hg_folded(x), hg(x), rtol=1e-5, atol=1e-5)


def test_fold_batchnorm_lightweight_openpose_within_1e5_relative():
    torch.manual_seed(0)
    model = randomise_batchnorm(LightweightOpenPose()).eval()
    folded = fold_batchnorm(model)
    assert _num_bn(model) > 0 and _num_bn(folded) == 0
    x = torch.randn(1, 3, 64, 48)
    with torch.no_grad():
        _assert_outputs_close(folded(x), model(x), rtol=1e-5)


# ------------------------------------------------------------------ optimize_for_inference
@pytest.mark.parametrize("mkldnn", [False, True])
def test_optimize_for_inference_equals_eval_model(mkldnn):
    if mkldnn and not mkldnn_available():
        pytest.skip("no oneDNN in this torch build")
    torch.manual_seed(0)
    model = randomise_batchnorm(LightweightOpenPose(channels=32, width_mult=0.5))
    fast = optimize_for_inference(model, mkldnn=mkldnn)
    assert model.training and any(p.requires_grad for p in model.parameters())
    assert not any(p.requires_grad for p in fast.parameters())
    assert _num_bn(fast) == 0
    n_relu = sum(type(m) is nn.ReLU for m in fast.modules())
    if mkldnn:
        assert any(isinstance(m, MkldnnConv2d) for m in fast.modules())
        assert not any(type(m) is nn.Conv2d for m in fast.modules())
        assert n_relu == 0  # every ReLU follows a conv in a Sequential: fused
    model.eval()
    for shape in [(1, 3, 64, 48), (2, 3, 32, 40), (1, 3, 64, 48)]:  # packs per shape, cached
        x = torch.randn(shape)
        with torch.inference_mode():
            out = fast(x)
            ref = model(x)
        _assert_outputs_close(out, ref, rtol=1e-5, atol=1e-6)
        assert (
            max((a - b).abs().max().item() for a, b in zip(_flat(out), _flat(ref), strict=True))
            <= 1e-4
        )


@pytest.mark.skipif(not mkldnn_available(), reason="no oneDNN in this torch build")
@pytest.mark.parametrize(
    "cin, cout, k, stride, dilation, groups, bias, relu",
    [(8, 16, 3, 1, 1, 1, True, True), (8, 8, 3, 2, 1, 8, False, True),
     (8, 8, 3, 1, 2, 8, False, False), (16, 12, 1, 1, 1, 1, True, False),
     (6, 4, 7, 1, 1, 1, True, True), (4, 6, 3, 2, 1, 2, True, False)],
)  # fmt: skip
def test_mkldnn_conv_equals_conv_relu(cin, cout, k, stride, dilation, groups, bias, relu):
    torch.manual_seed(0)
    conv = nn.Conv2d(cin, cout, k, stride, dilation * (k // 2), dilation, groups, bias).eval()
    fast = MkldnnConv2d(conv, relu=relu, max_cached=1)
    clone = copy.deepcopy(fast)
    for shape in [(1, cin, 13, 11), (2, cin, 8, 8), (1, cin, 13, 11)]:  # evicts and repacks
        x = torch.randn(shape)
        with torch.inference_mode():
            ref = conv(x)
            ref = F.relu(ref) if relu else ref
            torch.testing.assert_close(fast(x), ref, rtol=1e-5, atol=1e-5)
            torch.testing.assert_close(clone(x), ref, rtol=1e-5, atol=1e-5)
    assert len(fast._packed) == 1
    x = torch.randn(1, cin, 9, 9, requires_grad=True)  # autograd: falls back to F.conv2d
    ref = conv(x)
    out = fast(x)
    torch.testing.assert_close(out, F.relu(ref) if relu else ref)
    out.sum().backward()
    assert x.grad is not None


# ------------------------------------------------------------------------------ latency bench
def test_latency_ms_counts_calls_and_times_the_median():
    calls, modes = [], []

    def fn():
        calls.append(1)
        modes.append(torch.is_inference_mode_enabled())

    bench.latency_ms(fn, runs=5, warmup=2)
    assert len(calls) == 7 and all(modes)
    durations = iter([0.030, 0.001, 0.001, 0.001, 0.030] * 2)
    ms = bench.latency_ms(lambda: time.sleep(next(durations)), runs=5, warmup=0)
    assert 1.0 <= ms < 25.0  # the median ignores the two slow calls
    with pytest.raises(ValueError):
        bench.latency_ms(fn, runs=0)
