"""Course tooling: build student notebooks from solutions, check the course, run lessons.

The single source of every lesson is ``solutions/NN_name.ipynb`` (instructor version). Exercise
code sits between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` inside a function body;
``### BEGIN HIDDEN TESTS`` / ``### END HIDDEN TESTS`` regions are instructor-only asserts; cells
tagged ``solution-only`` are instructor-only. ``build`` writes ``notebooks/NN_name.ipynb``:

* each solution region in a code cell becomes, at the marker's indentation,
  ``# YOUR CODE HERE`` + ``raise NotImplementedError("Exercise N.M: <function>")``
  (N = lesson number, M = exercise number in the notebook, from 1);
* a solution region in a markdown cell becomes ``*Your answer here.*``;
* hidden-test regions and ``solution-only`` cells are dropped;
* outputs, execution counts and timing metadata are stripped, cell ids are ``"0", "1", ...``
  and the notebook metadata is normalised, so the file is exactly what ``nbstripout`` leaves
  and a rebuild gives identical bytes;
* a first markdown cell says the file is generated.

``build`` also writes nbgrader's cell metadata (schema 3) into the solution notebooks, derived
from the markers (see ``_nbgrader_metadata``), so nbgrader's ``generate_assignment`` and
``autograde`` run on ``solutions/`` as they are: exercise cells are autograded answers, each
check cell is a locked test cell worth one point per exercise (its hidden
``checks.require("<function>")`` makes it raise unless the check passed), instructor notes are
0-point tasks whose mark-scheme region nbgrader removes.

``check`` rebuilds in memory and lints (fast, no kernel); ``run`` executes lessons headless
with nbclient. The CLI (``posekit course build|check|run``) calls these functions.
"""

from __future__ import annotations

import ast
import copy
import importlib
import os
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "CourseError",
    "Exercise",
    "RunResult",
    "build",
    "check",
    "course_root",
    "exercises",
    "format_table",
    "lesson_files",
    "lesson_number",
    "run",
    "student_notebook",
]

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"
END_HIDDEN = "### END HIDDEN TESTS"
_MARKERS = {
    BEGIN_SOLUTION: ("solution", True),
    END_SOLUTION: ("solution", False),
    BEGIN_HIDDEN: ("hidden", True),
    END_HIDDEN: ("hidden", False),
}
_BEGIN_OF = {"solution": BEGIN_SOLUTION, "hidden": BEGIN_HIDDEN}
_NEAR_MARKER = re.compile(r"^#+\s*(begin|end)\s+(solution|hidden\s+tests?)\b", re.IGNORECASE)
SOLUTION_ONLY_TAG = "solution-only"
BEGIN_MARK_SCHEME = "### BEGIN MARK SCHEME"
END_MARK_SCHEME = "### END MARK SCHEME"
NBGRADER_SCHEMA = 3


def _looks_like_marker(stripped: str) -> bool:
    """A comment or heading that resembles a marker, or a line holding one among other text."""
    return bool(_NEAR_MARKER.search(stripped)) or any(m in stripped for m in _MARKERS)


ANSWER_PLACEHOLDER = "*Your answer here.*"
STUB_COMMENT = "# YOUR CODE HERE"

SOLUTIONS = "solutions"
NOTEBOOKS = "notebooks"
_LESSON_NAME = re.compile(r"^(\d{2})_[A-Za-z0-9][\w-]*\.ipynb$")

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
LANGUAGE_INFO = {
    "codemirror_mode": {"name": "ipython", "version": 3},
    "file_extension": ".py",
    "mimetype": "text/x-python",
    "name": "python",
    "nbconvert_exporter": "python",
    "pygments_lexer": "ipython3",
}
# Cell metadata kept in student notebooks; everything else (timing, scroll state, ...) goes.
_KEEP_CELL_METADATA = ("deletable", "editable", "jupyter", "slideshow", "tags")
# What nbstripout (0.9, default settings) removes besides outputs, counts and ids.
_NBSTRIPOUT_CELL_KEYS = (
    "collapsed",
    "ExecuteTime",
    "execution",
    "heading_collapsed",
    "hidden",
    "scrolled",
)
_NBSTRIPOUT_NB_KEYS = ("signature", "widgets")


class CourseError(RuntimeError):
    """A course file is missing, misnamed or malformed (message says what to do)."""


@dataclass(frozen=True)
class Exercise:
    """One solution region of a lesson (``number`` is ``"N.M"``)."""

    number: str
    function: str | None
    cell: int  # index in the solution notebook (0-based, as nbval and nbstripout ids)
    line: int  # 1-based line of ``### BEGIN SOLUTION`` in that cell
    student_cell: int  # index in the student notebook


@dataclass
class RunResult:
    """Outcome of running one lesson notebook headless."""

    lesson: str  # two-digit prefix, e.g. "03"
    path: Path
    seconds: float
    ok: bool
    error: str | None = None  # "cell 4: ValueError: ..." for the first failing cell
    cell: int | None = None  # index of the failing cell
    mode: str = "quick"  # "quick" | "full"


# ----------------------------------------------------------------------------------- files


def course_root(root: Path | str | None = None) -> Path:
    """The course checkout: ``root`` if given, else the repository posekit runs from
    (``posekit.config.repo_root()``), else the current directory; it must hold ``solutions/``."""
    if root is not None:
        root = Path(root).resolve()
        if not (root / SOLUTIONS).is_dir():
            raise CourseError(f"{root} is not a course checkout: it has no {SOLUTIONS}/ folder")
        return root
    from posekit.config import repo_root

    candidates = [repo_root(), Path.cwd()]
    for cand in candidates:
        if cand is not None and (cand / SOLUTIONS).is_dir():
            return cand.resolve()
    raise CourseError(
        f"no course checkout found: neither the posekit repository ({candidates[0]}) nor the "
        f"current directory ({candidates[1]}) has a {SOLUTIONS}/ folder; run from the "
        "repository root or pass its path"
    )


def lesson_files(root: Path | str, folder: str = SOLUTIONS) -> list[Path]:
    """The notebooks directly in ``root/folder`` (sorted by name; [] if the folder is missing).
    Names are not validated here: ``lesson_number`` does that."""
    path = Path(root) / folder
    if not path.is_dir():
        return []
    return sorted(p for p in path.glob("*.ipynb") if p.is_file())


def lesson_number(path: Path | str) -> int:
    """The lesson number of ``NN_name.ipynb`` (``03_heatmaps.ipynb`` -> 3)."""
    name = Path(path).name
    match = _LESSON_NAME.match(name)
    if not match:
        raise CourseError(
            f"{name}: a lesson notebook must be named NN_name.ipynb with a two-digit prefix "
            "(e.g. 03_heatmaps.ipynb)"
        )
    return int(match.group(1))


def _prefix(path: Path) -> str:
    return f"{lesson_number(path):02d}"


def _wanted(lessons: Sequence[str | int] | None) -> set[int] | None:
    if lessons is None:
        return None
    wanted = set()
    for item in lessons:
        match = re.match(r"\d+", str(item).strip())
        if not match:
            raise CourseError(f"lesson {item!r}: give the lesson number, e.g. 3 or 03")
        wanted.add(int(match.group(0)))
    return wanted


def _select(files: list[Path], lessons: Sequence[str | int] | None, where: str) -> list[Path]:
    numbers = {p: lesson_number(p) for p in files}
    wanted = _wanted(lessons)
    if wanted is None:
        return files
    missing = wanted - set(numbers.values())
    if missing:
        have = ", ".join(f"{n:02d}" for n in sorted(set(numbers.values()))) or "none"
        miss = ", ".join(f"{n:02d}" for n in sorted(missing))
        raise CourseError(f"no lesson {miss} in {where} (lessons there: {have})")
    return [p for p in files if numbers[p] in wanted]


def _rel(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


# ------------------------------------------------------------------------- source analysis


def _python_source(src: str) -> str | None:
    """``src`` with IPython line magics / shell escapes replaced by ``pass`` (line numbers kept);
    None for a cell magic (``%%...``), which is not Python."""
    lines = src.split("\n")
    first = next((ln.strip() for ln in lines if ln.strip()), "")
    if first.startswith("%%"):
        return None
    out = []
    for line in lines:
        stripped = line.lstrip()
        if stripped.startswith(("%", "!")):
            line = line[: len(line) - len(stripped)] + "pass"
        out.append(line)
    return "\n".join(out)


def _compile_error(src: str) -> str | None:
    """The SyntaxError of a code cell (magics tolerated), or None."""
    code = _python_source(src)
    if code is None:
        return None
    try:
        compile(code, "<cell>", "exec")
    except SyntaxError as err:
        return f"SyntaxError: {err.msg} (line {err.lineno})"
    return None


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _is_code_line(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#")


def _function_defs(src: str) -> list[tuple[str, int, int, int]] | None:
    """(name, first line, column, last line) of every def in a cell; None if it does not parse."""
    code = _python_source(src)
    if code is None:
        return None
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return None
    return [
        (node.name, node.lineno, node.col_offset, node.end_lineno or node.lineno)
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    ]


def _enclosing_function(
    lines: list[str], idx: int, defs: list[tuple[str, int, int, int]] | None
) -> str | None:
    """Name of the def whose body holds line ``idx`` (0-based), or None at top level."""
    width = len(_indent(lines[idx]))
    if defs is not None:
        best = None
        for name, first, col, last in defs:
            if not (first - 1 < idx and col < width):
                continue
            # Inside the def's statements, or after its last one with only comments between.
            if idx <= last - 1 or not any(_is_code_line(ln) for ln in lines[last:idx]):
                if best is None or first > best[1]:
                    best = (name, first)
        return best[0] if best else None
    # The cell does not parse: walk back through lines of smaller indentation.
    for line in reversed(lines[:idx]):
        if not _is_code_line(line):
            continue
        ind = len(_indent(line))
        if ind < width:
            match = re.match(r"\s*(?:async\s+)?def\s+(\w+)", line)
            if match:
                return match.group(1)
            if ind == 0:
                return None
            width = ind
    return None


@dataclass
class _Cell:
    """One transformed cell plus what ``check`` needs to know about it."""

    source: str
    changed: bool
    problems: list[tuple[int, str]] = field(default_factory=list)  # (1-based line, message)
    exercises: list[tuple[int, str | None]] = field(default_factory=list)  # (line, function)
    secret: dict[str, str] = field(default_factory=dict)  # stripped line -> "solution"/"hidden"


def _transform_cell(src: str, cell_type: str, lesson: int, first_exercise: int) -> _Cell:
    lines = src.split("\n")
    is_code = cell_type == "code"
    defs = _function_defs(src) if is_code and BEGIN_SOLUTION in src else None
    out: list[str] = []
    result = _Cell(source=src, changed=False)
    state: str | None = None
    start = 0
    for idx, line in enumerate(lines):
        stripped = line.strip()
        marker = _MARKERS.get(stripped)
        if marker is None:
            if _looks_like_marker(stripped):
                result.problems.append(
                    (
                        idx + 1,
                        f"line looks like a marker but is not one: {stripped!r} (markers are "
                        f"exactly '{BEGIN_SOLUTION}', '{END_SOLUTION}', '{BEGIN_HIDDEN}', "
                        f"'{END_HIDDEN}' on their own line)",
                    )
                )
            if state is None:
                out.append(line)
            elif stripped:
                result.secret.setdefault(stripped, state)
            continue
        result.changed = True
        kind, begin = marker
        if begin:
            if state is not None:
                result.problems.append(
                    (
                        idx + 1,
                        f"'{stripped}' inside the {state} region opened at line {start + 1}: "
                        "regions cannot nest",
                    )
                )
                continue
            state, start = kind, idx
            if kind != "solution":
                continue
            if not is_code:
                out.append(ANSWER_PLACEHOLDER)
                continue
            function = _enclosing_function(lines, idx, defs)
            if function is None:
                result.problems.append(
                    (
                        idx + 1,
                        f"'{BEGIN_SOLUTION}' is not inside a function body: exercises must be "
                        "the body (or part of the body) of a def",
                    )
                )
            number = f"{lesson}.{first_exercise + len(result.exercises)}"
            result.exercises.append((idx + 1, function))
            indent = _indent(line)
            out.append(indent + STUB_COMMENT)
            out.append(f'{indent}raise NotImplementedError("Exercise {number}: {function}")')
        else:
            if state != kind:
                where = (
                    f"no '{_BEGIN_OF[kind]}' before it"
                    if state is None
                    else f"the open region is a {state} region (line {start + 1})"
                )
                result.problems.append((idx + 1, f"'{stripped}' does not match: {where}"))
                continue
            state = None
    if state is not None:
        result.problems.append(
            (
                start + 1,
                f"'{_BEGIN_OF[state]}' is never closed in this cell (regions end in the "
                "cell they start in)",
            )
        )
    if result.changed:
        while out and not out[-1].strip():
            out.pop()
        result.source = "\n".join(out)
    return result


# --------------------------------------------------------------------------------- building


@dataclass
class _Lesson:
    """A solution notebook turned into its student notebook, with its lint findings."""

    source: Path
    target_name: str
    nb: Any  # nbformat.NotebookNode
    text: str
    exercises: list[Exercise]
    problems: list[str]  # marker problems (build refuses to write when non-empty)
    secret: dict[str, tuple[str, int]]  # leak candidates: stripped line -> (kind, sol. cell)
    origin: list[int | None]  # student cell index -> solution cell index (None: header)
    nbgrader: list[dict | None]  # nbgrader metadata of each solution cell (None: none)


def _nontrivial(line: str) -> bool:
    return len(line) >= 12 and not line.startswith("#") and any(c.isalnum() for c in line)


def _header_source(rel_source: str) -> str:
    return (
        f"> **Generated file.** This student notebook is generated from `{rel_source}` by "
        "`posekit course build`. Course authors: do not edit it; edit the solution notebook "
        "and run `posekit course build` (changes made here are overwritten).\n"
        ">\n"
        "> Students: fill in each `# YOUR CODE HERE` and run the check cell below it."
    )


def _clean_cell_metadata(metadata: dict) -> dict:
    return {k: copy.deepcopy(metadata[k]) for k in _KEEP_CELL_METADATA if k in metadata}


def _read_notebook(path: Path) -> Any:
    import warnings

    import nbformat

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            nb = nbformat.read(str(path), as_version=4)
            if not isinstance(nb.get("cells"), list):
                raise ValueError("no cells")
            return nb
        except Exception as err:  # noqa: BLE001 - any unreadable notebook is reported the same
            raise CourseError(f"{path}: not a readable notebook ({_first_line(err, 120)})") from err


def _notebook_text(nb: Any) -> str:
    import warnings

    import nbformat

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        text = nbformat.writes(nb, version=4)
    return text if text.endswith("\n") else text + "\n"


def _build_lesson(path: Path) -> _Lesson:
    import nbformat.v4 as v4

    lesson = lesson_number(path)
    solution = _read_notebook(path)
    rel_source = f"{SOLUTIONS}/{path.name}"
    cells = [v4.new_markdown_cell(_header_source(rel_source))]
    origin: list[int | None] = [None]
    exercises: list[Exercise] = []
    problems: list[str] = []
    secret: dict[str, tuple[str, int]] = {}
    for index, cell in enumerate(solution.cells):
        cell_type = cell.get("cell_type")
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(source)
        tags = cell.get("metadata", {}).get("tags", []) or []
        solution_only = SOLUTION_ONLY_TAG in tags
        done = _transform_cell(source, cell_type, lesson, len(exercises) + 1)
        for line, message in done.problems:
            problems.append(f"{rel_source} cell {index} line {line}: {message}")
        for stripped, kind in done.secret.items():
            secret.setdefault(stripped, (kind, index))
        if solution_only:
            for stripped in source.split("\n"):
                secret.setdefault(stripped.strip(), ("solution-only cell", index))
            continue
        for line, function in done.exercises:
            exercises.append(
                Exercise(
                    number=f"{lesson}.{len(exercises) + 1}",
                    function=function,
                    cell=index,
                    line=line,
                    student_cell=len(cells),
                )
            )
        if done.changed and not done.source.strip():
            continue  # the cell held only hidden tests
        metadata = _clean_cell_metadata(cell.get("metadata", {}))
        if cell_type == "code":
            new = v4.new_code_cell(done.source, metadata=metadata)
            if done.changed and not _compile_error(source):
                err = _compile_error(done.source)
                if err:
                    problems.append(
                        f"{rel_source} cell {index}: its student version does not compile "
                        f"({err}); keep a statement outside the removed regions"
                    )
        elif cell_type == "markdown":
            new = v4.new_markdown_cell(done.source, metadata=metadata)
            if cell.get("attachments"):
                new["attachments"] = copy.deepcopy(cell["attachments"])
        else:
            new = v4.new_raw_cell(done.source, metadata=metadata)
        cells.append(new)
        origin.append(index)
    nb = v4.new_notebook(
        cells=cells,
        metadata={"kernelspec": dict(KERNELSPEC), "language_info": copy.deepcopy(LANGUAGE_INFO)},
    )
    nb.nbformat, nb.nbformat_minor = 4, 5
    for i, cell in enumerate(nb.cells):
        cell["id"] = str(i)  # what nbstripout sets: stable across rebuilds
    text = _notebook_text(nb)
    shipped = {ln.strip() for c in nb.cells for ln in c.source.split("\n")}
    secret = {
        line: where for line, where in secret.items() if _nontrivial(line) and line not in shipped
    }
    grading, grading_problems = _nbgrader_metadata(solution.cells, lesson, exercises)
    problems.extend(f"{rel_source} {p}" for p in grading_problems)
    return _Lesson(path, path.name, nb, text, exercises, problems, secret, origin, grading)


# ---------------------------------------------------------------------------------- nbgrader


def _cell_text(cell: Any) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def _whole_region(text: str, begin: str, end: str) -> bool:
    """True when every non-blank line of ``text`` sits inside one ``begin``/``end`` region."""
    lines = [ln.strip() for ln in text.split("\n") if ln.strip()]
    return len(lines) >= 3 and lines[0] == begin and lines[-1] == end


def _grading_cell(grade_id: str, **flags: Any) -> dict:
    meta = {"grade": False, "locked": False, "solution": False, "task": False, **flags}
    return {"grade_id": grade_id, "schema_version": NBGRADER_SCHEMA, **meta}


def _nbgrader_metadata(
    cells: list, lesson: int, exercises: list[Exercise]
) -> tuple[list[dict | None], list[str]]:
    """nbgrader's cell metadata (schema 3) for every solution cell, and what stops it working.

    Roles: a cell holding an exercise is an autograded answer (``solution``); the cell that
    calls ``check_<function>`` is a locked test cell (``grade``) worth one point per
    exercise it checks, and must end in a hidden ``checks.require("<function>")`` (nbgrader
    scores a test cell by whether it raises; a check only prints); other cells with hidden
    tests are locked test cells worth 0; a ``solution-only`` cell is a 0-point task (markdown,
    all of it inside a ``### BEGIN/END MARK SCHEME`` region) or test cell (code, all of it
    hidden), so nbgrader removes it too; markdown and the ``posekit.setup`` cell are locked;
    other code cells carry no metadata (students may change them).
    """
    n = f"{lesson:02d}"
    checked: dict[int, list[Exercise]] = {}
    problems: list[str] = []
    for ex in exercises:
        pattern = re.compile(rf"\bcheck_{re.escape(ex.function or '')}\s*\(")
        for index in range(ex.cell + 1, len(cells)):
            if cells[index].get("cell_type") == "code" and pattern.search(_cell_text(cells[index])):
                checked.setdefault(index, []).append(ex)
                break
    answers = 0
    plan: list[dict | None] = []
    for index, cell in enumerate(cells):
        text, kind = _cell_text(cell), cell.get("cell_type")
        tags = cell.get("metadata", {}).get("tags", []) or []
        stripped = {ln.strip() for ln in text.split("\n")}
        solution, hidden = BEGIN_SOLUTION in stripped, BEGIN_HIDDEN in stripped
        meta = None
        if SOLUTION_ONLY_TAG in tags:
            if kind == "markdown" and _whole_region(text, BEGIN_MARK_SCHEME, END_MARK_SCHEME):
                meta = _grading_cell(f"notes-{n}-cell{index}", task=True, locked=True, points=0)
            elif kind == "code" and _whole_region(text, BEGIN_HIDDEN, END_HIDDEN):
                meta = _grading_cell(f"hidden-{n}-cell{index}", grade=True, locked=True, points=0)
            else:
                problems.append(
                    f"cell {index}: a {SOLUTION_ONLY_TAG} cell must hold nothing outside one "
                    f"region, '{BEGIN_MARK_SCHEME}' ... '{END_MARK_SCHEME}' in markdown or "
                    f"'{BEGIN_HIDDEN}' ... '{END_HIDDEN}' in code, so nbgrader drops it too"
                )
        elif solution and hidden:
            problems.append(
                f"cell {index}: an exercise cell cannot hold hidden tests (nbgrader grades "
                "those cells); put them in the check cell"
            )
        elif solution and kind == "code":
            ex = next(e for e in exercises if e.cell == index)
            meta = _grading_cell(f"exercise-{n}-{ex.number.split('.')[1]}-{ex.function}")
            meta["solution"] = True
        elif solution:
            answers += 1
            meta = _grading_cell(f"answer-{n}-{answers}", grade=True, solution=True, points=0)
        elif index in checked:
            first = checked[index][0]
            grade_id = f"check-{n}-{first.number.split('.')[1]}-{first.function}"
            meta = _grading_cell(grade_id, grade=True, locked=True, points=len(checked[index]))
            for ex in checked[index]:
                if not re.search(rf"\brequire\(\s*['\"]{ex.function}['\"]\s*\)", text):
                    problems.append(
                        f"cell {index}: the check cell of exercise {ex.number} needs a hidden "
                        f"'checks.require(\"{ex.function}\")' between '{BEGIN_HIDDEN}' and "
                        f"'{END_HIDDEN}' (nbgrader scores a cell by whether it raises)"
                    )
        elif hidden:
            meta = _grading_cell(f"hidden-{n}-cell{index}", grade=True, locked=True, points=0)
        elif kind == "markdown" or "posekit.setup(" in text:
            meta = _grading_cell(f"readonly-{n}-cell{index}", locked=True)
        plan.append(meta)
    return plan, problems


def _with_nbgrader(nb: dict, plan: list[dict | None]) -> str | None:
    """The file text of the raw solution notebook ``nb`` (as ``_raw_notebook`` reads it,
    changed in place) with ``plan`` as its cells' nbgrader metadata, or None when it already
    carries exactly that (the text is what nbstripout leaves)."""
    import json

    changed = False
    for cell, meta in zip(nb.get("cells", []), plan, strict=True):
        metadata = cell.setdefault("metadata", {})
        if metadata.get("nbgrader") != meta:
            changed = True
            if meta is None:
                metadata.pop("nbgrader")
            else:
                metadata["nbgrader"] = meta
    if not changed:
        return None
    return json.dumps(nb, indent=1, ensure_ascii=False, sort_keys=True) + "\n"


def student_notebook(path: Path | str) -> str:
    """The student notebook (file text) built from one solution notebook; raises CourseError
    when its markers are malformed."""
    path = Path(path)
    built = _build_lesson(path)
    if built.problems:
        raise CourseError("\n".join(built.problems))
    return built.text


def exercises(path: Path | str) -> list[Exercise]:
    """The exercises of one solution notebook, in order (``number`` "N.M", ``function``, and
    the cell holding each in the solution and in the student notebook)."""
    return _build_lesson(Path(path)).exercises


def build(root: Path | None = None, lessons: Sequence[str] | None = None) -> list[Path]:
    """Write ``notebooks/NN_name.ipynb`` for every ``solutions/NN_name.ipynb`` (or only the
    lessons whose number is in ``lessons``, e.g. ``["03"]``). Returns the student notebook
    paths. Writes nothing (raises CourseError listing every problem) if any marker is wrong."""
    root = course_root(root)
    files = _select(lesson_files(root, SOLUTIONS), lessons, f"{SOLUTIONS}/")
    if not files:
        print(f"posekit course build: no lessons in {root / SOLUTIONS}")
        return []
    built = [_build_lesson(path) for path in files]
    problems = [p for b in built for p in b.problems]
    if problems:
        raise CourseError(
            "not building: fix these markers first\n" + "\n".join(f"  {p}" for p in problems)
        )
    for lesson in built:
        text = _with_nbgrader(_raw_notebook(lesson.source), lesson.nbgrader)
        if text is not None:
            with open(lesson.source, "w", encoding="utf-8", newline="\n") as f:
                f.write(text)
            print(f"{'wrote':9s} {_rel(lesson.source, root)} (nbgrader metadata)")
    out_dir = root / NOTEBOOKS
    out_dir.mkdir(exist_ok=True)
    written = []
    for lesson in built:
        target = out_dir / lesson.target_name
        old = target.read_text(encoding="utf-8") if target.exists() else None
        if old != lesson.text:
            with open(target, "w", encoding="utf-8", newline="\n") as f:
                f.write(lesson.text)
            state = "wrote"
        else:
            state = "unchanged"
        n = len(lesson.exercises)
        print(f"{state:9s} {_rel(target, root)} ({n} exercise{'s' * (n != 1)})")
        written.append(target)
    return written


# --------------------------------------------------------------------------------- checking


def _strip_issues(nb: Any) -> list[str]:
    """Why nbstripout (default settings) would change this notebook; [] when it is clean."""
    outputs, counts, ids, meta = [], [], [], []
    for i, cell in enumerate(nb.get("cells", [])):
        md = cell.get("metadata", {})
        keep = (
            bool(md.get("init_cell"))
            if "init_cell" in md
            else bool(md.get("keep_output")) or "keep_output" in (md.get("tags") or [])
        )
        if cell.get("outputs") and not keep:
            outputs.append(i)
        if cell.get("execution_count") is not None or any(
            o.get("execution_count") is not None for o in cell.get("outputs", [])
        ):
            counts.append(i)
        if "id" in cell and cell["id"] != str(i):
            ids.append(i)
        if any(k in md for k in _NBSTRIPOUT_CELL_KEYS):
            meta.append(i)
    issues = []
    for what, cells in (
        ("outputs", outputs),
        ("execution counts", counts),
        ("cell ids not renumbered", ids),
        ("execution/scroll metadata", meta),
    ):
        if cells:
            shown = ", ".join(map(str, cells[:8])) + (", ..." if len(cells) > 8 else "")
            issues.append(f"{what} in cells {shown}")
    extra = [k for k in _NBSTRIPOUT_NB_KEYS if k in nb.get("metadata", {})]
    if extra:
        issues.append(f"notebook metadata {', '.join(extra)}")
    return issues


def _check_imports(nb: Any) -> tuple[dict[str, str], dict[str, tuple[str, str]]]:
    """Aliases of ``posekit.checks.lessonNN`` modules and of check functions imported from them."""
    modules: dict[str, str] = {}
    functions: dict[str, tuple[str, str]] = {}
    for cell in nb.cells:
        if cell.cell_type != "code" or "posekit" not in cell.source:
            continue
        code = _python_source(cell.source)
        try:
            tree = ast.parse(code or "")
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                for alias in node.names:
                    if node.module == "posekit.checks":
                        modules[alias.asname or alias.name] = f"posekit.checks.{alias.name}"
                    elif node.module.startswith("posekit.checks."):
                        functions[alias.asname or alias.name] = (node.module, alias.name)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("posekit.checks.") and alias.asname:
                        modules[alias.asname] = alias.name
    return modules, functions


def _dotted(node: ast.AST) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def _check_calls(
    source: str, modules: dict[str, str], functions: dict[str, tuple[str, str]]
) -> list[tuple[str, str | None]]:
    """(check function name, module or None if unresolved) for each ``check_*(...)`` call."""
    code = _python_source(source)
    try:
        tree = ast.parse(code or "")
    except SyntaxError:
        return [(m, None) for m in re.findall(r"\b(check_\w+)\s*\(", source)]
    calls = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name):
            if func.id in functions:
                module, name = functions[func.id]
                calls.append((name, module))
            elif func.id.startswith("check_"):
                calls.append((func.id, None))
        elif isinstance(func, ast.Attribute) and func.attr.startswith("check_"):
            owner = _dotted(func.value)
            module = modules.get(owner or "", owner)
            if not (module or "").startswith("posekit.checks"):
                module = None
            calls.append((func.attr, module))
    return calls


def _import_check_module(module: str, cache: dict[str, Any]) -> str | None:
    """Import ``module`` into ``cache``; None on success, else why it failed."""
    if module not in cache:
        try:
            cache[module] = importlib.import_module(module)
        except Exception as err:  # noqa: BLE001 - report any import failure
            cache[module] = f"cannot import {module} ({type(err).__name__}: {err})"
    return cache[module] if isinstance(cache[module], str) else None


def _check_exercises(lesson: _Lesson, rel_source: str, cache: dict[str, Any]) -> list[str]:
    problems = []
    nb = lesson.nb
    default_module = f"posekit.checks.lesson{lesson_number(lesson.source):02d}"
    modules, functions = _check_imports(nb)
    calls_by_cell = [
        _check_calls(c.source, modules, functions) if c.cell_type == "code" else []
        for c in nb.cells
    ]
    for ex in lesson.exercises:
        if ex.function is None:
            continue  # already reported as a marker problem
        wanted = f"check_{ex.function}"
        found = [
            module
            for calls in calls_by_cell[ex.student_cell + 1 :]
            for name, module in calls
            if name == wanted
        ]
        if not found:
            problems.append(
                f"{rel_source} cell {ex.cell}: exercise {ex.number} ({ex.function}) has no "
                f"check cell after it; add a cell calling "
                f"`{default_module}.{wanted}({ex.function})`"
            )
    exercise_names = {f"check_{e.function}" for e in lesson.exercises}
    wanted_by_module: dict[str, dict[str, int]] = {}
    for index, calls in enumerate(calls_by_cell):
        for name, module in calls:
            if module is None and name not in exercise_names:
                continue  # a local helper, not a posekit check
            names = wanted_by_module.setdefault(module or default_module, {})
            names.setdefault(name, lesson.origin[index])
    for module, names in wanted_by_module.items():
        why = _import_check_module(module, cache)
        if why:
            problems.append(f"{rel_source}: {why}; its check cells call {', '.join(names)}")
            continue
        for name, cell in names.items():
            if not callable(getattr(cache[module], name, None)):
                problems.append(
                    f"{rel_source} cell {cell}: calls {name}(...) but {module} has no "
                    f"function {name}"
                )
    return problems


def _leaks(committed: Any, lesson: _Lesson, rel_target: str, rel_source: str) -> list[str]:
    found = []
    for index, cell in enumerate(committed.cells):
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(source)
        for lineno, line in enumerate(source.split("\n"), 1):
            stripped = line.strip()
            if stripped in _MARKERS or _looks_like_marker(stripped):
                found.append(f"{rel_target} cell {index} line {lineno}: leaked marker {stripped!r}")
            elif stripped in lesson.secret:
                kind, origin = lesson.secret[stripped]
                found.append(
                    f"{rel_target} cell {index} line {lineno}: leaked {kind} line "
                    f"{stripped!r} (from {rel_source} cell {origin})"
                )
    if len(found) > 10:
        found = found[:10] + [f"{rel_target}: ... and {len(found) - 10} more leaked lines"]
    return found


def _first_difference(committed: Any, built: Any) -> str:
    a, b = committed.get("cells", []), built.cells
    for i in range(max(len(a), len(b))):
        if i >= len(a) or i >= len(b):
            return f"cell count {len(a)} vs {len(b)} built"
        ca, cb = a[i], b[i]
        src = ca.get("source", "")
        src = "".join(src) if isinstance(src, list) else src
        if ca.get("cell_type") != cb.cell_type or src != cb.source:
            return f"first difference in cell {i}"
    return "metadata, outputs or formatting differ"


def check(root: Path | None = None) -> list[str]:
    """Lint the course without a kernel; returns the problems found ([] = all good).

    (a) every ``notebooks/NN_*.ipynb`` equals what ``build`` writes; no student notebook
        without a solution, no solution without a student notebook; lesson names and numbers;
    (b) markers balanced, not nested, exact, ``### BEGIN SOLUTION`` only inside a def body,
        and the student version of every changed cell still compiles;
    (c) each exercise has a later cell calling ``check_<function>(`` and every posekit check
        called exists (``posekit.checks.lessonNN`` or the module the notebook imports);
    (d) no marker and no solution / hidden-test line in the committed student notebooks;
    (e) ``solutions/`` notebooks are stripped (what ``nbstripout --verify`` demands);
    (f) their nbgrader metadata is what ``build`` writes, every check cell has its hidden
        ``checks.require``, every ``solution-only`` cell is one mark-scheme / hidden region.
    """
    root = course_root(root)
    problems: list[str] = []
    solutions = lesson_files(root, SOLUTIONS)
    notebooks = lesson_files(root, NOTEBOOKS)
    valid = []
    numbers: dict[int, str] = {}
    for path in solutions:
        rel = _rel(path, root)
        try:
            number = lesson_number(path)
        except CourseError as err:
            problems.append(f"{SOLUTIONS}/{err}")
            continue
        if number in numbers:
            problems.append(f"{rel}: lesson number {number:02d} is also used by {numbers[number]}")
        numbers[number] = rel
        valid.append(path)
    source_names = {p.name for p in solutions}
    for path in notebooks:
        if path.name not in source_names:
            problems.append(
                f"{_rel(path, root)} has no source {SOLUTIONS}/{path.name}: delete it or add "
                "the solution notebook"
            )
    cache: dict[str, Any] = {}
    for path in valid:
        rel_source = _rel(path, root)
        try:
            lesson = _build_lesson(path)
        except CourseError as err:
            problems.append(str(err))
            continue
        raw = _raw_notebook(path)
        issues = _strip_issues(raw)
        if issues:
            problems.append(
                f"{rel_source} is not stripped ({'; '.join(issues)}): run `nbstripout {rel_source}`"
            )
        problems.extend(lesson.problems)
        if not lesson.problems and _with_nbgrader(raw, lesson.nbgrader) is not None:
            problems.append(
                f"{rel_source}: its nbgrader metadata is out of date (cells were added, moved "
                "or changed role): run `posekit course build`"
            )
        problems.extend(_check_exercises(lesson, rel_source, cache))
        target = root / NOTEBOOKS / path.name
        rel_target = _rel(target, root)
        if not target.exists():
            problems.append(
                f"{rel_source} has no student notebook {rel_target}: run `posekit course build`"
            )
            continue
        text = target.read_text(encoding="utf-8")
        try:
            committed = _read_notebook(target)
        except CourseError as err:
            problems.append(f"{err}: run `posekit course build`")
            continue
        if not lesson.problems and text != lesson.text:
            problems.append(
                f"{rel_target} is out of date ({_first_difference(committed, lesson.nb)}): "
                "run `posekit course build`"
            )
        problems.extend(_leaks(committed, lesson, rel_target, rel_source))
    return problems


def _raw_notebook(path: Path) -> Any:
    """The notebook as on disk (no upgrade), as nbstripout reads it."""
    import json

    with open(path, encoding="utf-8") as f:
        return json.load(f)


# ---------------------------------------------------------------------------------- running


def _kernel_manager_class() -> type:
    """An AsyncKernelManager whose every kernel is ipykernel in *this* Python (like nbval's
    ``--nbval-current-env``), so a stray user kernelspec named python3 cannot hijack a run."""
    import ipykernel.kernelspec
    from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import default

    class CurrentEnvKernelSpecManager(KernelSpecManager):
        def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
            return KernelSpec(
                resource_dir=ipykernel.kernelspec.RESOURCES,
                **ipykernel.kernelspec.get_kernel_dict(),
            )

    class CurrentEnvKernelManager(AsyncKernelManager):
        @default("kernel_spec_manager")
        def _kernel_spec_manager_default(self) -> KernelSpecManager:
            return CurrentEnvKernelSpecManager(data_dir=self.data_dir)

    return CurrentEnvKernelManager


def _first_line(text: Any, limit: int = 160) -> str:
    """The first line of ``text`` (an error, a message), cut to ``limit`` characters."""
    line = (str(text).strip().split("\n") or [""])[0].strip()
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _run_one(
    path: Path, env: dict[str, str], timeout: int, manager: type
) -> tuple[bool, str | None, int | None]:
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    nb = _read_notebook(path)
    current = {"cell": None}

    def on_cell_start(cell: Any, cell_index: int) -> None:
        current["cell"] = cell_index

    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        kernel_manager_class=manager,
        resources={"metadata": {"path": str(path.parent)}},
        on_cell_start=on_cell_start,
        record_timing=False,
    )
    try:
        client.execute(env=env)
    except CellExecutionError as err:
        cell = current["cell"]
        return False, f"cell {cell}: {err.ename}: {_first_line(err.evalue)}", cell
    except CellTimeoutError:
        cell = current["cell"]
        return False, f"cell {cell}: timed out after {timeout} s", cell
    except DeadKernelError as err:
        cell = current["cell"]
        return False, f"cell {cell}: kernel died ({_first_line(err)})", cell
    except Exception as err:  # noqa: BLE001 - a lesson run reports, it does not crash
        return False, f"{type(err).__name__}: {_first_line(err)}", current["cell"]
    return True, None, None


def run(
    lessons: Sequence[str] | None = None,
    folder: str = SOLUTIONS,
    full: bool = False,
    timeout: int = 600,
    root: Path | None = None,
    check_mode: str | None = None,
) -> list[RunResult]:
    """Execute lessons headless (nbclient, ipykernel of this Python, cwd = the notebook's
    folder) without writing anything back. ``timeout`` is per cell, in seconds.

    Kernel environment: ``POSEKIT_QUICK=0`` if ``full`` else ``1``, ``MPLBACKEND=Agg`` and
    ``POSEKIT_CHECK_MODE`` = ``check_mode``, by default ``strict`` for ``solutions`` and
    ``expect-todo`` for ``notebooks``. Prints a line per lesson and a final table.
    """
    from posekit.config import CHECK_MODES

    root = course_root(root)
    folder_path = Path(folder) if Path(folder).is_absolute() else root / folder
    files = _select(lesson_files(folder_path.parent, folder_path.name), lessons, f"{folder}/")
    if check_mode is None:
        check_mode = "expect-todo" if folder_path.name == NOTEBOOKS else "strict"
    if check_mode not in CHECK_MODES:
        raise CourseError(f"check mode {check_mode!r}: use one of {', '.join(CHECK_MODES)}")
    mode = "full" if full else "quick"
    env = dict(os.environ)
    env.update(POSEKIT_QUICK="0" if full else "1", MPLBACKEND="Agg", POSEKIT_CHECK_MODE=check_mode)
    if not files:
        print(f"posekit course run: no lessons in {folder_path}")
        return []
    print(
        f"posekit course run: {len(files)} lesson(s) from {_rel(folder_path, root)}/, "
        f"{mode} mode, POSEKIT_CHECK_MODE={check_mode}, cell timeout {timeout} s",
        flush=True,
    )
    manager = _kernel_manager_class()
    results = []
    for path in files:
        start = time.perf_counter()
        ok, error, cell = _run_one(path, env, timeout, manager)
        seconds = time.perf_counter() - start
        result = RunResult(_prefix(path), path, seconds, ok, error, cell, mode)
        results.append(result)
        status = "OK" if ok else f"FAIL {error}"
        print(f"{_rel(path, root)}: {status} ({seconds:.1f} s)", flush=True)
    print(format_table(results))
    return results


def format_table(results: Sequence[RunResult]) -> str:
    """``lesson | mode | seconds | status`` table of run results."""
    rows = [("lesson", "mode", "seconds", "status")]
    rows += [
        (r.lesson, r.mode, f"{r.seconds:.1f}", "OK" if r.ok else f"FAIL {r.error}") for r in results
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [
        " | ".join([*(row[i].ljust(widths[i]) for i in range(3)), row[3]]).rstrip() for row in rows
    ]
    lines.insert(1, "-|-".join("-" * w for w in [*widths, 6]))
    failed = sum(not r.ok for r in results)
    total = sum(r.seconds for r in results)
    lines.append(f"{len(results) - failed}/{len(results)} lessons OK in {total:.1f} s")
    return "\n".join(lines)
