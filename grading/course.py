"""Release and grade a chapter's exercises with nbgrader.

The course directory (``grading/`` by default) follows nbgrader's layout::

    source/ch01/01_perceptron_exercises.ipynb      copied from notebooks/ by `release`
    release/ch01/01_perceptron_exercises.ipynb     the student version
    submitted/<student>/ch01/<notebook>.ipynb      what the students hand in
    autograded/<student>/ch01/                     executed and scored submissions
    feedback/<student>/ch01/<notebook>.html        one report per student
    gradebook.db, grades.csv

Each submission's code runs in a sandbox of its own, under the limits of
``grading.config.Limits``, several at once (``grading.parallel``); nbgrader then
scores the executed notebooks one by one in this process, the gradebook's only writer.
A submission that hangs, crashes or attacks the grader costs only its own cells.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.converters import Autograde, GenerateAssignment, GenerateFeedback
from nbgrader.coursedir import CourseDirectory
from nbgrader.plugins import CsvExportPlugin
from nbgrader.utils import capture_log
from tqdm.auto import tqdm

from grading.config import COURSE_ID, PRELOAD, Limits, make_config
from grading.errors import GradingError
from grading.isolation import EXPOSED, sandbox_problem
from grading.parallel import execute_class

REPO = Path(__file__).resolve().parents[1]
COURSE_DIR = REPO / "grading"
NOTEBOOKS_DIR = REPO / "notebooks"
# nbgrader's Gradebook runs the `alembic` command, installed next to this Python: make
# sure it is found when the virtualenv's python is called without activating it.
os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
# Strings that must never reach a student.
_SECRET_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION", "### BEGIN HIDDEN TESTS")


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


def autograde_student(ch: str | int, student: str, *, config) -> str:
    """Score one student's submission with nbgrader in this process; return its log.

    ``config`` comes from ``make_config``; with a ``results_dir`` the outputs are those
    of phase 1 (``grading.parallel``), otherwise the notebook is executed now.
    """
    coursedir = _coursedir(config, assignment_id=assignment_id(ch), student_id=student)
    app = Autograde(coursedir=coursedir, config=config)
    app.force = True
    app.create_student = True
    return _run(app)


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


def default_jobs() -> int:
    """Submissions executed at once by default: one per core this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS
        return os.cpu_count() or 1


def grade(
    ch: str | int,
    *,
    course_dir: Path = COURSE_DIR,
    limits: Limits | None = None,
    jobs: int | None = None,
    unsafe: bool = False,
    progress: bool = False,
    log=print,
) -> list[StudentResult]:
    """Autograde every submission of chapter ``ch``, write feedback and ``grades.csv``.

    ``jobs`` submissions are executed at once (default: one per core), each in its own
    sandbox under ``limits``; where no sandbox can be made this refuses, unless
    ``unsafe``. ``progress`` shows a bar of the students graded.
    """
    course_dir = Path(course_dir).resolve()
    limits = limits or Limits()
    jobs = jobs or default_jobs()
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
    problem = sandbox_problem()
    if problem and not unsafe:
        raise GradingError(
            f"no sandbox for the student code: {problem}. To grade without one, run "
            f"`make grade CH={ch} UNSAFE=1` (--unsafe), knowing that {EXPOSED}"
        )
    if problem:
        log(f"WARNING: grading WITHOUT a sandbox ({problem}): {EXPOSED}.")

    results, to_run = {}, {}
    for student, notebooks in submissions.items():
        names = sorted(p.name for p in notebooks)
        if not set(names) & set(expected):
            message = (
                f"expected submitted/{student}/{aid}/{expected[0]}, found {names or 'nothing'}"
            )
            log(f"[{student}] skipped: {message}")
            results[student] = StudentResult(student=student, ok=False, message=message)
        else:
            to_run[student] = [p for p in notebooks if p.name in expected]

    with tempfile.TemporaryDirectory(prefix="grading-results-") as results_dir:
        config = make_config(course_dir, limits=limits, results_dir=results_dir, unsafe=unsafe)
        executed = execute_class(
            to_run,
            config=config,
            assignment=aid,
            results_dir=Path(results_dir),
            limits=limits.as_dict(),
            jobs=jobs,
            unsafe=unsafe,
            preload=list(PRELOAD),
        )
        bar = tqdm(total=len(to_run), unit="student", desc=f"grading ch{ch}", disable=not progress)
        for student, error in executed:
            if error is None:
                try:
                    autograde_student(ch, student, config=config)
                    results[student] = cell_scores(ch, student, course_dir)
                except GradingError as exc:
                    error = f"nbgrader could not score it:\n{exc}"
            if error is not None:
                tail = "\n".join(error.strip().splitlines()[-15:])
                (bar.write if progress else log)(f"[{student}] FAILED:\n{tail}")
                results[student] = StudentResult(student=student, ok=False, message="not graded")
            bar.update()
        bar.close()
    results = [results[student] for student in submissions]

    config = make_config(course_dir)
    config.HTMLExporter.template_name = "feedback"
    feedback = GenerateFeedback(coursedir=_coursedir(config, assignment_id=aid), config=config)
    feedback.force = True
    try:
        _run(feedback)
    except GradingError as exc:
        log(f"feedback: some reports could not be written:\n{exc}")

    export_csv(course_dir)
    return results


def export_csv(course_dir: Path = COURSE_DIR) -> Path:
    """Write ``grades.csv`` from the gradebook, sorted by chapter and student.

    nbgrader writes the rows in the order the submissions entered the gradebook, which
    depends on which sandbox finished first; sorted, the file is the same whatever
    ``jobs`` was.
    """
    path = Path(course_dir) / "grades.csv"
    exporter = CsvExportPlugin()
    exporter.to = str(path)
    with _gradebook(Path(course_dir).resolve()) as gb:
        exporter.export(gb)
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        fields, rows = reader.fieldnames or [], list(reader)
    rows.sort(key=lambda row: (row.get("assignment", ""), row.get("student_id", "")))
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return path


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
