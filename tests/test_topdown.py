"""Top-down prediction on scenes (crop → model → inverse map; lesson 04)."""

import numpy as np
import pytest
import torch

from posekit.codecs.heatmap import HeatmapCodec
from posekit.datasets.synthpose import SynthPoseBottomUp
from posekit.evaluation import scene_oks_ap, shared_joint_ground_truth
from posekit.skeletons import COCO17, MPII16, convert
from posekit.topdown import person_crops, top_down_predict

SHARED = [j for j, n in enumerate(COCO17.joints) if n in MPII16.joints]


def hand_crop(kp, box, W, H, padding=1.25):
    """Image → crop pixels of posekit's top-down crop, written out: the box centre goes to
    the crop centre, the box grown to the W/H aspect ratio and padded fills the crop."""
    x, y, w, h = box
    cx, cy = x + w / 2, y + h / 2
    bw, bh = max(w, h * W / H) * padding, max(h, w * H / W) * padding
    out = np.array(kp, np.float64)
    out[..., 0] = (kp[..., 0] - cx) * W / bw + (W - 1) / 2
    out[..., 1] = (kp[..., 1] - cy) * H / bh + (H - 1) / 2
    return out


class Oracle(torch.nn.Module):
    """A "model" that outputs the codec's target heatmaps of the true crop keypoints."""

    def __init__(self, heatmaps):
        super().__init__()
        self.heatmaps = heatmaps
        self.dummy = torch.nn.Parameter(torch.zeros(1))
        self.seen = None

    def forward(self, x):
        self.seen = x
        assert x.shape[0] == self.heatmaps.shape[0]
        return self.heatmaps


@pytest.fixture(scope="module")
def scene():
    return SynthPoseBottomUp("val", 1, size=(456, 256), num_people=3, joint_set="mpii16",
                             seed=3)[0]  # fmt: skip


def test_crop_model_inverse_round_trip_with_an_oracle(scene):
    W, H = 48, 64
    # stride 2, σ = 1: DARK decodes these Gaussians to < 0.001 px (at stride 4, σ = 2 its
    # blur is off by up to 1 px near the map's border: a decoder matter, not the crop's)
    codec = HeatmapCodec((W, H), stride=2, sigma=1.0, decoder="dark")
    gt = scene["keypoints"].numpy()  # (N, 16, 3) image pixels
    boxes = scene["bboxes"].numpy()
    assert len(gt) == 3
    crop_kp = np.stack([hand_crop(gt[i], boxes[i], W, H) for i in range(len(gt))])
    crop_kp[..., 2] = gt[..., 2]
    maps = codec.encode({"keypoints": torch.from_numpy(crop_kp).float()})["heatmaps"]
    oracle = Oracle(maps)
    pred = top_down_predict(oracle, codec, scene["image"], boxes, joint_set="mpii16")
    # the model saw the crops of person_crops, in the order of the boxes, in one batch
    crops, mats = person_crops(scene["image"], boxes, (W, H))
    torch.testing.assert_close(oracle.seen, crops)
    np.testing.assert_allclose(pred.matrices, mats)
    inside = (gt[..., 2] > 0) & (crop_kp[..., 0] > 2) & (crop_kp[..., 0] < W - 3)
    inside &= (crop_kp[..., 1] > 2) & (crop_kp[..., 1] < H - 3)
    assert inside.sum() > 30
    err = np.hypot(*(pred.native[..., :2] - gt[..., :2])[inside].T)
    assert err.max() < 0.01  # image pixels: the round trip returns the ground truth
    # COCO-17: the 12 shared joints are copied with their scores, the face is (0, 0, 0)
    coco_gt = convert(gt, MPII16, COCO17)
    both = inside[:, [MPII16.index(COCO17.joints[j]) for j in SHARED]]
    np.testing.assert_allclose(pred.keypoints[:, SHARED, :2][both], coco_gt[:, SHARED, :2][both],
                               atol=0.01)  # fmt: skip
    face = [j for j in range(17) if j not in SHARED]
    assert (pred.keypoints[:, face] == 0).all() and (pred.keypoints[:, SHARED, 2] > 0).any()
    assert pred.scores.shape == (3,) and pred.keypoints.shape == (3, 17, 3)


def test_person_crop_matrix_by_hand():
    image = np.zeros((100, 80, 3), np.uint8)
    image[50, 25] = 255  # a bright pixel at the box centre
    crops, mats = person_crops(image, [[10, 20, 30, 60]], (48, 64))
    # box 30×60 grown to 3:4 → 45×60, padded → 56.25×75; zoom 48/56.25 = 64/75
    zoom = 48 / 56.25
    expected = np.array([[zoom, 0, 23.5 - 25 * zoom], [0, zoom, 31.5 - 50 * zoom]])
    np.testing.assert_allclose(mats[0], expected, atol=1e-9)
    assert crops.shape == (1, 3, 64, 48)
    brightest = np.unravel_index(int(crops[0, 0].argmax()), (64, 48))
    assert brightest in {(31, 23), (31, 24), (32, 23), (32, 24)}  # around (23.5, 31.5)
    empty, m0 = person_crops(image, np.zeros((0, 4)), (48, 64))
    assert empty.shape == (0, 3, 64, 48) and m0.shape == (0, 2, 3)
    with pytest.raises(ValueError, match="boxes"):
        person_crops(image, [[0, 0, 0, 5]], (48, 64))
    with pytest.raises(ValueError, match="image"):
        person_crops(image[..., 0], [[0, 0, 5, 5]], (48, 64))


def test_shared_joints_make_an_mpii_model_comparable():
    ds = SynthPoseBottomUp("val", 2, size=(456, 256), num_people=2, seed=5)
    items = [{**ds[i], "size": (256, 456)} for i in range(2)]
    gt = [it["keypoints"].numpy() for it in items]
    perfect = [(g, np.ones(len(g))) for g in gt]
    assert scene_oks_ap(items, perfect, None)["AP"] == pytest.approx(1.0)
    # what a perfect MPII-16 model gives: the face joints at (0, 0)
    mpii_like = [(shared_joint_ground_truth(g), np.ones(len(g))) for g in gt]
    assert scene_oks_ap(items, mpii_like, None)["AP"] < 0.5  # penalised on all 17 joints
    assert scene_oks_ap(items, mpii_like, "mpii16")["AP"] == pytest.approx(1.0)
    masked = shared_joint_ground_truth(gt[0])
    assert (masked[:, [0, 1, 2, 3, 4]] == 0).all()
    np.testing.assert_array_equal(masked[:, SHARED], gt[0][:, SHARED])
    assert scene_oks_ap(items, [(np.zeros((0, 17, 3)), np.zeros(0))] * 2)["AP"] == 0.0
