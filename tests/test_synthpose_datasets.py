"""SynthPose torch datasets: shapes, determinism, splits, crop geometry, batching, workers,
disk cache, bottom-up collate, sequences, and a smoke test of the sanity baseline."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from posekit.datasets.synthpose import (
    IMAGENET_MEAN,
    JOINT_SETS,
    CachedDataset,
    SynthPoseBottomUp,
    SynthPoseSequences,
    SynthPoseTopDown,
    cache_dataset,
    cached,
    collate_bottom_up,
    default_cache_path,
    denormalize_image,
    normalize_image,
)
from posekit.datasets.transforms import TopDownAffine, inverse_keypoints
from posekit.metrics import pckh
from posekit.skeletons import get_skeleton
from posekit.synth import ACTION_CLASSES, SynthConfig, synth_to

GREEN = (0, 255, 0)
PLAIN = SynthConfig(background="plain", bg_color=GREEN)
LIMBS = [f"{s}_{j}" for s in ("left", "right")
         for j in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle")]  # fmt: skip


def _geometric(size=(128, 128), joint_set="mpii16", **kw) -> TopDownAffine:
    """Training augmentation without colour (so a plain background stays recognisable)."""
    return TopDownAffine(size, joint_set, color=False, **kw)


def _equal(a: dict, b: dict) -> bool:
    assert a.keys() == b.keys()
    for k in a:
        x, y = a[k], b[k]
        if isinstance(x, torch.Tensor):
            if not torch.equal(x, y):
                return False
        elif isinstance(x, list):
            if not all(torch.equal(p, q) for p, q in zip(x, y, strict=True)):
                return False
        elif x != y:
            return False
    return True


# --------------------------------------------------------------------------------------------
# Top-down
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("joint_set", JOINT_SETS)
def test_topdown_shapes_and_dtypes(joint_set):
    k = get_skeleton(joint_set).num_joints
    ds = SynthPoseTopDown("train", 4, input_size=(96, 128), joint_set=joint_set)
    it = ds[1]
    assert it["image"].shape == (3, 128, 96) and it["image"].dtype == torch.float32
    assert it["keypoints"].shape == (k, 3) and it["keypoints"].dtype == torch.float32
    assert it["target_weight"].shape == (k,) and it["target_weight"].dtype == torch.float32
    assert it["matrix"].shape == (2, 3) and it["matrix"].dtype == torch.float64
    assert it["head_box"].shape == (2, 2) and it["bbox"].shape == (4,)
    assert it["center"].shape == (2,) and it["scale"].shape == (2,)
    assert it["index"] == 1 and isinstance(it["flipped"], bool) and it["head_size"] > 0
    assert len(ds) == 4
    with pytest.raises(IndexError):
        ds[4]


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="split"):
        SynthPoseTopDown("training", 4)
    with pytest.raises(ValueError, match="joint_set"):
        SynthPoseTopDown("train", 4, joint_set="h36m17")
    with pytest.raises(ValueError, match="skeleton coco17 != joint_set mpii16"):
        SynthPoseTopDown("train", 4, augment=TopDownAffine((128, 128), "coco17"))
    with pytest.raises(ValueError, match="output_size"):
        SynthPoseTopDown("train", 4, augment=TopDownAffine((64, 64), "mpii16"))


def test_normalize_denormalize_round_trip():
    img = np.random.default_rng(0).integers(0, 256, (2, 5, 7, 3)).astype(np.uint8)
    t = normalize_image(img)
    assert t.shape == (2, 3, 5, 7) and t.dtype == torch.float32
    mean_level = np.rint(np.array(IMAGENET_MEAN) * 255).astype(np.uint8)
    assert (
        abs(float(normalize_image(np.broadcast_to(mean_level, (1, 1, 3)).copy()).abs().max()))
        < 0.01
    )
    np.testing.assert_array_equal(denormalize_image(t), img)
    np.testing.assert_array_equal(
        denormalize_image(normalize_image(torch.from_numpy(img[0]))), img[0]
    )


def test_item_is_a_pure_function_of_seed_split_index_and_epoch():
    a = SynthPoseTopDown("train", 8, seed=3)
    b = SynthPoseTopDown("train", 8, seed=3)
    assert _equal(a[5], b[5])
    assert _equal(a[5], a.__getitems__([2, 5])[1])  # not a function of what came before
    assert not torch.equal(a[5]["image"], SynthPoseTopDown("train", 8, seed=4)[5]["image"])
    # epochs: new augmentation of the same picture
    b.set_epoch(1)
    assert not torch.equal(a[5]["image"], b[5]["image"])
    np.testing.assert_array_equal(a.raw(5)["image"], b.raw(5)["image"])
    b.set_epoch(0)
    assert _equal(a[5], b[5])
    # eval crops do not depend on the epoch
    v = SynthPoseTopDown("val", 8, seed=3)
    first = v[2]
    v.set_epoch(7)
    assert _equal(first, v[2])


def test_splits_are_different_streams():
    imgs = {
        s: SynthPoseTopDown(s, 4, augment=False).raw(0)["image"] for s in ("train", "val", "test")
    }
    assert not np.array_equal(imgs["train"], imgs["val"])
    assert not np.array_equal(imgs["val"], imgs["test"])
    assert not np.array_equal(imgs["train"], imgs["test"])


def test_identity_pools_are_disjoint_across_splits_when_configured():
    cfg = SynthConfig(num_identities=5)
    ids = {s: {int(SynthPoseTopDown(s, 40, config=cfg).raw(i)["identity"]) for i in range(0, 40, 4)}
           for s in ("train", "val")}  # fmt: skip
    train_ds = SynthPoseTopDown("train", 40, config=cfg)
    val_ds = SynthPoseTopDown("val", 40, config=cfg)
    shared = SynthPoseTopDown("val", 40, config=cfg, disjoint_identities=False)
    assert ids["train"] <= set(range(5)) and ids["val"] <= set(range(5))
    # same ids, different people: the pools are drawn from different identity seeds
    assert val_ds._synth.config.identity_seed != train_ds._synth.config.identity_seed
    assert shared._synth.config.identity_seed == train_ds._synth.config.identity_seed


def test_visible_joints_in_the_augmented_crop_lie_on_the_person():
    """The property training relies on: a v=2 joint in crop coordinates is on the body."""
    ds = SynthPoseTopDown("train", 24, config=PLAIN, augment=_geometric(rotation_prob=1.0))
    idx = [get_skeleton("mpii16").index(n) for n in LIMBS]
    checked = 0
    for it in ds.__getitems__(range(24)):
        img = denormalize_image(it["image"]).astype(int)
        kp, w = it["keypoints"].numpy(), it["target_weight"].numpy()
        for j in idx:
            if kp[j, 2] == 2 and w[j] > 0:
                x, y = np.rint(kp[j, :2]).astype(int)
                diff = np.abs(img[y, x] - GREEN).sum()
                assert diff > 40, (it["index"], j, img[y, x])
                checked += 1
    assert checked > 150


def test_inverse_keypoints_maps_crop_back_to_the_render():
    ds = SynthPoseTopDown("train", 12, joint_set="coco17")  # flips, rotations, half-body
    flips = 0
    for it in ds.__getitems__(range(12)):
        raw = synth_to("coco17", ds.raw(it["index"])["keypoints"])
        crop = it["keypoints"].numpy()
        if it["flipped"]:
            crop = crop[get_skeleton("coco17").flip_permutation()]
            flips += 1
        back = inverse_keypoints(crop, it["matrix"].numpy())
        lab = raw[:, 2] > 0
        np.testing.assert_allclose(back[lab, :2], raw[lab, :2], atol=1e-3)
        np.testing.assert_array_equal(back[:, 2], raw[:, 2])
    assert 0 < flips < 12


def test_flip_swaps_left_and_right():
    kw = dict(rotation_prob=0.0, scale=(1.0, 1.0), half_body_prob=0.0)
    plain = SynthPoseTopDown("val", 6, augment=_geometric(flip_prob=0.0, **kw))
    flip = SynthPoseTopDown("val", 6, augment=_geometric(flip_prob=1.0, **kw))
    sk = get_skeleton("mpii16")
    lw, rw = sk.index("left_wrist"), sk.index("right_wrist")
    for a, b in zip(plain.__getitems__(range(6)), flip.__getitems__(range(6)), strict=True):
        assert b["flipped"] and not a["flipped"]
        ka, kb = a["keypoints"].numpy(), b["keypoints"].numpy()
        if ka[lw, 2] > 0:  # the left wrist of the image is the right wrist after flipping
            np.testing.assert_allclose(kb[rw, 0], 127 - ka[lw, 0], atol=1e-3)
            np.testing.assert_allclose(kb[rw, 1], ka[lw, 1], atol=1e-3)
            assert kb[rw, 2] == ka[lw, 2]
        # and the pictures are mirror images of each other
        ia, ib = (
            denormalize_image(a["image"]).astype(int),
            denormalize_image(b["image"]).astype(int),
        )
        assert np.abs(ia[:, ::-1] - ib).mean() < 1.0


def test_head_box_in_crop_gives_the_same_pckh_as_in_the_image():
    ds = SynthPoseTopDown("train", 16, augment=_geometric(flip_prob=0.0))
    items = ds.__getitems__(range(16))
    rng = np.random.default_rng(0)
    gt_c = np.stack([it["keypoints"].numpy() for it in items])
    pred_c = gt_c.copy()
    pred_c[..., :2] += rng.normal(0, 4, pred_c[..., :2].shape)
    hb_c = np.stack([it["head_box"].numpy() for it in items])
    gt_i, pred_i, hb_i = [], [], []
    for it, p in zip(items, pred_c, strict=True):
        raw = ds.raw(it["index"])
        gt_i.append(synth_to("mpii16", raw["keypoints"]))
        pred_i.append(inverse_keypoints(np.concatenate([p[:, :2], np.full((16, 1), 2.0)], 1),
                                        it["matrix"].numpy()))  # fmt: skip
        hb_i.append(raw["head_box"])
    r_crop = pckh(pred_c, gt_c, hb_c)
    r_img = pckh(np.stack(pred_i), np.stack(gt_i), np.stack(hb_i))
    assert abs(r_crop.mean - r_img.mean) < 1e-6 and 5 < r_crop.mean < 100
    size = 0.6 * np.linalg.norm(hb_c[:, 1] - hb_c[:, 0], axis=-1)
    np.testing.assert_allclose([it["head_size"] for it in items], size, rtol=1e-5)


def test_getitems_equals_per_item():
    ds = SynthPoseTopDown("train", 10, joint_set="lsp14")
    batch = ds.__getitems__([7, 0, 3, 3])
    for it, i in zip(batch, [7, 0, 3, 3], strict=True):
        assert _equal(it, ds[i])


def test_dataloader_workers_give_the_same_batches():
    ds = SynthPoseTopDown("train", 12, input_size=(64, 64))
    ds.set_epoch(2)

    def batches(workers):
        loader = DataLoader(ds, batch_size=4, num_workers=workers, shuffle=False)
        return list(loader)

    b0, b2 = batches(0), batches(2)
    assert len(b0) == len(b2) == 3
    for x, y in zip(b0, b2, strict=True):
        assert x.keys() == y.keys()
        for k in x:
            assert torch.equal(torch.as_tensor(x[k]), torch.as_tensor(y[k])), k


# --------------------------------------------------------------------------------------------
# Cache
# --------------------------------------------------------------------------------------------
def test_cache_round_trip_is_identical(tmp_path):
    ds = SynthPoseTopDown("train", 10, input_size=(64, 64))
    path = cache_dataset(ds, tmp_path / "td", progress=False, batch_size=4)
    assert (path / "images.npy").exists() and (path / "manifest.json").exists()
    cached = CachedDataset(path, expected=ds)
    assert len(cached) == 10
    for e in (0, 3):  # the cache keeps the renders: every epoch's augmentation is reproduced
        ds.set_epoch(e)
        cached.set_epoch(e)
        for i in (0, 9):
            assert _equal(ds[i], cached[i])
        for a, b in zip(ds.__getitems__([1, 2]), cached.__getitems__([1, 2]), strict=True):
            assert _equal(a, b)
    assert cache_dataset(ds, path, progress=False) == path  # same manifest: reused
    bu = SynthPoseBottomUp("val", 3, size=(96, 64), num_people=(1, 4))
    cbu = CachedDataset(cache_dataset(bu, tmp_path / "bu", progress=False), expected=bu)
    for i in range(3):
        assert _equal(bu[i], cbu[i])
    sq = SynthPoseSequences("test", 2, n_frames=3, size=(48, 40))
    csq = CachedDataset(cache_dataset(sq, tmp_path / "sq", progress=False))
    assert _equal(sq[1], csq[1])


def test_cache_refuses_other_arguments(tmp_path):
    ds = SynthPoseTopDown("val", 4, input_size=(64, 64))
    path = cache_dataset(ds, tmp_path / "c", progress=False)
    other = SynthPoseTopDown("val", 4, input_size=(64, 64), seed=1)
    with pytest.raises(ValueError, match="seed: cache has 0, requested 1"):
        CachedDataset(path, expected=other)
    with pytest.raises(ValueError, match="other arguments"):
        cache_dataset(other, path, progress=False)
    with pytest.raises(FileNotFoundError, match="manifest"):
        CachedDataset(tmp_path / "nothing")
    cache_dataset(other, path, progress=False, overwrite=True)
    assert _equal(CachedDataset(path, expected=other)[0], other[0])


def test_cache_of_another_generator_version_is_refused_then_rebuilt(tmp_path, monkeypatch):
    import json

    import posekit.datasets.synthpose as sp
    from posekit.synth import SYNTH_VERSION

    ds = SynthPoseTopDown("val", 3, input_size=(32, 32))
    path = cache_dataset(ds, tmp_path / "c", progress=False)
    manifest = path / "manifest.json"
    assert json.loads(manifest.read_text())["synth_version"] == SYNTH_VERSION
    before = default_cache_path(ds)
    monkeypatch.setattr(sp, "SYNTH_VERSION", SYNTH_VERSION + 1)  # the generator changed
    assert default_cache_path(ds) != before  # default folders are per version
    with pytest.raises(ValueError, match=f"{manifest}.*version {SYNTH_VERSION}, this is"):
        CachedDataset(path, expected=ds)
    images = path / "images.npy"
    mtime = images.stat().st_mtime_ns
    images.write_bytes(b"stale")  # cache_dataset re-renders a stale cache (same arguments)
    assert cache_dataset(ds, path, progress=False) == path
    assert json.loads(manifest.read_text())["synth_version"] == SYNTH_VERSION + 1
    assert images.stat().st_mtime_ns >= mtime and images.read_bytes() != b"stale"
    assert _equal(CachedDataset(path, expected=ds)[1], ds[1])
    old = json.loads(manifest.read_text())  # a cache from before versions: stale too
    del old["synth_version"]
    manifest.write_text(json.dumps(old))
    with pytest.raises(ValueError, match="before versions"):
        CachedDataset(path)
    assert _equal(cached(ds, path=path, progress=False)[0], ds[0])


def test_cached_uses_a_folder_per_argument_set(tmp_path, monkeypatch):
    monkeypatch.setenv("POSEKIT_DATA", str(tmp_path))
    a = SynthPoseTopDown("test", 3, input_size=(32, 32))
    b = SynthPoseTopDown("test", 3, input_size=(32, 32), joint_set="coco17")
    assert default_cache_path(a) != default_cache_path(b)
    assert default_cache_path(a).parent == tmp_path / "synthpose"
    ca = cached(a, progress=False)
    assert ca.path == default_cache_path(a) and _equal(ca[2], a[2])
    assert _equal(cached(b, progress=False)[0], b[0])


# --------------------------------------------------------------------------------------------
# Bottom-up and sequences
# --------------------------------------------------------------------------------------------
def test_bottom_up_items_and_collate():
    ds = SynthPoseBottomUp("train", 4, size=(128, 96), num_people=(2, 4))
    loader = DataLoader(ds, batch_size=4, collate_fn=collate_bottom_up)
    batch = next(iter(loader))
    assert batch["image"].shape == (4, 3, 96, 128) and batch["index"].tolist() == [0, 1, 2, 3]
    assert len(batch["keypoints"]) == 4
    for kp, box, area in zip(batch["keypoints"], batch["bboxes"], batch["areas"], strict=True):
        n = kp.shape[0]
        assert 1 <= n <= 4 and kp.shape == (n, 17, 3) and box.shape == (n, 4)
        torch.testing.assert_close(area, box[:, 2] * box[:, 3])
        assert ((kp[..., 2] > 0).sum(-1) >= 1).all()
    assert _equal(ds[2], SynthPoseBottomUp("train", 4, size=(128, 96), num_people=(2, 4))[2])


def test_sequences_shapes_and_action_labels():
    ds = SynthPoseSequences("val", 5, n_frames=4, fps=10, size=(64, 48), actions=[3, 9, 12])
    it = ds[1]
    assert it["frames"].shape == (4, 3, 48, 64) and it["frames"].dtype == torch.float32
    assert it["keypoints"].shape == (4, 13, 3) and it["bbox"].shape == (4, 4)
    assert [ds.action_of(i) for i in range(5)] == [3, 9, 12, 3, 9]
    for i in range(3):
        a = ds[i]
        cls = next(c for c, ids in ACTION_CLASSES.items() if a["action"] in ids)
        assert a["action"] == [3, 9, 12][i] and a["action_class"] == int(cls[1:]) - 1
    u8 = SynthPoseSequences("val", 5, n_frames=4, fps=10, size=(64, 48), actions=[3, 9, 12],
                            frames="uint8")[1]  # fmt: skip
    assert u8["frames"].shape == (4, 48, 64, 3) and u8["frames"].dtype == torch.uint8
    np.testing.assert_array_equal(denormalize_image(it["frames"]), u8["frames"].numpy())
    pool = SynthPoseSequences("train", 2, n_frames=2, size=(48, 40),
                              config=SynthConfig(num_identities=3))  # fmt: skip
    assert 0 <= pool[0]["identity"] < 3
