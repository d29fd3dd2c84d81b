"""Tests of posekit.skeletons against the joint tables of docs/datasets.md."""

from __future__ import annotations

import numpy as np
import pytest

from posekit import skeletons as S

# ----------------------------------------------------------------------------- joint orders


def test_mpii_order_matches_gt_valid_dataset_joints():
    # gt_valid.mat dataset_joints (docs/datasets.md § MPII Human Pose); "head" = head top,
    # "neck" = upper neck.
    names = "rank rkne rhip lhip lkne lank pelv thor neck head rwri relb rsho lsho lelb lwri"
    assert S.MPII16.labels == tuple(names.split())
    assert S.MPII16.joints[9] == "head_top" and S.MPII16.joints[8] == "upper_neck"
    assert S.MPII16.joints[0] == "right_ankle" and S.MPII16.joints[15] == "left_wrist"
    assert S.MPII16.joints[6] == "pelvis" and S.MPII16.joints[7] == "thorax"


def test_lsp_order():
    lsp = S.LSP14
    assert lsp.num_joints == 14
    assert lsp.joints[12] == "upper_neck" and lsp.labels[12] == "neck"  # 1-based 13
    assert lsp.joints[13] == "head_top"  # 1-based 14
    assert lsp.joints[0] == "right_ankle" and lsp.joints[6] == "right_wrist"
    # Torso diameter pair of the LSP protocol: gt(:,10) L shoulder and gt(:,3) R hip (1-based).
    assert lsp.index("left_shoulder") == 9 and lsp.index("right_hip") == 2


def test_coco_order():
    assert S.COCO17.num_joints == 17
    assert S.COCO17.joints[0] == "nose"
    assert S.COCO17.joints[5] == "left_shoulder" and S.COCO17.joints[16] == "right_ankle"


def test_openpose_order():
    op = S.OPENPOSE18
    assert op.num_joints == 18
    assert op.joints[1] == "neck"
    assert op.labels == (
        "Nose", "Neck", "RShoulder", "RElbow", "RWrist", "LShoulder", "LElbow", "LWrist",
        "RHip", "RKnee", "RAnkle", "LHip", "LKnee", "LAnkle", "REye", "LEye", "REar", "LEar",
    )  # fmt: skip


def test_sphp_dhp19_order():
    sphp = S.get_skeleton("sphp")
    assert sphp is S.get_skeleton("dhp19")
    assert sphp.labels == (
        "head", "shoulderR", "shoulderL", "elbowR", "elbowL", "hipR", "hipL",
        "handR", "handL", "kneeR", "kneeL", "footR", "footL",
    )  # fmt: skip
    assert sphp.labels[7] == "handR" and sphp.joints[7] == "right_wrist"


def test_humaneva_order_and_videopose3d_parents():
    he = S.HUMANEVA15
    assert he.joints[0] == "pelvis" and he.joints[1] == "thorax" and he.joints[14] == "head_top"
    parents = [-1, 0, 1, 2, 3, 1, 5, 6, 0, 8, 9, 0, 11, 12, 1]
    assert set(he.limbs) == {(p, c) for c, p in enumerate(parents) if p >= 0}
    left = {he.joints[i] for i in (2, 3, 4, 8, 9, 10)}
    right = {he.joints[i] for i in (5, 6, 7, 11, 12, 13)}
    assert all(n.startswith("left_") for n in left) and all(n.startswith("right_") for n in right)


# ----------------------------------------------------------------------------- flips, limbs


def test_mpii_flip_pairs_equal_hrnet():
    assert [list(p) for p in S.MPII16.flip_pairs] == [
        [0, 5], [1, 4], [2, 3], [10, 15], [11, 14], [12, 13],
    ]  # fmt: skip


def test_coco_flip_pairs_equal_hrnet():
    assert [list(p) for p in S.COCO17.flip_pairs] == [[2 * i + 1, 2 * i + 2] for i in range(8)]


def test_sphp_flip_permutation():
    perm = S.SPHP13.flip_permutation()
    assert perm.tolist() == [0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11]


def test_mpii_limbs_equal_hrnet_parent_ids():
    parent_ids = [1, 2, 6, 6, 3, 4, 6, 6, 7, 8, 11, 12, 7, 7, 13, 14]
    expected = {frozenset((c, p)) for c, p in enumerate(parent_ids) if c != p}
    assert {frozenset(limb) for limb in S.MPII16.limbs} == expected


def test_openpose_limbs_equal_cmu_limbseq():
    limb_seq = [
        [2, 3], [2, 6], [3, 4], [4, 5], [6, 7], [7, 8], [2, 9], [9, 10], [10, 11], [2, 12],
        [12, 13], [13, 14], [2, 1], [1, 15], [15, 17], [1, 16], [16, 18], [3, 17], [6, 18],
    ]  # fmt: skip
    limbs = S.OPENPOSE18.limbs
    assert len(limbs) == 19 and 2 * len(limbs) == 38  # 38 PAF channels
    assert [list(limb) for limb in limbs] == [[a - 1, b - 1] for a, b in limb_seq]


def test_coco_limbs_equal_one_based_skeleton():
    skeleton = [
        [16, 14], [14, 12], [17, 15], [15, 13], [12, 13], [6, 12], [7, 13], [6, 7], [6, 8],
        [7, 9], [8, 10], [9, 11], [2, 3], [1, 2], [1, 3], [2, 4], [3, 5], [4, 6], [5, 7],
    ]  # fmt: skip
    assert [list(limb) for limb in S.COCO17.limbs] == [[a - 1, b - 1] for a, b in skeleton]
    assert len(S.COCO17.limb_colors) == 19


# ----------------------------------------------------------------------------- conversions


def _coco_people(n: int = 3, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    kp = np.zeros((n, 17, 3), np.float32)
    kp[..., :2] = rng.uniform(0, 200, size=(n, 17, 2))
    kp[..., 2] = rng.choice([0, 1, 2], size=(n, 17))
    kp[kp[..., 2] == 0, :2] = 0
    return kp


def test_coco_to_openpose_neck_is_mid_shoulders_with_min_v():
    kp = np.zeros((17, 3), np.float32)
    kp[5] = (100, 50, 2)  # left shoulder
    kp[6] = (60, 70, 1)  # right shoulder, occluded
    op = S.convert(kp, "coco", "openpose")
    np.testing.assert_allclose(op[1], [80, 60, 1])
    kp[6, 2] = 0  # one shoulder unlabelled -> no neck
    np.testing.assert_array_equal(S.convert(kp, "coco", "openpose")[1], [0, 0, 0])


def test_coco_to_mpii_head_top_is_unlabelled():
    mpii = S.convert(_coco_people(), "coco17", "mpii16")
    assert mpii.shape == (3, 16, 3) and mpii.dtype == np.float32
    assert (mpii[:, 9] == 0).all()  # head top
    assert (mpii[:, 8, 2] == 0).all()  # upper neck


def test_mpii_to_coco_face_is_unlabelled():
    mpii = np.ones((2, 16, 3), np.float32) * 2
    coco = S.convert(mpii, "mpii", "coco")
    assert (coco[:, 0:5, 2] == 0).all()  # nose, eyes, ears
    assert (coco[:, 5:, 2] == 2).all()


def test_coco_openpose_round_trip_is_identity():
    kp = _coco_people(5)
    back = S.convert(S.convert(kp, "coco", "openpose"), "openpose", "coco")
    np.testing.assert_array_equal(back, kp)
    np.testing.assert_array_equal(S.convert(kp[0], "coco", "coco"), kp[0])  # single pose


def test_flip_keypoints_maps_x_and_swaps_sides():
    kp = _coco_people(2)
    kp[:, 5] = (10, 20, 2)  # left shoulder
    kp[:, 6] = (30, 40, 1)  # right shoulder
    width = 64
    flipped = S.flip_keypoints(kp, width, "coco")
    np.testing.assert_allclose(flipped[:, 5], [[width - 1 - 30, 40, 1]] * 2)
    np.testing.assert_allclose(flipped[:, 6], [[width - 1 - 10, 20, 2]] * 2)
    np.testing.assert_allclose(flipped[:, 0, 1], kp[:, 0, 1])  # nose stays, y unchanged


@pytest.mark.parametrize("name", sorted(S.SKELETONS))
def test_flip_twice_is_identity(name):
    sk = S.get_skeleton(name)
    rng = np.random.default_rng(1)
    kp = np.zeros((4, sk.num_joints, 3), np.float32)
    kp[..., :2] = rng.integers(0, 400, size=(4, sk.num_joints, 2)) / 4  # exact in float32
    kp[..., 2] = rng.choice([0, 1, 2], size=(4, sk.num_joints))
    kp[kp[..., 2] == 0, :2] = 0
    np.testing.assert_array_equal(S.flip_keypoints(S.flip_keypoints(kp, 100, sk), 100, sk), kp)


def test_flip_zeroes_unlabelled_joints():
    kp = np.ones((17, 3), np.float32) * 5
    kp[3] = (-1, -1, 0)  # e.g. HRNet's MPII "not labelled" marker
    flipped = S.flip_keypoints(kp, 100, "coco")
    np.testing.assert_array_equal(flipped[4], [0, 0, 0])


def test_convert_zeroes_unlabelled_joints():
    kp = np.ones((17, 3), np.float32) * 5
    kp[0] = (-1, -1, 0)
    assert S.convert(kp, "coco17", "openpose18")[0].tolist() == [0, 0, 0]


# ----------------------------------------------------------------------------- bad input


def test_unknown_set_lists_known_names():
    with pytest.raises(KeyError, match="known: .*coco17.*mpii16"):
        S.get_skeleton("h36m")


def test_unknown_joint_name():
    with pytest.raises(KeyError, match="no joint 'tail'"):
        S.COCO17.index("tail")
    assert S.MPII16.index("head") == 9  # the dataset's own label works too


def test_wrong_shapes_raise_value_error():
    with pytest.raises(ValueError, match=r"keypoints: expected shape \(N, 17, 3\)"):
        S.convert(np.zeros((2, 16, 3)), "coco", "mpii")
    with pytest.raises(ValueError, match="keypoints"):
        S.convert(np.zeros((2, 17, 2)), "coco", "mpii")
    with pytest.raises(ValueError, match="keypoints"):
        S.flip_keypoints(np.zeros((2, 16, 3)), 100, "coco")


# ----------------------------------------------------------------------------- registration


def test_register_adds_a_joint_set_and_synth_registers_its_own():
    import posekit.synth as synth  # registers "synth" on import

    assert S.get_skeleton("SYNTH") is synth.SYNTH_SKELETON
    assert "synth" not in S.SKELETONS  # the datasets' sets stay as they are
    assert S.register(synth.SYNTH_SKELETON) is synth.SYNTH_SKELETON  # again: a no-op
    other = S.Skeleton("coco17", ("a", "b"), ("a", "b"), ((0, 1),))
    with pytest.raises(ValueError, match="'coco17' is taken"):
        S.register(other)
    with pytest.raises(ValueError, match="'coco' is taken"):
        S.register(S.Skeleton("coco", ("a",), ("a",), ()))
    with pytest.raises(TypeError):
        S.register("synth")
    tail = S.Skeleton("test_tail", ("a", "tail"), ("a", "tail"), ((0, 1),))
    try:
        assert S.register(tail) is tail and S.get_skeleton("test_tail") is tail
    finally:
        S._REGISTERED.pop("test_tail")
