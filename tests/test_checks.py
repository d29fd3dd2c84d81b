"""posekit.checks: status lines, modes, diagnoses, use(), summary()."""

import functools
import sys

import numpy as np
import pytest

import posekit.checks as checks
from posekit.checks import Case, check_close, check_function, check_raises, diagnose, use
from posekit.checks.diagnose import DIAGNOSES
from posekit.skeletons import flip_keypoints, get_skeleton

PERM = get_skeleton("coco17").flip_permutation()
TODO_LINE = (
    "[flip_keypoints] TODO: the function still raises NotImplementedError — fill in the cell above"
)


@pytest.fixture(autouse=True)
def clean_state(monkeypatch):
    monkeypatch.delenv("POSEKIT_CHECK_MODE", raising=False)
    checks.reset(references=True)
    yield
    checks.reset(references=True)


def make_keypoints(n=1, seed=0, unlabelled=True):
    """(n, 17, 3) float32 keypoints in a 64x48 image, some unlabelled (0, 0, 0)."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(2, 60, (n, 17, 2))
    v = rng.integers(1, 3, (n, 17, 1))
    kp = np.concatenate([xy, v], axis=-1).astype(np.float32)
    if unlabelled:
        kp[:, 3] = 0
    return kp


CASES = [
    Case((make_keypoints(1, 0), 64, "coco17"), label="one person, 64 px wide"),
    Case((make_keypoints(3, 1), 64, "coco17"), label="three people"),
    Case((make_keypoints(2, 2), 97, "coco17"), label="odd width"),
]


def check_flip(fn, **kwargs):
    """What a lesson check looks like."""
    return check_function(
        fn,
        "flip_keypoints",
        CASES,
        reference=flip_keypoints,
        diagnoses=["xy_swapped", "half_pixel", "off_by_one", "flip_without_swap"],
        skeleton="coco17",
        **kwargs,
    )


def my_flip(keypoints, width, skeleton):
    """A student's right answer, written without posekit's flip_keypoints (the reference)."""
    perm = get_skeleton(skeleton).flip_permutation()
    kp = np.array(keypoints, dtype=np.float32, copy=True)
    labelled = kp[..., 2:] > 0
    kp[..., 0] = width - 1 - kp[..., 0]
    return np.where(labelled, kp, np.float32(0))[..., perm, :]


def forbidden_line(name, called):
    """The status line of a check whose student function ran posekit's own ``called``."""
    return (
        f"[{name}] FAIL: your function calls posekit's own {called} — the exercise is to write "
        "it yourself"
    )


def exercises(module):
    """The exercise names of a lesson check module: its ``check_<name>`` functions."""
    return {
        name.removeprefix("check_")
        for name, fn in vars(module).items()
        if name.startswith("check_") and getattr(fn, "__module__", None) == module.__name__
    }


def calls_the_reference(name):
    """A student's stub that hands the work to posekit's registered reference of ``name``
    (looked up when called: the check registers it before it runs the stub)."""

    def stub(*args, **kwargs):
        return checks.reference_for(name)(*args, **kwargs)

    return stub


def assert_forbidden(check, name, stub, called, capsys):
    """``check(stub)`` FAILs with the forbidden-call line naming ``called``; require fails."""
    result = check(stub)
    assert result.status == "FAIL" and result.hint is None and result.details == ()
    assert capsys.readouterr().out == forbidden_line(name, called) + "\n"
    with pytest.raises(AssertionError, match="FAIL: the check must PASS"):
        checks.require(name)


def forbidden_call_tests(module, solutions, posekit_stubs):
    """The three tests every lesson check module gets (unpack them into ``test_*`` names):
    the lesson's exercises are exactly ``solutions`` and ``posekit_stubs``' names; a stub that
    hands the work to posekit's reference FAILs; a stub calling the posekit function a student
    would import (``(name, stub, qualified name)`` rows of ``posekit_stubs``) FAILs."""

    def test_every_exercise_is_covered():
        assert exercises(module) == set(solutions) == {name for name, *_ in posekit_stubs}

    @pytest.mark.parametrize("name", sorted(solutions))
    def test_a_stub_calling_the_reference_fails(name, capsys):
        called = f"{module.__name__}.reference_{name}"
        check = getattr(module, f"check_{name}")
        assert_forbidden(check, name, calls_the_reference(name), called, capsys)
        assert_forbidden(check, name, getattr(module, f"reference_{name}"), called, capsys)

    @pytest.mark.parametrize(("name", "stub", "called"), posekit_stubs)
    def test_a_stub_calling_posekits_function_fails(name, stub, called, capsys):
        assert_forbidden(getattr(module, f"check_{name}"), name, stub, called, capsys)

    return (
        test_every_exercise_is_covered,
        test_a_stub_calling_the_reference_fails,
        test_a_stub_calling_posekits_function_fails,
    )


def stub(keypoints, width, skeleton):
    raise NotImplementedError("Exercise 0.1: flip_keypoints")


def flip_no_swap(keypoints, width, skeleton):
    kp = keypoints.copy()
    kp[..., 0] = np.where(kp[..., 2] > 0, width - 1 - kp[..., 0], 0)
    return kp


def flip_off_by_one(keypoints, width, skeleton):
    kp = flip_no_swap(keypoints, width, skeleton)
    kp[..., 0] = np.where(kp[..., 2] > 0, kp[..., 0] + 1, 0)
    return kp[..., PERM, :]


def flip_in_place(keypoints, width, skeleton):
    keypoints[..., 0] = np.where(keypoints[..., 2] > 0, width - 1 - keypoints[..., 0], 0)
    return keypoints[..., PERM, :]


# ---------------------------------------------------------------------------- status lines


def test_pass_prints_one_line_and_returns_result(capsys):
    result = check_flip(my_flip)
    assert capsys.readouterr().out == "[flip_keypoints] PASS 3/3 cases\n"
    assert (result.name, result.status, result.passed, result.total) == (
        "flip_keypoints",
        "PASS",
        3,
        3,
    )
    assert result.ok and result.hint is None and result.message.endswith("PASS 3/3 cases")


def test_todo_line(capsys):
    result = check_flip(stub)
    assert capsys.readouterr().out == TODO_LINE + "\n"
    assert result.status == "TODO" and result.passed == 0


def test_not_implemented_in_a_later_case_is_todo(capsys):
    def partial(keypoints, width, skeleton):
        if len(keypoints) > 1:
            raise NotImplementedError
        return my_flip(keypoints, width, skeleton)

    assert check_flip(partial).status == "TODO"


def test_fail_reports_first_failing_case_with_label_error_and_hint(capsys):
    def wrong_on_many_people(keypoints, width, skeleton):
        out = my_flip(keypoints, width, skeleton)
        return out if len(out) == 1 else out[..., PERM, :]

    result = check_flip(wrong_on_many_people)
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].startswith("[flip_keypoints] FAIL case 2/3 (three people): values differ")
    assert "max abs error" in lines[0]
    assert all(line.startswith("    ") for line in lines[1:])
    assert "input: flip_keypoints(array(3, 17, 3) float32, 64, 'coco17')" in out
    assert "expected[" in out and "got[" in out
    assert "hint: Your points are mirrored, but left and right joints were not swapped" in out
    assert (result.status, result.passed, result.case) == ("FAIL", 1, 2)
    assert "left and right" in result.hint


def test_max_abs_error_value_is_reported(capsys):
    def shifted(keypoints, width, skeleton):
        out = my_flip(keypoints, width, skeleton)
        out[0, 0, 1] += 7.25
        return out

    check_flip(shifted)
    assert "max abs error 7.25 at [0, 0, 1] (1 of 51 values wrong)" in capsys.readouterr().out


def test_exception_in_student_code_is_reported_briefly(capsys):
    def crashes(keypoints, width, skeleton):
        return keypoints[:, 40]

    result = check_flip(crashes)
    out = capsys.readouterr().out
    assert result.status == "FAIL"
    assert "your function raised IndexError: index 40 is out of bounds" in out.splitlines()[0]
    assert "at line" in out and "of crashes: return keypoints[:, 40]" in out
    assert "Traceback" not in out


def test_shape_mismatch_names_both_shapes(capsys):
    check_flip(lambda kp, w, s: my_flip(kp, w, s)[0])
    out = capsys.readouterr().out
    assert "wrong shape: expected (1, 17, 3), got (17, 3)" in out
    assert "hint: You dropped the leading batch axis" in out


def test_dtype_rules(capsys):
    as_float64 = lambda kp, w, s: my_flip(kp, w, s).astype(np.float64)  # noqa: E731
    assert check_flip(as_float64).status == "PASS"
    check_flip(as_float64, dtype="exact")
    assert "wrong dtype: expected float32, got float64" in capsys.readouterr().out
    check_flip(lambda kp, w, s: my_flip(kp, w, s).astype(int))
    assert "wrong dtype: expected a float array (float32), got int64" in capsys.readouterr().out


def test_wrong_type_none_and_nan(capsys):
    check_flip(lambda kp, w, s: my_flip(kp, w, s).tolist())
    assert "wrong type: expected a numpy array, got list" in capsys.readouterr().out
    check_flip(lambda kp, w, s: None)
    assert "returned None: did you forget the `return` line?" in capsys.readouterr().out
    check_flip(lambda kp, w, s: my_flip(kp, w, s) * np.nan)
    assert "your output contains NaN (51 of 51 values" in capsys.readouterr().out


def test_passing_the_result_instead_of_the_function(capsys):
    result = check_flip(my_flip(*CASES[0].args))
    assert result.status == "FAIL"
    assert "pass the function itself" in capsys.readouterr().out


def test_input_mutation_is_detected_and_cannot_corrupt_cases(capsys):
    before = [c.args[0].copy() for c in CASES]
    result = check_flip(flip_in_place)
    out = capsys.readouterr().out
    assert result.status == "FAIL"
    assert (
        "FAIL case 1/3 (one person, 64 px wide): your function modified its input keypoints" in out
    )
    assert "keypoints = keypoints.copy()" in out
    assert all(np.array_equal(b, c.args[0]) for b, c in zip(before, CASES, strict=True))
    assert check_flip(flip_in_place, allow_mutation=True).status == "PASS"


def test_wrong_answer_and_mutation_reports_values_with_a_note(capsys):
    def both(keypoints, width, skeleton):
        keypoints += 1
        return keypoints

    check_flip(both)
    out = capsys.readouterr().out
    assert "values differ" in out and "note: your function also modified its input" in out


def test_case_forms_expected_and_nested_outputs(capsys):
    assert Case(np.zeros(2)).args[0].shape == (2,)
    zero_d = [Case(2.0, expected=np.asarray(4.0))]
    assert check_function(lambda x: x * 2, "zero_d", zero_d).status == "PASS"
    cases = [Case(2.0, expected=(4.0, {"half": 1.0}))]
    assert check_function(lambda x: (x * 2, {"half": x / 2}), "pair", cases).status == "PASS"
    check_function(lambda x: [x * 2, {"half": x}], "pair", cases)
    assert "output[1]['half']: expected 1, got 2 (abs error 1)" in capsys.readouterr().out
    with pytest.raises(ValueError, match="no expected value and no reference"):
        check_function(lambda x: x, "broken", [Case(1.0)])


def test_custom_compare():
    def same_set(expected, got):
        return None if sorted(got) == sorted(expected) else "wrong set"

    cases = [Case([3, 1, 2], expected=[1, 2, 3])]
    assert check_function(lambda x: x, "as_set", cases, compare=same_set).status == "PASS"
    assert check_function(lambda x: x[:2], "as_set", cases, compare=same_set).status == "FAIL"


def test_torch_tensors_are_compared_and_diagnosed(capsys):
    torch = pytest.importorskip("torch")

    def reference(points):
        return points * 2

    cases = [Case(torch.tensor([[1.0, 2.0], [3.0, 5.0]]))]

    def check_double(fn):
        return check_function(fn, "double", cases, reference=reference, diagnoses=["xy_swapped"])

    assert check_double(lambda p: p + p).status == "PASS"
    check_double(lambda p: (p * 2)[:, [1, 0]])
    assert "hint: It looks like x and y are swapped" in capsys.readouterr().out
    check_double(lambda p: (p * 2).numpy())
    assert "expected a torch.Tensor, got numpy.ndarray" in capsys.readouterr().out
    check_close("total", 22.0, lambda: torch.tensor(22.0))
    assert "(use .item())" in capsys.readouterr().out


# ----------------------------------------------------------------------------------- modes


def outcome_fn(outcome):
    return {"PASS": my_flip, "FAIL": flip_no_swap, "TODO": stub}[outcome]


@pytest.mark.parametrize(
    "mode, raising",
    [
        ("student", ()),
        ("strict", ("FAIL", "TODO")),
        ("expect-todo", ("PASS", "FAIL")),
    ],
)
@pytest.mark.parametrize("outcome", ["PASS", "FAIL", "TODO"])
def test_modes(monkeypatch, capsys, mode, raising, outcome):
    monkeypatch.setenv("POSEKIT_CHECK_MODE", mode)
    if outcome in raising:
        with pytest.raises(AssertionError, match=f"POSEKIT_CHECK_MODE={mode}"):
            check_flip(outcome_fn(outcome))
    else:
        assert check_flip(outcome_fn(outcome)).status == outcome
    out = capsys.readouterr().out
    assert out.startswith(f"[flip_keypoints] {outcome}")  # printed before raising
    assert checks.get_result("flip_keypoints").status == outcome  # recorded before raising


def test_mode_is_read_at_call_time(monkeypatch):
    check_flip(stub)
    monkeypatch.setenv("POSEKIT_CHECK_MODE", "strict")
    with pytest.raises(AssertionError):
        check_flip(stub)
    monkeypatch.setenv("POSEKIT_CHECK_MODE", "nonsense")
    with pytest.raises(ValueError, match="not a check mode"):
        check_flip(my_flip)


def test_value_checks_follow_the_modes_too(monkeypatch, capsys):
    assert check_close("mean", 0.5, 0.5).status == "PASS"
    assert capsys.readouterr().out == "[mean] PASS\n"
    monkeypatch.setenv("POSEKIT_CHECK_MODE", "strict")
    with pytest.raises(AssertionError):
        check_close("mean", 0.5, 0.75, label="mean of 4 values")
    assert "[mean] FAIL (mean of 4 values): expected 0.5, got 0.75" in capsys.readouterr().out
    monkeypatch.setenv("POSEKIT_CHECK_MODE", "expect-todo")
    assert check_close("mean", 0.5, ...).status == "TODO"
    assert check_close("mean", 0.5, lambda: stub(None, 0, None)).status == "TODO"
    assert "[mean] TODO: the function still raises NotImplementedError" in capsys.readouterr().out


def test_check_close_diagnoses_and_errors(capsys):
    check_close("angle", 90.0, np.pi / 2, diagnoses=["degrees_radians"])
    assert "look like radians, but degrees are expected" in capsys.readouterr().out
    check_close("angle", 90.0, lambda: 1 / 0)
    assert "[angle] FAIL: your function raised ZeroDivisionError" in capsys.readouterr().out


# ------------------------------------------------------------------------------ raising


def test_raises_cases(capsys):
    def validate(kp):
        if kp.shape[-1] != 3:
            raise ValueError("need (x, y, v)")
        return kp

    bad = Case(np.zeros((17, 2)), label="no v column")
    assert check_raises(validate, ValueError, bad).status == "PASS"
    assert capsys.readouterr().out == "[validate] PASS 1/1 cases\n"
    check_raises(lambda kp: kp, ValueError, [bad], name="validate")
    assert "this input should raise ValueError, but your function returned" in (
        capsys.readouterr().out
    )
    check_raises(lambda kp: kp[99], ValueError, bad, name="validate")
    assert "expected ValueError, but your function raised IndexError" in capsys.readouterr().out
    assert check_raises(lambda kp: stub(kp, 0, 0), ValueError, bad, name="v").status == "TODO"
    mixed = [Case(np.zeros((17, 3))), Case(bad.args, raises=ValueError)]
    assert check_function(validate, "mixed", mixed, reference=lambda kp: kp).status == "PASS"


# ------------------------------------------------------------------------------- diagnoses


def keypoint_mistakes():
    """(diagnosis that must fire, expected, got) built from labelled/unlabelled keypoints."""
    kp = make_keypoints(2, seed=5)
    labelled = kp[..., 2:] > 0

    def coords(a, fn):
        out = a.copy()
        out[..., :2] = np.where(labelled, fn(a[..., :2]), a[..., :2])
        return out

    moved = kp.copy()
    moved[:, 3, 0] = 63.0
    relabelled = kp.copy()
    relabelled[..., 2] = np.where(kp[..., 2] == 2, 1, kp[..., 2])
    mistakes = [
        ("xy_swapped", kp, kp[..., [1, 0, 2]]),
        ("hw_transposed", kp, np.swapaxes(kp, -1, -2)),
        ("half_pixel", kp, coords(kp, lambda xy: xy + 0.5)),
        ("off_by_one", kp, coords(kp, lambda xy: xy - 1)),
        ("flip_without_swap", kp, kp[..., PERM, :]),
        ("degrees_radians", kp, np.deg2rad(kp)),
        ("sign_flipped", kp, -kp),
        ("visibility_dropped", kp, relabelled),
        ("unlabelled_moved", kp, moved),
        ("wrong_scale", kp, coords(kp, lambda xy: xy * 4)),
        ("rounded", kp, np.floor(kp)),
        ("batch_dim", kp[:1], kp[0]),
    ]
    return [pytest.param(*m, id=m[0]) for m in mistakes]


CTX = dict(skeleton="coco17", atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("name, expected, got", keypoint_mistakes())
def test_each_diagnosis_fires_on_its_mistake_only(name, expected, got):
    assert DIAGNOSES[name](expected.astype(float), got.astype(float), **CTX), name
    others = [n for n in DIAGNOSES if n != name]
    fired = [n for n in others if DIAGNOSES[n](expected.astype(float), got.astype(float), **CTX)]
    assert fired == [], f"{fired} also fired on a {name} answer"


@pytest.mark.parametrize("name", sorted(DIAGNOSES))
def test_no_diagnosis_fires_on_noise_or_a_right_answer(name):
    kp = make_keypoints(2, seed=7).astype(float)
    noisy = kp + np.random.default_rng(0).normal(0, 3, kp.shape)
    assert DIAGNOSES[name](kp, noisy, **CTX) is None
    assert DIAGNOSES[name](kp, kp.copy(), **CTX) is None


def test_more_diagnosis_forms():
    angles = np.array([0.3, -1.2, 2.0])
    assert "degrees, but radians" in diagnose(angles, np.rad2deg(angles), ["degrees_radians"])
    image = np.random.default_rng(0).random((4, 6, 3))
    hint = diagnose(image, image.transpose(1, 0, 2), ["hw_transposed"])
    assert "H×W transpose" in hint
    square = np.arange(16.0).reshape(4, 4)
    assert "H×W transpose" in diagnose(square, square.T, ["hw_transposed"])
    heatmaps = np.random.default_rng(1).random((1, 17, 8, 8))
    assert "not swapped" in diagnose(
        heatmaps, heatmaps[:, PERM], ["flip_without_swap"], flip_permutation=PERM
    )
    kp = make_keypoints(1)
    assert "only (x, y)" in diagnose(kp, kp[..., :2], ["visibility_dropped"])
    assert diagnose(kp, kp[..., PERM, :], ["flip_without_swap"]) is None  # no skeleton given
    assert diagnose("a", "b", ["xy_swapped"]) is None


def test_custom_and_failing_diagnoses():
    def broken(expected, got, **ctx):
        raise RuntimeError("bug in a hint")

    def always(expected, got, **ctx):
        return "custom hint"

    assert diagnose(np.ones(2), np.zeros(2), [broken, always]) == "custom hint"
    with pytest.raises(KeyError, match="unknown diagnosis 'nope'"):
        diagnose(np.ones(2), np.zeros(2), ["nope"])
    with pytest.raises(KeyError, match="unknown diagnosis"):
        check_function(lambda x: x, "f", [Case(1.0, expected=1.0)], diagnoses=["nope"])


def test_registered_diagnosis_is_usable_by_name(capsys):
    @checks.register_diagnosis("test_doubled")
    def doubled(expected, got, **ctx):
        return "doubled!" if np.allclose(got, 2 * expected) else None

    try:
        check_function(
            lambda x: 2 * x, "ident", [Case(3.0, expected=3.0)], diagnoses=["test_doubled"]
        )
        assert "hint: doubled!" in capsys.readouterr().out
    finally:
        del DIAGNOSES["test_doubled"]


def test_check_end_to_end_hints(capsys):
    check_flip(flip_off_by_one)
    assert "hint: Your result is off by exactly 1" in capsys.readouterr().out


# --------------------------------------------------------------------------- use / summary


def test_use_passes_the_students_function_through_after_a_pass(capsys):
    check_flip(my_flip)
    capsys.readouterr()

    def mine(keypoints, width, skeleton):
        return my_flip(keypoints, width, skeleton)

    check_flip(mine)
    capsys.readouterr()
    assert use(mine, "flip_keypoints") is mine
    assert capsys.readouterr().out == ""


def test_use_falls_back_to_the_reference(capsys):
    check_flip(flip_no_swap)
    capsys.readouterr()
    assert use(flip_no_swap, "flip_keypoints") is flip_keypoints
    assert capsys.readouterr().out == (
        "(using posekit's reference flip_keypoints so the rest of the lesson runs)\n"
    )
    check_flip(stub)
    assert use(stub, "flip_keypoints") is flip_keypoints


def test_use_without_a_check_run_and_without_a_reference(capsys):
    def flip_points(x):
        return x

    checks.register_reference("flip_points", flip_keypoints)
    assert use(flip_points) is flip_keypoints  # never checked: not passed, nothing run
    assert "using posekit's reference flip_points" in capsys.readouterr().out
    with pytest.raises(LookupError, match="no reference implementation registered for 'nope'"):
        use(flip_points, "nope")


def test_lesson_modules_are_reachable_as_attributes():
    with pytest.raises(AttributeError):
        checks.lesson99  # noqa: B018


def test_summary_table_and_totals(capsys):
    check_flip(my_flip)
    check_close("mean", 1.0, 2.0)
    check_close("todo", 1.0, ...)
    capsys.readouterr()
    results = checks.summary(names=["flip_keypoints", "later"])
    out = capsys.readouterr().out
    assert [r.status for r in results] == ["PASS", "FAIL", "TODO"]
    assert "flip_keypoints  PASS  3/3 cases" in out
    assert "mean            FAIL" in out and "later           not run" in out
    assert out.strip().endswith("3 checks: 1 PASS, 1 FAIL, 1 TODO, 1 not run")


def test_summary_keeps_latest_result_and_reset_clears(capsys):
    check_flip(stub)
    check_flip(my_flip)
    assert [r.status for r in checks.summary()] == ["PASS"]
    checks.reset()
    assert checks.summary() == []
    assert "none run yet" in capsys.readouterr().out
    assert checks.reference_for("flip_keypoints") is flip_keypoints  # kept by reset()
    checks.reset(references=True)
    with pytest.raises(LookupError):
        checks.reference_for("flip_keypoints")


def test_require_raises_unless_the_latest_check_passed(capsys):
    with pytest.raises(AssertionError, match=r"\[flip_keypoints\] the check was not run"):
        checks.require("flip_keypoints")
    check_flip(stub)
    with pytest.raises(AssertionError, match=r"\[flip_keypoints\] TODO: the check must PASS"):
        checks.require("flip_keypoints")
    check_flip(flip_no_swap)
    with pytest.raises(AssertionError, match=r"\[flip_keypoints\] FAIL: the check must PASS"):
        checks.require("flip_keypoints")
    check_flip(my_flip)
    assert checks.require("flip_keypoints").status == "PASS"


# --------------------------------------------------------- calling posekit's own implementation


def test_a_stub_calling_the_reference_fails_whatever_the_alias(capsys):
    from posekit import skeletons
    from posekit.skeletons import flip_keypoints as renamed

    called = "posekit.skeletons.flip_keypoints"
    for fn in (
        flip_keypoints,
        lambda kp, w, s: skeletons.flip_keypoints(kp, w, s),
        lambda kp, w, s: renamed(kp.copy(), w, s),
        functools.partial(flip_keypoints),
        calls_the_reference("flip_keypoints"),
    ):
        assert_forbidden(check_flip, "flip_keypoints", fn, called, capsys)
    assert sys.getprofile() is None  # the hook is gone after the check


def test_a_thread_pool_or_switching_the_watch_off_does_not_hide_the_call(capsys):
    import threading
    from concurrent.futures import ThreadPoolExecutor

    def via_pool(kp, w, s):
        with ThreadPoolExecutor(1) as pool:
            return pool.submit(flip_keypoints, kp, w, s).result()

    def mine_via_pool(kp, w, s):
        with ThreadPoolExecutor(1) as pool:
            return pool.submit(my_flip, kp, w, s).result()

    def watch_off(kp, w, s):
        sys.setprofile(None)
        return flip_keypoints(kp, w, s)

    assert_forbidden(
        check_flip, "flip_keypoints", via_pool, "posekit.skeletons.flip_keypoints", capsys
    )
    assert check_flip(watch_off).status == "FAIL"
    assert capsys.readouterr().out == (
        "[flip_keypoints] FAIL: your function switched off the check's watch for posekit's own "
        "implementation (sys.setprofile) — the exercise is to write it yourself\n"
    )
    assert check_flip(mine_via_pool).status == "PASS"  # a thread pool itself is fine
    assert sys.getprofile() is None and threading.getprofile() is None


def test_the_forbidden_call_fails_in_every_mode(monkeypatch, capsys):
    def cheat(keypoints, width, skeleton):
        return flip_keypoints(keypoints, width, skeleton)

    line = forbidden_line("flip_keypoints", "posekit.skeletons.flip_keypoints")
    monkeypatch.setenv("POSEKIT_CHECK_MODE", "strict")
    with pytest.raises(AssertionError, match="your function calls posekit's own"):
        check_flip(cheat)
    monkeypatch.setenv("POSEKIT_CHECK_MODE", "expect-todo")
    with pytest.raises(AssertionError, match="student notebook must still hold a stub"):
        check_flip(cheat)
    monkeypatch.setenv("POSEKIT_CHECK_MODE", "student")
    assert check_flip(cheat).status == "FAIL"
    assert capsys.readouterr().out.endswith(line + "\n")
    assert checks.get_result("flip_keypoints").message == line
    with pytest.raises(AssertionError, match=r"\[flip_keypoints\] FAIL: the check must PASS"):
        checks.require("flip_keypoints")
    assert use(cheat, "flip_keypoints") is flip_keypoints


def test_catching_posekits_stop_does_not_help(capsys):
    def sly(keypoints, width, skeleton):
        try:
            return flip_keypoints(keypoints, width, skeleton)
        except BaseException:
            return my_flip(keypoints, width, skeleton)

    called = "posekit.skeletons.flip_keypoints"
    assert_forbidden(check_flip, "flip_keypoints", sly, called, capsys)


def test_a_later_case_and_a_raising_case_are_watched_too(capsys):
    def only_for_many(keypoints, width, skeleton):
        if len(keypoints) > 1:
            return flip_keypoints(keypoints, width, skeleton)
        return my_flip(keypoints, width, skeleton)

    result = check_flip(only_for_many)
    assert (result.status, result.case, result.passed) == ("FAIL", 2, 1)
    assert "posekit.skeletons.flip_keypoints" in capsys.readouterr().out

    def validate(kp):
        if kp.shape[-1] != 3:
            raise ValueError("need (x, y, v)")
        return kp

    checks.register_reference("validate", validate)
    bad = Case(np.zeros((17, 2)))
    check_raises(lambda kp: validate(kp), ValueError, bad, name="validate")
    assert forbidden_line("validate", f"{__name__}.{validate.__qualname__}") in (
        capsys.readouterr().out
    )


@pytest.mark.parametrize("timeout", [None, 0])
def test_the_hook_watches_only_the_students_call(timeout, capsys):
    """The reference may use the forbidden helper to compute the expected values; the hook
    runs in the thread of the student's call (the calling thread without a time limit) and
    is removed after it, restoring a profile function that was there."""
    calls = []

    def helper(kp):
        calls.append(1)
        return kp[..., ::-1].copy()

    def reference(kp):
        return helper(kp) * 2

    def check(fn):
        return check_function(
            fn, "mirror2", [Case(np.arange(6.0).reshape(2, 3))], reference=reference,
            forbid=(helper,), timeout=timeout,
        )  # fmt: skip

    previous = lambda frame, event, arg: None  # noqa: E731
    sys.setprofile(previous)
    try:
        assert check(lambda kp: kp[..., ::-1] * 2).status == "PASS"
        assert calls == [1]  # the reference ran its helper, unwatched
        assert sys.getprofile() is previous
        result = check(lambda kp: helper(kp) * 2)
        assert sys.getprofile() is previous
    finally:
        sys.setprofile(None)
    assert calls == [1, 1]  # the student's call of helper was stopped at its start
    assert result.message == forbidden_line("mirror2", f"{__name__}.{helper.__qualname__}")


def test_forbid_unwraps_wrappers_methods_and_modules(capsys):
    torch = pytest.importorskip("torch")

    class Double(torch.nn.Module):
        def forward(self, x):
            return x * 2

    class Scaler:
        def scale(self, x, k=2.0):
            return x * k

        @staticmethod
        def twice(x):
            return x * 2

    def core(x):
        return x * 2

    @functools.wraps(core)
    def wrapped(x):
        return core(x)

    cases = [Case(torch.arange(4.0))]
    forbid = (Double, functools.partial(Scaler().scale, k=2.0), Scaler.twice, wrapped)

    def check(fn):
        return check_function(fn, "double2", cases, reference=lambda x: x + x, forbid=forbid)

    for fn, called in [
        (lambda x: Double()(x), "Double.forward"),
        (lambda x: Scaler().scale(x), "Scaler.scale"),
        (lambda x: Scaler.twice(x), "Scaler.twice"),
        (lambda x: core(x), "core"),  # the function functools.wraps wrapped
    ]:
        result = check(fn)
        assert result.status == "FAIL", called
        assert result.message.endswith(f"{called} — the exercise is to write it yourself"), (
            result.message
        )
    capsys.readouterr()
    assert check(lambda x: x * 2).status == "PASS"
    assert check(lambda x: torch.nn.functional.relu(x) * 2).status == "PASS"  # torch is fine
