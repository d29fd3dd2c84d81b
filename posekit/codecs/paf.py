"""Part Affinity Field codec: OpenPose's training targets, loss and decoder (lesson 04).

Cao et al., CVPR 2017, "Realtime Multi-Person 2D Pose Estimation using Part Affinity Fields"
(CMU OpenPose), and its CPU variant Osokin, 2018, "Real-time 2D Multi-Person Pose Estimation
on CPU: Lightweight OpenPose". A bottom-up network predicts, for the whole image at output
stride ``s`` (8):

* **keypoint heatmaps** ``(B, K + 1, h, w)``: one confidence map per joint type for *all*
  people (per-person Gaussians merged by their maximum, paper eq. 7), plus a background
  channel ``1 - max`` over the parts (CMU's 19th channel);
* **part affinity fields** ``(B, 2L, h, w)``: per limb ``l`` a 2-D field, channels
  ``(2l, 2l + 1) = (x, y)``, equal to the limb's unit vector on the pixels of the limb and 0
  elsewhere; where limbs of several people overlap, the vectors are **averaged** (paper
  eq. 8–9: the sum divided by the count of non-zero vectors at that pixel).

Conventions (``docs/conventions.md``): keypoints ``(N, K, 3)`` = ``(x, y, v)`` in input pixels,
pixel centres at integers; map pixel ``j`` is centred at input ``x = j·s + (s - 1)/2``
(``heatmap.image_to_heatmap``). The limb geometry below is computed in map pixels: a map pixel
``p`` (its centre) belongs to limb ``a → b`` when, with ``u = (b - a)/|b - a|``,
``0 ≤ u·(p - a) ≤ |b - a|`` (projection within the segment) and ``|u⊥·(p - a)| ≤ limb_width``
(perpendicular distance; ``limb_width`` is the half-width σ_l of Cao et al. 2017). CMU's and
Lightweight OpenPose's training code also accept pixels up to about ``limb_width`` beyond the
ends (they test only the perpendicular distance inside the segment's box grown by the width);
``end_margin`` reproduces that when wanted.

Lightweight OpenPose differs on two points (Osokin 2018; ``docs/references.md``): overlapping PAFs
*overwrite* instead of averaging, and its limb thickness is 1 map pixel (our default width).

``PAFCodec`` bundles targets, the masked L2 loss over all stages and the grouping decoder
(``posekit.codecs.grouping``) for ``posekit.engine``; ``posekit.evaluation.evaluate_oks_ap``
scores a bottom-up model with COCO keypoint AP (pycocotools through ``posekit.metrics``).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import torch

from posekit.codecs.heatmap import gaussian_heatmaps, image_to_heatmap
from posekit.codecs.instances import Instances
from posekit.skeletons import OPENPOSE18, convert
from posekit.validate import size2, stride2

__all__ = [
    "PAFCodec",
    "keypoint_heatmaps",
    "limb_support",
    "loss_masks",
    "paf_loss",
    "paf_targets",
]


# --------------------------------------------------------------------------- inputs


def _one_image(kp, arg: str, num_joints: int | None = None) -> np.ndarray:
    """One image's people as float64 ``(N, K, 3)`` (numpy or torch in)."""
    if isinstance(kp, torch.Tensor):
        kp = kp.detach().cpu().numpy()
    a = np.asarray(kp, dtype=np.float64)
    if a.ndim == 2 and a.shape[0] == 0:  # an image with nobody in it
        a = a.reshape(0, num_joints or 0, 3)
    if a.ndim != 3 or a.shape[-1] != 3:
        raise ValueError(f"{arg}: expected (N, K, 3) (x, y, v) per image, got {a.shape}")
    if num_joints is not None and a.shape[1] != num_joints and a.shape[0] > 0:
        raise ValueError(f"{arg}: expected {num_joints} joints per person, got {a.shape[1]}")
    lab = a[..., 2] > 0
    if not np.isfinite(a[..., :2][lab]).all():
        raise ValueError(f"{arg}: labelled joints (v > 0) contain NaN or inf")
    return a


def _batch(keypoints, arg: str, num_joints: int | None = None) -> tuple[list[np.ndarray], bool]:
    """``(N, K, 3)`` or a list of them → list of float64 arrays, and whether it was a list."""
    if isinstance(keypoints, (list, tuple)):
        return [_one_image(k, f"{arg}[{i}]", num_joints) for i, k in enumerate(keypoints)], True
    return [_one_image(keypoints, arg, num_joints)], False


def _limb_array(limbs, num_joints: int) -> np.ndarray:
    lm = np.asarray(limbs, dtype=np.int64)
    if lm.ndim != 2 or lm.shape[1] != 2 or lm.shape[0] == 0:
        raise ValueError(f"limbs: expected (L, 2) joint index pairs, got shape {lm.shape}")
    if lm.min() < 0 or lm.max() >= num_joints:
        raise ValueError(f"limbs: joint indices must lie in 0..{num_joints - 1}, got {lm.tolist()}")
    return lm


# --------------------------------------------------------------------------- targets


def limb_support(keypoints, heatmap_size, stride, limbs, limb_width=1.0, end_margin=0.0):
    """Which map pixels each person's limbs cover (the support of ``paf_targets``).

    Args: as ``paf_targets``, for one image ``(N, K, 3)``.
    Returns:
        ``(on, unit)``: bool ``(N, L, h, w)`` (limb ``l`` of person ``n`` covers the pixel;
        all False when an end is unlabelled or the limb has length 0) and float64
        ``(N, L, 2)`` unit vectors ``(b - a)/|b - a|`` in map pixels.
    """
    w, h = size2(heatmap_size, "heatmap_size")
    kp = _one_image(keypoints, "keypoints")
    lm = _limb_array(limbs, kp.shape[1])
    uv = image_to_heatmap(kp[..., :2], stride)  # (N, K, 2) map pixels
    a, b = uv[:, lm[:, 0]], uv[:, lm[:, 1]]  # (N, L, 2)
    d = b - a
    length = np.hypot(d[..., 0], d[..., 1])
    ok = (kp[:, lm[:, 0], 2] > 0) & (kp[:, lm[:, 1], 2] > 0) & (length > 1e-9)
    unit = d / np.where(ok, length, 1.0)[..., None]
    px = np.arange(w, dtype=np.float64)[None, None, None, :] - a[..., 0, None, None]
    py = np.arange(h, dtype=np.float64)[None, None, :, None] - a[..., 1, None, None]
    ux, uy = unit[..., 0, None, None], unit[..., 1, None, None]
    along = px * ux + py * uy  # (N, L, h, w) projection on the limb
    across = np.abs(px * uy - py * ux)  # perpendicular distance
    on = (along >= -end_margin) & (along <= length[..., None, None] + end_margin)
    on &= (across <= limb_width) & ok[..., None, None]
    return on, unit


def _paf_one(kp, w, h, stride, lm, width, margin) -> np.ndarray:
    """``(2L, h, w)`` averaged PAF of one image's people ``kp`` ``(N, K, 3)``."""
    n_limbs = lm.shape[0]
    out = np.zeros((n_limbs, 2, h, w), np.float32)
    if kp.shape[0] == 0:
        return out.reshape(2 * n_limbs, h, w)
    on, unit = limb_support(kp, (w, h), stride, lm, width, margin)
    count = on.sum(axis=0)  # (L, h, w) people on each pixel
    out[:, 0] = (on * unit[..., 0, None, None]).sum(axis=0)
    out[:, 1] = (on * unit[..., 1, None, None]).sum(axis=0)
    out /= np.maximum(count, 1)[:, None]
    return out.reshape(2 * n_limbs, h, w)


def paf_targets(
    keypoints,
    heatmap_size,
    stride=8,
    limbs: Sequence = OPENPOSE18.limbs,
    limb_width: float = 1.0,
    end_margin: float = 0.0,
):
    """Part affinity fields (Cao et al. 2017, eq. 8–9): ``(2L, h, w)`` or ``(B, 2L, h, w)``.

    For each limb ``l = (a, b)`` of ``limbs`` and each person with both ends labelled
    (``v > 0``), the unit vector ``u = (b - a)/|b - a|`` is written on every map pixel within
    ``limb_width`` map pixels of the segment (perpendicular distance ``≤ limb_width`` and
    projection in ``[-end_margin, |b - a| + end_margin]``; ``end_margin = 0`` is the paper's
    rectangle). Where several people's limb ``l`` cover a pixel, the field is their vectors'
    sum divided by their count (the paper's average; Lightweight OpenPose overwrites).
    Channel ``2l`` holds x, ``2l + 1`` holds y. A limb of zero length writes nothing.

    Vectorised over people, limbs and pixels at once (arrays ``(N, L, h, w)``).

    Args:
        keypoints: one image ``(N, K, 3)`` ``(x, y, v)`` in input pixels, or a list of B such
            arrays (numpy or torch; N may differ between images and may be 0).
        heatmap_size: ``(w, h)`` of the maps.
        stride: input pixels per map pixel, a number or ``(sx, sy)``.
        limbs: ``(L, 2)`` joint index pairs, default ``OPENPOSE18.limbs`` (CMU's limbSeq).
        limb_width: σ_l, the limb's half-width in map pixels (Lightweight OpenPose: 1).
        end_margin: map pixels the rectangle extends beyond both ends (0: the paper).
    Returns:
        float32 numpy ``(2L, h, w)`` for one image, ``(B, 2L, h, w)`` for a list.
    """
    w, h = size2(heatmap_size, "heatmap_size")
    stride = stride2(stride)
    if not (np.isfinite(limb_width) and limb_width > 0):
        raise ValueError(
            f"limb_width: expected a positive number of map pixels, got {limb_width!r}"
        )
    if not (np.isfinite(end_margin) and end_margin >= 0):
        raise ValueError(f"end_margin: expected a number >= 0, got {end_margin!r}")
    images, batched = _batch(keypoints, "keypoints")
    k = next((im.shape[1] for im in images if im.shape[0] > 0), None)
    lm = _limb_array(limbs, k if k is not None else int(np.max(limbs)) + 1)
    maps = np.stack(
        [_paf_one(im, w, h, stride, lm, float(limb_width), float(end_margin)) for im in images]
    )
    return maps if batched else maps[0]


def keypoint_heatmaps(
    keypoints,
    heatmap_size,
    stride=8,
    sigma: float = 0.875,
    background: bool = True,
):
    """OpenPose confidence maps (Cao et al. eq. 6–7): per-person Gaussians merged by **max**.

    ``S_k(p) = max_n exp(-|p - x_{n,k}|² / σ_h²)``-style peaks of value 1 at every labelled
    (``v > 0``) joint, drawn with ``heatmap.gaussian_heatmaps`` (``exp(-d²/(2σ_h²))``, sub-pixel
    centre, cut at 3σ_h ≈ CMU's cut at value 0.01). The maximum, not the sum, keeps two close
    peaks distinct (a sum would merge them into one bump). With ``background`` a last channel
    ``1 - max_k S_k`` is appended (CMU's channel 19).

    Args:
        keypoints: one image ``(N, K, 3)`` in input pixels, or a list of B such arrays.
        heatmap_size: ``(w, h)``.
        stride: input pixels per map pixel (number or ``(sx, sy)``).
        sigma: σ_h, the Gaussian's std in **map** pixels; OpenPose uses 7 input pixels =
            0.875 at stride 8.
        background: append the background channel.
    Returns:
        float32 numpy ``(K(+1), h, w)`` for one image, ``(B, K(+1), h, w)`` for a list.
    """
    w, h = size2(heatmap_size, "heatmap_size")
    stride = stride2(stride)
    if not (np.isfinite(sigma) and sigma > 0):
        raise ValueError(f"sigma: expected a positive number of map pixels, got {sigma!r}")
    images, batched = _batch(keypoints, "keypoints")
    ks = {im.shape[1] for im in images if im.shape[0] > 0}
    if len(ks) > 1:
        raise ValueError(f"keypoints: images have different joint counts {sorted(ks)}")
    k = ks.pop() if ks else None
    if k is None:
        raise ValueError("keypoints: cannot infer K from images without people; pass (0, K, 3)")
    out = np.zeros((len(images), k + int(background), h, w), np.float32)
    for i, im in enumerate(images):
        if im.shape[0]:
            maps, _ = gaussian_heatmaps(im, (w, h), stride, sigma)  # (N, K, h, w)
            out[i, :k] = maps.max(axis=0)
    if background:
        out[:, k] = 1.0 - out[:, :k].max(axis=1)
    return out if batched else out[0]


def keypoint_boxes(kp: np.ndarray) -> np.ndarray:
    """``(M, 4)`` ``[x, y, w, h]`` of each person's labelled joints (people without any: NaN)."""
    lab = kp[..., 2] > 0
    x = np.where(lab, kp[..., 0], np.nan)
    y = np.where(lab, kp[..., 1], np.nan)
    with warnings.catch_warnings():  # all-NaN rows (nobody labelled) give NaN boxes
        warnings.simplefilter("ignore", RuntimeWarning)
        x0, x1 = np.nanmin(x, axis=1), np.nanmax(x, axis=1)
        y0, y1 = np.nanmin(y, axis=1), np.nanmax(y, axis=1)
    return np.stack([x0, y0, x1 - x0, y1 - y0], axis=1)


def _ignore_boxes(item, arg: str, pad: float) -> np.ndarray:
    """One image's ignore regions as ``(M, 4)`` boxes in input pixels."""
    if item is None:
        return np.zeros((0, 4))
    if isinstance(item, torch.Tensor):
        item = item.detach().cpu().numpy()
    a = np.asarray(item, dtype=np.float64)
    if a.size == 0:
        return np.zeros((0, 4))
    if a.ndim == 2 and a.shape[1] == 4:
        boxes = a
    elif a.ndim == 3 and a.shape[2] == 3:
        boxes = keypoint_boxes(a)
        boxes = boxes[np.isfinite(boxes).all(axis=1)]
        grow = pad * np.maximum(boxes[:, 2], boxes[:, 3])
        boxes = boxes + np.stack([-grow, -grow, 2 * grow, 2 * grow], axis=1)
    else:
        raise ValueError(
            f"{arg}: expected (M, 4) boxes [x, y, w, h] or (M, K, 3) keypoints, got {a.shape}"
        )
    if not np.isfinite(boxes).all() or (boxes[:, 2:] < 0).any():
        raise ValueError(f"{arg}: boxes must be finite with w, h >= 0")
    return boxes


def loss_masks(heatmap_size, stride=8, ignore=None, num_images: int | None = None, pad=0.15):
    """Loss masks ``(B, 1, h, w)``: 0 on map pixels touching an ignored person, 1 elsewhere.

    COCO masks the loss on crowds and on people without (enough) keypoint labels, so that
    the network is neither rewarded nor punished for detecting them (CMU's ``mask_miss``,
    Lightweight OpenPose's ``mask``). Here a person to ignore is given by a box, or by its
    keypoints (the box of its labelled joints grown by ``pad`` × its larger side on every
    side, since joints do not reach the head top or the body's outline). A map pixel ``j``
    covers input ``[j·s - 0.5, (j + 1)·s - 0.5)`` per axis; it is masked when that area
    overlaps a box.

    Args:
        heatmap_size: ``(w, h)``.
        stride: input pixels per map pixel.
        ignore: None, or a list of B per-image entries, each None, ``(M, 4)`` boxes
            ``[x, y, w, h]`` or ``(M, K, 3)`` keypoints (input pixels).
        num_images: B when ``ignore`` is None (default 1).
        pad: growth of keypoint boxes, as a fraction of their larger side.
    Returns:
        float32 numpy ``(B, 1, h, w)``.
    """
    w, h = size2(heatmap_size, "heatmap_size")
    sx, sy = stride2(stride)
    if ignore is None:
        ignore = [None] * (1 if num_images is None else int(num_images))
    if not isinstance(ignore, (list, tuple)):
        raise ValueError("ignore: expected a list (one entry per image) of boxes or keypoints")
    if num_images is not None and len(ignore) != num_images:
        raise ValueError(f"ignore: {len(ignore)} entries for num_images={num_images}")
    out = np.ones((len(ignore), 1, h, w), np.float32)
    lo_x, lo_y = np.arange(w) * sx - 0.5, np.arange(h) * sy - 0.5  # pixel area starts
    for i, item in enumerate(ignore):
        for x, y, bw, bh in _ignore_boxes(item, f"ignore[{i}]", pad):
            cols = (lo_x + sx > x) & (lo_x < x + bw)
            rows = (lo_y + sy > y) & (lo_y < y + bh)
            out[i, 0][np.ix_(rows, cols)] = 0.0
    return out


# --------------------------------------------------------------------------- loss


def _stages(outputs) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Model outputs → list of ``(heatmaps, pafs)`` per stage (a single pair is one stage)."""
    if (
        isinstance(outputs, (list, tuple))
        and len(outputs) == 2
        and all(isinstance(o, torch.Tensor) for o in outputs)
    ):
        outputs = [outputs]
    if not isinstance(outputs, (list, tuple)) or not outputs:
        raise ValueError(
            "outputs: expected a non-empty list of (heatmaps, pafs) tuples, one per stage"
        )
    stages = []
    for i, st in enumerate(outputs):
        if not (isinstance(st, (list, tuple)) and len(st) == 2):
            raise ValueError(f"outputs[{i}]: expected a (heatmaps, pafs) pair")
        stages.append((st[0], st[1]))
    return stages


def paf_loss(outputs, heatmaps, pafs, mask=None, heatmap_weight: float = 1.0) -> torch.Tensor:
    """Masked L2 loss summed over every stage (intermediate supervision, Cao et al. eq. 5).

    As Lightweight OpenPose's ``train.py``: per stage ``Σ mask·(Ŝ - S)² / 2 / B`` for the
    heatmaps plus the same for the PAFs, summed over stages (CMU: the same L2 with the mask
    ``W(p)`` of eq. 5). ``heatmap_weight`` multiplies the heatmap terms (1 in both
    references; lesson 04 uses 3 to sharpen the joints on a short training budget).

    Args:
        outputs: list of ``(heatmaps (B, K+1, h, w), pafs (B, 2L, h, w))`` per stage.
        heatmaps, pafs: targets of the same shapes.
        mask: ``(B, 1, h, w)`` (broadcast over channels), or None for no mask.
        heatmap_weight: weight of the heatmap terms (> 0).
    Returns:
        Scalar tensor.
    """
    if not heatmap_weight > 0:
        raise ValueError(f"heatmap_weight: expected a positive number, got {heatmap_weight!r}")
    stages = _stages(outputs)
    ref = stages[0][0]
    t_hm = torch.as_tensor(heatmaps, dtype=ref.dtype, device=ref.device)
    t_paf = torch.as_tensor(pafs, dtype=ref.dtype, device=ref.device)
    m = 1.0 if mask is None else torch.as_tensor(mask, dtype=ref.dtype, device=ref.device)
    if mask is not None and (m.ndim != 4 or m.shape[1] != 1):
        raise ValueError(f"mask: expected (B, 1, h, w), got {tuple(m.shape)}")
    total = ref.new_zeros(())
    for i, (hm, paf) in enumerate(stages):
        if hm.shape != t_hm.shape or paf.shape != t_paf.shape:
            raise ValueError(
                f"outputs[{i}]: shapes {tuple(hm.shape)} / {tuple(paf.shape)} do not match the "
                f"targets {tuple(t_hm.shape)} / {tuple(t_paf.shape)}"
            )
        b = hm.shape[0]
        total = total + heatmap_weight * (m * (hm - t_hm) ** 2).sum() / 2 / b
        total = total + (m * (paf - t_paf) ** 2).sum() / 2 / b
    return total


# --------------------------------------------------------------------------- codec


class PAFCodec:
    """OpenPose targets (heatmaps + background, PAFs, loss mask), loss and grouping decoder.

    Args:
        stride: output stride (8 for OpenPose / Lightweight OpenPose).
        sigma: σ_h, the heatmap Gaussian's std in map pixels (OpenPose: 7 input px = 0.875
            at stride 8).
        limb_width: σ_l, the PAF half-width in map pixels (Lightweight OpenPose: 1).
        end_margin: PAF extension beyond the limb ends, map pixels (``paf_targets``); 1 as
            CMU's and Lightweight OpenPose's training code. With the paper's exact rectangle
            (0) the joints themselves lie on the field's edge, so at map resolution the two
            end samples of the 10-sample line integral fall outside about half of the time
            and even perfect maps fail its "> 80 % valid samples" test; limbs shorter than a
            map pixel (eyes, far people) may get no field at all.
        min_keypoints: people with ``1 ≤ labelled joints < min_keypoints`` (COCO-17) are not
            drawn and are masked out of the loss (CMU masks people with too few labels).
        joint_set: the batch's joint set (SynthPoseBottomUp's default ``"coco17"``);
            converted to OpenPose-18 with the neck derived as the shoulders' midpoint.
        group_kwargs: keyword arguments of ``posekit.codecs.grouping.group`` for ``decode``
            (``method="hungarian"``, ``threshold``, ``min_paf``...).
        heatmap_weight: weight of the heatmap terms in ``loss`` (``paf_loss``; 1 = the
            references).

    Protocol (``posekit.engine``):
        ``encode(batch)``: ``batch["keypoints"]`` = list of B ``(N_i, K, 3)`` in input pixels
        (``collate_bottom_up``), ``batch["image"]`` ``(B, 3, H, W)``, optional
        ``batch["bboxes"]`` (list of ``(N_i, 4)``, used as ignore regions) → ``{"heatmaps":
        (B, 19, h, w), "pafs": (B, 38, h, w), "mask": (B, 1, h, w)}`` float32 tensors on the
        image's device. ``loss(outputs, targets, batch=None)``: ``paf_loss`` over all stages.
        ``decode(outputs)``: the last stage → B ``Instances`` (``posekit.codecs.instances``:
        COCO-17 ``(N, 17, 3)`` ``(x, y, score)`` in input pixels, ``(N,)`` person scores); the
        maps must be finite (``grouping``: NaN / inf is a ValueError naming the index).
    """

    num_joints = OPENPOSE18.num_joints
    limbs = OPENPOSE18.limbs

    def __init__(
        self,
        stride=8,
        sigma: float = 0.875,
        limb_width: float = 1.0,
        end_margin: float = 1.0,
        min_keypoints: int = 3,
        joint_set: str = "coco17",
        group_kwargs: dict | None = None,
        heatmap_weight: float = 1.0,
    ) -> None:
        self.stride = stride2(stride)
        if not heatmap_weight > 0:
            raise ValueError(f"heatmap_weight: expected a positive number, got {heatmap_weight!r}")
        self.heatmap_weight = float(heatmap_weight)
        if not sigma > 0:
            raise ValueError(f"sigma: expected a positive number, got {sigma!r}")
        if not limb_width > 0:
            raise ValueError(f"limb_width: expected a positive number, got {limb_width!r}")
        if int(min_keypoints) < 1:
            raise ValueError(f"min_keypoints: expected an integer >= 1, got {min_keypoints!r}")
        self.sigma, self.limb_width, self.end_margin = float(sigma), float(limb_width), end_margin
        self.min_keypoints, self.joint_set = int(min_keypoints), joint_set
        self.group_kwargs = dict(group_kwargs or {})

    def __repr__(self) -> str:
        return (
            f"PAFCodec(stride={self.stride}, sigma={self.sigma:g}, limb_width={self.limb_width:g}"
            f", min_keypoints={self.min_keypoints}, joint_set={self.joint_set!r})"
        )

    def map_size(self, image_size) -> tuple[int, int]:
        """``(w, h)`` of the maps for an input ``(W, H)`` (each must divide by the stride)."""
        W, H = size2(image_size, "image_size")
        w, h = W / self.stride[0], H / self.stride[1]
        if w != int(w) or h != int(h):
            raise ValueError(f"image_size: {(W, H)} is not a multiple of the stride {self.stride}")
        return int(w), int(h)

    def targets(self, keypoints, image_size, bboxes=None) -> dict[str, np.ndarray]:
        """numpy targets of B images (``keypoints``: list of ``(N_i, K, 3)``; see ``encode``)."""
        if not isinstance(keypoints, (list, tuple)):
            raise ValueError("keypoints: expected a list of (N_i, K, 3) arrays, one per image")
        size = self.map_size(image_size)
        draw, ignore = [], []
        for i, kp in enumerate(keypoints):
            kp = _one_image(kp, f"keypoints[{i}]")
            op = convert(kp.astype(np.float32), self.joint_set, OPENPOSE18).reshape(-1, 18, 3)
            n_lab = (kp[..., 2] > 0).sum(axis=1)
            few = (n_lab >= 1) & (n_lab < self.min_keypoints)
            draw.append(op[~few])
            if bboxes is not None and few.any():
                box = bboxes[i].detach().cpu().numpy() if torch.is_tensor(bboxes[i]) else bboxes[i]
                ignore.append(np.asarray(box, np.float64).reshape(-1, 4)[few])
            else:
                ignore.append(kp[few])
        return {
            "heatmaps": keypoint_heatmaps(draw, size, self.stride, self.sigma),
            "pafs": paf_targets(
                draw, size, self.stride, self.limbs, self.limb_width, self.end_margin
            ),
            "mask": loss_masks(size, self.stride, ignore, num_images=len(keypoints)),
        }

    def encode(self, batch: dict) -> dict:
        """Collated batch → ``{"heatmaps", "pafs", "mask"}`` tensors on the image's device."""
        for key in ("keypoints", "image"):
            if key not in batch:
                raise ValueError(f"batch: missing {key!r} (use collate_bottom_up)")
        image = batch["image"]
        if image.ndim != 4:
            raise ValueError(f"batch['image']: expected (B, 3, H, W), got {tuple(image.shape)}")
        if len(batch["keypoints"]) != image.shape[0]:
            raise ValueError(
                f"batch['keypoints']: {len(batch['keypoints'])} entries for {image.shape[0]} images"
            )
        t = self.targets(
            batch["keypoints"], (image.shape[-1], image.shape[-2]), batch.get("bboxes")
        )
        return {k: torch.from_numpy(v).to(image.device) for k, v in t.items()}

    def loss(self, outputs, targets: dict, batch: dict | None = None) -> torch.Tensor:
        """``paf_loss`` of all stages against ``targets`` (masked with ``targets["mask"]``)."""
        return paf_loss(outputs, targets["heatmaps"], targets["pafs"], targets.get("mask"),
                        self.heatmap_weight)  # fmt: skip

    def decode(self, outputs) -> list[Instances]:
        """Last stage ``(heatmaps, pafs)`` → B ``Instances`` (COCO-17, ``grouping.group``)."""
        from posekit.codecs.grouping import _check_finite, group

        hm, paf = _stages(outputs)[-1]
        hm = hm.detach().float().cpu().numpy() if torch.is_tensor(hm) else np.asarray(hm)
        paf = paf.detach().float().cpu().numpy() if torch.is_tensor(paf) else np.asarray(paf)
        if hm.ndim != 4 or hm.shape[1] < self.num_joints:
            raise ValueError(
                f"outputs: expected heatmaps (B, >= {self.num_joints}, h, w), got {hm.shape}"
            )
        want = (hm.shape[0], 2 * len(self.limbs), *hm.shape[2:])
        if paf.shape != want:
            raise ValueError(f"outputs: pafs: expected {want} (B, 2L, h, w) like the heatmaps "
                             f"{hm.shape}, got {paf.shape}")  # fmt: skip
        _check_finite(hm, "heatmaps")
        _check_finite(paf, "pafs")
        people = [
            group(hm[i, : self.num_joints], paf[i], self.stride, **self.group_kwargs)
            for i in range(hm.shape[0])
        ]
        return [Instances(p.keypoints, p.scores) for p in people]
