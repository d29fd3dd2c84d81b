"""Pictures of poses: skeletons, heatmaps, part affinity fields and image grids.

Conventions (``docs/conventions.md``):

* images are ``H×W×3 uint8 RGB`` numpy arrays (an ``H×W`` grey image is accepted and drawn
  on as RGB);
* keypoints are float ``(K, 3)`` or ``(N, K, 3)`` arrays of ``(x, y, v)``; ``x`` is the
  column, ``y`` the row, pixel centres at integer coordinates; ``v`` = 0 not labelled (never
  drawn), 1 occluded (hollow joint, dashed limb), 2 visible (filled joint, solid limb);
* heatmaps are ``(K, h, w)`` at output stride ``s``. Overlays resize a heatmap to the image
  with ``cv2.INTER_LINEAR``, which maps heatmap coordinate ``u`` to image coordinate
  ``u * s + (s - 1) / 2`` (heatmap pixel ``j`` covers image pixels ``j*s … j*s + s - 1``);
* PAFs are ``(2L, h, w)``: channel ``2l`` is the x component of limb ``l``, ``2l + 1`` its y.

Drawing with OpenCV (``draw_skeleton``, ``overlay_heatmaps``, ``image_grid``) returns new
arrays and never modifies its inputs. The ``plot_*`` functions draw on a matplotlib ``Axes``
you pass and return the artists. ``plot_heatmaps`` and ``show_grid`` return a ``Figure``
that is already closed in pyplot, so Jupyter shows it exactly once: as the value of the
cell (or through ``display(fig)``), never a second time when the cell ends.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import cv2
import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from matplotlib.quiver import Quiver
from matplotlib.text import Annotation

from posekit.skeletons import Skeleton, get_skeleton

_SHIFT = 4  # OpenCV fixed-point bits: draw at 1/16-pixel precision
_SCALE = 1 << _SHIFT

__all__ = [
    "SkeletonArtists",
    "annotate_joints",
    "draw_skeleton",
    "heatmap_to_rgb",
    "image_grid",
    "overlay_heatmaps",
    "paf_magnitude",
    "plot_heatmaps",
    "plot_pafs",
    "plot_skeleton",
    "show_grid",
]


# ---------------------------------------------------------------------------------------------
# Input validation
# ---------------------------------------------------------------------------------------------


def _to_numpy(x: Any) -> np.ndarray:
    """A numpy view of an array-like (torch tensors are detached and moved to the CPU)."""
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def _check_image(image: Any, arg: str = "image") -> np.ndarray:
    """``image`` as an ``H×W×3 uint8`` array (grey ``H×W`` or ``H×W×1`` become RGB)."""
    img = _to_numpy(image)
    if img.dtype != np.uint8:
        raise ValueError(
            f"{arg}: expected an H×W×3 uint8 RGB array, got dtype {img.dtype}; "
            "convert floats in [0, 1] with (img * 255).round().astype(np.uint8)"
        )
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[:, :, 0]
    if img.ndim == 2:
        img = np.repeat(img[:, :, None], 3, axis=2)
    if img.ndim != 3 or img.shape[2] != 3 or img.shape[0] == 0 or img.shape[1] == 0:
        raise ValueError(f"{arg}: expected an H×W×3 uint8 RGB array, got shape {img.shape}")
    return img


def _check_keypoints(keypoints: Any, skeleton: Skeleton, arg: str = "keypoints") -> np.ndarray:
    """``keypoints`` as a float32 ``(N, K, 3)`` array (a single ``(K, 3)`` person gets N=1)."""
    kp = _to_numpy(keypoints)
    k = skeleton.num_joints
    if kp.ndim not in (2, 3) or kp.shape[-2:] != (k, 3):
        raise ValueError(
            f"{arg}: expected (K, 3) or (N, K, 3) with K={k} for {skeleton.name}, got {kp.shape}"
        )
    kp = kp.astype(np.float32, copy=False)
    return kp[None] if kp.ndim == 2 else kp


def _check_heatmaps(heatmaps: Any, arg: str = "heatmaps") -> np.ndarray:
    """``heatmaps`` as a float32 ``(K, h, w)`` array (a single ``(h, w)`` map gets K=1)."""
    hm = _to_numpy(heatmaps)
    if hm.ndim == 2:
        hm = hm[None]
    if hm.ndim == 4:
        raise ValueError(
            f"{arg}: expected (K, h, w) for one image, got a batch {hm.shape}; pass heatmaps[i]"
        )
    if hm.ndim != 3 or 0 in hm.shape:
        raise ValueError(f"{arg}: expected (K, h, w) or (h, w), got shape {hm.shape}")
    return hm.astype(np.float32, copy=False)


def _check_pafs(pafs: Any, skeleton: Skeleton | None = None, arg: str = "pafs") -> np.ndarray:
    """``pafs`` as a float32 ``(2L, h, w)`` array; with a skeleton, L must be its limb count."""
    paf = _to_numpy(pafs)
    if paf.ndim != 3 or paf.shape[0] % 2 or 0 in paf.shape:
        raise ValueError(f"{arg}: expected (2L, h, w) with x then y per limb, got {paf.shape}")
    if skeleton is not None and paf.shape[0] != 2 * len(skeleton.limbs):
        raise ValueError(
            f"{arg}: expected 2L={2 * len(skeleton.limbs)} channels for the "
            f"{len(skeleton.limbs)} limbs of {skeleton.name}, got {paf.shape}"
        )
    return paf.astype(np.float32, copy=False)


def _check_positive_int(value: Any, arg: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{arg}: expected a positive integer, got {value!r}")
    return int(value)


def _drawable(kp: np.ndarray, min_visibility: float) -> np.ndarray:
    """Mask ``(N, K)`` of joints to draw: labelled, at least ``min_visibility``, finite."""
    v = kp[..., 2]
    finite = np.isfinite(kp[..., 0]) & np.isfinite(kp[..., 1])
    return (v > 0) & (v >= min_visibility) & finite


def _rgb01(color: Sequence[int]) -> tuple[float, float, float]:
    r, g, b = color
    return (r / 255.0, g / 255.0, b / 255.0)


# ---------------------------------------------------------------------------------------------
# Skeletons with OpenCV
# ---------------------------------------------------------------------------------------------


def _fixed(x: float, y: float) -> tuple[int, int]:
    """Fixed-point OpenCV coordinates (``shift=_SHIFT``) of a pixel-centred point."""
    return (round(float(x) * _SCALE), round(float(y) * _SCALE))


def _draw_line(img, p, q, color, thickness: int, dashed: bool, dash: float = 6.0) -> None:
    """An antialiased line from ``p`` to ``q`` (x, y), solid or dashed, drawn in place."""
    p, q = np.asarray(p, np.float64), np.asarray(q, np.float64)
    length = float(np.hypot(*(q - p)))
    if not dashed or length <= 2 * dash:
        cv2.line(img, _fixed(*p), _fixed(*q), color, thickness, cv2.LINE_AA, _SHIFT)
        return
    n = max(1, int(length // dash))
    stops = np.linspace(0.0, 1.0, n + 1)
    for t0, t1 in zip(stops[0::2], stops[1::2], strict=False):
        a, b = p + t0 * (q - p), p + t1 * (q - p)
        cv2.line(img, _fixed(*a), _fixed(*b), color, thickness, cv2.LINE_AA, _SHIFT)


def _draw_joint(img, xy, color, radius: int, visible: bool) -> None:
    """A filled (visible) or hollow (occluded) antialiased dot, drawn in place.

    Rings are one pixel wide: OpenCV's thicker antialiased circles fill in at small radii.
    """
    thickness = -1 if visible else 1
    cv2.circle(img, _fixed(*xy), radius * _SCALE, color, thickness, cv2.LINE_AA, _SHIFT)


def draw_skeleton(
    image: np.ndarray,
    keypoints: np.ndarray,
    skeleton: str | Skeleton,
    *,
    thickness: int = 2,
    radius: int = 3,
    min_visibility: float = 1,
) -> np.ndarray:
    """Draw one or many people on a copy of an image with OpenCV.

    Args:
        image: ``H×W×3 uint8 RGB`` (``H×W`` grey is drawn on as RGB). Never modified.
        keypoints: ``(K, 3)`` or ``(N, K, 3)`` of ``(x, y, v)`` in pixels, pixel centres at
            integer coordinates (sub-pixel positions are drawn at 1/16 pixel).
        skeleton: joint set name (``"coco17"``…) or ``Skeleton``; gives limbs and colours
            (left blue, right orange, centre green).
        thickness: limb width in pixels.
        radius: joint dot radius in pixels.
        min_visibility: joints with ``v`` below this are skipped (``v=0`` always is); pass 2
            to draw visible joints only.
    Returns:
        A new ``H×W×3 uint8`` image: limbs as antialiased lines (dashed when an end is
        occluded), then joints as filled dots (``v=2``) or hollow rings (``v=1``).
    """
    sk = get_skeleton(skeleton)
    out = _check_image(image).copy()
    kp = _check_keypoints(keypoints, sk)
    draw = _drawable(kp, min_visibility)
    joint_colors = sk.joint_colors()
    for person, mask in zip(kp, draw, strict=True):
        for (i, j), color in zip(sk.limbs, sk.limb_colors, strict=True):
            if mask[i] and mask[j]:
                dashed = min(person[i, 2], person[j, 2]) < 2
                _draw_line(out, person[i, :2], person[j, :2], color, thickness, dashed)
        for k in np.flatnonzero(mask):
            _draw_joint(out, person[k, :2], joint_colors[k], radius, person[k, 2] >= 2)
    return out


# ---------------------------------------------------------------------------------------------
# Skeletons with matplotlib
# ---------------------------------------------------------------------------------------------


@dataclass
class SkeletonArtists:
    """What ``plot_skeleton`` added to the axes.

    Attributes:
        limbs: one ``LineCollection``, one segment per drawn limb (dashed when occluded).
        joints: one scatter ``PathCollection``, one point per drawn joint (hollow if occluded).
        labels: one ``Annotation`` per drawn joint when ``labels=True``, else empty.
        image: the ``AxesImage`` when an image was passed, else ``None``.
    """

    limbs: LineCollection
    joints: PathCollection
    labels: list[Annotation] = field(default_factory=list)
    image: AxesImage | None = None


def _limb_segments(kp: np.ndarray, draw: np.ndarray, sk: Skeleton):
    """Segments ``(M, 2, 2)``, RGB colours and linestyles of the limbs with both ends drawn."""
    segments, colors, styles = [], [], []
    for person, mask in zip(kp, draw, strict=True):
        for (i, j), color in zip(sk.limbs, sk.limb_colors, strict=True):
            if mask[i] and mask[j]:
                segments.append(person[[i, j], :2])
                colors.append(_rgb01(color))
                styles.append("solid" if min(person[i, 2], person[j, 2]) >= 2 else "dashed")
    return np.asarray(segments, np.float32).reshape(-1, 2, 2), colors, styles


def _show_image_axes(ax: Axes, image: np.ndarray | None) -> AxesImage | None:
    """Show ``image`` in pixel coordinates (pixel centres at integers), axes off."""
    if image is None:
        return None
    artist = ax.imshow(_check_image(image), interpolation="nearest")
    ax.set_axis_off()
    return artist


def _use_image_orientation(ax: Axes) -> None:
    """Equal aspect with y growing downwards, as in an image."""
    ax.set_aspect("equal")
    if not ax.yaxis_inverted():
        ax.invert_yaxis()


def annotate_joints(
    ax: Axes,
    keypoints: np.ndarray,
    skeleton: str | Skeleton,
    *,
    min_visibility: float = 1,
    fontsize: float = 6,
    names: str = "canonical",
) -> list[Annotation]:
    """Write each drawn joint's name next to it.

    Args:
        ax: matplotlib axes in image coordinates.
        keypoints: ``(K, 3)`` or ``(N, K, 3)`` of ``(x, y, v)``.
        skeleton: joint set name or ``Skeleton``.
        min_visibility: joints with ``v`` below this (and ``v=0``) get no label.
        fontsize: text size in points.
        names: ``"canonical"`` (``left_wrist``), ``"dataset"`` (the set's own label, e.g.
            ``lwri``) or ``"index"`` (``9``).
    Returns:
        One ``Annotation`` per labelled joint.
    """
    sk = get_skeleton(skeleton)
    kp = _check_keypoints(keypoints, sk)
    texts = {"canonical": sk.joints, "dataset": sk.labels, "index": range(sk.num_joints)}
    if names not in texts:
        raise ValueError(f"names: expected one of {sorted(texts)}, got {names!r}")
    text = [str(t) for t in texts[names]]
    out = []
    for person, mask in zip(kp, _drawable(kp, min_visibility), strict=True):
        for k in np.flatnonzero(mask):
            xy = (float(person[k, 0]), float(person[k, 1]))
            out.append(
                ax.annotate(
                    text[k],
                    xy,
                    xytext=(3, 2),
                    textcoords="offset points",
                    fontsize=fontsize,
                    color="black",
                    bbox=dict(boxstyle="round,pad=0.1", fc="white", ec="none", alpha=0.6),
                )
            )
    return out


def plot_skeleton(
    ax: Axes,
    keypoints: np.ndarray,
    skeleton: str | Skeleton,
    *,
    image: np.ndarray | None = None,
    labels: bool = False,
    linewidth: float = 2.0,
    markersize: float = 16.0,
    min_visibility: float = 1,
) -> SkeletonArtists:
    """Draw one or many people on matplotlib axes.

    Args:
        ax: the axes to draw on (image coordinates: x to the right, y down).
        keypoints: ``(K, 3)`` or ``(N, K, 3)`` of ``(x, y, v)``, pixel centres at integers.
        skeleton: joint set name or ``Skeleton`` (limbs, colours, joint names).
        image: optional ``H×W×3 uint8`` shown underneath (``imshow``, axes turned off).
        labels: write the canonical joint names next to the joints.
        linewidth: limb width in points.
        markersize: joint marker area in points² (``scatter``'s ``s``).
        min_visibility: joints with ``v`` below this (and ``v=0``) are not drawn.
    Returns:
        ``SkeletonArtists``: one ``LineCollection`` with a segment per limb whose two ends
        are drawn (solid, or dashed if an end is occluded), one scatter with a point per
        drawn joint (filled if ``v=2``, hollow if ``v=1``), the labels and the image.
    """
    sk = get_skeleton(skeleton)
    kp = _check_keypoints(keypoints, sk)
    draw = _drawable(kp, min_visibility)
    image_artist = _show_image_axes(ax, image)

    segments, colors, styles = _limb_segments(kp, draw, sk)
    limbs = LineCollection(segments, colors=colors, linestyles=styles, linewidths=linewidth)
    ax.add_collection(limbs)

    joint_rgb = np.array([_rgb01(c) for c in sk.joint_colors()], np.float32).reshape(-1, 3)
    n_idx, k_idx = np.nonzero(draw)
    points = kp[n_idx, k_idx, :2]
    edge = np.concatenate([joint_rgb[k_idx], np.ones((len(k_idx), 1), np.float32)], axis=1)
    face = edge.copy()
    face[:, 3] = (kp[n_idx, k_idx, 2] >= 2).astype(np.float32)  # hollow when occluded
    joints = ax.scatter(
        points[:, 0],
        points[:, 1],
        s=markersize,
        c=face,
        edgecolors=edge,
        linewidths=1.2,
        zorder=3,
    )

    texts = annotate_joints(ax, kp, sk, min_visibility=min_visibility) if labels else []
    if not ax.images:  # no picture fixes the limits: fit them to the skeleton
        ax.autoscale_view()
    _use_image_orientation(ax)
    return SkeletonArtists(limbs=limbs, joints=joints, labels=texts, image=image_artist)


# ---------------------------------------------------------------------------------------------
# Heatmaps
# ---------------------------------------------------------------------------------------------


def heatmap_to_rgb(
    heatmap: np.ndarray,
    cmap: str = "jet",
    *,
    vmin: float | None = None,
    vmax: float | None = None,
) -> np.ndarray:
    """Colour a single heatmap.

    Args:
        heatmap: ``(h, w)`` float array.
        cmap: matplotlib colormap name.
        vmin, vmax: value range mapped onto the colormap (default: the map's min and max;
            a constant map becomes the colormap's lowest colour).
    Returns:
        ``(h, w, 3) uint8`` RGB.
    """
    hm = _to_numpy(heatmap).astype(np.float32, copy=False)
    if hm.ndim != 2 or 0 in hm.shape:
        raise ValueError(f"heatmap: expected (h, w), got shape {hm.shape}")
    if cmap not in matplotlib.colormaps:
        raise ValueError(f"cmap: unknown matplotlib colormap {cmap!r}")
    lo = float(np.nanmin(hm)) if vmin is None else float(vmin)
    hi = float(np.nanmax(hm)) if vmax is None else float(vmax)
    scaled = (hm - lo) / (hi - lo) if hi > lo else np.zeros_like(hm)
    rgba = matplotlib.colormaps[cmap](np.nan_to_num(np.clip(scaled, 0.0, 1.0)))
    return (rgba[..., :3] * 255).round().astype(np.uint8)


def _resize(array: np.ndarray, height: int, width: int) -> np.ndarray:
    """Bilinear resize of a 2D array to ``height × width`` (``cv2.INTER_LINEAR``)."""
    return cv2.resize(array, (width, height), interpolation=cv2.INTER_LINEAR)


def overlay_heatmaps(
    image: np.ndarray,
    heatmaps: np.ndarray,
    alpha: float = 0.5,
    *,
    cmap: str = "jet",
) -> np.ndarray:
    """Blend the joints' heatmaps (their maximum) over an image.

    Args:
        image: ``H×W×3 uint8 RGB``. Never modified.
        heatmaps: ``(K, h, w)`` or ``(h, w)`` float, any output stride; the max over joints
            is resized to ``H×W`` with ``cv2.INTER_LINEAR`` (heatmap coordinate ``u`` lands on
            image coordinate ``u * s + (s - 1) / 2`` for stride ``s = H / h``) and coloured
            with ``cmap`` over its own min..max.
        alpha: weight of the colour map, 0 (image only) to 1 (heatmap only).
    Returns:
        ``H×W×3 uint8``: ``(1 - alpha) * image + alpha * colours``.
    """
    img = _check_image(image)
    hm = _check_heatmaps(heatmaps)
    if not 0.0 <= float(alpha) <= 1.0:
        raise ValueError(f"alpha: expected a weight in [0, 1], got {alpha}")
    combined = _resize(hm.max(axis=0), img.shape[0], img.shape[1])
    colors = heatmap_to_rgb(combined, cmap)
    blend = (1.0 - alpha) * img.astype(np.float32) + alpha * colors.astype(np.float32)
    return np.clip(blend.round(), 0, 255).astype(np.uint8)


def _grid_shape(n: int, ncols: int) -> tuple[int, int]:
    cols = max(1, min(ncols, n))
    return -(-n // cols), cols


def _new_figure(nrows: int, ncols: int, panel_w: float, panel_h: float):
    """A pyplot figure with a grid of axes (all off), closed so Jupyter shows it once."""
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(panel_w * ncols, panel_h * nrows),
        squeeze=False,
        layout="constrained",
    )
    for ax in axes.flat:
        ax.set_axis_off()
    plt.close(fig)
    return fig, axes.ravel()


def plot_heatmaps(
    image: np.ndarray | None,
    heatmaps: np.ndarray,
    skeleton: str | Skeleton | None = None,
    ncols: int = 6,
    *,
    alpha: float = 0.5,
    cmap: str = "jet",
    panel_size: float = 1.4,
) -> Figure:
    """A grid of panels, one per joint: its heatmap over the image, titled with its name.

    Args:
        image: ``H×W×3 uint8`` under each heatmap, or ``None`` to show the heatmaps alone.
        heatmaps: ``(K, h, w)``; resized to the image as in ``overlay_heatmaps``.
        skeleton: joint set giving the panel titles (``K`` must match); ``None`` titles
            panels ``joint 0``, ``joint 1``…
        ncols: panels per row.
        alpha, cmap: as in ``overlay_heatmaps``.
        panel_size: width of one panel in inches (figures stay small).
    Returns:
        The ``Figure`` (closed in pyplot: display it, or end the cell with it).
    """
    hm = _check_heatmaps(heatmaps)
    ncols = _check_positive_int(ncols, "ncols")
    if skeleton is not None:
        sk = get_skeleton(skeleton)
        if hm.shape[0] != sk.num_joints:
            raise ValueError(
                f"heatmaps: expected K={sk.num_joints} maps for {sk.name}, got {hm.shape}"
            )
        names = list(sk.joints)
    else:
        names = [f"joint {k}" for k in range(hm.shape[0])]
    img = None if image is None else _check_image(image)
    h, w = (img.shape[:2]) if img is not None else hm.shape[1:]
    nrows, cols = _grid_shape(hm.shape[0], ncols)
    fig, axes = _new_figure(nrows, cols, panel_size, panel_size * h / w + 0.2)
    for ax, name, single in zip(axes, names, hm, strict=False):
        if img is None:
            ax.imshow(single, cmap=cmap, interpolation="nearest")
        else:
            ax.imshow(overlay_heatmaps(img, single, alpha, cmap=cmap))
        ax.set_title(name, fontsize=7)
    return fig


# ---------------------------------------------------------------------------------------------
# Part affinity fields
# ---------------------------------------------------------------------------------------------


def paf_magnitude(pafs: np.ndarray) -> np.ndarray:
    """Length of each limb's PAF vector.

    Args:
        pafs: ``(2L, h, w)`` with x then y per limb.
    Returns:
        ``(L, h, w)`` float32, ``sqrt(x² + y²)`` per limb and heatmap pixel.
    """
    paf = _check_pafs(pafs)
    return np.hypot(paf[0::2], paf[1::2])


def _limb_indices(limb: int | Sequence[int] | None, num_limbs: int) -> list[int]:
    if limb is None:
        return list(range(num_limbs))
    ids = [limb] if isinstance(limb, (int, np.integer)) else list(limb)
    for i in ids:
        if isinstance(i, bool) or not isinstance(i, (int, np.integer)) or not 0 <= i < num_limbs:
            raise ValueError(f"limb: expected an index in 0..{num_limbs - 1} or None, got {limb!r}")
    return [int(i) for i in ids]


def plot_pafs(
    ax: Axes,
    pafs: np.ndarray,
    skeleton: str | Skeleton,
    limb: int | Sequence[int] | None = None,
    stride: int = 8,
    step: int = 1,
    image: np.ndarray | None = None,
    *,
    min_magnitude: float = 0.1,
) -> list[Quiver]:
    """Arrows of part affinity field vectors, in image coordinates.

    Args:
        ax: axes to draw on.
        pafs: ``(2L, h, w)``, x then y per limb, ``L = len(skeleton.limbs)``.
        skeleton: joint set whose limbs the channels follow (e.g. ``"openpose18"``).
        limb: index into ``skeleton.limbs``, a list of indices, or ``None`` for all limbs.
        stride: output stride; heatmap pixel ``(i, j)`` sits at image point
            ``(j * stride + (stride - 1) / 2, i * stride + (stride - 1) / 2)``.
        step: draw every ``step``-th heatmap pixel in each direction.
        image: optional ``H×W×3 uint8`` underneath (normally ``h*stride × w*stride``).
        min_magnitude: vectors shorter than this are not drawn.
    Returns:
        One ``Quiver`` per limb drawn (limb colour; a unit vector is ``0.8 * stride * step``
        pixels long). ``len(q.U)`` is the number of arrows.
    """
    sk = get_skeleton(skeleton)
    paf = _check_pafs(pafs, sk)
    stride = _check_positive_int(stride, "stride")
    step = _check_positive_int(step, "step")
    ids = _limb_indices(limb, len(sk.limbs))
    _, h, w = paf.shape
    _show_image_axes(ax, image)
    rows, cols = np.mgrid[0:h:step, 0:w:step]
    xs, ys = cols * stride + (stride - 1) / 2, rows * stride + (stride - 1) / 2
    quivers = []
    for l_idx in ids:
        u, v = paf[2 * l_idx, ::step, ::step], paf[2 * l_idx + 1, ::step, ::step]
        keep = np.hypot(u, v) >= min_magnitude
        quivers.append(
            ax.quiver(
                xs[keep],
                ys[keep],
                u[keep],
                v[keep],
                color=_rgb01(sk.limb_colors[l_idx]),
                angles="xy",
                scale_units="xy",
                scale=1.0 / (0.8 * stride * step),
                width=0.005,
            )
        )
    if image is None:
        ax.set_xlim(-0.5, w * stride - 0.5)
        ax.set_ylim(h * stride - 0.5, -0.5)
    _use_image_orientation(ax)
    return quivers


# ---------------------------------------------------------------------------------------------
# Grids
# ---------------------------------------------------------------------------------------------


def _check_image_list(images: Any, arg: str = "images") -> list[np.ndarray]:
    """A non-empty list of ``H×W`` or ``H×W×C`` arrays from a list or an ``(N, H, W[, C])``
    array."""
    if isinstance(images, np.ndarray) or hasattr(images, "detach"):
        arr = _to_numpy(images)
        if arr.ndim not in (3, 4):
            raise ValueError(f"{arg}: expected (N, H, W, 3), (N, H, W) or a list, got {arr.shape}")
        items = list(arr)
    else:
        items = [_to_numpy(im) for im in images]
    if not items:
        raise ValueError(f"{arg}: expected at least one image, got none")
    for n, im in enumerate(items):
        if im.ndim not in (2, 3) or (im.ndim == 3 and im.shape[2] not in (1, 3)):
            raise ValueError(f"{arg}[{n}]: expected H×W or H×W×3, got shape {im.shape}")
    return items


def _as_rgb(im: np.ndarray) -> np.ndarray:
    """An ``H×W×3`` view of an ``H×W``, ``H×W×1`` or ``H×W×3`` image."""
    if im.ndim == 3 and im.shape[2] == 3:
        return im
    return np.repeat(im.reshape(im.shape[0], im.shape[1], 1), 3, axis=2)


def image_grid(
    images: Sequence[np.ndarray] | np.ndarray,
    ncols: int,
    pad: int = 2,
    pad_value: float = 255,
) -> np.ndarray:
    """Tile images into one mosaic array (row-major).

    Args:
        images: a list of ``H×W×3`` (or ``H×W`` grey) arrays, or an ``(N, H, W[, 3])`` array.
            Sizes may differ: each cell is ``max H × max W`` and smaller images sit at its
            top-left, the rest filled with ``pad_value``.
        ncols: images per row (at most ``N`` columns are used).
        pad: pixels of ``pad_value`` between cells and around the border.
        pad_value: fill value of the padding.
    Returns:
        ``(rows * (Hc + pad) + pad, cols * (Wc + pad) + pad, 3)`` array, with
        ``rows = ceil(N / cols)``, ``cols = min(ncols, N)``, in the images' common dtype.
    """
    items = [_as_rgb(im) for im in _check_image_list(images)]
    ncols = _check_positive_int(ncols, "ncols")
    if isinstance(pad, bool) or not isinstance(pad, (int, np.integer)) or pad < 0:
        raise ValueError(f"pad: expected a non-negative integer, got {pad!r}")
    nrows, cols = _grid_shape(len(items), ncols)
    hc = max(im.shape[0] for im in items)
    wc = max(im.shape[1] for im in items)
    dtype = np.result_type(*[im.dtype for im in items])
    grid = np.full((nrows * (hc + pad) + pad, cols * (wc + pad) + pad, 3), pad_value, dtype)
    for n, im in enumerate(items):
        top = pad + (n // cols) * (hc + pad)
        left = pad + (n % cols) * (wc + pad)
        grid[top : top + im.shape[0], left : left + im.shape[1]] = im
    return grid


def _per_image_keypoints(keypoints: Any, count: int) -> list[Any]:
    """Split ``keypoints`` (a list, or an array with one leading entry per image) per image."""
    items = list(_to_numpy(keypoints)) if hasattr(keypoints, "shape") else list(keypoints)
    if len(items) != count:
        raise ValueError(f"keypoints: expected one entry per image ({count}), got {len(items)}")
    return items


def show_grid(
    images: Sequence[np.ndarray] | np.ndarray,
    titles: Sequence[str] | None = None,
    ncols: int = 4,
    keypoints: Sequence[np.ndarray] | np.ndarray | None = None,
    skeleton: str | Skeleton | None = None,
    *,
    panel_size: float = 2.0,
) -> Figure:
    """A figure with one panel per image, optionally titled and with skeletons drawn.

    Args:
        images: list of ``H×W×3 uint8`` (or an ``(N, H, W, 3)`` array).
        titles: one string per image, or ``None``.
        ncols: panels per row.
        keypoints: one ``(K, 3)`` or ``(P, K, 3)`` array per image (a list, or an array of
            shape ``(N, K, 3)`` / ``(N, P, K, 3)``), drawn with ``plot_skeleton``.
        skeleton: joint set of the keypoints (required with ``keypoints``).
        panel_size: panel width in inches.
    Returns:
        The ``Figure`` (closed in pyplot: display it, or end the cell with it).
    """
    items = _check_image_list(images)
    ncols = _check_positive_int(ncols, "ncols")
    if titles is not None and len(titles) != len(items):
        raise ValueError(f"titles: expected {len(items)} titles, got {len(titles)}")
    if keypoints is not None and skeleton is None:
        raise ValueError("skeleton: required when keypoints are given (e.g. 'coco17')")
    kps = None if keypoints is None else _per_image_keypoints(keypoints, len(items))
    nrows, cols = _grid_shape(len(items), ncols)
    h = max(im.shape[0] for im in items)
    w = max(im.shape[1] for im in items)
    fig, axes = _new_figure(nrows, cols, panel_size, panel_size * h / w + 0.25)
    for n, (ax, im) in enumerate(zip(axes, items, strict=False)):
        ax.imshow(_as_rgb(im), interpolation="nearest")
        if kps is not None:
            plot_skeleton(ax, kps[n], skeleton, markersize=8, linewidth=1.5)
            ax.set_xlim(-0.5, im.shape[1] - 0.5)  # joints outside the image stay out of view
            ax.set_ylim(im.shape[0] - 0.5, -0.5)
        if titles is not None:
            ax.set_title(str(titles[n]), fontsize=8)
        ax.set_axis_off()
    return fig
