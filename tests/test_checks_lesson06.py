"""Lesson 06's checks pass student-style solutions, FAIL a stub that calls posekit's own
implementation, and catch the classic block-matching, motion encoding, rulebook and MAC-counting
mistakes with the right hint; the references equal posekit's sensors and sparse layers; a stub
gives TODO and a function that raises a FAIL."""

import numpy as np
import pytest
import torch
from test_checks import forbidden_call_tests

from posekit import checks, sensors
from posekit.checks import lesson06 as L
from posekit.sparse import SparseTensor, SubMConv2d, count_macs, submanifold_rules
from posekit.sparse.macs import record


@pytest.fixture(autouse=True)
def student_mode(monkeypatch):
    monkeypatch.setenv("POSEKIT_CHECK_MODE", "student")
    checks.reset()


# --------------------------------------------------------------- student-style solutions


def block_motion_vectors(
    prev,
    curr,
    block=16,
    search=8,
    *,
    sign=1,
    swap=False,
    units=False,
    signed=True,
    ties="shortest",
    window=None,
):
    """A student's loop, right by default; each option is one classic mistake."""
    if signed:
        prev, curr = prev.astype(np.float64), curr.astype(np.float64)
    h, w = curr.shape
    lo, hi = window or (-search, search)
    candidates = [(dx, dy) for dy in range(lo, hi + 1) for dx in range(lo, hi + 1)]
    if ties == "shortest":
        candidates.sort(key=lambda d: (d[0] ** 2 + d[1] ** 2, d[1], d[0]))
    out = np.zeros((h // block, w // block, 2), np.int64)
    for i in range(h // block):
        for j in range(w // block):
            y0, x0 = i * block, j * block
            target = curr[y0 : y0 + block, x0 : x0 + block]
            best = np.inf
            for dx, dy in candidates:
                py, px = y0 - sign * dy, x0 - sign * dx
                if py < 0 or px < 0 or py + block > h or px + block > w:
                    continue
                sad = np.abs(target - prev[py : py + block, px : px + block]).sum()
                if sad < best or (ties == "last" and sad == best):
                    best, out[i, j] = sad, (dx, dy)
    if swap:
        out = out[..., ::-1]
    return out / block if units else out


def _bmv(**options):
    return lambda prev, curr, block=16, search=8: block_motion_vectors(
        prev, curr, block, search, **options
    )


def encode_mv(d, gain=4.0):
    return np.clip(np.rint(128 + gain * np.asarray(d, float)), 0, 255).astype(np.uint8)


def submanifold_rulebook(
    coords,
    shape,
    *,
    order="row",
    sign=1,
    swap=False,
    centre=True,
    centred=True,
    keep_inactive=False,
    flat=False,
    argwhere=False,
    bounds=True,
    tuples=False,
):
    """A student's dict / lookup-table solution, right by default, or one classic mistake."""
    h, w = shape
    coords = np.asarray(coords)
    if argwhere:  # rows renumbered: the sites as a dense mask gives them
        mask = np.zeros(shape, bool)
        mask[coords[:, 0], coords[:, 1]] = True
        coords = np.argwhere(mask)
    lut = np.full((h, w), -1)
    lut[coords[:, 0], coords[:, 1]] = np.arange(len(coords))
    book = [[] for _ in range(9)]
    for o, (y, x) in enumerate(coords):
        for ky in range(3):
            for kx in range(3):
                k = ky * 3 + kx if order == "row" else kx * 3 + ky
                if k == 4 and not centre:
                    continue
                d = (ky - 1, kx - 1) if centred else (ky, kx)
                ny, nx = y + sign * d[0], x + sign * d[1]
                if flat:
                    f = ny * w + nx
                    i = lut.ravel()[f] if 0 <= f < h * w else -1
                elif bounds and not (0 <= ny < h and 0 <= nx < w):
                    i = -1
                else:
                    i = lut[ny, nx]  # bounds=False: index -1 wraps, index H raises
                if i >= 0 or keep_inactive:
                    book[k].append((o, i) if swap else (i, o))
    if tuples:
        return [(np.array([p[0] for p in b], int), np.array([p[1] for p in b], int)) for b in book]
    return [np.array(b, dtype=np.int64).reshape(-1, 2) for b in book]


def _srb(**options):
    return lambda coords, shape: submanifold_rulebook(coords, shape, **options)


def layer_macs(
    pairs,
    num_sites,
    shape,
    cin,
    cout,
    *,
    centre=True,
    flops=1,
    dense_k=True,
    per_site=False,
    len_tuple=False,
    cout_only=False,
):
    n = 0
    for p in pairs:
        if p is None:
            n += num_sites if centre else 0
        else:
            n += len(p) if len_tuple else len(p[0])
    if per_site:
        n = num_sites * len(pairs)
    k = len(pairs) if dense_k else 1
    ch = cout if cout_only else cin * cout
    return flops * n * ch, flops * shape[0] * shape[1] * k * ch


def _lm(**options):
    return lambda *args: layer_macs(*args, **options)


# --------------------------------------------------------------- right answers pass

CHECKS = {
    "block_motion_vectors": (L.check_block_motion_vectors, block_motion_vectors),
    "encode_mv": (L.check_encode_mv, encode_mv),
    "submanifold_rulebook": (L.check_submanifold_rulebook, submanifold_rulebook),
    "layer_macs": (L.check_layer_macs, layer_macs),
}


@pytest.mark.parametrize("name", list(CHECKS))
def test_a_student_solution_passes(name):
    check, student = CHECKS[name]
    assert check(student).status == "PASS"


SOLUTIONS = {name: student for name, (_, student) in CHECKS.items()}


# --------------------------------------------------------- calling posekit's own implementation


def rulebook_via_sparse(coords, shape):
    c = np.asarray(coords, np.int64).reshape(-1, 2)
    sites = torch.from_numpy(np.concatenate([np.zeros((len(c), 1), np.int64), c], axis=1))
    rules = submanifold_rules(SparseTensor(torch.zeros(len(c), 1), sites, tuple(shape), 1), 3)
    rows = np.arange(len(c))
    return [np.stack([rows, rows], 1) if p is None else torch.stack(p, 1).numpy()
            for p in rules.pairs]  # fmt: skip


def macs_via_counter(pairs, num_sites, shape, cin, cout):
    n = sum(num_sites if p is None else len(p[0]) for p in pairs)
    with count_macs() as counter:
        record(None, "SubMConv2d", num_sites, num_sites, n, cin, cout, shape[0] * shape[1],
               len(pairs))  # fmt: skip
    return counter.active, counter.dense


POSEKIT_STUBS = [
    (
        "block_motion_vectors",
        lambda prev, curr, block=16, search=8: np.stack(
            sensors.block_motion(prev, curr, block, search), axis=-1
        ),
        "posekit.sensors.block_motion",
    ),
    (
        "encode_mv",
        lambda d, gain=4.0: sensors.encode_motion(np.asarray(d, np.float64), gain),
        "posekit.sensors.encode_motion",
    ),
    ("submanifold_rulebook", rulebook_via_sparse, "posekit.sparse.rulebook.submanifold_rules"),
    ("layer_macs", macs_via_counter, "posekit.sparse.macs.count_macs"),
]


(
    test_every_exercise_is_covered,
    test_a_stub_calling_the_reference_fails,
    test_a_stub_calling_posekits_function_fails,
) = forbidden_call_tests(L, SOLUTIONS, POSEKIT_STUBS)


def test_other_right_answers_pass():
    def sorted_other_way(coords, shape):  # any order of pairs within an offset
        return [p[::-1] for p in submanifold_rulebook(coords, shape)]

    def as_lists(coords, shape):
        return [p.tolist() for p in submanifold_rulebook(coords, shape)]

    def torch_rows(coords, shape):
        return [torch.from_numpy(p) for p in submanifold_rulebook(coords, shape)]

    for fn in (sorted_other_way, as_lists, torch_rows):
        assert L.check_submanifold_rulebook(fn).status == "PASS"
    assert L.check_block_motion_vectors(_bmv(signed=True)).status == "PASS"
    # numpy ints, floats holding whole numbers and 0-d tensors are all counts
    assert L.check_layer_macs(lambda *a: tuple(np.int64(v) for v in layer_macs(*a))).ok
    assert L.check_layer_macs(lambda *a: [float(v) for v in layer_macs(*a)]).ok
    assert L.check_layer_macs(lambda *a: tuple(torch.tensor(v) for v in layer_macs(*a))).ok


# --------------------------------------------------------------- references vs posekit


def test_block_motion_reference_is_sensors_block_motion():
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 256, (48, 64), dtype=np.uint8) for _ in range(2)]
    flat = np.full((32, 32), 77, np.uint8)
    shifted = np.roll(frames[0], (2, -3), axis=(0, 1))
    for prev, curr, block, search in (
        (*frames, 16, 8),
        (frames[0], shifted, 16, 4),
        (frames[0], shifted, 8, 5),
        (flat, flat, 16, 8),
        (frames[0], frames[0], 8, 2),
        (frames[0][:32, :32], flat, 16, 8),
    ):
        want = np.stack(sensors.block_motion(prev, curr, block, search), axis=-1)
        got = L.reference_block_motion_vectors(prev, curr, block, search)
        np.testing.assert_array_equal(got, want)
    for case in L._motion_cases():
        prev, curr = case.args
        if prev.dtype == np.uint8:
            want = np.stack(sensors.block_motion(prev, curr, **case.kwargs), axis=-1)
            np.testing.assert_array_equal(
                L.reference_block_motion_vectors(prev, curr, **case.kwargs), want
            )
    # float frames: the same vectors as the uint8 frames they come from
    a, b = L._motion_cases()[1].args
    np.testing.assert_array_equal(
        L.reference_block_motion_vectors(a / 256.0, b / 256.0),
        L.reference_block_motion_vectors(a, b),
    )


def test_block_motion_sign_convention():
    """Content moving right and down gives positive (dx, dy), in pixels."""
    prev, curr = L._motion_cases()[0].args
    v = L.reference_block_motion_vectors(prev, curr, 16, 4)
    assert v.shape == (2, 3, 2) and v[1, 1].tolist() == [2, 1]
    assert (np.delete(v.reshape(-1, 2), 4, axis=0) == 0).all()  # flat blocks: (0, 0)


def test_encode_reference_is_sensors_encode_motion():
    d = np.array([-40.0, -32, -1.3, 0, 0.2, 1, 31.75, 40])
    np.testing.assert_array_equal(L.reference_encode_mv(d), sensors.encode_motion(d))
    assert L.reference_encode_mv(d).tolist() == [0, 0, 123, 128, 129, 132, 255, 255]
    assert L.reference_encode_mv(d, gain=2).dtype == np.uint8


def _sparse(coords, shape):
    c = torch.as_tensor(np.asarray(coords), dtype=torch.long)
    sites = torch.cat([torch.zeros(len(c), 1, dtype=torch.long), c], 1)
    return SparseTensor(torch.zeros(len(c), 1), sites, shape, 1)


def test_rulebook_reference_is_posekits_rules_and_a_plain_loop():
    rng = np.random.default_rng(1)
    for shape, p in (((5, 6), 0.3), ((7, 4), 0.6), ((3, 3), 1.0), ((1, 9), 0.5)):
        mask = rng.random(shape) < p
        mask[0, 0] = True
        coords = np.argwhere(mask)[rng.permutation(int(mask.sum()))]
        ref = L.reference_submanifold_rulebook(coords, shape)
        assert len(ref) == 9 and all(r.dtype == np.int64 and r.shape[1] == 2 for r in ref)
        np.testing.assert_array_equal(L._triples_of(ref), L._rules(coords, shape))
        np.testing.assert_array_equal(
            L._triples_of(ref), L._triples_of(submanifold_rulebook(coords, shape))
        )
        np.testing.assert_array_equal(ref[4], np.stack([np.arange(len(coords))] * 2, 1))
        rules = submanifold_rules(_sparse(coords, shape), 3)
        for k, pair in enumerate(rules.pairs):
            if pair is not None:
                np.testing.assert_array_equal(ref[k], torch.stack(pair, 1).numpy())
        assert sum(len(r) for r in ref) == rules.num_pairs


def test_swapping_the_columns_is_flipping_the_offsets():
    """Why one hint covers both: if o reads i at (dy, dx), i reads o at (-dy, -dx)."""
    for case in L._rulebook_cases():
        coords, shape = case.args
        np.testing.assert_array_equal(
            L._triples_of(submanifold_rulebook(coords, shape, swap=True)),
            L._rules(coords, shape, sign=-1),
        )


def test_layer_macs_reference_is_count_macs_of_a_real_layer():
    rng = np.random.default_rng(2)
    for shape, kernel, cin, cout in (((6, 8), 3, 4, 8), ((9, 7), 5, 3, 2), ((12, 12), 3, 16, 1)):
        mask = rng.random(shape) < 0.3
        x = _sparse(np.argwhere(mask), shape)
        x = x.replace(torch.randn(x.num_sites, cin))
        layer = SubMConv2d(cin, cout, kernel)
        with count_macs(layer) as costs, torch.no_grad():
            layer(x)
        (row,) = costs.rows
        rules = submanifold_rules(x, kernel)
        got = L.reference_layer_macs(rules.pairs, x.num_sites, shape, cin, cout)
        assert got == (row.active, row.dense) and all(type(v) is int for v in got)
        assert got[0] == rules.num_pairs * cin * cout


def test_references_reject_bad_input():
    f = np.zeros((32, 32), np.uint8)
    with pytest.raises(ValueError, match="multiples of block"):
        L.reference_block_motion_vectors(f[:30], f[:30])
    with pytest.raises(ValueError, match="curr"):
        L.reference_block_motion_vectors(f, f[:16])
    with pytest.raises(ValueError, match="prev"):
        L.reference_block_motion_vectors(np.zeros((2, 32, 32)), f)
    with pytest.raises(ValueError, match="search"):
        L.reference_block_motion_vectors(f, f, 16, -1)
    with pytest.raises(ValueError, match="gain"):
        L.reference_encode_mv(np.zeros(3), gain=0)
    with pytest.raises(ValueError, match="d:"):
        L.reference_encode_mv(np.array(["a"]))
    with pytest.raises(ValueError, match="inside"):
        L.reference_submanifold_rulebook([[0, 5]], (3, 5))
    with pytest.raises(ValueError, match="only once"):
        L.reference_submanifold_rulebook([[0, 1], [0, 1]], (3, 5))
    with pytest.raises(ValueError, match="coords"):
        L.reference_submanifold_rulebook([[0.5, 1]], (3, 5))
    with pytest.raises(ValueError, match="shape"):
        L.reference_submanifold_rulebook([[0, 1]], 5)
    assert all(
        p.shape == (0, 2) for p in L.reference_submanifold_rulebook(np.zeros((0, 2), int), (2, 2))
    )
    with pytest.raises(ValueError, match="cin"):
        L.reference_layer_macs([None], 1, (2, 2), 0, 1)
    with pytest.raises(ValueError, match="pairs"):
        L.reference_layer_macs([], 1, (2, 2), 1, 1)


# --------------------------------------------------------------- classic mistakes


@pytest.mark.parametrize(
    "wrong,hint",
    [
        (_bmv(sign=-1), "point the opposite way"),
        (_bmv(swap=True), "x and y are swapped"),
        (_bmv(units=True), "in blocks, not pixels"),
        (_bmv(signed=False), "SAD wrapped around"),
        (_bmv(ties="raster"), "keeps the first minimum"),
        (_bmv(ties="last"), "keeps the last"),
        (
            lambda p, c, block=16, search=8: block_motion_vectors(
                p, c, block, search, window=(-search, search - 1)
            ),
            "range(-search, search) misses +search",
        ),
        (
            lambda p, c, block=16, search=8: block_motion_vectors(p, c, block, search - 1),
            "You searched ±(search − 1)",
        ),
        (
            lambda p, c, block=16, search=8: block_motion_vectors(p, c, block, search + 1),
            "You searched ±(search + 1)",
        ),
        (
            lambda p, c, block=16, search=8: np.moveaxis(
                block_motion_vectors(p, c, block, search), -1, 0
            ),
            "on the first axis",
        ),
    ],
)
def test_block_motion_mistakes_fail_with_their_hint(wrong, hint, capsys):
    assert L.check_block_motion_vectors(wrong).status == "FAIL"
    assert hint in capsys.readouterr().out


def _enc(f):
    return lambda d, gain=4.0: f(np.asarray(d, float), gain)


@pytest.mark.parametrize(
    "wrong,hint",
    [
        (_enc(lambda d, g: np.clip(np.rint(g * d), 0, 255).astype(np.uint8)), "offset is missing"),
        (
            _enc(lambda d, g: np.rint(g * d).astype(np.int64).astype(np.uint8)),
            "wrapped around through uint8",
        ),
        (_enc(lambda d, g: np.clip(np.rint(256 + g * d), 0, 255).astype(np.uint8)), "added twice"),
        (
            _enc(lambda d, g: np.clip(np.rint(128 - g * d), 0, 255).astype(np.uint8)),
            "sign is flipped",
        ),
        (_enc(lambda d, g: np.clip(np.rint(128 + d), 0, 255).astype(np.uint8)), "gain is missing"),
        (
            _enc(lambda d, g: np.clip(np.rint(128 + d / g), 0, 255).astype(np.uint8)),
            "divided by the gain",
        ),
        (
            _enc(lambda d, g: np.rint(128 + g * d).astype(np.int64).astype(np.uint8)),
            "instead of saturating",
        ),
        (_enc(lambda d, g: np.clip(128 + g * d, 0, 255).astype(np.uint8)), "rounded down"),
    ],
)
def test_encode_mistakes_fail_with_their_hint(wrong, hint, capsys):
    assert L.check_encode_mv(wrong).status == "FAIL"
    assert hint in capsys.readouterr().out


def test_encode_wrong_dtype_is_named(capsys):
    assert (
        L.check_encode_mv(_enc(lambda d, g: np.clip(np.rint(128 + g * d), 0, 255))).status == "FAIL"
    )
    assert "wrong dtype: expected uint8, got float64" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong,hint",
    [
        (_srb(centre=False), "centre offset k = 4 is missing"),
        (_srb(order="col"), "offsets are transposed"),
        (
            lambda coords, shape: submanifold_rulebook(np.asarray(coords)[:, ::-1], shape[::-1]),
            "offsets are transposed",
        ),
        (_srb(sign=-1), "holds the pairs of offset 8 − k"),
        (_srb(swap=True), "holds the pairs of offset 8 − k"),
        (_srb(centred=False, bounds=True), "not centred"),
        (_srb(keep_inactive=True), "row −1"),
        (_srb(flat=True), "wrapped into the neighbouring row"),
        (_srb(argwhere=True), "sorted row-major"),
        (_srb(bounds=False), "a neighbour lies outside the image"),
        (_srb(tuples=True), "np.stack([in_rows, out_rows], axis=1)"),
    ],
)
def test_rulebook_mistakes_fail_with_their_hint(wrong, hint, capsys):
    assert L.check_submanifold_rulebook(wrong).status == "FAIL"
    assert hint in capsys.readouterr().out


def test_an_index_error_keeps_its_message_and_the_students_line(capsys):
    assert L.check_submanifold_rulebook(_srb(bounds=False)).status == "FAIL"
    out = capsys.readouterr().out
    assert "(IndexError: index 3 is out of bounds" in out and "of submanifold_rulebook" in out


def test_rulebook_failure_names_the_offset_and_the_pairs(capsys):
    result = L.check_submanifold_rulebook(_srb(order="col"))
    assert result.case == 1
    out = capsys.readouterr().out
    assert "offset k = 1 (ky = 0, kx = 1: output (y, x) reads input (y − 1, x))" in out
    assert "expected 0 pairs, got 2 pairs [[0, 1], [1, 2]]" in out


@pytest.mark.parametrize(
    "wrong,hint",
    [
        (_lm(centre=False), "centre offset is missing"),
        (_lm(len_tuple=True), "len(pairs[k]) is 2"),
        (_lm(len_tuple=True, centre=False), "len(pairs[k]) is 2"),
        (_lm(flops=2), "counted FLOPs"),
        (_lm(dense_k=False), "lacks the kernel area"),
        (_lm(per_site=True), "every offset at every site"),
        (_lm(cout_only=True), "you have Cout only"),
        (
            lambda p, n, s, ci, co: (layer_macs(p, n, s, ci, co)[0], n * len(p) * ci * co),
            "only covers the active sites",
        ),
    ],
)
def test_layer_macs_mistakes_fail_with_their_hint(wrong, hint, capsys):
    assert L.check_layer_macs(wrong).status == "FAIL"
    assert hint in capsys.readouterr().out


def test_layer_macs_failure_shows_both_counts(capsys):
    L.check_layer_macs(_lm(flops=2))
    out = capsys.readouterr().out
    assert "active MACs: expected" in out and "(2 ×)" in out and "dense MACs" in out


# --------------------------------------------------------------- hostile answers


@pytest.mark.parametrize("name", list(CHECKS))
def test_a_stub_is_todo_and_use_falls_back_to_the_reference(name, capsys):
    def stub(*args, **kwargs):
        raise NotImplementedError

    check = CHECKS[name][0]
    assert check(stub).status == "TODO"
    assert checks.use(stub, name) is getattr(L, f"reference_{name}")
    assert "reference" in capsys.readouterr().out


@pytest.mark.parametrize("name", list(CHECKS))
def test_a_function_that_raises_fails_without_crashing(name, capsys):
    def broken(*args, **kwargs):
        return {}["oops"]

    result = CHECKS[name][0](broken)
    assert result.status == "FAIL" and result.case == 1
    out = capsys.readouterr().out
    assert "your function raised KeyError: 'oops'" in out and "of broken" in out


def test_odd_outputs_are_explained(capsys):
    assert L.check_block_motion_vectors(lambda p, c, block=16, search=8: None).status == "FAIL"
    assert "returned None" in capsys.readouterr().out
    assert L.check_submanifold_rulebook(lambda coords, shape: None).status == "FAIL"
    assert "returned None" in capsys.readouterr().out
    assert (
        L.check_submanifold_rulebook(lambda coords, shape: [np.zeros((0, 2), int)] * 8).status
        == "FAIL"
    )
    assert "got 8 items" in capsys.readouterr().out
    assert L.check_submanifold_rulebook(lambda c, s: {k: [] for k in range(9)}).status == "FAIL"
    assert "expected a list of 9 arrays" in capsys.readouterr().out
    assert (
        L.check_submanifold_rulebook(
            lambda c, s: [p.astype(float) for p in submanifold_rulebook(c, s)]
        ).status
        == "FAIL"
    )
    assert "expected integer row numbers" in capsys.readouterr().out
    assert L.check_submanifold_rulebook(lambda c, s: [np.zeros((2, 3), int)] * 9).status == "FAIL"
    assert "expected a (P, 2) array" in capsys.readouterr().out
    assert L.check_layer_macs(lambda *a: sum(layer_macs(*a))).status == "FAIL"
    assert "expected a tuple (active, dense)" in capsys.readouterr().out
    assert L.check_layer_macs(lambda *a: ("1", "2")).status == "FAIL"
    assert "expected a number, got str" in capsys.readouterr().out
    assert L.check_layer_macs(lambda *a: None).status == "FAIL"
    assert "returned None" in capsys.readouterr().out
    assert L.check_encode_mv(encode_mv(np.zeros(3))).status == "FAIL"
    assert "expected a function" in capsys.readouterr().out
    assert L.check_layer_macs(42).status == "FAIL"
    assert "expected a function" in capsys.readouterr().out


def test_a_rulebook_that_sorts_coords_in_place_is_caught(capsys):
    def in_place(coords, shape):
        out = submanifold_rulebook(coords, shape)
        coords.sort(axis=0)
        return out

    assert L.check_submanifold_rulebook(in_place).status == "FAIL"
    assert "modified its input" in capsys.readouterr().out


def test_use_keeps_a_passing_student_function():
    assert L.check_layer_macs(layer_macs).status == "PASS"
    assert checks.use(layer_macs) is layer_macs
    assert checks.reference_for("submanifold_rulebook") is L.reference_submanifold_rulebook
