"""SynthPose renderer: pinhole camera, painter's algorithm over shaded primitives, visibility.

Every person is drawn from convex polygons, directly at the final resolution with OpenCV:

* capsules (neck, upper arms, forearms, hands, thighs, shanks, feet, long hair, bun): two
  projected circles joined by their tangents;
* convex hulls of projected surface points: torso parts (chest, abdomen, pelvis: rings of
  points) and the head and hair cap (samples of their ellipsoids).

Primitives of all people are sorted by depth and painted far to near. Each is shaded with two
or three nested bands shifted towards the light (dark rim, base colour, highlight): a cheap
stand-in for Lambert shading that also outlines a limb in front of the same-coloured torso.
Clothing patterns (stripes, checks, print) are clipped to the torso; the face (eyes, brows,
nose, mouth, ears) is drawn where the head's surface faces the camera.

Keypoint visibility is computed analytically, independent of the drawing order: a joint's
surface landmark (the joint moved ``joint_radius`` towards the camera along its viewing ray)
is occluded (v=1) when the ray meets a body ellipsoid or capsule of anyone in front of it;
a joint projecting outside the image, or behind the camera, gets v=0 with x = y = 0.

``render_people`` draws N people into one image (scenes); ``render_batch`` draws B one-person
images at once (crops, frames of a clip) with the numpy work vectorised over the batch. Pixel
convention: pixel centres at integer coordinates (``docs/conventions.md`` § Coordinates).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from posekit.synth import body as B

SHIFT = 4  # fixed-point bits of the polygon coordinates passed to OpenCV
ONE = 1 << SHIFT
NEAR = 0.05  # metres: points closer to the camera plane are treated as behind it
MARGIN = 0.01  # metres: depth tolerance of the occlusion test
CAP_SEG = 7  # points per capsule end cap
_CAP_ANG = np.r_[np.linspace(np.pi / 2, 3 * np.pi / 2, CAP_SEG),
                 np.linspace(-np.pi / 2, np.pi / 2, CAP_SEG)]  # fmt: skip
_CAP_ROT = np.exp(1j * _CAP_ANG)  # outline directions relative to the capsule axis
_CAP_END = np.r_[np.zeros(CAP_SEG, int), np.ones(CAP_SEG, int)]  # outline point -> end a/b
# Shading bands: (size scale, shift towards the light in radii); colours: shadow, base, light.
BANDS = ((1.0, 0.0), (0.74, 0.22), (0.32, 0.5))
BODY_CAPS = np.arange(B.CAPSULE_INDEX["hair_long"])  # occluding capsules (not hair)
BODY_ELLS = np.array([B.ELLIPSOID_INDEX[n] for n in ("head_skin", "chest_body", "abdomen_body",
                                                     "pelvis_body")])  # fmt: skip
HULL_MATERIAL = (B.TOP, B.TOP, B.BOTTOM)
_F = {n: i for i, n in enumerate(B.FACE_FEATURES)}
_NOSE, _HEAD = B.JOINT_INDEX["nose"], B.JOINT_INDEX["head"]


# --------------------------------------------------------------------------------------------
# Camera and light
# --------------------------------------------------------------------------------------------
@dataclass
class Camera:
    """Pinhole camera. ``p_cam = R @ p_world + t`` (OpenCV axes: x right, y down, z forward);
    pixel ``(u, v) = (fx x / z + cx, fy y / z + cy)`` with pixel centres at integers."""

    fx: float
    fy: float
    cx: float
    cy: float
    R: np.ndarray
    t: np.ndarray
    width: int
    height: int

    @property
    def K(self) -> np.ndarray:
        """``(3, 3)`` intrinsic matrix."""
        return np.array([[self.fx, 0, self.cx], [0, self.fy, self.cy], [0, 0, 1.0]])

    def to_camera(self, p_world: np.ndarray) -> np.ndarray:
        """World points ``(..., 3)`` to camera coordinates ``(..., 3)``."""
        return np.asarray(p_world) @ self.R.T + self.t

    def project(self, p_cam: np.ndarray) -> np.ndarray:
        """Camera points ``(..., 3)`` to pixels ``(..., 2)`` (z clamped at ``NEAR``)."""
        p = np.asarray(p_cam, dtype=np.float64)
        z = np.maximum(p[..., 2:3], NEAR)
        return p[..., :2] / z * (self.fx, self.fy) + (self.cx, self.cy)


def look_at(eye, target, roll: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """World-to-camera ``(R, t)`` of a camera at ``eye`` looking at ``target`` (3-vectors) with
    world up ``+y`` shown up in the image, rolled by ``roll`` radians about the optical axis.
    (Plain-float arithmetic: called once per image.)"""
    ex, ey, ez = (float(v) for v in eye)
    zx, zy, zz = float(target[0]) - ex, float(target[1]) - ey, float(target[2]) - ez
    n = (zx * zx + zy * zy + zz * zz) ** 0.5
    zx, zy, zz = zx / n, zy / n, zz / n
    n = (zx * zx + zz * zz) ** 0.5  # x = z cross up, horizontal
    xx, xz = -zz / n, zx / n
    yx, yy, yz = zy * xz, zz * xx - zx * xz, -zy * xx  # y = z cross x (image down)
    c, s = np.cos(roll), np.sin(roll)
    R = np.array([[c * xx - s * yx, -s * yy, c * xz - s * yz],
                  [s * xx + c * yx, c * yy, s * xz + c * yz],
                  [zx, zy, zz]])  # fmt: skip
    return R, -(R @ (ex, ey, ez))


@dataclass
class Light:
    """Shading: ``direction`` is the image-plane unit vector pointing towards the light;
    ``ambient`` the brightness of the shadow band, ``intensity`` scales all colours."""

    direction: tuple[float, float] = (-0.45, -0.89)
    ambient: float = 0.62
    intensity: float = 1.0


@dataclass
class Annotations:
    """Per-person labels of a rendered image (N people, K = ``len(SYNTH_JOINTS)``).

    Attributes:
        keypoints: ``(N, K, 3)`` float32 (x, y, v); v=2 visible, 1 occluded, 0 outside the
            image or behind the camera (then x = y = 0).
        joints2d: ``(N, K, 2)`` float32 projections of all joints, even those with v=0.
        joints3d: ``(N, K, 3)`` float32 joints in camera coordinates (metres).
        bbox: ``(N, 4)`` float32 ``[x, y, w, h]``: tight box of the person's rendered
            primitives (amodal: parts hidden by other people count), clipped to the image
            ``[-0.5, W - 0.5] x [-0.5, H - 0.5]``; same pixel frame as the keypoints.
        head_box: ``(N, 2, 2)`` float32 ``[[x1, y1], [x2, y2]]``: box of the projected head
            (hair cap included) and of ``head_top`` and ``upper_neck``, unclipped (MPII).
        center: ``(N, 2)`` float32 centre of the unclipped amodal box; scale: ``(N,)`` its
            height / 200 (MPII convention).
    """

    keypoints: np.ndarray
    joints2d: np.ndarray
    joints3d: np.ndarray
    bbox: np.ndarray
    head_box: np.ndarray
    center: np.ndarray
    scale: np.ndarray


# --------------------------------------------------------------------------------------------
# Geometry (all arrays have a leading person axis N; people are grouped into G images)
# --------------------------------------------------------------------------------------------
@dataclass
class _Geom:
    """Projected rows (``body.POINTS`` then the ``_EXT_ROWS`` copies), planar: the
    coordinate axis before the row axis, so that elementwise work runs along long rows."""

    P: np.ndarray  # (N, 3, X) camera coordinates
    z: np.ndarray  # (N, X) depth clamped at NEAR
    uv: np.ndarray  # (N, 2, X) pixels
    f: np.ndarray  # (N,) focal length (mean of fx, fy)
    groups: int  # G images of N / G people each


def _cameras(cams: list[Camera], n: int) -> tuple[np.ndarray, ...]:
    """Per-person ``R (N, 3, 3)``, ``t (N, 3)``, ``(fx, fy, cx, cy) (N, 4)``, mean focal
    length ``(N,)`` of G cameras shared by N / G consecutive people each."""
    R, t = _stack([c.R for c in cams]), _stack([c.t for c in cams])
    intr = np.array([[c.fx, c.fy, c.cx, c.cy, 0.5 * (c.fx + c.fy)] for c in cams])
    if n != len(cams):
        rep = n // len(cams)
        R, t, intr = (np.repeat(a, rep, axis=0) for a in (R, t, intr))
    return R, t, intr[:, :4], intr[:, 4]


def _geometry(points: np.ndarray, cams: list[Camera]) -> _Geom:
    """Camera coordinates, depths and pixels of the rows of ``points`` followed by the
    ``_EXT_ROWS`` copies (so that the renderer slices instead of gathering)."""
    R, t, intr, f = _cameras(cams, len(points))
    P = R @ points.take(_EXT_ROWS, axis=1).swapaxes(-1, -2)  # (N, 3, X)
    P += t[:, :, None]
    z = np.maximum(P[:, 2], NEAR)
    uv = P[:, :2] / z[:, None]
    uv *= intr[:, :2, None]
    uv += intr[:, 2:, None]
    return _Geom(P, z, uv, f, len(cams))


_BAND_ROT = np.array([b[0] for b in BANDS])[:, None, None, None] * _CAP_ROT
_BAND_SHIFT = np.array([b[1] for b in BANDS], np.complex128)[:, None, None, None]


def _capsule_outlines(ends: np.ndarray, r: np.ndarray, light: np.ndarray) -> np.ndarray:
    """Outlines ``(len(BANDS), N, C, 2 * CAP_SEG, 2)`` of 2D capsules with ends ``z (N, C, 2)``
    and light directions ``(N, 1)`` (complex), end radii ``(N, C, 2)``; band k is shrunk by
    ``BANDS[k][0]`` and shifted towards the light by ``BANDS[k][1]`` mean radii. (2D points as
    complex numbers.)"""
    z = ends
    d = z[..., 1] - z[..., 0] + 1e-4  # never zero: an end-on capsule is a circle
    u = d / np.abs(d)
    # band k: centre + u * (scale_k * r * rot + 1j * shift_k * mean radius * (light . normal))
    # (all in complex arithmetic: mixed real / complex operands make numpy buffer casts)
    rc = r.astype(np.complex128)
    p = light * u.conjugate()
    p -= p.conjugate()  # 2j * (light . normal)
    p *= 0.25 * (rc[..., 0] + rc[..., 1])
    out = np.empty((len(BANDS),) + r.shape[:-1] + (len(_CAP_END),), np.complex128)
    np.multiply(rc[..., _CAP_END], _BAND_ROT, out=out)  # (len(BANDS), N, C, 2m)
    out += p[..., None] * _BAND_SHIFT
    out *= u[..., None]
    out += z[..., _CAP_END]
    return out.view(np.float64).reshape(out.shape + (2,))


# Print layouts: blob positions in the torso frame (fractions), picked by identity.
_PRINTS = np.random.default_rng(0x5EED).uniform(-0.42, 0.42, (64, 10, 2))
_STRIPES = np.arange(6) / 6.0  # stripe starts along the torso, fractions of the span
_HULL_ROWS = np.stack(B.HULL_ROWS)  # (3, R)
_NF = len(B.FEATURE_ROWS)
_FEATURE_BOTH = np.r_[B.FEATURE_ROWS, B.FEATURE_NORMAL_ROWS]
_BODY_AXES = B.ELL_AXIS_ROWS[BODY_ELLS]  # (E', 3)
_BODY_CENTRES = B.ELL_ROWS[BODY_ELLS]
_ELL_ROWS4 = np.c_[_BODY_CENTRES, _BODY_AXES]  # (E', 4): centre, then the 3 semi-axis tips
# The renderer projects every row of body.POINTS followed by copies of the rows it uses in
# groups, so that each group is a slice: torso hull rings (3, R), capsule ends (C, 2), face
# features and their normal tips (2 * F), body ellipsoid centres and axis tips (E', 4).
_M = len(B.POINTS)
_X_HULL = _M
_X_CAP = _X_HULL + _HULL_ROWS.size
_X_FEAT = _X_CAP + B.CAP_ROWS.size
_X_ELL = _X_FEAT + _FEATURE_BOTH.size
_X_END = _X_ELL + _ELL_ROWS4.size
_EXT_ROWS = np.r_[np.arange(_M), _HULL_ROWS.ravel(), B.CAP_ROWS.ravel(), _FEATURE_BOTH,
                  _ELL_ROWS4.ravel()]  # fmt: skip
_SURF = slice(int(B.SURFACE_ROWS[0, 0]), int(B.SURFACE_ROWS[-1, -1]) + 1)  # head skin, hair cap
assert np.array_equal(np.arange(_M)[_SURF], B.SURFACE_ROWS.ravel()) and _SURF.stop == _M
# The hull point sets, one slice of rows: head skin and hair-cap samples (the last rows of
# POINTS), then the torso hull rings: set k is _SETS[k]:_SETS[k + 1].
_SET_LEN = [B.SURFACE_ROWS.shape[1]] * 2 + [_HULL_ROWS.shape[1]] * 3
_SETS = np.r_[0, np.cumsum(_SET_LEN)]
_BLOCK = slice(_SURF.start, _X_CAP)
assert _BLOCK.stop - _BLOCK.start == _SETS[-1]
_SETS_L = _SETS.tolist()  # (Python ints: cheaper slice bounds)
_SET_STARTS = _SETS[:-1].copy()


def _stripe_coefficients() -> np.ndarray:
    """``(4, 2, S * 4, 3)``: the corners of the stripe quads (set 0: stripes along the torso,
    set 1: the crossing stripes of checks) as ``[1, a, b] @ [bottom; up; across]`` with
    ``(1, a, b) = C[0] + width * C[1] + k_across * C[2] + k_up * C[3]``, where ``width`` is the
    stripe width and ``k_across``, ``k_up`` scale the quads' half lengths."""
    s = np.repeat(_STRIPES, 4)  # stripe start of every corner
    e = np.tile([0.0, 0.0, 1.0, 1.0], len(_STRIPES))  # corner at the start / end of a stripe
    g = np.tile([-1.0, 1.0, 1.0, -1.0], len(_STRIPES))  # corner on either side
    c = np.zeros((4, 2, len(s), 3))
    c[0, :, :, 0] = 1.0  # bottom
    # stripes: origin bottom - 0.2 up, span 1.4 up, side across * k_across
    c[0, 0, :, 1] = -0.2 + 1.4 * s
    c[1, 0, :, 1] = 1.4 * e
    c[2, 0, :, 2] = g
    # checks: origin bottom + 0.5 up - across, span 2 across, side up * k_up
    c[0, 1, :, 1] = 0.5
    c[0, 1, :, 2] = -1.0 + 2.0 * s
    c[1, 1, :, 2] = 2.0 * e
    c[3, 1, :, 1] = g
    return c


_STRIPE_C = (  # stripes, checks: (4 * corners, 3): coefficients of (1, width, k_across, k_up)
    _stripe_coefficients()[:, :1].reshape(-1, 3),
    _stripe_coefficients().reshape(-1, 3),
)


# --------------------------------------------------------------------------------------------
# Drawing
# --------------------------------------------------------------------------------------------
def _stack(arrays: list[np.ndarray]) -> np.ndarray:
    return arrays[0][None] if len(arrays) == 1 else np.stack(arrays)


@dataclass
class _Lights:
    """Per-person shading: ``l2 (N, 2)`` unit image-plane light directions, shaded colours
    ``cols[person][band][material] -> [r, g, b]`` (bands: shadow, base, highlight)."""

    l2: np.ndarray
    cols: list

    @classmethod
    def make(cls, lights: list[Light], shapes: list[B.BodyShape]) -> _Lights:
        rep = len(shapes) // len(lights)
        par = []
        for li in lights:
            dx, dy = li.direction
            n = math.sqrt(dx * dx + dy * dy)
            par += [(dx / n, dy / n, li.ambient, li.intensity)] * rep
        if len(shapes) == 1:  # the same operations on one (10, 3) palette
            _, _, amb, inten = par[0]
            base = shapes[0].palette * inten
            cols = np.empty((1, 3) + base.shape)
            np.multiply(base, amb, out=cols[0, 0])
            cols[0, 1] = base
            np.subtract(255.0, base, out=cols[0, 2])
            c2 = cols[0, 2]
            c2 *= 0.28
            c2 += base
            cols += 0.5
            np.minimum(cols, 255.0, out=cols)
            return cls(np.array(par[0][:2], ndmin=2), cols.astype(np.int32).tolist())
        par = np.array(par)
        base = _stack([s.palette for s in shapes]) * par[:, 3, None, None]
        cols = np.empty((len(shapes), 3) + base.shape[1:])
        np.multiply(base, par[:, 2, None, None], out=cols[:, 0])
        cols[:, 1] = base
        np.subtract(255.0, base, out=cols[:, 2])
        cols[:, 2] *= 0.28
        cols[:, 2] += base
        cols += 0.5
        np.minimum(cols, 255.0, out=cols)
        return cls(np.ascontiguousarray(par[:, :2]), cols.astype(np.int32).tolist())


_ITEM_CACHE: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}
_ONE_TABLE = (
    [[0, 0, i] for i in range(len(B.CAPSULES))] + [[1, 0, h] for h in range(3)] + [[2, 0, 0]]
)


def _item_table(n: int, groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows [kind, person, primitive] of all drawing items (per person: capsules, torso
    hulls, head) and the image index of each item."""
    key = (n, groups)
    if key not in _ITEM_CACHE:
        c = len(B.CAPSULES)
        one = np.array([[0, 0, i] for i in range(c)] + [[1, 0, h] for h in range(3)] + [[2, 0, 0]])
        table = np.concatenate([one + [0, p, 0] for p in range(n)])
        _ITEM_CACHE[key] = table, table[:, 1] // (n // groups)
    return _ITEM_CACHE[key]


def _item_depth() -> np.ndarray:
    """``(M, C + 3 + 1)``: depth of every drawing item as weights of the point depths (capsule:
    mean of its ends, torso hull: mean of its rings, head: its centre), in ``_item_table``
    order."""
    w = np.zeros((_X_END, len(B.CAPSULES) + len(B.HULL_ROWS) + 1))
    for c, (a, b) in enumerate(B.CAP_ROWS):
        w[a, c] += 0.5
        w[b, c] += 0.5
    for h, rows in enumerate(B.HULL_ROWS):
        w[rows, len(B.CAP_ROWS) + h] = 1.0 / len(rows)
    w[_HEAD, -1] = 1.0
    return w


_ITEM_DEPTH = _item_depth()


class _Painter:
    """Paints the primitives of all people, far to near within each image.

    The geometry is prepared with vectorised numpy over all people and primitives; the paint
    loop only makes OpenCV calls on precomputed fixed-point arrays and plain Python values."""

    def __init__(self, imgs: list, shapes, g: _Geom, lights: _Lights, antialias: bool):
        self.imgs, self.shapes, self.g, self.n = imgs, shapes, g, len(shapes)
        self.per_image = self.n // g.groups
        self.l2, self.cols = lights.l2, lights.cols
        self.lt = cv2.LINE_AA if antialias else cv2.LINE_8
        self.idn = [s.identity for s in shapes]
        self._prepare_capsules()
        self._prepare_hulls()

    def _prepare_capsules(self) -> None:
        """Outlines, boxes, sizes and flags of the capsules. Drawing geometry is kept in
        fixed-point units (``uv16``: pixels * ONE, an exact scaling)."""
        g, n = self.g, self.n
        c = len(B.CAPSULES)
        self.uv16 = uv16 = g.uv * float(ONE)  # (N, 2, X)
        e = uv16[:, :, _X_CAP:_X_FEAT].reshape(n, 2, c, 2)  # x / y of (capsule, end)
        z = g.z[:, _X_CAP:_X_FEAT].reshape(n, c, 2)
        r = (g.f * float(ONE))[:, None, None] * _stack([s.cap_radius for s in self.shapes]) / z
        ends = np.empty((n, c, 2), np.complex128)
        ends.real, ends.imag = e[:, 0], e[:, 1]
        outlines = _capsule_outlines(ends, r, self.l2.view(np.complex128))
        self.cap_fx = np.rint(outlines).astype(np.int32)
        self.cap_r = r.tolist()
        if n == 1:  # plain Python: flags here, boxes in _box_fields (the same comparisons)
            on = self.shapes[0].cap_on.tolist()
            self.cap_e = e[0].tolist()
            self.cap_draw = [[o and (za if za < zb else zb) > NEAR for o, (za, zb)
                              in zip(on, z[0].tolist(), strict=True)]]  # fmt: skip
        else:
            lo, hi = e - r[:, None], e + r[:, None]
            self.cap_lo = np.minimum(lo[..., 0], lo[..., 1])  # (N, 2, C)
            self.cap_hi = np.maximum(hi[..., 0], hi[..., 1])
            front = np.minimum(z[..., 0], z[..., 1]) > NEAR
            self.cap_on = _stack([s.cap_on for s in self.shapes]) & front
            self.cap_draw = self.cap_on.tolist()
        self.cap_mat = [s.cap_material.tolist() for s in self.shapes]

    def _prepare_hulls(self) -> None:
        """The convex point sets (head skin, hair cap, 3 torso hulls) in one pass: boxes,
        shadow and lit polygons (fixed point), sizes."""
        g = self.g
        self.sets = blk = self.uv16[:, :, _BLOCK]  # (N, 2, rows): x / y of every set's points
        lo = np.minimum.reduceat(blk, _SET_STARTS, axis=-1)  # (N, 2, 5)
        hi = np.maximum.reduceat(blk, _SET_STARTS, axis=-1)
        sets = np.empty((2,) + blk.shape)  # shadow; lit: shrunk to the box centre, to the light
        sets[0] = blk
        np.multiply(blk, 0.8, out=sets[1])
        if self.n == 1:  # plain Python on the 5 boxes: the same arithmetic
            self.box_lo, self.box_hi = (lx, ly), (hx, hy) = lo[0].tolist(), hi[0].tolist()
            (dx, dy), shx, shy, ext = self.l2[0].tolist(), [], [], []
            for x0, y0, x1, y1 in zip(lx, ly, hx, hy, strict=True):
                sx, sy = x1 - x0, y1 - y0
                e = 0.5 * (sx if sx >= sy else sy)
                ext.append(e)
                shx.append(0.1 * (x0 + x1) + (0.12 * e) * dx)
                shy.append(0.1 * (y0 + y1) + (0.12 * e) * dy)
            sets[1] += np.array((shx, shy)).repeat(_SET_LEN, axis=-1)
            np.rint(sets, out=sets)
            self.set_fx = sets.transpose(0, 1, 3, 2).astype(np.int32, order="C")
            self.hull_big = [[e > 4 * ONE for e in ext[2:]]]
            self.head_px = [(hy[0] - ly[0]) * (1.0 / ONE)]
            (px, py, pz), (qx, qy, qz) = g.P[0][:, (_HEAD, _NOSE)].T.tolist()
            self.facing = [(qx - px) * px + (qy - py) * py + (qz - pz) * pz < 0]
            self._faces = None
            return
        self.head_lo, self.head_hi, self.hull_lo, self.hull_hi = (
            lo[..., :2],
            hi[..., :2],
            lo[..., 2:],
            hi[..., 2:],
        )
        size = hi - lo
        ext = 0.5 * np.maximum(size[:, 0], size[:, 1])  # (N, 5)
        shift = 0.1 * (lo + hi) + (0.12 * ext)[:, None] * self.l2[:, :, None]
        sets[1] += shift.repeat(_SET_LEN, axis=-1)
        np.rint(sets, out=sets)
        self.set_fx = sets.transpose(0, 1, 3, 2).astype(np.int32, order="C")  # (2, N, rows, 2)
        self.hull_big = (ext[:, 2:] > 4 * ONE).tolist()
        self.head_px = ((hi[:, 1, 0] - lo[:, 1, 0]) * (1.0 / ONE)).tolist()
        head = g.P[:, :, _HEAD]
        fwd = g.P[:, :, _NOSE] - head
        facing = fwd[:, 0] * head[:, 0] + fwd[:, 1] * head[:, 1] + fwd[:, 2] * head[:, 2] < 0
        self.facing = facing.tolist()
        self._faces = None

    def polygons(self, n: int, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Shadow and lit convex polygons of set k (0 skin, 1 hair cap, 2.. torso hulls)."""
        a, b = _SETS_L[k], _SETS_L[k + 1]
        return cv2.convexHull(self.set_fx[0, n, a:b]), cv2.convexHull(self.set_fx[1, n, a:b])

    def pattern_frame(self, n: int, h: int) -> list[float]:
        """``[bottom x, y, up x, y, across x, y]`` (pixels) of torso hull h of person n: the
        mean of its bottom ring, top ring minus bottom, and the width of its middle ring."""
        k = B.RING_POINTS
        xs, ys = self.sets[n, :, _SETS_L[2 + h] : _SETS_L[3 + h]].tolist()  # 3 rings, fixed point
        inv = 1.0 / (k * ONE)
        bx, by = sum(xs[-k:]) * inv, sum(ys[-k:]) * inv
        ux, uy = sum(xs[:k]) * inv - bx, sum(ys[:k]) * inv - by
        ax, ay = (xs[k] - xs[k + k // 2]) * (1.0 / ONE), (ys[k] - ys[k + k // 2]) * (1.0 / ONE)
        return [bx, by, ux, uy, ax, ay]

    def face(self, n: int) -> tuple[list, list, list]:
        """Face features of person n: visible flags, fixed-point and float pixels."""
        if self._faces is None and self.n == 1:  # one person: plain Python, same arithmetic
            g = self.g
            px, py, pz = g.P[0][:, _X_FEAT:_X_ELL].tolist()
            vis = []
            for i in range(_NF):
                x, y, z = px[i], py[i], pz[i]
                dot = x * (px[_NF + i] - x) + y * (py[_NF + i] - y) + z * (pz[_NF + i] - z)
                vis.append(dot < -0.15 * 0.01 * math.sqrt(x * x + y * y + z * z))
            xs, ys = self.uv16[0][:, _X_FEAT : _X_FEAT + _NF].tolist()
            q16 = [[round(x), round(y)] for x, y in zip(xs, ys, strict=True)]
            xs, ys = g.uv[0][:, _X_FEAT : _X_FEAT + _NF].tolist()
            self._faces = [vis], [q16], [[[x, y] for x, y in zip(xs, ys, strict=True)]]
        if self._faces is None:  # all people at once
            g = self.g
            both = g.P[:, :, _X_FEAT:_X_ELL]
            p, q = both[:, :, :_NF], both[:, :, _NF:]
            pq = p * (q - p)  # feature . normal
            pp = p * p
            dot = pq[:, 0] + pq[:, 1] + pq[:, 2]
            vis = dot < -0.15 * 0.01 * np.sqrt(pp[:, 0] + pp[:, 1] + pp[:, 2])
            feat = slice(_X_FEAT, _X_FEAT + _NF)
            q16 = np.rint(self.uv16[:, :, feat]).astype(np.int32).transpose(0, 2, 1)
            self._faces = vis.tolist(), q16.tolist(), g.uv[:, :, feat].transpose(0, 2, 1).tolist()
        vis, q, uv = self._faces
        return vis[n], q[n], uv[n]

    def items(self) -> list[list[int]]:
        """[kind, person, primitive] grouped by image, far to near within an image; kind 0
        capsule, 1 torso hull, 2 head."""
        table, image = _item_table(self.n, self.g.groups)
        depth = (self.g.z[:, None] @ _ITEM_DEPTH).ravel()  # per row: no BLAS threads
        if self.n == 1:  # the same stable order as lexsort, in plain Python
            d = (-depth).tolist()
            rows = _ONE_TABLE
            return [rows[i] for i in sorted(range(len(d)), key=d.__getitem__)]
        return table[np.lexsort((-depth, image))].tolist()

    def paint(self) -> None:
        """Thin capsules (< 2 px) get one flat band, medium ones two, thick ones three."""
        imgs, cols = self.imgs, self.cols
        cap_draw, cap_mat, cap_r = self.cap_draw, self.cap_mat, self.cap_r
        c = len(B.CAPSULES)
        p0, p1, p2 = self.cap_fx.reshape(3, self.n * c, -1, 2)
        lt, line8, fill = self.lt, cv2.LINE_8, cv2.fillConvexPoly
        for kind, n, p in self.items():
            if kind == 0:
                if cap_draw[n][p]:
                    img, col, mat, i = imgs[n], cols[n], cap_mat[n][p], n * c + p
                    ra, rb = cap_r[n][p]  # fixed-point units
                    rmax = ra if ra > rb else rb
                    if rmax < 2.0 * ONE:
                        fill(img, p0[i], col[1][mat], lt, SHIFT)
                    else:
                        fill(img, p0[i], col[0][mat], lt, SHIFT)
                        fill(img, p1[i], col[1][mat], line8, SHIFT)
                        if rmax >= 4.0 * ONE:
                            fill(img, p2[i], col[2][mat], line8, SHIFT)
            elif kind == 1:
                self.hull(n, p)
            else:
                self.head(n)

    def hull(self, n: int, h: int) -> None:
        img, mat, col = self.imgs[n], HULL_MATERIAL[h], self.cols[n]
        outer, inner = self.polygons(n, 2 + h)
        cv2.fillConvexPoly(img, outer, col[0][mat], self.lt, SHIFT)
        cv2.fillConvexPoly(img, inner, col[1][mat], cv2.LINE_8, SHIFT)
        idn = self.idn[n]
        texture = idn.bottom_texture if mat == B.BOTTOM else idn.top_texture
        if texture != "plain" and self.hull_big[n][h]:
            color = col[1][B.TOP2 if mat == B.TOP else B.BOTTOM2]
            _pattern(img, inner, self.pattern_frame(n, h), idn, texture, color)

    def head(self, n: int) -> None:
        img, col, facing = self.imgs[n], self.cols[n], self.facing[n]
        order = (0,) if self.idn[n].hair_style == "none" else ((1, 0) if facing else (0, 1))
        for e in order:
            mat = B.SKIN if e == 0 else B.HAIR
            outer, inner = self.polygons(n, e)
            cv2.fillConvexPoly(img, outer, col[0][mat], self.lt, SHIFT)
            cv2.fillConvexPoly(img, inner, col[1][mat], cv2.LINE_8, SHIFT)
        if facing and self.head_px[n] >= 8:
            _face(img, *self.face(n), self.head_px[n], col)


def _pattern(img: np.ndarray, poly: np.ndarray, frame: list[float], idn: B.Identity,
             texture: str, color) -> None:  # fmt: skip
    """A clothing pattern on one torso hull (polygon ``poly``), anchored to the torso frame
    ``frame`` (bottom, up, across; see ``_Painter.pattern_frame``) so that it moves with it.
    Drawn on a copy of the polygon's bounding box, pasted back through its mask."""
    x, y, w, h = cv2.boundingRect(poly)
    x0, y0 = max(x >> SHIFT, 0), max(y >> SHIFT, 0)
    roi = img[y0 : ((y + h) >> SHIFT) + 2, x0 : ((x + w) >> SHIFT) + 2]
    if roi.size == 0:
        return
    off = (-(x0 << SHIFT), -(y0 << SHIFT))
    tmp = roi.copy()
    bx, by, ux, uy, ax, ay = frame
    if texture == "noise":
        centres = (_PRINTS[idn.print_layout] @ np.array(((ax, ay), (ux, uy)))).tolist()
        cx, cy = bx + 0.5 * ux, by + 0.5 * uy
        r = int(max(1.0, 0.09 * math.sqrt(abs(ux * ay - uy * ax))) * ONE)
        for px, py in centres:
            c = (round((cx + px) * ONE) + off[0], round((cy + py) * ONE) + off[1])
            cv2.circle(tmp, c, r, color, -1, cv2.LINE_8, SHIFT)
    else:
        lu, la = math.sqrt(ux * ux + uy * uy), math.sqrt(ax * ax + ay * ay)
        scale = 1.5 * (lu + la)
        width = min(0.9, 8 * idn.top_period) / len(_STRIPES)
        w = np.array((1.0, width, scale / max(la, 1e-6), scale / max(lu, 1e-6)))
        basis = np.array((bx * ONE, by * ONE, ux * ONE, uy * ONE, ax * ONE, ay * ONE))
        c = _STRIPE_C[texture == "checks"]  # (4 * corners, 3)
        corners = w @ (c @ basis.reshape(3, 2)).reshape(4, -1)
        quads = np.rint(corners).astype(np.int32).reshape(-1, 4, 2)
        cv2.fillPoly(tmp, quads, color, cv2.LINE_8, SHIFT, off)
    mask = np.zeros(roi.shape[:2], np.uint8)
    cv2.fillPoly(mask, [poly], 1, cv2.LINE_8, SHIFT, off)
    cv2.copyTo(tmp, mask, roi)  # in place: roi is a view of the image


_EARS, _EYES = (_F["left_ear"], _F["right_ear"]), (_F["left_eye"], _F["right_eye"])
_NOSE_F, _NOSE_ROOT, _MOUTH_L, _MOUTH_R = _F["nose"], _F["nose_root"], _F["mouth_left"], _F[
    "mouth_right"]  # fmt: skip
_BROW_L, _BROW_R = _F["brow_left"], _F["brow_right"]


def _face(img: np.ndarray, vis: list, q: list, uv: list, hpx: float, col) -> None:
    """Eyes, brows, nose, mouth and ears of one person: drawn where their surface normal
    faces the camera (``vis``); ``q`` / ``uv``: fixed-point / float pixels of the features;
    sizes follow the head's height in pixels ``hpx``."""
    lt = cv2.LINE_8
    thick = max(1, int(round(0.035 * hpx)))
    if hpx >= 16:
        for ear in _EARS:
            if vis[ear]:
                cv2.circle(img, q[ear], int(0.07 * hpx * ONE), col[0][B.SKIN], -1, lt, SHIFT)
    for eye in _EYES:
        if vis[eye]:
            if hpx >= 28:
                cv2.circle(img, q[eye], int(0.05 * hpx * ONE), (235, 235, 235), -1, lt, SHIFT)
            cv2.circle(img, q[eye], int(max(0.6, 0.03 * hpx) * ONE), col[1][B.EYES], -1, lt,
                       SHIFT)  # fmt: skip
    if hpx >= 16:
        (lx, ly), (rx, ry) = uv[_BROW_L], uv[_BROW_R]
        hx, hy = 0.22 * (lx - rx), 0.22 * (ly - ry)
        for (cx, cy), sign in ((uv[_BROW_L], 1), (uv[_BROW_R], -1)):
            if vis[_BROW_L if sign == 1 else _BROW_R]:
                a = (round((cx - hx * sign) * ONE), round((cy - hy * sign) * ONE))
                b = (round((cx + 0.9 * hx * sign) * ONE), round((cy + 0.9 * hy * sign) * ONE))
                cv2.line(img, a, b, col[0][B.HAIR], thick, lt, SHIFT)
    if vis[_NOSE_F]:
        cv2.line(img, q[_NOSE_ROOT], q[_NOSE_F], col[1][B.SKIN_DARK], thick, lt, SHIFT)
    if vis[_MOUTH_L] or vis[_MOUTH_R]:
        cv2.line(img, q[_MOUTH_L], q[_MOUTH_R], col[0][B.LIPS], thick, lt, SHIFT)


# --------------------------------------------------------------------------------------------
# Visibility and boxes
# --------------------------------------------------------------------------------------------
def _exclusions() -> np.ndarray:
    """``(K, O)`` bool: occluders (body capsules then body ellipsoids) that may not hide a
    joint of the same person (the parts the joint belongs to)."""
    caps = [B.CAPSULES[i] for i in BODY_CAPS]
    ells = [B.ELLIPSOIDS[i][0] for i in BODY_ELLS]
    ex = np.zeros((B.NUM_JOINTS, len(caps) + len(ells)), bool)
    for k, joint in enumerate(B.SYNTH_JOINTS):
        for c, (_, a, b) in enumerate(caps):
            ex[k, c] = joint in (a, b)
    own = {
        "head": ("head_skin",), "head_top": ("head_skin",), "upper_neck": ("head_skin",),
        "neck": ("chest_body",), "thorax": ("chest_body",),
        "pelvis": ("pelvis_body", "abdomen_body"),
        "left_hip": ("pelvis_body",), "right_hip": ("pelvis_body",),
        "left_toe": ("left_foot",), "right_toe": ("right_foot",),
        "left_hand_tip": ("left_hand",), "right_hand_tip": ("right_hand",),
    }  # fmt: skip
    names = [c[0] for c in caps] + ells
    for joint, parts in own.items():
        for part in parts:
            ex[B.JOINT_INDEX[joint], names.index(part)] = True
    return ex


EXCLUDE = _exclusions()
_OWN_CACHE: dict[int, np.ndarray] = {}


def _own(n: int) -> np.ndarray:
    """Mask ``(n*K, n*C' + n*E')`` of one image with n people (all body capsules, then all
    body ellipsoids): the occluders each joint may hit, i.e. all but its own parts."""
    own = _OWN_CACHE.get(n)
    if own is None:
        m = np.zeros((n, B.NUM_JOINTS, n, EXCLUDE.shape[1]), bool)
        m[np.arange(n), :, np.arange(n)] = EXCLUDE
        c = len(BODY_CAPS)
        m = m.reshape(n * B.NUM_JOINTS, n, -1)
        own = _OWN_CACHE[n] = ~np.concatenate(
            [m[..., :c].reshape(n * B.NUM_JOINTS, -1), m[..., c:].reshape(n * B.NUM_JOINTS, -1)],
            axis=1,
        )
    return own


def _occluded(g: _Geom, shapes: list[B.BodyShape]) -> np.ndarray:
    """``(N, K)`` bool: each joint's surface landmark is hidden by a body part of anyone in
    the same image. Arrays are laid out as (image, joint of anyone, occluder of anyone); the
    parts a joint belongs to (``EXCLUDE``) never hide it."""
    n, k, gr = len(shapes), B.NUM_JOINTS, g.groups
    per = n // gr
    J = g.P[:, :, :k]  # keypoints are the first K rows: (N, 3, K)
    if per > 1:  # (G, 3, per * K)
        J = J.reshape(gr, per, 3, k).transpose(0, 2, 1, 3).reshape(gr, 3, per * k)
    sq = J * J
    dist = np.sqrt(sq[:, 0] + sq[:, 1] + sq[:, 2])
    d = J / np.maximum(dist, 1e-9)[:, None]  # (G, 3, Q) unit rays
    jr = shapes[0].joint_radius if n == 1 else np.stack([s.joint_radius for s in shapes])
    zs = d[:, 2] * (dist - jr.reshape(gr, per * k)) - MARGIN  # landmark depth, minus a margin
    hid = _ellipsoid_hides(d, g, _stack([s.ell_semi for s in shapes]), zs)  # (G, Q)
    hid |= _capsule_hides(g, _stack([s.cap_radius for s in shapes]), zs)
    return hid.reshape(n, k)


_OWN_ELL_CACHE: dict[int, np.ndarray] = {}


def _ellipsoid_hides(d: np.ndarray, g: _Geom, semi: np.ndarray, zs: np.ndarray) -> np.ndarray:
    """``(G, Q)`` bool: the unit ray ``d (G, 3, Q)`` from the camera centre to each joint
    meets a body ellipsoid of its image (not its own) in front of the joint's depth ``zs``
    (the first hit ``t`` of ``|o + t dd| = 1`` in unit-sphere coordinates)."""
    gr = g.groups
    per = len(g.P) // gr
    own = _OWN_ELL_CACHE.get(per)
    if own is None:  # (per * E', Q): the ellipsoids that may hide each joint
        own = _OWN_ELL_CACHE[per] = np.ascontiguousarray(_own(per)[:, per * len(BODY_CAPS) :].T)
    pts = g.P[:, :, _X_ELL:_X_END].reshape(len(g.P), 3, len(BODY_ELLS), 4)  # centre, 3 tips
    c = pts[..., :1]
    inv = (pts[..., 1:] - c).transpose(0, 2, 3, 1) / (semi[:, BODY_ELLS, :, None] ** 2)
    o = -(inv @ c.transpose(0, 2, 1, 3))[..., 0].reshape(gr, -1, 3)  # unit-sphere coords
    dd = inv.reshape(gr, -1, 3, 3) @ d[:, None]  # (G, E, 3, Q)
    sq = dd * dd
    a = sq[:, :, 0] + sq[:, :, 1] + sq[:, :, 2]
    b = (o[:, :, None] @ dd)[:, :, 0]  # (G, E, Q)
    cc = np.add.reduce(o * o, axis=-1)[..., None] - 1
    disc = b * b - a * cc
    t = (-b - np.sqrt(np.maximum(disc, 0))) / a
    hit = t * d[:, None, 2] < zs[:, None]
    hit &= disc > 0
    hit &= t > 0
    hit &= own
    return np.logical_or.reduce(hit, axis=1)


_PAIR_CACHE: dict[tuple, np.ndarray] = {}


def _capsule_pairs(n: int, gr: int, rows: int) -> np.ndarray:
    """``(14, P)`` indices into ``_capsule_hides``'s source vector of the inputs of every
    (image, joint, body capsule) pair of one image: joint pixel, capsule end b's pixel, end
    a's pixel twice, (depth, radius) at both ends, focal length, joint depth. A capsule that
    may not hide the joint (``EXCLUDE``) gets radius 0 (the source's last entry): no hit."""
    key = (n, gr, rows)
    idx = _PAIR_CACHE.get(key)
    if idx is None:
        per, k, c = n // gr, B.NUM_JOINTS, len(BODY_CAPS)
        g, q, cc = np.meshgrid(np.arange(gr), np.arange(per * k), np.arange(per * c),
                               indexing="ij")  # fmt: skip
        person_q, joint = g * per + q // k, q % k  # the joint's person and row
        person_c, cap = g * per + cc // c, cc % c  # the capsule's person and index
        o_z = n * rows * 2  # source layout: uv (N, 2, rows), z (N, rows), radius (N, C, 2),
        o_r = o_z + n * rows  # focal length (N,), joint depth (G, per * K), 0
        o_f = o_r + n * len(B.CAPSULES) * 2
        o_s = o_f + n
        o_0 = o_s + gr * per * k
        end = _X_CAP + 2 * cap  # row of end a; end b is the next row
        x_q, x_c = 2 * person_q * rows + joint, 2 * person_c * rows + end  # x; y: + rows
        rad = (person_c * len(B.CAPSULES) + cap) * 2
        mine = (person_q == person_c) & EXCLUDE[joint, cap]
        r_a, r_b = np.where(mine, o_0, o_r + rad), np.where(mine, o_0, o_r + rad + 1)
        idx = np.stack([x_q, x_q + rows, x_c + 1, x_c + rows + 1, x_c, x_c + rows, x_c,
                        x_c + rows, o_z + person_c * rows + end, r_a,
                        o_z + person_c * rows + end + 1, r_b,
                        o_f + person_c, o_s + g * per * k + q]).reshape(14, -1)  # fmt: skip
        idx = _PAIR_CACHE[key] = idx.astype(np.intp)
    return idx


_ZERO = np.zeros(1)


def _capsule_hides(g: _Geom, cap_r: np.ndarray, zs: np.ndarray) -> np.ndarray:
    """``(G, Q)`` bool: the front surface of a body capsule of the same image (not the
    joint's own) is in front of the joint's depth ``zs`` on the joint's pixel, from the 2D
    distance to the projected axis. Every input of every pair is gathered with one ``take``
    so that the arithmetic runs on flat same-shape arrays (numpy's fast path)."""
    n, rows = g.uv.shape[0], g.uv.shape[2]
    src = np.concatenate([g.uv.ravel(), g.z.ravel(), cap_r.ravel(), g.f, zs.ravel(), _ZERO])
    x = src.take(_capsule_pairs(n, g.groups, rows))  # (14, P)
    v = x[0:4] - x[4:8]  # q - a, b - a
    w = v.reshape(2, 2, -1)
    m = w * w[1]  # (q - a) * (b - a), (b - a) ** 2, per coordinate
    s = m[:, 0] + m[:, 1]
    t = s[0] / np.maximum(s[1], 1e-9)
    np.minimum(np.maximum(t, 0.0, out=t), 1.0, out=t)
    e = w[0] - t * w[1]
    e *= e
    dist2 = e[0] + e[1]
    zr = x[8:10] + t * (x[10:12] - x[8:10])  # depth and metric radius on the axis
    z, r3t = zr
    rpx2 = x[12] * r3t / z
    rpx2 *= rpx2
    inside = 1 - dist2 / np.maximum(rpx2, 1e-12)
    front = z - r3t * np.sqrt(np.maximum(inside, 0))
    hit = front < x[13]
    hit &= dist2 < rpx2
    return np.logical_or.reduce(hit.reshape(g.groups, zs.shape[1], -1), axis=-1)


_HEAD_KP = [B.JOINT_INDEX["head_top"], B.JOINT_INDEX["upper_neck"]]


def _boxes(p: _Painter) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unclipped amodal boxes ``lo, hi (N, 2)`` and MPII head boxes ``(N, 2, 2)`` (pixels;
    computed from the fixed-point extents of the parts, an exact scaling)."""
    hair = np.array([[i.hair_style != "none"] for i in p.idn])
    lo_h, hi_h = p.head_lo, p.head_hi  # (N, 2, 2): x / y by skin, hair cap
    hk = p.uv16[:, :, _HEAD_KP]  # (N, 2, 2): x / y by keypoint
    head = np.empty((p.n, 2, 2))  # lo, hi
    np.minimum(np.minimum(lo_h[..., 0], np.where(hair, lo_h[..., 1], lo_h[..., 0])),
               np.minimum(hk[..., 0], hk[..., 1]), out=head[:, 0])  # fmt: skip
    np.maximum(np.maximum(hi_h[..., 0], np.where(hair, hi_h[..., 1], hi_h[..., 0])),
               np.maximum(hk[..., 0], hk[..., 1]), out=head[:, 1])  # fmt: skip
    on = p.cap_on[:, None]
    lo = np.concatenate([np.where(on, p.cap_lo, np.inf), p.hull_lo, head[:, 0, :, None]],
                        2).min(-1)  # fmt: skip
    hi = np.concatenate([np.where(on, p.cap_hi, -np.inf), p.hull_hi, head[:, 1, :, None]],
                        2).max(-1)  # fmt: skip
    inv = 1.0 / ONE
    head *= inv
    return lo * inv, hi * inv, head


def _box_fields(p: _Painter, lim: tuple[float, float]) -> tuple[np.ndarray, ...]:
    """``bbox (N, 4)``, ``head_box (N, 2, 2)``, ``center (N, 2)``, ``scale (N,)`` float32 (see
    ``Annotations``); one person in plain Python (the same arithmetic as ``_boxes``)."""
    if p.n > 1:
        lo, hi, head_box = _boxes(p)
        clo, chi = np.minimum(np.maximum(lo, -0.5), lim), np.minimum(np.maximum(hi, -0.5), lim)
        return (np.concatenate([clo, np.maximum(chi - clo, 0)], axis=1).astype(np.float32),
                head_box.astype(np.float32), (0.5 * (lo + hi)).astype(np.float32),
                ((hi[:, 1] - lo[:, 1]) / 200.0).astype(np.float32))  # fmt: skip
    inv = 1.0 / ONE
    (lx, ly), (ux, uy) = p.box_lo, p.box_hi  # x / y of the 5 boxes: skin, hair cap, hulls
    sx, hx, sy, hy, sx2, hx2, sy2, hy2 = lx[0], lx[1], ly[0], ly[1], ux[0], ux[1], uy[0], uy[1]
    (kx, kx2), (ky, ky2) = p.uv16[0][:, _HEAD_KP].tolist()
    if p.idn[0].hair_style == "none":
        hx, hy, hx2, hy2 = sx, sy, sx2, sy2
    head = (min(sx, hx, kx, kx2), min(sy, hy, ky, ky2), max(sx2, hx2, kx, kx2),
            max(sy2, hy2, ky, ky2))  # fmt: skip
    x0, y0 = min(min(lx[2:]), head[0]), min(min(ly[2:]), head[1])
    x1, y1 = max(max(ux[2:]), head[2]), max(max(uy[2:]), head[3])
    (ex, ey), rad = p.cap_e, p.cap_r[0]
    for on, (ax, bx), (ay, by), (ra, rb) in zip(p.cap_draw[0], ex, ey, rad, strict=True):
        if on:  # capsule box: ends -/+ their radii (fixed point)
            v, w = ax - ra, bx - rb
            v = v if v < w else w
            x0 = x0 if x0 < v else v
            v, w = ay - ra, by - rb
            v = v if v < w else w
            y0 = y0 if y0 < v else v
            v, w = ax + ra, bx + rb
            v = v if v > w else w
            x1 = x1 if x1 > v else v
            v, w = ay + ra, by + rb
            v = v if v > w else w
            y1 = y1 if y1 > v else v
    x0, y0, x1, y1 = x0 * inv, y0 * inv, x1 * inv, y1 * inv
    w, h = lim
    bx0, by0 = min(max(x0, -0.5), w), min(max(y0, -0.5), h)
    bx1, by1 = min(max(x1, -0.5), w), min(max(y1, -0.5), h)
    return (np.array([[bx0, by0, max(bx1 - bx0, 0), max(by1 - by0, 0)]], np.float32),
            np.array([[[head[0] * inv, head[1] * inv], [head[2] * inv, head[3] * inv]]],
                     np.float32),
            np.array([[0.5 * (x0 + x1), 0.5 * (y0 + y1)]], np.float32),
            np.array([(y1 - y0) / 200.0], np.float32))  # fmt: skip


_LIMS: dict[tuple[float, float], np.ndarray] = {}


def _render(images, shapes, points, cams, lights, antialias) -> Annotations:
    """Core of ``render_people`` / ``render_batch``: N people in G = len(cams) images of the
    same size, N / G consecutive people per image."""
    g = _geometry(np.asarray(points, dtype=np.float64), cams)
    per = len(shapes) // len(cams)
    painter = _Painter([images[i // per] for i in range(len(shapes))] if images else None,
                       shapes, g, _Lights.make(lights, shapes), antialias)  # fmt: skip
    if images:
        painter.paint()
    k, cam = B.NUM_JOINTS, cams[0]
    lim = (cam.width - 0.5, cam.height - 0.5)
    uvp = g.uv[:, :, :k]
    hi = _LIMS.get(lim)
    if hi is None:
        hi = _LIMS[lim] = np.array(lim)[:, None]
    inside = (uvp >= -0.5) & (uvp < hi)
    inside = inside[:, 0] & inside[:, 1] & (g.P[:, 2, :k] > NEAR)
    uv = uvp.transpose(0, 2, 1)  # (N, K, 2)
    kp = np.zeros((len(shapes), k, 3), np.float32)
    np.copyto(kp[..., :2], uv, where=inside[..., None])
    np.copyto(kp[..., 2], 2 - _occluded(g, shapes), where=inside)
    bbox, head_box, center, scale = _box_fields(painter, lim)
    return Annotations(
        keypoints=kp,
        joints2d=uv.astype(np.float32, order="C"),
        joints3d=g.P[:, :, :k].transpose(0, 2, 1).astype(np.float32, order="C"),
        bbox=bbox,
        head_box=head_box,
        center=center,
        scale=scale,
    )


def render_people(
    image: np.ndarray | None,
    shapes: list[B.BodyShape],
    points: np.ndarray,
    cam: Camera,
    light: Light | None = None,
    antialias: bool = True,
) -> Annotations:
    """Draw N posed people into one ``image`` (in place) and label them.

    Args:
        image: ``(H, W, 3)`` uint8 RGB canvas of the camera's size, or None to only label.
        shapes: N body shapes; points: ``(N, M, 3)`` world positions of their ``POINTS``
            rows, from ``body.pose_points``.
        cam: the camera; light: shading (default ``Light()``); antialias: anti-aliased
            silhouettes (``cv2.LINE_AA``) or not.
    Returns:
        ``Annotations`` of the N people (people hide each other).
    """
    return _render(None if image is None else [image], shapes, points, [cam],
                   [light or Light()], antialias)  # fmt: skip


def render_batch(
    images: list[np.ndarray] | None,
    shapes: list[B.BodyShape],
    points: np.ndarray,
    cams: list[Camera],
    lights: list[Light] | None = None,
    antialias: bool = True,
) -> Annotations:
    """Draw B single-person images at once (crops, frames of a clip): person b, with points
    ``points[b]`` and camera ``cams[b]``, into ``images[b]`` (all of one size, in place).

    Same result as B calls of ``render_people`` but the numpy work is vectorised over the
    batch, which is about twice as fast for small images. Returns ``Annotations`` with
    N = B rows (row b = image b)."""
    lights = lights or [Light()] * len(cams)
    return _render(images, shapes, points, cams, lights, antialias)
