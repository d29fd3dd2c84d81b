"""posekit.course: build student notebooks, check the course, run lessons headless.

Every fixture course is written into a tmp dir with nbformat; the fake check module
``posekit.checks.lesson99`` is put into ``sys.modules`` so these tests do not depend on the real
``posekit.checks`` package.
"""

from __future__ import annotations

import json
import subprocess
import sys
import types
from pathlib import Path

import nbformat
import nbformat.v4 as v4
import pytest

from posekit import course

FLIP = '''def flip_keypoints(kpts, width):
    """Mirror (K, 2) keypoints left-right in an image `width` pixels wide."""
    kpts = kpts.copy()
    ### BEGIN SOLUTION
    kpts[:, 0] = width - 1 - kpts[:, 0]
    return kpts
    ### END SOLUTION'''

DECODE = """class Decoder:
    def decode(
        self,
        heat,
    ):
        if heat is not None:
            ### BEGIN SOLUTION
            flat_index = heat.reshape(-1).argmax()
            return divmod(flat_index, heat.shape[1])
            ### END SOLUTION
        return None"""

CHECK_FLIP = """checks.check_flip_keypoints(flip_keypoints)
### BEGIN HIDDEN TESTS
assert flip_keypoints(np.zeros((1, 2)), 5)[0, 0] == 4
posekit.checks.require("flip_keypoints")
### END HIDDEN TESTS"""

CHECK_DECODE = """posekit.checks.lesson99.check_decode(Decoder().decode)
### BEGIN HIDDEN TESTS
posekit.checks.require("decode")
### END HIDDEN TESTS"""

ANSWER = """Why does the argmax give the peak?

### BEGIN SOLUTION
Because a Gaussian heatmap is largest at its centre.
### END SOLUTION

Think about it."""


def solution_cells() -> list:
    return [
        v4.new_markdown_cell("# Lesson 99: fixture\n\nA tiny lesson."),
        v4.new_code_cell(
            "%load_ext autoreload\nimport numpy as np\nimport posekit\n"
            "from posekit.checks import lesson99 as checks"
        ),
        v4.new_markdown_cell("## Exercise 1\nFlip keypoints."),
        v4.new_code_cell(FLIP),
        v4.new_code_cell(CHECK_FLIP),
        v4.new_code_cell(DECODE),
        v4.new_code_cell(CHECK_DECODE),
        v4.new_markdown_cell(ANSWER),
        v4.new_code_cell(
            "### BEGIN HIDDEN TESTS\nassert Decoder().decode(None) is None\n### END HIDDEN TESTS"
        ),
        v4.new_code_cell(
            "### BEGIN HIDDEN TESTS\nprint('instructor notes: kpts[:, 0] = width - 1 - kpts[:, 0]')"
            "\n### END HIDDEN TESTS",
            metadata={"tags": ["solution-only"]},
        ),
        v4.new_code_cell("print('done')", metadata={"tags": ["keep-me"], "scrolled": True}),
    ]


def write_nb(path: Path, cells: list, stripped: bool = True) -> Path:
    """A notebook as an author's Jupyter would save it after `nbstripout`."""
    nb = v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {
        "display_name": "Python 3",
        "language": "python",
        "name": "python3",
    }
    nb.metadata["language_info"] = {"name": "python", "version": "3.11.9"}
    if stripped:
        for i, cell in enumerate(nb.cells):
            cell.id = str(i)
            cell.metadata.pop("scrolled", None)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


@pytest.fixture
def fake_checks(monkeypatch):
    module = types.ModuleType("posekit.checks.lesson99")
    module.check_flip_keypoints = lambda fn: print("PASS")
    module.check_decode = lambda fn: print("PASS")
    monkeypatch.setitem(sys.modules, "posekit.checks.lesson99", module)
    return module


@pytest.fixture
def root(tmp_path: Path) -> Path:
    write_nb(tmp_path / "solutions" / "99_fixture.ipynb", solution_cells())
    return tmp_path


def built_cells(root: Path) -> list[dict]:
    with open(root / "notebooks" / "99_fixture.ipynb", encoding="utf-8") as f:
        return json.load(f)["cells"]


def src(cell: dict) -> str:
    return "".join(cell["source"])


def nbstripout_verify(*paths: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "nbstripout", "--verify", *map(str, paths)],
        capture_output=True,
        text=True,
        cwd=paths[0].parent,
    )


def tolerant_compile(source: str, name: str) -> None:
    lines = [
        line[: len(line) - len(line.lstrip())] + "pass" if line.lstrip().startswith("%") else line
        for line in source.split("\n")
    ]
    compile("\n".join(lines), name, "exec")


def edit_solution(root: Path, index: int, source: str) -> None:
    path = root / "solutions" / "99_fixture.ipynb"
    nb = nbformat.read(str(path), as_version=4)
    nb.cells[index].source = source
    nbformat.write(nb, str(path))


# ------------------------------------------------------------------------------ file helpers


def test_lesson_number_and_files(tmp_path):
    assert course.lesson_number("solutions/03_heatmaps.ipynb") == 3
    assert course.lesson_number(Path("00_keypoints.ipynb")) == 0
    for bad in ("heatmaps.ipynb", "3_heatmaps.ipynb", "103_x.ipynb", "03-x.ipynb"):
        with pytest.raises(course.CourseError, match="two-digit prefix"):
            course.lesson_number(bad)
    assert course.lesson_files(tmp_path, "solutions") == []
    write_nb(tmp_path / "solutions" / "01_b.ipynb", [])
    write_nb(tmp_path / "solutions" / "00_a.ipynb", [])
    (tmp_path / "solutions" / ".ipynb_checkpoints").mkdir()
    write_nb(tmp_path / "solutions" / ".ipynb_checkpoints" / "00_a-checkpoint.ipynb", [])
    assert [p.name for p in course.lesson_files(tmp_path, "solutions")] == [
        "00_a.ipynb",
        "01_b.ipynb",
    ]


def test_root_must_have_solutions(tmp_path, monkeypatch):
    with pytest.raises(course.CourseError, match="no solutions/ folder"):
        course.build(tmp_path)
    monkeypatch.setattr("posekit.config.repo_root", lambda: None)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(course.CourseError, match="no course checkout found"):
        course.check()
    (tmp_path / "solutions").mkdir()
    assert course.course_root() == tmp_path.resolve()


# ----------------------------------------------------------------------------------- build


def test_build_student_notebook_exact(root, capsys):
    paths = course.build(root)
    assert paths == [root / "notebooks" / "99_fixture.ipynb"]
    assert "wrote" in capsys.readouterr().out
    cells = built_cells(root)
    header = src(cells[0])
    assert cells[0]["cell_type"] == "markdown"
    assert "generated from `solutions/99_fixture.ipynb`" in header
    assert "posekit course build" in header and "do not edit" in header
    sources = [src(c) for c in cells[1:]]
    assert sources == [
        "# Lesson 99: fixture\n\nA tiny lesson.",
        "%load_ext autoreload\nimport numpy as np\nimport posekit\n"
        "from posekit.checks import lesson99 as checks",
        "## Exercise 1\nFlip keypoints.",
        "def flip_keypoints(kpts, width):\n"
        '    """Mirror (K, 2) keypoints left-right in an image `width` pixels wide."""\n'
        "    kpts = kpts.copy()\n"
        "    # YOUR CODE HERE\n"
        '    raise NotImplementedError("Exercise 99.1: flip_keypoints")',
        "checks.check_flip_keypoints(flip_keypoints)",
        "class Decoder:\n"
        "    def decode(\n"
        "        self,\n"
        "        heat,\n"
        "    ):\n"
        "        if heat is not None:\n"
        "            # YOUR CODE HERE\n"
        '            raise NotImplementedError("Exercise 99.2: decode")\n'
        "        return None",
        "posekit.checks.lesson99.check_decode(Decoder().decode)",
        "Why does the argmax give the peak?\n\n*Your answer here.*\n\nThink about it.",
        "print('done')",
    ]
    types_ = ["markdown", "markdown", "code", "markdown", "code", "code", "code", "code"]
    assert [c["cell_type"] for c in cells] == [*types_, "markdown", "code"]
    # Hidden tests, solution-only cells and every solution line are gone.
    text = (root / "notebooks" / "99_fixture.ipynb").read_text()
    for gone in (
        "BEGIN",
        "END SOLUTION",
        "HIDDEN",
        "width - 1 - kpts",
        "argmax()",
        "divmod",
        "Gaussian heatmap is largest",
        "instructor notes",
        "assert ",
    ):
        assert gone not in text, gone
    # Stripped and normalised: ids 0..n, no outputs/counts, timing metadata gone, tags kept.
    assert [c["id"] for c in cells] == [str(i) for i in range(len(cells))]
    for cell in cells:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None
    assert cells[-1]["metadata"] == {"tags": ["keep-me"]}
    nb = json.loads(text)
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    assert "version" not in nb["metadata"]["language_info"]
    assert (nb["nbformat"], nb["nbformat_minor"]) == (4, 5)


def test_built_code_compiles(root):
    course.build(root)
    for i, cell in enumerate(built_cells(root)):
        if cell["cell_type"] == "code":
            tolerant_compile(src(cell), f"cell {i}")


def test_rebuild_is_byte_identical(root, capsys):
    course.build(root)
    first = (root / "notebooks" / "99_fixture.ipynb").read_bytes()
    course.build(root, lessons=["99"])
    assert (root / "notebooks" / "99_fixture.ipynb").read_bytes() == first
    assert "unchanged notebooks/99_fixture.ipynb (2 exercises)" in capsys.readouterr().out
    assert course.student_notebook(root / "solutions" / "99_fixture.ipynb").encode() == first


def make_unstripped(path: Path) -> None:
    """Give a stripped solution notebook what a Jupyter session leaves behind."""
    nb = nbformat.read(str(path), as_version=4)
    nb.cells[4].outputs = [v4.new_output("stream", name="stdout", text="PASS\n")]
    nb.cells[4].execution_count = 3
    nb.cells[6].metadata["execution"] = {"iopub.status.busy": "2024-01-01T00:00:00"}
    nbformat.write(nb, str(path))


def test_nbstripout_verify_passes(root):
    course.build(root)
    dirty = root / "dirty" / "99_fixture.ipynb"
    dirty.parent.mkdir()
    dirty.write_bytes((root / "solutions" / "99_fixture.ipynb").read_bytes())
    make_unstripped(dirty)
    # One nbstripout run (it takes ~2 s to start): only the unstripped copy needs stripping,
    # so the tool does notice (the test can fail) and the built and solution files are clean.
    res = nbstripout_verify(
        root / "solutions" / "99_fixture.ipynb", root / "notebooks" / "99_fixture.ipynb", dirty
    )
    assert res.returncode == 1
    assert res.stdout.splitlines() == [f"Dry run: would have stripped {dirty}"], res.stderr
    assert course._strip_issues(json.loads(dirty.read_text())) != []  # check agrees


def test_build_selects_lessons(root):
    write_nb(root / "solutions" / "00_intro.ipynb", [v4.new_markdown_cell("# Intro")])
    assert [p.name for p in course.build(root, lessons=["0"])] == ["00_intro.ipynb"]
    assert not (root / "notebooks" / "99_fixture.ipynb").exists()
    with pytest.raises(course.CourseError, match="no lesson 07 in solutions/"):
        course.build(root, lessons=["07"])
    write_nb(root / "solutions" / "intro.ipynb", [])
    with pytest.raises(course.CourseError, match="two-digit prefix"):
        course.build(root)


def test_build_refuses_bad_markers(root):
    edit_solution(root, 3, FLIP.replace("    ### END SOLUTION", ""))
    with pytest.raises(course.CourseError, match=r"cell 3 line 4: '### BEGIN SOLUTION' is never"):
        course.build(root)
    assert not (root / "notebooks").exists()


def nbgrader_of(root: Path) -> list[dict | None]:
    with open(root / "solutions" / "99_fixture.ipynb", encoding="utf-8") as f:
        return [c["metadata"].get("nbgrader") for c in json.load(f)["cells"]]


def grading(grade_id: str, **flags) -> dict:
    meta = {"grade": False, "locked": False, "solution": False, "task": False, **flags}
    return {"grade_id": grade_id, "schema_version": 3, **meta}


def test_build_writes_nbgrader_metadata_into_the_solutions(root, capsys):
    course.build(root)
    assert "wrote     solutions/99_fixture.ipynb (nbgrader metadata)" in capsys.readouterr().out
    assert nbgrader_of(root) == [
        grading("readonly-99-cell0", locked=True),  # markdown: read-only
        None,  # plain code: students may change it
        grading("readonly-99-cell2", locked=True),
        grading("exercise-99-1-flip_keypoints", solution=True),
        grading("check-99-1-flip_keypoints", grade=True, locked=True, points=1),
        grading("exercise-99-2-decode", solution=True),
        grading("check-99-2-decode", grade=True, locked=True, points=1),
        grading("answer-99-1", grade=True, solution=True, points=0),  # written answer
        grading("hidden-99-cell8", grade=True, locked=True, points=0),
        grading("hidden-99-cell9", grade=True, locked=True, points=0),  # solution-only
        None,
    ]
    first = (root / "solutions" / "99_fixture.ipynb").read_bytes()
    course.build(root)  # idempotent, and the file stays what nbstripout leaves
    assert (root / "solutions" / "99_fixture.ipynb").read_bytes() == first
    assert "solutions/99_fixture.ipynb (nbgrader" not in capsys.readouterr().out
    assert nbstripout_verify(root / "solutions" / "99_fixture.ipynb").returncode == 0


def test_check_reports_stale_nbgrader_metadata(root, fake_checks):
    course.build(root)
    path = root / "solutions" / "99_fixture.ipynb"
    nb = nbformat.read(str(path), as_version=4)
    nb.cells.insert(0, v4.new_markdown_cell("# New title"))
    for i, cell in enumerate(nb.cells):
        cell.id = str(i)
    nbformat.write(nb, str(path))
    course.build(root, lessons=["99"])
    assert course.check(root) == []  # build re-derives every role from the new positions
    assert nbgrader_of(root)[4] == grading("exercise-99-1-flip_keypoints", solution=True)
    nb = nbformat.read(str(path), as_version=4)
    nb.cells[5].metadata["nbgrader"]["points"] = 5
    nbformat.write(nb, str(path))
    assert course.check(root) == [
        "solutions/99_fixture.ipynb: its nbgrader metadata is out of date (cells were added, "
        "moved or changed role): run `posekit course build`"
    ]


@pytest.mark.parametrize(
    ("cell", "source", "tags", "expected"),
    [
        (
            4,
            "checks.check_flip_keypoints(flip_keypoints)",
            [],
            "cell 4: the check cell of exercise 99.1 needs a hidden "
            "'checks.require(\"flip_keypoints\")'",
        ),
        (
            3,
            FLIP + "\n### BEGIN HIDDEN TESTS\nassert True\n### END HIDDEN TESTS",
            [],
            "cell 3: an exercise cell cannot hold hidden tests",
        ),
        (
            9,
            "print('instructor notes')",
            ["solution-only"],
            "cell 9: a solution-only cell must hold nothing outside one region",
        ),
        (
            9,
            "**Notes** outside\n### BEGIN MARK SCHEME\nsecret\n### END MARK SCHEME",
            ["solution-only"],
            "cell 9: a solution-only cell must hold nothing outside one region",
        ),
    ],
)
def test_check_nbgrader_problems(root, fake_checks, cell, source, tags, expected):
    path = root / "solutions" / "99_fixture.ipynb"
    nb = nbformat.read(str(path), as_version=4)
    if cell == 9 and "MARK SCHEME" in source:
        nb.cells[cell] = v4.new_markdown_cell(source, metadata={"tags": tags}, id="9")
    else:
        nb.cells[cell].source = source
    nbformat.write(nb, str(path))
    problems = course.check(root)
    assert any(p.startswith(f"solutions/99_fixture.ipynb {expected}") for p in problems), problems
    with pytest.raises(course.CourseError, match="not building"):
        course.build(root)


def test_solution_only_markdown_notes_are_a_zero_point_task(root, fake_checks):
    path = root / "solutions" / "99_fixture.ipynb"
    nb = nbformat.read(str(path), as_version=4)
    notes = "### BEGIN MARK SCHEME\n**Instructor notes**: PCKh 71 %\n### END MARK SCHEME"
    nb.cells[9] = v4.new_markdown_cell(notes, metadata={"tags": ["solution-only"]}, id="9")
    nbformat.write(nb, str(path))
    course.build(root)
    assert nbgrader_of(root)[9] == grading("notes-99-cell9", locked=True, task=True, points=0)
    assert course.check(root) == []
    assert "Instructor notes" not in (root / "notebooks" / "99_fixture.ipynb").read_text()


# ----------------------------------------------------------------------------------- check


def test_check_clean_course(root, fake_checks):
    edit_solution(root, 2, "## Exercise 1\nIn the end solution quality matters: # BEGIN here.")
    course.build(root)
    assert course.check(root) == []


def test_check_out_of_date_after_editing_solution(root, fake_checks):
    course.build(root)
    edit_solution(root, 2, "## Exercise 1\nFlip keypoints (x is the column).")
    assert course.check(root) == [
        "notebooks/99_fixture.ipynb is out of date (first difference in cell 3): "
        "run `posekit course build`"
    ]
    course.build(root)
    assert course.check(root) == []


def test_check_missing_and_orphan_notebooks(root, fake_checks):
    problems = course.check(root)
    assert problems == [
        "solutions/99_fixture.ipynb: its nbgrader metadata is out of date (cells were added, "
        "moved or changed role): run `posekit course build`",
        "solutions/99_fixture.ipynb has no student notebook notebooks/99_fixture.ipynb: "
        "run `posekit course build`",
    ]
    course.build(root)
    write_nb(root / "notebooks" / "05_old.ipynb", [])
    assert course.check(root) == [
        "notebooks/05_old.ipynb has no source solutions/05_old.ipynb: delete it or add the "
        "solution notebook"
    ]


@pytest.mark.parametrize(
    ("cell", "source", "expected"),
    [
        (
            3,
            FLIP.replace("    ### END SOLUTION", ""),
            "cell 3 line 4: '### BEGIN SOLUTION' is never closed",
        ),
        (
            3,
            FLIP.replace("    ### BEGIN SOLUTION\n", ""),
            "cell 3 line 6: '### END SOLUTION' does not match: no '### BEGIN SOLUTION' before it",
        ),
        (
            3,
            FLIP.replace("    return kpts\n", "    ### BEGIN HIDDEN TESTS\n"),
            "cell 3 line 6: '### BEGIN HIDDEN TESTS' inside the solution region opened at line 4",
        ),
        (
            4,
            "x = 1\n### BEGIN SOLUTION\nx = 2\n### END SOLUTION\ncheck_flip_keypoints(f)",
            "cell 4 line 2: '### BEGIN SOLUTION' is not inside a function body",
        ),
        (
            3,
            FLIP.replace("### END SOLUTION", "## END SOLUTION"),
            "cell 3 line 7: line looks like a marker but is not one: '## END SOLUTION'",
        ),
        (
            3,
            FLIP.replace("    return kpts", "    return kpts  ### END SOLUTION"),
            "cell 3 line 6: line looks like a marker but is not one: "
            "'return kpts  ### END SOLUTION'",
        ),
    ],
    ids=["unclosed", "end-without-begin", "nested", "top-level", "malformed", "trailing"],
)
def test_check_marker_problems(root, fake_checks, cell, source, expected):
    course.build(root)
    edit_solution(root, cell, source)
    problems = course.check(root)
    assert any(p.startswith(f"solutions/99_fixture.ipynb {expected}") for p in problems), problems


def test_check_region_after_multiline_signature_and_loop_is_in_function(root, fake_checks):
    source = (
        "def flip_keypoints(\n    kpts,\n    width,\n):\n    for _ in range(1):\n"
        "        pass\n    ### BEGIN SOLUTION\n    return kpts\n    ### END SOLUTION"
    )
    edit_solution(root, 3, source)
    course.build(root)
    assert course.check(root) == []
    assert 'raise NotImplementedError("Exercise 99.1: flip_keypoints")' in src(built_cells(root)[4])


def test_check_student_version_must_compile(root, fake_checks):
    edit_solution(
        root,
        8,
        "def hidden():\n    ### BEGIN HIDDEN TESTS\n    assert True\n    ### END HIDDEN TESTS",
    )
    with pytest.raises(course.CourseError, match="cell 8: its student version does not compile"):
        course.build(root)
    assert course.check(root)[0].startswith(
        "solutions/99_fixture.ipynb cell 8: its student version does not compile (SyntaxError"
    )


def test_check_exercise_without_check_cell(root, fake_checks):
    edit_solution(root, 6, "Decoder().decode(None)")
    course.build(root)
    assert course.check(root) == [
        "solutions/99_fixture.ipynb cell 5: exercise 99.2 (decode) has no check cell after it; "
        "add a cell calling `posekit.checks.lesson99.check_decode(decode)`"
    ]


def test_check_cell_before_the_exercise_does_not_count(root, fake_checks):
    edit_solution(root, 1, "import posekit\nposekit.checks.lesson99.check_decode(None)")
    edit_solution(root, 6, "print('no check here')")
    course.build(root)
    assert any("exercise 99.2 (decode) has no check cell" in p for p in course.check(root))


def test_check_names_that_do_not_exist(root, fake_checks):
    del fake_checks.check_decode
    course.build(root)
    assert course.check(root) == [
        "solutions/99_fixture.ipynb cell 6: calls check_decode(...) but posekit.checks.lesson99 "
        "has no function check_decode"
    ]


def test_check_missing_check_module(root, fake_checks, monkeypatch):
    monkeypatch.delitem(sys.modules, "posekit.checks.lesson99")
    course.build(root)
    (problem,) = course.check(root)
    assert problem.startswith("solutions/99_fixture.ipynb: cannot import posekit.checks.lesson99")
    assert problem.endswith("its check cells call check_flip_keypoints, check_decode")


def test_check_resolves_imported_check_functions(root, fake_checks, monkeypatch):
    other = types.ModuleType("posekit.checks.lesson42")
    monkeypatch.setitem(sys.modules, "posekit.checks.lesson42", other)
    edit_solution(root, 6, "from posekit.checks.lesson42 import check_decode as cd\ncd(1)")
    course.build(root)
    assert course.check(root) == [
        "solutions/99_fixture.ipynb cell 6: calls check_decode(...) but posekit.checks.lesson42 "
        "has no function check_decode"
    ]
    other.check_decode = fake_checks.check_decode
    assert course.check(root) == []


def test_check_leaked_solution(root, fake_checks):
    course.build(root)
    path = root / "notebooks" / "99_fixture.ipynb"
    nb = nbformat.read(str(path), as_version=4)
    nb.cells[4].source = nb.cells[4].source.replace(
        "    # YOUR CODE HERE", "    kpts[:, 0] = width - 1 - kpts[:, 0]"
    )
    nb.cells[5].source += "\n### BEGIN HIDDEN TESTS"
    nb.cells[1].source += "\n            flat_index = heat.reshape(-1).argmax()"
    nbformat.write(nb, str(path))
    problems = course.check(root)
    assert problems[0].startswith("notebooks/99_fixture.ipynb is out of date")
    assert problems[1:] == [
        "notebooks/99_fixture.ipynb cell 1 line 4: leaked solution line "
        "'flat_index = heat.reshape(-1).argmax()' (from solutions/99_fixture.ipynb cell 5)",
        "notebooks/99_fixture.ipynb cell 4 line 4: leaked solution line "
        "'kpts[:, 0] = width - 1 - kpts[:, 0]' (from solutions/99_fixture.ipynb cell 3)",
        "notebooks/99_fixture.ipynb cell 5 line 2: leaked marker '### BEGIN HIDDEN TESTS'",
    ]
    # A full copy of the solution (the classic mistake) is reported line by line.
    (root / "notebooks" / "99_fixture.ipynb").write_bytes(
        (root / "solutions" / "99_fixture.ipynb").read_bytes()
    )
    problems = course.check(root)
    assert not any("'return kpts'" in p for p in problems)  # too short to be a telltale
    assert any("leaked marker '### BEGIN SOLUTION'" in p for p in problems)
    assert any("leaked solution line 'kpts[:, 0] = width - 1 - kpts[:, 0]'" in p for p in problems)
    assert any("leaked hidden line" in p for p in problems)


def test_check_unstripped_solution(root, fake_checks):
    course.build(root)
    make_unstripped(root / "solutions" / "99_fixture.ipynb")
    assert course.check(root) == [
        "solutions/99_fixture.ipynb is not stripped (outputs in cells 4; execution counts in "
        "cells 4; execution/scroll metadata in cells 6): run "
        "`nbstripout solutions/99_fixture.ipynb`"
    ]


def test_check_bad_names_and_duplicate_numbers(root, fake_checks):
    course.build(root)
    write_nb(root / "solutions" / "99_again.ipynb", [])
    course.build(root, lessons=["99"])
    write_nb(root / "solutions" / "intro.ipynb", [])
    problems = course.check(root)
    assert (
        "solutions/intro.ipynb: a lesson notebook must be named NN_name.ipynb with a two-digit "
        "prefix (e.g. 03_heatmaps.ipynb)" in problems
    )
    assert (
        "solutions/99_fixture.ipynb: lesson number 99 is also used by solutions/99_again.ipynb"
        in problems
    )


# ------------------------------------------------------------------------------------- run


@pytest.mark.slow
def test_run_reports_ok_failure_and_timing(tmp_path, capsys):
    ok = write_nb(
        tmp_path / "solutions" / "01_ok.ipynb",
        [
            v4.new_code_cell(
                "import os\n"
                "assert os.environ['POSEKIT_CHECK_MODE'] == 'strict'\n"
                "assert os.environ['POSEKIT_QUICK'] == '1'\n"
                "assert os.environ['MPLBACKEND'] == 'Agg'\n"
                "assert os.path.basename(os.getcwd()) == 'solutions'\n"
                "print('hello from the kernel')"
            )
        ],
    )
    bad = write_nb(
        tmp_path / "solutions" / "02_bad.ipynb",
        [
            v4.new_markdown_cell("# fails"),
            v4.new_code_cell("print('first')"),
            v4.new_code_cell("x = 1\n1 / 0"),
            v4.new_code_cell("print('never')"),
        ],
    )
    before = {p: p.read_bytes() for p in (ok, bad)}
    results = course.run(root=tmp_path, timeout=60)
    assert [(r.lesson, r.ok, r.mode) for r in results] == [
        ("01", True, "quick"),
        ("02", False, "quick"),
    ]
    assert results[0].error is None and results[0].path == ok
    assert results[1].cell == 2
    assert results[1].error == "cell 2: ZeroDivisionError: division by zero"
    assert all(0 < r.seconds < 60 for r in results)
    assert {p: p.read_bytes() for p in (ok, bad)} == before  # nothing written back
    out = capsys.readouterr().out
    assert "solutions/01_ok.ipynb: OK" in out
    assert "lesson | mode  | seconds | status" in out
    assert "02     | quick |" in out and "| FAIL cell 2: ZeroDivisionError" in out
    assert "1/2 lessons OK" in out


def test_run_environment_and_selection(tmp_path, monkeypatch, capsys):
    for name in ("00_a.ipynb", "01_b.ipynb"):
        write_nb(tmp_path / "solutions" / name, [])
        write_nb(tmp_path / "notebooks" / name, [])
    seen = []

    def fake_run_one(path, env, timeout, manager):
        seen.append((path.name, env["POSEKIT_QUICK"], env["POSEKIT_CHECK_MODE"], timeout))
        return path.name.startswith("00"), None if path.name.startswith("00") else "cell 0: X", 0

    monkeypatch.setattr(course, "_run_one", fake_run_one)
    results = course.run(["1"], folder="notebooks", full=True, timeout=5, root=tmp_path)
    assert seen == [("01_b.ipynb", "0", "expect-todo", 5)]
    assert [(r.lesson, r.mode, r.ok, r.error) for r in results] == [
        ("01", "full", False, "cell 0: X")
    ]
    course.run(root=tmp_path, check_mode="student")
    assert seen[1:] == [("00_a.ipynb", "1", "student", 600), ("01_b.ipynb", "1", "student", 600)]
    assert "1/2 lessons OK" in capsys.readouterr().out
    with pytest.raises(course.CourseError, match="check mode 'lenient'"):
        course.run(root=tmp_path, check_mode="lenient")
    with pytest.raises(course.CourseError, match="no lesson 05 in notebooks/"):
        course.run(["05"], folder="notebooks", root=tmp_path)
