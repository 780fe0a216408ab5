"""Set-up shared by the lecture notebooks: inline figures, Japanese output and fonts, the run size, tables.

    from dlsm.notebook import setup, show
    SIZE = setup()          # "quick" when DLSM_QUICK=1 (CI), else "course"; notes and figures in Japanese
    show(result.tables["trajectory"], rows=10)
"""

from __future__ import annotations

import os

from dlsm.result import Table


def setup(lang: str | None = None) -> str:
    """Prepare a notebook and return the size to build configs with (``Config.make(SIZE, ...)``).

    Sets the language of lab notes and figure text (``lang``: "ja" or "en"; default ``DLSM_LANG``, else
    Japanese, the course's language) with :func:`dlsm.i18n.set_language`, turns on inline figures, loads
    matplotlib-fontja for Japanese text in figures with DejaVu Sans as a fallback for symbols the Japanese
    font lacks (such as ⁴), and reads ``DLSM_QUICK``.
    """
    from dlsm.i18n import ENV_VAR, set_language, use_japanese_font

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
