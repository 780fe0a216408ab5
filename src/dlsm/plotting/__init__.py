"""Plotting functions: each takes arrays and returns a matplotlib Figure; none calls ``plt.show()``.

Figures are built with ``matplotlib.figure.Figure`` (not pyplot), so labs hold no global state and
a notebook shows one by leaving it as a cell's last expression.
"""

from __future__ import annotations

from matplotlib.figure import Figure

#: The widest and the tallest figure (inches) that the A4 report prints at its own size (its text width, 180 mm,
#: and its figure height, 120 mm), so that text of 8 pt, the smallest any figure uses, stays 8 pt on paper.
MAX_WIDTH_IN = 7.0
MAX_HEIGHT_IN = 4.7
#: The smallest text size (pt) of any figure.
MIN_TEXT_PT = 8.0


def new_figure(width: float = 6.4, height: float = 4.2, **kwargs) -> Figure:
    """A fresh Figure with constrained layout, independent of pyplot's figure manager.

    A size beyond ``MAX_WIDTH_IN`` × ``MAX_HEIGHT_IN`` is scaled down, keeping its aspect, so that the report
    never shrinks the figure (and its text below 8 pt) to fit the page.

    In Japanese (``DLSM_LANG=ja``) the Japanese font is selected before the figure exists, so that no
    text of it is drawn with a font that lacks the glyphs.
    """
    from dlsm.i18n import get_language, use_japanese_font

    if get_language() == "ja":
        use_japanese_font()
    scale = min(1.0, MAX_WIDTH_IN / width, MAX_HEIGHT_IN / height)
    return Figure(figsize=(width * scale, height * scale), layout="constrained", **kwargs)
