"""The settings of a lecture notebook's exercises, read from the notebook itself.

A notebook puts the configs its exercises run in code cells tagged ``settings``; the claim tests
(``tests/test_claims_<lecture>.py``) execute those cells, so that a test asserts an instructor note's effect
at exactly the size the notebook runs at its default size, and the two cannot drift apart.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from types import MappingProxyType

import jupytext

NOTEBOOKS = Path(__file__).parents[1] / "notebooks"
SETTINGS_TAG = "settings"


def settings_cells(lecture: str) -> list[str]:
    nb = jupytext.read(NOTEBOOKS / f"{lecture}.py")
    return [c.source for c in nb.cells if c.cell_type == "code" and SETTINGS_TAG in c.metadata.get("tags", [])]


@cache
def notebook_settings(lecture: str, size: str = "course") -> MappingProxyType:
    """The namespace the ``settings`` cells of ``notebooks/<lecture>.py`` build, at ``size`` ("course": the
    notebook's default size; "quick": its CI size), with the optional cells off."""
    cells = settings_cells(lecture)
    if not cells:
        raise LookupError(f"{lecture}: no code cell tagged {SETTINGS_TAG!r}")
    namespace: dict = {"SIZE": size, "QUICK": size == "quick", "RUN_OPTIONAL": False}
    for source in cells:
        exec(compile(source, f"{lecture}.py[settings]", "exec"), namespace)  # noqa: S102 (our own notebook)
    return MappingProxyType(namespace)
