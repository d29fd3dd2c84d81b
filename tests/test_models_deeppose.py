"""DeepPose, its AlexNet / ResNet backbones, the cascade geometry, and the cost counters."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from posekit.bench import (
    PUBLISHED,
    Published,
    count_macs,
    count_params,
    format_params_table,
    params_table,
)
from posekit.datasets.transforms import affine_matrix, warp_image
from posekit.models import (
    AlexNet,
    DeepPose,
    DeepPoseCascade,
    DeepPoseResNet,
    fit_error_distribution,
    from_frame,
    joint_crops,
    resnet,
    resnet18,
    resnet50,
    simulate_displacements,
    to_frame,
    torso_diameter,
)
from posekit.models.alexnet import feature_size
from posekit.skeletons import get_skeleton

LSP = get_skeleton("lsp14")


def on_meta(builder, *args, **kwargs) -> nn.Module:
    """Build without allocating or initialising weights (for parameter counts and shapes)."""
    with torch.device("meta"):
        return builder(*args, **kwargs)


@pytest.fixture(scope="module")
def r18():
    torch.manual_seed(0)
    return resnet18().eval()


@pytest.fixture(scope="module")
def r50():
    torch.manual_seed(0)
    return resnet50().eval()


@pytest.fixture(scope="module")
def deeppose14():
    torch.manual_seed(0)
    return DeepPose(num_joints=14).eval()


@pytest.fixture(scope="module")
def deeppose_r50():
    torch.manual_seed(0)
    return DeepPoseResNet(num_joints=16, depth=50).eval()


def small_cascade(num_stages=3, sigma=2.0):
    torch.manual_seed(0)
    stage1 = DeepPose(14, input_size=64, width_mult=0.125, fc_dim=64)
    return DeepPoseCascade(stage1, num_stages=num_stages, sigma=sigma, crop_size=48).eval()


def lsp_pose(n=2, seed=0):
    """(n, 14, 3) plausible LSP poses inside a 64×64 crop, all visible."""
    rng = np.random.default_rng(seed)
    base = [[24, 58], [25, 46], [26, 34], [38, 34], [39, 46], [40, 58], [18, 30],
            [20, 22], [24, 12], [40, 12], [44, 22], [46, 30], [32, 8], [32, 2]]  # fmt: skip
    base = np.array(base, float)
    xy = base + rng.normal(0, 1.0, (n, 14, 2))
    return np.concatenate([xy, np.full((n, 14, 1), 2.0)], -1).astype(np.float32)


# --------------------------------------------------------------------------- ResNet


@pytest.mark.parametrize(
    "depth, expected",
    [(18, 11_689_512), (34, 21_797_672), (50, 25_557_032), (101, 44_549_160), (152, 60_192_808)],
)
def test_resnet_params_equal_torchvision(depth, expected, request):
    model = request.getfixturevalue(f"r{depth}") if depth in (18, 50) else on_meta(resnet, depth)
    assert count_params(model) == expected


def test_resnet_state_dict_follows_torchvision_names(r18, r50):
    sd = {k: tuple(v.shape) for k, v in r50.state_dict().items()}
    assert sd["conv1.weight"] == (64, 3, 7, 7)
    assert sd["bn1.running_mean"] == (64,)
    assert sd["layer1.0.conv1.weight"] == (64, 64, 1, 1)
    assert sd["layer1.0.downsample.0.weight"] == (256, 64, 1, 1)
    assert sd["layer1.0.downsample.1.running_var"] == (256,)
    assert sd["layer2.0.conv2.weight"] == (128, 128, 3, 3)
    assert sd["layer4.2.conv3.weight"] == (2048, 512, 1, 1)
    assert sd["layer4.2.bn3.num_batches_tracked"] == ()
    assert sd["fc.weight"] == (1000, 2048) and sd["fc.bias"] == (1000,)
    sd18 = r18.state_dict()
    assert tuple(sd18["layer2.0.downsample.0.weight"].shape) == (128, 64, 1, 1)
    assert "layer1.0.downsample.0.weight" not in sd18 and "layer1.0.conv3.weight" not in sd18
    assert not any(k.startswith("fc.") for k in resnet18(include_top=False).state_dict())


def test_resnet_strides_and_shapes(r18, r50):
    model = r18
    x = torch.zeros(1, 3, 64, 96)
    with torch.no_grad():
        stages = model.forward_features(x, return_stages=True)
        assert model(x).shape == (1, 1000)
        assert model.forward_features(x).shape == (1, 512, 2, 3)
    assert [tuple(s.shape[1:]) for s in stages] == [
        (c, 64 // st, 96 // st) for c, st in zip((64, 128, 256, 512), (4, 8, 16, 32), strict=True)
    ]
    assert model.stage_channels == (64, 128, 256, 512) and model.stage_strides == (4, 8, 16, 32)
    assert r50.stage_channels == (256, 512, 1024, 2048)


def test_resnet_zero_init_residual_and_width():
    model = resnet50(zero_init_residual=True)
    assert all(
        torch.all(b.bn3.weight == 0) for layer in (model.layer1, model.layer4) for b in layer
    )
    assert torch.all(model.bn1.weight == 1)
    small = resnet18(width=16, include_top=False)
    with torch.no_grad():
        assert small(torch.zeros(1, 3, 64, 64)).shape == (1, 128, 2, 2)


# --------------------------------------------------------------------------- AlexNet / DeepPose


def test_alexnet_feature_map_is_6x6x256_at_220():
    trunk = AlexNet(features_only=True).eval()
    with torch.no_grad():
        assert trunk(torch.zeros(1, 3, 220, 220)).shape == (1, 256, 6, 6)
    assert trunk.feature_shape == (256, 6, 6)
    assert not hasattr(trunk, "fc6")
    assert count_params(trunk) == 3_747_200
    assert feature_size(112) == 3 and feature_size(128) == 3 and feature_size(64) == 1


def test_deeppose_published_params_and_forward(deeppose14):
    n = count_params(deeppose14)
    assert n == 58_396_060
    assert abs(n - 58.4e6) <= 0.01 * 58.4e6
    assert deeppose14.alexnet.fc6.in_features == 9216
    with torch.no_grad():
        assert deeppose14(torch.zeros(2, 3, 220, 220)).shape == (2, 14, 2)
    assert count_params(on_meta(DeepPose, num_joints=16)) == 58_396_060 + 2 * 2 * 4097


def test_deeppose_resnet50_published_params_and_forward(deeppose_r50):
    n = count_params(deeppose_r50)
    assert abs(n - 23.5e6) <= 0.01 * 23.5e6
    assert n == 25_557_032 - (2048 * 1000 + 1000) + (2048 * 32 + 32)
    with torch.no_grad():
        out = deeppose_r50(torch.zeros(1, 3, 256, 256))
    assert out.shape == (1, 16, 2)
    assert torch.allclose(out, torch.full_like(out, 0.5), atol=0.1)  # starts at the centre
    assert DeepPoseResNet(17, depth=18).fc.in_features == 512


def test_scaled_deeppose_forward_and_size_check():
    model = DeepPose(14, input_size=112, width_mult=0.25).eval()
    assert model.alexnet.conv1.out_channels == 24 and model.alexnet.fc6.out_features == 1024
    with torch.no_grad():
        assert model(torch.zeros(3, 3, 112, 112)).shape == (3, 14, 2)
        with pytest.raises(ValueError, match="input_size"):
            model(torch.zeros(1, 3, 220, 220))


@pytest.mark.parametrize("frame", ["box", "input"])
def test_normalise_round_trip(frame):
    xy = torch.tensor([[[0.0, 0.0], [63.0, 47.0], [31.5, 23.5]]])
    u = to_frame(xy, (64, 48), frame)
    assert torch.allclose(from_frame(u, (64, 48), frame), xy)
    if frame == "box":  # the crop's centre is 0, its outer edges ±0.5
        assert torch.allclose(u[0, 2], torch.zeros(2))
        assert np.allclose(to_frame(np.array([-0.5, 47.5]), (64, 48)), [-0.5, 0.5])
    else:
        assert torch.allclose(u[0, 1], torch.tensor([63.5 / 64, 47.5 / 48]))  # pixel centres


# --------------------------------------------------------------------------- cascade geometry


def test_torso_diameter():
    kp = np.zeros((3, 14, 3), np.float32)
    kp[..., 2] = 2
    ls, rh, rs, lh = (
        LSP.index(n) for n in ("left_shoulder", "right_hip", "right_shoulder", "left_hip")
    )
    kp[:, ls, :2], kp[:, rh, :2] = (0, 0), (3, 4)  # diagonal 5
    kp[:, rs, :2], kp[:, lh, :2] = (10, 0), (10, 7)  # diagonal 7
    kp[1, rs, 2] = 0  # only the first diagonal
    kp[2, [ls, rs], 2] = 0  # none
    d = torso_diameter(kp, "lsp14")
    assert np.allclose(d[:2], [6.0, 5.0]) and np.isnan(d[2])
    dt = torso_diameter(torch.as_tensor(kp[:1, :, :2]), LSP)
    assert isinstance(dt, torch.Tensor) and torch.allclose(dt, torch.tensor([6.0]))


@pytest.mark.parametrize("crop_size", [31, 32])
def test_joint_crops_put_the_estimate_at_the_crop_centre(crop_size):
    img = torch.zeros(1, 3, 60, 80)
    dot = (37, 22)  # (x, y)
    img[0, :, dot[1], dot[0]] = 1.0
    est = torch.tensor([[[37.0, 22.0], [10.0, 50.0]]])
    for side in (crop_size, crop_size / 2):  # zoom 1 and zoom 2
        crops, mats = joint_crops(img, est, torch.tensor([side / 1.5]), 1.5, crop_size)
        assert crops.shape == (2, 3, crop_size, crop_size) and mats.shape == (2, 2, 3)
        c = crops[0, 0]
        total = c.sum()
        grid = torch.arange(float(crop_size))
        ys, xs = torch.meshgrid(grid, grid, indexing="ij")
        centre = (crop_size - 1) / 2
        assert torch.isclose((c * xs).sum() / total, torch.tensor(centre), atol=1e-4)
        assert torch.isclose((c * ys).sum() / total, torch.tensor(centre), atol=1e-4)
        assert torch.allclose(c, c.flip(0)) and torch.allclose(c, c.flip(1))  # symmetric
        if crop_size % 2:
            assert c[int(centre), int(centre)] == pytest.approx(1.0)
        assert crops[1].abs().max() == 0  # the other joint's crop misses the dot


def test_joint_crops_offset_and_matrices_match_transforms():
    rng = np.random.default_rng(0)
    img = rng.random((50, 70, 3)).astype(np.float32)
    t = torch.as_tensor(img).permute(2, 0, 1)[None]
    est = torch.tensor([[[30.3, 20.7], [3.0, 45.0]]])  # the second crop leaves the image
    crops, mats = joint_crops(t, est, 12.0, 2.0, 17)
    for j in range(2):
        ref = affine_matrix(est[0, j].double().numpy(), 24.0 / 200, 0.0, (17, 17))
        assert np.allclose(mats[j], ref)
        warped = warp_image(img, mats[j], (17, 17))
        assert np.abs(crops[j].permute(1, 2, 0).numpy() - warped).max() < 1e-2
    # a dot 3 px right of and 2 px above the estimate, zoom 1: at centre + (3, -2)
    img2 = torch.zeros(1, 1, 40, 40)
    img2[0, 0, 18, 23] = 1.0
    crops2, _ = joint_crops(img2, torch.tensor([[[20.0, 20.0]]]), 11.0, 1.0, 11)
    assert (crops2[0, 0] == 1).nonzero().tolist() == [[5 - 2, 5 + 3]]


def test_perfect_refiner_recovers_ground_truth(monkeypatch):
    cascade = small_cascade(num_stages=3)
    images = torch.randn(2, 3, 64, 64)
    gt = torch.as_tensor(lsp_pose(2)[..., :2])
    start = gt + torch.randn(2, 14, 2) * 3.0

    def perfect(stage):
        def forward(crops, joint_index):
            est = seen[stage]
            _, _, targets, _ = cascade.training_samples(
                images, gt, est, diam=cascade.diameter(est, images)
            )
            assert crops.shape == (28, 3, 48, 48)
            assert torch.equal(joint_index.cpu(), torch.arange(14).repeat(2))
            return targets

        return forward

    seen = {}
    real = cascade.refine_stage

    def spy(stage, images, estimates):
        seen[stage] = estimates.detach().clone()
        return real(stage, images, estimates)

    monkeypatch.setattr(cascade, "refine_stage", spy)
    for s, refiner in enumerate(cascade.refiners, start=2):
        monkeypatch.setattr(refiner, "forward", perfect(s))
    out = cascade.refine(images, start, return_all=True)
    assert len(out) == 3
    assert torch.allclose(out[0], start)
    assert torch.allclose(out[1], gt, atol=1e-4) and torch.allclose(out[2], gt, atol=1e-4)


def test_cascade_forward_shapes_and_frames():
    cascade = small_cascade(num_stages=2)
    assert cascade.num_stages == 2 and cascade.crop_size == 48
    assert cascade.refiners[0].alexnet.conv1.out_channels == 12  # inherits width_mult
    with torch.no_grad():
        out = cascade(torch.randn(2, 3, 64, 64), return_all=True)
        stage1 = cascade.stage1(torch.zeros(1, 3, 64, 64))
        init = cascade.initial(torch.zeros(1, 3, 64, 64))
    assert [tuple(o.shape) for o in out] == [(2, 14, 2), (2, 14, 2)]
    assert torch.allclose(init, from_frame(stage1, (64, 64), "box"))
    r18 = DeepPoseResNet(14, depth=18, input_size=64, width=8)
    cascade_r = DeepPoseCascade(r18, num_stages=2, crop_size=48, width_mult=0.125, fc_dim=32)
    with torch.no_grad():
        u = r18(torch.zeros(1, 3, 48, 64))
        assert torch.allclose(
            cascade_r.initial(torch.zeros(1, 3, 48, 64)), u * torch.tensor([64, 48]) - 0.5
        )
        assert cascade_r(torch.zeros(1, 3, 48, 64)).shape == (1, 14, 2)


def test_training_samples_targets_and_weights():
    cascade = small_cascade(num_stages=2, sigma=1.5)
    gt = lsp_pose(2)
    gt[1, 3, 2] = 0
    est = gt[..., :2] + 2.0
    crops, idx, targets, weights = cascade.training_samples(torch.zeros(2, 3, 64, 64), gt, est)
    diam = torso_diameter(gt, "lsp14")
    assert crops.shape == (28, 3, 48, 48) and idx.tolist() == list(range(14)) * 2
    expected = (-2.0 / (1.5 * diam))[:, None, None] * np.ones((2, 14, 2))
    assert np.allclose(targets.numpy(), expected.reshape(28, 2), atol=1e-6)
    assert weights.sum() == 27 and weights[14 + 3] == 0


def test_simulate_displacements_has_the_fitted_distribution():
    rng = np.random.default_rng(0)
    n = 20000
    gt = np.concatenate([rng.uniform(0, 200, (n, 3, 2)), np.full((n, 3, 1), 2.0)], -1)
    mean = np.array([[1.0, -2.0], [0.0, 0.5], [-3.0, 3.0]])
    cov = np.array([[[4.0, 1.0], [1.0, 2.0]], [[1.0, 0.0], [0.0, 9.0]], [[2.0, -1.5], [-1.5, 2.0]]])
    sim = simulate_displacements(gt, mean, cov, rng=1)
    assert sim.shape == (n, 3, 2)
    m, c = fit_error_distribution(sim, gt)
    assert np.allclose(m, mean, atol=0.1)
    assert np.allclose(c, cov, atol=0.25)
    assert np.array_equal(sim, simulate_displacements(gt, mean, cov, rng=1))  # seeded
    # in units of the torso diameter; and a pooled (2,) / (2, 2) fit
    diam = rng.uniform(20, 60, n)
    sim_d = simulate_displacements(gt, mean[0], cov[0] / 100, rng=2, diam=diam)
    m_d, c_d = fit_error_distribution(sim_d, gt, diam=diam, per_joint=False)
    assert m_d.shape == (2,) and c_d.shape == (2, 2)
    assert np.allclose(m_d, mean[0], atol=0.01) and np.allclose(c_d, cov[0] / 100, atol=0.003)


def test_fit_error_distribution_ignores_unlabelled_joints():
    rng = np.random.default_rng(0)
    gt = np.concatenate([rng.uniform(0, 10, (500, 2, 2)), np.full((500, 2, 1), 2.0)], -1)
    pred = gt[..., :2] + rng.normal(0, 1, (500, 2, 2))
    gt[:100, 0, 2] = 0
    pred[:100, 0] += 1000  # huge errors on unlabelled joints
    m, c = fit_error_distribution(pred, gt)
    assert np.all(np.abs(m) < 0.2) and np.all(np.abs(c - np.eye(2)) < 0.25)


# --------------------------------------------------------------------------- bench counters


def test_count_params_is_the_sum_of_numels():
    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.Linear(8, 5))
    assert count_params(model) == sum(p.numel() for p in model.parameters()) == 224 + 16 + 45
    model[2].weight.requires_grad_(False)
    assert count_params(model, trainable_only=True) == 224 + 16 + 5


def test_count_macs_of_a_conv_and_a_linear():
    conv = nn.Conv2d(3, 8, 3, stride=2, padding=1)
    hout, wout = 9, 10  # 17×19 input
    assert count_macs(conv, (1, 3, 17, 19)) == 8 * 3 * 3 * 3 * hout * wout
    assert count_macs(conv, (3, 17, 19)) == 8 * 3 * 9 * hout * wout
    assert count_macs(conv, (2, 3, 17, 19)) == 2 * 8 * 3 * 9 * hout * wout
    assert count_macs(nn.Linear(10, 7), (3, 10)) == 3 * 70
    assert conv.training  # mode restored


def test_params_table_rows():
    tiny = Published("tiny conv", lambda: nn.Conv2d(3, 4, 3), (1, 3, 8, 8), 112e-6, 4 * 27 * 36e-9)
    off = Published("off by 2 %", lambda: nn.Linear(10, 10), (1, 10), 110e-6 * 1.02, None)
    rows = params_table([tiny, off])
    assert [r["ok"] for r in rows] == ["✓", "✗"]
    assert rows[0]["params_m"] == pytest.approx(112e-6)
    assert rows[0]["gmacs"] == pytest.approx(rows[0]["ref_gmacs"])
    assert "| tiny conv |" in format_params_table(rows)


def test_published_registry_matches_references(deeppose14, deeppose_r50, r50):
    """The registry's first entries, measured on the models built once for this module."""
    names = [p.name for p in PUBLISHED]
    assert len(set(names)) == len(names) >= 3
    models = [deeppose14, deeppose_r50, r50]
    for entry, model in zip(PUBLISHED[:3], models, strict=True):
        n = count_params(model) / 1e6
        assert abs(n - entry.reference_params) <= 0.01 * entry.reference_params, entry
        gmacs = count_macs(model, entry.input_shape) / 1e9
        assert gmacs == pytest.approx(entry.reference_gmacs, rel=0.03), (entry, gmacs)
