"""posekit.grading: grade students' lesson notebooks headless; release the student tree.

Lesson 00 is graded for real (nbclient, a kernel of this Python, quick mode): three students in
one call (module-scoped, shared by the tests) and one tiny notebook with a cell that sleeps
past ``--timeout`` and then kills its kernel. Four notebook runs in all, ~20 s on two cores.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import shutil
from pathlib import Path

import nbformat
import nbformat.v4 as v4
import pytest

from posekit import cli, course, grading

ROOT = Path(__file__).resolve().parents[1]
LESSON = "00_keypoints_datasets_metrics"
SOLUTION = ROOT / "solutions" / f"{LESSON}.ipynb"
STUDENT = ROOT / "notebooks" / f"{LESSON}.ipynb"
COLUMNS = ["0.1 flip_keypoints", "0.2 crop_keypoints", "0.3 pckh_per_joint"]


def _read(path: Path):
    return nbformat.read(str(path), as_version=4)


def _write(nb, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


def _solution_body(number: str) -> str:
    """The lines between the markers of exercise ``number`` in the solution notebook."""
    ex = next(e for e in course.exercises(SOLUTION) if e.number == number)
    lines = _read(SOLUTION).cells[ex.cell].source.split("\n")
    start = lines.index(lines[ex.line - 1])
    end = next(i for i in range(start, len(lines)) if lines[i].strip() == "### END SOLUTION")
    return "\n".join(lines[start + 1 : end])


def _fill(nb, number: str, body: str) -> None:
    """Replace exercise ``number``'s stub (comment + raise) in the student notebook by ``body``."""
    ex = next(e for e in course.exercises(SOLUTION) if e.number == number)
    cell = nb.cells[ex.student_cell]
    stub = (
        f'    # YOUR CODE HERE\n    raise NotImplementedError("Exercise {number}: {ex.function}")'
    )
    assert stub in cell.source
    cell.source = cell.source.replace(stub, body)


def _check_cell(nb, function: str) -> int:
    return next(i for i, c in enumerate(nb.cells) if f"check_{function}(" in c.source)


def _run(fn, *args, **kwargs):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        result = fn(*args, **kwargs)
    return result, out.getvalue()


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """alice: the solution notebook; bob: the student notebook with exercise 0.2 filled in;
    carol: 0.1 answers wrong (no left/right swap), a cell raises, 0.3's check cell deleted."""
    tmp = tmp_path_factory.mktemp("grading")
    alice = tmp / "alice" / f"{LESSON}.ipynb"
    alice.parent.mkdir()
    shutil.copy(SOLUTION, alice)

    bob = _read(STUDENT)
    _fill(bob, "0.2", _solution_body("0.2"))
    bob = _write(bob, tmp / "bob" / f"{LESSON}.ipynb")

    carol = _read(STUDENT)
    wrong = _solution_body("0.1").replace("return out[..., perm, :]", "return out")
    assert wrong != _solution_body("0.1")
    _fill(carol, "0.1", wrong)
    del carol.cells[_check_cell(carol, "pckh_per_joint")]
    # carol kept only the imports and the exercises (a shorter run), and broke a cell
    keep = [
        i
        for i, c in enumerate(carol.cells)
        if "import lesson00" in c.source or c.source.startswith(("def ", "lesson00.check_"))
    ]
    assert len(keep) == 6, keep
    carol.cells = [carol.cells[i] for i in keep]
    carol.cells.insert(2, v4.new_code_cell('raise ValueError("carol broke this cell")'))
    carol = _write(carol, tmp / "carol" / f"{LESSON}.ipynb")

    before = {p: p.read_bytes() for p in (alice, bob, carol)}
    out = tmp / "grades"
    grades, printed = _run(grading.grade, [carol, alice, bob], out=out)
    assert {p: p.read_bytes() for p in before} == before  # nothing written back
    return {g.student: g for g in grades}, out, printed


def _statuses(grade):
    return [e.status for e in grade.exercises]


def test_solution_scores_full_points(graded):
    grades, out, printed = graded
    alice = grades["alice"]
    assert (alice.points, alice.max_points, alice.lesson) == (3, 3, LESSON)
    assert _statuses(alice) == ["PASS"] * 3 and alice.errors == []
    report = json.loads((out / "alice" / f"{LESSON}.json").read_text())
    assert {k: report[k] for k in ("student", "lesson", "points", "max_points")} == {
        "student": "alice",
        "lesson": LESSON,
        "points": 3,
        "max_points": 3,
    }
    assert report["seconds"] > 0 and report["errors"] == []
    assert [
        (e["number"], e["function"], e["status"], e["points"]) for e in report["exercises"]
    ] == [
        ("0.1", "flip_keypoints", "PASS", 1),
        ("0.2", "crop_keypoints", "PASS", 1),
        ("0.3", "pckh_per_joint", "PASS", 1),
    ]
    assert report["exercises"][0]["message"].startswith("[flip_keypoints] PASS")
    md = (out / "alice" / f"{LESSON}.md").read_text()
    assert f"# {LESSON}: alice, 3/3 points" in md
    assert "| exercise | status | points |" in md
    assert "| 0.2 `crop_keypoints` | PASS | 1 |" in md
    assert "alice 00_keypoints_datasets_metrics: 3/3 points" in printed


def test_half_solved_notebook(graded):
    bob = graded[0]["bob"]
    assert _statuses(bob) == ["TODO", "PASS", "TODO"]
    assert (bob.points, bob.max_points) == (1, 3)
    assert [e.points for e in bob.exercises] == [0, 1, 0]
    assert bob.errors == []


def test_wrong_answer_error_cell_and_deleted_check(graded):
    grades, out, _ = graded
    carol = grades["carol"]
    assert _statuses(carol) == ["FAIL", "TODO", "not run"]
    assert carol.points == 0
    fail = carol.exercises[0]
    assert fail.message.startswith("[flip_keypoints] FAIL")
    assert "left and right joints were not swapped" in fail.hint
    # the raising cell is reported with its index in the submission; later checks still ran
    assert [(e.cell, e.kind, e.message) for e in carol.errors] == [
        (2, "error", "ValueError: carol broke this cell")
    ]
    md = (out / "carol" / f"{LESSON}.md").read_text()
    assert "| 0.1 `flip_keypoints` | FAIL | 0 |" in md
    assert "| 0.3 `pckh_per_joint` | not run | 0 |" in md
    assert "### 0.1 `flip_keypoints`: FAIL" in md
    assert f"Hint: {fail.hint}" in md
    assert "- cell 2: ValueError: carol broke this cell" in md
    report = json.loads((out / "carol" / f"{LESSON}.json").read_text())
    assert report["errors"] == [
        {"cell": 2, "kind": "error", "message": "ValueError: carol broke this cell"}
    ]
    assert report["exercises"][2]["status"] == "not run"


def test_class_csv_has_every_student_sorted(graded):
    _, out, printed = graded
    with open(out / "grades.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert rows == [
        ["student", "lesson", "points", "max_points", *COLUMNS],
        ["alice", LESSON, "3", "3", "PASS", "PASS", "PASS"],
        ["bob", LESSON, "1", "3", "TODO", "PASS", "TODO"],
        ["carol", LESSON, "0", "3", "FAIL", "TODO", "not run"],
    ]
    assert "[1/3] grading" in printed and "[3/3] grading" in printed
    assert "3 submission(s) graded" in printed


def test_timeout_and_dead_kernel_are_reported(tmp_path):
    nb = v4.new_notebook(
        cells=[
            v4.new_code_cell("import time\ntime.sleep(10)"),
            v4.new_markdown_cell("after the sleep"),
            v4.new_code_cell('raise RuntimeError("ran after the timeout")'),
            v4.new_code_cell("import os\nos._exit(1)"),
            v4.new_code_cell("print('never runs')"),
        ]
    )
    path = _write(nb, tmp_path / "dave" / f"{LESSON}.ipynb")
    grades, _ = _run(grading.grade, [path], out=tmp_path / "out", timeout=2, student="d4ve")
    dave = grades[0]
    assert dave.student == "d4ve" and (tmp_path / "out" / "d4ve" / f"{LESSON}.json").exists()
    assert _statuses(dave) == ["not run"] * 3 and dave.points == 0
    assert [(e.cell, e.kind) for e in dave.errors] == [
        (0, "timeout"),
        (2, "error"),
        (3, "kernel died"),
    ]
    assert dave.errors[0].message == "timed out after 2 s"
    assert dave.errors[1].message == "RuntimeError: ran after the timeout"
    assert dave.seconds < 9


def test_a_submission_stops_at_its_time_budget(tmp_path):
    # Every cell within its 1 s limit, but 20 of them: the budget (10 x 1 s) ends the run.
    nb = v4.new_notebook(
        cells=[v4.new_code_cell("import time\ntime.sleep(0.8)") for _ in range(20)]
    )
    path = _write(nb, tmp_path / "fred" / f"{LESSON}.ipynb")
    grades, _ = _run(grading.grade, [path], out=tmp_path / "out", timeout=1)
    fred = grades[0]
    assert _statuses(fred) == ["not run"] * 3
    [budget] = fred.errors
    assert budget.kind == "timeout" and budget.message.startswith("the submission used its 10 s")
    assert 10 <= budget.cell + 1 <= 14  # cells that ran before the budget ran out
    assert fred.seconds < 20


def test_reader_lines_that_are_not_results_are_ignored():
    marker = "@@posekit-abc@@"
    good = {"flip_keypoints": {"status": "PASS", "message": "[flip_keypoints] PASS"}}
    assert grading._reader_line(marker + json.dumps(good), marker) == good
    assert grading._reader_line("partial output" + marker + json.dumps(good), marker) == good
    for bad in ("{", "[1, 2]", '{"x": 3}', '{"x": {"status": 1}}', "null"):
        assert grading._reader_line(marker + bad, marker) == {}, bad
    assert grading._reader_line(json.dumps(good), marker) == {}


def test_student_ids(tmp_path):
    pool = _write(v4.new_notebook(), tmp_path / "pool" / f"{LESSON}.ipynb")
    link = tmp_path / "alice" / f"{LESSON}.ipynb"
    link.parent.mkdir()
    link.symlink_to(pool)
    assert grading.student_of(link) == "alice"  # the folder it was handed in, not the target
    for bad in ("grades.csv", "a|b", "a\nb", "..", ""):
        with pytest.raises(course.CourseError, match="is not a plain name"):
            grading.student_of(link, bad)
    with pytest.raises(course.CourseError, match="--timeout 0"):
        grading.grade([link], out=tmp_path / "out", timeout=0)


def _cli(capsys, *argv):
    code = cli.main(["course", *map(str, argv)])
    captured = capsys.readouterr()
    return code, captured.err.strip().split("\n")


def test_cli_errors_are_one_line(tmp_path, capsys):
    missing = tmp_path / "erin" / f"{LESSON}.ipynb"
    code, err = _cli(capsys, "grade", "--timeout", "5", missing)
    assert code == 2 and err == [f"posekit course grade: error: {missing}: no such file"]

    unknown = _write(v4.new_notebook(), tmp_path / "erin" / "99_nothing.ipynb")
    code, err = _cli(capsys, "grade", unknown)
    assert code == 2 and len(err) == 1
    assert str(unknown) in err[0] and "matches no lesson" in err[0]

    garbage = tmp_path / "erin" / f"{LESSON}.ipynb"
    garbage.write_text("not json {")
    code, err = _cli(capsys, "grade", garbage)
    assert code == 2 and len(err) == 1
    assert f"{garbage}: not a readable notebook" in err[0]

    code, err = _cli(capsys, "grade", unknown, garbage, "--student", "x")
    assert code == 2 and "single submission" in err[0]


# ------------------------------------------------------------------------------- release


def test_release_is_the_student_tree(tmp_path, capsys):
    dest = tmp_path / "release"
    assert cli.main(["course", "release", str(dest)]) == 0
    assert "students run `make lab` there" in capsys.readouterr().out
    assert (dest / "notebooks" / f"{LESSON}.ipynb").is_file()
    assert (dest / "posekit" / "course.py").is_file() and (dest / "Makefile").is_file()
    for gone in ("solutions", "tests", ".ci", ".git", ".venv"):
        assert not (dest / gone).exists(), gone
    assert not list(dest.rglob("__pycache__"))
    assert (dest / "notebooks" / f"{LESSON}.ipynb").read_bytes() == STUDENT.read_bytes()


def test_release_refuses_a_folder_inside_the_checkout(tmp_path):
    for inside in (ROOT / "solutions", ROOT / "build" / "student"):
        with pytest.raises(course.CourseError, match="a folder in it or above it"):
            grading.release(inside, root=ROOT, force=True)
    assert (ROOT / "solutions" / f"{LESSON}.ipynb").exists()


def test_release_refuses_non_empty_dir_without_force(tmp_path, capsys):
    dest = tmp_path / "release"
    dest.mkdir()
    (dest / "old.txt").write_text("stale")
    code, err = _cli(capsys, "release", dest)
    assert code == 2 and err == [
        f"posekit course release: error: {dest} is not empty: choose a new folder or pass "
        "--force to replace it"
    ]
    assert (dest / "old.txt").exists()
    assert cli.main(["course", "release", str(dest), "--force"]) == 0
    assert not (dest / "old.txt").exists() and (dest / "notebooks").is_dir()


def test_release_refuses_a_leaked_solution_line(tmp_path):
    root = tmp_path / "course"  # not a git checkout: every file but the skipped ones
    (root / "solutions").mkdir(parents=True)
    shutil.copy(SOLUTION, root / "solutions")
    (root / "tests").mkdir()
    (root / "tests" / "test_x.py").write_text("")
    (root / "README.md").write_text("course\n")
    nb = _read(STUDENT)
    index = _check_cell(nb, "flip_keypoints") - 1
    leaked = "perm = skeletons.get_skeleton(skeleton).flip_permutation()"
    nb.cells[index].source += f"\n    {leaked}"
    _write(nb, root / "notebooks" / f"{LESSON}.ipynb")
    dest = tmp_path / "release"
    with pytest.raises(course.CourseError) as err:
        grading.release(dest, root=root)
    message = str(err.value)
    assert f"notebooks/{LESSON}.ipynb cell {index} line 4: leaked solution line" in message
    assert leaked in message and "is out of date" in message
    assert not dest.exists() and [p.name for p in tmp_path.iterdir()] == ["course"]

    shutil.copy(STUDENT, root / "notebooks")  # the built notebook: released
    done = grading.release(dest, root=root)
    assert sorted(done.files) == ["README.md", f"notebooks/{LESSON}.ipynb"]
    assert not (dest / "solutions").exists() and not (dest / "tests").exists()
