"""Student versions of the lecture notebooks, from the instructor's source (nbgrader's conventions).

The jupytext source ``notebooks/lectureN.py`` is the instructor's notebook. Four kinds of cells matter:

- solution code cells, metadata ``nbgrader = {"solution": true, "grade": false, ...}``: the code between
  the lines ``### BEGIN SOLUTION`` and ``### END SOLUTION`` is the model answer. The student version keeps
  the rest of the cell and replaces the region by nbgrader's stub (``# YOUR CODE HERE`` /
  ``raise NotImplementedError()``), indented like the marker;
- autograded test cells, ``nbgrader = {"grade": true, "locked": true, "points": N, ...}``: a visible part
  that checks the form of the answer and reveals nothing of it, and hidden tests between
  ``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS`` that compare the student's value with a number
  computed at grading time. The student version drops the hidden part (as nbgrader's ClearHiddenTests does);
- 考察 (discussion) cells, markdown, manual-graded answers (``nbgrader = {"solution": true, "grade": true,
  "points": N, ...}``): the exercise's own question, then the reference discussion between the solution
  markers. The student version keeps the question and replaces the reference by ``TEXT_STUB``;
- instructor notes, markdown cells tagged ``instructor`` (reading guides for the teacher): left out of the
  student version.

``student_notebook(nb)`` does this on an nbformat notebook; ``write_student_notebooks`` on files
(``python scripts/make_student.py`` is the command; it also writes the course's ``REPO_URL`` from
``notebooks/course.toml`` into each install cell). For teachers who run nbgrader, ``InstructorNotes`` drops
the instructor notes as an nbconvert preprocessor for ``nbgrader generate_assignment``; nbgrader's own
ClearSolutions and ClearHiddenTests handle the rest (see ``NBGRADER_CONFIG``).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"
END_HIDDEN = "### END HIDDEN TESTS"
CODE_STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")  # nbgrader's ClearSolutions.code_stub
#: What replaces the reference discussion of a 考察 cell (also given to nbgrader's ClearSolutions.text_stub).
TEXT_STUB = "(ここに考察を書きなさい: YOUR ANSWER HERE)"
INSTRUCTOR_TAG = "instructor"
REPO_URL_LINE = re.compile(r'^REPO_URL = "[^"]*"', re.MULTILINE)

# nbgrader_config.py for a course folder: the instructor notes are dropped before nbgrader's own steps.
NBGRADER_CONFIG = f"""\
from nbgrader.converters import GenerateAssignment

from dlsm.grading import InstructorNotes

c = get_config()  # noqa: F821 (nbgrader's config loader defines it)
nbgrader_steps = GenerateAssignment.class_traits()["preprocessors"].default()
c.GenerateAssignment.preprocessors = [InstructorNotes, *nbgrader_steps]
c.ClearSolutions.text_stub = {TEXT_STUB!r}
"""


def nbgrader_meta(cell) -> dict:
    return dict(cell.get("metadata", {}).get("nbgrader", {}))


def is_solution(cell) -> bool:
    return bool(nbgrader_meta(cell).get("solution"))


def is_autograded_test(cell) -> bool:
    meta = nbgrader_meta(cell)
    return cell.cell_type == "code" and bool(meta.get("grade")) and not meta.get("solution")


def is_discussion(cell) -> bool:
    """A manual-graded 考察 answer cell (markdown with nbgrader's solution and grade flags)."""
    meta = nbgrader_meta(cell)
    return cell.cell_type == "markdown" and bool(meta.get("solution")) and bool(meta.get("grade"))


def is_instructor(cell) -> bool:
    return INSTRUCTOR_TAG in cell.get("metadata", {}).get("tags", [])


def _regions(source: str, begin: str, end: str, where: str) -> list[tuple[int, int]]:
    """(first, last) line numbers of each ``begin`` ... ``end`` region; ValueError when unbalanced."""
    regions, start = [], None
    for i, line in enumerate(source.split("\n")):
        if begin in line:
            if start is not None:
                raise ValueError(f"{where}: nested {begin!r}")
            start = i
        elif end in line:
            if start is None:
                raise ValueError(f"{where}: {end!r} without {begin!r}")
            regions.append((start, i))
            start = None
    if start is not None:
        raise ValueError(f"{where}: {begin!r} without {end!r}")
    return regions


def _inside(source: str, begin: str, end: str) -> str:
    """The lines between each ``begin`` ... ``end`` pair of markers, markers excluded."""
    lines = source.split("\n")
    return "\n".join("\n".join(lines[a + 1:b]) for a, b in _regions(source, begin, end, "cell"))


def solution_text(source: str) -> str:
    """What lies between the solution markers (the model answer or reference discussion)."""
    return _inside(source, BEGIN_SOLUTION, END_SOLUTION)


def hidden_tests(source: str) -> str:
    """What lies between the hidden-test markers of a test cell."""
    return _inside(source, BEGIN_HIDDEN, END_HIDDEN)


def clear_hidden_tests(source: str, where: str = "cell") -> str:
    """``source`` without its hidden-test regions (markers included)."""
    lines = source.split("\n")
    drop = {i for a, b in _regions(source, BEGIN_HIDDEN, END_HIDDEN, where) for i in range(a, b + 1)}
    return "\n".join(line for i, line in enumerate(lines) if i not in drop).rstrip("\n")


def clear_solution(source: str, where: str = "cell", stub: Sequence[str] = CODE_STUB) -> str:
    """``source`` with every solution region replaced by ``stub`` (indented like the marker); ValueError
    when the markers are missing, nested or unbalanced (nbgrader would reject such a cell too)."""
    regions = _regions(source, BEGIN_SOLUTION, END_SOLUTION, where)
    if not regions:
        raise ValueError(f"{where}: a solution cell without {BEGIN_SOLUTION!r} ... {END_SOLUTION!r}")
    lines = source.split("\n")
    out: list[str] = []
    starts = {a: b for a, b in regions}
    i = 0
    while i < len(lines):
        if i in starts:
            indent = lines[i][: len(lines[i]) - len(lines[i].lstrip())]
            out.extend(indent + line for line in stub)
            i = starts[i] + 1
        else:
            out.append(lines[i])
            i += 1
    return "\n".join(out)


def student_notebook(nb, name: str = "notebook", repo_url: str | None = None):
    """The student version of an instructor notebook (a copy; outputs cleared). ``repo_url`` replaces the
    install cell's ``REPO_URL``."""
    nb = copy.deepcopy(nb)
    cells = []
    for i, cell in enumerate(nb.cells):
        where = f"{name}, cell {i}"
        if is_instructor(cell):
            continue
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
            if repo_url is not None:
                cell.source = REPO_URL_LINE.sub(f'REPO_URL = "{repo_url}"', cell.source)
        if is_discussion(cell):
            cell.source = clear_solution(cell.source, where, (TEXT_STUB,))
        elif is_solution(cell):
            if cell.cell_type != "code":
                raise ValueError(f"{where}: a markdown solution cell is a graded 考察 answer: give it "
                                 f'"grade": true and points')
            cell.source = clear_solution(cell.source, where)
        elif is_autograded_test(cell):
            cell.source = clear_hidden_tests(cell.source, where)
        cells.append(cell)
    nb.cells = cells
    return nb


def course_settings(folder: Path) -> dict:
    """``course.toml`` beside the notebooks (the course's REPO_URL); empty when there is none."""
    import tomllib

    path = Path(folder) / "course.toml"
    if not path.is_file():
        return {}
    try:
        return tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: {exc}") from None


def write_student_notebooks(sources: Iterable[Path], out_dir: Path, repo_url: str | None = None) -> list[Path]:
    """Read each jupytext source (``.py``) or ``.ipynb``, write ``out_dir/<stem>.ipynb`` (student version).

    ``repo_url`` defaults to ``repo_url`` of ``course.toml`` beside each source.
    """
    import jupytext
    import nbformat

    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for source in sources:
        source = Path(source)
        nb = jupytext.read(source)
        url = repo_url if repo_url is not None else course_settings(source.parent).get("repo_url")
        target = out_dir / f"{source.stem}.ipynb"
        nbformat.write(student_notebook(nb, source.name, url), target)
        written.append(target)
    return written


_NUMBER = re.compile(r"(?<![A-Za-z_\d.])(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?")


def numbers_in(text: str) -> set[str]:
    """The numbers written in ``text``, normalised (``60,000`` -> ``60000``, ``0.50`` -> ``0.5``,
    ``1e-5`` -> ``1e-05``). Digits inside identifiers (``x1``, ``lecture3``) do not count."""
    found = set()
    for match in _NUMBER.finditer(text):
        found.add(normalise_number(float(match.group().replace(",", ""))))
    return found


def normalise_number(value: float) -> str:
    return f"{abs(value):.10g}"


def _make_preprocessor():
    try:
        from nbconvert.preprocessors import Preprocessor
        from traitlets import Bool
    except ImportError:  # nbconvert comes with Jupyter and nbgrader; the rest of this module does not need it
        return None

    class InstructorNotes(Preprocessor):
        """nbconvert/nbgrader preprocessor: cells tagged instructor are left out."""

        enabled = Bool(True, help="nbconvert runs a preprocessor only when it is enabled").tag(config=True)

        def preprocess(self, nb, resources):
            nb.cells = [c for c in nb.cells if not is_instructor(c)]
            return nb, resources

    return InstructorNotes


InstructorNotes = _make_preprocessor()
