"""Flip test: average a heatmap model's output with that of the mirrored image.

Used at evaluation by the Stacked Hourglass (Newell et al. 2016), Simple Baselines (Xiao et
al. 2018) and HRNet: run the model on the image and on its horizontal mirror, mirror the
second heatmaps back, swap each left joint's channel with its right partner, and average.

**The one-pixel shift.** posekit puts pixel centres at integer coordinates and maps input
``x`` to heatmap ``u = (x - (s-1)/2) / s`` (``posekit.codecs.heatmap``). Mirroring the image
sends ``x`` to ``W - 1 - x`` and hence ``u`` to ``w - 1 - u``: exactly the mirror of the
heatmap array, so **no shift** is needed. Simple Baselines / HRNet encode ``u = x / s``;
there the mirrored joint lands at ``w - 1/s - u``, about one heatmap pixel to the right of
the array's mirror, and their code shifts the flipped maps right by one pixel
(``output_flipped[..., 1:] = output_flipped[..., :-1]``). ``shift=1`` reproduces that for
models trained in that convention; with posekit's codecs it would move every joint by one
heatmap pixel (lesson 03 measures the damage).
"""

from __future__ import annotations

import torch
from torch import nn

from posekit.skeletons import get_skeleton

__all__ = ["FlipTest", "flip_heatmaps"]


def _flip_index(skeleton_or_index) -> torch.Tensor:
    if isinstance(skeleton_or_index, str) or hasattr(skeleton_or_index, "flip_permutation"):
        return torch.as_tensor(get_skeleton(skeleton_or_index).flip_permutation())
    index = torch.as_tensor(skeleton_or_index, dtype=torch.long)
    if index.ndim != 1 or sorted(index.tolist()) != list(range(len(index))):
        raise ValueError(
            f"flip_index: expected a skeleton name or a permutation of 0..K-1, got "
            f"{skeleton_or_index!r}"
        )
    return index


def flip_heatmaps(heatmaps: torch.Tensor, flip_index, shift: int = 0) -> torch.Tensor:
    """Heatmaps of a mirrored image → heatmaps in the original image's frame.

    Args:
        heatmaps: ``(B, K, h, w)`` predicted on ``image.flip(-1)``.
        flip_index: a skeleton (``"mpii16"``, ``"coco17"``…) or a permutation of ``0..K-1``
            that swaps left and right joints (``Skeleton.flip_permutation()``).
        shift: move the result this many heatmap pixels to the right (1 for the ``x / s``
            convention of Simple Baselines / HRNet; 0 for posekit's, see the module doc).
    Returns:
        ``(B, K, h, w)``: mirrored back along ``w``, channels permuted, shifted.
    """
    if heatmaps.ndim != 4:
        raise ValueError(f"heatmaps: expected (B, K, h, w), got {tuple(heatmaps.shape)}")
    index = _flip_index(flip_index).to(heatmaps.device)
    if len(index) != heatmaps.shape[1]:
        raise ValueError(
            f"flip_index: has {len(index)} joints but heatmaps have K = {heatmaps.shape[1]}"
        )
    out = heatmaps.flip(-1)[:, index]
    if shift:
        if not 0 < shift < out.shape[-1]:
            raise ValueError(f"shift: expected 0 <= shift < w = {out.shape[-1]}, got {shift}")
        out = torch.cat([out[..., :shift], out[..., :-shift]], dim=-1)
    return out


class FlipTest(nn.Module):
    """Wrap a heatmap model so that ``forward`` returns flip-test-averaged heatmaps.

    Args:
        model: returns ``(B, K, h, w)`` or a list of them (hourglass stacks: the last is used).
        flip_index: skeleton name or left/right permutation (see ``flip_heatmaps``).
        shift: see ``flip_heatmaps``.

    Shapes: ``(B, C, H, W)`` → ``(B, K, h, w)`` = ``(model(x) + flip_heatmaps(model(x
    mirrored))) / 2``. Use it wherever a model goes: ``engine.predict(FlipTest(net, "mpii16"),
    codec, data)``. It costs two forward passes.
    """

    def __init__(self, model: nn.Module, flip_index, shift: int = 0) -> None:
        super().__init__()
        self.model = model
        self.register_buffer("flip_index", _flip_index(flip_index), persistent=False)
        self.shift = int(shift)

    @staticmethod
    def _last(out):
        return out[-1] if isinstance(out, (list, tuple)) else out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        plain = self._last(self.model(x))
        mirrored = self._last(self.model(x.flip(-1)))
        return 0.5 * (plain + flip_heatmaps(mirrored, self.flip_index, self.shift))
