"""Inference optimisation: BatchNorm folded into convolutions, channels-last, oneDNN convs.

At inference a BatchNorm is a fixed per-channel affine map, ``y = γ (z − μ) / √(σ² + ε) + β``;
after a convolution ``z = W * x + b`` it folds into the convolution (Ioffe & Szegedy 2015;
the "conv-BN fusion" of ``torch.ao.quantization.fuse_modules`` / TensorRT)::

    s  = γ / √(σ² + ε)            (per output channel)
    W' = s · W                    (scale output channel o of W by s_o)
    b' = s · (b − μ) + β          (b = 0 for a conv without bias)

which removes one full read and write of every BN'd feature map. ``optimize_for_inference``
adds the channels-last (NHWC) memory format that oneDNN's CPU convolutions prefer, and runs
every convolution through oneDNN directly with weights packed once per input shape and a
following ReLU fused (``MkldnnConv2d``; the kernels ``torch.compile``'s CPU backend calls, with
no compilation). Measured by ``posekit bench latency`` on this course's 2-core AVX-512 Xeon,
one thread: Lightweight OpenPose at 256×456 runs ≈ 1.3–1.4× faster than the eager eval model
(BN folding + channels-last alone: ≈ 1.2×). Run the result under ``torch.inference_mode()``
(no autograd bookkeeping at all), e.g.::

    fast = optimize_for_inference(LightweightOpenPose().eval())
    with torch.inference_mode():
        stages = fast(x)

Training-mode BatchNorm (batch statistics) cannot be folded: both functions work on an
eval-mode copy and leave the original model untouched.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode

__all__ = [
    "MkldnnConv2d",
    "fold_batchnorm",
    "fold_conv_bn",
    "mkldnn_available",
    "optimize_for_inference",
    "use_mkldnn_convs",
]

_CONVS = (nn.Conv2d, nn.ConvTranspose2d)


@torch.no_grad()
def randomise_batchnorm(model: nn.Module, seed: int = 0) -> nn.Module:
    """Give every ``BatchNorm2d`` trained-looking, seeded statistics and affine parameters
    (a fresh BN is the identity in eval mode, which would let a wrong fold pass unnoticed).
    For tests, benches and exercise checks; returns ``model`` (changed in place)."""
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            n = m.num_features
            m.running_mean.copy_(0.1 * torch.randn(n, generator=g))
            m.running_var.copy_(0.5 + torch.rand(n, generator=g))
            m.weight.copy_(0.5 + torch.rand(n, generator=g))
            m.bias.copy_(0.1 * torch.randn(n, generator=g))
    return model


@torch.no_grad()
def fold_conv_bn(conv: nn.Conv2d | nn.ConvTranspose2d, bn: nn.BatchNorm2d) -> None:
    """Fold an eval-mode ``bn`` that directly follows ``conv`` into ``conv``'s weight and bias
    (in place; ``conv`` gains a bias if it had none). ``bn`` must then be skipped."""
    if bn.running_mean is None or bn.running_var is None:
        raise ValueError("bn: needs running statistics (track_running_stats=True) to fold")
    if conv.out_channels != bn.num_features:
        raise ValueError(f"bn: {bn.num_features} features after a conv with "
                         f"{conv.out_channels} output channels")  # fmt: skip
    scale = torch.rsqrt(bn.running_var + bn.eps)
    if bn.weight is not None:
        scale = scale * bn.weight
    shift = -bn.running_mean * scale if bn.bias is None else bn.bias - bn.running_mean * scale
    w = conv.weight
    if isinstance(conv, nn.ConvTranspose2d):  # weight (cin, cout / groups, kh, kw)
        g = conv.groups
        w.copy_((w.view(g, w.shape[0] // g, w.shape[1], *w.shape[2:])
                 * scale.view(g, 1, -1, 1, 1)).view_as(w))  # fmt: skip
    else:  # weight (cout, cin / groups, kh, kw)
        w.mul_(scale.view(-1, 1, 1, 1))
    if conv.bias is None:
        conv.bias = nn.Parameter(shift.clone(), requires_grad=w.requires_grad)
    else:
        conv.bias.copy_(conv.bias * scale + shift)


def _sequential_pairs(model: nn.Module) -> list[tuple[str, str]]:
    """(conv name, BN name) for every BN that directly follows a conv in an ``nn.Sequential``
    — always safe: inside a Sequential the conv's output goes to the BN only."""
    pairs = []
    for prefix, module in model.named_modules():
        if not isinstance(module, nn.Sequential):
            continue
        children = list(module.named_children())
        for (a, first), (b, second) in zip(children, children[1:], strict=False):
            if isinstance(first, _CONVS) and isinstance(second, nn.BatchNorm2d):
                dot = f"{prefix}." if prefix else ""
                pairs.append((dot + a, dot + b))
    return pairs


class _UseCounter(TorchDispatchMode):
    """Counts, per tensor, how many aten ops read it (metadata queries don't dispatch)."""

    def __init__(self, watched: dict[int, str]) -> None:
        super().__init__()
        self.watched, self.uses = watched, {}

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        flat = [*args, *(kwargs or {}).values()]
        while flat:
            a = flat.pop()
            if isinstance(a, (list, tuple)):
                flat.extend(a)
            elif isinstance(a, torch.Tensor) and id(a) in self.watched:
                self.uses[id(a)] = self.uses.get(id(a), 0) + 1
        return func(*args, **(kwargs or {}))


@torch.no_grad()
def _traced_pairs(model: nn.Module, example_input) -> list[tuple[str, str]]:
    """(conv, BN) pairs seen in one forward pass: the BN's input is the conv's output tensor,
    unmodified (same version), read by no other op, and each module runs exactly once."""
    names = {m: n for n, m in model.named_modules()}
    calls: dict[str, int] = {}
    conv_out: dict[int, tuple[str, torch.Tensor, int]] = {}  # id → (conv, tensor, version)
    bn_in: dict[str, tuple[torch.Tensor, int]] = {}  # BN name → (input, its version)
    counter = _UseCounter({})

    def after_conv(module, inputs, output):
        calls[names[module]] = calls.get(names[module], 0) + 1
        conv_out[id(output)] = (names[module], output, output._version)
        counter.watched[id(output)] = names[module]

    def before_bn(module, inputs):
        calls[names[module]] = calls.get(names[module], 0) + 1
        bn_in[names[module]] = (inputs[0], inputs[0]._version)  # held: ids stay unique

    hooks = []
    for m in model.modules():
        if isinstance(m, _CONVS):
            hooks.append(m.register_forward_hook(after_conv))
        elif isinstance(m, nn.BatchNorm2d):
            hooks.append(m.register_forward_pre_hook(before_bn))
    try:
        with counter:
            model(example_input)
    finally:
        for h in hooks:
            h.remove()
    pairs = []
    for bn_name, (tensor, version) in bn_in.items():
        tid = id(tensor)
        if tid not in conv_out:
            continue
        conv_name, _, conv_version = conv_out[tid]
        if (version == conv_version and counter.uses.get(tid) == 1
                and calls[conv_name] == 1 and calls[bn_name] == 1):  # fmt: skip
            pairs.append((conv_name, bn_name))
    return pairs


def _set_submodule(model: nn.Module, name: str, module: nn.Module) -> None:
    parent, _, attr = name.rpartition(".")
    setattr(model.get_submodule(parent) if parent else model, attr, module)


def fold_batchnorm(model: nn.Module, example_input: torch.Tensor | None = None) -> nn.Module:
    """A copy of ``model`` in eval mode with every Conv2d/ConvTranspose2d → BatchNorm2d pair
    folded into the convolution and the BN replaced by ``nn.Identity``.

    Pairs are found structurally — a BN right after a conv in an ``nn.Sequential`` (Lightweight
    OpenPose, VGG/MobileNet trunks, SimpleBaseline's deconvolutions) — and, when
    ``example_input`` is given, also by running the model once and watching which BN reads a
    conv's output and nothing else does (ResNet blocks' ``conv1`` → ``bn1``). BNs that follow
    something else (pre-activation blocks: BN → ReLU → conv) stay.

    Args:
        model: any module; not modified.
        example_input: optional input batch for the traced search.
    Returns:
        the folded copy (eval mode); its eval-mode outputs equal the original's up to float
        rounding (≈ 1e-6 relative).
    """
    folded = copy.deepcopy(model).eval()
    pairs = dict(_sequential_pairs(folded))
    if example_input is not None:
        pairs.update(_traced_pairs(folded, example_input))
    for conv_name, bn_name in pairs.items():
        fold_conv_bn(folded.get_submodule(conv_name), folded.get_submodule(bn_name))
        _set_submodule(folded, bn_name, nn.Identity())
    return folded


class MkldnnConv2d(nn.Module):
    """Inference-only ``Conv2d`` [+ ReLU] run by oneDNN directly, on channels-last tensors,
    with its weights re-laid-out ("pre-packed") once per input shape.

    Eager ``Conv2d`` on CPU re-orders its weights into oneDNN's blocked layout on every call,
    sends batch-1 1×1 convolutions to a slower GEMM path, and runs the ReLU as a separate pass
    over the output. This module calls the oneDNN convolution that ``torch.compile``'s CPU
    backend uses (``torch.ops.mkldnn._convolution_pointwise``, ReLU fused as a post-op) with
    weights packed for the input shape at hand (a weight packed for one shape is *slower* at
    another, so the packs are cached per shape, ``max_cached`` at most). No autograd: use under
    ``torch.inference_mode()`` (inputs that are not float32 CPU tensors, or that require
    grad, take plain ``F.conv2d``). Shapes: as the ``Conv2d`` it replaces; output
    channels-last.
    """

    def __init__(self, conv: nn.Conv2d, relu: bool = False, max_cached: int = 4) -> None:
        super().__init__()
        self.padding, self.stride = list(conv.padding), list(conv.stride)
        self.dilation, self.groups = list(conv.dilation), conv.groups
        weight = conv.weight.detach().contiguous(memory_format=torch.channels_last)
        self.register_buffer("weight", weight)
        self.register_buffer("bias", None if conv.bias is None else conv.bias.detach().clone())
        self.relu, self.max_cached = relu, max_cached
        self._packed: dict[tuple[int, ...], torch.Tensor] = {}

    def _packed_weight(self, shape: tuple[int, ...]) -> torch.Tensor:
        packed = self._packed.get(shape)
        if packed is None:
            if len(self._packed) >= self.max_cached:
                self._packed.pop(next(iter(self._packed)))
            packed = torch.ops.mkldnn._reorder_convolution_weight(
                self.weight, self.padding, self.stride, self.dilation, self.groups, list(shape)
            )
            self._packed[shape] = packed
        return packed

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dtype != torch.float32 or x.device.type != "cpu" or x.requires_grad:
            y = F.conv2d(x, self.weight.to(x.dtype), self.bias, self.stride, self.padding,
                         self.dilation, self.groups)  # fmt: skip
            return F.relu(y) if self.relu else y
        x = x.contiguous(memory_format=torch.channels_last)
        attr = "relu" if self.relu else "none"
        return torch.ops.mkldnn._convolution_pointwise(
            x, self._packed_weight(tuple(x.shape)), self.bias, self.padding, self.stride,
            self.dilation, self.groups, attr, [], "",
        )  # fmt: skip

    def __deepcopy__(self, memo):  # packed (opaque oneDNN) weights are a cache: not copied
        packed, self._packed = self._packed, {}
        try:
            clone = copy.copy(self)
            clone.__dict__ = copy.deepcopy(self.__dict__, memo)
        finally:
            self._packed = packed
        return clone

    def extra_repr(self) -> str:
        w = self.weight.shape
        return (f"{w[1] * self.groups}, {w[0]}, kernel_size={tuple(w[2:])}, stride="
                f"{tuple(self.stride)}, padding={tuple(self.padding)}, dilation="
                f"{tuple(self.dilation)}, groups={self.groups}, relu={self.relu}")  # fmt: skip


def mkldnn_available() -> bool:
    """Whether ``MkldnnConv2d`` can run here (a CPU build of torch with oneDNN)."""
    ops = getattr(torch.ops, "mkldnn", None)
    return (torch.backends.mkldnn.is_available()
            and hasattr(ops, "_convolution_pointwise")
            and hasattr(ops, "_reorder_convolution_weight"))  # fmt: skip


def _swappable(conv: nn.Module) -> bool:
    return (type(conv) is nn.Conv2d and conv.padding_mode == "zeros"
            and not isinstance(conv.padding, str) and conv.weight.dtype == torch.float32
            and conv.weight.device.type == "cpu")  # fmt: skip


def use_mkldnn_convs(model: nn.Module) -> nn.Module:
    """Replace (in place) every float32 CPU ``Conv2d`` by a ``MkldnnConv2d``; a ``ReLU`` that
    follows a conv in an ``nn.Sequential`` (``Identity``s in between allowed, e.g. a folded BN)
    is fused into it and becomes ``Identity``. Returns ``model``."""
    for seq in [m for m in model.modules() if isinstance(m, nn.Sequential)]:
        children = list(seq.named_children())
        for i, (name, child) in enumerate(children):
            if not _swappable(child):
                continue
            j = i + 1
            while j < len(children) and isinstance(children[j][1], nn.Identity):
                j += 1
            relu = j < len(children) and type(children[j][1]) is nn.ReLU
            setattr(seq, name, MkldnnConv2d(child, relu=relu))
            if relu:
                setattr(seq, children[j][0], nn.Identity())
    for name, child in list(model.named_modules()):
        if name and _swappable(child):
            _set_submodule(model, name, MkldnnConv2d(child))
    return model


def optimize_for_inference(
    model: nn.Module, example_input: torch.Tensor | None = None, mkldnn: bool | None = None
) -> nn.Module:
    """An inference copy of ``model``: eval mode, BatchNorm folded (``fold_batchnorm``),
    parameters frozen, channels-last (NHWC) memory, and — on CPU with oneDNN — convolutions
    run by ``MkldnnConv2d`` (weights pre-packed per input shape, ReLU fused).

    Args:
        model: not modified.
        example_input: optional batch, lets ``fold_batchnorm`` find conv → BN pairs outside
            ``nn.Sequential`` containers (ResNet blocks).
        mkldnn: use ``MkldnnConv2d`` (default: when ``mkldnn_available()``).
    Returns:
        the copy; its outputs equal the eval-mode model's within 1e-4 (≈ 1e-7 relative).
        Inputs may stay NCHW. Run it under ``torch.inference_mode()``; the first call at a new
        input shape packs the weights (slower). ``posekit bench latency`` measures the gain.
    """
    fast = fold_batchnorm(model, example_input)
    for p in fast.parameters():
        p.requires_grad_(False)
    fast = fast.to(memory_format=torch.channels_last)
    if mkldnn is None:
        mkldnn = mkldnn_available()
    return use_mkldnn_convs(fast) if mkldnn else fast
