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
convention: pixel centres at integer coordinates (``posekit`` DESIGN §4).
"""

from __future__ import annotations

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
    P: np.ndarray  # (N, M, 3) camera coordinates of every row of body.POINTS
    z: np.ndarray  # (N, M) depth clamped at NEAR
    uv: np.ndarray  # (N, M, 2) pixels
    f: np.ndarray  # (N,) focal length (mean of fx, fy)
    groups: int  # G images of N / G people each


def _cameras(cams: list[Camera], n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-person ``R (N, 3, 3)``, ``t (N, 3)``, ``(fx, fy, cx, cy) (N, 4)`` of G cameras
    shared by N / G consecutive people each."""
    R, t = _stack([c.R for c in cams]), _stack([c.t for c in cams])
    intr = np.array([[c.fx, c.fy, c.cx, c.cy] for c in cams])
    if n != len(cams):
        rep = n // len(cams)
        R, t, intr = (np.repeat(a, rep, axis=0) for a in (R, t, intr))
    return R, t, intr


def _geometry(points: np.ndarray, cams: list[Camera]) -> _Geom:
    R, t, intr = _cameras(cams, len(points))
    P = points @ R.swapaxes(-1, -2) + t[:, None]
    z = np.maximum(P[..., 2], NEAR)
    uv = P[..., :2] / z[..., None] * intr[:, None, :2] + intr[:, None, 2:]
    return _Geom(P, z, uv, 0.5 * (intr[:, 0] + intr[:, 1]), len(cams))


def _capsule_outlines(ends: np.ndarray, r: np.ndarray, light: np.ndarray) -> np.ndarray:
    """Outlines ``(len(BANDS), N, C, 2 * CAP_SEG, 2)`` of 2D capsules with ends
    ``(N, C, 2, 2)``, end radii ``(N, C, 2)`` and light directions ``(N, 1)`` (complex);
    band k is shrunk by ``BANDS[k][0]`` and shifted towards the light by ``BANDS[k][1]`` mean
    radii. (2D points as complex numbers.)"""
    z = ends[..., 0] + 1j * ends[..., 1]  # (N, C, 2)
    d = z[..., 1] - z[..., 0] + 1e-4  # never zero: an end-on capsule is a circle
    u = d / np.abs(d)
    radial = (r[..., _CAP_END] * u[..., None]) * _CAP_ROT  # (N, C, 2m)
    centre = z[..., _CAP_END]
    perp = ((light * u.conjugate()).imag * 0.5 * (r[..., 0] + r[..., 1]) * 1j * u)[..., None]
    out = np.empty((len(BANDS),) + radial.shape, complex)
    for k, (scale, shift) in enumerate(BANDS):
        out[k] = centre + scale * radial + shift * perp
    return out.view(np.float64).reshape(out.shape + (2,))


def _band_sets(pts: np.ndarray, light: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Shadow and lit point sets ``(2, N, H, S, 2)`` of hull point sets ``pts (N, H, S, 2)``
    (the lit one shrunk towards the centroid and shifted to the light ``(N, 2)``) and the
    half sizes ``(N, H)``."""
    centre = pts.sum(-2, keepdims=True) * (1.0 / pts.shape[-2])
    ext = np.abs(pts - centre).max(axis=(-2, -1), keepdims=True)
    out = np.empty((2,) + pts.shape)
    out[0] = pts
    out[1] = 0.8 * pts + (0.2 * centre + 0.12 * ext * light[:, None, None])
    return out, ext[..., 0, 0]


# Print layouts: blob positions in the torso frame (fractions), picked by identity.
_PRINTS = np.random.default_rng(0x5EED).uniform(-0.42, 0.42, (64, 10, 2))
_STRIPES = np.arange(6) / 6.0  # stripe starts along the torso, fractions of the span
_HULL_ROWS = np.stack(B.HULL_ROWS)  # (3, R)


# --------------------------------------------------------------------------------------------
# Drawing
# --------------------------------------------------------------------------------------------
def _fx(pts: np.ndarray) -> np.ndarray:
    return np.rint(pts * ONE).astype(np.int32)


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
        par = np.array([(*li.direction, li.ambient, li.intensity) for li in lights])
        if rep > 1:
            par = np.repeat(par, rep, axis=0)
        l2 = par[:, :2] / np.sqrt(par[:, :1] ** 2 + par[:, 1:2] ** 2)
        amb, inten = par[:, 2, None, None], par[:, 3, None, None]
        base = _stack([s.palette for s in shapes]) * inten
        cols = np.empty((len(shapes), 3) + base.shape[1:])
        cols[:, 0], cols[:, 1], cols[:, 2] = base * amb, base, base + (255 - base) * 0.28
        return cls(l2, np.minimum(cols + 0.5, 255).astype(np.int32).tolist())


_ITEM_CACHE: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}


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


class _Painter:
    """Paints the primitives of all people, far to near within each image.

    The geometry is prepared with vectorised numpy over all people and primitives; the paint
    loop only makes OpenCV calls on precomputed fixed-point arrays."""

    def __init__(self, imgs: list, shapes, g: _Geom, lights: _Lights, antialias: bool):
        self.imgs, self.shapes, self.g, self.n = imgs, shapes, g, len(shapes)
        self.per_image = self.n // g.groups
        self.l2, self.cols = lights.l2, lights.cols
        self.lt = cv2.LINE_AA if antialias else cv2.LINE_8
        self.idn = [s.identity for s in shapes]
        self._prepare_capsules()
        self._prepare_hulls()
        self._prepare_head()

    def _prepare_capsules(self) -> None:
        g = self.g
        ends, z = g.uv[:, B.CAP_ROWS], g.z[:, B.CAP_ROWS]  # (N, C, 2, 2), (N, C, 2)
        r = g.f[:, None, None] * _stack([s.cap_radius for s in self.shapes]) / z
        light = (self.l2[:, 0] + 1j * self.l2[:, 1])[:, None]
        self.cap_fx = _fx(_capsule_outlines(ends, r, light))
        ra, rb = r[..., 0, None], r[..., 1, None]
        self.cap_lo = np.minimum(ends[:, :, 0] - ra, ends[:, :, 1] - rb)
        self.cap_hi = np.maximum(ends[:, :, 0] + ra, ends[:, :, 1] + rb)
        self.cap_z = 0.5 * (z[..., 0] + z[..., 1])
        rmax = np.maximum(r[..., 0], r[..., 1])
        self.cap_bands = ((rmax >= 2.0).astype(int) + (rmax >= 4.0)).tolist()
        zc = g.P[:, B.CAP_ROWS, 2]
        front = np.minimum(zc[..., 0], zc[..., 1]) > NEAR
        self.cap_on = _stack([s.cap_on for s in self.shapes]) & front
        self.cap_draw = self.cap_on.tolist()
        self.cap_mat = _stack([s.cap_material for s in self.shapes]).tolist()

    def _prepare_hulls(self) -> None:
        self.hull_uv = self.g.uv[:, _HULL_ROWS]  # (N, 3, R, 2)
        self.hull_z = self.g.z[:, _HULL_ROWS].sum(-1) * (1.0 / _HULL_ROWS.shape[1])
        sets, ext = _band_sets(self.hull_uv, self.l2)
        self.hull_fx = _fx(sets)
        self.hull_big = (ext > 4).tolist()

    def _prepare_head(self) -> None:
        g = self.g
        surf = g.uv[:, B.SURFACE_ROWS]  # (N, 2, S, 2): head skin, hair cap
        self.head_lo, self.head_hi = surf.min(2), surf.max(2)
        sets, _ = _band_sets(surf, self.l2)
        self.head_fx = _fx(sets)
        self.head_px = (self.head_hi[:, 0, 1] - self.head_lo[:, 0, 1]).tolist()
        self.head_z = g.z[:, _HEAD]
        fwd, head = g.P[:, _NOSE] - g.P[:, _HEAD], g.P[:, _HEAD]
        facing = fwd[:, 0] * head[:, 0] + fwd[:, 1] * head[:, 1] + fwd[:, 2] * head[:, 2] < 0
        self.facing = facing.tolist()

    def items(self) -> list[list[int]]:
        """[kind, person, primitive] grouped by image, far to near within an image; kind 0
        capsule, 1 torso hull, 2 head."""
        table, image = _item_table(self.n, self.g.groups)
        depth = np.concatenate([self.cap_z, self.hull_z, self.head_z[:, None]], 1).ravel()
        return table[np.lexsort((-depth, image))].tolist()

    def paint(self) -> None:
        for kind, n, p in self.items():
            if kind == 0:
                if self.cap_draw[n][p]:
                    self.capsule(n, p)
            elif kind == 1:
                self.hull(n, p)
            else:
                self.head(n)

    def capsule(self, n: int, c: int) -> None:
        """Thin capsules (< 2 px) get one flat band, medium ones two, thick ones three."""
        img, col, mat, bands = self.imgs[n], self.cols[n], self.cap_mat[n][c], self.cap_bands[n][c]
        polys = self.cap_fx[:, n, c]
        cv2.fillConvexPoly(img, polys[0], col[1 if bands == 0 else 0][mat], self.lt, SHIFT)
        if bands:
            cv2.fillConvexPoly(img, polys[1], col[1][mat], cv2.LINE_8, SHIFT)
            if bands == 2:
                cv2.fillConvexPoly(img, polys[2], col[2][mat], cv2.LINE_8, SHIFT)

    def hull(self, n: int, h: int) -> None:
        img, mat, col = self.imgs[n], HULL_MATERIAL[h], self.cols[n]
        inner = cv2.convexHull(self.hull_fx[1, n, h])
        cv2.fillConvexPoly(img, cv2.convexHull(self.hull_fx[0, n, h]), col[0][mat], self.lt, SHIFT)
        cv2.fillConvexPoly(img, inner, col[1][mat], cv2.LINE_8, SHIFT)
        idn = self.idn[n]
        texture = idn.bottom_texture if mat == B.BOTTOM else idn.top_texture
        if texture != "plain" and self.hull_big[n][h]:
            color = col[1][B.TOP2 if mat == B.TOP else B.BOTTOM2]
            _Pattern(img, self.hull_uv[n, h], idn).draw(inner, texture, color)

    def head(self, n: int) -> None:
        img, col, facing = self.imgs[n], self.cols[n], self.facing[n]
        order = (0,) if self.idn[n].hair_style == "none" else ((1, 0) if facing else (0, 1))
        for e in order:
            mat = B.SKIN if e == 0 else B.HAIR
            cv2.fillConvexPoly(img, cv2.convexHull(self.head_fx[0, n, e]), col[0][mat], self.lt,
                               SHIFT)  # fmt: skip
            cv2.fillConvexPoly(img, cv2.convexHull(self.head_fx[1, n, e]), col[1][mat],
                               cv2.LINE_8, SHIFT)  # fmt: skip
        if facing and self.head_px[n] >= 8:
            _Face(img, self.g, n, self.head_px[n], col).draw()


class _Pattern:
    """A clothing pattern on one torso hull, anchored to the torso frame (moves with it)."""

    def __init__(self, img: np.ndarray, ring: np.ndarray, idn: B.Identity) -> None:
        self.img, self.idn = img, idn
        k = B.RING_POINTS
        self.bottom = ring[-k:].sum(0) * (1.0 / k)
        self.up = ring[:k].sum(0) * (1.0 / k) - self.bottom
        self.across = ring[k] - ring[k + k // 2]

    def draw(self, poly: np.ndarray, texture: str, color) -> None:
        """Draw on a copy of the polygon's bounding box, paste back through its mask."""
        x, y, w, h = cv2.boundingRect(poly)
        x0, y0 = max(x >> SHIFT, 0), max(y >> SHIFT, 0)
        roi = self.img[y0 : ((y + h) >> SHIFT) + 2, x0 : ((x + w) >> SHIFT) + 2]
        if roi.size == 0:
            return
        off = (-(x0 << SHIFT), -(y0 << SHIFT))
        tmp = roi.copy()
        if texture == "noise":
            self._blobs(tmp, off, color)
        else:
            cv2.fillPoly(tmp, list(_fx(self._stripes(texture == "checks"))), color, cv2.LINE_8,
                         SHIFT, off)  # fmt: skip
        mask = np.zeros(roi.shape[:2], np.uint8)
        cv2.fillPoly(mask, [poly], 1, cv2.LINE_8, SHIFT, off)
        np.copyto(roi, tmp, where=mask.view(bool)[..., None])

    def _stripes(self, checks: bool) -> np.ndarray:
        """Quads ``(S, 4, 2)`` of horizontal stripes (and vertical ones for checks)."""
        up, across, bottom = self.up, self.across, self.bottom
        lu, la = np.sqrt(up @ up), np.sqrt(across @ across)
        scale = 1.5 * (lu + la)
        width = min(0.9, 8 * self.idn.top_period) / len(_STRIPES)
        quads = [
            _stripe_quads(bottom - 0.2 * up, 1.4 * up, across * (scale / max(la, 1e-6)), width)
        ]
        if checks:
            side = up * (scale / max(lu, 1e-6))
            quads.append(_stripe_quads(bottom + 0.5 * up - across, 2 * across, side, width))
        return np.concatenate(quads)

    def _blobs(self, tmp: np.ndarray, off: tuple[int, int], color) -> None:
        up, across = self.up, self.across
        centres = (self.bottom + 0.5 * up) + _PRINTS[self.idn.print_layout] @ np.array([across, up])
        r = int(max(1.0, 0.09 * np.sqrt(abs(up[0] * across[1] - up[1] * across[0]))) * ONE)
        for cx, cy in _fx(centres).tolist():
            cv2.circle(tmp, (cx + off[0], cy + off[1]), r, color, -1, cv2.LINE_8, SHIFT)


def _stripe_quads(origin: np.ndarray, span: np.ndarray, side: np.ndarray, width: float):
    """Quads ``(len(_STRIPES), 4, 2)``: stripes starting at ``origin + _STRIPES * span``,
    ``width * span`` wide, reaching ``+/- side`` across."""
    s0 = origin + _STRIPES[:, None] * span
    s1 = s0 + width * span
    return np.stack([s0 - side, s0 + side, s1 + side, s1 - side], axis=1)


class _Face:
    """Eyes, brows, nose, mouth and ears of person ``n``: drawn where their surface normal
    faces the camera; sizes follow the head's height in pixels ``hpx``."""

    def __init__(self, img: np.ndarray, g: _Geom, n: int, hpx: float, col) -> None:
        P, normals = g.P[n, B.FEATURE_ROWS], g.P[n, B.FEATURE_NORMAL_ROWS] - g.P[n, B.FEATURE_ROWS]
        self.vis = ((normals * P).sum(1) < -0.15 * 0.01 * np.sqrt((P * P).sum(1))).tolist()
        self.uv = g.uv[n, B.FEATURE_ROWS]
        self.q = _fx(self.uv).tolist()
        self.img, self.hpx, self.col = img, hpx, col
        self.thick = max(1, int(round(0.035 * hpx)))

    def draw(self) -> None:
        img, q, vis, col, hpx, lt = self.img, self.q, self.vis, self.col, self.hpx, cv2.LINE_8
        if hpx >= 16:
            for ear in (_F["left_ear"], _F["right_ear"]):
                if vis[ear]:
                    cv2.circle(img, q[ear], int(0.07 * hpx * ONE), col[0][B.SKIN], -1, lt, SHIFT)
        for eye in (_F["left_eye"], _F["right_eye"]):
            if vis[eye]:
                if hpx >= 28:
                    cv2.circle(img, q[eye], int(0.05 * hpx * ONE), (235, 235, 235), -1, lt, SHIFT)
                cv2.circle(img, q[eye], int(max(0.6, 0.03 * hpx) * ONE), col[1][B.EYES], -1, lt,
                           SHIFT)  # fmt: skip
        if hpx >= 16:
            self._brows()
        if vis[_F["nose"]]:
            cv2.line(img, q[_F["nose_root"]], q[_F["nose"]], col[1][B.SKIN_DARK], self.thick, lt,
                     SHIFT)  # fmt: skip
        if vis[_F["mouth_left"]] or vis[_F["mouth_right"]]:
            cv2.line(img, q[_F["mouth_left"]], q[_F["mouth_right"]], col[0][B.LIPS], self.thick,
                     lt, SHIFT)  # fmt: skip

    def _brows(self) -> None:
        uv = self.uv
        half = 0.22 * (uv[_F["brow_left"]] - uv[_F["brow_right"]])
        for name, sign in (("brow_left", 1), ("brow_right", -1)):
            if self.vis[_F[name]]:
                c = uv[_F[name]]
                a, b = _fx(np.array([c - half * sign, c + 0.9 * half * sign])).tolist()
                cv2.line(self.img, a, b, self.col[0][B.HAIR], self.thick, cv2.LINE_8, SHIFT)


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
    """``(n*K, n, O)`` mask of one image with n people: each joint ignores its own parts."""
    own = _OWN_CACHE.get(n)
    if own is None:
        own = np.zeros((n, B.NUM_JOINTS, n, EXCLUDE.shape[1]), bool)
        own[np.arange(n), :, np.arange(n)] = EXCLUDE
        own = _OWN_CACHE[n] = own.reshape(n * B.NUM_JOINTS, n, -1)
    return own


def _occluded(g: _Geom, shapes: list[B.BodyShape]) -> np.ndarray:
    """``(N, K)`` bool: each joint's surface landmark is hidden by a body part of anyone in
    the same image. Arrays are laid out as (image, joint of anyone, occluder of anyone)."""
    n, k, gr = len(shapes), B.NUM_JOINTS, g.groups
    per = n // gr
    J = g.P[:, :k].reshape(gr, per * k, 3)  # keypoints are the first K rows
    dist = np.sqrt(J[..., 0] ** 2 + J[..., 1] ** 2 + J[..., 2] ** 2)
    d = J / np.maximum(dist, 1e-9)[..., None]  # (G, Q, 3) unit rays
    jr = _stack([s.joint_radius for s in shapes]).reshape(gr, per * k)
    zs = d[..., 2] * (dist - jr) - MARGIN  # depth of each landmark, minus a margin
    front_c = _capsule_front(g, _stack([s.cap_radius for s in shapes]))  # (G, Q, per * C')
    front_e = _ray_ellipsoids(d, g, _stack([s.ell_semi for s in shapes]))  # (G, Q, per * E')
    front = np.concatenate([front_c.reshape(gr, per * k, per, -1),
                            front_e.reshape(gr, per * k, per, -1)], 3)  # fmt: skip
    hid = (front < zs[..., None, None]) & ~_own(per)
    return hid.any(axis=(2, 3)).reshape(n, k)


_BODY_AXES = B.ELL_AXIS_ROWS[BODY_ELLS]  # (E', 3)
_BODY_CENTRES = B.ELL_ROWS[BODY_ELLS]


def _ray_ellipsoids(d: np.ndarray, g: _Geom, semi: np.ndarray) -> np.ndarray:
    """Depth ``(G, Q, per * E')`` of the first hit of each unit ray ``d (G, Q, 3)`` from the
    camera centre with each body ellipsoid of its image (``inf`` for a miss)."""
    gr = g.groups
    c = g.P[:, _BODY_CENTRES]  # (N, E', 3)
    axes = g.P[:, _BODY_AXES] - c[:, :, None]  # (N, E', 3, 3) rows: semi-axis vectors
    inv = axes / semi[:, BODY_ELLS, :, None] ** 2  # vector -> unit-sphere coordinates
    o = -(inv @ c[..., None])[..., 0].reshape(gr, -1, 3)  # camera centre, unit-sphere coords
    dd = inv.reshape(gr, -1, 3, 3) @ d.swapaxes(-1, -2)[:, None]  # (G, E, 3, Q)
    a = dd[:, :, 0] ** 2 + dd[:, :, 1] ** 2 + dd[:, :, 2] ** 2
    b = o[..., :1] * dd[:, :, 0] + o[..., 1:2] * dd[:, :, 1] + o[..., 2:] * dd[:, :, 2]
    cc = (o * o).sum(-1)[..., None] - 1
    disc = b * b - a * cc
    t = (-b - np.sqrt(np.maximum(disc, 0))) / a
    return np.where((disc > 0) & (t > 0), t * d[:, None, :, 2], np.inf).swapaxes(-1, -2)


_BODY_CAP_ROWS = B.CAP_ROWS[BODY_CAPS]


def _capsule_front(g: _Geom, cap_r: np.ndarray) -> np.ndarray:
    """Depth ``(G, Q, per * C')`` of each body capsule's front surface on each joint's pixel
    (same image), from the 2D distance to the projected axis (``inf`` where the capsule
    misses the pixel). 2D points are complex numbers."""
    gr = g.groups
    uv = g.uv[..., 0] + 1j * g.uv[..., 1]
    ends = uv[:, _BODY_CAP_ROWS].reshape(gr, 1, -1, 2)
    ze = g.z[:, _BODY_CAP_ROWS].reshape(gr, 1, -1, 2)
    r3 = cap_r[:, BODY_CAPS].reshape(gr, 1, -1, 2)
    f = g.f.reshape(gr, -1)[:, :1, None]
    a, ab = ends[..., 0], ends[..., 1] - ends[..., 0]
    qa = uv[:, : B.NUM_JOINTS].reshape(gr, -1, 1) - a
    t = (qa * ab.conjugate()).real / np.maximum(ab.real**2 + ab.imag**2, 1e-9)
    t = np.minimum(np.maximum(t, 0), 1)
    e = qa - t * ab
    dist2 = e.real**2 + e.imag**2
    z = ze[..., 0] + t * (ze[..., 1] - ze[..., 0])
    r3t = r3[..., 0] + t * (r3[..., 1] - r3[..., 0])
    rpx2 = (f * r3t / z) ** 2
    inside = np.maximum(1 - dist2 / np.maximum(rpx2, 1e-12), 0)
    return np.where(dist2 < rpx2, z - r3t * np.sqrt(inside), np.inf)


_HEAD_KP = [B.JOINT_INDEX["head_top"], B.JOINT_INDEX["upper_neck"]]


def _boxes(p: _Painter, uv_kp: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unclipped amodal boxes ``lo, hi (N, 2)`` and MPII head boxes ``(N, 2, 2)``."""
    on = p.cap_on[..., None]
    hair = np.array([i.hair_style != "none" for i in p.idn])[:, None]
    hk0, hk1 = uv_kp[:, _HEAD_KP[0]], uv_kp[:, _HEAD_KP[1]]
    skin_lo, hair_lo = p.head_lo[:, 0], np.where(hair, p.head_lo[:, 1], np.inf)
    skin_hi, hair_hi = p.head_hi[:, 0], np.where(hair, p.head_hi[:, 1], -np.inf)
    head_lo = np.minimum.reduce([skin_lo, hair_lo, hk0, hk1])
    head_hi = np.maximum.reduce([skin_hi, hair_hi, hk0, hk1])
    hull = p.hull_uv.reshape(p.n, -1, 2)
    lo = np.minimum.reduce([np.where(on, p.cap_lo, np.inf).min(1), hull.min(1), head_lo])
    hi = np.maximum.reduce([np.where(on, p.cap_hi, -np.inf).max(1), hull.max(1), head_hi])
    return lo, hi, np.stack([head_lo, head_hi], axis=1)


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
    uv = g.uv[:, :k]
    x, y = uv[..., 0], uv[..., 1]
    inside = (x >= -0.5) & (x < cam.width - 0.5) & (y >= -0.5) & (y < cam.height - 0.5)
    inside &= g.P[:, :k, 2] > NEAR
    kp = np.zeros(uv.shape[:2] + (3,), np.float32)
    kp[..., :2] = np.where(inside[..., None], uv, 0)
    kp[..., 2] = np.where(inside, 2 - _occluded(g, shapes), 0)
    lo, hi, head_box = _boxes(painter, uv)
    lim = (cam.width - 0.5, cam.height - 0.5)
    clo, chi = np.minimum(np.maximum(lo, -0.5), lim), np.minimum(np.maximum(hi, -0.5), lim)
    return Annotations(
        keypoints=kp,
        joints2d=uv.astype(np.float32),
        joints3d=g.P[:, :k].astype(np.float32),
        bbox=np.concatenate([clo, np.maximum(chi - clo, 0)], axis=1).astype(np.float32),
        head_box=head_box.astype(np.float32),
        center=(0.5 * (lo + hi)).astype(np.float32),
        scale=((hi[:, 1] - lo[:, 1]) / 200.0).astype(np.float32),
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
