"""spconv as a backend of posekit's sparse layers (same weights, same results), CPU-safe.

spconv (Yan et al., "SECOND", Sensors 2018; github.com/traveller59/spconv) 2.3.8's CPU wheel runs
only its "native" gather-GEMM-scatter algorithm, and that path has three bugs, still present on
spconv master. Importing this module fixes them (``apply_cpu_fixes``, idempotent; ``PATCHED``
names the fixes in effect):

    cuda_stream       ``indice_conv_backward`` asks for the CUDA stream unconditionally, so every
                      backward pass raises "Torch not compiled with CUDA enabled" on a CPU-only
                      torch (cf. traveller59/spconv#366): the stream getter returns 0 without CUDA.
    cpu_bias_act      ``model.eval()`` with ``bias=True`` asserts "cpu don't support act and bias"
                      (traveller59/spconv#719; dropping the assert silently drops the bias,
                      Pointcept/Pointcept#194): on CPU the conv runs without them and the bias
                      (and a ReLU / LeakyReLU / Sigmoid) is applied in torch.
    scatter_add_race  the OpenMP ``scatter_add_cpu`` kernel shares two pointers between threads,
                      so ~1-3 % of fp32 strided convs are silently wrong whenever torch uses 2+
                      threads: replaced by torch's ``index_add_``.

The layer functions (``subm_conv``, ``conv``, ``transposed_conv``, ``inverse_conv``,
``max_pool``) are what ``posekit.sparse.layers`` calls when ``x.backend == "spconv"``: they run
spconv's own modules (``_conv_forward`` with the posekit layer's weight, so that weight gets the
gradients) and return ``SparseTensor``s whose ``native`` is spconv's ``SparseConvTensor``.
Besides the bugs, they guard spconv's silent pitfalls on CPU:

* indices must be contiguous int32 (``nonzero().int()`` is not: a garbage rulebook, no error);
* a 1×1 conv computes ``features @ weight.view(Cin, Cout)``, not the ``(Cout, kh, kw, Cin)``
  layout of larger kernels, so the weight is re-laid-out;
* the CPU max-pool starts from 0 and clamps negative maxima to 0: with negative features the
  maximum is taken in torch over spconv's rulebook (exact);
* zero active sites raise inside spconv: such inputs run posekit's own path (an empty result).
* a dilated transposed conv gets a wrong output size (spconv ignores the dilation there) and a
  padded 1×1 conv asserts: both run posekit's own path too.

Rulebooks are cached per site set: the ``rules`` dict a ``SparseTensor`` shares with every tensor
on the same sites gets an id, and spconv's ``indice_key`` is that id plus the layer geometry, so
the submanifold convs of one resolution build one rulebook, and an inverse conv finds the one
its pool / strided conv built from ``like``. Output sites are in spconv's order (not necessarily
row-major). Ties in a max-pool window send spconv's gradient to every tied input (posekit's:
shared equally); otherwise the two backends agree to rounding.
"""

from __future__ import annotations

import inspect
import itertools
import logging
import threading

import cumm
import spconv
import spconv.pytorch as spt
import torch
import torch.nn.functional as F
from cumm import tensorview as tv
from spconv.core import ConvAlgo
from spconv.pytorch import cppcore, ops
from spconv.pytorch.conv import SparseConvolution
from spconv.pytorch.core import IndiceData
from spconv.pytorch.pool import SparseMaxPool

from posekit.sparse import functional
from posekit.sparse.rulebook import (
    conv_rules,
    inverse_rules,
    submanifold_rules,
    transposed_rules,
)  # fmt: skip
from posekit.sparse.tensor import SparseTensor

__all__ = [
    "CUMM_VERSION", "PATCHED", "SPCONV_VERSION", "apply_cpu_fixes", "conv", "inverse_conv",
    "max_pool", "subm_conv", "transposed_conv", "wrap",
]  # fmt: skip

SPCONV_VERSION, CUMM_VERSION = "2.3.8", "0.7.11"
"""The versions whose internals the CPU fixes replace (other versions are tried, and refused
with an ``ImportError`` when the replaced functions are missing)."""

PATCHED: tuple[str, ...] = ()
"""Names of the CPU fixes in effect: ``("cuda_stream", "cpu_bias_act", "scatter_add_race")``."""

_FIXED = "_posekit_cpu_fix"  # attribute marking a replacement function (idempotence)


# --- the three CPU fixes ----------------------------------------------------------------------


def _spconv_ops():
    from spconv.core_cc.csrc.sparse.all import SpconvOps

    return SpconvOps


def _require(owner, name: str) -> None:
    if not callable(getattr(owner, name, None)):
        raise ImportError(
            f"posekit's spconv CPU fixes need {getattr(owner, '__name__', owner)}.{name}, which "
            f"this spconv {getattr(spconv, '__version__', '?')} / cumm "
            f"{getattr(cumm, '__version__', '?')} lacks; they target spconv {SPCONV_VERSION} / "
            f"cumm {CUMM_VERSION} (pip install spconv=={SPCONV_VERSION} cumm=={CUMM_VERSION})"
        )


def _fix_stream() -> None:
    original = cppcore.get_current_stream
    if getattr(original, _FIXED, False):
        ops.get_current_stream = original
        return

    def get_current_stream():
        """0 (the default stream) without CUDA; spconv's own getter otherwise."""
        return original() if torch.cuda.is_available() else 0

    setattr(get_current_stream, _FIXED, True)
    get_current_stream.__wrapped__ = original
    cppcore.get_current_stream = get_current_stream
    ops.get_current_stream = get_current_stream  # ``from cppcore import get_current_stream``


def _fix_bias_act() -> None:
    original = ops.indice_conv
    if getattr(original, _FIXED, False):
        return
    signature = inspect.signature(original)

    def indice_conv(*args, **kwargs):
        """spconv's ``indice_conv``; on CPU the bias and activation are applied in torch."""
        if len(args) < 10 and kwargs.get("bias") is None and "act_type" not in kwargs:
            return original(*args, **kwargs)  # neither bias nor activation (spconv's training)
        call = signature.bind(*args, **kwargs)
        call.apply_defaults()
        a = call.arguments
        bias, act = a["bias"], a["act_type"]
        if a["features"].is_cuda or (bias is None and act == tv.gemm.Activation.None_):
            return original(*args, **kwargs)
        a["bias"], a["act_type"] = None, tv.gemm.Activation.None_
        out = original(*call.args, **call.kwargs)
        if bias is not None:
            out = out + bias
        if act == tv.gemm.Activation.ReLU:
            out = F.relu(out)
        elif act == tv.gemm.Activation.LeakyReLU:
            out = F.leaky_relu(out, float(a["act_alpha"]))
        elif act == tv.gemm.Activation.Sigmoid:
            out = torch.sigmoid(out)
        elif act != tv.gemm.Activation.None_:
            raise NotImplementedError(f"spconv on CPU: activation {act} is not supported")
        return out

    setattr(indice_conv, _FIXED, True)
    indice_conv.__wrapped__ = original
    ops.indice_conv = indice_conv  # spconv.pytorch.functional calls ``ops.indice_conv``


def _fix_scatter_add() -> None:
    spconv_ops = _spconv_ops()
    if getattr(spconv_ops.scatter_add_cpu, _FIXED, False):
        return

    def scatter_add_cpu(out, inp, inds) -> None:
        """``out[inds[i]] += inp[i]`` (tensorview arguments) with torch's ``index_add_``."""
        index = torch.from_numpy(inds.numpy_view()).long()
        rows = torch.from_numpy(inp.numpy_view())[: len(index)]
        torch.from_numpy(out.numpy_view()).index_add_(0, index, rows)

    setattr(scatter_add_cpu, _FIXED, True)
    scatter_add_cpu.__wrapped__ = spconv_ops.scatter_add_cpu
    spconv_ops.scatter_add_cpu = staticmethod(scatter_add_cpu)


def apply_cpu_fixes() -> tuple[str, ...]:
    """Apply the three CPU fixes (harmless when already applied); returns ``PATCHED``."""
    global PATCHED
    spconv_ops = _spconv_ops()
    for owner, name in (
        (cppcore, "get_current_stream"), (ops, "get_current_stream"), (ops, "indice_conv"),
        (ops, "indice_conv_backward"), (spconv_ops, "scatter_add_cpu"),
    ):  # fmt: skip
        _require(owner, name)
    _fix_stream()
    _fix_bias_act()
    _fix_scatter_add()
    PATCHED = ("cuda_stream", "cpu_bias_act", "scatter_add_race")
    return PATCHED


def _quiet_fx_notice() -> None:
    """Log torch.fx's one-time "is_fx_tracing will return true for both ..." notice silently.

    spconv's ``SparseConvTensor`` metaclass (torch.fx's ``ProxyableClassMeta``) asks
    ``is_fx_tracing()`` on every construction; the notice concerns torch.fx users, not this.
    """
    try:
        from torch.fx import _symbolic_trace

        notice = _symbolic_trace.is_fx_tracing_warning
    except (ImportError, AttributeError):
        return
    logger = logging.getLogger(_symbolic_trace.__name__)
    disabled, logger.disabled = logger.disabled, True
    try:
        notice()  # cached: it logs at most once per process
    finally:
        logger.disabled = disabled


apply_cpu_fixes()
_quiet_fx_notice()


# --- tensors, keys, cached modules -----------------------------------------------------------

_IDS = itertools.count()
_MODULES: dict[tuple, torch.nn.Module] = {}
_LOCK = threading.Lock()  # a cached module's ``indice_key`` is set per call


def _indices(x: SparseTensor) -> torch.Tensor:
    """``x``'s sites as spconv wants them: contiguous int32 ``(N, 3)`` (cached per site set)."""
    indices = x.rules.get("spconv_indices")
    if indices is None:
        # ``.int()`` keeps the strides: ``nonzero().int()`` is column-major, and spconv silently
        # builds a wrong rulebook from non-contiguous indices.
        indices = x.rules["spconv_indices"] = x.coords.int().contiguous()
    return indices


def _key(x: SparseTensor, kind: str, *geometry) -> str:
    """spconv ``indice_key`` of a rulebook on ``x``'s site set: site-set id + geometry."""
    site_set = x.rules.get("spconv_id")
    if site_set is None:
        site_set = x.rules["spconv_id"] = next(_IDS)
    return f"posekit{site_set}:{kind}:" + ":".join(f"{a}x{b}" for a, b in geometry)


def _native(x: SparseTensor, indice_dict: dict | None = None) -> spt.SparseConvTensor:
    """A ``SparseConvTensor`` of ``x`` for one call (its own ``indice_dict``)."""
    return spt.SparseConvTensor(
        x.features, _indices(x), list(x.shape), x.batch_size, indice_dict=indice_dict or {}
    )


def _output(native: spt.SparseConvTensor, batch_size: int) -> SparseTensor:
    """A ``SparseTensor`` on spconv's output sites (a new site set, its own ``rules``)."""
    indices = native.indices
    return SparseTensor(
        native.features, indices.long(), tuple(native.spatial_shape), batch_size,
        {"spconv_indices": indices}, "spconv", native,
    )  # fmt: skip


def _on(x: SparseTensor, features: torch.Tensor, native=None) -> SparseTensor:
    """``features`` on ``x``'s sites (sharing ``x``'s rules), backend spconv."""
    if native is None:
        native = spt.SparseConvTensor(features, _indices(x), list(x.shape), x.batch_size)
    return SparseTensor(features, x.coords, x.shape, x.batch_size, x.rules, "spconv", native)


def _fresh(features, coords, shape, batch_size) -> SparseTensor:
    """A new spconv-backend site set from posekit's own results (the fallback paths)."""
    return wrap(SparseTensor(features, coords, shape, batch_size))


def wrap(x: SparseTensor) -> SparseTensor:
    """``x`` on backend ``"spconv"``: same features and sites, ``native`` a ``SparseConvTensor``."""
    indices = x.coords.int().contiguous()
    native = spt.SparseConvTensor(x.features, indices, list(x.shape), x.batch_size)
    return SparseTensor(
        x.features, x.coords, x.shape, x.batch_size, {"spconv_indices": indices}, "spconv", native
    )


def _conv_module(cin, cout, kernel, **kwargs) -> SparseConvolution:
    """A cached spconv conv of this configuration, its own weight removed (ours is passed)."""
    key = ("conv", cin, cout, tuple(kernel), *sorted(kwargs.items()))
    module = _MODULES.get(key)
    if module is None:
        module = SparseConvolution(
            2, cin, cout, list(kernel), bias=False, algo=ConvAlgo.Native, device="meta",
            **{k: list(v) if isinstance(v, tuple) else v for k, v in kwargs.items()},
        )  # fmt: skip
        module.register_parameter("weight", None)
        _MODULES[key] = module
    return module


def _pool_module(kernel, stride) -> SparseMaxPool:
    key = ("maxpool", tuple(kernel), tuple(stride))
    module = _MODULES.get(key)
    if module is None:
        module = SparseMaxPool(2, list(kernel), list(stride), 0, 1, algo=ConvAlgo.Native)
        _MODULES[key] = module
    return module


def _run(module, key: str | None, inp: spt.SparseConvTensor, weight, bias):
    """``module._conv_forward`` with ``indice_key = key`` (our weight gets the gradients)."""
    with _LOCK:
        module.indice_key = key
        try:
            return module._conv_forward(torch.is_grad_enabled(), inp, weight, bias)
        finally:
            module.indice_key = None


def _pairs(data: IndiceData, subm: bool, num_sites: int) -> int:
    """All (input, output) pairs of a spconv rulebook, a submanifold centre counted once per site.

    (spconv stores only the first half of a submanifold's symmetric pair counts.)
    """
    counts = data.indice_pair_num.tolist()
    if not subm:
        return int(sum(counts))
    kv, centre = len(counts), len(counts) // 2
    return num_sites + sum(counts[min(i, kv - 1 - i)] for i in range(kv) if i != centre)


def _one_by_one(weight: torch.Tensor) -> torch.Tensor:
    """The weight a spconv 1×1 conv needs: it computes ``features @ weight.view(Cin, Cout)``."""
    cout, cin = weight.shape[0], weight.shape[-1]
    return weight.reshape(cout, cin).t().contiguous().view(cout, 1, 1, cin)


# --- the layers -------------------------------------------------------------------------------


def subm_conv(x: SparseTensor, weight: torch.Tensor, bias, dilation) -> tuple[SparseTensor, int]:
    """Submanifold conv (``SubMConv2d``) on ``x``'s sites; returns ``(out, rulebook pairs)``."""
    cout, kh, kw, cin = weight.shape
    if x.num_sites == 0:
        rules = submanifold_rules(x, (kh, kw), dilation)
        return _on(x, functional.apply_rules(x.features, weight, rules, bias)), rules.num_pairs
    module = _conv_module(cin, cout, (kh, kw), dilation=tuple(dilation), subm=True)
    if kh * kw == 1:
        out = _run(module, None, _native(x), _one_by_one(weight), bias)
        return _on(x, out.features, out), x.num_sites
    key = _key(x, "subm", (kh, kw), dilation)
    cached = x.rules.get(key)
    out = _run(module, key, _native(x, {key: cached} if cached is not None else None), weight, bias)
    data = x.rules[key] = out.indice_dict[key]
    return _on(x, out.features, out), _pairs(data, True, x.num_sites)


def conv(x: SparseTensor, weight, bias, stride, padding, dilation) -> tuple[SparseTensor, int]:
    """Strided sparse conv (``SparseConv2d``); returns ``(out, rulebook pairs)``.

    The rulebook is kept in ``x.rules`` for an inverse conv back onto ``x``'s sites.
    """
    cout, kh, kw, cin = weight.shape
    stride, padding, dilation = tuple(stride), tuple(padding), tuple(dilation)
    one_by_one = kh * kw == 1 and stride == (1, 1)
    if x.num_sites == 0 or (one_by_one and padding != (0, 0)):  # spconv: error / assertion
        rules = conv_rules(x, (kh, kw), stride, padding, dilation)
        feats = functional.apply_rules(x.features, weight, rules, bias)
        return _fresh(feats, rules.out_coords, rules.out_shape, x.batch_size), rules.num_pairs
    module = _conv_module(cin, cout, (kh, kw), stride=stride, padding=padding, dilation=dilation)
    if one_by_one:
        out = _run(module, None, _native(x), _one_by_one(weight), bias)
        return _on(x, out.features, out), x.num_sites
    key = _key(x, "conv", (kh, kw), stride, padding, dilation)
    out = _run(module, key, _native(x), weight, bias)
    data = x.rules[key] = out.indice_dict[key]
    return _output(out, x.batch_size), _pairs(data, False, x.num_sites)


def transposed_conv(
    x: SparseTensor, weight, bias, stride, padding, dilation, output_padding
) -> tuple[SparseTensor, int]:
    """Generative transposed conv (``SparseConvTranspose2d``); returns ``(out, pairs)``.

    (spconv's ``SparseConvTranspose2d`` has no ``output_padding``: ``SparseConvolution(2, ...,
    transposed=True, output_padding=...)`` has. A dilated one runs posekit's own path: spconv's
    transposed output size ignores the dilation.)
    """
    cout, kh, kw, cin = weight.shape
    geometry = tuple(stride), tuple(padding), tuple(dilation), tuple(output_padding)
    one_by_one = kh * kw == 1 and geometry[0] == (1, 1)
    # spconv: no empty input, no padded 1×1, and its output size ignores the dilation
    if x.num_sites == 0 or (one_by_one and geometry[1] != (0, 0)) or geometry[2] != (1, 1):
        rules = transposed_rules(x, (kh, kw), *geometry)
        feats = functional.apply_rules(x.features, weight, rules, bias)
        return _fresh(feats, rules.out_coords, rules.out_shape, x.batch_size), rules.num_pairs
    module = _conv_module(
        cin, cout, (kh, kw), stride=geometry[0], padding=geometry[1], dilation=geometry[2],
        output_padding=geometry[3], transposed=True,
    )  # fmt: skip
    if one_by_one:  # same sites; the map grows by output_padding
        out = _run(module, None, _native(x), _one_by_one(weight), bias)
        return _output(out, x.batch_size), x.num_sites
    key = _key(x, "transposed", (kh, kw), *geometry)
    out = _run(module, key, _native(x), weight, bias)
    return _output(out, x.batch_size), _pairs(out.indice_dict[key], False, x.num_sites)


def _forward_rules(like: SparseTensor, kernel, stride) -> tuple[str, IndiceData]:
    """The rulebook of the pool / strided conv (``kernel``, ``stride``, no padding) on ``like``:
    the one that layer stored, else built now (the same sites come out)."""
    geometry = tuple(kernel), tuple(stride), (0, 0), (1, 1)
    key = _key(like, "conv", *geometry)
    data = like.rules.get(key)
    if data is None:
        indices = _indices(like)
        outids, pairs, counts = ops.get_indice_pairs(
            indices, like.batch_size, list(like.shape), ConvAlgo.Native,
            *(list(g) for g in geometry), [0, 0], False, False,
        )  # fmt: skip
        out_shape = ops.get_conv_output_size(list(like.shape), *(list(g) for g in geometry))
        data = IndiceData(
            outids, indices, pairs, counts, list(like.shape), out_shape, is_subm=False,
            algo=ConvAlgo.Native, ksize=list(kernel), stride=list(stride), dilation=[1, 1],
            padding=[0, 0],
        )  # fmt: skip
        like.rules[key] = data
    return key, data


def inverse_conv(x: SparseTensor, like: SparseTensor, weight, bias, stride):
    """Inverse conv (``SparseInverseConv2d``) from ``x`` back onto ``like``'s sites, through the
    rulebook of the pool / strided conv that made ``x`` from ``like``; returns ``(out, pairs)``.
    """
    cout, kh, kw, cin = weight.shape
    if x.num_sites == 0 or kh * kw == 1:  # spconv: error / its 1×1 path ignores the rulebook
        rules = inverse_rules(x, like, (kh, kw), stride)
        feats = functional.apply_rules(x.features, weight, rules, bias)
        return _on(like, feats), rules.num_pairs
    key, data = _forward_rules(like, (kh, kw), stride)
    features = _in_rule_order(x, data, (kh, kw), stride, like.num_sites)
    inp = spt.SparseConvTensor(
        features, data.out_indices, list(x.shape), x.batch_size, indice_dict={key: data}
    )
    out = _run(_conv_module(cin, cout, (kh, kw), inverse=True), key, inp, weight, bias)
    return _on(like, out.features, out), _pairs(data, False, x.num_sites)


def _in_rule_order(x: SparseTensor, data: IndiceData, kernel, stride, num_like: int):
    """``x.features`` in the row order of the forward rulebook's output sites.

    The same sites may come in another order (spconv's outputs are not row-major, posekit's
    are): then the rows are permuted. Other sites raise ``ValueError``.
    """
    indices, out_indices = _indices(x), data.out_indices
    same_set = x.shape == tuple(data.out_spatial_shape) and len(indices) == len(out_indices)
    if same_set and (indices is out_indices or torch.equal(indices, out_indices)):
        return x.features
    if same_set:
        h, w = x.shape
        flat_x, flat_rule = (
            (i[:, 0].long() * h + i[:, 1]) * w + i[:, 2] for i in (indices, out_indices)
        )
        sorted_x, order_x = flat_x.sort()
        sorted_rule, order_rule = flat_rule.sort()
        if torch.equal(sorted_x, sorted_rule):
            perm = torch.empty_like(order_x)
            perm[order_rule] = order_x
            return x.features[perm]
    raise ValueError(
        f"x: its {x.num_sites} sites are not those a {tuple(kernel)} stride-{tuple(stride)} "
        f"conv makes from like's {num_like} sites; pass the tensor that was pooled"
    )


def max_pool(x: SparseTensor, kernel_size, stride) -> SparseTensor:
    """Max-pool (``SparseMaxPool2d``) over each window's active inputs.

    spconv's CPU pool starts from 0 (a negative maximum comes out as 0); when any feature is
    negative the maximum is taken in torch over spconv's rulebook instead.
    """
    kernel_size, stride = tuple(kernel_size), tuple(stride)
    if x.num_sites == 0:
        rules = conv_rules(x, kernel_size, stride)
        feats = functional.max_pool(x.features, rules)
        return _fresh(feats, rules.out_coords, rules.out_shape, x.batch_size)
    if bool((x.features < 0).any()):
        _, data = _forward_rules(x, kernel_size, stride)
        counts = data.indice_pair_num.tolist()
        pairs = data.indice_pairs.long()
        ins = torch.cat([pairs[0, k, :n] for k, n in enumerate(counts)])
        outs = torch.cat([pairs[1, k, :n] for k, n in enumerate(counts)])
        feats = x.features.new_zeros(len(data.out_indices), x.channels).scatter_reduce(
            0, outs[:, None].expand(-1, x.channels), x.features[ins], "amax", include_self=False
        )
        native = spt.SparseConvTensor(
            feats, data.out_indices, list(data.out_spatial_shape), x.batch_size
        )
        return _output(native, x.batch_size)
    key = _key(x, "conv", kernel_size, stride, (0, 0), (1, 1))
    module = _pool_module(kernel_size, stride)
    with _LOCK:
        module.indice_key = key
        try:
            out = module(_native(x))
        finally:
            module.indice_key = None
    x.rules[key] = out.indice_dict[key]
    return _output(out, x.batch_size)
