"""Joint sets of the pose datasets and conversions between them.

Every joint set lists its joints in the dataset's own order (as its annotation files do; the
datasets are in ``docs/references.md``), each under a *canonical* name shared by all sets
(``left_shoulder``, ``head_top``, ...) so that conversion works by name. Keypoint arrays
follow posekit's convention ``(N, K, 3)`` = ``(x, y, v)`` with COCO visibility flags (0 not
labelled, 1 occluded, 2 visible).

Sets: COCO-17, MPII-16, LSP-14, OpenPose-18 (COCO order with a neck), SPHP/DHP19-13,
HumanEva-15; a generator with its own joints adds them with ``register`` (SynthPose's
``synth``). This module imports no other posekit module.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

LEFT_COLOR = (30, 120, 230)
RIGHT_COLOR = (240, 110, 30)
CENTER_COLOR = (40, 180, 80)


def _side(name: str) -> str:
    if name.startswith("left_"):
        return "left"
    if name.startswith("right_"):
        return "right"
    return "center"


def _mirror(name: str) -> str:
    if name.startswith("left_"):
        return "right_" + name[5:]
    if name.startswith("right_"):
        return "left_" + name[6:]
    return name


@dataclass(frozen=True)
class Skeleton:
    """One dataset's joint set.

    Attributes:
        name: registry key, e.g. ``"coco17"``.
        joints: canonical joint names in the dataset's order (length K).
        labels: the dataset's own names for the joints (same order).
        limbs: pairs ``(i, j)`` of 0-based joint indices (drawing; PAF order for OpenPose).
        flip_pairs: mirror-joint pairs ``(i, j)``, ``i < j``, swapped by a horizontal flip.
        limb_colors: one RGB uint8 triple per limb (left blue, right orange, centre green).
    """

    name: str
    joints: tuple[str, ...]
    labels: tuple[str, ...]
    limbs: tuple[tuple[int, int], ...]
    flip_pairs: tuple[tuple[int, int], ...] = field(init=False)
    limb_colors: tuple[tuple[int, int, int], ...] = field(init=False)

    def __post_init__(self) -> None:
        k = len(self.joints)
        if len(set(self.joints)) != k:
            raise ValueError(f"skeleton {self.name}: duplicate joint names")
        if len(self.labels) != k:
            raise ValueError(f"skeleton {self.name}: {len(self.labels)} labels for {k} joints")
        for i, j in self.limbs:
            if not (0 <= i < k and 0 <= j < k):
                raise ValueError(f"skeleton {self.name}: limb ({i}, {j}) out of range 0..{k - 1}")
        index = {n: i for i, n in enumerate(self.joints)}
        pairs = []
        for i, n in enumerate(self.joints):
            if _side(n) == "left" and _mirror(n) in index:
                pairs.append(tuple(sorted((i, index[_mirror(n)]))))
        object.__setattr__(self, "flip_pairs", tuple(sorted(pairs)))
        colors = []
        for i, j in self.limbs:
            sides = {_side(self.joints[i]), _side(self.joints[j])} - {"center"}
            if sides == {"left"}:
                colors.append(LEFT_COLOR)
            elif sides == {"right"}:
                colors.append(RIGHT_COLOR)
            else:
                colors.append(CENTER_COLOR)
        object.__setattr__(self, "limb_colors", tuple(colors))

    @property
    def num_joints(self) -> int:
        return len(self.joints)

    def index(self, joint: str) -> int:
        """0-based index of a canonical joint name (or of the dataset's own label)."""
        if joint in self.joints:
            return self.joints.index(joint)
        if joint in self.labels:
            return self.labels.index(joint)
        raise KeyError(f"skeleton {self.name} has no joint {joint!r}; joints: {self.joints}")

    def flip_permutation(self) -> np.ndarray:
        """``perm`` of shape (K,) such that ``kpts[..., perm, :]`` swaps left and right."""
        perm = np.arange(self.num_joints)
        for a, b in self.flip_pairs:
            perm[a], perm[b] = b, a
        return perm

    def joint_colors(self) -> list[tuple[int, int, int]]:
        """One RGB triple per joint by body side."""
        by_side = {"left": LEFT_COLOR, "right": RIGHT_COLOR, "center": CENTER_COLOR}
        return [by_side[_side(n)] for n in self.joints]


def _limbs_1based(pairs: list[list[int]]) -> tuple[tuple[int, int], ...]:
    return tuple((a - 1, b - 1) for a, b in pairs)


# fmt: off
COCO17 = Skeleton(
    name="coco17",
    joints=(
        "nose", "left_eye", "right_eye", "left_ear", "right_ear",
        "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
        "left_wrist", "right_wrist", "left_hip", "right_hip",
        "left_knee", "right_knee", "left_ankle", "right_ankle",
    ),
    labels=(
        "nose", "left_eye", "right_eye", "left_ear", "right_ear",
        "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
        "left_wrist", "right_wrist", "left_hip", "right_hip",
        "left_knee", "right_knee", "left_ankle", "right_ankle",
    ),
    limbs=_limbs_1based(
        [[16, 14], [14, 12], [17, 15], [15, 13], [12, 13], [6, 12], [7, 13], [6, 7], [6, 8],
         [7, 9], [8, 10], [9, 11], [2, 3], [1, 2], [1, 3], [2, 4], [3, 5], [4, 6], [5, 7]]
    ),
)

MPII16 = Skeleton(
    name="mpii16",
    joints=(
        "right_ankle", "right_knee", "right_hip", "left_hip", "left_knee", "left_ankle",
        "pelvis", "thorax", "upper_neck", "head_top",
        "right_wrist", "right_elbow", "right_shoulder",
        "left_shoulder", "left_elbow", "left_wrist",
    ),
    labels=(
        "rank", "rkne", "rhip", "lhip", "lkne", "lank", "pelv", "thor", "neck", "head",
        "rwri", "relb", "rsho", "lsho", "lelb", "lwri",
    ),
    limbs=(
        (0, 1), (1, 2), (2, 6), (3, 6), (3, 4), (4, 5), (6, 7), (7, 8), (8, 9),
        (10, 11), (11, 12), (12, 7), (13, 7), (13, 14), (14, 15),
    ),
)

LSP14 = Skeleton(
    name="lsp14",
    joints=(
        "right_ankle", "right_knee", "right_hip", "left_hip", "left_knee", "left_ankle",
        "right_wrist", "right_elbow", "right_shoulder",
        "left_shoulder", "left_elbow", "left_wrist", "upper_neck", "head_top",
    ),
    labels=(
        "R ankle", "R knee", "R hip", "L hip", "L knee", "L ankle", "R wrist", "R elbow",
        "R shoulder", "L shoulder", "L elbow", "L wrist", "neck", "head top",
    ),
    limbs=(
        (0, 1), (1, 2), (3, 4), (4, 5), (2, 3), (2, 8), (3, 9), (8, 12), (9, 12), (12, 13),
        (6, 7), (7, 8), (9, 10), (10, 11),
    ),
)

OPENPOSE18 = Skeleton(
    name="openpose18",
    joints=(
        "nose", "neck", "right_shoulder", "right_elbow", "right_wrist",
        "left_shoulder", "left_elbow", "left_wrist", "right_hip", "right_knee", "right_ankle",
        "left_hip", "left_knee", "left_ankle", "right_eye", "left_eye", "right_ear", "left_ear",
    ),
    labels=(
        "Nose", "Neck", "RShoulder", "RElbow", "RWrist", "LShoulder", "LElbow", "LWrist",
        "RHip", "RKnee", "RAnkle", "LHip", "LKnee", "LAnkle", "REye", "LEye", "REar", "LEar",
    ),
    # The CMU demo's limbSeq: 19 limbs = 38 PAF channels, in this order.
    limbs=_limbs_1based(
        [[2, 3], [2, 6], [3, 4], [4, 5], [6, 7], [7, 8], [2, 9], [9, 10], [10, 11], [2, 12],
         [12, 13], [13, 14], [2, 1], [1, 15], [15, 17], [1, 16], [16, 18], [3, 17], [6, 18]]
    ),
)

SPHP13 = Skeleton(
    name="sphp13",
    joints=(
        "head", "right_shoulder", "left_shoulder", "right_elbow", "left_elbow",
        "right_hip", "left_hip", "right_wrist", "left_wrist",
        "right_knee", "left_knee", "right_ankle", "left_ankle",
    ),
    labels=(
        "head", "shoulderR", "shoulderL", "elbowR", "elbowL", "hipR", "hipL",
        "handR", "handL", "kneeR", "kneeL", "footR", "footL",
    ),
    limbs=(
        (0, 1), (0, 2), (1, 2), (1, 3), (3, 7), (2, 4), (4, 8), (1, 5), (2, 6), (5, 6),
        (5, 9), (9, 11), (6, 10), (10, 12),
    ),
)

HUMANEVA15 = Skeleton(
    name="humaneva15",
    joints=(
        "pelvis", "thorax", "left_shoulder", "left_elbow", "left_wrist",
        "right_shoulder", "right_elbow", "right_wrist", "left_hip", "left_knee", "left_ankle",
        "right_hip", "right_knee", "right_ankle", "head_top",
    ),
    labels=(
        "pelvis", "thorax", "lsho", "lelb", "lwri", "rsho", "relb", "rwri",
        "lhip", "lkne", "lank", "rhip", "rkne", "rank", "head",
    ),
    # VideoPose3D parents [-1,0,1,2,3,1,5,6,0,8,9,0,11,12,1] as (parent, child) pairs.
    limbs=(
        (0, 1), (1, 2), (2, 3), (3, 4), (1, 5), (5, 6), (6, 7), (0, 8), (8, 9), (9, 10),
        (0, 11), (11, 12), (12, 13), (1, 14),
    ),
)
# fmt: on

SKELETONS: dict[str, Skeleton] = {
    s.name: s for s in (COCO17, MPII16, LSP14, OPENPOSE18, SPHP13, HUMANEVA15)
}
# fmt: off
ALIASES = {
    "coco": "coco17", "mpii": "mpii16", "lsp": "lsp14", "openpose": "openpose18",
    "sphp": "sphp13", "dhp19": "sphp13", "dhp19_13": "sphp13", "humaneva": "humaneva15",
}
# fmt: on

# Joints a set may lack but that can be computed from others: recipes tried in order, each
# the list of joints averaged. A joint with no usable recipe converts to v=0.
DERIVED: dict[str, tuple[tuple[str, ...], ...]] = {
    "neck": (("thorax",), ("left_shoulder", "right_shoulder")),
    "thorax": (("neck",), ("left_shoulder", "right_shoulder")),
    "pelvis": (("left_hip", "right_hip"),),
    "head": (("head_top", "upper_neck"), ("left_ear", "right_ear"), ("nose",)),
}


_REGISTERED: dict[str, Skeleton] = {}
"""Joint sets added by ``register`` (SynthPose's ``synth``, registered when ``posekit.synth``
is imported)."""


def register(skeleton: Skeleton) -> Skeleton:
    """Make ``get_skeleton(skeleton.name)`` find ``skeleton``; returns it.

    For joint sets that live with their generator rather than here (SynthPose registers its
    27 joints on import). Registering an equal skeleton again is a no-op; a different one
    under a taken name is a ``ValueError``."""
    if not isinstance(skeleton, Skeleton):
        raise TypeError(f"skeleton: expected a Skeleton, got {type(skeleton).__name__}")
    key = skeleton.name.lower()
    known = SKELETONS.get(key, _REGISTERED.get(key))
    if key in ALIASES or (known is not None and known != skeleton):
        raise ValueError(f"skeleton: the name {skeleton.name!r} is taken by another joint set")
    _REGISTERED[key] = skeleton
    return skeleton


def get_skeleton(name: str | Skeleton) -> Skeleton:
    """The joint set registered as ``name`` (``coco17``, ``mpii16``, ``lsp14``,
    ``openpose18``, ``sphp13``/``dhp19``, ``humaneva15``; short aliases accepted; and any
    ``register``-ed set, e.g. SynthPose's ``synth`` once ``posekit.synth`` is imported)."""
    if isinstance(name, Skeleton):
        return name
    key = ALIASES.get(str(name).lower(), str(name).lower())
    found = SKELETONS.get(key, _REGISTERED.get(key))
    if found is None:
        known = ", ".join(sorted(SKELETONS) + sorted(_REGISTERED) + sorted(ALIASES))
        hint = " (import posekit.synth to register it)" if key == "synth" else ""
        raise KeyError(f"unknown joint set {name!r}{hint}; known: {known}")
    return found


def _as_keypoints(keypoints: np.ndarray, skeleton: Skeleton, arg: str) -> np.ndarray:
    kp = np.asarray(keypoints, dtype=np.float32)
    if kp.ndim not in (2, 3) or kp.shape[-1] != 3 or kp.shape[-2] != skeleton.num_joints:
        raise ValueError(
            f"{arg}: expected shape (N, {skeleton.num_joints}, 3) or ({skeleton.num_joints}, 3) "
            f"(x, y, v) for {skeleton.name}, got {kp.shape}"
        )
    return kp


def convert(keypoints: np.ndarray, src: str | Skeleton, dst: str | Skeleton) -> np.ndarray:
    """Convert keypoints between joint sets by canonical joint name.

    Args:
        keypoints: ``(N, K_src, 3)`` or ``(K_src, 3)`` array of ``(x, y, v)``.
        src, dst: joint sets (names or ``Skeleton``).
    Returns:
        ``(N, K_dst, 3)`` (or ``(K_dst, 3)``) float32. Labelled joints present in ``src`` are
        copied (unlabelled ones become ``(0, 0, 0)``);
        derived joints (``DERIVED``, e.g. neck = mid-shoulders, pelvis = mid-hips) are the mean
        of their sources with ``v = min(v_sources)``; anything else gets ``(0, 0, 0)``.
    """
    src, dst = get_skeleton(src), get_skeleton(dst)
    kp = _as_keypoints(keypoints, src, "keypoints")
    single = kp.ndim == 2
    if single:
        kp = kp[None]
    out = np.zeros((kp.shape[0], dst.num_joints, 3), dtype=np.float32)
    index = {n: i for i, n in enumerate(src.joints)}
    for j, name in enumerate(dst.joints):
        if name in index:
            src_joint = kp[:, index[name]]
            out[:, j] = np.where(src_joint[:, 2:] > 0, src_joint, 0.0)
            continue
        for recipe in DERIVED.get(name, ()):
            if all(r in index for r in recipe):
                ids = [index[r] for r in recipe]
                vis = kp[:, ids, 2].min(axis=1)
                xy = kp[:, ids, :2].mean(axis=1)
                out[:, j, :2] = np.where(vis[:, None] > 0, xy, 0.0)
                out[:, j, 2] = vis
                break
    return out[0] if single else out


def flip_keypoints(keypoints: np.ndarray, width: int, skeleton: str | Skeleton) -> np.ndarray:
    """Mirror keypoints horizontally in an image of ``width`` pixels and swap left/right.

    With pixel centres at integer coordinates, column ``x`` maps to ``width - 1 - x``.
    Unlabelled joints (v=0) stay ``(0, 0, 0)``. Shape ``(..., K, 3)`` in and out.
    """
    sk = get_skeleton(skeleton)
    kp = np.array(keypoints, dtype=np.float32, copy=True)
    if kp.shape[-1] != 3 or kp.shape[-2] != sk.num_joints:
        raise ValueError(f"keypoints: expected (..., {sk.num_joints}, 3), got {kp.shape}")
    labelled = kp[..., 2:] > 0
    kp[..., 0] = width - 1 - kp[..., 0]
    kp = np.where(labelled, kp, np.float32(0))
    return kp[..., sk.flip_permutation(), :]
