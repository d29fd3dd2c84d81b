"""posekit.datasets.formats: readers on hand-built fixtures in the real structures, exact
writer -> reader round trips, pycocotools compatibility and malformed-file errors."""

from __future__ import annotations

import contextlib
import io
import json
import shutil

import cv2
import fixtures_formats as fx
import numpy as np
import pytest
import scipy.io

from posekit.datasets import formats as F
from posekit.datasets.formats import sphp as sphp_mod


def _assert_records_equal(a, b):
    assert len(a) == len(b)
    for i, (ra, rb) in enumerate(zip(a, b, strict=True)):
        assert ra.equals(rb), f"record {i} differs:\n{ra}\n{rb}"


def _message_names(exc, path, field):
    msg = str(exc.value)
    assert str(path) in msg, msg
    assert field in msg, msg
    return msg


# ============================================================================================
# MPII official .mat
# ============================================================================================


@pytest.fixture
def mpii_fixture(tmp_path):
    path = tmp_path / "mpii_human_pose_v1_u12_1.mat"
    return path, fx.build_mpii_mat(path)


def _check_mpii_expected(recs, exp):
    assert [r.file_name for r in recs] == exp["names"]
    for i, r in enumerate(recs):
        assert r.skeleton == "mpii16"
        assert r.keypoints.dtype == np.float32
        np.testing.assert_array_equal(r.keypoints, exp["keypoints"][i])
        np.testing.assert_array_equal(r.headboxes, exp["headboxes"][i])
        np.testing.assert_array_equal(r.centers, exp["centers"][i])
        np.testing.assert_array_equal(r.scales, exp["scales"][i])
        for key in ("img_train", "single_person", "act", "frame_sec", "video_index", "video_id"):
            assert r.extra[key] == exp[key][i], (i, key)
        assert r.extra["annolist_index"] == i


def test_mpii_reader_on_fixture(mpii_fixture):
    path, exp = mpii_fixture
    recs = F.read_mpii_mat(path)
    _check_mpii_expected(recs, exp)
    kp = recs[0].keypoints[0]
    # Shuffled ids are looked up by id; is_visible '1' / [] / 0 / 1 / '0'.
    assert kp[9].tolist() == [100.0, 50.0, 2.0]
    assert kp[0].tolist() == [90.0, 300.0, 1.0]
    assert kp[13].tolist() == [120.5, 110.0, 1.0]
    assert kp[6].tolist() == [99.0, 199.0, 2.0]
    assert kp[15].tolist() == [140.0, 180.25, 1.0]
    assert (kp[[1, 2, 3, 4, 5, 7, 8, 10, 11, 12, 14]] == 0).all()
    assert (recs[0].keypoints[1] == 0).all()  # rect without annopoints
    assert recs[1].num_people == 0  # empty annorect


def test_mpii_parse_both_scipy_access_styles(mpii_fixture):
    path, exp = mpii_fixture
    squeezed = scipy.io.loadmat(path, struct_as_record=False, squeeze_me=True)["RELEASE"]
    _check_mpii_expected(F.parse_mpii_release(squeezed, path), exp)
    squeezed_rec = scipy.io.loadmat(path, squeeze_me=True)["RELEASE"]
    _check_mpii_expected(F.parse_mpii_release(squeezed_rec, path), exp)


def test_mpii_single_image_single_person_squeeze(tmp_path):
    # One image, one rect, one point: every struct array is 1x1 and squeezes to a scalar.
    rec = F.ImageAnnotation(
        "a.jpg", np.zeros((1, 16, 3)), "mpii16", headboxes=[[[1, 2], [3, 4]]],
        centers=[[5, 6]], scales=[1.25],
        extra={"img_train": True, "single_person": [0], "video_index": 0, "video_id": "v"},
    )  # fmt: skip
    rec.keypoints[0, 7] = (10, 20, 2)
    path = F.write_mpii_mat(tmp_path / "one.mat", [rec])
    for loaded in (
        scipy.io.loadmat(path)["RELEASE"],
        scipy.io.loadmat(path, struct_as_record=False, squeeze_me=True)["RELEASE"],
    ):
        (got,) = F.parse_mpii_release(loaded, path)
        np.testing.assert_array_equal(got.keypoints, rec.keypoints)
        np.testing.assert_array_equal(got.headboxes, rec.headboxes)
        assert got.extra["single_person"] == [0] and got.extra["video_id"] == "v"


def test_mpii_round_trip_and_matlab_layout(mpii_fixture, tmp_path):
    path, _ = mpii_fixture
    recs = F.read_mpii_mat(path)
    out = F.write_mpii_mat(tmp_path / "out.mat", recs)
    _assert_records_equal(F.read_mpii_mat(out), recs)
    # The RELEASE struct layout (docs/datasets.md § MPII Human Pose), reachable with both
    # access styles.
    m = scipy.io.loadmat(out)
    rel = m["RELEASE"]
    assert rel.dtype.names == F.mpii.RELEASE_FIELDS
    x = rel["annolist"][0, 0][0, 0]["annorect"][0, 0]["annopoints"][0, 0]["point"][0, 0]["x"]
    assert x[0, 0] == 91.0  # 1-based again; points written in id order (id 0 first)
    s = scipy.io.loadmat(out, struct_as_record=False, squeeze_me=True)["RELEASE"]
    assert s.annolist[0].annorect[0].x1 == 91.0
    assert s.annolist[0].image.name == "015601864.jpg"
    assert set(s.annolist[2].annorect._fieldnames) == {"scale", "objpos"}  # test rect
    assert s.annolist[1].annorect.size == 0
    assert list(s.video_list) == ["aAOusnrSsHI", "nrFXQomhQbw"]


def test_mpii_writer_round_trips_synthetic_records(tmp_path):
    rng = np.random.default_rng(0)
    recs = []
    for i in range(4):
        n = i % 3
        kp = np.zeros((n, 16, 3), np.float32)
        kp[..., :2] = rng.uniform(0, 600, (n, 16, 2)).astype(np.float32)
        kp[..., 2] = rng.integers(0, 3, (n, 16))
        kp[kp[..., 2] == 0] = 0
        heads = np.sort(rng.uniform(0, 600, (n, 2, 2)), axis=1).astype(np.float32)  # x1 < x2
        if n:
            heads[0] = np.nan
        recs.append(
            F.ImageAnnotation(
                f"{i:09d}.jpg", kp, "mpii16", headboxes=heads,
                centers=rng.uniform(0, 600, (n, 2)), scales=rng.uniform(0.5, 5, n),
            )
        )  # fmt: skip
    back = F.read_mpii_mat(F.write_mpii_mat(tmp_path / "s.mat", recs))
    for r, b in zip(recs, back, strict=True):
        for attr in ("file_name", "keypoints", "headboxes", "centers", "scales"):
            assert F.values_equal(getattr(r, attr), getattr(b, attr)), attr
        assert b.extra["img_train"] is True and b.extra["act"]["act_id"] == -1


def test_mpii_rejects_other_joint_sets(tmp_path):
    rec = F.ImageAnnotation("a.jpg", np.zeros((1, 17, 3)), "coco17")
    with pytest.raises(ValueError, match="convert to 'mpii16'"):
        F.write_mpii_mat(tmp_path / "x.mat", [rec])


# ============================================================================================
# HRNet MPII json + gt_valid.mat
# ============================================================================================


def test_hrnet_json_reader_on_fixture(tmp_path):
    path = tmp_path / "valid.json"
    exp = fx.build_hrnet_json(path)
    recs = F.read_hrnet_mpii_json(path)
    assert [r.num_people for r in recs] == [1, 1]
    np.testing.assert_array_equal(recs[0].keypoints, exp["keypoints"])
    assert recs[0].keypoints[0, 0].tolist() == [0, 0, 0]  # joints_vis 0 / [-1, -1]
    assert recs[0].keypoints[0, 1].tolist() == [109.0, 204.0, 2.0]  # 1-based -> 0-based
    np.testing.assert_array_equal(recs[0].centers[0], exp["center"])
    assert recs[0].scales[0] == np.float32(3.021046)
    assert np.isnan(recs[1].centers).all() and recs[1].extra == {"has_joints": False}
    assert (recs[1].keypoints == 0).all()


def test_hrnet_json_round_trip_is_byte_for_byte_equivalent(tmp_path):
    path = tmp_path / "valid.json"
    exp = fx.build_hrnet_json(path)
    recs = F.read_hrnet_mpii_json(path)
    out = F.write_hrnet_mpii_json(tmp_path / "out.json", recs)
    raw = json.loads(out.read_text())
    assert raw == exp["raw"]  # same keys, values and types (ints vs floats)
    assert [list(e) for e in raw] == [list(e) for e in exp["raw"]]  # HRNet's key order
    _assert_records_equal(F.read_hrnet_mpii_json(out), recs)


def test_hrnet_json_exact_float32_round_trip_and_flag_collapse(tmp_path):
    rng = np.random.default_rng(1)
    kp = np.zeros((5, 16, 3), np.float32)
    kp[..., :2] = rng.uniform(-10, 2000, (5, 16, 2)).astype(np.float32)
    kp[..., 2] = rng.integers(0, 3, (5, 16))
    kp[kp[..., 2] == 0] = 0
    rec = F.ImageAnnotation(
        "x.jpg", kp, "mpii16", centers=rng.uniform(0, 900, (5, 2)), scales=rng.uniform(1, 4, 5)
    )
    back = F.group_by_image(
        F.read_hrnet_mpii_json(F.write_hrnet_mpii_json(tmp_path / "t.json", [rec]))
    )
    (b,) = back
    np.testing.assert_array_equal(b.keypoints[..., :2], kp[..., :2])
    np.testing.assert_array_equal(b.keypoints[..., 2], np.where(kp[..., 2] > 0, 2, 0))
    np.testing.assert_array_equal(b.centers, rec.centers)
    np.testing.assert_array_equal(b.scales, rec.scales)
    assert b.extra == {"source_indices": [0, 1, 2, 3, 4]}


def test_gt_valid_reader_writer(tmp_path):
    path = tmp_path / "gt_valid.mat"
    exp = fx.build_gt_valid(path)
    gt = F.read_mpii_gt_valid(path)
    np.testing.assert_array_equal(gt.keypoints, exp["keypoints"])
    np.testing.assert_array_equal(gt.headboxes, exp["headboxes"])
    assert gt.keypoints[0, 6, 2] == 0 and gt.keypoints[2, 0, 2] == 0 and gt.joint_names[9] == "head"
    out = F.write_mpii_gt_valid(tmp_path / "out.mat", gt.keypoints, gt.headboxes)
    back = F.read_mpii_gt_valid(out)
    np.testing.assert_array_equal(back.keypoints, gt.keypoints)
    np.testing.assert_array_equal(back.headboxes, gt.headboxes)
    # HRNet's evaluation code indexes joints like this.
    m = scipy.io.loadmat(out)
    assert np.where(m["dataset_joints"] == "head")[1][0] == 9
    assert m["pos_gt_src"].shape == (16, 2, 3) and m["headboxes_src"].shape == (2, 2, 3)
    np.testing.assert_array_equal(m["jnt_missing"], scipy.io.loadmat(path)["jnt_missing"])


# ============================================================================================
# LSP / LSPET
# ============================================================================================


def test_lsp_and_lspet_readers_on_fixtures(tmp_path):
    lsp_exp = fx.build_lsp(tmp_path / "lsp.mat", n=2)
    lspet_exp = fx.build_lspet(tmp_path / "lspet.mat", n=3)
    for variant in ("auto", "lsp"):
        got = F.read_lsp_joints(tmp_path / "lsp.mat", variant)
        assert got.dtype == np.float32 and got.shape == (2, 14, 3)
        np.testing.assert_array_equal(got, lsp_exp)
    for variant in ("auto", "lspet"):
        got = F.read_lsp_joints(tmp_path / "lspet.mat", variant)
        assert got.shape == (3, 14, 3)
        np.testing.assert_array_equal(got, lspet_exp)
    # The flags really are inverted between the two: check one value by hand.
    raw = scipy.io.loadmat(tmp_path / "lsp.mat")["joints"]
    assert F.read_lsp_joints(tmp_path / "lsp.mat")[1, 4, 2] == (2 if raw[2, 4, 1] == 0 else 1)
    raw = scipy.io.loadmat(tmp_path / "lspet.mat")["joints"]
    assert F.read_lsp_joints(tmp_path / "lspet.mat")[2, 5, 2] == (2 if raw[5, 2, 2] == 1 else 1)


def test_lsp_round_trips(tmp_path):
    for variant, build in (("lsp", fx.build_lsp), ("lspet", fx.build_lspet)):
        src = tmp_path / f"{variant}.mat"
        build(src)
        kp = F.read_lsp_joints(src)
        out = F.write_lsp_joints(tmp_path / f"{variant}_out.mat", kp, variant)
        np.testing.assert_array_equal(F.read_lsp_joints(out, variant), kp)
        np.testing.assert_allclose(
            scipy.io.loadmat(out)["joints"], scipy.io.loadmat(src)["joints"], rtol=0, atol=1e-4
        )
    # v = 0 survives (stored at MATLAB (0, 0)); N = 1 files too.
    kp = np.array(F.read_lsp_joints(tmp_path / "lsp.mat")[:1])
    kp[0, 3] = 0
    for variant in ("lsp", "lspet"):
        out = F.write_lsp_joints(tmp_path / f"one_{variant}.mat", kp, variant)
        np.testing.assert_array_equal(F.read_lsp_joints(out), kp)
    assert F.lsp_image_name(0) == "im0001.jpg" and F.lsp_image_name(9999, "lspet") == "im10000.jpg"
    assert F.lsp_split(999) == "train" and F.lsp_split(1000) == "test"


def test_lsp_shape_errors(tmp_path):
    bad = tmp_path / "joints.mat"
    scipy.io.savemat(bad, {"joints": np.zeros((2, 14, 5))})
    with pytest.raises(F.FormatError) as e:
        F.read_lsp_joints(bad)
    msg = _message_names(e, bad, "'joints'")
    assert "(2, 14, 5)" in msg and "3x14xN (LSP) or 14x3xN (LSPET)" in msg
    fx.build_lspet(bad)
    with pytest.raises(F.FormatError, match="expected 3x14xN for variant 'lsp'"):
        F.read_lsp_joints(bad, "lsp")
    scipy.io.savemat(bad, {"pose": np.zeros((3, 14, 2))})
    with pytest.raises(F.FormatError, match="'joints' is missing"):
        F.read_lsp_joints(bad)
    scipy.io.savemat(bad, {"joints": np.full((3, 14, 2), 2.0)})
    with pytest.raises(F.FormatError, match="visibility flags"):
        F.read_lsp_joints(bad)


# ============================================================================================
# COCO
# ============================================================================================


def test_coco_reader_on_fixture(tmp_path):
    path = tmp_path / "person_keypoints_val2017.json"
    data = fx.build_coco(path)
    recs = F.read_coco_keypoints(path)
    assert [r.file_name for r in recs] == ["000000397133.jpg", "000000037777.jpg"]
    assert [r.image_id for r in recs] == [397133, 37777]
    assert (recs[0].width, recs[0].height) == (640, 427)
    anns = data["annotations"]
    for i, r in enumerate(recs):
        assert r.num_people == 2
        for k in range(2):
            a = anns[2 * i + k]
            np.testing.assert_array_equal(
                r.keypoints[k], np.array(a["keypoints"], np.float32).reshape(17, 3)
            )
            np.testing.assert_array_equal(r.bboxes[k], np.array(a["bbox"], np.float32))
            assert r.extra["area"][k] == a["area"] and r.extra["ann_ids"][k] == a["id"]
        assert r.extra["iscrowd"] == [0, 0]
    assert recs[0].keypoints[0, 4].tolist() == [0, 0, 0]  # the v = 0 joint
    assert set(np.unique(recs[0].keypoints[..., 2])) == {0, 1, 2}
    assert recs[0].extra["image_info"] == {"license": 1}


def _coco_eval(gt_path, res_path):
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(gt_path))
        dt = gt.loadRes(str(res_path))
        ev = COCOeval(gt, dt, iouType="keypoints")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return gt, ev.stats


def test_coco_round_trip_pycocotools_and_self_eval(tmp_path):
    path = tmp_path / "person_keypoints_val2017.json"
    data = fx.build_coco(path)
    recs = F.read_coco_keypoints(path)
    out = F.write_coco_keypoints(
        tmp_path / "out.json", recs, info=data["info"], licenses=data["licenses"]
    )
    _assert_records_equal(F.read_coco_keypoints(out), recs)
    assert json.loads(out.read_text()) == data | {"categories": [F.COCO_PERSON_CATEGORY]}
    assert F.COCO_PERSON_CATEGORY["skeleton"] == fx.COCO_SKELETON
    assert F.COCO_PERSON_CATEGORY["keypoints"] == fx.COCO_NAMES
    # Results file of the ground truth itself: AP = 1.
    ids = [r.image_id for r in recs for _ in range(r.num_people)]
    kps = np.concatenate([r.keypoints for r in recs])
    res = F.write_coco_results(tmp_path / "res.json", ids, kps, np.linspace(0.9, 0.5, len(ids)))
    gt, stats = _coco_eval(out, res)
    assert len(gt.getAnnIds()) == 4 and gt.loadCats(1)[0]["name"] == "person"
    assert stats[0] == pytest.approx(1.0) and stats[5] == pytest.approx(1.0)
    rid, rkp, rsc = F.read_coco_results(res)
    assert rid.tolist() == ids
    np.testing.assert_array_equal(rkp, kps)
    np.testing.assert_array_equal(rsc, np.linspace(0.9, 0.5, 4).astype(np.float32))


def test_coco_writer_defaults_for_synthetic_records(tmp_path):
    rng = np.random.default_rng(2)
    kp = np.zeros((3, 17, 3), np.float32)
    kp[..., :2] = rng.uniform(0, 200, (3, 17, 2)).astype(np.float32)
    kp[..., 2] = 2
    kp[1, 3] = 0
    rec = F.ImageAnnotation("synth_0.png", kp, "coco17", width=256, height=256)
    out = F.write_coco_keypoints(tmp_path / "synth.json", [rec])
    (back,) = F.read_coco_keypoints(out)
    np.testing.assert_array_equal(back.keypoints, kp)
    np.testing.assert_array_equal(back.bboxes[0], F.keypoint_bbox(kp[0]))
    raw = json.loads(out.read_text())
    a = raw["annotations"][1]
    assert a["num_keypoints"] == 16 and a["id"] == 2 and raw["images"][0]["id"] == 1
    assert a["area"] == pytest.approx(a["bbox"][2] * a["bbox"][3])
    res = F.write_coco_results(tmp_path / "r.json", [1, 1, 1], kp[..., :2], [1.0, 1.0, 1.0])
    assert _coco_eval(out, res)[1][0] == pytest.approx(1.0)


def test_coco_malformed(tmp_path):
    path = tmp_path / "person_keypoints.json"
    data = fx.build_coco(path)
    bad = json.loads(json.dumps(data))
    bad["annotations"][3]["keypoints"] = bad["annotations"][3]["keypoints"][:48]
    path.write_text(json.dumps(bad))
    with pytest.raises(F.FormatError) as e:
        F.read_coco_keypoints(path)
    msg = _message_names(e, path, "annotations[3].keypoints")
    assert "has 48 values, expected 51" in msg
    assert e.value.field == "annotations[3].keypoints"

    bad = json.loads(json.dumps(data))
    bad["annotations"][1]["num_keypoints"] += 1
    path.write_text(json.dumps(bad))
    with pytest.raises(F.FormatError) as e:
        F.read_coco_keypoints(path)
    _message_names(e, path, "annotations[1].num_keypoints")
    assert len(F.read_coco_keypoints(path, strict=False)) == 2

    bad = {k: v for k, v in data.items() if k != "annotations"}
    path.write_text(json.dumps(bad))
    with pytest.raises(F.FormatError) as e:
        F.read_coco_keypoints(path)
    _message_names(e, path, "'annotations' is missing")

    bad = json.loads(json.dumps(data))
    bad["images"][1]["width"] = "352"
    path.write_text(json.dumps(bad))
    with pytest.raises(F.FormatError) as e:
        F.read_coco_keypoints(path)
    _message_names(e, path, "images[1].width")

    bad = json.loads(json.dumps(data))
    bad["annotations"][0]["image_id"] = 5
    path.write_text(json.dumps(bad))
    with pytest.raises(F.FormatError, match=r"annotations\[0\].image_id"):
        F.read_coco_keypoints(path)

    path.write_text('{"images": [')
    with pytest.raises(F.FormatError, match="not valid JSON"):
        F.read_coco_keypoints(path)


# ============================================================================================
# SPHP
# ============================================================================================


def test_sphp_reader_on_fixture(tmp_path):
    seq_dir = tmp_path / "Master" / "s01" / "01"
    frames, labels = fx.build_sphp(seq_dir, n_frames=4)
    assert F.sphp_sequence_dir(tmp_path, "Master", "s01", 1) == seq_dir
    seq = F.read_sphp_sequence(seq_dir)
    assert len(seq) == 4 and seq.frame_names == ["000", "001", "002", "003"]
    assert sorted(seq.images) == ["EDG", "GRA", "MVH", "MVV"]
    assert seq.keypoints.shape == (4, 13, 3) and seq.keypoints.dtype == np.float32
    np.testing.assert_array_equal(seq.keypoints[..., :2], labels.astype(np.float32))
    assert (seq.keypoints[..., 2] == 2).all()
    np.testing.assert_array_equal(seq.read_image("MVV", 2), frames["MVV"][2])
    # 300-frame rule: only enforced with strict=True.
    with pytest.raises(F.FormatError, match="has 4 frames per folder.*300"):
        F.read_sphp_sequence(seq_dir, strict=True)


def test_sphp_strict_300(tmp_path, monkeypatch):
    seq_dir = tmp_path / "seq"
    fx.build_sphp(seq_dir, n_frames=300, size=(2, 3), modalities=("EDG",))
    seq = F.read_sphp_sequence(seq_dir, strict=True)
    assert len(seq) == 300 and seq.frame_names[-1] == "299"
    monkeypatch.setattr(sphp_mod, "SPHP_FRAMES", 299)
    with pytest.raises(F.FormatError, match="strict"):
        F.read_sphp_sequence(seq_dir, strict=True)


def test_sphp_round_trip(tmp_path):
    rng = np.random.default_rng(4)
    frames = {m: rng.integers(0, 256, (12, 6, 8), dtype=np.uint8) for m in ("EDG", "MVH", "MVV")}
    labels = rng.uniform(0, 480, (12, 13, 2)).astype(np.float32)
    seq = F.write_sphp_sequence(tmp_path / "seq", frames, labels)
    back = F.read_sphp_sequence(tmp_path / "seq")
    assert back.frame_names == [f"{t:03d}" for t in range(12)] == seq.frame_names
    np.testing.assert_array_equal(back.keypoints[..., :2], labels)
    for m, arr in frames.items():
        for t in range(12):
            np.testing.assert_array_equal(back.read_image(m, t), arr[t])
    # (T, 13, 3) keypoints with v = 0 come back as v = 0; existing files need overwrite=True.
    kp = back.keypoints.copy()
    kp[3, 5] = 0
    with pytest.raises(FileExistsError):
        F.write_sphp_sequence(tmp_path / "seq", frames, kp)
    again = F.write_sphp_sequence(tmp_path / "seq", frames, kp, overwrite=True)
    np.testing.assert_array_equal(again.keypoints, kp)


def test_sphp_malformed_folders(tmp_path):
    seq_dir = tmp_path / "seq"
    fx.build_sphp(seq_dir, n_frames=3)
    (seq_dir / "MVH" / "002.png").unlink()
    with pytest.raises(F.FormatError) as e:
        F.read_sphp_sequence(seq_dir)
    msg = _message_names(e, seq_dir, "MVH")
    assert "'MVH': 2" in msg and "'EDG': 3" in msg
    (seq_dir / "MVH" / "001.png").rename(seq_dir / "MVH" / "002.png")
    cv2.imwrite(str(seq_dir / "MVH" / "001b.png"), np.zeros((2, 2), np.uint8))
    with pytest.raises(F.FormatError, match="same file names") as e:
        F.read_sphp_sequence(seq_dir)
    assert e.value.field == "MVH"
    np.save(seq_dir / "pose_change" / "001.npy", np.zeros((14, 2)))
    with pytest.raises(F.FormatError) as e:
        F.read_sphp_sequence(seq_dir, modalities=["EDG"])
    _message_names(e, seq_dir / "pose_change" / "001.npy", "(14, 2)")
    shutil.rmtree(seq_dir / "GRA")
    with pytest.raises(F.FormatFileNotFoundError, match="no such modality folder"):
        F.read_sphp_sequence(seq_dir, modalities=["GRA"])
    (seq_dir / "pose_change").rename(seq_dir / "labels")
    with pytest.raises(F.FormatFileNotFoundError, match="pose_change"):
        F.read_sphp_sequence(seq_dir)


def test_sphp_splits():
    counts = {k: len(v) for k, v in F.SPHP_SPLITS.items()}
    assert counts == {"train": 20, "val": 12, "test": 8}
    assert sorted(sum(F.SPHP_SPLITS.values(), ())) == [f"s{i:02d}" for i in range(1, 41)]
    assert (
        F.sphp_split("s05") == "train" and F.sphp_split(6) == "val" and F.sphp_split("40") == "test"
    )
    assert F.sphp_split("s11") == "train" and F.sphp_split("s29") == "test"
    with pytest.raises(ValueError):
        F.sphp_split("s41")
    assert F.SPHP_ACTIONS[13] == ("jumping jack", "C4")


# ============================================================================================
# HumanEva-I (VideoPose3D npz)
# ============================================================================================


def test_humaneva_readers_and_round_trip(tmp_path):
    p2, p3, pos2d, pos3d = fx.build_humaneva(tmp_path)
    got2 = F.read_humaneva_2d(p2)
    got3 = F.read_humaneva_3d(p3)
    assert list(got2) == ["Train/S1", "Validate/S2"]
    for subject, actions in pos2d.items():
        for action, cams in actions.items():
            assert len(got2[subject][action]) == 3
            for c in range(3):
                kp = got2[subject][action][c]
                assert kp.dtype == np.float32 and kp.shape == cams[c].shape[:2] + (3,)
                np.testing.assert_array_equal(kp[..., :2], cams[c])
                assert (kp[..., 2] == 2).all()
            np.testing.assert_array_equal(got3[subject][action], pos3d[subject][action])
    o2 = F.write_humaneva_2d(tmp_path / "out2d", got2)
    o3 = F.write_humaneva_3d(tmp_path / "out3d.npz", got3)
    assert o2.name == "out2d.npz"
    assert F.values_equal(F.read_humaneva_2d(o2), got2)
    assert F.values_equal(F.read_humaneva_3d(o3), got3)
    raw = np.load(o2, allow_pickle=True)
    assert raw["metadata"].item() == F.HUMANEVA15_METADATA
    assert raw["positions_2d"].item()["Train/S1"]["Jog 1 chunk0"][1].dtype == np.float32
    # v = 0 is stored as NaN and comes back as v = 0; None cameras stay None.
    kp = got2["Train/S1"]["Walking 1 chunk0"][0].copy()
    kp[1, 2] = 0
    back = F.read_humaneva_2d(
        F.write_humaneva_2d(tmp_path / "x.npz", {"Train/S1": {"a": [kp, None]}})
    )
    np.testing.assert_array_equal(back["Train/S1"]["a"][0], kp)
    assert back["Train/S1"]["a"][1] is None
    assert F.humaneva_split("Validate/S2") == "validate"


def test_humaneva_malformed(tmp_path):
    p = tmp_path / "bad.npz"
    np.savez_compressed(p, positions_2d={"Train/S1": {"Walking 1 chunk0": [np.zeros((4, 14, 2))]}})
    with pytest.raises(F.FormatError) as e:
        F.read_humaneva_2d(p)
    msg = _message_names(e, p, "positions_2d['Train/S1']['Walking 1 chunk0'][0]")
    assert "(4, 14, 2)" in msg
    with pytest.raises(F.FormatError, match="'positions_3d' is missing"):
        F.read_humaneva_3d(p)
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(F.FormatError, match="not a readable .npz"):
        F.read_humaneva_3d(tmp_path / "junk.npz")


# ============================================================================================
# Errors shared by all readers, record type
# ============================================================================================


@pytest.mark.parametrize(
    "reader",
    [
        F.read_mpii_mat,
        F.read_hrnet_mpii_json,
        F.read_mpii_gt_valid,
        F.read_lsp_joints,
        F.read_coco_keypoints,
        F.read_coco_results,
        F.read_humaneva_2d,
        F.read_humaneva_3d,
        F.read_sphp_sequence,
    ],
)
def test_missing_file_names_the_file(tmp_path, reader):
    missing = tmp_path / "nope" / "file.x"
    with pytest.raises(F.FormatFileNotFoundError) as e:
        reader(missing)
    assert isinstance(e.value, FileNotFoundError) and isinstance(e.value, ValueError)
    assert str(missing) in str(e.value)


def test_mpii_malformed(tmp_path, mpii_fixture):
    path, _ = mpii_fixture
    m = scipy.io.loadmat(path)
    rel = m["RELEASE"]
    pt = rel[0, 0]["annolist"][0, 0]["annorect"][0, 0]["annopoints"][0, 0]["point"][0, 2]
    pt["id"] = np.array([[17.0]])
    bad = tmp_path / "bad.mat"
    scipy.io.savemat(bad, {"RELEASE": rel})
    with pytest.raises(F.FormatError) as e:
        F.read_mpii_mat(bad)
    _message_names(e, bad, "RELEASE.annolist(1).annorect(1).annopoints.point(3).id")
    pt["id"] = np.array([[9.0]])  # duplicate of point(1)
    scipy.io.savemat(bad, {"RELEASE": rel})
    with pytest.raises(F.FormatError, match="repeats joint id 9"):
        F.read_mpii_mat(bad)
    pt["id"] = np.array([[13.0]])
    pt["x"] = "abc"
    scipy.io.savemat(bad, {"RELEASE": rel})
    with pytest.raises(F.FormatError, match=r"point\(3\).x' is the string 'abc'"):
        F.read_mpii_mat(bad)
    scipy.io.savemat(bad, {"annolist": np.zeros(3)})
    with pytest.raises(F.FormatError) as e:
        F.read_mpii_mat(bad)
    _message_names(e, bad, "'RELEASE' is missing")
    bad.write_bytes(b"garbage" * 20)
    with pytest.raises(F.FormatError, match="not a readable MATLAB .mat file"):
        F.read_mpii_mat(bad)


def test_hrnet_malformed(tmp_path):
    path = tmp_path / "train.json"
    exp = fx.build_hrnet_json(path)
    for change, field in [
        (lambda e: e[0].update(center="594,257"), "[0].center"),
        (lambda e: e[0]["joints"].pop(), "[0].joints"),
        (lambda e: e[0].pop("joints_vis"), "[0].joints_vis"),
        (lambda e: e[1].pop("scale"), "[1].scale"),
        (lambda e: e[0]["joints_vis"].__setitem__(3, 2), "[0].joints_vis[3]"),
    ]:
        entries = json.loads(json.dumps(exp["raw"]))
        change(entries)
        path.write_text(json.dumps(entries))
        with pytest.raises(F.FormatError) as e:
            F.read_hrnet_mpii_json(path)
        _message_names(e, path, f"'{field}'")
        assert e.value.field == field
    path.write_text('{"image": "a.jpg"}')
    with pytest.raises(F.FormatError, match="expected a list"):
        F.read_hrnet_mpii_json(path)


def test_gt_valid_malformed(tmp_path):
    path = tmp_path / "gt_valid.mat"
    fx.build_gt_valid(path)
    m = {k: v for k, v in scipy.io.loadmat(path).items() if not k.startswith("__")}
    m["pos_gt_src"] = m["pos_gt_src"][:, :, :2]
    scipy.io.savemat(path, m)
    with pytest.raises(F.FormatError) as e:
        F.read_mpii_gt_valid(path)
    _message_names(e, path, "'pos_gt_src' has shape (16, 2, 2); expected (16, 2, 3)")


def test_image_annotation_validation_and_grouping():
    with pytest.raises(ValueError, match=r"expected shape \(N, 16, 3\)"):
        F.ImageAnnotation("a.jpg", np.zeros((1, 17, 3)), "mpii16")
    with pytest.raises(ValueError, match="bboxes"):
        F.ImageAnnotation("a.jpg", np.zeros((2, 17, 3)), "coco", bboxes=np.zeros((1, 4)))
    r = F.ImageAnnotation("a.jpg", np.zeros((2, 17, 3)), "coco")
    assert r.skeleton == "coco17" and r.num_people == 2 and r.keypoints.dtype == np.float32
    parts = [
        F.ImageAnnotation("a.jpg", np.ones((1, 16, 3)), "mpii16", scales=[1.0]),
        F.ImageAnnotation("b.jpg", np.zeros((1, 16, 3)), "mpii16"),
        F.ImageAnnotation("a.jpg", 2 * np.ones((1, 16, 3)), "mpii16"),
    ]
    a, b = F.group_by_image(parts)
    assert a.num_people == 2 and b.num_people == 1 and a.extra["source_indices"] == [0, 2]
    np.testing.assert_array_equal(a.scales, [1.0, np.nan])
    assert a.equals(a) and not a.equals(b)
