"""posekit's spconv backend: spconv's three CPU bugs fixed (backward's CUDA stream, bias in eval
mode, traveller59/spconv#719, the ``scatter_add_cpu`` data race), its silent pitfalls guarded
(non-contiguous indices, the 1×1 weight layout, max-pool of negative features, zero active
sites), and every layer equal to posekit's own backend with the same weights: forward, gradients
and MAC pairs. Skipped when spconv cannot be imported."""

import pytest
import torch
import torch.nn.functional as F

from posekit.sparse import (
    SparseConv2d,
    SparseConvTranspose2d,
    SparseInverseConv2d,
    SparseMaxPool2d,
    SparseTensor,
    SubMConv2d,
    count_macs,
    from_dense,
    resolve_backend,
    to_backend,
)

try:
    import spconv.pytorch as spt
    from cumm import tensorview as tv
    from spconv.pytorch import cppcore, ops
    from spconv.pytorch.conv import SparseConvolution

    from posekit.sparse import spconv_backend as SB
except Exception as err:  # not installed, or spconv fails on this platform
    pytest.skip(f"spconv backend unavailable ({err})", allow_module_level=True)

CUDA_STREAM_BUG = not torch.cuda.is_available()  # the unpatched bug shows only without CUDA


def _input(seed=0, shape=(2, 3, 13, 15), density=0.3, dtype=torch.float32, sign=0):
    """A dense ``(B, C, H, W)`` map, zero off a random set of active pixels."""
    g = torch.Generator().manual_seed(seed)
    b, c, h, w = shape
    x = torch.randn(shape, generator=g, dtype=dtype)
    if sign:
        x = sign * (x.abs() + 0.01)  # strictly one sign on the active pixels
    return x * (torch.rand((b, 1, h, w), generator=g) < density)


def _masked_conv(x, module, **kwargs):
    """The dense conv of ``module``'s weights, read at ``x``'s active pixels."""
    mask = (x != 0).any(1, keepdim=True)
    return F.conv2d(x, module.dense_weight(), module.bias, **kwargs) * mask


def _run(module, x, backend, grad_out, like_pool=False):
    """Forward + backward on one backend: the dense output and the grads (weight, bias, input)."""
    module.zero_grad(set_to_none=True)
    t = from_dense(x, backend=backend)
    t.features.requires_grad_(True)
    out = module(SparseMaxPool2d()(t), t) if like_pool else module(t)
    dense = out.dense()
    (dense * grad_out[:, : dense.shape[1], : dense.shape[2], : dense.shape[3]]).sum().backward()
    grads = [p.grad for p in module.parameters()] + [t.features.grad]
    return dense.detach(), grads


# --- the three CPU fixes ----------------------------------------------------------------------


def test_fixes_are_applied_and_idempotent():
    assert SB.PATCHED == ("cuda_stream", "cpu_bias_act", "scatter_add_race")
    from spconv.core_cc.csrc.sparse.all import SpconvOps

    before = (cppcore.get_current_stream, ops.indice_conv, SpconvOps.scatter_add_cpu)
    assert SB.apply_cpu_fixes() == SB.PATCHED
    assert SB.apply_cpu_fixes() == SB.PATCHED
    assert (cppcore.get_current_stream, ops.indice_conv, SpconvOps.scatter_add_cpu) == before
    assert ops.get_current_stream is cppcore.get_current_stream  # the name ops imported
    assert ops.indice_conv.__wrapped__.__module__ == "spconv.pytorch.ops"  # wrapped once
    assert resolve_backend("spconv") == "spconv"


def test_missing_spconv_internals_raise_a_clear_import_error(monkeypatch):
    monkeypatch.setattr(ops, "indice_conv", None)  # as in a spconv whose internals moved
    with pytest.raises(ImportError, match=r"indice_conv.*target spconv 2\.3\.8 / cumm 0\.7\.11"):
        SB.apply_cpu_fixes()


def _dense(native):
    """A spconv ``SparseConvTensor`` as ``(B, C, H, W)`` (through posekit's ``to_dense``)."""
    t = SparseTensor(
        native.features, native.indices.long(), native.spatial_shape, native.batch_size
    )
    return t.dense()


def _spconv_input(x):
    mask = (x != 0).any(1)
    indices = mask.nonzero().int().contiguous()
    return spt.SparseConvTensor(x.permute(0, 2, 3, 1)[mask], indices, x.shape[2:], x.shape[0])


def test_backward_runs_on_cpu(monkeypatch):
    """spconv's own SubMConv2d / SparseConv2d train on CPU and match dense torch."""
    x = _input(1)
    torch.manual_seed(0)
    for conv, kwargs in (
        (spt.SubMConv2d(3, 4, 3, bias=True), {"padding": 1}),
        (spt.SparseConv2d(3, 4, 3, 2, 1, bias=True), {"stride": 2, "padding": 1}),
    ):
        xs = x.clone().requires_grad_(True)
        out = _dense(conv(_spconv_input(xs)))
        out.square().sum().backward()
        dense = conv.weight.detach().permute(0, 3, 1, 2).requires_grad_(True)
        xd = x.clone().requires_grad_(True)
        ref = F.conv2d(xd, dense, conv.bias, **kwargs)
        if "stride" not in kwargs:  # submanifold: output at the input sites only
            ref = ref * (x != 0).any(1, keepdim=True)
        else:  # strided: output where any input reaches
            reach = F.max_pool2d((x != 0).any(1, keepdim=True).float(), 3, 2, 1) > 0
            ref = ref * reach
        ref.square().sum().backward()
        torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(conv.weight.grad.permute(0, 3, 1, 2), dense.grad)
        active = (x != 0).any(1, keepdim=True)  # the sparse input has no other pixels
        torch.testing.assert_close(xs.grad, xd.grad * active, atol=1e-5, rtol=1e-5)
    if CUDA_STREAM_BUG:  # unpatched: every backward asks torch for a CUDA stream
        original = cppcore.get_current_stream.__wrapped__
        monkeypatch.setattr(cppcore, "get_current_stream", original)
        monkeypatch.setattr(ops, "get_current_stream", original)
        out = spt.SubMConv2d(3, 4, 3)(_spconv_input(x.clone().requires_grad_(True)))
        with pytest.raises((AssertionError, RuntimeError), match="CUDA"):
            out.features.sum().backward()


def test_eval_with_bias_matches_dense(monkeypatch):
    """traveller59/spconv#719: bias=True in eval() asserted on CPU; now the bias is added."""
    x = _input(2)
    torch.manual_seed(0)
    conv = spt.SubMConv2d(3, 4, 3, bias=True).eval()
    posekit_conv = SubMConv2d(3, 4, 3)
    with torch.no_grad():
        posekit_conv.weight.copy_(conv.weight)
        posekit_conv.bias.copy_(conv.bias)
        ref = _masked_conv(x, posekit_conv, padding=1)
        torch.testing.assert_close(_dense(conv(_spconv_input(x))), ref)
        # posekit's layer under no_grad takes spconv's inference path (bias in the kernel call)
        torch.testing.assert_close(
            posekit_conv.eval()(from_dense(x, backend="spconv")).dense(), ref
        )
        fused = SparseConvolution(
            2, 3, 4, 3, subm=True, act_type=tv.gemm.Activation.LeakyReLU, act_alpha=0.1
        ).eval()  # a fused activation goes the same way
        fused.load_state_dict(conv.state_dict())
        mask = (x != 0).any(1, keepdim=True)
        torch.testing.assert_close(_dense(fused(_spconv_input(x))), F.leaky_relu(ref, 0.1) * mask)
        monkeypatch.setattr(ops, "indice_conv", ops.indice_conv.__wrapped__)
        with pytest.raises(AssertionError, match="act and bias"):
            conv(_spconv_input(x))


def test_scatter_add_is_exact_with_repeated_rows():
    from spconv.core_cc.csrc.sparse.all import SpconvOps

    g = torch.Generator().manual_seed(3)
    out = torch.randn(50, 7, generator=g)
    rows = torch.randn(400, 7, generator=g)
    inds = torch.randint(0, 50, (300,), generator=g, dtype=torch.int32)  # repeats, 100 spare rows
    expected = out.index_add(0, inds.long(), rows[:300])
    to_tv = cppcore.torch_tensor_to_tv
    SpconvOps.scatter_add_cpu(to_tv(out), to_tv(rows), to_tv(inds))
    torch.testing.assert_close(out, expected)


def _close(actual, expected, what, tol=1e-5):
    """Equal to ``tol`` × the largest entry (a summed weight gradient is large: float32 rounding
    in a different order stays far below ``tol``, a raced row does not)."""
    atol = tol * max(1.0, expected.abs().max().item())
    torch.testing.assert_close(actual, expected, atol=atol, rtol=0, msg=lambda m: f"{what}: {m}")


def test_random_strided_convs_at_two_threads_match_posekit():
    """The data race hit ~1-3 % of such calls at 2 threads; with the fix all are right."""
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        g = torch.Generator().manual_seed(4)
        for i in range(100):
            pick = torch.randint(0, 1000, (7,), generator=g).tolist()
            cin, cout, b = 1 + pick[0] % 8, 1 + pick[1] % 16, 1 + pick[2] % 2
            k, s = 2 + pick[3] % 2, 1 + pick[4] % 2
            h, w = 16 + pick[5] % 17, 16 + pick[6] % 17
            x = _input(100 + i, (b, cin, h, w), density=0.1 + 0.4 * (i % 5) / 4)
            torch.manual_seed(i)
            conv = SparseConv2d(cin, cout, k, s, padding=k // 2)
            grad_out = torch.randn(b, cout, h + 2, w + 2, generator=g)
            ref, ref_grads = _run(conv, x, "posekit", grad_out)
            out, grads = _run(conv, x, "spconv", grad_out)
            _close(out, ref, f"call {i}, forward")
            for a, e in zip(grads, ref_grads, strict=True):
                _close(a, e, f"call {i}, grads")
    finally:
        torch.set_num_threads(threads)


# --- silent pitfalls --------------------------------------------------------------------------


def test_non_contiguous_indices_are_made_contiguous():
    x = _input(5, (2, 3, 17, 19))
    mask = (x != 0).any(1)
    coords = mask.nonzero().T.contiguous().T  # column-major, as nonzero() can be
    assert not coords.int().is_contiguous()
    t = to_backend(SparseTensor(x.permute(0, 2, 3, 1)[mask], coords, (17, 19), 2), "spconv")
    assert t.native.indices.is_contiguous() and t.native.indices.dtype == torch.int32
    torch.manual_seed(0)
    for conv, kwargs in (
        (SubMConv2d(3, 4, 3), {"padding": 1}),
        (SubMConv2d(3, 4, 5), {"padding": 2}),
    ):
        with torch.no_grad():
            torch.testing.assert_close(conv(t).dense(), _masked_conv(x, conv, **kwargs))


@pytest.mark.parametrize("layer", ["subm", "conv"])
def test_one_by_one_weight_layout(layer):
    """spconv's 1×1 conv computes features @ weight.view(Cin, Cout): the weight is re-laid-out."""
    x = _input(6)
    torch.manual_seed(0)
    conv = SubMConv2d(3, 5, 1) if layer == "subm" else SparseConv2d(3, 5, 1, 1)
    grad_out = torch.randn(2, 5, 13, 15)
    out, grads = _run(conv, x, "spconv", grad_out)
    torch.testing.assert_close(out, _masked_conv(x, conv).detach())
    ref, ref_grads = _run(conv, x, "posekit", grad_out)
    for a, e in zip([out, *grads], [ref, *ref_grads], strict=True):
        torch.testing.assert_close(a, e)
    with count_macs() as costs:
        conv(from_dense(x, backend="spconv"))
    assert costs.rows[0].pairs == int((x != 0).any(1).sum())


def test_max_pool_of_negative_features():
    """spconv's CPU pool starts at 0 and would return 0 for an all-negative window."""
    x = _input(7, sign=-1)
    mask = (x != 0).any(1, keepdim=True)
    ref = F.max_pool2d(torch.where(mask, x, -torch.inf), 2, 2)
    ref = torch.where(ref.isinf(), 0.0, ref)
    assert (ref < 0).any()
    grad_out = torch.randn(2, 3, 6, 7)
    out, (grad,) = _run(SparseMaxPool2d(), x, "spconv", grad_out)
    torch.testing.assert_close(out, ref)
    _, (ref_grad,) = _run(SparseMaxPool2d(), x, "posekit", grad_out)
    torch.testing.assert_close(grad, ref_grad)
    # positive features take spconv's own pool: the same result
    pos = _input(7, sign=1)
    out, (grad,) = _run(SparseMaxPool2d(), pos, "spconv", grad_out)
    ref, (ref_grad,) = _run(SparseMaxPool2d(), pos, "posekit", grad_out)
    torch.testing.assert_close(out, ref)
    torch.testing.assert_close(grad, ref_grad)


def test_zero_active_sites_give_empty_results():
    x = torch.zeros(1, 3, 8, 8)
    for module in (
        SubMConv2d(3, 4, 3), SubMConv2d(3, 4, 1), SparseConv2d(3, 4, 3, 2, 1),
        SparseConvTranspose2d(3, 4, 3, 2), SparseMaxPool2d(),
    ):  # fmt: skip
        t = from_dense(x, backend="spconv")
        t.features.requires_grad_(True)
        out = module(t)
        assert out.num_sites == 0 and out.backend == "spconv" and out.native is not None
        out.features.sum().backward()
        ref = module(from_dense(x))
        assert out.shape == ref.shape and out.channels == ref.channels
    t = from_dense(x, backend="spconv")
    out = SparseInverseConv2d(3, 4)(SparseMaxPool2d()(t), t)
    assert out.num_sites == 0 and out.shape == (8, 8)


def test_geometries_spconv_lacks_run_posekits_path():
    """A padded 1×1 conv (spconv asserts) and a dilated transposed conv (spconv's output size
    ignores the dilation) still give posekit's results."""
    x = _input(12, dtype=torch.float64)
    torch.manual_seed(0)
    grad_out = torch.randn(2, 4, 40, 40, dtype=torch.float64)
    for module in (
        SparseConv2d(3, 4, 1, 1, padding=1),
        SparseConvTranspose2d(3, 4, 1, 1, padding=1),
        SparseConvTranspose2d(3, 4, 3, 2, 2, dilation=2),
        SparseConv2d(3, 4, 1, 2),
    ):
        module = module.double()
        out, grads = _run(module, x, "spconv", grad_out)
        ref, ref_grads = _run(module, x, "posekit", grad_out)
        for a, e in zip([out, *grads], [ref, *ref_grads], strict=True):
            torch.testing.assert_close(a, e, atol=1e-10, rtol=0)


# --- every layer: spconv backend == posekit backend ------------------------------------------

LAYERS = {
    "subm3": lambda: SubMConv2d(3, 4, 3),
    "subm5_dilation2": lambda: SubMConv2d(3, 4, 5, dilation=2),
    "conv_k3_s2_p1": lambda: SparseConv2d(3, 4, 3, 2, 1),
    "transposed_k3_s2": lambda: SparseConvTranspose2d(3, 4, 3, 2),
    "transposed_k3_s2_p1_op1": lambda: SparseConvTranspose2d(3, 4, 3, 2, 1, output_padding=1),
    "maxpool": lambda: SparseMaxPool2d(),
    "inverse_after_pool": lambda: SparseInverseConv2d(3, 4, 2, 2),
}


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["fp32", "fp64"])
@pytest.mark.parametrize("name", list(LAYERS))
def test_layer_matches_posekit_backend(name, dtype):
    tol = {"atol": 1e-5, "rtol": 1e-5} if dtype == torch.float32 else {"atol": 1e-10, "rtol": 0}
    x = _input(8, dtype=dtype)
    torch.manual_seed(0)
    module = LAYERS[name]().to(dtype)
    grad_out = torch.randn(2, 4, 40, 40, dtype=dtype)
    like_pool = name == "inverse_after_pool"
    ref, ref_grads = _run(module, x, "posekit", grad_out, like_pool)
    out, grads = _run(module, x, "spconv", grad_out, like_pool)
    assert out.shape == ref.shape and out.abs().sum() > 0
    torch.testing.assert_close(out, ref, **tol)
    assert len(grads) == len(ref_grads)
    for a, e in zip(grads, ref_grads, strict=True):
        torch.testing.assert_close(a, e, **tol)


def test_outputs_keep_spconv_tensors_and_rulebooks():
    x = _input(9)
    t = from_dense(x, backend="spconv")
    a, b = SubMConv2d(3, 4, 3), SubMConv2d(4, 4, 3)
    y = b(a(t))
    assert y.backend == "spconv" and isinstance(y.native, spt.SparseConvTensor)
    assert y.rules is t.rules and y.coords is t.coords  # same sites, one rulebook cache
    keys = [k for k in t.rules if isinstance(k, str) and ":subm:" in k]
    assert len(keys) == 1  # the second conv reused the first one's rulebook
    p = SparseMaxPool2d()(y)
    assert p.rules is not t.rules and torch.equal(p.coords, p.native.indices.long())
    assert p.shape == tuple(p.native.spatial_shape) == (6, 7)
    back = SparseInverseConv2d(4, 4)(p, t)
    assert back.coords is t.coords and back.rules is t.rules


def test_inverse_accepts_the_pooled_sites_in_any_order_and_refuses_others():
    x = _input(10)
    torch.manual_seed(0)
    inverse = SparseInverseConv2d(3, 4)
    posekit_pooled = SparseMaxPool2d()(from_dense(x))  # row-major, not spconv's order
    like = from_dense(x, backend="spconv")
    with torch.no_grad():
        out = inverse(to_backend(posekit_pooled, "spconv"), like)
        ref = inverse(posekit_pooled, from_dense(x))
    torch.testing.assert_close(out.dense(), ref.dense())
    with pytest.raises(ValueError, match="not those"):
        inverse(like, like)


def test_mac_pairs_equal_between_backends():
    x = _input(11)
    torch.manual_seed(0)
    net = [
        SubMConv2d(3, 4, 3), SubMConv2d(4, 4, 5, dilation=2), SubMConv2d(4, 4, 1),
        SparseConv2d(4, 4, 3, 2, 1), SparseConvTranspose2d(4, 3, 3, 2),
    ]  # fmt: skip
    pool, inverse = SparseMaxPool2d(), SparseInverseConv2d(3, 2)
    rows = {}
    for backend in ("posekit", "spconv"):
        with torch.no_grad(), count_macs() as costs:
            t = h = from_dense(x, backend=backend)
            for layer in net:
                h = layer(h)
            h = SubMConv2d(3, 3, 3)(SparseMaxPool2d()(t))
            inverse(pool(t), t)
        rows[backend] = [(r.kind, r.sites_in, r.sites_out, r.pairs, r.active) for r in costs.rows]
    assert len(rows["spconv"]) == 7
    assert rows["spconv"] == rows["posekit"]
