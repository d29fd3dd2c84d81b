"""posekit.geometry: one definition of the frame maths that datasets, codecs and models share."""

from __future__ import annotations

import numpy as np
import torch

from posekit import geometry
from posekit.codecs import regression
from posekit.datasets import synthpose, transforms
from posekit.models import deeppose


def test_datasets_codecs_and_models_use_the_same_functions():
    assert transforms.affine_matrix is geometry.affine_matrix
    assert transforms.invert_affine is geometry.invert_affine
    assert transforms.PIXEL_STD is geometry.PIXEL_STD
    assert deeppose.affine_matrix is geometry.affine_matrix
    for name in ("to_box_frame", "from_box_frame", "to_input_frame",
                 "from_input_frame"):  # fmt: skip
        assert getattr(regression, name) is getattr(geometry, name)
    assert synthpose.IMAGENET_MEAN is geometry.IMAGENET_MEAN
    assert synthpose.IMAGENET_STD is geometry.IMAGENET_STD


def test_box_normalisation_round_trips_and_centres_the_crop():
    kp = np.array([[[0.0, 0.0, 2.0], [63.0, 47.0, 1.0]]], np.float32)
    u = geometry.to_input_frame(kp, (64, 48))
    np.testing.assert_allclose(u[0, :, :2], [[0.5 / 64, 0.5 / 48], [63.5 / 64, 47.5 / 48]])
    np.testing.assert_array_equal(u[..., 2], kp[..., 2])  # v passes through
    back = geometry.from_input_frame(torch.from_numpy(u), (64, 48))
    assert isinstance(back, torch.Tensor)
    np.testing.assert_allclose(back.numpy(), kp, atol=1e-5)
    centre = geometry.affine_matrix((10.0, 20.0), 0.32, 0.0, (64, 48)) @ [10.0, 20.0, 1.0]
    np.testing.assert_allclose(centre, [31.5, 23.5])
