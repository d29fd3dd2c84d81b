"""CascadeExplorer (lesson 01): stepping through a DeepPose cascade by setting control values."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from posekit.models.deeppose import DeepPose, DeepPoseCascade  # noqa: E402
from posekit.skeletons import get_skeleton  # noqa: E402
from posekit.widgets import CascadeExplorer  # noqa: E402

MPII = get_skeleton("mpii16")


@pytest.fixture(scope="module")
def setup():
    torch.manual_seed(0)
    stage1 = DeepPose(16, input_size=64, width_mult=0.125, fc_dim=32, dropout=0.0)
    cascade = DeepPoseCascade(
        stage1, num_stages=3, sigma=1.5, crop_size=40, skeleton="mpii16", dropout=0.0
    )
    rng = np.random.default_rng(0)
    images = torch.randn(3, 3, 64, 64)
    gt = np.zeros((3, 16, 3), np.float32)
    gt[..., :2] = rng.uniform(8, 56, (3, 16, 2))
    gt[..., 2] = 2
    gt[1, 5, :] = 0  # an unlabelled joint
    heads = np.array([[[20.0, 5.0], [32.0, 17.0]]] * 3)
    return cascade, images, gt, heads


def test_renders_the_last_stage_of_the_first_image_on_creation(setup):
    cascade, images, gt, heads = setup
    explorer = CascadeExplorer(cascade, images, gt, heads)
    r = explorer.result
    assert (r["index"], r["stage"], r["joint"]) == (0, 3, "all")
    assert r["image"].shape == (64, 64, 3) and r["image"].dtype == np.uint8
    assert r["estimate"].shape == (16, 2) and r["boxes"].shape == (16, 4)
    assert len(r["stage_errors"]) == 3 and len(r["stage_pckh"]) == 3
    assert r["crop"] is None
    with torch.inference_mode():
        final = cascade(images[:1])[0].double().numpy()
    np.testing.assert_allclose(r["estimate"], final, atol=1e-4)
    assert explorer.widget.children[1] is explorer.output


def test_stage_one_has_no_crops_and_matches_the_initial_regression(setup):
    cascade, images, gt, heads = setup
    explorer = CascadeExplorer(cascade, images, gt, heads)
    explorer.controls["stage"].value = 1
    r = explorer.result
    assert r["previous"] is None and r["boxes"] is None and r["side"] is None
    with torch.inference_mode():
        initial = cascade.initial(images[:1])[0].double().numpy()
    np.testing.assert_allclose(r["estimate"], initial, atol=1e-4)
    expected = np.linalg.norm(initial - gt[0, :, :2], axis=-1).mean()
    assert r["mean_error"] == pytest.approx(expected, rel=1e-5)
    assert r["stage_errors"][0] == pytest.approx(expected, rel=1e-5)


def test_crop_boxes_are_centred_on_the_previous_stage_with_side_sigma_diam(setup):
    cascade, images, gt, heads = setup
    explorer = CascadeExplorer(cascade, images, gt, heads)
    explorer.controls["stage"].value = 2
    r = explorer.result
    prev = explorer.stages(0)[0]
    np.testing.assert_allclose(r["previous"], prev)
    centres = (r["boxes"][:, :2] + r["boxes"][:, 2:]) / 2
    np.testing.assert_allclose(centres, prev, atol=1e-9)
    sides = r["boxes"][:, 2:] - r["boxes"][:, :2]
    diam = cascade.diameter(torch.as_tensor(prev[None]), images[:1])
    np.testing.assert_allclose(sides, 1.5 * float(diam[0]), rtol=1e-6)
    assert r["side"] == pytest.approx(1.5 * float(diam[0]))


def test_choosing_a_joint_shows_its_crop_with_the_previous_estimate_at_the_centre(setup):
    cascade, images, gt, heads = setup
    explorer = CascadeExplorer(cascade, images, gt, heads)
    with explorer.hold():
        explorer.controls["stage"].value = 2
        explorer.controls["joint"].value = "left_wrist"
    r = explorer.result
    assert r["crop"].shape == (40, 40, 3) and r["crop"].dtype == np.uint8
    assert r["crop_points"]["previous"] == pytest.approx((19.5, 19.5))
    # the refined point sits where the displacement moved it, in crop pixels
    j = MPII.index("left_wrist")
    move = (r["estimate"][j] - r["previous"][j]) * 40 / r["side"]
    assert r["crop_points"]["estimate"] == pytest.approx(tuple(19.5 + move), abs=1e-6)
    assert r["crop_points"]["gt"] is not None


def test_changing_the_image_reuses_the_cache_and_skips_unlabelled_joints(setup):
    cascade, images, gt, heads = setup
    explorer = CascadeExplorer(cascade, images, gt, heads)
    explorer.controls["index"].value = 1
    r = explorer.result
    assert r["index"] == 1 and np.isnan(r["errors"][5])
    assert np.isfinite(r["mean_error"])
    assert set(explorer._cache) == {0, 1}
    before = explorer.stages(1)
    explorer.controls["stage"].value = 1
    assert explorer.stages(1) is before


def test_without_head_boxes_there_is_no_pckh(setup):
    cascade, images, gt, _ = setup
    explorer = CascadeExplorer(cascade, images, gt)
    assert explorer.result["pckh"] is None
    assert explorer.result["stage_pckh"] == [None, None, None]


def test_bad_keypoints_shape_is_a_clear_error(setup):
    cascade, images, gt, _ = setup
    with pytest.raises(ValueError, match="keypoints"):
        CascadeExplorer(cascade, images, gt[:, :14])
