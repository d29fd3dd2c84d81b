"""How much a heatmap decoder loses to the grid: mean error per output stride (lesson 02's plot).

Noise-free Gaussian targets (``posekit.codecs.heatmap.gaussian_heatmaps``) of random sub-pixel
keypoints are decoded again; what is left is the decoder's quantisation error.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from posekit.codecs.heatmap import decode_heatmaps, gaussian_heatmaps

__all__ = ["quantization_error_curve"]


def quantization_error_curve(
    strides: Sequence = (1, 2, 4, 8),
    decoder: str | Callable = "argmax",
    input_size: int = 128,
    sigma: float = 2.0,
    num_samples: int = 500,
    seed: int | np.random.Generator = 0,
    unbiased: bool = True,
) -> np.ndarray:
    """Mean decoding error (input pixels) of noise-free Gaussian targets, per output stride.

    ``num_samples`` keypoints are drawn uniformly (sub-pixel) in the central part of a
    ``input_size²`` input, the same for every stride, at least 4 heatmap pixels from the
    border at the largest stride. For each stride ``s`` they are encoded with
    ``gaussian_heatmaps`` (σ in heatmap pixels, ``unbiased``) on the ``input_size / s`` map and
    decoded. With ``"argmax"`` the error is pure quantisation: ``≈ 0.38·s`` (the mean distance
    to the nearest pixel centre of a uniform point in a unit square is 0.3826 heatmap px), so
    it grows linearly with the stride; ``"dark"`` removes it.

    Args:
        strides: output strides (each must divide ``input_size``).
        decoder: a name of ``decode_heatmaps`` or a callable ``(heatmaps, stride) → (…, 3)``.
        input_size: side of the square input in pixels.
        sigma: target σ in heatmap pixels (also DARK's blur).
        num_samples: number of keypoints.
        seed: integer seed or numpy Generator.
        unbiased: target centre (see ``gaussian_heatmaps``).
    Returns:
        float64 array ``(len(strides),)`` of mean Euclidean errors in input pixels.
    """
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    strides = [int(s) for s in strides]
    if any(s <= 0 or input_size % s for s in strides):
        raise ValueError(f"strides: each must be a positive divisor of {input_size}, got {strides}")
    margin = 4 * max(strides)
    if input_size - 1 - 2 * margin <= 0:
        raise ValueError(f"input_size {input_size} is too small for stride {max(strides)}")
    xy = rng.uniform(margin, input_size - 1 - margin, size=(num_samples, 2))
    kp = np.concatenate([xy, np.full((num_samples, 1), 2.0)], axis=1)[None]
    errors = []
    for s in strides:
        side = input_size // s
        chunk = max(1, 2**20 // side**2)  # bound the memory: ~4 MB of maps at a time
        out = []
        for i in range(0, num_samples, chunk):
            maps, _ = gaussian_heatmaps(kp[:, i : i + chunk], (side, side), s, sigma, unbiased)
            if callable(decoder):
                out.append(np.asarray(decoder(maps, s))[0, :, :2])
            else:
                out.append(decode_heatmaps(maps, s, decoder, sigma=sigma)[0, :, :2])
        errors.append(float(np.linalg.norm(np.concatenate(out) - xy, axis=-1).mean()))
    return np.asarray(errors)
