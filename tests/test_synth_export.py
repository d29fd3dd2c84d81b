"""SynthPose export in COCO / MPII / SPHP layouts: round trips through posekit's readers,
determinism, errors, the ``posekit synth`` / ``posekit bench synth`` commands."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from posekit import cli
from posekit.datasets.formats import (
    read_coco_keypoints,
    read_hrnet_mpii_json,
    read_mpii_gt_valid,
    read_mpii_mat,
    read_sphp_sequence,
)
from posekit.sensors import grayscale
from posekit.synth import SynthPose, identity_from_id, sample_rng, sample_sequence, synth_to
from posekit.synth.export import (
    COCO_ANNOTATION_FILE,
    MPII_MAT_FILE,
    export,
    mpii_num_valid,
    parse_size,
)

REPO = Path(__file__).resolve().parent.parent
SEED = 7
SINGLE = (48, 64)  # (w, h)
SCENE = (96, 64)
SEQ = (64, 48)


def _export(out: Path, kind: str, fmt: str, n: int, size, seed: int = SEED, **options) -> Path:
    return export(kind, n, size, seed, fmt, out, progress=False, **options)


@pytest.fixture(scope="module")
def exports(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("synth_export")
    return {
        "coco_single": _export(root / "cs", "single", "coco", 3, SINGLE, image_format="png"),
        "coco_multi": _export(root / "cm", "multi", "coco", 2, SCENE, people=3),
        "mpii_single": _export(root / "ms", "single", "mpii", 4, SINGLE, val_fraction=0.25),
        "mpii_multi": _export(root / "mm", "multi", "mpii", 2, SCENE, people=3, val_fraction=0.5),
        "sphp": _export(root / "sp", "sequence", "sphp", 2, SEQ, n_frames=4),
    }


def _kept_coco(sample) -> np.ndarray:
    return np.flatnonzero((sample.bbox[:, 2] > 0) & (sample.bbox[:, 3] > 0))


def _kept_mpii(sample) -> np.ndarray:
    return np.flatnonzero((synth_to("mpii16", sample.keypoints)[:, :, 2] > 0).any(axis=1))


# --------------------------------------------------------------------------------------------
# COCO
# --------------------------------------------------------------------------------------------
def test_coco_single_round_trips_exactly_with_lossless_images(exports):
    root = exports["coco_single"].parent
    records = read_coco_keypoints(root / COCO_ANNOTATION_FILE)
    ds = SynthPose(SEED, "person", size=SINGLE)
    assert [r.image_id for r in records] == [1, 2, 3]
    for i, rec in enumerate(records):
        s = ds[i]
        assert rec.file_name == f"{i + 1:012d}.png" and (rec.width, rec.height) == SINGLE
        np.testing.assert_array_equal(rec.keypoints, synth_to("coco17", s.keypoints))
        np.testing.assert_array_equal(rec.bboxes, s.bbox)
        assert rec.extra["iscrowd"] == [0]
        assert rec.extra["area"] == [pytest.approx(float(s.bbox[0, 2]) * float(s.bbox[0, 3]))]
        img = cv2.imread(str(root / "images" / rec.file_name))
        np.testing.assert_array_equal(img[..., ::-1], s.image)


def test_coco_multi_loads_in_pycocotools_and_keeps_people_in_the_image(exports):
    from pycocotools.coco import COCO

    path = exports["coco_multi"].parent / COCO_ANNOTATION_FILE
    coco = COCO(str(path))
    ds = SynthPose(SEED, "scene", size=SCENE, num_people=3)
    assert sorted(coco.getImgIds()) == [1, 2]
    for i in range(2):
        s = ds[i]
        keep = _kept_coco(s)
        expected = synth_to("coco17", s.keypoints[keep])
        anns = coco.loadAnns(coco.getAnnIds(imgIds=[i + 1], iscrowd=None))
        assert len(anns) == len(keep) >= 1
        for ann, kp, box in zip(anns, expected, s.bbox[keep], strict=True):
            got = np.array(ann["keypoints"], np.float64).reshape(17, 3)
            np.testing.assert_allclose(got, kp, atol=1e-4)
            np.testing.assert_allclose(ann["bbox"], box, atol=1e-4)
            assert ann["num_keypoints"] == int((kp[:, 2] > 0).sum())
            assert ann["iscrowd"] == 0 and ann["category_id"] == 1
        img = cv2.imread(str(path.parent.parent / "images" / f"{i + 1:012d}.jpg"))
        assert img.shape == (SCENE[1], SCENE[0], 3)
    records = read_coco_keypoints(path)
    assert sum(r.num_people for r in records) == len(coco.anns)


# --------------------------------------------------------------------------------------------
# MPII
# --------------------------------------------------------------------------------------------
def _check_mpii(root: Path, samples: list, n_valid: int) -> None:
    names = [f"{i + 1:09d}.jpg" for i in range(len(samples))]
    kps = [synth_to("mpii16", s.keypoints[_kept_mpii(s)]) for s in samples]
    heads = [s.head_box[_kept_mpii(s)] for s in samples]

    official = read_mpii_mat(root / MPII_MAT_FILE)
    assert [r.file_name for r in official] == names
    for rec, s, kp in zip(official, samples, kps, strict=True):
        keep = _kept_mpii(s)
        np.testing.assert_array_equal(rec.keypoints, kp)  # v = 1 stays 1 (is_visible = 0)
        np.testing.assert_array_equal(rec.headboxes, s.head_box[keep])
        np.testing.assert_array_equal(rec.centers, s.center[keep])
        np.testing.assert_array_equal(rec.scales, s.scale[keep])
        assert rec.extra["img_train"] is True
        assert cv2.imread(str(root / "images" / rec.file_name)) is not None

    def hrnet(kp):  # joints_vis means labelled: v = 1 reads back as 2
        out = kp.copy()
        out[..., 2] = np.where(kp[..., 2] > 0, 2.0, 0.0)
        return out

    split = len(samples) - n_valid
    for name, part in (("train", slice(0, split)), ("valid", slice(split, None)),
                       ("trainval", slice(None))):  # fmt: skip
        entries = read_hrnet_mpii_json(root / "annot" / f"{name}.json")
        assert [e.file_name for e in entries] == [
            nm for nm, kp in zip(names[part], kps[part], strict=True) for _ in kp
        ]
        got = np.concatenate([e.keypoints for e in entries]) if entries else np.zeros((0, 16, 3))
        want = np.concatenate(kps[part]) if kps[part] else np.zeros((0, 16, 3))
        np.testing.assert_array_equal(got, hrnet(want))
    gt = read_mpii_gt_valid(root / "annot" / "gt_valid.mat")
    np.testing.assert_array_equal(gt.keypoints, hrnet(np.concatenate(kps[split:])))
    np.testing.assert_array_equal(gt.headboxes, np.concatenate(heads[split:]))


def test_mpii_single_round_trips_through_all_three_readers(exports):
    ds = SynthPose(SEED, "person", size=SINGLE)
    _check_mpii(exports["mpii_single"].parent, [ds[i] for i in range(4)], n_valid=1)
    official = read_mpii_mat(exports["mpii_single"].parent / MPII_MAT_FILE)
    assert all(r.extra["single_person"] == [0] for r in official)


def test_mpii_multi_round_trips_and_marks_separated_people(exports):
    ds = SynthPose(SEED, "scene", size=SCENE, num_people=3)
    samples = [ds[i] for i in range(2)]
    _check_mpii(exports["mpii_multi"].parent, samples, n_valid=1)
    manifest = json.loads(exports["mpii_multi"].read_text())
    assert manifest["counts"]["valid_images"] == 1 and "gt_valid" in manifest["files"]


def test_mpii_split_rule():
    assert [mpii_num_valid(n, 0.1) for n in (1, 4, 10, 26)] == [1, 1, 1, 3]
    assert mpii_num_valid(10, 0.0) == 0 and mpii_num_valid(10, 1.0) == 10


# --------------------------------------------------------------------------------------------
# SPHP
# --------------------------------------------------------------------------------------------
def test_sphp_round_trips_labels_sensors_and_layout(exports):
    root = exports["sphp"].parent
    for i, action in enumerate((1, 2)):
        folder = root / "Master" / "s01" / f"{action:02d}"
        seq = read_sphp_sequence(folder, strict=False)
        ref = sample_sequence(sample_rng(SEED, i), action, 4, 30.0, SEQ,
                              identity=identity_from_id(0, SEED))  # fmt: skip
        assert seq.frame_names == ["000", "001", "002", "003"]
        assert sorted(seq.images) == ["EDG", "GRA", "MVH", "MVV"]
        labels = synth_to("sphp13", ref.joints2d[:, 0])
        np.testing.assert_array_equal(seq.keypoints[..., :2], labels)
        kp = synth_to("sphp13", ref.keypoints[:, 0])
        lab = kp[..., 2] > 0
        np.testing.assert_array_equal(seq.keypoints[..., :2][lab], kp[..., :2][lab])
        assert (seq.keypoints[..., 2] == 2).all()
        for m in ("MVH", "MVV"):
            assert (seq.read_image(m, 0) == 128).all()
        for t in range(4):
            assert seq.read_image("EDG", t).shape == (SEQ[1], SEQ[0])
            assert set(np.unique(seq.read_image("EDG", t))) <= {0, 255}
            np.testing.assert_array_equal(seq.read_image("GRA", t), grayscale(ref.images[t]))
    manifest = json.loads(exports["sphp"].read_text())
    assert [s["folder"] for s in manifest["sequences"]] == ["Master/s01/01", "Master/s01/02"]
    assert manifest["options"]["n_frames"] == 4 and manifest["posekit_version"]


def test_sphp_subjects_follow_identities_and_actions_cycle(tmp_path):
    manifest = _export(tmp_path, "sequence", "sphp", 3, (32, 32), n_frames=1, actions=[10, 11],
                       camera="Slave", subject_start=6)  # fmt: skip
    seqs = json.loads(manifest.read_text())["sequences"]
    assert [s["folder"] for s in seqs] == ["Slave/s06/10", "Slave/s06/11", "Slave/s07/10"]
    assert [s["identity"] for s in seqs] == [5, 5, 6]


# --------------------------------------------------------------------------------------------
# Determinism, defaults, errors
# --------------------------------------------------------------------------------------------
ANNOTATION_FILES = {
    "coco_multi": [COCO_ANNOTATION_FILE, "manifest.json"],
    "mpii_single": [MPII_MAT_FILE, "annot/train.json", "annot/valid.json", "annot/gt_valid.mat"],
    "sphp": ["Master/s01/02/pose_change/003.npy", "Master/s01/02/MVH/003.png"],
}
AGAIN = {
    "coco_multi": ("multi", "coco", 2, SCENE, {"people": 3}),
    "mpii_single": ("single", "mpii", 4, SINGLE, {"val_fraction": 0.25}),
    "sphp": ("sequence", "sphp", 2, SEQ, {"n_frames": 4}),
}


@pytest.mark.parametrize("name", sorted(AGAIN))
def test_same_seed_gives_identical_annotation_bytes(exports, tmp_path, name):
    kind, fmt, n, size, opts = AGAIN[name]
    again = _export(tmp_path / "a", kind, fmt, n, size, **opts).parent
    other = _export(tmp_path / "b", kind, fmt, n, size, seed=SEED + 1, **opts).parent
    first = exports[name].parent
    for rel in ANNOTATION_FILES[name]:
        assert (first / rel).read_bytes() == (again / rel).read_bytes(), rel
    assert (first / ANNOTATION_FILES[name][0]).read_bytes() != (
        other / ANNOTATION_FILES[name][0]
    ).read_bytes()


def test_default_out_dir_is_under_the_data_root(tmp_path, monkeypatch):
    monkeypatch.setenv("POSEKIT_DATA", str(tmp_path))
    manifest = export("single", 1, (32, 32), 3, "coco", progress=False)
    assert manifest == tmp_path / "synthpose" / "coco_single_seed3" / "manifest.json"
    with pytest.raises(FileExistsError, match="not empty"):
        export("single", 1, (32, 32), 3, "coco", progress=False)
    export("single", 1, (32, 32), 3, "coco", progress=False, overwrite=True)


@pytest.mark.parametrize(
    ("kind", "fmt", "options", "match"),
    [
        ("multi", "sphp", {}, "holds sequence data, not 'multi'"),
        ("single", "sphp", {}, "holds sequence data"),
        ("sequence", "coco", {}, "export 'sequence' as sphp"),
        ("sequence", "mpii", {}, "holds single or multi"),
        ("single", "coco", {"n_frames": 3}, "do not apply to format 'coco'"),
        ("single", "coco", {"people": 3}, "'multi' only"),
        ("single", "mpii", {"val_fraction": 2.0}, "val_fraction"),
        ("sequence", "sphp", {"actions": [17]}, "1..16"),
        ("sequence", "sphp", {"subject_start": 40, "actions": [1]}, "s01..s40"),
        ("single", "png", {}, "format must be one of"),
    ],
)
def test_unsupported_combinations_raise_clear_errors(tmp_path, kind, fmt, options, match):
    with pytest.raises(ValueError, match=match):
        export(kind, 2, (32, 32), 0, fmt, tmp_path / "out", progress=False, **options)
    assert not (tmp_path / "out").exists()


def test_parse_size():
    assert parse_size("640x480") == (640, 480) and parse_size(" 64 X 48 ") == (64, 48)
    assert parse_size((32, 16)) == (32, 16)
    for bad in ("640", "640x", "axb", "640*480", "4x4", (1.5, 2)):
        with pytest.raises(ValueError, match="size"):
            parse_size(bad)


# --------------------------------------------------------------------------------------------
# Command line and script
# --------------------------------------------------------------------------------------------
def test_cli_synth_writes_the_files(tmp_path, capsys):
    out = tmp_path / "coco"
    argv = ["synth", "single", "--n", "2", "--size", "32x40", "--seed", "1", "--format", "coco",
            "--out", str(out), "--no-progress"]  # fmt: skip
    assert cli.main(argv) == 0
    assert "wrote" in capsys.readouterr().out
    records = read_coco_keypoints(out / COCO_ANNOTATION_FILE)
    assert [(r.width, r.height) for r in records] == [(32, 40)] * 2
    assert sorted(p.name for p in (out / "images").iterdir()) == [
        "000000000001.jpg", "000000000002.jpg"
    ]  # fmt: skip
    seq = tmp_path / "sphp"
    argv = ["synth", "sequence", "--n", "1", "--size", "32x32", "--frames", "2", "--fps", "15",
            "--out", str(seq), "--no-progress"]  # fmt: skip
    assert cli.main(argv) == 0  # sequences default to --format sphp
    assert len(read_sphp_sequence(seq / "Master" / "s01" / "01")) == 2
    manifest = json.loads((seq / "manifest.json").read_text())
    assert manifest["options"]["fps"] == 15.0 and manifest["format"] == "sphp"


def test_cli_synth_bad_size_and_bad_combination(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["synth", "single", "--size", "64by64", "--out", str(tmp_path / "x")])
    assert exc.value.code == 2
    assert "WIDTHxHEIGHT" in capsys.readouterr().err
    assert cli.main(["synth", "multi", "--format", "sphp", "--out", str(tmp_path / "y")]) == 2
    assert "holds sequence data" in capsys.readouterr().err


def load_script(name: str):
    """``data_scripts/<name>.py`` imported as a module (the scripts are not a package)."""
    spec = importlib.util.spec_from_file_location(name, REPO / "data_scripts" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_make_synthetic_script_runs_from_any_cwd(tmp_path, monkeypatch):
    mod = load_script("make_synthetic")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("POSEKIT_DATA", str(tmp_path / "data"))
    argv = ["multi", "--n", "1", "--size", "48x32", "--people", "2", "--format", "mpii",
            "--val-fraction", "0", "--no-progress"]  # fmt: skip
    assert mod.main(argv) == 0
    root = tmp_path / "data" / "synthpose" / "mpii_multi_seed0"
    assert len(read_mpii_mat(root / MPII_MAT_FILE)) == 1
    assert read_hrnet_mpii_json(root / "annot" / "valid.json") == []
    assert not (root / "annot" / "gt_valid.mat").exists()
