"""posekit.widgets: explorer logic, driven by setting control values (no browser)."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from posekit.skeletons import get_skeleton  # noqa: E402
from posekit.widgets import (  # noqa: E402
    DEFAULT_CANVAS_HW,
    DEFAULT_PERSON_COCO17,
    GaussianExplorer,
    SkeletonExplorer,
)

COCO = get_skeleton("coco17")


def test_skeleton_explorer_renders_once_with_defaults():
    explorer = SkeletonExplorer()
    result = explorer.result
    assert result["image"].shape == (*DEFAULT_CANVAS_HW, 3) and result["image"].dtype == np.uint8
    assert result["joint_set"] == "coco17" and result["missing"] == []
    assert result["highlight"] == "left_wrist"
    assert result["highlight_xy"] == tuple(DEFAULT_PERSON_COCO17[COCO.index("left_wrist"), :2])
    assert explorer.widget.children[1] is explorer.output


def test_skeleton_explorer_flip_moves_left_wrist_to_the_right():
    explorer = SkeletonExplorer()
    width = DEFAULT_CANVAS_HW[1]
    x, y, _ = DEFAULT_PERSON_COCO17[COCO.index("left_wrist")]
    explorer.controls["flip"].value = True
    kp = explorer.result["keypoints"][0]
    assert tuple(kp[COCO.index("right_wrist"), :2]) == (width - 1 - x, y)
    right_x = DEFAULT_PERSON_COCO17[COCO.index("right_wrist"), 0]
    assert explorer.result["highlight_xy"][0] == width - 1 - right_x
    before = SkeletonExplorer().result["image"]
    assert not np.array_equal(explorer.result["image"], before)


def test_skeleton_explorer_mpii_reports_underivable_joints():
    explorer = SkeletonExplorer()
    explorer.controls["joint_set"].value = "mpii16"
    result = explorer.result
    assert result["joint_set"] == "mpii16"
    assert sorted(result["missing"]) == ["head_top", "upper_neck"]
    assert explorer.controls["highlight"].options == get_skeleton("mpii16").joints
    assert result["highlight"] == "left_wrist"  # kept: mpii16 has it too
    explorer.controls["highlight"].value = "pelvis"  # derived from the hips
    hips = DEFAULT_PERSON_COCO17[[COCO.index("left_hip"), COCO.index("right_hip")], :2]
    assert explorer.result["highlight_xy"] == pytest.approx(tuple(hips.mean(axis=0)))
    explorer.controls["highlight"].value = "head_top"
    assert explorer.result["highlight_xy"] is None


def test_skeleton_explorer_switching_sets_updates_once_and_keeps_or_resets_highlight():
    explorer = SkeletonExplorer()
    calls = []
    original = explorer.render
    explorer.render = lambda **p: calls.append(p) or original(**p)
    explorer.controls["joint_set"].value = "sphp13"
    assert len(calls) == 1 and calls[0]["joint_set"] == "sphp13"
    explorer.controls["highlight"].value = "head"
    explorer.controls["joint_set"].value = "lsp14"  # lsp14 has no "head": first joint
    assert explorer.result["highlight"] == get_skeleton("lsp14").joints[0]


def test_skeleton_explorer_labels_and_custom_input():
    image = np.zeros((100, 80, 3), np.uint8)
    kp = np.zeros((16, 3), np.float32)
    kp[get_skeleton("mpii16").index("head_top")] = (40, 10, 2)
    explorer = SkeletonExplorer(kp, image, source="mpii16")
    explorer.controls["highlight"].value = "head_top"
    assert explorer.result["highlight_xy"] == (40.0, 10.0)
    explorer.controls["labels"].value = True
    fig = explorer.figure(explorer.result)
    assert [t.get_text() for t in fig.axes[0].texts] == ["head_top"]
    with pytest.raises(ValueError, match="keypoints: "):
        SkeletonExplorer(np.zeros((17, 3)), source="mpii16")


def test_gaussian_explorer_defaults_and_heatmap():
    explorer = GaussianExplorer()
    result = explorer.result
    assert result["heatmap"].shape == (16, 16)  # 64 px at stride 4
    assert result["heatmap"].max() <= 1.0
    assert result["error"] <= np.sqrt(2) * 4 / 2 + 1e-6  # within half a cell
    decoded = np.array(result["decoded"])
    assert np.allclose((decoded - 1.5) % 4, 0)  # a heatmap pixel centre at stride 4


def test_gaussian_explorer_error_grows_with_stride():
    explorer = GaussianExplorer()
    errors = []
    for stride in (1, 2, 4, 8):
        explorer.controls["stride"].value = stride
        assert explorer.result["stride"] == stride
        assert explorer.result["heatmap"].shape == (64 // stride, 64 // stride)
        errors.append(explorer.result["mean_error"])
    assert errors == sorted(errors) and errors[-1] > 4 * errors[0]
    assert errors[0] == pytest.approx(0.38, abs=0.05)  # E|uniform error in a unit square|


def test_gaussian_explorer_sigma_widens_but_does_not_move_the_argmax():
    explorer = GaussianExplorer()
    narrow = explorer.result
    explorer.controls["sigma"].value = 4.0
    wide = explorer.result
    assert (wide["heatmap"] > 0.5).sum() > (narrow["heatmap"] > 0.5).sum()
    assert wide["decoded"] == narrow["decoded"] and wide["error"] == narrow["error"]


def test_gaussian_explorer_exact_keypoint_on_a_pixel_centre_has_no_error():
    explorer = GaussianExplorer()
    with explorer.hold():
        explorer.controls["stride"].value = 4
        explorer.controls["x"].value = 9.5  # heatmap column 2 at stride 4
        explorer.controls["y"].value = 1.5
    assert explorer.result["error"] == pytest.approx(0.0)
    assert explorer.result["decoded"] == (9.5, 1.5)
    assert explorer.figure(explorer.result).axes[0].get_title().startswith("stride 4")


# --------------------------------------------------------------------------- PoseCameraExplorer


@pytest.fixture(scope="module")
def pose_explorer():
    from posekit.widgets import PoseCameraExplorer

    return PoseCameraExplorer(n_frames=8, size=(96, 96))


def test_pose_explorer_frontal_person_is_fully_visible(pose_explorer):
    r = pose_explorer.result
    assert r["keypoints"].shape == (1, 17, 3) and r["action"] == "squat"
    assert (r["visible"], r["occluded"], r["outside"]) == (17, 0, 0)


def test_pose_explorer_profile_view_hides_the_far_side(pose_explorer):
    pose_explorer.controls["yaw"].value = 90
    r = pose_explorer.result
    assert r["occluded"] >= 4  # far eye, ear, arm joints are behind the body
    pose_explorer.controls["yaw"].value = 0


def test_pose_explorer_frames_move_and_joint_sets_convert(pose_explorer):
    pose_explorer.controls["action"].value = 13  # jumping jack: the arms move a lot
    first = pose_explorer.result["keypoints"].copy()
    pose_explorer.controls["frame"].value = 3
    assert np.abs(pose_explorer.result["keypoints"][..., :2] - first[..., :2]).max() > 3
    pose_explorer.controls["joint_set"].value = "mpii16"
    assert pose_explorer.result["keypoints"].shape == (1, 16, 3)
    assert pose_explorer.result["outside"] == 0  # SynthPose has every MPII joint
