"""posekit.checks against hostile student functions: hangs, odd exceptions, floods of output."""

import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from test_checks import CASES, check_flip, flip_keypoints, my_flip

import posekit.checks as checks
from posekit.checks import Case, check_close, check_raises, use

ROOT = Path(__file__).resolve().parents[1]
SLOW_S = 1.5  # a "hang" that ends, so that a test of the old code finishes
LIMIT = 0.3
FIRST = "[flip_keypoints] TIMEOUT case 1/3 (one person, 64 px wide)"


@pytest.fixture(autouse=True)
def clean_state(monkeypatch):
    monkeypatch.delenv("POSEKIT_CHECK_MODE", raising=False)
    monkeypatch.delenv("POSEKIT_CHECK_TIMEOUT", raising=False)
    checks.reset(references=True)
    yield
    checks.reset(references=True)


def slow_flip(keypoints, width, skeleton):
    time.sleep(SLOW_S)
    return my_flip(keypoints, width, skeleton)


def busy_flip(keypoints, width, skeleton):
    end = time.monotonic() + SLOW_S
    while time.monotonic() < end:
        pass
    return my_flip(keypoints, width, skeleton)


STUBBORN = threading.Event()


def stubborn_flip(keypoints, width, skeleton):
    end = time.monotonic() + SLOW_S
    while time.monotonic() < end and not STUBBORN.is_set():
        try:
            time.sleep(0.01)
        except BaseException:  # swallows posekit's request to stop
            pass
    return my_flip(keypoints, width, skeleton)


class BadStr(Exception):
    def __str__(self):
        raise RuntimeError("no message for you")


# ------------------------------------------------------------------------------- time limit


def test_a_slow_function_gives_a_timeout_line(capsys):
    start = time.monotonic()
    result = check_flip(slow_flip, timeout=LIMIT)
    assert time.monotonic() - start < SLOW_S
    assert (result.status, result.case, result.passed) == ("TIMEOUT", 1, 0)
    out = capsys.readouterr().out
    assert out.startswith(f"{FIRST}: your function did not return within 0.3 s\n")
    assert "input: flip_keypoints(array(1, 17, 3) float32, 64, 'coco17')" in out
    assert "it was at line" in out and "of slow_flip: time.sleep(SLOW_S)" in out
    assert "could not stop it (Python cannot kill a thread)" in out
    assert "keeps running in the background until you restart the kernel" in out


def test_a_busy_python_loop_is_stopped(capsys):
    before = threading.active_count()
    assert check_flip(busy_flip, timeout=LIMIT).status == "TIMEOUT"
    out = capsys.readouterr().out
    assert "of busy_flip: while time.monotonic() < end:" in out
    assert "posekit stopped it" in out and "could not stop" not in out
    assert threading.active_count() == before


def test_a_function_that_ignores_the_stop_is_reported_as_running(capsys):
    try:
        assert check_flip(stubborn_flip, timeout=LIMIT).status == "TIMEOUT"
        assert "posekit could not stop it" in capsys.readouterr().out
    finally:
        STUBBORN.set()


def test_the_limit_comes_from_the_environment_and_the_check_overrides_it(monkeypatch, capsys):
    monkeypatch.setenv("POSEKIT_CHECK_TIMEOUT", "0.2")
    assert check_flip(slow_flip).status == "TIMEOUT"
    assert "did not return within 0.2 s" in capsys.readouterr().out
    assert check_flip(my_flip).status == "PASS"
    monkeypatch.setenv("POSEKIT_CHECK_TIMEOUT", "120")
    assert check_flip(slow_flip, timeout=LIMIT).status == "TIMEOUT"


@pytest.mark.parametrize("value", ["soon", "-1", "nan"])
def test_a_bad_time_limit_is_a_clear_error(monkeypatch, value):
    monkeypatch.setenv("POSEKIT_CHECK_TIMEOUT", value)
    with pytest.raises(ValueError, match="POSEKIT_CHECK_TIMEOUT="):
        check_flip(my_flip)
    monkeypatch.delenv("POSEKIT_CHECK_TIMEOUT")
    with pytest.raises(ValueError, match="timeout="):
        check_flip(my_flip, timeout=-1)


@pytest.mark.parametrize("off", ["0", "off", "none", "inf"])
def test_no_limit_runs_the_function_in_the_calling_thread(monkeypatch, off):
    threads = []

    def flip(keypoints, width, skeleton):
        threads.append(threading.current_thread())
        return my_flip(keypoints, width, skeleton)

    monkeypatch.setenv("POSEKIT_CHECK_TIMEOUT", off)
    assert check_flip(flip).status == "PASS"
    assert threads == [threading.current_thread()] * 3


def test_the_worker_thread_keeps_numpy_settings():
    def divide(x):
        return x / 0

    with np.errstate(divide="raise"):
        result = checks.check_function(divide, "divide", [Case(np.ones(2), expected=np.ones(2))])
    assert "raised FloatingPointError" in result.message


def test_timeout_in_value_checks_and_raising_checks(capsys):
    kp = CASES[0].args[0]
    result = check_close("mean", 0.5, lambda: slow_flip(kp, 64, "coco17"), timeout=LIMIT)
    assert result.status == "TIMEOUT"
    assert capsys.readouterr().out.startswith(
        "[mean] TIMEOUT: your function did not return within 0.3 s"
    )
    bad = Case((kp, -1, "coco17"), label="negative width")
    result = check_raises(slow_flip, Exception, bad, name="flip_keypoints", timeout=LIMIT)
    assert result.status == "TIMEOUT"  # not a PASS although Exception was expected


@pytest.mark.parametrize(
    "mode, raises", [("student", False), ("strict", True), ("expect-todo", True)]
)
def test_timeout_and_the_modes(monkeypatch, capsys, mode, raises):
    monkeypatch.setenv("POSEKIT_CHECK_MODE", mode)
    if raises:
        with pytest.raises(AssertionError, match=f"POSEKIT_CHECK_MODE={mode}"):
            check_flip(slow_flip, timeout=LIMIT)
    else:
        check_flip(slow_flip, timeout=LIMIT)
    assert capsys.readouterr().out.startswith(FIRST)
    assert checks.get_result("flip_keypoints").status == "TIMEOUT"


def test_summary_lists_a_timeout_and_use_falls_back(capsys):
    check_flip(slow_flip, timeout=LIMIT)
    check_close("mean", 1.0, 1.0)
    capsys.readouterr()
    assert use(slow_flip, "flip_keypoints") is flip_keypoints
    assert "using posekit's reference flip_keypoints" in capsys.readouterr().out
    checks.summary()
    out = capsys.readouterr().out
    assert "flip_keypoints  TIMEOUT  case 1/3" in out
    assert out.strip().endswith("2 checks: 1 PASS, 0 FAIL, 0 TODO, 1 TIMEOUT")


def test_a_function_that_never_returns_does_not_block_the_notebook():
    """In a fresh interpreter, as a notebook would run it (guarded: the old code hangs)."""
    script = textwrap.dedent(
        """
        import sys
        sys.path.insert(0, "tests")
        from test_checks import check_flip
        from posekit.checks import use

        def flip(keypoints, width, skeleton):
            while True:
                pass

        check_flip(flip)
        use(flip, "flip_keypoints")
        print("the notebook goes on")
        """
    )
    env = {**os.environ, "POSEKIT_CHECK_TIMEOUT": "0.5", "POSEKIT_CHECK_MODE": "student"}
    try:
        run = subprocess.run(
            [sys.executable, "-c", script],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=30,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("the check of a function that never returns hung")
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith(f"{FIRST}: your function did not return within 0.5 s\n")
    assert run.stdout.endswith("the notebook goes on\n")


# ------------------------------------------------------------------------------ exceptions


def test_an_exception_whose_message_cannot_be_printed(capsys):
    def flip(keypoints, width, skeleton):
        raise BadStr()

    assert check_flip(flip).status == "FAIL"
    out = capsys.readouterr().out
    assert out.startswith(
        "[flip_keypoints] FAIL case 1/3 (one person, 64 px wide): your function raised BadStr "
        "(its message could not be printed)\n"
    )
    assert "of flip: raise BadStr()" in out
    assert check_close("mean", 0.5, lambda: flip(None, 0, None)).status == "FAIL"
    assert "raised BadStr (its message could not be printed)" in capsys.readouterr().out
    check_raises(flip, ValueError, CASES[0], name="flip_keypoints")
    assert "expected ValueError, but your function raised BadStr (its message could not" in (
        capsys.readouterr().out
    )


class BadRepr(float):
    def __repr__(self):
        raise RuntimeError("no repr for you")


def test_a_returned_value_that_cannot_be_printed(capsys):
    bad = Case(np.zeros((17, 2)), label="no v column")
    assert check_raises(lambda kp: BadRepr(1.5), ValueError, bad, name="v").status == "FAIL"
    assert (
        "this input should raise ValueError, but your function returned test_checks_hostile."
        "BadRepr" in capsys.readouterr().out
    )


def test_system_exit_and_other_base_exceptions_are_a_fail(capsys):
    def flip(keypoints, width, skeleton):
        sys.exit(3)

    assert check_flip(flip).status == "FAIL"
    assert "your function raised SystemExit: 3" in capsys.readouterr().out


# --------------------------------------------------------------------------------- output


def test_a_little_output_passes_through_before_the_status_line(capsys):
    def flip(keypoints, width, skeleton):
        print("shape", keypoints.shape)
        return my_flip(keypoints, width, skeleton)

    check_flip(flip)
    assert capsys.readouterr().out == (
        "shape (1, 17, 3)\nshape (3, 17, 3)\nshape (2, 17, 3)\n[flip_keypoints] PASS 3/3 cases\n"
    )


def test_the_status_line_starts_its_own_line(capsys):
    def flip(keypoints, width, skeleton):
        print(".", end="")
        return my_flip(keypoints, width, skeleton)

    check_flip(flip)
    assert capsys.readouterr().out == "...\n[flip_keypoints] PASS 3/3 cases\n"


def test_a_flood_of_lines_is_cut_and_the_status_line_stays_visible(capsys):
    def flip(keypoints, width, skeleton):
        for i in range(10_000):
            print("debug", i)
            print("to stderr", i, file=sys.stderr)
        return my_flip(keypoints, width, skeleton)

    check_flip(flip)
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert len(lines) + len(captured.err.splitlines()) == 20 + 2
    assert lines[:2] == ["debug 0", "debug 1"]
    assert lines[-2].startswith("(posekit cut what your function printed after 20 lines: ")
    assert "59,980 more lines" in lines[-2]
    assert lines[-1] == "[flip_keypoints] PASS 3/3 cases"


def test_one_huge_line_is_cut_too(capsys):
    def flip(keypoints, width, skeleton):
        print("x" * 1_000_000)
        return my_flip(keypoints, width, skeleton)

    check_flip(flip)
    first, note, status = capsys.readouterr().out.splitlines()
    assert first == "x" * 2000
    assert note.startswith("(posekit cut what your function printed after 2,000 characters: ")
    assert "2,998,003 more characters" in note
    assert status == "[flip_keypoints] PASS 3/3 cases"
