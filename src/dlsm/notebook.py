"""Set-up shared by the lecture notebooks: inline figures, Japanese fonts, the run size, table display.

    from dlsm.notebook import setup, show
    SIZE = setup()          # "quick" when DLSM_QUICK=1 (CI), else "course"
    show(result.tables["trajectory"], rows=10)
"""

from __future__ import annotations

import os

from dlsm.result import Table


def setup() -> str:
    """Prepare a notebook and return the size to build configs with (``Config.make(SIZE, ...)``).

    Turns on inline figures, loads matplotlib-fontja for Japanese text in figures with DejaVu Sans as a
    fallback for symbols the Japanese font lacks (such as ⁴), and reads ``DLSM_QUICK``.
    """
    import matplotlib
    import matplotlib_fontja  # noqa: F401  (registers and selects a Japanese font)

    try:
        from IPython import get_ipython

        shell = get_ipython()
        if shell is not None:
            shell.run_line_magic("matplotlib", "inline")
    except ImportError:
        pass
    families = list(matplotlib.rcParams["font.family"])
    if "DejaVu Sans" not in families:
        matplotlib.rcParams["font.family"] = [*families, "DejaVu Sans"]
    return "quick" if os.environ.get("DLSM_QUICK") == "1" else "course"


def show(table: Table, rows: int | None = None) -> None:
    """Display a Table as Markdown in a notebook (the first ``rows`` rows), or print it elsewhere."""
    try:
        from IPython.display import Markdown, display

        display(Markdown(table.to_markdown(max_rows=rows)))
    except ImportError:
        print(table.to_markdown(max_rows=rows))
