"""EfficientPoseCodec (issue 14): per-pass targets by hand, round trips, the loss, errors, and
the limb order against the authors' released RT model (skipped without its ``.h5``)."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from posekit import engine, evaluation
from posekit.codecs.efficientpose import (
    EFFICIENTPOSE_LIMBS,
    RELEASED_CHANNELS,
    EfficientPoseCodec,
    efficientpose_loss,
)
from posekit.codecs.instances import stack_keypoints
from posekit.skeletons import MPII16

J = {name: i for i, name in enumerate(MPII16.joints)}


def _batch(points: dict[str, tuple[float, float]], b: int = 1) -> dict:
    """One crop (repeated ``b`` times) with the named joints labelled at input ``(x, y)``."""
    kp = torch.zeros(b, 16, 3)
    for name, (x, y) in points.items():
        kp[:, J[name]] = torch.tensor([x, y, 1.0])
    return {"keypoints": kp, "target_weight": (kp[..., 2] > 0).float()}


def _full_pose(seed: int = 0, size: int = 64, b: int = 3, margin: float = 8) -> dict:
    g = torch.Generator().manual_seed(seed)
    xy = margin + torch.rand(b, 16, 2, generator=g) * (size - 2 * margin)
    kp = torch.cat([xy, torch.ones(b, 16, 1)], -1)
    return {"keypoints": kp, "target_weight": torch.ones(b, 16)}


def test_the_limbs_and_the_released_channel_order_by_name():
    names = [(MPII16.joints[a], MPII16.joints[b]) for a, b in EFFICIENTPOSE_LIMBS]
    assert names == [
        ("head_top", "upper_neck"), ("upper_neck", "right_shoulder"),
        ("right_shoulder", "right_elbow"), ("right_elbow", "right_wrist"),
        ("upper_neck", "left_shoulder"), ("left_shoulder", "left_elbow"),
        ("left_elbow", "left_wrist"), ("upper_neck", "thorax"), ("thorax", "right_hip"),
        ("right_hip", "right_knee"), ("right_knee", "right_ankle"), ("thorax", "left_hip"),
        ("left_hip", "left_knee"), ("left_knee", "left_ankle"),
    ]  # fmt: skip
    assert len(EFFICIENTPOSE_LIMBS) == 14  # the model's 28 PAF channels
    # the authors' helpers.py body parts, in their channel order
    assert [MPII16.joints[j] for j in RELEASED_CHANNELS][:6] == [
        "head_top",
        "upper_neck",
        "right_shoulder",
        "right_elbow",
        "right_wrist",
        "thorax",
    ]
    assert sorted(RELEASED_CHANNELS) == list(range(16))


def test_confidence_maps_by_hand():
    codec = EfficientPoseCodec((64, 48))  # stride 8 → 8×6 maps, σ = 1 map px
    # input (27.5, 19.5) is the centre of map pixel (3, 2): u = (x + 0.5)/8 - 0.5
    t = codec.encode(_batch({"head_top": (27.5, 19.5)}))
    maps = t["heatmaps"][0, J["head_top"]]
    assert maps.shape == (6, 8)
    assert maps[2, 3] == pytest.approx(1.0)
    assert maps[2, 4] == pytest.approx(math.exp(-0.5), rel=1e-6)
    assert maps[3, 4] == pytest.approx(math.exp(-1.0), rel=1e-6)
    assert t["target_weight"][0, J["head_top"]] == 1 and t["target_weight"][0, J["pelvis"]] == 0
    assert t["heatmaps"][0, J["pelvis"]].abs().sum() == 0
    # full resolution: σ = 8 input px centred on (27.5, 19.5)
    up = t["upscaled"][0, J["head_top"]]
    assert up.shape == (48, 64)
    assert up[19, 27] == pytest.approx(math.exp(-(0.25 + 0.25) / (2 * 64)), rel=1e-6)
    assert up[19, 35] == pytest.approx(math.exp(-(7.5**2 + 0.25) / (2 * 64)), rel=1e-6)


def test_paf_of_one_limb_by_hand():
    codec = EfficientPoseCodec((64, 64))
    # head top at map (3, 1), upper neck at map (3, 5): a vertical limb pointing down (+y)
    t = codec.encode(_batch({"head_top": (27.5, 11.5), "upper_neck": (27.5, 43.5)}))
    fx, fy = t["pafs"][0, 0], t["pafs"][0, 1]
    assert fx.abs().max() == 0
    on = torch.zeros(8, 8, dtype=torch.bool)
    on[0:7, 2:5] = True  # |x - 3| ≤ 1 (limb width) and y in [1 - 1, 5 + 1] (end margin 1)
    assert torch.equal(fy == 1, on) and fy[~on].abs().max() == 0
    assert t["paf_weight"][0].tolist() == [1.0, 1.0] + [0.0] * 26  # other limbs lack an end
    assert t["pafs"][0, 2:].abs().max() == 0


def test_paf_of_a_diagonal_limb_is_the_unit_vector():
    codec = EfficientPoseCodec((64, 64))
    t = codec.encode(_batch({"thorax": (11.5, 11.5), "right_hip": (43.5, 43.5)}))
    limb = EFFICIENTPOSE_LIMBS.index((J["thorax"], J["right_hip"]))
    fx, fy = t["pafs"][0, 2 * limb], t["pafs"][0, 2 * limb + 1]
    s = 1 / math.sqrt(2)
    assert fx[3, 3] == pytest.approx(s) and fy[3, 3] == pytest.approx(s)
    assert fx[0, 7] == 0  # far from the segment


def test_a_joint_the_batch_masks_drops_its_maps_and_limbs():
    batch = _batch({"head_top": (27.5, 11.5), "upper_neck": (27.5, 43.5)})
    batch["target_weight"][0, J["upper_neck"]] = 0
    t = EfficientPoseCodec((64, 64)).encode(batch)
    assert t["target_weight"][0, J["upper_neck"]] == 0
    assert t["heatmaps"][0, J["upper_neck"]].abs().sum() == 0
    assert t["upscaled"][0, J["upper_neck"]].abs().sum() == 0
    assert t["paf_weight"][0, :2].tolist() == [0.0, 0.0] and t["pafs"][0, :2].abs().sum() == 0


def _perfect(t: dict) -> list[torch.Tensor]:
    return [t["pafs"], t["heatmaps"], t["heatmaps"].clone(), t["upscaled"]]


def test_loss_is_zero_on_the_targets_and_weights_each_pass():
    codec = EfficientPoseCodec((64, 64))
    t = codec.encode(_full_pose())
    out = _perfect(t)
    assert codec.loss(out, t).item() == 0.0
    bumped = [o.clone() for o in out]
    bumped[0] += 0.1  # only the PAFs are wrong: 0.5 · 0.1² on every weighted channel
    assert codec.loss(bumped, t).item() == pytest.approx(0.5 * 0.01, rel=1e-5)
    no_paf = EfficientPoseCodec((64, 64), pass_weights=(0, 1, 1, 1))
    assert no_paf.loss(bumped, t).item() == 0.0
    bumped[3] += 0.2
    assert codec.loss(bumped, t).item() == pytest.approx(0.5 * (0.01 + 0.04), rel=1e-5)
    double = efficientpose_loss(bumped, t, (2, 1, 1, 3))
    assert double.item() == pytest.approx(0.5 * (2 * 0.01 + 3 * 0.04), rel=1e-5)


@pytest.mark.parametrize("decode_from, decoder, tol", [("upscaled", "argmax", 0.5 + 1e-6),
                                                       ("pass3", "dark", 0.05)])  # fmt: skip
def test_decode_perfect_maps_round_trips(decode_from, decoder, tol):
    """Upscaled maps (stride 1): the argmax is within half an input pixel. Pass 3 (stride 8,
    16×16 maps): DARK is sub-pixel where its 5×5 Taylor patch fits (joints ≥ 2 map px in)."""
    codec = EfficientPoseCodec((128, 128), decode_from=decode_from, decoder=decoder)
    batch = _full_pose(size=128, margin=24)
    got = stack_keypoints(codec.decode(_perfect(codec.encode(batch))))
    assert got.shape == (3, 16, 3)
    err = np.abs(got[..., :2] - batch["keypoints"][..., :2].numpy())
    assert err.max() <= tol, err.max()
    # the score is the map's peak: a pixel within (0.5, 0.5) px of the centre, e^(-0.25/σ²)
    sigma = 8.0 if decode_from == "upscaled" else 1.0
    assert np.all((got[..., 2] >= math.exp(-0.25 / sigma**2) - 1e-6) & (got[..., 2] <= 1))


def test_decode_reads_the_stride_from_the_map_size():
    codec = EfficientPoseCodec((64, 64))
    batch = _batch({"pelvis": (30.0, 22.0)})
    t = codec.encode(batch)
    for maps, tol in ((t["upscaled"], 0.0), (t["heatmaps"], 0.05)):  # one tensor: its stride
        got = stack_keypoints(EfficientPoseCodec((64, 64), decoder="dark").decode(maps))
        assert np.allclose(got[0, J["pelvis"], :2], [30.0, 22.0], atol=max(tol, 0.05))
    two = [t["heatmaps"], t["upscaled"]]  # a model without intermediate heads
    got = stack_keypoints(codec.decode(two))
    assert np.allclose(got[0, J["pelvis"], :2], [30.0, 22.0])


@pytest.mark.parametrize(
    "kwargs, named",
    [(dict(input_size=(60, 64)), "input_size"), (dict(stride=0), "stride"),
     (dict(sigma=0), "sigma"), (dict(sigma=float("nan")), "sigma"),
     (dict(limb_width=-1), "limb_width"), (dict(end_margin=-1), "end_margin"),
     (dict(limbs=[[0, 1, 2]]), "limbs"), (dict(limbs=[[-1, 2]]), "limbs"),
     (dict(pass_weights=(1, 1, 1)), "pass_weights"), (dict(pass_weights=(0, 0, 0, 0)),
                                                      "pass_weights"),
     (dict(pass_weights=(1, 1, -1, 1)), "pass_weights"), (dict(decode_from="pass1"),
                                                          "decode_from"),
     (dict(decoder="soft"), "decoder")],
)  # fmt: skip
def test_bad_arguments_name_themselves(kwargs, named):
    args = {"input_size": (64, 64), **kwargs}
    with pytest.raises(ValueError, match=named):
        EfficientPoseCodec(**args)


def test_bad_batches_and_outputs_name_themselves():
    codec = EfficientPoseCodec((64, 64))
    with pytest.raises(ValueError, match="keypoints"):
        codec.encode({"keypoints": torch.zeros(2, 16)})
    with pytest.raises(ValueError, match="keypoints"):
        codec.encode({})
    with pytest.raises(ValueError, match="limbs use joint"):
        codec.encode({"keypoints": torch.zeros(2, 10, 3)})
    with pytest.raises(ValueError, match="target_weight"):
        codec.encode({"keypoints": torch.zeros(2, 16, 3), "target_weight": torch.ones(3)})
    t = codec.encode(_full_pose())
    out = _perfect(t)
    with pytest.raises(ValueError, match="outputs"):
        codec.loss(out[1:], t)
    with pytest.raises(ValueError, match=r"outputs\[3\] \(upscaled_confs\)"):
        codec.loss(out[:3] + [out[3][..., :32, :32]], t)
    with pytest.raises(ValueError, match="targets"):
        codec.loss(out, {"pafs": t["pafs"]})
    with pytest.raises(ValueError, match="outputs"):
        codec.decode([out[3]] * 3)
    with pytest.raises(ValueError, match="outputs: maps of 32×32"):
        codec.decode(out[3][..., :32, :32])
    with pytest.raises(ValueError, match="heatmaps"):  # the decoders refuse NaN maps
        codec.decode(torch.full((1, 16, 64, 64), float("nan")))


def test_trains_and_evaluates_with_the_engine_unchanged():
    from posekit.datasets.synthpose import SynthPoseTopDown
    from posekit.models.efficientpose import efficientpose

    torch.manual_seed(0)
    model = efficientpose("rt", resolution=32)
    codec = EfficientPoseCodec((32, 32))
    train = SynthPoseTopDown("train", 4, (32, 32), "mpii16", seed=0)
    val = SynthPoseTopDown("val", 2, (32, 32), "mpii16", seed=0)
    config = engine.TrainConfig(epochs=1, batch_size=2, lr=1e-3, device="cpu")
    history = engine.train(model, codec, codec.loss, train, None, config, progress=False)
    assert len(history.step_loss) == 2 and all(np.isfinite(history.step_loss))
    scores = evaluation.evaluate_pckh(model, codec, val)
    assert set(scores) == {"PCKh@0.5", "PCKh@0.1"} and 0 <= scores["PCKh@0.5"] <= 100


# --- the released RT's pass-1 fields follow EFFICIENTPOSE_LIMBS ------------------------------

WEIGHTS = Path(
    os.environ.get(
        "POSEKIT_EFFICIENTPOSE_DIR",
        Path(__file__).resolve().parents[2] / "shared" / "weights" / "efficientpose",
    )
)


def test_released_rt_fields_match_our_limb_targets():
    """On the authors' MPII sample the released RT's 14 fields correlate each best with our
    target field of the same limb, drawn from the joints its upscaled maps decode to."""
    pytest.importorskip("h5py")
    h5, ref = WEIGHTS / "EfficientPoseRT.h5", WEIGHTS / "efficientpose_rt_tflite_reference.npz"
    if not (h5.is_file() and ref.is_file()):
        pytest.skip(f"released EfficientPose RT not found in {WEIGHTS}")
    from posekit.models.efficientpose import efficientpose, load_keras_weights

    model = load_keras_weights(efficientpose("rt"), h5)
    img = np.load(ref)["mpii_sample__image_uint8"].astype(np.float32)
    mean, std = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])
    x = torch.from_numpy(((img / 255 - mean) / std).astype(np.float32).transpose(2, 0, 1)[None])
    with torch.no_grad():
        pafs, _, _, up = model(x)
    codec = EfficientPoseCodec((224, 224))
    released = stack_keypoints(codec.decode(up))[0]  # (16, 3) in the released channel order
    kp = torch.zeros(1, 16, 3)
    kp[0, list(RELEASED_CHANNELS), :2] = torch.from_numpy(released[:, :2]).float()
    kp[..., 2] = 1
    ours = codec.encode({"keypoints": kp})["pafs"][0].reshape(14, 2, 28, 28)
    theirs = pafs[0].reshape(14, 2, 28, 28)
    corr = torch.einsum("lchw,mchw->lm", theirs, ours)
    corr = corr / theirs.flatten(1).norm(dim=1)[:, None] / ours.flatten(1).norm(dim=1)[None]
    assert corr.argmax(dim=1).tolist() == list(range(14)), corr.numpy().round(2)
    assert corr.diagonal().min() > 0.3, corr.diagonal()
