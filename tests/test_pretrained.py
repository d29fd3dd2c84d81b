"""posekit.pretrained and data_scripts/download_efficientpose.py: the released EfficientPose
models fetched (from a local folder), verified, converted and run on the authors' photos.

Independent expectations: hand-computed letterbox geometry; the authors' pre-processed inputs
and output argmaxes stored with the reference outputs (``efficientpose_*_tflite_reference.npz``,
made with the authors' TFLite files); the sha256 values of the authors' files. Tests that need
the released files use ``$POSEKIT_EFFICIENTPOSE_DIR`` or ``../shared/weights/efficientpose``
and skip with a message when neither exists.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from test_synth_export import load_script  # data_scripts/ as a module

from posekit import engine, pretrained, real
from posekit.skeletons import MPII16

WEIGHTS = Path(
    os.environ.get(
        "POSEKIT_EFFICIENTPOSE_DIR",
        Path(__file__).resolve().parents[2] / "shared" / "weights" / "efficientpose",
    )
)


def _weights() -> Path:
    if not (WEIGHTS / "EfficientPoseRT.h5").is_file():
        pytest.skip(f"released EfficientPose files not found in {WEIGHTS} (set "
                    "POSEKIT_EFFICIENTPOSE_DIR to the folder holding them)")  # fmt: skip
    return WEIGHTS


def _reference(variant: str) -> np.lib.npyio.NpzFile:
    path = _weights() / f"efficientpose_{variant}_tflite_reference.npz"
    if not path.is_file():
        pytest.skip(f"reference outputs not found: {path}")
    return np.load(path)


def _script():
    return load_script("download_efficientpose")


@pytest.fixture(scope="module")
def converted(tmp_path_factory) -> Path:
    """The four models fetched from the local folder and converted, once per module."""
    source = _weights()
    root = tmp_path_factory.mktemp("efficientpose")
    assert _script().main(["--from", str(source), "--root", str(root), "--no-progress"]) == 0
    return root


# ------------------------------------------------------------------ letterbox (hand-computed)


def test_letterbox_wide_photo_is_scaled_and_padded_top_and_bottom():
    photo = np.full((4, 8, 3), 200, np.uint8)  # H 4, W 8
    square, box = pretrained.letterbox(photo, 4)
    assert box == pretrained.Letterbox(0.5, 1, 0, 4)
    assert square.shape == (4, 4, 3) and square.dtype == np.uint8
    assert (square[[0, 3]] == 0).all()  # the padding rows
    assert (np.abs(square[1:3].astype(int) - 200) <= 1).all()  # uint8(255 · x) truncates


def test_letterbox_maps_pixel_areas_both_ways():
    box = pretrained.Letterbox(0.5, 1, 0, 4)
    # photo pixel 0 (area [-0.5, 0.5)) is the left half of input pixel 0 (area [-0.5, 0.5)):
    # its centre sits at input -0.25; the photo's right edge 7.5 is the input's edge 3.5
    np.testing.assert_allclose(box.to_input([[0, 0], [7.5, 3.5]]), [[-0.25, 0.75], [3.5, 2.5]])
    xy = np.random.default_rng(0).uniform(-0.5, 7.5, (10, 2))
    np.testing.assert_allclose(box.to_photo(box.to_input(xy)), xy, atol=1e-12)


def test_letterbox_tall_photo_pads_left_and_right_centred():
    photo = np.full((9, 3, 3), 255, np.uint8)
    square, box = pretrained.letterbox(photo, 6)
    assert (box.scale, box.pad_top, box.pad_left) == (6 / 9, 0, 2)
    assert (square[:, :2] == 0).all() and (square[:, 4:] == 0).all()
    assert (square[:, 2:4] > 250).all()


@pytest.mark.parametrize(
    "image, match",
    [
        (np.zeros((4, 4), np.uint8), "image: expected an \\(H, W, 3\\) RGB photo"),
        (np.zeros((4, 4, 4), np.uint8), "got shape \\(4, 4, 4\\)"),
        (np.zeros((4, 4, 3), np.float32), "image: expected uint8"),
    ],
)
def test_letterbox_rejects_what_is_not_an_rgb_photo(image, match):
    with pytest.raises(ValueError, match=match):
        pretrained.letterbox(image, 8)


def test_letterbox_rejects_a_bad_size():
    with pytest.raises(ValueError, match="size: expected a positive integer"):
        pretrained.letterbox(np.zeros((4, 4, 3), np.uint8), 0)


def test_normalize_imagenet_and_lite_ranges():
    square = np.zeros((2, 2, 3), np.uint8)
    square[0, 0] = 255
    x = pretrained.normalize(square)
    assert x.shape == (1, 3, 2, 2)
    np.testing.assert_allclose(x[0, :, 1, 1].numpy(), -np.array([0.485, 0.456, 0.406])
                               / np.array([0.229, 0.224, 0.225]), rtol=1e-6)  # fmt: skip
    lite = pretrained.normalize(square, lite=True)
    assert lite.min() == -1 and lite.max() == 1


# ------------------------------------------------------------------ the authors' inputs


@pytest.mark.parametrize("variant", ["rt", "i"])
def test_letterbox_reproduces_the_authors_inputs_exactly(variant):
    ref = _reference(variant)
    photos = {"astronaut": real.photo("astronaut")}
    import cv2

    photos["mpii_sample"] = cv2.imread(str(_weights() / "mpii_sample.jpg"))[..., ::-1]
    size = {"rt": 224, "i": 256}[variant]
    for name, photo in photos.items():
        square, box = pretrained.letterbox(photo, size)
        np.testing.assert_array_equal(square, ref[f"{name}__image_uint8"], err_msg=name)
        scale, top, left = ref[f"{name}__scale_padtop_padleft"]
        assert (box.scale, box.pad_top, box.pad_left) == (scale, top, left), name


# ------------------------------------------------------------------ the data script


def test_script_fetches_verifies_and_converts(converted):
    names = {p.name for p in converted.iterdir()}
    for variant in pretrained.RELEASED:
        assert f"efficientpose_{variant}.pt" in names
    ckpt = engine.load_checkpoint(converted / "efficientpose_i.pt")
    assert ckpt["extra"]["sha256"] == pretrained._FILES["i"][2]
    assert ckpt["extra"]["upstream"] == f"daniegr/EfficientPose@{pretrained.COMMIT}"
    assert ckpt["model_config"] == {"name": "efficientpose", "kwargs": {"variant": "i"}}


def test_script_second_run_converts_nothing(converted, capsys):
    before = {p: p.stat().st_mtime_ns for p in converted.glob("*.pt")}
    assert _script().main(["--from", str(_weights()), "--root", str(converted),
                           "--no-progress"]) == 0  # fmt: skip
    assert "converting" not in capsys.readouterr().out
    assert before == {p: p.stat().st_mtime_ns for p in converted.glob("*.pt")}


def test_script_refuses_a_tampered_file(tmp_path, capsys):
    source = tmp_path / "copies"
    source.mkdir()
    for name in ("EfficientPoseRT.h5", "mpii_sample.jpg"):
        shutil.copy(_weights() / name, source / name)
    with open(source / "EfficientPoseRT.h5", "r+b") as f:
        f.seek(4096)
        byte = f.read(1)
        f.seek(4096)
        f.write(bytes([byte[0] ^ 0xFF]))  # one byte flipped
    root = tmp_path / "root"
    code = _script().main(["--from", str(source), "--root", str(root), "--variants", "rt",
                           "--no-progress"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 1
    assert "EfficientPoseRT.h5" in err and "sha256" in err
    assert not (root / "efficientpose_rt.pt").exists()


def test_script_dry_run_and_bad_folder(tmp_path, capsys):
    script = _script()
    assert script.main(["--dry-run", "--root", str(tmp_path / "r")]) == 0
    out = capsys.readouterr().out
    assert pretrained.COMMIT in out and "5e11130ebb3694681f5074b443cc" in out
    assert "efficientpose_rt.pt" in out and not (tmp_path / "r").exists()
    assert script.main(["--from", str(tmp_path / "nowhere"), "--root", str(tmp_path)]) == 2
    assert "--from" in capsys.readouterr().err


# ------------------------------------------------------------------ the predictor


@pytest.mark.parametrize("variant", ["rt", "i"])
def test_predictor_finds_the_authors_argmaxes_in_photo_pixels(converted, variant):
    ref = _reference(variant)
    predictor = pretrained.efficientpose(variant, root=converted)
    photo = pretrained.sample_photo(converted)
    keypoints = predictor(photo)
    assert keypoints.shape == (16, 3)
    size = predictor.resolution
    yx = ref["mpii_sample__upscaled_argmax_yx"].astype(np.float64)
    # the authors' decoding: (argmax + 0.5) / R of the 1024-pixel square photo, pixel corners
    expected = (yx[:, ::-1] + 0.5) / size * 1024 - 0.5
    # channel c of the released maps is the authors' joint c: head top, upper neck, r-shoulder…
    authors = ("head_top", "upper_neck", "right_shoulder", "right_elbow", "right_wrist",
               "thorax", "left_shoulder", "left_elbow", "left_wrist", "pelvis", "right_hip",
               "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle")  # fmt: skip
    ours = [MPII16.joints.index(name) for name in authors]
    np.testing.assert_allclose(keypoints[ours, :2], expected, atol=1e-3)
    np.testing.assert_allclose(keypoints[ours, 2], ref["mpii_sample__upscaled_max"], atol=5e-3)
    # and the anatomy agrees: the head top is above the upper neck, the ankles lowest
    y = dict(zip(MPII16.joints, keypoints[:, 1], strict=True))
    assert y["head_top"] < y["upper_neck"] < y["thorax"] < y["pelvis"]
    assert min(y["left_ankle"], y["right_ankle"]) > max(y["left_knee"], y["right_knee"])


def test_predictor_lite_uses_the_minus_one_one_input(converted):
    ref = _reference("rt_lite")
    predictor = pretrained.efficientpose("rt_lite", root=converted)
    assert predictor.lite
    maps, _ = predictor.maps(pretrained.sample_photo(converted))
    argmax = maps["upscaled_confs"].reshape(16, -1).argmax(1)
    yx = np.stack(np.unravel_index(argmax, (224, 224)), 1)
    np.testing.assert_array_equal(yx, ref["mpii_sample__upscaled_argmax_yx"])


def test_predictor_other_decoders_stay_near_the_argmax(converted):
    predictor = pretrained.efficientpose("rt", root=converted)
    photo = pretrained.sample_photo(converted)
    plain = predictor(photo)
    for decoder in ("quarter", "dark"):
        moved = predictor(photo, decoder=decoder)
        # at most one input pixel (1024 / 224 ≈ 4.6 photo px) from the argmax
        assert np.abs(moved[:, :2] - plain[:, :2]).max() <= 1024 / 224 + 1e-3, decoder
    with pytest.raises(ValueError, match="decoder: expected one of"):
        predictor(photo, decoder="mean")


def test_missing_checkpoint_says_how_to_get_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="download_efficientpose.py"):
        pretrained.efficientpose("rt", root=tmp_path)
    with pytest.raises(FileNotFoundError, match="download_efficientpose.py"):
        pretrained.sample_photo(tmp_path)
    assert not pretrained.available("rt", root=tmp_path)


def test_unreleased_variant_is_named(tmp_path):
    with pytest.raises(ValueError, match="architecture only"):
        pretrained.efficientpose("iv", root=tmp_path)
    with pytest.raises(ValueError, match="variant: expected one of rt, i, rt_lite, i_lite"):
        pretrained.efficientpose("xl", root=tmp_path)


def test_checkpoint_of_another_variant_is_refused(converted, tmp_path):
    shutil.copy(converted / "efficientpose_i.pt", tmp_path / "efficientpose_rt.pt")
    with pytest.raises(engine.CheckpointError, match="holds EfficientPose 'i', not 'rt'"):
        pretrained.efficientpose("rt", root=tmp_path)
