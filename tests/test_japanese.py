"""Every lab speaks Japanese to a Japanese student: at quick size with ``DLSM_LANG=ja``, its notes,
explanations, figure text and the CLI's summary hold no English sentence, and no glyph is missing. Its figures
also print in the A4 report at their own size, with no text under 8 pt.

"English sentence" is three or more English words in a row (see tests/japanese_text.py); names, symbols
and formulas such as "Bayes AMP", "x1" or "‖x - x*‖²" are not sentences.
"""

from __future__ import annotations

import warnings

import matplotlib
import pytest

from dlsm import i18n
from dlsm.cli import main
from dlsm.plotting import MAX_HEIGHT_IN, MAX_WIDTH_IN, MIN_TEXT_PT
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


def figure_sizes(result) -> dict[str, tuple[float, float, float]]:
    """Each figure's width and height (inches) and its smallest text (pt), as drawn."""
    from matplotlib.text import Text

    sizes = {}
    for name, fig in result.figures.items():
        fig.canvas.draw()
        texts = [x.get_fontsize() for x in fig.findobj(Text) if x.get_visible() and x.get_text().strip()]
        sizes[name] = (*fig.get_size_inches(), min(texts, default=MIN_TEXT_PT))
    return sizes


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
    small = {name: size for name, size in figure_sizes(result).items()
             if size[0] > MAX_WIDTH_IN + 0.01 or size[1] > MAX_HEIGHT_IN + 0.01 or size[2] < MIN_TEXT_PT}
    assert not small, f"{name}: figures the A4 report would shrink, or with text under 8 pt (w, h, pt): {small}"
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


def test_html_report_in_japanese_renders_in_a_browser(japanese, tmp_path):
    """The HTML report follows the language (title block, headings, metric meanings, notes apart from the
    explanations), and a real browser (headless Chromium, installed by scripts/test.sh) renders it."""
    import shutil
    import subprocess

    from dlsm.report import build_report
    from dlsm.runner import run_one

    lab = LABS["gd2d"]
    run = run_one(lab, lab.config.make("quick", lr=0.2), tmp_path / "runs", "quick")
    html_path, _ = build_report([run.path], tmp_path / "report.html", name="山田 太郎", student_id="123")
    page = html_path.read_text()
    for text in ("<html lang='ja'>", "dlsm レポート", "氏名", "山田 太郎", "設定 (config)", "指標 (metrics)",
                 "注釈 (notes)", "理由 (理論)", "勾配法が安定する最大の学習係数"):
        assert text in page, text
    quiet, _ = build_report([run.path], tmp_path / "quiet.html", explanations=False)
    assert "理由 (理論)" not in quiet.read_text()
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("Chromium is not installed (scripts/test.sh installs it)")
    shot = tmp_path / "page.png"
    subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--window-size=1000,1400",
                    f"--screenshot={shot}", html_path.as_uri()], check=True, timeout=120,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import numpy as np
    from PIL import Image

    pixels = np.asarray(Image.open(shot).convert("L"))
    assert pixels.shape[0] >= 1000 and (pixels < 100).mean() > 0.005, "the browser rendered an empty page"
