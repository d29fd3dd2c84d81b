"""SPHP's dense backbones (Lin, Hsieh et al. 2023): DHP19, U-Net-Small / -Large, early and late
fusion. Published parameter counts, full-resolution output, stride 1 and alignment, late fusion
= its branches, argument errors. The big networks are built on the meta device (shapes only)."""

import pytest
import torch
from torch import nn

from posekit.bench import PUBLISHED, count_macs, count_params, params_table
from posekit.models import DHP19, LateFusion, UNet, sphp_model, unet_large, unet_small
from posekit.models.sphp import BACKBONES, INPUTS

H, W = 288, 384


def _meta(builder, *args):
    with torch.device("meta"):
        return builder(*args).eval()


def _close(a, b, rel=0.01):
    return abs(a - b) <= rel * b


# --- sizes ------------------------------------------------------------------------------------


def test_dhp19_params_are_exact():
    assert count_params(_meta(DHP19, 3)) == 218_880
    assert count_params(_meta(DHP19, 1)) == 218_592
    model = DHP19()
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d | nn.ConvTranspose2d)]
    assert len(convs) == 17 and all(c.bias is None for c in convs)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in model.modules())
    assert sum(isinstance(m, nn.ReLU) for m in model.modules()) == 17
    up = [c for c in convs if isinstance(c, nn.ConvTranspose2d)]
    assert [(u.stride, u.dilation, u.output_padding) for u in up] == [
        ((2, 2), (2, 2), (1, 1)),
        ((2, 2), (1, 1), (1, 1)),
    ]


@pytest.mark.parametrize(
    "builder, published_m, exact",
    [(unet_small, 1.925, 1_928_589), (unet_large, 7.70, 7_703_309)],
)
def test_unet_params(builder, published_m, exact):
    n = count_params(_meta(builder, 3))
    assert n == exact and _close(n / 1e6, published_m)
    assert count_params(_meta(builder, 1)) == exact - 9 * 2 * _meta(builder).config["planes"][0]


@pytest.mark.parametrize(
    "backbone, published_m", [("dhp19", 0.655), ("unet_small", 5.8), ("unet_large", 23.1)]
)
def test_late_fusion_is_three_one_channel_branches(backbone, published_m):
    late = _meta(sphp_model, backbone, "late")
    n = count_params(late)
    assert _close(n / 1e6, published_m)
    assert n == 3 * count_params(_meta(sphp_model, backbone, "ed"))  # fusion has no parameters
    assert isinstance(late, LateFusion) and len(late.branches) == 3
    assert all(b.in_channels == 1 for b in late.branches)


@pytest.mark.parametrize(
    "backbone, gmacs", [("dhp19", 3.54), ("unet_small", 15.60), ("unet_large", 62.12)]
)
def test_macs_at_288x384(backbone, gmacs):
    macs = count_macs(_meta(sphp_model, backbone, "fs"), (1, 3, H, W))
    assert _close(macs / 1e9, gmacs, rel=0.002)


def test_bench_rows():
    entries = [e for e in PUBLISHED if e.name.startswith("SPHP")]
    assert len(entries) == 6 and all(e.input_shape == (1, 3, H, W) for e in entries)
    rows = params_table(entries, macs=False)
    assert all(r["ok"] == "✓" for r in rows), rows


# --- shapes -----------------------------------------------------------------------------------


@pytest.mark.parametrize("backbone", sorted(BACKBONES))
@pytest.mark.parametrize("inputs", sorted(INPUTS))
def test_output_is_13_maps_at_the_input_resolution(backbone, inputs):
    model = _meta(sphp_model, backbone, inputs)
    x = torch.empty(2, INPUTS[inputs], H, W, device="meta")
    assert model(x).shape == (2, 13, H, W)
    assert model.stride == 1


@pytest.mark.parametrize("builder", [DHP19, unet_small])
def test_real_forward_on_a_small_input(builder):
    torch.manual_seed(0)
    model = builder(3).eval()
    with torch.no_grad():
        y = model(torch.randn(1, 3, 32, 48))
    assert y.shape == (1, 13, 32, 48) and torch.isfinite(y).all()
    if isinstance(model, DHP19):
        assert (y >= 0).all()  # ReLU after the last conv


def test_inputs_map_to_channels():
    def first_conv(model):
        return next(m for m in model.modules() if isinstance(m, nn.Conv2d))

    assert {k: first_conv(_meta(sphp_model, "dhp19", k)).in_channels for k in INPUTS} == {
        "ed": 1, "gr": 1, "mv": 2, "fs": 3, "late": 1,
    }  # fmt: skip
    late = _meta(sphp_model, "unet_small", "late")
    assert late.channels == 3 and late.branches[0].config["planes"] == [32, 64, 128, 256]
    assert _meta(sphp_model, "unet_large", "mv").config == dict(
        in_channels=2, num_joints=13, planes=[64, 128, 256, 512]
    )


def test_config_rebuilds_the_model():
    for model in (DHP19(1), UNet(2, 5, (4, 8, 16)), LateFusion("dhp19", 3, "sum")):
        again = type(model)(**model.config)
        assert count_params(again) == count_params(model)
        assert again.config == model.config
    assert not hasattr(LateFusion(lambda: DHP19(1)), "config")


# --- stride 1: alignment and pixel-level resolution --------------------------------------------


def _tiny(name):
    torch.manual_seed(0)
    model = DHP19(1) if name == "dhp19" else UNet(1, 13, (4, 8, 16, 32))
    return model.double().eval()


@pytest.mark.parametrize("name, reach", [("dhp19", (-66, 62)), ("unet", (-46, 45))])
def test_one_input_pixel_reaches_the_outputs_around_it(name, reach):
    """Bumping one input pixel changes the output at that pixel and at each neighbour by a
    different amount (no block-constant, upsampled maps: stride 1), and nothing outside the
    receptive field, which is (nearly) centred on the pixel. DHP19's reaches 2 px farther up and
    left: its padding-1 dilated conv moves the half-resolution grid by one pixel."""
    model = _tiny(name)
    x = torch.rand(1, 1, 192, 192, dtype=torch.float64)
    bumped = x.clone()
    bumped[0, 0, 96, 96] += 1.0
    with torch.no_grad():
        delta = (model(bumped) - model(x)).abs().amax(1)[0]
    rows, cols = torch.nonzero(delta).T - 96
    assert (rows.min().item(), rows.max().item()) == reach
    assert (cols.min().item(), cols.max().item()) == reach
    centre = delta[95:98, 95:98]
    assert (centre > 0).all()
    assert len(set(centre.flatten().tolist())) == 9  # every pixel its own value


@pytest.mark.parametrize("name, margin", [("dhp19", 72), ("unet", 52)])
def test_shifting_the_input_shifts_the_output(name, margin):
    """Shifted by 8 px (a multiple of every max-pool grid), the input gives the same maps shifted
    by 8 px wherever the receptive field (measured above) misses the borders: the maps depend on
    the content only, not on where it sits."""
    model = _tiny(name)
    torch.manual_seed(1)
    x = torch.rand(1, 1, 192, 192, dtype=torch.float64)
    shifted = torch.roll(x, shifts=(8, 8), dims=(2, 3))
    with torch.no_grad():
        y, ys = model(x), model(shifted)
    inner = slice(margin, 192 - margin - 8)
    inner_shifted = slice(margin + 8, 192 - margin)
    torch.testing.assert_close(ys[..., inner_shifted, inner_shifted], y[..., inner, inner])
    assert not torch.allclose(ys, y)


# --- late fusion ------------------------------------------------------------------------------


@pytest.mark.parametrize("fuse", ["mean", "sum"])
def test_late_fusion_equals_its_branches_run_separately(fuse):
    torch.manual_seed(0)
    late = LateFusion("dhp19", 3, fuse).eval()
    x = torch.rand(2, 3, 32, 48)
    with torch.no_grad():
        parts = [branch(x[:, i : i + 1]) for i, branch in enumerate(late.branches)]
        expected = sum(parts) / (3 if fuse == "mean" else 1)
        torch.testing.assert_close(late(x), expected)
    assert not torch.equal(parts[0], parts[1])  # each branch has its own weights


def test_late_fusion_of_a_callable_branch():
    torch.manual_seed(0)
    late = LateFusion(lambda: UNet(1, 4, (4, 8)), channels=2).eval()
    x = torch.rand(1, 2, 16, 16)
    with torch.no_grad():
        expected = (late.branches[0](x[:, :1]) + late.branches[1](x[:, 1:])) / 2
        torch.testing.assert_close(late(x), expected)
    assert late.divisor == 2


# --- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "model, shape, match",
    [
        (DHP19(3), (1, 3, 30, 48), r"x: height and width must be multiples of 4"),
        (DHP19(3), (1, 1, 32, 48), r"x: expected \(B, 3, H, W\)"),
        (unet_small(3), (1, 3, 36, 48), r"x: height and width must be multiples of 8"),
        (unet_small(3), (3, 32, 48), r"x: expected \(B, 3, H, W\)"),
        (LateFusion("dhp19"), (1, 3, 32, 46), r"x: height and width must be multiples of 4"),
        (LateFusion("dhp19"), (1, 2, 32, 48), r"x: expected \(B, 3, H, W\)"),
    ],
)
def test_bad_inputs_raise_clear_errors(model, shape, match):
    with pytest.raises(ValueError, match=match):
        model(torch.zeros(shape))


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match="backbone"):
        sphp_model("resnet")
    with pytest.raises(ValueError, match="inputs"):
        sphp_model("dhp19", "rgb")
    with pytest.raises(ValueError, match="fuse"):
        LateFusion("dhp19", fuse="max")
    with pytest.raises(ValueError, match="branch_builder"):
        LateFusion("unet_medium")
    with pytest.raises(ValueError, match="planes"):
        UNet(3, 13, (32,))
    with pytest.raises(ValueError, match="in_channels"):
        DHP19(0)


def test_cost_table_runs_on_a_small_input():
    from posekit.lab.sphp_cost import cost_table, format_cost_table

    rows = cost_table(("dhp19",), ("fs", "late"), size=(32, 48), threads=1, runs=1, warmup=0)
    assert [(r["model"], r["channels"]) for r in rows] == [("DHP19", 3), ("DHP19", 3)]
    assert rows[0]["params_m"] == pytest.approx(0.21888) and rows[0]["cpu_ms"] > 0
    assert rows[1]["gmacs"] > 2.5 * rows[0]["gmacs"]
    assert "| DHP19 | late (3 × 1 ch) |" in format_cost_table(rows)
