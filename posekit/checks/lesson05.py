"""Checks for lesson 05 "EfficientPose: scalable, efficient networks".

Exercise 5.1 ``eswish`` (E-swish, ``β · x · sigmoid(x)``: Alcaide 2018, "E-swish: Adjusting
activations to different network depths"; EfficientPose's detection passes use β = 1.25,
Groos, Ramampiaro & Ihlen 2021, "EfficientPose: Scalable single-person pose estimation"),
5.2 ``mbconv_se`` (the forward pass of EfficientNet's block: MobileNetV2's inverted residual
with a linear bottleneck, Sandler et al. 2018, "MobileNetV2: Inverted residuals and linear
bottlenecks", plus squeeze-and-excitation, Hu, Shen & Sun 2018, "Squeeze-and-excitation
networks") and 5.3 the compound-scaling calculator (Tan & Le 2019, "EfficientNet: Rethinking
model scaling for convolutional neural networks"): ``compound_multipliers`` (φ → depth,
width, resolution multipliers and FLOPs ratio), ``round_filters`` (channels to a multiple of
8, TensorFlow's rule) and ``round_repeats`` (blocks per stage, rounded up).

Each check compares the student's function with posekit's reference (``posekit.models.
efficientpose.eswish``, ``posekit.models.efficientnet.MBConv``, ``round_filters`` and
``round_repeats``, which the tests verify) on small cases first, then recognises the classic
mistakes — β inside the sigmoid, β forgotten, the sigmoid's sign, ReLU; a residual added to
a block whose output has another shape, a missing residual, the squeeze on the wrong axes, a
gate without sigmoid, an activation after the projection; the FLOPs ratio without the
squares, rounding down, the missing 90 % rule, the depth rounded down — by recomputing the
answer with that mistake.

``scaling_table()`` sets the calculator's predictions beside the published B0 … B7 and
posekit's measured multiply-accumulates: the released B1–B7 use the authors' hand-rounded
multipliers (``posekit.models.efficientnet.VARIANTS``), not ``α^φ, β^φ, γ^φ``.

Conventions: feature maps are ``(B, C, H, W)`` float32 tensors; BatchNorm layers are in eval
mode (running statistics).
"""

from __future__ import annotations

import functools
import math
import numbers
import re
from collections.abc import Callable
from functools import partial

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from posekit.checks import Case, check_function, register_reference
from posekit.checks._compare import format_value, shape_str, type_name
from posekit.checks.diagnose import close, mistake
from posekit.models.efficientnet import (
    ALPHA,
    BETA,
    GAMMA,
    VARIANTS,
    Conv2dSame,
    MBConv,
    SqueezeExcitation,
    efficientnet,
)
from posekit.models.efficientnet import round_filters as _round_filters
from posekit.models.efficientnet import round_repeats as _round_repeats
from posekit.models.efficientpose import ESWISH_BETA, ESwish
from posekit.models.efficientpose import eswish as _eswish
from posekit.models.optimize import randomise_batchnorm

__all__ = [
    "check_compound_multipliers",
    "check_eswish",
    "check_mbconv_se",
    "check_round_filters",
    "check_round_repeats",
    "format_scaling_table",
    "mbconv_layers",
    "reference_compound_multipliers",
    "reference_eswish",
    "reference_mbconv_se",
    "reference_round_filters",
    "reference_round_repeats",
    "scaling_table",
]

# ----------------------------------------------------------------- helpers


def _real(value, arg: str, positive: bool = False) -> float:
    """``value`` as a finite float (``positive``: > 0); ValueError naming ``arg`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{arg}: expected a number, got {type_name(value)}")
    v = float(value)
    if not math.isfinite(v) or (positive and v <= 0):
        raise ValueError(f"{arg}: expected a finite{' positive' if positive else ''} number, "
                         f"got {value!r}")  # fmt: skip
    return v


def _mistake(hint: str, wrong: Callable) -> Callable:
    """``diagnose.mistake`` for cases whose ``ctx["inputs"]`` holds ``(args, kwargs)``."""
    return mistake(hint, lambda args, kwargs: wrong(*args, **kwargs))


def _case(args: tuple, label: str, **kwargs) -> Case:
    return Case(args, kwargs, label=label, ctx={"inputs": (args, kwargs)})


def _with_history(cases: list[Case]) -> list[Case]:
    """Each case's ``ctx["earlier"]``: the inputs of the cases before it (which a failing
    function passed)."""
    for i, case in enumerate(cases):
        case.ctx["earlier"] = [c.ctx["inputs"] for c in cases[:i]]
    return cases


def _consistent_mistake(hint: str, wrong: Callable, reference: Callable) -> Callable:
    """``_mistake`` that also needs ``wrong`` to agree with ``reference`` on the earlier cases
    (the student passed them), so that of two mistakes giving the same wrong number here only
    the one the earlier cases allow is named."""
    here = _mistake(hint, wrong)

    def diagnosis(expected, got, inputs=None, earlier=(), **ctx):
        for args, kwargs in earlier:
            if wrong(*args, **kwargs) != reference(*args, **kwargs):
                return None
        return here(expected, got, inputs=inputs, **ctx)

    return diagnosis


def _randn(seed: int, *shape: int) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


# ----------------------------------------------------------------- Exercise 5.1


def reference_eswish(x, beta=ESWISH_BETA):
    """E-swish (Alcaide 2018): ``β · x · sigmoid(x)``, element-wise.

    Args:
        x: a float tensor of any shape (an array is converted with ``torch.as_tensor``).
        beta: the scale β (a finite number); 1 gives swish (``F.silu``), EfficientPose's
            detection passes use 1.25 (Groos et al. 2021).
    Returns:
        a tensor of ``x``'s shape and dtype: ``β · x · sigmoid(x)``
        (``posekit.models.efficientpose.eswish``). For large negative ``x`` it tends to 0,
        for large positive ``x`` to ``β · x``; ``sigmoid`` keeps it finite everywhere.
    """
    if not isinstance(x, torch.Tensor):
        try:
            x = torch.as_tensor(np.asarray(x, dtype=np.float32))
        except (TypeError, ValueError) as err:
            raise ValueError(f"x: expected a float tensor, got {type_name(x)}") from err
    if not x.is_floating_point():
        raise ValueError(f"x: expected a float tensor, got dtype {x.dtype}")
    return _eswish(x, _real(beta, "beta"))


def _overflow_nan(expected, got, inputs=None, **ctx):
    """NaN where the right answer is finite, at large |x|: exp(x) overflowed."""
    if inputs is None or expected.shape != got.shape:
        return None
    (x, *_), _ = inputs
    bad = np.isnan(got) & np.isfinite(expected)
    if not bad.any() or np.abs(np.asarray(x, np.float64)[bad]).min() < 20:
        return None
    return (
        "Your output is NaN for large |x|: exp(x) overflows to inf (float32 stops near "
        "x = 88) and inf / inf is NaN. Use torch.sigmoid(x), which stays finite everywhere."
    )


_ESWISH_DIAGNOSES = [
    _overflow_nan,
    _mistake(
        "β is inside the sigmoid: x · sigmoid(βx) is Swish-β (Ramachandran et al. 2017, "
        '"Searching for activation functions"). E-swish scales the whole swish: '
        "β · x · sigmoid(x).",
        lambda x, beta=ESWISH_BETA: x * torch.sigmoid(beta * x),
    ),
    _mistake(
        "β is missing: x · sigmoid(x) is plain swish (β = 1). E-swish multiplies it by β: "
        "β · x · sigmoid(x).",
        lambda x, beta=ESWISH_BETA: x * torch.sigmoid(x),
    ),
    _mistake(
        "β is applied twice, outside and inside the sigmoid: E-swish is β · x · sigmoid(x), "
        "with sigmoid(x), not sigmoid(βx).",
        lambda x, beta=ESWISH_BETA: beta * x * torch.sigmoid(beta * x),
    ),
    _mistake(
        "The factor x is missing: β · sigmoid(x) is a scaled sigmoid. E-swish multiplies the "
        "sigmoid by x itself: β · x · sigmoid(x).",
        lambda x, beta=ESWISH_BETA: beta * torch.sigmoid(x),
    ),
    _mistake(
        "The sigmoid's sign is flipped: sigmoid(x) = 1 / (1 + exp(-x)), with a minus. "
        "1 / (1 + exp(x)) is sigmoid(-x).",
        lambda x, beta=ESWISH_BETA: beta * x * torch.sigmoid(-x),
    ),
    _mistake(
        "That is β · ReLU(x): E-swish is smooth, β · x · sigmoid(x) — small negative x give "
        "small negative outputs instead of 0.",
        lambda x, beta=ESWISH_BETA: beta * torch.relu(x),
    ),
    _mistake(
        "That is ReLU(x): E-swish is β · x · sigmoid(x) (torch.sigmoid), smooth and scaled by β.",
        lambda x, beta=ESWISH_BETA: torch.relu(x),
    ),
]


def _eswish_cases() -> list[Case]:
    ramp = torch.linspace(-4.0, 4.0, 9)
    return [
        _case((ramp, 1.25), "9 values from -4 to 4, β = 1.25"),
        _case((3 * _randn(50, 2, 3, 4, 4), 1.25), "a (2, 3, 4, 4) feature map, β = 1.25"),
        _case((2 * _randn(51, 5, 6), 1.75), "a (5, 6) tensor, β = 1.75"),
        _case((2 * _randn(52, 7), 1.0), "β = 1: plain swish"),
        _case(
            (torch.tensor([-200.0, -90.0, -30.0, 30.0, 90.0, 200.0]), 1.25),
            "large |x| (exp(x) overflows float32 past 88)",
        ),
        _case((_randn(53, 3, 5).double(),), "float64, β left at its default 1.25"),
    ]


def check_eswish(fn):
    """Exercise 5.1: E-swish ``β · x · sigmoid(x)`` on tensors (β = 1.25 by default)."""
    return check_function(
        fn,
        "eswish",
        _eswish_cases(),
        reference=reference_eswish,
        forbid=(_eswish, ESwish),
        diagnoses=_ESWISH_DIAGNOSES,
        atol=1e-5,
    )


# ----------------------------------------------------------------- Exercise 5.2


def mbconv_layers(block: MBConv) -> dict[str, nn.Module | tuple[nn.Module, nn.Module]]:
    """The layers of posekit's ``MBConv`` (with expansion and SE) by role, as
    ``mbconv_se(x, **mbconv_layers(block))`` takes them: ``expand``, ``depthwise`` and
    ``project`` are ``(conv, bn)`` pairs, ``se_reduce`` and ``se_expand`` the SE's two 1×1
    convolutions (with bias)."""
    if not isinstance(block, MBConv):
        raise ValueError(f"block: expected posekit's MBConv, got {type_name(block)}")
    layers = list(block.block)
    if len(layers) != 4:
        raise ValueError("block: expected an MBConv with expansion and squeeze-and-excitation "
                         "(expand != 1, se_ratio > 0)")  # fmt: skip
    expand, depthwise, se, project = layers
    return {
        "expand": (expand[0], expand[1]),
        "depthwise": (depthwise[0], depthwise[1]),
        "se_reduce": se.fc1,
        "se_expand": se.fc2,
        "project": (project[0], project[1]),
    }


def _mbconv(
    x, expand, depthwise, se_reduce, se_expand, project, *, residual="auto", act="silu",
    no_act=None, squeeze="hw", se_act="silu", gate="sigmoid", act_after_project=False,
    act_after_sum=False,
):  # fmt: skip
    """MBConv + SE forward with the right recipe or one of the classic mistakes."""
    activation = {"silu": F.silu, "relu6": F.relu6, "relu": F.relu}[act]
    h = expand[1](expand[0](x))
    h = h if no_act == "expand" else activation(h)
    h = depthwise[1](depthwise[0](h))
    h = h if no_act == "depthwise" else activation(h)
    if squeeze == "hw":
        s = h.mean((2, 3), keepdim=True)
    elif squeeze == "max":
        s = h.amax((2, 3), keepdim=True)
    elif squeeze == "w":
        s = h.mean(3, keepdim=True)
    elif squeeze == "h":
        s = h.mean(2, keepdim=True)
    else:  # "none": a per-pixel gate
        s = h
    s = se_expand({"silu": F.silu, "relu": F.relu}[se_act](se_reduce(s)))
    h = h * (torch.sigmoid(s) if gate == "sigmoid" else s)
    out = project[1](project[0](h))
    if act_after_project:
        out = activation(out)
    add = out.shape == x.shape if residual == "auto" else residual == "always"
    if add:
        out = out + x
        if act_after_sum:
            out = activation(out)
    return out


def reference_mbconv_se(x, expand, depthwise, se_reduce, se_expand, project):
    """EfficientNet's MBConv block with squeeze-and-excitation, forward pass (eval mode).

    ::

        h = swish(BN(conv1×1(x)))              expand: cin → hidden = expand ratio · cin
        h = swish(BN(depthwise k×k, stride s))  (B, hidden, H/s, W/s)
        g = sigmoid(fc2(swish(fc1(mean over H×W of h))))   (B, hidden, 1, 1)
        h = h · g                               squeeze-and-excitation (Hu et al. 2018)
        out = BN(conv1×1(h))                    project: hidden → cout, no activation
        out = out + x   only when stride = 1 and cin = cout (out and x have one shape)

    (Tan & Le 2019; the linear bottleneck and inverted residual of Sandler et al. 2018.)
    swish(z) = z · sigmoid(z) = ``F.silu``.

    Args:
        x: ``(B, cin, H, W)`` float tensor.
        expand, depthwise, project: ``(conv, bn)`` pairs: a bias-free ``nn.Conv2d`` and its
            ``nn.BatchNorm2d`` (eval mode). The depthwise conv has ``groups = hidden`` and
            holds the block's stride (``depthwise[0].stride``, a tuple such as ``(2, 2)``).
        se_reduce, se_expand: the SE's 1×1 ``nn.Conv2d`` with bias, ``hidden → squeeze →
            hidden``.
    Returns:
        ``(B, cout, H', W')`` with ``H' = (H + 2·(k // 2) − k) // s + 1`` (``H / s`` rounded
        up for odd k), the output of posekit's ``MBConv`` in eval mode (drop-connect off).
    """
    if not isinstance(x, torch.Tensor) or x.ndim != 4:
        got = f"shape {shape_str(x.shape)}" if isinstance(x, torch.Tensor) else type_name(x)
        raise ValueError(f"x: expected a (B, cin, H, W) tensor, got {got}")
    for name, pair in (("expand", expand), ("depthwise", depthwise), ("project", project)):
        if not (
            isinstance(pair, (tuple, list))
            and len(pair) == 2
            and isinstance(pair[0], nn.Conv2d)
            and isinstance(pair[1], nn.BatchNorm2d)
        ):
            raise ValueError(f"{name}: expected a (nn.Conv2d, nn.BatchNorm2d) pair, "
                             f"got {format_value(pair)}")  # fmt: skip
    for name, conv in (("se_reduce", se_reduce), ("se_expand", se_expand)):
        if not isinstance(conv, nn.Conv2d):
            raise ValueError(f"{name}: expected an nn.Conv2d, got {type_name(conv)}")
    if x.shape[1] != expand[0].in_channels:
        raise ValueError(f"x: {x.shape[1]} channels, but the expansion conv takes "
                         f"{expand[0].in_channels}")  # fmt: skip
    return _mbconv(x, expand, depthwise, se_reduce, se_expand, project)


def _variant(**options) -> Callable:
    return lambda *args: _mbconv(*args, **options)


_MBCONV_DIAGNOSES = [
    _mistake(
        "The residual is missing: when the block keeps the shape (stride 1 and cin == cout) "
        "its output is out + x. (Careful: conv.stride is a tuple, (1, 1), never equal to 1; "
        "comparing out.shape == x.shape is the simplest test.)",
        _variant(residual="never"),
    ),
    _mistake(
        "There is an activation after the projection: the 1×1 projection is linear "
        "(BN, no swish) — the linear bottleneck of MobileNetV2 (Sandler et al. 2018): a "
        "non-linearity in the narrow space destroys information.",
        _variant(act_after_project=True),
    ),
    _mistake(
        "There is an activation after the residual sum: the block returns BN(project(h)) + x "
        "with nothing after the sum (the linear bottleneck of MobileNetV2).",
        _variant(act_after_sum=True),
    ),
    _mistake(
        "The SE gate has no sigmoid: the excitation is sigmoid(fc2(swish(fc1(squeeze)))), a "
        "weight in (0, 1) per channel that multiplies h.",
        _variant(gate="none"),
    ),
    _mistake(
        "The squeeze averages over the width only: SE's squeeze is the global average over "
        "H × W, h.mean((2, 3), keepdim=True) → (B, hidden, 1, 1), one number per channel.",
        _variant(squeeze="w"),
    ),
    _mistake(
        "The squeeze averages over the height only: SE's squeeze is the global average over "
        "H × W, h.mean((2, 3), keepdim=True) → (B, hidden, 1, 1), one number per channel.",
        _variant(squeeze="h"),
    ),
    _mistake(
        "The squeeze is missing: you gated each pixel with fc2(swish(fc1(h))). SE first "
        "averages h over H × W (h.mean((2, 3), keepdim=True)), so the gate is one weight per "
        "channel, computed from the whole image.",
        _variant(squeeze="none"),
    ),
    _mistake(
        "The squeeze takes the maximum: SE's squeeze is global *average* pooling, "
        "h.mean((2, 3), keepdim=True).",
        _variant(squeeze="max"),
    ),
    _mistake(
        "The SE's inner activation is ReLU (Hu et al. 2018's original): EfficientNet uses "
        "swish there too, sigmoid(fc2(swish(fc1(s)))).",
        _variant(se_act="relu"),
    ),
    _mistake(
        "You used ReLU6, MobileNetV2's activation: EfficientNet's MBConv uses swish "
        "(F.silu) after the expansion and after the depthwise convolution.",
        _variant(act="relu6"),
    ),
    _mistake(
        "The activation after the expansion is missing: h = swish(BN(conv1×1(x))).",
        _variant(no_act="expand"),
    ),
    _mistake(
        "The activation after the depthwise convolution is missing: h = swish(BN(depthwise(h))).",
        _variant(no_act="depthwise"),
    ),
]


def _mbconv_inputs(seed, cin, cout, kernel, stride, expand, size, batch=1) -> tuple:
    torch.manual_seed(seed)
    block = randomise_batchnorm(MBConv(cin, cout, kernel, stride, expand), seed).eval()
    for p in block.parameters():
        p.requires_grad_(False)
    layers = mbconv_layers(block)
    x = _randn(seed, batch, cin, *size)
    return (x, *layers.values())


def _mbconv_cases() -> list[Case]:
    return [
        _case(_mbconv_inputs(60, 8, 8, 3, 1, 4, (5, 5)), "8 → 8 channels, stride 1: residual"),
        _case(_mbconv_inputs(61, 8, 12, 3, 1, 4, (5, 5)), "8 → 12 channels: no residual"),
        _case(_mbconv_inputs(62, 8, 8, 3, 2, 4, (6, 6)), "stride 2: no residual"),
        _case(
            _mbconv_inputs(63, 12, 12, 5, 1, 6, (6, 7), 2),
            "batch of 2, 12 channels, k 5, 6 × 7: residual",
        ),
        _case(_mbconv_inputs(64, 12, 16, 5, 2, 6, (7, 9)), "12 → 16, stride 2, k 5, 7 × 9"),
    ]


_BROADCAST = re.compile(r"must match the size of tensor b")
_ONE_CHANNEL = re.compile(r"to have (\d+) channels, but got 1 channels")
_NOT_4D = re.compile(r"Expected 3D \(unbatched\) or 4D \(batched\) input to conv2d, but got "
                     r"input of size: \[\d+, \d+\]")  # fmt: skip


def _explain_error(err: RuntimeError, x, expected_shape) -> str | None:
    """A short explanation of the torch error a classic MBConv mistake raises, or None."""
    text = str(err)
    if _BROADCAST.search(text) and tuple(x.shape) != tuple(expected_shape):
        return (
            f"it looks like you added the residual, but here the block's output "
            f"{shape_str(expected_shape)} and x {shape_str(x.shape)} differ in shape: add x "
            f"only when stride == 1 and cin == cout (out.shape == x.shape)"
        )
    if _ONE_CHANNEL.search(text):
        return (
            "the squeeze averaged over the channels: SE averages over H × W, "
            "h.mean((2, 3), keepdim=True) → (B, hidden, 1, 1)"
        )
    if _NOT_4D.search(text):
        return (
            "the squeeze lost the H, W axes: fc1/fc2 are 1×1 convs that need (B, hidden, 1, 1), "
            "so keep them with h.mean((2, 3), keepdim=True)"
        )
    return None


def _output_shape(x, expand, depthwise, se_reduce, se_expand, project) -> tuple[int, ...]:
    """The block's output shape, from the layers (without running posekit's block: this
    runs inside the student's call, where the reference is off limits)."""
    conv = depthwise[0]
    h, w = x.shape[-2:]
    if isinstance(conv, Conv2dSame):  # TensorFlow's "same" padding
        size = [-(-n // s) for n, s in zip((h, w), conv.stride, strict=True)]
    else:
        size = [
            (n + 2 * p - d * (k - 1) - 1) // s + 1
            for n, k, s, p, d in zip(
                (h, w), conv.kernel_size, conv.stride, conv.padding, conv.dilation, strict=True
            )
        ]
    return (x.shape[0], project[0].out_channels, *size)


def _explained(fn: Callable) -> Callable:
    """``fn`` with the torch errors of the classic MBConv mistakes explained in their message
    (the check prints the message; the student's line stays in the traceback)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except RuntimeError as err:
            try:
                why = _explain_error(err, args[0], _output_shape(*args, **kwargs))
            except Exception:
                why = None
            if why:
                err.args = (f"{why} (torch: {err})",)
            raise

    return wrapper


def check_mbconv_se(fn):
    """Exercise 5.2: the forward pass of an MBConv block with squeeze-and-excitation.

    ``fn(x, expand, depthwise, se_reduce, se_expand, project)`` as ``reference_mbconv_se``;
    the layers come from a posekit ``MBConv`` with random weights and BN statistics."""
    return check_function(
        _explained(fn) if callable(fn) else fn,
        "mbconv_se",
        _mbconv_cases(),
        reference=reference_mbconv_se,
        forbid=(MBConv, SqueezeExcitation),
        diagnoses=_MBCONV_DIAGNOSES,
        atol=1e-4,
    )


# ----------------------------------------------------------------- Exercise 5.3


def reference_compound_multipliers(phi, alpha=ALPHA, beta=BETA, gamma=GAMMA):
    """Compound scaling (Tan & Le 2019, §3.3): one coefficient φ scales all three dimensions.

    Args:
        phi: the compound coefficient φ (a real number; B0 is φ = 0).
        alpha, beta, gamma: the bases for depth, width and resolution (the paper's grid
            search on B0: 1.2, 1.1, 1.15, chosen so that α · β² · γ² ≈ 2).
    Returns:
        ``(depth, width, resolution, flops)`` floats: the multipliers ``α^φ`` (layers),
        ``β^φ`` (channels) and ``γ^φ`` (input side), and the FLOPs ratio to B0,
        ``(α · β² · γ²)^φ`` — FLOPs grow linearly with depth but quadratically with width
        (a conv's cost is ``cin · cout``) and with resolution (``H · W``); ≈ ``2^φ`` (exactly
        ``1.9203^φ`` with the paper's bases).
    """
    phi = _real(phi, "phi")
    a, b, g = (_real(v, n, positive=True) for v, n in ((alpha, "alpha"), (beta, "beta"),
                                                          (gamma, "gamma")))  # fmt: skip
    return (a**phi, b**phi, g**phi, (a * b * b * g * g) ** phi)


def _multipliers(phi, alpha=ALPHA, beta=BETA, gamma=GAMMA, *, flops="squares", linear=False,
                 swap=False, pixels=False):  # fmt: skip
    """``(depth, width, resolution, flops)`` with the right recipe or a classic mistake."""
    a, b, g = alpha, beta, gamma
    if swap:
        b, g = g, b
    power = (lambda base: base * phi) if linear else (lambda base: base**phi)
    d, w, r = power(a), power(b), power(g)
    if pixels:
        r = 224 * r
    ratio = {"squares": a * b * b * g * g, "none": a * b * g, "depth": a * a * b * g,
             "two": 2.0}[flops] ** phi  # fmt: skip
    return (d, w, r, ratio)


def _item_mistake(hint: str, **options) -> Callable:
    """A diagnosis for a tuple output: the checker compares the first item that differs, so
    the hint fires when that item equals the mistaken version's."""

    def diagnosis(expected, got, inputs=None, **ctx):
        if inputs is None:
            return None
        args, kwargs = inputs
        ref = _multipliers(*args, **kwargs)
        mis = _multipliers(*args, **kwargs, **options)
        for r, m in zip(ref, mis, strict=True):
            r, m = np.float64(r), np.float64(m)
            if not close(r, m, ctx):
                return hint if close(expected, r, ctx) and close(got, m, ctx) else None
        return None

    return diagnosis


_MULTIPLIER_DIAGNOSES = [
    _item_mistake(
        "The FLOPs ratio forgot the squares: a conv's cost grows with cin · cout (width²) and "
        "with H · W (resolution²), so the ratio is (α · β² · γ²)^φ, not (α · β · γ)^φ.",
        flops="none",
    ),
    _item_mistake(
        "The squares are on the wrong factor: depth adds layers (cost × α), width and "
        "resolution each enter twice: (α · β² · γ²)^φ.",
        flops="depth",
    ),
    _item_mistake(
        "That is the approximation 2^φ: compute (α · β² · γ²)^φ exactly — with the paper's "
        "bases α · β² · γ² = 1.9203, not 2.",
        flops="two",
    ),
    _item_mistake(
        "The multipliers grow linearly (α · φ): compound scaling is exponential, depth = α^φ, "
        "width = β^φ, resolution = γ^φ (α ** phi in Python).",
        linear=True,
    ),
    _item_mistake(
        "Width and resolution are swapped: width (channels) uses β = 1.1, resolution (input "
        "side) γ = 1.15; return (depth, width, resolution, flops).",
        swap=True,
    ),
    _item_mistake(
        "The resolution is in pixels (224 · γ^φ): return the multiplier γ^φ.",
        pixels=True,
    ),
]


def _multiplier_cases() -> list[Case]:
    return [
        _case((1,), "φ = 1"),
        _case((2,), "φ = 2"),
        _case((0,), "φ = 0: B0 itself"),
        _case((7,), "φ = 7"),
        _case((3.5,), "φ = 3.5"),
        _case((2,), "φ = 2 with α = 1.4, β = 1.2, γ = 1.3", alpha=1.4, beta=1.2, gamma=1.3),
    ]


def check_compound_multipliers(fn):
    """Exercise 5.3a: φ → ``(depth, width, resolution, flops)`` multipliers of compound
    scaling (the paper's α = 1.2, β = 1.1, γ = 1.15 by default)."""
    return check_function(
        fn,
        "compound_multipliers",
        _multiplier_cases(),
        reference=reference_compound_multipliers,
        diagnoses=_MULTIPLIER_DIAGNOSES,
        atol=1e-6,
        rtol=1e-6,
    )


def reference_round_filters(channels, width_mult, divisor=8):
    """Channels of a width-scaled layer (TensorFlow's ``round_filters``; torchvision's
    ``_make_divisible``; ``posekit.models.efficientnet.round_filters``).

    ``c = channels · width_mult`` rounded to the *nearest* multiple of ``divisor`` —
    ``max(divisor, int(c + divisor / 2) // divisor · divisor)`` — plus one more ``divisor``
    when that rounding went down by more than 10 % (result < 0.9 · c). Multiples of 8 suit
    the hardware; the 10 % rule keeps small layers from shrinking too much.

    Args:
        channels: the B0 layer's channels (a positive integer).
        width_mult: the width multiplier (> 0).
        divisor: the multiple (a positive integer, 8).
    Returns:
        an ``int``: ``round_filters(40, 1.1) == 48``, ``round_filters(10, 1.1) == 16``.
    """
    for name, v in (("channels", channels), ("divisor", divisor)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{name}: expected a positive integer, got {v!r}")
    return _round_filters(int(channels), _real(width_mult, "width_mult", positive=True),
                          int(divisor))  # fmt: skip


def _filters(channels, width_mult, divisor=8, *, rounding="nearest", rule=True):
    """``round_filters`` with the right recipe or a classic mistake."""
    c = channels * width_mult
    if rounding == "none":
        return c
    new = {
        "nearest": int(c + divisor / 2) // divisor * divisor,
        "down": int(c) // divisor * divisor,
        "up": math.ceil(c / divisor) * divisor,
        "python": round(c / divisor) * divisor,
    }[rounding]
    new = max(divisor, new)
    if rule and new < 0.9 * c:
        new += divisor
    return new


def _filters_variant(**options) -> Callable:
    return lambda *args, **kwargs: _filters(*args, **kwargs, **options)


_FILTER_DIAGNOSES = [
    _consistent_mistake(hint, _filters_variant(**options), reference_round_filters)
    for hint, options in (
        (
            "The channels are rounded down (int(c) // 8 · 8): round to the *nearest* multiple, "
            "int(c + divisor / 2) // divisor · divisor (then the 10 % rule).",
            dict(rounding="down", rule=False),
        ),
        (
            "The channels are rounded down (int(c) // 8 · 8) before the 10 % rule: round to "
            "the *nearest* multiple, int(c + divisor / 2) // divisor · divisor.",
            dict(rounding="down"),
        ),
        (
            "The 10 % rule is missing: when rounding to the nearest multiple went down by more "
            "than 10 % (result < 0.9 · channels · width_mult), add one more divisor.",
            dict(rule=False),
        ),
        (
            "The channels are rounded up (ceil): round to the *nearest* multiple of divisor, "
            "int(c + divisor / 2) // divisor · divisor.",
            dict(rounding="up"),
        ),
        (
            "Python's round() rounds halves to even (round(6.5) == 6): TensorFlow's rule rounds "
            "them up, int(c + divisor / 2) // divisor · divisor.",
            dict(rounding="python"),
        ),
        (
            "Not rounded: channels · width_mult must become a whole multiple of divisor.",
            dict(rounding="none"),
        ),
    )
]


def _whole_number(name: str) -> Callable:
    """A comparison demanding an ``int`` equal to the expected one."""

    def compare(expected, got) -> str | None:
        if got is None:
            return "your function returned None: did you forget the `return` line?"
        if isinstance(got, bool) or not isinstance(got, (int, np.integer)):
            return (f"expected an int ({name} are whole numbers; int(...)), got "
                    f"{format_value(got)}")  # fmt: skip
        if int(got) != int(expected):
            return f"expected {int(expected)}, got {int(got)}"
        return None

    return compare


def _filter_cases() -> list[Case]:
    return _with_history(
        [
            _case((40, 1.1), "40 channels × 1.1 = 44 (B2)"),
            _case((32, 1.8), "stem 32 × 1.8 = 57.6 (B6)"),
            _case((10, 1.1), "10 × 1.1 = 11: the 10 % rule"),
            _case((40, 1.25), "40 × 1.25 = 50"),
            _case((26, 2.0), "26 × 2 = 52: halfway between 48 and 56"),
            _case((100, 1.0), "100 channels, divisor 16", divisor=16),
            _case((1280, 2.0), "the head's 1280 × 2 (B7)"),
        ]
    )


def check_round_filters(fn):
    """Exercise 5.3b: channels × width multiplier to the nearest multiple of 8 (10 % rule)."""
    return check_function(
        fn,
        "round_filters",
        _filter_cases(),
        reference=reference_round_filters,
        forbid=(_round_filters,),
        diagnoses=_FILTER_DIAGNOSES,
        compare=_whole_number("channels"),
    )


def reference_round_repeats(repeats, depth_mult):
    """Blocks of a depth-scaled stage: ``ceil(repeats · depth_mult)`` (TensorFlow's
    ``round_repeats``; ``posekit.models.efficientnet.round_repeats``), an ``int``: a stage
    never loses its last, fractional block (``round_repeats(2, 1.1) == 3``).

    Args:
        repeats: the B0 stage's blocks (a positive integer).
        depth_mult: the depth multiplier (> 0).
    """
    if isinstance(repeats, bool) or not isinstance(repeats, (int, np.integer)) or repeats < 1:
        raise ValueError(f"repeats: expected a positive integer, got {repeats!r}")
    return _round_repeats(int(repeats), _real(depth_mult, "depth_mult", positive=True))


_REPEAT_DIAGNOSES = [
    _consistent_mistake(hint, wrong, reference_round_repeats)
    for hint, wrong in (
        (
            "The repeats are rounded down (int(...) or //): EfficientNet rounds them *up*, "
            "math.ceil(repeats · depth_mult), so a stage never loses its fractional block.",
            lambda n, d: math.floor(n * d),
        ),
        (
            "The repeats are rounded to the nearest integer: EfficientNet rounds them *up*, "
            "math.ceil(repeats · depth_mult).",
            lambda n, d: round(n * d),
        ),
        (
            "Not rounded: a stage has a whole number of blocks, math.ceil(repeats · depth_mult).",
            lambda n, d: n * d,
        ),
    )
]


def _repeat_cases() -> list[Case]:
    return _with_history(
        [
            _case((2, 1.3), "2 blocks × 1.3 = 2.6"),
            _case((2, 1.1), "2 blocks × 1.1 (B1)"),
            _case((3, 1.8), "3 × 1.8 = 5.4 (B4)"),
            _case((1, 1.0), "1 block × 1.0 (B0)"),
            _case((4, 3.1), "4 × 3.1 = 12.4 (B7)"),
            _case((2, 1.5), "2 × 1.5 = 3: already whole"),
        ]
    )


def check_round_repeats(fn):
    """Exercise 5.3c: blocks per stage, ``ceil(repeats · depth_mult)``."""
    return check_function(
        fn,
        "round_repeats",
        _repeat_cases(),
        reference=reference_round_repeats,
        forbid=(_round_repeats,),
        diagnoses=_REPEAT_DIAGNOSES,
        compare=_whole_number("repeats"),
    )


# ----------------------------------------------------------------- predicted vs measured


def scaling_table(phis=range(8)) -> list[dict]:
    """The compound-scaling calculator against the real EfficientNet-B0 … B7.

    For each φ: ``variant`` (``"b0"`` …), the calculator's ``depth``, ``width``,
    ``resolution`` (pixels, ``224 · γ^φ``) and ``flops_ratio`` ``(α · β² · γ²)^φ``; the
    published ``pub_depth``, ``pub_width``, ``pub_resolution`` (``VARIANTS``: the authors
    rounded them by hand — B7 is ``d = 3.1, w = 2.0, 600 px`` where ``α^7 = 3.58,
    β^7 = 1.95, 224 · γ^7 = 596``); ``pub_ratio`` ``d · w² · (r / 224)²`` (what the
    published multipliers predict); ``gmacs`` (posekit's measured multiply-accumulates at the
    published resolution, ``posekit.bench.count_macs`` on the meta device) and
    ``measured_ratio`` (÷ B0's). The measured ratio differs from both predictions: channel
    and repeat rounding, the stem and head, and the classifier do not scale exactly.
    """
    from posekit.bench import _on_meta, count_macs

    b0 = count_macs(_on_meta(partial(efficientnet, "b0"))(), (1, 3, 224, 224))
    rows = []
    for phi in phis:
        name = f"b{int(phi)}"
        if name not in VARIANTS or int(phi) != phi:
            raise ValueError(f"phis: expected integers 0…7, got {phi!r}")
        v = VARIANTS[name]
        d, w, r, flops = reference_compound_multipliers(phi)
        macs = count_macs(_on_meta(partial(efficientnet, name))(),
                          (1, 3, v.resolution, v.resolution))  # fmt: skip
        rows.append(dict(
            phi=int(phi), variant=name, depth=d, width=w, resolution=224 * r,
            flops_ratio=flops, pub_depth=v.depth, pub_width=v.width,
            pub_resolution=v.resolution,
            pub_ratio=v.depth * v.width**2 * (v.resolution / 224) ** 2,
            gmacs=macs / 1e9, measured_ratio=macs / b0,
        ))  # fmt: skip
    return rows


def format_scaling_table(rows: list[dict]) -> str:
    """Markdown table of ``scaling_table`` rows."""
    lines = [
        "| φ | α^φ | β^φ | 224·γ^φ | (αβ²γ²)^φ | published d, w, px | d·w²·(r/224)² | GMACs "
        "| measured ratio |",
        "|---:|---:|---:|---:|---:|:-:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['phi']} | {r['depth']:.2f} | {r['width']:.2f} | {r['resolution']:.0f} "
            f"| {r['flops_ratio']:.1f} | {r['pub_depth']:g}, {r['pub_width']:g}, "
            f"{r['pub_resolution']} | {r['pub_ratio']:.1f} | {r['gmacs']:.2f} "
            f"| {r['measured_ratio']:.1f} |"
        )
    return "\n".join(lines)


register_reference("eswish", reference_eswish)
register_reference("mbconv_se", reference_mbconv_se)
register_reference("compound_multipliers", reference_compound_multipliers)
register_reference("round_filters", reference_round_filters)
register_reference("round_repeats", reference_round_repeats)
