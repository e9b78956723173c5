"""Command line: ``python -m grading release 01`` and ``python -m grading grade 01``.

Run from the repository root (the Makefile's ``make release CH=01`` and
``make grade CH=01`` do). Exit status: 0 when every submission was graded, 1 when
some could not be (the others are graded all the same), 2 for bad input or when no
sandbox can be made (and ``--unsafe`` was not given).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from grading.config import Limits
from grading.course import (
    COURSE_DIR,
    NOTEBOOKS_DIR,
    GradingError,
    default_jobs,
    grade,
    release,
    summary_table,
)

_LIMIT_HELP = {
    "cell_timeout": "wall-clock seconds per cell",
    "cell_cpu": "CPU seconds per cell, all threads together",
    "memory_mb": "memory (private data) of a submission's kernel, in MB",
    "processes": "processes and threads of a submission (not enforced for root)",
    "output_kb": "output of one cell, in KB",
    "scratch_mb": "a submission's private scratch space, in MB",
    "submission_timeout": "wall-clock seconds for a whole submission",
}


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
    p.add_argument(
        "--jobs", type=int, default=default_jobs(), help="submissions executed at once (cores)"
    )
    p.add_argument(
        "--unsafe", action="store_true", help="grade without a sandbox where none can be made"
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    for f in dataclasses.fields(Limits):
        p.add_argument(
            f"--{f.name.replace('_', '-')}",
            type=int,
            default=f.default,
            help=f"{_LIMIT_HELP[f.name]} (default {f.default})",
        )
    # The name of the time limit per submission before the sandbox came.
    p.add_argument(
        "--student-timeout",
        type=int,
        dest="submission_timeout",
        default=argparse.SUPPRESS,
        help=argparse.SUPPRESS,
    )
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
        limits = Limits(**{f.name: getattr(args, f.name) for f in dataclasses.fields(Limits)})
        if args.jobs < 1:
            raise GradingError(f"--jobs must be at least 1, got {args.jobs}")
        results = grade(
            args.chapter,
            course_dir=args.course_dir,
            limits=limits,
            jobs=args.jobs,
            unsafe=args.unsafe,
            progress=not args.no_progress,
        )
    except (GradingError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print()
    print(summary_table(results))
    print(f"\ngrades: {args.course_dir / 'grades.csv'}  feedback: {args.course_dir / 'feedback'}")
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
