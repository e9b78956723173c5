"""The course's graded-exercise pipeline, built on nbgrader (Hamrick 2016).

``python -m grading release 01`` writes the student version of chapter 01's
exercises; ``python -m grading grade 01`` autogrades every submission in
``grading/submitted/<student>/ch01/`` and exports ``grading/grades.csv``.
See ``book/instructors.md`` for the workflow.

The package imports its parts lazily: inside the grading sandbox only
``grading.sandbox`` and ``grading.execute`` exist, and they must not pull in the
gradebook or the course commands.
"""

from importlib import import_module

__all__ = ["GradingError", "grade", "release"]


def __getattr__(name: str):
    if name == "GradingError":
        return import_module("grading.errors").GradingError
    if name in ("grade", "release"):
        return getattr(import_module("grading.course"), name)
    raise AttributeError(f"module 'grading' has no attribute {name!r}")
