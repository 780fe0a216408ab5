"""Set-up shared by the lecture notebooks: inline figures, Japanese output and fonts, the run size, tables.

    from dlsm.notebook import setup, show
    SIZE = setup()          # "quick" when DLSM_QUICK=1 (CI), else "course"; notes and figures in Japanese
    show(result.tables["trajectory"], rows=10)
    show_notes(result)      # what was measured; the explanations too unless explanations are turned off

In a notebook the labs' explanations (the theory behind what was measured) are off by default, so that the
student sees what was measured and writes the reason in the discussion; self-study turns them on
(``setup(explain=True)`` or ``DLSM_EXPLAIN=1``). The runs a report needs are kept in run folders, and the
last cell of a lecture writes its PDF:

    keep(result)            # runs/<lab>/<timestamp>/, the files a CLI run writes (or keep(sweep.path))
    report("lecture5", title="第5講 演習", name="…", student_id="…", discussion=Path("discussion.md"))
"""

from __future__ import annotations

import os
from pathlib import Path

from dlsm.result import Result, Table

EXPLAIN_VAR = "DLSM_EXPLAIN"
#: Where a notebook's runs and reports go (relative to the notebook's folder).
RUNS = Path("runs")
_kept: list[Path] = []


def setup(lang: str | None = None, explain: bool | None = None) -> str:
    """Prepare a notebook and return the size to build configs with (``Config.make(SIZE, ...)``).

    Sets the language of lab notes and figure text (``lang``: "ja" or "en"; default ``DLSM_LANG``, else
    Japanese, the course's language) with :func:`dlsm.i18n.set_language`, turns on inline figures, loads
    matplotlib-fontja for Japanese text in figures with DejaVu Sans as a fallback for symbols the Japanese
    font lacks (such as ⁴), and reads ``DLSM_QUICK``. ``explain`` (default: ``DLSM_EXPLAIN``, else off)
    says whether :func:`show_notes` and :func:`report` give the labs' explanations beside what was measured.
    """
    from dlsm.i18n import ENV_VAR, set_language, use_japanese_font

    if explain is not None:
        os.environ[EXPLAIN_VAR] = "1" if explain else "0"
    else:
        os.environ.setdefault(EXPLAIN_VAR, "0")
    set_language(lang or os.environ.get(ENV_VAR) or "ja")
    try:
        from IPython import get_ipython

        shell = get_ipython()
        if shell is not None:
            shell.run_line_magic("matplotlib", "inline")
    except ImportError:
        pass
    use_japanese_font(force=True)  # the inline backend may have reset rcParams
    return run_size()


def run_size() -> str:
    """The size a notebook runs at: "quick" when ``DLSM_QUICK=1`` (CI), else "course"."""
    return "quick" if os.environ.get("DLSM_QUICK") == "1" else "course"


def show(table: Table, rows: int | None = None) -> None:
    """Display a Table as Markdown in a notebook (the first ``rows`` rows), or print it elsewhere."""
    try:
        from IPython.display import Markdown, display

        display(Markdown(table.to_markdown(max_rows=rows)))
    except ImportError:
        print(table.to_markdown(max_rows=rows))


def explaining() -> bool:
    """Whether explanations are shown (``DLSM_EXPLAIN`` is not 0/no/off)."""
    return os.environ.get(EXPLAIN_VAR, "1").strip().lower() not in {"0", "no", "off", "false"}


def show_notes(result) -> None:
    """Print a run's notes (what was measured) and, when :func:`explaining`, its explanations (why)."""
    from dlsm.i18n import t

    for note in result.notes:
        print(t("cli.note", note=note))
    if explaining():
        for note in result.explanations:
            print(t("cli.explanation", note=note))


def keep(run: Result | Path | str, size: str | None = None) -> Path:
    """Keep a run for the lecture's report and return its folder.

    ``run`` is a Result from ``lab.run(config)``, written to ``RUNS/<lab>/<timestamp>/`` with the files a CLI
    run writes (``size`` defaults to ``DLSM_QUICK``'s), or the folder of a run or sweep already written (a
    sweep's ``.path``). Each folder is kept once, in the order given.
    """
    if isinstance(run, Result):
        from dlsm.runner import save_run

        folder = save_run(run, RUNS, size or run_size())
    else:
        folder = Path(run)
        if not folder.is_dir():
            raise FileNotFoundError(f"no run folder {folder}")
    if folder not in _kept:
        _kept.append(folder)
    return folder


def kept() -> list[Path]:
    """The folders kept so far in this session, in order."""
    return list(_kept)


def report(stem: str, title: str = "", *, name: str = "", student_id: str = "", discussion: Path | str | None = None,
           folders: list[Path] | None = None) -> Path:
    """Write ``RUNS/report-<stem>.pdf`` (A4, to hand in) and its HTML twin from the kept runs; return the PDF.

    ``discussion`` is a Markdown file whose ``## <lab>`` sections fill each lab's 考察 box. The labs'
    explanations are left out unless :func:`explaining` (a student writes the reasons). ``folders`` defaults
    to :func:`kept`.
    """
    from dlsm.report import build_report
    from dlsm.report_pdf import build_pdf_report

    folders = list(folders) if folders is not None else kept()
    if not folders:
        raise ValueError("no run was kept: call keep(result) for each run the report should contain")
    RUNS.mkdir(parents=True, exist_ok=True)
    common = {"title": title, "name": name, "student_id": student_id, "explanations": explaining(),
              "discussion": Path(discussion) if discussion else None}
    pdf = build_pdf_report(folders, RUNS / f"report-{stem}.pdf", **common)
    html, _ = build_report(folders, RUNS / f"report-{stem}.html", **common)
    print(pdf, html, sep="\n")
    return pdf


def playground(lab, size: str | None = None, **kwargs):
    """The lab's settings as controls, its figures, metrics and notes updated in place (:mod:`dlsm.playground`)."""
    from dlsm.playground import playground as make

    return make(lab, size, **kwargs)
