"""Grade students' lesson notebooks, and release the student tree of the course.

``grade`` (``posekit course grade SUBMISSION.ipynb ...``) runs each submission headless and
scores it from posekit's own check results:

* **one folder per student**: a submission is ``<student>/NN_name.ipynb``; the student id is the
  name of the folder holding it (or ``student=`` / ``--student NAME`` for a single file);
* the lesson is the ``solutions/NN_*.ipynb`` with the same two-digit prefix; its exercises
  (``posekit.course.exercises``) are what is scored: 1 point per exercise whose check PASSes;
* the notebook runs with nbclient in a kernel of this Python, in an empty temporary working
  directory, with ``POSEKIT_CHECK_MODE=student``, ``POSEKIT_QUICK=1`` (unless ``full``),
  ``MPLBACKEND=Agg``, a time limit per cell and ``allow_errors``: a cell that raises or times
  out is reported and the run goes on; the whole submission may take ``BUDGET_CELLS`` times
  the cell limit, then its remaining cells are not run;
* no network: a first cell added by the grader refuses socket connections and name lookups
  outside this machine, and pip / proxies / the Hugging Face hub are pointed nowhere (a guard
  against accidents, not a sandbox: the notebook runs as you);
* the results are read by cells the grader adds (after every cell that mentions a check, and
  at the end), each printing one JSON line behind a marker that is new for every run, built
  from ``posekit.checks.get_result(name)``; an exercise no reader saw is ``not run`` (kernel
  died, cell timed out before its check, check cell deleted);
* nothing is written into the submission;
* not tamper-proof: the submission's code runs in the same kernel as the readers and could
  forge the results they print (as it could under nbgrader: posekit's checks are feedback,
  so read the code of what you grade).

Outputs in ``out`` (default ``grades/``):

* ``<student>/<NN_name>.json``: ``{"student", "lesson", "submission", "mode", "points",
  "max_points", "seconds", "exercises": [{"number": "0.1", "function", "status", "message",
  "hint", "points", "details"}, ...], "errors": [{"cell", "kind", "message"}, ...]}``; ``status`` is
  ``PASS`` | ``FAIL`` | ``TODO`` | ``TIMEOUT`` | ``not run``; ``cell`` is the 0-based index in
  the submission (``null`` for the grader's own cells), ``kind`` ``error`` | ``timeout`` |
  ``kernel died`` | ``grader``;
* ``<student>/<NN_name>.md``: a table exercise | status | points, then each FAIL / TIMEOUT's
  message and hint, then the cells that failed;
* ``grades.csv``: ``student, lesson, points, max_points`` and one status column per exercise
  (``0.1 flip_keypoints``), one row per submission of this call, sorted.

``release`` (``posekit course release DIR``) copies the course without ``solutions/``, tests,
CI files and build outputs, then checks the copy for leaked solution lines.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from posekit.course import (
    NOTEBOOKS,
    SOLUTIONS,
    CourseError,
    Exercise,
    _first_line,
    _read_notebook,
    course_root,
    exercises,
    lesson_files,
)

__all__ = [
    "NOT_RUN",
    "CellError",
    "ExerciseGrade",
    "Grade",
    "Release",
    "find_lesson",
    "format_grades",
    "grade",
    "grade_notebook",
    "release",
    "student_of",
    "write_csv",
    "write_report",
]

PASS = "PASS"
NOT_RUN = "not run"
DEFAULT_TIMEOUT = 120
BUDGET_CELLS = 10  # a submission may run for BUDGET_CELLS x the per-cell limit in all
DEFAULT_OUT = "grades"
CSV_NAME = "grades.csv"
_PREFIX = re.compile(r"^(\d{2})_")
_TIMEOUT_ENAME = "GraderCellTimeout"


@dataclass
class ExerciseGrade:
    """One exercise of a graded submission (``number`` "N.M", ``status`` PASS / FAIL / TODO /
    TIMEOUT / not run, ``points`` 1 for a PASS else 0)."""

    number: str
    function: str
    status: str
    message: str = ""
    hint: str | None = None
    points: int = 0
    details: list[str] = field(default_factory=list)  # expected / got lines under a FAIL


@dataclass
class CellError:
    """A cell that raised (``kind`` "error"), ran past the time limit ("timeout") or was running
    when the kernel died ("kernel died"); ``cell``: 0-based index in the submission, None for
    the grader's own cells ("grader")."""

    cell: int | None
    kind: str
    message: str

    def __str__(self) -> str:
        where = f"cell {self.cell}" if self.cell is not None else "grader"
        return f"{where}: {self.message}"


@dataclass
class Grade:
    """The grade of one submission (``lesson``: the solution's stem, e.g.
    ``00_keypoints_datasets_metrics``)."""

    student: str
    lesson: str
    submission: str
    mode: str
    seconds: float
    exercises: list[ExerciseGrade]
    errors: list[CellError] = field(default_factory=list)

    @property
    def points(self) -> int:
        return sum(e.points for e in self.exercises)

    @property
    def max_points(self) -> int:
        return len(self.exercises)

    def to_json(self) -> dict[str, Any]:
        """The JSON report (format in the module docstring)."""
        return {
            "student": self.student,
            "lesson": self.lesson,
            "submission": self.submission,
            "mode": self.mode,
            "points": self.points,
            "max_points": self.max_points,
            "seconds": round(self.seconds, 2),
            "exercises": [asdict(e) for e in self.exercises],
            "errors": [asdict(e) for e in self.errors],
        }


# ----------------------------------------------------------------------- what is graded


def find_lesson(path: Path | str, root: Path | str | None = None) -> Path:
    """The ``solutions/NN_*.ipynb`` with the same two-digit prefix as the submission
    ``path`` (``alice/00_anything.ipynb`` -> ``solutions/00_keypoints_...ipynb``). Raises
    CourseError naming the file when it is missing, not a notebook or matches no lesson."""
    path = Path(path)
    if not path.exists():
        raise CourseError(f"{path}: no such file")
    if not path.is_file() or path.suffix != ".ipynb":
        raise CourseError(f"{path}: not a notebook (expected a file NN_name.ipynb)")
    match = _PREFIX.match(path.name)
    solutions = lesson_files(course_root(root), SOLUTIONS)
    found = [p for p in solutions if match and p.name.startswith(match.group(0))]
    if not found:
        have = ", ".join(p.name for p in solutions) or "none"
        raise CourseError(
            f"{path}: matches no lesson; a submission is named like its lesson's notebook "
            f"NN_name.ipynb (lessons: {have})"
        )
    _read_notebook(path)
    return found[0]


def student_of(path: Path | str, student: str | None = None) -> str:
    """The student id: ``student`` if given, else the name of the folder holding ``path``
    (one folder per student). Raises CourseError for an id that is no plain folder name."""
    name = student if student is not None else Path(path).absolute().parent.name
    bad = not name or name in (".", "..", CSV_NAME) or re.search(r"[/\\|\x00-\x1f\x7f]", name)
    if bad:
        raise CourseError(f"{path}: student id {name!r} is not a plain name (use --student NAME)")
    return name


# --------------------------------------------------------------------------- the cells


_NO_NETWORK = """def __posekit_grader_no_network():
    import ipaddress
    import socket

    def local(host):
        if host in ("localhost", "", None):
            return True
        try:
            return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
        except ValueError:
            return False

    def guard(real):
        def call(self, address, *args, **kwargs):
            if self.family in (socket.AF_INET, socket.AF_INET6) and not local(address[0]):
                raise OSError(f"posekit course grade: no network ({address[0]})")
            return real(self, address, *args, **kwargs)
        return call

    def lookup(real):
        def call(host, *args, **kwargs):
            if not local(host.decode() if isinstance(host, bytes) else host):
                raise socket.gaierror(f"posekit course grade: no network ({host})")
            return real(host, *args, **kwargs)
        return call

    socket.socket.connect = guard(socket.socket.connect)
    socket.socket.connect_ex = guard(socket.socket.connect_ex)
    socket.getaddrinfo = lookup(socket.getaddrinfo)

__posekit_grader_no_network()
del __posekit_grader_no_network"""

_READER = """def __posekit_grader_report():
    import json
    import sys

    import posekit.checks

    out = {}
    for name in NAMES:
        r = posekit.checks.get_result(name)
        out[name] = None if r is None else {
            "status": str(r.status), "message": str(r.message),
            "hint": None if r.hint is None else str(r.hint),
            "details": [str(d) for d in r.details],
        }
    sys.stdout.write(MARKER + json.dumps(out) + "\\n")
    sys.stdout.flush()

__posekit_grader_report()
del __posekit_grader_report"""


def _reader_source(names: Sequence[str], marker: str) -> str:
    """A cell printing ``marker + json`` of ``{name: {"status", "message", "hint"} | None}``."""
    return _READER.replace("NAMES", repr(list(names))).replace("MARKER", repr(marker))


def _mentions_check(cell: Any) -> bool:
    return cell.get("cell_type") == "code" and "check" in str(cell.get("source", ""))


def _graded_notebook(nb: Any, names: Sequence[str], marker: str) -> tuple[Any, list[int | None]]:
    """The submission with the grader's cells added: the network guard first, a reader after
    every code cell that mentions a check, and one at the end. Returns the notebook and, per
    cell, its index in the submission (None for the grader's cells)."""
    import nbformat.v4 as v4

    cells = [v4.new_code_cell(_NO_NETWORK)]
    origin: list[int | None] = [None]
    for index, cell in enumerate(nb.cells):
        cells.append(cell)
        origin.append(index)
        if _mentions_check(cell):
            cells.append(v4.new_code_cell(_reader_source(names, marker)))
            origin.append(None)
    cells.append(v4.new_code_cell(_reader_source(names, marker)))
    origin.append(None)
    graded = v4.new_notebook(cells=cells, metadata=dict(nb.get("metadata", {})))
    return graded, origin


def _reader_line(line: str, marker: str) -> dict[str, dict]:
    """The results one reader line carries; {} for a line that is not one (or is malformed:
    code in the kernel could print anything, and one submission must not stop the batch)."""
    at = line.find(marker)
    if at < 0:
        return {}
    try:
        found = json.loads(line[at + len(marker) :])
    except ValueError:
        return {}
    if not isinstance(found, dict):
        return {}
    return {
        str(k): v
        for k, v in found.items()
        if isinstance(v, dict) and isinstance(v.get("status"), str)
    }


def _reader_results(nb: Any, origin: list[int | None], marker: str) -> dict[str, dict]:
    """The latest result of every exercise that any reader cell saw (reader cells only).
    Not tamper-proof: code in the submission runs in the same kernel and could change the
    check results the readers print; grading is a grader's tool, not a sandbox."""
    seen: dict[str, dict] = {}
    for cell, where in zip(nb.cells, origin, strict=True):
        if where is not None:
            continue
        for output in cell.get("outputs", []):
            text = output.get("text", "") if output.get("output_type") == "stream" else ""
            for line in str(text).split("\n"):
                seen.update(_reader_line(line, marker))
    return seen


# --------------------------------------------------------------------------- running


def _kernel_env(full: bool) -> dict[str, str]:
    """This process's environment with the grading settings (and network pointed nowhere)."""
    env = dict(os.environ)
    for name in ("POSEKIT_SEED", "POSEKIT_CHECK_TIMEOUT"):  # the grader's shell must not count
        env.pop(name, None)
    dead = "http://127.0.0.1:9"
    env.update(
        POSEKIT_CHECK_MODE="student",
        POSEKIT_QUICK="0" if full else "1",
        MPLBACKEND="Agg",
        PIP_NO_INDEX="1",
        HF_HUB_OFFLINE="1",
        http_proxy=dead,
        https_proxy=dead,
        HTTP_PROXY=dead,
        HTTPS_PROXY=dead,
        no_proxy="localhost,127.0.0.1",
        NO_PROXY="localhost,127.0.0.1",
    )
    return env


class _OutOfTime(Exception):
    """The submission used up its whole time budget: the remaining cells do not run."""


def _execute(nb: Any, origin: list[int | None], env: dict, timeout: int) -> list[CellError]:
    """Run ``nb`` in place (cwd: a fresh temporary folder); the cells that failed.

    Each cell may take ``timeout`` s, and the whole submission ``BUDGET_CELLS * timeout`` s
    (a notebook that ignores interrupts would otherwise make every later cell wait out its
    limit): past that, the remaining cells do not run and their checks are ``not run``."""
    from nbclient import NotebookClient
    from nbclient.exceptions import DeadKernelError

    from posekit.course import _kernel_manager_class

    errors: list[CellError] = []
    current: dict[str, int | None] = {"cell": None}

    deadline = time.monotonic() + BUDGET_CELLS * timeout

    def on_cell_start(cell: Any, cell_index: int) -> None:
        current["cell"] = cell_index
        if time.monotonic() > deadline:
            raise _OutOfTime

    def cell_timeout(cell: Any) -> int:
        return max(1, min(timeout, int(deadline - time.monotonic()) + 1))

    def on_cell_executed(cell: Any, cell_index: int, execute_reply: dict) -> None:
        content = execute_reply.get("content", {})
        if content.get("status") != "error":
            return
        where = origin[cell_index]
        if content.get("ename") == _TIMEOUT_ENAME:
            errors.append(CellError(where, "timeout", f"timed out after {timeout} s"))
        else:
            kind = "error" if where is not None else "grader"
            message = f"{content.get('ename')}: {_first_line(content.get('evalue', ''), 200)}"
            errors.append(CellError(where, kind, message))

    with tempfile.TemporaryDirectory(prefix="posekit-grade-", ignore_cleanup_errors=True) as cwd:
        client = NotebookClient(
            nb,
            timeout=timeout,
            timeout_func=cell_timeout,
            allow_errors=True,
            interrupt_on_timeout=True,
            error_on_timeout={"ename": _TIMEOUT_ENAME, "evalue": "", "traceback": []},
            kernel_name="python3",
            kernel_manager_class=_kernel_manager_class(),
            resources={"metadata": {"path": cwd}},
            on_cell_start=on_cell_start,
            on_cell_executed=on_cell_executed,
            record_timing=False,
        )
        try:
            client.execute(env=env)
        except _OutOfTime:
            where = origin[current["cell"]] if current["cell"] is not None else None
            budget = BUDGET_CELLS * timeout
            why = f"the submission used its {budget} s budget; later cells did not run"
            errors.append(CellError(where, "timeout", why))
        except DeadKernelError:
            cell = current["cell"]
            where = origin[cell] if cell is not None else None
            why = "the kernel died (Python crashed or ran out of memory); later cells did not run"
            errors.append(CellError(where, "kernel died", why))
        except Exception as err:  # noqa: BLE001 - grading reports, it does not crash
            errors.append(
                CellError(None, "grader", f"{type(err).__name__}: {_first_line(err, 200)}")
            )
    return errors


def _exercise_grades(lesson: list[Exercise], seen: dict[str, dict]) -> list[ExerciseGrade]:
    grades = []
    for ex in lesson:
        name = ex.function or ""
        result = seen.get(name)
        if result is None:
            grades.append(ExerciseGrade(ex.number, name, NOT_RUN, "the check never ran"))
            continue
        status = result["status"]
        grades.append(
            ExerciseGrade(
                ex.number,
                name,
                status,
                result.get("message", ""),
                result.get("hint"),
                int(status == PASS),
                list(result.get("details", [])),
            )
        )
    return grades


def grade_notebook(
    path: Path | str,
    solution: Path | str,
    student: str,
    timeout: int = DEFAULT_TIMEOUT,
    full: bool = False,
) -> Grade:
    """Run one submission headless (see the module docstring) and score it against the
    exercises of ``solution``. ``timeout``: seconds per cell."""
    path, solution = Path(path), Path(solution)
    lesson = exercises(solution)
    names = [e.function for e in lesson if e.function]
    marker = f"@@posekit-grade-{uuid.uuid4().hex}@@"
    nb, origin = _graded_notebook(_read_notebook(path), names, marker)
    start = time.perf_counter()
    errors = _execute(nb, origin, _kernel_env(full), timeout)
    seconds = time.perf_counter() - start
    grades = _exercise_grades(lesson, _reader_results(nb, origin, marker))
    mode = "full" if full else "quick"
    return Grade(student, solution.stem, str(path), mode, seconds, grades, errors)


# --------------------------------------------------------------------------- reports


def write_report(result: Grade, out: Path | str) -> tuple[Path, Path]:
    """Write ``out/<student>/<lesson>.json`` and ``.md``; returns both paths."""
    folder = Path(out) / result.student
    folder.mkdir(parents=True, exist_ok=True)
    json_path = folder / f"{result.lesson}.json"
    md_path = folder / f"{result.lesson}.md"
    json_path.write_text(json.dumps(result.to_json(), indent=2) + "\n", encoding="utf-8")
    md_path.write_text(markdown_report(result), encoding="utf-8")
    return json_path, md_path


def markdown_report(result: Grade) -> str:
    """The readable report: title, exercise | status | points table, FAILs (message, hint),
    cells that failed."""
    lines = [
        f"# {result.lesson}: {result.student}, {result.points}/{result.max_points} points",
        "",
        f"Graded from `{result.submission}` ({result.mode} mode, {result.seconds:.1f} s).",
        "",
        "| exercise | status | points |",
        "|---|---|---|",
    ]
    lines += [f"| {e.number} `{e.function}` | {e.status} | {e.points} |" for e in result.exercises]
    failed = [e for e in result.exercises if e.status not in (PASS, "TODO", NOT_RUN)]
    if failed:
        lines += ["", "## To fix"]
        for e in failed:
            lines += [
                "",
                f"### {e.number} `{e.function}`: {e.status}",
                "",
                "```",
                e.message,
                *e.details,
                "```",
            ]
            if e.hint:
                lines += ["", f"Hint: {e.hint}"]
    if result.errors:
        lines += ["", "## Cells that failed", ""]
        lines += [f"- {error}" for error in result.errors]
    return "\n".join(lines) + "\n"


def _columns(grades: Sequence[Grade]) -> list[str]:
    """``N.M function`` of every exercise graded, in lesson and exercise order."""
    keys = {(e.number, e.function) for g in grades for e in g.exercises}
    ordered = sorted(keys, key=lambda k: tuple(int(x) for x in k[0].split(".")))
    return [f"{number} {function}" for number, function in ordered]


def write_csv(grades: Sequence[Grade], out: Path | str) -> Path:
    """Write ``out/grades.csv`` (rewritten): student, lesson, points, max_points, one status
    column per exercise (empty where the row's lesson has no such exercise); rows sorted by
    student then lesson."""
    path = Path(out) / CSV_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = _columns(grades)
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["student", "lesson", "points", "max_points", *columns])
        for g in sorted(grades, key=lambda g: (g.student, g.lesson)):
            status = {f"{e.number} {e.function}": e.status for e in g.exercises}
            row = [g.student, g.lesson, g.points, g.max_points]
            writer.writerow(row + [status.get(c, "") for c in columns])
    return path


def _summary_line(result: Grade) -> str:
    counts: dict[str, int] = {}
    for e in result.exercises:
        counts[e.status] = counts.get(e.status, 0) + 1
    statuses = ", ".join(f"{n} {s}" for s, n in counts.items())
    errors = f", {len(result.errors)} cell error(s)" if result.errors else ""
    return (
        f"{result.student} {result.lesson}: {result.points}/{result.max_points} points "
        f"({statuses}{errors}) in {result.seconds:.1f} s"
    )


def format_grades(grades: Sequence[Grade]) -> str:
    """``student | lesson | points | seconds | problems`` table and a total line."""
    rows = [("student", "lesson", "points", "seconds", "problems")]
    for g in sorted(grades, key=lambda g: (g.student, g.lesson)):
        problems = "; ".join(str(e) for e in g.errors[:2])
        problems += f"; ... {len(g.errors) - 2} more" if len(g.errors) > 2 else ""
        rows.append(
            (g.student, g.lesson, f"{g.points}/{g.max_points}", f"{g.seconds:.1f}", problems)
        )
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = [" | ".join([*(r[i].ljust(widths[i]) for i in range(4)), r[4]]).rstrip() for r in rows]
    lines.insert(1, "-|-".join("-" * w for w in [*widths, 8]))
    total = sum(g.seconds for g in grades)
    lines.append(f"{len(grades)} submission(s) graded in {total:.1f} s")
    return "\n".join(lines)


def grade(
    paths: Sequence[Path | str],
    out: Path | str = DEFAULT_OUT,
    student: str | None = None,
    timeout: int = DEFAULT_TIMEOUT,
    full: bool = False,
    root: Path | str | None = None,
) -> list[Grade]:
    """Grade every submission (checked first: CourseError naming the file if one is missing,
    not a notebook or of no lesson), write each one's reports and ``out/grades.csv``, print a
    line per submission (with progress when there are several) and a final table."""
    if not paths:
        raise CourseError("no submission given: posekit course grade STUDENT/NN_name.ipynb ...")
    if timeout < 1:
        raise CourseError(f"--timeout {timeout}: give the seconds a cell may run (at least 1)")
    if student is not None and len(paths) > 1:
        raise CourseError("--student names the student of a single submission; got several")
    jobs, seen = [], {}
    for path in map(Path, paths):
        solution = find_lesson(path, root)
        who = student_of(path, student)
        key = (who, solution.stem)
        if key in seen:
            raise CourseError(f"{path}: {who} {solution.stem} is also given as {seen[key]}")
        seen[key] = path
        jobs.append((path, solution, who))
    grades = []
    for i, (path, solution, who) in enumerate(jobs, 1):
        if len(jobs) > 1:
            print(f"[{i}/{len(jobs)}] grading {path} ...", flush=True)
        result = grade_notebook(path, solution, who, timeout=timeout, full=full)
        write_report(result, out)
        grades.append(result)
        print(_summary_line(result), flush=True)
    csv_path = write_csv(grades, out)
    print(format_grades(grades))
    print(f"reports in {Path(out)}/<student>/, class table {csv_path}")
    return grades


# --------------------------------------------------------------------------- release

# Never released: at the top, instructor material, CI, build outputs, environments, data,
# grades; anywhere, caches and git metadata.
_SKIP_TOP = frozenset(
    {SOLUTIONS, "tests", ".ci", "build", "dist", "data", "runs", DEFAULT_OUT, ".venv", "venv"}
)
_SKIP_ANYWHERE = frozenset(
    {
        ".git",
        "__pycache__",
        ".pytest_cache",
        ".ruff_cache",
        ".mypy_cache",
        ".ipynb_checkpoints",
        ".hypothesis",
    }
)
_SKIP_SUFFIXES = (".egg-info", ".pyc", ".ckpt")


@dataclass
class Release:
    """What ``release`` wrote: ``files`` (paths relative to ``dest``) and their total bytes."""

    dest: Path
    files: list[str]
    bytes: int


def _skipped(rel: str) -> bool:
    parts = rel.split("/")
    if len(parts) > 1 and parts[0] in _SKIP_TOP:
        return True
    return any(p in _SKIP_ANYWHERE or p.endswith(_SKIP_SUFFIXES) for p in parts)


def _git_files(root: Path) -> list[str] | None:
    """The tracked files under ``root`` (relative, posix); None if it is no git checkout or
    nothing under it is tracked."""
    try:
        done = subprocess.run(
            ["git", "-C", str(root), "ls-files", "-z"],
            capture_output=True,
            check=True,
            timeout=60,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    names = done.stdout.decode("utf-8", "surrogateescape").split("\0")
    return [n for n in names if n and (root / n).is_file()] or None  # none: untracked copy


def _walk_files(root: Path, dest: Path) -> list[str]:
    """Every file under ``root`` (relative, posix), not descending into ``dest``."""
    found = []
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        rel = here.relative_to(root)
        dirs[:] = sorted(
            d
            for d in dirs
            if (here / d).resolve() != dest and not _skipped((rel / d / "x").as_posix())
        )
        found += [(here / f).relative_to(root).as_posix() for f in sorted(files)]
    return found


def release_files(root: Path | str, dest: Path | str | None = None) -> list[str]:
    """The files of the student tree (relative to ``root``): tracked files if ``root`` is a
    git checkout, else every file, minus ``solutions/``, ``tests/``, ``.ci/``, build outputs,
    environments, caches and ``grades/``."""
    root = Path(root).resolve()
    dest = Path(dest).resolve() if dest is not None else root / ".posekit-no-dest"
    files = _git_files(root)
    if files is None:
        files = _walk_files(root, dest)
    return sorted(f for f in files if not _skipped(f))


def _notebook_problems(root: Path) -> list[str]:
    """``course.check`` problems saying ``notebooks/`` is not what the build writes."""
    from posekit.course import check

    return [p for p in check(root) if "posekit course build" in p]


def _release_leaks(root: Path, staged: Path, files: list[str]) -> list[str]:
    """Solution / hidden-test lines and markers found in the released notebooks, checked
    against every lesson of ``root/solutions`` (each lesson's student notebook against its
    own lesson, any other notebook against all of them)."""
    from posekit.course import _build_lesson, _leaks

    lessons = {p.name: _build_lesson(p) for p in lesson_files(root, SOLUTIONS)}
    found: list[str] = []
    for name in lessons:
        if f"{NOTEBOOKS}/{name}" not in files:
            found.append(f"{NOTEBOOKS}/{name} is not in the release (is it committed?)")
    for rel in (f for f in files if f.endswith(".ipynb")):
        committed = _read_notebook(staged / rel)
        own = lessons.get(Path(rel).name) if rel.startswith(f"{NOTEBOOKS}/") else None
        for lesson in [own] if own else lessons.values():
            found += _leaks(committed, lesson, rel, f"{SOLUTIONS}/{lesson.source.name}")
    return list(dict.fromkeys(found))


def _check_dest(dest: Path, root: Path, force: bool) -> None:
    if dest.is_relative_to(root) or root.is_relative_to(dest):
        raise CourseError(
            f"{dest}: cannot release into the course checkout, a folder in it or above it"
        )
    if dest.exists() and not dest.is_dir():
        raise CourseError(f"{dest}: exists and is not a folder")
    if dest.is_dir() and any(dest.iterdir()) and not force:
        raise CourseError(f"{dest} is not empty: choose a new folder or pass --force to replace it")


def _install(staged: Path, dest: Path) -> None:
    """Replace ``dest``'s contents with ``staged``'s (both on the same file system)."""
    if not dest.exists():
        staged.rename(dest)
        return
    for old in dest.iterdir():
        shutil.rmtree(old) if old.is_dir() and not old.is_symlink() else old.unlink()
    for new in staged.iterdir():
        new.rename(dest / new.name)
    staged.rmdir()


def release(dest: Path | str, root: Path | str | None = None, force: bool = False) -> Release:
    """Write the student tree (``release_files``) to ``dest``. Refuses (CourseError, nothing
    written) a non-empty ``dest`` unless ``force`` (then its contents are replaced), a
    ``notebooks/`` that ``posekit course build`` would change, and any solution / hidden-test
    line or marker in the released notebooks (each problem names the file and cell)."""
    root = course_root(root)
    dest = Path(dest).resolve()
    _check_dest(dest, root, force)
    files = release_files(root, dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    staged = Path(tempfile.mkdtemp(prefix=f".{dest.name}.release-", dir=dest.parent))
    try:
        for rel in files:
            target = staged / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(root / rel, target, follow_symlinks=False)
        problems = _release_leaks(root, staged, files) + _notebook_problems(root)
        if problems:
            shown = "\n".join(f"  {p}" for p in problems)
            raise CourseError(f"not releasing to {dest}:\n{shown}")
        _install(staged, dest)
    finally:
        if staged.exists():
            shutil.rmtree(staged)
    size = sum((dest / rel).lstat().st_size for rel in files)
    return Release(dest, files, size)
