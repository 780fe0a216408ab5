"""Student versions of the lecture notebooks (dlsm.grading): solutions and hidden tests removed, each 考察
cell keeps its own question and loses its reference answer, instructor notes left out, nbgrader metadata well
formed, no result number in the prose, the course's REPO_URL written in, and nbgrader's own
generate_assignment accepts the notebooks (from a shell whose PATH lacks the venv)."""

from __future__ import annotations

import importlib.util
import re
import subprocess
from dataclasses import fields
from pathlib import Path

import jupytext
import nbformat
import pytest

from dlsm.grading import (
    BEGIN_HIDDEN,
    BEGIN_SOLUTION,
    CODE_STUB,
    END_HIDDEN,
    END_SOLUTION,
    TEXT_STUB,
    clear_hidden_tests,
    clear_solution,
    hidden_tests,
    is_autograded_test,
    is_discussion,
    is_instructor,
    is_solution,
    nbgrader_meta,
    normalise_number,
    numbers_in,
    solution_text,
    student_notebook,
    write_student_notebooks,
)
from dlsm.grading import (
    course_settings as course_toml,
)
from dlsm.labs import registry

NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("lecture*.py"))
IDS = [p.stem for p in NOTEBOOKS]

# Numbers prose may state without a run: facts of the course (COURSE.md) that no lab Config holds, and
# numbers that follow from the course settings by arithmetic the prose shows. Everything else in
# non-instructor markdown must be a setting (a lab default or preset, or a value set in the notebook's
# code) or be printed by code. Small integers (0..10) are counts, exponents and section numbers.
COURSE_FACTS = {
    # MNIST: 28×28 = 784 pixels, 60,000 / 10,000 images, 9216 = 64·12·12 inputs of the CNN's fc1, 255 grey
    # levels; the embedded subset: 5,000 images, 500 per digit, 400 train + 100 test, 4,000 / 1,000
    28, 784, 60000, 10000, 9216, 128, 32, 64, 255, 5000, 500, 400, 100, 4000, 1000, 12,
    # lecture 1 worked examples (COURSE.md): s_k = 2·0.6^k, and the first iterates of the 2-D descent with
    # α = 0.18 (x1 × 0.82, x2 × -0.8 per step)
    0.6, 1.2, 0.72, 0.432, 3.28, 0.8, 2.6896, 0.64, 0.512, 0.82,
    # lecture 4: y = w x + b = 4·3 + 5 = 17; the crop table is (temperature, rainfall, humidity)
    17,
    # lecture 1: sigmoid' ≤ 1/4; the course's accuracy defect: 1,050 images in batches of 200 -> 1050/1200
    0.25, 1050, 1200, 87.5,
    # lecture 6: the original TISTA paper's m = 250 (n = 500) that the course cites
    250,
}
SMALL_INTEGERS = set(range(11))


def _flatten(value):
    if isinstance(value, (list, tuple)):
        for v in value:
            yield from _flatten(v)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        yield value


def course_settings() -> set[str]:
    """Every default and preset value of every registered lab's Config (the course's settings)."""
    values: set[float] = set()
    for lab in registry().values():
        cls = lab.config
        values.update(_flatten([getattr(cls(), f.name) for f in fields(cls)]))
        for preset in (cls.quick, cls.full):
            values.update(_flatten(list(preset.values())))
    return {normalise_number(v) for v in values}


def allowed_numbers(nb) -> set[str]:
    allowed = {normalise_number(v) for v in COURSE_FACTS | SMALL_INTEGERS} | course_settings()
    for cell in nb.cells:
        if cell.cell_type == "code":
            allowed |= numbers_in(cell.source)
    return allowed


CITATION_YEAR = re.compile(r"(?<=[ ,(])(?:19|20)\d\d(?=[),.;]|\s*年)")  # "(Ito, Takabe, Wadayama 2019)"


def student_text(cell) -> str:
    """What a student reads of a markdown cell: nothing of an instructor note, the question of a 考察 cell."""
    if is_instructor(cell):
        return ""
    if is_discussion(cell):
        return clear_solution(cell.source, stub=())
    return cell.source


def reference_text(cell) -> str:
    """The instructor's text: instructor notes and the reference answers of 考察 cells."""
    if is_instructor(cell):
        return cell.source
    if is_discussion(cell):
        return solution_text(cell.source)
    return ""


def prose(nb) -> list[str]:
    return [CITATION_YEAR.sub("", student_text(c)) for c in nb.cells
            if c.cell_type == "markdown" and student_text(c).strip()]


@pytest.fixture(scope="module")
def student_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("student")
    write_student_notebooks(NOTEBOOKS, out)
    return out


def test_clear_solution_keeps_the_rest_and_indents_the_stub():
    source = f"a = 1\ndef f(x):\n    {BEGIN_SOLUTION}\n    return 2 * x\n    {END_SOLUTION}\nprint(f(a))"
    cleared = clear_solution(source)
    assert cleared == "a = 1\ndef f(x):\n" + "".join(f"    {s}\n" for s in CODE_STUB) + "print(f(a))"
    for bad in (f"{BEGIN_SOLUTION}\nx = 1", f"x = 1\n{END_SOLUTION}", "x = 1",
                f"{BEGIN_SOLUTION}\n{BEGIN_SOLUTION}\n{END_SOLUTION}"):
        with pytest.raises(ValueError):
            clear_solution(bad)


def test_numbers_in_reads_prose_numbers():
    text = "60,000 枚、学習係数 0.1 と 1e-5、28×28、x1 と lecture3 と W_2 は数えない、(2, 8)、−0.50"
    assert numbers_in(text) == {"60000", "0.1", "1e-05", "28", "2", "8", "0.5"}


def test_clear_hidden_tests_keeps_the_visible_part():
    source = f"assert isinstance(x, float)\n{BEGIN_HIDDEN}\nassert abs(x - 2) < 1e-9\n{END_HIDDEN}"
    assert clear_hidden_tests(source) == "assert isinstance(x, float)"
    assert hidden_tests(source) == "assert abs(x - 2) < 1e-9"
    with pytest.raises(ValueError):
        clear_hidden_tests(f"{BEGIN_HIDDEN}\nassert True")


@pytest.mark.parametrize("source", NOTEBOOKS, ids=IDS)
def test_student_version_has_no_solution_no_hidden_test_and_no_reference(source, student_dir):
    instructor = jupytext.read(source)
    student = nbformat.read(student_dir / f"{source.stem}.ipynb", as_version=4)
    nbformat.validate(student)
    text = "\n".join(c.source for c in student.cells)
    for marker in (BEGIN_SOLUTION, END_SOLUTION, BEGIN_HIDDEN, END_HIDDEN):
        assert marker not in text
    assert not any(is_instructor(c) for c in student.cells)
    solutions = [c for c in instructor.cells if is_solution(c) and c.cell_type == "code"]
    cleared = [c for c in student.cells if is_solution(c) and c.cell_type == "code"]
    assert len(cleared) == len(solutions)
    for before, after in zip(solutions, cleared, strict=True):
        assert "raise NotImplementedError()" in after.source
        region = solution_text(before.source).strip("\n #")
        assert region and region not in after.source
    tests = [c for c in instructor.cells if is_autograded_test(c)]
    assert [clear_hidden_tests(c.source) for c in tests] == [c.source for c in student.cells if is_autograded_test(c)]
    discussions = [c for c in instructor.cells if is_discussion(c)]
    kept = [c for c in student.cells if is_discussion(c)]
    assert len(kept) == len(discussions) > 0, "a lecture has at least one graded 考察 cell"
    for before, after in zip(discussions, kept, strict=True):
        assert TEXT_STUB in after.source
        assert solution_text(before.source).strip() not in after.source
        question = clear_solution(before.source, stub=()).strip()
        assert question and question in after.source, question


@pytest.mark.parametrize("source", NOTEBOOKS, ids=IDS)
def test_every_test_cell_hides_its_reference_and_shows_no_answer(source):
    """The visible part of a test cell checks the answer's form; the comparison with the reference is hidden."""
    nb = jupytext.read(source)
    for cell in (c for c in nb.cells if is_autograded_test(c)):
        grade_id = nbgrader_meta(cell)["grade_id"]
        assert hidden_tests(cell.source).strip(), f"{grade_id}: no {BEGIN_HIDDEN} ... {END_HIDDEN} region"
        visible = clear_hidden_tests(cell.source)
        assert "metrics[" not in visible, f"{grade_id}: the visible test reads the lab's result (the answer)"


@pytest.mark.parametrize("source", NOTEBOOKS, ids=IDS)
def test_each_discussion_asks_its_own_question(source):
    nb = jupytext.read(source)
    questions = [clear_solution(c.source, stub=()).strip() for c in nb.cells if is_discussion(c)]
    assert all(len(q) > 20 for q in questions), questions
    assert len(set(questions)) == len(questions), "two 考察 cells ask the same question"
    for cell in (c for c in nb.cells if is_discussion(c)):
        meta = nbgrader_meta(cell)
        assert meta["points"] > 0 and meta["locked"] is False and solution_text(cell.source).strip(), meta


@pytest.mark.parametrize("source", NOTEBOOKS, ids=IDS)
def test_nbgrader_metadata_is_well_formed(source):
    nb = jupytext.read(source)
    graded = [c for c in nb.cells if nbgrader_meta(c)]
    ids = [nbgrader_meta(c).get("grade_id") for c in graded]
    assert all(ids) and len(set(ids)) == len(ids), f"grade_id missing or repeated: {ids}"
    for cell in graded:
        meta = nbgrader_meta(cell)
        assert meta.get("schema_version") == 3, meta
        if is_discussion(cell):
            assert meta["grade"] is True and meta["points"] > 0 and meta["locked"] is False, meta
        elif is_solution(cell):
            assert cell.cell_type == "code" and meta["grade"] is False and meta["locked"] is False, meta
        else:
            assert is_autograded_test(cell), meta
            assert meta["locked"] is True and meta["points"] > 0, meta
    solution_positions = [i for i, c in enumerate(nb.cells) if is_solution(c) and c.cell_type == "code"]
    test_positions = [i for i, c in enumerate(nb.cells) if is_autograded_test(c)]
    assert solution_positions, "a lecture notebook has at least one exercise to complete"
    for i in solution_positions:  # each exercise is checked by a test before the next exercise starts
        later = [j for j in test_positions if j > i]
        assert later and all(later[0] < k for k in solution_positions if k > i), f"cell {i} has no test"


@pytest.mark.parametrize("source", NOTEBOOKS, ids=IDS)
def test_student_version_states_no_number_of_the_discussion(source, student_dir):
    instructor = jupytext.read(source)
    allowed = allowed_numbers(instructor)
    discussion = set().union(*(numbers_in(reference_text(c)) for c in instructor.cells)) - allowed
    student = nbformat.read(student_dir / f"{source.stem}.ipynb", as_version=4)
    leaked = discussion & set().union(*(numbers_in(c.source) for c in student.cells))
    assert not leaked, f"{source.name}: the student version states numbers of the discussion: {sorted(leaked)}"


@pytest.mark.parametrize("source", NOTEBOOKS, ids=IDS)
def test_prose_states_no_number_that_no_run_produced(source):
    nb = jupytext.read(source)
    allowed = allowed_numbers(nb)
    stray = {}
    for text in prose(nb):
        for number in sorted(numbers_in(text) - allowed):
            stray.setdefault(number, text.splitlines()[0][:60])
    assert not stray, (f"{source.name}: numbers in the prose that are no course setting and no code prints "
                       f"(print them from results, or move the passage into a cell tagged instructor): {stray}")


def test_student_notebook_drops_instructor_notes_and_keeps_the_question():
    nb = nbformat.v4.new_notebook()
    md = nbformat.v4.new_markdown_cell
    graded = {"nbgrader": {"grade": True, "solution": True, "locked": False, "points": 2, "grade_id": "d",
                           "schema_version": 3}}
    nb.cells = [md("intro"), md("a", metadata={"tags": ["instructor"]}),
                nbformat.v4.new_code_cell('REPO_URL = "https://x"\nx = 1'),
                md(f"**考察**: why?\n\n{BEGIN_SOLUTION}\nbecause 1 - 10α = -1\n{END_SOLUTION}", metadata=graded)]
    out = student_notebook(nb, repo_url="https://course.example/dlsm")
    assert [c.source for c in out.cells] == ["intro", 'REPO_URL = "https://course.example/dlsm"\nx = 1',
                                             f"**考察**: why?\n\n{TEXT_STUB}"]
    assert len(nb.cells) == 4 and nb.cells[2].source.startswith('REPO_URL = "https://x"')  # not modified


def test_handouts_carry_the_course_repo_url(student_dir):
    url = course_toml(NOTEBOOKS[0].parent)["repo_url"]
    for source in NOTEBOOKS:
        student = nbformat.read(student_dir / f"{source.stem}.ipynb", as_version=4)
        install = [c.source for c in student.cells if c.cell_type == "code" and "REPO_URL = " in c.source]
        assert len(install) == 1 and f'REPO_URL = "{url}"' in install[0], source.name


def test_make_student_script_writes_the_notebooks(tmp_path, capsys):
    script = Path(__file__).parents[1] / "scripts" / "make_student.py"
    spec = importlib.util.spec_from_file_location("make_student", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main([str(NOTEBOOKS[0]), "-o", str(tmp_path)]) == 0
    assert (tmp_path / f"{NOTEBOOKS[0].stem}.ipynb").is_file()
    assert module.main(["--nbgrader-config"]) == 0
    assert "InstructorNotes" in capsys.readouterr().out
    bad = tmp_path / "bad.py"
    bad.write_text('# %% nbgrader={"grade": false, "grade_id": "x", "locked": false, "solution": true, '
                   '"schema_version": 3}\nx = 1\n')
    assert module.main([str(bad), "-o", str(tmp_path)]) == 2
    assert "without" in capsys.readouterr().err


def _graded_example():
    """A notebook with each kind of cell (for nbgrader's own round trip)."""
    nb = nbformat.v4.new_notebook()
    meta = {"schema_version": 3, "locked": False}
    nb.cells = [
        nbformat.v4.new_markdown_cell("# example"),
        nbformat.v4.new_code_cell(f"{BEGIN_SOLUTION}\nx = 2.0\n{END_SOLUTION}", metadata={"nbgrader": {
            **meta, "grade": False, "solution": True, "grade_id": "code"}}),
        nbformat.v4.new_code_cell(f"assert isinstance(x, float)\n{BEGIN_HIDDEN}\nassert x == 2.0\n{END_HIDDEN}",
                                  metadata={"nbgrader": {**meta, "grade": True, "solution": False, "locked": True,
                                                         "points": 1, "grade_id": "test"}}),
        nbformat.v4.new_markdown_cell("note for the teacher", metadata={"tags": ["instructor"]}),
        nbformat.v4.new_markdown_cell(f"**考察**: なぜ?\n\n{BEGIN_SOLUTION}\n参考: 1 - 10α = -1\n{END_SOLUTION}",
                                      metadata={"nbgrader": {**meta, "grade": True, "solution": True, "points": 2,
                                                             "grade_id": "discussion"}}),
    ]
    return nb


@pytest.mark.skipif(importlib.util.find_spec("nbgrader") is None, reason="nbgrader is not installed")
def test_nbgrader_generate_assignment_from_a_shell_without_the_venv(tmp_path):
    """The documented command (scripts/nbgrader.sh, venv not activated, with nbgrader's database) releases
    the same student notebooks as dlsm.grading."""
    course = tmp_path / "course"
    (course / "source" / "lab").mkdir(parents=True)
    notebooks = {"example": _graded_example(), NOTEBOOKS[0].stem: jupytext.read(NOTEBOOKS[0])}
    for stem, nb in notebooks.items():
        nbformat.write(nb, course / "source" / "lab" / f"{stem}.ipynb")
    script = Path(__file__).parents[1] / "scripts" / "nbgrader.sh"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    done = subprocess.run(["bash", str(script), "generate_assignment", "lab"], cwd=course, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "InstructorNotes" in (course / "nbgrader_config.py").read_text()
    for stem, nb in notebooks.items():
        released = nbformat.read(course / "release" / "lab" / f"{stem}.ipynb", as_version=4)
        ours = student_notebook(nb)
        assert [c.source.rstrip() for c in released.cells] == [c.source.rstrip() for c in ours.cells]
        assert all(c.metadata["nbgrader"]["locked"] for c in released.cells if is_autograded_test(c))
