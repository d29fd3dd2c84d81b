"""SPHP's training and evaluation protocol: codecs.sphp targets / loss / decoding,
datasets.sphp.SPHPFrames on a hand-written SPHP-format folder, evaluation.evaluate_sphp.

Independent expectations: OpenCV's 1-D Gaussian kernel (the blurred one-hot is its outer
product), hand-computed losses and errors, and frames whose every modality holds a known
constant so that channel order and normalisation can be read off.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from posekit import evaluation
from posekit.codecs.sphp import SPHPCodec, integer_pixels, sphp_heatmaps, sphp_loss
from posekit.datasets.formats.sphp import sphp_sequence_dir, write_sphp_sequence
from posekit.datasets.sphp import SPHPFrames

# ------------------------------------------------------------------------------ targets


def test_target_is_the_blurred_one_hot_of_the_pixel_holding_the_joint():
    kp = np.array([[[40.9, 30.2, 2.0]]])  # pixel (col 40, row 30): truncation, not rounding
    maps, weight = sphp_heatmaps(kp, (96, 64))
    g = cv2.getGaussianKernel(33, 4.0)[:, 0]
    expected = np.outer(g, g) / g[16] ** 2  # peak 1
    np.testing.assert_allclose(maps[0, 0, 30 - 16 : 30 + 17, 40 - 16 : 40 + 17], expected,
                               atol=1e-6)  # fmt: skip
    assert maps[0, 0].argmax() == 30 * 96 + 40 and maps[0, 0].max() == 1.0
    assert weight.tolist() == [[1.0]]


def test_unlabelled_or_outside_joints_get_no_target():
    kp = np.array([[[10, 10, 0], [200, 10, 2], [-0.5, 3, 2], [5, 5, 2]]], np.float32)
    maps, weight = sphp_heatmaps(kp, (32, 24))
    assert weight.tolist() == [[0, 0, 0, 1]]
    assert (maps[0, :3] == 0).all() and maps[0, 3].max() == 1


def test_integer_pixels_truncates():
    np.testing.assert_array_equal(integer_pixels([[3.99, 0.2], [0.0, 7.5]]), [[3, 0], [0, 7]])


def test_loss_is_mean_per_image_summed_over_the_batch():
    target = torch.zeros(2, 1, 2, 2)
    target[0, 0, 0, 0] = 1.0
    pred = torch.zeros(2, 1, 2, 2)
    # image 0: one pixel off by 1 over 4 pixels -> 0.25; image 1: 0
    assert float(sphp_loss(pred, target)) == pytest.approx(0.25)
    assert float(sphp_loss(pred, target, torch.tensor([[0.0], [1.0]]))) == 0.0
    with pytest.raises(ValueError, match="pred: shape"):
        sphp_loss(pred[:1], target)


def test_codec_round_trip_decodes_the_integer_pixel():
    codec = SPHPCodec((96, 64))
    kp = torch.tensor([[[25.7, 19.1, 2.0], [70.0, 40.9, 2.0]]])
    targets = codec.encode({"keypoints": kp})
    assert targets["heatmaps"].shape == (1, 2, 64, 96)
    people = codec.decode(targets["heatmaps"])
    np.testing.assert_array_equal(people[0].keypoints[0, :, :2], [[25, 19], [70, 40]])


def test_near_the_border_opencvs_reflection_moves_the_peak_as_in_sphp():
    # cv2.GaussianBlur's default border mirrors the map (reflect 101): 5 px from the edge the
    # mirrored copy adds g(9) = exp(-81/32) to pixel 4 and g(10) to pixel 5, enough to move
    # the maximum one pixel toward the edge: g(1) + g(9) > g(0) + g(10) (SPHP's targets too)
    g = lambda d: np.exp(-(d**2) / 32)  # noqa: E731
    assert g(1) + g(9) > g(0) + g(10)
    maps, _ = sphp_heatmaps(np.array([[[5.0, 30.0, 2.0]]]), (64, 64))
    assert np.unravel_index(maps[0, 0].argmax(), (64, 64)) == (30, 4)


def _decay_heatmap(row, col, h, w, sigma):
    """SPHP's generateGT / decay_heatmap (``lyhsieh/SPHP``, SPHPDataset.py), verbatim steps."""
    heatmap = np.zeros((h, w))
    heatmap[row, col] = 1
    heatmap = cv2.GaussianBlur(heatmap, (0, 0), sigma)
    return heatmap / np.max(heatmap)


@pytest.mark.parametrize("sigma", [4.0, 2.5, 1.3])
def test_target_is_sphps_decay_heatmap_for_any_sigma_and_near_borders(sigma):
    rows_cols = [(0, 0), (3, 50), (47, 95), (20, 1), (30, 40)]
    kp = np.array([[[c + 0.6, r + 0.2, 2.0] for r, c in rows_cols]])
    maps, _ = sphp_heatmaps(kp, (96, 48), sigma=sigma)
    for j, (r, c) in enumerate(rows_cols):
        np.testing.assert_allclose(maps[0, j], _decay_heatmap(r, c, 48, 96, sigma), atol=1e-6)


def test_decode_wants_maps_at_stride_1():
    with pytest.raises(ValueError, match="at stride 1"):
        SPHPCodec((96, 64)).decode(torch.zeros(1, 2, 16, 24))


# ------------------------------------------------------------------------------ dataset

LEVELS = {"EDG": 255, "MVV": 192, "MVH": 64, "GRA": 51}  # constant frames, known values


def _sequence(root, camera, subject, action, frames=3):
    rng = np.random.default_rng(subject * 100 + action)
    labels = np.zeros((frames, 13, 3))
    labels[..., 0] = rng.uniform(60, 580, (frames, 13))  # 36+ px from the 384x288 border
    labels[..., 1] = rng.uniform(60, 420, (frames, 13))
    labels[..., 2] = 2
    labels[0, 4, 2] = 0  # one unlabelled joint
    images = {m: np.full((frames, 480, 640), v, np.uint8) for m, v in LEVELS.items()}
    write_sphp_sequence(sphp_sequence_dir(root, camera, subject, action), images, labels)
    return labels


@pytest.fixture(scope="module")
def sphp_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("sphp")
    labels = {}
    for camera in ("Master", "Slave"):
        for subject, action in [(1, 1), (1, 9), (9, 5), (9, 13)]:  # s01 train, s09 test
            labels[camera, subject, action] = _sequence(root, camera, subject, action)
    return root, labels


def test_frames_of_a_split_with_channels_in_sphp_order(sphp_root):
    root, labels = sphp_root
    data = SPHPFrames(root, "test", inputs="fs", size=(384, 288))
    assert len(data) == 2 * 2 * 3  # 2 cameras x 2 sequences of s09 x 3 frames
    item = data[0]
    assert item["image"].shape == (3, 288, 384)
    # [EDG, MVV, MVH]: 255 / 255, (192 - 128) / 128, (64 - 128) / 128
    np.testing.assert_allclose(item["image"][:, 0, 0].numpy(), [1.0, 0.5, -0.5])
    assert item["subject"] == "s09" and item["camera"] == "Master"
    assert (item["action"], item["action_class"]) == (5, 1)  # action 05 is C2
    kp, on = labels["Master", 9, 5][0], item["target_weight"].numpy() > 0
    np.testing.assert_allclose(item["keypoints"][on, 0], kp[on, 0] * 384 / 640, rtol=1e-6)
    np.testing.assert_allclose(item["keypoints"][on, 1], kp[on, 1] * 288 / 480, rtol=1e-6)
    assert item["target_weight"][4] == 0 and item["target_weight"].sum() == 12


@pytest.mark.parametrize("inputs,values", [("ed", [1.0]), ("gr", [0.2]), ("mv", [0.5, -0.5])])
def test_single_inputs(sphp_root, inputs, values):
    data = SPHPFrames(sphp_root[0], "train", inputs=inputs, size=(96, 72), frame_step=2)
    assert len(data) == 2 * 2 * 2  # frames 0 and 2
    np.testing.assert_allclose(data[0]["image"][:, 5, 5].numpy(), values, rtol=1e-6)


def test_undistortion_is_sphps_bicubic_remap_before_the_area_resize(tmp_path):
    rng = np.random.default_rng(3)
    frames = rng.integers(0, 256, (1, 480, 640), np.uint8)  # texture: linear != cubic
    images = {m: frames for m in LEVELS}
    labels = np.zeros((1, 13, 3))
    labels[..., :2], labels[..., 2] = 100.0, 2
    write_sphp_sequence(sphp_sequence_dir(tmp_path, "Master", 9, 5), images, labels)
    k = np.array([[500.0, 0, 320], [0, 500, 240], [0, 0, 1]])
    dist = np.array([-0.2, 0.05, 0.001, -0.001, 0.0])
    data = SPHPFrames(tmp_path, "test", inputs="ed", calibration={"K": k, "dist": dist})
    # SPHP's ComputeCameraParameters and __getitem__ (SPHPDataset.py)
    k_optim, _ = cv2.getOptimalNewCameraMatrix(k, dist, (640, 480), 0, (640, 480))
    mapx, mapy = cv2.initUndistortRectifyMap(k, dist, None, k_optim, (640, 480), 5)
    img = cv2.remap(frames[0], mapx, mapy, cv2.INTER_CUBIC)
    img = cv2.resize(img, (384, 288), interpolation=cv2.INTER_AREA)
    np.testing.assert_allclose(data[0]["image"][0].numpy(), img.astype(np.float32) / 255.0)


def test_bad_arguments_are_named(sphp_root, tmp_path):
    with pytest.raises(ValueError, match="inputs: expected one of"):
        SPHPFrames(sphp_root[0], inputs="rgb")
    with pytest.raises(ValueError, match="split: expected"):
        SPHPFrames(sphp_root[0], split="dev")
    with pytest.raises(ValueError, match="root: no val sequences"):
        SPHPFrames(sphp_root[0], split="val")
    with pytest.raises(FileNotFoundError, match="root:"):
        SPHPFrames(tmp_path / "nowhere")


# ------------------------------------------------------------------------------ MPJPE


class _Shifted(torch.nn.Module):
    """Outputs the perfect SPHP targets of each item, moved ``dx`` pixels right."""

    def __init__(self, codec, batches, dx):
        super().__init__()
        self.codec, self.batches, self.dx = codec, iter(batches), dx
        self.anchor = torch.nn.Parameter(torch.zeros(()))

    def forward(self, x):
        kp = next(self.batches)["keypoints"].clone()
        x = torch.trunc(kp[..., 0])
        width = self.codec.input_size[0]
        kp[..., 0] = torch.where(x + self.dx < width, x + self.dx, x - self.dx)  # stay on the map
        return self.codec.encode({"keypoints": kp})["heatmaps"]


def test_mpjpe_per_class_of_a_model_off_by_a_known_shift(sphp_root):
    data = SPHPFrames(sphp_root[0], "train", inputs="ed", size=(384, 288))
    codec = SPHPCodec((384, 288))
    batches = list(torch.utils.data.DataLoader(data, batch_size=4))
    perfect = evaluation.evaluate_sphp(_Shifted(codec, batches, 0), codec, data, batch_size=4)
    assert perfect == {"C1": 0.0, "C3": 0.0, "mean": 0.0, "frames": 12}
    # every joint 3 px off (to the right, or to the left near the right edge)
    shifted = evaluation.evaluate_sphp(_Shifted(codec, batches, 3), codec, data, batch_size=4)
    assert shifted["C1"] == pytest.approx(3.0) and shifted["mean"] == pytest.approx(3.0)


class _Moved(torch.nn.Module):
    """Outputs SPHP targets at each joint's integer pixel moved by ``offsets[i]`` (13, 2) for
    image ``i`` (batches of one image)."""

    def __init__(self, codec, batches, offsets):
        super().__init__()
        self.codec, self.batches, self.offsets = codec, iter(batches), iter(offsets)
        self.anchor = torch.nn.Parameter(torch.zeros(()))

    def forward(self, x):
        kp = next(self.batches)["keypoints"].clone()
        kp[0, :, :2] = torch.trunc(kp[0, :, :2]) + torch.as_tensor(next(self.offsets))
        return self.codec.encode({"keypoints": kp})["heatmaps"]


@pytest.mark.parametrize("size", [(384, 288), (192, 144)])
def test_mpjpe_is_the_mean_over_images_of_each_images_mean_in_384_pixels(sphp_root, size):
    data = SPHPFrames(sphp_root[0], "train", inputs="ed", size=size)
    codec = SPHPCodec(size)
    batches = list(torch.utils.data.DataLoader(data, batch_size=1))
    offsets = np.random.default_rng(7).integers(-6, 7, (len(data), 13, 2))
    offsets[[b["target_weight"][0, 4] == 0 for b in batches], 4] = 0  # unlabelled: no target
    result = evaluation.evaluate_sphp(_Moved(codec, batches, offsets), codec, data, batch_size=1)
    # SPHP's evaluate: nanmean over the labelled joints of an image, then over the images
    scale = 384 / size[0]
    norms = [np.linalg.norm(off[b["target_weight"][0].numpy() > 0], axis=-1)
             for b, off in zip(batches, offsets, strict=True)]  # fmt: skip
    per_image = scale * np.array([n.mean() for n in norms])
    classes = np.array([int(b["action_class"][0]) for b in batches])
    assert result["frames"] == len(data) == 12
    assert result["mean"] == pytest.approx(per_image.mean(), rel=1e-9)
    assert result["C1"] == pytest.approx(per_image[classes == 0].mean(), rel=1e-9)
    assert result["C3"] == pytest.approx(per_image[classes == 2].mean(), rel=1e-9)
    pooled = scale * np.concatenate(norms).mean()  # every joint alike: not SPHP's weighting
    assert per_image.mean() != pytest.approx(pooled)


# ------------------------------------------------------------------------------ training


@pytest.fixture(scope="module")
def sphp_splits(tmp_path_factory):
    """Train (s01), val (s06) and test (s09) sequences, Master camera only."""
    root = tmp_path_factory.mktemp("sphp_splits")
    for subject, action in [(1, 1), (1, 13), (6, 5), (9, 9), (9, 2)]:
        _sequence(root, "Master", subject, action, frames=4)
    return root


def test_train_sphp_writes_a_checkpoint_that_eval_scores_per_class(sphp_splits, tmp_path):
    from posekit import recipes

    model, history, out = recipes.train_sphp(
        "dhp19", "fs", data=sphp_splits, out=tmp_path / "run.pt", size=(64, 48), epochs=1,
        batch_size=4, progress=False,
    )  # fmt: skip
    assert out.exists() and np.isfinite(history.step_loss).all()
    assert set(history.evals[-1]) >= {"C2", "mean"}  # the val subject s06 does action 05 (C2)
    result = recipes.evaluate_checkpoint(out, progress=False)
    assert result["kind"] == "sphp" and result["n"] == 8  # s09: 2 sequences x 4 frames
    assert set(result["mpjpe"]) == {"C1", "C3", "mean", "frames"}
    assert 0 <= result["mpjpe"]["mean"] < 500


@pytest.mark.parametrize("backbone, inputs, heads", [("unet_small", "ed", 1),
                                                      ("unet_small", "late", 3)])  # fmt: skip
def test_train_sphp_starts_unet_heads_near_zero(sphp_splits, tmp_path, monkeypatch,
                                                backbone, inputs, heads):  # fmt: skip
    # The U-Nets' default 1x1 head starts the loss ~40x above all-zero maps; under the CPU
    # budget U-Net-Small then never left the all-zero solution (58-112 px). N(0, 1e-3) heads.
    from posekit import engine, recipes
    from posekit.models.sphp import UNet

    seen = {}

    def fake_train(model, codec, loss, train_set, *args, **kwargs):
        batch = [train_set[i] for i in range(4)]
        x = torch.stack([b["image"] for b in batch])
        kp = torch.stack([b["keypoints"] for b in batch])
        targets = codec.encode({"keypoints": kp})
        model.train()
        with torch.no_grad():
            seen["loss"] = float(loss(model(x), targets))
        seen["zero"] = float(loss(torch.zeros_like(targets["heatmaps"]), targets))
        seen["heads"] = [m.head for m in model.modules() if isinstance(m, UNet)]
        return engine.History()

    monkeypatch.setattr(recipes.engine, "train", fake_train)
    recipes.train_sphp(backbone, inputs, data=sphp_splits, out=tmp_path / "u.pt", size=(64, 48),
                       progress=False)  # fmt: skip
    assert len(seen["heads"]) == heads
    for head in seen["heads"]:
        assert torch.all(head.bias == 0) and 0.5e-3 < float(head.weight.detach().std()) < 2e-3
    assert seen["loss"] < 1.1 * seen["zero"]  # default heads: 0.85 (ed), 0.34 (late) vs 0.065


def test_train_sphp_names_bad_arguments(sphp_splits, tmp_path):
    from posekit import recipes

    with pytest.raises(ValueError, match="--backbone / backbone='resnet'"):
        recipes.train_sphp("resnet", data=sphp_splits, out=tmp_path / "a.pt")
    with pytest.raises(ValueError, match="--input / inputs='rgb'"):
        recipes.train_sphp("dhp19", "rgb", data=sphp_splits, out=tmp_path / "a.pt")
    with pytest.raises(ValueError, match="multiples of 8"):
        recipes.train_sphp("dhp19", data=sphp_splits, out=tmp_path / "a.pt", size=(60, 45))
    with pytest.raises(ValueError, match="4:3"):
        recipes.train_sphp("dhp19", data=sphp_splits, out=tmp_path / "a.pt", size=(64, 64))


def test_cli_train_and_eval_sphp(sphp_splits, tmp_path, capsys):
    from posekit import cli

    out = tmp_path / "cli.pt"
    argv = [
        "train",
        "sphp",
        "--data",
        str(sphp_splits),
        "--backbone",
        "dhp19",
        "--input",
        "ed",
        "--size",
        "64x48",
        "--epochs",
        "1",
        "--batch-size",
        "4",
        "--out",
        str(out),
    ]
    assert cli.main(argv) == 0
    assert "val MPJPE px at 384x288" in capsys.readouterr().out
    assert cli.main(["eval", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "2-D MPJPE" in printed and "C1" in printed and "mean" in printed
    assert cli.main(["train", "sphp", "--out", str(out)]) == 2
    assert "--data DIR is required" in capsys.readouterr().err


def test_cli_eval_of_an_sphp_checkpoint_whose_data_is_gone(sphp_splits, tmp_path, capsys):
    import shutil

    from posekit import cli

    data, out = tmp_path / "data", tmp_path / "gone.pt"
    shutil.copytree(sphp_splits, data)
    argv = ["train", "sphp", "--data", str(data), "--input", "ed", "--size", "64x48",
            "--epochs", "1", "--batch-size", "4", "--frame-step", "4",
            "--out", str(out)]  # fmt: skip
    assert cli.main(argv) == 0
    shutil.rmtree(data)
    capsys.readouterr()
    assert cli.main(["eval", str(out)]) == 2
    err = capsys.readouterr().err
    assert "posekit eval: error:" in err and "SPHP data folder" in err and str(data) in err


def test_cli_bench_sensors_prints_a_table(capsys):
    from posekit import cli

    assert cli.main(["bench", "sensors", "--repeats", "1"]) == 0
    printed = capsys.readouterr().out
    assert "edges" in printed and "events" in printed


def test_cli_train_refuses_options_its_model_does_not_use(capsys):
    from posekit import cli

    assert cli.main(["train", "sphp", "--data", ".", "--n-train", "10"]) == 2
    assert "--n-train do(es) not apply to `posekit train sphp`" in capsys.readouterr().err
    assert cli.main(["train", "heatmap", "--backbone", "unet_small", "--frame-step", "2"]) == 2
    assert "--backbone, --frame-step do(es) not apply" in capsys.readouterr().err
