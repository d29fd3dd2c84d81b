"""The synthetic SPHP dataset (``export_sphp_dataset``, ``posekit synth sphp``): SPHP's layout
read back by the SPHP reader, both cameras of one recording 45 degrees apart, the facing
angles, SPHP's subject split, determinism and argument errors."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from test_synth_export import load_script  # data_scripts/ as a module

from posekit import cli
from posekit.datasets.formats import read_sphp_sequence
from posekit.datasets.formats.sphp import SPHP_SPLITS, sphp_split
from posekit.synth.export import export_sphp_dataset, sphp_facing_deg, sphp_subjects

SEED = 3
SIZE = (96, 72)  # (w, h)
ACTIONS = (1, 3)  # with s01, s06, s09 these face 0, 30, 15, 45, 0, 30 degrees
FRAMES = 4
MODALITIES = ["EDG", "GRA", "MVH", "MVV"]


def _export(out: Path, **kw) -> Path:
    args = {"subjects": 3, "frames": FRAMES, "seed": SEED, "size": SIZE, "actions": ACTIONS}
    return export_sphp_dataset(out, progress=False, **{**args, **kw})


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    return _export(tmp_path_factory.mktemp("sphp_dataset") / "d")


def _manifest(path: Path) -> dict:
    return json.loads(path.read_text())


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


# --------------------------------------------------------------------------------------------
# Layout, reader, splits
# --------------------------------------------------------------------------------------------
def test_both_cameras_are_read_by_the_sphp_reader_with_equal_frame_names(tiny):
    root = tiny.parent
    for subject in ("s01", "s06", "s09"):
        for action in ACTIONS:
            seqs = {
                cam: read_sphp_sequence(root / cam / subject / f"{action:02d}")
                for cam in ("Master", "Slave")
            }
            for seq in seqs.values():
                assert seq.frame_names == ["000", "001", "002", "003"]
                assert sorted(seq.images) == MODALITIES
                assert seq.keypoints.shape == (FRAMES, 13, 3)
                assert (seq.keypoints[..., 2] == 2).all()
                xy = seq.keypoints[..., :2]
                assert (xy >= 0).all() and (xy[..., 0] <= SIZE[0] - 1).all()
                assert (xy[..., 1] <= SIZE[1] - 1).all()
                for m in MODALITIES:
                    assert seq.read_image(m, FRAMES - 1).shape == (SIZE[1], SIZE[0])
                assert (seq.read_image("MVH", 0) == 128).all()
            assert seqs["Master"].frame_names == seqs["Slave"].frame_names
            # the same motion from another side: the 2D joints differ
            master, slave = (seqs[c].keypoints[..., :2] for c in ("Master", "Slave"))
            assert np.abs(master - slave).max() > 2.0
    assert sorted(p.name for p in root.iterdir()) == ["Master", "Slave", "manifest.json"]
    assert sorted(p.name for p in (root / "Slave").iterdir()) == ["s01", "s06", "s09"]


def test_subject_counts_take_sphp_subjects_of_every_split_in_proportion():
    assert sphp_subjects(1) == (1,)
    assert sphp_subjects(3) == (1, 6, 9)  # one train, one val, one test subject
    assert sphp_subjects(8) == (1, 2, 3, 4, 6, 7, 9, 10)
    assert sphp_subjects(40) == tuple(range(1, 41))
    assert sphp_subjects(["s09", 1, "06"]) == (1, 6, 9)
    for n in range(3, 41):
        ids = sphp_subjects(n)
        assert len(ids) == n == len(set(ids))
        counts = {k: sum(f"s{i:02d}" in v for i in ids) for k, v in SPHP_SPLITS.items()}
        assert min(counts.values()) >= 1
        assert counts["train"] >= counts["val"] >= counts["test"]
        assert abs(counts["train"] - n / 2) <= 1  # SPHP: 20 of 40 subjects train


def test_manifest_records_splits_as_sphp(tiny):
    man = _manifest(tiny)
    assert man["splits"] == {"train": ["s01"], "val": ["s06"], "test": ["s09"]}
    assert man["counts"]["sequences"] == 2 * 3 * len(ACTIONS)
    assert man["counts"]["frames"] == 2 * 3 * len(ACTIONS) * FRAMES
    assert man["size"] == list(SIZE) and man["seed"] == SEED and man["posekit_version"]
    for s in man["sequences"]:
        assert s["split"] == sphp_split(s["subject"])
        assert s["cameras"]["Master"]["folder"] == f"Master/{s['subject']}/{s['action']:02d}"
        assert s["cameras"]["Slave"]["folder"] == f"Slave/{s['subject']}/{s['action']:02d}"
    # identities per subject, shared by its actions
    ids = {(s["subject"], s["identity"]) for s in man["sequences"]}
    assert len(ids) == 3


def test_facing_angles_cycle_over_subjects_and_actions():
    assert {sphp_facing_deg(1, a) for a in range(1, 17)} == {0.0, 15.0, 30.0, 45.0}
    for s in range(1, 41):
        faces = [sphp_facing_deg(s, a) for a in range(1, 17)]
        assert all(faces.count(f) == 4 for f in (0.0, 15.0, 30.0, 45.0))
    assert [sphp_facing_deg(s, 5) for s in (1, 2, 3, 4)] == [0.0, 15.0, 30.0, 45.0]


# --------------------------------------------------------------------------------------------
# Geometry: one 3D motion, two cameras 45 degrees apart, the subject's facing
# --------------------------------------------------------------------------------------------
def _projection(cam: dict) -> np.ndarray:
    return np.array(cam["K"]) @ np.hstack([np.array(cam["R"]), np.array(cam["t"])[:, None]])


def _centre(cam: dict) -> np.ndarray:
    return -np.array(cam["R"]).T @ np.array(cam["t"])


def _axis(cam: dict) -> np.ndarray:
    return np.array(cam["R"])[2]  # optical axis in world coordinates


def _signed_angle_about_up(a: np.ndarray, b: np.ndarray) -> float:
    """Degrees from a to b about world up (+y), ``atan2((a x b)_y, a . b)`` of their
    horizontal parts: a person facing +z (yaw 0) who turns by yaw 45 degrees faces
    (sin 45, 0, cos 45), which is +45 from +z by this measure."""
    a, b = a * (1, 0, 1), b * (1, 0, 1)
    return float(np.degrees(np.arctan2(np.cross(a, b)[1], a @ b)))


def test_master_and_slave_labels_are_projections_of_one_3d_motion(tiny):
    """Triangulate every joint from the two views' labels with the recorded cameras: both
    reprojections match the labels (they could not if the views showed different motions),
    the optical axes meet at a point both cameras are equally far from, 45 degrees apart
    around the vertical, and the triangulated body faces the recorded angle from the
    Master towards the Slave."""
    root = tiny.parent
    up = np.array([0.0, 1.0, 0.0])
    sequences = _manifest(tiny)["sequences"]
    assert [s["facing_deg"] for s in sequences] == [0.0, 30.0, 15.0, 45.0, 0.0, 30.0]
    for s in sequences:
        cm, cs = s["cameras"]["Master"], s["cameras"]["Slave"]
        km = read_sphp_sequence(root / cm["folder"]).keypoints[..., :2].reshape(-1, 2)
        ks = read_sphp_sequence(root / cs["folder"]).keypoints[..., :2].reshape(-1, 2)
        pm, ps = _projection(cm), _projection(cs)
        xh = cv2.triangulatePoints(pm, ps, km.T.astype(np.float64), ks.T.astype(np.float64))
        for p, k in ((pm, km), (ps, ks)):
            q = p @ xh
            np.testing.assert_allclose((q[:2] / q[2]).T, k, atol=1e-3)
        x = (xh[:3] / xh[3]).T.reshape(FRAMES, 13, 3)

        # the two optical axes meet (both cameras look at one point c)
        c_m, c_s, d_m, d_s = _centre(cm), _centre(cs), _axis(cm), _axis(cs)
        a = np.stack([d_m, -d_s], axis=1)
        (lm, ls), *_ = np.linalg.lstsq(a, c_s - c_m, rcond=None)
        hit_m, hit_s = c_m + lm * d_m, c_s + ls * d_s
        assert np.linalg.norm(hit_m - hit_s) < 1e-6
        c = 0.5 * (hit_m + hit_s)
        assert np.linalg.norm(c_m - c) == pytest.approx(np.linalg.norm(c_s - c), rel=1e-9)
        assert c_m[1] == pytest.approx(c_s[1], abs=1e-9)  # same height
        assert _signed_angle_about_up(c_m - c, c_s - c) == pytest.approx(45.0, abs=1e-6)
        lo, hi = x.reshape(-1, 3).min(0), x.reshape(-1, 3).max(0)
        # c is on the person (within 15 cm of the box of the 13 joints: the nose and ears
        # that also frame the view stand out of it)
        assert (lo - 0.15 <= c).all() and (c <= hi + 0.15).all()

        # facing: normal of the left-minus-right hip and shoulder line (SPHP-13: 1 shoulder R,
        # 2 shoulder L, 5 hip R, 6 hip L), from the Master's direction towards the Slave's
        left, right = x[:, [2, 6]].mean(1), x[:, [1, 5]].mean(1)
        facing = np.cross(left - right, up).mean(0)
        got = _signed_angle_about_up(c_m - c, facing)
        assert got == pytest.approx(s["facing_deg"], abs=5.0), s


def test_cameras_share_the_intrinsics_focal_length(tiny):
    for s in _manifest(tiny)["sequences"]:
        km, ks = (np.array(s["cameras"][c]["K"]) for c in ("Master", "Slave"))
        assert km[0, 0] == ks[0, 0] == km[1, 1] > 0
        assert s["cameras"]["Master"]["azimuth_deg"] == 0.0
        assert s["cameras"]["Slave"]["azimuth_deg"] == 45.0


# --------------------------------------------------------------------------------------------
# Determinism, defaults, errors
# --------------------------------------------------------------------------------------------
def test_same_seed_same_bytes_and_a_subject_does_not_depend_on_the_others(tiny, tmp_path):
    again = _export(tmp_path / "again").parent
    first = _files(tiny.parent)
    assert _files(again) == first
    other = _export(tmp_path / "other", seed=SEED + 1, subjects=[6], actions=[3]).parent
    rel = "Master/s06/03/pose_change/002.npy"
    assert (other / rel).read_bytes() != first[rel]
    alone = _export(tmp_path / "alone", subjects=["s06"], actions=[3]).parent
    for cam in ("Master", "Slave"):
        prefix = f"{cam}/s06/03/"
        got = {k: v for k, v in _files(alone).items() if k.startswith(prefix)}
        assert got == {k: v for k, v in first.items() if k.startswith(prefix)}
        assert len(got) == 5 * FRAMES


def test_default_size_is_sphp_640x480(tmp_path):
    manifest = export_sphp_dataset(tmp_path, subjects=[2], frames=1, actions=[9], progress=False)
    seq = read_sphp_sequence(tmp_path / "Slave" / "s02" / "09")
    assert seq.read_image("EDG", 0).shape == (480, 640)
    assert _manifest(manifest)["size"] == [640, 480]


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"subjects": 0}, "subjects must be a count 1..40"),
        ({"subjects": 41}, "subjects must be a count 1..40"),
        ({"subjects": ["s41"]}, "subjects must be SPHP subject ids"),
        ({"subjects": []}, "subjects must name at least one"),
        ({"subjects": [1, "s01"]}, "subjects lists a subject twice"),
        ({"actions": [17]}, "actions must be distinct SPHP action ids 1..16"),
        ({"actions": []}, "actions must be"),
        ({"frames": 0}, "frames must be a positive integer"),
        ({"fps": 0}, "fps must be"),
        ({"size": "64"}, "size must be WIDTHxHEIGHT"),
    ],
)
def test_bad_arguments_name_the_argument_and_write_nothing(tmp_path, kw, match):
    with pytest.raises(ValueError, match=match):
        _export(tmp_path / "out", **kw)
    assert not (tmp_path / "out").exists()


def test_a_non_empty_folder_needs_overwrite(tmp_path):
    (tmp_path / "keep.txt").write_text("x")
    with pytest.raises(FileExistsError, match="not empty"):
        _export(tmp_path, subjects=[1], actions=[1], frames=1)
    _export(tmp_path, subjects=[1], actions=[1], frames=1, overwrite=True)
    assert (tmp_path / "keep.txt").exists() and (tmp_path / "Slave" / "s01" / "01").is_dir()


# --------------------------------------------------------------------------------------------
# Command line and script
# --------------------------------------------------------------------------------------------
def test_cli_synth_sphp_writes_both_cameras_with_a_progress_bar(tmp_path, capsys):
    out = tmp_path / "sphp"
    argv = ["synth", "sphp", "--subjects", "3", "--frames", "1", "--size", "48x36",
            "--actions", "2", "--seed", "5", "--out", str(out)]  # fmt: skip
    assert cli.main(argv) == 0
    captured = capsys.readouterr()
    assert "wrote" in captured.out and "6/6" in captured.err  # 3 subjects x 2 cameras x 1
    man = _manifest(out / "manifest.json")
    assert man["options"]["subjects"] == ["s01", "s06", "s09"] and man["seed"] == 5
    assert len(read_sphp_sequence(out / "Slave" / "s09" / "02")) == 1
    args = cli.build_parser().parse_args(["synth", "sphp", "--subjects", "s01,s10"])
    assert cli.synth_sphp_kwargs(args)["subjects"] == ["s01", "s10"]


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["synth", "sphp", "--subjects", "0"], "subjects must be a count 1..40"),
        (["synth", "sphp", "--actions", "1,17"], "actions must be"),
        (["synth", "sphp", "--n", "3"], "--n do not apply to 'synth sphp'"),
        (["synth", "sphp", "--camera", "Slave"], "--camera do not apply"),
        (["synth", "single", "--subjects", "3"], "--subjects applies to 'synth sphp' only"),
    ],
)
def test_cli_synth_sphp_refuses_bad_arguments(tmp_path, capsys, argv, match):
    assert cli.main([*argv, "--out", str(tmp_path / "x"), "--no-progress"]) == 2
    assert match in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_make_synthetic_script_writes_sphp(tmp_path, monkeypatch):
    mod = load_script("make_synthetic")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("POSEKIT_DATA", str(tmp_path / "data"))
    argv = ["sphp", "--subjects", "1", "--frames", "2", "--size", "32x24", "--actions", "4",
            "--no-progress"]  # fmt: skip
    assert mod.main(argv) == 0
    root = tmp_path / "data" / "synthpose" / "sphp_dataset_seed0"
    for cam in ("Master", "Slave"):
        assert len(read_sphp_sequence(root / cam / "s01" / "04")) == 2
