"""The course's sources under real nbgrader: generate_assignment on every lesson, and autograde
(a solved submission gets full marks, the untouched release gets zero): lesson 00 always,
every lesson with ``POSEKIT_GRADE_EVERY_LESSON=1``.

Needs the ``grade`` extra (``pip install -e ".[grade]"``, which CI installs).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from posekit import course

nbgrader = pytest.importorskip(
    "nbgrader", reason="nbgrader is not installed: pip install -e '.[grade]' (CI installs it)"
)

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))
NBGRADER_STUB = ["# YOUR CODE HERE", "raise NotImplementedError()"]


def run_nbgrader(course_dir: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(
        os.environ,
        POSEKIT_QUICK="1",
        MPLBACKEND="Agg",
        OMP_NUM_THREADS="1",
        POSEKIT_THREADS="1",
        # nbgrader runs `alembic` (its database migrations) from PATH: this environment's
        PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
    )
    env.pop("POSEKIT_CHECK_MODE", None)  # graders run the student default
    res = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args],
        cwd=course_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert res.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{res.stderr[-3000:]}"
    return res


def new_course(tmp: Path, lessons: list[Path]) -> Path:
    """An nbgrader course folder with one assignment per lesson (its solution notebook)."""
    (tmp / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.root = {str(tmp)!r}\n"
        "c.CourseDirectory.course_id = 'posekit'\nc.Execute.timeout = 300\n"
    )
    for path in lessons:
        folder = tmp / "source" / assignment(path)
        folder.mkdir(parents=True)
        shutil.copy(path, folder / path.name)
    return tmp


def assignment(path: Path) -> str:
    return f"lesson{path.name[:2]}"


def code_lines(source: str) -> list[str]:
    return [ln.strip() for ln in source.split("\n") if ln.strip()]


def strip_stub(lines: list[str]) -> list[str]:
    """Drop the stub lines (nbgrader's and posekit's differ only in the error message)."""
    return [
        ln
        for ln in lines
        if ln != "# YOUR CODE HERE" and not ln.startswith("raise NotImplementedError(")
    ]


@pytest.fixture(scope="module")
def released(tmp_path_factory) -> Path:
    root = new_course(tmp_path_factory.mktemp("nbgrader"), LESSONS)
    for path in LESSONS:
        run_nbgrader(root, "generate_assignment", assignment(path), "--force")
    return root


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name[:2])
def test_generate_assignment_gives_our_student_notebook(released, path):
    release = json.loads((released / "release" / assignment(path) / path.name).read_text())
    ours = json.loads((ROOT / "notebooks" / path.name).read_text())
    # Same cells as the student notebook (ours starts with a "generated file" note), the same
    # code apart from the stub's message, nothing of the solutions, hidden tests or notes.
    cells = [c for c in release["cells"] if "".join(c["source"]).strip()]
    assert len(cells) == len(ours["cells"]) - 1
    for mine, theirs in zip(ours["cells"][1:], cells, strict=True):
        assert mine["cell_type"] == theirs["cell_type"]
        a, b = code_lines("".join(mine["source"])), code_lines("".join(theirs["source"]))
        assert strip_stub(a) == strip_stub(b)
    secret = course._build_lesson(path).secret  # solution, hidden-test and notes lines
    shipped = {ln.strip() for c in release["cells"] for ln in "".join(c["source"]).split("\n")}
    assert secret and not shipped & set(secret)
    stubs = sum("".join(c["source"]).count("raise NotImplementedError()") for c in cells)
    assert stubs == len(course.exercises(path))
    points = sum(c["metadata"]["nbgrader"].get("points", 0) for c in cells if c["metadata"])
    assert points == len(course.exercises(path))


def solved_copy(release: Path, solution: Path, dest: Path) -> None:
    """The released notebook with every exercise cell filled in as the solution has it (what a
    student who solved everything hands in)."""
    nb = json.loads(release.read_text())
    by_id = {
        c["metadata"]["nbgrader"]["grade_id"]: "".join(c["source"])
        for c in json.loads(solution.read_text())["cells"]
        if c["metadata"].get("nbgrader", {}).get("solution")
    }
    filled = 0
    for cell in nb["cells"]:
        grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if grade_id in by_id:
            body = re.sub(r"\n\s*### (BEGIN|END) SOLUTION", "", by_id[grade_id])
            cell["source"] = body
            filled += 1
    assert filled == len(by_id)
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(json.dumps(nb))


EVERY_LESSON = os.environ.get("POSEKIT_GRADE_EVERY_LESSON") == "1"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name[:2])
def test_autograde_solved_full_marks_untouched_zero(released, path):
    """Lesson 00 in CI; every lesson with POSEKIT_GRADE_EVERY_LESSON=1 (about 10 minutes)."""
    from nbgrader.api import Gradebook

    if path != LESSONS[0] and not EVERY_LESSON:
        pytest.skip("autograde of lessons 01-06: set POSEKIT_GRADE_EVERY_LESSON=1")
    name = assignment(path)
    exercises = len(course.exercises(path))
    release = released / "release" / name / path.name
    solved_copy(release, path, released / "submitted" / "solver" / name / path.name)
    untouched = released / "submitted" / "starter" / name / path.name
    untouched.parent.mkdir(parents=True)
    shutil.copy(release, untouched)
    for student in ("solver", "starter"):
        run_nbgrader(released, "autograde", name, "--student", student, "--create")
    with Gradebook(f"sqlite:///{released / 'gradebook.db'}") as gb:
        solver = gb.find_submission(name, "solver")
        starter = gb.find_submission(name, "starter")
        scores = {
            s: {g.name: g.auto_score for g in sub.notebooks[0].grades}
            for s, sub in (("solver", solver), ("starter", starter))
        }
        assert solver.max_score == exercises
        assert solver.score == solver.max_score, scores
        assert starter.score == 0, scores
    graded = json.loads((released / "autograded" / "starter" / name / path.name).read_text())
    errors = [
        o["ename"]
        for c in graded["cells"]
        for o in c.get("outputs", [])
        if o["output_type"] == "error"
    ]
    assert errors.count("AssertionError") == exercises  # each check cell's hidden require
