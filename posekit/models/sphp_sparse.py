"""SPHP's sparse backbones (Lin, Hsieh et al., BMVC 2023) on ``posekit.sparse`` layers.

As the authors' ``template/*_submanifold/network.py`` (SparseConvNet there; posekit's own layers
or spconv here, ``backend=``). The active sites are the input's nonzero pixels::

    SparseDHP19   17 submanifold 3×3 convs without dilation, no bias, ReLU after each:
                  C→16, maxpool 2; 16→32; 32→32; 32→32, maxpool 2; 32→64; 64→64 ×3;
                  transposed 3×3/2 64→32 (generative: new sites around every site; H/2 + 1);
                  32→32 ×4; transposed 3×3/2 32→16 (H + 3); 16→16 ×2; 16→13 + ReLU;
                  densified with zeros and cropped to H×W. 218,592 params (1 channel).
    SparseUNet    Block(a → b) = [submanifold 3×3 (no bias) + BatchNorm (eps 1e-4) +
                  LeakyReLU(0.333)] × 2 (SparseConvNet's ``BatchNormLeakyReLU``);
                  encoder Block(C → p0), per level maxpool 2 + Block(p_i → p_i+1); decoder per
                  level: inverse conv 2×2/2 onto the encoder's sites of that level (no new
                  sites), concat [skip, up], Block(2·p_i → p_i); head submanifold 1×1 → 13.
                  U-Net-Small 32-64-128-256 (1,926,592 params, 1 channel), U-Net-Large
                  64-128-256-512 (7,699,328).

Heatmaps exist only at the active sites (zeros elsewhere), so a joint whose pixels carry no
edge or motion cannot be found there: the authors' sparse MV-only results (MPJPE 24-30 px
against 8-9 dense). ``dense_head=True`` is posekit's variant: the last features are densified
and a small dense head (``ContextHead``: four 3×3 convs at 1/8 resolution, dilations 1, 2, 4
and 8, upsampled and joined with the full-resolution features, then 1×1 → 13) predicts every
pixel, so a static joint can be placed from the moving parts around it.

Shapes: ``(B, C, H, W)`` dense input (zeros = inactive) → ``(B, 13, H, W)`` dense heatmaps;
``H``, ``W`` multiples of 4 (DHP19) or ``2^(levels-1)`` (U-Net). ``forward_sparse`` takes a
``posekit.sparse.SparseTensor`` instead.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from posekit.models.sphp import INPUTS, NUM_JOINTS, UNet, check_planes
from posekit.sparse import (
    SparseBatchNorm,
    SparseConvTranspose2d,
    SparseInverseConv2d,
    SparseLeakyReLU,
    SparseMaxPool2d,
    SparseReLU,
    SparseTensor,
    SubMConv2d,
    from_dense,
    join,
    resolve_backend,
    to_dense,
)  # fmt: skip
from posekit.validate import check_positive_ints

__all__ = [
    "SPARSE_BACKBONES", "ContextHead", "SparseDHP19", "SparseUNet", "sparse_sphp_model",
    "sparse_unet_large", "sparse_unet_small",
]  # fmt: skip


def _check_dense_input(x: torch.Tensor, channels: int, divisor: int) -> None:
    if x.ndim != 4 or x.shape[1] != channels:
        raise ValueError(f"x: expected (B, {channels}, H, W), got {tuple(x.shape)}")
    if x.shape[-2] % divisor or x.shape[-1] % divisor:
        raise ValueError(
            f"x: height and width must be multiples of {divisor}, got {tuple(x.shape[-2:])}"
        )


class ContextHead(nn.Module):
    """posekit's dense head for sparse backbones: features ``(B, C, H, W)`` (zeros off the
    sites) → heatmaps ``(B, K, H, W)`` at every pixel.

    Average-pool 8, four 3×3 convs (C → C, dilations 1, 2, 4, 8; BatchNorm + LeakyReLU) reach
    ±120 px, bilinear upsampling back, concat with the input, 1×1 conv → K.
    """

    def __init__(self, channels: int, num_joints: int = NUM_JOINTS) -> None:
        super().__init__()
        check_positive_ints(channels=channels, num_joints=num_joints)
        layers = []
        for d in (1, 2, 4, 8):
            conv = nn.Conv2d(channels, channels, 3, padding=d, dilation=d, bias=False)
            layers += [conv, nn.BatchNorm2d(channels), nn.LeakyReLU(0.1)]
        self.context = nn.Sequential(*layers)
        self.out = nn.Conv2d(2 * channels, num_joints, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, C, H, W)`` → ``(B, K, H, W)``."""
        ctx = self.context(F.avg_pool2d(x, 8, ceil_mode=True))
        ctx = F.interpolate(ctx, size=x.shape[-2:], mode="bilinear", align_corners=False)
        return self.out(torch.cat((x, ctx), 1))


class _SparseBackbone(nn.Module):
    """Dense ``(B, C, H, W)`` in → sparse body → dense heatmaps out (``forward_sparse``)."""

    stride = 1
    divisor = 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, C, H, W)`` (nonzero pixels active) → heatmaps ``(B, num_joints, H, W)``."""
        _check_dense_input(x, self.in_channels, self.divisor)
        return self.forward_sparse(from_dense(x, backend=self.backend))

    def forward_sparse(self, x: SparseTensor) -> torch.Tensor:
        raise NotImplementedError

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.config.items())


class SparseDHP19(_SparseBackbone):
    """DHP19's network on submanifold layers, as SPHP's sparse version (see the module doc).

    Args:
        in_channels: 1 (ED / GR), 2 (MV) or 3 (FS). num_joints: 13.
        backend: ``"posekit"`` (own layers) or ``"spconv"`` (falls back with a warning).
        dense_head: replace the last conv by ``ContextHead(16)`` on the densified features.
    """

    divisor = 4

    def __init__(
        self,
        in_channels: int = 1,
        num_joints: int = NUM_JOINTS,
        backend: str = "posekit",
        dense_head: bool = False,
    ) -> None:
        super().__init__()
        check_positive_ints(in_channels=in_channels, num_joints=num_joints)
        self.config = dict(
            in_channels=in_channels, num_joints=num_joints, backend=backend, dense_head=dense_head
        )
        self.in_channels, self.num_joints = in_channels, num_joints
        self.backend = resolve_backend(backend)

        def conv(a, b):
            return [SubMConv2d(a, b, 3, bias=False), SparseReLU()]

        def up(a, b):
            return [SparseConvTranspose2d(a, b, 3, 2, bias=False), SparseReLU()]

        self.body = nn.Sequential(
            *conv(in_channels, 16), SparseMaxPool2d(), *conv(16, 32), *conv(32, 32),
            *conv(32, 32), SparseMaxPool2d(), *conv(32, 64), *conv(64, 64), *conv(64, 64),
            *conv(64, 64), *up(64, 32), *[m for _ in range(4) for m in conv(32, 32)],
            *up(32, 16), *conv(16, 16), *conv(16, 16),
        )  # fmt: skip
        self.head = (
            ContextHead(16, num_joints) if dense_head else nn.Sequential(*conv(16, num_joints))
        )
        for m in self.modules():  # Xavier on the dense layout: the fans of nn.Conv2d's
            if isinstance(m, SubMConv2d | SparseConvTranspose2d):
                nn.init.xavier_uniform_(m.dense_weight())  # (a view of the weight)
            elif isinstance(m, nn.Conv2d):
                nn.init.xavier_uniform_(m.weight)

    def forward_sparse(self, x: SparseTensor) -> torch.Tensor:
        """``SparseTensor`` → dense heatmaps ``(B, num_joints, H, W)``."""
        h, w = x.shape
        y = self.body(x)  # (H + 3) × (W + 3): the full transposed convs grow the map
        if self.config["dense_head"]:
            return self.head(to_dense(y)[..., :h, :w])
        return to_dense(self.head(y))[..., :h, :w]


def _block(a: int, b: int, bias: bool, eps: float, leakiness: float) -> nn.Sequential:
    return nn.Sequential(
        SubMConv2d(a, b, 3, bias=bias), SparseBatchNorm(b, eps), SparseLeakyReLU(leakiness),
        SubMConv2d(b, b, 3, bias=bias), SparseBatchNorm(b, eps), SparseLeakyReLU(leakiness),
    )  # fmt: skip


class SparseUNet(_SparseBackbone):
    """SPHP's sparse U-Net (see the module doc): max-pools down, inverse convs back up.

    Args:
        in_channels: 1, 2 or 3. num_joints: 13.
        planes: channels per level, finest first (``(32, 64, 128, 256)`` U-Net-Small).
        backend: ``"posekit"`` or ``"spconv"``. dense_head: ``ContextHead`` instead of the
            sparse 1×1 head.
        bias, eps, leakiness: the authors' sparse code (no conv bias, BatchNorm eps 1e-4,
            LeakyReLU 0.333); ``from_dense`` sets the dense U-Net's (bias, 1e-5, 0.01).
    """

    def __init__(
        self,
        in_channels: int = 1,
        num_joints: int = NUM_JOINTS,
        planes: Sequence[int] = (32, 64, 128, 256),
        backend: str = "posekit",
        dense_head: bool = False,
        bias: bool = False,
        eps: float = 1e-4,
        leakiness: float = 0.333,
    ) -> None:
        super().__init__()
        planes = check_planes(planes)
        check_positive_ints(in_channels=in_channels, num_joints=num_joints)
        self.config = dict(
            in_channels=in_channels, num_joints=num_joints, planes=planes, backend=backend,
            dense_head=dense_head, bias=bias, eps=eps, leakiness=leakiness,
        )  # fmt: skip
        self.in_channels, self.num_joints = in_channels, num_joints
        self.backend = resolve_backend(backend)
        self.divisor = 2 ** (len(planes) - 1)
        args = (bias, eps, leakiness)
        ins = [in_channels, *planes[:-1]]
        self.down = nn.ModuleList(_block(a, b, *args) for a, b in zip(ins, planes, strict=True))
        self.pool = SparseMaxPool2d()
        self.deconv = nn.ModuleList(
            SparseInverseConv2d(b, a, 2, 2, bias=False)
            for a, b in zip(planes, planes[1:], strict=False)
        )
        self.up = nn.ModuleList(_block(2 * p, p, *args) for p in planes[:-1])
        if dense_head:
            self.head = ContextHead(planes[0], num_joints)
        else:
            self.head = SubMConv2d(planes[0], num_joints, 1, bias=bias)

    def forward_sparse(self, x: SparseTensor) -> torch.Tensor:
        """``SparseTensor`` → dense heatmaps ``(B, num_joints, H, W)``."""
        skips = []
        for i, block in enumerate(self.down):
            x = block(self.pool(x) if i else x)
            skips.append(x)
        skips.pop()
        for i in reversed(range(len(skips))):
            x = self.up[i](join(skips[i], self.deconv[i](x, skips[i])))
        if self.config["dense_head"]:
            return self.head(to_dense(x))
        return to_dense(self.head(x))

    @classmethod
    def from_dense(cls, unet: UNet, backend: str = "posekit") -> SparseUNet:
        """A sparse U-Net with ``unet``'s weights (its bias, eps 1e-5 and LeakyReLU 0.01).

        The dense decoder concatenates [up, skip], the sparse one [skip, up]: the first conv of
        each decoder block has its input channels swapped accordingly.
        """
        planes = unet.config["planes"]
        out = cls(unet.in_channels, unet.num_joints, planes, backend, False, True, 1e-5, 0.01)
        dense_bns = [m for m in unet.modules() if isinstance(m, nn.BatchNorm2d)]
        decoder_first = {block[0] for block in unet.up}  # their inputs are [up, skip]
        with torch.no_grad():
            for sp, bn in zip(
                [m for m in out.modules() if isinstance(m, SparseBatchNorm)], dense_bns, strict=True
            ):
                sp.load_state_dict(bn.state_dict())
            for dense, sparse in zip(_ordered_convs(unet), _ordered_convs(out), strict=True):
                w = dense.weight
                if isinstance(dense, nn.ConvTranspose2d):
                    sparse.weight.copy_(w.permute(1, 2, 3, 0))
                    continue
                if dense in decoder_first:
                    half = w.shape[1] // 2
                    w = torch.cat((w[:, half:], w[:, :half]), 1)  # [up, skip] → [skip, up]
                sparse.weight.copy_(w.permute(0, 2, 3, 1))
                if dense.bias is not None:
                    sparse.bias.copy_(dense.bias)
        return out


def _ordered_convs(model: nn.Module) -> list[nn.Module]:
    """Conv layers in the order down, deconv, up, head (the same in UNet and SparseUNet)."""
    convs = []
    for part in ("down", "deconv", "up", "head"):
        for m in getattr(model, part).modules():
            if isinstance(m, nn.Conv2d | nn.ConvTranspose2d | SubMConv2d | SparseInverseConv2d):
                convs.append(m)
    return convs


def sparse_unet_small(in_channels: int = 1, num_joints: int = NUM_JOINTS, **kwargs) -> SparseUNet:
    """Sparse U-Net-Small, planes 32-64-128-256 (1.93 M params)."""
    return SparseUNet(in_channels, num_joints, (32, 64, 128, 256), **kwargs)


def sparse_unet_large(in_channels: int = 1, num_joints: int = NUM_JOINTS, **kwargs) -> SparseUNet:
    """Sparse U-Net-Large, planes 64-128-256-512 (7.70 M params)."""
    return SparseUNet(in_channels, num_joints, (64, 128, 256, 512), **kwargs)


SPARSE_BACKBONES = {
    "dhp19": SparseDHP19, "unet_small": sparse_unet_small, "unet_large": sparse_unet_large,
}  # fmt: skip


def sparse_sphp_model(
    backbone: str = "unet_small",
    inputs: str = "ed",
    backend: str = "posekit",
    dense_head: bool = False,
    num_joints: int = NUM_JOINTS,
) -> nn.Module:
    """A sparse SPHP network: ``backbone`` in ``SPARSE_BACKBONES`` on ``inputs`` ``"ed"``,
    ``"gr"`` (1 channel), ``"mv"`` (2) or ``"fs"`` (3; early fusion)."""
    if backbone not in SPARSE_BACKBONES:
        raise ValueError(f"backbone: expected one of {sorted(SPARSE_BACKBONES)}, got {backbone!r}")
    if inputs not in INPUTS or inputs == "late":
        raise ValueError(f"inputs: expected one of ['ed', 'fs', 'gr', 'mv'], got {inputs!r}")
    return SPARSE_BACKBONES[backbone](
        INPUTS[inputs], num_joints, backend=backend, dense_head=dense_head
    )
