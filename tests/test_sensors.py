"""posekit.sensors: grey, edges and motion vectors against hand-built frames."""

import numpy as np
import pytest

from posekit import sensors


def _square_frame(x0: int, y0: int, size=(64, 96)) -> np.ndarray:
    rng = np.random.default_rng(0)
    frame = np.full((*size, 3), 40, np.uint8)
    patch = rng.integers(80, 255, (20, 20, 3), dtype=np.uint8)  # textured, so flow is defined
    frame[y0 : y0 + 20, x0 : x0 + 20] = patch
    return frame


def test_grayscale_weights():
    image = np.zeros((1, 3, 3), np.uint8)
    image[0, 0, 0], image[0, 1, 1], image[0, 2, 2] = 255, 255, 255
    np.testing.assert_array_equal(sensors.grayscale(image)[0], [76, 150, 29])  # .299 .587 .114


def test_edges_outline_a_square_and_nothing_else():
    e = sensors.edges(_square_frame(30, 20), blur=0)
    assert set(np.unique(e)) <= {0, 255}
    assert e[:10].max() == 0 and e[:, :20].max() == 0  # flat regions: no edges
    assert e[20:40, 28:32].max() == 255  # the left side of the square


def test_motion_vectors_encode_a_known_shift():
    mvh, mvv = sensors.motion_vectors(_square_frame(30, 20), _square_frame(33, 21), block=4)
    dx = sensors.decode_motion(mvh)[24:36, 36:46].mean() * 128 / 4
    dy = sensors.decode_motion(mvv)[24:36, 36:46].mean() * 128 / 4
    assert abs(dx - 3) < 0.75 and abs(dy - 1) < 0.75
    assert abs(int(mvh[2, 2]) - 128) <= 1  # static background: no motion


def test_motion_vectors_are_constant_within_a_block():
    mvh, _ = sensors.motion_vectors(_square_frame(30, 20), _square_frame(34, 20), block=8)
    blocks = mvh[:64, :96].reshape(8, 8, 12, 8).transpose(0, 2, 1, 3).reshape(96, 64)
    assert (blocks.min(1) == blocks.max(1)).all()


def test_bad_input():
    with pytest.raises(ValueError, match="image"):
        sensors.edges(np.zeros((4, 4), np.uint8))
    with pytest.raises(ValueError, match="current"):
        sensors.motion_vectors(_square_frame(0, 0), _square_frame(0, 0, size=(32, 32)))


# ------------------------------------------------------------------------------- edges
def _flat_square(value=200, size=(48, 64), box=(16, 12, 36, 32)) -> np.ndarray:
    frame = np.full((*size, 3), 30, np.uint8)
    x0, y0, x1, y1 = box
    frame[y0:y1, x0:x1] = value
    return frame


def test_edges_of_a_flat_image_are_empty():
    assert sensors.edges(np.full((40, 50, 3), 90, np.uint8)).max() == 0


def test_edges_of_a_sharp_square_lie_on_its_border():
    e = sensors.edges(_flat_square())  # default 5x5 pre-blur
    ys, xs = np.nonzero(e)
    x0, y0, x1, y1 = 16, 12, 36, 32
    near = (np.minimum(np.abs(xs - x0), np.abs(xs - x1)) <= 1) | (
        np.minimum(np.abs(ys - y0), np.abs(ys - y1)) <= 1
    )
    inside_box = (xs >= x0 - 1) & (xs <= x1) & (ys >= y0 - 1) & (ys <= y1)
    assert near.all() and inside_box.all()
    assert e[y0 + 4 : y1 - 4, x0 - 1 : x0 + 1].max(axis=1).min() == 255  # every row: left
    assert e[y0 + 4 : y1 - 4, x1 - 1 : x1 + 1].max(axis=1).min() == 255  # right
    assert e[y0 - 1 : y0 + 1, x0 + 4 : x1 - 4].max(axis=0).min() == 255  # every column: top
    assert e[y1 - 1 : y1 + 1, x0 + 4 : x1 - 4].max(axis=0).min() == 255  # bottom


def test_edges_blur_removes_fine_texture():
    rng = np.random.default_rng(1)
    noise = np.clip(120 + rng.normal(0, 12, (60, 80)), 0, 255).astype(np.uint8)
    image = np.repeat(noise[..., None], 3, axis=2)
    assert (sensors.edges(image) > 0).mean() < 0.5 * (sensors.edges(image, blur=0) > 0).mean()


# ------------------------------------------------------------------------------- motion
def _texture(shape=(120, 160), seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, shape, dtype=np.uint8)


def _translated(dx: int, dy: int, shape=(64, 96), margin=10, seed=0):
    """(previous, current) grey crops of one texture whose content moves by (dx, dy)."""
    big = _texture((shape[0] + 2 * margin, shape[1] + 2 * margin), seed)
    h, w = shape
    prev = big[margin : margin + h, margin : margin + w]
    cur = big[margin - dy : margin - dy + h, margin - dx : margin - dx + w]
    return prev, cur


@pytest.mark.parametrize("dx, dy", [(3, -2), (-5, 4), (0, 7), (8, -8)])
def test_block_motion_recovers_an_integer_translation(dx, dy):
    prev, cur = _translated(dx, dy)
    assert cur[20, 30] == prev[20 - dy, 30 - dx]  # the convention, independently
    mx, my = sensors.block_motion(prev, cur, block=16, search=8)
    assert mx.shape == my.shape == (4, 6) and mx.dtype == np.int16
    assert (mx[1:-1, 1:-1] == dx).all() and (my[1:-1, 1:-1] == dy).all()


def test_block_motion_vectors_encoded_as_sphp():
    prev, cur = _translated(3, -2)
    rgb = [np.repeat(f[..., None], 3, axis=2) for f in (prev, cur)]
    mvh, mvv = sensors.motion_vectors(*rgb, block=16, method="block")
    assert mvh.shape == prev.shape
    assert (mvh[16:48, 16:80] == 128 + 4 * 3).all() and (mvv[16:48, 16:80] == 128 - 4 * 2).all()
    np.testing.assert_allclose(sensors.decode_motion(mvh[16:48, 16:80]) * 128 / 4, 3)


def test_static_scene_gives_zero_motion_and_no_events():
    frame = np.repeat(_texture((48, 64))[..., None], 3, axis=2)
    for method in ("flow", "block"):
        mvh, mvv = sensors.motion_vectors(frame, frame.copy(), method=method)
        assert (mvh == 128).all() and (mvv == 128).all()
    flat = np.full((48, 64, 3), 77, np.uint8)  # textureless: every candidate ties, (0, 0) wins
    assert all((m == 128).all() for m in sensors.motion_vectors(flat, flat, method="block"))
    assert not sensors.events(np.stack([frame] * 5)).any()


def _brute_force_blocks(prev, cur, block, search):
    """Per block, per candidate, in plain Python: min SAD; ties → shortest, then dy, then dx."""
    h, w = prev.shape
    hp, wp = -(-h // block) * block, -(-w // block) * block
    a = np.pad(prev.astype(int), ((0, hp - h), (0, wp - w)), mode="edge")
    b = np.pad(cur.astype(int), ((0, hp - h), (0, wp - w)), mode="edge")
    dxs = np.zeros((hp // block, wp // block), int)
    dys = np.zeros_like(dxs)
    for i in range(hp // block):
        for j in range(wp // block):
            y, x = i * block, j * block
            target = b[y : y + block, x : x + block]
            costs = []
            for dy in range(-search, search + 1):
                for dx in range(-search, search + 1):
                    if 0 <= y - dy <= hp - block and 0 <= x - dx <= wp - block:
                        ref = a[y - dy : y - dy + block, x - dx : x - dx + block]
                        sad = int(np.abs(target - ref).sum())
                        costs.append((sad, dx * dx + dy * dy, dy, dx))
            _, _, dys[i, j], dxs[i, j] = min(costs)
    return dxs, dys


BRUTE_CASES = [((12, 16), 4, 2, 8), ((13, 18), 4, 3, 8), ((10, 10), 5, 1, 8), ((9, 11), 2, 2, 2)]


@pytest.mark.parametrize("shape, block, search, levels", BRUTE_CASES)
def test_block_motion_equals_a_brute_force_search(shape, block, search, levels):
    rng = np.random.default_rng(shape[0])
    prev = rng.integers(0, levels, shape, dtype=np.uint8)  # few levels: ties happen
    cur = np.roll(prev, (1, -1), axis=(0, 1))
    cur[rng.random(shape) < 0.2] = 3
    got = sensors.block_motion(prev, cur, block=block, search=search)
    want = _brute_force_blocks(prev, cur, block, search)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])


def test_encode_motion_clips_and_round_trips():
    d = np.array([0.0, 1.0, -2.5, 10.0, 31.75, 32.0, -32.0, -40.0, 0.1])
    code = sensors.encode_motion(d)
    assert code.dtype == np.uint8
    np.testing.assert_array_equal(code, [128, 132, 118, 168, 255, 255, 0, 0, 128])
    inside = np.abs(d) <= 31.75
    back = sensors.decode_motion(code) * 128 / 4
    np.testing.assert_allclose(back[inside][:-1], d[inside][:-1])  # exact multiples of 1/4 px
    assert abs(back[-1] - 0.1) <= 0.125  # rounding: half a level
    np.testing.assert_array_equal(sensors.encode_motion([1.0], gain=1.0), [129])
    assert sensors.decode_motion(np.array([0, 128, 255], np.uint8)).tolist() == [
        -1.0, 0.0, 127 / 128
    ]  # fmt: skip


# ------------------------------------------------------------------------------- events
def test_events_fire_once_with_the_right_polarity_where_the_brightness_stepped():
    # grey 99 → 134: log(135 / 100) = 0.300 = one threshold of 0.2 with 0.1 left over
    frames = np.full((5, 20, 30), 99, np.uint8)
    frames[1:, 5:10, 10:20] = 134
    frames[4, 5:10, 10:20] = 73  # log(74 / 135) = -0.601: from the reference (+0.2), -0.501
    frames[2:, 15:, :] = 164  # log(165 / 100) = 0.501: two events in one interval
    ev = sensors.events(frames, threshold=0.2)
    assert ev.shape == frames.shape and ev.dtype == np.int8
    assert not ev[0].any()
    step = np.zeros((20, 30), np.int8)
    step[5:10, 10:20] = 1
    np.testing.assert_array_equal(ev[1], step)
    want2 = np.zeros((20, 30), np.int8)
    want2[15:] = 2
    np.testing.assert_array_equal(ev[2], want2)
    assert not ev[3].any()  # unchanged since: the reference reset, nothing fires twice
    np.testing.assert_array_equal(ev[4], -2 * step)


def test_events_of_rgb_frames_use_grayscale():
    frames = np.zeros((2, 4, 4, 3), np.uint8)
    frames[1, 0, 0] = 255
    ev = sensors.events(frames, threshold=1.0)
    assert ev[1, 0, 0] == int(np.log(256 / 1.0) // 1.0) and ev[1].sum() == ev[1, 0, 0]


# ------------------------------------------------------------------------------- sparsity
def test_active_fraction_hand_cases():
    assert sensors.active_fraction(np.array([[0, 255], [0, 0]], np.uint8)) == 0.25
    assert sensors.active_fraction(np.array([[-1, 0, 0, 2]], np.int8)) == 0.5
    mvh = np.full((2, 5), 128, np.uint8)
    mvv = mvh.copy()
    assert sensors.active_fraction((mvh, mvv), zero=sensors.MV_ZERO) == 0.0
    mvh[0, 0], mvv[1, 1] = 129, 0
    assert sensors.active_fraction((mvh, mvv), zero=sensors.MV_ZERO) == 0.2
    mvv[0, 0] = 200  # the same pixel active in both channels counts once
    assert sensors.active_fraction([mvh, mvv], zero=128) == 0.2
    assert sensors.active_fraction(np.zeros((3, 2, 2), np.uint8)) == 0.0


def test_sparsity_by_class_on_a_tiny_run():
    result = sensors.sparsity_by_class(n_per_action=1, frames=2, size=(64, 48), progress=False)
    assert list(result) == ["C1", "C2", "C3", "C4", "all"]
    for row in result.values():
        assert list(row) == list(sensors.INPUTS)
        assert all(0.0 <= v <= 1.0 for v in row.values())
    assert 0 < result["all"]["EDG"] < 0.5
    assert "C4" in sensors.format_sparsity(result)


# ------------------------------------------------------------------------------- errors
def test_bad_inputs_name_the_argument():
    gray = np.zeros((8, 8), np.uint8)
    cases = [
        (lambda: sensors.block_motion(gray.astype(float), gray), "previous"),
        (lambda: sensors.block_motion(gray, gray[:4]), "current"),
        (lambda: sensors.block_motion(gray, gray, block=0), "block"),
        (lambda: sensors.block_motion(gray, gray, search=-1), "search"),
        (lambda: sensors.motion_vectors(*[_square_frame(0, 0)] * 2, method="codec"), "method"),
        (lambda: sensors.encode_motion([1.0], gain=0), "gain"),
        (lambda: sensors.edges(_square_frame(0, 0), blur=4), "blur"),
        (lambda: sensors.edges(_square_frame(0, 0), low=200, high=100), "low"),
        (lambda: sensors.events(gray), "frames"),
        (lambda: sensors.events(np.zeros((2, 4, 4), np.float32)), "frames"),
        (lambda: sensors.events(np.zeros((2, 4, 4), np.uint8), threshold=0), "threshold"),
        (lambda: sensors.active_fraction(np.zeros((0, 3))), "image"),
        (lambda: sensors.active_fraction((gray, gray[:4])), "image"),
        (lambda: sensors.sparsity_by_class(frames=1, progress=False), "frames"),
    ]
    for call, arg in cases:
        with pytest.raises(ValueError, match=arg):
            call()
