"""EfficientNet B0–B7 (issue 14 item 1): params equal torchvision's documented ``num_params``,
TensorFlow "same" padding against explicit ``F.pad`` + conv, drop-connect statistics, stage
shapes and the EfficientPose cuts."""

import pytest
import torch
import torch.nn.functional as F

from posekit.bench import count_params
from posekit.models.efficientnet import (
    VARIANTS,
    Conv2dSame,
    EfficientNet,
    MBConv,
    drop_connect,
    efficientnet,
    efficientnet_b0,
    round_filters,
    round_repeats,
)

# torchvision's EfficientNet_B*_Weights.IMAGENET1K_V1 meta["num_params"] (1000 classes)
TORCHVISION_PARAMS = {
    "b0": 5_288_548,
    "b1": 7_794_184,
    "b2": 9_109_994,
    "b3": 12_233_232,
    "b4": 19_341_616,
    "b5": 30_389_784,
    "b6": 43_040_704,
    "b7": 66_347_960,
}


@pytest.mark.parametrize("variant", list(TORCHVISION_PARAMS))
def test_classifier_params_equal_torchvision(variant):
    with torch.device("meta"):
        model = efficientnet(variant)
    assert count_params(model) == TORCHVISION_PARAMS[variant]
    # the tf_padding option changes no parameter
    with torch.device("meta"):
        tf = efficientnet(variant, tf_padding=True)
    assert count_params(tf) == TORCHVISION_PARAMS[variant]


def test_variant_table_and_rounding():
    assert {k: tuple(v) for k, v in VARIANTS.items()} == {
        "b0": (1.0, 1.0, 224, 0.2), "b1": (1.0, 1.1, 240, 0.2), "b2": (1.1, 1.2, 260, 0.3),
        "b3": (1.2, 1.4, 300, 0.3), "b4": (1.4, 1.8, 380, 0.4), "b5": (1.6, 2.2, 456, 0.4),
        "b6": (1.8, 2.6, 528, 0.5), "b7": (2.0, 3.1, 600, 0.5),
    }  # fmt: skip
    # nearest multiple of 8, bumped when rounding lost more than 10 %
    assert round_filters(40, 1.1) == 48  # 44 → 48 (44 + 4 = 48)
    assert round_filters(24, 1.2) == 32  # 28.8 → 32
    assert round_filters(16, 1.1) == 16  # 17.6 → 16 (9 % down: kept)
    assert round_filters(32, 1.8) == 56  # 57.6 → 56
    assert round_filters(3, 1.0) == 8  # at least the divisor
    assert round_filters(10, 0.5, divisor=4) == 8  # 5 → 4 is 20 % down: bumped to 8
    assert [round_repeats(n, 3.1) for n in (1, 2, 3, 4)] == [4, 7, 10, 13]


@pytest.mark.parametrize(
    "variant, stage, channels, blocks, stride",  # Groos et al. 2021: block3b/3c/3d/3e/3g, 2b/2c
    [("b0", 3, 40, 2, 8), ("b2", 3, 48, 3, 8), ("b4", 3, 56, 4, 8), ("b5", 3, 64, 5, 8),
     ("b7", 3, 80, 7, 8), ("b0", 2, 24, 2, 4), ("b1", 2, 24, 3, 4), ("b3", 2, 32, 3, 4)],
)  # fmt: skip
def test_efficientpose_backbone_cuts(variant, stage, channels, blocks, stride):
    with torch.device("meta"):
        full = efficientnet(variant)
        cut = efficientnet(variant, last_stage=stage, include_top=False)
    assert len(cut.features) == stage + 1 and len(cut.features[stage]) == blocks
    assert cut.out_channels == channels and cut.stride == stride
    assert cut.stage_channels == full.stage_channels[: stage + 1]
    full_keys = full.state_dict()
    for key, value in cut.state_dict().items():  # a prefix of the full network
        assert full_keys[key].shape == value.shape, key
    x = torch.zeros(1, 3, 64, 64, device="meta")
    assert cut(x).shape == (1, channels, 64 // stride, 64 // stride)


# --------------------------------------------------------------------------------- padding
@pytest.mark.parametrize(
    "size, kernel, stride, pads",  # (top, bottom): TF "same" puts the odd pixel after
    [(8, 3, 2, (0, 1)), (9, 3, 2, (1, 1)), (8, 5, 2, (1, 2)), (9, 5, 2, (2, 2)),
     (8, 3, 1, (1, 1)), (7, 5, 1, (2, 2)), (10, 1, 2, (0, 0))],
)  # fmt: skip
def test_tf_same_padding_matches_explicit_pad_and_conv(size, kernel, stride, pads):
    torch.manual_seed(0)
    conv = Conv2dSame(4, 6, kernel, stride, 0, bias=True)
    width = size + 1  # the other axis with the other parity
    x = torch.randn(2, 4, size, width)
    wpads = {
        (3, 2): (0, 1) if width % 2 == 0 else (1, 1),
        (5, 2): (1, 2) if width % 2 == 0 else (2, 2),
        (3, 1): (1, 1), (5, 1): (2, 2), (1, 2): (0, 0),
    }[(kernel, stride)]  # fmt: skip
    expected = F.conv2d(F.pad(x, (*wpads, *pads)), conv.weight, conv.bias, stride)
    out = conv(x)
    assert out.shape[-2:] == (-(-size // stride), -(-width // stride))  # ceil(in / stride)
    torch.testing.assert_close(out, expected)


@pytest.mark.parametrize("side", [224, 225, 97])
def test_tf_padding_model_sizes_are_ceil_of_stride(side):
    with torch.device("meta"):
        model = efficientnet_b0(tf_padding=True, include_top=False)
    maps = model.forward_stages(torch.zeros(1, 3, side, side, device="meta"))
    assert [m.shape[-1] for m in maps] == [-(-side // s) for s in (2, 4, 8, 16, 32)]


def test_tf_padding_shares_keys_and_differs_only_in_alignment():
    torch.manual_seed(0)
    sym = EfficientNet(0.25, 0.5, include_top=False, last_stage=3).eval()
    tf = EfficientNet(0.25, 0.5, include_top=False, last_stage=3, tf_padding=True).eval()
    assert tf.load_state_dict(sym.state_dict()) is not None
    x = torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        a, b = sym(x), tf(x)
    assert a.shape == b.shape and not torch.allclose(a, b)
    assert isinstance(tf.features[0][0], Conv2dSame)
    assert not isinstance(sym.features[0][0], Conv2dSame)


# ---------------------------------------------------------------------------- drop-connect
def test_drop_connect_is_identity_in_eval_and_zero_rate():
    x = torch.randn(5, 3, 4, 4)
    assert drop_connect(x, 0.7, training=False) is x
    assert drop_connect(x, 0.0, training=True) is x
    torch.manual_seed(0)
    block = MBConv(8, 8, 3, 1, 6, drop_connect_rate=0.5).eval()
    ref = MBConv(8, 8, 3, 1, 6, drop_connect_rate=0.0).eval()
    ref.load_state_dict(block.state_dict())
    x = torch.randn(4, 8, 6, 6)
    with torch.no_grad():
        torch.testing.assert_close(block(x), ref(x))
        torch.testing.assert_close(block(x), ref.block(x) + x)


@pytest.mark.parametrize("rate", [0.2, 0.5])
def test_drop_connect_zeroes_samples_with_probability_rate_and_rescales(rate):
    torch.manual_seed(0)
    n = 20_000
    out = drop_connect(torch.ones(n, 2, 3, 3), rate, training=True)
    per_sample = out.flatten(1)
    assert torch.all(per_sample == per_sample[:, :1])  # whole samples, never single pixels
    first = per_sample[:, 0]
    kept = torch.isclose(first, torch.tensor(1 / (1 - rate)))
    assert torch.all(kept | (first == 0))  # 0 or 1 / (1 - rate), nothing else
    dropped = (per_sample[:, 0] == 0).float().mean().item()
    sigma = (rate * (1 - rate) / n) ** 0.5
    assert abs(dropped - rate) < 4 * sigma
    assert abs(out.mean().item() - 1.0) < 4 * sigma / (1 - rate)  # unbiased


def test_mbconv_training_drops_the_residual_branch_per_sample():
    torch.manual_seed(1)
    block = MBConv(8, 8, 3, 1, 6, drop_connect_rate=0.5).train()
    x = torch.randn(64, 8, 5, 5)
    with torch.no_grad():
        branch = block.block(x)  # batch statistics: the same in both calls
        torch.manual_seed(2)
        out = block(x)
    delta = (out - x).flatten(1)
    kept = torch.isclose(delta, 2.0 * branch.flatten(1), atol=1e-5).all(1)
    zeroed = (delta.abs() < 1e-6).all(1)
    assert torch.all(kept ^ zeroed) and 10 < int(zeroed.sum()) < 54


def test_drop_connect_rates_rise_linearly_over_the_blocks():
    with torch.device("meta"):
        model = efficientnet_b0()
    blocks = [b for stage in model.features[1:8] for b in stage]
    assert len(blocks) == 16
    rates = [b.drop_connect.rate for b in blocks]
    expected = [0.2 * i / 16 if b.use_residual else 0.0 for i, b in enumerate(blocks)]
    assert rates == pytest.approx(expected)
    # stage 7's only block changes channels: no residual, nothing to drop; the last drop is
    # stage 6's last block, 0.2 · 14 / 16
    assert not blocks[-1].use_residual and max(rates) == pytest.approx(0.2 * 14 / 16)


# ---------------------------------------------------------------------------------- shapes
def test_b0_forward_shapes_at_224():
    torch.manual_seed(0)
    model = efficientnet_b0().eval()
    x = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        assert model(x).shape == (2, 1000)
        maps = model.forward_stages(x)
        assert model.forward_features(x, upto_stage=3).shape == (2, 40, 28, 28)
    assert [tuple(m.shape[1:]) for m in maps] == [
        (16, 112, 112), (24, 56, 56), (40, 28, 28), (112, 14, 14), (320, 7, 7)
    ]  # fmt: skip
    assert model.stage_strides == (2, 2, 4, 8, 16, 16, 32, 32, 32)
    assert model.resolution == 224 and model.config["variant"] == "b0"


def test_block_layout_and_keys_follow_torchvision():
    with torch.device("meta"):
        model = efficientnet_b0()
    keys = set(model.state_dict())
    for key in ("features.0.0.weight", "features.0.1.running_var",
                "features.1.0.block.0.0.weight",  # stage 1: no expansion, dw first
                "features.1.0.block.1.fc1.weight", "features.2.0.block.0.0.weight",
                "features.2.0.block.3.1.weight", "features.8.0.weight",
                "classifier.1.weight", "classifier.1.bias"):  # fmt: skip
        assert key in keys, key
    block = model.features[2][0]  # 16 → 24, expand 6, k3, stride 2
    dw = block.block[1][0]
    assert dw.groups == dw.in_channels == 96 and dw.stride == (2, 2)
    assert block.block[2].fc1.out_channels == 4  # SE squeeze = 0.25 × the block's input 16
    bn = block.block[0][1]
    assert (bn.eps, bn.momentum) == (1e-3, 0.01)


@pytest.mark.parametrize(
    "kwargs, field",
    [(dict(width_mult=0), "width_mult"), (dict(depth_mult=-1.0), "depth_mult"),
     (dict(last_stage=9, include_top=False), "last_stage"), (dict(last_stage=3), "include_top"),
     (dict(drop_connect_rate=1.0), "drop_connect_rate"), (dict(in_channels=0), "in_channels")],
)  # fmt: skip
def test_bad_arguments(kwargs, field):
    with pytest.raises(ValueError, match=field):
        EfficientNet(**kwargs)


def test_bad_variant_and_stage():
    with pytest.raises(ValueError, match="variant"):
        efficientnet("b8")
    model = EfficientNet(0.25, 0.5, include_top=False, last_stage=2)
    with pytest.raises(ValueError, match="stage"):
        model.forward_features(torch.zeros(1, 3, 16, 16), upto_stage=3)
    with pytest.raises(ValueError, match="stages"):
        model.forward_stages(torch.zeros(1, 3, 16, 16), stages=(2, 1))


def test_bench_params_rows():
    from posekit import bench

    entries = [p for p in bench.PUBLISHED if p.name.startswith("EfficientNet-")]
    assert [p.name for p in entries] == [f"EfficientNet-B{i} classifier" for i in range(8)]
    rows = bench.params_table(entries)
    assert all(r["ok"] == "✓" for r in rows)
    assert [round(r["params_m"] * 1e6) for r in rows] == list(TORCHVISION_PARAMS.values())
    # torchvision's documented GFLOPS (multiply-adds) at the same input sizes
    gmacs = {r["name"][13:15].lower(): r["gmacs"] for r in rows}
    for variant, ops in (("b0", 0.39), ("b1", 0.687), ("b3", 1.827), ("b7", 37.746)):
        assert gmacs[variant] == pytest.approx(ops, abs=0.005)
