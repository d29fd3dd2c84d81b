"""posekit.viz: OpenCV drawing, matplotlib plots, heatmap overlays, PAF arrows, grids."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from posekit import viz  # noqa: E402
from posekit.skeletons import SKELETONS, get_skeleton  # noqa: E402

COCO = get_skeleton("coco17")
LEFT_KNEE, LEFT_HIP = COCO.index("left_knee"), COCO.index("left_hip")
KNEE_HIP = COCO.limbs.index((LEFT_KNEE, LEFT_HIP))


def one_limb(p=(10.0, 20.0), q=(50.0, 20.0), v=(2, 2)) -> np.ndarray:
    """COCO keypoints with only the left knee (p) and left hip (q) labelled."""
    kp = np.zeros((17, 3), np.float32)
    kp[LEFT_KNEE] = (*p, v[0])
    kp[LEFT_HIP] = (*q, v[1])
    return kp


def random_person(skeleton, width=64, height=48, seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    kp = np.zeros((skeleton.num_joints, 3), np.float32)
    kp[:, 0] = rng.uniform(2, width - 3, skeleton.num_joints)
    kp[:, 1] = rng.uniform(2, height - 3, skeleton.num_joints)
    kp[:, 2] = 2
    return kp


def distance_to_segment(points: np.ndarray, p, q) -> np.ndarray:
    p, q = np.asarray(p, float), np.asarray(q, float)
    t = np.clip(((points - p) @ (q - p)) / ((q - p) @ (q - p)), 0, 1)
    return np.linalg.norm(points - (p + t[:, None] * (q - p)), axis=1)


@pytest.fixture
def ax():
    fig, ax = plt.subplots()
    yield ax
    plt.close(fig)


# --------------------------------------------------------------------------- draw_skeleton


def test_draw_skeleton_colours_the_limb_and_nothing_far_from_it():
    black = np.zeros((40, 60, 3), np.uint8)
    out = viz.draw_skeleton(black, one_limb(), COCO, thickness=2, radius=3)
    assert out.shape == black.shape and out.dtype == np.uint8
    assert tuple(out[20, 30]) == COCO.limb_colors[KNEE_HIP]  # midpoint, (row y, col x)
    assert tuple(out[35, 55]) == (0, 0, 0)
    rows, cols = np.nonzero(out.any(axis=2))
    changed = np.stack([cols, rows], axis=1).astype(float)
    assert distance_to_segment(changed, (10, 20), (50, 20)).max() <= 3 + 1.5  # radius + AA


def test_draw_skeleton_does_not_modify_its_input():
    image = np.full((40, 60, 3), 7, np.uint8)
    before = image.copy()
    out = viz.draw_skeleton(image, one_limb(), "coco17")
    assert np.array_equal(image, before)
    assert out is not image and not np.shares_memory(out, image)


def test_draw_skeleton_skips_unlabelled_joints():
    kp = one_limb()
    kp[COCO.index("right_wrist")] = (40.0, 5.0, 0)  # v=0: not labelled, never drawn
    out = viz.draw_skeleton(np.zeros((40, 60, 3), np.uint8), kp, COCO)
    assert not out[0:11, 34:47].any()


def test_draw_skeleton_min_visibility_skips_occluded_joints():
    black = np.zeros((40, 60, 3), np.uint8)
    occluded = one_limb(v=(1, 2))
    assert viz.draw_skeleton(black, occluded, COCO)[20, 10].any()  # hollow ring drawn
    only_visible = viz.draw_skeleton(black, occluded, COCO, min_visibility=2)
    assert not only_visible[15:26, 4:17].any()  # knee skipped, so is its limb
    assert only_visible[20, 50].any()  # the visible hip is still drawn


def test_draw_skeleton_occluded_joint_is_hollow():
    kp = one_limb((10, 10), (10, 35), v=(1, 2))  # limb leaves the occluded knee downwards
    out = viz.draw_skeleton(np.zeros((40, 30, 3), np.uint8), kp, COCO, radius=4)
    assert out[6, 10].any() and out[10, 6].any()  # the ring
    assert not out[8, 9:12].any()  # inside it, above the limb: empty
    assert out[35, 10].any() and out[33:38, 8:13].all(axis=2).all()  # visible: filled


def test_draw_skeleton_accepts_many_people_and_grey_images():
    people = np.stack([one_limb((5, 5), (25, 5)), one_limb((5, 30), (25, 30))])
    out = viz.draw_skeleton(np.zeros((40, 60), np.uint8), people, COCO)
    assert out.shape == (40, 60, 3)
    assert out[5, 15].any() and out[30, 15].any()


@pytest.mark.parametrize("name", sorted(SKELETONS))
def test_every_skeleton_draws(name):
    sk = get_skeleton(name)
    kp = random_person(sk)
    out = viz.draw_skeleton(np.zeros((48, 64, 3), np.uint8), kp, sk)
    assert out.any()
    fig, ax = plt.subplots()
    artists = viz.plot_skeleton(ax, kp, sk, labels=True)
    plt.close(fig)
    assert len(artists.limbs.get_segments()) == len(sk.limbs)
    assert len(artists.joints.get_offsets()) == sk.num_joints
    assert [t.get_text() for t in artists.labels] == list(sk.joints)


def test_draw_skeleton_rejects_bad_inputs():
    image = np.zeros((40, 60, 3), np.uint8)
    with pytest.raises(ValueError, match=r"keypoints: .*K=17 for coco17, got \(16, 3\)"):
        viz.draw_skeleton(image, np.zeros((16, 3)), "coco17")
    with pytest.raises(ValueError, match="image: .*uint8"):
        viz.draw_skeleton(image.astype(np.float32), one_limb(), "coco17")
    with pytest.raises(ValueError, match="image: .*shape"):
        viz.draw_skeleton(np.zeros((40, 60, 4), np.uint8), one_limb(), "coco17")


def test_draw_skeleton_ignores_nan_coordinates():
    kp = one_limb()
    kp[LEFT_HIP, :2] = np.nan
    out = viz.draw_skeleton(np.zeros((40, 60, 3), np.uint8), kp, COCO)
    assert out[20, 10].any() and not out[20, 30].any()


# --------------------------------------------------------------------------- plot_skeleton


def test_plot_skeleton_counts_segments_with_both_ends_labelled(ax):
    kp = random_person(COCO)
    kp[COCO.index("left_wrist"), 2] = 0  # removes left elbow–wrist
    kp[COCO.index("nose"), 2] = 1  # occluded: drawn hollow, its limbs dashed
    artists = viz.plot_skeleton(ax, kp, COCO, image=np.zeros((48, 64, 3), np.uint8))
    expected = sum(kp[i, 2] > 0 and kp[j, 2] > 0 for i, j in COCO.limbs)
    assert len(artists.limbs.get_segments()) == expected == len(COCO.limbs) - 1
    assert len(artists.joints.get_offsets()) == 16
    assert artists.image is not None and artists.labels == []
    faces = artists.joints.get_facecolors()
    assert (faces[:, 3] == 0).sum() == 1  # one hollow marker
    dashed = [style for style in artists.limbs.get_linestyles() if style[1] is not None]
    assert len(dashed) == sum(COCO.index("nose") in limb for limb in COCO.limbs)


def test_plot_skeleton_many_people_and_image_orientation(ax):
    people = np.stack([random_person(COCO, seed=1), random_person(COCO, seed=2)])
    artists = viz.plot_skeleton(ax, people, "coco")
    assert len(artists.limbs.get_segments()) == 2 * len(COCO.limbs)
    assert ax.yaxis_inverted()  # y grows downwards as in an image


def test_plot_skeleton_rejects_wrong_joint_count(ax):
    with pytest.raises(ValueError, match="keypoints: .*K=16 for mpii16"):
        viz.plot_skeleton(ax, np.zeros((17, 3)), "mpii16")


# --------------------------------------------------------------------------- heatmaps


def test_heatmap_to_rgb_shape_and_extremes():
    hm = np.zeros((8, 10), np.float32)
    hm[3, 4] = 1.0
    rgb = viz.heatmap_to_rgb(hm, "gray")
    assert rgb.shape == (8, 10, 3) and rgb.dtype == np.uint8
    assert tuple(rgb[3, 4]) == (255, 255, 255) and tuple(rgb[0, 0]) == (0, 0, 0)
    assert not viz.heatmap_to_rgb(np.full((4, 4), 0.3), "gray").any()  # constant map
    with pytest.raises(ValueError, match="heatmap: "):
        viz.heatmap_to_rgb(np.zeros((2, 4, 4)))
    with pytest.raises(ValueError, match="cmap: "):
        viz.heatmap_to_rgb(hm, "no-such-map")


def test_overlay_heatmaps_shape_dtype_and_peak_position():
    image = np.zeros((64, 48, 3), np.uint8)
    heatmaps = np.zeros((17, 16, 12), np.float32)
    heatmaps[5, 4, 3] = 1.0  # stride 4: heatmap (u=3, v=4) ↔ image (x=13.5, y=17.5)
    out = viz.overlay_heatmaps(image, heatmaps, alpha=1.0, cmap="gray")
    assert out.shape == image.shape and out.dtype == np.uint8
    rows, cols = np.nonzero(out[..., 0] == out[..., 0].max())
    assert abs(cols.mean() - 13.5) < 1 and abs(rows.mean() - 17.5) < 1
    assert not np.shares_memory(out, image)


def test_overlay_heatmaps_rejects_bad_inputs():
    image = np.zeros((32, 32, 3), np.uint8)
    with pytest.raises(ValueError, match="heatmaps: .*batch"):
        viz.overlay_heatmaps(image, np.zeros((2, 17, 8, 8)))
    with pytest.raises(ValueError, match="alpha: "):
        viz.overlay_heatmaps(image, np.zeros((17, 8, 8)), alpha=2)


def test_plot_heatmaps_one_titled_panel_per_joint():
    heatmaps = np.random.default_rng(0).random((16, 8, 8)).astype(np.float32)
    fig = viz.plot_heatmaps(np.zeros((32, 32, 3), np.uint8), heatmaps, "mpii16", ncols=6)
    panels = [ax for ax in fig.axes if ax.images]
    assert len(fig.axes) == 18 and len(panels) == 16  # 3 rows × 6, two left empty
    assert [ax.get_title() for ax in panels] == list(get_skeleton("mpii16").joints)
    assert fig.get_size_inches()[0] <= 10
    assert not plt.fignum_exists(fig.number)  # closed: Jupyter shows it once
    fig2 = viz.plot_heatmaps(None, heatmaps, ncols=4)
    assert [ax.get_title() for ax in fig2.axes][:2] == ["joint 0", "joint 1"]
    with pytest.raises(ValueError, match="heatmaps: .*K=17"):
        viz.plot_heatmaps(None, heatmaps, "coco17")


# --------------------------------------------------------------------------- PAFs


def test_paf_magnitude():
    pafs = np.zeros((6, 4, 5), np.float32)
    pafs[2], pafs[3] = 3.0, 4.0  # limb 1: x=3, y=4
    mag = viz.paf_magnitude(pafs)
    assert mag.shape == (3, 4, 5)
    assert np.allclose(mag[1], 5.0) and not mag[0].any()
    with pytest.raises(ValueError, match="pafs: "):
        viz.paf_magnitude(np.zeros((5, 4, 4)))


def test_plot_pafs_arrows_per_limb(ax):
    sk = get_skeleton("openpose18")
    pafs = np.zeros((2 * len(sk.limbs), 8, 6), np.float32)
    pafs[0, 2:4, 1:4] = 1.0  # limb 0 points right on a 2×3 patch
    pafs[3, :, :] = -1.0  # limb 1 points up everywhere
    quivers = viz.plot_pafs(ax, pafs, sk, stride=8)
    assert len(quivers) == len(sk.limbs)
    assert len(quivers[0].U) == 6 and len(quivers[1].U) == 48
    assert len(quivers[2].U) == 0
    (one,) = viz.plot_pafs(ax, pafs, sk, limb=1, stride=8, step=2)
    assert len(one.U) == 12
    x0, y0 = one.get_offsets()[0]
    assert (x0, y0) == (3.5, 3.5)  # heatmap pixel (0, 0) centre at stride 8
    with pytest.raises(ValueError, match="pafs: .*38 channels"):
        viz.plot_pafs(ax, pafs[:10], sk)
    with pytest.raises(ValueError, match="limb: "):
        viz.plot_pafs(ax, pafs, sk, limb=19)


# --------------------------------------------------------------------------- grids


def test_image_grid_shape_arithmetic():
    images = [np.zeros((10, 20, 3), np.uint8)] * 5
    grid = viz.image_grid(images, ncols=3, pad=2)
    assert grid.shape == (2 * (10 + 2) + 2, 3 * (20 + 2) + 2, 3)
    assert grid.dtype == np.uint8
    assert grid[0, 0, 0] == 255 and grid[2, 2, 0] == 0
    two = np.zeros((2, 10, 20, 3), np.uint8)
    assert viz.image_grid(two, ncols=4, pad=0).shape == (10, 40, 3)  # at most N columns


def test_image_grid_pads_smaller_and_grey_images():
    images = [np.full((10, 20, 3), 9, np.uint8), np.full((6, 8), 5, np.uint8)]
    grid = viz.image_grid(images, ncols=2, pad=1, pad_value=0)
    assert grid.shape == (12, 43, 3)
    assert grid[1, 22].tolist() == [5, 5, 5] and grid[10, 22].tolist() == [0, 0, 0]
    with pytest.raises(ValueError, match="images: "):
        viz.image_grid([], ncols=2)
    with pytest.raises(ValueError, match="ncols: "):
        viz.image_grid(images, ncols=0)


def test_show_grid_panels_titles_and_skeletons():
    images = np.zeros((3, 48, 64, 3), np.uint8)
    kps = np.stack([random_person(COCO, seed=s) for s in range(3)])
    fig = viz.show_grid(images, titles=["a", "b", "c"], ncols=2, keypoints=kps, skeleton=COCO)
    assert len(fig.axes) == 4
    assert [ax.get_title() for ax in fig.axes[:3]] == ["a", "b", "c"]
    assert all(len(ax.collections) == 2 for ax in fig.axes[:3])  # limbs + joints
    with pytest.raises(ValueError, match="skeleton: "):
        viz.show_grid(images, keypoints=kps)
    with pytest.raises(ValueError, match="titles: "):
        viz.show_grid(images, titles=["a"])


def test_show_grid_keeps_the_view_on_the_image_when_joints_fall_outside():
    image = np.zeros((20, 30, 3), np.uint8)
    kp = np.zeros((17, 3), np.float32)
    kp[5], kp[6] = (5, 5, 2), (80, -40, 2)  # the right shoulder far outside the image
    fig = viz.show_grid([image], keypoints=[kp], skeleton="coco17")
    ax = fig.axes[0]
    assert ax.get_xlim() == (-0.5, 29.5) and ax.get_ylim() == (19.5, -0.5)
