"""SPHP's sparse backbones against dense references built from torch ops and masks.

The reference runs each layer densely (``F.conv2d``, ``F.max_pool2d``, ``F.conv_transpose2d``)
and zeroes everything off the active sites, whose masks are themselves propagated densely (max
pool of the mask; a transposed conv of the mask with a ones kernel). It never touches a
rulebook, so it checks the sparse models independently.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from posekit.bench import count_params
from posekit.models.sphp import DHP19, UNet, unet_large, unet_small
from posekit.models.sphp_sparse import (
    ContextHead,
    SparseDHP19,
    SparseUNet,
    sparse_sphp_model,
    sparse_unet_large,
    sparse_unet_small,
)  # fmt: skip
from posekit.sparse import (
    SparseBatchNorm,
    SparseConvTranspose2d,
    SparseLeakyReLU,
    SparseMaxPool2d,
    SparseReLU,
    SubMConv2d,
)  # fmt: skip


def _sparse_input(b=2, c=1, h=32, w=48, density=0.08, seed=0):
    g = torch.Generator().manual_seed(seed)
    mask = torch.rand(b, h, w, generator=g) < density
    return torch.rand(b, c, h, w, generator=g) * mask[:, None] + 0.1 * mask[:, None], mask


def _randomise_batchnorms(model):
    g = torch.Generator().manual_seed(1)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm1d | torch.nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.1)
            m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            m.weight.data.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            m.bias.data.copy_(torch.randn(m.num_features, generator=g) * 0.1)


def _layer(layer, h, m):
    """One sparse layer applied densely: features ``h (B, C, H, W)``, sites ``m (B, 1, H, W)``."""
    if isinstance(layer, SubMConv2d):
        pad = layer.dilation[0] * (layer.kernel_size[0] // 2)
        return F.conv2d(h, layer.dense_weight(), layer.bias, padding=pad) * m, m
    if isinstance(layer, SparseConvTranspose2d):
        h = F.conv_transpose2d(h, layer.dense_weight(), layer.bias, stride=2)
        m = (F.conv_transpose2d(m, torch.ones(1, 1, 3, 3), stride=2) > 0).float()
        return h * m, m
    if isinstance(layer, SparseMaxPool2d):
        h = F.max_pool2d(torch.where(m > 0, h, -torch.inf), 2)
        m = F.max_pool2d(m, 2)
        return torch.where(m > 0, h, 0), m
    if isinstance(layer, SparseBatchNorm):
        scale = layer.weight / torch.sqrt(layer.running_var + layer.eps)
        shift = layer.bias - layer.running_mean * scale
        return (h * scale[:, None, None] + shift[:, None, None]) * m, m
    if isinstance(layer, SparseReLU):
        return F.relu(h), m
    if isinstance(layer, SparseLeakyReLU):
        return F.leaky_relu(h, layer.negative_slope), m
    raise AssertionError(type(layer))


def _masked_dense_dhp19(model: SparseDHP19, x: torch.Tensor) -> torch.Tensor:
    h, m = x, (x != 0).any(1, keepdim=True).float()
    for layer in [*model.body, *model.head]:
        h, m = _layer(layer, h, m)
    return h[..., : x.shape[-2], : x.shape[-1]]


def _masked_dense_unet(model: SparseUNet, x: torch.Tensor) -> torch.Tensor:
    def block(seq, h, m):
        for layer in seq:
            h, _ = _layer(layer, h, m)
        return h

    h, m = x, (x != 0).any(1, keepdim=True).float()
    skips = []
    for i, blk in enumerate(model.down):
        if i:
            h, m = _layer(model.pool, h, m)
        h = block(blk, h, m)
        skips.append((h, m))
    skips.pop()
    for i in reversed(range(len(skips))):
        skip, m = skips[i]
        up = F.conv_transpose2d(h, model.deconv[i].dense_weight(), stride=2) * m
        h = block(model.up[i], torch.cat((skip, up), 1), m)
    return F.conv2d(h, model.head.dense_weight(), model.head.bias) * m


# ----------------------------------------------------------------------- sizes


@pytest.mark.parametrize(
    "sparse, dense",
    [
        (lambda: SparseDHP19(1), lambda: DHP19(1)),
        (lambda: SparseDHP19(3), lambda: DHP19(3)),
    ],
)
def test_sparse_dhp19_has_the_dense_networks_17_convs(sparse, dense):
    # no dilation and no bias in either: the weights are the same shapes
    assert count_params(sparse()) == count_params(dense())


def _conv_biases(unet: UNet) -> int:
    return sum(m.bias.numel() for m in unet.modules() if isinstance(m, torch.nn.Conv2d))


@pytest.mark.parametrize(
    "sparse, dense, published",
    [(sparse_unet_small, unet_small, 1.9e6), (sparse_unet_large, unet_large, 7.7e6)],
)
@pytest.mark.parametrize("channels", [1, 2, 3])
def test_sparse_unets_are_the_dense_ones_without_conv_biases(sparse, dense, published, channels):
    d = dense(channels)
    n = count_params(sparse(channels))
    assert n == count_params(d) - _conv_biases(d)
    assert abs(n - published) / published < 0.015  # the published 1.9 M / 7.7 M (2 digits)


def test_the_published_sparse_unet_small_count_by_hand():
    # 3x3 weights of encoder, decoder (2·p in), inverse convs 2x2, BN weight+bias, 1x1 head
    planes, convs = (32, 64, 128, 256), 0
    for a, b in zip((1, 32, 64, 128), planes, strict=True):
        convs += 9 * (a * b + b * b) + 4 * b
    for p in planes[:-1]:
        convs += 9 * (2 * p * p + p * p) + 4 * p + 4 * (2 * p) * p  # block + BN + inverse conv
    assert count_params(sparse_unet_small(1)) == convs + 32 * 13


# ----------------------------------------------------------------------- exactness


def test_sparse_dhp19_equals_its_masked_dense_reference():
    torch.manual_seed(0)
    model = SparseDHP19(2).eval()
    x, _ = _sparse_input(c=2, density=0.05)
    with torch.no_grad():
        out, ref = model(x), _masked_dense_dhp19(model, x)
    assert out.shape == (2, 13, 32, 48)
    assert ref.abs().max() > 0
    torch.testing.assert_close(out, ref, rtol=0, atol=1e-5)


def test_sparse_unet_equals_its_masked_dense_reference():
    torch.manual_seed(0)
    model = SparseUNet(1, 13, (8, 16, 32, 64)).eval()
    _randomise_batchnorms(model)
    x, mask = _sparse_input()
    with torch.no_grad():
        out, ref = model(x), _masked_dense_unet(model, x)
    assert out.permute(1, 0, 2, 3)[:, ~mask].abs().max() == 0  # heatmaps only at the sites
    torch.testing.assert_close(out, ref, rtol=0, atol=1e-5)


@pytest.mark.parametrize("train", [False, True])
def test_from_dense_at_full_density_equals_the_dense_unet(train):
    torch.manual_seed(0)
    dense = UNet(2, 13, (8, 16, 32))
    _randomise_batchnorms(dense)
    sparse = SparseUNet.from_dense(dense)
    dense.train(train), sparse.train(train)
    x = torch.randn(2, 2, 16, 24)  # every pixel active: submanifold = dense
    with torch.no_grad():
        torch.testing.assert_close(sparse(x), dense(x), rtol=0, atol=1e-5)


def test_heatmaps_exist_only_at_active_sites_unless_the_head_is_dense():
    torch.manual_seed(0)
    x, mask = _sparse_input(b=1, density=0.03)
    for dense_head in (False, True):
        model = sparse_sphp_model("unet_small", "ed", dense_head=dense_head).eval()
        with torch.no_grad():
            off = model(x)[0][:, ~mask[0]]
        assert (off.abs().max() > 0) == dense_head


def test_context_head_reaches_over_a_hundred_pixels():
    # 1/8 resolution, dilations 1 + 2 + 4 + 8 = 15 cells each way: ±120 px (±123 with the
    # pooling window and the bilinear taps)
    head = ContextHead(4, 2).eval()
    x = torch.zeros(1, 4, 320, 320, requires_grad=True)
    head(x)[0, :, 160, 160].sum().backward()
    reach = x.grad.abs().sum((0, 1)).nonzero()
    assert 160 - 128 <= reach[:, 0].min() <= 160 - 112 and 160 + 112 <= reach[:, 0].max() < 288


# ----------------------------------------------------------------------- training and errors


def test_a_sparse_unet_learns_a_few_steps_on_edges():
    torch.manual_seed(0)
    model = SparseUNet(1, 2, (8, 16))
    x, mask = _sparse_input(b=4, h=16, w=24, density=0.2)
    target = torch.zeros(4, 2, 16, 24)
    target[:, 0] = mask.float()  # map 0 = the edges, map 1 = nothing
    losses = adam_steps(model, lambda: F.mse_loss(model(x), target), steps=30, lr=1e-2)
    assert losses[-1] < 0.2 * losses[0]


def adam_steps(model, loss_fn, steps: int, lr: float) -> list[float]:
    """``steps`` Adam steps on ``loss_fn()``; the losses before each step."""
    opt = torch.optim.Adam(model.parameters(), lr)
    losses = []
    for _ in range(steps):
        loss = loss_fn()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: SparseDHP19(1)(torch.zeros(1, 2, 8, 8)), r"x: expected \(B, 1, H, W\)"),
        (lambda: SparseDHP19(1)(torch.zeros(1, 1, 10, 8)), "multiples of 4"),
        (lambda: SparseUNet(1)(torch.zeros(1, 1, 12, 16)), "multiples of 8"),
        (lambda: SparseUNet(1, planes=[8]), "planes: expected at least 2 levels"),
        (lambda: sparse_sphp_model("resnet"), "backbone: expected one of"),
        (lambda: sparse_sphp_model("dhp19", "late"), "inputs: expected one of"),
        (lambda: SparseUNet(1, backend="cuda"), "backend: expected one of"),
    ],
)
def test_bad_arguments_are_named(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_an_input_without_active_pixels_gives_zero_heatmaps():
    model = sparse_sphp_model("unet_small", "mv").eval()
    with torch.no_grad():
        assert model(torch.zeros(1, 2, 16, 24)).abs().max() == 0


def test_sparse_dhp19_starts_with_the_dense_networks_xavier_bounds():
    # Xavier on the (Cout, kh, kw, Cin) tensor would take the wrong fans (2.4x smaller weights)
    torch.manual_seed(0)
    sparse = [m for m in SparseDHP19(1).modules() if isinstance(m, SubMConv2d)]
    dense = [m for m in DHP19(1).modules() if isinstance(m, torch.nn.Conv2d)]
    for s, d in zip(sparse[1:], dense[1:], strict=False):  # the dilated dense convs: same fans
        bound = (6 / ((d.in_channels + d.out_channels) * 9)) ** 0.5
        assert 0.9 * bound < s.weight.detach().abs().max().item() <= bound
