"""The one exception of the grading pipeline that is meant for people, not tracebacks.

It lives apart from ``course.py`` so that the sandbox launcher (``isolation.py``) and
the course commands can both raise it without importing each other.
"""


class GradingError(Exception):
    """A problem with the input (chapter, notebooks, submissions) or the machine, explained."""
