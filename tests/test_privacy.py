"""posekit.privacy: the identity split, the inputs, the colour control, the metrics, a quick
run, BlazeFace on real photos and ``posekit privacy``."""

import numpy as np
import pytest

from posekit import cli, privacy, real


@pytest.fixture(scope="module")
def quick_result():
    return privacy.run(**privacy.QUICK, progress=False)


def test_split_separates_actions_views_and_frames_but_not_identities():
    data = privacy.build_dataset(identities=3, clips=2, frames=2, size=32, inputs=("edge",),
                                 progress=False)  # fmt: skip
    tr, te = data["train"], ~data["train"]
    assert tr.any() and te.any()
    keys = {split: set(zip(data["clip"][m].tolist(), data["frame"][m].tolist(), strict=True))
            for split, m in (("train", tr), ("test", te))}  # fmt: skip
    assert not keys["train"] & keys["test"]  # no (clip, frame) in both
    assert not set(data["clip"][tr]) & set(data["clip"][te])  # no clip in both
    assert set(data["identity"][tr]) == set(data["identity"][te]) == {0, 1, 2}
    assert set(data["action"][te]) == set(privacy.TEST_ACTIONS)
    assert not set(data["action"][tr]) & set(privacy.TEST_ACTIONS)
    yaw_tr, yaw_te = np.abs(data["yaw"][tr]), np.abs(data["yaw"][te])
    assert yaw_tr.max() <= privacy.TRAIN_YAW_DEG <= yaw_te.min()
    assert yaw_te.max() <= privacy.TEST_YAW_DEG[1]
    # the same number of test frames per identity (so macro recall = accuracy)
    assert len(set(np.bincount(data["identity"][te]).tolist())) == 1
    # a test frame is a different picture from every training frame
    x = data["inputs"]["edge"].reshape(len(tr), -1)
    assert not (x[te][:, None] == x[tr][None]).all(-1).any()


def test_plan_is_a_pure_function_of_its_key():
    a, b = privacy.clip_plan(3, 1, seed=5), privacy.clip_plan(3, 1, seed=5)
    assert a == b and len(a) == 3 * 16
    assert a != privacy.clip_plan(3, 1, seed=6)


def test_every_input_has_its_documented_channels_and_scale():
    spec = privacy.clip_plan(2)[0]
    clip, background = privacy.render_clip(spec, 3, size=32)
    assert clip.shape == (3, 32, 32, 3) and clip.dtype == np.uint8
    assert privacy.person_mask(clip[1], background).any()
    x = privacy.frame_inputs(clip)
    assert tuple(x) == privacy.INPUTS
    for name, v in x.items():
        assert v.shape == (2, privacy.CHANNELS[name], 32, 32) and v.dtype == np.float32, name
    assert 0 <= x["rgb"].min() and x["rgb"].max() <= 1
    assert set(np.unique(x["edge"])) <= {0.0, 1.0}
    assert np.abs(x["mv"]).max() <= 1 and np.abs(x["events"]).max() <= 1
    np.testing.assert_array_equal(x["fused"][:, 0], x["edge"][:, 0])
    np.testing.assert_array_equal(x["fused"][:, 1], x["mv"][:, 1])  # MVV
    np.testing.assert_array_equal(x["fused"][:, 2], x["mv"][:, 0])  # MVH
    np.testing.assert_allclose(x["rgb"][0].transpose(1, 2, 0) * 255, clip[1], atol=1e-3)
    with pytest.raises(ValueError, match="inputs"):
        privacy.frame_inputs(clip, ("rgb", "depth"))


def test_colour_histogram_has_no_spatial_information():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (24, 20, 3), dtype=np.uint8)
    mask = rng.random((24, 20)) < 0.4
    f = privacy.colour_histogram(image, mask)
    assert f.shape == (48,)
    np.testing.assert_allclose(f.reshape(3, 16).sum(1), 1.0, rtol=1e-6)
    perm = rng.permutation(24 * 20)
    shuffled = image.reshape(-1, 3)[perm].reshape(24, 20, 3)
    np.testing.assert_array_equal(privacy.colour_histogram(shuffled, mask.ravel()[perm]
                                                           .reshape(24, 20)), f)  # fmt: skip
    np.testing.assert_array_equal(
        privacy.gray_histogram(shuffled, mask.ravel()[perm].reshape(24, 20)),
        privacy.gray_histogram(image, mask),
    )
    # pixels outside the mask do not count, pixels inside do
    outside, inside = np.argwhere(~mask)[0], np.argwhere(mask)[0]
    changed = image.copy()
    changed[tuple(outside)] = 255 - changed[tuple(outside)]
    np.testing.assert_array_equal(privacy.colour_histogram(changed, mask), f)
    changed[tuple(inside)] = (changed[tuple(inside)].astype(int) + 128) % 256
    assert not np.array_equal(privacy.colour_histogram(changed, mask), f)


def test_metrics_against_a_hand_computed_confusion_matrix():
    y_true = [0, 0, 0, 0, 1, 1, 2, 2, 2, 2]
    y_pred = [0, 0, 1, 2, 1, 0, 2, 2, 1, 0]
    cm = privacy.confusion_matrix(y_true, y_pred, 4)
    expected = np.array([[2, 1, 1, 0], [1, 1, 0, 0], [1, 1, 2, 0], [0, 0, 0, 0]])
    np.testing.assert_array_equal(cm, expected)
    assert privacy.accuracy(cm) == pytest.approx(5 / 10)
    # recall over the classes present (0, 1, 2): 2/4, 1/2, 2/4
    assert privacy.macro_recall(cm) == pytest.approx((2 / 4 + 1 / 2 + 2 / 4) / 3)
    # precision: column sums 4, 3, 3
    assert privacy.macro_precision(cm) == pytest.approx((2 / 4 + 1 / 3 + 2 / 3) / 3)
    # a class never predicted has precision 0; unbalanced: recall differs from accuracy
    cm2 = np.array([[5, 0], [3, 0]])
    assert privacy.accuracy(cm2) == pytest.approx(5 / 8)
    assert privacy.macro_recall(cm2) == pytest.approx(0.5)
    assert privacy.macro_precision(cm2) == pytest.approx((5 / 8 + 0) / 2)
    with pytest.raises(ValueError, match="y_true, y_pred"):
        privacy.confusion_matrix([0, 3], [0, 0], 3)


def test_quick_run_has_every_input_and_the_controls(quick_result):
    r = quick_result
    n = privacy.QUICK["identities"]
    assert tuple(r["rows"]) == privacy.INPUTS
    assert r["controls"]["chance"] == pytest.approx(1 / n)
    assert r["controls"]["majority"]["accuracy"] == pytest.approx(1 / n)  # balanced test set
    assert (r["n_train"], r["n_test"]) == (n * 12, n * 4)
    for row in r["rows"].values():
        assert 0 <= row["accuracy"] <= 1 and np.array(row["confusion"]).sum() == r["n_test"]
        assert row["recall"] == pytest.approx(row["accuracy"])  # balanced: identical
        assert row["drop_accuracy"] == pytest.approx(r["rows"]["rgb"]["accuracy"]
                                                     - row["accuracy"])  # fmt: skip
    for key in ("colour_histogram", "gray_histogram"):
        assert 0 <= r["controls"][key]["accuracy"] <= 1
    text = privacy.format_table(r)
    for name in privacy.INPUTS:
        assert privacy.LABELS[name] in text
    assert f"chance 1/{n}" in text and "88.9" in text and "colour histogram" in text
    assert "MPJPE px, ours" in text and "8.25" in text


def test_privacy_vs_pose_and_its_plot(quick_result):
    pose = privacy.privacy_vs_pose(quick_result)
    assert pose["edge"]["mpjpe"] == 8.25 and pose["mv"]["mpjpe"] == 38.23
    assert pose["fused"]["mpjpe"] == 8.51 and pose["rgb"]["mpjpe"] is None
    assert pose["gray"]["mpjpe_published"] == 2.15 and pose["events"]["mpjpe_published"] is None
    fig = privacy.plot_privacy_vs_pose(quick_result)
    ax = fig.axes[0]
    assert "MPJPE" in ax.get_xlabel() and len(ax.get_legend().get_texts()) >= len(privacy.INPUTS)


@pytest.mark.parametrize(
    "kwargs, arg",
    [(dict(identities=1), "identities"), (dict(size=8), "size"), (dict(steps=0), "steps"),
     (dict(inputs=("rgb", "x")), "inputs"), (dict(inputs=()), "inputs"), (dict(lr=0), "lr"),
     (dict(frames=0), "frames"), (dict(clips=0), "clips")],
)  # fmt: skip
def test_bad_arguments_name_themselves(kwargs, arg):
    with pytest.raises(ValueError, match=arg):
        privacy.run(**{**privacy.QUICK, **kwargs}, progress=False)


def test_face_representations_encode_the_known_warp():
    img = real.photo("astronaut")
    reps = privacy.face_representations(img, shift=(3, 2))
    assert tuple(reps) == privacy.FACE_REPRESENTATIONS
    for name, x in reps.items():
        assert x.shape == img.shape and x.dtype == np.uint8, name
    inner = slice(64, -64)
    mvh, mvv = reps["mv"][inner, inner, 0], reps["mv"][inner, inner, 1]
    # content moves by (+3, +2) px: codes 128 + 4 * 3 and 128 + 4 * 2 (MV_GAIN = 4)
    assert abs(np.median(mvh) - 140) <= 2 and abs(np.median(mvv) - 136) <= 2
    np.testing.assert_array_equal(reps["fused"][..., 1], reps["mv"][..., 1])
    np.testing.assert_array_equal(reps["edge_inverted"], 255 - reps["edge"])
    still = privacy.face_representations(img, shift=(0, 0))
    assert (still["events"] == 128).all()  # no motion: no events, (almost) zero vectors
    assert np.mean(still["mv"][..., :2] == 128) > 0.99


def test_blazeface_finds_the_astronauts_face():
    why_not = real.mediapipe_unavailable()
    if why_not:
        pytest.skip(f"mediapipe unavailable, no face detector to run: {why_not}")
    r = privacy.face_detection({"astronaut": real.photo("astronaut")})
    assert r["available"]
    cell = r["rows"]["astronaut"]["rgb"]
    assert cell["found"] and cell["score"] >= 0.5 and cell["faces"] >= 1
    text = privacy.format_faces(r)
    assert "astronaut" in text and "✓" in text


def test_faces_report_unavailable_mediapipe_without_raising(monkeypatch):
    why = "skipped: mediapipe is not installed (pip install ...)"
    monkeypatch.setattr(real, "mediapipe_unavailable", lambda: why)
    r = privacy.face_detection()
    assert r == {"available": False, "reason": "mediapipe is not installed (pip install ...)"}
    assert privacy.format_faces(r).startswith("face detection unavailable: mediapipe is not")


def test_cli_privacy_quick_prints_the_tables(capsys, monkeypatch):
    monkeypatch.setattr(privacy, "face_detection", lambda: {"available": False,
                                                            "reason": "stubbed"})  # fmt: skip
    assert cli.main(["privacy", "--quick", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "Identity recognition on SynthPose" in out and "Fused [EDG, MVV, MVH]" in out
    assert "face detection unavailable: stubbed" in out


def test_cli_privacy_refuses_bad_options(capsys):
    assert cli.main(["privacy", "--faces-only", "--no-faces"]) == 2
    assert "posekit privacy: error: --faces-only and --no-faces" in capsys.readouterr().err
    assert cli.main(["privacy", "--quick", "--identities", "1", "--no-faces"]) == 2
    assert "posekit privacy: error: identities" in capsys.readouterr().err


def test_cli_privacy_help_lists_the_module_options(capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(["privacy", "--help"])
    assert stop.value.code == 0
    printed = capsys.readouterr().out
    assert "usage: posekit privacy" in printed
    assert all(o in printed for o in ("--identities", "--faces-only", "--no-faces", "--quick"))
