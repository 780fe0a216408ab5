"""A cached index of the labs, so that ``dlsm --help``, ``dlsm list`` and ``dlsm show LAB`` answer without
importing torch and every lab (which takes seconds).

The index holds what ``list`` and ``show`` print: each lab's name, lecture, description, headline metrics,
declared metrics (name, unit) and parameters (type, default, reason, allowed values), and the presets. The
texts in other languages than English come from the glossary when they are printed. It is built by importing the
registry once and kept as JSON in the cache folder (``$DLSM_CACHE``, else ``$XDG_CACHE_HOME/dlsm`` or
``~/.cache/dlsm``). Its key is the size and modification time of every source file of the package, so any
edit of a lab (or of anything a lab imports from dlsm) rebuilds it. There is one file per language, since the
allowed values are described in words (``one of: ...``). If the cache cannot be written, the
index is built in memory each time (slow, still correct).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

PACKAGE = Path(__file__).resolve().parent
FILE_NAME = "lab-index.json"


def cache_dir() -> Path:
    if os.environ.get("DLSM_CACHE"):
        return Path(os.environ["DLSM_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "dlsm"


def source_key() -> str:
    """A hash of the path, size and modification time of every .py file of the package."""
    h = hashlib.sha256(str(PACKAGE).encode())
    for path in sorted(PACKAGE.rglob("*.py")):
        st = path.stat()
        h.update(f"{path.relative_to(PACKAGE)}:{st.st_size}:{st.st_mtime_ns};".encode())
    return h.hexdigest()


def _text(v: Any) -> str:
    from dlsm.result import format_scalar

    if isinstance(v, tuple):
        return ",".join(format_scalar(x) for x in v)
    return format_scalar(v)


def build() -> dict[str, Any]:
    """Import every lab and describe it (what ``list`` and ``show`` print)."""
    from dlsm.labs import broken_labs, registry

    labs = {}
    for lab in registry().values():
        labs[lab.name] = {
            "lecture": lab.lecture,
            "description": lab.description,
            "headline": list(lab.headline),
            "metrics": [[m.name, m.unit, m.family] for m in lab.outcome.metric_specs()],
            "params": [{"name": s.name, "type": s.type_name, "default": _text(s.default), "help": s.help,
                        "allowed": s.allowed} for s in lab.config.specs()],
            "presets": {size: {k: _text(v) for k, v in preset.items()}
                        for size, preset in (("quick", lab.config.quick), ("full", lab.config.full)) if preset},
        }
    for name, error in broken_labs().items():
        labs[name] = {"lecture": None, "description": f"cannot be loaded: {error}", "broken": error, "headline": [],
                      "metrics": [], "params": [], "presets": {}}
    return labs


def load() -> dict[str, dict[str, Any]]:
    """The index (name -> description), from the cache when it matches the sources, else rebuilt."""
    key = source_key()
    from dlsm.i18n import get_language

    name = FILE_NAME.replace(".json", f"-{get_language()}.json")  # allowed values are written in the language
    path = cache_dir() / name
    try:
        data = json.loads(path.read_text())
        if data.get("key") == key:
            return data["labs"]
    except (OSError, ValueError, AttributeError):
        pass
    labs = build()
    if any("broken" in lab for lab in labs.values()):
        return labs  # not cached: the next command tries the broken lab again
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{name}.{os.getpid()}.part")
        tmp.write_text(json.dumps({"key": key, "labs": labs}, ensure_ascii=False))
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only home: fine, just slower next time
    return labs


def meaning(lab: str, name: str) -> str:
    """The one-line meaning and unit of metric ``name`` of ``lab`` in the current language, or ''.

    Read from the index (no lab is imported) and the glossary.
    """
    from dlsm.outcome import MetricSpec, meaning_with_unit

    entry = load().get(lab, {})
    specs = [MetricSpec(n, unit, False, family=bool(family)) for n, unit, family in entry.get("metrics", [])]
    return meaning_with_unit(lab, name, specs=specs)


def description(lab: str) -> str:
    """The lab's one-line description in the current language."""
    from dlsm.i18n import has, t

    key = f"{lab}.description"
    return t(key) if has(key) else load().get(lab, {}).get("description", "")
