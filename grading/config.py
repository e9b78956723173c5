"""The nbgrader configuration of the course, and the limits of a graded submission.

``make_config(course_dir)`` is used by ``python -m grading`` and by
``grading/nbgrader_config.py`` (which ``nbgrader formgrader`` and JupyterLab's
nbgrader extension read when started in ``grading/``), so the command line and the
web interface grade the same way: each submission is executed in the sandbox of
``grading/isolation.py``, under the ``Limits`` below.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
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

from grading.isolation import SandboxExecute

COURSE_ID = "nn-architectures"
#: Seconds one cell may run when a submission is autograded. The exercises'
#: reference solutions need well under a second each.
CELL_TIMEOUT = 30
#: Modules each kernel imports before the notebook's first cell, when the notebook
#: imports them somewhere, so that their import time (PyTorch's: seconds on a busy
#: machine) never counts against a cell's limit.
PRELOAD = ("numpy", "nnlib")


@dataclass(frozen=True)
class Limits:
    """What one submission may use while it is graded; each limit costs only its cells.

    Examples
    --------
    >>> Limits(memory_mb=4096).memory_mb
    4096
    """

    #: Wall-clock seconds per cell (interrupted, then the kernel is replaced).
    cell_timeout: int = CELL_TIMEOUT
    #: CPU seconds per cell, all threads together (the kernel is killed past it).
    cell_cpu: int = 2 * CELL_TIMEOUT
    #: Private data of the kernel (RLIMIT_DATA), in MB: a larger allocation raises
    #: MemoryError. Its address space is capped at twice that plus 2 GB.
    memory_mb: int = 2048
    #: Processes and threads in one sandbox (Linux ignores it when grading as root).
    processes: int = 256
    #: Output of one cell, in KB; the rest is dropped and the cell scores 0.
    output_kb: int = 1024
    #: Size of the private scratch space (/tmp, the home and working directory), in MB.
    scratch_mb: int = 512
    #: Wall-clock seconds for one whole submission; it is stopped past it.
    submission_timeout: int = 900

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, int) or value <= 0:
                raise ValueError(f"Limits.{f.name} must be a positive integer, got {value!r}")

    def as_dict(self) -> dict[str, int]:
        return dataclasses.asdict(self)


def make_config(
    course_dir: Path | str,
    *,
    limits: Limits | None = None,
    results_dir: Path | str | None = None,
    unsafe: bool = False,
) -> Config:
    """nbgrader ``Config`` for the course directory ``course_dir`` (``grading/``).

    ``results_dir`` holds notebooks already executed in the sandbox (``parallel.py``);
    ``unsafe`` runs them without a sandbox where none is available.
    """
    course_dir = Path(course_dir).resolve()
    limits = limits or Limits()
    c = Config()
    c.CourseDirectory.root = str(course_dir)
    c.CourseDirectory.course_id = COURSE_ID
    c.CourseDirectory.db_url = f"sqlite:///{course_dir / 'gradebook.db'}"
    # A locked test cell the student deleted is put back (and run), like an edited one.
    c.OverwriteCells.add_missing_cells = True
    # nbgrader's default list, with Execute replaced by SandboxExecute, which hands the
    # notebook to RobustExecute (execute.py) inside the sandbox.
    c.Autograde.autograde_preprocessors = [
        SandboxExecute,
        IgnorePattern,
        ClearMetadataPreprocessor,
        LimitOutput,
        SaveAutoGrades,
        AssignLatePenalties,
        CheckCellMetadata,
    ]
    c.SandboxExecute.limits = limits.as_dict()
    c.SandboxExecute.results_dir = str(results_dir or "")
    c.SandboxExecute.unsafe = unsafe
    c.SandboxExecute.preload = list(PRELOAD)
    return c
