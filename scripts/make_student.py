"""Write the student versions of the lecture notebooks (solutions and hidden tests cleared, 考察 answers
emptied with their questions kept, instructor notes left out, the course's REPO_URL written in).

    python scripts/make_student.py                       # notebooks/lecture*.py -> build/student/*.ipynb
    python scripts/make_student.py notebooks/lecture2.py -o handout/
    python scripts/make_student.py --repo-url https://github.com/my-course/dlsm   # instead of course.toml's
    python scripts/make_student.py --nbgrader-config     # print an nbgrader_config.py for a course folder

The rules are in ``dlsm.grading``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dlsm.grading import NBGRADER_CONFIG, write_student_notebooks

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sources", nargs="*", type=Path, help="instructor notebooks (default: notebooks/lecture*.py)")
    parser.add_argument("-o", "--out", type=Path, default=ROOT / "build" / "student", help="output folder")
    parser.add_argument("--repo-url", help="where the course hosts dlsm (default: repo_url of notebooks/course.toml)")
    parser.add_argument("--nbgrader-config", action="store_true", help="print nbgrader_config.py and exit")
    args = parser.parse_args(argv)
    if args.nbgrader_config:
        print(NBGRADER_CONFIG, end="")
        return 0
    sources = args.sources or sorted((ROOT / "notebooks").glob("lecture*.py"))
    try:
        for path in write_student_notebooks(sources, args.out, args.repo_url):
            print(path)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
