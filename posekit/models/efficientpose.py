"""EfficientPose RT, I, II, III, IV and RT/I/II Lite (Groos, Ramampiaro & Ihlen, "EfficientPose:
Scalable single-person pose estimation", Applied Intelligence 51, 2021), layer for layer as
the authors' released Keras graphs (``docs/references.md``).

Layers (``W`` = the high-resolution backbone's stage-3 channels)::

    high-res   EfficientNet-Bφ (TF "same" padding) cut after stage 3 (block3*), stride 8, W ch
    low-res    2×2 average pool of the input, EfficientNet-B0/B0/B1/B3 cut after stage 2
               (block2*), stride 4 of the pooled input = stride 8; the last block's residual
               is not added (the released graphs take its projection)            (I – IV)
    cross      F = concat(high, low)                                   W + 24 or W + 32 ch
    pass 1     Mobile DenseNet blocks on F → 1×1 conv → 2·14 = 28 PAF maps   ("skeleton")
    pass 2, 3  blocks on concat(previous pass's block output (3W), F) → 1×1 conv → 16
               confidence maps                                  ("detection1", "detection2")
    upscale    3 × ConvTranspose 4×4 stride 2 (16 → 16, bilinear kernels, zero bias) on
               pass 3's maps: ×8, back to the input resolution

Mobile DenseNet block (``MobileDenseNetBlock``): three E-MBConv6 (``DetectionMBConv``: 1×1
expand to 6W + BN + E-swish, 5×5 depthwise + BN + E-swish, SE (mean, 1×1 → W/4, E-swish,
1×1 → 6W, sigmoid, multiply), 1×1 project to W + BN; no inner residual). Dense wiring:
``m1 = mbconv1(x)``, ``m2 = mbconv2(m1)``, ``m3 = mbconv3(cat(m2, m1))``, output
``cat(m3, m2, m1)`` (3W). A pass stacks 1 (RT, I), 2 (II), 3 (III) or 4 (IV) blocks; each
block after the first reads the previous block's output and adds it to its own.

E-swish (``eswish``): ``β · x · sigmoid(x)`` with β = 1.25 in the detection passes; the
EfficientNet backbones keep swish (β = 1).

Lite (``lite=True``; the released ``*_LITE`` graphs): EfficientNet-Lite0/2/4 backbones, no
low-resolution branch, no SE anywhere, ReLU6 instead of swish and E-swish, and only pass 3's
head (the PAF and pass-2 heads are not in those graphs).

Outputs (``forward``): a list in the Keras graph's output order, named by ``output_names``:
``[pass1_skeleton_pafs (B, 28, H/8, W/8), pass2_detection1_confs (B, 16, H/8, W/8),
pass3_detection2_confs, upscaled_confs (B, 16, H, W)]``; with ``intermediate_heads=False``
(the Lite default) only the last two. ``[-1]`` is always the full-resolution confidence
maps, ``[-2]`` pass 3's at stride 8. Joints: MPII's 16 (head top, upper neck, r-shoulder …).

Parameters (``parameter_count``; PyTorch parameters, BatchNorm running statistics not
counted) and the Keras count (``keras_count``: every array the ``.h5`` stores, i.e. with
BatchNorm's moving mean and variance) — the published figures (0.46 / 0.72 / 1.73 / 3.23 /
6.56 M; Lite 0.40 / 0.59 / 1.46 M) are the Keras count of the inference graph without the
PAF and pass-2 heads. Published "FLOPs" are 2 × multiply-accumulates (``posekit.bench``).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from posekit.models.efficientnet import BN_EPS, BN_MOMENTUM, EfficientNet, efficientnet

__all__ = [
    "ESWISH_BETA",
    "VARIANTS",
    "DetectionMBConv",
    "ESwish",
    "EfficientPose",
    "MobileDenseNetBlock",
    "bilinear_kernel",
    "efficientpose",
    "eswish",
    "keras_count",
    "load_keras_weights",
]

ESWISH_BETA = 1.25
"""E-swish's β in the detection passes (Groos et al. 2021)."""

NUM_JOINTS, NUM_LIMBS = 16, 14  # MPII joints; the PAF skeleton's 14 limbs (x, y each)


def eswish(x: torch.Tensor, beta: float = ESWISH_BETA) -> torch.Tensor:
    """E-swish: ``β · x · sigmoid(x)`` (β = 1 is swish)."""
    return beta * x * torch.sigmoid(x)


class ESwish(nn.Module):
    """``eswish`` as a module."""

    def __init__(self, beta: float = ESWISH_BETA) -> None:
        super().__init__()
        self.beta = float(beta)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return eswish(x, self.beta)

    def extra_repr(self) -> str:
        return f"beta={self.beta:g}"


def _act(lite: bool, beta: float) -> nn.Module:
    return nn.ReLU6(inplace=True) if lite else ESwish(beta)


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=BN_EPS, momentum=BN_MOMENTUM)


class DetectionMBConv(nn.Module):
    """E-MBConv: 1×1 expand (``cin → expand·width``) + BN + E-swish, k×k depthwise + BN +
    E-swish, SE (squeeze ``width // 4``; none for Lite), 1×1 project to ``width`` + BN; no
    residual. Module names follow the Keras layers (``conv1``, ``dconv1``, ``se_squeeze``,
    ``se_excite``, ``conv2``). Shapes: ``(B, cin, h, w)`` → ``(B, width, h, w)``."""

    def __init__(
        self, cin: int, width: int, expand: int = 6, kernel: int = 5, se: bool = True,
        lite: bool = False, beta: float = ESWISH_BETA,
    ) -> None:  # fmt: skip
        super().__init__()
        hidden = expand * width
        self.conv1 = nn.Conv2d(cin, hidden, 1, bias=False)
        self.conv1_bn = _bn(hidden)
        self.conv1_act = _act(lite, beta)
        self.dconv1 = nn.Conv2d(hidden, hidden, kernel, 1, kernel // 2, groups=hidden, bias=False)
        self.dconv1_bn = _bn(hidden)
        self.dconv1_act = _act(lite, beta)
        self.se = se
        if se:
            self.se_squeeze = nn.Conv2d(hidden, max(1, width // 4), 1)
            self.se_act = _act(lite, beta)
            self.se_excite = nn.Conv2d(max(1, width // 4), hidden, 1)
        self.conv2 = nn.Conv2d(hidden, width, 1, bias=False)
        self.conv2_bn = _bn(width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1_act(self.conv1_bn(self.conv1(x)))
        x = self.dconv1_act(self.dconv1_bn(self.dconv1(x)))
        if self.se:
            s = self.se_excite(self.se_act(self.se_squeeze(x.mean((2, 3), keepdim=True))))
            x = x * torch.sigmoid(s)
        return self.conv2_bn(self.conv2(x))


class MobileDenseNetBlock(nn.Module):
    """Three ``DetectionMBConv`` densely wired: ``m1 = mbconv1(x)``, ``m2 = mbconv2(m1)``,
    ``m3 = mbconv3(cat(m2, m1))`` → ``cat(m3, m2, m1)``; ``+ x`` when ``skip`` (blocks after
    the first in a pass, ``cin == 3·width``). Shapes: ``(B, cin, h, w)`` → ``(B, 3·width, h, w)``.
    """

    def __init__(self, cin: int, width: int, skip: bool = False, **kwargs) -> None:
        super().__init__()
        if skip and cin != 3 * width:
            raise ValueError(f"skip: needs cin == 3·width = {3 * width}, got cin={cin}")
        self.mbconv1 = DetectionMBConv(cin, width, **kwargs)
        self.mbconv2 = DetectionMBConv(width, width, **kwargs)
        self.mbconv3 = DetectionMBConv(2 * width, width, **kwargs)
        self.skip = skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        m1 = self.mbconv1(x)
        m2 = self.mbconv2(m1)
        out = torch.cat([self.mbconv3(torch.cat([m2, m1], 1)), m2, m1], 1)
        return out + x if self.skip else out


def bilinear_kernel(kernel: int = 4) -> torch.Tensor:
    """The ``(k, k)`` bilinear up-sampling kernel of a stride-``k/2`` transposed convolution:
    the outer product of ``[1, 3, 3, 1] / 4`` for k = 4 (as stored in the released models)."""
    factor = (kernel + 1) // 2
    center = factor - 1 if kernel % 2 == 1 else factor - 0.5
    r = 1 - (torch.arange(kernel, dtype=torch.float64) - center).abs() / factor
    return torch.outer(r, r).float()


class Variant(NamedTuple):
    """A released configuration: high-res backbone, low-res backbone (None: single
    resolution), input side, Mobile DenseNet blocks per pass, Lite, published params (M) and
    GFLOPs (= 2 × GMACs; the authors' README)."""

    backbone: str
    low_res: str | None
    resolution: int
    blocks: int
    lite: bool
    params_m: float
    gflops: float


VARIANTS: dict[str, Variant] = {
    "rt": Variant("b0", None, 224, 1, False, 0.46, 0.87),
    "i": Variant("b2", "b0", 256, 1, False, 0.72, 1.67),
    "ii": Variant("b4", "b0", 368, 2, False, 1.73, 7.70),
    "iii": Variant("b5", "b1", 480, 3, False, 3.23, 23.35),
    "iv": Variant("b7", "b3", 600, 4, False, 6.56, 72.89),
    "rt_lite": Variant("lite0", None, 224, 1, True, 0.40, 0.86),
    "i_lite": Variant("lite2", None, 256, 1, True, 0.59, 1.54),
    "ii_lite": Variant("lite4", None, 368, 2, True, 1.46, 7.25),
}
"""EfficientPose variants (Groos et al. 2021; the released graphs and the authors' README)."""


class EfficientPose(nn.Module):
    """EfficientPose (layers in the module docstring). Defaults: EfficientPose RT.

    Args:
        backbone: high-resolution EfficientNet (``"b0"`` … ``"b7"``, ``"lite0"`` …
            ``"lite4"``), cut after stage 3; its channels are the block width ``W``.
        low_res_backbone: EfficientNet of the 2×-pooled input, cut after stage 2, or None.
        blocks_per_pass: Mobile DenseNet blocks in each of the three passes.
        num_joints: confidence maps (16, MPII); ``num_limbs``: PAF limbs (14 → 28 maps).
        lite: ReLU6 and no SE in the detection blocks (use a ``lite*`` backbone).
        intermediate_heads: the pass-1 PAF and pass-2 confidence heads (in the released RT
            and I graphs, not in the Lite ones); default ``not lite``.
        expand, kernel: E-MBConv expansion (6) and depthwise kernel (5).
        beta: E-swish β (1.25).
        num_upsamples: 4×4 stride-2 transposed convolutions (3: ×8).
        tf_padding: TensorFlow "same" padding in the backbones (the released weights).
        resolution: the input side the variant was designed for (metadata; any multiple of 8
            runs, of 16 with a low-resolution branch).

    Shapes: ``(B, 3, H, W)`` → list of ``(B, C, H/8, W/8)`` head maps and ``(B, 16, H, W)``.
    """

    def __init__(
        self,
        backbone: str = "b0",
        low_res_backbone: str | None = None,
        blocks_per_pass: int = 1,
        num_joints: int = NUM_JOINTS,
        num_limbs: int = NUM_LIMBS,
        lite: bool = False,
        intermediate_heads: bool | None = None,
        expand: int = 6,
        kernel: int = 5,
        beta: float = ESWISH_BETA,
        num_upsamples: int = 3,
        tf_padding: bool = True,
        resolution: int = 224,
    ) -> None:
        super().__init__()
        for name, v in (("blocks_per_pass", blocks_per_pass), ("num_joints", num_joints),
                        ("num_limbs", num_limbs), ("expand", expand)):  # fmt: skip
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name}: expected a positive integer, got {v!r}")
        n_up = num_upsamples
        if isinstance(n_up, bool) or not isinstance(n_up, int) or n_up < 0:
            raise ValueError(f"num_upsamples: expected an integer >= 0, got {num_upsamples!r}")
        if lite and low_res_backbone is not None:
            raise ValueError("low_res_backbone: the Lite models have no low-resolution branch")
        if intermediate_heads is None:
            intermediate_heads = not lite
        self.config = dict(backbone=backbone, low_res_backbone=low_res_backbone,
                           blocks_per_pass=blocks_per_pass, num_joints=num_joints,
                           num_limbs=num_limbs, lite=lite, intermediate_heads=intermediate_heads,
                           expand=expand, kernel=kernel, beta=beta, num_upsamples=num_upsamples,
                           tf_padding=tf_padding, resolution=resolution)  # fmt: skip
        self.resolution, self.lite = resolution, bool(lite)
        self.high_res: EfficientNet = efficientnet(
            backbone, last_stage=3, include_top=False, tf_padding=tf_padding
        )
        self.low_res: EfficientNet | None = None
        cross = width = self.high_res.out_channels
        if low_res_backbone is not None:
            self.low_res = efficientnet(
                low_res_backbone, last_stage=2, include_top=False, tf_padding=tf_padding
            )
            cross += self.low_res.out_channels
        self.pool = nn.AvgPool2d(2, 2, ceil_mode=True, count_include_pad=False)
        block_kw = dict(expand=expand, kernel=kernel, se=not lite, lite=lite, beta=beta)
        self.passes = nn.ModuleList()
        for p in range(3):
            cin = cross if p == 0 else 3 * width + cross
            self.passes.append(nn.Sequential(*(
                MobileDenseNetBlock(cin if b == 0 else 3 * width, width, skip=b > 0, **block_kw)
                for b in range(blocks_per_pass)
            )))  # fmt: skip
        self.intermediate_heads = bool(intermediate_heads)
        if self.intermediate_heads:
            self.pafs_head = nn.Conv2d(3 * width, 2 * num_limbs, 1)
            self.confs1_head = nn.Conv2d(3 * width, num_joints, 1)
        self.confs2_head = nn.Conv2d(3 * width, num_joints, 1)
        self.upscale = nn.Sequential(*(
            nn.ConvTranspose2d(num_joints, num_joints, 4, 2, 1) for _ in range(num_upsamples)
        ))  # fmt: skip
        self.output_names = (
            ("pass1_skeleton_pafs", "pass2_detection1_confs") if self.intermediate_heads else ()
        ) + ("pass3_detection2_confs", "upscaled_confs")
        self.width, self.cross_channels, self.stride = width, cross, 8
        self.num_joints, self.num_limbs = num_joints, num_limbs
        self._init_weights()

    def _init_weights(self) -> None:
        for name, m in self.named_modules():
            if name.startswith(("high_res", "low_res")):
                continue  # EfficientNet's own initialisation
            if isinstance(m, nn.ConvTranspose2d):  # bilinear, per channel, zero bias
                with torch.no_grad():
                    m.weight.zero_()
                    k = bilinear_kernel(m.kernel_size[0]).to(m.weight.device)
                    for c in range(m.in_channels):
                        m.weight[c, c] = k
                    m.bias.zero_()
            elif isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def _low_res_features(self, x: torch.Tensor) -> torch.Tensor:
        """Low-resolution branch on the pooled input: stages 0 … 2, the last block's
        projection without its residual (as in the released graphs)."""
        features = self.low_res.features
        for layer in features[:-1]:
            x = layer(x)
        *blocks, last = features[-1]
        for block in blocks:
            x = block(x)
        return last.block(x)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Cross-resolution features ``F``: ``(B, cross_channels, H/8, W/8)``."""
        high = self.high_res(x)
        if self.low_res is None:
            return high
        return torch.cat([high, self._low_res_features(self.pool(x))], 1)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """``(B, 3, H, W)`` → the maps named by ``output_names`` (module docstring)."""
        if x.ndim != 4 or x.shape[1] != 3:
            raise ValueError(f"x: expected (B, 3, H, W), got {tuple(x.shape)}")
        f = self.features(x)
        p1 = self.passes[0](f)
        p2 = self.passes[1](torch.cat([p1, f], 1))
        p3 = self.passes[2](torch.cat([p2, f], 1))
        confs = self.confs2_head(p3)
        out = [self.pafs_head(p1), self.confs1_head(p2)] if self.intermediate_heads else []
        return out + [confs, self.upscale(confs)]

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.config.items())


def keras_count(model: nn.Module) -> int:
    """Values the Keras ``.h5`` of ``model`` stores: parameters plus BatchNorm running mean
    and variance (``num_batches_tracked`` has no Keras counterpart)."""
    return sum(
        t.numel() for k, t in model.state_dict().items() if not k.endswith("num_batches_tracked")
    )


def efficientpose(variant: str = "rt", **kwargs) -> EfficientPose:
    """EfficientPose ``variant``: ``"rt"``, ``"i"``, ``"ii"``, ``"iii"``, ``"iv"``,
    ``"rt_lite"``, ``"i_lite"``, ``"ii_lite"`` (``VARIANTS``), as released; kwargs go to
    ``EfficientPose``.

    ======== ===== ============ ============== ====== ========== ==================
    variant  input backbones    blocks / pass  W      params (M)  published GFLOPs
    ======== ===== ============ ============== ====== ========== ==================
    rt       224   B0           1              40     0.46        0.87
    i        256   B2 + B0      1              48     0.72        1.67
    ii       368   B4 + B0      2              56     1.73        7.70
    iii      480   B5 + B1      3              64     3.23        23.35
    iv       600   B7 + B3      4              80     6.56        72.89
    rt_lite  224   Lite0        1              40     0.40        0.86
    i_lite   256   Lite2        1              48     0.59        1.54
    ii_lite  368   Lite4        2              56     1.46        7.25
    ======== ===== ============ ============== ====== ========== ==================

    Output stride 8 for the pass heads, 1 for ``upscaled_confs``. Params are the published
    (Keras) counts; GFLOPs = 2 × GMACs (Groos, Ramampiaro & Ihlen 2021).
    """
    key = variant.lower().replace(" ", "_").replace("-", "_")
    if key not in VARIANTS:
        raise ValueError(f"variant: expected one of {', '.join(VARIANTS)}, got {variant!r}")
    v = VARIANTS[key]
    kwargs.setdefault("resolution", v.resolution)
    model = EfficientPose(v.backbone, v.low_res, v.blocks, lite=v.lite, **kwargs)
    model.config["variant"] = key
    return model


_KERAS_HEADS = {
    "pass1_skeleton_pafs": "pafs_head",
    "pass2_detection1_confs": "confs1_head",
    "pass3_detection2_confs": "confs2_head",
    "upscaled_deconv1": "upscale.0",
    "upscaled_deconv2": "upscale.1",
    "upscaled_confs": "upscale.2",
}
_KERAS_KINDS = {
    "Conv2D": nn.Conv2d,
    "DepthwiseConv2D": nn.Conv2d,
    "Conv2DTranspose": nn.ConvTranspose2d,
    "BatchNormalization": nn.BatchNorm2d,
}


def _keras_group(name: str) -> str:
    """The part of ``EfficientPose`` a Keras layer of the released graphs belongs to."""
    if name in _KERAS_HEADS:
        return "heads"
    if name.endswith("_res2"):
        return "low_res"
    if name.startswith("pass") and "_block" in name:
        return "passes." + str(int(name[4]) - 1)
    return "high_res"


def _keras_arrays(
    layer_cls: str, weights: dict[str, object], where: str
) -> dict[str, torch.Tensor]:
    """Keras arrays of one layer → PyTorch tensors by attribute, layouts permuted: conv
    ``(kh, kw, in, out)`` → ``(out, in, kh, kw)``, depthwise ``(kh, kw, C, 1)`` → ``(C, 1, kh,
    kw)``, transposed conv ``(kh, kw, out, in)`` → ``(in, out, kh, kw)``."""
    rename = {"kernel": "weight", "depthwise_kernel": "weight", "bias": "bias", "gamma": "weight",
              "beta": "bias", "moving_mean": "running_mean",
              "moving_variance": "running_var"}  # fmt: skip
    out = {}
    for key, array in weights.items():
        short = key.rsplit("/", 1)[-1].split(":")[0]
        if short not in rename:
            raise KeyError(f"{where}: unmapped Keras array {key!r}")
        t = torch.from_numpy(array[()]).float()
        if short == "depthwise_kernel":
            t = t.permute(2, 3, 0, 1)
        elif short == "kernel":
            t = t.permute(3, 2, 0, 1) if layer_cls != "Conv2DTranspose" else t.permute(2, 3, 0, 1)
        out[rename[short]] = t
    return out


def load_keras_weights(model: EfficientPose, path) -> EfficientPose:
    """Load an EfficientPose ``.h5`` released by the authors (Keras 2.2.4) into ``model``,
    strictly, with h5py (no TensorFlow, no pickle).

    The graph in ``attrs['model_config']`` lists the weighted layers; each is assigned to its
    part of ``model`` (high-resolution backbone, ``*_res2`` low-resolution backbone, passes
    1–3, heads by name) and, within a part, to the next PyTorch layer of the same kind in
    definition order (which is the graph's order). Every array is checked for its shape after
    the layout permutation (``_keras_arrays``); an array left over, a layer of the wrong kind
    or shape, or a model tensor left unset (``num_batches_tracked`` aside) raises an error
    naming it. Returns ``model`` (in eval mode).

    The authors' ``.tflite`` files (RT, I) hold these same weights with every BatchNorm folded
    into its convolution and then stored in float16: ``posekit.models.optimize.fold_batchnorm``
    of the loaded model with each parameter rounded to float16 gives their arrays bit for bit,
    and their outputs to within 1e-5. The float32 ``.h5`` weights loaded here differ from those
    outputs by up to about 4e-3 (about 1 % of a confidence peak) — the weights' storage, not
    the graph."""
    import json

    import h5py

    with h5py.File(path, "r") as f:
        layers = json.loads(f.attrs["model_config"])["config"]["layers"]
        weights = f["model_weights"]
        parts: dict[str, list[tuple[str, str, dict]]] = {}
        for layer in layers:
            name, cls = layer["name"], layer["class_name"]
            if name not in weights:
                continue
            group = weights[name]
            names = [n.decode() if isinstance(n, bytes) else n for n in group.attrs["weight_names"]]
            if not names:
                continue
            if cls not in _KERAS_KINDS:
                raise KeyError(f"{path}: unmapped Keras layer {name!r} ({cls}): {names}")
            arrays = _keras_arrays(cls, {n: group[n] for n in names}, f"{path}: {name}")
            parts.setdefault(_keras_group(name), []).append((name, cls, arrays))
        n_stored = sum(len(a) for part in parts.values() for _, _, a in part)
        n_h5 = []
        weights.visititems(lambda _, obj: n_h5.append(1) if isinstance(obj, h5py.Dataset) else None)
        if n_stored != len(n_h5):
            raise KeyError(f"{path}: {len(n_h5) - n_stored} arrays outside the graph's layers")

    modules = dict(model.named_modules())
    state = model.state_dict()
    assigned: dict[str, torch.Tensor] = {}
    for part, entries in parts.items():
        if part == "heads":
            targets = [
                (_KERAS_HEADS[name], modules.get(_KERAS_HEADS[name])) for name, _, _ in entries
            ]
        else:
            root = modules.get(part)
            if root is None:
                raise KeyError(
                    f"{path}: the model has no {part!r} for layers such as {entries[0][0]!r}"
                )
            weighted = (nn.Conv2d, nn.BatchNorm2d, nn.ConvTranspose2d)
            targets = [
                (f"{part}.{n}" if n else part, m)
                for n, m in root.named_modules()
                if isinstance(m, weighted)
            ]
        if len(targets) != len(entries):
            raise KeyError(
                f"{path}: {part}: {len(entries)} Keras layers, {len(targets)} model layers"
            )
        for (kname, cls, arrays), (mname, m) in zip(entries, targets, strict=True):
            kind = _KERAS_KINDS[cls]
            if not isinstance(m, kind):
                raise KeyError(
                    f"{path}: Keras layer {kname!r} ({cls}) maps to {mname!r} ({type(m).__name__})"
                )
            for attr, t in arrays.items():
                key = f"{mname}.{attr}"
                if key not in state:
                    raise KeyError(f"{path}: Keras layer {kname!r}: the model has no {key!r}")
                if tuple(state[key].shape) != tuple(t.shape):
                    raise ValueError(
                        f"{path}: Keras layer {kname!r} → {key!r}: shape {tuple(t.shape)}, "
                        f"model {tuple(state[key].shape)}"
                    )
                assigned[key] = t
    missing = [k for k in state if k not in assigned and not k.endswith("num_batches_tracked")]
    if missing:
        raise KeyError(f"{path}: model tensors not in the .h5: {', '.join(missing)}")
    with torch.no_grad():
        for key, t in assigned.items():
            state[key].copy_(t)
    return model.eval()
