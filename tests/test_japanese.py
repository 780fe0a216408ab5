"""Every lab speaks Japanese to a Japanese student: at quick size with ``DLSM_LANG=ja``, its notes,
explanations, figure text and the CLI's summary hold no English sentence, and no glyph is missing.

"English sentence" is three or more English words in a row (see tests/japanese_text.py); names, symbols
and formulas such as "Bayes AMP", "x1" or "‖x - x*‖²" are not sentences.
"""

from __future__ import annotations

import warnings

import matplotlib
import pytest

from dlsm import i18n
from dlsm.cli import main
from japanese_text import english_in_result, english_runs
from test_conformance import LABS

NAMES = sorted(LABS, key=lambda n: (LABS[n].lecture, n))


@pytest.fixture
def japanese(monkeypatch):
    monkeypatch.setenv(i18n.ENV_VAR, "ja")
    monkeypatch.setattr(i18n, "_language", None)
    saved = matplotlib.rcParams["font.family"]
    yield
    matplotlib.rcParams["font.family"] = saved


@pytest.mark.parametrize("name", NAMES)
def test_lab_in_japanese_has_no_english_sentence_and_no_missing_glyph(name, japanese):
    lab = LABS[name]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = lab.run(lab.config.make("quick"))
        found = english_in_result(result)  # draws every figure
    assert not found, f"{name}: English in the Japanese run: {found}"
    glyphs = [str(w.message) for w in caught if "Glyph" in str(w.message) and "missing" in str(w.message)]
    assert not glyphs, f"{name}: characters drawn as boxes: {glyphs[:3]}"
    meanings = [lab.metric_meaning(m)[0] for m in result.metrics]
    english = {m: english_runs(text) for m, text in zip(result.metrics, meanings, strict=True) if english_runs(text)}
    assert not english, f"{name}: metric meanings in English under DLSM_LANG=ja: {english}"


def test_cli_summary_in_japanese(japanese, tmp_path, capsys):
    """The summary of a run (folder, metrics with their meanings, notes) reads in Japanese, and the Japanese
    font is chosen before the first figure exists (no glyph warnings: the CLI's own output is checked)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        status = main(["run", "activations", "--quick", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert status == 0
    assert "実行フォルダ" in out
    english = [line for line in out.splitlines() if english_runs(line.split("(", 1)[-1])]
    assert not english, f"English in the Japanese summary: {english}"
    glyphs = [str(w.message) for w in caught if "Glyph" in str(w.message)]
    assert not glyphs, f"the CLI drew Japanese text before choosing the Japanese font: {glyphs[:3]}"


def test_cli_list_show_and_errors_in_japanese(japanese, capsys):
    assert main(["list"]) == 0
    listing = capsys.readouterr().out
    assert "講義" in listing and "説明" in listing
    assert main(["show", "gd2d"]) == 0
    shown = capsys.readouterr().out
    assert "学習係数" in shown and "既定値" in shown and "主な指標" in shown
    assert main(["run", "no_such_lab"]) == 2
    assert "ラボ 'no_such_lab' はありません" in capsys.readouterr().err
    assert main(["run", "gd2d", "lr=-1"]) == 2
    assert "取りうる値" in capsys.readouterr().err
