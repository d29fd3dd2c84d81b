"""Hostile-but-realistic files for the format readers (issue 12, items 1 and 6).

* A HumanEva ``.npz`` whose pickle would run code is refused before anything runs, naming the
  file and the forbidden global; real VideoPose3D-style files (every pickle protocol numpy has
  written them with) still load.
* A valid fixture of every format (``fixtures_formats``), corrupted in one field -- NaN/inf or
  a value beyond float32, an impossible size, an inverted head box, an unhashable or huge id,
  absurd nesting -- raises ``FormatError`` naming the file and the record's field; legitimate
  edge values next to them (unknown markers, unlabelled joints) still read as documented.
"""

from __future__ import annotations

import builtins
import io
import json
import os
import pickle
import zipfile

import fixtures_formats as fx
import numpy as np
import pytest
import scipy.io

from posekit.datasets import formats as F

NAN, INF = float("nan"), float("inf")
BIG32 = 1e39  # finite as a float64, inf as a float32


# ============================================================================================
# Item 1: HumanEva .npz never runs code
# ============================================================================================


class _Reduce:
    """Pickles as ``func(*args)``: what a malicious file would hold."""

    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


def _npz_member(path, key: str, payload: bytes) -> None:
    """A ``.npz`` with one 0-d object array ``key`` whose pickle bytes are ``payload``."""
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": "|O", "fortran_order": False, "shape": ()})
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(f"{key}.npy", buf.getvalue() + payload)


def _object_array(value) -> np.ndarray:
    arr = np.empty((), dtype=object)
    arr[()] = value
    return arr


def _global(func) -> str:
    """The name pickle stores for ``func`` (``builtins.open`` is ``io.open``)."""
    return f"{func.__module__}.{func.__name__}"


def _payloads(target):
    """(name, pickle bytes, forbidden global) that would create ``target`` when loaded."""
    opener = _Reduce(builtins.open, str(target), "w")
    nested = {"Train/S1": {"Walking 1 chunk0": [np.zeros((2, 15, 2), np.float32), opener]}}
    return [
        ("open", pickle.dumps(_object_array(opener), protocol=4), _global(builtins.open)),
        ("open-proto2", pickle.dumps(_object_array(opener), protocol=2), _global(builtins.open)),
        (
            "os.system",
            pickle.dumps(_Reduce(os.system, f"touch '{target}'"), protocol=3),
            _global(os.system),
        ),
        (
            "eval",
            pickle.dumps(_Reduce(eval, f"open({str(target)!r}, 'w')"), protocol=4),
            _global(eval),
        ),
        (
            "nested-in-real-data",
            pickle.dumps(_object_array(nested), protocol=4),
            _global(builtins.open),
        ),
        # A numpy function outside the reconstruction globals is refused too.
        (
            "numpy.save",
            pickle.dumps(_Reduce(np.save, str(target), 0), protocol=4),
            _global(np.save),
        ),
    ]


@pytest.mark.parametrize("case", range(6), ids=lambda i: f"payload{i}")
@pytest.mark.parametrize("reader", ["2d", "3d"])
def test_humaneva_pickle_payload_never_runs(tmp_path, case, reader):
    target = tmp_path / "pwned.txt"
    name, payload, forbidden = _payloads(target)[case]
    key = "positions_2d" if reader == "2d" else "positions_3d"
    path = tmp_path / f"data_{reader}_humaneva15.npz"
    _npz_member(path, key, payload)
    read = F.read_humaneva_2d if reader == "2d" else F.read_humaneva_3d
    with pytest.raises(F.FormatError) as e:
        read(path)
    assert not target.exists() and sorted(tmp_path.iterdir()) == [path], f"payload {name!r} ran"
    msg = str(e.value)
    assert str(path) in msg and forbidden in msg, msg
    assert e.value.field == key


def _swap_module_names(payload: bytes) -> bytes:
    """Protocol 2/3 pickles name globals as text: make a numpy 2 pickle look like numpy 1's."""
    return payload.replace(b"numpy._core.multiarray", b"numpy.core.multiarray")


# numpy 1 wrote object arrays with pickle protocol 2 (older) or 3, naming numpy.core; numpy 2
# writes protocol 4 naming numpy._core. Protocol 5 (out-of-band buffers) is read too.
@pytest.mark.parametrize(
    ("protocol", "numpy1_names"),
    [(2, True), (3, True), (2, False), (3, False), (4, False), (5, False)],
)
def test_humaneva_reads_every_numpy_pickle_protocol(tmp_path, protocol, numpy1_names):
    rng = np.random.default_rng(protocol)
    cams = [rng.uniform(0, 640, (4, 15, 2)).astype(np.float32), None, np.ones((4, 15, 2))]
    pos2d = {"Train/S1": {"Walking 1 chunk0": cams}, "Validate/S2": {"Box 1 chunk0": cams[:1]}}
    meta = dict(F.HUMANEVA15_METADATA, num_joints=np.int64(15), scale=np.float32(0.5))
    path = tmp_path / "data_2d_humaneva15_gt.npz"
    payloads = {
        k: pickle.dumps(_object_array(v), protocol=protocol)
        for k, v in (("positions_2d", pos2d), ("metadata", meta))
    }
    if numpy1_names:
        payloads = {k: _swap_module_names(v) for k, v in payloads.items()}
        assert b"numpy.core.multiarray" in payloads["positions_2d"]
    with zipfile.ZipFile(path, "w") as z:
        for key, payload in payloads.items():
            buf = io.BytesIO()
            np.lib.format.write_array_header_1_0(
                buf, {"descr": "|O", "fortran_order": False, "shape": ()}
            )
            z.writestr(f"{key}.npy", buf.getvalue() + payload)
    got = F.read_humaneva_2d(path)
    assert list(got) == ["Train/S1", "Validate/S2"]
    walk = got["Train/S1"]["Walking 1 chunk0"]
    np.testing.assert_array_equal(walk[0][..., :2], cams[0])
    assert walk[1] is None and (walk[2][..., :2] == 1).all() and (walk[2][..., 2] == 2).all()


def test_humaneva_saved_by_numpy_reads_back(tmp_path):
    # np.savez_compressed of a dict, as VideoPose3D writes it (the installed numpy's protocol).
    p2, p3, pos2d, pos3d = fx.build_humaneva(tmp_path)
    got3 = F.read_humaneva_3d(p3)
    np.testing.assert_array_equal(
        got3["Validate/S2"]["Box 1 chunk0"], pos3d["Validate/S2"]["Box 1 chunk0"]
    )
    got2 = F.read_humaneva_2d(p2)
    np.testing.assert_array_equal(
        got2["Train/S1"]["Jog 1 chunk0"][2][..., :2], pos2d["Train/S1"]["Jog 1 chunk0"][2]
    )


def test_humaneva_plain_numeric_member_is_not_unpickled(tmp_path):
    path = tmp_path / "plain.npz"
    np.savez(path, positions_3d=np.zeros((3, 15, 3)))
    with pytest.raises(F.FormatError, match="expected a pickled dict") as e:
        F.read_humaneva_3d(path)
    assert e.value.field == "positions_3d"


# ============================================================================================
# Item 6: impossible values, one corrupted field per case
# ============================================================================================


def _coco(change, reader=F.read_coco_keypoints, replace=None, **kw):
    """The COCO fixture with ``change(data)`` applied (and raw-text ``replace``ments)."""

    def make(tmp_path):
        path = tmp_path / "person_keypoints_val2017.json"
        data = fx.build_coco(path)
        change(data)
        text = json.dumps(data)
        for old, new in (replace or {}).items():
            text = text.replace(old, new, 1)
        path.write_text(text)
        return lambda: reader(path, **kw), path

    return make


def _kp(a: int, j: int, c: int, value):
    def change(d):
        d["annotations"][a]["keypoints"][3 * j + c] = value

    return change


def _set(*keys_and_value):
    *keys, value = keys_and_value

    def change(d):
        for k in keys[:-1]:
            d = d[k]
        d[keys[-1]] = value

    return change


def _results(change, replace=None):
    def make(tmp_path):
        path = tmp_path / "results.json"
        res = [
            {"image_id": 397133, "category_id": 1, "keypoints": [float(v) for v in range(51)],
             "score": 0.9},
            {"image_id": 37777, "category_id": 1, "keypoints": [1.0] * 51, "score": 0.5},
        ]  # fmt: skip
        change(res)
        text = json.dumps(res)
        for old, new in (replace or {}).items():
            text = text.replace(old, new, 1)
        path.write_text(text)
        return lambda: F.read_coco_results(path), path

    return make


def _hrnet(change):
    def make(tmp_path):
        path = tmp_path / "valid.json"
        entries = fx.build_hrnet_json(path)["raw"]
        change(entries)
        path.write_text(json.dumps(entries))
        return lambda: F.read_hrnet_mpii_json(path), path

    return make


def _mpii(change):
    """The official-.mat fixture with ``change(RELEASE[0, 0])`` applied."""

    def make(tmp_path):
        path = tmp_path / "mpii_human_pose_v1_u12_1.mat"
        fx.build_mpii_mat(path)
        rel = scipy.io.loadmat(path)["RELEASE"]
        change(rel[0, 0])
        scipy.io.savemat(path, {"RELEASE": rel})
        return lambda: F.read_mpii_mat(path), path

    return make


def _rect(rel, i=0, r=0):
    return rel["annolist"][0, i]["annorect"][0, r]


def _point(rel, k):
    return _rect(rel)["annopoints"][0, 0]["point"][0, k]


def _m(field, value, where=lambda rel: rel):
    def change(rel):
        where(rel)[field] = np.array([[value]], dtype=np.float64)

    return change


def _gt_valid(change):
    def make(tmp_path):
        path = tmp_path / "gt_valid.mat"
        fx.build_gt_valid(path)
        m = {k: v for k, v in scipy.io.loadmat(path).items() if not k.startswith("__")}
        change(m)
        scipy.io.savemat(path, m)
        return lambda: F.read_mpii_gt_valid(path), path

    return make


def _at(key, index, value):
    def change(m):
        m[key][index] = value

    return change


def _swap_head_x(m):  # person 2: x1 <-> x2
    h = m["headboxes_src"]
    h[0, 0, 1], h[1, 0, 1] = h[1, 0, 1], h[0, 0, 1]


def _lsp(variant, index, value):
    def make(tmp_path):
        path = tmp_path / "joints.mat"
        (fx.build_lsp if variant == "lsp" else fx.build_lspet)(path)
        joints = scipy.io.loadmat(path)["joints"]
        joints[index] = value
        scipy.io.savemat(path, {"joints": joints})
        return lambda: F.read_lsp_joints(path), path

    return make


def _sphp(joint, xy):
    def make(tmp_path):
        folder = tmp_path / "Master" / "s01" / "01"
        fx.build_sphp(folder, n_frames=3, size=(4, 6))
        path = folder / "pose_change" / "001.npy"
        lab = np.load(path)
        lab[joint] = xy
        np.save(path, lab)
        return lambda: F.read_sphp_sequence(folder), path

    return make


def _humaneva(which, change):
    def make(tmp_path):
        p2, p3, pos2d, pos3d = fx.build_humaneva(tmp_path)
        if which == "2d":
            change(pos2d)
            np.savez_compressed(p2, positions_2d=pos2d, metadata=F.HUMANEVA15_METADATA)
            return lambda: F.read_humaneva_2d(p2), p2
        change(pos3d)
        np.savez_compressed(p3, positions_3d=pos3d)
        return lambda: F.read_humaneva_3d(p3), p3

    return make


def _cam(subject, action, cam, index, value, dtype=np.float32):
    def change(pos):
        a = np.asarray(pos[subject][action][cam] if cam is not None else pos[subject][action])
        a = a.astype(dtype)
        a[index] = value
        if cam is None:
            pos[subject][action] = a
        else:
            pos[subject][action][cam] = a

    return change


def _rename_subject(pos):
    pos[7] = pos.pop("Validate/S2")


WALK = "positions_2d['Train/S1']['Walking 1 chunk0']"
P1 = "RELEASE.annolist(1).annorect(1)"
PT1 = f"{P1}.annopoints.point(1)"
DEEP = "[" * 100_000 + "]" * 100_000

HOSTILE = {
    # --- COCO person keypoints ---
    "coco-kp-x-nan": (_coco(_kp(0, 0, 0, NAN)), "annotations[0].keypoints"),
    "coco-kp-y-inf": (_coco(_kp(1, 2, 1, INF)), "annotations[1].keypoints"),
    "coco-kp-beyond-float32": (_coco(_kp(2, 3, 0, BIG32)), "annotations[2].keypoints"),
    "coco-kp-flag-nan-not-strict": (
        _coco(_kp(0, 1, 2, NAN), strict=False), "annotations[0].keypoints"),
    "coco-kp-huge-int": (
        _coco(_kp(3, 0, 0, "HUGE"), replace={'"HUGE"': "1" + "0" * 400}),
        "annotations[3].keypoints"),
    "coco-bbox-negative-width": (
        _coco(_set("annotations", 1, "bbox", 2, -30.0)), "annotations[1].bbox"),
    "coco-bbox-nan": (_coco(_set("annotations", 0, "bbox", 0, NAN)), "annotations[0].bbox"),
    "coco-area-negative": (_coco(_set("annotations", 2, "area", -5.0)), "annotations[2].area"),
    "coco-area-inf": (_coco(_set("annotations", 3, "area", INF)), "annotations[3].area"),
    "coco-image-width-zero": (_coco(_set("images", 1, "width", 0)), "images[1].width"),
    "coco-image-height-negative": (_coco(_set("images", 0, "height", -427)), "images[0].height"),
    "coco-image-id-huge": (_coco(_set("images", 0, "id", 2**70)), "images[0].id"),
    "coco-ann-id-huge": (_coco(_set("annotations", 1, "id", 2**64)), "annotations[1].id"),
    "coco-image-id-unhashable": (
        _coco(_set("annotations", 0, "image_id", [397133])), "annotations[0].image_id"),
    "coco-category-id-unhashable": (
        _coco(_set("annotations", 2, "category_id", {"id": 1})), "annotations[2].category_id"),
    "coco-categories-id-unhashable": (
        _coco(_set("categories", 0, "id", [1])), "categories[0].id"),
    "coco-categories-keypoints-not-list": (
        _coco(_set("categories", 0, "keypoints", 17)), "categories[0].keypoints"),
    "coco-absurd-nesting": (
        _coco(_set("annotations", 0, "segmentation", "DEEP"), replace={'"DEEP"': DEEP}), None),
    # --- COCO results ---
    "results-kp-nan": (_results(_set(0, "keypoints", 4, NAN)), "[0].keypoints"),
    "results-kp-beyond-float32": (_results(_set(1, "keypoints", 0, -BIG32)), "[1].keypoints"),
    "results-score-nan": (_results(_set(1, "score", NAN)), "[1].score"),
    "results-score-inf": (_results(_set(0, "score", INF)), "[0].score"),
    "results-image-id-huge": (_results(_set(1, "image_id", 2**63)), "[1].image_id"),
    # --- MPII HRNet json ---
    "hrnet-joint-nan": (_hrnet(_set(0, "joints", 1, 0, NAN)), "[0].joints[1]"),
    "hrnet-joint-inf": (_hrnet(_set(0, "joints", 2, 1, -INF)), "[0].joints[2]"),
    "hrnet-center-nan": (_hrnet(_set(0, "center", 1, NAN)), "[0].center"),
    "hrnet-center-x-minus-one-drops-y": (_hrnet(_set(0, "center", 0, -1.0)), "[0].center"),
    "hrnet-scale-negative": (_hrnet(_set(0, "scale", -3.0)), "[0].scale"),
    "hrnet-scale-zero": (_hrnet(_set(1, "scale", 0)), "[1].scale"),
    "hrnet-scale-nan": (_hrnet(_set(0, "scale", NAN)), "[0].scale"),
    # --- MPII official .mat ---
    "mpii-point-x-nan": (_mpii(_m("x", NAN, lambda r: _point(r, 0))), f"{PT1}.x"),
    "mpii-point-y-inf": (_mpii(_m("y", INF, lambda r: _point(r, 1))),
                         f"{P1}.annopoints.point(2).y"),
    "mpii-point-x-beyond-float32": (_mpii(_m("x", BIG32, lambda r: _point(r, 0))), f"{PT1}.x"),
    "mpii-point-visible-nan": (
        _mpii(_m("is_visible", NAN, lambda r: _point(r, 0))), f"{PT1}.is_visible"),
    "mpii-point-visible-3": (
        _mpii(_m("is_visible", 3.0, lambda r: _point(r, 2))),
        f"{P1}.annopoints.point(3).is_visible"),
    "mpii-point-id-nan": (_mpii(_m("id", NAN, lambda r: _point(r, 0))), f"{PT1}.id"),
    "mpii-point-id-inf": (_mpii(_m("id", INF, lambda r: _point(r, 0))), f"{PT1}.id"),
    "mpii-scale-negative": (_mpii(_m("scale", -1.5, _rect)), f"{P1}.scale"),
    "mpii-scale-nan": (_mpii(_m("scale", NAN, _rect)), f"{P1}.scale"),
    "mpii-head-inverted": (_mpii(_m("x2", 50.0, _rect)), f"{P1}.x2"),
    "mpii-head-nan": (_mpii(_m("y1", NAN, _rect)), f"{P1}.y1"),
    "mpii-head-partial": (
        _mpii(lambda r: _rect(r).__setitem__("y2", np.zeros((0, 0)))), f"{P1}.y2"),
    "mpii-objpos-nan": (
        _mpii(_m("x", NAN, lambda r: _rect(r)["objpos"][0, 0])), f"{P1}.objpos.x"),
    "mpii-objpos-partial": (
        _mpii(lambda r: _rect(r)["objpos"][0, 0].__setitem__("y", np.zeros((0, 0)))),
        f"{P1}.objpos.y"),
    "mpii-frame-sec-nan": (
        _mpii(_m("frame_sec", NAN, lambda r: r["annolist"][0, 0])),
        "RELEASE.annolist(1).frame_sec"),
    "mpii-vididx-nan": (
        _mpii(_m("vididx", NAN, lambda r: r["annolist"][0, 0])), "RELEASE.annolist(1).vididx"),
    "mpii-vididx-fraction": (
        _mpii(_m("vididx", 1.5, lambda r: r["annolist"][0, 2])), "RELEASE.annolist(3).vididx"),
    "mpii-act-id-nan": (
        _mpii(_m("act_id", NAN, lambda r: r["act"][1, 0])), "RELEASE.act(2).act_id"),
    "mpii-img-train-nan": (
        _mpii(lambda r: r["img_train"].__setitem__((0, 2), NAN)), "RELEASE.img_train"),
    "mpii-single-person-nan": (
        _mpii(lambda r: r["single_person"].__setitem__((0, 0), np.array([[1.0], [NAN]]))),
        "RELEASE.single_person{1}"),
    "mpii-single-person-fraction": (
        _mpii(lambda r: r["single_person"].__setitem__((2, 0), np.array([[1.5]]))),
        "RELEASE.single_person{3}"),
    # --- MPII gt_valid.mat ---
    "gt-pos-nan": (_gt_valid(_at("pos_gt_src", (2, 0, 1), NAN)), "pos_gt_src(3,1,2)"),
    "gt-pos-inf": (_gt_valid(_at("pos_gt_src", (15, 1, 2), -INF)), "pos_gt_src(16,2,3)"),
    "gt-pos-beyond-float32": (_gt_valid(_at("pos_gt_src", (0, 0, 0), BIG32)), "pos_gt_src(1,1,1)"),
    "gt-head-inverted": (_gt_valid(_swap_head_x), "headboxes_src(:,:,2)"),
    "gt-head-nan": (_gt_valid(_at("headboxes_src", (1, 1, 0), NAN)), "headboxes_src(2,2,1)"),
    "gt-missing-nan": (_gt_valid(_at("jnt_missing", (4, 1), NAN)), "jnt_missing(5,2)"),
    # --- LSP / LSPET ---
    "lsp-x-nan": (_lsp("lsp", (0, 2, 1), NAN), "joints(1,3,2)"),
    "lsp-y-inf": (_lsp("lsp", (1, 13, 0), INF), "joints(2,14,1)"),
    "lsp-flag-nan": (_lsp("lsp", (2, 5, 1), NAN), "joints(3,6,2)"),
    "lspet-x-beyond-float32": (_lsp("lspet", (4, 0, 2), BIG32), "joints(5,1,3)"),
    "lspet-y-nan": (_lsp("lspet", (4, 1, 2), NAN), "joints(5,2,3)"),
    # --- SPHP ---
    "sphp-x-inf": (_sphp(3, (INF, 5.0)), "label[3]"),
    "sphp-y-nan-only": (_sphp(4, (5.0, NAN)), "label[4]"),
    "sphp-beyond-float32": (_sphp(0, (BIG32, 1.0)), "label[0]"),
    # --- HumanEva ---
    "humaneva-2d-inf": (_humaneva("2d", _cam("Train/S1", "Walking 1 chunk0", 1, (2, 3, 0), INF)),
                        f"{WALK}[1]"),
    "humaneva-2d-half-nan": (
        _humaneva("2d", _cam("Train/S1", "Walking 1 chunk0", 0, (0, 0, 1), NAN)), f"{WALK}[0]"),
    "humaneva-2d-beyond-float32": (
        _humaneva("2d", _cam("Train/S1", "Walking 1 chunk0", 2, (1, 1, 1), BIG32, np.float64)),
        f"{WALK}[2]"),
    "humaneva-3d-inf": (
        _humaneva("3d", _cam("Validate/S2", "Box 1 chunk0", None, (0, 4, 2), -INF)),
        "positions_3d['Validate/S2']['Box 1 chunk0']"),
    "humaneva-3d-half-nan": (
        _humaneva("3d", _cam("Train/S1", "Jog 1 chunk0", None, (1, 1, 1), NAN)),
        "positions_3d['Train/S1']['Jog 1 chunk0']"),
    "humaneva-subject-not-a-string": (_humaneva("3d", _rename_subject), "positions_3d[7]"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_field_is_refused_naming_file_and_field(tmp_path, case):
    make, field = HOSTILE[case]
    read, path = make(tmp_path)
    with pytest.raises(F.FormatError) as e:
        read()
    msg = str(e.value)
    assert str(path) in msg, msg
    assert e.value.field == field, msg
    if field is not None:
        assert f"'{field}'" in msg, msg


# Legitimate edge values next to the hostile ones: read as documented, not refused.


def test_unknown_markers_and_unlabelled_joints_still_read(tmp_path):
    # HRNet: [-1, -1] centre and -1 scale = unknown; a negative centre elsewhere is a value.
    path = tmp_path / "valid.json"
    entries = fx.build_hrnet_json(path)["raw"]
    entries[0]["center"] = [-50.0, 300.0]
    entries[1]["scale"] = -1.0
    path.write_text(json.dumps(entries))
    a, b = F.read_hrnet_mpii_json(path)
    assert a.centers[0].tolist() == [-51.0, 299.0]
    assert np.isnan(b.centers).all() and np.isnan(b.scales).all()
    # gt_valid: a NaN at a missing joint is never read.
    gt = tmp_path / "gt_valid.mat"
    fx.build_gt_valid(gt)
    m = {k: v for k, v in scipy.io.loadmat(gt).items() if not k.startswith("__")}
    m["pos_gt_src"][6, :, 0] = NAN  # person 1 misses joints 6 and 7
    scipy.io.savemat(gt, m)
    assert F.read_mpii_gt_valid(gt).keypoints[0, 6].tolist() == [0.0, 0.0, 0.0]
    # SPHP / HumanEva: an all-NaN joint is "not labelled" (what the writers store for v = 0).
    folder = tmp_path / "seq"
    fx.build_sphp(folder, n_frames=2, size=(4, 6))
    lab = np.load(folder / "pose_change" / "001.npy")
    lab[7] = NAN
    np.save(folder / "pose_change" / "001.npy", lab)
    seq = F.read_sphp_sequence(folder)
    assert seq.keypoints[1, 7].tolist() == [0.0, 0.0, 0.0] and (seq.keypoints[1, 6, 2] == 2)
    p2, p3, pos2d, pos3d = fx.build_humaneva(tmp_path)
    pos2d["Train/S1"]["Jog 1 chunk0"][0][2, 5] = NAN
    pos3d["Train/S1"]["Jog 1 chunk0"][2, 5] = NAN
    np.savez_compressed(p2, positions_2d=pos2d)
    np.savez_compressed(p3, positions_3d=pos3d)
    kp = F.read_humaneva_2d(p2)["Train/S1"]["Jog 1 chunk0"][0]
    assert kp[2, 5].tolist() == [0.0, 0.0, 0.0] and kp[2, 4, 2] == 2
    assert np.isnan(F.read_humaneva_3d(p3)["Train/S1"]["Jog 1 chunk0"][2, 5]).all()


def test_absurd_json_nesting_and_huge_literals_name_the_file(tmp_path):
    path = tmp_path / "train.json"
    path.write_text(DEEP)
    with pytest.raises(F.FormatError, match="nest") as e:
        F.read_hrnet_mpii_json(path)
    assert str(path) in str(e.value)
    path.write_text("[" + "9" * 5000 + "]")
    with pytest.raises(F.FormatError) as e:
        F.read_coco_results(path)
    assert str(path) in str(e.value)


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        ({"file_name": ["a.jpg"]}, TypeError, "file_name must be a str"),
        ({"keypoints": [np.zeros((16, 3)), np.zeros((16, 2))]}, ValueError,
         r"ImageAnnotation.keypoints: not a float32 array"),
        ({"centers": [[1.0, "a"]]}, ValueError, r"ImageAnnotation.centers: not a float32 array"),
        ({"width": 0}, ValueError, "width must be > 0"),
        ({"height": 480.5}, TypeError, "height must be an integer"),
        ({"image_id": [3]}, TypeError, "image_id must be an integer"),
    ],
)  # fmt: skip
def test_image_annotation_names_the_bad_attribute(change, error, match):
    args = {"file_name": "a.jpg", "keypoints": np.zeros((1, 16, 3)), "skeleton": "mpii16"}
    with pytest.raises(error, match=match):
        F.ImageAnnotation(**(args | change))
    F.ImageAnnotation(**args, width=640, height=np.int64(480), image_id=7)  # valid neighbours
