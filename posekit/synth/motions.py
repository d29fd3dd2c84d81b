"""Static poses and the 16 SPHP exercise motions as joint-angle trajectories.

Action ids are the numeric folder ids of SPHP (``docs/datasets.md`` § SPHP). The motions are
posekit's own parametrisation of those exercises: each is a few sinusoids (or pulses) of
period ``T`` on its main degrees of freedom, with per-sequence jitter of phase, period
(+/-20 %), amplitude (+/-20 %), facing direction (yaw +/-45 deg) and a small random walk of
the root. Angles are radians in ``posekit.synth.body.DOF_NAMES`` order, clipped to
``LIMITS``; any frame rate works because every curve is a function of continuous time.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import numpy as np

from posekit.synth.body import DOF_INDEX, NUM_DOFS, clip_pose, neutral_pose

# fmt: off
ACTIONS: dict[int, tuple[str, str]] = {
    1: ("arm abduction", "C1"), 2: ("arm bicep curl", "C1"), 3: ("wave hello", "C1"),
    4: ("punch up forward", "C1"), 5: ("leg knee lift", "C2"), 6: ("leg abduction", "C2"),
    7: ("leg pulling", "C2"), 8: ("elbow-to-knee", "C4"), 9: ("walk in place", "C3"),
    10: ("squat", "C3"), 11: ("jump in place", "C4"), 12: ("jog in place", "C4"),
    13: ("jumping jack", "C4"), 14: ("standing side bend", "C3"), 15: ("hop on one foot", "C4"),
    16: ("roll wrists and ankles", "C3"),
}
# fmt: on
ACTION_CLASSES: dict[str, tuple[int, ...]] = {
    c: tuple(i for i, (_, k) in ACTIONS.items() if k == c) for c in ("C1", "C2", "C3", "C4")
}
CLASS_NAMES = {
    "C1": "upper body",
    "C2": "lower body",
    "C3": "slow whole body",
    "C4": "fast whole body",
}


def action_class(action_id: int) -> str:
    """SPHP class ``"C1"``..``"C4"`` of an action id 1..16."""
    return ACTIONS[_check_action(action_id)][1]


def _check_action(action_id: int) -> int:
    if int(action_id) not in ACTIONS:
        raise KeyError(f"unknown SPHP action id {action_id!r}; ids are 1..16: {ACTIONS}")
    return int(action_id)


# --------------------------------------------------------------------------------------------
# Random static poses
# --------------------------------------------------------------------------------------------
# Everything is drawn from one vector of uniforms (fast: a few microseconds per pose).
_SPINE_LO, _SPINE_HI = (
    np.array([-10, -12, -25, -20, -15, -45.0]),
    np.array([25, 12, 25, 35, 15, 45.0]),
)
# Arm modes (cumulative probabilities): relaxed, anywhere, across the body, raised.
_ARM_CUM = (0.3, 0.65, 0.85)
_ARM_LO = np.array([[-15, 0, -20, 0, -30, -30], [-50, -40, -80, 0, -30, -30],
                    [20, -40, -30, 30, -30, -30], [60, 20, -40, 0, -30, -30.0]])  # fmt: skip
_ARM_HI = np.array([[30, 25, 20, 40, 30, 30], [170, 160, 80, 150, 30, 30],
                    [100, -5, 60, 140, 30, 30], [180, 180, 60, 70, 30, 30.0]])  # fmt: skip
_ARM_DOFS = {s: [DOF_INDEX[f"{s}_{d}"] for d in ("shoulder_flex", "shoulder_abd", "shoulder_rot",
             "elbow", "wrist_flex", "wrist_dev")] for s in ("left", "right")}  # fmt: skip
_LEG_DOFS = {s: [DOF_INDEX[f"{s}_{d}"] for d in ("hip_flex", "hip_abd", "hip_rot", "knee",
             "ankle_flex", "ankle_inv")] for s in ("left", "right")}  # fmt: skip
_LEG_LO, _LEG_HI = np.array([-10, -5, -15, 0, -10, -10.0]), np.array([20, 15, 15, 20, 10, 10.0])
# Leg families (cumulative): stand, stride, crouch, lunge/kick, bend forward.
_LEG_CUM = (0.55, 0.7, 0.8, 0.92)
_N_UNIFORMS = 40


# Plain-float copies (a pose is built in a Python list: the same arithmetic, less overhead).
_SPINE_LO_L, _SPINE_D_L = _SPINE_LO.tolist(), (_SPINE_HI - _SPINE_LO).tolist()
_ARM_LO_L, _ARM_D_L = _ARM_LO.tolist(), (_ARM_HI - _ARM_LO).tolist()
_LEG_LO_L, _LEG_D_L = _LEG_LO.tolist(), (_LEG_HI - _LEG_LO).tolist()


def _arm(u: list[float], lo: int, out: list, side: str) -> None:
    mode = bisect.bisect(_ARM_CUM, u[lo])
    v = [a + d * x for a, d, x in zip(_ARM_LO_L[mode], _ARM_D_L[mode], u[lo + 1 : lo + 7],
                                      strict=True)]  # fmt: skip
    if mode == 1 and -15 < v[0] < 20:
        v[1] = max(v[1], -5.0)  # a hanging arm cannot adduct through the hip
    for i, x in zip(_ARM_DOFS[side], v, strict=True):
        out[i] = x


def _legs(u: list[float], out: list) -> None:
    for k, side in enumerate(("left", "right")):
        uk = u[20 + 6 * k : 26 + 6 * k]
        for i, a, d, x in zip(_LEG_DOFS[side], _LEG_LO_L, _LEG_D_L, uk, strict=True):
            out[i] = a + d * x
    fam = bisect.bisect(_LEG_CUM, u[32])
    lead, back = ("left", "right") if u[33] < 0.5 else ("right", "left")
    a, b, c = u[34], u[35], u[36]
    if fam == 1:  # walking / running stride
        amp = 15 + 30 * a
        out[DOF_INDEX[f"{lead}_hip_flex"]], out[DOF_INDEX[f"{back}_hip_flex"]] = amp, -0.5 * amp
        out[DOF_INDEX[f"{lead}_knee"]], out[DOF_INDEX[f"{back}_knee"]] = 5 + 35 * b, 10 + 80 * c
    elif fam == 2:  # crouch / squat
        for side, d in (("left", -5), ("right", 5)):
            out[DOF_INDEX[f"{side}_hip_flex"]] = 60 + 60 * a + d * (b - 0.5)
            out[DOF_INDEX[f"{side}_knee"]] = 60 + 80 * b
            out[DOF_INDEX[f"{side}_ankle_flex"]] = 10 + 20 * c
        out[DOF_INDEX["spine_flex"]] = 10 + 35 * u[37]
    elif fam == 3:  # lunge / kick / knee up
        out[DOF_INDEX[f"{lead}_hip_flex"]], out[DOF_INDEX[f"{lead}_knee"]] = 40 + 75 * a, 110 * b
        out[DOF_INDEX[f"{lead}_hip_abd"]] = -10 + 50 * c
    elif fam == 4:  # bend forward
        out[DOF_INDEX["spine_flex"]] = 40 + 50 * a
        out[DOF_INDEX["left_hip_flex"]], out[DOF_INDEX["right_hip_flex"]] = 10 + 50 * b, 10 + 50 * c


def random_pose(rng: np.random.Generator) -> np.ndarray:
    """A plausible static pose: ``(D,)`` joint angles in radians within ``LIMITS``.

    Legs: standing (55 %), stride, crouch, lunge/kick or forward bend. Each arm independently:
    relaxed, anywhere in its range, across the body (hands in front of the torso, so arms cross
    and occlude) or raised. Spine and neck get moderate random bends and twists.
    """
    u = rng.random(_N_UNIFORMS).tolist()
    out = [a + d * x for a, d, x in zip(_SPINE_LO_L, _SPINE_D_L, u[:6], strict=True)]
    out += [0.0] * (NUM_DOFS - 6)
    _arm(u, 6, out, "left")
    _arm(u, 13, out, "right")
    _legs(u, out)
    return clip_pose(np.deg2rad(np.array(out)))


# --------------------------------------------------------------------------------------------
# SPHP motions
# --------------------------------------------------------------------------------------------
@dataclass
class Motion:
    """A motion clip: joint-angle and root trajectories of ``T`` frames.

    Attributes:
        action_id: SPHP action id 1..16 (0 for a static clip).
        fps: frames per second; frame ``i`` is at time ``i / fps`` seconds.
        angles: ``(T, D)`` joint angles, radians, within ``LIMITS``.
        root_euler: ``(T, 3)`` pelvis (yaw, pitch, roll), radians.
        root_pos: ``(T, 3)`` root (x, lift, z) in metres: x/z is the horizontal position,
            ``lift`` the height of the lowest body point above the floor (jumps, hops).
        period: the sampled period ``T`` (s); amplitude: amplitude factor (about 0.8..1.2).
    """

    action_id: int
    fps: float
    angles: np.ndarray
    root_euler: np.ndarray
    root_pos: np.ndarray
    period: float
    amplitude: float

    @property
    def name(self) -> str:
        return ACTIONS[self.action_id][0] if self.action_id in ACTIONS else "static"

    @property
    def action_class(self) -> str:
        return ACTIONS[self.action_id][1] if self.action_id in ACTIONS else ""

    @property
    def n_frames(self) -> int:
        return self.angles.shape[0]


class _Curves:
    """Degree-valued DOF curves over time, initialised to a jittered neutral pose."""

    def __init__(self, t: np.ndarray, rng: np.random.Generator, height: float) -> None:
        self.t, self.h = t, height
        base = np.rad2deg(neutral_pose()) + rng.uniform(-4, 4, NUM_DOFS)
        self.deg = np.repeat(base[None], len(t), axis=0)
        self.pitch = np.zeros(len(t))
        self.lift = np.zeros(len(t))

    def __setitem__(self, name: str, value) -> None:
        self.deg[:, DOF_INDEX[name]] = value

    def __getitem__(self, name: str) -> np.ndarray:
        return self.deg[:, DOF_INDEX[name]]

    def both(self, name: str, left, right=None) -> None:
        self[f"left_{name}"] = left
        self[f"right_{name}"] = left if right is None else right


def _pulses(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Half-wave pulses of the two sides: left on the first half period, right the second."""
    s = np.sin(w)
    return np.maximum(s, 0), np.maximum(-s, 0)


def _hop(u: np.ndarray, ground: float) -> tuple[np.ndarray, np.ndarray]:
    """Phase ``u`` in [0, 1): (crouch 0..1 on the ground, normalised ballistic lift 0..1)."""
    on = u < ground
    crouch = np.where(on, np.sin(np.pi * np.clip(u / ground, 0, 1)), 0.0)
    w = np.clip((u - ground) / (1 - ground), 0, 1)
    return crouch, np.where(on, 0.0, 4 * w * (1 - w))


def _m01(c: _Curves, w, a, rng) -> None:  # arm abduction
    top = rng.uniform(90, 170)
    c.both("shoulder_abd", 5 + (top - 5) * a * (1 - np.cos(w)) / 2)
    c.both("shoulder_rot", 20)


def _m02(c: _Curves, w, a, rng) -> None:  # bicep curl (optionally alternating)
    shift = np.pi if rng.random() < 0.5 else 0.0
    c.both("shoulder_flex", 5)
    c.both("elbow", 10 + 130 * a * (1 - np.cos(w)) / 2, 10 + 130 * a * (1 - np.cos(w + shift)) / 2)


def _m03(c: _Curves, w, a, rng) -> None:  # wave hello: 2 Hz forearm swings
    side = "right" if rng.random() < 0.7 else "left"
    c[f"{side}_shoulder_abd"] = rng.uniform(95, 125)
    c[f"{side}_shoulder_rot"] = 90
    c[f"{side}_elbow"] = 80 + 30 * a * np.sin(2 * np.pi * 2.0 * c.t + w[0])


def _m04(c: _Curves, w, a, rng) -> None:  # punch up forward, alternating
    for side, ph in (("left", 0.0), ("right", np.pi)):
        s = (1 - np.cos(w + ph)) / 2
        c[f"{side}_shoulder_flex"] = 150 * a * s
        c[f"{side}_elbow"] = 120 * (1 - s) + 5
        c[f"{side}_shoulder_abd"] = 10


def _m05(c: _Curves, w, a, rng) -> None:  # knee lift, alternating
    pl, pr = _pulses(w)
    c.both("hip_flex", 90 * a * pl, 90 * a * pr)
    c.both("knee", 90 * a * pl, 90 * a * pr)


def _m06(c: _Curves, w, a, rng) -> None:  # leg abduction, alternating; trunk leans away
    pl, pr = _pulses(w)
    c.both("hip_abd", 40 * a * pl, 40 * a * pr)
    c["spine_lat"] = 5 * (pr - pl)
    c.both("shoulder_abd", 30)


def _m07(c: _Curves, w, a, rng) -> None:  # leg pulling: heel to buttock
    pl, pr = _pulses(w)
    c.both("knee", 120 * a * pl, 120 * a * pr)
    c.both("hip_flex", -10 * pl, -10 * pr)


def _m08(c: _Curves, w, a, rng) -> None:  # elbow to contralateral knee, hands behind the head
    pl, pr = _pulses(w)
    c.both("shoulder_abd", 95)
    c.both("shoulder_rot", 90)
    c.both("elbow", 140)
    c.both("hip_flex", 90 * a * pl, 90 * a * pr)
    c.both("knee", 90 * a * pl, 90 * a * pr)
    c["spine_flex"] = 30 * a * (pl + pr)
    c["spine_rot"] = 30 * a * (pl - pr)


def _m09(c: _Curves, w, a, rng) -> None:  # walk in place
    pl, pr = _pulses(w)
    c.both("hip_flex", 40 * a * pl, 40 * a * pr)
    c.both("knee", 60 * a * pl, 60 * a * pr)
    c.both("shoulder_flex", -20 * a * np.sin(w), 20 * a * np.sin(w))
    c.both("elbow", 15)


def _m10(c: _Curves, w, a, rng) -> None:  # squat
    s = a * (1 - np.cos(w)) / 2
    thigh, shank, lean = 80 * s, 30 * s, 25 * s  # world angles of thigh, shank, pelvis
    c.both("hip_flex", thigh + lean)
    c.both("knee", thigh + shank)
    c.both("ankle_flex", shank)
    c.pitch = np.deg2rad(lean)
    c["spine_flex"] = 5 * s
    c.both("shoulder_flex", 10 + 80 * np.clip(s / a, 0, 1))


def _m11(c: _Curves, w, a, rng) -> None:  # jump in place
    crouch, air = _hop(np.mod(w / (2 * np.pi), 1.0), 0.45)
    c.both("knee", 40 * a * crouch)
    c.both("hip_flex", 30 * a * crouch)
    c.both("ankle_flex", 20 * a * crouch - 25 * air)
    c.both("shoulder_flex", 60 * air - 20 * crouch)
    c.pitch = np.deg2rad(10 * crouch)
    c.lift = rng.uniform(0.1, 0.2) * c.h * a * air


def _m12(c: _Curves, w, a, rng) -> None:  # jog in place
    pl, pr = _pulses(w)
    c.both("hip_flex", 60 * a * pl, 60 * a * pr)
    c.both("knee", 100 * a * pl + 10, 100 * a * pr + 10)
    c.both("elbow", 90)
    c.both("shoulder_flex", -35 * a * np.sin(w), 35 * a * np.sin(w))
    c.lift = 0.015 * c.h * (1 - np.cos(2 * w)) / 2


def _m13(c: _Curves, w, a, rng) -> None:  # jumping jack
    s = (1 - np.cos(w)) / 2
    c.both("shoulder_abd", 10 + 160 * a * s)
    c.both("hip_abd", 25 * a * s)
    c.lift = 0.03 * c.h * np.abs(np.sin(w))


def _m14(c: _Curves, w, a, rng) -> None:  # standing side bend, the opposite arm overhead
    s = np.sin(w)
    c["spine_lat"] = 30 * a * s
    c["right_shoulder_abd"] = 20 + 150 * np.maximum(s, 0)
    c["left_shoulder_abd"] = 20 + 150 * np.maximum(-s, 0)
    c.both("elbow", 20)


def _m15(c: _Curves, w, a, rng) -> None:  # hop on one foot at 2 Hz, the other knee held
    held, stand = ("left", "right") if rng.random() < 0.5 else ("right", "left")
    crouch, air = _hop(np.mod(w / (2 * np.pi), 1.0), 0.5)
    c[f"{held}_knee"] = 90
    c[f"{held}_hip_flex"] = rng.uniform(10, 30)
    c[f"{stand}_knee"] = 25 * a * crouch
    c[f"{stand}_hip_flex"] = 15 * a * crouch
    c[f"{stand}_ankle_flex"] = 15 * a * crouch - 20 * air
    c.both("shoulder_abd", 30)
    c.lift = rng.uniform(0.05, 0.1) * c.h * a * air


def _m16(c: _Curves, w, a, rng) -> None:  # roll wrists and ankles: small circumduction
    c.both("shoulder_flex", rng.uniform(50, 80))
    c.both("elbow", 20)
    c.both("wrist_flex", 30 * a * np.cos(w))
    c.both("wrist_dev", 30 * a * np.sin(w))
    side = "left" if rng.random() < 0.5 else "right"
    c[f"{side}_hip_flex"], c[f"{side}_knee"] = 45, 70  # the rolling foot is off the floor
    c[f"{side}_ankle_flex"] = 25 * a * np.cos(w)
    c[f"{side}_ankle_inv"] = 25 * a * np.sin(w)


# action id -> (curve function, base period range in s; None = from the function)
_MOTIONS = {
    1: (_m01, (2.0, 3.0)), 2: (_m02, (2.0, 2.0)), 3: (_m03, (2.0, 2.0)),
    4: (_m04, (1.0, 1.0)), 5: (_m05, (1.5, 1.5)), 6: (_m06, (2.0, 2.5)),
    7: (_m07, (2.0, 2.0)), 8: (_m08, (1.0, 1.0)), 9: (_m09, (2 / 1.8, 2 / 1.8)),
    10: (_m10, (3.0, 3.0)), 11: (_m11, (1 / 2.0, 1 / 1.5)), 12: (_m12, (2 / 3.0, 2 / 2.5)),
    13: (_m13, (1.0, 1.0)), 14: (_m14, (3.0, 3.0)), 15: (_m15, (0.5, 0.5)),
    16: (_m16, (1.2, 2.0)),
}  # fmt: skip


def motion_sequence(
    action_id: int,
    n_frames: int,
    fps: float,
    rng: np.random.Generator,
    height: float = 1.75,
    yaw_deg: tuple[float, float] = (-45.0, 45.0),
    walk_sigma: float = 0.03,
) -> Motion:
    """Joint-angle and root trajectories of one SPHP exercise.

    Args:
        action_id: SPHP action id 1..16 (``ACTIONS``).
        n_frames: number of frames ``T``; fps: frame rate (any positive value).
        rng: random generator (period, amplitude, phase, side, yaw and root walk).
        height: body height in metres (jump heights are fractions of it).
        yaw_deg: range of the constant facing direction (0 = facing the camera).
        walk_sigma: root random-walk scale in m / sqrt(s) on the floor plane.
    Returns:
        a ``Motion`` with ``angles (T, D)``, ``root_euler (T, 3)`` and ``root_pos (T, 3)``.
    """
    fn, (p_lo, p_hi) = _MOTIONS[_check_action(action_id)]
    if n_frames < 1 or fps <= 0:
        raise ValueError(f"need n_frames >= 1 and fps > 0, got {n_frames}, {fps}")
    t = np.arange(n_frames) / float(fps)
    period = rng.uniform(p_lo, p_hi) * rng.uniform(0.8, 1.2)
    amp = rng.uniform(0.8, 1.2)
    w = 2 * np.pi * t / period + rng.uniform(0, 2 * np.pi)
    c = _Curves(t, rng, height)
    fn(c, w, amp, rng)
    euler = np.zeros((n_frames, 3))
    euler[:, 0] = np.deg2rad(rng.uniform(*yaw_deg)) + _walk(rng, n_frames, fps, 0.02)
    euler[:, 1] = c.pitch
    pos = np.zeros((n_frames, 3))
    pos[:, 0] = _walk(rng, n_frames, fps, walk_sigma)
    pos[:, 2] = _walk(rng, n_frames, fps, walk_sigma)
    pos[:, 1] = c.lift
    return Motion(int(action_id), float(fps), clip_pose(np.deg2rad(c.deg)), euler, pos,
                  float(period), float(amp))  # fmt: skip


def _walk(rng: np.random.Generator, n: int, fps: float, sigma: float) -> np.ndarray:
    """Zero-start random walk with increments ``N(0, sigma^2 / fps)``."""
    steps = rng.normal(0.0, sigma / np.sqrt(fps), n)
    steps[0] = 0.0
    return np.cumsum(steps)


def static_motion(angles: np.ndarray, n_frames: int = 1, fps: float = 30.0) -> Motion:
    """A ``Motion`` holding one pose ``(D,)`` still for ``n_frames`` frames."""
    ang = np.repeat(clip_pose(angles)[None], n_frames, axis=0)
    return Motion(0, float(fps), ang, np.zeros((n_frames, 3)), np.zeros((n_frames, 3)), 0.0, 1.0)
