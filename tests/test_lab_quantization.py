"""posekit.lab.quantization: the decoders' error per output stride on noise-free targets."""

from __future__ import annotations

import numpy as np

from posekit.lab.quantization import quantization_error_curve


def test_quantization_error_grows_linearly_with_stride():
    strides = (1, 2, 4, 8)
    err = quantization_error_curve(strides, "argmax", num_samples=300)
    assert err.shape == (4,)
    assert 0.3 < err[0] < 0.46  # ≈ 0.38 px at stride 1
    assert 3.3 < err[2] / err[0] < 4.7  # stride 4 ≈ 4× stride 1
    assert np.all(np.diff(err) > 0)
    quarter = quantization_error_curve((1, 4), "quarter", num_samples=300)
    assert np.all(quarter < err[[0, 2]])
    dark = quantization_error_curve((1, 4), "dark", num_samples=300)
    assert np.all(dark < 0.05)
