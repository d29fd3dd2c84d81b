"""Exercise checks: run a student's function on cases, print one status line, obey the mode.

Status lines (details indented 4 spaces below a FAIL)::

    [flip_keypoints] PASS 4/4 cases
    [flip_keypoints] FAIL case 2/4 (one person, 64 px wide): values differ: max abs error ...
    [flip_keypoints] TODO: the function still raises NotImplementedError — fill in the cell above
    [flip_keypoints] TIMEOUT case 1/4 (one person, 64 px wide): your function did not return ...

Modes (``POSEKIT_CHECK_MODE``, read when a check runs): ``student`` prints and never raises;
``strict`` raises ``AssertionError`` unless PASS; ``expect-todo`` raises unless TODO.

Hostile functions: each call of the student's function may take ``timeout`` seconds (default
``POSEKIT_CHECK_TIMEOUT``, else 30; 0 or ``off``: no limit). It runs in a daemon thread and the
check waits for it (``signal.alarm`` would need the main thread and could not wait out a
function stuck in C code). Python cannot kill a thread: on TIMEOUT posekit asks it to stop
(which ends a pure-Python loop) and says whether it is still running. What the function prints
is shown up to 20 lines / 2000 characters, then cut with a note, so the status line stays in
view; any exception it raises, even one whose message cannot be printed, is a FAIL.

Calling posekit's own implementation: while the student's function runs a case (and only
then), a profile hook on its thread (``sys.setprofile``) watches for the code of the check's
reference and of the posekit functions it stands for (``check_function(..., forbid=...)``).
Code objects are compared, so any alias or import path is caught. The first such call stops
the function and the check FAILs: ``[name] FAIL: your function calls posekit's own
posekit.skeletons.flip_keypoints — the exercise is to write it yourself``.
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
import ctypes
import dataclasses
import functools
import inspect
import math
import os
import sys
import threading
import traceback
import types
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from posekit.checks._compare import (
    DTYPE_RULES,
    Mismatch,
    compare,
    format_call,
    format_value,
    is_numeric,
    same,
    to_numpy,
    type_name,
)
from posekit.checks.diagnose import DEFAULT_DIAGNOSES, Diagnosis, diagnose, resolve_diagnoses
from posekit.config import check_mode

PASS, FAIL, TODO, TIMEOUT = "PASS", "FAIL", "TODO", "TIMEOUT"
DEFAULT_TIMEOUT_S = 30.0
MAX_OUTPUT_LINES, MAX_OUTPUT_CHARS = 20, 2000
_STOP_WAIT_S = 0.2  # how long a stopped thread gets to end
TODO_TEXT = "the function still raises NotImplementedError — fill in the cell above"
INDENT = "    "


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


@dataclass
class Case:
    """One input of a check: the function is called as ``fn(*args, **kwargs)``.

    Attributes:
        args: positional arguments; a value that is not a tuple is the only argument.
        kwargs: keyword arguments.
        label: a few words shown on FAIL, e.g. ``"one person, 64 px wide"``.
        expected: the expected output; by default the check's reference computes it.
        raises: an exception type (or tuple) the function must raise on this input.
        ctx: extra context for the diagnoses of this case (e.g. ``skeleton="mpii16"``).
    """

    args: Any = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    label: str = ""
    expected: Any = MISSING
    raises: type[BaseException] | tuple[type[BaseException], ...] | None = None
    ctx: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.args, tuple):
            self.args = (self.args,)


@dataclass
class CheckResult:
    """Outcome of one check.

    Attributes:
        name: the checked exercise, e.g. ``"flip_keypoints"``.
        status: ``"PASS"``, ``"FAIL"``, ``"TODO"`` or ``"TIMEOUT"``.
        passed: cases passed before the first failure (all of them on PASS).
        total: number of cases.
        message: the status line as printed.
        hint: the diagnosed mistake, if one was recognised.
        details: the indented lines printed under a FAIL (input, expected, got...).
        case: 1-based index of the failing case (``None`` unless FAIL/TIMEOUT on a case).
    """

    name: str
    status: str
    passed: int
    total: int
    message: str
    hint: str | None = None
    details: tuple[str, ...] = ()
    case: int | None = None

    @property
    def ok(self) -> bool:
        return self.status == PASS

    def report(self) -> str:
        """The printed text: the status line, then details and hint, indented."""
        lines = [self.message, *(INDENT + d for d in self.details)]
        if self.hint:
            lines.append(f"{INDENT}hint: {self.hint}")
        return "\n".join(lines)

    __str__ = report

    def _ipython_display_(self) -> None:
        """Already printed by the check: show nothing when it ends a notebook cell."""


class CheckResults(list):
    """The list ``summary()`` returns (silent when it ends a notebook cell)."""

    def _ipython_display_(self) -> None:
        """Already printed by ``summary()``."""


@dataclass
class _State:
    results: dict[str, CheckResult] = field(default_factory=dict)
    references: dict[str, Callable] = field(default_factory=dict)


_STATE = _State()


@dataclass
class _Failure:
    reason: str
    details: list[str] = field(default_factory=list)
    hint: str | None = None
    status: str = FAIL
    bare: bool = False  # the status line names no case: ``[name] FAIL: reason``


@dataclass
class _TimedOut:
    """What ``_call`` returns when the student's function did not return in time."""

    seconds: float
    where: str | None
    stopped: bool


@dataclass
class _Settings:
    atol: float
    rtol: float
    dtype: str
    compare: Callable[[Any, Any], str | None] | None
    allow_mutation: bool
    diagnoses: list[Diagnosis]
    ctx: dict[str, Any]
    timeout: float | None = None
    guard: _Guard | None = None


# ------------------------------------------------------------------------------ public API


def check_function(
    fn: Callable,
    name: str,
    cases: Sequence[Case],
    *,
    reference: Callable | None = None,
    diagnoses: Iterable[str | Diagnosis] = (),
    atol: float = 1e-4,
    rtol: float = 1e-4,
    dtype: str = "kind",
    compare: Callable[[Any, Any], str | None] | None = None,
    allow_mutation: bool = False,
    timeout: float | None = None,
    forbid: Iterable[Callable] = (),
    **ctx: Any,
) -> CheckResult:
    """Check a student's ``fn`` on ``cases`` (smallest first) and print one status line.

    The exercise is to write the function, so ``fn`` must not run posekit's own
    implementation: if, while ``fn`` runs a case, the reference (``reference``, or the one
    registered for ``name``) or one of ``forbid`` runs inside it, the check FAILs with
    ``[name] FAIL: your function calls posekit's own <function> — the exercise is to write
    it yourself`` (in every mode; ``require(name)`` then fails too). A profile hook on the
    thread that runs ``fn`` compares code objects, so aliases and import paths do not
    matter; the reference computing the expected values is not watched.

    Args:
        fn: the student's function.
        name: the exercise name, used in the status line, ``use()`` and ``summary()``.
        cases: ``Case`` objects, run in order; the first failing one is reported.
        reference: posekit's implementation; computes each case's expected output (unless
            the case gives ``expected``) and is registered for ``use(fn, name)``.
        diagnoses: names (see ``posekit.checks.diagnose``) or functions tried on a wrong
            answer, in order; ``batch_dim`` is always tried last.
        atol, rtol: tolerances of ``np.isclose(got, expected)``.
        dtype: ``"kind"`` (same kind of number, default), ``"exact"`` or ``"any"``.
        compare: optional ``(expected, got) -> reason | None`` replacing the built-in
            comparison (e.g. when any order of the results is right).
        allow_mutation: accept a function that modifies its inputs (e.g. a training step).
        timeout: seconds one call of ``fn`` may take (default ``POSEKIT_CHECK_TIMEOUT``, else
            30; 0: no limit, ``fn`` then runs in the calling thread). A function still running
            then gives TIMEOUT; Python cannot kill it, posekit only asks it to stop.
        forbid: posekit functions that do the exercise's work besides the reference (when
            the reference is a thin wrapper, the public function it wraps): functions,
            methods, ``functools.partial``/``functools.wraps`` wrappers, or ``nn.Module``
            classes (their ``forward``).
        **ctx: context for the diagnoses (``skeleton="coco17"``, ``coord_dims=2``...).
    Returns:
        the ``CheckResult`` (also printed, recorded for ``summary()`` and ``use()``).
    Raises:
        AssertionError: in ``strict`` mode unless PASS, in ``expect-todo`` mode unless TODO.
        ValueError: a bad ``timeout`` or ``POSEKIT_CHECK_TIMEOUT``.
    """
    mode = check_mode()
    cases = list(cases)
    if not cases:
        raise ValueError(f"check {name!r}: no cases")
    if dtype not in DTYPE_RULES:
        raise ValueError(f"check {name!r}: dtype={dtype!r}; use one of {DTYPE_RULES}")
    registered = _STATE.references.get(name)
    if reference is not None:
        register_reference(name, reference)
    guard = _Guard.of([reference, registered, *forbid])
    settings = _Settings(
        atol=atol,
        rtol=rtol,
        dtype=dtype,
        compare=compare,
        allow_mutation=allow_mutation,
        diagnoses=resolve_diagnoses([*diagnoses, *DEFAULT_DIAGNOSES]),
        ctx=ctx,
        timeout=_time_limit(timeout),
        guard=guard,
    )
    with _OutputLimit():
        result = _run_cases(fn, name, cases, reference, settings)
    return _finish(result, mode)


def check_raises(
    fn: Callable,
    exc_type: type[BaseException] | tuple[type[BaseException], ...],
    cases: Case | Sequence[Case],
    *,
    name: str | None = None,
    timeout: float | None = None,
) -> CheckResult:
    """Check that ``fn`` raises ``exc_type`` on each bad input (``Case`` or list of them).

    Prints ``[name] PASS n/n cases`` like ``check_function``; ``name`` defaults to
    ``fn.__name__``. To mix good and bad inputs in one check, give ``Case(..., raises=...)``
    to ``check_function`` instead; ``timeout`` as there.
    """
    cases = [cases] if isinstance(cases, Case) else list(cases)
    cases = [dataclasses.replace(c, raises=exc_type) for c in cases]
    return check_function(fn, name or getattr(fn, "__name__", "check"), cases, timeout=timeout)


def check_close(
    name: str,
    expected: Any,
    got: Any,
    *,
    atol: float = 1e-4,
    rtol: float = 1e-4,
    dtype: str = "kind",
    diagnoses: Iterable[str | Diagnosis] = (),
    label: str = "",
    timeout: float | None = None,
    **ctx: Any,
) -> CheckResult:
    """Check a value the student computed (a number, array, tuple...) against ``expected``.

    ``got`` may be a zero-argument function computing the value (``lambda: pck(pred, gt)``)
    so that a stub raising ``NotImplementedError`` gives TODO instead of an error; ``...``
    (Ellipsis) also counts as TODO. Prints ``[name] PASS``, ``[name] FAIL (label): reason``
    or the TODO line; modes and ``timeout`` (for the function) as in ``check_function``.
    """
    mode = check_mode()
    if dtype not in DTYPE_RULES:
        raise ValueError(f"check {name!r}: dtype={dtype!r}; use one of {DTYPE_RULES}")
    settings = _Settings(
        atol=atol,
        rtol=rtol,
        dtype=dtype,
        compare=None,
        allow_mutation=True,
        diagnoses=resolve_diagnoses([*diagnoses, *DEFAULT_DIAGNOSES]),
        ctx=ctx,
        timeout=_time_limit(timeout),
    )
    with _OutputLimit():
        result = _run_value(name, expected, got, label, settings)
    return _finish(result, mode)


def register_reference(name: str, fn: Callable) -> Callable:
    """Register posekit's implementation of exercise ``name`` for ``use()``; returns ``fn``."""
    if not callable(fn):
        raise TypeError(f"register_reference({name!r}, ...): {type_name(fn)} is not callable")
    _STATE.references[name] = fn
    return fn


def reference_for(name: str) -> Callable:
    """posekit's implementation registered for ``name`` (imports the lesson check modules
    once if needed, as they register their references). Raises ``LookupError`` if none."""
    if name not in _STATE.references:
        _import_lesson_modules()
    if name not in _STATE.references:
        known = ", ".join(sorted(_STATE.references)) or "none yet"
        raise LookupError(
            f"posekit has no reference implementation registered for {name!r} (known: {known}). "
            f"Run the check cell for {name} first, or call "
            f"posekit.checks.register_reference({name!r}, fn)."
        )
    return _STATE.references[name]


def use(fn: Callable, name: str | None = None) -> Callable:
    """The student's ``fn`` if its latest check for ``name`` passed, else posekit's reference.

    ``name`` defaults to ``fn.__name__``. When falling back (FAIL, TODO or no check run yet)
    it prints one line saying so, so the rest of the lesson always runs.
    """
    name = name or getattr(fn, "__name__", None)
    if not name:
        raise ValueError("use(fn, name): give the exercise name")
    result = _STATE.results.get(name)
    if result is not None and result.ok:
        return fn
    reference = reference_for(name)
    print(f"(using posekit's reference {name} so the rest of the lesson runs)")
    return reference


def get_result(name: str) -> CheckResult | None:
    """The latest result of the check ``name`` in this kernel, or ``None``."""
    return _STATE.results.get(name)


def require(name: str) -> CheckResult:
    """Raise ``AssertionError`` unless the latest check of ``name`` in this kernel passed.

    For graders: a check cell's hidden-test region calls it, so nbgrader's autograde (which
    scores a test cell by whether it raises) gives the cell's points only for a PASS, whatever
    ``POSEKIT_CHECK_MODE`` says. Returns the passing result.
    """
    result = _STATE.results.get(name)
    if result is None:
        raise AssertionError(f"[{name}] the check was not run, so it cannot score")
    if not result.ok:
        raise AssertionError(f"[{name}] {result.status}: the check must PASS to score\n{result}")
    return result


def summary(names: Iterable[str] | None = None) -> CheckResults:
    """Print a table of the checks run in this kernel (latest result each) and the totals.

    ``names``: exercises expected in the lesson; those not run yet are listed as ``not run``.
    Returns the results (a list of ``CheckResult``).
    """
    results = CheckResults(_STATE.results.values())
    not_run = [n for n in (names or ()) if n not in _STATE.results]
    if not results and not not_run:
        print("posekit checks: none run yet in this kernel")
        return results
    width = max(len(n) for n in [*_STATE.results, *not_run])
    print("posekit checks in this kernel:")
    for r in results:
        print(f"  {r.name:<{width}}  {r.status}  {_progress(r)}".rstrip())
    for n in not_run:
        print(f"  {n:<{width}}  not run")
    counts = {s: sum(r.status == s for r in results) for s in (PASS, FAIL, TODO, TIMEOUT)}
    shown = (PASS, FAIL, TODO, TIMEOUT) if counts[TIMEOUT] else (PASS, FAIL, TODO)
    totals = ", ".join(f"{counts[s]} {s}" for s in shown)
    extra = f", {len(not_run)} not run" if not_run else ""
    checks_word = "check" if len(results) == 1 else "checks"
    print(f"{len(results)} {checks_word}: {totals}{extra}")
    return results


def reset(references: bool = False) -> None:
    """Forget all check results (and the registered references when ``references``)."""
    _STATE.results.clear()
    if references:
        _STATE.references.clear()


# ------------------------------------------------------------------------------- internals


def _progress(result: CheckResult) -> str:
    if result.status == PASS:
        return f"{result.passed}/{result.total} cases" if result.total > 1 else ""
    if result.status in (FAIL, TIMEOUT) and result.case is not None:
        return f"case {result.case}/{result.total}"
    return ""


def _import_lesson_modules() -> None:
    import importlib
    import pkgutil
    from pathlib import Path

    for module in pkgutil.iter_modules([str(Path(__file__).parent)]):  # this package's folder
        if module.name.startswith("lesson"):
            importlib.import_module(f"{__package__}.{module.name}")


def _finish(result: CheckResult, mode: str) -> CheckResult:
    """Record, print, then raise if the mode says so."""
    _STATE.results[result.name] = result
    print(result.report())
    if mode == "strict" and result.status != PASS:  # TIMEOUT included
        raise AssertionError(f"POSEKIT_CHECK_MODE=strict: every check must PASS\n{result}")
    if mode == "expect-todo" and result.status != TODO:
        raise AssertionError(
            f"POSEKIT_CHECK_MODE=expect-todo: [{result.name}] gave {result.status}, but the "
            "student notebook must still hold a stub raising NotImplementedError (a PASS means "
            "a solution leaked into the notebook, a FAIL a stub that does not raise, a TIMEOUT "
            f"a stub that never returns)\n{result}"
        )
    return result


def _todo(name: str, total: int) -> CheckResult:
    return CheckResult(name, TODO, 0, total, f"[{name}] TODO: {TODO_TEXT}")


def _fail(
    name: str, failure: _Failure, passed: int, total: int, case: int | None, label: str
) -> CheckResult:
    where = f" case {case}/{total}" if case is not None and not failure.bare else ""
    label = f" ({label})" if label and not failure.bare else ""
    message = f"[{name}] {failure.status}{where}{label}: {failure.reason}"
    return CheckResult(
        name, failure.status, passed, total, message, failure.hint, tuple(failure.details), case
    )


def _run_cases(
    fn: Any, name: str, cases: list[Case], reference: Callable | None, settings: _Settings
) -> CheckResult:
    total = len(cases)
    if not callable(fn):
        reason = (
            f"expected a function, got {type_name(fn)}: pass the function itself "
            f"({name}), not the result of calling it"
        )
        return _fail(name, _Failure(reason), 0, total, None, "")
    for i, case in enumerate(cases, start=1):
        outcome = _run_case(fn, name, case, reference, settings)
        if outcome == TODO:
            return _todo(name, total)
        if isinstance(outcome, _Failure):
            return _fail(name, outcome, i - 1, total, i, case.label)
    return CheckResult(name, PASS, total, total, f"[{name}] PASS {total}/{total} cases")


def _run_value(name: str, expected: Any, got: Any, label: str, settings: _Settings) -> CheckResult:
    if got is Ellipsis:
        return _todo(name, 1)
    if callable(got):
        got, error = _call(got, (), {}, settings.timeout)
        if error is not None:
            outcome = _error_outcome(error, [])
            return _todo(name, 1) if outcome == TODO else _fail(name, outcome, 0, 1, None, label)
    failure = _judge(expected, got, settings, {}, [])
    if failure is None:
        return CheckResult(name, PASS, 1, 1, f"[{name}] PASS")
    return _fail(name, failure, 0, 1, None, label)


def _deepcopy(value: Any) -> Any:
    try:
        return copy.deepcopy(value)
    except Exception:  # not copyable (open file, generator...): pass it as is
        return value


def _run_case(
    fn: Callable, name: str, case: Case, reference: Callable | None, settings: _Settings
) -> str | _Failure | None:
    """``None`` (pass), ``TODO`` or a ``_Failure`` for one case."""
    call = f"input: {format_call(name, case.args, case.kwargs)}"
    if case.raises is not None:
        return _run_raising_case(fn, case, call, settings)
    expected = _expected(case, reference, name)
    args, kwargs = _deepcopy(case.args), _deepcopy(case.kwargs)
    got, error = _call(fn, args, kwargs, settings.timeout, settings.guard)
    if settings.guard is not None and settings.guard.called is not None:
        return settings.guard.failure()
    if error is not None:
        return _error_outcome(error, [call])
    modified = [] if settings.allow_mutation else _modified_inputs(fn, case, args, kwargs)
    failure = _judge(expected, got, settings, case.ctx, [call])
    if failure is None and modified:
        var = modified[0] if modified[0].isidentifier() else "x"
        return _Failure(
            f"your function modified its input {', '.join(modified)} in place",
            [call, f"work on a copy: {var} = {var}.copy() (or {var}.clone() for a tensor)"],
        )
    if failure is not None and modified:
        failure.details.append(f"note: your function also modified its input {modified[0]}")
    return failure


def _expected(case: Case, reference: Callable | None, name: str) -> Any:
    if case.expected is not MISSING:
        return case.expected
    if reference is None:
        raise ValueError(
            f"check {name!r}: case {case.label!r} has no expected value and no reference"
        )
    return reference(*_deepcopy(case.args), **_deepcopy(case.kwargs))


def _exc_name(exc_type: Any) -> str:
    if isinstance(exc_type, tuple):
        return " or ".join(t.__name__ for t in exc_type)
    return exc_type.__name__


def _run_raising_case(
    fn: Callable, case: Case, call: str, settings: _Settings
) -> str | _Failure | None:
    wanted = _exc_name(case.raises)
    args, kwargs = _deepcopy(case.args), _deepcopy(case.kwargs)
    got, error = _call(fn, args, kwargs, settings.timeout, settings.guard)
    if settings.guard is not None and settings.guard.called is not None:
        return settings.guard.failure()
    if isinstance(error, case.raises) and not isinstance(error, NotImplementedError):
        return None
    if error is not None:
        return _error_outcome(error, [call], f"expected {wanted}, but your function raised")
    return _Failure(
        f"this input should raise {wanted}, but your function returned {format_value(got)}",
        [call],
    )


def _judge(
    expected: Any, got: Any, settings: _Settings, case_ctx: dict, details: list[str]
) -> _Failure | None:
    """Compare, then diagnose the differing values."""
    if settings.compare is not None:
        reason = settings.compare(expected, got)
        mismatch = None if reason is None else Mismatch(reason)
        if mismatch is not None and is_numeric(expected) and is_numeric(got):
            mismatch.expected, mismatch.got = to_numpy(expected), to_numpy(got)
    else:
        mismatch = compare(
            expected, got, atol=settings.atol, rtol=settings.rtol, dtype=settings.dtype
        )
    if mismatch is None:
        return None
    hint = None
    if mismatch.expected is not None:
        ctx = {**settings.ctx, **case_ctx, "atol": settings.atol, "rtol": settings.rtol}
        hint = diagnose(mismatch.expected, mismatch.got, settings.diagnoses, **ctx)
    return _Failure(mismatch.reason, [*details, *mismatch.details], hint)


def _modified_inputs(fn: Callable, case: Case, args: tuple, kwargs: dict) -> list[str]:
    """Names of the inputs the call changed (``argument 2`` when names are unknown)."""
    try:
        names = list(inspect.signature(fn).bind(*args, **kwargs).arguments)
    except (TypeError, ValueError):
        names = []
    changed = []
    for i, (before, after) in enumerate(zip(case.args, args, strict=True)):
        if not same(before, after):
            changed.append(names[i] if i < len(names) else f"argument {i + 1}")
    changed += [k for k, v in case.kwargs.items() if not same(v, kwargs[k])]
    return changed


def _error_outcome(
    error: BaseException | _TimedOut, details: list[str], lead: str = "your function raised"
) -> str | _Failure:
    """TODO, TIMEOUT or FAIL for what ``_call`` returned instead of a value."""
    if isinstance(error, NotImplementedError):
        return TODO
    if isinstance(error, _TimedOut):
        return _timeout_failure(error, details)
    return _exception_failure(error, details, lead)


def _timeout_failure(timed_out: _TimedOut, details: list[str]) -> _Failure:
    details = [*details, *([timed_out.where] if timed_out.where else [])]
    if timed_out.stopped:
        details.append("posekit stopped it")
    else:
        details.append(
            "posekit could not stop it (Python cannot kill a thread): it keeps running in the "
            "background until you restart the kernel"
        )
    hint = (
        "a loop whose condition never changes? If it is only slow: numpy instead of Python "
        "loops, or more seconds with POSEKIT_CHECK_TIMEOUT"
    )
    reason = f"your function did not return within {timed_out.seconds:g} s"
    return _Failure(reason, details, hint, TIMEOUT)


def _exception_failure(
    err: BaseException, details: list[str], lead: str = "your function raised"
) -> _Failure:
    """``your function raised ValueError: message`` and the student's line that raised it."""
    reason = f"{lead} {type(err).__name__}{_message_suffix(err)}"
    frame = _student_frame(traceback.extract_tb(err.__traceback__))
    return _Failure(reason, [*details, *([_frame_text("at", frame)] if frame else [])])


def _message_suffix(err: BaseException) -> str:
    """``: the message`` (200 characters at most), or nothing for an empty one."""
    try:
        text = " ".join(str(err).split())
    except Exception:  # its __str__ raises
        return " (its message could not be printed)"
    text = text if len(text) <= 200 else text[:196] + " ..."
    return f": {text}" if text else ""


def _student_frame(frames: list[traceback.FrameSummary]) -> traceback.FrameSummary | None:
    """The innermost frame in the student's code (not posekit, numpy, torch...)."""
    for frame in reversed(frames):
        if _is_student_file(frame.filename):
            return frame
    return None


def _frame_text(lead: str, frame: traceback.FrameSummary) -> str:
    """``at line 7 of flip: while i < n:``."""
    code = (frame.line or "").strip()
    return f"{lead} line {frame.lineno} of {frame.name}" + (f": {code}" if code else "")


def _is_student_file(filename: str) -> bool:
    """Notebook cells (``/tmp/ipykernel_*/…``, ``<ipython-input-…>``) and the student's own
    files; not posekit, the standard library or installed packages."""
    if filename.startswith("<"):
        return "frozen" not in filename
    path = os.path.abspath(filename)
    library = (_POSEKIT_DIR, os.path.dirname(os.__file__) + os.sep)
    return not path.startswith(library) and "site-packages" not in path


_POSEKIT_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


# ------------------------------------------------------------------ hostile student functions


def _time_limit(timeout: float | None) -> float | None:
    """Seconds one call may take: ``timeout``, else ``POSEKIT_CHECK_TIMEOUT``, else 30;
    ``None`` (no limit) for 0, inf or ``off``/``none``."""
    where = f"timeout={timeout!r}"
    if timeout is None:
        text = os.environ.get("POSEKIT_CHECK_TIMEOUT", "").strip().lower()
        where = f"POSEKIT_CHECK_TIMEOUT={text!r}"
        timeout = {"": DEFAULT_TIMEOUT_S, "off": 0, "none": 0}.get(text, text)
    try:
        seconds = float(timeout)
    except (TypeError, ValueError):
        seconds = math.nan
    if not seconds >= 0:
        raise ValueError(f"{where}: give the time limit in seconds (0 or 'off': no limit)")
    return None if seconds == 0 or math.isinf(seconds) else seconds


class _Stopped(BaseException):
    """Raised inside a timed-out student function to stop it (see ``_stop``)."""


@dataclass
class _Worker:
    """A student's call in a daemon thread, and what it gave."""

    value: Any = None
    error: BaseException | None = None
    finished: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)


def _call(
    fn: Callable, args: tuple, kwargs: dict, timeout: float | None, guard: _Guard | None = None
) -> tuple[Any, BaseException | _TimedOut | None]:
    """``(value, None)``, ``(None, exception)`` or ``(None, _TimedOut)`` for ``fn(*args,
    **kwargs)``, run in a daemon thread waited for ``timeout`` s (no thread when ``None``).
    The thread sees this thread's context variables (numpy's errstate) and torch grad mode;
    ``guard`` watches the call for posekit's own implementation (``guard.called``)."""
    if guard is None:
        return _run_call(fn, args, kwargs, timeout, _NO_GUARD)
    with _stops_held():
        return _run_call(fn, args, kwargs, timeout, guard)


def _run_call(
    fn: Callable, args: tuple, kwargs: dict, timeout: float | None, guard: Any
) -> tuple[Any, BaseException | _TimedOut | None]:
    if timeout is None:
        try:
            with guard:
                return fn(*args, **kwargs), None
        except KeyboardInterrupt:
            raise
        except BaseException as err:
            return None, err
    worker, context, grad_mode = _Worker(), contextvars.copy_context(), _grad_mode_setter()
    thread = threading.Thread(
        target=_work, args=(worker, context, grad_mode, guard, fn, args, kwargs), daemon=True
    )
    thread.start()
    try:
        thread.join(timeout)
    except KeyboardInterrupt:  # the student interrupted the kernel
        _stop(thread, worker)
        raise
    if thread.is_alive():
        where = _where(thread)
        return None, _TimedOut(timeout, where, _stop(thread, worker))
    if isinstance(worker.error, KeyboardInterrupt):
        raise worker.error
    return worker.value, worker.error


def _work(
    worker: _Worker, context, grad_mode, guard: _Guard, fn: Callable, args: tuple, kwargs: dict
) -> None:
    try:
        try:
            grad_mode()
            with guard:
                worker.value = context.run(fn, *args, **kwargs)
        except BaseException as err:
            worker.error = err
        with worker.lock:
            worker.finished = True
        for _ in range(2):  # a backward jump: a stop that came as the call ended is raised here
            pass
    except _Stopped:
        pass


class _Forbidden(BaseException):
    """Raised inside the student's function when it runs posekit's own implementation (a
    ``BaseException``, so that ``except Exception`` in the student's code lets it through)."""


class _Guard:
    """Watches one thread, while a student's function runs in it, for calls of forbidden code.

    ``with guard:`` installs a profile hook (``sys.setprofile``, this thread only) that looks
    up the code object of each Python call in ``codes``; the first hit is kept in ``called``
    and raised as ``_Forbidden`` to stop the function (CPython then removes the hook). On
    leaving, the thread's previous profile function is put back."""

    def __init__(self, codes: dict[types.CodeType, str]) -> None:
        self.codes = codes
        self.called: str | None = None
        self._saved = threading.local()  # each thread's previous profile function
        self._hook = self._make_hook()

    @classmethod
    def of(cls, forbidden: Iterable[Any]) -> _Guard | None:
        """A guard for the functions in ``forbidden`` (``None`` entries skipped), or ``None``
        when there is nothing to watch."""
        codes: dict[types.CodeType, str] = {}
        for obj in forbidden:
            if obj is None:
                continue
            for fn in _functions_of(obj):
                codes.setdefault(fn.__code__, _qualified_name(fn))
        return cls(codes) if codes else None

    def _make_hook(self) -> Callable:
        # Looked up by id (the codes dict keeps the objects alive): hashing a code object
        # hashes its contents, and the hook runs on every call the student's code makes.
        names = {id(code): name for code, name in self.codes.items()}
        guard = self

        def hook(frame: types.FrameType, event: str, arg: Any) -> None:
            if event == "call" and id(frame.f_code) in names:
                if guard.called is None:
                    guard.called = names[id(frame.f_code)]
                raise _Forbidden(guard.called)

        return hook

    def __enter__(self) -> _Guard:
        """Watch this thread, and the threads started while the call runs (a function handing
        the work to a thread pool is watched there too)."""
        self._saved.profile = sys.getprofile()
        self._saved.threads = threading.getprofile()
        threading.setprofile(self._hook)
        sys.setprofile(self._hook)
        return self

    def __exit__(self, exc_type: Any, *exc_info: Any) -> None:
        # Returned normally without the hook: the function removed it (sys.setprofile). (An
        # exception, e.g. posekit's stop request, raised inside the hook also removes it.)
        if exc_type is None and self.called is None and sys.getprofile() is not self._hook:
            self.called = _SWITCHED_OFF
        threading.setprofile(self._saved.threads)
        sys.setprofile(self._saved.profile)

    def failure(self) -> _Failure:
        if self.called == _SWITCHED_OFF:
            return _Failure(
                "your function switched off the check's watch for posekit's own implementation "
                "(sys.setprofile) — the exercise is to write it yourself",
                bare=True,
            )
        return _Failure(
            f"your function calls posekit's own {self.called} — the exercise is to write it "
            "yourself",
            bare=True,
        )


_SWITCHED_OFF = "<the profile hook was removed>"


class _NoGuard:
    """``with _NO_GUARD:`` watches nothing."""

    called = None

    def __enter__(self) -> _NoGuard:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        pass


_NO_GUARD: Any = _NoGuard()


def _functions_of(obj: Any, depth: int = 0) -> list[types.FunctionType]:
    """The Python functions whose code runs when ``obj`` is called: through
    ``functools.partial``, bound methods, static/class methods, properties, ``__wrapped__``
    (``functools.wraps``, ``lru_cache``), classes (an ``nn.Module``'s ``forward``, else
    ``__call__``) and callable instances."""
    if depth > 8:
        return []
    more = functools.partial(_functions_of, depth=depth + 1)
    if isinstance(obj, functools.partial):
        return more(obj.func)
    if isinstance(obj, (staticmethod, classmethod)) or inspect.ismethod(obj):
        return more(obj.__func__)
    if isinstance(obj, property):
        return more(obj.fget) if obj.fget is not None else []
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [f for item in obj for f in more(item)]
    if not inspect.isclass(obj) and hasattr(obj, "__wrapped__"):
        return more(inspect.unwrap(obj))
    if isinstance(obj, types.FunctionType):
        return [obj]
    cls = obj if inspect.isclass(obj) else type(obj)
    for attr in ("forward", "__call__"):  # an nn.Module runs forward, other objects __call__
        method = inspect.getattr_static(cls, attr, None)
        if isinstance(method, (types.FunctionType, staticmethod, classmethod)):
            return more(method)
    return []


def _qualified_name(fn: types.FunctionType) -> str:
    """``posekit.skeletons.flip_keypoints``."""
    return f"{fn.__module__}.{fn.__qualname__}"


def _grad_mode_setter() -> Callable[[], None]:
    """A function setting this thread's torch grad mode in another thread (torch's is
    per thread); does nothing if torch was never imported."""
    torch = sys.modules.get("torch")
    if torch is None:
        return lambda: None
    enabled = torch.is_grad_enabled()
    return lambda: torch.set_grad_enabled(enabled)


def _where(thread: threading.Thread) -> str | None:
    """``it was at line 7 of flip: while i < n:`` for the student's code ``thread`` runs."""
    frame = sys._current_frames().get(thread.ident)
    found = _student_frame(traceback.extract_stack(frame)) if frame is not None else None
    return _frame_text("it was at", found) if found else None


def _stop(thread: threading.Thread, worker: _Worker) -> bool:
    """Ask ``thread`` to raise ``_Stopped`` (CPython; this ends a Python loop, not a function
    waiting in C code or catching every exception); True if it ended."""
    _ask_to_stop(thread, worker, ctypes.py_object(_Stopped))
    thread.join(_STOP_WAIT_S)
    if thread.is_alive():
        _UNSTOPPED.append((thread, worker))
    return not thread.is_alive()


_UNSTOPPED: list[tuple[threading.Thread, _Worker]] = []  # asked to stop, still running then


def _ask_to_stop(thread: threading.Thread, worker: _Worker, exc: Any) -> None:
    """Set (``exc``) or withdraw (``None``) the exception ``thread`` raises at its next
    Python instruction, unless its call has finished."""
    with worker.lock:
        if not worker.finished and thread.ident is not None:
            try:
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident), exc)
            except (AttributeError, OSError):  # not CPython
                pass


class _Flush(BaseException):
    """Raised in this thread by ``_clear_async_signal`` and caught there."""


def _clear_async_signal() -> None:
    """Clear the interpreter's "an asynchronous exception is pending" flag, which only a
    thread raising its own asynchronous exception clears: raise one here and catch it."""
    try:
        ident = ctypes.c_ulong(threading.get_ident())
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ident, ctypes.py_object(_Flush))
        for _ in range(4):  # a backward jump: the exception is raised here
            pass
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ident, None)  # not raised: withdraw it
    except _Flush:
        pass
    except (AttributeError, OSError):  # not CPython
        pass


@contextlib.contextmanager
def _stops_held():
    """Withdraw the pending stop requests of earlier timed-out threads while a watched call
    runs, and renew them after. (CPython 3.11: while another thread's asynchronous exception
    is pending, a thread with a profile function spins at the start of its next function.)"""
    _UNSTOPPED[:] = [(t, w) for t, w in _UNSTOPPED if t.is_alive()]
    if sys.version_info[:2] != (3, 11):
        yield
        return
    held = list(_UNSTOPPED)
    for thread, worker in held:
        _ask_to_stop(thread, worker, None)
    if held:
        _clear_async_signal()
    try:
        yield
    finally:
        for thread, worker in held:
            _ask_to_stop(thread, worker, ctypes.py_object(_Stopped))


class _OutputLimit:
    """While a check runs: what is printed (stdout and stderr) goes through until
    ``MAX_OUTPUT_LINES`` lines or ``MAX_OUTPUT_CHARS`` characters, the rest is counted and
    cut, and a note says so at the end, so that the status line stays in view."""

    def __init__(self) -> None:
        self.lines = self.chars = self.cut_lines = self.cut_chars = 0
        self.mid_line = False
        self.lock = threading.Lock()

    def __enter__(self) -> _OutputLimit:
        self.saved = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = (
            None if s is None else _LimitedStream(self, s) for s in self.saved
        )
        return self

    def __exit__(self, *exc_info: Any) -> None:
        sys.stdout, sys.stderr = self.saved
        if self.mid_line:  # the status line starts a line of its own
            print()
        if self.cut_chars:
            full = self.lines >= MAX_OUTPUT_LINES
            limit = f"{MAX_OUTPUT_LINES} lines" if full else f"{MAX_OUTPUT_CHARS:,} characters"
            print(
                f"(posekit cut what your function printed after {limit}: "
                f"{self.cut_lines:,} more lines, {self.cut_chars:,} more characters)"
            )

    def write(self, stream: Any, text: str) -> int:
        """Write the part of ``text`` that fits to ``stream``; count the rest."""
        with self.lock:
            keep = text[: self._room(text)]
            self.lines += keep.count("\n")
            self.chars += len(keep)
            self.cut_lines += text.count("\n", len(keep))
            self.cut_chars += len(text) - len(keep)
            if keep:
                stream.write(keep)
                if stream is self.saved[0]:
                    self.mid_line = not keep.endswith("\n")
        return len(text)

    def _room(self, text: str) -> int:
        """How many characters of ``text`` fit in what is left of the limits."""
        room = max(0, MAX_OUTPUT_CHARS - self.chars)
        end = -1
        for _ in range(max(0, MAX_OUTPUT_LINES - self.lines)):
            end = text.find("\n", end + 1, room)
            if end < 0:
                return room
        return min(room, end + 1)


class _LimitedStream:
    """``sys.stdout`` / ``sys.stderr`` during a check (see ``_OutputLimit``)."""

    def __init__(self, limit: _OutputLimit, stream: Any) -> None:
        self._limit, self._stream = limit, stream

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            return self._stream.write(text)
        return self._limit.write(self._stream, text)

    def flush(self) -> None:
        self._stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)
