"""The nbgrader configuration of the course, in one place.

``make_config(course_dir)`` is used by ``python -m grading`` and by
``grading/nbgrader_config.py`` (which ``nbgrader formgrader`` and JupyterLab's
nbgrader extension read when started in ``grading/``), so the command line and the
web interface grade the same way.
"""

from __future__ import annotations

from pathlib import Path

from nbconvert.preprocessors import ClearMetadataPreprocessor
from nbgrader.preprocessors import (
    AssignLatePenalties,
    CheckCellMetadata,
    IgnorePattern,
    LimitOutput,
    SaveAutoGrades,
)
from traitlets.config import Config

from grading.execute import RobustExecute

COURSE_ID = "nn-architectures"
#: Seconds one cell may run when a submission is autograded. The exercises'
#: reference solutions need well under a second each.
CELL_TIMEOUT = 30


def make_config(course_dir: Path | str, *, cell_timeout: int = CELL_TIMEOUT) -> Config:
    """nbgrader ``Config`` for the course directory ``course_dir`` (``grading/``)."""
    course_dir = Path(course_dir).resolve()
    c = Config()
    c.CourseDirectory.root = str(course_dir)
    c.CourseDirectory.course_id = COURSE_ID
    c.CourseDirectory.db_url = f"sqlite:///{course_dir / 'gradebook.db'}"
    # A locked test cell the student deleted is put back (and run), like an edited one.
    c.OverwriteCells.add_missing_cells = True
    # nbgrader's default list, with Execute replaced by RobustExecute (see execute.py).
    c.Autograde.autograde_preprocessors = [
        RobustExecute,
        IgnorePattern,
        ClearMetadataPreprocessor,
        LimitOutput,
        SaveAutoGrades,
        AssignLatePenalties,
        CheckCellMetadata,
    ]
    c.RobustExecute.timeout = cell_timeout
    # Interrupt a cell that runs too long (keeps the kernel's state); RobustExecute
    # restarts the kernel when the interrupt is ignored.
    c.RobustExecute.interrupt_on_timeout = True
    return c
