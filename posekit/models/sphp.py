"""The dense backbones of SPHP (Lin, Hsieh et al., "Sparse and Privacy-enhanced Representation
for Human Pose Estimation", BMVC 2023): DHP19's network and two U-Nets, with early and late
fusion of the edge and motion-vector inputs.

Every network maps ``(B, C, H, W)`` to 13 heatmaps ``(B, 13, H, W)`` at the full input
resolution (stride 1, no offsets: the argmax pixel is the prediction). The joints are DHP19's
13 (head, shoulders, elbows, hips, hands, knees, feet). SPHP trains at 288×384 (H×W).

Architectures (the authors' code, ``lyhsieh/SPHP``, ``template/*/network.py``)::

    DHP19   Calabrese et al., "DHP19: Dynamic Vision Sensor 3D Human Pose Dataset", CVPRW 2019.
            17 conv layers, 3×3, no bias, no BatchNorm, ReLU after every one, Xavier init:
            conv C→16, maxpool 2; conv 16→32; conv 32→32                       H/2
            conv 32→32 dilation 2 *padding 1* (H/2 - 2), maxpool 2              H/4 - 1
            4 × conv dilation 2: 32→64, 64→64 ×3
            convT 3×3/2 dilation 2, padding 1, output_padding 1: 64→32          H/2
              (the dilated transposed conv adds the 2 lost pixels back: 2·(H/4 - 1) + 2;
              the padding-1 dilated conv also moves the grid, so an output pixel's receptive
              field reaches 62 px up/left and 66 px down/right of it)
            4 × conv dilation 2: 32→32
            convT 3×3/2, padding 1, output_padding 1: 32→16                     H
            2 × conv 16→16; conv 16→13 (+ ReLU, the heatmaps are non-negative)
    UNet    Block(a → b) = [conv3×3 (bias) + BatchNorm + LeakyReLU(0.01)] × 2.
            encoder  Block(C → p0), then per level: maxpool 2, Block(p_i → p_i+1)
            decoder  per level: convT 2×2/2 (p_i+1 → p_i, no bias), concat with the
                     encoder's map of that level, Block(2·p_i → p_i)
            head     conv1×1 (p0 → 13, bias)
            U-Net-Small: planes 32-64-128-256 (the authors' code); U-Net-Large: 64-128-256-512
            (not in the released code; these planes give the published 7.7 M).

Inputs (``sphp_model(inputs=...)``, the authors' channel order): ``"ed"`` edges (1 channel),
``"gr"`` greyscale (1), ``"mv"`` motion vectors [MVV, MVH] (2), ``"fs"`` early fusion
[EDG, MVV, MVH] (3, one network on the concatenation), ``"late"`` late fusion: one 1-channel
network per channel of the same [EDG, MVV, MVH] input, heatmaps averaged (``LateFusion``).
The released code has only early fusion. posekit's late fusion is chosen to match the published
late-fusion sizes: three 1-channel branches give 655 K / 5.8 M / 23.1 M (within 0.3 %), which
leaves no parameters for the fusion itself, so posekit averages the maps (``fuse="sum"`` adds).

Parameters (``count_params``; the published values in brackets)::

    DHP19      3 ch   218,880 (218 K)   1 ch   218,592   late   655,776 (655 K)
    U-Net-S    3 ch 1,928,589 (1.9 M)   1 ch 1,928,013   late 5,784,039 (5.8 M)
    U-Net-L    3 ch 7,703,309 (7.7 M)   1 ch 7,702,157   late 23,106,471 (23.1 M)

Cost at 288×384, batch 1 (``posekit.bench.count_macs``): 3.5 / 15.6 / 62.1 GMACs for DHP19 /
U-Net-S / U-Net-L on the 3-channel input; ``posekit.lab.sphp_cost`` times them on a CPU.
Training in the authors' code: per-pixel MSE against Gaussian-blurred one-hot targets (σ = 4 px,
peak 1), RMSprop lr 3e-3 (α 0.9), steps ×0.1 at epochs 9 and 14.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

from posekit.validate import check_positive_ints

__all__ = [
    "BACKBONES", "DHP19", "INPUTS", "LateFusion", "UNet", "check_planes", "sphp_model",
    "unet_large", "unet_small",
]  # fmt: skip

NUM_JOINTS = 13
INPUTS = {"ed": 1, "gr": 1, "mv": 2, "fs": 3, "late": 3}
"""Input channels per ``sphp_model(inputs=...)``: ED / GR 1, MV 2 [MVV, MVH], FS 3 [EDG, MVV,
MVH]; ``late`` is 3 channels too, one 1-channel branch each."""


def _check_input(x: torch.Tensor, in_channels: int, divisor: int, why: str) -> None:
    if x.ndim != 4 or x.shape[1] != in_channels:
        raise ValueError(f"x: expected (B, {in_channels}, H, W), got {tuple(x.shape)}")
    if x.shape[-2] % divisor or x.shape[-1] % divisor:
        raise ValueError(
            f"x: height and width must be multiples of {divisor} ({why}), got {tuple(x.shape[-2:])}"
        )


def _conv(cin: int, cout: int, dilation: int = 1, padding: int | None = None) -> list[nn.Module]:
    pad = dilation if padding is None else padding
    return [nn.Conv2d(cin, cout, 3, padding=pad, dilation=dilation, bias=False), nn.ReLU(True)]


def _up(cin: int, cout: int, dilation: int = 1) -> list[nn.Module]:
    up = nn.ConvTranspose2d(cin, cout, 3, 2, 1, output_padding=1, dilation=dilation, bias=False)
    return [up, nn.ReLU(True)]


class DHP19(nn.Module):
    """DHP19's heatmap network (Calabrese et al. 2019) as SPHP trains it.

    Args:
        in_channels: input channels (3 for [EDG, MVV, MVH]; 1 for ED or GR; 2 for MV).
        num_joints: heatmaps (13, DHP19's joints).

    Shapes: ``(B, in_channels, H, W)`` → ``(B, num_joints, H, W)``, ``H`` and ``W`` multiples
    of 4 (two max-pools); other sizes raise ``ValueError``.
    """

    stride = 1
    divisor = 4

    def __init__(self, in_channels: int = 3, num_joints: int = NUM_JOINTS) -> None:
        super().__init__()
        check_positive_ints(in_channels=in_channels, num_joints=num_joints)
        self.config = dict(in_channels=in_channels, num_joints=num_joints)
        self.in_channels, self.num_joints = in_channels, num_joints
        self.layers = nn.Sequential(
            *_conv(in_channels, 16), nn.MaxPool2d(2),                            # 1      H/2
            *_conv(16, 32), *_conv(32, 32),                                      # 2-3
            *_conv(32, 32, dilation=2, padding=1), nn.MaxPool2d(2),              # 4      H/4-1
            *_conv(32, 64, 2), *[m for _ in range(3) for m in _conv(64, 64, 2)],  # 5-8
            *_up(64, 32, dilation=2),                                            # 9      H/2
            *[m for _ in range(4) for m in _conv(32, 32, 2)],                    # 10-13
            *_up(32, 16),                                                        # 14     H
            *_conv(16, 16), *_conv(16, 16), *_conv(16, num_joints),              # 15-17
        )  # fmt: skip
        for m in self.modules():
            if isinstance(m, nn.Conv2d | nn.ConvTranspose2d):
                nn.init.xavier_uniform_(m.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, C, H, W)`` → heatmaps ``(B, num_joints, H, W)``."""
        _check_input(x, self.in_channels, self.divisor, "DHP19 has 2 max-pools")
        return self.layers(x)

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.config.items())


def _block(cin: int, cout: int) -> nn.Sequential:
    """[conv3×3 + BatchNorm + LeakyReLU] × 2: ``(B, cin, H, W)`` → ``(B, cout, H, W)``."""
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.LeakyReLU(),
        nn.Conv2d(cout, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.LeakyReLU(),
    )  # fmt: skip


def check_planes(planes: Sequence[int]) -> list[int]:
    """A U-Net's channels per level, finest first: at least 2 positive ints (``ValueError``)."""
    planes = list(planes)
    if len(planes) < 2:
        raise ValueError(f"planes: expected at least 2 levels, got {planes!r}")
    check_positive_ints(**{f"planes[{i}]": p for i, p in enumerate(planes)})
    return planes


class UNet(nn.Module):
    """SPHP's U-Net: ``len(planes) - 1`` max-pools, skip connections by concatenation.

    Args:
        in_channels: input channels (3 for [EDG, MVV, MVH]).
        num_joints: heatmaps (13).
        planes: channels per level, finest first: ``(32, 64, 128, 256)`` U-Net-Small,
            ``(64, 128, 256, 512)`` U-Net-Large.

    Shapes: ``(B, in_channels, H, W)`` → ``(B, num_joints, H, W)``, ``H`` and ``W`` multiples
    of ``2^(len(planes) - 1)`` (8 for the published U-Nets); other sizes raise ``ValueError``.
    PyTorch's default initialisation (the authors set none).
    """

    stride = 1

    def __init__(
        self,
        in_channels: int = 3,
        num_joints: int = NUM_JOINTS,
        planes: Sequence[int] = (32, 64, 128, 256),
    ) -> None:
        super().__init__()
        planes = check_planes(planes)
        check_positive_ints(in_channels=in_channels, num_joints=num_joints)
        self.config = dict(in_channels=in_channels, num_joints=num_joints, planes=planes)
        self.in_channels, self.num_joints = in_channels, num_joints
        self.divisor = 2 ** (len(planes) - 1)
        self.down = nn.ModuleList(
            _block(a, b) for a, b in zip([in_channels, *planes[:-1]], planes, strict=True)
        )
        self.pool = nn.MaxPool2d(2, 2)
        self.deconv = nn.ModuleList(
            nn.ConvTranspose2d(b, a, 2, stride=2, bias=False)
            for a, b in zip(planes, planes[1:], strict=False)
        )
        self.up = nn.ModuleList(_block(2 * p, p) for p in planes[:-1])
        self.head = nn.Conv2d(planes[0], num_joints, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, C, H, W)`` → heatmaps ``(B, num_joints, H, W)``."""
        pools = len(self.down) - 1
        _check_input(x, self.in_channels, self.divisor, f"this U-Net has {pools} max-pools")
        skips = []
        for i, block in enumerate(self.down):
            x = block(self.pool(x) if i else x)
            skips.append(x)
        skips.pop()  # the bottom level feeds the decoder directly
        for i in reversed(range(pools)):
            x = self.up[i](torch.cat((self.deconv[i](x), skips[i]), 1))
        return self.head(x)

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.config.items())


def unet_small(in_channels: int = 3, num_joints: int = NUM_JOINTS) -> UNet:
    """U-Net-Small, planes 32-64-128-256: 1.93 M params (3 channels), 15.6 GMACs at 288×384."""
    return UNet(in_channels, num_joints, (32, 64, 128, 256))


def unet_large(in_channels: int = 3, num_joints: int = NUM_JOINTS) -> UNet:
    """U-Net-Large, planes 64-128-256-512: 7.70 M params (3 channels), 62.1 GMACs at 288×384."""
    return UNet(in_channels, num_joints, (64, 128, 256, 512))


BACKBONES: dict[str, Callable[..., nn.Module]] = {
    "dhp19": DHP19, "unet_small": unet_small, "unet_large": unet_large,
}  # fmt: skip
"""Builders ``(in_channels, num_joints) → model`` by ``sphp_model`` name."""

FUSIONS = ("mean", "sum")


class LateFusion(nn.Module):
    """Late fusion: one network per input channel, their heatmaps averaged (or summed).

    Args:
        branch_builder: a ``BACKBONES`` name (``"dhp19"``, ``"unet_small"``, ``"unet_large"``;
            built with 1 input channel) or a zero-argument callable returning a 1-channel
            network ``(B, 1, H, W) → (B, K, H, W)``. Each branch is built separately (its own
            weights).
        channels: input channels = branches (3 for [EDG, MVV, MVH]).
        fuse: ``"mean"`` (default: the fused maps stay on the branches' scale, so the same
            targets and loss fit) or ``"sum"``. Neither has parameters.
        num_joints: heatmaps, for a named ``branch_builder`` only.

    Shapes: ``(B, channels, H, W)`` → ``(B, K, H, W)``; branch ``i`` sees ``x[:, i:i+1]``.

    Attributes:
        config: the arguments when ``branch_builder`` is a name (``engine.load_model`` rebuilds
            from it); a callable branch gives no ``config``.
    """

    stride = 1

    def __init__(
        self,
        branch_builder: str | Callable[[], nn.Module] = "dhp19",
        channels: int = 3,
        fuse: str = "mean",
        num_joints: int = NUM_JOINTS,
    ) -> None:
        super().__init__()
        check_positive_ints(channels=channels, num_joints=num_joints)
        if fuse not in FUSIONS:
            raise ValueError(f"fuse: expected one of {FUSIONS}, got {fuse!r}")
        if isinstance(branch_builder, str):
            if branch_builder not in BACKBONES:
                raise ValueError(
                    f"branch_builder: expected one of {sorted(BACKBONES)} or a callable, "
                    f"got {branch_builder!r}"
                )
            self.config = dict(
                branch_builder=branch_builder, channels=channels, fuse=fuse, num_joints=num_joints
            )
            build = BACKBONES[branch_builder]
            self.branches = nn.ModuleList(build(1, num_joints) for _ in range(channels))
        elif callable(branch_builder):
            self.branches = nn.ModuleList(branch_builder() for _ in range(channels))
        else:
            raise ValueError(
                f"branch_builder: expected a name or a callable, got {branch_builder!r}"
            )
        self.channels, self.fuse = channels, fuse
        self.divisor = getattr(self.branches[0], "divisor", 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, channels, H, W)`` → fused heatmaps ``(B, K, H, W)``."""
        _check_input(x, self.channels, self.divisor, "the branches' max-pools")
        total = sum(branch(x[:, i : i + 1]) for i, branch in enumerate(self.branches))
        return total / self.channels if self.fuse == "mean" else total

    def extra_repr(self) -> str:
        return f"channels={self.channels}, fuse={self.fuse!r}"


def sphp_model(
    backbone: str = "dhp19", inputs: str = "fs", num_joints: int = NUM_JOINTS
) -> nn.Module:
    """An SPHP dense network: ``backbone`` in ``BACKBONES`` on ``inputs`` in ``INPUTS``.

    ``"ed"`` / ``"gr"`` → 1 input channel, ``"mv"`` → 2 [MVV, MVH], ``"fs"`` → 3 [EDG, MVV, MVH]
    (early fusion, one network), ``"late"`` → ``LateFusion`` of three 1-channel networks on the
    same 3-channel input. Shapes: ``(B, C, H, W)`` → ``(B, num_joints, H, W)``.
    """
    if backbone not in BACKBONES:
        raise ValueError(f"backbone: expected one of {sorted(BACKBONES)}, got {backbone!r}")
    if inputs not in INPUTS:
        raise ValueError(f"inputs: expected one of {sorted(INPUTS)}, got {inputs!r}")
    if inputs == "late":
        return LateFusion(backbone, INPUTS[inputs], "mean", num_joints)
    return BACKBONES[backbone](INPUTS[inputs], num_joints)
