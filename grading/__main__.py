"""Command line: ``python -m grading release 01`` and ``python -m grading grade 01``.

Run from the repository root (the Makefile's ``make release CH=01`` and
``make grade CH=01`` do). Exit status: 0 when every submission was graded, 1 when
some could not be (the others are graded all the same), 2 for bad input.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from grading.config import CELL_TIMEOUT
from grading.course import (
    COURSE_DIR,
    NOTEBOOKS_DIR,
    STUDENT_TIMEOUT,
    GradingError,
    autograde_student,
    grade,
    release,
    summary_table,
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m grading", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("release", help="write the student version of a chapter's exercises")
    p.add_argument("chapter", help="chapter number, e.g. 01")
    p.add_argument("--course-dir", type=Path, default=COURSE_DIR)
    p.add_argument("--notebooks-dir", type=Path, default=NOTEBOOKS_DIR)

    p = sub.add_parser("grade", help="autograde every submission, write feedback and grades.csv")
    p.add_argument("chapter", help="chapter number, e.g. 01")
    p.add_argument("--course-dir", type=Path, default=COURSE_DIR)
    p.add_argument("--cell-timeout", type=int, default=CELL_TIMEOUT, help="seconds per cell")
    p.add_argument(
        "--student-timeout", type=int, default=STUDENT_TIMEOUT, help="seconds per submission"
    )

    # Internal: `grade` runs this in a child process for each student.
    p = sub.add_parser("autograde-one", help=argparse.SUPPRESS)
    p.add_argument("chapter")
    p.add_argument("student")
    p.add_argument("--course-dir", type=Path, default=COURSE_DIR)
    p.add_argument("--cell-timeout", type=int, default=CELL_TIMEOUT)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "release":
            path = release(
                args.chapter, course_dir=args.course_dir, notebooks_dir=args.notebooks_dir
            )
            print(f"student version: {path}")
            return 0
        if args.command == "autograde-one":
            print(
                autograde_student(
                    args.chapter,
                    args.student,
                    course_dir=args.course_dir,
                    cell_timeout=args.cell_timeout,
                )
            )
            return 0
        results = grade(
            args.chapter,
            course_dir=args.course_dir,
            cell_timeout=args.cell_timeout,
            student_timeout=args.student_timeout,
        )
    except GradingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print()
    print(summary_table(results))
    print(f"\ngrades: {args.course_dir / 'grades.csv'}  feedback: {args.course_dir / 'feedback'}")
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
