"""DeepPose: direct regression of joint coordinates, and its cascade of refiners.

Toshev & Szegedy, "DeepPose: Human Pose Estimation via Deep Neural Networks", CVPR 2014
(the paper has no official code; ``docs/references.md`` lists the two re-implementations
followed here). Three models:

* ``DeepPose`` — the original: the AlexNet regressor of ``mitmul/deeppose`` at 220×220
  (``posekit.models.alexnet``), fc6 4096 → fc7 4096 → fc 2K, dropout 0.6. Output
  ``(B, K, 2)`` coordinates normalised to the person box = the input crop (``frame="box"``).
  58,396,060 params for K = 14 (58.4M), 58,412,448 for K = 16; 1.09 GMACs.
* ``DeepPoseResNet`` — mmpose's "DeepPose": ResNet + global average pooling + one
  ``Linear(2048, 2K)`` (512 for ResNet-18/34). Output ``(B, K, 2)`` divided by the input
  ``(w, h)`` as mmpose's ``RegressionLabel`` (``frame="input"``, in [0, 1] inside the crop).
  ResNet-50, K = 16: 23,573,600 params (23.5M), 5.34 GMACs at 256².
* ``DeepPoseCascade`` — stage 1 plus ``num_stages - 1`` refiners (``DeepPoseRefiner``, the
  same AlexNet regressor on a crop of side σ_c·diam around each joint's estimate).

Coordinates (``docs/conventions.md`` § Coordinates): images are ``(B, 3, H, W)`` float
tensors (normalised RGB); keypoints are in **pixels of those images**, x the column, y the row,
pixel centres at integer coordinates (pixel (0, 0) covers [-0.5, 0.5)²). Normalised model
outputs relate to pixels through ``to_frame`` / ``from_frame`` (``size = (W, H)`` of the input):

* ``frame="box"`` (paper): N(y; b) = (y − b_c) / b_size with b the input crop, so
  ``u = ((x − (W−1)/2) / W, (y − (H−1)/2) / H)`` ∈ [−0.5, 0.5) inside the crop.
* ``frame="input"`` (mmpose with integer pixel centres): ``u = ((x + 0.5) / W, (y + 0.5) / H)``.

The codec (``posekit.codecs.regression``) may own the dataset-side normalisation; the
cascade only needs a ``from_frame(u, size)`` callable, and uses the stage-1 model's frame
by default. Crop-local normalisation of the refiners is model business and lives here.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from posekit import geometry
from posekit.geometry import PIXEL_STD, affine_matrix
from posekit.models.alexnet import AlexNet
from posekit.models.resnet import resnet
from posekit.skeletons import Skeleton, get_skeleton
from posekit.validate import size2

FRAMES = ("box", "input")


# --------------------------------------------------------------------------- normalisers


def _xy_stack(x, y):
    return torch.stack([x, y], -1) if isinstance(x, torch.Tensor) else np.stack([x, y], -1)


def to_frame(xy, size, frame: str = "box"):
    """Pixels → normalised coordinates of an input crop of ``size = (W, H)``.

    Delegates to ``posekit.geometry`` so models and codecs share one definition.

    Args:
        xy: ``(..., 2)`` (or ``(..., 3)``; only x, y are used) array or tensor in pixels.
        size: ``(W, H)`` of the input the model sees.
        frame: ``"box"`` (paper; the box is the whole crop: ``(x − (W−1)/2) / W``) or
            ``"input"`` (mmpose with integer pixel centres: ``(x + 0.5) / W``).
    Returns:
        ``(..., 2)`` of the same type.
    """
    w, h = size2(size, "size", square=True)
    if frame == "box":
        return geometry.to_box_frame(xy[..., :2], ((w - 1) / 2, (h - 1) / 2), (w, h))
    if frame == "input":
        return geometry.to_input_frame(xy[..., :2], (w, h))
    raise ValueError(f"frame must be one of {FRAMES}, got {frame!r}")


def from_frame(u, size, frame: str = "box"):
    """Inverse of ``to_frame``: ``(..., 2)`` normalised → ``(..., 2)`` pixels of ``(W, H)``."""
    w, h = size2(size, "size", square=True)
    if frame == "box":
        return geometry.from_box_frame(u[..., :2], ((w - 1) / 2, (h - 1) / 2), (w, h))
    if frame == "input":
        return geometry.from_input_frame(u[..., :2], (w, h))
    raise ValueError(f"frame must be one of {FRAMES}, got {frame!r}")


# --------------------------------------------------------------------------- stage-1 models


class DeepPose(nn.Module):
    """The original DeepPose regressor (AlexNet at 220×220 → 2K numbers).

    Args:
        num_joints: K (14 for LSP).
        input_size: square side or ``(width, height)`` of the person crop (220).
        dropout: after fc6 and fc7 (0.6, mitmul/deeppose).
        width_mult, fc_dim: scaled configurations (conv widths × ``width_mult``; fc6/fc7 width).
        in_channels: input channels.

    ``(B, 3, H, W)`` → ``(B, K, 2)`` box-normalised ``(x, y)`` (``frame = "box"``; pixels =
    ``from_frame(out, (W, H))``). Published config (defaults): 58.4M params (K = 14),
    1.09 GMACs. A lesson-sized config: ``DeepPose(input_size=112, width_mult=0.25)``.
    """

    frame = "box"

    def __init__(
        self,
        num_joints: int = 14,
        input_size: int | tuple[int, int] = 220,
        dropout: float = 0.6,
        width_mult: float = 1.0,
        fc_dim: int | None = None,
        in_channels: int = 3,
    ) -> None:
        super().__init__()
        self.num_joints = num_joints
        self.input_size = size2(input_size, "input_size", square=True)
        self.config = dict(
            num_joints=num_joints, input_size=list(self.input_size), dropout=dropout,
            width_mult=width_mult, fc_dim=fc_dim, in_channels=in_channels,
        )  # fmt: skip
        self.alexnet = AlexNet(
            2 * num_joints, input_size, dropout, width_mult, fc_dim, in_channels=in_channels
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.alexnet(x).view(x.shape[0], self.num_joints, 2)


class DeepPoseResNet(nn.Module):
    """mmpose's DeepPose: ResNet backbone + GlobalAveragePooling neck + RegressionHead.

    Args:
        num_joints: K (16 for MPII, 17 for COCO).
        depth: ResNet depth (18, 34, 50, 101, 152).
        input_size: square side or ``(width, height)``; 256 (MPII) or ``(192, 256)`` (COCO).
            Only recorded (global pooling accepts any size) and used by the cascade/bench.
        width: ResNet base width (64); smaller for scaled configs.
        zero_init_residual: see ``ResNet``.

    ``(B, 3, H, W)`` → ``(B, K, 2)`` in the ``"input"`` frame (``(x + 0.5) / W``, as mmpose's
    ``RegressionLabel``). ResNet-50, K = 16: 23.57M params, 5.34 GMACs at 256². The head
    starts at weight std 1e-3 and bias 0.5: a fresh model predicts the crop's centre.
    """

    frame = "input"

    def __init__(
        self,
        num_joints: int = 16,
        depth: int = 50,
        input_size: int | tuple[int, int] = 256,
        width: int = 64,
        zero_init_residual: bool = False,
    ) -> None:
        super().__init__()
        self.num_joints = num_joints
        self.input_size = size2(input_size, "input_size", square=True)
        self.config = dict(
            num_joints=num_joints, depth=depth, input_size=list(self.input_size), width=width,
            zero_init_residual=zero_init_residual,
        )  # fmt: skip
        self.backbone = resnet(
            depth, include_top=False, width=width, zero_init_residual=zero_init_residual
        )
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(self.backbone.out_channels, 2 * num_joints)
        nn.init.normal_(self.fc.weight, std=1e-3)
        nn.init.constant_(self.fc.bias, 0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(self.backbone.forward_features(x)).flatten(1)
        return self.fc(x).view(x.shape[0], self.num_joints, 2)


# --------------------------------------------------------------------------- cascade geometry


def torso_diameter(keypoints, skeleton: str | Skeleton = "lsp14"):
    """The paper's diam(y): distance between opposite shoulder and hip.

    The mean of the two diagonals ``|left_shoulder − right_hip|`` and
    ``|right_shoulder − left_hip|`` over those available (both ends labelled, ``v > 0``, when
    ``keypoints`` carries a third column); NaN when neither is.

    Args:
        keypoints: ``(..., K, 2)`` or ``(..., K, 3)`` array or tensor, in pixels.
        skeleton: the joint set (needs both shoulders and hips).
    Returns:
        ``(...)`` float64 array, or a tensor of ``keypoints``' dtype.
    """
    sk = get_skeleton(skeleton)
    is_tensor = isinstance(keypoints, torch.Tensor)
    kp = keypoints if is_tensor else torch.as_tensor(np.asarray(keypoints, dtype=np.float64))
    if kp.shape[-2] != sk.num_joints:
        raise ValueError(f"keypoints have {kp.shape[-2]} joints, {sk.name} has {sk.num_joints}")
    total = torch.zeros(kp.shape[:-2], dtype=kp.dtype, device=kp.device)
    count = torch.zeros_like(total)
    for a, b in (("left_shoulder", "right_hip"), ("right_shoulder", "left_hip")):
        pa, pb = kp[..., sk.index(a), :], kp[..., sk.index(b), :]
        ok = torch.ones_like(total, dtype=torch.bool)
        if kp.shape[-1] >= 3:
            ok = (pa[..., 2] > 0) & (pb[..., 2] > 0)
        d = torch.linalg.vector_norm(pa[..., :2] - pb[..., :2], dim=-1)
        total = total + torch.where(ok, d, torch.zeros_like(d))
        count = count + ok.to(total.dtype)
    out = torch.where(count > 0, total / count.clamp(min=1), torch.full_like(total, np.nan))
    return out if is_tensor else out.numpy()


def joint_crops(
    images: torch.Tensor, estimates, diam, sigma: float, crop_size: int
) -> tuple[torch.Tensor, np.ndarray]:
    """Square crops of side ``σ_c · diam`` around every joint estimate, resized to ``crop_size``.

    Each crop's 2×3 image → crop matrix is ``posekit.geometry.affine_matrix``
    (centre = the estimate, box = σ_c·diam px, no rotation), so the estimate lands on the
    crop's centre ``((S − 1) / 2, (S − 1) / 2)`` and pixels are areas on both sides; the
    sampling is ``grid_sample`` (bilinear, zeros outside) of output pixel ``p`` at ``M⁻¹ p``,
    the geometry of ``transforms.warp_image`` (batched, on ``images``' device).

    Args:
        images: ``(B, C, H, W)`` float tensor.
        estimates: ``(B, K, 2)`` (or ``(B, K, 3)``) joint estimates in pixels of ``images``.
        diam: ``(B,)`` torso diameters in pixels (or a scalar).
        sigma: σ_c, the crop side in units of diam (the paper's σ).
        crop_size: side ``S`` of the output crops in pixels.
    Returns:
        crops ``(B·K, C, S, S)`` (joint-major inside each image: index ``b·K + k``) and
        matrices ``(B·K, 2, 3)`` float64 image → crop (``transforms.inverse_keypoints``
        maps crop points back).
    """
    b, c, h, w = images.shape
    est = torch.as_tensor(estimates).detach().cpu().double().numpy()[..., :2]
    if est.ndim != 3 or est.shape[0] != b:
        raise ValueError(f"estimates: expected (B={b}, K, 2), got {tuple(est.shape)}")
    k, s = est.shape[1], int(crop_size)
    diam = torch.as_tensor(diam).detach().cpu().double().reshape(-1).numpy()
    side = sigma * np.broadcast_to(diam, (b,))
    if not (np.all(np.isfinite(side)) and np.all(side > 0) and np.all(np.isfinite(est))):
        raise ValueError("joint_crops: estimates and sigma·diam must be finite, diam > 0")
    mats = np.empty((b, k, 2, 3))
    for i in range(b):  # affine_matrix: M p = L (p - centre) + ((s-1)/2, (s-1)/2)
        m0 = affine_matrix((0.0, 0.0), side[i] / PIXEL_STD, 0.0, (s, s))
        mats[i] = m0
        mats[i, :, :, 2] -= est[i] @ m0[:, :2].T  # recentred on each joint estimate
    mats = mats.reshape(b * k, 2, 3)
    # grid_sample works in [-1, 1] coordinates (align_corners=False: ±1 at the outer pixel
    # edges): theta = to_grid(image) ∘ M⁻¹ ∘ from_grid(crop)
    to_grid = np.array([[2 / w, 0, 1 / w - 1], [0, 2 / h, 1 / h - 1], [0, 0, 1]])
    from_grid = np.array([[s / 2, 0, (s - 1) / 2], [0, s / 2, (s - 1) / 2], [0, 0, 1]])
    last = np.broadcast_to([0.0, 0.0, 1.0], (b * k, 1, 3))
    theta = to_grid @ np.linalg.inv(np.concatenate([mats, last], 1)) @ from_grid
    theta_t = torch.as_tensor(theta[:, :2], dtype=images.dtype, device=images.device)
    grid_t = F.affine_grid(theta_t, [b * k, c, s, s], align_corners=False)
    grid_t = grid_t.view(b, k * s, s, 2)  # crops stacked vertically: one sample per image
    out = F.grid_sample(images, grid_t, mode="bilinear", padding_mode="zeros", align_corners=False)
    crops = out.view(b, c, k, s, s).transpose(1, 2).reshape(b * k, c, s, s)
    return crops, mats


def fit_error_distribution(pred, gt, diam=None, per_joint: bool = True):
    """Mean and covariance of the errors ``pred − gt`` of a stage (the paper's N_i^(t−1)).

    Args:
        pred: ``(N, K, 2|3)`` estimates in pixels.
        gt: ``(N, K, 2|3)`` ground truth; with a third column only ``v > 0`` joints count.
        diam: optional ``(N,)`` torso diameters: errors are then measured in units of diam
            (scale-free, what ``simulate_displacements(..., diam=)`` expects).
        per_joint: one distribution per joint (paper) or one pooled over joints.
    Returns:
        ``(mean, cov)``: ``(K, 2)``, ``(K, 2, 2)`` per joint, else ``(2,)``, ``(2, 2)``
        (float64; unbiased covariance; a joint with < 2 samples gets the pooled estimate).
    """
    pred, gt = np.asarray(pred, np.float64), np.asarray(gt, np.float64)
    err = pred[..., :2] - gt[..., :2]
    if diam is not None:
        err = err / np.asarray(diam, np.float64).reshape(-1, 1, 1)
    mask = gt[..., 2] > 0 if gt.shape[-1] >= 3 else np.ones(err.shape[:2], bool)
    mask &= np.all(np.isfinite(err), axis=-1)

    def mean_cov(e: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if len(e) < 2:
            return np.full(2, np.nan), np.full((2, 2), np.nan)
        return e.mean(0), np.cov(e, rowvar=False)

    pooled = mean_cov(err[mask])
    if not per_joint:
        return pooled
    fits = [mean_cov(err[:, j][mask[:, j]]) for j in range(err.shape[1])]
    fits = [f if np.isfinite(f[1]).all() else pooled for f in fits]
    return np.stack([f[0] for f in fits]), np.stack([f[1] for f in fits])


def simulate_displacements(gt, error_mean, error_cov, rng=None, diam=None) -> np.ndarray:
    """Simulated previous-stage estimates: ``gt + δ``, ``δ ~ N(error_mean, error_cov)``.

    The paper trains stage t on estimates drawn around the ground truth from the normal
    fitted to stage t−1's errors (``fit_error_distribution``), per joint.

    Args:
        gt: ``(N, K, 2|3)`` ground truth in pixels.
        error_mean: ``(2,)`` or ``(K, 2)``.
        error_cov: ``(2, 2)`` or ``(K, 2, 2)`` (positive semi-definite).
        rng: ``np.random.Generator`` or seed.
        diam: optional ``(N,)``: the distribution is in units of diam (δ is scaled by it).
    Returns:
        ``(N, K, 2)`` float64 simulated estimates in pixels.
    """
    rng = np.random.default_rng(rng)
    gt = np.asarray(gt, np.float64)
    n, k = gt.shape[:2]
    mean = np.broadcast_to(np.asarray(error_mean, np.float64), (k, 2))
    cov = np.broadcast_to(np.asarray(error_cov, np.float64), (k, 2, 2))
    vals, vecs = np.linalg.eigh((cov + np.swapaxes(cov, -1, -2)) / 2)
    root = vecs * np.sqrt(np.clip(vals, 0, None))[:, None, :]  # root @ root.T = cov
    delta = mean + np.einsum("kij,nkj->nki", root, rng.standard_normal((n, k, 2)))
    if diam is not None:
        delta = delta * np.asarray(diam, np.float64).reshape(-1, 1, 1)
    return gt[..., :2] + delta


# --------------------------------------------------------------------------- the cascade


def _usable_diameter(diam: torch.Tensor, images: torch.Tensor) -> torch.Tensor:
    """Degenerate diameters (not finite or < 1 px, e.g. from an untrained stage 1) fall back
    to a quarter of the larger image side."""
    fallback = torch.full_like(diam, max(images.shape[-2:]) / 4)
    return torch.where(torch.isfinite(diam) & (diam >= 1), diam, fallback)


class DeepPoseRefiner(nn.Module):
    """A cascade stage t ≥ 2: the DeepPose AlexNet regressor applied to one joint's crop.

    One network per stage is **shared by all joints** (the crops of all K joints go through
    it as one batch). It has 2K outputs like stage 1, and the crop of joint i reads its own
    pair i (the paper's ψ_i), so the network knows which joint it refines.

    ``forward(crops (N, 3, S, S), joint_index (N,))`` → ``(N, 2)`` crop-normalised
    displacement ``u = (y_i − y_i^(t−1)) / (σ_c · diam)`` at stage t; in crop pixels the
    refined joint sits at ``(S − 1) / 2 + u · S``.
    """

    def __init__(
        self,
        num_joints: int = 14,
        crop_size: int = 220,
        dropout: float = 0.6,
        width_mult: float = 1.0,
        fc_dim: int | None = None,
    ) -> None:
        super().__init__()
        self.num_joints = num_joints
        self.crop_size = crop_size
        self.alexnet = AlexNet(2 * num_joints, crop_size, dropout, width_mult, fc_dim)

    def forward(self, crops: torch.Tensor, joint_index: torch.Tensor) -> torch.Tensor:
        out = self.alexnet(crops).view(crops.shape[0], self.num_joints, 2)
        return out[torch.arange(crops.shape[0], device=out.device), joint_index.to(out.device)]


class DeepPoseCascade(nn.Module):
    """Stage 1 (``DeepPose`` or ``DeepPoseResNet``) + ``num_stages − 1`` ``DeepPoseRefiner``s.

    Stage t ≥ 2 crops a square of side ``σ_c · diam(y^(t−1))`` around each joint's estimate
    y_i^(t−1), resizes it to ``crop_size``, and adds the regressed displacement:
    ``y_i^t = y_i^(t−1) + σ_c · diam · ψ_i(crop)``.

    Args:
        stage1: the initial regressor (its output frame is ``stage1.frame``).
        num_stages: S (3 in the paper).
        sigma: σ_c, the crop side in torso diameters (``docs/conventions.md`` § Notation).
            Toshev & Szegedy 2014 set it per dataset; lesson 01's σ_c = 1 is posekit's choice.
        crop_size: refiner input side (default the stage-1 input width: 220).
        skeleton: joint set, for the torso diameter (needs shoulders and hips).
        width_mult, fc_dim, dropout: refiner config (default: stage 1's when it is DeepPose).
        from_frame: ``(u, (W, H)) → pixels`` for stage 1's output; default
            ``from_frame(u, size, stage1.frame)``; pass the codec's to stay consistent.

    Images: ``(B, 3, H, W)`` stage-1 inputs; all keypoints are pixels of those images.
    ``refine`` accepts any image resolution with estimates in its pixels (e.g. crop from
    the full-resolution image, as the paper does).
    """

    def __init__(
        self,
        stage1: nn.Module,
        num_stages: int = 3,
        sigma: float = 2.0,
        crop_size: int | None = None,
        skeleton: str | Skeleton = "lsp14",
        width_mult: float | None = None,
        fc_dim: int | None = None,
        dropout: float | None = None,
        from_frame: Callable | None = None,
    ) -> None:
        super().__init__()
        if num_stages < 1:
            raise ValueError(f"num_stages must be >= 1, got {num_stages}")
        self.stage1 = stage1
        self.num_joints = stage1.num_joints
        self.sigma = float(sigma)
        self.crop_size = int(crop_size or stage1.input_size[0])
        self.skeleton = get_skeleton(skeleton)
        if self.skeleton.num_joints != self.num_joints:
            raise ValueError(
                f"{self.skeleton.name} has {self.skeleton.num_joints} joints, "
                f"stage 1 predicts {self.num_joints}"
            )
        stage1_cfg = getattr(stage1, "config", {})  # refiners copy a DeepPose stage 1's widths
        cfg = {k: stage1_cfg[k] for k in ("dropout", "width_mult", "fc_dim") if k in stage1_cfg}
        for key, value in (("width_mult", width_mult), ("fc_dim", fc_dim), ("dropout", dropout)):
            if value is not None:
                cfg[key] = value
        self.refiners = nn.ModuleList(
            DeepPoseRefiner(self.num_joints, self.crop_size, **cfg) for _ in range(num_stages - 1)
        )
        self._from_frame = from_frame

    @property
    def num_stages(self) -> int:
        return 1 + len(self.refiners)

    def initial(self, images: torch.Tensor) -> torch.Tensor:
        """Stage 1: ``(B, 3, H, W)`` → ``(B, K, 2)`` estimates in pixels of ``images``."""
        u, size = self.stage1(images), (images.shape[-1], images.shape[-2])
        if self._from_frame is not None:
            return self._from_frame(u, size)
        return from_frame(u, size, getattr(self.stage1, "frame", "box"))

    def diameter(self, estimates: torch.Tensor, images: torch.Tensor) -> torch.Tensor:
        """``(B,)`` torso diameter of ``estimates`` (pixels), made usable for cropping."""
        return _usable_diameter(torso_diameter(estimates.detach()[..., :2], self.skeleton), images)

    def refine_stage(
        self, stage: int, images: torch.Tensor, estimates: torch.Tensor
    ) -> torch.Tensor:
        """One refinement: stage ``stage`` ≥ 2, ``(B, K, 2)`` pixels → ``(B, K, 2)`` pixels."""
        refiner = self.refiners[stage - 2]
        b, k = estimates.shape[:2]
        diam = self.diameter(estimates, images)
        crops, _ = joint_crops(images, estimates, diam, self.sigma, self.crop_size)
        u = refiner(crops, torch.arange(k, device=images.device).repeat(b))
        side = (self.sigma * diam).to(u.dtype).view(b, 1, 1)
        return estimates[..., :2] + u.view(b, k, 2) * side

    def refine(
        self, images: torch.Tensor, estimates: torch.Tensor, return_all: bool = False
    ) -> torch.Tensor | list[torch.Tensor]:
        """Stages 2..S on ``estimates`` ``(B, K, 2)`` (pixels of ``images``): the final
        ``(B, K, 2)`` estimates, or the list of every stage's (the input first)."""
        out = [estimates[..., :2]]
        for stage in range(2, self.num_stages + 1):
            out.append(self.refine_stage(stage, images, out[-1]))
        return out if return_all else out[-1]

    def forward(
        self, images: torch.Tensor, return_all: bool = False
    ) -> torch.Tensor | list[torch.Tensor]:
        """``(B, 3, H, W)`` → ``(B, K, 2)`` pixels after all stages (or a list per stage)."""
        return self.refine(images, self.initial(images), return_all=return_all)

    def training_samples(self, images: torch.Tensor, gt, estimates, diam=None):
        """Refiner training batch: crops around ``estimates`` and their displacement targets.

        Following the paper, the crop side is σ_c·diam of the **ground truth** (``diam``
        default ``torso_diameter(gt)``), the crop is centred on the (simulated, see
        ``simulate_displacements``) estimate, and the target is
        ``u = (gt − estimate) / (σ_c · diam)``.

        Args:
            images: ``(B, 3, H, W)``; gt ``(B, K, 2|3)`` and estimates ``(B, K, 2)`` in pixels.
        Returns:
            crops ``(B·K, 3, s, s)``, joint_index ``(B·K,)``, targets ``(B·K, 2)`` and
            weights ``(B·K,)`` (gt ``v > 0``; 1 without visibilities). Loss example:
            ``((refiner(crops, idx) - targets) ** 2).sum(1).mul(weights).mean()``.
        """
        like = dict(dtype=images.dtype, device=images.device)
        gt = torch.as_tensor(gt, **like)
        est = torch.as_tensor(estimates, **like)[..., :2]
        b, k = gt.shape[:2]
        d = torso_diameter(gt, self.skeleton) if diam is None else diam
        d = _usable_diameter(torch.as_tensor(d, **like).reshape(-1).expand(b), images)
        crops, _ = joint_crops(images, est, d, self.sigma, self.crop_size)
        targets = (gt[..., :2] - est) / (self.sigma * d).view(b, 1, 1)
        weights = (
            (gt[..., 2] > 0).to(images.dtype) if gt.shape[-1] >= 3 else torch.ones(b, k, **like)
        )
        idx = torch.arange(k, device=images.device).repeat(b)
        return crops, idx, targets.reshape(b * k, 2), weights.reshape(-1)
