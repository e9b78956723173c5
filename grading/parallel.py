"""Execute a whole class's submissions in their sandboxes, several at once.

Grading a class has two phases (``course.grade`` drives them):

1. **Execute, in parallel.** For each submission the trusted grader puts the
   instructor's test cells back (nbgrader's sanitizing steps, which only *read* the
   gradebook) and hands the notebook to a sandbox (``isolation.run_sandboxed``);
   ``jobs`` sandboxes run at once, each in its own processes. The executed notebooks
   are kept in a private temporary directory of the grader.
2. **Score, one at a time.** As each student's notebooks come back, nbgrader's
   ``Autograde`` scores them in this one process, taking the outputs from phase 1
   (``isolation.SandboxExecute``): the gradebook has a single writer, so SQLite never
   reports a lock, and the scores cannot depend on ``jobs``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

import nbformat
from nbgrader.converters import Autograde

from grading.errors import GradingError
from grading.isolation import result_path, run_sandboxed


def sanitize(config, assignment: str, student: str, path: Path) -> nbformat.NotebookNode:
    """The submission at ``path`` with the gradebook's test cells put back, outputs cleared.

    These are the steps nbgrader's ``Autograde`` runs before executing (its
    ``sanitize_preprocessors``), so phase 2 finds the very same cells.
    """
    nb = nbformat.read(path, as_version=4)
    resources = {
        "nbgrader": {
            "student": student,
            "assignment": assignment,
            "notebook": path.stem,
            "db_url": config.CourseDirectory.db_url,
        }
    }
    for preprocessor in Autograde.class_traits()["sanitize_preprocessors"].default():
        nb, resources = preprocessor(config=config).preprocess(nb, resources)
    return nb


def _execute(nb, target: Path, limits: dict, unsafe: bool, preload: list[str]) -> str:
    executed, log = run_sandboxed(nb, limits, unsafe=unsafe, preload=preload)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(executed))
    return log


def execute_class(
    submissions: dict[str, list[Path]],
    *,
    config,
    assignment: str,
    results_dir: Path,
    limits: dict[str, int],
    jobs: int,
    unsafe: bool = False,
    preload: list[str] = (),
) -> Iterator[tuple[str, str | None]]:
    """Execute every submission, ``jobs`` at a time; yield ``(student, error or None)``.

    Students are yielded as soon as all their notebooks are back, so the caller can
    score one while the others still run. ``results_dir/<student>/<notebook>.ipynb``
    holds each executed notebook.
    """
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")
    pending: dict[str, int] = {}
    errors: dict[str, list[str]] = {student: [] for student in submissions}
    with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="sandbox") as pool:
        futures = {}
        for student, notebooks in submissions.items():
            pending[student] = 0
            for path in notebooks:
                try:
                    nb = sanitize(config, assignment, student, path)
                except Exception as exc:  # a notebook nbgrader cannot read: this student only
                    errors[student].append(f"{path.name}: could not be read: {exc}")
                    continue
                target = result_path(results_dir, student, path.stem)
                job = pool.submit(_execute, nb, target, limits, unsafe, list(preload))
                futures[job] = student
                pending[student] += 1
            if pending[student] == 0:
                yield student, "; ".join(errors[student]) or "no notebook to grade"
        for future in as_completed(futures):
            student = futures[future]
            try:
                future.result()
            except GradingError as exc:
                errors[student].append(str(exc))
            except Exception as exc:  # a bug of the grader: this student only, reported
                errors[student].append(f"{type(exc).__name__}: {exc}")
            pending[student] -= 1
            if pending[student] == 0:
                yield student, "\n".join(errors[student]) or None
