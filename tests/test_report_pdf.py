"""The PDF report: Japanese headings, metric values, figures (vector) and the 考察 sections come back
when a PDF reader (pypdf) reads the file."""

from __future__ import annotations

import re

import pytest

pypdf = pytest.importorskip("pypdf")
pytest.importorskip("fpdf")

from dlsm.labs import get_lab  # noqa: E402
from dlsm.report_pdf import HEADINGS, build_pdf_report  # noqa: E402
from dlsm.result import format_scalar  # noqa: E402
from dlsm.runner import run_one  # noqa: E402
from dlsm.runs import load_run  # noqa: E402
from dlsm.sweeps import sweep  # noqa: E402


@pytest.fixture(autouse=True)
def japanese(monkeypatch):
    """The PDF is what a student hands in: these tests read it in Japanese (its headings follow DLSM_LANG)."""
    from dlsm import i18n

    monkeypatch.setenv(i18n.ENV_VAR, "ja")
    monkeypatch.setattr(i18n, "_language", None)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    lab = get_lab("gd1d")
    one = run_one(lab, lab.config.make("quick"), root, size="quick")
    grid = sweep(lab, {}, "lr", [0.1, 0.2], root=root, size="quick")
    return one.path, grid.path


def text_of(path) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(path).pages)


def raster_images(path) -> int:
    """Image XObjects over all pages (a figure embedded as PNG would be one; vector figures are none)."""
    return sum(len(page.images) for page in pypdf.PdfReader(path).pages)


def test_pdf_report_has_title_block_headings_metrics_and_every_figure(runs, tmp_path):
    one, grid = runs
    out = build_pdf_report([one, grid], tmp_path / "report.pdf", title="第1講 演習", name="山田 太郎",
                           student_id="12345678")
    reader = pypdf.PdfReader(out)
    assert all(abs(float(p.mediabox.width) - 595.28) < 1 and abs(float(p.mediabox.height) - 841.89) < 1
               for p in reader.pages), "A4"
    text = text_of(out)
    for word in ("第1講 演習", "山田 太郎", "12345678", HEADINGS["name"], HEADINGS["student_id"],
                 HEADINGS["settings"], HEADINGS["metrics"], HEADINGS["figures"], HEADINGS["discussion"]):
        assert word in text, word
    record = load_run(one)
    for key in ("s_final", "converged"):
        assert f"{key} {format_scalar(record.metrics[key])}" in text, key
    runs_in_report = [one] + sorted(p for p in grid.iterdir() if (p / "config.json").is_file())
    n_figures = sum(len(load_run(p).figures) for p in runs_in_report) + len(list((grid / "figures").glob("*.png")))
    captions = re.findall(r"図 (\d+): ", text)
    assert [int(c) for c in captions] == list(range(1, n_figures + 1))
    assert raster_images(out) == 0, "every figure is drawn from its vector PDF, none as a bitmap"
    assert text.count(HEADINGS["discussion"]) == len(runs_in_report)  # an empty 考察 per run


def test_discussion_file_fills_the_sections(runs, tmp_path):
    one, _ = runs
    md = tmp_path / "discussion.md"
    md.write_text("学習係数を変えた実験の全体のまとめです。\n\n## gd1d\n\n"
                  "- **収束** の速さは理論の比率どおりでした。\n\n## 存在しない実験\n\n"
                  "対応する実行がない節は全体の考察に入ります。\n", encoding="utf-8")
    out = build_pdf_report([one], tmp_path / "filled", discussion=md)
    assert out.suffix == ".pdf"
    text = text_of(out)
    assert "収束 の速さは理論の比率どおりでした。" in text.replace("収束の", "収束 の")
    assert text.index("理論の比率") < text.index(HEADINGS["overall"]) < text.index("全体のまとめ")
    assert "存在しない実験" in text and "ここに考察を書きます" not in text


def test_cli_report_pdf(runs, tmp_path, capsys):
    from dlsm.cli import main

    one, _ = runs
    out = tmp_path / "r.pdf"
    assert main(["report", str(one), "--pdf", "-o", str(out), "--name", "佐藤 花子", "--student-id", "A-1"]) == 0
    assert "佐藤 花子" in text_of(out)
    assert str(out) in capsys.readouterr().out


def test_pdf_headings_follow_the_language_and_can_leave_out_explanations(runs, tmp_path, monkeypatch):
    from dlsm import i18n

    one, _ = runs
    monkeypatch.setenv(i18n.ENV_VAR, "en")
    text = text_of(build_pdf_report([one], tmp_path / "en.pdf"))
    assert "Config" in text and "Metrics" in text and "設定" not in text
    explanation = load_run(one).explanations[0]
    assert explanation[:30] in text.replace("\n", " ")
    quiet = text_of(build_pdf_report([one], tmp_path / "quiet.pdf", explanations=False))
    assert explanation[:30] not in quiet.replace("\n", " ") and "Why (theory)" not in quiet
