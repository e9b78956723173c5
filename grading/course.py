"""Release and grade a chapter's exercises with nbgrader.

The course directory (``grading/`` by default) follows nbgrader's layout::

    source/ch01/01_perceptron_exercises.ipynb      copied from notebooks/ by `release`
    release/ch01/01_perceptron_exercises.ipynb     the student version
    submitted/<student>/ch01/<notebook>.ipynb      what the students hand in
    autograded/<student>/ch01/                     executed and scored submissions
    feedback/<student>/ch01/<notebook>.html        one report per student
    gradebook.db, grades.csv

Each student's submission is autograded in its own process with a time limit, so a
submission that hangs or breaks nbgrader itself cannot stop the others.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.converters import Autograde, GenerateAssignment, GenerateFeedback
from nbgrader.coursedir import CourseDirectory
from nbgrader.plugins import CsvExportPlugin
from nbgrader.utils import capture_log

from grading.config import CELL_TIMEOUT, COURSE_ID, make_config

REPO = Path(__file__).resolve().parents[1]
COURSE_DIR = REPO / "grading"
NOTEBOOKS_DIR = REPO / "notebooks"
#: Wall-clock seconds one student's whole autograde may take.
STUDENT_TIMEOUT = 900
# nbgrader's Gradebook runs the `alembic` command, installed next to this Python: make
# sure it is found when the virtualenv's python is called without activating it.
os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
# Strings that must never reach a student.
_SECRET_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION", "### BEGIN HIDDEN TESTS")


class GradingError(Exception):
    """A problem with the input (chapter, notebooks, submissions), explained for people."""


@dataclass
class StudentResult:
    """One student's result for one chapter, as printed in the summary table."""

    student: str
    ok: bool
    message: str = ""
    auto_score: float = 0.0
    auto_max: float = 0.0
    manual_score: float | None = None  # None while a written answer waits for a person
    manual_max: float = 0.0
    cells: dict[str, float | None] = field(default_factory=dict)


def chapter(ch: str | int) -> str:
    """Normalise a chapter argument: ``1``, ``"01"`` or ``"ch01"`` -> ``"01"``."""
    m = re.fullmatch(r"(?:ch)?(\d{1,2})", str(ch).strip())
    if m is None:
        raise GradingError(f"unknown chapter {ch!r}: expected a chapter number such as 01")
    return f"{int(m.group(1)):02d}"


def assignment_id(ch: str | int) -> str:
    return f"ch{chapter(ch)}"


def exercises_notebook(ch: str | int, notebooks_dir: Path = NOTEBOOKS_DIR) -> Path:
    """The one exercises notebook of chapter ``ch``: ``notebooks/<ch>_*_exercises.ipynb``."""
    pattern = f"{chapter(ch)}_*_exercises.ipynb"
    found = sorted(Path(notebooks_dir).glob(pattern))
    if not found:
        raise GradingError(
            f"no exercises notebook for chapter {chapter(ch)}: expected {notebooks_dir}/{pattern}"
        )
    if len(found) > 1:
        names = ", ".join(p.name for p in found)
        raise GradingError(f"chapter {chapter(ch)} has several exercises notebooks: {names}")
    return found[0]


def _coursedir(config, **ids) -> CourseDirectory:
    coursedir = CourseDirectory(config=config)  # the config holds the root directory
    for key, value in ids.items():
        setattr(coursedir, key, value)
    return coursedir


def _gradebook(course_dir: Path) -> Gradebook:
    """The gradebook at the address the nbgrader config gives it (``make_config``)."""
    return Gradebook(make_config(course_dir).CourseDirectory.db_url, COURSE_ID)


def _run(app) -> str:
    """Run an nbgrader converter; raise GradingError with its log if it fails."""
    result = capture_log(app)
    if not result["success"]:
        raise GradingError(f"{result.get('log', '')}\n{result.get('error', '')}".strip())
    return result.get("log", "")


def release(
    ch: str | int, *, course_dir: Path = COURSE_DIR, notebooks_dir: Path = NOTEBOOKS_DIR
) -> Path:
    """Copy the exercises notebook into ``source/`` and write the student version.

    Returns the student version's path, ``<course_dir>/release/ch<CH>/<notebook>``.
    """
    course_dir = Path(course_dir).resolve()
    notebook = exercises_notebook(ch, notebooks_dir)
    aid = assignment_id(ch)
    source = course_dir / "source" / aid
    source.mkdir(parents=True, exist_ok=True)
    for old in source.glob("*.ipynb"):  # a renamed notebook must not linger
        old.unlink()
    shutil.copy2(notebook, source / notebook.name)

    config = make_config(course_dir)
    app = GenerateAssignment(coursedir=_coursedir(config, assignment_id=aid), config=config)
    app.force = True
    app.create_assignment = True
    _run(app)

    student_version = course_dir / "release" / aid / notebook.name
    text = student_version.read_text()
    leaked = [m for m in _SECRET_MARKERS if m in text]
    if leaked:
        raise GradingError(f"{student_version} still contains {leaked}")
    return student_version


def find_submissions(ch: str | int, course_dir: Path = COURSE_DIR) -> dict[str, list[Path]]:
    """``{student: [notebooks]}`` for every ``submitted/<student>/ch<CH>/`` folder."""
    aid = assignment_id(ch)
    found = {}
    for folder in sorted((Path(course_dir) / "submitted").glob(f"*/{aid}")):
        if folder.is_dir():
            found[folder.parent.name] = sorted(folder.glob("*.ipynb"))
    return found


def autograde_student(
    ch: str | int, student: str, *, course_dir: Path = COURSE_DIR, cell_timeout: int = CELL_TIMEOUT
) -> str:
    """Autograde one student's submission in this process (``grade`` calls it in a child)."""
    course_dir = Path(course_dir).resolve()
    config = make_config(course_dir, cell_timeout=cell_timeout)
    coursedir = _coursedir(config, assignment_id=assignment_id(ch), student_id=student)
    app = Autograde(coursedir=coursedir, config=config)
    app.force = True
    app.create_student = True
    return _run(app)


def _autograde_in_child(
    ch: str, student: str, course_dir: Path, cell_timeout: int, student_timeout: int
) -> tuple[bool, str]:
    command = [sys.executable, "-m", "grading", "autograde-one", ch, student]
    command += ["--course-dir", str(course_dir), "--cell-timeout", str(cell_timeout)]
    # A session of its own: on a timeout the child and its kernels are killed together.
    child = subprocess.Popen(
        command,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        log, _ = child.communicate(timeout=student_timeout)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        log, _ = child.communicate()
        return False, f"autograding took longer than {student_timeout} s and was stopped\n{log}"
    return child.returncode == 0, log


def cell_scores(ch: str | int, student: str, course_dir: Path = COURSE_DIR) -> StudentResult:
    """The gradebook's scores of one student's submission, cell by cell."""
    course_dir = Path(course_dir).resolve()
    result = StudentResult(student=student, ok=True)
    with _gradebook(course_dir) as gb:
        try:
            submission = gb.find_submission(assignment_id(ch), student)
        except MissingEntry:
            return StudentResult(student=student, ok=False, message="not in the gradebook")
        manual_pending = False
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                # nbgrader counts a grade that waits for a person as 0; keep it apart.
                result.cells[grade.name] = None if grade.needs_manual_grade else grade.score
                if grade.cell.cell_type == "code":
                    result.auto_score += grade.score or 0.0
                    result.auto_max += grade.max_score
                else:
                    result.manual_max += grade.max_score
                    if grade.needs_manual_grade:
                        manual_pending = True
                    else:
                        result.manual_score = (result.manual_score or 0.0) + grade.score
        if manual_pending:
            result.manual_score = None
    return result


def grade(
    ch: str | int,
    *,
    course_dir: Path = COURSE_DIR,
    cell_timeout: int = CELL_TIMEOUT,
    student_timeout: int = STUDENT_TIMEOUT,
    log=print,
) -> list[StudentResult]:
    """Autograde every submission of chapter ``ch``, write feedback and ``grades.csv``."""
    course_dir = Path(course_dir).resolve()
    ch = chapter(ch)
    aid = assignment_id(ch)
    expected = sorted(p.name for p in (course_dir / "source" / aid).glob("*.ipynb"))
    if not expected or not (course_dir / "gradebook.db").exists():
        raise GradingError(
            f"chapter {ch} has not been released: expected {course_dir}/source/{aid}/*.ipynb "
            f"and {course_dir}/gradebook.db; run `make release CH={ch}` first"
        )
    submissions = find_submissions(ch, course_dir)
    if not submissions:
        raise GradingError(
            f"no submissions for chapter {ch}: expected "
            f"{course_dir}/submitted/<student>/{aid}/{expected[0]}"
        )

    results = []
    for student, notebooks in submissions.items():
        names = sorted(p.name for p in notebooks)
        if not set(names) & set(expected):
            message = (
                f"expected submitted/{student}/{aid}/{expected[0]}, found {names or 'nothing'}"
            )
            log(f"[{student}] skipped: {message}")
            results.append(StudentResult(student=student, ok=False, message=message))
            continue
        log(f"[{student}] autograding ...")
        ok, output = _autograde_in_child(ch, student, course_dir, cell_timeout, student_timeout)
        if ok:
            results.append(cell_scores(ch, student, course_dir))
        else:
            tail = "\n".join(output.strip().splitlines()[-15:])
            log(f"[{student}] FAILED; last lines of its log:\n{tail}")
            results.append(StudentResult(student=student, ok=False, message="autograde failed"))

    config = make_config(course_dir)
    config.HTMLExporter.template_name = "feedback"
    feedback = GenerateFeedback(coursedir=_coursedir(config, assignment_id=aid), config=config)
    feedback.force = True
    try:
        _run(feedback)
    except GradingError as exc:
        log(f"feedback: some reports could not be written:\n{exc}")

    exporter = CsvExportPlugin(config=config)
    exporter.to = str(course_dir / "grades.csv")
    with _gradebook(course_dir) as gb:
        exporter.export(gb)
    return results


def summary_table(results: list[StudentResult]) -> str:
    """A plain-text table of the results, one row per student."""
    rows = [("student", "autograded", "written", "status")]
    for r in results:
        if not r.ok:
            rows.append((r.student, "-", "-", f"FAILED: {r.message}"))
            continue
        written = "to grade" if r.manual_score is None else f"{r.manual_score:g}"
        rows.append(
            (r.student, f"{r.auto_score:g} / {r.auto_max:g}", f"{written} / {r.manual_max:g}", "ok")
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)) for row in rows]
    return "\n".join(line.rstrip() for line in lines)
