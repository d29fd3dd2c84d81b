"""The arithmetic of sparse layers on features, given a rulebook (``posekit.sparse.rulebook``).

``apply_rules`` is the gather-GEMM-scatter of sparse convolution: for each kernel offset ``k``
gather the input rows of its pairs, multiply by ``W[k]`` (Cin × Cout), and add into the output
rows. Where most offsets of most output sites are filled (dense-ish deep layers), one big GEMM
on a gathered ``(M, K·Cin)`` neighbour matrix ("sparse im2col", zero rows for the holes) is
faster; ``method="auto"`` picks by the fill ratio. Both are plain torch, so autograd gives the
backward pass.

Weights use spconv's layout ``(Cout, kh, kw, Cin)``: the dense ``nn.Conv2d`` weight is
``w.permute(0, 3, 1, 2)``, the ``conv_transpose2d`` one ``w.permute(3, 0, 1, 2)``.
"""

from __future__ import annotations

import torch

from posekit.sparse.rulebook import Rules

__all__ = ["IM2COL_FILL", "IM2COL_MAX_CHANNELS", "apply_rules", "max_pool"]

IM2COL_FILL = 0.6
"""``method="auto"`` uses one im2col GEMM when pairs / (sites × offsets) is at least this ..."""

IM2COL_MAX_CHANNELS = 64
"""... and the input has at most this many channels (measured, 288×384, 2 threads: im2col
makes DHP19's 16-64-channel layers 1.1-1.6× faster and U-Net-Large's 128-1024-channel layers
1.4× slower at 20 % density)."""

METHODS = ("auto", "gather", "im2col")


def apply_rules(
    features: torch.Tensor,
    weight: torch.Tensor,
    rules: Rules,
    bias: torch.Tensor | None = None,
    method: str = "auto",
) -> torch.Tensor:
    """``features (N, Cin)`` → ``(M, Cout)``: ``out[o] = Σ_k Σ_(i,o) features[i] @ W[k]``.

    ``weight (Cout, kh, kw, Cin)``; ``bias (Cout,)`` or ``None``. ``method``: ``"gather"`` (one
    small GEMM per offset), ``"im2col"`` (one GEMM on all offsets) or ``"auto"``.
    """
    if method not in METHODS:
        raise ValueError(f"method: expected one of {METHODS}, got {method!r}")
    cout, kh, kw, cin = weight.shape
    if features.shape[1] != cin:
        raise ValueError(f"features: expected {cin} channels, got {features.shape[1]}")
    w = weight.reshape(cout, kh * kw, cin)
    if method == "auto":
        fill = rules.num_pairs / max(1, rules.num_out * kh * kw)
        dense_enough = fill >= IM2COL_FILL and cin <= IM2COL_MAX_CHANNELS
        method = "im2col" if dense_enough and kh * kw > 1 else "gather"
    if method == "im2col":
        padded = torch.cat((features, features.new_zeros(1, cin)))
        table = rules.neighbour_table(len(features)).reshape(-1)
        cols = padded.index_select(0, table).view(rules.num_out, kh * kw * cin)
        out = cols @ w.reshape(cout, kh * kw * cin).T
    else:
        if rules.identity is not None:
            out = features @ w[:, rules.identity].T
        else:
            out = features.new_zeros(rules.num_out, cout)
        for k, pair in enumerate(rules.pairs):
            if pair is not None and len(pair[0]):
                out.index_add_(0, pair[1], features.index_select(0, pair[0]) @ w[:, k].T)
    return out if bias is None else out + bias


def max_pool(features: torch.Tensor, rules: Rules) -> torch.Tensor:
    """``(N, C)`` → ``(M, C)``: each output site's maximum over its active inputs only.

    (Not over zeros for the inactive pixels of the window: a window of negative features keeps
    its negative maximum, unlike spconv's CPU pool, which starts from 0.)
    """
    ins = torch.cat([p[0] for p in rules.pairs if p is not None])
    outs = torch.cat([p[1] for p in rules.pairs if p is not None])
    index = outs[:, None].expand(-1, features.shape[1])
    out = features.new_zeros(rules.num_out, features.shape[1])
    return out.scatter_reduce(0, index, features[ins], "amax", include_self=False)
