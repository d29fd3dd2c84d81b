"""EfficientPose codec: per-pass targets, loss and decoder (Groos, Ramampiaro & Ihlen, 2021,
"EfficientPose: Scalable single-person pose estimation", Applied Intelligence 51).

EfficientPose (``posekit.models.efficientpose``) is a single-person network with three
detection passes at output stride 8 and a learned ×8 upscaling. Its outputs, in the released
Keras graphs' order (``model.output_names``)::

    pass1_skeleton_pafs     (B, 2L, H/8, W/8)  part affinity fields of L = 14 limbs (x, y)
    pass2_detection1_confs  (B, K,  H/8, W/8)  confidence maps, K = 16 MPII joints
    pass3_detection2_confs  (B, K,  H/8, W/8)  confidence maps (refined)
    upscaled_confs          (B, K,  H,   W)    pass 3's maps after three 4×4 stride-2
                                               transposed convolutions (bilinear init)

Supervision (each pass, as the paper's intermediate supervision): pass 1 regresses PAFs
(Cao et al., CVPR 2017, "Realtime Multi-Person 2D Pose Estimation using Part Affinity
Fields"; ``posekit.codecs.paf.paf_targets``), passes 2 and 3 Gaussian confidence maps at
stride 8, and the upscaled output Gaussian maps at the input resolution. The upscaled head is
supervised too: the released graphs keep it as a separate named output next to the three pass
heads, i.e. each of the four was an output of the Keras training model with its own loss. The
loss is the sum over the four outputs of HRNet's target-weighted MSE
(``posekit.codecs.heatmap.heatmap_mse_loss``), each multiplied by ``pass_weights``.

Target widths, read off the released RT and I models on the authors' MPII sample: their pass-3
peaks are ≈ 2 map pixels wide at half maximum and the upscaled peaks ≈ 19-22 input pixels, i.e.
σ ≈ 1 map pixel at stride 8 = 8 input pixels. Defaults: ``sigma = 1.0`` map pixel for passes 2
and 3, ``8 · sigma`` input pixels for the upscaled maps (the same 8 input pixels as lesson 03's
σ = 2 at stride 4), and PAFs of half-width 1 map pixel (``limb_width``).

Limbs (``EFFICIENTPOSE_LIMBS``): the 14 limbs of OpenPose's MPI body model (CMU
``POSE_MPI_PAIRS``: head–neck, neck–shoulders, arms, neck–chest, chest–hips, legs), with
neck = MPII's upper neck and chest = MPII's thorax. The authors did not publish their limb
list; this order and direction is the one the released RT and I pass-1 fields follow: on the
MPII sample, the line integral of field ``l`` along the joints decoded from the upscaled maps is
largest for limb ``l`` of this list (0.43-0.82 per limb for I; thorax → hips, not pelvis →
hips: 0.58 / 0.60 against ≤ 0.09), the field pointing from the first joint to the second.

Joint order: the codec follows the batch's joint order (posekit's MPII-16, ``skeletons.MPII16``)
for every map. The released weights order their 16 channels differently (head top, upper neck,
right shoulder, …; ``RELEASED_CHANNELS`` maps them).

Decoding (``decode``): the upscaled maps (stride 1) by default, with the decoder ``decoder``
(``"argmax"``: at stride 1 its error is at most half an input pixel, and it is what the
authors' ``extract_coordinates`` does on these maps); or pass 3's stride-8 maps
(``decode_from="pass3"``; DARK, Zhang et al. CVPR 2020, with σ = ``sigma``). On SynthPose after
lesson 03's budget the two are within 1.1 PCKh points at 0.5 and 0.1 in every trained run,
neither ahead throughout (``posekit.lab.efficientpose_synth.SWEEP``). DARK on the upscaled
maps is not advised: its σ = 8 px blur window (49 px) and the 3σ-truncated targets bias it
near the crop's edges.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from posekit.codecs.heatmap import (
    DECODERS,
    decode_heatmaps,
    gaussian_heatmaps,
    heatmap_mse_loss,
)
from posekit.codecs.instances import Instances, per_crop
from posekit.codecs.paf import paf_targets
from posekit.skeletons import MPII16
from posekit.validate import size2

__all__ = [
    "EFFICIENTPOSE_LIMBS",
    "OUTPUT_NAMES",
    "RELEASED_CHANNELS",
    "EfficientPoseCodec",
    "efficientpose_loss",
]

_J = {name: i for i, name in enumerate(MPII16.joints)}

EFFICIENTPOSE_LIMBS: tuple[tuple[int, int], ...] = tuple(
    (_J[a], _J[b])
    for a, b in (
        ("head_top", "upper_neck"),
        ("upper_neck", "right_shoulder"),
        ("right_shoulder", "right_elbow"),
        ("right_elbow", "right_wrist"),
        ("upper_neck", "left_shoulder"),
        ("left_shoulder", "left_elbow"),
        ("left_elbow", "left_wrist"),
        ("upper_neck", "thorax"),
        ("thorax", "right_hip"),
        ("right_hip", "right_knee"),
        ("right_knee", "right_ankle"),
        ("thorax", "left_hip"),
        ("left_hip", "left_knee"),
        ("left_knee", "left_ankle"),
    )
)
"""The 14 PAF limbs ``(a, b)`` as MPII-16 indices (``skeletons.MPII16``), field channels
``(2l, 2l + 1)`` = ``(x, y)`` of the unit vector ``a → b`` (module docstring)."""

RELEASED_CHANNELS: tuple[int, ...] = tuple(
    _J[n]
    for n in (
        "head_top", "upper_neck", "right_shoulder", "right_elbow", "right_wrist", "thorax",
        "left_shoulder", "left_elbow", "left_wrist", "pelvis", "right_hip", "right_knee",
        "right_ankle", "left_hip", "left_knee", "left_ankle",
    )
)  # fmt: skip
"""Channel ``c`` of the authors' released models holds MPII-16 joint ``RELEASED_CHANNELS[c]``
(their ``utils/helpers.py`` body-part list): ``maps[:, RELEASED_CHANNELS]``-style reordering is
``out[:, j] = released[:, RELEASED_CHANNELS.index(j)]``."""

OUTPUT_NAMES = (
    "pass1_skeleton_pafs",
    "pass2_detection1_confs",
    "pass3_detection2_confs",
    "upscaled_confs",
)
"""The supervised outputs, in ``EfficientPose.output_names`` order."""

DECODE_FROM = ("upscaled", "pass3")


def _tensor(x, arg: str) -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"{arg}: expected a torch tensor, got {type(x).__name__}")
    return x


def _outputs(outputs, arg: str = "outputs") -> list[torch.Tensor]:
    """The model's list of 4 maps (``[pafs, confs1, confs2, upscaled]``)."""
    if not isinstance(outputs, (list, tuple)) or len(outputs) != len(OUTPUT_NAMES):
        got = type(outputs).__name__ if not isinstance(outputs, (list, tuple)) else len(outputs)
        raise ValueError(
            f"{arg}: expected the 4 EfficientPose outputs [{', '.join(OUTPUT_NAMES)}] (a model "
            f"with intermediate_heads=True), got {got}"
        )
    return [_tensor(o, f"{arg}[{i}] ({OUTPUT_NAMES[i]})") for i, o in enumerate(outputs)]


def efficientpose_loss(outputs, targets: dict, pass_weights=(1.0, 1.0, 1.0, 1.0)) -> torch.Tensor:
    """Per-pass supervision: ``Σ_i pass_weights[i] · heatmap_mse_loss(outputs[i], target_i,
    weight_i)`` over the four outputs (HRNet's ``0.5 · mean (w · (pred − target))²`` each).

    Args:
        outputs: ``[pafs (B, 2L, h, w), confs1 (B, K, h, w), confs2 (B, K, h, w), upscaled
            (B, K, H, W)]``.
        targets: ``EfficientPoseCodec.encode``'s dict: ``"pafs"``, ``"paf_weight"`` (B, 2L),
            ``"heatmaps"`` (B, K, h, w), ``"target_weight"`` (B, K), ``"upscaled"``
            (B, K, H, W).
        pass_weights: four finite numbers ≥ 0 (not all 0).
    Returns:
        Scalar tensor.
    """
    pafs, confs1, confs2, up = _outputs(outputs)
    for key in ("pafs", "paf_weight", "heatmaps", "target_weight", "upscaled"):
        if key not in targets:
            raise ValueError(f"targets: missing {key!r} (use EfficientPoseCodec.encode)")
    w = _pass_weights(pass_weights)
    pairs = (
        (pafs, targets["pafs"], targets["paf_weight"]),
        (confs1, targets["heatmaps"], targets["target_weight"]),
        (confs2, targets["heatmaps"], targets["target_weight"]),
        (up, targets["upscaled"], targets["target_weight"]),
    )
    total = pafs.new_zeros(())
    for i, (pred, target, weight) in enumerate(pairs):
        if w[i] == 0:
            continue
        if pred.shape != target.shape:
            raise ValueError(
                f"outputs[{i}] ({OUTPUT_NAMES[i]}): shape {tuple(pred.shape)}, target "
                f"{tuple(target.shape)}"
            )
        total = total + w[i] * heatmap_mse_loss(pred, target, weight)
    return total


def _pass_weights(pass_weights) -> tuple[float, ...]:
    try:
        w = tuple(float(v) for v in pass_weights)
    except (TypeError, ValueError):
        raise ValueError(f"pass_weights: expected 4 numbers, got {pass_weights!r}") from None
    if len(w) != 4 or not all(np.isfinite(v) and v >= 0 for v in w) or not any(w):
        raise ValueError(
            f"pass_weights: expected 4 finite numbers >= 0, not all 0, got {pass_weights!r}"
        )
    return w


class EfficientPoseCodec:
    """Targets of every EfficientPose output, their summed loss and a sub-pixel decoder, for
    ``posekit.engine`` and ``posekit.evaluation`` (module docstring).

    Args:
        input_size: ``(W, H)`` of the model's input (multiples of ``stride``).
        stride: output stride of the three passes (8).
        sigma: Gaussian σ of the pass-2/3 confidence maps in **map** pixels (1.0 = 8 input
            pixels at stride 8); the upscaled maps get ``stride · sigma`` input pixels.
        limb_width: PAF half-width in map pixels (``paf_targets``; 1).
        end_margin: PAF extension beyond the limb ends in map pixels (``paf_targets``; 1, as
            ``PAFCodec``: at stride 8 a short limb would otherwise cover no pixel centre).
        limbs: ``(L, 2)`` joint index pairs (default ``EFFICIENTPOSE_LIMBS``, L = 14; the
            model must have ``num_limbs = L``).
        pass_weights: loss weights of ``(pafs, confs1, confs2, upscaled)`` (all 1).
        decode_from: ``"upscaled"`` (stride 1, default) or ``"pass3"`` (stride 8).
        decoder: ``"argmax"``, ``"quarter"``, ``"dark"`` or ``"integral"``
            (``heatmap.decode_heatmaps``); default ``"argmax"`` for ``"upscaled"``,
            ``"dark"`` for ``"pass3"``.

    Protocol:
        ``encode(batch)``: ``batch["keypoints"]`` ``(B, K, 3)`` ``(x, y, v)`` in input pixels,
        optional ``batch["target_weight"]`` ``(B, K)`` → ``{"pafs": (B, 2L, h, w),
        "paf_weight": (B, 2L), "heatmaps": (B, K, h, w), "target_weight": (B, K),
        "upscaled": (B, K, H, W), "keypoints": (B, K, 3)}`` float32 on the keypoints'
        device (``h, w = H / stride, W / stride``). A joint's weight is the batch's times
        ``gaussian_heatmaps``' (0: unlabelled or its Gaussian misses the map); a limb's
        weight is 1 when both ends are labelled (``v > 0``) and have a batch weight > 0.
        ``loss(outputs, targets, batch=None)``: ``efficientpose_loss``.
        ``decode(outputs)``: the 4-output list (or ``[pass3, upscaled]`` of a model without
        intermediate heads, or one map tensor: its stride is read from its size) → B
        ``Instances`` of one person ``(1, K, 3)`` ``(x, y, score)`` in input pixels.
    """

    def __init__(
        self,
        input_size,
        stride: int = 8,
        sigma: float = 1.0,
        limb_width: float = 1.0,
        end_margin: float = 1.0,
        limbs: Sequence | None = None,
        pass_weights: Sequence[float] = (1.0, 1.0, 1.0, 1.0),
        decode_from: str = "upscaled",
        decoder: str | None = None,
    ) -> None:
        self.input_size = size2(input_size, "input_size")
        if isinstance(stride, bool) or not isinstance(stride, int) or stride < 1:
            raise ValueError(f"stride: expected a positive integer, got {stride!r}")
        W, H = self.input_size
        if W % stride or H % stride:
            raise ValueError(f"input_size: {self.input_size} is not a multiple of stride {stride}")
        self.stride = stride
        self.map_size = (W // stride, H // stride)
        if not (np.isfinite(sigma) and sigma > 0):
            raise ValueError(f"sigma: expected a positive number of map pixels, got {sigma!r}")
        if not (np.isfinite(limb_width) and limb_width > 0):
            raise ValueError(f"limb_width: expected a positive number, got {limb_width!r}")
        if not (np.isfinite(end_margin) and end_margin >= 0):
            raise ValueError(f"end_margin: expected a number >= 0, got {end_margin!r}")
        self.sigma, self.limb_width, self.end_margin = float(sigma), float(limb_width), end_margin
        lm = np.asarray(EFFICIENTPOSE_LIMBS if limbs is None else limbs)
        if lm.ndim != 2 or lm.shape[1] != 2 or lm.shape[0] == 0 or lm.dtype.kind not in "iu":
            raise ValueError(f"limbs: expected (L, 2) joint index pairs, got {limbs!r}")
        if lm.min() < 0:
            raise ValueError(f"limbs: joint indices must be >= 0, got {lm.tolist()}")
        self.limbs = tuple((int(a), int(b)) for a, b in lm)
        self.pass_weights = _pass_weights(pass_weights)
        if decode_from not in DECODE_FROM:
            raise ValueError(f"decode_from: expected one of {DECODE_FROM}, got {decode_from!r}")
        decoder = decoder or ("argmax" if decode_from == "upscaled" else "dark")
        if decoder not in DECODERS:
            raise ValueError(f"decoder: expected one of {DECODERS}, got {decoder!r}")
        self.decode_from, self.decoder = decode_from, decoder

    def __repr__(self) -> str:
        return (
            f"EfficientPoseCodec(input_size={self.input_size}, stride={self.stride}, "
            f"sigma={self.sigma:g}, limbs={len(self.limbs)}, pass_weights={self.pass_weights}, "
            f"decode_from={self.decode_from!r}, decoder={self.decoder!r})"
        )

    # ----------------------------------------------------------------------- encode

    def encode(self, batch: dict) -> dict:
        """Batch → targets of all four outputs (class docstring)."""
        if "keypoints" not in batch:
            raise ValueError("batch: missing 'keypoints' (B, K, 3)")
        kp = torch.as_tensor(batch["keypoints"])
        if not kp.is_floating_point():
            kp = kp.float()
        if kp.ndim != 3 or kp.shape[-1] != 3:
            raise ValueError(f"batch['keypoints']: expected (B, K, 3), got {tuple(kp.shape)}")
        b, k = kp.shape[:2]
        if max(max(a, c) for a, c in self.limbs) >= k:
            raise ValueError(f"batch['keypoints']: {k} joints, but limbs use joint indices up "
                             f"to {max(max(a, c) for a, c in self.limbs)}")  # fmt: skip
        given = batch.get("target_weight")
        if given is None:
            given = torch.ones(b, k, dtype=torch.float32, device=kp.device)
        else:
            given = torch.as_tensor(given, dtype=torch.float32, device=kp.device)
            if given.numel() != b * k:
                raise ValueError(f"batch['target_weight']: expected (B, K) = {(b, k)}, got "
                                 f"{tuple(given.shape)}")  # fmt: skip
            given = given.reshape(b, k)
        maps, weight = gaussian_heatmaps(kp, self.map_size, self.stride, self.sigma)
        up, up_weight = gaussian_heatmaps(kp, self.input_size, 1, self.stride * self.sigma)
        weight = weight * given
        maps = maps * (weight > 0)[..., None, None]
        up = up * (weight > 0)[..., None, None]
        # a joint whose Gaussian misses the stride-8 map still has a limb toward the crop
        usable = ((kp[..., 2] > 0) & (given > 0)).cpu()
        kp_np = kp.detach().cpu().numpy().astype(np.float64)
        kp_np[..., 2] = usable.numpy()
        pafs = paf_targets([kp_np[i : i + 1] for i in range(b)], self.map_size, self.stride,
                           self.limbs, self.limb_width, self.end_margin)  # fmt: skip
        lm = torch.as_tensor(self.limbs)
        limb_w = (usable[:, lm[:, 0]] & usable[:, lm[:, 1]]).float()  # (B, L)
        paf_weight = limb_w.repeat_interleave(2, dim=1)
        dev = kp.device
        return {
            "pafs": torch.from_numpy(pafs).to(dev) * paf_weight.to(dev)[..., None, None],
            "paf_weight": paf_weight.to(dev),
            "heatmaps": maps,
            "target_weight": weight,
            "upscaled": up,
            "keypoints": kp,
        }

    # ----------------------------------------------------------------------- loss

    def loss(self, outputs, targets: dict, batch: dict | None = None) -> torch.Tensor:
        """``efficientpose_loss(outputs, targets, self.pass_weights)``."""
        return efficientpose_loss(outputs, targets, self.pass_weights)

    # ----------------------------------------------------------------------- decode

    def _stride_of(self, maps: torch.Tensor, arg: str) -> int:
        W, H = self.input_size
        if maps.ndim != 4:
            raise ValueError(f"{arg}: expected (B, K, h, w) maps, got {tuple(maps.shape)}")
        size = (maps.shape[-1], maps.shape[-2])
        if size == (W, H):
            return 1
        if size == self.map_size:
            return self.stride
        raise ValueError(
            f"{arg}: maps of {size[0]}×{size[1]} (w×h) are neither the input {W}×{H} nor "
            f"stride {self.stride}'s {self.map_size[0]}×{self.map_size[1]}"
        )

    def maps_to_decode(self, outputs) -> torch.Tensor:
        """The maps ``decode`` reads: ``upscaled_confs`` or ``pass3_detection2_confs``."""
        if isinstance(outputs, torch.Tensor):
            return outputs
        if not isinstance(outputs, (list, tuple)) or len(outputs) not in (2, 4):
            n = len(outputs) if isinstance(outputs, (list, tuple)) else type(outputs).__name__
            raise ValueError(
                "outputs: expected the EfficientPose outputs (4 maps, or [pass3, upscaled] "
                f"without intermediate heads) or one map tensor, got {n}"
            )
        return _tensor(outputs[-1] if self.decode_from == "upscaled" else outputs[-2], "outputs")

    def decode(self, outputs) -> list[Instances]:
        """Outputs → B ``Instances`` of one person, ``(1, K, 3)`` in input pixels."""
        maps = self.maps_to_decode(outputs)
        stride = self._stride_of(maps, "outputs")
        sigma = self.sigma * self.stride if stride == 1 else self.sigma
        return per_crop(decode_heatmaps(maps, stride, self.decoder, sigma=sigma))
