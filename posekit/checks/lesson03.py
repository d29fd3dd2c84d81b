"""Checks for lesson 03 "Stacked Hourglass (and Simple Baselines)".

Exercise 3.1 ``residual_forward`` (Newell's pre-activation bottleneck: BN → ReLU → conv three
times, plus the skip path), 3.2 ``hourglass_forward`` (one hourglass, written as a
recursion), 3.3 ``stacked_forward`` (the stacks with intermediate supervision and
re-injection), 3.4 ``flip_average`` (flip-test averaging with the left/right swap). Each check
compares the student's function with posekit's reference (``posekit.models.hourglass``,
``posekit.models.flip``) on small random modules, then recognises the classic mistakes —
a forgotten skip path, a ReLU after the sum, bilinear instead of
nearest upsampling, average instead of max pooling, a mirror without the joint swap, the
vertical flip, the one-pixel shift — by recomputing the answer with that mistake.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

from posekit.checks import Case, check_function, register_reference
from posekit.checks._compare import to_numpy
from posekit.checks.diagnose import explains
from posekit.checks.diagnose import mistake as _mistake
from posekit.codecs.heatmap import heatmap_mse_loss
from posekit.models.flip import FlipTest, flip_heatmaps
from posekit.models.hourglass import Hourglass, HourglassNet, Residual
from posekit.models.optimize import randomise_batchnorm
from posekit.skeletons import MPII16

# ----------------------------------------------------------------- helpers


def _case(args: tuple, label: str) -> Case:
    return Case(args, label=label, ctx={"inputs": args})


def _frozen(module: torch.nn.Module, seed: int) -> torch.nn.Module:
    """Eval mode, no gradients, BatchNorm with random (non-trivial) statistics."""
    randomise_batchnorm(module, seed).eval()
    for p in module.parameters():
        p.requires_grad_(False)
    return module


def _randn(seed: int, *shape: int) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


# ----------------------------------------------------------------- Exercise 3.1


def reference_residual_forward(x, bn_convs, skip):
    """Newell's residual module: ``skip(x) + branch(x)`` where the branch applies, for each
    ``(bn, conv)`` pair in order, ``conv(relu(bn(y)))`` (pre-activation)."""
    y = x
    for bn, conv in bn_convs:
        y = conv(F.relu(bn(y)))
    return skip(x) + y


def _residual_inputs(seed: int, cin: int, cout: int, shape: tuple[int, int], batch: int = 1):
    torch.manual_seed(seed)
    module = _frozen(Residual(cin, cout), seed)
    b = module.branch
    pairs = [(b[0], b[2]), (b[3], b[5]), (b[6], b[8])]
    return (_randn(seed, batch, cin, *shape), pairs, module.skip)


def _branch_only(x, pairs, skip):
    y = x
    for bn, conv in pairs:
        y = conv(F.relu(bn(y)))
    return y


_RESIDUAL_DIAGNOSES = [
    _mistake(
        "You forgot the skip path: return skip(x) + branch, where skip is the identity or a "
        "1×1 convolution when the channel counts differ.",
        _branch_only,
    ),
    _mistake(
        "You applied a ReLU after the sum (the original ResNet's post-activation). In the "
        "pre-activation module the output is skip(x) + branch, with nothing after the sum.",
        lambda x, p, s: F.relu(reference_residual_forward(x, p, s)),
    ),
]


def check_residual_forward(fn):
    """Exercise 3.1: the pre-activation bottleneck residual module."""
    cases = [
        _case(_residual_inputs(0, 4, 4, (3, 3)), "4 → 4 channels, identity skip, 3 × 3"),
        _case(_residual_inputs(1, 6, 6, (5, 4), batch=2), "batch of 2, 6 channels, 5 × 4"),
        _case(_residual_inputs(2, 4, 8, (4, 6)), "4 → 8 channels: 1×1 convolution skip"),
        _case(_residual_inputs(3, 8, 16, (6, 6), batch=2), "8 → 16, batch of 2"),
    ]
    return check_function(
        fn,
        "residual_forward",
        cases,
        reference=reference_residual_forward,
        forbid=(Residual,),
        diagnoses=_RESIDUAL_DIAGNOSES,
        atol=1e-5,
    )


# ----------------------------------------------------------------- Exercise 3.2


def reference_hourglass_forward(x, hg):
    """One hourglass level: ``hg.up(x)`` plus the lower branch — max-pool 2, ``hg.down``,
    the inner hourglass (recursively; a Residual at the bottom), ``hg.out``, nearest ×2."""
    inner = hg.inner
    low = hg.down(F.max_pool2d(x, 2))
    low = reference_hourglass_forward(low, inner) if isinstance(inner, Hourglass) else inner(low)
    low = hg.out(low)
    return hg.up(x) + F.interpolate(low, scale_factor=2, mode="nearest")


def _variant(pool=None, upsample=None, with_up=True, with_out=True):
    pool = pool or (lambda t: F.max_pool2d(t, 2))
    upsample = upsample or (lambda t: F.interpolate(t, scale_factor=2, mode="nearest"))

    def forward(x, hg):
        inner = hg.inner
        low = hg.down(pool(x))
        low = forward(low, inner) if isinstance(inner, Hourglass) else inner(low)
        low = hg.out(low) if with_out else low
        return (hg.up(x) if with_up else 0) + upsample(low)

    return forward


_HOURGLASS_DIAGNOSES = [
    _mistake(
        "You upsampled bilinearly: the hourglass uses nearest-neighbour upsampling ×2 "
        "(F.interpolate(low, scale_factor=2, mode='nearest')).",
        _variant(upsample=lambda t: F.interpolate(t, scale_factor=2, mode="bilinear")),
    ),
    _mistake(
        "You used average pooling: the hourglass goes down with max pooling (F.max_pool2d(x, 2)).",
        _variant(pool=lambda t: F.avg_pool2d(t, 2)),
    ),
    _mistake(
        "The upper branch is missing: each level returns hg.up(x) + upsample(lower branch) — "
        "the skip connection at every resolution is what keeps the fine detail.",
        _variant(with_up=False),
    ),
    _mistake(
        "You skipped hg.out, the residual after the inner hourglass (before upsampling).",
        _variant(with_out=False),
    ),
]


def _no_module_call(hg: Hourglass) -> Hourglass:
    """Make calling any hourglass level directly an error: the exercise is the recursion."""

    def refuse(*args, **kwargs):
        raise RuntimeError(
            "call hourglass_forward(low, hg.inner) recursively instead of calling the "
            "Hourglass module (hg(x) or hg.inner(low))"
        )

    for m in hg.modules():
        if isinstance(m, Hourglass):
            m.forward = refuse
    return hg


def _hourglass_inputs(seed, depth, features, shape, batch=1):
    torch.manual_seed(seed)
    hg = _no_module_call(_frozen(Hourglass(depth, features), seed))
    return (_randn(seed, batch, features, *shape), hg)


def check_hourglass_forward(fn):
    """Exercise 3.2: one hourglass, written as a recursion over its levels."""
    cases = [
        _case(_hourglass_inputs(10, 1, 4, (4, 4)), "depth 1 (a Residual at the bottom), 4 × 4"),
        _case(_hourglass_inputs(11, 2, 4, (8, 12), batch=2), "depth 2, 8 × 12, batch of 2"),
        _case(_hourglass_inputs(12, 3, 6, (16, 16)), "depth 3, 16 × 16 down to 2 × 2"),
    ]
    return check_function(
        fn,
        "hourglass_forward",
        cases,
        reference=reference_hourglass_forward,
        forbid=(Hourglass,),
        diagnoses=_HOURGLASS_DIAGNOSES,
        atol=1e-5,
    )


# ----------------------------------------------------------------- Exercise 3.4 (flip)


def reference_flip_average(heatmaps, flipped_heatmaps, flip_index):
    """``(B, K, h, w)`` heatmaps of an image and of its mirror → their flip-test average:
    the mirror's maps flipped back along ``w``, channel ``k`` taken from ``flip_index[k]``
    (left ↔ right), averaged with the plain maps. No shift in posekit's pixel convention."""
    return 0.5 * (heatmaps + flip_heatmaps(flipped_heatmaps, flip_index))


def _flip_inputs(seed, batch, k, h, w, flip_index):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(batch, k, h, w, generator=g), torch.rand(batch, k, h, w, generator=g),
            torch.as_tensor(flip_index))  # fmt: skip


_FLIP_DIAGNOSES = [
    _mistake(
        "You mirrored the maps back but did not swap left and right: in the mirrored image "
        "the left wrist looks like a right wrist, so channel k must come from "
        "flip_index[k] (flipped[:, flip_index]).",
        lambda h, f, idx: 0.5 * (h + f.flip(-1)),
    ),
    _mistake(
        "You swapped the joints but did not mirror the maps back along the width "
        "(.flip(-1)): the mirror's heatmaps are in the mirrored image's frame.",
        lambda h, f, idx: 0.5 * (h + f[:, idx]),
    ),
    _mistake(
        "You flipped along the height (dim -2): a horizontal mirror reverses the columns, "
        "the last dimension (.flip(-1)).",
        lambda h, f, idx: 0.5 * (h + f.flip(-2)[:, idx]),
    ),
    _mistake(
        "You shifted the flipped maps by one pixel, as Simple Baselines / HRNet do for their "
        "u = x / s convention. posekit maps x to u = (x − (s−1)/2)/s, where the mirror of "
        "column j is exactly w − 1 − j: no shift.",
        lambda h, f, idx: 0.5 * (h + flip_heatmaps(f, idx, shift=1)),
    ),
    _mistake(
        "You summed the two maps: average them (divide by 2), so the scores stay on the "
        "scale of one network output.",
        lambda h, f, idx: h + flip_heatmaps(f, idx),
    ),
]


def check_flip_average(fn):
    """Exercise 3.4: flip-test averaging with the left/right channel swap."""
    mpii = MPII16.flip_permutation()
    cases = [
        _case(_flip_inputs(20, 1, 2, 3, 4, [1, 0]), "2 joints that swap, 3 × 4 maps"),
        _case(_flip_inputs(21, 1, 3, 4, 4, [0, 2, 1]), "3 joints: the first is central"),
        _case(_flip_inputs(22, 2, 16, 8, 6, mpii), "MPII-16, batch of 2, 8 × 6 maps"),
    ]
    return check_function(
        fn,
        "flip_average",
        cases,
        reference=reference_flip_average,
        forbid=(flip_heatmaps, FlipTest),
        diagnoses=_FLIP_DIAGNOSES,
        atol=1e-6,
    )


# ----------------------------------------------------------------- Exercise 3.3


def stack_parts(net: HourglassNet) -> dict:
    """The modules of posekit's ``HourglassNet`` by role, as
    ``stacked_forward(x, **stack_parts(net), targets=..., loss_fn=...)`` takes them."""
    if not isinstance(net, HourglassNet):
        raise ValueError(f"net: expected posekit's HourglassNet, got {type(net).__name__}")
    return {
        "stem": net.stem,
        "hourglasses": net.hourglasses,
        "features": net.features,
        "heads": net.heads,
        "merge_features": net.merge_features,
        "merge_heatmaps": net.merge_heatmaps,
    }


def _stacked(
    x, stem, hourglasses, features, heads, merge_features, merge_heatmaps, targets, loss_fn,
    *, reinject="both", loss="sum",
):  # fmt: skip
    """The stacked forward with the right recipe or one of the classic mistakes."""
    x = stem(x)
    maps_list = []
    for i in range(len(hourglasses)):
        feat = features[i](hourglasses[i](x))
        maps = heads[i](feat)
        maps_list.append(maps)
        if i < len(hourglasses) - 1:
            if reinject == "both":
                x = x + merge_features[i](feat) + merge_heatmaps[i](maps)
            elif reinject == "features":
                x = x + merge_features[i](feat)
            elif reinject == "maps":
                x = x + merge_heatmaps[i](maps)
            elif reinject == "replace":
                x = merge_features[i](feat) + merge_heatmaps[i](maps)
            elif reinject == "features_out":
                x = feat
            # "none": the next stack gets this stack's input again
    losses = [loss_fn(m, targets) for m in maps_list]
    if loss == "last":
        total = losses[-1]
    elif loss == "mean":
        total = sum(losses) / len(losses)
    else:
        total = sum(losses)
    return maps_list, total


def reference_stacked_forward(
    x, stem, hourglasses, features, heads, merge_features, merge_heatmaps, targets, loss_fn
):
    """Stacked Hourglass forward with intermediate supervision (Newell et al. 2016)::

        x = stem(x)                                      (B, f, H/4, W/4)
        for every stack i of S:
            feat_i = features[i](hourglasses[i](x))      (B, f, H/4, W/4)
            maps_i = heads[i](feat_i)                    (B, K, H/4, W/4)
            x = x + merge_features[i](feat_i) + merge_heatmaps[i](maps_i)   (not after the last)
        total_loss = Σ_i loss_fn(maps_i, targets)        every stack is supervised

    Args:
        x: ``(B, C, H, W)`` images. ``stem``: a module ``(B, C, H, W) → (B, f, H/4, W/4)``.
        hourglasses, features, heads: S modules each (``HourglassNet``'s ModuleLists).
        merge_features, merge_heatmaps: S − 1 1×1 convolutions, ``f → f`` and ``K → f``.
        targets: ``(B, K, H/4, W/4)`` target heatmaps; ``loss_fn(maps, targets)`` → scalar.
    Returns:
        ``(maps_list, total_loss)``: the list of the S stacks' maps (the same as
        ``HourglassNet.forward``) and the summed loss (``heatmap_mse_loss(maps_list,
        targets)`` when ``loss_fn`` is ``heatmap_mse_loss``).
    """
    if not (len(hourglasses) == len(features) == len(heads)):
        raise ValueError("hourglasses, features, heads: expected one module per stack each")
    if len(merge_features) != len(hourglasses) - 1 or len(merge_heatmaps) != len(heads) - 1:
        raise ValueError("merge_features, merge_heatmaps: expected one per stack but the last")
    return _stacked(
        x, stem, hourglasses, features, heads, merge_features, merge_heatmaps, targets, loss_fn
    )


def _stacked_mistake(hint: str, **variant) -> Callable:
    """Fires when the differing leaf (a stack's maps, or the loss) equals that leaf of the
    answer recomputed with the mistake ``variant``."""

    def diagnosis(expected, got, inputs=None, **ctx):
        if inputs is None:
            return None
        with torch.no_grad():
            ref_maps, ref_loss = reference_stacked_forward(*inputs)
            wrong_maps, wrong_loss = _stacked(*inputs, **variant)
        if expected.ndim == 0:
            mistaken = wrong_loss
        else:
            stacks = [
                i
                for i, m in enumerate(ref_maps)
                if m.shape == expected.shape and np.allclose(to_numpy(m), expected)
            ]
            if not stacks:
                return None
            mistaken = wrong_maps[stacks[0]]
        return hint if explains(np.asarray(to_numpy(mistaken), np.float64), expected, got, ctx) \
            else None  # fmt: skip

    return diagnosis


_STACKED_DIAGNOSES = [
    _stacked_mistake(
        "The next stack got the same input as this one: re-inject this stack's output, "
        "x = x + merge_features[i](feat) + merge_heatmaps[i](maps), before the next stack.",
        reinject="none",
    ),
    _stacked_mistake(
        "Only the features are re-injected: the next stack also receives this stack's "
        "predictions, x = x + merge_features[i](feat) + merge_heatmaps[i](maps).",
        reinject="features",
    ),
    _stacked_mistake(
        "Only the heatmaps are re-injected: add the features too, "
        "x = x + merge_features[i](feat) + merge_heatmaps[i](maps).",
        reinject="maps",
    ),
    _stacked_mistake(
        "You replaced x instead of adding to it: the re-injection is residual, "
        "x = x + merge_features[i](feat) + merge_heatmaps[i](maps).",
        reinject="replace",
    ),
    _stacked_mistake(
        "The next stack got the features as they are: re-inject through the 1×1 convolutions "
        "and add to x, x = x + merge_features[i](feat) + merge_heatmaps[i](maps).",
        reinject="features_out",
    ),
    _stacked_mistake(
        "The loss is the last stack's only: intermediate supervision supervises every stack, "
        "total_loss = sum of loss_fn(maps_i, targets) over the stacks.",
        loss="last",
    ),
    _stacked_mistake(
        "You averaged the stacks' losses: the lesson's loss is their sum (heatmap_mse_loss "
        "sums a list), total_loss = sum of loss_fn(maps_i, targets).",
        loss="mean",
    ),
]


def _stacked_inputs(seed, stacks, batch=1, joints=3, features=8, size=16):
    torch.manual_seed(seed)
    net = _frozen(
        HourglassNet(joints, num_stacks=stacks, features=features, depth=1, stem_channels=(4, 4)),
        seed,
    )
    for head in net.heads:  # larger maps than the flat start, so that mistakes show
        head.weight.normal_(0.0, 0.3)
    g = torch.Generator().manual_seed(seed + 100)
    x = torch.randn(batch, 3, size, size, generator=g)
    targets = torch.rand(batch, joints, size // 4, size // 4, generator=g)
    parts = stack_parts(net)
    return (x, *parts.values(), targets, heatmap_mse_loss)


def check_stacked_forward(fn):
    """Exercise 3.3: the stacks, with intermediate supervision and re-injection."""
    cases = [
        _case(_stacked_inputs(30, 2), "2 stacks, 3 joints, 16 × 16 input"),
        _case(_stacked_inputs(31, 3, batch=2, joints=4, size=24), "3 stacks, batch of 2, 24 × 24"),
        _case(_stacked_inputs(32, 1), "1 stack: nothing to re-inject"),
    ]
    return check_function(
        fn,
        "stacked_forward",
        cases,
        reference=reference_stacked_forward,
        forbid=(HourglassNet,),
        diagnoses=_STACKED_DIAGNOSES,
        atol=1e-5,
    )


register_reference("residual_forward", reference_residual_forward)
register_reference("hourglass_forward", reference_hourglass_forward)
register_reference("flip_average", reference_flip_average)
register_reference("stacked_forward", reference_stacked_forward)
