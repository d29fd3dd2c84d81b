"""posekit.sparse's own layers against dense torch convolutions on the same weights.

The independent expectation is always a dense op (``F.conv2d``, ``F.conv_transpose2d``,
``F.max_pool2d``) on the zero-filled map, read at the sparse output's sites; those sites are
themselves predicted densely (a conv of the mask with a ones kernel). float64, 1e-10.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from posekit import sparse as sp
from posekit.sparse import functional


def _input(b=2, c=3, h=12, w=16, density=0.25, seed=0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    mask = torch.rand(b, h, w, generator=g) < density
    x = torch.randn(b, c, h, w, generator=g, dtype=dtype) * mask[:, None]
    return x, mask


def _reach(mask: torch.Tensor, fn) -> torch.Tensor:
    """Which output pixels some active input reaches, by a dense op on the mask."""
    return fn(mask[:, None].double())[:, 0] > 0


@pytest.fixture(params=["gather", "im2col"])
def method(request, monkeypatch):
    monkeypatch.setattr(functional, "IM2COL_FILL", 2.0 if request.param == "gather" else 0.0)
    return request.param


# ----------------------------------------------------------------------- tensor conversions


def test_from_dense_sites_are_the_nonzero_pixels_in_row_major_order():
    x = torch.zeros(2, 2, 3, 4)
    x[0, 1, 2, 3] = 5.0
    x[1, 0, 0, 1] = -1.0
    x[0, 0, 0, 0] = 2.0
    s = sp.from_dense(x)
    assert s.coords.tolist() == [[0, 0, 0], [0, 2, 3], [1, 0, 1]]
    assert s.features.tolist() == [[2.0, 0.0], [0.0, 5.0], [-1.0, 0.0]]
    assert s.coords.is_contiguous() and s.shape == (3, 4) and s.batch_size == 2
    assert s.density == pytest.approx(3 / 24)
    assert torch.equal(s.dense(), x)


def test_a_pixel_whose_channels_cancel_stays_active():
    x = torch.zeros(1, 2, 2, 2)
    x[0, :, 1, 1] = torch.tensor([0.5, -0.5])  # sums to 0: SPHP's code would drop it
    assert sp.from_dense(x).num_sites == 1


def test_an_explicit_mask_keeps_zero_valued_sites():
    x = torch.zeros(1, 1, 2, 3)
    mask = torch.tensor([[[True, False, False], [False, False, True]]])
    s = sp.from_dense(x, mask)
    assert s.coords.tolist() == [[0, 0, 0], [0, 1, 2]] and s.features.abs().sum() == 0


@pytest.mark.parametrize(
    "args, match",
    [
        ((torch.zeros(2, 3, 4),), r"x: expected \(B, C, H, W\)"),
        ((torch.zeros(1, 1, 2, 2), torch.zeros(1, 2, 2)), "mask: expected a bool"),
        ((torch.zeros(1, 1, 2, 2), torch.zeros(1, 3, 2, dtype=torch.bool)), "mask: expected"),
    ],
)
def test_from_dense_refuses_bad_shapes(args, match):
    with pytest.raises(ValueError, match=match):
        sp.from_dense(*args)


def test_a_sparse_tensor_refuses_mismatched_rows():
    with pytest.raises(ValueError, match=r"features: expected \(N, C\) with N = 2"):
        sp.SparseTensor(torch.zeros(3, 1), torch.zeros(2, 3, dtype=torch.long), (4, 4), 1)


def test_to_dense_is_differentiable():
    x, _ = _input()
    s = sp.from_dense(x)
    f = s.features.clone().requires_grad_()
    s.replace(f).dense().sum().backward()
    assert torch.equal(f.grad, torch.ones_like(f))


# ----------------------------------------------------------------------- rulebooks, by hand


def test_submanifold_rules_of_a_hand_drawn_pattern():
    # Sites (0,0), (0,1), (1,1): a 3x3 submanifold conv pairs each with its active neighbours.
    x = torch.zeros(1, 1, 3, 3)
    x[0, 0, 0, 0] = x[0, 0, 0, 1] = x[0, 0, 1, 1] = 1.0
    rules = sp.submanifold_rules(sp.from_dense(x), 3)
    assert rules.identity == 4 and rules.pairs[4] is None
    got = {
        k: list(zip(p[0].tolist(), p[1].tolist(), strict=True))
        for k, p in enumerate(rules.pairs)
        if p
    }
    # offset k = ky·3 + kx: output site (y, x) reads the input at (y + ky - 1, x + kx - 1);
    # pairs are (input row, output row), rows 0 = (0,0), 1 = (0,1), 2 = (1,1)
    assert got == {
        0: [(0, 2)], 1: [(1, 2)], 2: [],  # (1,1) reads (0,0) and (0,1)
        3: [(0, 1)], 5: [(1, 0)],  # (0,1) reads (0,0); (0,0) reads (0,1)
        6: [], 7: [(2, 1)], 8: [(2, 0)],  # (0,1) and (0,0) read (1,1)
    }  # fmt: skip
    assert rules.num_pairs == 3 + 6


def test_rulebooks_are_cached_per_site_set_and_shared_by_replace():
    x, _ = _input()
    s = sp.from_dense(x)
    first = sp.submanifold_rules(s, 3)
    assert sp.submanifold_rules(s.replace(s.features * 2), 3) is first
    assert sp.submanifold_rules(s, 3, dilation=2) is not first


def test_even_submanifold_kernels_are_refused():
    with pytest.raises(ValueError, match="kernel_size: must be odd"):
        sp.SubMConv2d(1, 1, 2)


def test_an_inverse_conv_refuses_sites_it_did_not_pool():
    x, _ = _input()
    fine = sp.from_dense(x)
    other = sp.from_dense(_input(seed=3)[0])
    coarse = sp.SparseMaxPool2d()(other)
    with pytest.raises(ValueError, match="pass the tensor that was pooled"):
        sp.SparseInverseConv2d(3, 2)(coarse.replace(coarse.features.float()), fine)


# ----------------------------------------------------------------------- exactness vs dense


@pytest.mark.parametrize("k, d", [(3, 1), (5, 2), (1, 1), (3, 3)])
def test_submanifold_conv_equals_dense_conv_at_the_sites(k, d, method):
    x, mask = _input()
    conv = sp.SubMConv2d(3, 4, k, dilation=d).double()
    out = conv(sp.from_dense(x))
    dense = F.conv2d(x, conv.dense_weight(), conv.bias, padding=d * (k // 2), dilation=d)
    assert torch.equal(out.coords, sp.from_dense(x).coords)  # the map never dilates
    torch.testing.assert_close(out.dense(), dense * mask[:, None], rtol=0, atol=1e-10)


@pytest.mark.parametrize("k, s, p", [(3, 2, 1), (2, 2, 0), (3, 1, 1), (3, 2, 0)])
def test_strided_conv_equals_dense_conv_on_the_reached_sites(k, s, p, method):
    x, mask = _input()
    conv = sp.SparseConv2d(3, 4, k, s, p).double()
    out = conv(sp.from_dense(x))
    dense = F.conv2d(x, conv.dense_weight(), conv.bias, stride=s, padding=p)
    sites = _reach(
        mask, lambda m: F.conv2d(m, torch.ones(1, 1, k, k).double(), stride=s, padding=p)
    )
    assert out.shape == tuple(dense.shape[-2:]) and out.num_sites == int(sites.sum())
    torch.testing.assert_close(out.dense(), dense * sites[:, None], rtol=0, atol=1e-10)


@pytest.mark.parametrize("k, s, p, op", [(3, 2, 0, 0), (2, 2, 0, 0), (3, 2, 1, 1)])
def test_transposed_conv_equals_dense_transposed_conv_on_the_reached_sites(k, s, p, op, method):
    x, mask = _input(h=7, w=9)
    conv = sp.SparseConvTranspose2d(3, 4, k, s, p, output_padding=op).double()
    out = conv(sp.from_dense(x))
    dense = F.conv_transpose2d(
        x, conv.dense_weight(), conv.bias, stride=s, padding=p, output_padding=op
    )
    ones = torch.ones(1, 1, k, k).double()
    sites = _reach(
        mask, lambda m: F.conv_transpose2d(m, ones, stride=s, padding=p, output_padding=op)
    )
    assert out.shape == tuple(dense.shape[-2:]) and out.num_sites == int(sites.sum())
    torch.testing.assert_close(out.dense(), dense * sites[:, None], rtol=0, atol=1e-10)


def test_max_pool_takes_the_maximum_of_active_inputs_only():
    x, mask = _input(h=12, w=17)  # the odd last column has no window, as in F.max_pool2d
    x = torch.where(mask[:, None], x - 10, 0)  # all active features negative
    out = sp.SparseMaxPool2d()(sp.from_dense(x))
    ref = F.max_pool2d(torch.where(mask[:, None], x, -torch.inf), 2)
    sites = _reach(mask, lambda m: F.max_pool2d(m, 2))
    assert out.shape == (6, 8) and out.num_sites == int(sites.sum())
    torch.testing.assert_close(out.dense(), torch.where(sites[:, None], ref, 0), rtol=0, atol=0)
    assert out.features.max() < -5  # never clamped to 0


def test_inverse_conv_restores_the_pooled_sites_and_equals_a_masked_transposed_conv(method):
    x, mask = _input(h=12, w=16)
    fine = sp.from_dense(x)
    coarse = sp.SparseMaxPool2d()(fine)
    inv = sp.SparseInverseConv2d(3, 5).double()
    out = inv(coarse, fine)
    assert torch.equal(out.coords, fine.coords)
    dense = F.conv_transpose2d(coarse.dense(), inv.dense_weight(), inv.bias, stride=2)
    torch.testing.assert_close(out.dense(), dense * mask[:, None], rtol=0, atol=1e-10)


def test_batchnorm_and_activations_use_the_active_sites_only():
    x, mask = _input()
    s = sp.from_dense(x)
    bn = sp.SparseBatchNorm(3).double()
    out = bn(s).features
    ref = (s.features - s.features.mean(0)) / torch.sqrt(s.features.var(0, unbiased=False) + 1e-5)
    torch.testing.assert_close(out, ref, rtol=0, atol=1e-10)
    leaky = sp.SparseLeakyReLU(0.333)(s).features
    torch.testing.assert_close(leaky, torch.where(s.features > 0, s.features, 0.333 * s.features))
    assert sp.SparseReLU()(s).features.min() == 0


def test_join_concatenates_features_on_equal_sites_and_refuses_others():
    x, _ = _input()
    s = sp.from_dense(x)
    assert sp.join(s, s.replace(s.features * 2)).channels == 6
    with pytest.raises(ValueError, match=r"tensors\[1\]: not on the same sites"):
        sp.join(s, sp.from_dense(_input(seed=1)[0]))


def test_a_layer_refuses_the_wrong_channels_and_dense_input():
    s = sp.from_dense(_input()[0].float())
    with pytest.raises(ValueError, match="SubMConv2d: expected 4 channels, got 3"):
        sp.SubMConv2d(4, 2)(s)
    with pytest.raises(TypeError, match="expected a SparseTensor, got Tensor"):
        sp.SubMConv2d(3, 2)(torch.zeros(1, 3, 4, 4))


def test_no_active_site_gives_empty_outputs_and_zero_maps():
    x = torch.zeros(1, 2, 8, 8)
    s = sp.from_dense(x)
    assert s.num_sites == 0
    out = sp.SubMConv2d(2, 4)(s)
    assert out.num_sites == 0 and out.dense().shape == (1, 4, 8, 8)
    assert sp.SparseMaxPool2d()(s).num_sites == 0
    assert sp.SparseConv2d(2, 3, 3, 2, 1)(s).dense().abs().sum() == 0
    coarse = sp.SparseMaxPool2d()(s)
    assert sp.SparseInverseConv2d(2, 3)(coarse, s).num_sites == 0


# ----------------------------------------------------------------------- autograd


@pytest.mark.parametrize(
    "make, rules",
    [
        (lambda: sp.SubMConv2d(2, 3, 3), lambda t: sp.submanifold_rules(t, 3)),
        (lambda: sp.SparseConv2d(2, 3, 3, 2, 1), lambda t: sp.conv_rules(t, 3, 2, 1)),
        (lambda: sp.SparseConvTranspose2d(2, 3, 3, 2), lambda t: sp.transposed_rules(t, 3, 2)),
    ],
    ids=["submanifold", "strided", "transposed"],
)
def test_gradcheck_of_the_convolutions(make, rules, method):
    x, _ = _input(c=2, h=6, w=7, density=0.4)
    s = sp.from_dense(x)
    conv = make().double()
    f = s.features.clone().requires_grad_()
    w = conv.weight.detach().clone().requires_grad_()
    b = conv.bias.detach().clone().requires_grad_()
    assert torch.autograd.gradcheck(
        lambda f, w, b: functional.apply_rules(f, w, rules(s), b), (f, w, b)
    )


def test_gradcheck_of_max_pool_and_the_inverse_conv():
    x, _ = _input(c=2, h=6, w=8, density=0.5)
    fine = sp.from_dense(x)
    rules = sp.conv_rules(fine, 2, 2)
    f = fine.features.clone().requires_grad_()
    assert torch.autograd.gradcheck(lambda f: functional.max_pool(f, rules), (f,))
    coarse = sp.SparseMaxPool2d()(fine)
    inverse = sp.inverse_rules(coarse, fine)
    w = torch.randn(3, 2, 2, 2, dtype=torch.float64, requires_grad=True)
    c = coarse.features.clone().requires_grad_()
    assert torch.autograd.gradcheck(lambda c, w: functional.apply_rules(c, w, inverse), (c, w))


# ----------------------------------------------------------------------- MAC counting


def test_active_macs_are_pairs_times_channels_and_dense_macs_match_flop_counter():
    from torch.utils.flop_counter import FlopCounterMode

    x, mask = _input(b=1, c=3, h=12, w=16)
    conv = sp.SubMConv2d(3, 8, 3).double()
    pool = sp.SparseMaxPool2d()
    inv = sp.SparseInverseConv2d(8, 4).double()
    s = sp.from_dense(x)
    with sp.count_macs() as costs:
        y = conv(s)
        inv(pool(y), y)
    # hand count: each site's active 3x3 neighbours (itself included), times 3·8
    hits = F.conv2d(mask[:, None].double(), torch.ones(1, 1, 3, 3).double(), padding=1)
    assert costs.rows[0].pairs == int((hits[:, 0] * mask).sum())
    assert costs.rows[0].active == costs.rows[0].pairs * 3 * 8
    assert costs.rows[1].pairs == s.num_sites  # the inverse conv: one parent per site
    with FlopCounterMode(display=False) as fc:
        F.conv2d(x, conv.dense_weight(), padding=1)
        F.conv_transpose2d(
            F.max_pool2d(torch.zeros(1, 8, 12, 16).double(), 2), inv.dense_weight(), stride=2
        )
    assert costs.dense == fc.get_total_flops() // 2
    assert costs.saving == pytest.approx(1 - costs.active / costs.dense)


# ----------------------------------------------------------------------- backend fallback


def test_without_spconv_everything_falls_back_to_posekit_with_one_message(monkeypatch):
    import sys
    import warnings

    from posekit.sparse import backends

    monkeypatch.setattr(backends, "_SPCONV", [])
    monkeypatch.setitem(sys.modules, "spconv", None)  # import spconv → ImportError
    monkeypatch.delitem(sys.modules, "posekit.sparse.spconv_backend", raising=False)
    monkeypatch.delitem(sys.modules, "spconv.pytorch", raising=False)
    monkeypatch.delattr(sp, "spconv_backend", raising=False)  # the package's attribute too
    with pytest.warns(RuntimeWarning, match="spconv cannot be used .*own sparse layers run"):
        assert sp.resolve_backend("spconv") == "posekit"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a second request: no second message
        assert sp.resolve_backend("spconv") == "posekit"
        s = sp.from_dense(_input()[0].float(), backend="spconv")
    assert s.backend == "posekit" and s.native is None
    assert sp.spconv_available()[0] is False


def test_an_unknown_backend_is_named():
    with pytest.raises(ValueError, match="backend: expected one of"):
        sp.resolve_backend("torchsparse")
