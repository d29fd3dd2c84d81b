"""SynthPose: determinism, shapes, visibility, kinematics, motions, joint-set conversions."""

from __future__ import annotations

import numpy as np
import pytest

from posekit.skeletons import SKELETONS, convert
from posekit.synth import (
    ACTION_CLASSES,
    ACTIONS,
    DOF_NAMES,
    LIMITS,
    SYNTH_JOINTS,
    SYNTH_SKELETON,
    Camera,
    SynthConfig,
    SynthPose,
    body_shape,
    identity_from_id,
    look_at,
    motion_sequence,
    neutral_pose,
    pose_points,
    random_pose,
    render_people,
    sample_people,
    sample_person,
    sample_rng,
    sample_scene,
    sample_sequence,
    segment_lengths,
    synth_to,
)
from posekit.synth import body as B
from posekit.synth.body import DOF_INDEX, JOINT_INDEX

K = len(SYNTH_JOINTS)
GREEN = (0, 255, 0)
PLAIN = SynthConfig(background="plain", bg_color=GREEN)
LIMB_JOINTS = [JOINT_INDEX[f"{s}_{j}"] for s in ("left", "right")
               for j in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle")]  # fmt: skip


def _deg(name: str) -> int:
    return DOF_INDEX[name]


def _frontal(angles=None, yaw=0.0, size=(160, 160), identity=3):
    """One person rendered by hand: camera 4 m in front of the body centre, plain green."""
    shape = body_shape(identity_from_id(identity))
    angles = neutral_pose() if angles is None else angles
    pts, _ = pose_points([shape], angles, np.array([yaw, 0.0, 0.0]), np.zeros(3))
    centre = pts[0, :K].mean(0)
    R, t = look_at(centre + np.array([0.0, 0.0, 4.0]), centre)
    w, h = size
    cam = Camera(1.1 * h, 1.1 * h, (w - 1) / 2, (h - 1) / 2, R, t, w, h)
    img = np.full((h, w, 3), GREEN, np.uint8)
    return img, render_people(img, [shape], pts, cam), shape


# --------------------------------------------------------------------------------------------
# Determinism and shapes
# --------------------------------------------------------------------------------------------
def _same(a, b) -> bool:
    return all(np.array_equal(getattr(a, f), getattr(b, f))
               for f in ("image", "keypoints", "joints3d", "bbox", "head_box"))  # fmt: skip


def test_person_scene_sequence_deterministic_by_seed():
    assert _same(sample_person(7), sample_person(7))
    assert not np.array_equal(sample_person(7).image, sample_person(8).image)
    assert _same(sample_scene(3, num_people=4), sample_scene(3, num_people=4))
    assert not np.array_equal(sample_scene(3).image, sample_scene(4).image)
    a, b = (sample_sequence(5, 9, n_frames=6, fps=15, size=(96, 72)) for _ in range(2))
    assert np.array_equal(a.images, b.images) and np.array_equal(a.keypoints, b.keypoints)
    c = sample_sequence(6, 9, n_frames=6, fps=15, size=(96, 72))
    assert not np.array_equal(a.images, c.images)


def test_sample_i_is_independent_of_call_order_and_batching():
    ds = SynthPose(seed=11, kind="person", length=100)
    forward = [ds[i] for i in (3, 4, 5)]
    backward = [ds[i] for i in (5, 4, 3)][::-1]
    batched = ds.__getitems__([3, 4, 5])
    for f, b, s in zip(forward, backward, batched, strict=True):
        assert _same(f, b) and _same(f, s)
    assert _same(ds[4], sample_person(sample_rng(11, 4)))
    with pytest.raises(IndexError):
        ds[100]


def test_batched_crops_equal_single_crops():
    # one crop takes plain-Python shortcuts (boxes, face, draw order) where a batch uses numpy:
    # enough crops for every hair style, clothing texture and facing direction
    seeds = [sample_rng(2, i) for i in range(40)]
    batch = sample_people(seeds)
    for i, s in enumerate(batch):
        assert _same(s, sample_person(sample_rng(2, i)))


def test_sample_rng_is_default_rng_of_seed_and_index():
    for seed, index in ((0, 5), (3, 2**32 + 7), (2**33, 1), (2**32 - 1, 2**32 - 1)):
        a, b = sample_rng(seed, index), np.random.default_rng([seed, index])
        assert np.array_equal(a.random(8), b.random(8))


def test_sample_shapes_and_dtypes():
    s = sample_person(0, size=(96, 128))
    assert s.image.shape == (128, 96, 3) and s.image.dtype == np.uint8
    assert s.keypoints.shape == (1, K, 3) and s.keypoints.dtype == np.float32
    assert s.joints3d.shape == (1, K, 3) and s.joints2d.shape == (1, K, 2)
    assert s.bbox.shape == (1, 4) and s.head_box.shape == (1, 2, 2)
    assert s.center.shape == (1, 2) and s.scale.shape == (1,) and s.identity.shape == (1,)
    assert s.angles.shape == (1, len(DOF_NAMES))
    sc = sample_scene(1, size=(120, 80), num_people=7)
    assert sc.image.shape == (80, 120, 3) and sc.keypoints.shape == (7, K, 3)
    assert sc.bbox.shape == (7, 4) and sc.num_people == 7
    sq = sample_sequence(0, 12, n_frames=5, fps=10, size=(64, 48))
    assert sq.images.shape == (5, 48, 64, 3) and sq.keypoints.shape == (5, 1, K, 3)
    assert sq.motion2d.shape == (5, 1, K, 2) and sq.angles.shape == (5, len(DOF_NAMES))
    assert (sq.action, sq.action_class, sq.fps) == (12, "C4", 10.0)
    np.testing.assert_allclose(sq.motion2d[1:], np.diff(sq.joints2d, axis=0), atol=1e-4)
    assert np.all(sq.motion2d[0] == 0)


def test_projection_convention():
    s = sample_person(4)
    p = s.joints3d[0].astype(np.float64)
    uv = p[:, :2] / p[:, 2:] * [s.camera.fx, s.camera.fy] + [s.camera.cx, s.camera.cy]
    np.testing.assert_allclose(s.joints2d[0], uv, atol=1e-3)
    vis = s.keypoints[0, :, 2] > 0
    np.testing.assert_allclose(s.keypoints[0, vis, :2], s.joints2d[0, vis], atol=1e-6)
    assert np.all(s.keypoints[0, ~vis, :2] == 0)


# --------------------------------------------------------------------------------------------
# Visibility, boxes
# --------------------------------------------------------------------------------------------
def test_visible_limb_keypoints_lie_on_the_body():
    for seed in range(12):
        s = sample_person(seed, config=PLAIN)
        kp = s.keypoints[0]
        for j in LIMB_JOINTS:
            if kp[j, 2] == 2:
                x, y = np.rint(kp[j, :2]).astype(int)
                assert tuple(s.image[y, x]) != GREEN, (seed, SYNTH_JOINTS[j])


def test_limb_behind_the_torso_is_occluded():
    a = neutral_pose()
    a[_deg("left_shoulder_flex")], a[_deg("left_shoulder_abd")] = np.deg2rad([-40, -20])
    a[_deg("left_shoulder_rot")], a[_deg("left_elbow")] = np.deg2rad([-60, 100])
    _, ann, _ = _frontal(a)
    v = ann.keypoints[0, :, 2]
    assert v[JOINT_INDEX["left_wrist"]] == 1 and v[JOINT_INDEX["left_elbow"]] == 1
    assert v[JOINT_INDEX["right_wrist"]] == 2
    _, side, _ = _frontal(yaw=np.pi / 2)  # right side towards the camera
    v = side.keypoints[0, :, 2]
    for j in ("left_shoulder", "left_elbow", "left_wrist", "left_knee", "left_eye"):
        assert v[JOINT_INDEX[j]] == 1, j
    for j in ("right_shoulder", "right_elbow", "right_wrist", "right_knee", "right_eye"):
        assert v[JOINT_INDEX[j]] == 2, j


def test_joints_outside_the_image_have_v0():
    cfg = SynthConfig(fill=(1.8, 1.8), truncate_prob=0.0, center_jitter=0.0)
    s = sample_person(1, config=cfg)
    uv, v = s.joints2d[0], s.keypoints[0, :, 2]
    outside = (uv[:, 0] < -0.5) | (uv[:, 0] >= 127.5) | (uv[:, 1] < -0.5) | (uv[:, 1] >= 127.5)
    assert outside.any() and np.all(v[outside] == 0) and np.all(v[~outside] > 0)
    assert np.all(s.keypoints[0, outside] == 0)
    for seed in range(5):  # the same holds everywhere
        sc = sample_scene(seed, num_people=6)
        uv, v = sc.joints2d, sc.keypoints[..., 2]
        inside = (uv[..., 0] >= -0.5) & (uv[..., 0] < 455.5) & (uv[..., 1] >= -0.5)
        inside &= uv[..., 1] < 255.5
        assert np.array_equal(v > 0, inside)


def test_people_occlude_each_other_in_scenes():
    occluded = 0
    for seed in range(6):
        sc = sample_scene(seed, num_people=8)
        assert set(np.unique(sc.keypoints[..., 2])) <= {0.0, 1.0, 2.0}
        occluded += int((sc.keypoints[..., 2] == 1).sum())
    assert occluded > 0


def test_bbox_is_tight_around_the_rendered_person():
    for seed in range(6):
        s = sample_person(seed, config=replace_cfg(PLAIN, truncate_prob=0.0))
        diff = np.abs(s.image.astype(int) - GREEN).sum(-1)
        ys, xs = np.nonzero(diff > 60)  # ignore the faint anti-aliasing fringe
        x, y, w, h = s.bbox[0]
        tol = 1.6  # OpenCV's anti-aliased edges reach about one pixel past the outline
        assert xs.min() >= x - tol and xs.max() <= x + w + tol
        assert ys.min() >= y - tol and ys.max() <= y + h + tol
        assert abs(xs.min() - x) < 2 and abs(ys.max() - (y + h)) < 2
        assert s.scale[0] * 200 >= h - 1e-3  # unclipped height, equal unless truncated


def replace_cfg(cfg: SynthConfig, **kw) -> SynthConfig:
    from dataclasses import replace

    return replace(cfg, **kw)


def test_mpii_head_box_contains_head_top_and_upper_neck():
    samples = [sample_person(i) for i in range(5)] + [sample_scene(i) for i in range(2)]
    for s in samples:
        (x1, y1), (x2, y2) = s.head_box[:, 0].T, s.head_box[:, 1].T
        assert np.all(x2 > x1) and np.all(y2 > y1)
        for name in ("head_top", "upper_neck", "head", "nose"):
            p = s.joints2d[:, JOINT_INDEX[name]]
            assert np.all((p[:, 0] >= x1 - 1e-3) & (p[:, 0] <= x2 + 1e-3)), name
            assert np.all((p[:, 1] >= y1 - 1e-3) & (p[:, 1] <= y2 + 1e-3)), name


# --------------------------------------------------------------------------------------------
# Body model and joint sets
# --------------------------------------------------------------------------------------------
def test_frontal_person_converts_to_every_joint_set_without_missing_joints():
    _, ann, _ = _frontal()
    kp = ann.keypoints
    assert np.all(kp[..., 2] == 2)
    for name, sk in SKELETONS.items():
        out = synth_to(name, kp)
        assert out.shape == (1, sk.num_joints, 3)
        assert np.all(out[..., 2] > 0), name
        np.testing.assert_array_equal(out, convert(kp, SYNTH_SKELETON, name))
    assert synth_to("sphp13", ann.joints3d).shape == (1, 13, 3)
    np.testing.assert_array_equal(synth_to("coco17", kp), kp[:, :17])


def test_proportions_follow_drillis_contini():
    shape = body_shape(identity_from_id(0))
    pts, _ = pose_points([shape], np.zeros(len(DOF_NAMES)), np.zeros(3), np.zeros(3))
    height = pts[0, JOINT_INDEX["head_top"], 1]
    assert abs(height - shape.identity.height) < 0.03 * shape.identity.height
    expected = {"left_shoulder": 0.818, "left_elbow": 0.630, "left_wrist": 0.485,
                "left_hip": 0.530, "left_knee": 0.285, "left_ankle": 0.039,
                "left_eye": 0.936, "upper_neck": 0.870}  # fmt: skip
    for name, frac in expected.items():
        assert abs(pts[0, JOINT_INDEX[name], 1] / height - frac) < 0.03, name
    for i in range(50):
        h = identity_from_id(i).height
        assert 1.44 <= h <= 1.95


def test_random_poses_respect_joint_limits():
    rng = np.random.default_rng(0)
    poses = np.stack([random_pose(rng) for _ in range(2000)])
    assert np.all(poses >= LIMITS[:, 0] - 1e-12) and np.all(poses <= LIMITS[:, 1] + 1e-12)
    assert np.all(poses.std(0)[[_deg("left_shoulder_flex"), _deg("right_elbow")]] > 0.3)
    # arms cross the body: the wrist passes the midline in some poses
    shape = body_shape(identity_from_id(1))
    pts, _ = pose_points([shape] * 200, poses[:200], np.zeros((200, 3)), np.zeros((200, 3)))
    assert (pts[:, JOINT_INDEX["left_wrist"], 0] < 0).mean() > 0.05


BONES = [("left_shoulder", "left_elbow"), ("left_elbow", "left_wrist"),
         ("right_hip", "right_knee"), ("right_knee", "right_ankle"), ("left_hip", "right_hip"),
         ("left_ankle", "left_toe"), ("upper_neck", "head_top")]  # fmt: skip


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_motion_keeps_bone_lengths(action):
    shape = body_shape(identity_from_id(action))
    m = motion_sequence(action, 40, 20.0, np.random.default_rng(action))
    pts, _ = pose_points([shape], m.angles, m.root_euler, m.root_pos)
    lengths = segment_lengths(shape)
    for a, b in BONES:
        d = np.linalg.norm(pts[:, JOINT_INDEX[a]] - pts[:, JOINT_INDEX[b]], axis=-1)
        np.testing.assert_allclose(d, lengths[(a, b)], atol=1e-9)
    assert np.all(pts[:, :, 1].min(1) > -0.06)  # nothing sinks into the floor


def test_rendered_sequence_keeps_bone_lengths():
    sq = sample_sequence(3, 5, n_frames=10, fps=10, size=(64, 64))
    j = sq.joints3d[:, 0].astype(np.float64)  # camera frame: lengths are still rigid
    for a, b in BONES:
        d = np.linalg.norm(j[:, JOINT_INDEX[a]] - j[:, JOINT_INDEX[b]], axis=-1)
        assert np.ptp(d) < 1e-5


# --------------------------------------------------------------------------------------------
# SPHP motions
# --------------------------------------------------------------------------------------------
def test_actions_and_classes_match_sphp():
    assert ACTION_CLASSES == {"C1": (1, 2, 3, 4), "C2": (5, 6, 7), "C3": (9, 10, 14, 16),
                              "C4": (8, 11, 12, 13, 15)}  # fmt: skip
    assert ACTIONS[2][0] == "arm bicep curl" and ACTIONS[10][0] == "squat"
    with pytest.raises(KeyError):
        motion_sequence(17, 10, 30.0, np.random.default_rng(0))


LEGS = ["left_hip_flex", "right_hip_flex", "left_knee", "right_knee"]
ARMS = ["left_shoulder_flex", "right_shoulder_flex", "left_shoulder_abd", "right_shoulder_abd"]
# action: (DOFs whose range must exceed the degrees, DOFs that must stay still)
EXPECT = {
    1: ({"left_shoulder_abd": 60, "right_shoulder_abd": 60}, LEGS),
    2: ({"left_elbow": 90, "right_elbow": 90}, LEGS),
    3: ({"right_elbow|left_elbow": 40}, LEGS),
    4: ({"left_shoulder_flex": 100, "right_shoulder_flex": 100}, LEGS),
    5: ({"left_hip_flex": 60, "right_knee": 60}, ARMS),
    6: ({"left_hip_abd": 25, "right_hip_abd": 25}, ARMS[:2]),
    7: ({"left_knee": 80, "right_knee": 80}, ARMS),
    8: ({"left_hip_flex": 60, "spine_rot": 40, "spine_flex": 20}, []),
    9: ({"left_hip_flex": 25, "right_knee": 40, "left_shoulder_flex": 25}, []),
    10: ({"left_hip_flex": 70, "right_knee": 70, "left_ankle_flex": 15}, []),
    11: ({"left_knee": 25}, []),
    12: ({"left_hip_flex": 40, "right_knee": 70, "right_shoulder_flex": 50}, []),
    13: ({"left_shoulder_abd": 100, "right_hip_abd": 15}, []),
    14: ({"spine_lat": 40}, LEGS),
    15: ({"left_knee|right_knee": 15}, ARMS),
    16: ({"left_wrist_flex": 40, "right_wrist_dev": 40}, ["spine_flex", "spine_lat"] + ARMS),
}


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_each_motion_moves_the_right_dofs(action):
    m = motion_sequence(action, 150, 30.0, np.random.default_rng(100 + action))
    rng_deg = np.rad2deg(np.ptp(m.angles, axis=0))
    moving, still = EXPECT[action]
    for names, least in moving.items():
        assert max(rng_deg[_deg(n)] for n in names.split("|")) > least, (names, rng_deg)
    for name in still:
        assert rng_deg[_deg(name)] < 1e-6, name
    shape = body_shape(identity_from_id(0))
    pts, _ = pose_points([shape], m.angles, m.root_euler, m.root_pos)
    pelvis = pts[:, JOINT_INDEX["pelvis"], 1]
    height = shape.identity.height
    if action == 10:  # squat: the pelvis drops
        assert np.ptp(pelvis) > 0.15 * height
    if action in (11, 15):  # jumps and hops leave the floor
        assert m.root_pos[:, 1].max() > 0.03 * height
    if action == 16:  # a nearly static body
        assert np.ptp(pelvis) < 0.05 * height


def test_motions_work_at_any_fps():
    a = motion_sequence(13, 31, 30.0, np.random.default_rng(1))
    b = motion_sequence(13, 61, 60.0, np.random.default_rng(1))
    np.testing.assert_allclose(a.angles, b.angles[::2], atol=1e-9)


def _reference_points(shapes, angles, euler, pos):
    """pose_points written out with the public forward_kinematics (one 3x3 product a row)."""
    angles = B.clip_pose(np.atleast_2d(angles))
    rot, org = B.forward_kinematics(angles, np.stack([s.offsets for s in shapes]),
                                    B.root_rotation(euler), np.zeros((len(angles), 3)))  # fmt: skip
    node = shapes[0].point_node
    local = np.stack([s.local for s in shapes])
    pts = (rot[:, node] @ local[..., None])[..., 0] + org[:, node]
    radius = np.stack([s.cap_radius for s in shapes])
    y = (
        pts[:, B.CAP_ROWS[: B.CAPSULE_INDEX["hair_long"]], 1]
        - radius[:, : B.CAPSULE_INDEX["hair_long"]]
    )
    lift = np.array(pos, dtype=np.float64)
    lift[:, 1] -= y.reshape(len(pts), -1).min(1)
    return pts + lift[:, None], rot


def test_pose_points_match_forward_kinematics():
    # pose_points batches its products (trig products, 4x4 frames, rows under every frame);
    # the result is the plain forward kinematics of every row
    rng = np.random.default_rng(5)
    idns = [B.random_identity(rng, child_prob=0.3) for _ in range(6)]
    shapes = [body_shape(i) for i in idns]
    angles = np.stack([random_pose(rng) for _ in shapes])
    euler = rng.uniform(-3, 3, (len(shapes), 3))
    pos = rng.uniform(-1, 1, (len(shapes), 3))
    for batch in (shapes, shapes[:1], [shapes[2]] * len(shapes)):
        n = len(batch)
        pts, rot = pose_points(batch, angles[:n], euler[:n], pos[:n])
        ref, ref_rot = _reference_points(batch, angles[:n], euler[:n], pos[:n])
        np.testing.assert_allclose(pts, ref, rtol=0, atol=1e-12)
        np.testing.assert_allclose(rot, ref_rot, rtol=0, atol=1e-12)
    # a hand-made shape (no cached geometry, rows in any node): the general path
    s = shapes[0]
    node = s.point_node.copy()
    node[B.JOINT_INDEX["nose"]] = B.NODE_INDEX["neck"]
    odd = B.BodyShape(s.identity, s.offsets, node, s.local.copy(), s.cap_radius, s.cap_material,
                      s.cap_on, s.ell_semi, s.joint_radius, s.palette)  # fmt: skip
    pts, _ = pose_points([odd], angles[0], euler[0], pos[0])
    ref, _ = _reference_points([odd], angles[0], euler[0:1], pos[0:1])
    np.testing.assert_allclose(pts, ref, rtol=0, atol=1e-12)


def test_torso_rings_are_the_documented_ellipses():
    rng = np.random.default_rng(9)
    for _ in range(20):
        idn = B.random_identity(rng, child_prob=0.3)
        shape = body_shape(idn)
        v = idn.height * (1 - idn.head_frac) / 0.87
        ang = np.arange(B.RING_POINTS) * (2 * np.pi / B.RING_POINTS) + np.pi / B.RING_POINTS
        for r, (name, _, y, a, b, z) in enumerate(B.RINGS):
            width = idn.seg["shoulders" if name in ("shoulder", "chest") else "hips"]
            if idn.female:
                width *= B._FEMALE_RING[r]
            pts = shape.local[B.RING_ROWS[name]]
            torso = idn.rad["torso"]
            np.testing.assert_allclose(pts[:, 0], a * v * width * torso * np.cos(ang), atol=1e-12)
            np.testing.assert_allclose(pts[:, 1], y * v, atol=1e-12)
            np.testing.assert_allclose(pts[:, 2], z * v + b * v * torso * np.sin(ang), atol=1e-12)
