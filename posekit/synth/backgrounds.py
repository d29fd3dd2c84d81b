"""Procedural cluttered backgrounds for SynthPose.

A bank of textures (value noise, gradients, floor and wall tiles, bricks, wood-like stripes,
shape clutter and simple rooms with a perspective floor) is generated once per process from a
fixed seed, so every process sees the same bank. Each image then costs one random crop, an
optional flip, a per-channel colour gain (one ``cv2.LUT``) and a few random distractor shapes,
some of them skin-coloured sticks that look like limbs (hard negatives).
"""

from __future__ import annotations

import math
from functools import lru_cache

import cv2
import numpy as np

BANK_SIZE = (640, 480)  # (width, height) of each bank texture
BANK_COUNT = 20
KINDS = ("clutter", "plain", "texture")


def _noise(rng: np.random.Generator, h: int, w: int, octaves: int = 4, base: int = 4) -> np.ndarray:
    """Multi-octave value noise in [0, 1], float32 ``(h, w)``."""
    out = np.zeros((h, w), np.float32)
    amp, total = 1.0, 0.0
    for o in range(octaves):
        g = base * 2**o
        small = rng.random((g * h // w + 2, g + 2)).astype(np.float32)
        out += amp * cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
        total += amp
        amp *= 0.5
    out /= total
    lo, hi = out.min(), out.max()
    return (out - lo) / max(hi - lo, 1e-6)


def _colors(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` random RGB colours (float) around a random hue, some muted."""
    hsv = np.zeros((1, n, 3), np.uint8)
    hue = rng.integers(0, 180)
    hsv[0, :, 0] = (hue + rng.integers(-20, 21, n)) % 180
    hsv[0, :, 1] = rng.integers(10, 200, n)
    hsv[0, :, 2] = rng.integers(40, 250, n)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[0].astype(np.float32)


def _ramp(t: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Map ``t`` in [0, 1] through a piecewise-linear colour ramp ``cols (n, 3)`` (float32)."""
    x = np.linspace(0, len(cols) - 1, 256)
    i = np.minimum(x.astype(np.int32), len(cols) - 2)
    f = (x - i)[:, None]
    lut = (cols[i] * (1 - f) + cols[i + 1] * f).astype(np.float32)
    return lut[np.clip(t * 255 + 0.5, 0, 255).astype(np.uint8)]


def _tex_noise(rng, h, w):
    return _ramp(_noise(rng, h, w, octaves=rng.integers(3, 6), base=rng.integers(2, 8)),
                 _colors(rng, 3))  # fmt: skip


def _tex_gradient(rng, h, w):
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    ang = rng.uniform(0, 2 * np.pi)
    t = xx * np.cos(ang) + yy * np.sin(ang)
    t = (t - t.min()) / (t.max() - t.min())
    t = np.clip(t + 0.25 * (_noise(rng, h, w) - 0.5), 0, 1)
    return _ramp(t, _colors(rng, 2))


def _tex_tiles(rng, h, w, bricks: bool = False):
    tile = int(rng.integers(24, 80))
    th = tile // 2 if bricks else tile
    yy, xx = np.mgrid[0:h, 0:w]
    row = yy // th
    xs = xx + (row % 2) * (tile // 2) if bricks else xx
    col = xs // tile
    cols = _colors(rng, 2)
    var = rng.random((h // th + 2, w // tile + 3)).astype(np.float32)
    base = _ramp(var[row, col], cols) * (0.9 + 0.2 * _noise(rng, h, w, 3, 16)[..., None])
    grout = ((yy % th) < 2) | ((xs % tile) < 2)
    base[grout] = cols.mean(0) * 0.55
    return base


def _tex_stripes(rng, h, w):
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    ang = rng.uniform(0, np.pi)
    period = rng.uniform(6, 40)
    u = xx * np.cos(ang) + yy * np.sin(ang) + 25 * _noise(rng, h, w, 3, 3)
    t = 0.5 + 0.5 * np.sin(2 * np.pi * u / period)
    return _ramp(t, _colors(rng, 2))


def _tex_clutter(rng, h, w):
    img = _tex_gradient(rng, h, w).astype(np.uint8)
    for u in rng.random((int(rng.integers(30, 90)), 17)).tolist():
        _shape(img, u, scale=max(h, w) / 6)
    return cv2.GaussianBlur(img, (3, 3), 0).astype(np.float32)


def _tex_room(rng, h, w):
    """A wall (noise or tiles) above a tiled floor seen in perspective, with furniture."""
    horizon = int(h * rng.uniform(0.35, 0.7))
    img = (_tex_noise(rng, h, w) if rng.random() < 0.5 else _tex_gradient(rng, h, w)).copy()
    floor = _tex_tiles(rng, h, w) if rng.random() < 0.6 else _tex_stripes(rng, h, w)
    far, near = w * rng.uniform(0.55, 0.8), w * rng.uniform(2.0, 5.0)
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    dst = np.float32([[w / 2 - far, horizon], [w / 2 + far, horizon], [w / 2 + near, 2 * h],
                      [w / 2 - near, 2 * h]])  # fmt: skip
    m = cv2.getPerspectiveTransform(src, dst)
    warped = cv2.warpPerspective(floor, m, (w, h), borderMode=cv2.BORDER_REPLICATE)
    img[horizon:] = warped[horizon:]
    img[horizon : horizon + 2] *= 0.6  # skirting board
    img = img.astype(np.uint8)
    for _ in range(int(rng.integers(2, 8))):  # furniture, windows and frames on the wall
        x0, bw = int(rng.integers(0, w)), int(rng.integers(w // 12, w // 3))
        y1 = int(horizon + rng.integers(-5, h // 6))
        bh = int(rng.integers(h // 10, h // 2))
        col = tuple(int(c) for c in _colors(rng, 1)[0])
        cv2.rectangle(img, (x0, y1 - bh), (x0 + bw, y1), col, -1)
        cv2.rectangle(img, (x0, y1 - bh), (x0 + bw, y1), tuple(int(c * 0.6) for c in col), 2)
    return img.astype(np.float32)


def _shape(img: np.ndarray, u: list[float], scale: float, skin: bool = False) -> None:
    """Draw one distractor from 17 uniforms ``u`` (a list of floats): rectangle, ellipse,
    polygon, thick line or a limb-like stick (``skin``)."""
    h, w = img.shape[:2]
    kind = 4 if skin else int(u[0] * 4)
    if skin:
        col = tuple(int(v * (0.4 + 0.7 * u[1])) for v in (224, 172, 128))
    else:
        col = (int(u[1] * 255), int(u[2] * 255), int(u[3] * 255))
    cx, cy = int(u[4] * w), int(u[5] * h)
    s = max(2, int(scale * (0.15 + 0.85 * u[6])))
    if kind == 0:
        cv2.rectangle(img, (cx - s, cy - s // 2), (cx + s, cy + s // 2), col, -1)
    elif kind == 1:
        cv2.ellipse(img, (cx, cy), (s, max(1, int(s * u[7]))), u[8] * 180, 0, 360, col, -1)
    elif kind == 2:
        pts = ((np.array(u[7:17]).reshape(5, 2) * 2 - 1) * s + (cx, cy)).astype(np.int32)
        cv2.fillConvexPoly(img, cv2.convexHull(pts), col)
    else:
        ang = u[7] * math.pi
        dx, dy = int(s * math.cos(ang)), int(s * math.sin(ang))
        thick = max(1, int(s * (0.25 if kind == 4 else 0.08)))
        cv2.line(img, (cx - dx, cy - dy), (cx + dx, cy + dy), col, thick)


_MAKERS = (_tex_noise, _tex_gradient, _tex_tiles, lambda r, h, w: _tex_tiles(r, h, w, True),
           _tex_stripes, _tex_clutter, _tex_room, _tex_room, _tex_clutter)  # fmt: skip


@lru_cache(maxsize=4)
def texture_bank(seed: int = 0, count: int = BANK_COUNT) -> tuple[np.ndarray, ...]:
    """The background bank: ``count`` uint8 RGB textures of ``BANK_SIZE`` (read-only), built
    once per process from ``seed`` (about 0.3 s)."""
    rng = np.random.default_rng([seed, 0xB6])
    w, h = BANK_SIZE
    bank = []
    for i in range(count):
        tex = _MAKERS[i % len(_MAKERS)](rng, h, w)
        tex = np.clip(tex, 0, 255).astype(np.uint8)
        tex.flags.writeable = False
        bank.append(tex)
    return tuple(bank)


def plain_background(size: tuple[int, int], color: tuple[int, int, int]) -> np.ndarray:
    """A ``(H, W, 3)`` uint8 image of one colour; ``size = (width, height)``."""
    img = np.empty((size[1], size[0], 3), np.uint8)
    img[:] = color
    return img


def random_background(
    rng: np.random.Generator, size: tuple[int, int], distractors: tuple[int, int] = (0, 6)
) -> np.ndarray:
    """A cluttered ``(H, W, 3)`` uint8 RGB background of ``size = (width, height)``.

    A random crop of a random bank texture (resized when the image is larger than the bank),
    flipped with probability 1/2, with a random per-channel gain and offset, plus
    ``U(distractors)`` random shapes (a quarter of them skin-coloured limb-like sticks).
    """
    w, h = size
    bank = texture_bank()
    u = rng.random(9).tolist()
    tex = bank[int(u[0] * len(bank))]
    bw, bh = BANK_SIZE
    if w > bw or h > bh:
        k = max(w / bw, h / bh)
        tex = cv2.resize(tex, (int(np.ceil(bw * k)), int(np.ceil(bh * k))))
        bh, bw = tex.shape[:2]
    x0, y0 = int(u[1] * (bw - w + 1)), int(u[2] * (bh - h + 1))
    crop = tex[y0 : y0 + h, x0 : x0 + w]
    k, off = 0.8 + 0.35 * u[7], 40 * u[8] - 20  # per-channel gain (0.7 + 0.5 u) k, offset
    m = np.array([[(0.7 + 0.5 * u[4]) * k, 0.0, 0.0, off], [0.0, (0.7 + 0.5 * u[5]) * k, 0.0, off],
                  [0.0, 0.0, (0.7 + 0.5 * u[6]) * k, off]], np.float32)  # fmt: skip
    if u[3] < 0.5:  # flipped
        img = cv2.flip(crop, 1)
        cv2.transform(img, m, dst=img)
    else:  # the gain writes a new image: no copy of the crop needed
        img = cv2.transform(crop, m)
    n = int(rng.integers(distractors[0], distractors[1] + 1))
    for i, ui in enumerate(rng.random((n, 17)).tolist()):
        _shape(img, ui, scale=min(w, h) / 4, skin=i % 4 == 3)
    return img
