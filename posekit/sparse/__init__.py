"""Sparse convolution for 2-D maps where few pixels are active (edges, motion vectors, events).

Pure-torch layers on a ``SparseTensor`` (active coordinates + features), their rulebooks, MAC
counting at the active sites, and an optional spconv backend with the same weights.
Graham & van der Maaten, "Submanifold Sparse Convolutional Networks" (2017).
"""

from posekit.sparse.backends import (
    BACKENDS,
    from_dense,
    resolve_backend,
    spconv_available,
    to_backend,
)  # fmt: skip
from posekit.sparse.layers import (
    SparseBatchNorm,
    SparseConv2d,
    SparseConvTranspose2d,
    SparseInverseConv2d,
    SparseLeakyReLU,
    SparseMaxPool2d,
    SparseReLU,
    SubMConv2d,
    ToDense,
    join,
)  # fmt: skip
from posekit.sparse.macs import LayerCost, MacCounter, count_macs
from posekit.sparse.rulebook import (
    Rules,
    conv_rules,
    inverse_rules,
    submanifold_rules,
    transposed_rules,
)  # fmt: skip
from posekit.sparse.tensor import SparseTensor, active_mask, to_dense

__all__ = [
    "BACKENDS", "LayerCost", "MacCounter", "Rules", "SparseBatchNorm", "SparseConv2d",
    "SparseConvTranspose2d", "SparseInverseConv2d", "SparseLeakyReLU", "SparseMaxPool2d",
    "SparseReLU", "SparseTensor", "SubMConv2d", "ToDense", "active_mask", "conv_rules",
    "count_macs", "from_dense", "inverse_rules", "join", "resolve_backend", "spconv_available",
    "submanifold_rules", "to_backend", "to_dense", "transposed_rules",
]  # fmt: skip
