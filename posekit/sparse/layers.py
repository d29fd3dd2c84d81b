"""Sparse layers on ``SparseTensor``: convolutions (submanifold, strided, transposed, inverse),
max-pooling, BatchNorm and activations on the features, and the way back to a dense map.

Graham, Engelcke & van der Maaten, "3D Semantic Segmentation with Submanifold Sparse
Convolutional Networks" (CVPR 2018) and Graham & van der Maaten (2017) define the layers;
their names follow spconv (Yan et al., "SECOND", Sensors 2018), whose weight layout
``(Cout, kh, kw, Cin)`` they share, so one set of weights runs on either backend:

    SubMConv2d            out sites = in sites (the map never dilates)      k×k, odd k
    SparseConv2d          strided; out site where any input reaches it       k, s, p, d
    SparseConvTranspose2d generative: every input writes k×k output sites    k, s, p, d, op
    SparseInverseConv2d   back onto the sites a conv / pool came from        ``(x, like)``
    SparseMaxPool2d       max over the active inputs of each window
    SparseBatchNorm, SparseReLU, SparseLeakyReLU   on the features, sites unchanged
    ToDense               → ``(B, C, H, W)``, zeros off the sites

Each layer runs on ``x.backend``: ``"posekit"`` (``posekit.sparse.functional``, pure torch) or
``"spconv"`` (``posekit.sparse.spconv_backend``). Dense equivalents of a weight ``w``:
``nn.Conv2d`` takes ``w.permute(0, 3, 1, 2)``, ``conv_transpose2d`` ``w.permute(3, 0, 1, 2)``.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from posekit.sparse import functional, macs
from posekit.sparse.rulebook import (
    _pair,
    conv_rules,
    inverse_rules,
    submanifold_rules,
    transposed_rules,
)  # fmt: skip
from posekit.sparse.tensor import SparseTensor, to_dense
from posekit.validate import check_positive_ints

__all__ = [
    "SparseBatchNorm", "SparseConv2d", "SparseConvTranspose2d", "SparseInverseConv2d",
    "SparseLeakyReLU", "SparseMaxPool2d", "SparseReLU", "SubMConv2d", "ToDense", "join",
]  # fmt: skip


def _spconv():
    from posekit.sparse import spconv_backend

    return spconv_backend


def _check(x, module: nn.Module) -> None:
    if not isinstance(x, SparseTensor):
        raise TypeError(f"{type(module).__name__}: expected a SparseTensor, got {type(x).__name__}")
    cin = getattr(module, "in_channels", None)
    if cin is not None and x.channels != cin:
        raise ValueError(f"{type(module).__name__}: expected {cin} channels, got {x.channels}")


class _SparseConv(nn.Module):
    """Weight ``(Cout, kh, kw, Cin)`` (+ bias ``(Cout,)``), ``nn.Conv2d``'s initialisation."""

    def __init__(self, in_channels, out_channels, kernel_size, bias: bool) -> None:
        super().__init__()
        check_positive_ints(in_channels=in_channels, out_channels=out_channels)
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = _pair(kernel_size, "kernel_size")
        kh, kw = self.kernel_size
        self.weight = nn.Parameter(torch.empty(out_channels, kh, kw, in_channels))
        self.bias = nn.Parameter(torch.empty(out_channels)) if bias else None
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))  # fan_in = kh·kw·Cin
        if self.bias is not None:
            bound = 1 / math.sqrt(kh * kw * in_channels)
            nn.init.uniform_(self.bias, -bound, bound)

    def dense_weight(self) -> torch.Tensor:
        """The ``nn.Conv2d`` weight ``(Cout, Cin, kh, kw)`` of the same layer."""
        return self.weight.permute(0, 3, 1, 2)

    def _record(self, x: SparseTensor, sites_out: int, pairs: int, positions: int) -> None:
        kh, kw = self.kernel_size
        macs.record(
            self, type(self).__name__, x.num_sites, sites_out, pairs,
            self.in_channels, self.out_channels, positions, kh * kw,
        )  # fmt: skip

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"bias={self.bias is not None}"
        )


class SubMConv2d(_SparseConv):
    """Submanifold conv: ``(N, Cin)`` → ``(N, Cout)`` on the same sites.

    Equals ``nn.Conv2d(padding=d·(k-1)/2, dilation=d)`` on the dense map (zeros off the sites)
    read at the sites. ``kernel_size`` odd; ``dilation`` ≥ 1.
    """

    def __init__(self, in_channels, out_channels, kernel_size=3, dilation=1, bias=True):
        super().__init__(in_channels, out_channels, kernel_size, bias)
        self.dilation = _pair(dilation, "dilation")
        if self.kernel_size[0] % 2 == 0 or self.kernel_size[1] % 2 == 0:
            raise ValueError(f"kernel_size: must be odd (centred), got {self.kernel_size}")

    def forward(self, x: SparseTensor) -> SparseTensor:
        _check(x, self)
        b, (h, w) = x.batch_size, x.shape
        if x.backend == "spconv":
            out, pairs = _spconv().subm_conv(x, self.weight, self.bias, self.dilation)
        else:
            rules = submanifold_rules(x, self.kernel_size, self.dilation)
            pairs = rules.num_pairs
            out = x.replace(functional.apply_rules(x.features, self.weight, rules, self.bias))
        self._record(x, out.num_sites, pairs, b * h * w)
        return out


class SparseConv2d(_SparseConv):
    """Strided sparse conv: an output site exists where any of its inputs is active.

    Equals ``nn.Conv2d(kernel_size, stride, padding, dilation)`` at the output sites. Output
    ``shape``: ``floor((H + 2p - d(k-1) - 1) / s) + 1``.
    """

    def __init__(
        self, in_channels, out_channels, kernel_size=2, stride=2, padding=0, dilation=1, bias=True
    ):
        super().__init__(in_channels, out_channels, kernel_size, bias)
        self.stride, self.padding = _pair(stride, "stride"), _pair(padding, "padding")
        self.dilation = _pair(dilation, "dilation")

    def forward(self, x: SparseTensor) -> SparseTensor:
        _check(x, self)
        if x.backend == "spconv":
            out, pairs = _spconv().conv(
                x, self.weight, self.bias, self.stride, self.padding, self.dilation
            )
        else:
            rules = conv_rules(x, self.kernel_size, self.stride, self.padding, self.dilation)
            feats = functional.apply_rules(x.features, self.weight, rules, self.bias)
            out = SparseTensor(feats, rules.out_coords, rules.out_shape, x.batch_size)
            pairs = rules.num_pairs
        self._record(x, out.num_sites, pairs, x.batch_size * out.shape[0] * out.shape[1])
        return out


class SparseConvTranspose2d(_SparseConv):
    """Generative transposed conv: each input site writes ``k×k`` output sites.

    Equals ``nn.ConvTranspose2d`` (weight ``w.permute(3, 0, 1, 2)``) at the output sites;
    SparseConvNet's ``TransposeConvolution`` (a "full" convolution).
    """

    def __init__(
        self, in_channels, out_channels, kernel_size=3, stride=2, padding=0, dilation=1,
        output_padding=0, bias=True,
    ):  # fmt: skip
        super().__init__(in_channels, out_channels, kernel_size, bias)
        self.stride, self.padding = _pair(stride, "stride"), _pair(padding, "padding")
        self.dilation = _pair(dilation, "dilation")
        self.output_padding = _pair(output_padding, "output_padding")

    def dense_weight(self) -> torch.Tensor:
        """The ``nn.ConvTranspose2d`` weight ``(Cin, Cout, kh, kw)`` of the same layer."""
        return self.weight.permute(3, 0, 1, 2)

    def forward(self, x: SparseTensor) -> SparseTensor:
        _check(x, self)
        geometry = (self.stride, self.padding, self.dilation, self.output_padding)
        if x.backend == "spconv":
            out, pairs = _spconv().transposed_conv(x, self.weight, self.bias, *geometry)
        else:
            rules = transposed_rules(x, self.kernel_size, *geometry)
            feats = functional.apply_rules(x.features, self.weight, rules, self.bias)
            out = SparseTensor(feats, rules.out_coords, rules.out_shape, x.batch_size)
            pairs = rules.num_pairs
        self._record(x, out.num_sites, pairs, x.batch_size * x.shape[0] * x.shape[1])
        return out


class SparseInverseConv2d(_SparseConv):
    """``forward(x, like)``: back from ``x`` onto ``like``'s sites, inverting the strided conv
    or pool (``kernel_size``, ``stride``) that made ``x`` from ``like``.

    Equals ``conv_transpose2d`` (weight ``w.permute(3, 0, 1, 2)``) read at ``like``'s sites.
    SparseConvNet's ``Deconvolution``; spconv's ``SparseInverseConv2d``.
    """

    def __init__(self, in_channels, out_channels, kernel_size=2, stride=2, bias=True):
        super().__init__(in_channels, out_channels, kernel_size, bias)
        self.stride = _pair(stride, "stride")

    def dense_weight(self) -> torch.Tensor:
        """The ``conv_transpose2d`` weight ``(Cin, Cout, kh, kw)`` of the same layer."""
        return self.weight.permute(3, 0, 1, 2)

    def forward(self, x: SparseTensor, like: SparseTensor) -> SparseTensor:
        _check(x, self)
        if x.backend == "spconv":
            out, pairs = _spconv().inverse_conv(x, like, self.weight, self.bias, self.stride)
        else:
            rules = inverse_rules(x, like, self.kernel_size, self.stride)
            out = like.replace(functional.apply_rules(x.features, self.weight, rules, self.bias))
            pairs = rules.num_pairs
        self._record(x, out.num_sites, pairs, x.batch_size * x.shape[0] * x.shape[1])
        return out


class SparseMaxPool2d(nn.Module):
    """Max over each window's *active* inputs; an output site where any input is active."""

    def __init__(self, kernel_size=2, stride=2) -> None:
        super().__init__()
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.stride = _pair(stride, "stride")

    def forward(self, x: SparseTensor) -> SparseTensor:
        _check(x, self)
        if x.backend == "spconv":
            return _spconv().max_pool(x, self.kernel_size, self.stride)
        rules = conv_rules(x, self.kernel_size, self.stride)
        feats = functional.max_pool(x.features, rules)
        return SparseTensor(feats, rules.out_coords, rules.out_shape, x.batch_size)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}"


class SparseBatchNorm(nn.BatchNorm1d):
    """``nn.BatchNorm1d`` on the features ``(N, C)``: statistics over the active sites only."""

    def forward(self, x: SparseTensor) -> SparseTensor:
        _check(x, self)
        return x.replace(super().forward(x.features))


class SparseReLU(nn.ReLU):
    """ReLU on the features (sites unchanged)."""

    def forward(self, x: SparseTensor) -> SparseTensor:
        _check(x, self)
        return x.replace(super().forward(x.features))


class SparseLeakyReLU(nn.LeakyReLU):
    """LeakyReLU on the features (sites unchanged)."""

    def forward(self, x: SparseTensor) -> SparseTensor:
        _check(x, self)
        return x.replace(super().forward(x.features))


class ToDense(nn.Module):
    """``SparseTensor`` → ``(B, C, H, W)``, zeros off the active sites."""

    def forward(self, x: SparseTensor) -> torch.Tensor:
        _check(x, self)
        return to_dense(x)


def join(*tensors: SparseTensor) -> SparseTensor:
    """Concatenate the features of tensors on the same sites (SparseConvNet's ``JoinTable``)."""
    first = tensors[0]
    for i, t in enumerate(tensors[1:], 1):
        if not first.same_sites(t):
            raise ValueError(f"tensors[{i}]: not on the same sites as tensors[0]")
    return first.replace(torch.cat([t.features for t in tensors], 1))
