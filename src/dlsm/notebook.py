"""Set-up shared by the lecture notebooks: inline figures, Japanese output and fonts, the run size, tables.

    from dlsm.notebook import setup, show
    SIZE = setup()          # "quick" when DLSM_QUICK=1 (CI), else "course"; notes and figures in Japanese
    show(result.tables["trajectory"], rows=10)
    show_notes(result)      # what was measured; the explanations too unless explanations are turned off

A graded notebook turns the explanations off (``setup(explain=False)`` or ``DLSM_EXPLAIN=0``), so that the
student sees what was measured and writes the reason in the discussion; self-study turns them on.
"""

from __future__ import annotations

import os

from dlsm.result import Table

EXPLAIN_VAR = "DLSM_EXPLAIN"


def setup(lang: str | None = None, explain: bool | None = None) -> str:
    """Prepare a notebook and return the size to build configs with (``Config.make(SIZE, ...)``).

    Sets the language of lab notes and figure text (``lang``: "ja" or "en"; default ``DLSM_LANG``, else
    Japanese, the course's language) with :func:`dlsm.i18n.set_language`, turns on inline figures, loads
    matplotlib-fontja for Japanese text in figures with DejaVu Sans as a fallback for symbols the Japanese
    font lacks (such as ⁴), and reads ``DLSM_QUICK``. ``explain`` (default: ``DLSM_EXPLAIN``, else on)
    says whether :func:`show_notes` prints the labs' explanations beside what was measured.
    """
    from dlsm.i18n import ENV_VAR, set_language, use_japanese_font

    if explain is not None:
        os.environ[EXPLAIN_VAR] = "1" if explain else "0"
    set_language(lang or os.environ.get(ENV_VAR) or "ja")
    try:
        from IPython import get_ipython

        shell = get_ipython()
        if shell is not None:
            shell.run_line_magic("matplotlib", "inline")
    except ImportError:
        pass
    use_japanese_font(force=True)  # the inline backend may have reset rcParams
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
