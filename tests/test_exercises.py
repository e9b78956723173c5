"""Every chapter's exercises notebook is a valid nbgrader assignment.

`test_grading.py` exercises the whole pipeline in depth on chapter 1; this module
checks, for every `notebooks/NN_*_exercises.ipynb`, what each new chapter must get
right: the cell metadata, the website tags, and a student version that has no
solutions or hidden tests and fails validation until the student answers.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import nbformat
import pytest
from nbgrader.validator import Validator

REPO = Path(__file__).resolve().parents[1]
EXERCISES = sorted((REPO / "notebooks").glob("[0-9][0-9]_*_exercises.ipynb"))


def _nbgrader(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def _tags(cell) -> list[str]:
    return cell.metadata.get("tags", [])


def test_every_lecture_has_exercises():
    lectures = [
        p
        for p in (REPO / "notebooks").glob("[0-9][0-9]_*.ipynb")
        if not p.stem.endswith("_exercises") and not p.name.startswith(("00_", "11_"))
    ]  # chapter 0 is the set-up check and chapter 11 the epilogue: neither has exercises
    chapters = {p.name[:2] for p in EXERCISES}
    assert lectures and all(p.name[:2] in chapters for p in lectures)


@pytest.mark.parametrize("path", EXERCISES, ids=lambda p: p.name)
def test_metadata_makes_a_gradable_assignment(path):
    nb = nbformat.read(path, as_version=4)
    graded = [c for c in nb.cells if _nbgrader(c)]
    ids = [_nbgrader(c).get("grade_id") for c in graded]
    assert all(ids) and not [i for i, n in Counter(ids).items() if n > 1], ids

    solutions = [c for c in graded if _nbgrader(c).get("solution")]
    tests = [c for c in graded if _nbgrader(c).get("grade") and not _nbgrader(c).get("solution")]
    written = [c for c in solutions if c.cell_type == "markdown"]
    code_solutions = [c for c in solutions if c.cell_type == "code"]

    headings = re.findall(r"^## Exercise \d+", "\n".join(c.source for c in nb.cells), re.M)
    assert 3 <= len(headings) <= 6, f"{path.name}: {len(headings)} exercises, expected 3 to 6"
    assert len(written) == 1, "expected exactly one manually graded written answer"
    assert _nbgrader(written[0]).get("grade") and _nbgrader(written[0]).get("points", 0) > 0
    for c in code_solutions:
        assert "### BEGIN SOLUTION" in c.source and "### END SOLUTION" in c.source
        assert "hide-input" in _tags(c), f"{_nbgrader(c)['grade_id']}: solution not collapsed"
    assert tests, "no autograded test cell"
    for c in tests:
        meta = _nbgrader(c)
        assert meta.get("locked") and meta.get("points", 0) > 0, meta
        assert "remove-input" in _tags(c), f"{meta['grade_id']}: test shown on the website"
    assert any("### BEGIN HIDDEN TESTS" in c.source for c in tests), "no hidden tests"


@pytest.mark.slow
@pytest.mark.parametrize("path", EXERCISES, ids=lambda p: p.name)
def test_student_version_has_no_answers_and_fails_validation(path, tmp_path):
    chapter = path.name[:2]
    result = subprocess.run(
        [sys.executable, "-m", "grading", "release", chapter, "--course-dir", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    student = tmp_path / "release" / f"ch{chapter}" / path.name
    text = student.read_text()
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
        assert marker not in text
    nb = nbformat.read(student, as_version=4)
    hidden = [c for c in nbformat.read(path, as_version=4).cells if "HIDDEN TESTS" in c.source]
    kept = {c.source for c in nb.cells}
    for cell in hidden:
        secret = cell.source.split("### BEGIN HIDDEN TESTS")[1].split("### END HIDDEN TESTS")[0]
        assert secret.strip() and not any(secret.strip() in s for s in kept)
    # Unanswered, the assignment must fail (nbgrader's validate --invert passes).
    assert Validator(invert=True).validate(str(student)) == {}
