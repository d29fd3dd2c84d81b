"""Tiny fixtures in the exact structure of the real dataset files (``docs/datasets.md``).

Built by hand -- independently of ``posekit.datasets.formats``' writers -- so that reading
them tests the readers against the real layouts. Each builder returns the path(s) written and
the values a reader must return (0-based posekit conventions).
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import scipy.io

NAN = np.nan


def _struct(fields, shape=(1, 1)):
    out = np.zeros(shape, dtype=[(f, "O") for f in fields])
    for idx in np.ndindex(shape):
        for f in fields:
            out[idx][f] = np.zeros((0, 0))
    return out


def _num(v):
    return np.array([[v]], dtype=np.float64)


# --------------------------------------------------------------------------------------------
# MPII official .mat (docs/datasets.md § MPII Human Pose)
# --------------------------------------------------------------------------------------------

# Image 1, person 1: points given in shuffled id order, with every is_visible flavour.
# (id, x, y, is_visible, expected v) -- 1-based coordinates as in the file.
MPII_POINTS = [
    (9, 101.0, 51.0, "1", 2),  # head top, 1-char string '1' -> visible
    (0, 91.0, 301.0, np.zeros((0, 0)), 1),  # r ankle, empty -> labelled, not visible
    (13, 121.5, 111.0, 0, 1),  # l shoulder, numeric 0 -> not visible
    (6, 100.0, 200.0, 1, 2),  # pelvis, numeric 1 -> visible
    (15, 141.0, 181.25, "0", 1),  # l wrist, string '0' -> not visible
]


def build_mpii_mat(path: Path) -> dict:
    """3 images: (1) train, 2 rects, rect 2 without annopoints; (2) empty annorect;
    (3) test image whose rects have only scale/objpos (no annopoints field at all)."""
    # --- image 1 ---
    pts = _struct(("x", "y", "id", "is_visible"), (1, len(MPII_POINTS)))
    for k, (jid, x, y, vis, _) in enumerate(MPII_POINTS):
        pts[0, k]["x"] = _num(x)
        pts[0, k]["y"] = _num(y)
        pts[0, k]["id"] = _num(jid)
        pts[0, k]["is_visible"] = vis if isinstance(vis, (str, np.ndarray)) else _num(vis)
    ap = _struct(("point",))
    ap[0, 0]["point"] = pts
    rects1 = _struct(("x1", "y1", "x2", "y2", "annopoints", "scale", "objpos"), (1, 2))
    for r, (box, scale, obj) in enumerate(
        [
            ((91.0, 41.0, 131.0, 81.0), 1.5, (110.0, 180.0)),
            ((301.0, 21.0, 341.0, 66.0), 2.25, (320.0, 200.0)),
        ]
    ):
        for key, v in zip(("x1", "y1", "x2", "y2"), box, strict=True):
            rects1[0, r][key] = _num(v)
        rects1[0, r]["scale"] = _num(scale)
        op = _struct(("x", "y"))
        op[0, 0]["x"] = _num(obj[0])
        op[0, 0]["y"] = _num(obj[1])
        rects1[0, r]["objpos"] = op
    rects1[0, 0]["annopoints"] = ap  # rect 2 keeps annopoints = []
    # --- image 3: test rects ---
    rects3 = _struct(("scale", "objpos"), (1, 1))
    rects3[0, 0]["scale"] = _num(3.0)
    op = _struct(("x", "y"))
    op[0, 0]["x"] = _num(401.0)
    op[0, 0]["y"] = _num(301.0)
    rects3[0, 0]["objpos"] = op

    annolist = _struct(("image", "annorect", "frame_sec", "vididx"), (1, 3))
    for i, name in enumerate(("015601864.jpg", "015599452.jpg", "005808361.jpg")):
        img = _struct(("name",))
        img[0, 0]["name"] = name
        annolist[0, i]["image"] = img
    annolist[0, 0]["annorect"] = rects1
    annolist[0, 0]["frame_sec"] = _num(11.0)
    annolist[0, 0]["vididx"] = _num(2.0)
    annolist[0, 2]["annorect"] = rects3
    annolist[0, 2]["frame_sec"] = _num(40.0)
    annolist[0, 2]["vididx"] = _num(1.0)

    single = np.empty((3, 1), dtype=object)
    single[0, 0] = np.array([[1.0], [2.0]])
    single[1, 0] = np.zeros((0, 0))
    single[2, 0] = _num(1.0)
    act = _struct(("act_name", "cat_name", "act_id"), (3, 1))
    acts = [("curling", "sports", 1), ("", "", -1), ("bicycling, mountain", "bicycling", 7)]
    for i, (a, c, k) in enumerate(acts):
        act[i, 0]["act_name"] = a
        act[i, 0]["cat_name"] = c
        act[i, 0]["act_id"] = _num(k)
    videos = np.empty((1, 2), dtype=object)
    videos[0, 0] = "aAOusnrSsHI"
    videos[0, 1] = "nrFXQomhQbw"

    release = _struct(("annolist", "img_train", "version", "single_person", "act", "video_list"))
    rel = release[0, 0]
    rel["annolist"] = annolist
    rel["img_train"] = np.array([[1.0, 1.0, 0.0]])
    rel["version"] = "12"
    rel["single_person"] = single
    rel["act"] = act
    rel["video_list"] = videos
    scipy.io.savemat(path, {"RELEASE": release})

    kp1 = np.zeros((2, 16, 3), np.float32)
    for jid, x, y, _, v in MPII_POINTS:
        kp1[0, jid] = (x - 1, y - 1, v)
    return {
        "names": ["015601864.jpg", "015599452.jpg", "005808361.jpg"],
        "keypoints": [kp1, np.zeros((0, 16, 3), np.float32), np.zeros((1, 16, 3), np.float32)],
        "headboxes": [
            np.array([[[90, 40], [130, 80]], [[300, 20], [340, 65]]], np.float32),
            np.zeros((0, 2, 2), np.float32),
            np.full((1, 2, 2), NAN, np.float32),
        ],
        "centers": [
            np.array([[109, 179], [319, 199]], np.float32),
            np.zeros((0, 2), np.float32),
            np.array([[400, 300]], np.float32),
        ],
        "scales": [
            np.array([1.5, 2.25], np.float32),
            np.zeros(0, np.float32),
            np.array([3.0], np.float32),
        ],
        "img_train": [True, True, False],
        "single_person": [[0, 1], [], [0]],
        "act": [{"act_name": a, "cat_name": c, "act_id": k} for a, c, k in acts],
        "frame_sec": [11.0, None, 40.0],
        "video_index": [1, None, 0],
        "video_id": ["nrFXQomhQbw", None, "aAOusnrSsHI"],
    }


# --------------------------------------------------------------------------------------------
# HRNet MPII json + gt_valid.mat (docs/datasets.md § MPII Human Pose)
# --------------------------------------------------------------------------------------------


def build_hrnet_json(path: Path) -> dict:
    """Two entries in HRNet's key order: a labelled person (4 joints unlabelled) and a
    test-like entry with centre -1 and no joints."""
    joints = [[float(100 + 10 * j), float(200 + 5 * j)] for j in range(16)]
    vis = [1] * 16
    for j in (0, 5, 8, 15):
        joints[j] = [-1.0, -1.0]
        vis[j] = 0
    entries = [
        {"joints_vis": vis, "joints": joints, "image": "005808361.jpg", "scale": 3.021046,
         "center": [594.0, 257.0]},
        {"image": "060111501.jpg", "scale": 1.5, "center": [-1.0, -1.0]},
    ]  # fmt: skip
    path.write_text(json.dumps(entries))
    kp = np.zeros((1, 16, 3), np.float32)
    for j in range(16):
        if vis[j]:
            kp[0, j] = (joints[j][0] - 1, joints[j][1] - 1, 2)
    return {"raw": entries, "keypoints": kp, "center": np.array([593.0, 256.0], np.float32)}


GT_NAMES = "rank rkne rhip lhip lkne lank pelv thor neck head rwri relb rsho lsho lelb lwri".split()


def build_gt_valid(path: Path) -> dict:
    """3 people; person 1 misses joints 6 and 7, person 3 misses joint 0."""
    n = 3
    rng = np.random.default_rng(3)
    pos = np.round(rng.uniform(1, 500, (16, 2, n)), 1)  # 1-based
    missing = np.zeros((16, n))
    missing[[6, 7], 0] = 1
    missing[0, 2] = 1
    heads = np.zeros((2, 2, n))
    heads[0, :, :] = [[10.0, 20.0, 30.0], [11.0, 21.0, 31.0]]  # (x1, y1) per person
    heads[1, :, :] = [[50.0, 70.0, 90.0], [61.0, 81.0, 101.0]]  # (x2, y2)
    names = np.empty((1, 16), dtype=object)
    for k, nm in enumerate(GT_NAMES):
        names[0, k] = nm
    scipy.io.savemat(
        path,
        {
            "dataset_joints": names,
            "jnt_missing": missing,
            "pos_gt_src": pos,
            "headboxes_src": heads,
        },
    )
    kp = np.zeros((n, 16, 3), np.float32)
    lab = missing.T == 0
    kp[..., :2] = np.where(lab[..., None], pos.transpose(2, 0, 1) - 1, 0)
    kp[..., 2] = np.where(lab, 2, 0)
    return {"keypoints": kp, "headboxes": (heads.transpose(2, 0, 1) - 1).astype(np.float32)}


# --------------------------------------------------------------------------------------------
# LSP / LSPET (docs/datasets.md § LSP and LSP-extended)
# --------------------------------------------------------------------------------------------


def _lsp_values(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = np.round(rng.uniform(1, 300, (n, 14)), 2)
    y = np.round(rng.uniform(1, 200, (n, 14)), 2)
    visible = rng.random((n, 14)) < 0.7
    return x, y, visible


def build_lsp(path: Path, n: int = 2) -> np.ndarray:
    """LSP: ``joints`` 3 x 14 x N; third row 1 = occluded."""
    x, y, visible = _lsp_values(n, 0)
    joints = np.zeros((3, 14, n))
    for i in range(n):
        for j in range(14):
            joints[0, j, i] = x[i, j]
            joints[1, j, i] = y[i, j]
            joints[2, j, i] = 0.0 if visible[i, j] else 1.0
    scipy.io.savemat(path, {"joints": joints})
    return np.stack([x - 1, y - 1, np.where(visible, 2, 1)], axis=-1).astype(np.float32)


def build_lspet(path: Path, n: int = 3) -> np.ndarray:
    """LSPET: ``joints`` 14 x 3 x N; third column 1 = visible."""
    x, y, visible = _lsp_values(n, 1)
    joints = np.zeros((14, 3, n))
    for i in range(n):
        for j in range(14):
            joints[j, :, i] = (x[i, j], y[i, j], 1.0 if visible[i, j] else 0.0)
    scipy.io.savemat(path, {"joints": joints})
    return np.stack([x - 1, y - 1, np.where(visible, 2, 1)], axis=-1).astype(np.float32)


# --------------------------------------------------------------------------------------------
# COCO person keypoints (docs/datasets.md § COCO keypoints)
# --------------------------------------------------------------------------------------------

COCO_NAMES = [
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle",
]  # fmt: skip
COCO_SKELETON = [
    [16, 14], [14, 12], [17, 15], [15, 13], [12, 13], [6, 12], [7, 13], [6, 7], [6, 8], [7, 9],
    [8, 10], [9, 11], [2, 3], [1, 2], [1, 3], [2, 4], [3, 5], [4, 6], [5, 7],
]  # fmt: skip


def _coco_person(cx: float, cy: float, seed: int) -> list[int]:
    rng = np.random.default_rng(seed)
    kps = []
    for _ in range(17):
        kps += [
            int(cx + rng.integers(-40, 40)),
            int(cy + rng.integers(-80, 80)),
            int(rng.choice([1, 2])),
        ]
    return kps


def build_coco(path: Path) -> dict:
    """2 images x 2 people; one joint of the first person has v = 0."""
    anns = []
    aid = 100
    for image_id, centres in (
        (397133, [(150, 200), (400, 220)]),
        (37777, [(120, 150), (300, 160)]),
    ):
        for k, (cx, cy) in enumerate(centres):
            kps = _coco_person(cx, cy, seed=image_id + k)
            if not anns:
                kps[3 * 4 : 3 * 4 + 3] = [0, 0, 0]  # right_ear not labelled
            xs, ys = kps[0::3], kps[1::3]
            lab = [v > 0 for v in kps[2::3]]
            x0 = min(x for x, ok in zip(xs, lab, strict=True) if ok) - 5.5
            y0 = min(y for y, ok in zip(ys, lab, strict=True) if ok) - 5.25
            w = max(x for x, ok in zip(xs, lab, strict=True) if ok) + 5.5 - x0
            h = max(y for y, ok in zip(ys, lab, strict=True) if ok) + 5.25 - y0
            anns.append(
                {
                    "segmentation": [[x0, y0, x0 + w, y0, x0 + w, y0 + h, x0, y0 + h]],
                    "num_keypoints": sum(lab),
                    "area": round(w * h * 0.6, 3),
                    "iscrowd": 0,
                    "keypoints": kps,
                    "image_id": image_id,
                    "bbox": [x0, y0, w, h],
                    "category_id": 1,
                    "id": aid,
                }
            )
            aid += 1
    data = {
        "info": {"description": "fixture", "version": "1.0", "year": 2017},
        "licenses": [{"url": "http://example.org", "id": 1, "name": "x"}],
        "images": [
            {"license": 1, "file_name": "000000397133.jpg", "height": 427, "width": 640,
             "id": 397133},
            {"license": 1, "file_name": "000000037777.jpg", "height": 230, "width": 352,
             "id": 37777},
        ],
        "annotations": anns,
        "categories": [
            {"supercategory": "person", "id": 1, "name": "person", "keypoints": COCO_NAMES,
             "skeleton": COCO_SKELETON}
        ],
    }  # fmt: skip
    path.write_text(json.dumps(data))
    return data


# --------------------------------------------------------------------------------------------
# SPHP (docs/datasets.md § SPHP)
# --------------------------------------------------------------------------------------------


def build_sphp(
    folder: Path, n_frames: int = 4, size=(48, 64), modalities=("EDG", "GRA", "MVH", "MVV")
):
    """``folder/{EDG,GRA,MVH,MVV}/000.png ...`` and ``pose_change/000.npy ...`` ((13, 2))."""
    rng = np.random.default_rng(5)
    frames = {m: rng.integers(0, 256, (n_frames, *size), dtype=np.uint8) for m in modalities}
    labels = rng.uniform(0, 640, (n_frames, 13, 2))
    labels[..., 1] *= 480 / 640
    for m in modalities:
        (folder / m).mkdir(parents=True)
        for t in range(n_frames):
            assert cv2.imwrite(str(folder / m / f"{t:03d}.png"), frames[m][t])
    (folder / "pose_change").mkdir(parents=True)
    for t in range(n_frames):
        np.save(folder / "pose_change" / f"{t:03d}.npy", labels[t])
    return frames, labels


# --------------------------------------------------------------------------------------------
# HumanEva-I, VideoPose3D npz (docs/datasets.md § HumanEva-I)
# --------------------------------------------------------------------------------------------


def build_humaneva(folder: Path) -> tuple[Path, Path, dict, dict]:
    rng = np.random.default_rng(7)
    pos2d, pos3d = {}, {}
    for subject, actions in (
        ("Train/S1", ("Walking 1 chunk0", "Jog 1 chunk0")),
        ("Validate/S2", ("Box 1 chunk0",)),
    ):
        pos2d[subject], pos3d[subject] = {}, {}
        for a, action in enumerate(actions):
            t = 5 + a
            pos3d[subject][action] = rng.normal(0, 0.5, (t, 15, 3)).astype("float32")
            pos2d[subject][action] = [
                rng.uniform(0, 640, (t, 15, 2)).astype("float32") for _ in range(3)
            ]
    meta = {"layout_name": "humaneva15", "num_joints": 15,
            "keypoints_symmetry": [[2, 3, 4, 8, 9, 10], [5, 6, 7, 11, 12, 13]]}  # fmt: skip
    p2, p3 = folder / "data_2d_humaneva15_gt.npz", folder / "data_3d_humaneva15.npz"
    np.savez_compressed(p3, positions_3d=pos3d)
    np.savez_compressed(p2, positions_2d=pos2d, metadata=meta)
    return p2, p3, pos2d, pos3d
