"""The language of what dlsm writes for a reader: lab notes, figure titles and axis labels, the CLI summary.

English is the default. Japanese is chosen by the environment variable ``DLSM_LANG=ja`` or in code by
``set_language("ja")`` (the notebooks' ``dlsm.notebook.setup()`` does this). Every string lives in one
glossary file, ``src/dlsm/glossary/glossary.toml``, with both languages side by side::

    [gd1d.note.diverged]
    en = "Diverged: |s| exceeded 10⁶ after {steps} steps, so the run stopped there."
    ja = "発散しました: {steps} ステップで |s| が 10⁶ を超えたため、そこで止めました。"

and code asks for it by key, with ``str.format`` fields::

    from dlsm.i18n import t
    result.notes.append(t("gd1d.note.diverged", steps=traj.steps_run))
    ax.set_xlabel(t("common.label.step"))

How to add a string (for lab authors):

1. Add a table ``[<lab>.<kind>.<name>]`` with ``en`` and ``ja`` to ``glossary.toml`` (``<kind>`` is
   ``note``, ``title``, ``label``, ...; shared words go under ``common``). Both languages must use the
   same ``{fields}``. Use the words of the ``[terms]`` table in Japanese (学習係数 for learning rate, as in
   the slides); ``tests/test_i18n.py`` rejects the words listed under ``avoid``.
2. Call ``t`` with the key written as a literal string (``t("gd1d.note.diverged", steps=12)``), so that
   the test can check that every key used in ``src/`` exists in the glossary.

Japanese figure text needs a Japanese font: when the language is Japanese, :func:`dlsm.plotting.new_figure`
(which makes every figure of dlsm) and the CLI select the font of matplotlib-fontja (IPAexGothic, with DejaVu
Sans as a fallback for symbols such as ⁴) before a figure exists, so figures made from a script or the CLI
render as they do in a notebook.
"""

from __future__ import annotations

import os
import string
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from dlsm.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

LANGUAGES = ("en", "ja")
DEFAULT = "en"
ENV_VAR = "DLSM_LANG"
GLOSSARY_DIR = Path(__file__).parent / "glossary"
GLOSSARY_PATH = GLOSSARY_DIR / "glossary.toml"  # the terms, the banned variants, shared words, the CLI

JAPANESE_FONT = "IPAexGothic"  # the font that matplotlib-fontja ships and registers

_language: str | None = None  # set by set_language; None: read DLSM_LANG
_font_ready = False


# ----- the glossary ------------------------------------------------------------------------------------
@cache
def _load() -> tuple[dict[str, dict[str, str]], dict[str, Any]]:
    """Every ``*.toml`` of the glossary folder, as one glossary: ``glossary.toml`` holds the terms, the
    banned variants and the shared words; ``<lab>.toml`` holds one lab's texts. A key defined in two
    files is an error."""
    if not GLOSSARY_PATH.is_file():
        raise FileNotFoundError(f"the glossary {GLOSSARY_PATH} is missing (is it listed as package data?)")
    entries: dict[str, dict[str, str]] = {}
    origin: dict[str, str] = {}
    meta: dict[str, Any] = {"terms": {}, "avoid": {}}
    for path in sorted(GLOSSARY_DIR.glob("*.toml")):
        with path.open("rb") as fh:
            data = tomllib.load(fh)
        for part in ("terms", "avoid"):
            meta[part].update(data.pop(part, {}))
        found: dict[str, dict[str, str]] = {}
        _flatten(data, "", found)
        for key in found:
            if key in entries:
                raise ValueError(f"glossary key {key!r} is defined in {origin[key]} and in {path.name}")
            origin[key] = path.name
        entries.update(found)
    return entries, meta


def has(key: str) -> bool:
    """Whether the glossary has an entry ``key``."""
    return key in _load()[0]


def _flatten(node: Mapping[str, Any], prefix: str, out: dict[str, dict[str, str]]) -> None:
    """Nested TOML tables -> ``{"a.b.c": {"en": ..., "ja": ...}}``; a table with ``en`` is one entry."""
    if "en" in node or "ja" in node:
        out[prefix] = {k: v for k, v in node.items() if isinstance(v, str)}
        return
    for key, value in node.items():
        if isinstance(value, Mapping):
            _flatten(value, f"{prefix}.{key}" if prefix else key, out)


def glossary() -> dict[str, dict[str, str]]:
    """Every entry of the glossary: key -> {language: text}."""
    return dict(_load()[0])


def terms() -> dict[str, dict[str, str]]:
    """The course's vocabulary (``[terms]`` of the glossary): name -> {"en": ..., "ja": ...}."""
    return dict(_load()[1]["terms"])


def avoided_words() -> dict[str, str]:
    """Japanese words not to use (``[avoid]``): word -> the term to use instead."""
    return dict(_load()[1]["avoid"])


def fields(text: str) -> set[str]:
    """The ``str.format`` field names of ``text`` (``"{lr:g} at {steps}"`` -> {"lr", "steps"})."""
    return {name.split(".")[0].split("[")[0] for _, name, _, _ in string.Formatter().parse(text) if name}


# ----- the language -------------------------------------------------------------------------------------
def get_language() -> str:
    """The current language: the last :func:`set_language`, else ``DLSM_LANG``, else English."""
    if _language is not None:
        return _language
    env = os.environ.get(ENV_VAR, "").strip().lower()
    return env if env in LANGUAGES else DEFAULT


def set_language(lang: str) -> None:
    """Choose the language (``"en"`` or ``"ja"``) of notes, figure text and the CLI summary.

    Also sets ``DLSM_LANG`` so that worker processes (parallel sweeps) agree, and for Japanese selects
    the Japanese figure font.
    """
    global _language
    lang = _check(lang)
    _language = lang
    os.environ[ENV_VAR] = lang
    if lang == "ja":
        use_japanese_font(force=True)


def _check(lang: str) -> str:
    low = str(lang).strip().lower()
    if low not in LANGUAGES:
        raise ConfigError.not_one_of("lang", lang, LANGUAGES)
    return low


@contextmanager
def language(lang: str) -> Iterator[None]:
    """Use ``lang`` inside a ``with`` block, then restore the previous setting (and ``DLSM_LANG``)."""
    global _language
    saved, saved_env = _language, os.environ.get(ENV_VAR)
    set_language(lang)
    try:
        yield
    finally:
        _language = saved
        if saved_env is None:
            os.environ.pop(ENV_VAR, None)
        else:
            os.environ[ENV_VAR] = saved_env


def t(key: str, /, **fmt: Any) -> str:
    """The glossary text of ``key`` in the current language, formatted with ``fmt``.

    An unknown key raises KeyError (tests/test_i18n.py finds them before a user does). A text missing
    in the current language falls back to English.
    """
    entries = _load()[0]
    if key not in entries:
        raise KeyError(f"{key!r} is not in the glossary {GLOSSARY_PATH.name}; add it with en and ja texts")
    lang = get_language()
    entry = entries[key]
    text = entry.get(lang) or entry.get(DEFAULT, key)
    return text.format(**fmt) if fmt else text


# ----- the Japanese figure font -------------------------------------------------------------------------
def use_japanese_font(force: bool = False) -> None:
    """Select matplotlib-fontja's Japanese font for figures, with DejaVu Sans as a fallback for symbols.

    Cheap when already done; redone when rcParams no longer name the font (``force`` redoes it always).
    """
    global _font_ready
    import matplotlib

    if _font_ready and not force and JAPANESE_FONT in matplotlib.rcParams["font.family"]:
        return  # (checked each time: a notebook's inline backend or a test may have reset rcParams)
    try:
        import matplotlib_fontja
    except ImportError:  # figures still work; Japanese glyphs show as boxes
        _font_ready = True
        return
    if force and _font_ready:
        matplotlib_fontja.japanize()  # (importing it the first time already did this)
    families = list(matplotlib.rcParams["font.family"])
    if JAPANESE_FONT not in families:
        families = [JAPANESE_FONT, *families]
    if "DejaVu Sans" not in families:
        families.append("DejaVu Sans")
    matplotlib.rcParams["font.family"] = families
    _font_ready = True


def param_help(lab: str, name: str, english: str) -> str:
    """The help of setting ``name`` of ``lab`` in the current language.

    The English is the help written beside the field in the code (``param(default, help)``: it is the
    API's documentation); the glossary holds the other languages as ``<lab>.param.<name>`` (or
    ``common.param.<name>`` for ``seed``) with no ``en``.
    """
    lang = get_language()
    if lang == DEFAULT:
        return english
    entries = _load()[0]
    for key in (f"{lab}.param.{name}", f"common.param.{name}"):
        if key in entries and entries[key].get(lang):
            return entries[key][lang]
    return english
