"""An index of the labs, so that ``dlsm --help``, ``dlsm list`` and ``dlsm show LAB`` answer without
importing torch and every lab (which takes seconds).

The index holds what ``list`` and ``show`` print: each lab's name, lecture, description, headline metrics,
declared metrics (name, unit) and parameters (type, default, reason, allowed values), and the presets. The
texts in other languages than English come from the glossary when they are printed; the allowed values are
described in words (``one of: ...``), so there is one index per language. It is found, fastest first, in:

1. the cache folder (``$DLSM_CACHE``, else ``$XDG_CACHE_HOME/dlsm`` or ``~/.cache/dlsm``), keyed by the size
   and modification time of every source file of the package, so any edit rebuilds it;
2. the package itself (``lab_index.json``, shipped with it): used when the contents of the files it is made
   from (:data:`SOURCES`: the labs, the config and outcome types, the allowed-value words) are those it was
   made from, as after an install, so the first ``dlsm list`` does not import torch either (a process that
   has already imported the labs builds from them instead: it sees a lab that cannot be imported). Regenerate it
   with ``python -m dlsm.lab_index`` after changing a lab; a test checks that it equals the index built by
   importing every lab;
3. built by importing the registry once (slow, always correct), then cached. If the cache cannot be written,
   it is built in memory each time.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

PACKAGE = Path(__file__).resolve().parent
FILE_NAME = "lab-index.json"
#: The index shipped in the package (see the module docstring), for every language.
SHIPPED = PACKAGE / "lab_index.json"
#: What the index is made of: its key hashes the contents of these files (relative to the package) and the
#: glossary's words for allowed values (edits elsewhere that change the index are caught by the test).
SOURCES = ("labs/*.py", "config.py", "outcome.py", "result.py", "lab_index.py")
ALLOWED_WORDS = ("cli.allowed.one_of", "cli.allowed.or_none", "cli.allowed.elements", "cli.allowed.and")


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


def content_key() -> str:
    """A hash of the contents of :data:`SOURCES` and of the allowed-value words in every language (no
    modification times: the same after an install as where the index was generated)."""
    from dlsm.i18n import LANGUAGES, glossary

    entries = glossary()
    h = hashlib.sha256()
    for path in sorted({p for pattern in SOURCES for p in PACKAGE.glob(pattern)}):
        h.update(f"{path.relative_to(PACKAGE).as_posix()}:".encode() + path.read_bytes().replace(b"\r\n", b"\n"))
    for key in ALLOWED_WORDS:
        for lang in LANGUAGES:
            h.update(f"{key}.{lang}={entries.get(key, {}).get(lang, '')};".encode())
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


def build_in(lang: str) -> dict[str, Any]:
    """:func:`build` with the allowed values written in language ``lang``."""
    from dlsm import i18n

    before = i18n._language
    i18n._language = i18n._check(lang)  # no font change: nothing is drawn
    try:
        return build()
    finally:
        i18n._language = before


def shipped(lang: str) -> dict[str, Any] | None:
    """The index shipped in the package for ``lang``, when it was made from the sources of this package."""
    try:
        data = json.loads(SHIPPED.read_text(encoding="utf-8"))
        if data.get("key") == content_key():
            return data["labs"][lang]
    except (OSError, ValueError, AttributeError, KeyError, TypeError):
        pass
    return None


def write_shipped(path: Path = SHIPPED) -> Path:
    """Generate the shipped index (every language) from the labs of this package."""
    from dlsm.i18n import LANGUAGES

    data = {"key": content_key(), "labs": {lang: build_in(lang) for lang in LANGUAGES}}
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return path


def load() -> dict[str, dict[str, Any]]:
    """The index (name -> description): from the cache, else the shipped one, else built (then cached)."""
    key = source_key()
    from dlsm.i18n import get_language

    lang = get_language()
    name = FILE_NAME.replace(".json", f"-{lang}.json")  # allowed values are written in the language
    path = cache_dir() / name
    try:
        data = json.loads(path.read_text())
        if data.get("key") == key:
            return data["labs"]
    except (OSError, ValueError, AttributeError):
        pass
    # the shipped index serves a process that has not imported the labs; one that has builds from them (as
    # cheap), so it also sees a lab that cannot be imported on this machine (a missing dependency)
    labs = shipped(lang) if "dlsm.labs" not in sys.modules else None
    if labs is None:
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


if __name__ == "__main__":  # python -m dlsm.lab_index: regenerate the shipped index
    print(write_shipped())
