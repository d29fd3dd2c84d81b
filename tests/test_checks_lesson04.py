"""Lesson 04's checks pass student-style solutions, FAIL a stub that calls posekit's own
implementation, and catch the classic PAF, line-integral and matching mistakes with the right
hint; the references agree with posekit's codec and grouping, and the cases stay away from ties
where two correct formulas could disagree."""

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment
from test_checks import forbidden_call_tests

from posekit import checks
from posekit.checks import lesson04 as L
from posekit.codecs import grouping
from posekit.codecs.paf import paf_targets


@pytest.fixture(autouse=True)
def student_mode(monkeypatch):
    monkeypatch.setenv("POSEKIT_CHECK_MODE", "student")
    checks.reset()


# --------------------------------------------------------------- student-style solutions


def paf_limb_target(a, b, map_size, limb_width):
    w, h = map_size
    out = np.zeros((2, h, w), dtype=np.float32)
    ax, ay = a
    bx, by = b
    length = np.sqrt((bx - ax) ** 2 + (by - ay) ** 2)
    if length == 0:
        return out
    ux, uy = (bx - ax) / length, (by - ay) / length
    xs, ys = np.meshgrid(np.arange(w), np.arange(h))
    dx, dy = xs - ax, ys - ay
    along = dx * ux + dy * uy
    across = np.abs(dx * uy - dy * ux)
    mask = (along >= 0) & (along <= length) & (across <= limb_width)
    out[0][mask] = ux
    out[1][mask] = uy
    return out


def line_integral_score(paf_x, paf_y, a, b, num_samples=10, threshold=0.05):
    a, b = np.array(a, dtype=float), np.array(b, dtype=float)
    u = (b - a) / np.linalg.norm(b - a)
    dots = []
    for t in np.linspace(0, 1, num_samples):
        x, y = np.round(a + t * (b - a)).astype(int)
        dots.append(paf_x[y, x] * u[0] + paf_y[y, x] * u[1])
    dots = np.array(dots)
    good = dots > threshold
    score = dots[good].mean() if good.any() else 0.0
    return score, good.sum() / num_samples


def greedy_match(scores):
    cands = [(scores[i, j], i, j) for i in range(scores.shape[0]) for j in range(scores.shape[1])
             if np.isfinite(scores[i, j])]  # fmt: skip
    cands.sort(reverse=True)
    used_a, used_b, pairs = set(), set(), []
    for _, i, j in cands:
        if i not in used_a and j not in used_b:
            pairs.append((i, j))
            used_a.add(i)
            used_b.add(j)
    return pairs


def test_student_style_solutions_pass():
    assert L.check_paf_limb_target(paf_limb_target).status == "PASS"
    assert L.check_line_integral_score(line_integral_score).status == "PASS"
    assert L.check_greedy_match(greedy_match).status == "PASS"


def test_any_order_of_the_pairs_and_an_array_are_accepted():
    assert L.check_greedy_match(lambda s: sorted(greedy_match(s))[::-1]).status == "PASS"
    as_array = lambda s: np.array(greedy_match(s), dtype=np.int64).reshape(-1, 2)  # noqa: E731
    assert L.check_greedy_match(as_array).status == "PASS"


SOLUTIONS = {
    "paf_limb_target": paf_limb_target,
    "line_integral_score": line_integral_score,
    "greedy_match": greedy_match,
}


# --------------------------------------------------------- calling posekit's own implementation


def line_score_via_grouping(paf_x, paf_y, a, b, num_samples=10, threshold=0.05):
    pafs = np.stack([paf_x, paf_y])
    score, fraction = grouping.pair_scores(pafs, 0, [a], [b], num_samples, threshold, "nearest")
    return float(score[0, 0]), float(fraction[0, 0])


POSEKIT_STUBS = [
    (
        "paf_limb_target",
        lambda a, b, size, width: paf_targets(
            np.array([[[*a, 2.0], [*b, 2.0]]]), size, stride=1, limbs=[(0, 1)], limb_width=width
        ),
        "posekit.codecs.paf.paf_targets",
    ),
    ("line_integral_score", line_score_via_grouping, "posekit.codecs.grouping.pair_scores"),
    (
        "greedy_match",
        lambda scores: grouping.match_limbs(scores),
        "posekit.codecs.grouping.match_limbs",
    ),
]


(
    test_every_exercise_is_covered,
    test_a_stub_calling_the_reference_fails,
    test_a_stub_calling_posekits_function_fails,
) = forbidden_call_tests(L, SOLUTIONS, POSEKIT_STUBS)


# --------------------------------------------------------------- references vs posekit


def test_paf_reference_hand_case_and_codec():
    # horizontal limb (1, 1) → (3, 1) on a 5 × 3 map, half-width 1: the rectangle x in [1, 3],
    # y in [0, 2]; unit vector (1, 0)
    out = L.reference_paf_limb_target((1, 1), (3, 1), (5, 3), 1.0)
    expected = np.zeros((2, 3, 5), np.float32)
    expected[0, :, 1:4] = 1.0
    np.testing.assert_array_equal(out, expected)
    # the mistake helper without mistakes is the reference
    a, b = (1.2, 0.7), (4.3, 4.6)
    np.testing.assert_array_equal(L._limb_field(a, b, (6, 6), 1.0),
                                  L.reference_paf_limb_target(a, b, (6, 6), 1.0))  # fmt: skip
    # and it is the codec's target at stride 1 for one person
    kp = np.array([[[1.2, 0.7, 2], [4.3, 4.6, 2]]])
    np.testing.assert_array_equal(
        L.reference_paf_limb_target(a, b, (6, 6), 1.0),
        paf_targets(kp, (6, 6), stride=1, limbs=[(0, 1)], limb_width=1.0),
    )


@pytest.mark.parametrize("a,b,size,width", [c.args for c in L._paf_target_cases()[:-1]])
def test_paf_cases_have_no_pixel_on_the_rectangle_edge(a, b, size, width):
    # any correct formula (cross product, projection, rotation) then gives the same pixels
    a, b = np.array(a), np.array(b)
    d = b - a
    length = np.hypot(*d)
    u = d / length
    ys, xs = np.mgrid[0 : size[1], 0 : size[0]]
    along = (xs - a[0]) * u[0] + (ys - a[1]) * u[1]
    across = np.abs((xs - a[0]) * u[1] - (ys - a[1]) * u[0])
    assert np.abs(across - width).min() > 0.01
    assert min(np.abs(along).min(), np.abs(along - length).min()) > 0.01
    # the field is the codec's, written with the limb's unit vector
    out = L.reference_paf_limb_target(a, b, size, width)
    on = (along >= 0) & (along <= length) & (across <= width)
    np.testing.assert_allclose(out[0], np.where(on, u[0], 0), atol=1e-6)
    np.testing.assert_allclose(out[1], np.where(on, u[1], 0), atol=1e-6)


def test_line_integral_hand_case():
    # a uniform field (1, 0) on a 4 × 3 map; a → b horizontal: every sample dots to 1
    px, py = np.ones((3, 4)), np.zeros((3, 4))
    assert L.reference_line_integral_score(px, py, (0, 1), (3, 1), 4) == (1.0, 1.0)
    # at 45°: each dot is cos 45° ≈ 0.707
    score, frac = L.reference_line_integral_score(px, py, (0, 0), (2, 2), 3)
    assert score == pytest.approx(np.sqrt(0.5)) and frac == 1.0
    # backwards: all dots are -1, none valid → (0, 0)
    assert L.reference_line_integral_score(px, py, (3, 1), (0, 1), 4) == (0.0, 0.0)
    # only column 3 holds the field: 1 of 4 samples valid, score its dot
    px[:, :3] = 0
    assert L.reference_line_integral_score(px, py, (0, 1), (3, 1), 4) == (1.0, 0.25)


def test_line_integral_reference_matches_grouping_nearest():
    """``score_limbs(interpolation="nearest")`` keeps a pair when more than ``min_ratio`` of
    the samples are valid and the score is > 0; with ``min_ratio = 0`` every pair with a
    valid sample is kept with the reference's score."""
    for case in L._line_cases():
        px, py, a, b = case.args
        kw = {"num_samples": 10, "threshold": 0.05, **case.kwargs}
        score, frac = L.reference_line_integral_score(px, py, a, b, **kw)
        paf = np.stack([px, py])
        peaks = grouping.Peaks(np.array([a, b], np.float64), np.ones(2), np.array([0, 1]),
                               np.array([1, 1]))  # fmt: skip
        cands = grouping.score_limbs(paf, peaks, [(0, 1)], kw["num_samples"],
                                     min_paf=kw["threshold"], min_ratio=0.0,
                                     interpolation="nearest")  # fmt: skip
        if frac == 0:
            assert cands.score.size == 0
        else:
            assert cands.score.size == 1
            assert cands.score[0] == pytest.approx(score, abs=1e-5)


def test_line_cases_avoid_rounding_ties_and_threshold_ties():
    for case in L._line_cases():
        px, py, a, b = case.args
        n = case.kwargs.get("num_samples", 10)
        thr = case.kwargs.get("threshold", 0.05)
        pts = L._samples(np.array(a, float), np.array(b, float), n)
        frac = np.abs(pts - np.floor(pts) - 0.5)
        assert frac.min() > 0.01  # no sample halfway between two pixels
        d = np.array(b, float) - np.array(a, float)
        u = d / np.hypot(*d)
        idx = np.floor(pts + 0.5).astype(int)
        dots = px[idx[:, 1], idx[:, 0]] * u[0] + py[idx[:, 1], idx[:, 0]] * u[1]
        assert np.abs(dots - thr).min() > 1e-3


def test_greedy_reference_matches_grouping_and_differs_from_hungarian():
    rng = np.random.default_rng(3)
    differs = 0
    for _ in range(30):
        s = rng.uniform(0.1, 1, (4, 5))
        s[rng.uniform(size=s.shape) < 0.3] = -np.inf
        pairs = L.reference_greedy_match(s)
        i, j = np.nonzero(np.isfinite(s))
        order = np.lexsort((-s[i, j], np.zeros_like(i)))
        cands = grouping.Candidates(np.zeros(i.size, np.int64), i[order], 10 + j[order],
                                    s[i, j][order])  # fmt: skip
        kept = grouping.match_limbs(cands, "greedy")
        assert sorted(zip(kept.a.tolist(), (kept.b - 10).tolist(), strict=True)) == sorted(pairs)
        # scores taken in decreasing order
        taken = [s[p] for p in pairs]
        assert taken == sorted(taken, reverse=True)
        r, c = linear_sum_assignment(np.where(np.isfinite(s), s, 0), maximize=True)
        hung = sorted((a, b) for a, b in zip(r, c, strict=True) if np.isfinite(s[a, b]))
        differs += hung != sorted(pairs)
    assert differs > 0  # the two matchings are not the same thing
    assert L.reference_greedy_match(np.array([[0.9, 0.8], [0.7, -np.inf]])) == [(0, 0)]
    assert L.reference_greedy_match(np.array([[np.nan, 0.4]])) == [(0, 1)]
    assert L.reference_greedy_match(np.zeros((0, 2))) == []


def test_references_reject_bad_input():
    with pytest.raises(ValueError, match="scores"):
        L.reference_greedy_match(np.zeros(3))
    with pytest.raises(ValueError, match="paf_x"):
        L.reference_line_integral_score(np.zeros((3, 3)), np.zeros((3, 4)), (0, 0), (1, 1))
    with pytest.raises(ValueError, match="b:"):
        L.reference_line_integral_score(np.zeros((3, 3)), np.zeros((3, 3)), (0, 0), (5, 1))
    with pytest.raises(ValueError, match="num_samples"):
        L.reference_line_integral_score(np.zeros((3, 3)), np.zeros((3, 3)), (0, 0), (1, 1), 1)
    with pytest.raises(ValueError, match="a:"):
        L.reference_paf_limb_target((0, 0, 1), (1, 1), (4, 4), 1.0)
    with pytest.raises(ValueError, match="limb_width"):
        L.reference_paf_limb_target((0, 0), (1, 1), (4, 4), 0.0)


# --------------------------------------------------------------- classic mistakes


def _paf(**options):
    return lambda a, b, size, width: L._limb_field(a, b, size, width, **options)


def swapped_channels(a, b, map_size, limb_width):
    return paf_limb_target(a, b, map_size, limb_width)[::-1].copy()


def transposed(a, b, map_size, limb_width):
    w, h = map_size
    out = np.zeros((2, w, h), np.float32)
    xs, ys = np.meshgrid(np.arange(w), np.arange(h), indexing="ij")
    d = np.subtract(b, a)
    length = np.hypot(*d)
    u = d / length
    along = (xs - a[0]) * u[0] + (ys - a[1]) * u[1]
    across = np.abs((xs - a[0]) * u[1] - (ys - a[1]) * u[0])
    mask = (along >= 0) & (along <= length) & (across <= limb_width)
    out[0][mask], out[1][mask] = u
    return out


def divides_by_zero(a, b, map_size, limb_width):
    with np.errstate(all="ignore"):
        w, h = map_size
        d = np.subtract(b, a, dtype=float)
        u = d / np.hypot(*d)
        xs, ys = np.meshgrid(np.arange(w), np.arange(h))
        along = (xs - a[0]) * u[0] + (ys - a[1]) * u[1]
        across = np.abs((xs - a[0]) * u[1] - (ys - a[1]) * u[0])
        mask = (along >= 0) & (along <= np.hypot(*d)) & (across <= limb_width)
        if np.hypot(*d) == 0:
            mask[:] = True
        return np.stack([np.where(mask, u[0], 0), np.where(mask, u[1], 0)]).astype(np.float32)


@pytest.mark.parametrize(
    "wrong,hint",
    [
        (swapped_channels, "x and y are swapped"),
        (_paf(unit=False), "not normalised"),
        (_paf(sign=-1.0), "direction is reversed"),
        (_paf(ends="none"), "segment-end test is missing"),
        (_paf(ends="start"), "Only one end is tested"),
        (_paf(ends="capsule"), "distance to the segment"),
        (transposed, "Rows and columns are transposed"),
        (_paf(half=True), "half-width"),
        (divides_by_zero, "zero length"),
    ],
)
def test_paf_mistakes_fail_with_their_hint(wrong, hint, capsys):
    assert L.check_paf_limb_target(wrong).status == "FAIL"
    assert hint in capsys.readouterr().out


def _integral(**options):
    return lambda *args, **kw: L._line_integral(*args, **kw, **options)


def reads_x_y(paf_x, paf_y, a, b, num_samples=10, threshold=0.05):
    return line_integral_score(paf_x.T, paf_y.T, a, b, num_samples, threshold)


def mean_of_all(paf_x, paf_y, a, b, num_samples=10, threshold=0.05):
    a, b = np.array(a, float), np.array(b, float)
    u = (b - a) / np.linalg.norm(b - a)
    pts = np.round(a + np.linspace(0, 1, num_samples)[:, None] * (b - a)).astype(int)
    dots = paf_x[pts[:, 1], pts[:, 0]] * u[0] + paf_y[pts[:, 1], pts[:, 0]] * u[1]
    return dots.mean(), np.mean(dots > threshold)


@pytest.mark.parametrize(
    "wrong,hint",
    [
        (_integral(unit=False), "not normalised"),
        (reads_x_y, "paf[x, y]"),
        (_integral(read="channels"), "dotted (vy, vx)"),
        (mean_of_all, "averages all samples"),
        (_integral(ends="inner"), "ends are left out"),
        (_integral(ends="start"), "endpoint=False"),
        (_integral(rounding="trunc"), "truncated"),
    ],
)
def test_line_integral_mistakes_fail_with_their_hint(wrong, hint, capsys):
    assert L.check_line_integral_score(wrong).status == "FAIL"
    assert hint in capsys.readouterr().out


def hungarian(scores):
    s = np.where(np.isfinite(scores), scores, -1e6)
    if s.size == 0:
        return []
    r, c = linear_sum_assignment(s, maximize=True)
    return [(i, j) for i, j in zip(r, c, strict=True) if np.isfinite(scores[i, j])]


def ascending(scores):
    cands = sorted((scores[i, j], i, j) for i, j in zip(*np.nonzero(np.isfinite(scores)),
                                                         strict=True))  # fmt: skip
    used_a, used_b, pairs = set(), set(), []
    for _, i, j in cands:
        if i not in used_a and j not in used_b:
            pairs.append((i, j))
            used_a.add(i)
            used_b.add(j)
    return pairs


def row_argmax(scores):
    s = np.where(np.isnan(scores), -np.inf, scores)
    return [(i, int(np.argmax(s[i]))) for i in range(s.shape[0]) if np.isfinite(s[i]).any()]


def keeps_non_candidates(scores):
    s = np.nan_to_num(np.asarray(scores, float), nan=-np.inf)
    order = np.argsort(-s, axis=None, kind="stable")
    used_a, used_b, pairs = set(), set(), []
    for k in order:
        i, j = divmod(int(k), s.shape[1])
        if i not in used_a and j not in used_b:
            pairs.append((i, j))
            used_a.add(i)
            used_b.add(j)
    return pairs


@pytest.mark.parametrize(
    "wrong,hint",
    [
        (row_argmax, "Each j was matched more than once"),
        (L._argmax_cols, "Each i was matched more than once"),
        (hungarian, "Hungarian"),
        (L._hungarian, "Hungarian"),
        (ascending, "ascending order"),
        (keeps_non_candidates, "not a candidate"),
    ],
)
def test_matching_mistakes_fail_with_their_hint(wrong, hint, capsys):
    assert L.check_greedy_match(wrong).status == "FAIL"
    assert hint in capsys.readouterr().out


def test_a_non_list_answer_is_explained(capsys):
    assert L.check_greedy_match(lambda s: None).status == "FAIL"
    assert "returned None" in capsys.readouterr().out
    assert L.check_greedy_match(lambda s: "pairs").status == "FAIL"
    assert "list of (i, j) pairs" in capsys.readouterr().out


@pytest.mark.parametrize("name", ["paf_limb_target", "line_integral_score", "greedy_match"])
def test_use_falls_back_to_the_reference_for_a_stub(name, capsys):
    def stub(*args, **kwargs):
        raise NotImplementedError

    check = getattr(L, f"check_{name}")
    assert check(stub).status == "TODO"
    assert checks.use(stub, name) is getattr(L, f"reference_{name}")
    assert "reference" in capsys.readouterr().out


def test_use_keeps_a_passing_student_function():
    assert L.check_greedy_match(greedy_match).status == "PASS"
    assert checks.use(greedy_match, "greedy_match") is greedy_match
