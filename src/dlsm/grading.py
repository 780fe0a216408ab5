"""Student versions of the lecture notebooks, from the instructor's source (nbgrader's conventions).

The jupytext source ``notebooks/lectureN.py`` is the instructor's notebook. Three kinds of cells matter:

- solution cells, metadata ``nbgrader = {"solution": true, "grade": false, ...}``: the code between the
  lines ``### BEGIN SOLUTION`` and ``### END SOLUTION`` is the model answer. The student version keeps
  the rest of the cell and replaces the region by nbgrader's stub (``# YOUR CODE HERE`` /
  ``raise NotImplementedError()``), indented like the marker;
- autograded test cells, ``nbgrader = {"grade": true, "locked": true, "points": N, ...}``: asserts
  that compare the student's answer with a number the lab computes in the notebook. Kept as they are;
- reference discussion, markdown cells tagged ``instructor``: replaced by one 考察 prompt per run of
  consecutive instructor cells.

``student_notebook(nb)`` does this on an nbformat notebook; ``write_student_notebooks`` on files
(``python scripts/make_student.py`` is the command). For teachers who run nbgrader,
``InstructorPrompts`` is the same replacement as an nbconvert preprocessor for
``nbgrader generate_assignment``; nbgrader's own ClearSolutions handles the solution regions
(see ``NBGRADER_CONFIG``).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
CODE_STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")  # nbgrader's ClearSolutions.code_stub
INSTRUCTOR_TAG = "instructor"
DISCUSSION_TAG = "discussion"
DISCUSSION_PROMPT = (
    "**考察 (discussion)**: 上の結果から分かることを、自分の実行で得た数値を引用しながら書きなさい。\n"
    "(ここをダブルクリックして書きます。レポートにも同じ考察を書いてください。)"
)

# nbgrader_config.py for a course folder: the instructor cells become prompts before nbgrader's own steps.
NBGRADER_CONFIG = """\
from nbgrader.converters import GenerateAssignment

from dlsm.grading import InstructorPrompts

c = get_config()  # noqa: F821 (nbgrader's config loader defines it)
nbgrader_steps = GenerateAssignment.class_traits()["preprocessors"].default()
c.GenerateAssignment.preprocessors = [InstructorPrompts, *nbgrader_steps]
"""


def nbgrader_meta(cell) -> dict:
    return dict(cell.get("metadata", {}).get("nbgrader", {}))


def is_solution(cell) -> bool:
    return bool(nbgrader_meta(cell).get("solution"))


def is_autograded_test(cell) -> bool:
    meta = nbgrader_meta(cell)
    return cell.cell_type == "code" and bool(meta.get("grade")) and not meta.get("solution")


def is_instructor(cell) -> bool:
    return INSTRUCTOR_TAG in cell.get("metadata", {}).get("tags", [])


def clear_solution(source: str, where: str = "cell") -> str:
    """``source`` with every solution region replaced by the stub; ValueError when the markers are
    missing, nested or unbalanced (nbgrader would reject such a cell too)."""
    out: list[str] = []
    inside = False
    found = False
    for line in source.split("\n"):
        if BEGIN_SOLUTION in line:
            if inside:
                raise ValueError(f"{where}: nested {BEGIN_SOLUTION!r}")
            inside = found = True
            indent = line[: len(line) - len(line.lstrip())]
            out.extend(indent + stub for stub in CODE_STUB)
        elif END_SOLUTION in line:
            if not inside:
                raise ValueError(f"{where}: {END_SOLUTION!r} without {BEGIN_SOLUTION!r}")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError(f"{where}: {BEGIN_SOLUTION!r} without {END_SOLUTION!r}")
    if not found:
        raise ValueError(f"{where}: a solution cell without {BEGIN_SOLUTION!r} ... {END_SOLUTION!r}")
    return "\n".join(out)


def discussion_cell():
    import nbformat

    return nbformat.v4.new_markdown_cell(DISCUSSION_PROMPT, metadata={"tags": [DISCUSSION_TAG]})


def replace_instructor_cells(cells: Sequence) -> list:
    """Each run of consecutive instructor cells becomes one 考察 prompt."""
    out: list = []
    for cell in cells:
        if is_instructor(cell):
            if not (out and DISCUSSION_TAG in out[-1].get("metadata", {}).get("tags", [])):
                out.append(discussion_cell())
        else:
            out.append(cell)
    return out


def student_notebook(nb, name: str = "notebook"):
    """The student version of an instructor notebook (a copy; outputs cleared)."""
    nb = copy.deepcopy(nb)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        if is_solution(cell):
            if cell.cell_type != "code":
                raise ValueError(f"{name}, cell {i}: solution cells must be code cells (discussion goes in "
                                 f"markdown cells tagged {INSTRUCTOR_TAG!r})")
            cell.source = clear_solution(cell.source, f"{name}, cell {i}")
    nb.cells = replace_instructor_cells(nb.cells)
    return nb


def write_student_notebooks(sources: Iterable[Path], out_dir: Path) -> list[Path]:
    """Read each jupytext source (``.py``) or ``.ipynb``, write ``out_dir/<stem>.ipynb`` (student version)."""
    import jupytext
    import nbformat

    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for source in sources:
        source = Path(source)
        nb = jupytext.read(source)
        target = out_dir / f"{source.stem}.ipynb"
        nbformat.write(student_notebook(nb, source.name), target)
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

    class InstructorPrompts(Preprocessor):
        """nbconvert/nbgrader preprocessor: instructor-tagged cells become 考察 prompts."""

        enabled = Bool(True, help="nbconvert runs a preprocessor only when it is enabled").tag(config=True)

        def preprocess(self, nb, resources):
            nb.cells = replace_instructor_cells(nb.cells)
            return nb, resources

    return InstructorPrompts


InstructorPrompts = _make_preprocessor()
