"""Which library runs the sparse layers: posekit's own (pure torch) or spconv.

``resolve_backend("spconv")`` returns ``"spconv"`` when spconv imports and works on this
machine (with posekit's CPU fixes, ``posekit.sparse.spconv_backend``), else ``"posekit"``
after one clear message; ``to_backend(x, name)`` moves a ``SparseTensor`` onto a backend;
``from_dense(x, backend=...)`` makes one from a dense map.
"""

from __future__ import annotations

import warnings

import torch

from posekit.sparse.tensor import SparseTensor, active_mask

__all__ = ["BACKENDS", "from_dense", "resolve_backend", "spconv_available", "to_backend"]

BACKENDS = ("posekit", "spconv")
_SPCONV: list = []  # [True] / [False, why] once probed


def spconv_available() -> tuple[bool, str]:
    """``(True, "")`` when ``posekit.sparse.spconv_backend`` imports, else ``(False, why)``."""
    if not _SPCONV:
        try:
            from posekit.sparse import spconv_backend  # noqa: F401
        except Exception as err:  # ImportError, or spconv's own failure on this platform
            _SPCONV.extend([False, f"{type(err).__name__}: {err}"])
        else:
            _SPCONV.extend([True, ""])
    return _SPCONV[0], (_SPCONV[1] if len(_SPCONV) > 1 else "")


def resolve_backend(name: str) -> str:
    """``name`` if it can run here; ``"spconv"`` falls back to ``"posekit"`` with one warning."""
    if name not in BACKENDS:
        raise ValueError(f"backend: expected one of {BACKENDS}, got {name!r}")
    if name == "spconv":
        ok, why = spconv_available()
        if not ok:
            if len(_SPCONV) == 2:  # warn once
                warnings.warn(
                    f"spconv cannot be used ({why}); posekit's own sparse layers run instead",
                    RuntimeWarning,
                    stacklevel=2,
                )
                _SPCONV.append("warned")
            return "posekit"
    return name


def to_backend(x: SparseTensor, name: str) -> SparseTensor:
    """``x`` on backend ``name`` (``resolve_backend`` decides; the features are shared)."""
    name = resolve_backend(name)
    if name == x.backend:
        return x
    if name == "posekit":
        return SparseTensor(x.features, x.coords, x.shape, x.batch_size)
    from posekit.sparse import spconv_backend

    return spconv_backend.wrap(x)


def from_dense(
    x: torch.Tensor, mask: torch.Tensor | None = None, backend: str = "posekit"
) -> SparseTensor:
    """``(B, C, H, W)`` → ``SparseTensor`` of the pixels where ``mask (B, H, W)`` is true.

    ``mask`` defaults to ``active_mask(x)`` (any channel nonzero). The sites come from
    ``mask.nonzero()`` (row-major, contiguous), the features by boolean indexing of the
    channels-last view: no per-pixel loop. ``backend``: ``"posekit"`` or ``"spconv"``
    (``posekit.sparse.spconv_backend``).
    """
    if x.ndim != 4:
        raise ValueError(f"x: expected (B, C, H, W), got {tuple(x.shape)}")
    if mask is None:
        mask = active_mask(x)
    elif mask.shape != (x.shape[0], *x.shape[2:]) or mask.dtype != torch.bool:
        raise ValueError(
            f"mask: expected a bool (B, H, W) = {(x.shape[0], *x.shape[2:])}, "
            f"got {mask.dtype} {tuple(mask.shape)}"
        )
    coords = mask.nonzero().contiguous()
    features = x.permute(0, 2, 3, 1)[mask]
    out = SparseTensor(features, coords, tuple(x.shape[2:]), x.shape[0])
    return out if backend == "posekit" else to_backend(out, backend)
