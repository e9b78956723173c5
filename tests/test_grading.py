"""The graded-exercise pipeline (``python -m grading``) on chapter 1's exercises.

Everything runs in a temporary course directory. One ``grade`` run autogrades a
class of generated submissions: a correct one, an incorrect one, and adversarial ones
(an exception, an infinite loop, a loop that ignores interrupts, a kernel crash, a
segfault, edited and deleted locked test cells, warnings on stderr). Each must cost
exactly the points of the cells it breaks, and the correct student beside them must
keep full marks.
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbgrader.validator import Validator

from grading.course import cell_scores  # the repository root is on pytest's pythonpath

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow
NOTEBOOK = "01_perceptron_exercises.ipynb"
CELL_TIMEOUT = 4  # seconds; short so the infinite loops cost little test time

TEST_CELLS = {  # grade_id -> points of every autograded test cell
    "ex1_test_scores": 1,
    "ex1_test_ties": 1,
    "ex2_test_one_epoch": 1,
    "ex2_test_converges": 1,
    "ex3_test_parity": 2,
    "ex4_test_search": 1,
    "ex5_test_params": 1,
    "ex5_test_field": 1,
}
AUTO_MAX = sum(TEST_CELLS.values())
WRITTEN = "ex6_written"

# Solution cells replaced by broken code, and the test cells each student must fail.
WRONG_PREDICT = """
def multiclass_predict(X, W, b):
    scores = np.asarray(X) @ np.asarray(W).T + b
    return scores.shape[1] - 1 - np.argmax(scores[:, ::-1], axis=1)  # ties: the largest index
"""
WRONG_COUNT = """
def count_perceptron_functions(X, values):
    return len(values) ** (np.shape(X)[1] + 1)  # counts perceptrons, not functions
"""
PATCHES_WRONG = """
def local_params(height, width, k, bias=True):
    return (height - k + 1) * (width - k + 1) * k * k  # forgets the biases


def receptive_field(k, depth):
    return k * depth  # the patches of neighbouring units overlap
"""
STUDENTS = {
    "correct": ({}, set()),
    # Incorrect: partial credit cell by cell.
    "incorrect": (
        {"ex1_predict": WRONG_PREDICT, "ex4_search": WRONG_COUNT, "ex5_patches": PATCHES_WRONG},
        {"ex1_test_ties", "ex4_test_search", "ex5_test_params", "ex5_test_field"},
    ),
    "raises": (
        {"ex2_epoch": "def multiclass_epoch(X, y, W, b, lr=1.0):\n    raise ValueError('todo')"},
        {"ex2_test_one_epoch", "ex2_test_converges"},
    ),
    "loops": (
        {
            "ex5_patches": PATCHES_WRONG.replace(
                "return (height - k + 1) * (width - k + 1) * k * k  # forgets the biases",
                "while True:\n        pass",
            ).replace(
                "return k * depth  # the patches of neighbouring units overlap",
                "while True:\n        pass",
            )
        },
        {"ex5_test_params", "ex5_test_field"},
    ),
    # A loop that swallows the interrupt sent at the timeout: the kernel must be replaced.
    "deaf_loop": (
        {
            "ex4_search": """
import time


def count_perceptron_functions(X, values):
    while True:
        try:
            time.sleep(0.05)
        except KeyboardInterrupt:
            pass
"""
        },
        {"ex4_test_search"},
    ),
    # The kernel dies in a solution cell: only the exercise that needs it is lost.
    "crash": ({"ex3_parity_weights": "import os\n\nos._exit(1)"}, {"ex3_test_parity"}),
    # A segfault inside a function that two test cells call; the later exercises still count.
    "segfault": (
        {
            "ex1_predict": """
import ctypes


def multiclass_predict(X, W, b):
    ctypes.string_at(0)  # reads address 0: SIGSEGV
"""
        },
        {"ex1_test_scores", "ex1_test_ties"},
    ),
    # Locked test cells edited to pass, or deleted: they are restored before grading.
    "edits_tests": (
        {
            "ex5_patches": PATCHES_WRONG,
            "ex5_test_params": "pass",
            "ex5_test_field": None,  # deleted
            "ex1_test_scores": "assert False",  # correct code, vandalised test
        },
        {"ex5_test_params", "ex5_test_field"},
    ),
    # Correct answers that write warnings to stderr, as PyTorch or tqdm do.
    "warns": (
        {
            "ex1_predict": """
import sys
import warnings


def multiclass_predict(X, W, b):
    warnings.warn("a harmless warning", UserWarning, stacklevel=1)
    sys.stderr.write("progress 100%\\n")
    return np.argmax(np.asarray(X) @ np.asarray(W).T + b, axis=1)
"""
        },
        set(),
    ),
}


def _grade_id(cell) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def _submission(release_nb, source_nb, overrides: dict[str, str | None]):
    """The student version with every answer filled in from the solutions, then overridden."""
    answers = {_grade_id(c): c.source for c in source_nb.cells if _grade_id(c)}
    nb = nbformat.from_dict(json.loads(json.dumps(release_nb)))
    cells = []
    for cell in nb.cells:
        gid = _grade_id(cell)
        if gid and cell.metadata["nbgrader"].get("solution"):
            cell.source = answers[gid]
            if cell.cell_type == "markdown":
                cell.source = (
                    "Fixing x3 = 0 leaves XOR; the hidden layer counts the inputs that are on."
                )
        if gid in overrides:
            if overrides[gid] is None:
                continue
            cell.source = overrides[gid].strip()
        cells.append(cell)
    nb.cells = cells
    return nb


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "grading", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    """A released chapter 01 in a temporary course directory."""
    course_dir = tmp_path_factory.mktemp("course")
    result = _cli("release", "01", "--course-dir", str(course_dir))
    assert result.returncode == 0, result.stdout + result.stderr
    return course_dir


@pytest.fixture(scope="module")
def graded(course: Path) -> tuple[Path, subprocess.CompletedProcess]:
    """Every student of STUDENTS (and one misnamed submission) graded in one run."""
    release_nb = nbformat.read(course / "release" / "ch01" / NOTEBOOK, as_version=4)
    source_nb = nbformat.read(course / "source" / "ch01" / NOTEBOOK, as_version=4)
    for student, (overrides, _) in STUDENTS.items():
        folder = course / "submitted" / student / "ch01"
        folder.mkdir(parents=True)
        nbformat.write(_submission(release_nb, source_nb, overrides), folder / NOTEBOOK)
    misnamed = course / "submitted" / "misnamed" / "ch01"
    misnamed.mkdir(parents=True)
    nbformat.write(release_nb, misnamed / "exercises.ipynb")
    result = _cli("grade", "01", "--course-dir", str(course), "--cell-timeout", str(CELL_TIMEOUT))
    return course, result


def test_student_version_has_no_solutions_or_hidden_tests(course: Path) -> None:
    student = course / "release" / "ch01" / NOTEBOOK
    text = student.read_text()
    source_nb = nbformat.read(course / "source" / "ch01" / NOTEBOOK, as_version=4)
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "HIDDEN TESTS", "Model answer"):
        assert marker not in text
    for code in ("np.argmax(scores, axis=1)", "b1 = np.array([-0.5, -1.5, -2.5])", "X_big, W_big"):
        assert code in json.dumps(source_nb.dict())  # so the check below can fail
        assert code not in text
    answers = [
        c
        for c in nbformat.reads(text, as_version=4).cells
        if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"
    ]
    assert len(answers) == 6
    assert all("raise NotImplementedError()" in c.source for c in answers)


def test_student_version_fails_and_source_passes_validation(course: Path) -> None:
    # `nbgrader validate --invert`: no test cell may pass before the student answers.
    assert Validator(invert=True).validate(str(course / "release" / "ch01" / NOTEBOOK)) == {}
    assert Validator().validate(str(course / "source" / "ch01" / NOTEBOOK)) == {}


def test_grade_run_reports_every_student(graded) -> None:
    course, result = graded
    # 1: one submission (misnamed) could not be graded; all the others were.
    assert result.returncode == 1, result.stdout + result.stderr
    assert "expected submitted/misnamed/ch01/01_perceptron_exercises.ipynb" in result.stdout
    for student in STUDENTS:
        assert student in result.stdout


@pytest.mark.parametrize("student", list(STUDENTS))
def test_each_submission_loses_exactly_the_broken_cells(graded, student: str) -> None:
    course, result = graded
    scores = cell_scores("01", student, course)
    assert scores.ok, result.stdout
    failing = STUDENTS[student][1]
    expected = {gid: 0.0 if gid in failing else float(p) for gid, p in TEST_CELLS.items()}
    got = {gid: scores.cells.get(gid) for gid in TEST_CELLS}
    assert got == expected, result.stdout
    assert scores.auto_max == AUTO_MAX
    assert scores.cells[WRITTEN] is None  # waits for a person
    assert (course / "feedback" / student / "ch01" / NOTEBOOK.replace(".ipynb", ".html")).exists()


def test_correct_student_gets_full_marks(graded) -> None:
    course, _ = graded
    assert cell_scores("01", "correct", course).auto_score == AUTO_MAX


def test_grades_csv_has_one_row_per_student_with_totals(graded) -> None:
    course, _ = graded
    with open(course / "grades.csv") as f:
        rows = {row["student_id"]: row for row in csv.DictReader(f)}
    assert set(rows) == set(STUDENTS)
    for student, (_, failing) in STUDENTS.items():
        expected = AUTO_MAX - sum(TEST_CELLS[gid] for gid in failing)
        assert float(rows[student]["raw_score"]) == expected, student
        assert float(rows[student]["max_score"]) == AUTO_MAX + 2  # + the written answer
        assert rows[student]["assignment"] == "ch01"


def test_bad_input_is_explained(tmp_path: Path) -> None:
    result = _cli("release", "99", "--course-dir", str(tmp_path))
    assert result.returncode == 2
    assert "notebooks/99_*_exercises.ipynb" in result.stderr
    result = _cli("grade", "01", "--course-dir", str(tmp_path))
    assert result.returncode == 2 and "make release CH=01" in result.stderr
    result = _cli("grade", "first", "--course-dir", str(tmp_path))
    assert result.returncode == 2 and "unknown chapter 'first'" in result.stderr


def test_grading_without_submissions_is_explained(course: Path, tmp_path: Path) -> None:
    empty = tmp_path / "course"
    empty.mkdir()
    shutil.copytree(course / "source", empty / "source")
    shutil.copy(course / "gradebook.db", empty / "gradebook.db")
    result = _cli("grade", "01", "--course-dir", str(empty))
    assert result.returncode == 2
    assert "submitted/<student>/ch01/01_perceptron_exercises.ipynb" in result.stderr
