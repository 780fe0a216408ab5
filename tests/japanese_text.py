"""What a Japanese reader of a lab sees, and a finder of English sentences in it (used by the tests).

A text counts as English prose when it holds three or more English words in a row (words of two letters or
more). Symbols, numbers, formulas and names such as "Bayes AMP", "DU-ISTA" or "x1" do not make a sentence.
"""

from __future__ import annotations

import re

from matplotlib.figure import Figure
from matplotlib.text import Text

#: Three or more words of two or more Latin letters in a row, separated by spaces (or ", ").
ENGLISH_RUN = re.compile(r"\b[A-Za-z][a-z]+(?:[ ,]+[A-Za-z][a-z]+){2,}\b")


def english_runs(text: str) -> list[str]:
    """The runs of three or more English words in ``text``."""
    return [m.group(0) for m in ENGLISH_RUN.finditer(text)]


def figure_texts(fig: Figure) -> list[str]:
    """Every visible text of a figure: titles, axis labels, tick labels, legends, annotations."""
    fig.canvas.draw()  # tick labels exist only once drawn
    return [t.get_text() for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]


def english_in_result(result) -> dict[str, list[str]]:
    """Where a Result shows English prose: notes, explanations and each figure's texts."""
    found: dict[str, list[str]] = {}
    for i, note in enumerate([*result.notes, *result.explanations]):
        if english_runs(note):
            found[f"note {i}"] = english_runs(note)
    for name, fig in result.figures.items():
        runs = [r for text in figure_texts(fig) for r in english_runs(text)]
        if runs:
            found[f"figure {name}"] = runs
    return found
