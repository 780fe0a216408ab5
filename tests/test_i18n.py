"""The glossary is complete (every key in English and Japanese, the same fields, the course's terms), every key
used in the sources exists, and the language setting switches lab notes and figure text."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import matplotlib
import pytest

from dlsm import i18n
from dlsm.errors import ConfigError

ROOT = Path(__file__).parents[1]
SOURCES = sorted((ROOT / "src" / "dlsm").rglob("*.py"))
#: t("key" ...) with a literal key; the call may break the line after the parenthesis.
T_CALL = re.compile(r"""(?<![\w.])t\(\s*(?P<q>["'])(?P<key>[^"'\n]+)(?P=q)""")
T_DYNAMIC = re.compile(r"""(?<![\w.])t\(\s*(?!["'])[^)\s]""")


@pytest.fixture(autouse=True)
def _restore_language(monkeypatch):
    """Each test starts in English and leaves the process as it found it."""
    monkeypatch.setenv(i18n.ENV_VAR, "en")  # recorded, so the teardown removes what a test sets
    monkeypatch.delenv(i18n.ENV_VAR)
    monkeypatch.setattr(i18n, "_language", None)
    saved = matplotlib.rcParams["font.family"]
    yield
    matplotlib.rcParams["font.family"] = saved


def used_keys() -> dict[str, list[str]]:
    """Every literal key passed to t(...) in src/, with where it is used."""
    found: dict[str, list[str]] = {}
    for path in SOURCES:
        text = path.read_text(encoding="utf-8")
        for m in T_CALL.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            found.setdefault(m.group("key"), []).append(f"{path.relative_to(ROOT)}:{line}")
    return found


def is_param(key: str) -> bool:
    """``<lab>.param.<name>``: a setting's help, whose English is the help written beside the field in the code."""
    return key.split(".")[1:2] == ["param"]


def test_every_key_has_english_and_japanese():
    entries = i18n.glossary()
    assert entries, "the glossary is empty"
    missing = {key: sorted(({"ja"} if is_param(key) else {"en", "ja"}) - {k for k, v in entry.items() if v.strip()})
               for key, entry in entries.items()}
    missing = {k: v for k, v in missing.items() if v}
    assert not missing, f"glossary entries without a language: {missing}"
    english_params = [key for key, entry in entries.items() if is_param(key) and "en" in entry]
    assert not english_params, f"a setting's English help lives in the code, not in the glossary: {english_params}"


def test_every_setting_and_description_of_every_lab_has_japanese():
    from dlsm.labs import registry

    missing = []
    for name, lab in registry().items():
        if not i18n.has(f"{name}.description"):
            missing.append(f"{name}.description")
        elif i18n.glossary()[f"{name}.description"]["en"] != lab.description:
            missing.append(f"{name}.description (en differs from the Lab's description)")
        for spec in lab.config.specs():
            if not (i18n.has(f"{name}.param.{spec.name}") or i18n.has(f"common.param.{spec.name}")):
                missing.append(f"{name}.param.{spec.name}")
    assert not missing, f"glossary entries missing: {missing}"


def test_both_languages_use_the_same_fields():
    differ = {key: (sorted(i18n.fields(e["en"])), sorted(i18n.fields(e["ja"])))
              for key, e in i18n.glossary().items()
              if "en" in e and i18n.fields(e["en"]) != i18n.fields(e["ja"])}
    assert not differ, f"en and ja use different {{fields}} (en, ja): {differ}"


def test_every_text_formats():
    """A dummy value for every field formats without error in both languages (bad braces show up here)."""
    for key, entry in i18n.glossary().items():
        for lang, text in entry.items():
            values = {name: 1.5 for name in i18n.fields(text)}
            try:
                text.format(**values)
            except (ValueError, IndexError, KeyError) as exc:
                pytest.fail(f"{key} [{lang}] does not format: {exc}")


def test_japanese_uses_the_course_terms():
    avoid = i18n.avoided_words()
    assert avoid.get("学習率") == "学習係数"
    bad = [f"{key}: {word!r} (use {instead!r})" for key, e in i18n.glossary().items()
           for word, instead in avoid.items() if word in _prose(e["ja"])]
    assert not bad, "Japanese texts use words the course does not: " + "; ".join(bad)
    terms = i18n.terms()
    assert terms["learning_rate"]["ja"] == "学習係数"
    assert terms["gradient_descent"]["ja"] == "勾配法"  # the slides' word
    # where the English says "learning rate", the Japanese says 学習係数
    for key, e in i18n.glossary().items():
        if "learning rate" in e.get("en", "").lower():
            assert "学習係数" in e["ja"], key


NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.py")) + sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_notebooks_use_the_course_terms():
    """The notebooks' Japanese prose uses the glossary's words (no 学習率, 勾配降下法, 固定点 or genie)."""
    assert NOTEBOOKS, "no notebook found"
    avoid = i18n.avoided_words()
    bad = []
    for path in NOTEBOOKS:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            bad += [f"{path.name}:{number}: {word!r} (use {instead!r})" for word, instead in avoid.items()
                    if word in _prose(line) and _is_japanese(line)]
    assert not bad, "notebooks use words the course does not: " + "; ".join(bad)


def _prose(text: str) -> str:
    """The text less what is not Japanese prose: an English term in parentheses ("ジーニー (genie)"),
    ``{fields}``, and identifiers such as ``genie_nmse_db``."""
    return re.sub(r"\w*_\w*", "", re.sub(r"\([^)]*\)|\{[^}]*\}", "", text))


def _is_japanese(line: str) -> bool:
    """A line with kana or kanji: a Japanese sentence (an English word such as "genie" is banned there only)."""
    return bool(re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", line))


def test_every_key_used_in_the_code_exists():
    entries = i18n.glossary()
    used = used_keys()
    assert used, "no t(...) call found in src/: the scan is broken"
    missing = {key: where for key, where in used.items() if key not in entries}
    assert not missing, ("keys used in the code but missing from src/dlsm/glossary/glossary.toml: "
                         + "; ".join(f"{k} ({', '.join(w)})" for k, w in missing.items()))


#: Modules that look keys up by a name they are given (metric meanings, units, statuses, report headings).
COMPUTED_KEYS_ALLOWED = {"i18n.py", "outcome.py", "lab_index.py", "runs.py", "report_pdf.py", "__init__.py"}
F_KEY = re.compile(r"""(?<![\w.])t\(\s*f(?P<q>["'])(?P<prefix>[^"'{]*)\{""")


def test_keys_are_literal_strings():
    """t(...) takes a literal key, so the test above can check it. A key built from a name,
    ``t(f"mimo.legend.{name}")``, must start with a literal prefix that glossary keys have (the lab's own
    tests run every name); any other computed key is only for the modules that describe what they are given."""
    dynamic, unknown_prefix = [], []
    keys = i18n.glossary()
    for path in SOURCES:
        text = path.read_text(encoding="utf-8")
        for m in F_KEY.finditer(text):
            prefix = m.group("prefix")
            if not prefix.count(".") >= 1 or not any(k.startswith(prefix) for k in keys):
                unknown_prefix.append(f"{path.relative_to(ROOT)}:{text.count(chr(10), 0, m.start()) + 1}: {prefix!r}")
        if path.name in COMPUTED_KEYS_ALLOWED:
            continue
        for m in T_DYNAMIC.finditer(text):
            if text[m.start():m.start() + 4] in ('t(f"', "t(f'"):
                continue
            dynamic.append(f"{path.relative_to(ROOT)}:{text.count(chr(10), 0, m.start()) + 1}")
    assert not dynamic, f"t(...) with a computed key (write the key as a literal): {dynamic}"
    assert not unknown_prefix, f"t(f'...') whose literal prefix no glossary key has: {unknown_prefix}"


def test_language_setting():
    assert i18n.get_language() == "en"
    en = i18n.t("gd1d.note.diverged", steps=7)
    assert en.startswith("Diverged") and "7" in en
    with i18n.language("ja"):
        assert i18n.get_language() == "ja"
        ja = i18n.t("gd1d.note.diverged", steps=7)
        assert "発散" in ja and "7" in ja
    assert i18n.get_language() == "en"


def test_environment_variable(monkeypatch):
    monkeypatch.setenv("DLSM_LANG", "ja")
    assert i18n.t("common.label.step") == "ステップ"
    monkeypatch.setenv("DLSM_LANG", "xx")  # unknown: the default
    assert i18n.t("common.label.step") == "step"


def test_set_language_validates_and_selects_the_japanese_font():
    with pytest.raises(ConfigError, match="lang"):
        i18n.set_language("fr")
    matplotlib.rcParams["font.family"] = ["sans-serif"]
    with i18n.language("ja"):
        families = list(matplotlib.rcParams["font.family"])
        assert families[0] == i18n.JAPANESE_FONT and "DejaVu Sans" in families
        from matplotlib import font_manager

        path = font_manager.findfont(i18n.JAPANESE_FONT, fallback_to_default=False)
        assert "ipaex" in Path(path).name.lower()


def test_unknown_key_names_the_glossary():
    with pytest.raises(KeyError, match="glossary"):
        i18n.t("no.such.key")


def test_lab_notes_and_figure_text_follow_the_language():
    from dlsm.labs import get_lab

    lab = get_lab("gd1d")
    config = lab.config.make("quick", lr=1.5)  # diverges: a note of its own
    english = lab.run(config)
    with i18n.language("ja"):
        japanese = lab.run(config)
    assert english.metrics == japanese.metrics
    assert any("Diverged" in n for n in english.notes)
    assert any("発散" in n for n in japanese.notes)
    if japanese.figures:
        fig = japanese.figures["distance"]
        assert fig.axes[0].get_title() == "最小点までの距離"
        assert japanese.curves["distance"].xlabel == "反復 k"
        fig.canvas.draw()  # renders with the Japanese font, no missing-glyph warnings needed


def test_notebook_setup_sets_the_language(monkeypatch):
    from dlsm.notebook import setup

    monkeypatch.delenv("DLSM_QUICK", raising=False)
    assert setup() == "course"
    assert i18n.get_language() == "ja"  # the course's language by default
    setup(lang="en")
    assert i18n.get_language() == "en"


def test_glossary_is_package_data():
    """The glossary must ship in the wheel (pip install from git on Colab), not only in the source tree."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    data = project.get("tool", {}).get("setuptools", {}).get("package-data", {})
    patterns = data.get("dlsm", []) + data.get("*", [])
    assert any(p.startswith("glossary/") and p.endswith((".toml", "*")) for p in patterns), (
        'pyproject.toml needs [tool.setuptools.package-data] dlsm = ["glossary/*.toml"]')
