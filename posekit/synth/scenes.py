"""SynthPose samples: single-person crops, multi-person scenes and exercise sequences.

Every generator takes a seed or a ``np.random.Generator``; the same seed gives the same bytes.
``SynthPose(seed, kind)[i]`` draws sample ``i`` from ``np.random.default_rng([seed, i])`` so
that any data-loader worker can generate any index on its own, in any order.

Sizes are ``(width, height)`` as in OpenCV; images are ``(H, W, 3)`` uint8 RGB; keypoints are
in the SYNTH joint set (``posekit.synth.body.SYNTH_JOINTS``), convert them with ``synth_to``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from posekit.synth import body as B
from posekit.synth.backgrounds import plain_background, random_background
from posekit.synth.motions import ACTIONS, Motion, motion_sequence, random_pose
from posekit.synth.render import Annotations, Camera, Light, look_at, render_batch, render_people


@dataclass(frozen=True)
class SynthConfig:
    """Knobs of the SynthPose generators (defaults give varied, cluttered data).

    Attributes:
        background: ``"clutter"`` (texture bank + distractors) or ``"plain"`` (``bg_color``).
        distractors: (min, max) random shapes drawn over the background.
        num_identities: None draws a new person for every sample; an int draws identities
            from a fixed pool ``identity_from_id(0..n-1, identity_seed)`` (re-identification).
        child_prob: probability of a child (larger head ratio, height 1.0-1.4 m).
        yaw_deg: facing direction of a person relative to the camera (0 = facing it);
            back_prob: probability of any direction instead.
        pitch_deg: camera elevation (positive looks down on the person); roll_deg: camera roll.
        fill: crops/sequences: person extent as a fraction of the image side;
            truncate_prob: probability of zooming in (fill 1.1-1.6) so that parts leave the crop;
            center_jitter: crop centre jitter as a fraction of the size.
        distance: crops/sequences: camera distance (m), sets the perspective strength.
        fov_deg, camera_height, scene_depth, scene_yaw_deg, min_separation: scene camera and
            placement of people on the floor (depth range in m, minimum spacing in m).
        antialias: anti-aliased silhouettes.
    """

    background: str = "clutter"
    bg_color: tuple[int, int, int] = (127, 127, 127)
    distractors: tuple[int, int] = (0, 4)
    num_identities: int | None = None
    identity_seed: int = 0
    child_prob: float = 0.0
    yaw_deg: tuple[float, float] = (-45.0, 45.0)
    back_prob: float = 0.15
    pitch_deg: tuple[float, float] = (-5.0, 30.0)
    roll_deg: tuple[float, float] = (-5.0, 5.0)
    fill: tuple[float, float] = (0.75, 1.0)
    truncate_prob: float = 0.1
    center_jitter: float = 0.05
    distance: tuple[float, float] = (2.5, 6.0)
    fov_deg: tuple[float, float] = (45.0, 70.0)
    camera_height: tuple[float, float] = (0.9, 2.0)
    scene_depth: tuple[float, float] = (3.0, 12.0)
    scene_yaw_deg: tuple[float, float] = (-100.0, 100.0)
    min_separation: float = 0.6
    antialias: bool = True


DEFAULT = SynthConfig()


@dataclass
class Sample:
    """One rendered image with N people (shapes use K = ``len(SYNTH_JOINTS)``).

    Attributes:
        image: ``(H, W, 3)`` uint8 RGB.
        keypoints: ``(N, K, 3)`` float32 (x, y, v), COCO visibility (see ``Annotations``).
        joints2d: ``(N, K, 2)`` float32 projections of all joints (also those with v=0).
        joints3d: ``(N, K, 3)`` float32 joints in camera coordinates, metres.
        bbox: ``(N, 4)`` float32 [x, y, w, h], amodal box of the rendered body, clipped.
        head_box: ``(N, 2, 2)`` float32 [[x1, y1], [x2, y2]] MPII head box (PCKh).
        center: ``(N, 2)`` float32 and scale: ``(N,)`` float32 (box height / 200), MPII style.
        identity: ``(N,)`` int64 identity ids (-1 for one-off people).
        angles: ``(N, D)`` float32 joint angles (radians, ``DOF_NAMES`` order).
        camera: the ``Camera`` (intrinsics ``camera.K``; joints3d are already in its frame).
        action: SPHP action id (0 = none).
    """

    image: np.ndarray
    keypoints: np.ndarray
    joints2d: np.ndarray
    joints3d: np.ndarray
    bbox: np.ndarray
    head_box: np.ndarray
    center: np.ndarray
    scale: np.ndarray
    identity: np.ndarray
    angles: np.ndarray
    camera: Camera
    action: int = 0

    @property
    def num_people(self) -> int:
        return self.keypoints.shape[0]


@dataclass
class Sequence:
    """T frames of one person performing an SPHP exercise; fixed camera, identity and light.

    Arrays are those of ``Sample`` with a leading frame axis: ``images (T, H, W, 3)``,
    ``keypoints (T, 1, K, 3)``, ``joints2d (T, 1, K, 2)``, ``joints3d (T, 1, K, 3)``,
    ``bbox (T, 1, 4)``, ``head_box (T, 1, 2, 2)``, ``center (T, 1, 2)``, ``scale (T, 1)``,
    ``angles (T, D)``. ``motion2d (T, 1, K, 2)`` is the image displacement of every joint since
    the previous frame (zero for frame 0). ``action`` is the SPHP id, ``action_class`` its class
    ``"C1"``..``"C4"``, ``motion`` the underlying joint-angle clip.
    """

    images: np.ndarray
    keypoints: np.ndarray
    joints2d: np.ndarray
    joints3d: np.ndarray
    bbox: np.ndarray
    head_box: np.ndarray
    center: np.ndarray
    scale: np.ndarray
    angles: np.ndarray
    motion2d: np.ndarray
    identity: np.ndarray
    camera: Camera
    action: int
    action_class: str
    fps: float
    motion: Motion = field(repr=False)

    @property
    def action_name(self) -> str:
        return ACTIONS[self.action][0]

    def __len__(self) -> int:
        return self.images.shape[0]

    def frame(self, t: int) -> Sample:
        """Frame ``t`` as a ``Sample``."""
        return Sample(self.images[t], self.keypoints[t], self.joints2d[t], self.joints3d[t],
                      self.bbox[t], self.head_box[t], self.center[t], self.scale[t],
                      self.identity, self.angles[t : t + 1], self.camera, self.action)  # fmt: skip


# --------------------------------------------------------------------------------------------
# Random pieces
# --------------------------------------------------------------------------------------------
def as_rng(seed_or_rng) -> np.random.Generator:
    """A ``Generator`` from a seed (int or sequence of ints) or a ``Generator`` (returned as
    is, so drawing from it advances the caller's stream)."""
    if isinstance(seed_or_rng, np.random.Generator):
        return seed_or_rng
    return np.random.default_rng(seed_or_rng)


def sample_rng(seed: int, index: int) -> np.random.Generator:
    """The generator of sample ``index`` of the stream ``seed``: ``default_rng([seed, index])``."""
    seed, index = int(seed), int(index)
    if 0 <= seed < 2**32 and 0 <= index < 2**32:  # the same entropy words, a faster path
        return np.random.default_rng(np.array((seed, index), np.uint32))
    return np.random.default_rng([seed, index])


def _identity(rng: np.random.Generator, cfg: SynthConfig) -> B.Identity:
    if cfg.num_identities:
        ident = int(rng.integers(cfg.num_identities))
        return B.identity_from_id(ident, cfg.identity_seed, cfg.child_prob)
    return B.random_identity(rng, child_prob=cfg.child_prob)


def _yaw(rng: np.random.Generator, cfg: SynthConfig, rng_deg: tuple[float, float]) -> float:
    u0, u1 = rng.random(2).tolist()
    if u0 < cfg.back_prob:
        return math.radians(360 * u1 - 180)
    return math.radians(rng_deg[0] + (rng_deg[1] - rng_deg[0]) * u1)


def _light(rng: np.random.Generator) -> Light:
    u = rng.random(4).tolist()
    ang = math.radians(-160 + 140 * u[0])
    return Light((math.cos(ang), math.sin(ang)), 0.5 + 0.25 * u[1], 0.8 + 0.35 * u[2])


def _background(rng: np.random.Generator, size: tuple[int, int], cfg: SynthConfig) -> np.ndarray:
    if cfg.background == "plain":
        return plain_background(size, cfg.bg_color)
    if cfg.background != "clutter":
        raise ValueError(f"background must be 'clutter' or 'plain', got {cfg.background!r}")
    return random_background(rng, size, cfg.distractors)


def _uniform(rng: np.random.Generator, lohi: tuple[float, float]) -> float:
    return float(lohi[0] + (lohi[1] - lohi[0]) * rng.random())


def _frame_cameras(
    u: np.ndarray, points: np.ndarray, size: tuple[int, int], cfg: SynthConfig
) -> list[Camera]:
    """B cameras, camera b framing ``points[b] (T, M, 3)`` (all frames of a clip) in an image
    of ``size``, from 7 uniforms ``u[b]``: elevation ``pitch_deg``, distance ``distance``,
    roll ``roll_deg``; the focal length makes the body span ``fill`` of the image (1.1-1.6
    with probability ``truncate_prob``), the centre is jittered by ``center_jitter``.

    The per-camera arithmetic is plain Python floats (a few dozen operations, cheaper than
    numpy calls on length-B arrays); only the projection of all points is vectorised."""
    b = len(points)
    # (reductions along a contiguous last axis of planar copies: numpy's fast path)
    kp = np.ascontiguousarray(points[:, :, : B.NUM_JOINTS].transpose(0, 3, 1, 2)).reshape(b, 3, -1)
    ext = np.concatenate(
        [np.minimum.reduce(kp, -1), np.maximum.reduce(kp, -1)], axis=1
    ).tolist()  # (B, 6): lo3, hi3
    uu = u.tolist()
    rt, dists = [], []  # per camera: R row-major, then t
    (p0, p1), (d0, d1), (r0, r1) = cfg.pitch_deg, cfg.distance, cfg.roll_deg
    for e, ui in zip(ext, uu, strict=True):
        el = math.radians(p0 + (p1 - p0) * ui[0])
        dist = d0 + (d1 - d0) * ui[1]
        roll = math.radians(r0 + (r1 - r0) * ui[2])
        ce, se, cr, sr = math.cos(el), math.sin(el), math.cos(roll), math.sin(roll)
        # camera looking along -(0, sin el, cos el) at the centre of the joints (see look_at)
        rot = ((cr, sr * ce, -sr * se), (sr, -cr * ce, cr * se), (0.0, -se, -ce))
        ex, ey, ez = (
            0.5 * (e[0] + e[3]),
            0.5 * (e[1] + e[4]) + dist * se,
            0.5 * (e[2] + e[5]) + dist * ce,
        )
        rt += (*rot[0], *rot[1], *rot[2])
        rt += (-(r[0] * ex + r[1] * ey + r[2] * ez) for r in rot)
        dists.append(dist)
    rt = np.array(rt).reshape(b, 12)
    R, t = rt[:, :9].reshape(b, 3, 3), rt[:, 9:]
    p = R @ points.reshape(b, -1, 3).swapaxes(-1, -2)  # (B, 3, T * M)
    p += t[:, :, None]
    xy = p[:, :2] / p[:, 2:]
    box = np.concatenate(
        [np.minimum.reduce(xy, -1), np.maximum.reduce(xy, -1)], axis=1
    ).tolist()  # (B, 4)
    w, h = size
    cams = []
    for i, (e, ui, (x0, y0, x1, y1), dist) in enumerate(zip(ext, uu, box, dists, strict=True)):
        pad = 0.04 * (e[4] - e[1]) / dist  # body thickness around the points
        x0, y0, x1, y1 = x0 - pad, y0 - pad, x1 + pad, y1 + pad
        fill = _lerp((1.1, 1.6) if ui[3] < cfg.truncate_prob else cfg.fill, ui[4])
        f = fill * min(w / (x1 - x0), h / (y1 - y0))
        cx = (w - 1) / 2 - f * 0.5 * (x0 + x1) + cfg.center_jitter * (2 * ui[5] - 1) * w
        cy = (h - 1) / 2 - f * 0.5 * (y0 + y1) + cfg.center_jitter * (2 * ui[6] - 1) * h
        cams.append(Camera(f, f, cx, cy, R[i], t[i], w, h))
    return cams


def _lerp(lohi: tuple[float, float], u):
    return lohi[0] + (lohi[1] - lohi[0]) * u


def _sample(img, shapes, ann: Annotations, angles, cam, action=0) -> Sample:
    return Sample(
        image=img,
        keypoints=ann.keypoints,
        joints2d=ann.joints2d,
        joints3d=ann.joints3d,
        bbox=ann.bbox,
        head_box=ann.head_box,
        center=ann.center,
        scale=ann.scale,
        identity=np.array([s.identity.identity_id for s in shapes], dtype=np.int64),
        angles=angles.astype(np.float32).reshape(len(shapes), -1),
        camera=cam,
        action=action,
    )


# --------------------------------------------------------------------------------------------
# Public generators
# --------------------------------------------------------------------------------------------
def sample_person(
    seed_or_rng=None,
    size: tuple[int, int] = (128, 128),
    config: SynthConfig | None = None,
    *,
    identity: B.Identity | None = None,
    pose: np.ndarray | None = None,
) -> Sample:
    """A single-person crop (MPII/LSP style): the person centred and filling ``config.fill``
    of the image, sometimes truncated, on a cluttered background.

    Args:
        seed_or_rng: seed or generator. size: ``(width, height)``.
        config: ``SynthConfig``. identity / pose: fix the person or the joint angles ``(D,)``.
    Returns:
        a ``Sample`` with N = 1; the same as ``sample_people([seed_or_rng], ...)[0]``.
    """
    poses = None if pose is None else [pose]
    return sample_people([seed_or_rng], size, config, identities=[identity], poses=poses)[0]


def sample_people(
    seeds: list,
    size: tuple[int, int] = (128, 128),
    config: SynthConfig | None = None,
    *,
    identities: list[B.Identity | None] | None = None,
    poses: list[np.ndarray] | None = None,
) -> list[Sample]:
    """A batch of single-person crops, crop b drawn from ``seeds[b]`` (a seed or generator)
    exactly as ``sample_person(seeds[b])`` would, but with the numpy work vectorised over
    the batch (about twice the throughput of one-by-one calls).

    Args:
        seeds: B seeds or generators. size: ``(width, height)``. config: ``SynthConfig``.
        identities / poses: optional per-crop identity (None entries: random) / angles.
    Returns:
        B ``Sample`` objects with N = 1.
    """
    cfg = config or DEFAULT
    rngs = [as_rng(s) for s in seeds]
    idns = identities or [None] * len(rngs)
    b = len(rngs)
    shapes, euler, poses_b, cam_u = [], [], [], []
    for i, rng in enumerate(rngs):
        shapes.append(B.body_shape(idns[i] or _identity(rng, cfg)))
        poses_b.append(random_pose(rng) if poses is None else B.clip_pose(poses[i]))
        yaw = _yaw(rng, cfg, cfg.yaw_deg)
        u0, u1 = rng.random(2).tolist()
        euler.append((yaw, math.radians(10 * u0 - 5), math.radians(6 * u1 - 3)))
        cam_u.append(rng.random(7))
    if b == 1:  # (views: the same values as the stacked arrays)
        angles, cam_u = poses_b[0].reshape(1, -1), cam_u[0].reshape(1, 7)
    else:
        angles, cam_u = np.stack(poses_b), np.stack(cam_u)
    points, _ = B._pose_points(shapes, angles, np.array(euler), None)
    cams = _frame_cameras(cam_u, points[:, None], size, cfg)
    imgs = [_background(rng, size, cfg) for rng in rngs]
    lights = [_light(rng) for rng in rngs]
    ann = render_batch(imgs, shapes, points, cams, lights, cfg.antialias)
    return [_sample(imgs[i], shapes[i : i + 1], ann if b == 1 else _row(ann, i), angles[i],
                    cams[i]) for i in range(b)]  # fmt: skip


def _row(ann: Annotations, i: int) -> Annotations:
    """Person ``i`` of ``ann`` as one-person ``Annotations``."""
    return Annotations(*(getattr(ann, f)[i : i + 1] for f in Annotations.__dataclass_fields__))


def _scene_camera(rng: np.random.Generator, size: tuple[int, int], cfg: SynthConfig) -> Camera:
    w, h = size
    fov = np.deg2rad(_uniform(rng, cfg.fov_deg))
    f = (w / 2) / np.tan(fov / 2)
    height = _uniform(rng, cfg.camera_height)
    pitch = np.deg2rad(_uniform(rng, (-3.0, 12.0)))
    eye = np.array([0.0, height, 0.0])
    target = eye + np.array([0.0, -np.sin(pitch), -np.cos(pitch)])
    R, t = look_at(eye, target, np.deg2rad(_uniform(rng, cfg.roll_deg)) * 0.5)
    return Camera(f, f, (w - 1) / 2, (h - 1) / 2, R, t, w, h)


def _place(rng: np.random.Generator, n: int, cam: Camera, cfg: SynthConfig) -> np.ndarray:
    """Floor positions ``(n, 3)`` (x, 0, z) in view, horizontally within [-10 %, 110 %] of the
    image, at least ``min_separation`` apart when possible."""
    out: list[np.ndarray] = []
    for _ in range(n):
        for _ in range(20):
            depth = _uniform(rng, cfg.scene_depth)
            u = _uniform(rng, (-0.1 * cam.width, 1.1 * cam.width))
            x = (u - cam.cx) / cam.fx * depth
            p = np.array([x, 0.0, -depth])
            p_cam = cam.R @ p + cam.t
            x = (u - cam.cx) / cam.fx * p_cam[2]  # correct for pitch: keep u on the image
            p = np.array([x, 0.0, -depth])
            if all(np.hypot(*(p - q)[[0, 2]]) >= cfg.min_separation for q in out):
                break
        out.append(p)
    return np.array(out).reshape(n, 3)


def sample_scene(
    seed_or_rng=None,
    size: tuple[int, int] = (456, 256),
    num_people: int | None = 5,
    config: SynthConfig | None = None,
) -> Sample:
    """A multi-person scene (COCO / OpenPose style): people standing on a floor at 3-12 m,
    in random poses and directions, overlapping and truncated at the borders.

    Args:
        seed_or_rng: seed or generator. size: ``(width, height)``.
        num_people: number of people (None: uniform in 1..10).
        config: ``SynthConfig``.
    Returns:
        a ``Sample`` with N = ``num_people`` (people may be fully occluded or partly outside).
    """
    cfg = config or DEFAULT
    rng = as_rng(seed_or_rng)
    n = int(rng.integers(1, 11)) if num_people is None else int(num_people)
    cam = _scene_camera(rng, size, cfg)
    idns = [_identity(rng, cfg) for _ in range(n)]
    shapes = [B.body_shape(i) for i in idns]
    angles = np.stack([random_pose(rng) for _ in range(n)])
    euler = np.zeros((n, 3))
    euler[:, 0] = [_yaw(rng, cfg, cfg.scene_yaw_deg) for _ in range(n)]
    pos = _place(rng, n, cam, cfg)
    points, _ = B.pose_points(shapes, angles, euler, pos)
    img = _background(rng, size, cfg)
    ann = render_people(img, shapes, points, cam, _light(rng), cfg.antialias)
    return _sample(img, shapes, ann, angles, cam)


def sample_sequence(
    seed_or_rng=None,
    action_id: int = 1,
    n_frames: int = 60,
    fps: float = 30.0,
    size: tuple[int, int] = (384, 288),
    config: SynthConfig | None = None,
    *,
    identity: B.Identity | None = None,
) -> Sequence:
    """One person performing SPHP exercise ``action_id`` (1..16) in front of a fixed camera.

    Args:
        seed_or_rng: seed or generator. action_id: SPHP action id. n_frames, fps: timing.
        size: ``(width, height)``; default 384x288, the SPHP network input.
        config: ``SynthConfig``. identity: fix the person.
    Returns:
        a ``Sequence`` (identity, camera, light and background fixed; the body moves).
    """
    cfg = config or DEFAULT
    rng = as_rng(seed_or_rng)
    shape = B.body_shape(identity or _identity(rng, cfg))
    height = shape.identity.height
    motion = motion_sequence(action_id, n_frames, fps, rng, height=height, yaw_deg=cfg.yaw_deg)
    points, _ = B.pose_points([shape], motion.angles, motion.root_euler, motion.root_pos)
    seq_cfg = replace(cfg, truncate_prob=0.0, fill=(0.6, 0.85))
    cam = _frame_cameras(rng.random((1, 7)), points[None], size, seq_cfg)[0]
    bg = _background(rng, size, cfg)
    frames = [bg.copy() for _ in range(n_frames)]
    ann = render_batch(frames, [shape] * n_frames, points, [cam] * n_frames,
                       [_light(rng)] * n_frames, cfg.antialias)  # fmt: skip
    return _sequence(frames, ann, shape, cam, motion)


def sample_sequence_views(
    seed_or_rng=None,
    action_id: int = 1,
    n_frames: int = 60,
    fps: float = 30.0,
    size: tuple[int, int] = (384, 288),
    config: SynthConfig | None = None,
    *,
    identity: B.Identity | None = None,
    yaw_deg: float | None = None,
    azimuths_deg: tuple[float, ...] = (0.0, 45.0),
) -> list[Sequence]:
    """One recording of SPHP exercise ``action_id`` seen by several fixed cameras (SPHP's
    Master and Slave, 45 degrees apart): the same person, motion, light and backdrop in every
    view, one ``Sequence`` per camera.

    Camera k stands at azimuth ``azimuths_deg[k]`` around the vertical line through the centre
    of the motion's joints (the box of all joints over all frames): all cameras share the
    elevation, distance and roll drawn as for ``sample_sequence``, look at that centre and
    share the focal length, chosen so that the body spans 60-85 % of the image in the view
    where it is largest; each principal point centres the body in its own view. Azimuths are
    measured like the facing ``yaw_deg``: a person with yaw ``a`` faces the camera at azimuth
    ``a`` (seen from above, a positive azimuth lies to the left of a person facing azimuth 0).

    Args:
        seed_or_rng: seed or generator. action_id: SPHP action id. n_frames, fps: timing.
        size: ``(width, height)``. config: ``SynthConfig``. identity: fix the person.
        yaw_deg: facing direction in degrees relative to the camera at azimuth 0 (default: drawn
            from ``config.yaw_deg``); the motion adds its slow drift of about a degree.
        azimuths_deg: camera azimuths in degrees.
    Returns:
        one ``Sequence`` per azimuth (``camera`` differs; ``joints3d`` are in each camera's
        frame, ``joints2d`` its projections; ``motion`` is shared).
    """
    cfg = config or DEFAULT
    rng = as_rng(seed_or_rng)
    shape = B.body_shape(identity or _identity(rng, cfg))
    yaw = cfg.yaw_deg if yaw_deg is None else (float(yaw_deg), float(yaw_deg))
    motion = motion_sequence(action_id, n_frames, fps, rng, height=shape.identity.height,
                             yaw_deg=yaw)  # fmt: skip
    points, _ = B.pose_points([shape], motion.angles, motion.root_euler, motion.root_pos)
    seq_cfg = replace(cfg, truncate_prob=0.0, fill=(0.6, 0.85))
    cams = rig_cameras(rng.random(7), points, size, seq_cfg, azimuths_deg)
    bg = _background(rng, size, cfg)
    light = _light(rng)
    views = []
    for cam in cams:
        frames = [bg.copy() for _ in range(n_frames)]
        ann = render_batch(frames, [shape] * n_frames, points, [cam] * n_frames,
                           [light] * n_frames, cfg.antialias)  # fmt: skip
        views.append(_sequence(frames, ann, shape, cam, motion))
    return views


def rig_cameras(
    u: np.ndarray,
    points: np.ndarray,
    size: tuple[int, int],
    cfg: SynthConfig,
    azimuths_deg: tuple[float, ...] = (0.0, 45.0),
) -> list[Camera]:
    """Cameras around ``points (T, M, 3)`` (a clip), one per azimuth, from 7 uniforms ``u``
    (the draws of ``_frame_cameras``: elevation ``pitch_deg``, distance ``distance``, roll
    ``roll_deg``, ``fill``, centre jitter; ``truncate_prob`` is not used).

    Camera k is at ``c + distance * (sin a_k cos e, sin e, cos a_k cos e)`` looking at ``c``,
    the centre of the joints' box (``look_at``); one focal length makes the body span ``fill``
    of the image in the view where it is largest; each principal point centres the body
    (padded for its thickness) in its view, jittered by ``center_jitter``."""
    u = np.asarray(u, dtype=np.float64).reshape(7).tolist()
    kp = np.asarray(points)[:, : B.NUM_JOINTS].reshape(-1, 3)
    lo, hi = kp.min(axis=0), kp.max(axis=0)
    centre = 0.5 * (lo + hi)
    el = math.radians(_lerp(cfg.pitch_deg, u[0]))
    dist = _lerp(cfg.distance, u[1])
    roll = math.radians(_lerp(cfg.roll_deg, u[2]))
    pad = 0.04 * float(hi[1] - lo[1]) / dist  # body thickness around the points
    w, h = size
    poses, boxes = [], []
    for az in azimuths_deg:
        a = math.radians(float(az))
        eye = centre + dist * np.array(
            [math.sin(a) * math.cos(el), math.sin(el), math.cos(a) * math.cos(el)]
        )
        R, t = look_at(eye, centre, roll)
        p = np.asarray(points).reshape(-1, 3) @ R.T + t
        xy = p[:, :2] / p[:, 2:]
        x0, y0 = xy.min(axis=0) - pad
        x1, y1 = xy.max(axis=0) + pad
        poses.append((R, t))
        boxes.append((float(x0), float(y0), float(x1), float(y1)))
    f = _lerp(cfg.fill, u[4]) * min(min(w / (x1 - x0), h / (y1 - y0)) for x0, y0, x1, y1 in boxes)
    cams = []
    for (R, t), (x0, y0, x1, y1) in zip(poses, boxes, strict=True):
        cx = (w - 1) / 2 - f * 0.5 * (x0 + x1) + cfg.center_jitter * (2 * u[5] - 1) * w
        cy = (h - 1) / 2 - f * 0.5 * (y0 + y1) + cfg.center_jitter * (2 * u[6] - 1) * h
        cams.append(Camera(f, f, cx, cy, R, t, w, h))
    return cams


def _sequence(frames, ann: Annotations, shape, cam: Camera, motion: Motion) -> Sequence:
    j2d = ann.joints2d[:, None]
    motion2d = np.zeros_like(j2d)
    motion2d[1:] = j2d[1:] - j2d[:-1]
    return Sequence(
        images=np.stack(frames),
        keypoints=ann.keypoints[:, None],
        joints2d=j2d,
        joints3d=ann.joints3d[:, None],
        bbox=ann.bbox[:, None],
        head_box=ann.head_box[:, None],
        center=ann.center[:, None],
        scale=ann.scale[:, None],
        angles=motion.angles.astype(np.float32),
        motion2d=motion2d,
        identity=np.array([shape.identity.identity_id], dtype=np.int64),
        camera=cam,
        action=motion.action_id,
        action_class=motion.action_class,
        fps=motion.fps,
        motion=motion,
    )


class SynthPose:
    """An indexable, endless-by-index SynthPose stream: ``ds[i]`` is a pure function of
    ``(seed, i)`` (safe for any number of data-loader workers, any order).

    Args:
        seed: stream seed. kind: ``"person"`` (crops), ``"scene"`` (multi-person) or
            ``"sequence"`` (SPHP clips; ``action_id`` cycles through 1..16 unless given).
        length: ``len(ds)``. size: ``(width, height)``. config: ``SynthConfig``.
        kwargs: extra arguments of the generator (``num_people``, ``n_frames``, ``fps``...).
    """

    def __init__(self, seed: int = 0, kind: str = "person", length: int = 10_000,
                 size: tuple[int, int] | None = None, config: SynthConfig | None = None,
                 **kwargs) -> None:  # fmt: skip
        gens = {"person": sample_person, "scene": sample_scene, "sequence": sample_sequence}
        if kind not in gens:
            raise ValueError(f"kind must be one of {sorted(gens)}, got {kind!r}")
        self.seed, self.kind, self.length = int(seed), kind, int(length)
        self.size = size or {"person": (128, 128), "scene": (456, 256)}.get(kind, (384, 288))
        self.config, self.kwargs, self._gen = config or DEFAULT, kwargs, gens[kind]

    def __len__(self) -> int:
        return self.length

    def _check(self, index: int) -> int:
        index = int(index)
        if not 0 <= index < self.length:
            raise IndexError(f"index {index} out of range 0..{self.length - 1}")
        return index

    def __getitem__(self, index: int) -> Sample | Sequence:
        index = self._check(index)
        kw = dict(self.kwargs)
        if self.kind == "sequence":
            kw.setdefault("action_id", index % 16 + 1)
        return self._gen(sample_rng(self.seed, index), size=self.size, config=self.config, **kw)

    def __getitems__(self, indices: list[int]) -> list[Sample | Sequence]:
        """Samples ``indices`` (identical to ``[self[i] for i in indices]``); crops are
        generated as one vectorised batch. A torch ``DataLoader`` calls this for a batch."""
        if self.kind != "person" or self.kwargs:
            return [self[i] for i in indices]
        rngs = [sample_rng(self.seed, self._check(i)) for i in indices]
        return sample_people(rngs, size=self.size, config=self.config)
