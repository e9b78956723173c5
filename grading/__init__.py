"""The course's graded-exercise pipeline, built on nbgrader (Hamrick 2016).

``python -m grading release 01`` writes the student version of chapter 01's
exercises; ``python -m grading grade 01`` autogrades every submission in
``grading/submitted/<student>/ch01/`` and exports ``grading/grades.csv``.
See ``book/instructors.md`` for the workflow.
"""

from grading.course import GradingError, grade, release

__all__ = ["GradingError", "grade", "release"]
