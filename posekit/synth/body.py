"""SynthPose body model: a 3D articulated human made of capsules, ellipsoids and convex hulls.

Proportions follow Drillis & Contini (1966) as tabulated by Winter (*Biomechanics and Motor
Control of Human Movement*, Fig. 4.1): every length is a ratio of the body height ``H`` (upper
arm 0.186 H, forearm 0.146 H, thigh 0.245 H, shank 0.246 H, shoulders 0.818 H above the floor,
eyes 0.936 H, ...). Capsule radii (``_CAP_BASE``) are posekit's own rough estimates from adult
limb circumferences, not from a table; each person scales them by about 1 +/- 0.15.

Frames and conventions
----------------------
* Body frame (and the world frame of a person at yaw 0): ``x`` = the person's left, ``y`` = up,
  ``z`` = anterior (the way the person faces). Metres. The floor is ``y = 0``.
* A pose is a vector of ``D = len(DOF_NAMES)`` joint angles in **radians** (limits in
  ``LIMITS``); positive flexion / abduction / external rotation mean the same anatomical motion
  on both sides. The root (pelvis) has its own orientation (yaw, pitch, roll) and position.
* Kinematic tree of ``NODES`` (rigid frames): pelvis -> lumbar -> chest -> neck -> head;
  chest -> shoulders -> elbows -> wrists; pelvis -> hips -> knees -> ankles. Every local
  rotation is ``Rx(ax) @ Rz(az) @ Ry(ay)`` (flexion about the left axis, ab/adduction about the
  anterior axis, axial twist about the bone), applied in the parent frame.
* ``SYNTH_JOINTS``: the canonical keypoints (names from ``posekit.skeletons``), COCO-17 first.
  ``neck`` and ``thorax`` are the same point (mid-shoulders); ``head`` is the centre of the head
  ellipsoid (SPHP/DHP19 "head"); ``upper_neck`` is at chin level (MPII).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from functools import cache, lru_cache

import numpy as np

from posekit.skeletons import Skeleton, get_skeleton, register

# fmt: off
SYNTH_JOINTS: tuple[str, ...] = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
    "left_wrist", "right_wrist", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle",
    "head_top", "upper_neck", "thorax", "neck", "pelvis", "head",
    "left_hand_tip", "right_hand_tip", "left_toe", "right_toe",
)
# fmt: on
JOINT_INDEX: dict[str, int] = {n: i for i, n in enumerate(SYNTH_JOINTS)}
NUM_JOINTS = len(SYNTH_JOINTS)


def _limb_pairs(pairs: list[tuple[str, str]]) -> tuple[tuple[int, int], ...]:
    return tuple((JOINT_INDEX[a], JOINT_INDEX[b]) for a, b in pairs)


SYNTH_SKELETON = Skeleton(
    name="synth",
    joints=SYNTH_JOINTS,
    labels=SYNTH_JOINTS,
    limbs=_limb_pairs(
        [
            ("left_ankle", "left_knee"),
            ("left_knee", "left_hip"),
            ("right_ankle", "right_knee"),
            ("right_knee", "right_hip"),
            ("left_hip", "pelvis"),
            ("right_hip", "pelvis"),
            ("pelvis", "thorax"),
            ("left_shoulder", "neck"),
            ("right_shoulder", "neck"),
            ("left_shoulder", "left_elbow"),
            ("left_elbow", "left_wrist"),
            ("right_shoulder", "right_elbow"),
            ("right_elbow", "right_wrist"),
            ("left_wrist", "left_hand_tip"),
            ("right_wrist", "right_hand_tip"),
            ("left_ankle", "left_toe"),
            ("right_ankle", "right_toe"),
            ("neck", "upper_neck"),
            ("upper_neck", "head_top"),
            ("nose", "left_eye"),
            ("nose", "right_eye"),
            ("left_eye", "left_ear"),
            ("right_eye", "right_ear"),
        ]
    ),  # fmt: skip
)
register(SYNTH_SKELETON)  # get_skeleton("synth") finds it from now on


def synth_to(joint_set: str | Skeleton, values: np.ndarray) -> np.ndarray:
    """Pick the joints of ``joint_set`` (``coco17``, ``mpii16``, ``lsp14``, ``openpose18``,
    ``sphp13``, ``humaneva15`` or a ``Skeleton``) out of SYNTH-ordered values, by name.

    Args:
        joint_set: target joint set.
        values: ``(..., K_synth, C)`` array (keypoints ``(x, y, v)``, 3D joints, ...).
    Returns:
        ``(..., K_target, C)`` array of the same dtype, in the target set's order. Every target
        joint exists in ``SYNTH_JOINTS``, so nothing is approximated.
    """
    sk = get_skeleton(joint_set)
    values = np.asarray(values)
    if values.ndim < 2 or values.shape[-2] != NUM_JOINTS:
        raise ValueError(
            f"values: expected (..., {NUM_JOINTS}, C) in SYNTH order, got {values.shape}"
        )
    return values[..., synth_indices(sk.name), :]


@cache
def synth_indices(joint_set: str) -> np.ndarray:
    """Indices into ``SYNTH_JOINTS`` of the joints of ``joint_set`` (its order)."""
    sk = get_skeleton(joint_set)
    missing = [n for n in sk.joints if n not in JOINT_INDEX]
    if missing:
        raise KeyError(f"SYNTH has no joint(s) {missing} needed by {sk.name}")
    idx = np.array([JOINT_INDEX[n] for n in sk.joints], dtype=np.intp)
    idx.flags.writeable = False
    return idx


# --------------------------------------------------------------------------------------------
# Kinematic tree and degrees of freedom
# --------------------------------------------------------------------------------------------
# fmt: off
# Nodes are listed by tree depth, so that FK handles one contiguous slice per level.
NODES: tuple[str, ...] = (
    "pelvis",
    "lumbar", "left_hip", "right_hip",
    "chest", "left_knee", "right_knee",
    "neck", "left_shoulder", "right_shoulder", "left_ankle", "right_ankle",
    "head", "left_elbow", "right_elbow",
    "left_wrist", "right_wrist",
)
NODE_INDEX = {n: i for i, n in enumerate(NODES)}
_PARENT_OF = {"lumbar": "pelvis", "chest": "lumbar", "neck": "chest", "head": "neck"}
for _s in ("left", "right"):
    _PARENT_OF.update({f"{_s}_hip": "pelvis", f"{_s}_knee": f"{_s}_hip",
                       f"{_s}_ankle": f"{_s}_knee", f"{_s}_shoulder": "chest",
                       f"{_s}_elbow": f"{_s}_shoulder", f"{_s}_wrist": f"{_s}_elbow"})
PARENTS: tuple[int, ...] = tuple(NODE_INDEX[_PARENT_OF[n]] if n in _PARENT_OF else -1
                                 for n in NODES)
LEVEL_SLICES: tuple[tuple[int, int], ...] = ((1, 4), (4, 7), (7, 12), (12, 15), (15, 17))

# name, lower, upper (degrees). Positive: flexion (forward), abduction (away from the midline),
# external rotation, elbow/knee flexion, wrist flexion (to the palm), ankle dorsiflexion (toes
# up), ankle inversion; spine/neck lateral bend positive to the person's left.
DOFS: tuple[tuple[str, float, float], ...] = (
    ("spine_flex", -30, 90), ("spine_lat", -40, 40), ("spine_rot", -45, 45),
    ("neck_flex", -45, 60), ("neck_lat", -35, 35), ("neck_rot", -70, 70),
    ("left_shoulder_flex", -60, 180), ("left_shoulder_abd", -45, 180),
    ("left_shoulder_rot", -90, 90),
    ("right_shoulder_flex", -60, 180), ("right_shoulder_abd", -45, 180),
    ("right_shoulder_rot", -90, 90),
    ("left_elbow", 0, 150), ("right_elbow", 0, 150),
    ("left_wrist_flex", -70, 80), ("left_wrist_dev", -30, 30),
    ("right_wrist_flex", -70, 80), ("right_wrist_dev", -30, 30),
    ("left_hip_flex", -30, 130), ("left_hip_abd", -30, 60), ("left_hip_rot", -45, 45),
    ("right_hip_flex", -30, 130), ("right_hip_abd", -30, 60), ("right_hip_rot", -45, 45),
    ("left_knee", 0, 150), ("right_knee", 0, 150),
    ("left_ankle_flex", -45, 30), ("left_ankle_inv", -30, 30),
    ("right_ankle_flex", -45, 30), ("right_ankle_inv", -30, 30),
)
# fmt: on
DOF_NAMES: tuple[str, ...] = tuple(d[0] for d in DOFS)
DOF_INDEX: dict[str, int] = {n: i for i, n in enumerate(DOF_NAMES)}
NUM_DOFS = len(DOFS)
LIMITS: np.ndarray = np.deg2rad(np.array([[d[1], d[2]] for d in DOFS], dtype=np.float64))
LIMITS.flags.writeable = False
_LO, _HI = LIMITS[:, 0].copy(), LIMITS[:, 1].copy()

# (node, axis 0=x 1=z 2=y, dof, coefficient): local Euler angle = sum of coefficient * dof.
# Signs turn the anatomical convention into rotations of the body frame (x left, y up, z ant.);
# right-side abduction / twist mirror the left side.
_EULER_MAP: list[tuple[str, int, str, float]] = []
for _node in ("lumbar", "chest"):
    _EULER_MAP += [(_node, 0, "spine_flex", 0.5), (_node, 1, "spine_lat", -0.5),
                   (_node, 2, "spine_rot", 0.5)]  # fmt: skip
for _node in ("neck", "head"):
    _EULER_MAP += [(_node, 0, "neck_flex", 0.5), (_node, 1, "neck_lat", -0.5),
                   (_node, 2, "neck_rot", 0.5)]  # fmt: skip
for _s, _m in (("left", 1.0), ("right", -1.0)):
    _EULER_MAP += [
        (f"{_s}_shoulder", 0, f"{_s}_shoulder_flex", -1.0),
        (f"{_s}_shoulder", 1, f"{_s}_shoulder_abd", _m),
        (f"{_s}_shoulder", 2, f"{_s}_shoulder_rot", _m),
        (f"{_s}_elbow", 0, f"{_s}_elbow", -1.0),
        (f"{_s}_wrist", 0, f"{_s}_wrist_flex", -1.0),
        (f"{_s}_wrist", 1, f"{_s}_wrist_dev", _m),
        (f"{_s}_hip", 0, f"{_s}_hip_flex", -1.0),
        (f"{_s}_hip", 1, f"{_s}_hip_abd", _m),
        (f"{_s}_hip", 2, f"{_s}_hip_rot", _m),
        (f"{_s}_knee", 0, f"{_s}_knee", 1.0),
        (f"{_s}_ankle", 0, f"{_s}_ankle_flex", -1.0),
        (f"{_s}_ankle", 1, f"{_s}_ankle_inv", _m),
    ]
EULER_MAP = np.zeros((NUM_DOFS, len(NODES) * 3))
for _node, _axis, _dof, _c in _EULER_MAP:
    EULER_MAP[DOF_INDEX[_dof], NODE_INDEX[_node] * 3 + _axis] = _c
EULER_MAP.flags.writeable = False


def neutral_pose() -> np.ndarray:
    """A relaxed standing pose ``(D,)`` in radians (arms slightly away from the body)."""
    a = np.zeros(NUM_DOFS)
    a[DOF_INDEX["left_shoulder_abd"]] = a[DOF_INDEX["right_shoulder_abd"]] = np.deg2rad(8)
    a[DOF_INDEX["left_elbow"]] = a[DOF_INDEX["right_elbow"]] = np.deg2rad(10)
    return a


def clip_pose(angles: np.ndarray) -> np.ndarray:
    """Clip joint angles ``(..., D)`` (radians) to ``LIMITS``; returns a new float64 array."""
    return np.minimum(np.maximum(np.asarray(angles, dtype=np.float64), _LO), _HI)


def euler_xzy(ax: np.ndarray, az: np.ndarray, ay: np.ndarray) -> np.ndarray:
    """Rotation matrices ``Rx(ax) @ Rz(az) @ Ry(ay)`` of shape ``(..., 3, 3)``."""
    cx, sx, cz, sz, cy, sy = np.cos(ax), np.sin(ax), np.cos(az), np.sin(az), np.cos(ay), np.sin(ay)
    szcy, szsy = sz * cy, sz * sy
    r = np.empty(np.shape(ax) + (3, 3))
    r[..., 0, 0] = cz * cy
    r[..., 0, 1] = -sz
    r[..., 0, 2] = cz * sy
    r[..., 1, 0] = cx * szcy + sx * sy
    r[..., 1, 1] = cx * cz
    r[..., 1, 2] = cx * szsy - sx * cy
    r[..., 2, 0] = sx * szcy - cx * sy
    r[..., 2, 1] = sx * cz
    r[..., 2, 2] = sx * szsy + cx * cy
    return r


def root_rotation(euler: np.ndarray) -> np.ndarray:
    """Root orientation ``(..., 3, 3)`` from ``(..., 3)`` = (yaw, pitch, roll) radians:
    ``Ry(yaw) @ Rx(pitch) @ Rz(roll)``; yaw 0 faces +z, pitch > 0 leans forward."""
    e = np.asarray(euler, dtype=np.float64)
    m = euler_xzy(e[..., 1], e[..., 2], 0.0 * e[..., 0])
    cy, sy = np.cos(e[..., 0])[..., None], np.sin(e[..., 0])[..., None]
    out = np.empty_like(m)
    out[..., 0, :] = cy * m[..., 0, :] + sy * m[..., 2, :]
    out[..., 1, :] = m[..., 1, :]
    out[..., 2, :] = cy * m[..., 2, :] - sy * m[..., 0, :]
    return out


def forward_kinematics(
    angles: np.ndarray, offsets: np.ndarray, root_rot: np.ndarray, root_pos: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Global frames of all ``NODES`` for a batch of poses.

    Args:
        angles: ``(B, D)`` joint angles (radians; clip them first with ``clip_pose``).
        offsets: ``(B, J, 3)`` or ``(J, 3)`` rest offset of each node in its parent frame.
        root_rot: ``(B, 3, 3)`` pelvis orientation; root_pos: ``(B, 3)`` pelvis position.
    Returns:
        ``R (B, J, 3, 3)`` node-to-world rotations and ``t (B, J, 3)`` node origins (metres).
    """
    angles = np.atleast_2d(angles)
    b, j = angles.shape[0], len(NODES)
    e = (angles @ EULER_MAP).reshape(b, j, 3)
    local = euler_xzy(e[..., 0], e[..., 1], e[..., 2])
    rot = np.empty((b, j, 3, 3))
    rot[:, 0] = root_rot
    for (s0, s1), par in _LEVELS:
        np.matmul(rot[:, par], local[:, s0:s1], out=rot[:, s0:s1])
    # each node origin = parent origin + parent rotation @ offset
    rel = (rot[:, _PARENT_ARR] @ np.asarray(offsets)[..., 1:, :, None])[..., 0]
    pos = np.empty((b, j, 3))
    pos[:, 0] = root_pos
    for (s0, s1), par in _LEVELS:
        pos[:, s0:s1] = pos[:, par] + rel[:, s0 - 1 : s1 - 1]
    return rot, pos


_LEVELS = tuple(((s0, s1), np.array(PARENTS[s0:s1])) for s0, s1 in LEVEL_SLICES)
_PARENT_ARR = np.array(PARENTS[1:])


def _parent_runs() -> tuple[tuple[slice, slice], ...]:
    """(children, parents) slice pairs covering every non-root node in tree-depth order; the
    parents of a run are one node (a length-1 slice, broadcast) or consecutive nodes."""
    runs, j = [], 1
    while j < len(NODES):
        p, k = PARENTS[j], j + 1
        if k < len(NODES) and PARENTS[k] == p:  # siblings: one shared parent
            while k < len(NODES) and PARENTS[k] == p:
                k += 1
            runs.append((slice(j, k), slice(p, p + 1)))
        else:  # consecutive parents of consecutive children
            while k < len(NODES) and PARENTS[k] == PARENTS[k - 1] + 1 and PARENTS[k] < j:
                k += 1
            runs.append((slice(j, k), slice(p, p + k - j)))
        j = k
    for ch, par in runs:  # every parent is computed before its children
        assert par.stop <= ch.start and all(
            PARENTS[c] == (par.start if par.stop - par.start == 1 else par.start + c - ch.start)
            for c in range(ch.start, ch.stop)
        )
    return tuple(runs)


_RUNS = _parent_runs()


def _trig_selector(entries: list[list[tuple[int, str]]]) -> np.ndarray:
    """``(27, 16)`` matrix of 0/+-1 picking the entries of a homogeneous 4x4 rotation (no
    translation) out of the 27 products ``t0[i] * (t1[j] * t2[k])`` of ``t = (1, cos, sin)`` of
    three angles (``entries[r]``: the signed terms of rotation entry r (row-major 3x3), each a
    product given as three letters of ``1cs``)."""
    sel = np.zeros((27, 16))
    for r, terms in enumerate(entries):
        for sign, abc in terms:
            i, j, k = ("1cs".index(c) for c in abc)
            sel[9 * i + 3 * j + k, 4 * (r // 3) + r % 3] = sign
    sel[0, 15] = 1.0  # the product 1 * 1 * 1
    return sel


# euler_xzy(ax, az, ay) with angles ordered (x, z, y): entry = sum of sign * x (z y).
_SEL_XZY = _trig_selector([
    [(1, "1cc")], [(-1, "1s1")], [(1, "1cs")],
    [(1, "csc"), (1, "s1s")], [(1, "cc1")], [(1, "css"), (-1, "s1c")],
    [(1, "ssc"), (-1, "c1s")], [(1, "sc1")], [(1, "sss"), (1, "c1c")],
])  # fmt: skip
# root_rotation with angles ordered (yaw, pitch, roll): entry = sum of sign * yaw (pitch roll).
_SEL_ROOT = _trig_selector([
    [(1, "c1c"), (1, "sss")], [(-1, "c1s"), (1, "ssc")], [(1, "sc1")],
    [(1, "1cs")], [(1, "1cc")], [(-1, "1s1")],
    [(1, "css"), (-1, "s1c")], [(1, "csc"), (1, "s1s")], [(1, "cc1")],
])  # fmt: skip


def _trig_products(e: np.ndarray) -> np.ndarray:
    """The 27 products ``t0[i] * (t1[j] * t2[k])`` of ``t = (1, cos, sin)`` of each angle
    triple ``e (..., 3)``: ``(..., 27)``. Times ``_SEL_XZY`` / ``_SEL_ROOT`` they give the
    rotation entries; the +-1 weights make that product exact (the same bits as writing each
    entry out as ``euler_xzy`` / ``root_rotation`` do)."""
    t = np.empty(e.shape + (3,))
    t[..., 0] = 1.0
    np.cos(e, out=t[..., 1])
    np.sin(e, out=t[..., 2])
    o = t[..., 0, :, None, None] * (t[..., 1, None, :, None] * t[..., 2, None, None, :])
    return o.reshape(e.shape[:-1] + (27,))


def _fk(angles: np.ndarray, root_euler: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """``forward_kinematics`` with the root orientation given as ``(B, 3)`` Euler angles and
    the root at the origin, as homogeneous node-to-world transforms ``(B, J, 4, 4)``
    (rotation ``[..., :3, :3]``, origin ``[..., :3, 3]``): one 4x4 product per run of nodes."""
    b, j = angles.shape[0], len(NODES)
    e = np.empty((b, 3 * j + 3))
    # products are kept per row ((B, 1, K) @ (K, L)): one large 2-D product would let
    # OpenBLAS start threads (the renderer is meant to run on one core)
    np.matmul(angles[:, None], EULER_MAP, out=e[:, None, : 3 * j])
    e[:, 3 * j :] = root_euler
    o = _trig_products(e.reshape(b, j + 1, 3))
    T = np.empty((b, j, 16))
    np.matmul(o[:, 1:j], _SEL_XZY, out=T[:, 1:])
    np.matmul(o[:, j, None], _SEL_ROOT, out=T[:, 0, None])
    T = T.reshape(b, j, 4, 4)
    T[:, 1:, :3, 3] = np.asarray(offsets)[..., 1:, :]  # local frames: rotation + rest offset
    for ch, par in _RUNS:  # (a product into new memory: out= would copy the aliased input)
        T[:, ch] = T[:, par] @ T[:, ch]
    return T


# --------------------------------------------------------------------------------------------
# Identity: persistent body shape, face and clothing
# --------------------------------------------------------------------------------------------
SEGMENTS = ("torso", "neck", "head", "shoulders", "hips", "upper_arm", "forearm", "hand",
            "thigh", "shank", "foot")  # fmt: skip
RADII = ("arm", "leg", "torso", "neck", "head")
TEXTURES = ("plain", "stripes", "checks", "noise")
HAIR_STYLES = ("none", "short", "long", "bun")

# Fitzpatrick-like skin tones (RGB), light to dark.
SKIN_TONES = np.array(
    [[255, 224, 196], [241, 194, 160], [224, 172, 128], [198, 134, 92], [161, 102, 64],
     [120, 74, 46], [88, 54, 36]], dtype=np.float64,
)  # fmt: skip
HAIR_COLORS = np.array(
    [[20, 16, 14], [45, 30, 22], [80, 52, 32], [120, 80, 45], [190, 150, 90], [150, 60, 30],
     [170, 170, 170], [230, 225, 215]], dtype=np.float64,
)  # fmt: skip
HAIR_P = np.array([0.28, 0.25, 0.17, 0.1, 0.08, 0.04, 0.05, 0.03])
CLOTH_COLORS = np.array(
    [[20, 20, 25], [235, 235, 235], [120, 120, 125], [30, 45, 90], [60, 90, 150], [150, 30, 35],
     [40, 100, 60], [190, 170, 120], [90, 60, 40], [210, 120, 30], [230, 200, 60],
     [100, 50, 120], [200, 90, 130], [70, 150, 170]], dtype=np.float64,
)  # fmt: skip


@dataclass
class Identity:
    """A synthetic person: body shape, face and clothing, persistent across frames.

    Colours are RGB ``uint8`` triples. ``seg`` scales segment lengths (about 1 +/- 0.05),
    ``rad`` scales capsule radii (about 1 +/- 0.15); ``face`` holds jitters in [-1, 1] of eye
    spacing and height, nose length, mouth width and height; ``head_frac`` is the head height
    over ``H`` (0.13 for adults, more for children). ``identity_id`` is -1 for a one-off
    person. Treat an identity as immutable once rendered (its geometry is cached on it).
    """

    identity_id: int = -1
    height: float = 1.75
    female: bool = False
    child: bool = False
    head_frac: float = 0.13
    seg: dict[str, float] = field(default_factory=lambda: dict.fromkeys(SEGMENTS, 1.0))
    rad: dict[str, float] = field(default_factory=lambda: dict.fromkeys(RADII, 1.0))
    skin: tuple[int, int, int] = (224, 172, 128)
    hair_color: tuple[int, int, int] = (45, 30, 22)
    hair_style: str = "short"
    eye_color: tuple[int, int, int] = (40, 30, 25)
    face: dict[str, float] = field(default_factory=dict)
    top_color: tuple[int, int, int] = (60, 90, 150)
    top_color2: tuple[int, int, int] = (235, 235, 235)
    top_texture: str = "plain"
    top_period: float = 0.05
    print_layout: int = 0
    sleeves: str = "short"
    bottom_color: tuple[int, int, int] = (30, 45, 90)
    bottom_color2: tuple[int, int, int] = (20, 20, 25)
    bottom_texture: str = "plain"
    legwear: str = "trousers"
    shoe_color: tuple[int, int, int] = (30, 30, 30)
    _shape: BodyShape | None = field(default=None, init=False, repr=False, compare=False)


def _byte(x: float) -> int:
    """``min(255, max(0, int(x)))`` (conditional expressions: cheaper than min / max)."""
    v = int(x)
    return 0 if v < 0 else (255 if v > 255 else v)


def _rgb(c) -> tuple[int, int, int]:
    return (_byte(c[0]), _byte(c[1]), _byte(c[2]))


def _tint(rgb, u: list[float], amount: float) -> tuple[int, int, int]:
    """``rgb`` scaled per channel by ``1 +/- amount`` and offset by +/-10 (four uniforms)."""
    off = 20 * u[3] - 10
    r = int(rgb[0] * (1 + amount * (2 * u[0] - 1)) + off)
    g = int(rgb[1] * (1 + amount * (2 * u[1] - 1)) + off)
    b = int(rgb[2] * (1 + amount * (2 * u[2] - 1)) + off)
    return (0 if r < 0 else (255 if r > 255 else r), 0 if g < 0 else (255 if g > 255 else g),
            0 if b < 0 else (255 if b > 255 else b))  # fmt: skip


def _hsv_rgb(h: float, s: float, v: float) -> tuple[int, int, int]:
    """HSV in [0, 1] to RGB 0..255."""
    i = int(h * 6) % 6
    f = h * 6 - int(h * 6)
    p, q, t = v * (1 - s), v * (1 - f * s), v * (1 - (1 - f) * s)
    r, g, b = ((v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q))[i]
    return _rgb((255 * r, 255 * g, 255 * b))


def _cloth_color(u: list[float]) -> tuple[int, int, int]:
    """A clothing colour from five uniforms: a common garment colour (60 %) or any hue."""
    if u[0] < 0.6:
        return _tint(_CLOTH_L[int(u[1] * len(_CLOTH_L))], u[1:5], 0.15)
    return _hsv_rgb(u[1], 0.15 + 0.85 * u[2], 0.16 + 0.84 * u[3])


_HAIR_CUM = tuple(np.cumsum(HAIR_P)[:-1].tolist())
# Python-float copies of the colour tables (per-identity code works on plain floats: faster
# than numpy on 3-vectors, and the same IEEE arithmetic).
_SKIN_L, _HAIR_L, _CLOTH_L = SKIN_TONES.tolist(), HAIR_COLORS.tolist(), CLOTH_COLORS.tolist()
_SHOE_L = [_CLOTH_L[i] for i in (0, 1, 2, 8, 3)]
_STYLE_CUM = {True: (0.05, 0.3, 0.85), False: (0.2, 0.9, 0.97)}
_TOP_CUM, _BOTTOM_CUM = (0.5, 0.7, 0.85), (0.75, 0.8, 0.9)
_N_ID_UNIFORMS = 80


def random_identity(
    rng: np.random.Generator, identity_id: int = -1, child_prob: float = 0.0
) -> Identity:
    """Draw a random person: height ``H ~ U(1.5, 1.95)`` m (women 6 cm shorter; children
    ``U(1.0, 1.4)`` with a larger head, if ``child_prob > 0``), segment lengths +/-5 %, radii
    +/-15 %, sex, skin tone, hair colour and style, face offsets and clothing (top/bottom
    colours, texture kind and print layout, sleeve and leg length, shoes). Uses one draw of
    uniforms."""
    u = rng.random(_N_ID_UNIFORMS).tolist()
    child, female = u[0] < child_prob, u[1] < 0.5
    height = 1.0 + 0.4 * u[2] if child else 1.5 + 0.45 * u[2] - (0.06 if female else 0.0)
    head_frac = 0.13 + 0.07 * min(max((1.5 - height) / 0.35, 0.0), 1.0) if child else 0.13
    seg = {k: 0.95 + 0.1 * u[3 + i] for i, k in enumerate(SEGMENTS)}  # u[3:14]
    rad = {k: 0.85 + 0.3 * u[14 + i] for i, k in enumerate(RADII)}  # u[14:19]
    rad["torso"] = 1 + (rad["torso"] - 1) * 0.5
    tone = u[19] * (len(_SKIN_L) - 1)
    lo = min(int(tone), len(_SKIN_L) - 2)
    f = tone - lo
    skin = [a + f * (b - a) for a, b in zip(_SKIN_L[lo], _SKIN_L[lo + 1], strict=True)]
    face = dict(zip(("eye_dx", "eye_dy", "nose", "mouth_w", "mouth_dy"),
                    [2 * x - 1 for x in u[20:25]], strict=True))  # fmt: skip
    return Identity(
        identity_id=int(identity_id),
        height=height,
        female=female,
        child=child,
        head_frac=head_frac,
        seg=seg,
        rad=rad,
        skin=_tint(skin, [0.5 + 0.5 * (x - 0.5) for x in u[25:28]] + [u[28]], 0.04),
        hair_color=_tint(_HAIR_L[bisect.bisect(_HAIR_CUM, u[29])], u[30:34], 0.1),
        hair_style=HAIR_STYLES[bisect.bisect(_STYLE_CUM[female], u[34])],
        eye_color=_tint((45, 35, 30), u[35:39], 0.3),
        face=face,
        top_color=_cloth_color(u[39:44]),
        top_color2=_cloth_color(u[44:49]),
        top_texture=TEXTURES[bisect.bisect(_TOP_CUM, u[49])],
        top_period=0.03 + 0.04 * u[50],
        print_layout=int(64 * u[69]),
        sleeves="long" if u[51] < 0.45 else "short",
        bottom_color=_cloth_color(u[52:57]),
        bottom_color2=_cloth_color(u[57:62]),
        bottom_texture=TEXTURES[bisect.bisect(_BOTTOM_CUM, u[62])],
        legwear="shorts" if u[63] < 0.25 else "trousers",
        shoe_color=_tint(_SHOE_L[int(u[64] * 5)], u[65:69], 0.2),
    )


@lru_cache(maxsize=16384)
def identity_from_id(identity_id: int, seed: int = 0, child_prob: float = 0.0) -> Identity:
    """The identity number ``identity_id`` of the pool ``seed``: a pure function of its
    arguments (cached), so the same person reappears in any process or data-loader worker."""
    rng = np.random.default_rng([int(seed), int(identity_id), 0x1D])
    return random_identity(rng, identity_id=identity_id, child_prob=child_prob)


# --------------------------------------------------------------------------------------------
# BodyShape: the identity turned into numeric geometry (cached per identity)
# --------------------------------------------------------------------------------------------
# Materials (palette rows).
SKIN, TOP, BOTTOM, SHOE, HAIR, TOP2, BOTTOM2, LIPS, EYES, SKIN_DARK = range(10)

# Capsules: (name, point at end a, point at end b); points are rows of POINTS.
CAPSULES: tuple[tuple[str, str, str], ...] = (
    ("neck", "thorax", "upper_neck"),
    ("left_upper_arm", "left_shoulder", "left_elbow"),
    ("right_upper_arm", "right_shoulder", "right_elbow"),
    ("left_forearm", "left_elbow", "left_wrist"),
    ("right_forearm", "right_elbow", "right_wrist"),
    ("left_hand", "left_wrist", "left_hand_mid"),
    ("right_hand", "right_wrist", "right_hand_mid"),
    ("left_thigh", "left_hip", "left_knee"),
    ("right_thigh", "right_hip", "right_knee"),
    ("left_shank", "left_knee", "left_ankle"),
    ("right_shank", "right_knee", "right_ankle"),
    ("left_foot", "left_heel", "left_toe_c"),
    ("right_foot", "right_heel", "right_toe_c"),
    ("hair_long", "hair_long_a", "hair_long_b"),
    ("hair_bun", "hair_bun", "hair_bun"),
)
CAPSULE_INDEX = {c[0]: i for i, c in enumerate(CAPSULES)}
# Ellipsoids: (name, node). Centre rows are named like the ellipsoid.
ELLIPSOIDS: tuple[tuple[str, str], ...] = (
    ("head_skin", "head"), ("hair_cap", "head"),
    ("chest_body", "chest"), ("abdomen_body", "lumbar"), ("pelvis_body", "pelvis"),
)  # fmt: skip
ELLIPSOID_INDEX = {e[0]: i for i, e in enumerate(ELLIPSOIDS)}
# Torso parts: convex hulls of rings of RING_POINTS surface points.
RINGS: tuple[tuple[str, str, float, float, float, float], ...] = (
    # name, node, y, semi-width a, semi-depth b, z-centre (fractions of H)
    ("shoulder", "chest", 0.100, 0.118, 0.050, -0.008),
    ("chest", "chest", 0.030, 0.104, 0.068, 0.006),
    ("lowchest", "chest", -0.045, 0.092, 0.060, 0.002),
    ("waist", "lumbar", 0.000, 0.086, 0.056, 0.000),
    ("hiptop", "pelvis", 0.050, 0.094, 0.060, -0.004),
    ("hip", "pelvis", 0.000, 0.102, 0.066, -0.006),
    ("crotch", "pelvis", -0.075, 0.086, 0.058, -0.004),
)
HULLS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("chest", ("shoulder", "chest", "lowchest")),
    ("abdomen", ("lowchest", "waist", "hiptop")),
    ("pelvis", ("hiptop", "hip", "crotch")),
)
RING_POINTS = 8
FACE_POINTS = ("mouth_left", "mouth_right", "nose_root", "brow_left", "brow_right")
# Points drawn on the head only when their surface faces the camera.
FACE_FEATURES = ("left_eye", "right_eye", "nose", "mouth_left", "mouth_right", "nose_root",
                 "brow_left", "brow_right", "left_ear", "right_ear")  # fmt: skip


def _sphere(rings: int = 7, per_ring: int = 12) -> np.ndarray:
    """Unit-sphere samples: ``rings`` latitude rings of ``per_ring`` points plus the poles."""
    lat = np.linspace(-np.pi / 2, np.pi / 2, rings + 2)[1:-1]
    lon = np.arange(per_ring) * (2 * np.pi / per_ring)
    la, lo = np.meshgrid(lat, lon, indexing="ij")
    pts = np.stack([np.cos(la) * np.cos(lo), np.sin(la), np.cos(la) * np.sin(lo)], -1)
    return np.concatenate([pts.reshape(-1, 3), [[0, 1.0, 0], [0, -1.0, 0]]])


SPHERE = _sphere()  # surface samples of the head and hair ellipsoids (drawn as convex hulls)


def _point_names() -> tuple[str, ...]:
    extra = ("left_hand_mid", "right_hand_mid", "left_heel", "right_heel", "left_toe_c",
             "right_toe_c", "hair_long_a", "hair_long_b", "hair_bun")  # fmt: skip
    ell = tuple(e[0] for e in ELLIPSOIDS)
    axes = tuple(f"{e[0]}_axis{k}" for e in ELLIPSOIDS for k in range(3))
    rings = tuple(f"ring_{r[0]}_{k}" for r in RINGS for k in range(RING_POINTS))
    normals = tuple(f"{f}_normal" for f in FACE_FEATURES)
    surf = tuple(f"{e}_surf{k}" for e in ("head_skin", "hair_cap") for k in range(len(SPHERE)))
    return SYNTH_JOINTS + extra + FACE_POINTS + ell + axes + rings + normals + surf


POINTS: tuple[str, ...] = _point_names()
POINT_INDEX = {n: i for i, n in enumerate(POINTS)}
RING_ROWS = {r[0]: POINT_INDEX[f"ring_{r[0]}_0"] + np.arange(RING_POINTS) for r in RINGS}
RING_ROWS_ALL = np.concatenate(list(RING_ROWS.values()))
HULL_ROWS = tuple(np.concatenate([RING_ROWS[r] for r in rings]) for _, rings in HULLS)
CAP_ROWS = np.array([[POINT_INDEX[a], POINT_INDEX[b]] for _, a, b in CAPSULES])
ELL_ROWS = np.array([POINT_INDEX[e[0]] for e in ELLIPSOIDS])
ELL_NODES = np.array([NODE_INDEX[e[1]] for e in ELLIPSOIDS])
# Rows of centre + semi-axis k (k = x, y, z of the node frame) of every ellipsoid: (E, 3).
ELL_AXIS_ROWS = np.array([[POINT_INDEX[f"{e[0]}_axis{k}"] for k in range(3)] for e in ELLIPSOIDS])
FEATURE_ROWS = np.array([POINT_INDEX[f] for f in FACE_FEATURES])
FEATURE_NORMAL_ROWS = np.array([POINT_INDEX[f"{f}_normal"] for f in FACE_FEATURES])
# Surface samples of the head skin and the hair cap: (2, S).
SURFACE_ROWS = np.array([[POINT_INDEX[f"{e}_surf0"] + k for k in range(len(SPHERE))]
                         for e in ("head_skin", "hair_cap")])  # fmt: skip


@dataclass
class BodyShape:
    """Numeric geometry of an ``Identity`` (metres, body frame); see ``body_shape``.

    Attributes:
        identity: the source identity.
        offsets: ``(J, 3)`` rest offsets of ``NODES`` in their parent frames.
        point_node: ``(M,)`` node of each row of ``POINTS``; local: ``(M, 3)`` its position.
        cap_radius: ``(C, 2)`` capsule radii at both ends; cap_material: ``(C,)`` palette rows;
        cap_on: ``(C,)`` bool, capsule drawn (hair capsules depend on the hair style).
        ell_semi: ``(E, 3)`` ellipsoid semi-axes (x, y, z) in their node frame.
        joint_radius: ``(K,)`` depth of each keypoint's surface landmark below the skin
            (visibility test).
        palette: ``(10, 3)`` float RGB of the materials (SKIN, TOP, ... SKIN_DARK).
    """

    identity: Identity
    offsets: np.ndarray
    point_node: np.ndarray
    local: np.ndarray
    cap_radius: np.ndarray
    cap_material: np.ndarray
    cap_on: np.ndarray
    ell_semi: np.ndarray
    joint_radius: np.ndarray
    palette: np.ndarray
    _local_h: np.ndarray | None = field(default=None, init=False, repr=False, compare=False)


def _local_h(shape: BodyShape) -> np.ndarray:
    """``(M, 4)`` homogeneous local positions ``[local, 1]`` of a shape (kept on it): the
    rows not on the head first, then the head's (``_SPLIT_ROWS`` order) for the standard
    rows, else ``POINTS`` order."""
    lh = shape._local_h
    if lh is None:
        lh = np.ones((len(shape.local), 4))
        split = shape.point_node is _NODE_OF_ROW and len(shape.local) == len(POINTS)
        lh[:, :3] = shape.local[_SPLIT_ROWS] if split else shape.local
        shape._local_h = lh
    return lh


def _node_offsets(idn: Identity) -> np.ndarray:
    h, s = idn.height, idn.seg
    kb = (1 - idn.head_frac) / 0.87  # body below the chin scales so that the total stays H
    v = h * kb
    sho, hip = 0.120 * v * s["shoulders"], 0.085 * v * s["hips"]
    if idn.female:
        sho, hip = sho * 0.94, hip * 1.05
    sho_y, sho_z = 0.112 * v * s["torso"], -0.010 * v
    elbow, wrist = -0.186 * v * s["upper_arm"], -0.146 * v * s["forearm"]
    knee, ankle = -0.245 * v * s["thigh"], -0.246 * v * s["shank"]
    # rows in NODES order (left_* and their mirrored right_*); int 0 as in a plain zero
    return np.array([
        0, 0, 0,  # pelvis
        0, 0.070 * v * s["torso"], -0.005 * v,  # lumbar
        hip, 0, 0, -hip, 0, 0,  # hips
        0, 0.100 * v * s["torso"], 0.0,  # chest
        0, knee, 0, 0, knee, 0,  # knees
        0, 0.118 * v * s["torso"], -0.010 * v,  # neck
        sho, sho_y, sho_z, -sho, sho_y, sho_z,  # shoulders
        0, ankle, 0, 0, ankle, 0,  # ankles
        0, 0.052 * v * s["neck"], 0.012 * v,  # head
        0, elbow, 0, 0, elbow, 0,  # elbows
        0, wrist, 0, 0, wrist, 0,  # wrists
    ], dtype=np.float64).reshape(len(NODES), 3)  # fmt: skip


# Local positions are linear in these identity features (see ``_template_points``), so every
# shape is one matrix product ``W @ features`` plus the torso rings: fast enough to draw a new
# person for every image.
FEATURES = ("one", "v", "hh", "hh_hr", "v_torso", "v_hand", "v_foot", "hh_nose", "hh_eye_dx",
            "hh_eye_dy", "hh_mouth_w", "hh_mouth_dy")  # fmt: skip
HEAD_SEMI = ((0.045, 0.065, 0.055), (0.049, 0.069, 0.060))  # head skin, hair cap (x hh_hr, hh)
TORSO_SEMI = ((0.108, 0.085, 0.066), (0.088, 0.060, 0.058), (0.100, 0.080, 0.064))  # x v_torso


def _features(idn: Identity, widths: bool = False) -> np.ndarray:
    """``FEATURES`` of an identity (plus ``v_torso * shoulders``, ``v_torso * hips``: the
    torso rings' widths, with ``widths``)."""
    return np.array(_features_list(idn, widths))


def _features_list(idn: Identity, widths: bool = False) -> list[float]:
    """``_features`` as a list of floats."""
    s, f, rad = idn.seg, idn.face, idn.rad
    v = idn.height * (1 - idn.head_frac) / 0.87  # body length unit (H for an adult)
    hh = idn.height * idn.head_frac / 0.13 * s["head"]  # head length unit
    vt = v * rad["torso"]
    phi = [1.0, v, hh, hh * rad["head"] ** 0.3, vt, v * s["hand"], v * s["foot"],
           hh * f.get("nose", 0), hh * f.get("eye_dx", 0), hh * f.get("eye_dy", 0),
           hh * f.get("mouth_w", 0), hh * f.get("mouth_dy", 0)]  # fmt: skip
    if widths:
        phi += (vt * s["shoulders"], vt * s["hips"])
    return phi


def _template_points(p: dict[str, float], normals: np.ndarray | None) -> list:
    """``(row, node, (x, y, z))`` of every non-ring row as linear functions of the features
    ``p`` (sums of feature * constant only). ``normals``: unit outward normals of the face
    features (None while they are being computed)."""
    out: list = []

    def put(name: str, nd: str, x: float, y: float, z: float, mirror: bool = False) -> None:
        out.append((POINT_INDEX[name], NODE_INDEX[nd], (x, y, z)))
        if mirror:
            put("right_" + name[5:], "right_" + nd[5:], -x, y, z)

    hh, v = p["hh"], p["v"]
    hc = (0.0, 0.065 * hh, 0.012 * hh)  # head centre relative to the upper neck

    def head(name: str, x: float, y: float, z: float) -> None:  # offsets from the head centre
        put(name, "head", hc[0] + x, hc[1] + y, hc[2] + z)

    put("pelvis", "pelvis", 0, 0, 0)
    for name in ("thorax", "neck"):
        put(name, "neck", 0, 0, 0)
    put("upper_neck", "head", 0, 0, 0)
    for j in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle"):
        put(f"left_{j}", f"left_{j}", 0, 0, 0, mirror=True)
    for name in ("head", "head_skin"):
        head(name, 0, 0, 0)
    head("hair_cap", 0, 0.010 * hh, -0.008 * hh)
    head("head_top", 0, 0.065 * hh, 0)
    head("nose", 0, -0.026 * hh + 0.004 * p["hh_nose"], 0.060 * hh)
    ex, ey = 0.0175 * hh + 0.0015 * p["hh_eye_dx"], 0.002 * hh + 0.003 * p["hh_eye_dy"]
    mw, my = 0.014 * hh + 0.003 * p["hh_mouth_w"], -0.043 * hh + 0.003 * p["hh_mouth_dy"]
    for sign, side in ((1, "left"), (-1, "right")):
        head(f"{side}_eye", sign * ex, ey, 0.049 * hh)
        head(f"{side}_ear", sign * 0.052 * hh, -0.004 * hh, -0.006 * hh)  # ears stick out
        head(f"mouth_{side}", sign * mw, my, 0.047 * hh)
        head(f"brow_{side}", sign * ex, ey + 0.013 * hh, 0.049 * hh)
    head("nose_root", 0, ey - 0.004 * hh, 0.054 * hh)
    head("hair_long_a", 0, 0.02 * hh, -0.028 * hh)
    head("hair_long_b", 0, -0.115 * hh, -0.045 * hh)
    head("hair_bun", 0, 0.05 * hh, -0.06 * hh)
    put("chest_body", "chest", 0, 0.04 * v, 0)
    put("abdomen_body", "lumbar", 0, 0, 0)
    put("pelvis_body", "pelvis", 0, -0.01 * v, -0.005 * v)
    put("left_hand_tip", "left_wrist", 0, -0.108 * p["v_hand"], 0, mirror=True)
    put("left_hand_mid", "left_wrist", 0, -0.062 * p["v_hand"], 0.004 * v, mirror=True)
    sole, foot = -0.019 * v, p["v_foot"]
    put("left_toe", "left_ankle", 0, sole, 0.118 * foot, mirror=True)
    put("left_toe_c", "left_ankle", 0, sole, 0.100 * foot, mirror=True)
    put("left_heel", "left_ankle", 0, sole, -0.028 * foot, mirror=True)
    _template_derived(p, out, normals)
    return out


def _template_derived(p: dict[str, float], out: list, normals: np.ndarray | None) -> None:
    """Rows derived from the ellipsoids: semi-axis tips, head/hair surface samples, and the
    face-feature normal tips (``feature + 1 cm * outward normal``)."""
    known = {row: (nd, xyz) for row, nd, xyz in out}
    for e, semi in zip(ELLIPSOID_INDEX, _semi_axes(p), strict=True):
        nd, c = known[POINT_INDEX[e]]
        for k in range(3):
            tip = [c[0], c[1], c[2]]
            tip[k] += semi[k]
            out.append((POINT_INDEX[f"{e}_axis{k}"], nd, tuple(tip)))
        if e in ("head_skin", "hair_cap"):
            rows = SURFACE_ROWS[0 if e == "head_skin" else 1]
            for row, unit in zip(rows, SPHERE, strict=True):
                out.append((row, nd, tuple(c[k] + unit[k] * semi[k] for k in range(3))))
    if normals is not None:
        for row, n in zip(FEATURE_NORMAL_ROWS, normals, strict=True):
            nd, c = known[POINT_INDEX[POINTS[row][: -len("_normal")]]]
            out.append((row, nd, tuple(c[k] + 0.01 * n[k] * p["one"] for k in range(3))))


def _semi_axes(p: dict[str, float]) -> list[tuple[float, float, float]]:
    """Semi-axes of ``ELLIPSOIDS`` (node frame x, y, z) as linear functions of the features."""
    out = [(a * p["hh_hr"], b * p["hh"], c * p["hh_hr"]) for a, b, c in HEAD_SEMI]
    return out + [(a * p["v_torso"], b * p["v_torso"], c * p["v_torso"]) for a, b, c in TORSO_SEMI]


def _build_template() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Node of every row, ``W (M, 3, F)`` with ``local = W @ features`` (rings excluded) and
    ``S (E, 3, F)`` with ``semi-axes = S @ features``."""
    mean = dict.fromkeys(FEATURES, 0.0)
    mean.update(one=1.0, v=1.0, hh=1.0, hh_hr=1.0, v_torso=1.0, v_hand=1.0, v_foot=1.0)
    pts = {row: np.array(xyz) for row, _, xyz in _template_points(mean, None)}
    centre, semi = pts[POINT_INDEX["head_skin"]], np.array(HEAD_SEMI[0])
    normals = np.array([(pts[POINT_INDEX[f]] - centre) / semi**2 for f in FACE_FEATURES])
    normals /= np.linalg.norm(normals, axis=1, keepdims=True)
    node = np.zeros(len(POINTS), dtype=np.intp)
    W = np.zeros((len(POINTS), 3, len(FEATURES)))
    S = np.zeros((len(ELLIPSOIDS), 3, len(FEATURES)))
    for k, feat in enumerate(FEATURES):
        p = {f: float(f == feat) for f in FEATURES}
        for row, nd, xyz in _template_points(p, normals):
            node[row], W[row, :, k] = nd, xyz
        S[:, :, k] = _semi_axes(p)
    node[RING_ROWS_ALL] = _RING_NODES
    return node, W, S


_RING_NODES = np.repeat([NODE_INDEX[r[1]] for r in RINGS], RING_POINTS)
_NODE_OF_ROW, _W, _S = _build_template()
_RING_ANG = np.arange(RING_POINTS) * (2 * np.pi / RING_POINTS) + np.pi / RING_POINTS
_RING_PARAM = np.array([r[2:] for r in RINGS])  # (R, 4): y, a, b, z-centre
_FEMALE_RING = np.array([0.94, 1.0, 1.0, 0.9, 1.02, 1.06, 1.04])  # width factors per ring
_UPPER_RING = np.array([r[0] in ("shoulder", "chest") for r in RINGS])


_RING_SLICE = slice(int(RING_ROWS_ALL[0]), int(RING_ROWS_ALL[-1]) + 1)
assert np.array_equal(np.arange(len(POINTS))[_RING_SLICE], RING_ROWS_ALL)


def _palette(idn: Identity) -> np.ndarray:
    skin = idn.skin
    return np.array(
        [*skin, *idn.top_color, *idn.bottom_color, *idn.shoe_color, *idn.hair_color,
         *idn.top_color2, *idn.bottom_color2, skin[0] * 0.78, skin[1] * 0.55, skin[2] * 0.55,
         *idn.eye_color, skin[0] * 0.8, skin[1] * 0.8, skin[2] * 0.8],
        dtype=np.float64,
    ).reshape(10, 3)  # fmt: skip


# Capsule radii (fractions of the body unit v at both ends) and their material.
_CAP_BASE = {"neck": (0.034, 0.030), "upper_arm": (0.027, 0.022), "forearm": (0.022, 0.016),
             "hand": (0.017, 0.019), "thigh": (0.050, 0.035), "shank": (0.034, 0.021),
             "foot": (0.021, 0.019)}  # fmt: skip
_CAP_KEY = [c[0].split("_", 1)[1] if c[0].startswith(("left_", "right_")) else c[0]
            for c in CAPSULES]  # fmt: skip


def _cap_table(sleeves: bool, trousers: bool) -> tuple[list, np.ndarray]:
    """Per kind of body capsule ``(base_a * k_a, base_b * k_b, radius key)`` (clothing adds
    8 % thickness; short sleeves / shorts show skin on forearms / shanks) and the materials
    ``(C,)`` of all capsules, for one choice of sleeves and legwear."""
    cl = 1.08
    spec = {
        "neck": (1, 1, "neck", SKIN),
        "upper_arm": (cl, cl, "arm", TOP),
        "forearm": (cl if sleeves else 1, 1, "arm", TOP if sleeves else SKIN),
        "hand": (1, 1, None, SKIN),
        "thigh": (cl, cl, "leg", BOTTOM),
        "shank": (cl if trousers else 1, 1.15 if trousers else 1, "leg",
                  BOTTOM if trousers else SKIN),
        "foot": (1, 1, None, SHOE),
    }  # fmt: skip
    assert tuple(spec) == _CAP_KINDS[:-2]
    rows = [(_CAP_BASE[key][0] * ka, _CAP_BASE[key][1] * kb, rk)
            for key, (ka, kb, rk, _) in spec.items()]  # fmt: skip
    mat = _cached_array([spec[k][3] if k in spec else HAIR for k in _CAP_KEY], np.intp)
    return rows, mat


def _capsules(idn: Identity, v: float, hh: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Capsule radii ``(C, 2)``, materials ``(C,)`` and drawn flags ``(C,)``: radius =
    base * clothing factor * (the identity's radius scale) * v (see ``_cap_table``); the hair
    capsules are 0.047 / 0.040 (long) and 0.024 (bun) head units."""
    key = (idn.sleeves == "long", idn.legwear == "trousers")
    table = _CAP_TABLES.get(key)
    if table is None:
        table = _CAP_TABLES[key] = _cap_table(*key)
    rows, mat = table
    r = idn.rad
    ends = []  # (a, b) per kind, in _CAP_KINDS order
    for pa, pb, rk in rows:
        k = r[rk] if rk else 1
        ends += (pa * k * v, pb * k * v)
    iv = 1.0 / v  # (the hair's radii as base 1 / v times a head-unit factor, as the body's)
    ends += (iv * (0.047 * hh) * 1 * v, iv * (0.040 * hh) * 1 * v)
    ends += (iv * (0.024 * hh) * 1 * v, iv * (0.024 * hh) * 1 * v)
    return np.array(ends)[_CAP_TAKE], mat, _cap_on(idn.hair_style)


_CAP_TABLES: dict[tuple[bool, bool], tuple[list, np.ndarray]] = {}
_CAP_KINDS = ("neck", "upper_arm", "forearm", "hand", "thigh", "shank", "foot", "hair_long",
              "hair_bun")  # fmt: skip
# (C, 2) radii = the flat per-kind (a, b) list at these indices
_CAP_TAKE = np.array([[2 * _CAP_KINDS.index(k), 2 * _CAP_KINDS.index(k) + 1] for k in _CAP_KEY])


_ARRAY_CACHE: dict = {}


def _cached_array(values: list, dtype) -> np.ndarray:
    """A shared read-only array of a few small ints (identities share their materials)."""
    key = tuple(values)
    arr = _ARRAY_CACHE.get(key)
    if arr is None:
        arr = _ARRAY_CACHE[key] = np.array(values, dtype=dtype)
        arr.flags.writeable = False
    return arr


@cache
def _cap_on(hair_style: str) -> np.ndarray:
    on = np.ones(len(CAPSULES), dtype=bool)
    on[CAPSULE_INDEX["hair_long"]] = hair_style == "long"
    on[CAPSULE_INDEX["hair_bun"]] = hair_style == "bun"
    on.flags.writeable = False
    return on


def body_shape(idn: Identity) -> BodyShape:
    """Numeric geometry of an identity, computed once and kept on the identity (treat an
    ``Identity`` as immutable once it has been rendered)."""
    shape = idn._shape
    if shape is None:
        shape = idn._shape = _make_shape(idn)
    return shape


# Depth of each keypoint's surface landmark below the skin, as fractions of v (body) or hh.
_JR_V = {"shoulder": 0.05, "elbow": 0.024, "wrist": 0.017, "hand_tip": 0.01, "hip": 0.06,
         "knee": 0.035, "ankle": 0.022, "toe": 0.015}  # fmt: skip
_JR = np.zeros((NUM_JOINTS, 2))  # columns: x v, x hh
for _j, _r in _JR_V.items():
    _JR[[JOINT_INDEX[f"left_{_j}"], JOINT_INDEX[f"right_{_j}"]], 0] = _r
for _j, _r in {"eye": 0.004, "ear": 0.01}.items():
    _JR[[JOINT_INDEX[f"left_{_j}"], JOINT_INDEX[f"right_{_j}"]], 1] = _r
_JR[JOINT_INDEX["pelvis"], 0] = 0.07
_JR[[JOINT_INDEX["thorax"], JOINT_INDEX["neck"]], 0] = 0.05
_JR[JOINT_INDEX["upper_neck"], 0] = 0.03
_JR[JOINT_INDEX["head"], 1] = 0.05


def _make_shape(idn: Identity) -> BodyShape:
    # every local position (and the ellipsoid semi-axes, the joints' depths below the skin) is
    # linear in the features and the two torso widths (the rings' semi-widths): two products,
    # each below the size where OpenBLAS would start threads
    phi_l = _features_list(idn, widths=True)
    v, hh = phi_l[1], phi_l[2]
    phi = np.array(phi_l)
    w_o, w_h = _W_RINGS[idn.female]
    lin = w_o @ phi  # rows not on the head, then ellipsoid semi-axes, then joint depths
    n3 = 3 * _N_OTHER
    local_h = np.empty((len(POINTS), 4))  # _SPLIT_ROWS order (see _local_h)
    local_h[:, 3] = 1.0
    local_h[:_N_OTHER, :3] = lin[:n3].reshape(-1, 3)
    local_h[_N_OTHER:, :3] = (w_h @ phi).reshape(-1, 3)
    local = local_h.take(_UNSPLIT, axis=0)[:, :3]
    rad, mat, on = _capsules(idn, v, hh)
    shape = BodyShape(
        identity=idn,
        offsets=_node_offsets(idn),
        point_node=_NODE_OF_ROW,
        local=local,
        cap_radius=rad,
        cap_material=mat,
        cap_on=on,
        ell_semi=lin[n3 : n3 + 3 * len(ELLIPSOIDS)].reshape(-1, 3),
        joint_radius=lin[n3 + 3 * len(ELLIPSOIDS) :],
        palette=_palette(idn),
    )
    shape._local_h = local_h
    return shape


def segment_lengths(shape: BodyShape) -> dict[tuple[str, str], float]:
    """Rest distances between keypoint pairs joined by a rigid segment (metres): the bone
    lengths that forward kinematics must preserve in every frame."""
    pts = shape.local
    out = {}
    for a, b in (("left_shoulder", "left_elbow"), ("left_elbow", "left_wrist"),
                 ("right_shoulder", "right_elbow"), ("right_elbow", "right_wrist"),
                 ("left_hip", "left_knee"), ("left_knee", "left_ankle"),
                 ("right_hip", "right_knee"), ("right_knee", "right_ankle"),
                 ("left_wrist", "left_hand_tip"), ("right_wrist", "right_hand_tip"),
                 ("left_ankle", "left_toe"), ("right_ankle", "right_toe"),
                 ("upper_neck", "head_top"), ("left_hip", "right_hip"),
                 ("left_shoulder", "right_shoulder")):  # fmt: skip
        ia, ib = JOINT_INDEX[a], JOINT_INDEX[b]
        na, nb = shape.point_node[ia], shape.point_node[ib]
        if na == nb:
            d = np.linalg.norm(pts[ia] - pts[ib])
        elif PARENTS[nb] == na:  # child node origin: its offset
            d = np.linalg.norm(shape.offsets[nb] + pts[ib] - pts[ia])
        else:  # siblings of the same parent (hips of the pelvis, shoulders of the chest)
            d = np.linalg.norm(shape.offsets[nb] - shape.offsets[na])
        out[(a, b)] = float(d)
    return out


def pose_points(
    shapes: list[BodyShape],
    angles: np.ndarray,
    root_euler: np.ndarray,
    root_pos: np.ndarray,
    ground: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """World positions of every row of ``POINTS`` for B posed people (or frames).

    Args:
        shapes: B body shapes, or one shape for all B rows (a sequence).
        angles: ``(B, D)`` joint angles (radians, clipped here to ``LIMITS``).
        root_euler: ``(B, 3)`` (yaw, pitch, roll) radians; root_pos: ``(B, 3)`` metres.
        ground: if True, ``root_pos[:, 1]`` is a lift above the floor: each body is raised so
            that its lowest capsule surface touches ``y = 0``, then lifted.
    Returns:
        ``points (B, M, 3)`` world positions and node rotations ``(B, J, 3, 3)``.
    """
    angles = clip_pose(angles)
    return _pose_points(shapes, angles if angles.ndim == 2 else angles.reshape(-1, NUM_DOFS),
                        root_euler, root_pos, ground)  # fmt: skip


def _pose_points(shapes, angles, root_euler, root_pos, ground: bool = True):
    """``pose_points`` of angles already clipped to ``LIMITS``, float64 ``(B, D)``; root_pos
    None: at the origin."""
    b = angles.shape[0]
    if root_pos is None:
        root_pos = np.zeros((b, 3))
    else:
        root_pos = np.array(root_pos, dtype=np.float64).reshape(b, 3)
    one = len(shapes) == 1 or all(s is shapes[0] for s in shapes)
    if one:
        offsets, local, radius = shapes[0].offsets, _local_h(shapes[0]), shapes[0].cap_radius[None]
    else:
        offsets = np.stack([s.offsets for s in shapes])
        local = np.stack([_local_h(s) for s in shapes])
        radius = np.stack([s.cap_radius for s in shapes])
    T = _fk(angles, np.asarray(root_euler, dtype=np.float64).reshape(b, 3), offsets)
    # Every point under every node's frame in one product per pose ([local, 1] @ [R^T; t]),
    # then each point's own node picked out: a few calls instead of one 3x3 product per point.
    j = len(NODES)
    frames = np.ascontiguousarray(T[:, :, :3].transpose(0, 3, 1, 2)).reshape(b, 4, j * 3)
    node = shapes[0].point_node
    if node is _NODE_OF_ROW and local.shape[-2] == len(POINTS):
        # (local rows in _SPLIT_ROWS order) the head's rows (most of them: its surface
        # samples) under the head frame alone, the other rows under every frame
        o = _N_OTHER * 3 * j
        buf = np.empty((b, o + 3 * (len(POINTS) - _N_OTHER)))
        np.matmul(local[..., :_N_OTHER, :], frames, out=buf[:, :o].reshape(b, _N_OTHER, 3 * j))
        np.matmul(local[..., _N_OTHER:, :], frames[:, :, _HEAD_COLS],
                  out=buf[:, o:].reshape(b, -1, 3))  # fmt: skip
        pts = buf.take(_TAKE_SPLIT, axis=1)
    else:
        every = np.matmul(local, frames).reshape(b, -1)
        pts = every.take(_point_take(node, local.shape[-2]), axis=1)
    pts = pts.reshape(b, -1, 3)
    if ground:
        y = pts[:, _GROUND_ROWS, 1] - radius[:, :_N_BODY_CAPS]
        root_pos[:, 1] -= np.minimum.reduce(y.reshape(b, -1), axis=1)
    pts += root_pos[:, None]
    return pts, T[..., :3, :3]


def _point_take(node: np.ndarray, m: int) -> np.ndarray:
    """Flat indices into ``(M, J * 3)`` of row m's own node columns (``(M * 3,)``)."""
    if node is _NODE_OF_ROW and m == len(node):
        return _TAKE_DEFAULT
    j = len(NODES)
    return (np.arange(m)[:, None] * (3 * j) + node[:m, None] * 3 + np.arange(3)).ravel()


_N_BODY_CAPS = CAPSULE_INDEX["hair_long"]  # capsules that touch the floor (not hair)
_GROUND_ROWS = CAP_ROWS[:_N_BODY_CAPS]


_TAKE_DEFAULT = _point_take(_NODE_OF_ROW.copy(), len(POINTS))


assert not _W[_RING_SLICE].any()  # the rings are filled in by _ring_template


def _ring_template(female: bool) -> tuple[np.ndarray, np.ndarray]:
    """``_W`` with the torso rings filled in, over the features plus ``v_torso * shoulders``
    and ``v_torso * hips`` (ring r, point p: x = a_r cos, y = y_r v, z = z_r v + b_r sin v_torso
    with a_r = semi-width * v_torso * (shoulders or hips) * female factor), as two
    ``(rows * 3, 14)`` blocks."""
    f = len(FEATURES)
    w = np.zeros((len(POINTS), 3, f + 2))
    w[:, :, :f] = _W
    y, a, b, z = _RING_PARAM.T
    width = np.where(_UPPER_RING, f, f + 1)  # feature column of each ring's width
    fem = _FEMALE_RING if female else np.ones(len(RINGS))
    rows = np.arange(len(POINTS))[_RING_SLICE].reshape(len(RINGS), RING_POINTS)
    for r in range(len(RINGS)):
        w[rows[r], 0, width[r]] = a[r] * fem[r] * np.cos(_RING_ANG)
        w[rows[r], 1, FEATURES.index("v")] = y[r]
        w[rows[r], 2, FEATURES.index("v")] = z[r]
        w[rows[r], 2, FEATURES.index("v_torso")] = b[r] * np.sin(_RING_ANG)
    extra = np.zeros((3 * len(ELLIPSOIDS) + NUM_JOINTS, f + 2))  # semi-axes, joint depths
    extra[: 3 * len(ELLIPSOIDS), :f] = _S.reshape(-1, f)
    extra[3 * len(ELLIPSOIDS) :, 1:3] = _JR
    return (np.concatenate([w[_OTHER_ROWS].reshape(-1, f + 2), extra]),
            w[_HEAD_ROWS].reshape(-1, f + 2))  # fmt: skip


_HEAD_NODE = NODE_INDEX["head"]
_HEAD_ROWS = np.flatnonzero(_NODE_OF_ROW == _HEAD_NODE)
_OTHER_ROWS = np.flatnonzero(_NODE_OF_ROW != _HEAD_NODE)
_HEAD_COLS = slice(3 * _HEAD_NODE, 3 * _HEAD_NODE + 3)
_N_OTHER = len(_OTHER_ROWS)
_SPLIT_ROWS = np.r_[_OTHER_ROWS, _HEAD_ROWS]  # rows of POINTS in _local_h order
_UNSPLIT = np.argsort(_SPLIT_ROWS)
# rows * 3 * 14 < 9216 in each block: below OpenBLAS's threshold for threads in gemv
_W_RINGS = {False: _ring_template(False), True: _ring_template(True)}
assert max(len(w) for w in _W_RINGS[False]) * 14 < 9216


def _take_split() -> np.ndarray:
    """Flat indices into ``[other rows x every frame (O, J * 3), head rows (H, 3)]`` of every
    row of ``POINTS`` (``(M * 3,)``)."""
    j, o = len(NODES), len(_OTHER_ROWS)
    idx = np.empty((len(POINTS), 3), np.intp)
    idx[_OTHER_ROWS] = (np.arange(o)[:, None] * (3 * j) + _NODE_OF_ROW[_OTHER_ROWS, None] * 3
                        + np.arange(3))  # fmt: skip
    idx[_HEAD_ROWS] = o * 3 * j + np.arange(len(_HEAD_ROWS))[:, None] * 3 + np.arange(3)
    return idx.ravel()


_TAKE_SPLIT = _take_split()
