"""Plotting functions: each takes arrays and returns a matplotlib Figure; none calls ``plt.show()``.

Figures are built with ``matplotlib.figure.Figure`` (not pyplot), so labs hold no global state and
a notebook shows one by leaving it as a cell's last expression.
"""

from __future__ import annotations

from matplotlib.figure import Figure


def new_figure(width: float = 6.4, height: float = 4.2, **kwargs) -> Figure:
    """A fresh Figure with constrained layout, independent of pyplot's figure manager.

    In Japanese (``DLSM_LANG=ja``) the Japanese font is selected before the figure exists, so that no
    text of it is drawn with a font that lacks the glyphs.
    """
    from dlsm.i18n import get_language, use_japanese_font

    if get_language() == "ja":
        use_japanese_font()
    return Figure(figsize=(width, height), layout="constrained", **kwargs)
