"""The ``posekit`` command: ``posekit course build|check|run``, ``posekit doctor``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def _course(args: argparse.Namespace) -> int:
    from posekit import course

    if args.action == "build":
        written = course.build(lessons=args.lessons or None)
        print(f"built {len(written)} student notebook(s)")
        return 0
    if args.action == "check":
        problems = course.check()
        for problem in problems:
            print(f"FAIL {problem}")
        print("course check: OK" if not problems else f"course check: {len(problems)} problem(s)")
        return 1 if problems else 0
    results = course.run(
        lessons=args.lessons or None,
        folder=args.folder,
        full=args.full,
        timeout=args.timeout,
        check_mode=args.check_mode,
    )
    return 0 if all(r.ok for r in results) else 1


def _doctor(args: argparse.Namespace) -> int:
    from posekit import doctor

    return doctor.report(strict=args.strict)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="posekit", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    course = sub.add_parser("course", help="build, check or run the lessons")
    course.add_argument("action", choices=["build", "check", "run"])
    course.add_argument("lessons", nargs="*", help="two-digit lesson numbers (default: all)")
    course.add_argument("--folder", choices=["solutions", "notebooks"], default="solutions")
    course.add_argument("--full", action="store_true", help="full mode (default: quick)")
    course.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    course.add_argument(
        "--check-mode",
        choices=["student", "strict", "expect-todo"],
        help="check mode for `run` (default: strict on solutions, expect-todo on notebooks)",
    )
    course.set_defaults(func=_course)

    doctor = sub.add_parser("doctor", help="versions, threads, modes; do spconv/mediapipe work?")
    doctor.add_argument("--strict", action="store_true", help="exit 1 if anything fails")
    doctor.set_defaults(func=_doctor)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
