"""A sparse 2-D feature map: the active sites' coordinates and features, nothing else.

Graham & van der Maaten, "Submanifold Sparse Convolutional Networks" (2017): a map is a set of
*active sites* (pixels that carry a feature vector); every other pixel is zero and is never
stored or computed. ``SparseTensor`` holds

    coords    (N, 3) int64, rows ``[b, y, x]``; posekit's own layers keep them row-major
              (batch, then y, then x), spconv's outputs come in spconv's order
    features  (N, C) float, one row per site
    shape     (H, W) of the full map; batch_size B

and a ``rules`` cache of the rulebooks built on this site set, shared by every tensor with the
same sites (``replace``), so each layer key (kernel, dilation, ...) is built once per forward.
``posekit.sparse.from_dense`` / ``to_dense`` convert, through a mask's ``nonzero`` indices
(never a loop).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

__all__ = ["SparseTensor", "active_mask", "flat_index", "to_dense"]


@dataclass(eq=False)
class SparseTensor:
    """Active sites ``coords (N, 3)`` ``[b, y, x]`` with ``features (N, C)``.

    ``shape = (H, W)``; ``batch_size = B``. ``rules`` caches rulebooks for this site set;
    ``backend`` names the library that runs the layers (``"posekit"`` or ``"spconv"``);
    ``native`` is that library's own tensor when it has one (spconv's ``SparseConvTensor``).
    """

    features: torch.Tensor
    coords: torch.Tensor
    shape: tuple[int, int]
    batch_size: int
    rules: dict = field(default_factory=dict, repr=False)
    backend: str = "posekit"
    native: object = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.coords.ndim != 2 or self.coords.shape[1] != 3:
            raise ValueError(
                f"coords: expected (N, 3) rows [b, y, x], got {tuple(self.coords.shape)}"
            )
        if self.features.ndim != 2 or len(self.features) != len(self.coords):
            raise ValueError(
                f"features: expected (N, C) with N = {len(self.coords)} (one row per site), "
                f"got {tuple(self.features.shape)}"
            )
        self.shape = (int(self.shape[0]), int(self.shape[1]))

    @property
    def num_sites(self) -> int:
        return len(self.coords)

    @property
    def channels(self) -> int:
        return self.features.shape[1]

    @property
    def density(self) -> float:
        """Active sites / all pixels of the batch."""
        return self.num_sites / max(1, self.batch_size * self.shape[0] * self.shape[1])

    def replace(self, features: torch.Tensor, native: object = None) -> SparseTensor:
        """The same sites (and rulebook cache) with new ``features (N, C')``."""
        if native is None and self.native is not None:
            native = self.native.replace_feature(features)
        return SparseTensor(
            features, self.coords, self.shape, self.batch_size, self.rules, self.backend, native
        )

    def same_sites(self, other: SparseTensor) -> bool:
        """Whether ``other`` has exactly these sites (same object or equal coordinates)."""
        if other.coords is self.coords:
            return True
        return (
            other.shape == self.shape
            and other.batch_size == self.batch_size
            and torch.equal(other.coords, self.coords)
        )

    def dense(self) -> torch.Tensor:
        """``(B, C, H, W)`` with zeros off the active sites (``to_dense``)."""
        return to_dense(self)


def flat_index(coords: torch.Tensor, shape: tuple[int, int]) -> torch.Tensor:
    """Row-major index ``(b·H + y)·W + x`` of each ``[b, y, x]`` row: ``(N,)`` int64."""
    return (coords[:, 0] * shape[0] + coords[:, 1]) * shape[1] + coords[:, 2]


def active_mask(x: torch.Tensor) -> torch.Tensor:
    """``(B, C, H, W)`` → ``(B, H, W)`` bool: a pixel is active when any channel is nonzero.

    (The SPHP authors' code tests ``x.sum(1) != 0``, which also drops a motion-vector pixel whose
    two components cancel; posekit keeps it.)
    """
    if x.ndim != 4:
        raise ValueError(f"x: expected (B, C, H, W), got {tuple(x.shape)}")
    return (x != 0).any(1)


def to_dense(x: SparseTensor) -> torch.Tensor:
    """``SparseTensor`` → ``(B, C, H, W)``, zeros off the active sites (differentiable)."""
    b, (h, w) = x.batch_size, x.shape
    flat = x.features.new_zeros(b * h * w, x.channels)
    flat = flat.index_copy(0, flat_index(x.coords, x.shape), x.features)
    return flat.view(b, h, w, x.channels).permute(0, 3, 1, 2)
